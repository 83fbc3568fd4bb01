"""What calls leave behind (suite/checks/state.py)."""

from __future__ import annotations

import numpy as np

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.suite.runner import run_suite


def test_inputs_are_never_shared_with_the_implementation() -> None:
    """The suite hands out copies: an implementation that scribbles on its arguments cannot
    corrupt the cases of later checks."""
    class Scribbler(BookNetwork):
        def backprop(self, x, y):  # type: ignore[no-untyped-def]
            result = super().backprop(x, y)
            x[...] = np.nan
            return result
    report = run_suite(as_implementation(Scribbler))
    failing = {o.check.id for o in report.outcomes if o.status in ("fail", "error")}
    assert failing == {"inputs-not-mutated"}

