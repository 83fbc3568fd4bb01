"""``bpverify check SPEC``: the conformance suite and its report, no pytest needed.

The implementation runs in a confined worker process (``conformance/isolation/worker.py``) that only
answers calls; the verdicts are computed here. So the exit status is 0 only when every verdict
arrived and passed: an implementation that prints "CONFORMS" and exits, or calls
``os._exit(0)``, is an ERROR, whatever it printed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence

from bpverify.conformance.isolation.worker import Limits, Placement, run_isolated
from bpverify.conformance.protocol.loading import parse
from bpverify.conformance.suite.runner import check_selection, format_report

DEFAULT_MEMORY_GIB = 2.0


def main(spec: str, *, seed: int = 0, only: Sequence[str] | None = None, strict: bool = False,
         seconds: float = 10.0, seeds: int = 1, memory_gib: float = DEFAULT_MEMORY_GIB,
         thorough: bool = False, case: str | None = None) -> int:
    try:
        folder = parse(spec)[1]
        check_selection(only, case, seed)
    except ValueError as error:  # a bad spec, check id or --case: nothing has run yet
        print(f"bpverify check: {error}", file=sys.stderr)
        return 2
    cwd = os.getcwd()
    private = tempfile.mkdtemp(prefix="bpverify-check-")  # its HOME and TMPDIR, nothing else
    placement = Placement(cwd=cwd, readable=(cwd, *([str(folder)] if folder else [])),
                          writable=(private,))
    limits = Limits(call_seconds=seconds, memory_bytes=int(memory_gib * 2**30))
    try:
        run = run_isolated(spec, placement, limits, seed=seed, only=only, strict=strict,
                           seeds=seeds, thorough=thorough, case=case)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if run.output.strip():
        print("--- what the implementation printed (not read as a verdict) ---", file=sys.stderr)
        print(run.output.rstrip(), file=sys.stderr)
        print("---", file=sys.stderr)
    if run.report is None:
        print(f"bpverify check: {run.error}", file=sys.stderr)
        return 2
    print(format_report(run.report))
    print(isolation_line(run.protections))
    if run.error is not None:
        print(f"ERROR: {run.error}: the verdicts above are incomplete")
        return 1
    return 0 if run.report.passed else 1


def isolation_line(protections: dict[str, str]) -> str:
    active = [name for name, state in protections.items() if state.startswith("active")]
    inactive = [f"{name} ({state.removeprefix('inactive: ')})"
                for name, state in protections.items() if not state.startswith("active")]
    return (f"isolated: {', '.join(active) or 'nothing'}"
            + (f"; not active: {'; '.join(inactive)}" if inactive else ""))

