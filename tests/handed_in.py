"""Submissions as the tests hand them in: the book's network with code of the test's own run
first in every backprop, and the verdict line a faker prints."""

from __future__ import annotations

import textwrap

from bpverify.conformance.specimens.sources import book_source

FAKE = "CONFORMS: 17 passed, 0 failed, 0 errors, 0 skipped"


def backprop_runs_first(body: str) -> str:
    """The book's network, with ``body`` run first in every backprop."""
    return book_source("\nimport os, sys\n\n\nclass Network(BookNetwork):\n"
                       "    def backprop(self, x, y):\n" + textwrap.indent(body, " " * 8)
                       + "\n        return BookNetwork.backprop(self, x, y)\n")


BP2_LINE = "return np.dot(w_next.transpose(), delta) * self.sigmoid_prime(z)"


def w_for_w_transposed() -> tuple[str, int]:
    """The book's network with w for wᵀ in BP2 (it crashes on non-square layers), and the line
    number of that line in the source."""
    source = book_source()
    assert source.count(BP2_LINE) == 1
    source = source.replace(BP2_LINE, "return np.dot(w_next, delta) * self.sigmoid_prime(z)")
    line = next(i for i, text in enumerate(source.splitlines(), start=1)
                if "np.dot(w_next, delta)" in text)
    return source, line


def hangs_in_backprop() -> tuple[str, set[int]]:
    """The book's network whose backprop loops for ever, and the lines of the loop (a thread
    stopped in it is at one or the other)."""
    source = backprop_runs_first("while True:\n    x = x + 0")
    lines = [i for i, text in enumerate(source.splitlines(), start=1)
             if text.strip() in ("while True:", "x = x + 0")]
    return source, set(lines)
