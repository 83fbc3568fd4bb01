"""The pytest plugin (conformance/plugin.py): --bp-impl, a conftest's own bp_impl, xdist, and
--bp-grade (a class through pytest, each test in a sandbox)."""

from __future__ import annotations

import textwrap

import pytest
from handed_in import FAKE, backprop_runs_first, w_for_w_transposed

import bpverify.conformance.specimens.zoo as zoo
from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.specimens.sources import book_source, mutant_source
from bpverify.conformance.suite.runner import run_suite


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


def test_the_suite_runs_under_xdist(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--bp-impl=bpverify.conformance.specimens.builtin:reference_matrix", "-n", "2",
        "-p", "no:cacheprovider")
    result.assert_outcomes(passed=19, skipped=1)  # sgd: an Implementation has no SGD method


# JAX warns at every fork; these forks never call into JAX.
@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
def test_pytest_grades_a_class_one_test_per_submission_and_check(pytester: pytest.Pytester) -> None:
    root = pytester.path / "class"
    for name, text in (("alice", book_source()), ("bob", mutant_source("SignFlipBP1"))):
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    expected = {"passed": 0, "failed": 0, "skipped": 0}
    for cls in (BookNetwork, next(m.cls for m in zoo.MUTANTS if m.name == "SignFlipBP1")):
        for o in run_suite(as_implementation(cls)).outcomes:
            expected[{"pass": "passed", "skip": "skipped", "blocked": "skipped"}.get(
                o.status, "failed")] += 1
    result = pytester.runpytest_inprocess(f"--bp-grade={root}", "-p", "no:cacheprovider")
    result.assert_outcomes(**expected)
    result.stdout.fnmatch_lines(["*test_grading?bob-BP1?*", "*likely: sign flipped*",
                                 f"*rerun: cd {root / 'bob'} && bpverify check network:Network*"])


@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
def test_an_implementation_that_exits_ends_pytest_green_in_process_but_not_graded(
        pytester: pytest.Pytester) -> None:
    """The hazard the plugin documents, and how --bp-grade closes it."""
    faker = pytester.path / "class" / "faker"
    faker.mkdir(parents=True)
    for folder in (faker, pytester.path):
        (folder / "network.py").write_text(backprop_runs_first(f"print({FAKE!r}, flush=True)\nos._exit(0)"))
    in_process = pytester.runpytest_subprocess("--bp-impl=network:Network", "-p",
                                               "no:cacheprovider", "-s")
    assert in_process.ret == 0 and FAKE in in_process.stdout.str()  # green, with that line
    sandboxed = pytester.runpytest_inprocess(f"--bp-grade={faker.parent}", "-k", "BP1", "-p",
                                             "no:cacheprovider")
    sandboxed.assert_outcomes(failed=1)
    sandboxed.stdout.fnmatch_lines(["*ERROR faker BP1*exited with status 0*"])



@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
def test_a_crash_names_the_users_line_in_pytest_in_process_and_graded(
        pytester: pytest.Pytester) -> None:
    """The w-for-wᵀ crash of the book's network: its file:line and source line under
    ``--bp-impl`` (in pytest's process) and ``--bp-grade`` (in a sandbox) alike."""
    source, line = w_for_w_transposed()
    (pytester.path / "network.py").write_text(source)
    where = f"*(at network.py:{line} in backpropagate: return np.dot(w_next, delta)*"
    result = pytester.runpytest_inprocess("--bp-impl=network:Network", "-k", "shapes",
                                          "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([where])
    (pytester.path / "class" / "alice").mkdir(parents=True)
    (pytester.path / "class" / "alice" / "network.py").write_text(source)
    graded = pytester.runpytest_inprocess(f"--bp-grade={pytester.path / 'class'}", "-k",
                                          "shapes", "-p", "no:cacheprovider")
    graded.stdout.fnmatch_lines([where])
