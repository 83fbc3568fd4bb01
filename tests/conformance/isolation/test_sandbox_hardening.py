"""The sandbox's layers against the holes of issue 17 (items 1 and 2): UNIX sockets outside it,
SysV shared memory and memfd, signals by F_SETOWN, other processes' priorities and CPUs, a full
disk. Each denial is shown twice: confined (the layer that keeps it alone, and all layers), and
as a negative control, the same code with the layers off, where it succeeds, so no test here
passes because the attack was broken.

The sandbox is applied in a forked child (``_confined``), as in ``tests/test_grade.py``; a test
skips where its layer is inactive on this machine (not root, an older kernel, not x86-64).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import fcntl
import json
import os
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bpverify.conformance.isolation import sandbox, submissions
from bpverify.conformance.isolation.grading import grade
from bpverify.conformance.isolation.worker import Limits, Placement, run_isolated
from bpverify.conformance.specimens.sources import book_source

pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

ALL = sandbox.LAYERS
NONE: tuple[str, ...] = ()
SECRET = b"the answers to the exam"
EPERM = "EPERM"
LIMITS = Limits(call_seconds=10.0, total_seconds=60.0)
"""Generous: a test here is about what is allowed, never about how fast."""

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
IPC_PRIVATE, IPC_CREAT, IPC_RMID, SHM_RDONLY = 0, 0o1000, 0, 0o10000
_libc.shmat.restype = ctypes.c_void_p
_libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
_libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
_libc.shmdt.argtypes = [ctypes.c_void_p]


def _outcome(action: Callable[[], Any]) -> str:
    """"ok", or the name of the errno the action failed with (EPERM: a seccomp denial)."""
    try:
        action()
        return "ok"
    except OSError as error:
        return errno.errorcode.get(error.errno or 0, str(error))


def _raw(nr: int, *args: int) -> str:
    """A system call by number: "ok", or the name of its errno."""
    result = _libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    return "ok" if result >= 0 else errno.errorcode[ctypes.get_errno()]


def _confined(policy: sandbox.Policy, layers: tuple[str, ...], probe: Callable[[Any], Any],
              before: Callable[[], Any] | None = None) -> tuple[dict[str, str], Any]:
    """Fork; in the child run ``before`` (unconfined), apply only ``layers``, then run
    ``probe(what before returned)``; return the layers' report and the probe's JSON result."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            state = before() if before else None
            report = sandbox.confine(dataclasses.replace(policy, layers=layers))
            try:
                result = probe(state)
            except BaseException as error:  # noqa: BLE001 - the test says what it expected
                result = f"raised {type(error).__name__}: {error}"
            message = json.dumps({"report": report, "result": result})
        except BaseException:  # noqa: BLE001
            message = json.dumps({"crashed": traceback.format_exc()})
        with os.fdopen(write, "wb") as pipe:
            pipe.write(message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = json.loads(pipe.read())
    os.waitpid(pid, 0)
    if "crashed" in data:
        raise AssertionError(f"the confined child failed outside its probe:\n{data['crashed']}")
    return data["report"], data["result"]


def _active(report: dict[str, str], layers: tuple[str, ...]) -> None:
    """Skip the test where a layer it relies on is inactive here."""
    for layer in layers:
        if not report[layer].startswith("active"):
            pytest.skip(f"{layer} is {report[layer]}")


@pytest.fixture
def policy(tmp_path: Path) -> sandbox.Policy:
    """A sandbox placed as ``bpverify grade`` places one: its copy in a hidden workspace."""
    mine, theirs = tmp_path / "ws" / "mine", tmp_path / "class" / "bob"
    for folder in (mine, theirs, tmp_path / "scratch"):
        folder.mkdir(parents=True)
    (mine / "network.py").write_text("# its own file\n")
    return sandbox.Policy(cwd=str(mine), readable=sandbox.python_readable(),
                          writable=(str(mine),), hidden=(str(tmp_path / "class"),
                                                         str(tmp_path / "ws")))


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """Another process of the same user, in a process group of its own: the neighbour."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                               start_new_session=True)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


# -- UNIX sockets ----------------------------------------------------------------------------------

@contextlib.contextmanager
def _listener(address: str) -> Iterator[list[int]]:
    """A UNIX stream socket at ``address`` that sends SECRET to whoever connects; yields the
    list of connections it served."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(8)
    served: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            if select.select([server], [], [], 0.05)[0]:
                connection, _ = server.accept()
                served.append(1)  # before the secret: the client cannot have it earlier
                with connection:
                    connection.sendall(SECRET)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        stop.set()
        thread.join()
        server.close()


def _read_from(address: str) -> Callable[[Any], str]:
    def probe(_: Any) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(30)
                client.connect(address)
                return client.recv(100).decode()
        except OSError as error:
            return errno.errorcode.get(error.errno or 0, str(error))
    return probe


@pytest.mark.parametrize("layers", [("seccomp",), ALL], ids=["seccomp", "all"])
def test_a_pathname_unix_socket_outside_the_sandbox_cannot_be_reached(
        layers: tuple[str, ...], policy: sandbox.Policy, tmp_path: Path) -> None:
    """The audit's leak: a listener in a scratch folder, outside the sandbox but not hidden;
    Landlock (before pathname-socket rules), read-only mounts and the network namespace all
    let a connect() through; seccomp denies creating the socket."""
    address = str(tmp_path / "scratch" / "listener.sock")
    with _listener(address) as served:
        report, result = _confined(policy, layers, _read_from(address))
        _active(report, layers)
        assert result == EPERM and not served
        _, control = _confined(policy, NONE, _read_from(address))
        assert control == SECRET.decode() and served  # negative control: the leak is real


@pytest.mark.parametrize("layers", [("seccomp",), ("namespaces",), ("landlock",), ALL],
                         ids=["seccomp", "namespaces", "landlock", "all"])
def test_an_abstract_unix_socket_outside_the_sandbox_cannot_be_reached(
        layers: tuple[str, ...], policy: sandbox.Policy) -> None:
    """Three layers each keep it: seccomp (no socket), the network namespace (abstract names
    are per namespace) and Landlock from ABI 6 (scoped to the sandbox)."""
    if layers == ("landlock",) and sandbox.landlock_abi() < 6:
        pytest.skip(f"Landlock scopes abstract sockets from ABI 6, this is {sandbox.landlock_abi()}")
    address = f"\0bpverify-test-{secrets.token_hex(8)}"
    with _listener(address) as served:
        report, result = _confined(policy, layers, _read_from(address))
        _active(report, layers)
        assert result in (EPERM, "ECONNREFUSED") and not served, result
        _, control = _confined(policy, NONE, _read_from(address))
        assert control == SECRET.decode() and served


# -- SysV shared memory and memfd -------------------------------------------------------------------

@contextlib.contextmanager
def _outside_segment() -> Iterator[int]:
    """A SysV shared memory segment made outside the sandbox, mode 0600, holding SECRET."""
    shmid = _libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600)
    assert shmid >= 0, os.strerror(ctypes.get_errno())
    try:
        address = _libc.shmat(shmid, None, 0)
        ctypes.memmove(address, SECRET, len(SECRET))
        _libc.shmdt(address)
        yield shmid
    finally:
        _libc.shmctl(shmid, IPC_RMID, None)


