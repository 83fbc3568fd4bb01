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

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from bpverify.conformance.isolation.formats import CheckRun, as_github, render, step_summary
from bpverify.conformance.isolation.worker import Limits, Placement, isolated_to_data, run_isolated
from bpverify.conformance.protocol.display import shown
from bpverify.conformance.protocol.import_roots import import_roots
from bpverify.conformance.protocol.loading import parse
from bpverify.conformance.suite import assignment as assignments
from bpverify.conformance.suite.checks import all_checks
from bpverify.conformance.suite.runner import check_selection, format_report

DEFAULT_MEMORY_GIB = 2.0
READ_OPTION = "--read"


def main(spec: str, *, seed: int = 0, only: Sequence[str] | None = None, strict: bool = False,
         seconds: float = 10.0, import_seconds: float = 60.0, seeds: int = 1,
         memory_gib: float = DEFAULT_MEMORY_GIB, thorough: bool = False, case: str | None = None,
         read: Sequence[str] = (), fmt: str = "text", output: str | None = None,
         assignment: str | None = None) -> int:
    """The report of ``spec`` run in a sandbox that may read what Python would import it from
    (``import_roots``) and the folders ``read`` names."""
    cwd = Path(os.getcwd())
    assigned = None
    try:
        assigned = None if assignment is None else assignments.load(assignment)
        parse(spec)
        check_selection(only, case, seed, assigned)
        extra = _readable(read)
    except ValueError as error:  # a bad spec, check id, --case, --read or assignment: nothing ran
        print(f"bpverify check: {shown(error)}", file=sys.stderr)
        return _emit(fmt, output, CheckRun(spec, cwd, {"verdict": "ERROR", "reason": str(error),
                                                       "report": None}, 2, assigned,
                                           _check_ids(assigned)), None)
    private = tempfile.mkdtemp(prefix="bpverify-check-")  # its HOME and TMPDIR, nothing else
    placement = Placement(cwd=str(cwd), readable=(*import_roots(spec, cwd), *extra),
                          writable=(private,), read_option=READ_OPTION)
    limits = Limits(call_seconds=seconds, import_seconds=import_seconds,
                    memory_bytes=int(memory_gib * 2**30))
    try:
        with _hypothesis_home(private):  # its caches, not a .hypothesis/ in the user's folder
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


def _readable(read: Sequence[str]) -> tuple[str, ...]:
    """The folders (or files) of ``--read``, resolved; a ValueError naming one that is not there."""
    found = []
    for entry in read:
        path = Path(entry).expanduser()
        if not path.exists():
            raise ValueError(f"{READ_OPTION} {entry!r}: no such file or folder")
        found.append(str(path.resolve()))
    return tuple(found)


@contextlib.contextmanager
def _hypothesis_home(folder: str) -> Iterator[None]:
    """Hypothesis' storage (its cache of constants, written whenever it draws) in ``folder``
    within the block."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(folder)
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)


def isolation_line(protections: dict[str, str]) -> str:
    active = [name for name, state in protections.items() if state.startswith("active")]
    inactive = [f"{name} ({state.removeprefix('inactive: ')})"
                for name, state in protections.items() if not state.startswith("active")]
    return (f"isolated: {', '.join(active) or 'nothing'}"
            + (f"; not active: {'; '.join(inactive)}" if inactive else ""))
