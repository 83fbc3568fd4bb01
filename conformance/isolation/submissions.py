"""A class's submissions: found in its folder (``discover``), each copied to a private folder
(``private_copy``) that becomes its sandbox's working directory, and known by the hash of its
content (``content_hash``); the default spec and limits.

Every entry of SUBMISSIONS (a folder, or a single .py file) is one submission. Its name is the
entry's name as the file system has it (a name that is not UTF-8 keeps its bytes as lone
surrogates; ``display.one_line`` shows them escaped).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bpverify.conformance.isolation.copying import copy_capped
from bpverify.conformance.isolation.sandbox import DISK_BYTES
from bpverify.conformance.isolation.worker import Limits

DEFAULT_SPEC = "network:Network"
DEFAULT_SUBMISSION_SECONDS = 120.0
DEFAULT_LIMITS = Limits(total_seconds=DEFAULT_SUBMISSION_SECONDS)
"""10 s a call (and the import), 120 s all calls of a submission, 2 GiB of address space."""


@dataclass(frozen=True)
class Submission:
    """One entry of the class folder: a folder with the spec's module, or one .py file."""

    name: str
    path: Path

    @property
    def is_file(self) -> bool:
        return self.path.is_file()

    def spec(self, spec: str) -> str:
        """The spec inside its private copy: a file's module is the file itself."""
        return f"{self.path.stem}:{spec.rpartition(':')[2]}" if self.is_file else spec

    def display_spec(self, spec: str) -> str:
        """The spec its author reruns in their own copy: the spec within the folder, or the
        file's own name (never the teacher's path)."""
        return shlex.quote(f"{self.path.name}:{spec.rpartition(':')[2]}") if self.is_file \
            else spec


def discover(root: Path, exclude: Sequence[Path] = ()) -> list[Submission]:
    """The submissions in ``root``: its folders and .py files, hidden names and caches left out;
    ValueError (with the reason) when ``root`` is not a readable folder or holds none."""
    if not root.is_dir():
        raise ValueError(f"SUBMISSIONS is {root}, expected a folder of submissions (each a folder "
                         "or a .py file)")
    skipped = {p.resolve() for p in exclude}
    found = []
    try:
        entries = sorted(root.iterdir())
    except OSError as error:
        raise ValueError(f"SUBMISSIONS {root} cannot be read: {error.strerror}") from None
    for entry in entries:
        if entry.name.startswith((".", "__")) or entry.resolve() in skipped:
            continue
        if entry.is_dir() or (entry.is_file() and entry.suffix == ".py"):
            found.append(Submission(entry.name, entry.resolve()))
    if not found:
        raise ValueError(f"SUBMISSIONS {root} holds no submission (expected a folder or a .py "
                         "file per student; hidden entries, caches and OUT are left out)")
    return found


def content_hash(submission: Submission) -> str:
    """sha256 of what is graded: the name and bytes of every file ``private_copy`` copies, and
    the target of every symbolic link, in a fixed order (a file submission: its bytes)."""
    digest = hashlib.sha256()

    def add_file(path: Path, relative: bytes) -> None:
        digest.update(b"F" + len(relative).to_bytes(4, "big") + relative)
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")

    if submission.is_file:
        add_file(submission.path, os.fsencode(submission.path.name))
        return digest.hexdigest()
    for folder, names, files in os.walk(submission.path):
        names[:] = sorted(n for n in names if n not in _ignored(folder, names))
        for name in sorted(set(files) - _ignored(folder, files)):
            path = Path(folder, name)
            relative = os.fsencode(path.relative_to(submission.path))
            if path.is_symlink():
                target = os.fsencode(os.readlink(path))
                digest.update(b"L" + len(relative).to_bytes(4, "big") + relative + target + b"\0")
            else:
                add_file(path, relative)
        for name in names:  # a symbolic link to a folder is not walked: its target is the content
            path = Path(folder, name)
            if path.is_symlink():
                relative = os.fsencode(path.relative_to(submission.path))
                digest.update(b"L" + len(relative).to_bytes(4, "big") + relative
                              + os.fsencode(os.readlink(path)) + b"\0")
        digest.update(b"D")
    return digest.hexdigest()


def private_copy(submission: Submission, workspace: Path) -> Path:
    """A fresh folder with a copy of the submission (regular files, folders and symbolic links
    as links; nothing else, no caches; within DISK_BYTES), under an unguessable name."""
    dest = workspace / secrets.token_hex(8)
    if submission.is_file:
        dest.mkdir()
        copy_capped(submission.path, dest / submission.path.name, DISK_BYTES)
    else:
        copy_capped(submission.path, dest, DISK_BYTES, skip_names=("__pycache__",))
    return dest


def _ignored(folder: str, names: list[str]) -> set[str]:
    """What ``private_copy`` leaves out, so the hash covers what is graded: caches, and entries
    that are no regular file, folder or symbolic link."""
    kept = (stat.S_ISREG, stat.S_ISDIR, stat.S_ISLNK)
    return {n for n in names if n == "__pycache__"
            or not any(k(os.lstat(os.path.join(folder, n)).st_mode) for k in kept)}
