"""Running checks over the battery and reporting (suite/runner.py): failures name their network and
rerun exactly it, Hypothesis shrinks them, prerequisites block once."""

from __future__ import annotations

import numpy as np
import pytest

from bpverify.commands.check import main as check_main
from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.specimens.zoo import MUTANTS
from bpverify.conformance.suite.runner import run_suite

# JAX (imported by other tests in the same xdist worker) warns at every fork; `check` here forks
# its sandbox, which never calls into JAX. The commands as users run them never fork after JAX
# has started (tests/conformance/isolation/test_worker.py shows it, with its negative control).
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")


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
    assert "likely: missing σ′(zᴸ)" in out
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


class FlatBiasGradients(BookNetwork):
    """∂C/∂b kept 1-D (n,) in every layer: shapes fails on every network."""

    def bias_gradient(self, delta):  # type: ignore[no-untyped-def]
        return delta[:, 0]


def test_a_prerequisite_broken_everywhere_is_reported_once() -> None:
    report = run_suite(as_implementation(FlatBiasGradients))
    statuses = {o.check.id: o.status for o in report.outcomes}
    assert statuses["shapes"] == "fail"
    assert statuses["BP1"] == statuses["gradient-vs-reference"] == "blocked"
    assert statuses["update-rule"] != "blocked"  # it does not call backprop(x, y) itself


class SquareOnlyNetwork(BookNetwork):
    """BP2 with w for wᵀ: crashes wherever wˡ⁺¹ is not square, runs (wrong) where it is."""

    def backpropagate(self, w_next, delta, z, z_next):  # type: ignore[no-untyped-def]
        return np.dot(w_next, delta) * self.sigmoid_prime(z)


def test_an_equation_is_judged_where_the_code_runs_and_the_crash_named_where_it_does_not(
        ) -> None:
    """w for wᵀ crashes on the non-square networks: shapes is an ERROR that says where it runs
    (only where every wˡ⁺¹ of BP2 is square) and names the line; BP2 is judged on the square
    network and fails with its diagnosis, naming the crash's line too."""
    report = run_suite(as_implementation(SquareOnlyNetwork))
    outcomes = {o.check.id: o for o in report.outcomes}
    shapes, bp2 = outcomes["shapes"], outcomes["BP2"]
    assert shapes.status == "error" and "test_runner.py:" in shapes.detail
    assert "square (only those with n₂ = … = n_L (wˡ square for l ≥ 3))" in shapes.note
    assert bp2.status == "fail" and bp2.network is not None and bp2.network.name == "square"
    assert bp2.failure is not None and "wˡ⁺¹ instead of (wˡ⁺¹)ᵀ" in (bp2.failure.diagnosis or "")
    assert "judged on 1 of 6 networks (square)" in bp2.note
    assert "it crashes there, at " in bp2.note and "test_runner.py:" in bp2.note
    assert outcomes["BP1"].status == "pass"  # right where it runs
    from bpverify.conformance.suite.runner import format_report
    text = format_report(report)
    assert "also: judged on 1 of" in text and "likely: wˡ⁺¹ instead of (wˡ⁺¹)ᵀ" in text


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


def test_a_pass_counts_only_the_networks_it_ran_on() -> None:
    """The Hypothesis draws count only where a search ran (not for the planted saturation), and
    the huge batch only for the checks that make one call per mini-batch."""
    from bpverify.conformance.suite.battery import HUGE_BATCH, battery, saturation_specs
    from bpverify.conformance.suite.runner import SEARCH_EXAMPLES, THOROUGH_SEEDS
    report = run_suite(as_implementation(BookNetwork), only=["BP1", "saturation", "update-rule"],
                       thorough=True)
    counts = {o.check.id: o.networks for o in report.outcomes}
    per_example = [s for s in battery(0) if s.name != HUGE_BATCH]
    assert counts["saturation"] == THOROUGH_SEEDS * len(saturation_specs(0))
    assert counts["BP1"] == THOROUGH_SEEDS * len(per_example) + SEARCH_EXAMPLES
    assert counts["update-rule"] == THOROUGH_SEEDS * len(battery(0)) + SEARCH_EXAMPLES


def test_a_blocked_check_says_what_blocks_it_in_words() -> None:
    """backprop raising on every call: shapes errors, what needs it is blocked, and what needs
    those is blocked by a blocked check, said as "it is blocked" (once "it blockeds")."""
    class Raising(BookNetwork):
        def backprop(self, x, y):  # type: ignore[no-untyped-def]
            raise RuntimeError("on purpose")

    report = run_suite(as_implementation(Raising))
    details = [o.detail for o in report.outcomes if o.status == "blocked"]
    assert details and all(d.startswith("blocked by ") for d in details)
    assert any("(it errors)" in d for d in details)
    assert any("(it is blocked)" in d for d in details), details
    assert not any("blockeds" in d or "errors)s" in d for d in details)
