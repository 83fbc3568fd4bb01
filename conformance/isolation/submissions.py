"""A class's submissions: found in its folder (``discover``), each copied to a private folder
(``private_copy``) that becomes its sandbox's working directory; the default spec and limits.

Every entry of SUBMISSIONS (a folder, or a single .py file) is one submission.
"""

from __future__ import annotations

import secrets
import shlex
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
        """The spec a teacher reruns: the file's path, or the spec within the folder."""
        return shlex.quote(f"{self.path}:{spec.rpartition(':')[2]}") if self.is_file else spec

    def rerun_prefix(self) -> str:
        return "" if self.is_file else f"cd {shlex.quote(str(self.path))} && "


def discover(root: Path, exclude: Sequence[Path] = ()) -> list[Submission]:
    """The submissions in ``root``: its folders and .py files, hidden names and caches left out."""
    if not root.is_dir():
        raise ValueError(f"SUBMISSIONS is {root}, expected a folder of submissions (each a folder "
                         "or a .py file)")
    skipped = {p.resolve() for p in exclude}
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".", "__")) or entry.resolve() in skipped:
            continue
        if entry.is_dir() or (entry.is_file() and entry.suffix == ".py"):
            found.append(Submission(entry.name, entry.resolve()))
    return found


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
