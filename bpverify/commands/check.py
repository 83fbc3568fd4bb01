"""``bpverify check SPEC``: the conformance suite and its report, no pytest needed.

The implementation runs in a confined worker process (``conformance/isolation/worker.py``) that only
answers calls; the verdicts are computed here. So the exit status is 0 only when every verdict
arrived and passed: an implementation that prints "CONFORMS" and exits, or calls
``os._exit(0)``, is an ERROR, whatever it printed. ``--format`` writes the same verdicts for
another reader (``conformance/isolation/formats.py``: json, junit, github, gradescope); under
``--assignment`` the checks are what the assignment requires, whatever the implementation
declares. Everything shown on the terminal is made safe first (``display.shown``): what an
implementation prints or raises cannot move the cursor or draw over the report.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bpverify.conformance.isolation.display import shown
from bpverify.conformance.isolation.formats import CheckRun, as_github, render, step_summary
from bpverify.conformance.isolation.worker import Limits, Placement, isolated_to_data, run_isolated
from bpverify.conformance.protocol.loading import parse
from bpverify.conformance.suite import assignment as assignments
from bpverify.conformance.suite.checks import all_checks
from bpverify.conformance.suite.runner import check_selection, format_report

DEFAULT_MEMORY_GIB = 2.0


def main(spec: str, *, seed: int = 0, only: Sequence[str] | None = None, strict: bool = False,
         seconds: float = 10.0, seeds: int = 1, memory_gib: float = DEFAULT_MEMORY_GIB,
         thorough: bool = False, case: str | None = None, fmt: str = "text",
         output: str | None = None, assignment: str | None = None) -> int:
    cwd = Path(os.getcwd())
    assigned = None
    try:
        assigned = None if assignment is None else assignments.load(assignment)
        folder = parse(spec)[1]
        check_selection(only, case, seed, assigned)
    except ValueError as error:  # a bad spec, check id, --case or assignment: nothing has run
        print(f"bpverify check: {shown(error)}", file=sys.stderr)
        return _emit(fmt, output, CheckRun(spec, cwd, {"verdict": "ERROR", "reason": str(error),
                                                       "report": None}, 2, assigned,
                                           _check_ids(assigned)), None)
    private = tempfile.mkdtemp(prefix="bpverify-check-")  # its HOME and TMPDIR, nothing else
    placement = Placement(cwd=str(cwd), readable=(str(cwd), *([str(folder)] if folder else [])),
                          writable=(private,))
    limits = Limits(call_seconds=seconds, memory_bytes=int(memory_gib * 2**30))
    try:
        run = run_isolated(spec, placement, limits, seed=seed, only=only, strict=strict,
                           seeds=seeds, thorough=thorough, case=case, assignment=assigned)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if run.output.strip():
        print("--- what the implementation printed (not read as a verdict) ---", file=sys.stderr)
        print(shown(run.output.rstrip()), file=sys.stderr)
        print("---", file=sys.stderr)
    if run.report is None:
        print(f"bpverify check: {shown(run.error)}", file=sys.stderr)
        status = 2
        text = None
    else:
        status = 1 if run.error is not None or not run.report.passed else 0
        text = "\n".join([format_report(run.report), isolation_line(run.protections)]
                         + ([f"ERROR: {run.error}: the verdicts above are incomplete"]
                            if run.error is not None else []))
    return _emit(fmt, output, CheckRun(spec, cwd, isolated_to_data(run), status, assigned,
                                       _check_ids(assigned)), text)


def _check_ids(assigned: assignments.Assignment | None) -> list[str]:
    return [*([assignments.ASSIGNMENT_CHECK.id] if assigned else []),
            *(c.id for c in all_checks())]


def _emit(fmt: str, output: str | None, run: CheckRun, text: str | None) -> int:
    """Write the report in ``fmt`` (to ``output`` or stdout); return the run's exit status."""
    if fmt == "text":
        document = shown(text) if text is not None else None
    elif fmt == "github":
        document = as_github(run, text)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(step_summary(run))
    else:
        document = render(fmt, run)
    if document is not None:
        if output:
            Path(output).write_text(document + "\n", encoding="utf-8")
        else:
            print(document)
    return run.status


def isolation_line(protections: dict[str, str]) -> str:
    active = [name for name, state in protections.items() if state.startswith("active")]
    inactive = [f"{name} ({state.removeprefix('inactive: ')})"
                for name, state in protections.items() if not state.startswith("active")]
    return (f"isolated: {', '.join(active) or 'nothing'}"
            + (f"; not active: {'; '.join(inactive)}" if inactive else ""))
