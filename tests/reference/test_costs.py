"""Costs: ∇ₐC against the complex step of C, and cross-entropy at a = 0 or 1."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpverify.reference import costs
from bpverify.reference.activations import sigmoid, softmax

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


@pytest.mark.parametrize(("cost", "output"), [(costs.cross_entropy, sigmoid),
                                              (costs.categorical_cross_entropy, softmax)],
                         ids=["cross-entropy", "categorical"])
@given(data=st.data())
def test_the_cost_in_z_is_the_cost_in_a(cost: costs.Cost, output: object,
                                        data: st.DataObject) -> None:
    """Where σ(zᴸ) keeps its digits (|z| ≤ 4) the two forms agree to rounding."""
    n = data.draw(st.integers(1, 4))
    z = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=n, max_size=n))).reshape(-1, 1)
    y = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))).reshape(-1, 1)
    if cost is costs.categorical_cross_entropy:
        y = y / y.sum() if y.sum() > 0 else np.full_like(y, 1 / n)
    in_a = cost.value(output.f(z), y)  # type: ignore[attr-defined]
    in_z = costs.value_at_output(cost, output, z, y)  # type: ignore[arg-type]
    assert abs(in_z - in_a) <= 1e-14 * max(1.0, abs(in_a))


@pytest.mark.parametrize("shift", [12.0, 20.0, 30.0, 800.0])
def test_the_complex_step_of_the_cost_in_z_is_exact_where_the_output_saturates(
        shift: float) -> None:
    """∂C/∂zᴸ = aᴸ − y for cross-entropy with σ and for softmax with −Σ y ln a: the complex step of
    the cost in zᴸ gives it to rounding at |zᴸ| up to 800; through aᴸ the cross-entropy loses
    −log₁₀(1 − aᴸ) digits (the negative control: off by more than 1e-10 at zᴸ = 20, and no
    number at all at 800, where 1 − aᴸ rounds to 0)."""
    from bpverify.reference.numerical import numerical_gradient
    z0 = np.array([shift, -shift, 0.5 * shift, 1.0])
    y = np.array([0.3, 0.9, 0.0, 1.0])
    for cost, output, target in ((costs.cross_entropy, sigmoid, y),
                                 (costs.categorical_cross_entropy, softmax, y / y.sum())):
        def in_z(t, cost=cost, output=output, target=target):  # type: ignore[no-untyped-def]
            return costs.value_at_output(cost, output, t.reshape(-1, 1), target.reshape(-1, 1))
        exact = output.f(z0.reshape(-1, 1))[:, 0] - target
        step = numerical_gradient(in_z, z0, "complex").value
        assert np.max(np.abs(step - exact)) <= 1e-15 * np.max(np.abs(exact)) + 1e-300
    if shift < 20:
        return

    def in_a(t):  # type: ignore[no-untyped-def]
        return costs.cross_entropy.value(sigmoid.f(t.reshape(-1, 1)), y.reshape(-1, 1))
    with np.errstate(all="ignore"):
        through_a = numerical_gradient(in_a, z0, "complex").value
    exact = sigmoid.f(z0.reshape(-1, 1))[:, 0] - y
    error = np.max(np.abs(through_a - exact)) / np.max(np.abs(exact))
    assert not error <= 1e-10, error  # NaN at 800 counts as off
