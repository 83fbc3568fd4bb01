"""Confining the process that runs an implementation: each layer applied on its own, reported.

``confine(policy)`` runs in the freshly forked process that will import the implementation,
before any of its code runs, and applies, in this order:

* ``namespaces`` (as root): a private mount and network namespace in which every file system is
  read-only except the writable folders, the hidden folders (the other submissions, the results,
  the other private copies) and /proc are covered by empty tmpfs, and there is no network;
* ``rlimits``: address space (memory), CPU seconds, file size, open files, no core dumps;
* ``capabilities`` (as root): all of them dropped, so no limit can be raised again and no root
  power (mount, module loading, raw sockets, …) remains; the uid stays 0 (see the README);
* ``landlock``: read-only access to the Python installation, bpverify and the system libraries,
  read-write access to the writable folders, nothing else; no TCP (ABI 4); no signals to, and
  no abstract sockets of, processes outside the sandbox (ABI 6);
* ``seccomp`` (x86-64): no new processes, no exec, no namespaces, mounts, ptrace, bpf or
  io_uring; kill and prlimit only on itself.

A layer the kernel or the user's rights do not allow is reported inactive with the reason; the
run goes on with the others. Linux only, through ctypes; nothing here is imported elsewhere.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import resource
import struct
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

LAYERS: tuple[str, ...] = ("namespaces", "rlimits", "capabilities", "landlock", "seccomp")

SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/dev/null",
                   "/dev/zero", "/dev/urandom", "/dev/random")
"""What any Python process may need to read besides its own installation."""


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


def overlaps(protected: Iterable[str], readable: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs (protected, readable) where one folder lies inside the other: a sandbox allowed to
    read the second could read the first, or could not read what it needs."""
    pairs = []
    for p in protected:
        for r in readable:
            pp, rr = Path(p).resolve(), Path(r).resolve()
            if pp.is_relative_to(rr) or rr.is_relative_to(pp):
                pairs.append((str(pp), str(rr)))
    return pairs


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str) -> None:
    if result < 0 or result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


# -- namespaces -----------------------------------------------------------------------------------

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE = 442, -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None,
           ) -> None:
    _check(_libc.mount(_encoded(source), _encoded(target), _encoded(fstype), ctypes.c_ulong(flags),
                       _encoded(data)), f"mount {target}")


def _mount_setattr(path: str, recursive: bool, set_flags: int, clear_flags: int) -> None:
    attr = struct.pack("QQQQ", set_flags, clear_flags, 0, 0)
    _check(_libc.syscall(SYS_MOUNT_SETATTR, ctypes.c_int(AT_FDCWD), path.encode(),
                         ctypes.c_uint(AT_RECURSIVE if recursive else 0), attr,
                         ctypes.c_size_t(len(attr))), f"mount_setattr {path}")


def private_namespaces(policy: Policy) -> str:
    """A mount namespace where all is read-only but ``writable``, ``hidden`` and /proc are empty
    tmpfs, and a network namespace with no interface up (needs root)."""
    if os.geteuid() != 0:
        return "inactive: needs root (the other layers still apply)"
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    kept = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in policy.writable}
    for folder in policy.hidden:
        if Path(folder).is_dir():
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
    for path, fd in kept.items():  # bind each writable folder back, also where a tmpfs hid it
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND, None)
        os.close(fd)
    _mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
    _mount_setattr("/", True, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0)
    for path in policy.writable:
        _mount_setattr(path, False, 0, MOUNT_ATTR_RDONLY)
    os.chdir(policy.cwd)  # the old working directory still pointed into the hidden, read-only tree
    return f"active: read-only file systems, {len(policy.hidden)} folders and /proc hidden, no network"


# -- resource limits -------------------------------------------------------------------------------

def resource_limits(policy: Policy) -> str:
    """Soft = hard for each, so the implementation cannot raise them (CPU: SIGXCPU, then SIGKILL)."""
    applied = []
    if policy.memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (policy.memory_bytes, policy.memory_bytes))
        applied.append(f"memory {policy.memory_bytes / 2**30:g} GiB")
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
    "process_vm_writev": 311, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
    "pivot_root": 155, "chroot": 161, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "bpf": 321,
    "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "keyctl": 250,
    "add_key": 248, "request_key": 249, "tkill": 200, "pidfd_send_signal": 424,
}
X86_64_CLONE, X86_64_CLONE3 = 56, 435
X86_64_SELF_ONLY = {"kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
                    "prlimit64": 302}
"""Allowed only with their first argument (a pid) equal to the process's own (prlimit: or 0)."""
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


def _seccomp_program(pid: int) -> list[tuple[int, int, int, int]]:
    """The filter over seccomp_data (nr at offset 0, arch at 4, the low half of args[0] at 16)."""
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    items: list[str | tuple[int, str | int, str | int, int]] = [
        (ld, 0, 0, 4), (jeq, 0, "deny", AUDIT_ARCH_X86_64),
        (ld, 0, 0, 0), (jge, "deny", 0, 0x40000000),  # the x32 ABI
        *[(jeq, "deny", 0, nr) for nr in sorted(X86_64_DENIED.values())],
        (jeq, "enosys", 0, X86_64_CLONE3),  # glibc then falls back to clone for threads
        (jeq, "clone", 0, X86_64_CLONE),
        *[(jeq, f"self-{name}", 0, nr) for name, nr in X86_64_SELF_ONLY.items()],
        (ret, 0, 0, SECCOMP_RET_ALLOW),
        "clone", (ld, 0, 0, 16), (jset, "allow", "deny", CLONE_THREAD),
    ]
    for name in X86_64_SELF_ONLY:
        items += [f"self-{name}", (ld, 0, 0, 16)]
        items += ([(jeq, "allow", 0, pid), (jeq, "allow", "deny", 0)] if name == "prlimit64"
                  else [(jeq, "allow", "deny", pid)])
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
    return "active: no new processes or exec, no namespaces, mounts, ptrace; signals only to itself"


# -- all layers -----------------------------------------------------------------------------------

def confine(policy: Policy) -> dict[str, str]:
    """Apply ``policy.layers``, in order; each reports "active: …" or "inactive: why"."""
    os.chdir(policy.cwd)
    steps = {"namespaces": lambda: private_namespaces(policy),
             "rlimits": lambda: resource_limits(policy), "capabilities": drop_capabilities,
             "landlock": lambda: landlock(policy), "seccomp": seccomp_filter}
    report = {}
    for name in [layer for layer in LAYERS if layer in policy.layers]:
        try:
            report[name] = steps[name]()
        except (OSError, ValueError) as error:
            report[name] = f"inactive: {error}"
    return report
