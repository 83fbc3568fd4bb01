"""Costs: ∇ₐC against the complex step of C, and cross-entropy at a = 0 or 1."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpverify.reference import costs

UNIT_ROUNDOFF = 2.0 ** -53


def complex_step_gradient(cost: costs.Cost, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    h = 1e-20
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        shifted = a.astype(complex)
        shifted[i, 0] += 1j * h
        out[i, 0] = np.imag(cost.value(shifted, y)) / h
    return out


@pytest.mark.parametrize("cost", [costs.quadratic, costs.cross_entropy], ids=lambda c: c.name)
@given(data=st.data())
def test_gradient_equals_complex_step(cost: costs.Cost, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 5))
    unit = st.floats(0.01, 0.99)
    a = np.array([[data.draw(unit)] for _ in range(n)])
    y = np.array([[data.draw(st.sampled_from([0.0, 1.0]) | unit)] for _ in range(n)])
    expected = complex_step_gradient(cost, a, y)
    # The complex step of C sums the per-term derivatives (y/a and (1 − y)/(1 − a) for
    # cross-entropy), so it carries a rounding error of a few u times their magnitudes.
    terms = np.abs(a) + np.abs(y) if cost is costs.quadratic else y / a + (1 - y) / (1 - a)
    np.testing.assert_array_less(np.abs(cost.gradient(a, y) - expected), 8 * UNIT_ROUNDOFF * terms)


def test_quadratic_is_half_the_sum_of_squares() -> None:
    a, y = np.array([[0.5], [2.0]]), np.array([[1.0], [0.0]])
    assert costs.quadratic.value(a, y) == 0.5 * (0.25 + 4.0)


def test_cross_entropy_is_finite_at_saturated_outputs_that_match_the_label() -> None:
    a, y = np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]])
    assert costs.cross_entropy.value(a, y) == 0.0
    np.testing.assert_array_equal(costs.cross_entropy.gradient(a, y), [[1.0], [-1.0]])


def test_cross_entropy_with_sigmoid_output_simplifies_bp1() -> None:
    """δᴸ = aᴸ − y: the σ′ of BP1 cancels, which is what keeps it finite at saturation."""
    from bpverify.reference import sigmoid
    from bpverify.reference.equations import bp1_output_error
    z = np.array([[40.0], [-3.0]])
    a, y = sigmoid(z), np.array([[0.0], [1.0]])
    np.testing.assert_array_equal(bp1_output_error(z, a, y, sigmoid, costs.cross_entropy), a - y)


def test_custom_cost_rejects_non_callables() -> None:
    with pytest.raises(ValueError, match="must be callable"):
        costs.custom(1.0, lambda a, y: a)  # type: ignore[arg-type]