def _attach(shmid: int) -> Callable[[Any], str]:
    def probe(_: Any) -> str:
        address = _libc.shmat(shmid, None, SHM_RDONLY)
        if address in (None, ctypes.c_void_p(-1).value):
            return errno.errorcode[ctypes.get_errno()]
        return ctypes.string_at(address, len(SECRET)).decode()
    return probe


@pytest.mark.parametrize("layers", [("seccomp",), ("namespaces",), ALL],
                         ids=["seccomp", "namespaces", "all"])
def test_a_shared_memory_segment_made_outside_cannot_be_attached(
        layers: tuple[str, ...], policy: sandbox.Policy) -> None:
    """Mode 0600 does not keep out a sandbox of the same uid; seccomp denies shmat, and in the
    sandbox's own IPC namespace the segment does not exist (EINVAL)."""
    with _outside_segment() as shmid:
        report, result = _confined(policy, layers, _attach(shmid))
        _active(report, layers)
        assert result in (EPERM, "EINVAL"), result
        _, control = _confined(policy, NONE, _attach(shmid))
        assert control == SECRET.decode()


def _segments_with_key(key: int) -> list[int]:
    """The ids of this IPC namespace's segments with ``key`` (/proc/sysvipc/shm)."""
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return [int(row.split()[1]) for row in rows if int(row.split()[0]) == key]


@pytest.mark.parametrize("layers", [("seccomp",), ("namespaces",), ALL],
                         ids=["seccomp", "namespaces", "all"])
