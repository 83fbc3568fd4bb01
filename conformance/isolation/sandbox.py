"""Confining the process that runs an implementation: each layer applied on its own, reported.

``confine(policy)`` runs in the freshly forked process that will import the implementation,
before any of its code runs, and applies, in this order:

* ``namespaces`` (as root): a private mount, network and IPC namespace. Every file system is
  read-only except the writable folders; the hidden folders (the other submissions, the
  results, the other private copies) and /proc are covered by empty tmpfs; each writable folder
  is a tmpfs of ``disk_bytes`` (its contents copied in, ``copying.copy_capped``), so a full disk
  is the sandbox's own and ends with it; there is no network; SysV IPC objects and POSIX
  message queues made inside die with the sandbox and those outside are invisible;
* ``rlimits``: address space (memory), CPU seconds, file size (the only disk limit where the
  namespaces are not active), open files, no core dumps;
* ``capabilities`` (as root): all of them dropped, so no limit can be raised again and no root
  power (mount, module loading, raw sockets, …) remains; the uid stays 0 (see the README);
* ``landlock``: read-only access to the Python installation, bpverify and the system libraries,
  read-write access to the writable folders, nothing else; no TCP (ABI 4); no signals to, and
  no abstract sockets of, processes outside the sandbox (ABI 6);
* ``seccomp`` (x86-64): no new processes, no exec, no namespaces, mounts, ptrace (nor its
  cousins pidfd_getfd and process_madvise), bpf or io_uring; no new socket of any family and
  no connect, bind or listen (the channel to the checker is made before; pathname UNIX sockets
  are outside every other layer); no SysV IPC, POSIX message queues or memfd (memory that
  RLIMIT_AS does not count, and SysV objects outlive the process); no signal owner set with
  fcntl or ioctl (F_SETOWN, F_SETOWN_EX, F_SETSIG, FIOSETOWN, SIOCSPGRP, TIOCSPGRP) and no
  TIOCSTI; kill, prlimit, setpriority, ioprio_set and the scheduler's setters only on itself.
  Each denial is the error EPERM, so the implementation sees an ordinary OSError.

A layer the kernel or the user's rights do not allow is reported inactive with the reason; the
run goes on with the others. Linux only, through ctypes; nothing here is imported elsewhere.

Kept whole: the layers in the order they are applied, each reported; apart, the order would be
implicit.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import resource
import stat
import struct
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bpverify.conformance.isolation.copying import copy_capped

LAYERS: tuple[str, ...] = ("namespaces", "rlimits", "capabilities", "landlock", "seccomp")

SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/dev/null",
                   "/dev/zero", "/dev/urandom", "/dev/random")
"""What any Python process may need to read besides its own installation."""
DISK_BYTES = 256 << 20
"""The default size of a writable folder (its tmpfs, as root): the copy and all it writes."""


@dataclass(frozen=True)
class Policy:
    """What the confined process may touch, and its resource limits (0 means no limit)."""

    cwd: str
    readable: tuple[str, ...] = ()
    writable: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    memory_bytes: int = 2 << 30
    cpu_seconds: int = 0
    file_bytes: int = 64 << 20
    open_files: int = 256
    disk_bytes: int = DISK_BYTES
    """Each writable folder's tmpfs (with the namespaces): its contents and all written there."""
    layers: tuple[str, ...] = LAYERS
    """The layers to apply: all, but for a test's negative control."""


@functools.cache
def python_readable() -> tuple[str, ...]:
    """The folders an interpreter needs to import what it has not imported yet: its prefixes,
    standard library and site-packages, and bpverify's own packages (not ``sys.path`` itself:
    it may hold the current folder)."""
    import site

    import bpverify

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    found.update(p for key, p in sysconfig.get_paths().items() if key in (
        "stdlib", "platstdlib", "purelib", "platlib"))
    found.update(site.getsitepackages())
    found.add(site.getusersitepackages())
    found.update(bpverify.folders())
    return tuple(sorted(str(Path(p).resolve()) for p in found if p and Path(p).exists()))


