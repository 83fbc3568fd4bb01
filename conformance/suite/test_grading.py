"""One test per submission and check of a class (``pytest --bp-grade=SUBMISSIONS``), each
graded in a sandboxed worker process: ``test_grading[alice-BP2]``."""

from __future__ import annotations

from typing import Any

import pytest


def test_grading(bp_submission: Any, bp_check: str, bp_grader: Any,
                 request: pytest.FixtureRequest) -> None:
    data = bp_grader(bp_submission, bp_check)
    report = data.get("report") or {}
    outcome = next((o for o in report.get("outcomes", []) if o["check"] == bp_check), None)
    if outcome is None or data["verdict"] == "ERROR":
        pytest.fail(f"ERROR {bp_submission.name} {bp_check}: {data.get('reason')}", pytrace=False)
    if outcome["status"] == "blocked":
        pytest.skip(f"{outcome['detail']}: see test_grading[{bp_submission.name}-shapes]")
    if outcome["status"] == "skip":
        if request.config.getoption("bp_strict", False):
            pytest.fail(f"skipped under --bp-strict: {outcome['detail']}", pytrace=False)
        pytest.skip(outcome["detail"])
    if outcome["status"] in ("fail", "error"):
        lines = [f"{outcome['status'].upper()} {bp_check} ({outcome['title']}): {outcome['detail']}"]
        if outcome.get("diagnosis"):
            lines.append(f"likely: {outcome['diagnosis']}")
        prefix = "" if bp_submission.is_file else f"cd {bp_submission.path} && "
        lines.append(f"rerun: {prefix}{outcome['rerun']}")
        pytest.fail("\n".join(lines), pytrace=False)
