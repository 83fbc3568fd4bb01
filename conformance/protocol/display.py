"""Text from a submission made safe to show: any bytes, any string, on a terminal, in a CSV
cell, a JSON file or an HTML page.

A submission controls its folder's name (which may not be UTF-8: an old zip tool's ``jos\\xe9``
reaches Python as the lone surrogate ``\\udce9``), the messages of its exceptions (which may hold
lone surrogates that no UTF-8 writer accepts) and everything it prints (which may hold terminal
escapes: clear the screen, move the cursor, write the clipboard, draw a fake green report over
the real one). ``shown`` turns any of it into text that every writer accepts and that does
nothing but show itself:

* a terminal escape sequence (CSI ``ESC [ … final``, OSC ``ESC ] … BEL|ST``, DCS/SOS/PM/APC
  strings, two-character ``ESC x``, and their 8-bit C1 forms) is removed whole;
* any other control character (C0 but tab and newline, DEL, C1), and the bidirectional
  overrides that reorder what is shown (U+202A–U+202E, U+2066–U+2069) and the Unicode line and
  paragraph separators (U+2028, U+2029), is shown escaped:
  ``\\x07``, ``\\r``, ``\\u202e``;
* a lone surrogate is shown escaped: ``\\xe9`` for a byte that was not UTF-8
  (surrogateescape's U+DC80–U+DCFF), ``\\ud800`` otherwise.

``one_line`` does the same and also shows newlines and tabs escaped (names, CSV cells).
"""

from __future__ import annotations

import re
from typing import Any

_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI … final byte
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS…
    r"|\x1b[ -/]*[0-~]"  # ESC with intermediates and a final byte (ESC c: reset, ESC ( B …)
)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: Any) -> str:
    """``value`` as text that shows itself and nothing else (see the module's docstring);
    newlines and tabs are kept, a CR LF is a newline."""
    text = "" if value is None else str(value)
    text = _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n"))
    return _CONTROL.sub(_escaped, text)


def one_line(value: Any) -> str:
    """``shown``, with newlines and tabs escaped too: a name or a cell on one line."""
    text = "" if value is None else str(value)
    return _CONTROL_ONE_LINE.sub(_escaped, _ESCAPE_SEQUENCE.sub("", text))


def shown_tree(value: Any) -> Any:
    """Every string of a JSON-like tree (dict keys too) made ``shown``: a tree every UTF-8
    writer accepts."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {shown(k): shown_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown_tree(v) for v in value]
    return value