def overlaps(protected: Iterable[str], readable: Iterable[str], *,
             either_way: bool = True) -> list[tuple[str, str]]:
    """Pairs (protected, readable) where the protected folder lies inside the readable one (a
    sandbox allowed to read the second could read the first) or, ``either_way``, the readable
    one inside the protected one (a class folder holding a virtualenv)."""
    pairs = []
    for p in protected:
        for r in readable:
            pp, rr = Path(p).resolve(), Path(r).resolve()
            if pp.is_relative_to(rr) or (either_way and rr.is_relative_to(pp)):
                pairs.append((str(pp), str(rr)))
    return pairs


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str) -> None:
    if result < 0 or result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


# -- namespaces -----------------------------------------------------------------------------------

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x40000000, 0x08000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MNT_DETACH = 442, -100, 0x8000, 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None,
           ) -> None:
    _check(_libc.mount(_encoded(source), _encoded(target), _encoded(fstype), ctypes.c_ulong(flags),
                       _encoded(data)), f"mount {target}")


def _mount_setattr(path: str, recursive: bool, set_flags: int, clear_flags: int) -> None:
    attr = struct.pack("QQQQ", set_flags, clear_flags, 0, 0)
    _check(_libc.syscall(SYS_MOUNT_SETATTR, ctypes.c_int(AT_FDCWD), os.fsencode(path),
                         ctypes.c_uint(AT_RECURSIVE if recursive else 0), attr,
                         ctypes.c_size_t(len(attr))), f"mount_setattr {path}")


def _unshare() -> bool:
    """New mount, network and (where the kernel has them) IPC namespaces; True with IPC."""
    if _libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC) == 0:
        return True
    if ctypes.get_errno() != errno.EINVAL:  # EINVAL: a kernel built without IPC namespaces
        _check(-1, "unshare")
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    return False


def _writable_folder(path: str, folder: int, disk_bytes: int) -> str | None:
    """At ``path``, a tmpfs of ``disk_bytes`` holding a copy of the open ``folder``; where that
    cannot be (no quota asked, contents over it), the folder itself. Returns why not, or None."""
    if disk_bytes <= 0:
        why = "no quota asked"
    else:
        mode = stat.S_IMODE(os.fstat(folder).st_mode)
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={disk_bytes},mode={mode:o}")
        try:
            copy_capped(f"/proc/self/fd/{folder}", path, disk_bytes)
            return None
        except OSError as error:
            _check(_libc.umount2(os.fsencode(path), MNT_DETACH), f"umount {path}")
            why = f"its contents could not be copied in: {error}"
    _mount(f"/proc/self/fd/{folder}", path, None, MS_BIND, None)
    return why


def private_namespaces(policy: Policy) -> str:
    """A mount namespace where all is read-only but ``writable`` (each a tmpfs of
    ``disk_bytes`` holding a copy of it), ``hidden`` and /proc are empty tmpfs, a network
    namespace with no interface up and an IPC namespace of its own (needs root)."""
    if os.geteuid() != 0:
        return "inactive: needs root (the other layers still apply)"
    ipc = _unshare()
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    kept = {p: os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) for p in policy.writable}
    for folder in policy.hidden:
        if Path(folder).is_dir():
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
    on_disk = []
    for path, fd in kept.items():  # each writable folder back, also where a tmpfs hid it
        os.makedirs(path, exist_ok=True)
        try:
            why = _writable_folder(path, fd, policy.disk_bytes)
        finally:
            os.close(fd)
        if why:
            on_disk.append(f"{path} ({why})")
    _mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
    _mount_setattr("/", True, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0)
    for path in policy.writable:
        _mount_setattr(path, False, 0, MOUNT_ATTR_RDONLY)
    os.chdir(policy.cwd)  # the old working directory still pointed into the hidden, read-only tree
    parts = ["read-only file systems", f"{len(policy.hidden)} folders and /proc hidden"]
    if len(on_disk) < len(policy.writable):
        parts.append(f"writable folders on tmpfs of {policy.disk_bytes / 2**20:g} MiB")
    if on_disk:
        parts.append("no disk quota for " + "; ".join(on_disk))
    parts.append("own IPC" if ipc else "no IPC namespace (the kernel has none)")
    return "active: " + ", ".join(parts + ["no network"])


# -- resource limits -------------------------------------------------------------------------------

