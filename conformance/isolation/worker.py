"""Running an implementation in a confined worker process, and its verdicts as plain data.

The implementation's code runs only in the **sandbox process**: a fork of the checker,
confined (``sandbox.confine``) before the implementation is imported, with a scrubbed
environment, its own working directory and its output sent to a private file. It computes
nothing but answers: the checker runs the suite against ``SandboxedImplementation``, which
forwards each call of the adapter protocol (arrays in, arrays out, ``wire``), so every verdict
is computed outside the implementation's reach and nothing it prints or sends can be a verdict.

* a call that does not return within the per-call limit: the process is killed and the call is
  an error; the next call gets a fresh process;
* the process ending, by any exit or signal, or using up the time limit of the whole
  implementation, or sending a malformed reply: the verdicts are incomplete, the run is an
  ERROR (``Isolated.error``), and every later call fails at once.

``run_isolated`` is one such run in the calling process (``bpverify check``); for a class,
``template.py`` forks one checker per submission from a clean process, and each sends its
verdicts back as JSON (``isolated_to_data``).
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, NoReturn

import numpy as np

from bpverify.conformance.isolation import wire
from bpverify.conformance.isolation.sandbox import LAYERS, Policy, confine, python_readable
from bpverify.conformance.protocol.adapters import (
    LOCAL_METHODS,
    Capabilities,
    Implementation,
    Session,
    resolve,
)
from bpverify.conformance.protocol.conventions import CHOICES, Conventions
from bpverify.conformance.suite.runner import SuiteReport, run_suite

FORWARDED = tuple(sorted(name for name, member in vars(Implementation).items()
                         if callable(member) and not name.startswith("_")
                         and name not in LOCAL_METHODS))
"""The adapter protocol's methods: the only calls the sandbox answers."""
SESSION_METHODS = tuple(sorted(name for name, member in vars(Session).items()
                               if callable(member) and not name.startswith("_")))
"""What a session answers (``Session``)."""
OUTPUT_TAIL_BYTES = 8192
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Limits:
    """Per call (and per import) and per implementation (all its calls and imports together,
    wall clock; 0 = none), memory (address space), and what it may write."""

    call_seconds: float = 10.0
    total_seconds: float = 0.0
    memory_bytes: int = 2 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256


@dataclass(frozen=True)
class Placement:
    """Where the implementation runs: its working directory, what else it may read or write,
    and the folders it must not even see (other submissions, the results, the other copies)."""

    cwd: str
    readable: tuple[str, ...] = ()
    writable: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    layers: tuple[str, ...] = LAYERS


class ImplementationStopped(Exception):
    """The implementation's process ended, or used up its time, before the suite was done."""


class CallTimedOut(Exception):
    """One call ran past the per-call limit; its process was killed."""


class LoadError(Exception):
    """The implementation could not be imported in the sandbox (the spec's error, or its process
    ended or hung while importing)."""


class RemoteError(Exception):
    """An exception raised inside the implementation; its type name is kept (``raised``)."""


def _remote_exception(type_name: str, message: str) -> RemoteError:
    name = type_name if type_name.isidentifier() and len(type_name) < 80 else "Exception"
    return type(name, (RemoteError,), {})(message)


# -- the sandbox process ---------------------------------------------------------------------------

def sandbox_environment(policy: Policy) -> dict[str, str]:
    home = policy.writable[0] if policy.writable else policy.cwd
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def _run_sandbox(channel_fd: int, output_fd: int, spec: str, policy: Policy) -> NoReturn:
    """The body of the forked sandbox process; never returns."""
    status = 0
    try:
        _adopt_descriptors(channel_fd, output_fd)
        channel = socket.socket(fileno=3)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails instead
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.environ.clear()
        os.environ.update(sandbox_environment(policy))
        tempfile.tempdir = None  # the checker's cached /tmp would outlive the new TMPDIR
        sys.dont_write_bytecode = True
        wire.send(channel, {"confined": confine(policy)})  # before any code of theirs runs
        try:
            impl = resolve(spec)
        except BaseException as error:  # noqa: BLE001 - anything their import does is a verdict
            wire.send(channel, {"loaded": False, "error": _describe(error)})
            os._exit(0)
        wire.send(channel, {"loaded": True, "name": str(impl.name)[:200],
                            "capabilities": wire.encode(_capabilities_data(impl.capabilities), []),
                            "conventions": wire.encode(_conventions_data(impl.conventions), [])})
        _serve(channel, impl)
    except (wire.ChannelClosed, BrokenPipeError, ConnectionError):
        pass
    except BaseException:  # noqa: BLE001 - report to the output file, exit non-zero
        traceback.print_exc()
        status = 70
    os._exit(status)