def test_shared_memory_made_inside_does_not_outlive_the_sandbox(
        layers: tuple[str, ...], policy: sandbox.Policy) -> None:
    """The audit's 5 × 256 MiB that outlived the run: seccomp denies shmget; in the IPC
    namespace alone shmget succeeds, and the segment dies with the namespace when the sandbox
    ends (it never appears in the grader's namespace)."""
    key = secrets.randbelow(2**30) + 1

    def make(_: Any) -> str:
        shmid = _libc.shmget(key, 1 << 20, IPC_CREAT | 0o600)
        return "made" if shmid >= 0 else errno.errorcode[ctypes.get_errno()]

    assert _segments_with_key(key) == []
    try:
        report, result = _confined(policy, layers, make)
        _active(report, layers)
        assert result == ("made" if layers == ("namespaces",) else EPERM)
        assert _segments_with_key(key) == []
        _, control = _confined(policy, NONE, make)
        assert control == "made" and len(_segments_with_key(key)) == 1  # it outlives its maker
    finally:  # a failure above must not leave a segment behind either
        for shmid in _segments_with_key(key):
            _libc.shmctl(shmid, IPC_RMID, None)


def test_memfd_is_denied_and_would_escape_the_memory_limit(policy: sandbox.Policy) -> None:
    """RLIMIT_AS counts address space, not a memfd's pages written with write() (RLIMIT_FSIZE
    bounds each memfd, not their number): the control (rlimits alone) holds 192 MiB in six
    memfds with 64 MiB of address space to spare, where a 128 MiB bytearray fails; with
    seccomp, memfd_create is denied."""
    spare = 64 << 20
    limited = dataclasses.replace(policy, memory_bytes=spare, file_bytes=32 << 20)  # beyond
    # what the fork starts with (sandbox.resource_limits)

    def probe(_: Any) -> list[str]:
        try:
            bytearray(2 * spare)
            allocated = "allocated"
        except MemoryError:
            allocated = "MemoryError"
        held, chunk = [], bytes(1 << 20)
        try:
            for _ in range(6):
                held.append(os.memfd_create("bpverify-test"))
                for _ in range(32):
                    os.write(held[-1], chunk)
        except OSError as error:
            return [allocated, errno.errorcode[error.errno or 0]]
        return [allocated, f"holds {sum(os.fstat(fd).st_size for fd in held) >> 20} MiB"]

    report, result = _confined(limited, ("rlimits", "seccomp"), probe)
    _active(report, ("seccomp",))
    assert result == ["MemoryError", EPERM]
    _, control = _confined(limited, ("rlimits",), probe)
    assert control == ["MemoryError", "holds 192 MiB"]


# -- the filter's new denials, one by one ------------------------------------------------------------

NEW_DENIALS = {
    "socket": (-1, 0, 0), "socketpair": (-1, 0, 0, 0), "connect": (-1, 0, 0), "bind": (-1, 0, 0),
    "listen": (-1, 0), "accept": (-1, 0, 0), "accept4": (-1, 0, 0, 0),
    "shmget": (IPC_PRIVATE, 0, 0), "shmat": (-1, 0, 0), "shmctl": (-1, 2, 0), "shmdt": (0,),
    "semget": (IPC_PRIVATE, -1, 0), "semop": (-1, 0, 0), "semctl": (-1, 0, 2),
    "semtimedop": (-1, 0, 0, 0), "msgget": (0x7B0C0DE5, 0), "msgsnd": (-1, 0, 0, 0),
    "msgrcv": (-1, 0, 0, 0, 0), "msgctl": (-1, 2, 0), "mq_open": (0, 0, 0, 0),
    "mq_unlink": (0,), "mq_timedsend": (-1, 0, 0, 0, 0), "mq_timedreceive": (-1, 0, 0, 0, 0),
    "mq_notify": (-1, 0), "mq_getsetattr": (-1, 0, 0), "memfd_create": (0, 0),
    "memfd_secret": (-1,), "pidfd_getfd": (-1, 0, 0), "process_madvise": (-1, 0, 0, 0, 0),
}
"""The calls denied for issue 17, each with arguments that make it fail harmlessly (a bad
descriptor, a NULL name, size 0) where nothing filters it: an error other than EPERM there, so
EPERM confined is the filter's."""


