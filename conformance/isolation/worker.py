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

Kept whole: the sandbox process and the checker's side of one wire protocol; apart, each half
would be read without the other.
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import os
import re
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
from pathlib import Path
from typing import IO, Any, NoReturn

import numpy as np

from bpverify.conformance.isolation import wire
from bpverify.conformance.isolation.sandbox import LAYERS, Policy, confine, python_readable
from bpverify.conformance.protocol import import_roots, locations
from bpverify.conformance.protocol.adapters import (
    LOCAL_METHODS,
    Capabilities,
    Implementation,
    Session,
    resolve,
)
from bpverify.conformance.protocol.calls import Hang, RaisedElsewhere, hang_message
from bpverify.conformance.protocol.conventions import CHOICES, Conventions
from bpverify.conformance.protocol.loading import parse
from bpverify.conformance.suite.assignment import Assignment
from bpverify.conformance.suite.runner import SuiteReport, run_suite

FORWARDED = tuple(sorted(name for name, member in vars(Implementation).items()
                         if callable(member) and not name.startswith("_")
                         and name not in LOCAL_METHODS))
"""The adapter protocol's methods: the only calls the sandbox answers."""
SESSION_METHODS = tuple(sorted(name for name, member in vars(Session).items()
                               if callable(member) and not name.startswith("_")))
"""What a session answers (``Session``)."""
OUTPUT_TAIL_BYTES = 8192
SANDBOX_NOISE = (
    re.compile(r"^(\[[A-Z]\d{4} [^\]]*\] )?Error in cpuinfo: .*$"),
)
"""Lines libraries print because the sandbox hides /proc and /sys (PyTorch's cpuinfo cannot read
the processor list): not the implementation's output, and left out of it unless the run is an
ERROR (then everything it printed is shown)."""
PR_SET_PDEATHSIG = 1
WHERE_SIGNAL = signal.SIGUSR1
"""Sent to a sandbox whose call ran out of time: it answers with where its main thread is."""
WHERE_GRACE = 3.0
"""Seconds a stopped sandbox has to say where it was before it is killed."""
IMPORT_FLAGS = "--import-timeout SECONDS (pytest: --bp-import-timeout)"
TOTAL_FLAGS = "--submission-timeout SECONDS"


@dataclass(frozen=True)
class Limits:
    """Per call, per import (of the implementation, in each new process) and per implementation
    (all its calls and imports together, wall clock; 0 = none), memory (address space), and
    what it may write."""

    call_seconds: float = 10.0
    import_seconds: float = 60.0
    total_seconds: float = 0.0
    memory_bytes: int = 2 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256


@dataclass(frozen=True)
class Placement:
    """Where the implementation runs: its working directory, what else it may read or write,
    the folders it must not even see (other submissions, the results, the other copies), and
    the option that grants reading another folder (``--read``; "" where there is none), which
    a refusal names."""

    cwd: str
    readable: tuple[str, ...] = ()
    writable: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    layers: tuple[str, ...] = LAYERS
    read_option: str = ""


class ImplementationStopped(Exception):
    """The implementation's process ended, or used up its time, before the suite was done."""


class CallTimedOut(Hang):
    """One call ran past the per-call limit; its process was killed (``frames``: where it was)."""


class LoadError(Exception):
    """The implementation could not be imported in the sandbox (the spec's error, or its process
    ended or hung while importing)."""


class RemoteError(RaisedElsewhere):
    """An exception raised inside the implementation; its type name is kept (``raised``), and the
    user's frames it passed through (display text, ``locations.frames_from_data``)."""


def _remote_exception(type_name: str, message: str, frames: Any = None) -> RemoteError:
    name = type_name if type_name.isidentifier() and len(type_name) < 80 else "Exception"
    error = type(name, (RemoteError,), {})(message)
    error.frames = locations.frames_from_data(frames)
    return error


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
        locations.prepare()
        send = _locked_sender(channel)
        send({"confined": confine(policy)})  # before any code of theirs runs
        _answer_where_on_signal(send)
        try:
            impl = resolve(spec)
        except BaseException as error:  # noqa: BLE001 - anything their import does is a verdict
            _flush()
            send({"loaded": False, "error": _describe(error),
                  "missing": getattr(error, "missing", None),
                  "refused": _refused_path(error), "path": _search_path()})
            os._exit(0)
        _flush()
        send({"loaded": True, "name": str(impl.name)[:200],
              "capabilities": wire.encode(_capabilities_data(impl.capabilities), []),
              "conventions": wire.encode(_conventions_data(impl.conventions), [])})
        _serve(channel, send, impl)
    except (wire.ChannelClosed, BrokenPipeError, ConnectionError):
        pass
    except BaseException:  # noqa: BLE001 - report to the output file, exit non-zero
        traceback.print_exc()
        status = 70
    os._exit(status)


