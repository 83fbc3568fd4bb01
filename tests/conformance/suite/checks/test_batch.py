"""The update rule (suite/checks/batch.py): parameters keep the declared dtype; a hint about the
depth only where the depth could explain the step."""

from __future__ import annotations

import numpy as np

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.suite.battery import NetworkSpec
from bpverify.conformance.suite.checks.batch import _step_hint
from bpverify.conformance.suite.runner import run_suite


class Float32StepInFloat64(BookNetwork):
    """Computes its gradient in float32, as declared, but steps with the book's float64
    accumulators: the updated parameters come back float64."""

    bpverify_capabilities = {"dtype": "float32"}

    def backprop(self, x, y):  # type: ignore[no-untyped-def]
        self.weights = [w.astype(np.float32) for w in self.weights]
        self.biases = [b.astype(np.float32) for b in self.biases]
        return super().backprop(x.astype(np.float32), y.astype(np.float32))


def test_updated_parameters_of_another_dtype_than_declared_fail() -> None:
    report = run_suite(as_implementation(Float32StepInFloat64), only=["update-rule"])
    outcome = report.outcomes[0]
    assert outcome.status == "fail", outcome.detail
    assert "of dtype float64, expected float32" in outcome.detail
    assert outcome.failure is not None and "keep the parameters in float32" in (
        outcome.failure.diagnosis or "")


def test_the_depth_is_offered_only_where_it_could_explain_the_step() -> None:
    """η/(L − 1) is 1 at L = 2: no division, nothing for the depth to explain."""
    one_layer = NetworkSpec("drawn", (3, 2), 4, 1.0, 0)
    deep = NetworkSpec("drawn", (3, 4, 4, 2), 4, 1.0, 0)
    assert "L − 1" not in (_step_hint(4.0, one_layer, 4, 12) or "")
    assert "η instead of η/m" in (_step_hint(4.0, one_layer, 4, 12) or "")
    assert "η/(L − 1)" in (_step_hint(4 / 3, deep, 4, 12) or "")
