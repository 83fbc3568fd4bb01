"""Where in the user's code something happened: the user's frames of a traceback or of a running
stack (file:line, function and source line), as display text.

A frame is the user's when its file is not bpverify's, not importlib's and not in the Python
installation (standard library, site-packages). The same frames are read in-process (pytest
``--bp-impl``) and inside a sandbox, which sends them to the checker as plain data
(``frames_to_data``); the checker reads them back with ``frames_from_data``, which accepts only
short, printable text: a location is shown to a reader, never parsed as a verdict.
"""

from __future__ import annotations

import functools
import linecache
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, NamedTuple

from bpverify.conformance.protocol.display import one_line

MAX_FRAMES = 8
"""The innermost user frames kept (a deep recursion of theirs is not sent whole)."""
MAX_TEXT = 200
"""Characters kept of a file name, a function name or a source line."""


class UserFrame(NamedTuple):
    """One frame in the user's code: the file (relative to the current folder where it lies
    inside it), the line, the function, and the source line (stripped; "" if unreadable)."""

    file: str
    line: int
    function: str
    source: str

    def describe(self) -> str:
        where = f"{self.file}:{self.line}"
        if self.function and self.function != "<module>":
            where += f" in {self.function}"
        return f"{where}: {self.source}" if self.source else where


def user_frames(tb: TracebackType | None, exclude: tuple[Path, ...] = ()) -> list[UserFrame]:
    """The frames of ``tb`` in the user's code, outermost first (at most MAX_FRAMES, the
    innermost kept)."""
    return _users(traceback.extract_tb(tb), exclude)


def stack_frames(frame: FrameType | None) -> list[UserFrame]:
    """The user's frames of a running stack whose innermost frame is ``frame``, outermost first."""
    return [] if frame is None else _users(traceback.extract_stack(frame), ())


def describe(frames: Iterable[UserFrame]) -> str:
    """``at network.py:113 in backpropagate: return np.dot(w, delta) …, called from
    network.py:84 in backprop``: the innermost frame with its source line, then its callers'
    locations (two at most); "" for no frame."""
    frames = list(frames)
    if not frames:
        return ""
    text = f"at {frames[-1].describe()}"
    callers = [f"{f.file}:{f.line}" + (f" in {f.function}" if f.function != "<module>" else "")
               for f in reversed(frames[:-1])][:2]
    if callers:
        text += ", called from " + " ← ".join(callers)
    return text


def location(frames: Iterable[UserFrame]) -> str | None:
    """``file:line`` of the innermost user frame, or None."""
    frames = list(frames)
    return f"{frames[-1].file}:{frames[-1].line}" if frames else None


def frames_to_data(frames: Iterable[UserFrame]) -> list[list[Any]]:
    return [[f.file, f.line, f.function, f.source] for f in frames]


def frames_from_data(data: Any) -> tuple[UserFrame, ...]:
    """Frames sent by a sandbox, checked and made printable; () for anything malformed."""
    if not isinstance(data, list):
        return ()
    frames = []
    for item in data[-MAX_FRAMES:]:
        if not (isinstance(item, list) and len(item) == 4 and isinstance(item[1], int)
                and not isinstance(item[1], bool) and 0 <= item[1] < 10**9
                and all(isinstance(t, str) for t in (item[0], item[2], item[3]))):
            return ()
        frames.append(UserFrame(printable(item[0]), item[1], printable(item[2]),
                                printable(item[3])))
    return tuple(frames)


def printable(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line as ``display.one_line`` shows it (terminal escapes removed, control
    characters and lone surrogates escaped), at most ``limit`` characters."""
    cleaned = one_line(text[:4 * limit]).strip()
    return cleaned if len(cleaned) <= limit else cleaned[:limit - 1] + "…"


def _users(entries: traceback.StackSummary, exclude: tuple[Path, ...]) -> list[UserFrame]:
    theirs = (*_our_folders(), *exclude, *_library_folders())
    found = []
    for entry in entries:
        if entry.filename.startswith("<"):
            continue
        path = Path(entry.filename).resolve()
        if any(path.is_relative_to(p) for p in theirs):
            continue
        line = entry.lineno or 0
        source = entry.line or linecache.getline(entry.filename, line)
        found.append(UserFrame(printable(short(path)), line, printable(entry.name),
                               printable(source.strip())))
    return found[-MAX_FRAMES:]


@functools.cache
def _our_folders() -> tuple[Path, ...]:
    """The folders of bpverify's own packages, installed or in a source checkout (found once: a
    thread reading a hung import's stack must not wait for the import lock)."""
    import bpverify
    return tuple(Path(p).resolve() for p in bpverify.folders())


def prepare() -> None:
    """Find bpverify's and the installation's folders now, before the user's code runs."""
    _our_folders()
    _library_folders()


@functools.cache
def _library_folders() -> tuple[Path, ...]:
    return tuple({Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def short(path: Path) -> str:
    """``path`` relative to the current folder where it lies inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
