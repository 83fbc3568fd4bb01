"""A clean template process that forks one checker per submission of a class.

The template is started with a scrubbed environment (``trusted_environment``), imports bpverify
and numpy and runs the suite once on the book's network (so no fork repeats that work), and
never sees a submission's code or a verdict. For each job it forks a checker, which runs
``worker.run_isolated`` (the submission in its own sandbox process) and sends its verdicts as
one JSON message on a SEQPACKET socket (atomic: whole or not at all); the template then
reports how the checker ended, so a checker that ends before sending them is an ERROR. A
backstop kills a checker that runs far past its limits. ``Template`` is the client.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bpverify.conformance.isolation.sandbox import python_readable
from bpverify.conformance.isolation.worker import (
    PR_SET_PDEATHSIG,
    Limits,
    Placement,
    describe_exit,
    isolated_to_data,
    run_isolated,
    wait_described,
)
from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.suite.assignment import Assignment
from bpverify.conformance.suite.runner import run_suite


def trusted_environment() -> dict[str, str]:
    """The template's environment: nothing of the caller's but what finds bpverify again."""
    import bpverify
    root = str(Path(bpverify.__file__).resolve().parent.parent)
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/",
            "TMPDIR": tempfile.gettempdir(), "PYTHONPATH": root, "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class TemplateStopped(Exception):
    """The template process itself ended (not a submission's fault)."""


class Template:
    """Client of a template process: ``submit`` jobs, collect ``finished`` ones."""

    def __init__(self) -> None:
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for s in (self._sock, theirs):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-c", "from bpverify.conformance.isolation.template import serve_template;"
             f" serve_template({theirs.fileno()})"], pass_fds=[theirs.fileno()],
            env=trusted_environment(), cwd="/", stdin=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self._next = 0
        self._results: dict[int, dict[str, Any]] = {}
        self.outstanding: set[int] = set()

    def submit(self, job: dict[str, Any]) -> int:
        self._next += 1
        self._sock.send(json.dumps(dict(job, id=self._next)).encode())
        self.outstanding.add(self._next)
        return self._next

    def finished(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        """Jobs done within ``timeout`` seconds, each with its verdict data (an ERROR when its
        checker ended without sending them)."""
        done = []
        poller = select.poll()
        poller.register(self._sock, select.POLLIN)
        wait = timeout * 1000
        while poller.poll(wait):
            wait = 0
            message = self._sock.recv(8 << 20)
            if not message:
                self._process.wait()
                how = describe_exit(_wait_status(self._process.returncode))
                raise TemplateStopped(f"the grading template process {how}")
            data = json.loads(message)
            job = int(data["id"])
            if "result" in data:
                self._results[job] = data["result"]
            elif "exit" in data:
                self.outstanding.discard(job)
                result = self._results.pop(job, None)
                done.append((job, result if result is not None else {
                    "verdict": "ERROR", "report": None, "protections": {}, "output": "",
                    "seconds": float(data.get("seconds", 0.0)), "processes": 0, "ours": True,
                    "reason": f"its checker process {data['exit']} before the verdicts were "
                              "complete"}))
        return done

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        wanted = self.submit(job)
        while True:
            for number, result in self.finished(1.0):
                if number == wanted:
                    return result

    def close(self) -> None:
        self._sock.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _wait_status(returncode: int) -> int:
    """A wait status from a Popen return code (−N: killed by signal N)."""
    return -returncode if returncode < 0 else returncode << 8


def job(spec: str, placement: Placement, limits: Limits, *, display_spec: str | None = None,
        seed: int = 0, only: Sequence[str] | None = None, strict: bool = False, seeds: int = 1,
        assignment: Assignment | None = None) -> dict[str, Any]:
    """A template job: everything ``run_isolated`` needs, as JSON."""
    backstop = 2 * limits.total_seconds + 4 * limits.call_seconds + 60 if limits.total_seconds \
        else None
    return {"spec": spec, "placement": dataclasses.asdict(placement),
            "limits": dataclasses.asdict(limits), "display_spec": display_spec, "seed": seed,
            "only": list(only) if only is not None else None, "strict": strict, "seeds": seeds,
            "assignment": None if assignment is None else assignment.to_data(),
            "backstop": backstop}


def serve_template(fd: int) -> None:
    """The template process: forks one checker per job; reports how each ended; exits with its
    client. Single-threaded, so forking is safe; it never sees a verdict or a submission's code."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    python_readable()  # computed once, inherited by every fork
    _warm_up()
    children: dict[int, tuple[int, float | None, float, int | None]] = {}
    """pid → job id, backstop deadline, start, pidfd (None where the kernel has no pidfd)"""
    stopped: set[int] = set()
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    while True:
        deadlines = [d for _, d, _, _ in children.values() if d is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        if any(pidfd is None for *_, pidfd in children.values()):
            timeout = min(timeout, 0.05) if timeout is not None else 0.05
        ready = {fd for fd, _ in poller.poll(None if timeout is None else timeout * 1000)}
        if sock.fileno() in ready:
            message = sock.recv(1 << 20)
            if not message:
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                os._exit(0)
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the checker child
                _checker(sock, request)
            pidfd = _pidfd(pid)
            if pidfd is not None:
                poller.register(pidfd, select.POLLIN)
            backstop = request.get("backstop")
            now = time.monotonic()
            children[pid] = (int(request["id"]), now + backstop if backstop else None, now, pidfd)
        _reap(sock, poller, children, stopped)
        for pid, (number, deadline, start, pidfd) in list(children.items()):
            if deadline is not None and time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)  # not reaped yet: the pid is still this child's
                children[pid] = (number, None, start, pidfd)
                stopped.add(pid)


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` ends; None before Linux 5.3."""
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def _reap(sock: socket.socket, poller: select.poll,
          children: dict[int, tuple[int, float | None, float, int | None]], stopped: set[int]
          ) -> None:
    """Report every checker that has ended: its verdicts were sent, or it ended without them."""
    while children:
        pid, how = wait_described(-1, os.WNOHANG)
        if pid == 0:
            return
        number, _, start, pidfd = children.pop(pid)
        if pidfd is not None:
            poller.unregister(pidfd)
            os.close(pidfd)
        seconds = time.monotonic() - start
        how = (f"was stopped after {seconds:.0f} s (the backstop)" if pid in stopped
               else str(how))
        stopped.discard(pid)
        sock.send(json.dumps({"id": number, "exit": how, "seconds": seconds}).encode())


def _warm_up() -> None:
    """Run the suite once in-process against the book's network (bpverify's own code), so that
    whatever the checks import or cache on first use is done once here, not in every fork."""
    from bpverify.conformance.specimens.book_network import BookNetwork

    run_suite(as_implementation(BookNetwork))
    if threading.active_count() > 1:  # every call's thread has ended: forking stays safe
        raise RuntimeError("the warm-up left threads running")


def _checker(sock: socket.socket, request: dict[str, Any]) -> NoReturn:
    """One checker, forked from the template: run, send the verdicts (one message), exit."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in request["placement"].items()}
        placement = Placement(**fields)
        assignment = request.get("assignment")
        run = run_isolated(request["spec"], placement, Limits(**request["limits"]),
                           display_spec=request.get("display_spec"), seed=request["seed"],
                           only=request["only"], strict=request["strict"], seeds=request["seeds"],
                           assignment=None if assignment is None else Assignment.from_data(
                               assignment))
        data = isolated_to_data(run)
    except BaseException as error:  # noqa: BLE001 - whatever it is, the run is an ERROR
        data = {"verdict": "ERROR", "reason": f"the checker failed: {type(error).__name__}: "
                f"{error}", "report": None, "protections": {}, "output": traceback.format_exc(),
                "seconds": 0.0, "processes": 0, "ours": True}
    _send_result(sock, int(request["id"]), data)
    os._exit(0)


def _send_result(sock: socket.socket, number: int, data: dict[str, Any]) -> None:
    """One message (atomic on a SEQPACKET socket); shortened if the socket refuses its size."""
    message = json.dumps({"id": number, "result": data}).encode()
    try:
        sock.send(message)
    except OSError:
        data = dict(data, output=data.get("output", "")[-1000:])
        for o in (data.get("report") or {}).get("outcomes", []):
            o["detail"] = (o.get("detail") or "")[:300]
        sock.send(json.dumps({"id": number, "result": data}).encode())

