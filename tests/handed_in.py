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
