"""Grading a class: every submission in its own sandbox, verdicts into the gradebook.

Each submission is copied to a private temporary folder (``submissions.private_copy``), and a
checker forked from one clean template process (``template.py``) runs the suite against it in a
confined worker process (``worker.py``); ``jobs`` checkers run at once. The verdicts come back as
data and go into the gradebook (``gradebook.py``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from bpverify.conformance.isolation.sandbox import SYSTEM_READABLE, overlaps, python_readable
from bpverify.conformance.isolation.submissions import (
    DEFAULT_LIMITS,
    DEFAULT_SPEC,
    Submission,
    discover,
    private_copy,
)
from bpverify.conformance.isolation.template import Template, TemplateStopped, job
from bpverify.conformance.isolation.worker import Limits, Placement


class Progress:
    """One line on stderr: done, failing, errors, left, elapsed; redrawn in place on a terminal."""

    def __init__(self, total: int, stream: IO[str] | None = None) -> None:
        self.total, self.stream = total, stream or sys.stderr
        self.done = self.failing = self.errors = 0
        self.start = time.monotonic()
        self.tty = self.stream.isatty()
        self._last_line = -1.0

    def update(self, verdict: str) -> None:
        self.done += 1
        self.failing += verdict == "DOES NOT CONFORM"
        self.errors += verdict == "ERROR"
        if self.tty:
            self.stream.write("\r" + self.line())
            self.stream.flush()
        elif self.done == self.total or time.monotonic() - self._last_line >= 5.0:
            self._last_line = time.monotonic()
            print(self.line(), file=self.stream)

    def line(self) -> str:
        width = 30
        filled = width * self.done // max(self.total, 1)
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} graded, "
                f"{self.failing} failing, {self.errors} errors, {self.total - self.done} left, "
                f"{time.monotonic() - self.start:.0f} s")

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def grade(submissions: Path, out: Path, *, spec: str = DEFAULT_SPEC, jobs: int = 2,
          limits: Limits = DEFAULT_LIMITS, seed: int = 0,
          only: Sequence[str] | None = None, strict: bool = False, seeds: int = 1,
          progress: IO[str] | None = None) -> list[dict[str, Any]]:
    """Grade every submission; write OUT/gradebook.{csv,json} and OUT/index.html; return the
    entries (one dict per submission, as in gradebook.json)."""
    from bpverify.conformance.isolation.gradebook import write_gradebook
    from bpverify.conformance.suite.checks import all_checks

    if jobs < 1:
        raise ValueError(f"-j is {jobs}, expected at least 1")
    known = [c.id for c in all_checks()]
    if only is not None and set(only) - set(known):
        raise ValueError(f"unknown check id(s) {sorted(set(only) - set(known))}, expected some "
                         f"of {known}")
    submissions, out = submissions.resolve(), out.resolve()
    found = discover(submissions, exclude=[out])
    workspace = Path(tempfile.mkdtemp(prefix="bpverify-grade-"))
    try:
        clash = overlaps([str(submissions), str(out), str(workspace)],
                         [*python_readable(), *SYSTEM_READABLE])
        if clash:
            raise ValueError(f"{clash[0][0]} and {clash[0][1]} overlap: the submissions, OUT and "
                             "the temporary folder must lie outside the folders the sandbox "
                             "reads (the Python installation, bpverify, system libraries)")
        out.mkdir(parents=True, exist_ok=True)
        started = time.time()
        entries = _run_all(found, workspace, [str(submissions), str(out), str(workspace)], spec,
                           jobs, limits, dict(seed=seed, only=only, strict=strict, seeds=seeds),
                           Progress(len(found), progress))
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    checks = list(only) if only is not None else known
    meta = {"submissions": str(submissions), "spec": spec, "seed": seed, "seeds": seeds,
            "strict": strict, "only": list(only) if only is not None else None, "jobs": jobs,
            "call_seconds": limits.call_seconds, "submission_seconds": limits.total_seconds,
            "memory_bytes": limits.memory_bytes, "started": started,
            "seconds": round(time.time() - started, 3)}
    write_gradebook(out, entries, checks, meta)
    return entries


def _run_all(found: list[Submission], workspace: Path, hidden: list[str], spec: str, jobs: int,
             limits: Limits, options: dict[str, Any], progress: Progress) -> list[dict[str, Any]]:
    pending = deque(found)
    running: dict[int, tuple[Submission, Path, float]] = {}
    results: dict[str, dict[str, Any]] = {}
    template = Template()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                sub = pending.popleft()
                try:
                    copy = private_copy(sub, workspace)
                except OSError as error:
                    results[sub.name] = entry(sub, {"verdict": "ERROR", "reason": "its files "
                                                    f"could not be copied: {error}"}, 0.0)
                    progress.update("ERROR")
                    continue
                placement = Placement(cwd=str(copy), writable=(str(copy),), hidden=tuple(hidden))
                number = template.submit(job(sub.spec(spec), placement, limits,
                                             display_spec=sub.display_spec(spec), **options))
                running[number] = (sub, copy, time.monotonic())
            try:
                finished = template.finished(0.5)
            except TemplateStopped as stopped:  # not the submissions' fault: grade them again
                finished = []
                for sub, copy, _ in running.values():
                    shutil.rmtree(copy, ignore_errors=True)
                    pending.appendleft(sub)
                running.clear()
                template.close()
                template = Template()
                print(f"bpverify grade: {stopped}; restarted it", file=sys.stderr)
            for number, data in finished:
                sub, copy, start = running.pop(number)
                shutil.rmtree(copy, ignore_errors=True)
                results[sub.name] = entry(sub, data, time.monotonic() - start, copy)
                progress.update(results[sub.name]["verdict"])
    finally:
        template.close()
        progress.close()
    return [results[s.name] for s in found]


def entry(sub: Submission, data: dict[str, Any], seconds: float, copy: Path | None = None
          ) -> dict[str, Any]:
    """A gradebook row from a worker's verdict data; the private copy's path, where a message
    names it, reads as the submission's own."""
    def own(text: Any) -> Any:
        return text.replace(str(copy), str(sub.path)) if copy and isinstance(text, str) else text

    report = data.get("report") or {}
    outcomes = report.get("outcomes", [])
    for o in outcomes:
        o["detail"] = own(o.get("detail"))
        if o.get("rerun"):
            o["rerun"] = sub.rerun_prefix() + o["rerun"]
    return {"submission": sub.name, "path": str(sub.path), "verdict": data["verdict"],
            "reason": own(data.get("reason")),
            "checks": {o["check"]: o["status"] for o in outcomes},
            "failed": [o["check"] for o in outcomes if o["status"] in ("fail", "error")],
            "seconds": round(float(data.get("seconds") or seconds), 3),
            "implementation": report.get("implementation"),
            "capabilities": report.get("capabilities"), "outcomes": outcomes,
            "output": own(data.get("output", "")), "protections": data.get("protections", {})}
