"""Work spread over the machine's cores, for a command whose jobs are independent.

``pool()`` yields ``submit(fn, *args)``, whose ``.result()`` is ``fn(*args)``. With two cores or
more it is a process pool forked from the command before JAX is imported (JAX starts threads, and
forking a process with threads is unsafe): ``fn`` must be a module-level function and its
arguments and result picklable; each worker imports what its jobs need. Where that cannot be had
(one core, no fork, JAX already imported, as in a test process), every job runs in the calling
process, in order, when it is submitted: the results are the same, only slower.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

Submit = Callable[..., "Future[Any]"]


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return (cores() >= 2 and "fork" in multiprocessing.get_all_start_methods()
            and "jax" not in sys.modules)


@contextlib.contextmanager
def pool(workers: int | None = None) -> Iterator[Submit]:
    """``submit`` for ``workers`` processes (default: one per core), or in this process."""
    if not can_fork():
        yield here
        return
    with ProcessPoolExecutor(max_workers=workers or cores(),
                             mp_context=multiprocessing.get_context("fork")) as executor:
        yield executor.submit


def here(fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """``fn(*args)`` now, in this process, as a finished future."""
    done: Future[Any] = Future()
    try:
        done.set_result(fn(*args))
    except BaseException as error:  # noqa: BLE001 - raised again by .result(), as a pool does
        done.set_exception(error)
    return done
