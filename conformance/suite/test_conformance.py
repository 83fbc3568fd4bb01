"""One test per conformance check, ids stable (``test_conformance[BP2]``)."""

from __future__ import annotations

from typing import Any

import pytest

from bpverify.conformance.adapters import as_implementation
from bpverify.conformance.checks import Check, Context, all_checks
from bpverify.conformance.runner import rerun_command, run_check


@pytest.mark.parametrize("bp_check", all_checks(), ids=lambda check: check.id)
def test_conformance(bp_check: Check, bp_impl: Any, request: pytest.FixtureRequest) -> None:
    impl = as_implementation(bp_impl)
    config = request.config
    seed = config.getoption("bp_seed", 0)
    outcome = run_check(bp_check, Context(impl, seed, config.getoption("bp_timeout", 10.0)))
    if outcome.status == "skip":
        if config.getoption("bp_strict", False):
            pytest.fail(f"skipped under --bp-strict: {outcome.detail}", pytrace=False)
        pytest.skip(outcome.detail)
    if outcome.status in ("fail", "error"):
        lines = [f"{outcome.status.upper()} {bp_check.id} ({bp_check.title}): {outcome.detail}"]
        if outcome.failure is not None and outcome.failure.diagnosis:
            lines.append(f"likely: {outcome.failure.diagnosis}")
        spec = config.getoption("bp_impl", None) or impl.name
        lines.append(f"rerun: {rerun_command(spec, seed, bp_check.id)}")
        pytest.fail("\n".join(lines), pytrace=False)
