"""``bpverify grade --bench N``: grade a generated class (half the book's network, half the bug
zoo's mutants) and report the time, the cost of the worker per submission and peak memory."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from bpverify.conformance.isolation.grading import grade
from bpverify.conformance.specimens.sources import write_class


def overhead(repeats: int = 20) -> dict[str, float]:
    """Milliseconds of the worker alone per submission (fork, confinement, import of the
    submission, handshake, teardown: a run with no checks), of the suite on the book's network
    in-process and in the worker, and of one backprop call at [784, 30, 10] both ways."""
    import numpy as np

    from bpverify.conformance.isolation.worker import (
        Limits,
        Placement,
        SandboxedImplementation,
        run_isolated,
    )
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
        entries = grade(Path(tmp) / "class", out or Path(tmp) / "out", jobs=jobs,
                        regrade=True).entries  # an OUT of an earlier bench: grade all again
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