def _locked_sender(channel: socket.socket) -> Any:
    """``wire.send`` on the channel, one frame at a time; ``send.busy()`` says whether a frame is
    being sent (the signal handler that says where a hung call is must not cut into it)."""
    lock = threading.Lock()

    def send(header: dict[str, Any], buffers: list[memoryview] | None = None) -> None:
        with lock:
            wire.send(channel, header, buffers)

    send.busy = lock.locked  # type: ignore[attr-defined]
    return send


def _answer_where_on_signal(send: Any) -> None:
    """On WHERE_SIGNAL, send the user's frames of the main thread: where a call or an import
    that ran out of time is. A handler of the main thread, which runs their code: it answers as
    soon as that thread runs Python again (at once for a Python loop, after a numpy call returns);
    no thread of ours (one started before the confinement would not be confined, and after it
    may not get the memory to start). What it sends is display text the checker never parses as
    a verdict."""

    def answer(signum: int, frame: Any) -> None:
        if send.busy():  # interrupted while sending a reply: that reply is the answer
            return
        try:
            send({"stopped_at": locations.frames_to_data(locations.stack_frames(frame))})
        except Exception:  # noqa: BLE001 - the checker waits WHERE_GRACE and goes on without it
            pass

    signal.signal(WHERE_SIGNAL, answer)


