"""Copying a submission into its private folder within a byte limit (issue 17).

``copy_capped(src, dst, limit_bytes)`` copies a folder (or one file) and charges each file's
data against the limit as a disk or tmpfs allocates it, in pages of 4 KiB: a sparse file is
charged its data only and stays sparse in the copy (SEEK_DATA, SEEK_HOLE), where a dense copy
of a 1 GiB file with no data would fill the disk. It refuses, naming the file and the sizes, a
copy that would pass the limit (before writing that file), a symbolic link that points, or
resolves through the submission's own links, outside the copied folder, and a folder nested too
deeply; a failure of any kind leaves nothing of the partial copy. Regular files, folders and
symbolic links are copied, anything else (a fifo, a socket, a device) is left out; names are
kept byte for byte (str with surrogateescape), and names in messages are printable.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Collection
from dataclasses import dataclass, field

from bpverify.conformance.protocol.display import one_line

PAGE = 4096
"""What a disk block or a tmpfs page holds: a file's data is charged in whole pages."""
MAX_DEPTH = 64
"""Folders nested deeper than this are refused (each level holds a descriptor while copied)."""
MAX_LINK_HOPS = 40
"""Symbolic links followed while resolving one link's target, as the kernel's own limit."""
CHUNK = 1 << 20


class CopyRefused(OSError):
    """The copy was refused or stopped: the message names the file and why; nothing is left."""


def shown(name: str) -> str:
    """A name as printable text: undecodable bytes as \\xNN, control characters escaped
    (``display.one_line``)."""
    return one_line(name)


def size_text(n: int) -> str:
    """``n`` bytes in the largest unit that keeps it at least 1, and exactly."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


@dataclass
class _Copy:
    """One copy in progress: the source's root folder (links resolve against it), the budget,
    and the folders whose mode and times are set last (a read-only one could not be filled)."""

    root: int
    label: str
    limit: int
    skip: Collection[str]
    used: int = 0
    folders: list[tuple[str, int, int, int]] = field(default_factory=list)

    def name(self, parts: list[str]) -> str:
        return shown(os.path.join(self.label, *parts))


def copy_capped(src: str | os.PathLike[str], dst: str | os.PathLike[str], limit_bytes: int, *,
                skip_names: Collection[str] = ()) -> int:
    """Copy the folder or regular file ``src`` to ``dst`` and return the bytes charged.

    ``dst`` must not exist, or (for a folder) be an empty folder such as a mount point, which
    is then filled and kept. Names in ``skip_names`` are left out at every level. Raises
    ``CopyRefused`` (an OSError) for a copy over ``limit_bytes``, a symbolic link leading
    outside ``src``, folders nested deeper than ``MAX_DEPTH``, or a file that cannot be read;
    whatever was copied is removed first (``dst`` too, if this call made it).
    """
    if limit_bytes <= 0:
        raise ValueError(f"limit_bytes is {limit_bytes}, expected a positive number of bytes")
    src, dst = os.fspath(src), os.fspath(dst)
    try:
        source = os.open(src, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise CopyRefused(f"{shown(src)}: cannot be read: {os.strerror(error.errno or 0)}"
                          ) from error
    owned: bool | None = None  # None: nothing of ours at dst yet; True: dst; False: its contents
    try:
        kind = os.fstat(source).st_mode
        job = _Copy(source, src, limit_bytes, frozenset(skip_names))
        if stat.S_ISDIR(kind):
            owned = _prepare_folder(dst)
            target = os.open(dst, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                _copy_folder(job, source, target, [])
                for rel, mode, atime, mtime in reversed(job.folders):
                    os.chmod(rel, mode, dir_fd=target)
                    os.utime(rel, ns=(atime, mtime), dir_fd=target, follow_symlinks=False)
            finally:
                os.close(target)
        elif stat.S_ISREG(kind):
            if os.path.lexists(dst):
                raise CopyRefused(f"{shown(dst)}: already exists, the copy of a file makes it")
            owned = True
            folder, base = os.path.split(os.path.abspath(dst))
            parent = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                _copy_file(job, source, parent, base, [])
            finally:
                os.close(parent)
        else:
            raise CopyRefused(f"{shown(src)}: neither a folder nor a regular file")
    except BaseException:
        if owned is not None:
            _remove(dst, owned)
        raise
    finally:
        os.close(source)
    return job.used


def _prepare_folder(dst: str) -> bool:
    """True if ``dst`` was made here; an existing one must be an empty folder."""
    try:
        os.mkdir(dst, 0o700)
        return True
    except FileExistsError:
        if os.path.islink(dst) or not os.path.isdir(dst) or os.listdir(dst):
            raise CopyRefused(f"{shown(dst)}: already exists and is not an empty folder"
                              ) from None
        return False


def _remove(dst: str, made: bool) -> None:
    """Remove the partial copy: ``dst`` itself if this call made it, else what it holds."""
    if made:
        if os.path.isdir(dst) and not os.path.islink(dst):
            shutil.rmtree(dst, ignore_errors=True)
        else:
            try:
                os.unlink(dst)
            except FileNotFoundError:
                pass
        return
    if os.path.isdir(dst):
        for entry in os.scandir(dst):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)


def _copy_folder(job: _Copy, source: int, target: int, parts: list[str]) -> None:
    if len(parts) >= MAX_DEPTH:
        raise CopyRefused(f"{job.name(parts)}: folders nested more than {MAX_DEPTH} deep")
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        name = entry.name
        if name in job.skip:
            continue
        here = [*parts, name]
        try:
            info = os.stat(name, dir_fd=source, follow_symlinks=False)
        except FileNotFoundError:
            continue  # gone meanwhile
        if stat.S_ISLNK(info.st_mode):
            link = os.readlink(name, dir_fd=source)
            why = _escapes(job.root, parts, link, MAX_LINK_HOPS)
            if why:
                raise CopyRefused(f"{job.name(here)}: a symbolic link to {shown(link)}, {why}: "
                                  "refused (in the copy it would lead outside it)")
            os.symlink(link, name, dir_fd=target)
        elif stat.S_ISDIR(info.st_mode):
            inner = _open(job, name, source, here, os.O_DIRECTORY)
            try:
                os.mkdir(name, 0o700, dir_fd=target)
                made = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                               dir_fd=target)
                try:
                    _copy_folder(job, inner, made, here)
                finally:
                    os.close(made)
            finally:
                os.close(inner)
            job.folders.append((os.path.join(*here), stat.S_IMODE(info.st_mode) & 0o777,
                                info.st_atime_ns, info.st_mtime_ns))
        elif stat.S_ISREG(info.st_mode):
            opened = _open(job, name, source, here, 0)
            try:
                _copy_file(job, opened, target, name, here)
            finally:
                os.close(opened)
        # anything else (fifo, socket, device) is left out, as the grader always did


def _open(job: _Copy, name: str, folder: int, parts: list[str], flags: int) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | flags,
                       dir_fd=folder)
    except OSError as error:
        raise CopyRefused(f"{job.name(parts)}: cannot be read: {os.strerror(error.errno or 0)}"
                          ) from error


def _segments(fd: int, size: int) -> list[tuple[int, int]]:
    """The file's data as (start, end) ranges; all of it where the file system cannot say."""
    found: list[tuple[int, int]] = []
    position = 0
    while position < size:
        try:
            start = os.lseek(fd, position, os.SEEK_DATA)
        except OSError as error:
            if error.errno == errno.ENXIO:  # only a hole from here to the end
                break
            if error.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                return [(0, size)]
            raise
        if start >= size:
            break
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        found.append((start, end))
        position = end
    return found


