"""The grading journal: every verdict appended durably the moment it arrives, so that a run
killed at any point loses nothing it had graded, and the next run resumes from it.

OUT/verdicts.jsonl holds one JSON object a line, across every run on that OUT:

* ``{"kind": "run", "run": ID, "started": T, "options": SHA, ...}`` when a run starts;
* ``{"kind": "verdict", "run": ID, "submission": NAME, "content": SHA, "options": SHA,
  "entry": {...}}`` for each verdict (``entry`` as in gradebook.json), written and fsync'd
  before the next submission's verdict is taken;
* ``{"kind": "end", "run": ID, ...}`` when a run has written its gradebook.

Lines are ASCII (``ensure_ascii``): a lone surrogate in a name or a message is kept as a
``\\udcXX`` escape, losslessly. A last line cut short by a kill is ignored, and cut off before
the next append. A verdict is *current* for a submission when its content hash (``content``:
``submissions.content_hash``) and its options hash (``options``: the assignment, the spec, the
seeds, the limits and bpverify's own code) are those of the run at hand.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

NAME = "verdicts.jsonl"


def _finite(value: Any) -> Any:
    """Strict JSON: a NaN or ±inf becomes its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def encode(record: dict[str, Any]) -> bytes:
    """One line: ASCII JSON, surrogates escaped, never failing on a submission's text."""
    return (json.dumps(_finite(record), ensure_ascii=True, allow_nan=False, default=str)
            + "\n").encode("ascii")


class Journal:
    """OUT/verdicts.jsonl: ``records`` to read it, ``append`` to add to it durably."""

    def __init__(self, out: Path) -> None:
        self.path = out / NAME
        self._file: IO[bytes] | None = None

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete, well-formed record, oldest first (a torn last line is skipped)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        for line in data.split(b"\n"):
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short by a kill, or an empty one
                continue
            if isinstance(record, dict) and isinstance(record.get("kind"), str):
                yield record

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last verdict of each submission, by name."""
        found: dict[str, dict[str, Any]] = {}
        for record in self.records():
            if record["kind"] == "verdict" and isinstance(record.get("submission"), str):
                found[record["submission"]] = record
        return found

    def runs(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["kind"] == "run"]

    def append(self, record: dict[str, Any]) -> None:
        """Write one record and fsync it: once this returns, a kill cannot lose it."""
        if self._file is None:
            self._file = self._open()
        self._file.write(encode(record))
        self._file.flush()
        os.fsync(self._file.fileno())

    def _open(self) -> IO[bytes]:
        """Open for appending; cut off a torn last line first; a new file's folder fsync'd."""
        new = not self.path.exists()
        if not new:
            with self.path.open("r+b") as f:
                data = f.read()
                if data and not data.endswith(b"\n"):
                    f.truncate(data.rfind(b"\n") + 1)
        handle = self.path.open("ab")
        if new:
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        return handle

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
