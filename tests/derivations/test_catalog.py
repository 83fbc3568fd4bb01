"""The derivations: every step holds and rejects its own wrong variant; a weakened check, a step
that checks nothing, or an edited formula makes a test fail; what is shown is what was checked;
the docs and notebooks are the ones the code generates; LaTeX parses; ``--try`` works."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import sys
from pathlib import Path

import pytest
import sympy as sp

from bpverify.commands import verify
from bpverify.commands.derive import index
from bpverify.derivations import canonical, interpret, models, worlds
from bpverify.derivations.catalog import DERIVATIONS, SECTIONS, by_name
from bpverify.derivations.core import Result, check, check_step, latex_document, render
from bpverify.derivations.notation import L, T, comp, delta, grad_a_C, hadamard, j, l, mul, sig_prime, w, z
from bpverify.derivations.notebooks import notebook_text
from bpverify.derivations.printing import equation_latex, equation_text, latex, python, text
from bpverify.derivations.trying import BadFormula, parse
from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import cubic_activation, mixed_layer, random_case
from bpverify.oracles.discrepancy import worst_discrepancy
from bpverify.oracles.tolerances import TOLERANCES
from bpverify.reference import cross_entropy, identity, sigmoid, tanh

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "derivations"
NOTEBOOKS = ROOT / "docs" / "notebooks"
SOURCES = {
    # the note (source 002)
    "prop1", "prop2", "prop2e", "facts1-5", "facts2-5", "fact6", "backpropagate", "train", "sigmoid_prime",
    # the book's §2.2–2.4 (source 001)
    "forward", "bp1", "bp1_quadratic", "bp2", "bp3", "bp4", "sigma_prime_form",
    # §2.5–2.7 (source 000) and one step beyond
    "modified_neuron", "linear_neurons", "mini_batch", "matrix_based", "finite_differences", "changes",
    "path_sum",
    "cost_claims",
    "cross_entropy",
}


def test_every_source_item_is_a_derivation_in_its_source_module() -> None:
    assert {d.name for d in DERIVATIONS} == SOURCES
    assert {d.name for d in SECTIONS["bp"]} == {"forward", "bp1", "bp1_quadratic", "bp2", "bp3", "bp4",
                                                "sigma_prime_form"}


def test_each_statement_reaches_the_levels_it_claims() -> None:
    """BP1–BP4 and Facts at every width (index form) and every depth (local step), and concretely."""
    for name in ("bp1", "bp2", "bp3", "bp4", "facts1-5", "facts2-5", "fact6"):
        kinds = {type(m) for m in by_name(name).statement_step.models}
        assert {models.IndexModel, models.LocalStep, models.ConcreteNets} <= kinds, name
    bp4_local = by_name("bp4").statement_step.models[1]
    assert isinstance(bp4_local, models.LocalStep)
    assert any(w[0] is None for w in bp4_local.widths), "BP4's local step for every n_{l−1}"
    assert any(w[2] is None for w in bp4_local.widths), "BP4's local step at l = L"
    prop2e_index, prop2e = by_name("prop2e").steps[0].models
    assert isinstance(prop2e_index, models.FunctionsIndexModel), "Props. 2 and 2E at every size"
    assert isinstance(prop2e, models.FunctionsModel) and any(a != b for a, b in prop2e.sizes)


# -- what a reader sees is what was checked ------------------------------------------------------

@pytest.mark.parametrize("name", ["bp2", "bp4", "fact6", "prop1"])
def test_editing_a_formula_changes_both_its_rendering_and_its_verdict(name: str) -> None:
    d = by_name(name)
    step = d.statement_step
    wrong = step.wrongs[0].rhs
    edited = dataclasses.replace(step, rhs=wrong)
    assert edited.formula() != step.formula()
    assert check_step(step).holds and not check_step(edited).holds
    broken = d.with_rhs(wrong)
    assert broken.statement() != d.statement()
    assert text(wrong, step.note) in broken.statement()
    assert not check(broken).passed


def test_the_printer_writes_the_books_notation() -> None:
    bp2 = hadamard(mul(T(w(l + 1)), delta(l + 1)), sig_prime(z(l)))
    assert equation_text(delta(l), bp2) == "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)"
    assert equation_latex(delta(L), hadamard(grad_a_C, sig_prime(z(L)))) == (
        r"\delta^{L} = \nabla_a C \odot \sigma'\left(z^{L}\right)")
    assert text(comp("dC_dw", l, j, sp.Symbol("k"))) == "∂C/∂wˡⱼₖ"
    assert python(bp2) == "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])"
    assert equation_text(by_name("fact6").lhs, by_name("fact6").rhs, note=True) == "d_a′ C = Wᵀ d_z C"
    assert "Σ′(zˡ)" in by_name("sigma_prime_form").statement()


def test_every_matrix_formula_round_trips_through_the_try_notation() -> None:
    for d in DERIVATIONS:
        for s in d.steps:
            for template in (s.rhs, *(wrong.rhs for wrong in s.wrongs)):
                if isinstance(template, sp.MatrixExpr):
                    assert parse(python(template)) == template, python(template)


# -- weakened checks fail --------------------------------------------------------------------------

def test_a_check_that_compares_anything_as_equal_fails_every_derivation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """"is a SymPy matrix", "compared with itself": a check that accepts all accepts the wrong variants."""
    monkeypatch.setattr(models, "compare_in", lambda *args, **kwargs: models.Compared(None, 1))
    for name in ("bp3", "linear_neurons", "prop2e", "fact6"):
        result = check(by_name(name))
        assert not result.passed and any(not s.wrong_rejected for s in result.steps), name


def test_a_concrete_step_restricted_to_the_output_layer_fails_bp3(monkeypatch: pytest.MonkeyPatch) -> None:
    real = models.ConcreteNets.cases

    def output_only(self, lhs, rhs, broken=False):  # type: ignore[no-untyped-def]
        return (pair for pair in real(self, lhs, rhs, broken) if pair[0].at == len(pair[0].sizes))
    monkeypatch.setattr(models.ConcreteNets, "cases", output_only)
    result = check(by_name("bp3").with_bound((3, 2)))
    concrete = [r for s in result.steps for r in s.levels if isinstance(r.model, models.ConcreteNets)]
    assert concrete and not concrete[0].holds and "cases" in concrete[0].shortfall


def test_a_taylor_check_that_stops_before_its_order_fails_the_central_difference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_degree = sp.degree
    monkeypatch.setattr(models.sp, "degree", lambda e, v: real_degree(e, v) - 1)
    result = check(by_name("finite_differences"))
    assert not result.steps[1].wrong_rejected  # the ε³ term is only seen at order ε⁴


def test_a_step_that_checks_no_case_fails() -> None:
    result = check(by_name("bp2").with_bound((2, 2)))  # no layer l < L with δˡ⁺¹ when L = 2
    concrete = result.steps[by_name("bp2").stated].levels[2]
    assert concrete.verdict is not None and concrete.verdict.cases == 0
    assert not concrete.holds and not result.passed
    assert "checked no case" in "\n".join(result.failures())


def test_an_exception_in_one_step_is_its_failure_and_the_rest_run(monkeypatch: pytest.MonkeyPatch) -> None:
    d = by_name("bp1")

    class Broken(models.IndexModel):
        def judge(self, lhs, rhs, broken=False):  # type: ignore[no-untyped-def]
            raise ZeroDivisionError("on purpose")
    steps = (dataclasses.replace(d.steps[2], models=(Broken(),) + d.steps[2].models[1:]),)
    steps = d.steps[:2] + steps + d.steps[3:]
    result = check(dataclasses.replace(d, steps=steps))
    assert "ZeroDivisionError: on purpose" in result.steps[2].levels[0].error
    assert all(r.holds for r in result.steps[2].levels[1:])
    del steps
    assert all(s.passed for n, s in enumerate(result.steps) if n != 2)
    assert not result.passed


def test_derive_check_goes_on_after_a_failing_derivation(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from bpverify.commands import derive
    from bpverify.derivations import catalog
    broken = by_name("prop2").with_rhs(by_name("prop2").steps[0].wrongs[0].rhs)
    monkeypatch.setattr(catalog, "DERIVATIONS", (broken, by_name("prop1")))
    assert derive.main(None, list_all=False, run_check=True, fmt="text", write=False) == 1
    out = capsys.readouterr().out
    assert "✗ prop2" in out and "✓ prop1" in out and "1 checked, 1 failed" in out


# -- generated docs and notebooks -----------------------------------------------------------------

@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_notebooks_are_current_and_have_no_outputs(section: str) -> None:
    path = NOTEBOOKS / f"{section}.ipynb"
    assert path.read_text(encoding="utf-8") == notebook_text(section), (
        f"{path} is stale: run `bpverify derive --write-docs`")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert all(c.get("outputs", []) == [] for c in cells)
    steps = sum(len(d.steps) for d in SECTIONS[section])
    assert sum("recheck(" in c["source"] for c in cells if c["cell_type"] == "code") == steps


def test_a_notebook_cell_rechecks_an_edited_formula() -> None:
    from bpverify.derivations.classroom import StepFails, recheck
    assert repr(recheck("bp2", 4, "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])")).startswith("✓")
    wrong = recheck("bp2", 4, "(w[l+1] @ delta[l+1]) * sigma_prime(z[l])")  # answered, not raised
    assert not wrong.passed and "shapes" in repr(wrong)
    with pytest.raises(StepFails, match="shapes"):
        wrong.assert_passed()


# -- LaTeX ------------------------------------------------------------------------------------------

ALLOWED_MACROS = {
    "documentclass", "usepackage", "begin", "end", "subsection", "textit", "item", "frac", "partial",
    "left", "right", "delta", "sigma", "odot", "otimes", "nabla", "Sigma", "sum", "tilde", "eta",
    "epsilon", "lambda", "Delta", "text", "checkmark", "times", "cdot", "leq", "geq", "to", "in",
    "Rightarrow", "equiv", "ldots", "tfrac", "operatorname", "mathcal", "S", "zeta", "alpha", "rho",
    "theta", "xi", "approx", "infty", "neq", "substack", "mathbf",
    "|", "\\", "_", "{", "}", "&", "%", "#", "$", "^",
}


def _macros_and_delimiters(nodes, found: list[str], math: bool = False) -> None:  # type: ignore[no-untyped-def]
    from pylatexenc.latexwalker import LatexEnvironmentNode, LatexGroupNode, LatexMacroNode, LatexMathNode
    for node in nodes or []:
        if isinstance(node, LatexMacroNode):
            found.append(node.macroname)
        if isinstance(node, LatexMathNode):
            macros = [x.macroname for x in _walk(node.nodelist) if isinstance(x, LatexMacroNode)]
            lefts, rights = macros.count("left"), macros.count("right")
            assert lefts == rights, f"\\left/\\right unbalanced in {node.latex_verbatim()}"
        if isinstance(node, LatexEnvironmentNode | LatexGroupNode | LatexMathNode):
            _macros_and_delimiters(node.nodelist, found, math or isinstance(node, LatexMathNode))


def _walk(nodes):  # type: ignore[no-untyped-def]
    for node in nodes or []:
        yield node
        yield from _walk(getattr(node, "nodelist", None))


def test_every_step_holds_and_what_is_published_is_what_was_checked() -> None:
    """Every step of every derivation holds (with cases) and rejects its own wrong variant;
    docs/derivations is what `--write-docs` makes of this very check, and so are the derivation
    rows of `bpverify verify` (with their numbers); the LaTeX of every derivation
    parses (pdflatex runs in `tox -e latex`): strict syntax, balanced \\left/\\right, only macros
    of LaTeX and amsmath, no character pdflatex cannot set; and every line of the checking
    worlds (worlds.py, interpret.py, canonical.py) ran for some step, so that no branch of the
    checker is dead code that a step could not catch a mistake in. One test, so that under xdist
    the derivations are checked in one worker only."""
    results, ran = _traced(lambda: {d.name: check(d) for d in DERIVATIONS}, CHECKING_WORLDS)
    unused = {f"{Path(module.__file__).name}:{line}" for module in CHECKING_WORLDS
              for line in _body_lines(module)} - {f"{Path(name).name}:{line}" for name, line in ran}
    assert not unused, f"lines of the checking worlds no step runs: {sorted(unused)}"
    failures = {name: r.failures() for name, r in results.items() if not r.passed}
    assert not failures, failures
    for name, result in results.items():
        for s in result.steps:
            for r in s.levels:
                assert r.verdict is not None and r.verdict.cases > 0, (name, s.step.formula())
                assert len(r.wrongs) == len(s.step.wrongs) >= 2, (name, s.step.formula())
                assert all(v.rejected for v in r.wrongs), (name, s.step.formula())
    for name, result in results.items():
        path = DOCS / f"{name}.md"
        assert path.read_text(encoding="utf-8") == render(result, "markdown"), (
            f"{path} is stale: run `bpverify derive --write-docs`")
    assert (DOCS / "README.md").read_text(encoding="utf-8") == index([results[d.name] for d in DERIVATIONS])
    pylatexenc = pytest.importorskip("pylatexenc.latexwalker", reason="pylatexenc is in the test extra")
    document = latex_document([results[d.name] for d in DERIVATIONS])
    assert document.isascii(), sorted({c for c in document if not c.isascii()})
    nodes, _, _ = pylatexenc.LatexWalker(document, tolerant_parsing=False).get_latex_nodes()
    found: list[str] = []
    _macros_and_delimiters(nodes, found)
    assert set(found) <= ALLOWED_MACROS, set(found) - ALLOWED_MACROS
    assert re.search(r"\\left\s*[^(\[|.\\]", document) is None, "a \\left without a delimiter"
    check_verify_rows(results)


CHECKING_WORLDS = (worlds, interpret, canonical)


def _traced(run, modules):  # type: ignore[no-untyped-def]
    """run() with every line it executes in ``modules`` recorded: (its value, {(file, line)})."""
    files = {m.__file__ for m in modules}
    ran: set[tuple[str, int]] = set()

    def local(frame, event, arg):  # type: ignore[no-untyped-def]
        if event == "line":
            ran.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def calls(frame, event, arg):  # type: ignore[no-untyped-def]
        return local if frame.f_code.co_filename in files else None
    worlds.network_values.cache_clear()  # a value cached by an earlier test would hide its lines
    worlds._run_algorithm.cache_clear()
    sys.settrace(calls)
    try:
        return run(), ran
    finally:
        sys.settrace(None)


def _body_lines(module) -> set[int]:  # type: ignore[no-untyped-def]
    """The statements inside the module's functions, but raise (an error a step cannot reach
    while it holds) and docstrings."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    lines = set()
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(function):
            if node is function or not isinstance(node, ast.stmt):
                continue
            if isinstance(node, ast.FunctionDef | ast.Raise):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue
            lines.add(node.lineno)
    return lines


