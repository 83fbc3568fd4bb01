"""Running the checks against one implementation and reporting, without pytest.

``bpverify check SPEC`` and the pytest plugin both run checks through ``run_check``,
so a verdict reads the same in both.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bpverify.conformance.adapters import Implementation
from bpverify.conformance.calls import ImplementationFault
from bpverify.conformance.checks import Check, CheckFailed, Context, Failure, all_checks

DEFAULT_SECONDS = 10.0
"""Time limit for one call into the implementation."""


@dataclass(frozen=True)
class Outcome:
    check: Check
    status: str  # "pass", "fail", "skip", "error"
    detail: str
    failure: Failure | None
    seconds: float
    seed: int = 0


def run_check(check: Check, ctx: Context) -> Outcome:
    """One check as a verdict: pass, fail (with the equation), skip (with the reason), or error
    (the implementation crashed, hung or returned junk)."""
    reason = check.requires(ctx.impl.capabilities)
    if reason is not None:
        return Outcome(check, "skip", reason, None, 0.0, ctx.seed)
    start = time.perf_counter()
    try:
        check.run(ctx)
    except CheckFailed as failed:
        return Outcome(check, "fail", failed.failure.describe(), failed.failure,
                       time.perf_counter() - start, ctx.seed)
    except ImplementationFault as fault:
        return Outcome(check, "error", str(fault), Failure(check.equation, str(fault)),
                       time.perf_counter() - start, ctx.seed)
    return Outcome(check, "pass", check.title, None, time.perf_counter() - start, ctx.seed)


@dataclass(frozen=True)
class SuiteReport:
    implementation: str
    capabilities: str
    spec: str
    seed: int
    outcomes: list[Outcome]
    strict: bool

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def passed(self) -> bool:
        bad = self.count("fail") + self.count("error")
        return bad == 0 and (not self.strict or self.count("skip") == 0)


def run_suite(impl: Implementation, *, spec: str = "", seed: int = 0,
              only: Sequence[str] | None = None, strict: bool = False,
              seconds: float = DEFAULT_SECONDS, seeds: int = 1) -> SuiteReport:
    """Every check (or ``only`` these) on the networks of ``seeds`` consecutive seeds; a check's
    verdict is its first failure or error over the seeds, which its rerun command names."""
    checks = [c for c in all_checks() if only is None or c.id in only]
    if only is not None:
        unknown = sorted(set(only) - {c.id for c in all_checks()})
        if unknown:
            raise ValueError(f"unknown check id(s) {unknown}, expected some of "
                             f"{[c.id for c in all_checks()]}")
    contexts = [Context(impl, s, seconds) for s in range(seed, seed + seeds)]
    outcomes = []
    for check in checks:
        runs = []
        for ctx in contexts:
            runs.append(run_check(check, ctx))
            if runs[-1].status in ("fail", "error", "skip"):
                break
        outcomes.append(runs[-1])
    return SuiteReport(impl.name, impl.capabilities.describe(), spec or impl.name, seed, outcomes,
                       strict)


def rerun_command(spec: str, seed: int, check_id: str) -> str:
    return f"bpverify check {spec} --seed {seed} --only {check_id}"


def format_report(report: SuiteReport) -> str:
    import numpy as np

    lines = [f"bpverify check  implementation: {report.implementation}",
             f"capabilities: {report.capabilities}",
             f"seed {report.seed}  python {platform.python_version()}  numpy {np.__version__}",
              ""]
    marks = {"pass": "PASS ", "fail": "FAIL ", "skip": "SKIP ", "error": "ERROR"}
    width = max(len(o.check.id) for o in report.outcomes)
    for o in report.outcomes:
        lines.append(f"{marks[o.status]} {o.check.id:<{width}}  {o.detail}")
        if o.failure is not None:
            if o.failure.diagnosis:
                lines.append(f"{'':6} {'':<{width}}  likely: {o.failure.diagnosis}")
            lines.append(f"{'':6} {'':<{width}}  rerun: "
                         f"{rerun_command(report.spec, o.seed, o.check.id)}")
    lines.append("")
    skips = report.count("skip")
    verdict = "CONFORMS" if report.passed else "DOES NOT CONFORM"
    lines.append(f"{verdict}: {report.count('pass')} passed, {report.count('fail')} failed, "
                 f"{report.count('error')} errors, {skips} skipped"
                 + (" (skips count as failures: --strict)" if report.strict and skips else ""))
    return "\n".join(lines)