def _flush() -> None:
    """What the import printed, written out before the checker reads how far the output goes."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - their replacement streams may raise anything
            pass


def _search_path() -> list[str]:
    """``sys.path`` as the implementation left it (it may have added folders of its own)."""
    return [entry for entry in sys.path if isinstance(entry, str)][:64]


def _refused_path(error: BaseException) -> str | None:
    """The file a sandbox refused to read (a PermissionError's, or the one a SpecError names)."""
    path = getattr(error, "refused", None) if not isinstance(error, PermissionError) else \
        error.filename
    return path if isinstance(path, str) else None


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
    """A load error in one line: the spec's own message, else the exception's type and text;
    with where in the user's code it was raised (``__init__`` as much as the module's own
    lines), unless the message already says so."""
    text = (_message(error) if type(error).__name__ in ("SpecError", "ValueError")
            else f"{type(error).__name__}: {_message(error)}")
    frames = locations.user_frames(error.__traceback__)
    where = locations.location(frames)
    if where is None or where in text:
        return text
    return f"{text} ({locations.describe(frames)})"


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


def _serve(channel: socket.socket, send: Any, impl: Implementation) -> None:
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
            frames = locations.frames_to_data(locations.user_frames(error.__traceback__))
            reply = {"raised": [type(error).__name__, _message(error), frames],
                     "refused": _refused_path(error)}
        send(reply, out)


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
        start_limit = min(self.limits.call_seconds, self._remaining())
        import_limit = min(self.limits.import_seconds, self._remaining())
        try:
            confined = self._receive(start_limit, "while starting", self.limits.call_seconds)
            if not isinstance(confined.get("confined"), dict):
                self._stop()
                raise LoadError("its process did not report its confinement")
            self.protections = {str(k): str(v) for k, v in confined["confined"].items()}
            loaded = self._receive(import_limit, "while importing the implementation",
                                   self.limits.import_seconds)
        except ImplementationStopped as stopped:
            raise LoadError(str(stopped)) from None
        except CallTimedOut as hung:
            raise LoadError("it " + hang_message("", import_limit, hung.frames, IMPORT_FLAGS,
                                                 doing="finish importing")) from None
        if not loaded.get("loaded"):
            self._stop()
            text = str(loaded.get("error", "the implementation did not load"))[:2000]
            outside = self._outside(loaded.get("refused"), loaded.get("missing"),
                                    loaded.get("path"))
            raise LoadError(locations.printable(text, 2000) + (f"; {outside}" if outside else ""))
        try:
            caps = wire.decode(loaded.get("capabilities"), [])
            self.capabilities = _capabilities(caps)
            self.conventions = _conventions(wire.decode(loaded.get("conventions"), []))
        except (wire.ProtocolError, TypeError, ValueError) as error:
            self._stop()
            raise LoadError(f"it declares capabilities the suite cannot read: {error}") from None
        if first:
            self.name = str(loaded.get("name", self.spec))

    def _outside(self, refused: Any, missing: Any, path: Any = None) -> str | None:
        """Why a file the sandbox refused, or a module it did not find, is out of its reach and
        the way in; None when neither lies outside what it may read (a real error of theirs).
        The module is looked for on the sandbox's own ``sys.path`` (``path``, as it sent it)
        only where the user may grant more (``read_option``: their own run, not a class's)."""
        p = self.placement
        allowed = (p.cwd, *p.readable, *p.writable, *python_readable())
        found = None
        if isinstance(refused, str):
            found = Path(refused)
        elif isinstance(missing, str):
            theirs = [e for e in path if isinstance(e, str)][:64] if isinstance(path, list) \
                and p.read_option else None
            found = import_roots.where_python_finds(missing, self._import_folder(), theirs)
        if found is None or import_roots.within(found, allowed):
            return None
        folder = found if found.is_dir() else found.parent
        way = f"run from {folder}" + (f", or pass {p.read_option} {folder}" if p.read_option
                                      else "")
        what = f"{missing!r} is {found}" if isinstance(missing, str) and not isinstance(
            refused, str) else f"{found}"
        return (f"{what}: outside the folders the sandbox may read (the current folder "
                f"{p.cwd}, the spec's and its imports' folders, the Python installation); {way}")

    def _import_folder(self) -> Path:
        folder = parse(self.spec)[1]
        return folder if folder is not None else Path(self.placement.cwd)

    def _fork(self, ours: socket.socket, theirs: socket.socket, policy: Policy) -> int:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its effects are tested through the parent
            ours.close()
            _run_sandbox(theirs.fileno(), self.output.fileno(), self.spec, policy)
        return pid

    def _receive(self, limit: float, when: str, own_limit: float) -> dict[str, Any]:
        """One frame from the sandbox within ``limit`` seconds, counted against its time
        (``own_limit``: the limit of this call or import alone; a smaller ``limit`` is what is
        left of the whole implementation's); every way this can fail ends the process and sets
        ``fatal``, but a call or an import that runs out of its own time, which is a
        ``CallTimedOut`` saying where it was."""
        assert self._process is not None
        start = time.monotonic()
        try:
            header, buffers = wire.receive(self._process[1], start + limit)
            header["_buffers"] = buffers
            return header
        except wire.ChannelTimeout:
            frames = self._where()
            self._stop()
            if limit < own_limit:
                where = locations.describe(frames)
                self.fatal = (f"used up its time limit of {self.limits.total_seconds:g} s {when}"
                              + (f"; it was {where}" if where else "")
                              + f"; more time: {TOTAL_FLAGS}")
                raise ImplementationStopped(self.fatal) from None
            raise CallTimedOut(hang_message("", limit, frames, stopped="its process was stopped"),
                               frames) from None
        except (wire.ChannelClosed, OSError):
            self.fatal = f"its process {self._stop()} {when}"
            raise ImplementationStopped(self.fatal) from None
        except wire.ProtocolError as error:
            self._stop()
            self.fatal = f"it sent a malformed message {when}: {error}"
            raise ImplementationStopped(self.fatal) from None
        finally:
            self.waited += time.monotonic() - start

    def _where(self) -> tuple[locations.UserFrame, ...]:
        """Ask a sandbox that ran out of time where its main thread is (WHERE_SIGNAL) and wait
        WHERE_GRACE for the answer; () if none comes (stuck in C code, or it will not say)."""
        assert self._process is not None
        pid, sock = self._process
        try:
            os.kill(pid, WHERE_SIGNAL)
            deadline = time.monotonic() + WHERE_GRACE
            while True:  # a reply that crossed the signal comes first: skip it
                header, _ = wire.receive(sock, deadline)
                if "stopped_at" in header:
                    return locations.frames_from_data(header["stopped_at"])
        except (wire.ChannelTimeout, wire.ChannelClosed, wire.ProtocolError, OSError):
            return ()

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
                done, how = wait_described(pid, os.WNOHANG, self.limits.memory_bytes)
                if done:
                    return str(how)
                time.sleep(0.005)
        else:
            exited = select.poll()
            exited.register(pidfd, select.POLLIN)
            exited.poll(100)
            os.close(pidfd)
        done, how = wait_described(pid, os.WNOHANG, self.limits.memory_bytes)
        if not done:  # still running: the checker ends it
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "stopped answering and was killed by the checker"
        return str(how)

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
            reply = self._receive(limit, f"in a call of {method}", self.limits.call_seconds)
            buffers = reply["_buffers"]
            if "raised" in reply:
                raised = reply["raised"] if isinstance(reply["raised"], list) else []
                name, message, frames = (raised + ["", "", None])[:3]
                outside = self._outside(reply.get("refused"), None) if name == \
                    "PermissionError" else None
                raise _remote_exception(str(name), str(message)[:2000]
                                        + (f"; {outside}" if outside else ""), frames)
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


MEMORY_REACHED = 0.9
"""A peak resident size of this fraction of the memory limit counts as having reached it."""


def describe_exit(status: int, peak_bytes: int | None = None, limit_bytes: int | None = None
                  ) -> str:
    """How a process ended: its exit status, or the signal by name; memory is blamed only when
    its peak resident size (``peak_bytes``, from wait4) reached ``limit_bytes`` (RLIMIT_AS makes
    an allocation past the limit fail with ENOMEM, a MemoryError, so a signal is rarely it)."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exited with status {code}"
    name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
    peak = f"{peak_bytes / 2**20:.0f} MiB" if peak_bytes is not None else None
    if peak_bytes and limit_bytes and peak_bytes >= MEMORY_REACHED * limit_bytes:
        why = f" (at its memory limit: {peak} of {limit_bytes / 2**20:.0f} MiB)"
    else:
        why = {"SIGXCPU": " (its CPU time limit)", "SIGXFSZ": " (its file size limit)",
               "SIGKILL": " (sent by the system, another process or itself; not a limit of its "
                          "own" + (f": its memory peaked at {peak}" if peak else "") + ")"
               }.get(name, f" (its memory peaked at {peak})" if peak else "")
    return f"was ended by {name}{why}"


def wait_described(pid: int, options: int, limit_bytes: int | None = None
                   ) -> tuple[int, str | None]:
    """``os.wait4``: the pid that ended (0: none yet) and how (``describe_exit``)."""
    done, status, usage = os.wait4(pid, options)
    if not done:
        return 0, None
    return done, describe_exit(status, usage.ru_maxrss * 1024, limit_bytes)


# -- one run, and its verdicts as data ------------------------------------------------------------

@dataclass(frozen=True)
class Isolated:
    """One implementation's run in its sandbox: the report (None if it never loaded), why its
    verdicts are incomplete (None if they are complete), the protections that were active,
    the tail of what it printed (never parsed; SANDBOX_NOISE left out, in ``noise``, unless the
    run is an ERROR) and the wall time."""

    spec: str
    report: SuiteReport | None
    error: str | None
    protections: dict[str, str]
    output: str
    seconds: float
    processes: int
    noise: str = ""

    @property
    def verdict(self) -> str:
        if self.error is not None or self.report is None:
            return "ERROR"
        return "CONFORMS" if self.report.passed else "DOES NOT CONFORM"


def run_isolated(spec: str, placement: Placement, limits: Limits = Limits(), *,
                 display_spec: str | None = None, seed: int = 0, only: Sequence[str] | None = None,
                 strict: bool = False, seeds: int = 1, thorough: bool = False,
                 case: str | None = None, assignment: Assignment | None = None) -> Isolated:
    """The suite against ``spec`` imported and run in a sandbox process (forked from this one,
    which must not be running other threads). ``display_spec`` names it in rerun commands;
    under an ``assignment``, what it requires is checked (``suite/assignment.py``)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        impl = SandboxedImplementation(spec, placement, limits, output)
        report, error = None, None
        try:
            impl.start()
            report = run_suite(impl, spec=display_spec or spec, seed=seed, only=only,
                               strict=strict, seconds=2 * limits.call_seconds + 5.0, seeds=seeds,
                               thorough=thorough, case=case, assignment=assignment)
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
    noise = ""
    if error is None and report is not None:
        tail, noise = split_noise(tail)
    return Isolated(display_spec or spec, report, error, impl.protections, tail,
                    time.perf_counter() - start, impl.processes, noise)


def split_noise(output: str) -> tuple[str, str]:
    """(what the implementation printed, the SANDBOX_NOISE lines among it)."""
    kept: list[str] = []
    noise: list[str] = []
    for line in output.splitlines(keepends=True):
        (noise if any(p.match(line.rstrip("\r\n")) for p in SANDBOX_NOISE) else kept).append(line)
    return "".join(kept), "".join(noise)


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
        for extra in ("case", "network", "note"):
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
            "assignment": text(getattr(report, "assignment", None)),
            "passed": bool(report.passed),
            "counts": {s: int(report.count(s)) for s in ("pass", "fail", "skip", "error")},
            "outcomes": outcomes}


def isolated_to_data(run: Isolated) -> dict[str, Any]:
    return {"verdict": run.verdict, "reason": run.error, "spec": run.spec,
            "report": None if run.report is None else report_to_data(run.report),
            "protections": dict(run.protections), "output": run.output,
            "seconds": round(run.seconds, 4), "processes": run.processes}
