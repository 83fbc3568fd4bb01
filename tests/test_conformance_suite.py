"""The conformance suite is tested too: it passes correct implementations written in many ways
and rejects every mutant of the bug zoo with the check expected for it."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

from bpverify.commands.check import main as check_main
from bpverify.conformance.protocol.adapters import as_implementation, resolve
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.specimens.zoo import CORRECT, MUTANTS, Mutant
from bpverify.conformance.suite.checks import all_checks
from bpverify.conformance.suite.runner import SuiteReport, run_suite

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
SEEDS = 20 if THOROUGH else 2
"""Seeds of the battery the correct implementations must pass: 20 in ``tox -e thorough``."""

BUILTINS = [f"bpverify.conformance.specimens.builtin:{name}" for name in (
    "reference_matrix", "reference_loop", "reference_sigma_prime", "jax_autodiff")]


def _problems(report: SuiteReport) -> list[tuple[str, str]]:
    return [(o.check.id, o.detail) for o in report.outcomes if o.status not in ("pass", "skip")]


@pytest.mark.parametrize("spec", BUILTINS)
def test_the_builtin_implementations_conform(spec: str) -> None:
    report = run_suite(resolve(spec), spec=spec)
    assert report.passed, _problems(report)


@pytest.mark.parametrize("cls", CORRECT, ids=lambda cls: cls.__name__)
def test_correct_implementations_written_differently_conform(cls: type) -> None:
    report = run_suite(as_implementation(cls), seeds=SEEDS)
    assert report.passed, _problems(report)


class Float32Network(BookNetwork):
    """The book's code computing in float32 (its naive σ(1 − σ) too): correct, but for rounding."""

    bpverify_capabilities = {"dtype": "float32"}

    def backprop(self, x, y):  # type: ignore[no-untyped-def]
        self.weights = [w.astype(np.float32) for w in self.weights]
        self.biases = [b.astype(np.float32) for b in self.biases]
        return super().backprop(x.astype(np.float32), y.astype(np.float32))


class UndeclaredFloat32Network(Float32Network):
    """Computes in float32, returns float64 arrays and declares nothing."""

    bpverify_capabilities: dict[str, str] = {}

    def backprop(self, x, y):  # type: ignore[no-untyped-def]
        nabla_b, nabla_w = super().backprop(x, y)
        return [b.astype(np.float64) for b in nabla_b], [w.astype(np.float64) for w in nabla_w]


def test_a_correct_float32_implementation_passes_with_float32_tolerances() -> None:
    report = run_suite(as_implementation(Float32Network), seeds=SEEDS)
    assert report.passed, _problems(report)


@pytest.mark.skipif(not THOROUGH, reason="JAX compiles once per shape of the battery (~10 s): "
                    "tox -e thorough")
def test_jax_in_float32_conforms_as_float32() -> None:
    report = run_suite(resolve("bpverify.conformance.specimens.builtin:jax_autodiff_float32"), seeds=3)
    assert report.passed, _problems(report)


def test_results_of_another_dtype_than_declared_fail_shapes() -> None:
    report = run_suite(as_implementation(type("Undeclared", (Float32Network,), {
        "bpverify_capabilities": {}})), only=["shapes"])
    failure = report.outcomes[0].failure
    assert failure is not None and "has dtype float32, expected float64" in failure.message
    assert "declare the dtype you compute in" in (failure.diagnosis or "")
    class Float64Declared32(BookNetwork):
        bpverify_capabilities = {"dtype": "float32"}

        def backprop(self, x, y):  # type: ignore[no-untyped-def]
            return super().backprop(x.astype(np.float64), y.astype(np.float64))
    float64 = run_suite(as_implementation(Float64Declared32), only=["shapes"])
    assert "has dtype float64, expected float32" in float64.outcomes[0].detail


def test_float32_arithmetic_undeclared_fails_with_a_hint_to_declare_it() -> None:
    """The float32 allowance is what lets the float32 network pass: checked as float64 it fails,
    and the report says what the numbers look like."""
    report = run_suite(as_implementation(UndeclaredFloat32Network),
                       only=["gradient-vs-reference"])
    assert not report.passed
    assert "this looks like float32 arithmetic" in (report.outcomes[0].failure.diagnosis or "")


@pytest.fixture(scope="module")
def zoo_reports() -> dict[str, SuiteReport]:
    """Each mutant through the whole suite once (0.5 s limit per call: one of them hangs)."""
    return {m.name: run_suite(as_implementation(m.cls), seconds=0.5) for m in MUTANTS}


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_every_mutant_is_rejected_by_its_check(mutant: Mutant,
                                               zoo_reports: dict[str, SuiteReport]) -> None:
    report = zoo_reports[mutant.name]
    assert not report.passed
    outcome = next(o for o in report.outcomes if o.check.id == mutant.check)
    assert outcome.status == mutant.status, (mutant.name, outcome.status, outcome.detail,
                                             _problems(report))
    if mutant.diagnosis:
        text = outcome.detail + " " + ((outcome.failure.diagnosis or "") if outcome.failure
                                       else "")
        assert mutant.diagnosis in text, (mutant.name, text)


def test_kill_rate(capsys: pytest.CaptureFixture[str], zoo_reports: dict[str, SuiteReport]) -> None:
    killed = sum(not report.passed for report in zoo_reports.values())
    with capsys.disabled():
        print(f"\nbug zoo kill rate: {killed}/{len(MUTANTS)}")
    assert len(MUTANTS) >= 60 and killed == len(MUTANTS)


