"""One test per conformance check, ids stable (``test_conformance[BP2]``)."""

from __future__ import annotations

from typing import Any

import pytest

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.suite.checks import Check, Context, all_checks, by_id
from bpverify.conformance.suite.runner import SEARCH_EXAMPLES, THOROUGH_SEEDS, run_check


@pytest.mark.parametrize("bp_check", all_checks(), ids=lambda check: check.id)
def test_conformance(bp_check: Check, bp_impl: Any, request: pytest.FixtureRequest) -> None:
    impl = as_implementation(bp_impl)
    config = request.config
    seed = config.getoption("bp_seed", 0)
    thorough = config.getoption("bp_thorough", False)
    count = config.getoption("bp_seeds", None) or (THOROUGH_SEEDS if thorough else 1)
    seeds = list(range(seed, seed + count))
    case = config.getoption("bp_case", None)
    ctx = Context(impl, seed, config.getoption("bp_timeout", 10.0))
    before = [run_check(by_id(prerequisite), ctx, seeds)  # on the battery, as in a report
              for prerequisite in bp_check.after]
    outcome = run_check(bp_check, ctx, seeds, case=case,
                        search=SEARCH_EXAMPLES if thorough else 0, prerequisites=before)
    if outcome.status == "blocked":
        pytest.skip(f"{outcome.detail}: see test_conformance[{outcome.blocker}]")
    if outcome.status == "skip":
        if config.getoption("bp_strict", False):
            pytest.fail(f"skipped under --bp-strict: {outcome.detail}", pytrace=False)
        pytest.skip(outcome.detail)
    if outcome.status in ("fail", "error"):
        lines = [f"{outcome.status.upper()} {bp_check.id} ({bp_check.title}): {outcome.detail}"]
        if outcome.note:
            lines.append(f"also: {outcome.note}")
        if outcome.shrunk and outcome.network is not None:
            lines.append(f"shrunk: fails at sizes {list(outcome.network.sizes)}, "
                         f"m = {outcome.network.m}")
        if outcome.failure is not None and outcome.failure.diagnosis:
            lines.append(f"likely: {outcome.failure.diagnosis}")
        spec = config.getoption("bp_impl", None) or impl.name
        lines.append(f"rerun: {outcome.rerun(spec)}")
        pytest.fail("\n".join(lines), pytrace=False)