def test_every_new_denial_is_the_filters_eperm(policy: sandbox.Policy) -> None:
    assert set(NEW_DENIALS) <= set(sandbox.X86_64_DENIED)

    def probe(_: Any) -> dict[str, str]:
        return {name: _raw(sandbox.X86_64_DENIED[name], *args)
                for name, args in NEW_DENIALS.items()}

    report, result = _confined(policy, ("seccomp",), probe)
    _active(report, ("seccomp",))
    assert result == dict.fromkeys(NEW_DENIALS, EPERM)
    _, control = _confined(policy, NONE, probe)
    assert not [name for name, outcome in control.items() if outcome == EPERM], control


def _commands(state: tuple[int, int]) -> dict[str, str]:
    """Each denied fcntl and ioctl command (on a pipe, or on a socket made before the sandbox,
    as the channel is), aimed at the process itself; and two that stay allowed."""
    pipe, sock = state
    own = os.getpid()
    owner = ctypes.c_int(own)
    owner_ex = (ctypes.c_int * 2)(1, own)  # struct f_owner_ex {F_OWNER_PID, pid}
    char = ctypes.c_char(b"x")
    fcntl_nr, _ = sandbox.X86_64_COMMANDS_DENIED["fcntl"]
    ioctl_nr, _ = sandbox.X86_64_COMMANDS_DENIED["ioctl"]
    return {
        "F_SETOWN": _raw(fcntl_nr, pipe, sandbox.F_SETOWN, own),
        "F_SETSIG": _raw(fcntl_nr, pipe, sandbox.F_SETSIG, 0),
        "F_SETOWN_EX": _raw(fcntl_nr, pipe, sandbox.F_SETOWN_EX, ctypes.addressof(owner_ex)),
        "FIOSETOWN": _raw(ioctl_nr, sock, sandbox.FIOSETOWN, ctypes.addressof(owner)),
        "SIOCSPGRP": _raw(ioctl_nr, sock, sandbox.SIOCSPGRP, ctypes.addressof(owner)),
        "TIOCSPGRP": _raw(ioctl_nr, pipe, sandbox.TIOCSPGRP, ctypes.addressof(owner)),
        "TIOCSTI": _raw(ioctl_nr, pipe, sandbox.TIOCSTI, ctypes.addressof(char)),
        "F_GETFL (allowed)": _outcome(lambda: fcntl.fcntl(pipe, fcntl.F_GETFL)),
        "FIONREAD (allowed)": _outcome(lambda: fcntl.ioctl(sock, 0x541B, bytes(4))),
    }


def test_every_signal_owner_command_is_the_filters_eperm(policy: sandbox.Policy) -> None:
    def before() -> tuple[int, int]:
        ours, _theirs = socket.socketpair()
        return os.pipe()[0], os.dup(ours.fileno())

    report, result = _confined(policy, ("seccomp",), _commands, before)
    _active(report, ("seccomp",))
    denied = {name: outcome for name, outcome in result.items() if "allowed" not in name}
    assert denied == dict.fromkeys(denied, EPERM) and len(denied) == 7
    assert result["F_GETFL (allowed)"] == result["FIONREAD (allowed)"] == "ok"
    _, control = _confined(policy, NONE, _commands, before)
    assert not [name for name, outcome in control.items() if outcome == EPERM], control


# -- signals and scheduling of other processes ------------------------------------------------------

@pytest.mark.parametrize("layers", [("seccomp",), ALL], ids=["seccomp", "all"])
def test_f_setown_cannot_aim_sigio_at_another_process(
        layers: tuple[str, ...], policy: sandbox.Policy, victim: subprocess.Popen[bytes]) -> None:
    """The audit's signal on kernels before 6.12: a pipe's owner set to another pid, O_ASYNC,
    a write: SIGIO (fatal by default) goes to the owner. The write's signal is sent before the
    probe returns, so how the victim ends afterwards says whether it got one."""
    def probe(_: Any) -> list[str]:
        read, write = os.pipe()
        owned = _outcome(lambda: fcntl.fcntl(read, fcntl.F_SETOWN, victim.pid))
        fcntl.fcntl(read, fcntl.F_SETFL, fcntl.fcntl(read, fcntl.F_GETFL) | os.O_ASYNC)
        os.write(write, b"x")
        return [owned]

    report, result = _confined(policy, layers, probe)
    _active(report, layers)
    assert result == [EPERM]
    victim.kill()
    assert victim.wait() == -signal.SIGKILL  # alive until now: no SIGIO reached it