def _adopt_descriptors(channel_fd: int, output_fd: int) -> None:
    """stdin /dev/null, stdout and stderr the private output file, the channel fd 3, no others."""
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    if channel_fd != 3:
        os.dup2(channel_fd, 3)
    os.closerange(4, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 65536)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fresh objects: no lock a thread held
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _message(error: BaseException) -> str:
    try:
        return str(error)[:2000]
    except Exception:  # noqa: BLE001 - their __str__ may raise
        return "<unprintable>"


def _describe(error: BaseException) -> str:
    """A load error in one line: the spec's own message, else the exception's type and text."""
    if type(error).__name__ in ("SpecError", "ValueError"):
        return _message(error)
    return f"{type(error).__name__}: {_message(error)}"


def _capabilities_data(capabilities: Capabilities) -> dict[str, Any]:
    return {f.name: getattr(capabilities, f.name) for f in dataclasses.fields(Capabilities)}


def _conventions_data(conventions: Conventions) -> dict[str, Any]:
    data = {key: getattr(conventions, key) for key in CHOICES}
    return {**data, "methods": dict(conventions.methods)}


def _conventions(data: Any) -> Conventions:
    """Conventions from the sandbox's data, checked as a declaration would be."""
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.get(
            "methods", {}).values()):
        raise TypeError("not a mapping of names")
    return Conventions.declared(data, "the implementation")


def _serve(channel: socket.socket, impl: Implementation) -> None:
    sessions: list[Session] = []  # the networks kept across calls (the state check), by number
    while True:
        header, buffers = wire.receive(channel)
        method = header.get("call")
        args = wire.decode(header.get("args"), buffers)
        kwargs = wire.decode(header.get("kwargs"), buffers)
        before = [a.copy() for a in _arrays([args, kwargs])]
        lengths = [len(arg) if isinstance(arg, list) else -1 for arg in args]
        out: list[memoryview] = []
        try:
            if method == "session":
                sessions.append(impl.session(*args, **kwargs))
                value: Any = len(sessions) - 1
            elif method == "session_call":
                key, name, *rest = args
                if name not in SESSION_METHODS or not 0 <= key < len(sessions):
                    raise AttributeError(f"{name!r} of session {key} is not a session call")
                with np.errstate(all="ignore"):
                    value = getattr(sessions[key], name)(*rest, **kwargs)
            elif method not in FORWARDED:
                raise AttributeError(f"{method!r} is not a method of the adapter protocol")
            else:
                with np.errstate(all="ignore"):  # as in-process: the NaN or inf is judged
                    value = getattr(impl, method)(*args, **kwargs)
            returned = wire.encode(value, out)
            changed = [[i, wire.encode(after, out)] for i, (old, after) in
                       enumerate(zip(before, _arrays([args, kwargs]), strict=False))
                       if not _same(old, after)]
            resized = [[i, wire.encode(list(arg), out)] for i, arg in enumerate(args)
                       if isinstance(arg, list) and len(arg) != lengths[i]]
            reply = {"returned": returned, "changed": changed, "resized": resized}
        except BaseException as error:  # noqa: BLE001 - SystemExit too: an answer, not an exit
            out = []
            reply = {"raised": [type(error).__name__, _message(error)]}
        wire.send(channel, reply, out)


def _arrays(tree: Any) -> Iterator[np.ndarray]:
    """The arrays of a value tree, in the order ``wire.encode`` visits them."""
    if isinstance(tree, np.ndarray):
        yield tree
    elif isinstance(tree, list | tuple):
        for item in tree:
            yield from _arrays(item)
    elif isinstance(tree, dict):
        for item in tree.values():
            yield from _arrays(item)


def _same(old: np.ndarray, new: np.ndarray) -> bool:
    if old.shape != new.shape or old.dtype != new.dtype:
        return False
    try:
        return bool(np.array_equal(old, new, equal_nan=True))
    except TypeError:
        return bool(np.array_equal(old, new))


# -- the checker's side ------------------------------------------------------------------------------

