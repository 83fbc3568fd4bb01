"""The conformance suite is tested too: it passes correct implementations and rejects every
mutant of the bug zoo with the equation expected for it."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from bpverify.check import main as check_main
from bpverify.conformance.adapters import as_implementation, resolve
from bpverify.conformance.book_network import BookNetwork
from bpverify.conformance.runner import SuiteReport, run_suite
from bpverify.conformance.zoo import MUTANTS, Mutant

BUILTINS = [f"bpverify.conformance.builtin:{name}" for name in (
    "reference_matrix", "reference_loop", "reference_sigma_prime", "jax_autodiff",
    "jax_autodiff_float32")] + ["bpverify.conformance.book_network:BookNetwork"]


@pytest.mark.parametrize("spec", BUILTINS)
def test_correct_implementations_conform(spec: str) -> None:
    report = run_suite(resolve(spec), spec=spec)
    assert report.passed, [(o.check.id, o.detail) for o in report.outcomes if o.status != "pass"]


class Float32Network(BookNetwork):
    """The book's code computing in float32 (its naive σ(1 − σ) too): correct, but for rounding."""

    bpverify_capabilities = {"dtype": "float32"}

    def backprop(self, x, y):  # type: ignore[no-untyped-def]
        self.weights = [w.astype(np.float32) for w in self.weights]
        self.biases = [b.astype(np.float32) for b in self.biases]
        return super().backprop(x.astype(np.float32), y.astype(np.float32))


class UndeclaredFloat32Network(Float32Network):
    bpverify_capabilities: dict[str, str] = {}


@pytest.mark.parametrize("impl", [Float32Network, "bpverify.conformance.builtin:jax_autodiff_float32"],
                         ids=["book network.py in float32", "JAX float32"])
def test_a_correct_float32_implementation_passes_with_float32_tolerances(impl: object) -> None:
    """No false failures over the networks of ten seeds (--thorough)."""
    report = run_suite(resolve(impl) if isinstance(impl, str) else as_implementation(impl),
                       seeds=10)
    assert report.passed, [(o.check.id, o.detail) for o in report.outcomes if o.status != "pass"]


def test_float32_rounding_fails_the_float64_tolerances() -> None:
    """The float32 allowance is what lets the float32 network pass: checked as float64 it fails."""
    report = run_suite(as_implementation(UndeclaredFloat32Network), only=["gradient-vs-reference"])
    assert not report.passed


@pytest.fixture(scope="module")
def zoo_reports() -> dict[str, SuiteReport]:
    """Each mutant through the whole suite once (0.5 s limit per call: one of them hangs)."""
    return {m.name: run_suite(as_implementation(m.cls), seconds=0.5) for m in MUTANTS}


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_every_mutant_is_rejected_naming_its_equation(mutant: Mutant,
                                                      zoo_reports: dict[str, SuiteReport]) -> None:
    report = zoo_reports[mutant.name]
    named = [o for o in report.outcomes if o.status == mutant.status
             and mutant.equation in (o.check.equation, o.failure.equation if o.failure else "")]
    assert not report.passed
    assert named, (f"{mutant.name}: no {mutant.status} naming {mutant.equation}; got "
                   f"{[(o.check.id, o.status, o.detail) for o in report.outcomes if o.status != 'pass']}")
    if mutant.diagnosis:
        texts = [o.detail + " " + ((o.failure.diagnosis or "") if o.failure else "") for o in named]
        assert any(mutant.diagnosis in t for t in texts), (mutant.name, texts)


def test_kill_rate(capsys: pytest.CaptureFixture[str], zoo_reports: dict[str, SuiteReport]) -> None:
    killed = sum(not report.passed for report in zoo_reports.values())
    with capsys.disabled():
        print(f"\nbug zoo kill rate: {killed}/{len(MUTANTS)}")
    assert len(MUTANTS) >= 20 and killed == len(MUTANTS)


def test_a_failure_report_says_where_and_how_to_rerun(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main("bpverify.conformance.zoo:MUTANTS", seed=0) == 2  # not an implementation
    assert "expected a class with the book's backprop" in capsys.readouterr().err
    import bpverify.conformance.zoo as zoo
    zoo.SignFlipBP1 = next(m.cls for m in MUTANTS if m.name == "SignFlipBP1")  # type: ignore[attr-defined]
    assert check_main("bpverify.conformance.zoo:SignFlipBP1", seed=4) == 1
    out = capsys.readouterr().out
    assert "FAIL  BP1" in out and "δᴸ at layer 4" in out and "worst entry (" in out
    assert "likely: sign flipped" in out
    assert "rerun: bpverify check bpverify.conformance.zoo:SignFlipBP1 --seed 4 --only BP1" in out
    assert check_main("bpverify.conformance.zoo:SignFlipBP1", seed=7, seeds=10) == 1
    assert "--seed 7 --only BP1" in capsys.readouterr().out


def test_the_pytest_plugin_runs_the_suite(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--bp-impl=bpverify.conformance.book_network:BookNetwork",
                                          "-p", "no:cacheprovider")
    result.assert_outcomes(passed=10, skipped=7)
    strict = pytester.runpytest_inprocess("--bp-impl=bpverify.conformance.book_network:BookNetwork",
                                          "--bp-strict", "-p", "no:cacheprovider")
    strict.assert_outcomes(passed=10, failed=7)


def test_a_conftest_can_override_the_implementation_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent("""
        import pytest
        from bpverify.conformance.zoo import MUTANTS

        @pytest.fixture
        def bp_impl():
            return next(m.cls for m in MUTANTS if m.name == "MissingSigmaPrimeBP2")
    """))
    pytester.makepyfile(
        test_mine="from bpverify.conformance.suite.test_conformance import test_conformance\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_conformance?BP2?*", "*likely: missing σ′*"])
    assert result.ret == 1


def test_inputs_are_never_shared_with_the_implementation() -> None:
    """The suite hands out copies: an implementation that scribbles on its arguments cannot
    corrupt the cases of later checks."""
    class Scribbler(BookNetwork):
        def backprop(self, x, y):  # type: ignore[no-untyped-def]
            result = super().backprop(x, y)
            x[...] = np.nan
            return result
    report = run_suite(as_implementation(Scribbler))
    failing = {o.check.id for o in report.outcomes if o.status in ("fail", "error")}
    assert failing == {"inputs-not-mutated"}


def test_the_suite_runs_under_xdist(pytester: pytest.Pytester) -> None:
    for spec, skipped in (("bpverify.conformance.builtin:reference_matrix", 0),
                          ("bpverify.conformance.builtin:jax_autodiff", 1)):  # JAX exposes no δ: BP3
        result = pytester.runpytest_subprocess(f"--bp-impl={spec}", "-n", "2", "-p",
                                               "no:cacheprovider")
        result.assert_outcomes(passed=17 - skipped, skipped=skipped)