def test_f_setown_control_kills_the_victim_with_sigio(policy: sandbox.Policy,
                                                     victim: subprocess.Popen[bytes]) -> None:
    """Negative control of the test above: unconfined, the same probe kills the victim."""
    def probe(_: Any) -> str:
        read, write = os.pipe()
        fcntl.fcntl(read, fcntl.F_SETOWN, victim.pid)
        fcntl.fcntl(read, fcntl.F_SETFL, fcntl.fcntl(read, fcntl.F_GETFL) | os.O_ASYNC)
        os.write(write, b"x")
        return "written"

    assert _confined(policy, NONE, probe)[1] == "written"
    assert victim.wait() == -signal.SIGIO


PRIO_PGRP, PRIO_USER = 1, 2
IOPRIO_WHO_PGRP, IOPRIO_CLASS_BE = 2, 2
NR_IOPRIO_GET = 252


def _sched_attr(policy_number: int, nice: int) -> ctypes.Array[ctypes.c_char]:
    """struct sched_attr (48 bytes): size, policy, flags, nice, priority, runtime, deadline,
    period."""
    return ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, policy_number, 0, nice, 0, 0,
                                                   0, 0))


def _ioprio(pid: int) -> int:
    return int(_libc.syscall(ctypes.c_long(NR_IOPRIO_GET), ctypes.c_long(1), ctypes.c_long(pid)))


def _scheduling(target: int, group: int | None) -> dict[str, str]:
    """Each setter aimed at ``target`` (a pid; 0 = the caller) or, where it takes one, at the
    process group ``group`` (0 = the caller's); a user with no processes for PRIO_USER."""
    nr = {name: rule.nr for name, rule in sandbox.X86_64_SELF_ONLY.items()}
    cpu = min(os.sched_getaffinity(0))
    attr = _sched_attr(os.SCHED_BATCH, 19)  # nice 19, as setpriority left it: no raise
    best_effort = (IOPRIO_CLASS_BE << 13) | 6
    outcomes = {
        "setpriority": _outcome(lambda: os.setpriority(os.PRIO_PROCESS, target, 19)),
        "sched_setaffinity": _outcome(lambda: os.sched_setaffinity(target, {cpu})),
        "sched_setscheduler": _outcome(lambda: os.sched_setscheduler(
            target, os.SCHED_BATCH, os.sched_param(0))),
        "sched_setparam": _outcome(lambda: os.sched_setparam(target, os.sched_param(0))),
        "sched_setattr": _raw(nr["sched_setattr"], target, ctypes.addressof(attr), 0),
        "ioprio_set": _raw(nr["ioprio_set"], sandbox.IOPRIO_WHO_PROCESS, target, best_effort),
    }
    if group is not None:
        outcomes.update({
            "setpriority of a group": _outcome(lambda: os.setpriority(PRIO_PGRP, group, 19)),
            "ioprio_set of a group": _raw(nr["ioprio_set"], IOPRIO_WHO_PGRP, group, best_effort),
            "setpriority of a user": _outcome(lambda: os.setpriority(PRIO_USER, 2**31 - 7, 19)),
        })
    return outcomes


def _own_group() -> None:
    """A process group of its own, so that a control's "its group" (0) is itself alone (in the
    worker the sandbox shares its checker's group)."""
    os.setsid()


@pytest.mark.parametrize("layers", [("seccomp",), ALL], ids=["seccomp", "all"])
def test_other_processes_priorities_and_cpus_are_out_of_reach(
        layers: tuple[str, ...], policy: sandbox.Policy, victim: subprocess.Popen[bytes]) -> None:
    """A sandbox could renice, pin and deschedule its neighbours; now each setter works on the
    sandbox itself (pid 0 or its own) and is EPERM for another pid, any group (its own too:
    in the worker that holds the checker) or a user."""
    def probe(_: Any) -> list[dict[str, str]]:
        return [_scheduling(victim.pid, victim.pid), _scheduling(0, None),
                _scheduling(os.getpid(), None), _scheduling(os.getpid(), 0)]

    before = (os.getpriority(os.PRIO_PROCESS, victim.pid), os.sched_getaffinity(victim.pid),
              os.sched_getscheduler(victim.pid), _ioprio(victim.pid))
    report, (other, itself, by_pid, groups) = _confined(policy, layers, probe, _own_group)
    _active(report, layers)
    assert other == dict.fromkeys(other, EPERM) and len(other) == 9
    assert itself == by_pid == dict.fromkeys(itself, "ok") and len(itself) == 6
    assert {name: groups[name] for name in groups if name not in itself} == {
        "setpriority of a group": EPERM, "ioprio_set of a group": EPERM,
        "setpriority of a user": EPERM}
    after = (os.getpriority(os.PRIO_PROCESS, victim.pid), os.sched_getaffinity(victim.pid),
             os.sched_getscheduler(victim.pid), _ioprio(victim.pid))
    assert after == before