def charged(segments: list[tuple[int, int]]) -> int:
    """Bytes a copy of these data ranges allocates: the whole pages they touch."""
    return sum(-(-end // PAGE) * PAGE - start // PAGE * PAGE for start, end in segments)


def _copy_file(job: _Copy, source: int, folder: int, name: str, parts: list[str]) -> None:
    info = os.fstat(source)
    if not stat.S_ISREG(info.st_mode):
        return  # swapped for something else since it was listed
    segments = _segments(source, info.st_size)
    cost = charged(segments)
    if job.used + cost > job.limit:
        data = sum(end - start for start, end in segments)
        sparse = f", {size_text(info.st_size)} with its holes" if data < info.st_size else ""
        raise CopyRefused(
            f"{job.name(parts)}: its data, {size_text(data)}{sparse}, would bring the copy to "
            f"{size_text(job.used + cost)}, over its limit of {size_text(job.limit)}; "
            f"{size_text(job.used)} had been copied before it, and the partial copy is removed")
    job.used += cost
    out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                  dir_fd=folder)
    try:
        for start, end in segments:  # the ranges measured, never more: a growing file is cut
            position = start
            while position < end:
                chunk = os.pread(source, min(CHUNK, end - position), position)
                if not chunk:
                    break  # shortened meanwhile
                written = 0
                while written < len(chunk):
                    written += os.pwrite(out, chunk[written:], position + written)
                position += len(chunk)
        os.ftruncate(out, info.st_size)  # the trailing hole, if any; no data written there
        os.fchmod(out, stat.S_IMODE(info.st_mode) & 0o777)
        os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
    finally:
        os.close(out)


def _escapes(root: int, folder: list[str], target: str, hops: int) -> str | None:
    """Why ``target``, a link's text in ``folder`` (names below ``root``), leads outside ``root``
    when resolved there, following the tree's own links as the kernel would; None if it stays."""
    if os.path.isabs(target):
        return "an absolute path"
    path = list(folder)
    pieces = target.split("/")
    for i, piece in enumerate(pieces):
        if piece in ("", "."):
            continue
        if piece == "..":
            if not path:
                return "which leads above the copied folder"
            path.pop()
            continue
        candidate = [*path, piece]
        try:
            info = os.stat(os.path.join(*candidate), dir_fd=root, follow_symlinks=False)
        except OSError:  # dangling from here: the rest stays as written
            path = candidate
            continue
        if stat.S_ISLNK(info.st_mode):
            if hops <= 0:
                return f"which passes more than {MAX_LINK_HOPS} links (a loop?)"
            inner = os.readlink(os.path.join(*candidate), dir_fd=root)
            rest = "/".join(pieces[i + 1:])
            return _escapes(root, path, inner + ("/" + rest if rest else ""), hops - 1)
        path = candidate
    return None
