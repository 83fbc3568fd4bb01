"""Grading a class: every submission in its own sandbox, verdicts into the gradebook as they
arrive, a rerun grading only what changed.

Each submission is copied to a private temporary folder (``submissions.private_copy``), and a
checker forked from one clean template process (``template.py``) runs the suite against it in a
confined worker process (``worker.py``); ``jobs`` checkers run at once. Each verdict is appended
to OUT's journal (``journal.py``) and fsync'd when it arrives; the gradebook (``gradebook.py``)
is rebuilt from the journal at the end, and kept per run under OUT/history/.

A run resumes: a submission whose content hash and options hash (the assignment, spec, seeds,
limits and bpverify's code) match its last verdict in the journal keeps that verdict; the others
(new, changed, or last graded under other options) are graded, and counted. A checker or the
template process that dies is retried once before the submission is an ERROR (a death that is
ours is never the student's verdict at the first try).

Kept whole: the grading loop with its journal, retry and resume is one flow.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bpverify.conformance.isolation.journal import Journal
from bpverify.conformance.isolation.sandbox import SYSTEM_READABLE, overlaps, python_readable
from bpverify.conformance.isolation.submissions import (
    DEFAULT_LIMITS,
    Submission,
    content_hash,
    discover,
    private_copy,
)
from bpverify.conformance.isolation.template import Template, TemplateStopped, job
from bpverify.conformance.isolation.worker import Limits, Placement
from bpverify.conformance.protocol.display import one_line
from bpverify.conformance.suite.assignment import ASSIGNMENT_CHECK, BOOK, Assignment

ATTEMPTS = 2
"""Tries of a submission whose checker, or the template, died (ours, not the student's)."""


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


@dataclass
class GradeRun:
    """What a run did: the gradebook's entries (every submission once), which were kept from
    earlier runs and which graded now (by why: new, changed content, other options), what
    changed for whom since the last complete run, and whether it was interrupted."""

    entries: list[dict[str, Any]]
    run: str
    kept: list[str] = field(default_factory=list)
    graded: dict[str, list[str]] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False

    def summary(self) -> str:
        graded = sum(len(v) for v in self.graded.values())
        why = ", ".join(f"{len(v)} {k}" for k, v in self.graded.items() if v)
        return (f"{graded} graded" + (f" ({why})" if why else "")
                + f", {len(self.kept)} kept (unchanged since their last verdict)")


def code_digest() -> str:
    """sha256 of bpverify's own source (the contents of every .py file of its folders, each file
    once however it is reached: installed, editable or a checkout): a verdict taken by other
    code is not kept."""
    import bpverify

    files = {path.resolve() for folder in bpverify.folders() for path in Path(folder).rglob("*.py")}
    contents = sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in files
                      if path.is_file())
    return hashlib.sha256("\n".join(contents).encode()).hexdigest()