def test_other_processes_priorities_control(policy: sandbox.Policy,
                                            victim: subprocess.Popen[bytes]) -> None:
    """Negative control: unconfined (uid 0, or the same user), every setter reaches the victim
    and its group, and its own group (0, itself alone here); PRIO_USER of a user with no
    process is ESRCH, the kernel's answer."""
    _, (other, groups) = _confined(policy, NONE, lambda _: [
        _scheduling(victim.pid, victim.pid), _scheduling(os.getpid(), 0)], _own_group)
    for result in (other, groups):
        assert result == {**dict.fromkeys(result, "ok"), "setpriority of a user": "ESRCH"}, result
    assert os.getpriority(os.PRIO_PROCESS, victim.pid) == 19
    assert os.sched_getaffinity(victim.pid) == {min(os.sched_getaffinity(0))}
    assert os.sched_getscheduler(victim.pid) == os.SCHED_BATCH
    assert _ioprio(victim.pid) == (IOPRIO_CLASS_BE << 13) | 6


# -- the disk ----------------------------------------------------------------------------------------

def _fill(limit: int) -> Callable[[Any], list[Any]]:
    """Read its own copied file, then write up to ``limit`` bytes into its folder (files of at
    most 1 MiB, so the file size limit is not what stops it): what it read, wrote, and why it
    stopped."""
    def probe(_: Any) -> list[Any]:
        own = Path("network.py").read_text()
        written, why = 0, "no error"
        chunk = bytes(1 << 16)
        try:
            while written < limit:
                with open(f"fill-{written >> 20}", "ab") as f:
                    f.write(chunk)
                    f.flush()
                written += len(chunk)
        except OSError as error:
            why = errno.errorcode[error.errno or 0]
        return [own, written, why]
    return probe


@pytest.mark.parametrize("layers", [("namespaces",), ALL], ids=["namespaces", "all"])
def test_the_writable_folder_is_a_tmpfs_of_disk_bytes(layers: tuple[str, ...],
                                                     policy: sandbox.Policy) -> None:
    """Its contents are copied in, it can write up to the quota and no further (ENOSPC), and
    nothing it wrote reaches the disk: its folder outside is as it was."""
    quota = 4 << 20
    small = dataclasses.replace(policy, disk_bytes=quota)
    report, (own, written, why) = _confined(small, layers, _fill(4 * quota))
    _active(report, layers)
    assert "writable folders on tmpfs of 4 MiB" in report["namespaces"]
    assert own == "# its own file\n"
    assert why == "ENOSPC" and quota // 2 < written <= quota
    assert os.listdir(policy.cwd) == ["network.py"]


def test_the_disk_quota_control_fills_the_real_disk(policy: sandbox.Policy) -> None:
    """Negative control: without the namespaces the same writes land on the disk, past the
    quota (up to the file size limit of each file only)."""
    quota = 4 << 20
    small = dataclasses.replace(policy, disk_bytes=quota)
    _, (own, written, why) = _confined(small, ("rlimits",), _fill(4 * quota))
    assert own == "# its own file\n" and why == "no error" and written == 4 * quota
    assert sum(p.stat().st_size for p in Path(policy.cwd).glob("fill-*")) == 4 * quota


def test_without_the_namespaces_a_file_is_held_to_the_file_size_limit(
        policy: sandbox.Policy) -> None:
    """Not root: RLIMIT_FSIZE (SIGXFSZ ignored, as in the worker) stops one big file: EFBIG;
    its negative control, no limit, writes it."""
    limited = dataclasses.replace(policy, file_bytes=1 << 20)

    def probe(_: Any) -> str:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        return _outcome(lambda: Path("big").write_bytes(bytes(2 << 20)))

    report, result = _confined(limited, ("rlimits",), probe)
    assert "files 1 MiB" in report["rlimits"] and result == "EFBIG"
    assert _confined(dataclasses.replace(limited, file_bytes=0), ("rlimits",), probe)[1] == "ok"


