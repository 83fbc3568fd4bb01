"""The bpverify pytest plugin (pytest11 entry point ``bpverify``).

``pytest --bp-impl=module:attribute`` runs the conformance suite against that
implementation; a project may instead override the ``bp_impl`` fixture in its own
conftest.py and import the suite's test into one of its test modules:

    from bpverify.conformance.suite.test_conformance import test_conformance  # noqa: F401

``pytest --bp-grade=SUBMISSIONS`` grades a class instead: one test per submission and check
(``test_grading[alice-BP2]``), each run in a sandboxed worker process (``worker.py``, as
``bpverify grade`` does), so ``-n`` spreads a class over cores and pytest-xdist's remote workers
over machines; ``--bp-grade-spec`` names the implementation within each submission.

The hazard of ``--bp-impl``: the implementation runs inside the pytest process, so it can end
that process. One whose ``backprop`` prints "CONFORMS: 17 passed, 0 failed, 0 errors, 0 skipped"
and calls ``os._exit(0)`` stops pytest with exit status 0 and that line on screen: a green CI
build. Under ``-n`` (pytest-xdist) the process it ends is a worker, which xdist reports as
crashed, failing the test that was running, so the run's status is non-zero; ``--bp-grade``
(and ``bpverify check``) run the implementation in a worker process of their own, where no exit
of its own can end the run or count as a verdict. Use one of them in CI.

Options are prefixed ``--bp-`` and fixtures ``bp_``, so they collide with nothing. Only
pytest and the standard library are imported here; the suite loads when it runs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SUITE = Path(__file__).with_name("suite")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bpverify", "backpropagation conformance (bpverify)")
    group.addoption("--bp-impl", metavar="MODULE:ATTRIBUTE", default=None,
                    help="the implementation to check: a book-style class or an Implementation")
    group.addoption("--bp-seed", type=int, default=0, help="seed of the networks checked")
    group.addoption("--bp-seeds", type=int, default=None, metavar="N",
                    help="check the batteries of N seeds from --bp-seed on (default 1)")
    group.addoption("--bp-thorough", action="store_true",
                    help="the batteries of 10 seeds, then Hypothesis draws more networks and "
                         "shrinks a failure to the smallest network that still fails")
    group.addoption("--bp-case", default=None, metavar="CASE",
                    help="run on this one network: a battery slot (deep) or sizes/m/scale "
                         "(2,1,1/m=1/scale=1), as a rerun line prints it")
    group.addoption("--bp-strict", action="store_true",
                    help="a check skipped for an undeclared capability fails instead")
    group.addoption("--bp-timeout", type=float, default=10.0,
                    help="seconds one call into the implementation may take")
    group.addoption("--bp-import-timeout", type=float, default=60.0,
                    help="seconds importing a submission may take (--bp-grade; --bp-impl "
                         "imports in pytest's own process, with no limit)")
    group.addoption("--bp-grade", metavar="SUBMISSIONS", default=None,
                    help="grade a class: one test per submission (each entry of this folder) "
                         "and check, each in a sandboxed worker process")
    group.addoption("--bp-grade-spec", metavar="MODULE:ATTRIBUTE", default="network:Network",
                    help="the implementation within each submission (default network:Network)")


def pytest_configure(config: pytest.Config) -> None:
    """With --bp-impl or --bp-grade and no paths of the user's, collect the suite shipped with
    bpverify (its per-check or its per-submission tests)."""
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        return
    if config.getoption("bp_grade"):
        config.args = [str(SUITE / "test_grading.py")]
    elif config.getoption("bp_impl"):
        config.args = [str(SUITE / "test_conformance.py")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per submission and check: ``test_grading[alice-BP2]``."""
    if "bp_submission" not in metafunc.fixturenames:
        return
    root = metafunc.config.getoption("bp_grade")
    if not root:
        metafunc.parametrize(("bp_submission", "bp_check"), [pytest.param(
            None, None, marks=pytest.mark.skip(reason="no class to grade: pass --bp-grade"))])
        return
    from bpverify.conformance.isolation.submissions import discover
    from bpverify.conformance.suite.checks import all_checks

    try:
        submissions = discover(Path(root).resolve())
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    checks = [c.id for c in all_checks()]
    metafunc.parametrize(("bp_submission", "bp_check"),
                         [(s, c) for s in submissions for c in checks],
                         ids=[f"{s.name}-{c}" for s in submissions for c in checks])


@pytest.fixture(scope="session")
def bp_grader(request: pytest.FixtureRequest) -> Iterator[Callable[[Any, str], dict[str, Any]]]:
    """Runs one check of one submission in a sandbox; returns the worker's verdict data."""
    from bpverify.conformance.isolation.submissions import DEFAULT_SUBMISSION_SECONDS, private_copy
    from bpverify.conformance.isolation.template import Template, job
    from bpverify.conformance.isolation.worker import Limits, Placement

    config = request.config
    root = str(Path(config.getoption("bp_grade")).resolve())
    spec = config.getoption("bp_grade_spec")
    limits = Limits(call_seconds=config.getoption("bp_timeout"),
                    import_seconds=config.getoption("bp_import_timeout"),
                    total_seconds=DEFAULT_SUBMISSION_SECONDS)
    workspace = Path(tempfile.mkdtemp(prefix="bpverify-grade-"))
    template = Template()

    def grade_one(submission: Any, check: str) -> dict[str, Any]:
        copy = private_copy(submission, workspace)
        try:
            placement = Placement(cwd=str(copy), writable=(str(copy),),
                                  hidden=(root, str(workspace)))
            return template.run(job(submission.spec(spec), placement, limits,
                                    display_spec=submission.display_spec(spec),
                                    seed=config.getoption("bp_seed"), only=[check]))
        finally:
            shutil.rmtree(copy, ignore_errors=True)

    yield grade_one
    template.close()
    shutil.rmtree(workspace, ignore_errors=True)


@pytest.fixture
def bp_impl(request: pytest.FixtureRequest) -> Any:
    """The implementation under test, from --bp-impl; override this fixture to plug in another."""
    spec = request.config.getoption("bp_impl")
    if not spec:
        pytest.skip("no implementation to check: pass --bp-impl=module:attribute or override "
                    "the bp_impl fixture")
    from bpverify.conformance.protocol.adapters import resolve
    try:
        return resolve(spec)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
