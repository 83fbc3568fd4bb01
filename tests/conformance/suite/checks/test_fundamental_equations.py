"""The shapes check and the equations' allowances keyed by dtype
(suite/checks/fundamental_equations.py): float32 declared passes, undeclared is named."""

from __future__ import annotations

import numpy as np
from reports import SEEDS
from reports import problems as _problems

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.suite.runner import run_suite


class Float32Network(BookNetwork):
    """The book's code computing in float32 (its naive σ(1 − σ) too): correct, but for rounding."""

    bpverify_capabilities = {"dtype": "float32"}

    def backprop(self, x, y):  # type: ignore[no-untyped-def]
        self.weights = [w.astype(np.float32) for w in self.weights]
        self.biases = [b.astype(np.float32) for b in self.biases]
        return super().backprop(x.astype(np.float32), y.astype(np.float32))

    def apply_step(self, nabla_b, nabla_w, eta, m):  # type: ignore[no-untyped-def]
        """The book's step, cast back: its float64 accumulators would make w and b float64."""
        super().apply_step(nabla_b, nabla_w, eta, m)
        self.weights = [w.astype(np.float32) for w in self.weights]
        self.biases = [b.astype(np.float32) for b in self.biases]


class UndeclaredFloat32Network(Float32Network):
    """Computes in float32, returns float64 arrays and declares nothing."""

    bpverify_capabilities: dict[str, str] = {}

    def backprop(self, x, y):  # type: ignore[no-untyped-def]
        nabla_b, nabla_w = super().backprop(x, y)
        return [b.astype(np.float64) for b in nabla_b], [w.astype(np.float64) for w in nabla_w]


def test_a_correct_float32_implementation_passes_with_float32_tolerances() -> None:
    report = run_suite(as_implementation(Float32Network), seeds=SEEDS)
    assert report.passed, _problems(report)


def test_results_of_another_dtype_than_declared_fail_shapes() -> None:
    report = run_suite(as_implementation(type("Undeclared", (Float32Network,), {
        "bpverify_capabilities": {}})), only=["shapes"])
    failure = report.outcomes[0].failure
    assert failure is not None and "has dtype float32, expected float64" in failure.message
    assert "declare the dtype you compute in" in (failure.diagnosis or "")
    class Float64Declared32(BookNetwork):
        bpverify_capabilities = {"dtype": "float32"}

        def backprop(self, x, y):  # type: ignore[no-untyped-def]
            return super().backprop(x.astype(np.float64), y.astype(np.float64))
    float64 = run_suite(as_implementation(Float64Declared32), only=["shapes"])
    assert "has dtype float64, expected float32" in float64.outcomes[0].detail


def test_float32_arithmetic_undeclared_fails_with_a_hint_to_declare_it() -> None:
    """The float32 allowance is what lets the float32 network pass: checked as float64 it fails,
    and the report says what the numbers look like."""
    report = run_suite(as_implementation(UndeclaredFloat32Network),
                       only=["gradient-vs-reference"])
    assert not report.passed
    assert "this looks like float32 arithmetic" in (report.outcomes[0].failure.diagnosis or "")