def test_contents_over_the_quota_are_bound_as_before_and_reported(policy: sandbox.Policy) -> None:
    """A writable folder that does not fit its quota is not half copied: it is the folder
    itself, as before the quota, and the report says so (the file size limit still holds)."""
    (Path(policy.cwd) / "data.bin").write_bytes(os.urandom(2 << 20))
    small = dataclasses.replace(policy, disk_bytes=1 << 20)
    report, result = _confined(small, ("namespaces",), lambda _: sorted(os.listdir(".")))
    _active(report, ("namespaces",))
    assert result == ["data.bin", "network.py"]
    assert f"no disk quota for {policy.cwd} (its contents could not be copied in" in report["namespaces"]
    assert "data.bin" in report["namespaces"] and "over its limit of 1.0 MiB" in report["namespaces"]


def test_the_new_layers_are_reported(policy: sandbox.Policy) -> None:
    report, _ = _confined(policy, ALL, lambda _: None)
    _active(report, ("namespaces", "seccomp"))
    assert "own IPC" in report["namespaces"]
    assert "tmpfs of 256 MiB" in report["namespaces"]
    assert "no sockets, SysV IPC, message queues or memfd" in report["seccomp"]


# -- the whole sandbox, as bpverify runs it -----------------------------------------------------------

def test_a_correct_implementation_with_numpy_scipy_and_threads_still_conforms(
        tmp_path: Path) -> None:
    """The filter leaves what a correct implementation does at import and in its calls:
    numpy, scipy, a thread pool; ``bpverify check`` runs it with every layer."""
    (tmp_path / "network.py").write_text(book_source(textwrap.dedent("""
        import concurrent.futures
        import scipy.linalg
        import scipy.special
        POOL = concurrent.futures.ThreadPoolExecutor(2)

        class Network(BookNetwork):
            def backprop(self, x, y):
                scipy.special.expit(scipy.linalg.norm(x))
                return POOL.submit(BookNetwork.backprop, self, x, y).result()
        """)))
    writable = tmp_path / "home"
    writable.mkdir()
    run = run_isolated("network:Network", Placement(cwd=str(tmp_path), readable=(str(tmp_path),),
                                                    writable=(str(writable),)), LIMITS)
    assert run.verdict == "CONFORMS", (run.error, run.output, run.protections)
    if os.geteuid() == 0 and sandbox.platform.machine() == "x86_64":
        assert all(state.startswith("active") for state in run.protections.values())


def _attacker(address: str, shmid: int, victim: int) -> str:
    """A correct network that tries, at import and in every backprop, each hole of the audit;
    if ANY succeeds its gradients are doubled, so CONFORMS proves every attempt failed."""
    return book_source(textwrap.dedent(f"""
        import ctypes, fcntl, os, socket
        succeeded = []

        def attempt(what, action):
            try:
                action()
                succeeded.append(what)
            except BaseException:
                pass

        def read_secret():
            with socket.socket(socket.AF_UNIX) as client:
                client.settimeout(5)
                client.connect({address!r})
                if not client.recv(100):
                    raise OSError("nothing read")

        def attach():
            libc = ctypes.CDLL(None, use_errno=True)
            libc.shmat.restype = ctypes.c_void_p
            if libc.shmat({shmid}, None, 0o10000) in (None, ctypes.c_void_p(-1).value):
                raise OSError("not attached")

        def owner():
            read, _ = os.pipe()
            fcntl.fcntl(read, fcntl.F_SETOWN, {victim})

        def attack():
            attempt("read the secret of a pathname UNIX socket", read_secret)
            attempt("attach a shared memory segment", attach)
            attempt("make a memfd", lambda: os.memfd_create("hoard"))
            attempt("F_SETOWN another process", owner)
            attempt("renice another process", lambda: os.setpriority(os.PRIO_PROCESS, {victim}, 19))
            attempt("pin another process", lambda: os.sched_setaffinity({victim}, {{0}}))

        attack()

        class Network(BookNetwork):
            def backprop(self, x, y):
                attack()
                nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
                if succeeded:
                    print("succeeded:", sorted(set(succeeded)))
                    return [2 * b for b in nabla_b], nabla_w
                return nabla_b, nabla_w
        """))