NOT_NUMERIC = {  # (derivation, method): why the cell is – (each reason is printed under "Declined")
    ("fact6", "reference"), ("forward", "JAX autodiff"), ("forward", "complex step"),
    *(("prop" + n, "reference") for n in ("1", "2", "2e")),
    ("forward", "central diff."),
    ("finite_differences", "reference"),
    *(("cost_claims", method) for method in ("JAX autodiff", "complex step", "central diff.")),
}


def check_verify_rows(results: dict[str, Result]) -> None:
    """Every derivation is a row of `bpverify verify`: its proof and its numbers."""
    report = verify.Report(0, verify.derivation_rows(0, proofs=results), {})
    assert report.passed
    rows = {r.derivation: r for r in report.rows if r.derivation is not None}
    assert list(rows) == [d.name for d in DERIVATIONS]
    for name, row in rows.items():
        assert row.cells["SymPy proof"].status == "pass", (name, row.cells["SymPy proof"].failures)
        assert row.cells["SymPy proof"].where, name  # the levels its statement reaches
        for method in ("reference", "JAX autodiff", "complex step", "central diff."):
            cell = row.cells[method]
            expected = "n/a" if (name, method) in NOT_NUMERIC else "pass"
            assert cell.status == expected, (name, method, cell.status, cell.declined, cell.failures)
    data = json.loads(verify.to_json(report))
    assert {r["derivation"] for r in data["rows"] if r["derivation"]} == set(rows)
    assert "✓ proved" in verify.format_table(report)