class SandboxedImplementation(Implementation):
    """The adapter protocol, answered by the implementation in its sandbox process."""

    def __init__(self, spec: str, placement: Placement, limits: Limits, output: IO[bytes]) -> None:
        self.spec, self.placement, self.limits, self.output = spec, placement, limits, output
        self.name = spec
        self.capabilities = Capabilities()
        self.protections: dict[str, str] = {}
        self.fatal: str | None = None
        self.waited = 0.0
        self.processes = 0
        self._process: tuple[int, socket.socket] | None = None
        self._lock = threading.Lock()
        # every fork from one long-lived thread: a child's parent-death signal fires when the
        # thread that forked it ends, and the calls that need a fresh process run in short ones
        self._forker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bpverify-fork")

    # process management
    def start(self) -> None:
        """Fork the first sandbox and import the implementation; LoadError if that fails."""
        with self._lock:
            self._spawn(first=True)

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._stop()
        self._forker.shutdown()

    def _remaining(self) -> float:
        total = self.limits.total_seconds
        return math.inf if not total else total - self.waited

    def _policy(self) -> Policy:
        remaining = self._remaining()
        cpu = 0 if math.isinf(remaining) else max(1, math.ceil(remaining)) + 1
        p = self.placement
        return Policy(cwd=p.cwd, readable=(*python_readable(), *p.readable), writable=p.writable,
                      hidden=p.hidden, memory_bytes=self.limits.memory_bytes, cpu_seconds=cpu,
                      file_bytes=self.limits.file_bytes, open_files=self.limits.open_files,
                      layers=p.layers)

    def _spawn(self, first: bool = False) -> None:
        ours, theirs = socket.socketpair()
        for end in (ours, theirs):  # a layer's arrays in one write, not many context switches
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        pid = self._forker.submit(self._fork, ours, theirs, self._policy()).result()
        theirs.close()
        self._process = (pid, ours)
        self.processes += 1
        limit = min(self.limits.call_seconds, self._remaining())
        try:
            confined = self._receive(limit, "while starting")
            if not isinstance(confined.get("confined"), dict):
                self._stop()
                raise LoadError("its process did not report its confinement")
            self.protections = {str(k): str(v) for k, v in confined["confined"].items()}
            loaded = self._receive(limit, "while importing the implementation")
        except ImplementationStopped as stopped:
            raise LoadError(str(stopped)) from None
        except CallTimedOut:
            raise LoadError(f"it did not finish importing within {limit:g} s (a hang?)") from None
        if not loaded.get("loaded"):
            self._stop()
            raise LoadError(str(loaded.get("error", "the implementation did not load"))[:2000])
        try:
            caps = wire.decode(loaded.get("capabilities"), [])
            self.capabilities = _capabilities(caps)
            self.conventions = _conventions(wire.decode(loaded.get("conventions"), []))
        except (wire.ProtocolError, TypeError, ValueError) as error:
            self._stop()
            raise LoadError(f"it declares capabilities the suite cannot read: {error}") from None
        if first:
            self.name = str(loaded.get("name", self.spec))

    def _fork(self, ours: socket.socket, theirs: socket.socket, policy: Policy) -> int:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its effects are tested through the parent
            ours.close()
            _run_sandbox(theirs.fileno(), self.output.fileno(), self.spec, policy)
        return pid

    def _receive(self, limit: float, when: str) -> dict[str, Any]:
        """One frame from the sandbox within ``limit`` seconds, counted against its time; every
        way this can fail ends the process and sets ``fatal``."""
        assert self._process is not None
        start = time.monotonic()
        try:
            header, buffers = wire.receive(self._process[1], start + limit)
            header["_buffers"] = buffers
            return header
        except wire.ChannelTimeout:
            self._stop()
            if limit < self.limits.call_seconds:
                self.fatal = f"used up its time limit of {self.limits.total_seconds:g} s {when}"
                raise ImplementationStopped(self.fatal) from None
            raise CallTimedOut(f"did not return within {limit:g} s (a hang?); its process was "
                               "stopped") from None
        except (wire.ChannelClosed, OSError):
            self.fatal = f"its process {self._stop()} {when}"
            raise ImplementationStopped(self.fatal) from None
        except wire.ProtocolError as error:
            self._stop()
            self.fatal = f"it sent a malformed message {when}: {error}"
            raise ImplementationStopped(self.fatal) from None
        finally:
            self.waited += time.monotonic() - start

    def _stop(self) -> str:
        """Kill the sandbox process (if still running), reap it, and say how it ended."""
        assert self._process is not None
        pid, sock = self._process
        self._process = None
        sock.close()
        deadline = time.monotonic() + 0.1  # it saw the channel close and exits on its own, or not
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # a kernel before 5.3: look every 5 ms
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return describe_exit(status)
                time.sleep(0.005)
        else:
            exited = select.poll()
            exited.register(pidfd, select.POLLIN)
            exited.poll(100)
            os.close(pidfd)
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            status = os.waitpid(pid, 0)[1]
        return describe_exit(status)

    # the adapter protocol
    def _call(self, method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        with self._lock:
            if self.fatal:
                raise ImplementationStopped(self.fatal)
            if self._process is None:  # the last call hung: a fresh process
                try:
                    self._spawn()
                except LoadError as error:
                    self.fatal = self.fatal or f"it could not be started again: {error}"
                    raise ImplementationStopped(self.fatal) from None
            assert self._process is not None
            out: list[memoryview] = []
            header = {"call": method, "args": wire.encode(list(args), out),
                      "kwargs": wire.encode(kwargs, out)}
            limit = min(self.limits.call_seconds, self._remaining())
            try:
                self._process[1].settimeout(max(limit, 0.001))
                wire.send(self._process[1], header, out)
            except OSError:
                pass  # it stopped reading: the reply below says how it ended
            reply = self._receive(limit, f"in a call of {method}")
            buffers = reply["_buffers"]
            if "raised" in reply:
                name, message = (list(reply["raised"]) + ["", ""])[:2]
                raise _remote_exception(str(name), str(message)[:2000])
            try:
                originals = list(_arrays([list(args), kwargs]))  # once: a mini-batch has thousands
                for index, value in reply.get("changed", []):
                    _write_back(originals, int(index), wire.decode(value, buffers))
                for index, value in reply.get("resized", []):  # a list it emptied or grew
                    if not (0 <= int(index) < len(args) and isinstance(args[int(index)], list)):
                        raise wire.ProtocolError("a resized argument that was not a list")
                    args[int(index)][:] = wire.decode(value, buffers)
                return wire.decode(reply.get("returned"), buffers)
            except (wire.ProtocolError, TypeError, ValueError) as error:
                self._stop()
                self.fatal = f"it sent a malformed reply to {method}: {error}"
                raise ImplementationStopped(self.fatal) from None


    def session(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Session:
        """A network kept in the sandbox across calls, answered by number."""
        return RemoteSession(self, int(self._call("session", [weights, biases], {})))


class RemoteSession(Session):
    """A ``Session`` living in the sandbox process: each call goes there with its number."""

    def __init__(self, proxy: SandboxedImplementation, key: int) -> None:
        self.impl, self.proxy, self.key = proxy, proxy, key

    def _session_call(self, name: str, *args: Any) -> Any:
        return self.proxy._call("session_call", [self.key, name, *args], {})

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Any:
        return self._session_call("gradient", x, y)

    def kept_gradient(self, x: np.ndarray, y: np.ndarray) -> int:
        return int(self._session_call("kept_gradient", x, y))

    def recall(self, number: int) -> Any:
        return self._session_call("recall", number)

    def feedforward(self, x: np.ndarray) -> Any:
        return self._session_call("feedforward", x)

    def update(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
               lmbda: float = 0.0, n: int = 1) -> None:
        self._session_call("update", mini_batch, eta, lmbda, n)

    def sgd(self, training_data: list[tuple[np.ndarray, np.ndarray]], epochs: int,
            mini_batch_size: int, eta: float, lmbda: float = 0.0) -> None:
        self._session_call("sgd", training_data, epochs, mini_batch_size, eta, lmbda)

    def assign(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self._session_call("assign", weights, biases)

    def parameters(self) -> Any:
        return self._session_call("parameters")


def _forwarder(method: str) -> Any:
    def call(self: SandboxedImplementation, *args: Any, **kwargs: Any) -> Any:
        return self._call(method, args, kwargs)
    call.__name__ = method
    return call


for _method in FORWARDED:
    if _method not in vars(SandboxedImplementation):  # its own: session
        setattr(SandboxedImplementation, _method, _forwarder(_method))


def _write_back(originals: list[np.ndarray], index: int, new: Any) -> None:
    """An argument the implementation changed in place is changed here too, as in-process."""
    if not 0 <= index < len(originals) or not isinstance(new, np.ndarray):
        raise wire.ProtocolError("a changed argument that was not sent")
    old = originals[index]
    if old.flags.writeable:
        if old.shape == new.shape:
            old[...] = new
        elif old.dtype.kind in "fc":
            old[...] = np.nan


def _capabilities(data: Any) -> Capabilities:
    """Capabilities from the sandbox's data, each field of the type of its default."""
    if not isinstance(data, dict):
        raise TypeError("not a mapping")
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Capabilities):
        if field.name not in data:
            continue
        value, default = data[field.name], field.default
        if isinstance(default, tuple) and isinstance(value, list | tuple):
            value = tuple(value)
        if type(value) is not type(default) or (
                isinstance(value, tuple) and not all(isinstance(v, str) for v in value)):
            raise TypeError(f"{field.name} is {value!r}, expected {type(default).__name__}")
        values[field.name] = value
    return Capabilities(**values)


def describe_exit(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exited with status {code}"
    name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
    why = {"SIGXCPU": " (its CPU time limit)", "SIGKILL": " (killed: memory, or stopped)",
           "SIGXFSZ": " (its file size limit)"}.get(name, "")
    return f"was ended by {name}{why}"


# -- one run, and its verdicts as data ------------------------------------------------------------

@dataclass(frozen=True)
class Isolated:
    """One implementation's run in its sandbox: the report (None if it never loaded), why its
    verdicts are incomplete (None if they are complete), the protections that were active,
    the tail of what it printed (never parsed) and the wall time."""

    spec: str
    report: SuiteReport | None
    error: str | None
    protections: dict[str, str]
    output: str
    seconds: float
    processes: int

    @property
    def verdict(self) -> str:
        if self.error is not None or self.report is None:
            return "ERROR"
        return "CONFORMS" if self.report.passed else "DOES NOT CONFORM"


def run_isolated(spec: str, placement: Placement, limits: Limits = Limits(), *,
                 display_spec: str | None = None, seed: int = 0, only: Sequence[str] | None = None,
                 strict: bool = False, seeds: int = 1, thorough: bool = False,
                 case: str | None = None) -> Isolated:
    """The suite against ``spec`` imported and run in a sandbox process (forked from this one,
    which must not be running other threads). ``display_spec`` names it in rerun commands."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        impl = SandboxedImplementation(spec, placement, limits, output)
        report, error = None, None
        try:
            impl.start()
            report = run_suite(impl, spec=display_spec or spec, seed=seed, only=only,
                               strict=strict, seconds=2 * limits.call_seconds + 5.0, seeds=seeds,
                               thorough=thorough, case=case)
            error = impl.fatal
        except LoadError as failed:
            error = f"the implementation did not load: {failed}"
        finally:
            impl.close()
        offset = max(0, output.seek(0, os.SEEK_END) - OUTPUT_TAIL_BYTES)
        output.seek(offset)
        tail = output.read().decode("utf-8", errors="replace")
        if offset:  # begin at a whole line, and say that earlier lines were left out
            tail = "[…]\n" + tail.partition("\n")[2]
    return Isolated(display_spec or spec, report, error, impl.protections, tail,
                    time.perf_counter() - start, impl.processes)


def report_to_data(report: SuiteReport) -> dict[str, Any]:
    """A SuiteReport as plain data (str, float, int, bool, lists, dicts): THE translation, read
    defensively, so new fields of the report or its outcomes (a network ``case``) pass through."""
    def text(value: Any) -> str | None:
        return None if value is None else str(value)[:4000]

    outcomes = []
    for o in report.outcomes:
        check, failure = o.check, getattr(o, "failure", None)
        item: dict[str, Any] = {
            "check": str(check.id), "equation": text(getattr(check, "equation", None)),
            "title": text(getattr(check, "title", None)), "status": str(o.status),
            "detail": text(o.detail), "seconds": float(getattr(o, "seconds", 0.0) or 0.0),
            "seed": int(getattr(o, "seed", report.seed)),
            "diagnosis": text(getattr(failure, "diagnosis", None)),
            "rerun": o.rerun(report.spec) if o.status in ("fail", "error") else None}
        for extra in ("case", "network"):
            if getattr(o, extra, None) is not None:
                item[extra] = text(getattr(o, extra))
        for extra in ("layer", "index", "expected", "actual"):
            value = getattr(failure, extra, None)
            if value is not None:  # strict JSON: a NaN or ±inf goes as text
                finite = isinstance(value, int | float) and math.isfinite(value)
                item[extra] = value if finite else text(value)
        outcomes.append(item)
    return {"implementation": text(report.implementation), "capabilities": text(report.capabilities),
            "spec": text(report.spec), "seed": int(report.seed), "strict": bool(report.strict),
            "passed": bool(report.passed),
            "counts": {s: int(report.count(s)) for s in ("pass", "fail", "skip", "error")},
            "outcomes": outcomes}


def isolated_to_data(run: Isolated) -> dict[str, Any]:
    return {"verdict": run.verdict, "reason": run.error, "spec": run.spec,
            "report": None if run.report is None else report_to_data(run.report),
            "protections": dict(run.protections), "output": run.output,
            "seconds": round(run.seconds, 4), "processes": run.processes}
