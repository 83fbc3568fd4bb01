"""Jobs spread over the cores (commands/workers.py): the same results, in order, as in the
calling process; a job's exception comes back from ``.result()``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bpverify.commands import workers

SCRIPT = textwrap.dedent("""
    import os, sys
    from bpverify.commands import workers

    def job(n):
        if n == 3:
            raise ValueError("three")
        return n * n, os.getpid()

    assert "jax" not in sys.modules and workers.can_fork()
    with workers.pool(2) as submit:
        futures = [submit(job, n) for n in range(8)]
        results = []
        for f in futures:
            try:
                results.append(f.result()[0])
            except ValueError as error:
                results.append(str(error))
        pids = {f.result()[1] for n, f in enumerate(futures) if n != 3}
    print(results, os.getpid() not in pids)
""")


def test_a_pool_of_processes_gives_the_results_in_order() -> None:
    if workers.cores() < 2:
        pytest.skip("one core: every job runs in the calling process (tested below)")
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[0, 1, 4, 'three', 16, 25, 36, 49] True", done.stderr


def test_without_fork_the_jobs_run_here_with_the_same_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "can_fork", lambda: False)
    with workers.pool() as submit:
        assert submit(divmod, 7, 2).result() == (3, 1)
        with pytest.raises(ZeroDivisionError):
            submit(divmod, 1, 0).result()
