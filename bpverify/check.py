"""``bpverify check SPEC``: the conformance suite and its report, no pytest needed."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bpverify.conformance.adapters import resolve
from bpverify.conformance.runner import format_report, run_suite


def main(spec: str, *, seed: int = 0, only: Sequence[str] | None = None, strict: bool = False,
         seconds: float = 10.0, seeds: int = 1, thorough: bool = False,
         case: str | None = None) -> int:
    try:
        impl = resolve(spec)
        report = run_suite(impl, spec=spec, seed=seed, only=only, strict=strict, seconds=seconds,
                           seeds=seeds, thorough=thorough, case=case)
    except ValueError as error:
        print(f"bpverify check: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report.passed else 1