def test_the_audits_attacker_conforms_confined_and_is_caught_unconfined(
        tmp_path: Path, victim: subprocess.Popen[bytes]) -> None:
    copy, scratch = tmp_path / "ws" / "copy", tmp_path / "scratch"
    for folder in (copy, scratch):
        folder.mkdir(parents=True)
    address = str(scratch / "listener.sock")
    with _outside_segment() as shmid, _listener(address) as served:
        (copy / "network.py").write_text(_attacker(address, shmid, victim.pid))
        placement = Placement(cwd=str(copy), writable=(str(copy),), hidden=(str(tmp_path / "ws"),))
        run = run_isolated("network:Network", placement, LIMITS, only=["BP3"])
        if not run.protections.get("seccomp", "").startswith("active"):
            pytest.skip(f"seccomp is {run.protections.get('seccomp')}")
        assert run.verdict == "CONFORMS", run.output
        assert not served
        control = run_isolated("network:Network", dataclasses.replace(placement, layers=()),
                               LIMITS, only=["BP3"])
    assert control.verdict == "DOES NOT CONFORM", control.output
    for what in ("read the secret", "attach", "memfd", "F_SETOWN", "renice", "pin"):
        assert what in control.output, (what, control.output)


def test_grading_survives_a_disk_filler_and_a_sparse_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit's disk: one submission fills its folder at import, another ships a 1 GiB
    sparse file, a third is over the copy limit (lowered here to 1 MiB: an ERROR that names the
    file); the correct ones after them still CONFORM. Root only: unconfined by namespaces, the
    filler would fill the real disk."""
    if os.geteuid() != 0:
        pytest.skip("the filler needs the namespaces' tmpfs (root) to be harmless")
    monkeypatch.setattr(submissions, "DISK_BYTES", 1 << 20)
    root = tmp_path / "class"
    filler = book_source(textwrap.dedent("""
        import errno as _errno
        written = 0
        try:
            while True:
                with open(f"fill-{written >> 24}", "ab") as f:
                    f.write(bytes(1 << 20))
                written += 1 << 20
        except OSError as error:
            print("filled", written >> 20, "MiB:", _errno.errorcode[error.errno])
        """))
    for name, text in (("a-filler", filler), ("b-sparse", book_source()),
                       ("c-oversized", book_source()), ("d-correct", book_source())):
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    with open(root / "b-sparse" / "weights.bin", "wb") as f:
        f.truncate(1 << 30)
    (root / "c-oversized" / "weights.bin").write_bytes(bytes(2 << 20))
    entries = {e["submission"]: e for e in grade(root, tmp_path / "out", jobs=2, limits=LIMITS,
                                                 only=["BP1"]).entries}
    verdicts = {name: e["verdict"] for name, e in entries.items()}
    assert verdicts == {"a-filler": "CONFORMS", "b-sparse": "CONFORMS", "c-oversized": "ERROR",
                        "d-correct": "CONFORMS"}, entries
    reason = entries["c-oversized"]["reason"]
    assert "its files could not be copied" in reason and "weights.bin" in reason, reason
    assert "over its limit of 1.0 MiB" in reason
    if entries["a-filler"]["protections"]["namespaces"].startswith("active"):
        assert "ENOSPC" in entries["a-filler"]["output"]


def _death_signal(_: Any) -> dict[str, str]:
    """PR_SET_PDEATHSIG reset to 0 (the sandbox would outlive its checker), and PR_GET_DUMPABLE,
    which stays allowed."""
    nr, _options = sandbox.X86_64_OPTIONS_DENIED["prctl"]
    return {"PR_SET_PDEATHSIG": _raw(nr, 1, 0), "PR_GET_DUMPABLE (allowed)": _raw(nr, 3, 0)}


def test_the_death_signal_cannot_be_reset(policy: sandbox.Policy) -> None:
    """A sandbox that reset its death signal survived Ctrl-C and kill -9 of `grade` (an audit's
    orphan slept on under pid 1); the filter refuses the reset, and without it the reset works."""
    report, result = _confined(policy, ("seccomp",), _death_signal)
    _active(report, ("seccomp",))
    assert result["PR_SET_PDEATHSIG"] == EPERM
    assert result["PR_GET_DUMPABLE (allowed)"] != EPERM
    _, control = _confined(policy, NONE, _death_signal)
    assert control["PR_SET_PDEATHSIG"] != EPERM, control
