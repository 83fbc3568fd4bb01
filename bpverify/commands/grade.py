"""``bpverify grade SUBMISSIONS --out OUT``: a whole class, each submission in its own sandbox.

Every entry of SUBMISSIONS (a folder, or a single .py file) is one submission. Each is copied
to a private temporary folder, and a checker forked from one clean template process runs the
suite against it in a confined worker process (``conformance/isolation/worker.py``); ``-j N`` checkers
run at once. The verdicts come back as data and go into the gradebook (``gradebook.py``).
``benchmark(n)`` grades a generated class of ``n`` and reports the time and peak memory.
"""

from __future__ import annotations

import inspect
import os
import re
import resource
import secrets
import shlex
import shutil
import stat
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bpverify.conformance.isolation.sandbox import SYSTEM_READABLE, overlaps, python_readable
from bpverify.conformance.isolation.template import Template, TemplateStopped, job
from bpverify.conformance.isolation.worker import Limits, Placement

DEFAULT_SPEC = "network:Network"
DEFAULT_SUBMISSION_SECONDS = 120.0
DEFAULT_LIMITS = Limits(total_seconds=DEFAULT_SUBMISSION_SECONDS)
"""10 s a call (and the import), 120 s all calls of a submission, 2 GiB of address space."""


@dataclass(frozen=True)
class Submission:
    """One entry of the class folder: a folder with the spec's module, or one .py file."""

    name: str
    path: Path

    @property
    def is_file(self) -> bool:
        return self.path.is_file()

    def spec(self, spec: str) -> str:
        """The spec inside its private copy: a file's module is the file itself."""
        return f"{self.path.stem}:{spec.rpartition(':')[2]}" if self.is_file else spec

    def display_spec(self, spec: str) -> str:
        """The spec a teacher reruns: the file's path, or the spec within the folder."""
        return shlex.quote(f"{self.path}:{spec.rpartition(':')[2]}") if self.is_file else spec

    def rerun_prefix(self) -> str:
        return "" if self.is_file else f"cd {shlex.quote(str(self.path))} && "


def discover(root: Path, exclude: Sequence[Path] = ()) -> list[Submission]:
    """The submissions in ``root``: its folders and .py files, hidden names and caches left out."""
    if not root.is_dir():
        raise ValueError(f"SUBMISSIONS is {root}, expected a folder of submissions (each a folder "
                         "or a .py file)")
    skipped = {p.resolve() for p in exclude}
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".", "__")) or entry.resolve() in skipped:
            continue
        if entry.is_dir() or (entry.is_file() and entry.suffix == ".py"):
            found.append(Submission(entry.name, entry.resolve()))
    return found


def private_copy(submission: Submission, workspace: Path) -> Path:
    """A fresh folder with a copy of the submission (regular files, folders and symbolic links
    as links; nothing else, no caches), under an unguessable name."""
    dest = workspace / secrets.token_hex(8)
    if submission.is_file:
        dest.mkdir()
        shutil.copy2(submission.path, dest / submission.path.name)
    else:
        shutil.copytree(submission.path, dest, symlinks=True, ignore=_ignored)
    return dest


def _ignored(folder: str, names: list[str]) -> set[str]:
    kept = (stat.S_ISREG, stat.S_ISDIR, stat.S_ISLNK)
    return {n for n in names if n == "__pycache__"
            or not any(k(os.lstat(os.path.join(folder, n)).st_mode) for k in kept)}


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


# -- the scale benchmark -----------------------------------------------------------------------

def book_source(extra: str = "") -> str:
    """A self-contained network.py: the book's network (``book_network.py``) as ``Network``."""
    from bpverify.conformance.specimens import book_network
    return inspect.getsource(book_network) + "\n\nNetwork = BookNetwork\n" + extra


def mutant_source(name: str) -> str:
    """A network.py whose ``Network`` is the bug zoo's mutant ``name``."""
    return book_source("\nfrom bpverify.conformance.specimens.zoo import MUTANTS as _MUTANTS\n"
                       f"Network = next(m.cls for m in _MUTANTS if m.name == {name!r})\n")