def address_space_in_use() -> int:
    """Bytes of address space this process maps now (/proc/self/statm), 0 where unknown (then
    the limit is ``memory_bytes`` itself, as before)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def resource_limits(policy: Policy, inherited: int | None = None) -> str:
    """Soft = hard for each, so the implementation cannot raise them (CPU: SIGXCPU, then SIGKILL).

    The address space is limited to what the process maps when confined plus ``memory_bytes``:
    a fork inherits its parent's mappings (a checker that imported JAX maps several GiB it never
    touches), and the implementation's budget must not depend on them. (So it may also reuse
    heap its checker mapped and freed: the bound is memory_bytes plus the checker's mapping.)
    ``inherited``: that mapping, measured before /proc was hidden (by default, now)."""
    applied = []
    if policy.memory_bytes:
        inherited = address_space_in_use() if inherited is None else inherited
        limit = inherited + policy.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        applied.append(f"memory {policy.memory_bytes / 2**30:g} GiB beyond the "
                       f"{inherited / 2**30:.2f} GiB mapped at the start")
    if policy.cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (policy.cpu_seconds, policy.cpu_seconds + 1))
        applied.append(f"CPU {policy.cpu_seconds} s")
    if policy.file_bytes:
        resource.setrlimit(resource.RLIMIT_FSIZE, (policy.file_bytes, policy.file_bytes))
        applied.append(f"files {policy.file_bytes / 2**20:g} MiB")
    if policy.open_files:
        resource.setrlimit(resource.RLIMIT_NOFILE, (policy.open_files, policy.open_files))
        applied.append(f"{policy.open_files} open files")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return "active: " + ", ".join(applied + ["no core dumps"])


# -- capabilities ---------------------------------------------------------------------------------

PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 24, 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522


def drop_capabilities() -> str:
    """Empty bounding, ambient, effective, permitted and inheritable sets (as root)."""
    if os.geteuid() != 0:
        return "inactive: not root, there are none to drop"
    cap = 0
    while _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) == 0:
        cap += 1
    if ctypes.get_errno() != errno.EINVAL or cap == 0:
        raise OSError(ctypes.get_errno(), f"dropping capability {cap} from the bounding set")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient")
    header = ctypes.create_string_buffer(struct.pack("Ii", LINUX_CAPABILITY_VERSION_3, 0))
    data = ctypes.create_string_buffer(bytes(24))
    _check(_libc.capset(header, data), "capset")
    return f"active: all {cap} dropped (uid stays 0)"


# -- Landlock -------------------------------------------------------------------------------------

SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_RULE_PATH_BENEATH = 1, 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | (1 << 14) | (1 << 15)
"""Rights that apply to a regular file (execute, write, read, truncate, ioctl), not a folder."""
FS_CHAR_AND_BLOCK = (1 << 6) | (1 << 11)


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers, 0 if none."""
    version = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _fs_rights(abi: int) -> int:
    """Every file-system right this ABI knows: all of them are handled, so unlisted means denied."""
    bits = 13 + (abi >= 2) + (abi >= 3)
    rights = (1 << bits) - 1
    return rights | ((1 << 15) if abi >= 5 else 0)


def landlock(policy: Policy) -> str:
    abi = landlock_abi()
    if abi < 1:
        return "inactive: the kernel offers no Landlock"
    handled = _fs_rights(abi)
    net = 0b11 if abi >= 4 else 0  # bind and connect TCP: handled, never allowed
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets and signals outside the sandbox
    attr = struct.pack("QQQ", handled, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    ruleset = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(len(attr)),
                            ctypes.c_uint32(0))
    _check(ruleset, "landlock_create_ruleset")
    try:
        read = FS_READ_FILE | FS_READ_DIR
        write = handled & ~FS_EXECUTE & ~FS_CHAR_AND_BLOCK & ~(1 << 15)
        rules = [(p, read) for p in (*SYSTEM_READABLE, *policy.readable)]
        rules += [(p, write) for p in policy.writable]
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # absent on this system
            try:
                if not Path(path).is_dir():
                    rights &= FS_FILE_RIGHTS
                rule = struct.pack("=Qi", rights & handled, fd)
                _check(_libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                                     ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), rule,
                                     ctypes.c_uint32(0)), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset),
                             ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    parts = ["files"] + (["TCP"] if net else []) + (["signals, abstract sockets"] if scoped else [])
    return f"active: ABI {abi} ({', '.join(parts)})"