def test_a_failure_report_names_the_network_and_reruns_exactly_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main("bpverify.conformance.specimens.zoo:MUTANTS", seed=0) == 2  # not an implementation
    assert "expected a class with the book's backprop" in capsys.readouterr().err
    import bpverify.conformance.specimens.zoo as zoo
    zoo.SingleOutput = next(m.cls for m in MUTANTS  # type: ignore[attr-defined]
                            if m.name == "SingleOutputWithoutSigmaPrimeBP1")
    assert check_main("bpverify.conformance.specimens.zoo:SingleOutput", seed=4) == 1
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("FAIL    BP1"))
    assert "δᴸ at layer 4" in line and "worst entry (" in line
    assert "network: sizes [" in line and "m = 1" in line and "battery case width-one" in line
    assert "likely: missing σ′" in out
    rerun = ("bpverify check bpverify.conformance.specimens.zoo:SingleOutput --seed 4 --case width-one"
             " --only BP1")
    assert f"rerun: {rerun}" in out
    _assert_reruns(rerun, line, capsys)


def _assert_reruns(rerun: str, line: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The printed rerun line, run as printed, reproduces the very same failure line."""
    import shlex

    from bpverify.cli import main
    words = shlex.split(rerun)
    assert words[:2] == ["bpverify", "check"]
    assert main(words[1:]) == 1
    same = " ".join(line.split())  # the column width follows the ids shown
    assert same in [" ".join(ln.split()) for ln in capsys.readouterr().out.splitlines()]


def test_thorough_shrinks_a_failure_to_the_smallest_network(
        capsys: pytest.CaptureFixture[str]) -> None:
    """σ′ missing in BP1 only for a one-neuron output: Hypothesis shrinks to L = 2, n = [1, 1]."""
    cls = next(m.cls for m in MUTANTS if m.name == "SingleOutputWithoutSigmaPrimeBP1")
    report = run_suite(as_implementation(cls), only=["BP1"], thorough=True, spec="x:Y")
    outcome = report.outcomes[0]
    assert outcome.status == "fail" and outcome.shrunk and outcome.network is not None
    assert outcome.network.sizes == (1, 1) and outcome.network.m == 1
    from bpverify.conformance.suite.runner import format_report
    text = format_report(report)
    assert "shrunk: fails at sizes [1, 1], m = 1" in text
    assert "--case 1,1/m=1/scale=1" in text
    import bpverify.conformance.specimens.zoo as zoo
    zoo.SingleOutput = cls  # type: ignore[attr-defined]
    line = next(ln for ln in text.splitlines() if ln.startswith("FAIL"))
    _assert_reruns(outcome.rerun("bpverify.conformance.specimens.zoo:SingleOutput"), line, capsys)


def test_a_broken_prerequisite_is_reported_once() -> None:
    cls = next(m.cls for m in MUTANTS if m.name == "TransposedWeightGradientBP4")
    report = run_suite(as_implementation(cls))
    statuses = {o.check.id: o.status for o in report.outcomes}
    assert statuses["shapes"] == "fail"
    assert statuses["BP1"] == statuses["gradient-vs-reference"] == "blocked"
    assert statuses["update-rule"] != "blocked"  # it does not call backprop(x, y) itself


def test_the_pytest_plugin_runs_the_suite(pytester: pytest.Pytester) -> None:
    spec = "--bp-impl=bpverify.conformance.specimens.book_network:BookNetwork"
    result = pytester.runpytest_inprocess(spec, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=14, skipped=6)
    strict = pytester.runpytest_inprocess(spec, "--bp-strict", "-p", "no:cacheprovider")
    strict.assert_outcomes(passed=14, failed=6)
    seeds = pytester.runpytest_inprocess(spec, "--bp-seeds=2", "-k", "BP2", "-p",
                                         "no:cacheprovider")
    seeds.assert_outcomes(passed=1)


def test_a_conftest_can_override_the_implementation_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent("""
        import pytest
        from bpverify.conformance.specimens.zoo import MUTANTS

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
    result = pytester.runpytest_subprocess(
        "--bp-impl=bpverify.conformance.specimens.builtin:reference_matrix", "-n", "2",
        "-p", "no:cacheprovider")
    result.assert_outcomes(passed=19, skipped=1)  # sgd: an Implementation has no SGD method


def test_only_runs_the_checks_named_and_their_prerequisites() -> None:
    class Counting(BookNetwork):
        updates = 0

        def update_mini_batch(self, mini_batch, eta):  # type: ignore[no-untyped-def]
            type(self).updates += 1
            super().update_mini_batch(mini_batch, eta)

    report = run_suite(as_implementation(Counting), only=["BP1"])
    assert [o.check.id for o in report.outcomes] == ["BP1"] and Counting.updates == 0
    run_suite(as_implementation(Counting), only=["sgd"])  # after update-rule, which updates
    assert Counting.updates > 0


def test_every_mutant_names_the_equation_of_the_check_that_kills_it() -> None:
    equations = {c.id: c.equation for c in all_checks()}
    assert all(m.equation == equations[m.check] for m in MUTANTS), [
        (m.name, m.equation, equations[m.check]) for m in MUTANTS
        if m.equation != equations[m.check]]


def test_a_pass_counts_only_the_networks_it_ran_on() -> None:
    """The Hypothesis draws count only where a search ran (not for the planted saturation)."""
    from bpverify.conformance.suite.battery import battery, saturation_specs
    from bpverify.conformance.suite.runner import SEARCH_EXAMPLES, THOROUGH_SEEDS
    report = run_suite(as_implementation(BookNetwork), only=["BP1", "saturation"], thorough=True)
    counts = {o.check.id: o.networks for o in report.outcomes}
    assert counts["saturation"] == THOROUGH_SEEDS * len(saturation_specs(0))
    assert counts["BP1"] == THOROUGH_SEEDS * len(battery(0)) + SEARCH_EXAMPLES