def write_class(folder: Path, n: int) -> dict[str, str]:
    """``n`` submissions in ``folder``: every other one the book's network.py, the rest the bug
    zoo's mutants in turn; returns the verdict each must get."""
    from bpverify.conformance.specimens.zoo import MUTANTS

    expected = {}
    for i in range(n):
        name = f"student-{i:03d}"
        (folder / name).mkdir(parents=True)
        mutant = MUTANTS[(i // 2) % len(MUTANTS)].name
        (folder / name / "network.py").write_text(book_source() if i % 2 == 0
                                                  else mutant_source(mutant))
        expected[name] = "CONFORMS" if i % 2 == 0 else "DOES NOT CONFORM"
    return expected


def overhead(repeats: int = 20) -> dict[str, float]:
    """Milliseconds of the worker alone per submission (fork, confinement, import of the
    submission, handshake, teardown: a run with no checks), of the suite on the book's network
    in-process and in the worker, and of one backprop call at [784, 30, 10] both ways."""
    import numpy as np

    from bpverify.conformance.isolation.worker import SandboxedImplementation, run_isolated
    from bpverify.conformance.protocol.adapters import resolve
    from bpverify.conformance.suite.runner import run_suite

    spec = "bpverify.conformance.specimens.book_network:BookNetwork"

    def per_run(fn: Any, n: int = repeats) -> float:
        fn()
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return round((time.perf_counter() - start) / n * 1e3, 3)

    rng = np.random.default_rng(0)
    sizes = [784, 30, 10]
    args = ([rng.standard_normal((b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)],
            [rng.standard_normal((n, 1)) for n in sizes[1:]], rng.random((784, 1)),
            rng.random((10, 1)))
    with tempfile.TemporaryDirectory(prefix="bpverify-overhead-") as tmp, \
            tempfile.TemporaryFile() as output:
        placement = Placement(cwd=tmp, writable=(tmp,))
        costs = {"worker_only_ms": per_run(lambda: run_isolated(spec, placement, only=[])),
                 "suite_in_process_ms": per_run(lambda: run_suite(resolve(spec))),
                 "suite_in_worker_ms": per_run(lambda: run_isolated(spec, placement))}
        remote = SandboxedImplementation(spec, placement, Limits(), output)
        remote.start()
        try:
            costs["call_in_worker_ms"] = per_run(lambda: remote.gradient(*args), 10 * repeats)
        finally:
            remote.close()
        local = resolve(spec)
        costs["call_in_process_ms"] = per_run(lambda: local.gradient(*args), 10 * repeats)
    return costs


def benchmark(n: int, jobs: int = 2, out: Path | None = None, stream: IO[str] | None = None
              ) -> dict[str, Any]:
    """Grade a generated class of ``n`` with ``jobs`` workers, default limits; print and return
    the total and per-submission seconds, the peak memory, and any unexpected verdict."""
    stream = stream or sys.stdout
    costs = overhead()
    with tempfile.TemporaryDirectory(prefix="bpverify-bench-grade-") as tmp:
        expected = write_class(Path(tmp) / "class", n)
        start = time.perf_counter()
        entries = grade(Path(tmp) / "class", out or Path(tmp) / "out", jobs=jobs)
        total = time.perf_counter() - start
    wrong = {e["submission"]: e["verdict"] for e in entries
             if e["verdict"] != expected[e["submission"]]}
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"submissions": n, "jobs": jobs, "seconds": round(total, 2),
              "seconds_per_submission": round(total / max(n, 1), 4),
              "peak_rss_mib_worker": round(children, 1), "peak_rss_mib_grade": round(own, 1),
              **costs, "unexpected": wrong}
    print(f"bpverify grade --bench {n}: {total:.1f} s with -j {jobs} "
          f"({total / max(n, 1):.3f} s a submission); peak memory {children:.0f} MiB in a worker "
          f"process, {own:.0f} MiB in grade itself; {len(wrong)} unexpected verdicts"
          f"{': ' + str(wrong) if wrong else ''}\n"
          f"per submission: the worker alone {costs['worker_only_ms']} ms (fork, confinement, "
          f"import, teardown); the suite on the book's network {costs['suite_in_process_ms']} ms "
          f"in-process, {costs['suite_in_worker_ms']} ms in the worker; one backprop call at "
          f"[784, 30, 10] {costs['call_in_process_ms']} ms in-process, "
          f"{costs['call_in_worker_ms']} ms in the worker", file=stream)
    return result


def main(submissions: str | None, out: str | None, *, spec: str = DEFAULT_SPEC, jobs: int = 2,
         seed: int = 0, only: Sequence[str] | None = None, strict: bool = False, seeds: int = 1,
         seconds: float = 10.0, submission_seconds: float = DEFAULT_SUBMISSION_SECONDS,
         memory_gib: float = 2.0, bench: int | None = None) -> int:
    if bench is not None:
        result = benchmark(bench, jobs, Path(out) if out else None)
        return 1 if result["unexpected"] else 0
    if submissions is None or out is None:
        print("bpverify grade: SUBMISSIONS and --out OUT are required (or --bench N)",
              file=sys.stderr)
        return 2
    if not re.fullmatch(r"[^:]+:[\w.]+", spec):
        print(f"bpverify grade: --spec is {spec!r}, expected module:attribute", file=sys.stderr)
        return 2
    limits = Limits(call_seconds=seconds, total_seconds=submission_seconds,
                    memory_bytes=int(memory_gib * 2**30))
    try:
        entries = grade(Path(submissions), Path(out), spec=spec, jobs=jobs, limits=limits,
                        seed=seed, only=only, strict=strict, seeds=seeds)
    except ValueError as error:
        print(f"bpverify grade: {error}", file=sys.stderr)
        return 2
    if any(e["protections"] and not any(e["protections"].get(layer, "").startswith("active")
                                        for layer in ("landlock", "namespaces")) for e in entries):
        print("bpverify grade: WARNING: no file-system protection was active (no Landlock, not "
              "root): submissions could read and change whatever this user can; see the README",
              file=sys.stderr)
    counts = {v: sum(e["verdict"] == v for e in entries)
              for v in ("CONFORMS", "DOES NOT CONFORM", "ERROR")}
    print(f"{len(entries)} submissions: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f"; gradebook in {Path(out) / 'index.html'}")
    return 0
