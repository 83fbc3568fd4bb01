"""Text a submission controls, made safe to show (isolation/display.py), and every writer of the
gradebook and of `bpverify check`'s report fed every byte 0–255 and lone surrogates: the CSV,
the JSON and the HTML are written whole, parse, and show the bad characters escaped; no terminal
escape reaches the terminal."""

from __future__ import annotations

import csv
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from handed_in import backprop_runs_first

from bpverify.commands.check import main as check_main
from bpverify.conformance.isolation.gradebook import page_names, write_gradebook
from bpverify.conformance.protocol.display import one_line, shown

pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

EVERY_BYTE = "".join(map(chr, range(256)))
SURROGATES = "\ud800\udbff\udc00\udcff\udce9"
ATTACKS = ("\x1b[2J\x1b[H", "\x1b]52;c;ZmFrZQ==\x07", "\x1b]0;title\x1b\\", "\x9b31m",
           "\x1bP1$r\x1b\\", "\rCONFORMS", "\u202eevil", "\x1bc")

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""What must never be shown: every control character but tab and newline, the bidi overrides,
lone surrogates."""


def test_shown_text_keeps_the_text_and_escapes_or_removes_the_rest() -> None:
    assert shown("δˡ = (wˡ⁺¹)ᵀδˡ⁺¹\n\tok") == "δˡ = (wˡ⁺¹)ᵀδˡ⁺¹\n\tok"
    assert shown("jos\udce9") == "jos\\xe9"  # a byte that was not UTF-8
    assert shown("\ud800") == "\\ud800"
    assert shown("\x1b[2J\x1b[1;1HCONFORMS") == "CONFORMS"  # the sequence removed whole
    assert shown("\x1b]52;c;ZmFrZQ==\x07text") == "text"  # a clipboard write
    assert shown("a\rb") == "a\\rb" and shown("a\r\nb") == "a\nb"
    assert shown("\x07\x00\x7f\x85") == "\\x07\\x00\\x7f\\x85"
    assert one_line("a\nb\tc") == "a\\nb\\tc"
    for text in (EVERY_BYTE + SURROGATES, *ATTACKS):
        for made_safe in (shown(text), one_line(text)):
            assert not UNSAFE.search(made_safe), repr(made_safe)
            made_safe.encode("utf-8")  # strict: no writer can fail on it
    assert not re.search("[\n\t]", one_line(EVERY_BYTE))


def _entry(name: str, text: str) -> dict[str, object]:
    return {"submission": name, "path": f"/class/{name}", "verdict": "ERROR", "reason": text,
            "checks": {"BP1": "fail"}, "failed": ["BP1"], "seconds": 0.5,
            "implementation": text, "capabilities": text, "output": text,
            "protections": {"rlimits": "active"},
            "outcomes": [{"check": "BP1", "status": "fail", "equation": "BP1", "detail": text,
                          "diagnosis": text, "rerun": "bpverify check network:Network",
                          "case": text}]}


def test_every_byte_and_lone_surrogates_through_csv_json_and_html(tmp_path: Path) -> None:
    text = EVERY_BYTE + SURROGATES + "".join(ATTACKS)
    names = [os.fsdecode(b"jos\xe9"), "=cmd|' /C calc'!A0", "\udcff\ud800",
             *(f"s{chr(i)}" for i in range(1, 256) if chr(i) not in "/")]
    entries = [_entry(name, text) for name in names]
    write_gradebook(tmp_path, entries, ["BP1"], {"submissions": text, "spec": "network:Network",
                                                 "started": 0}, {"since": text})
    raw = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert len(raw) == 3 + len(names)
    for path, data in raw.items():
        decoded = data.decode("utf-8")  # strict
        assert not UNSAFE.search(decoded.replace("\r\n", "\n")), path
    with (tmp_path / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [r[0] for r in rows[1:4]] == ["jos\\xe9", "'=cmd|' /C calc'!A0", "\\xff\\ud800"]
    book = json.loads(raw[tmp_path / "gradebook.json"])
    assert book["submissions"][0]["submission"] == "jos\\xe9"
    assert "\\x07" in book["submissions"][0]["reason"]  # shown, escaped
    pages = page_names(names)
    assert len(set(pages)) == len(names)

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: list[str] = []

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    index = Text()
    index.feed(raw[tmp_path / "index.html"].decode())
    assert "jos\\xe9" in "".join(index.text)


def test_the_terminal_report_shows_nothing_a_submission_can_use_to_draw(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What it prints (clear screen, a clipboard write, a carriage return over the verdict) and
    what it raises (a lone surrogate) reach the terminal as text, never as control."""
    attack = "".join(ATTACKS)
    (tmp_path / "network.py").write_text(backprop_runs_first(
        f"print({attack!r} + {EVERY_BYTE[:32]!r}, flush=True)\n"
        f"raise ValueError({(SURROGATES + attack)!r})"))
    monkeypatch.chdir(tmp_path)
    assert check_main("network:Network", seconds=5.0, only=["shapes"]) == 1
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert not UNSAFE.search(stream), repr(stream)
    assert "raised ValueError: \\ud800" in captured.out  # the message, escaped and shown
    assert "\\rCONFORMS" in captured.err  # what it printed, escaped and shown