# -- seccomp --------------------------------------------------------------------------------------

AUDIT_ARCH_X86_64 = 0xC000003E
X86_64_DENIED = {
    "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310,
    "process_vm_writev": 311, "pidfd_getfd": 438, "process_madvise": 440, "unshare": 272,
    "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "io_uring_setup": 425, "keyctl": 250, "add_key": 248, "request_key": 249, "tkill": 200,
    "pidfd_send_signal": 424,
    # sockets: none new, and no connection (the channel to the checker is made before)
    "socket": 41, "socketpair": 53, "connect": 42, "bind": 49, "listen": 50, "accept": 43,
    "accept4": 288,
    # SysV IPC and POSIX message queues (outlive the process), memfd (not counted by RLIMIT_AS)
    "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65,
    "semctl": 66, "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71,
    "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
    "mq_notify": 244, "mq_getsetattr": 245, "memfd_create": 319, "memfd_secret": 447,
}
X86_64_CLONE, X86_64_CLONE3 = 56, 435
PRIO_PROCESS, IOPRIO_WHO_PROCESS = 0, 1


@dataclass(frozen=True)
class SelfOnly:
    """A call allowed only on the process itself: its argument number ``pid`` equal to the
    process's own pid (or 0, where ``zero_is_self``), and ``which`` (argument, value), if given,
    holding too (a process: not a process group or a user's processes)."""

    nr: int
    pid: int = 0
    zero_is_self: bool = False
    which: tuple[int, int] | None = None


X86_64_SELF_ONLY = {
    "kill": SelfOnly(62), "tgkill": SelfOnly(234), "rt_sigqueueinfo": SelfOnly(129),
    "rt_tgsigqueueinfo": SelfOnly(297), "prlimit64": SelfOnly(302, zero_is_self=True),
    "setpriority": SelfOnly(141, 1, True, (0, PRIO_PROCESS)),
    "ioprio_set": SelfOnly(251, 1, True, (0, IOPRIO_WHO_PROCESS)),
    "sched_setaffinity": SelfOnly(203, zero_is_self=True),
    "sched_setscheduler": SelfOnly(144, zero_is_self=True),
    "sched_setparam": SelfOnly(142, zero_is_self=True),
    "sched_setattr": SelfOnly(314, zero_is_self=True),
}
"""Calls on a pid: signals, limits, priorities, CPU and I/O scheduling, for itself only."""
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15
FIOSETOWN, SIOCSPGRP, TIOCSPGRP, TIOCSTI = 0x8901, 0x8902, 0x5410, 0x5412
X86_64_COMMANDS_DENIED = {"fcntl": (72, (F_SETOWN, F_SETSIG, F_SETOWN_EX)),
                          "ioctl": (16, (FIOSETOWN, SIOCSPGRP, TIOCSPGRP, TIOCSTI))}
"""Commands (the second argument) denied: who gets a descriptor's signals (SIGIO, SIGURG: to
any process, where Landlock before ABI 6 does not scope them) and typing into a terminal."""
X86_64_OPTIONS_DENIED = {"prctl": (157, (1,))}
"""Options (the first argument) denied: PR_SET_PDEATHSIG (1), whose reset would let a sandbox
outlive the checker it is to die with (an audit's orphan survived Ctrl-C and kill -9 of grade)."""
CLONE_THREAD = 0x00010000
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def _assemble(items: Sequence[str | tuple[int, str | int, str | int, int]]
              ) -> list[tuple[int, int, int, int]]:
    """Classic BPF with named jumps (forward only, as BPF requires): an item is a label or
    (code, jt, jf, k), where a jump target is a label or 0 (the next instruction)."""
    labels: dict[str, int] = {}
    for item in items:
        if isinstance(item, str):
            labels[item] = sum(not isinstance(i, str) for i in items[:items.index(item)])
    program: list[tuple[int, int, int, int]] = []
    for item in items:
        if isinstance(item, str):
            continue
        code, jt, jf, k = item
        here = len(program)
        offset = [labels[t] - here - 1 if isinstance(t, str) else t for t in (jt, jf)]
        if not all(0 <= o <= 255 for o in offset):
            raise ValueError(f"BPF jump out of range at {here}: {offset}")
        program.append((code, offset[0], offset[1], k))
    return program