def options_digest(spec: str, limits: Limits, assignment: Assignment | None,
                   options: dict[str, Any]) -> str:
    """sha256 of everything but the submission that a verdict depends on."""
    data = {"spec": spec, "call_seconds": limits.call_seconds,
            "submission_seconds": limits.total_seconds, "memory_bytes": limits.memory_bytes,
            "assignment": None if assignment is None else assignment.judging(),
            "code": code_digest(), **options}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def grade(submissions: Path, out: Path, *, spec: str | None = None, jobs: int = 2,
          limits: Limits = DEFAULT_LIMITS, seed: int = 0,
          only: Sequence[str] | None = None, strict: bool = False, seeds: int = 1,
          assignment: Assignment | None = BOOK, regrade: bool = False,
          progress: IO[str] | None = None) -> GradeRun:
    """Grade every submission that changed since its last verdict in OUT (all of them with
    ``regrade``); write OUT/gradebook.{csv,json}, OUT/index.html and OUT/history/RUN/. A usage
    problem (no submissions, an unreadable folder, a clash, OUT in use) is a ValueError."""
    from bpverify.conformance.isolation.gradebook import write_gradebook
    from bpverify.conformance.suite.checks import all_checks

    if jobs < 1:
        raise ValueError(f"-j is {jobs}, expected at least 1")
    spec = spec or (assignment.spec if assignment is not None else BOOK.spec)
    known = [*([ASSIGNMENT_CHECK.id] if assignment is not None else []),
             *(c.id for c in all_checks())]
    if only is not None and set(only) - set(known):
        raise ValueError(f"unknown check id(s) {sorted(set(only) - set(known))}, expected some "
                         f"of {known}")
    submissions, out = submissions.resolve(), out.resolve()
    found = discover(submissions, exclude=[out])
    readable = [*python_readable(), *SYSTEM_READABLE]
    # the private copies go in a new folder of the temporary folder: that folder must not be
    # readable, but a virtualenv inside it (/tmp/venv beside /tmp/bpverify-grade-…) is no clash
    clash = (overlaps([str(submissions), str(out)], readable)
             + overlaps([tempfile.gettempdir()], readable, either_way=False))
    if clash:
        raise ValueError(f"{clash[0][0]} and {clash[0][1]} overlap: the submissions, OUT and "
                         "the temporary folder must lie outside the folders the sandbox "
                         "reads (the Python installation, bpverify, system libraries); "
                         "give OUT elsewhere, move the class folder, or set TMPDIR")
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    journal = Journal(out)
    try:
        options = dict(seed=seed, only=list(only) if only is not None else None,
                       strict=strict, seeds=seeds)
        digest = options_digest(spec, limits, assignment, options)
        before = journal.latest()
        runs = journal.runs()
        run = f"run-{len(runs) + 1:04d}-{time.strftime('%Y%m%dT%H%M%S')}"
        started = time.time()
        meta = {"submissions": str(submissions), "spec": spec, "seed": seed, "seeds": seeds,
                "strict": strict, "only": options["only"], "jobs": jobs,
                "call_seconds": limits.call_seconds, "submission_seconds": limits.total_seconds,
                "memory_bytes": limits.memory_bytes, "started": started, "run": run,
                "assignment": None if assignment is None else assignment.describe(),
                "options": digest}
        journal.append({"kind": "run", **meta})
        result = GradeRun([], run, graded={"new": [], "changed": [], "other options": []})
        todo: list[tuple[Submission, str]] = []
        contents: dict[str, str] = {}
        for sub in found:
            try:
                content = contents[sub.name] = content_hash(sub)
            except OSError as error:
                contents[sub.name] = ""
                entry = error_entry(sub, f"its files could not be read: {error}")
                journal.append(_verdict(run, sub, "", digest, entry))
                result.graded["new"].append(sub.name)
                continue
            last = before.get(sub.name)
            if not regrade and last is not None and last.get("content") == content and \
                    last.get("options") == digest and not last["entry"].get("ours"):
                result.kept.append(sub.name)
                continue
            why = "new" if last is None else ("changed" if last.get("content") != content
                                              else "other options")
            result.graded[why].append(sub.name)
            todo.append((sub, content))
        if result.kept:
            print(f"bpverify grade: {len(result.kept)} of {len(found)} unchanged since their last "
                  f"verdict (kept); grading {len(todo)}", file=progress or sys.stderr)
        _cleanup_stale_workspaces()
        workspace = Path(tempfile.mkdtemp(prefix="bpverify-grade-"))
        (workspace / "owner").write_text(str(os.getpid()))
        try:
            _run_all(todo, workspace, [str(submissions), str(out), str(workspace)], spec, jobs,
                     limits, dict(options, assignment=assignment), Progress(len(todo), progress),
                     lambda sub, content, entry: journal.append(
                         _verdict(run, sub, content, digest, entry)))
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
        latest = journal.latest()  # current: this content, these options (kept or graded now)
        result.entries = [latest[s.name]["entry"] for s in found if s.name in latest
                          and latest[s.name].get("options") == digest
                          and latest[s.name].get("content") == contents[s.name]]
        result.changes = changes_since(out, result.entries, result, runs)
        checks = list(only) if only is not None else known
        meta.update(seconds=round(time.time() - started, 3), kept=len(result.kept),
                    graded={k: len(v) for k, v in result.graded.items()},
                    interrupted=result.interrupted, total=len(found))
        write_gradebook(out, result.entries, checks, meta, result.changes)
        if not result.interrupted:
            keep_history(out, run)
            journal.append({"kind": "end", "run": run, "finished": time.time(),
                            "kept": len(result.kept), "graded": meta["graded"]})
    finally:
        journal.close()
        lock.close()
    if result.interrupted:
        raise Interrupted(result)
    return result


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run: what was graded is in the journal and the gradebook; the same
    command resumes."""

    def __init__(self, result: GradeRun) -> None:
        super().__init__("interrupted")
        self.result = result


def _verdict(run: str, sub: Submission, content: str, options: str, entry: dict[str, Any]
             ) -> dict[str, Any]:
    return {"kind": "verdict", "run": run, "submission": sub.name, "content": content,
            "options": options, "entry": entry}


def _lock(out: Path) -> IO[str]:
    """An exclusive lock on OUT for the run (released by the kernel if the run is killed)."""
    handle = (out / ".lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ValueError(f"{out} is being written by another bpverify grade; wait for it, or "
                         "give another --out") from None
    return handle


def _cleanup_stale_workspaces() -> None:
    """Private copies left by a run that was killed (its owner process is gone)."""
    for folder in Path(tempfile.gettempdir()).glob("bpverify-grade-*"):
        try:
            owner = int((folder / "owner").read_text())
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):
            continue  # not ours to judge: no owner file, or another user's


def _retry(data: dict[str, Any]) -> bool:
    """A death that may not be the submission's doing: its checker died (``ours``), or its
    sandbox was killed by SIGKILL without reaching a limit of its own."""
    reason = str(data.get("reason") or "")
    return bool(data.get("ours")) or ("SIGKILL" in reason and "not a limit of its own" in reason)


def _run_all(todo: list[tuple[Submission, str]], workspace: Path, hidden: list[str], spec: str,
             jobs: int, limits: Limits, options: dict[str, Any], progress: Progress,
             record: Callable[[Submission, str, dict[str, Any]], None]) -> None:
    """Grade ``todo``, ``jobs`` at a time; ``record`` each verdict the moment it is final."""
    pending = deque(todo)
    running: dict[int, tuple[Submission, str, Path, float]] = {}
    attempts: dict[str, int] = {}
    template = Template()

    def done(sub: Submission, content: str, entry_data: dict[str, Any]) -> None:
        record(sub, content, entry_data)
        progress.update(entry_data["verdict"])

    try:
        while pending or running:
            while pending and len(running) < jobs:
                sub, content = pending.popleft()
                attempts[sub.name] = attempts.get(sub.name, 0) + 1
                try:
                    copy = private_copy(sub, workspace)
                except OSError as error:
                    done(sub, content, error_entry(sub, f"its files could not be copied: {error}"))
                    continue
                placement = Placement(cwd=str(copy), writable=(str(copy),), hidden=tuple(hidden))
                number = template.submit(job(sub.spec(spec), placement, limits,
                                             display_spec=sub.display_spec(spec), **options))
                running[number] = (sub, content, copy, time.monotonic())
            try:
                finished = template.finished(0.5)
            except TemplateStopped as stopped:  # not the submissions' fault: grade them again
                finished = []
                for sub, content, copy, _ in running.values():
                    shutil.rmtree(copy, ignore_errors=True)
                    if attempts[sub.name] < ATTEMPTS:
                        pending.appendleft((sub, content))
                    else:
                        done(sub, content, error_entry(
                            sub, f"{stopped} while it was being graded, {ATTEMPTS} times"))
                running.clear()
                template.close()
                template = Template()
                print(f"bpverify grade: {stopped}; restarted it", file=sys.stderr)
            for number, data in finished:
                sub, content, copy, start = running.pop(number)
                shutil.rmtree(copy, ignore_errors=True)
                if data["verdict"] == "ERROR" and _retry(data) and attempts[sub.name] < ATTEMPTS:
                    pending.appendleft((sub, content))
                    continue
                result = entry(sub, data, time.monotonic() - start, copy)
                result["attempts"] = attempts[sub.name]
                done(sub, content, result)
    finally:
        template.close()
        progress.close()


def error_entry(sub: Submission, reason: str) -> dict[str, Any]:
    return entry(sub, {"verdict": "ERROR", "reason": reason}, 0.0)


def entry(sub: Submission, data: dict[str, Any], seconds: float, copy: Path | None = None
          ) -> dict[str, Any]:
    """A gradebook row from a worker's verdict data; the private copy's path, where a message
    names it, reads as the submission's own; rerun lines are run in the submission's folder."""
    def own(text: Any) -> Any:
        return text.replace(str(copy), str(sub.path)) if copy and isinstance(text, str) else text

    report = data.get("report") or {}
    outcomes = report.get("outcomes", [])
    for o in outcomes:
        o["detail"] = own(o.get("detail"))
    return {"submission": sub.name, "path": str(sub.path), "verdict": data["verdict"],
            "reason": own(data.get("reason")),
            "checks": {o["check"]: o["status"] for o in outcomes},
            "failed": [o["check"] for o in outcomes if o["status"] in ("fail", "error")],
            "seconds": round(float(data.get("seconds") or seconds), 3),
            "implementation": report.get("implementation"),
            "capabilities": report.get("capabilities"), "outcomes": outcomes,
            "output": own(data.get("output", "")), "protections": data.get("protections", {}),
            "ours": bool(data.get("ours"))}


def changes_since(out: Path, entries: Sequence[dict[str, Any]], result: GradeRun,
                  runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What changed for whom since the last complete run's gradebook (OUT/history)."""
    previous = _last_snapshot(out)
    before = {e["submission"]: e["verdict"] for e in previous.get("submissions", [])}
    now = {e["submission"]: e["verdict"] for e in entries}
    return {"since": previous.get("meta", {}).get("run"),
            "verdicts": [{"submission": name, "before": before[name], "after": verdict}
                         for name, verdict in now.items()
                         if name in before and before[name] != verdict],
            "added": [name for name in now if previous and name not in before],
            "removed": [name for name in before if name not in now],
            "graded": result.graded, "kept": len(result.kept)}


def _last_snapshot(out: Path) -> dict[str, Any]:
    history = out / "history"
    runs = sorted(p for p in history.glob("run-*") if (p / "gradebook.json").is_file()) \
        if history.is_dir() else []
    if not runs:
        return {}
    try:
        data = json.loads((runs[-1] / "gradebook.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def keep_history(out: Path, run: str) -> None:
    """This run's gradebook.{json,csv}, kept under OUT/history/RUN/."""
    folder = out / "history" / run
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("gradebook.json", "gradebook.csv"):
        shutil.copy2(out / name, folder / name)


def describe_changes(changes: dict[str, Any]) -> list[str]:
    """The changes as lines for the terminal (names shown escaped)."""
    lines = [f"verdict changed for {one_line(c['submission'])}: {c['before']} → {c['after']}"
             for c in changes.get("verdicts", [])]
    lines += [f"new since {changes.get('since')}: {one_line(name)}"
              for name in changes.get("added", [])]
    lines += [f"gone since {changes.get('since')}: {one_line(name)}"
              for name in changes.get("removed", [])]
    return lines
