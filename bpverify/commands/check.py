"""``bpverify check SPEC``: the conformance suite and its report, no pytest needed.

The implementation runs in a confined worker process (``conformance/isolation/worker.py``) that only
answers calls; the verdicts are computed here. So the exit status is 0 only when every verdict
arrived and passed: an implementation that prints "CONFORMS" and exits, or calls
``os._exit(0)``, is an ERROR, whatever it printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from bpverify.conformance.isolation.worker import Limits, Placement, run_isolated
from bpverify.conformance.protocol.import_roots import import_roots
from bpverify.conformance.protocol.loading import parse
from bpverify.conformance.suite.runner import check_selection, format_report

DEFAULT_MEMORY_GIB = 2.0
READ_OPTION = "--read"


def main(spec: str, *, seed: int = 0, only: Sequence[str] | None = None, strict: bool = False,
         seconds: float = 10.0, import_seconds: float = 60.0, seeds: int = 1,
         memory_gib: float = DEFAULT_MEMORY_GIB, thorough: bool = False, case: str | None = None,
         read: Sequence[str] = ()) -> int:
    """The report of ``spec`` run in a sandbox that may read what Python would import it from
    (``import_roots``) and the folders ``read`` names."""
    cwd = os.getcwd()
    try:
        parse(spec)
        check_selection(only, case, seed)
        extra = _readable(read)
    except ValueError as error:  # a bad spec, check id, --case or --read: nothing has run yet
        print(f"bpverify check: {error}", file=sys.stderr)
        return 2
    private = tempfile.mkdtemp(prefix="bpverify-check-")  # its HOME and TMPDIR, nothing else
    placement = Placement(cwd=cwd, readable=(*import_roots(spec, Path(cwd)), *extra),
                          writable=(private,), read_option=READ_OPTION)
    limits = Limits(call_seconds=seconds, import_seconds=import_seconds,
                    memory_bytes=int(memory_gib * 2**30))
    try:
        with _hypothesis_home(private):  # its caches, not a .hypothesis/ in the user's folder
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