def _argument(index: int) -> int:
    """The offset in seccomp_data of the low half of argument ``index`` (nr 0, arch 4, ip 8)."""
    return 16 + 8 * index


def _seccomp_program(pid: int) -> list[tuple[int, int, int, int]]:
    """The filter over seccomp_data: the architecture, the call's number, and for some calls
    the low half of an argument (a pid or a command: the kernel reads an int there)."""
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    items: list[str | tuple[int, str | int, str | int, int]] = [
        (ld, 0, 0, 4), (jeq, 0, "deny", AUDIT_ARCH_X86_64),
        (ld, 0, 0, 0), (jge, "deny", 0, 0x40000000),  # the x32 ABI
        *[(jeq, "deny", 0, nr) for nr in sorted(X86_64_DENIED.values())],
        (jeq, "enosys", 0, X86_64_CLONE3),  # glibc then falls back to clone for threads
        (jeq, "clone", 0, X86_64_CLONE),
        *[(jeq, f"self-{name}", 0, rule.nr) for name, rule in X86_64_SELF_ONLY.items()],
        *[(jeq, f"command-{name}", 0, nr) for name, (nr, _) in X86_64_COMMANDS_DENIED.items()],
        *[(jeq, f"option-{name}", 0, nr) for name, (nr, _) in X86_64_OPTIONS_DENIED.items()],
        (ret, 0, 0, SECCOMP_RET_ALLOW),
        "clone", (ld, 0, 0, _argument(0)), (jset, "allow", "deny", CLONE_THREAD),
    ]
    for name, rule in X86_64_SELF_ONLY.items():
        items.append(f"self-{name}")
        if rule.which is not None:
            items += [(ld, 0, 0, _argument(rule.which[0])), (jeq, 0, "deny", rule.which[1])]
        items.append((ld, 0, 0, _argument(rule.pid)))
        if rule.zero_is_self:
            items.append((jeq, "allow", 0, 0))
        items.append((jeq, "allow", "deny", pid))
    for name, (_, commands) in X86_64_COMMANDS_DENIED.items():
        items += [f"command-{name}", (ld, 0, 0, _argument(1))]
        items += [(jeq, "deny", 0, command) for command in commands]
        items.append((ret, 0, 0, SECCOMP_RET_ALLOW))
    for name, (_, options) in X86_64_OPTIONS_DENIED.items():
        items += [f"option-{name}", (ld, 0, 0, _argument(0))]
        items += [(jeq, "deny", 0, option) for option in options]
        items.append((ret, 0, 0, SECCOMP_RET_ALLOW))
    items += ["allow", (ret, 0, 0, SECCOMP_RET_ALLOW), "deny", (ret, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM),
              "enosys", (ret, 0, 0, SECCOMP_RET_ERRNO | errno.ENOSYS)]
    return _assemble(items)


def seccomp_filter() -> str:
    if platform.machine() != "x86_64" or sys.maxsize < 2**32:
        return f"inactive: the filter is written for x86-64, this is {platform.machine()}"
    prog = _seccomp_program(os.getpid())
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buffer = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("HxxxxxxP", len(prog), ctypes.addressof(buffer))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.create_string_buffer(fprog), 0,
                       0), "seccomp")
    return ("active: no new processes or exec, no namespaces, mounts, ptrace; no sockets, SysV "
            "IPC, message queues or memfd; signals, priorities and CPU affinity only for itself; its "
            "death signal kept")


# -- all layers -----------------------------------------------------------------------------------

def confine(policy: Policy) -> dict[str, str]:
    """Apply ``policy.layers``, in order; each reports "active: …" or "inactive: why"."""
    os.chdir(policy.cwd)
    inherited = address_space_in_use()  # before the namespaces hide /proc
    steps = {"namespaces": lambda: private_namespaces(policy),
             "rlimits": lambda: resource_limits(policy, inherited),
             "capabilities": drop_capabilities,
             "landlock": lambda: landlock(policy), "seccomp": seccomp_filter}
    report = {}
    for name in [layer for layer in LAYERS if layer in policy.layers]:
        try:
            report[name] = steps[name]()
        except (OSError, ValueError) as error:
            report[name] = f"inactive: {error}"
    return report
