"""``bpverify grade SUBMISSIONS --out OUT``: a whole class, each submission in its own sandbox
(``conformance/isolation/grading.py``), under the teacher's assignment (the book's network.py
unless ``--assignment FILE``); a rerun grades only what changed. ``--bench N`` grades a
generated class (``bench_grading.py``)."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bpverify.conformance.isolation.grading import Interrupted, describe_changes, grade
from bpverify.conformance.isolation.submissions import DEFAULT_SUBMISSION_SECONDS
from bpverify.conformance.isolation.worker import Limits
from bpverify.conformance.suite import assignment as assignments


def main(submissions: str | None, out: str | None, *, spec: str | None = None, jobs: int = 2,
         seed: int = 0, only: Sequence[str] | None = None, strict: bool = False, seeds: int = 1,
         seconds: float = 10.0, import_seconds: float = 60.0,
         submission_seconds: float = DEFAULT_SUBMISSION_SECONDS, memory_gib: float = 2.0,
         bench: int | None = None, assignment: str | None = None, regrade: bool = False) -> int:
    if bench is not None:
        from bpverify.commands.bench_grading import benchmark
        result = benchmark(bench, jobs, Path(out) if out else None)
        return 1 if result["unexpected"] else 0
    if submissions is None or out is None:
        print("bpverify grade: SUBMISSIONS and --out OUT are required (or --bench N)",
              file=sys.stderr)
        return 2
    if spec is not None and not re.fullmatch(r"[^:]+:[\w.]+", spec):
        print(f"bpverify grade: --spec is {spec!r}, expected module:attribute", file=sys.stderr)
        return 2
    limits = Limits(call_seconds=seconds, import_seconds=import_seconds,
                    total_seconds=submission_seconds,
                    memory_bytes=int(memory_gib * 2**30))
    try:
        assigned = assignments.load(assignment or "book")
        run = grade(Path(submissions), Path(out), spec=spec, jobs=jobs, limits=limits,
                    seed=seed, only=only, strict=strict, seeds=seeds, assignment=assigned,
                    regrade=regrade)
    except ValueError as error:
        print(f"bpverify grade: {error}", file=sys.stderr)
        return 2
    except Interrupted as interrupted:
        done = interrupted.result
        print(f"bpverify grade: interrupted; {len(done.entries)} verdicts kept in "
              f"{Path(out) / 'verdicts.jsonl'}: run the same command to resume", file=sys.stderr)
        return 130
    (Path(out) / "assignment.toml").write_text(assigned.to_toml(), encoding="utf-8")
    entries = run.entries
    if any(e["protections"] and not any(e["protections"].get(layer, "").startswith("active")
                                        for layer in ("landlock", "namespaces")) for e in entries):
        print("bpverify grade: WARNING: no file-system protection was active (no Landlock, not "
              "root): submissions could read and change whatever this user can; see the README",
              file=sys.stderr)
    for line in describe_changes(run.changes):
        print(f"bpverify grade: {line}", file=sys.stderr)
    counts = {v: sum(e["verdict"] == v for e in entries)
              for v in ("CONFORMS", "DOES NOT CONFORM", "ERROR")}
    print(f"{len(entries)} submissions: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f" ({run.summary()}); gradebook in {Path(out) / 'index.html'}")
    return 0