def test_latex_of_bp2_is_what_the_book_prints() -> None:
    assert latex(by_name("bp2").rhs) == (r"\left(\left(w^{l+1}\right)^{T} \delta^{l+1}\right) \odot "
                                         r"\sigma'\left(z^{l}\right)")


# -- try your own formula ---------------------------------------------------------------------------

def test_try_proves_the_books_bp2(capsys: pytest.CaptureFixture[str]) -> None:
    from bpverify.cli import main
    assert main(["derive", "bp2", "--try", "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("true: δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)")
    assert "every width" in out and "every depth" in out


@pytest.mark.parametrize("formula, smallest", [
    ("w[l+1].T @ delta[l+1]", "sizes [1, 1, 1] at l = 2, entry (1, 1)"),       # σ′ left out
    ("(w[l+1] @ delta[l+1]) * sigma_prime(z[l])", "sizes [1, 1, 2] at l = 2"),  # no transpose
])
def test_try_answers_false_with_the_smallest_counterexample(formula: str, smallest: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from bpverify.cli import main
    assert main(["derive", "bp2", "--try", formula]) == 1
    out = capsys.readouterr().out
    assert out.startswith("false:") and smallest in out and "left side" in out or "shapes" in out


@pytest.mark.parametrize("formula, message", [
    ("(w[l+1].T @ delta[l+1]", "not a Python expression"),
    ("W[l+1].T @ delta[l+1]", "only the book's quantities take a layer"),
    ("grad_b", "unknown name 'grad_b'"),
    ("__import__('os').system('true')", "only the functions"),
    ("delta[l+1].shape", "only .T"),
    ("delta[l+1] ** 2", "operator Pow"),
    ("w[l+1]", None),
])
def test_try_rejects_bad_input_with_a_clear_message(formula: str, message: str | None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from bpverify.cli import main
    code = main(["derive", "bp2", "--try", formula])
    if message is None:  # well formed but of the wrong shape: false, not bad input
        assert code == 1
        return
    assert code == 2
    assert message in capsys.readouterr().err


def test_try_on_the_exercises() -> None:
    from bpverify.derivations.trying import attempt
    assert attempt(by_name("linear_neurons"), "w[l+1].T @ delta[l+1]").proved
    assert not attempt(by_name("bp1"), "grad_a_C").proved  # BP1 needs σ′ unless σ(z) = z
    assert attempt(by_name("bp4"), "delta[l] @ a[l-1].T").proved
    with pytest.raises(BadFormula, match="not a vector or matrix"):
        attempt(by_name("finite_differences"), "w[l]")


def test_derive_command(capsys: pytest.CaptureFixture[str]) -> None:
    from bpverify.cli import main
    assert main(["derive", "--list"]) == 0
    listed = capsys.readouterr().out.split("\n")
    assert {line.split()[0] for line in listed if line} == SOURCES
    assert main(["derive", "nosuch"]) == 2
    assert "expected one of" in capsys.readouterr().err
    assert main(["derive", "bp1", "--format", "text", "--bound", "3", "1"]) == 0
    assert "L ≤ 3 and widths ≤ 1" in capsys.readouterr().out


# -- the lambdified symbolic gradient (the oracle of the report's "symbolic" column) ---------------

SYMBOLIC_CASES = [
    ("sigmoid", dict(activations=sigmoid)), ("tanh", dict(activations=tanh)),
    ("identity", dict(activations=identity)),
    ("cubic (user-defined f)", dict(activations=cubic_activation())),
    ("per-neuron", dict(activations=[mixed_layer(3, ["sigmoid", "tanh", "cubic"]), sigmoid])),
    ("cross-entropy", dict(cost=cross_entropy)),
]


@pytest.mark.parametrize("label, kwargs", SYMBOLIC_CASES, ids=[c[0] for c in SYMBOLIC_CASES])
def test_lambdified_symbolic_gradient_matches_the_reference(label: str, kwargs: dict) -> None:  # type: ignore[type-arg]
    case = random_case(0, [2, 3, 2], batch_size=2, **kwargs)  # type: ignore[arg-type]
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


def test_the_readmes_try_examples_answer_as_their_comments_say() -> None:
    """Every `bpverify derive … --try` line of the README: exit 1 where its comment says false."""
    import shlex

    from bpverify.cli import main
    lines = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
             if line.startswith("bpverify derive ") and "--try" in line]
    assert len(lines) >= 4
    for line in lines:
        command, _, comment = line.partition("#")
        expected = 1 if "false" in comment else 0
        assert main(shlex.split(command)[1:]) == expected, line
