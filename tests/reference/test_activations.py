"""σ and σ′ of every activation: accuracy in the tails, no overflow warnings, conventions.

The exact values come from mpmath at 50 digits, independent of our formulas.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpverify.oracles.cases import cubic_activation
from bpverify.reference import activations as A

mpmath.mp.dps = 50
TAIL_RTOL = 1e-12  # the bound for σ′ at z = ±40; we meet it at u-level
EXACT = {
    "sigmoid": (lambda z: 1 / (1 + mpmath.exp(-z)), lambda z: mpmath.exp(-z) / (1 + mpmath.exp(-z)) ** 2),
    "tanh": (mpmath.tanh, lambda z: 1 / mpmath.cosh(z) ** 2),
    "softplus": (lambda z: mpmath.log(1 + mpmath.exp(z)), lambda z: 1 / (1 + mpmath.exp(-z))),
    "identity": (lambda z: z, lambda z: mpmath.mpf(1)),
}


@pytest.mark.parametrize("name", sorted(EXACT))
@pytest.mark.parametrize("z", [-40.0, -12.5, -1.0, -1e-9, 0.0, 0.3, 2.0, 17.0, 40.0])
def test_value_and_derivative_match_mpmath(name: str, z: float) -> None:
    act = A.BUILTIN_ACTIVATIONS[name]
    f, fprime = EXACT[name]
    for got, exact in ((act.f(np.array(z)), f(mpmath.mpf(z))),
                       (act.fprime(np.array(z)), fprime(mpmath.mpf(z)))):
        if exact == 0:
            assert float(got) == 0.0
        else:
            assert abs((float(got) - exact) / exact) <= TAIL_RTOL, (name, z, float(got), exact)


def test_sigmoid_prime_at_40_is_not_zero() -> None:
    """The naive σ(1 − σ) gives 0 at z = 40; the true value is 4.248e-18."""
    naive = A.sigmoid(np.array(40.0)) * (1 - A.sigmoid(np.array(40.0)))
    assert naive == 0.0
    exact = EXACT["sigmoid"][1](mpmath.mpf(40))
    assert abs(float(A.sigmoid.fprime(np.array(40.0))) - exact) / exact <= TAIL_RTOL


@pytest.mark.parametrize("act", list(A.BUILTIN_ACTIVATIONS.values()), ids=lambda a: a.name)
def test_no_overflow_warning_for_any_finite_z(act: A.Activation) -> None:
    z = np.array([-1.7e308, -1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4, 1.7e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, derivatives = act.f(z), act.fprime(z)
    if act.name != "identity":
        assert np.all(np.isfinite(derivatives))
    assert not np.any(np.isnan(values))


@pytest.mark.parametrize("act", [a for a in A.BUILTIN_ACTIVATIONS.values()] + [cubic_activation()],
                         ids=lambda a: a.name)
@given(z=st.floats(-50, 50).filter(lambda v: abs(v) > 1e-6))
def test_derivative_equals_complex_step_of_value(act: A.Activation, z: float) -> None:
    """σ′ written by hand against Im σ(z + ih)/h, exact to rounding for analytic σ."""
    h = 1e-20
    complex_step = float(np.imag(act.f(np.array(z + 1j * h)))) / h
    hand = float(act.fprime(np.array(z)))
    assert abs(hand - complex_step) <= 1e-14 * max(abs(complex_step), 1e-300), (z, hand, complex_step)


def test_relu_derivative_is_zero_at_the_kink() -> None:
    """The convention at z = 0: ReLU′(0) = 0, as JAX and PyTorch."""
    assert float(A.relu.fprime(np.array(0.0))) == 0.0
    assert A.relu.kinks == (0.0,)


def test_per_neuron_layer_applies_row_by_row() -> None:
    layer = A.PerNeuron((A.sigmoid, A.identity, A.tanh))
    z = np.array([[0.5, -1.0], [2.0, 3.0], [-0.25, 4.0]])
    expected = np.vstack([A.sigmoid(z[:1]), z[1:2], A.tanh(z[2:])])
    np.testing.assert_array_equal(layer.f(z), expected)
    np.testing.assert_array_equal(layer.fprime(z)[1], [1.0, 1.0])


def test_layer_activations_rejects_wrong_counts_and_widths() -> None:
    with pytest.raises(ValueError, match="activation has 1 entries, expected one per layer"):
        A.layer_activations([A.sigmoid], [2, 3, 1])
    with pytest.raises(ValueError, match="layer 2 has 2 per-neuron activations, expected 3"):
        A.layer_activations([A.PerNeuron((A.sigmoid, A.tanh)), A.sigmoid], [2, 3, 1])
    with pytest.raises(ValueError, match="expected an Activation"):
        A.layer_activations("sigmoid", [2, 1])  # type: ignore[arg-type]


def test_softmax_belongs_to_the_output_layer_only() -> None:
    from bpverify.reference.activations import layer_activations, sigmoid, softmax
    assert layer_activations([sigmoid, softmax], [3, 4, 2])[-1] is softmax
    with pytest.raises(ValueError, match="layer 2 is softmax, which belongs to the output layer 3"):
        layer_activations([softmax, sigmoid], [3, 4, 2])
    with pytest.raises(ValueError, match="softmax belongs to the output layer only"):
        layer_activations(softmax, [3, 4, 2])


def test_softmax_bp1_is_the_jacobian_product_and_a_minus_y_with_categorical_cross_entropy() -> None:
    """δᴸ = (diag(a) − aaᵀ)∇ₐC, written out as a matrix here, equals the vjp the reference uses;
    with C = −Σ y ln a and Σ y = 1 it is a − y."""
    import numpy as np

    from bpverify.reference.activations import softmax
    from bpverify.reference.costs import categorical_cross_entropy, quadratic
    from bpverify.reference.equations import bp1_output_error
    rng = np.random.default_rng(5)
    z, y = rng.standard_normal((4, 1)), np.eye(4)[:, [2]]
    a = softmax.f(z)
    jacobian = np.diag(a[:, 0]) - a @ a.T
    np.testing.assert_allclose(bp1_output_error(z, a, y, softmax, quadratic),
                               jacobian.T @ (a - y), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(jacobian.T @ categorical_cross_entropy.gradient(a, y), a - y,
                               rtol=1e-12, atol=1e-15)
    assert softmax.f(np.array([[1000.0], [0.0]]))[0, 0] == 1.0  # no overflow
