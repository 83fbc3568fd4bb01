"""Reading a suite report in the tests: what did not pass, and how many seeds to ask for."""

from __future__ import annotations

import os

from bpverify.conformance.suite.runner import SuiteReport

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
SEEDS = 20 if THOROUGH else 2
"""Seeds of the battery the correct implementations must pass: 20 in ``tox -e thorough``."""


def problems(report: SuiteReport) -> list[tuple[str, str]]:
    """(check id, detail) of every outcome that neither passed nor was skipped."""
    return [(o.check.id, o.detail) for o in report.outcomes if o.status not in ("pass", "skip")]
