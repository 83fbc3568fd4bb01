"""The user's frames of a traceback or a running stack (protocol/locations.py), and frames sent
by a sandbox read back as printable display text only."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bpverify.conformance.protocol import locations
from bpverify.conformance.protocol.calls import ImplementationFault, call_with_limit


def _module(folder: Path, source: str) -> dict[str, object]:
    path = folder / "student_code.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def test_an_exception_names_the_innermost_user_frame_its_source_and_its_callers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = _module(tmp_path, """
        def inner(v):
            return v @ v  # the crash

        def outer(v):
            return inner(v)
    """)
    import numpy as np
    with pytest.raises(ImplementationFault) as raised:
        call_with_limit("outer(v)", code["outer"], np.ones((2, 3)), seconds=10)
    text = str(raised.value)
    assert "student_code.py:3 in inner: return v @ v  # the crash" in text
    assert "called from student_code.py:6 in outer" in text


def test_frames_from_a_sandbox_are_printable_and_malformed_ones_are_dropped() -> None:
    hostile = [["net\x1b[2J.py\nCONFORMS: 17 passed", 3, "f\r", "x = 1\u2028FAKE"]]
    (frame,) = locations.frames_from_data(hostile)
    assert "\n" not in frame.describe() and "\x1b" not in frame.describe()
    assert "\u2028" not in frame.source and "\r" not in frame.function
    for bad in ("text", [[1, 2, 3, 4]], [["f", "3", "g", ""]], [["f", True, "g", ""]],
                [["f", -1, "g", ""]], [["f", 1, "g"]]):
        assert locations.frames_from_data(bad) == ()
    long = [["a" * 10_000, 1, "g", "b" * 10_000]] * 50
    frames = locations.frames_from_data(long)
    assert len(frames) == locations.MAX_FRAMES
    assert len(frames[0].describe()) < 3 * locations.MAX_TEXT


def test_bpverify_and_the_library_are_not_the_users_frames() -> None:
    try:
        import json
        json.loads("{")
    except ValueError:
        frames = locations.user_frames(sys.exc_info()[2])
    assert [f.file for f in frames] == [locations.short(Path(__file__).resolve())]
