"""The bpverify pytest plugin (pytest11 entry point ``bpverify``).

``pytest --bp-impl=module:attribute`` runs the conformance suite against that
implementation; a project may instead override the ``bp_impl`` fixture in its own
conftest.py and import the suite's test into one of its test modules:

    from bpverify.conformance.suite.test_conformance import test_conformance  # noqa: F401

Options are prefixed ``--bp-`` and fixtures ``bp_``, so they collide with nothing. Only
pytest and the standard library are imported here; the suite loads when it runs.
"""

from __future__ import annotations

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


def pytest_configure(config: pytest.Config) -> None:
    """With --bp-impl and no paths of the user's, collect the suite shipped with bpverify."""
    if config.getoption("bp_impl") and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(SUITE)]


@pytest.fixture
def bp_impl(request: pytest.FixtureRequest) -> Any:
    """The implementation under test, from --bp-impl; override this fixture to plug in another."""
    spec = request.config.getoption("bp_impl")
    if not spec:
        pytest.skip("no implementation to check: pass --bp-impl=module:attribute or override "
                    "the bp_impl fixture")
    from bpverify.conformance.adapters import resolve
    try:
        return resolve(spec)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
