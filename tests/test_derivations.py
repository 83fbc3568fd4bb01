"""The derivations: every step checks, every negative control is rejected, the docs are the
ones the code generates, and the symbolic gradient agrees with the numpy reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from bpverify.conformance import oracles
from bpverify.conformance.cases import cubic_activation, mixed_layer, random_case
from bpverify.conformance.compare import worst_discrepancy
from bpverify.conformance.tolerances import TOLERANCES
from bpverify.derivations.catalog import DERIVATIONS
from bpverify.derivations.core import Result, canonical, check, equal, render, sigma
from bpverify.derive import index
from bpverify.reference import cross_entropy, identity, sigmoid, tanh

DOCS = Path(__file__).resolve().parent.parent / "docs" / "derivations"
SEEDS = {"prop1", "prop2", "prop2e", "facts1-5", "fact6", "backpropagate", "sigmoid_prime",
         "bp1", "bp2", "bp3", "bp4", "sigma_prime_form", "modified_neuron", "linear_neurons",
         "mini_batch", "finite_differences", "path_sum", "cross_entropy"}


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    return {d.name: check(d) for d in DERIVATIONS}


def test_every_proposition_fact_and_equation_of_the_seeds_is_derived() -> None:
    assert {d.name for d in DERIVATIONS} == SEEDS


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_each_step_checks_and_the_negative_control_is_rejected(name: str,
                                                                results: dict[str, Result]) -> None:
    result = results[name]
    assert result.steps, name
    assert all(ok for _, ok in result.steps), [s.claim for s, ok in result.steps if not ok]
    assert result.negative_rejected, f"{name}: the checker accepted its negative control"


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_generated_docs_are_up_to_date(name: str, results: dict[str, Result]) -> None:
    path = DOCS / f"{name}.md"
    assert path.read_text(encoding="utf-8") == render(results[name], "markdown"), (
        f"{path} is stale: run `bpverify derive --write-docs`")


def test_docs_index_is_up_to_date(results: dict[str, Result]) -> None:
    ordered = [results[d.name] for d in DERIVATIONS]
    assert (DOCS / "README.md").read_text(encoding="utf-8") == index(ordered)


def test_the_checker_tells_equal_from_unequal() -> None:
    x, y = sp.symbols("x y")
    t = sp.Symbol("t")
    assert equal(sp.diff(sigma(x * y), x), y * sp.Subs(sp.diff(sigma(t), t), t, x * y).doit())
    assert not equal(sp.diff(sigma(x * y), x), sigma(x * y))
    assert canonical(sp.diff(sigma(x), x)) == sp.Function("sigma'")(x)


@pytest.mark.parametrize("fmt", ["markdown", "latex", "text"])
def test_every_format_renders(fmt: str, results: dict[str, Result]) -> None:
    text = render(results["bp4"], fmt)
    assert "BP4" in text and ("✓" in text or "checkmark" in text)


SYMBOLIC_CASES = [
    ("sigmoid", dict(activations=sigmoid)), ("tanh", dict(activations=tanh)),
    ("identity", dict(activations=identity)),
    ("cubic (user-defined f)", dict(activations=cubic_activation())),
    ("per-neuron", dict(activations=[mixed_layer(3, ["sigmoid", "tanh", "cubic"]), sigmoid])),
    ("cross-entropy", dict(cost=cross_entropy)),
]


@pytest.mark.parametrize("label, kwargs", SYMBOLIC_CASES, ids=[c[0] for c in SYMBOLIC_CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_lambdified_symbolic_gradient_matches_the_reference(label: str, kwargs: dict, seed: int) -> None:  # type: ignore[type-arg]
    case = random_case(seed, [2, 3, 2], batch_size=2, **kwargs)  # type: ignore[arg-type]
    got, ref = oracles.SYMBOLIC.compute(case), oracles.MATRIX.compute(case)
    for a, b, name in ((got.nabla_b, ref.nabla_b, "b"), (got.nabla_w, ref.nabla_w, "w"),
                       (got.deltas, ref.deltas, "δ")):
        found = worst_discrepancy(a, b, name)  # type: ignore[arg-type]
        assert found.relative <= TOLERANCES["symbolic"], found.describe()


def test_symbolic_column_declines_what_it_cannot_write() -> None:
    from bpverify.reference import relu
    with pytest.raises(oracles.Declined, match="relu"):
        oracles.SYMBOLIC.compute(random_case(0, [2, 2, 1], activations=relu))
    with pytest.raises(oracles.Declined, match="exceeds"):
        oracles.SYMBOLIC.compute(random_case(0, [2, 2, 1], weight_scale=40.0))


def test_derive_command(capsys: pytest.CaptureFixture[str]) -> None:
    from bpverify.cli import main
    assert main(["derive", "--list"]) == 0
    assert "bp4" in capsys.readouterr().out
    assert main(["derive", "nosuch"]) == 2
    assert "expected one of" in capsys.readouterr().err
    assert main(["derive", "bp1", "--format", "markdown", "--bound", "3", "1"]) == 0
    assert "L ≤ 3 and widths ≤ 1" in capsys.readouterr().out
