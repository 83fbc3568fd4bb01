"""The frameworks' activations: σ and σ′ against mpmath at 50 digits in both tails, no overflow
warning for any finite z, σ′ against the complex step of σ and against JAX's derivative of σ as
written, the values at kinks, and names that round-trip through ``named_activation``.

The exact values are mpmath's, from each function's textbook definition (σ′ by mpmath's own
numerical differentiation at 50 digits), independent of our formulas.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpverify.oracles.cases import named_activation
from bpverify.reference import activation_families as F
from bpverify.reference.activations import Activation

mpmath.mp.dps = 50
RTOL = 2e-15
"""Relative error allowed against the 50-digit value: a few units of rounding (u = 1.1e-16),
the accuracy the formulas are written for, in both tails."""
DIFF_DIGITS = 400
"""mpmath's numerical derivative works at this many digits: where σ tends to a constant
(−λα for SELU) its change e^(−750) is 326 digits below it."""
COMPLEX_STEP_FLOOR = 1e-250
"""Below this σ′, Im σ(z + ih) = h·σ′ (h = 1e-20), and the imaginary parts of the terms it is
made of, come near the subnormal range and lose digits: σ′ there is checked against mpmath."""
UNDERFLOW = 1e-290
"""Where the exact value is below this, float64 keeps no relative accuracy (subnormals): the
result must then be within 1e-300 of it."""


def _softplus(z, beta=1, threshold=mpmath.inf):
    return z if beta * z > threshold else mpmath.log1p(mpmath.exp(beta * z)) / beta


def _elu(z, alpha=1):
    return z if z > 0 else alpha * mpmath.expm1(z)


SELU_ALPHA = mpmath.mpf("1.6732632423543772848170429916717")
SELU_SCALE = mpmath.mpf("1.0507009873554804934193349852946")
C = mpmath.sqrt(2 / mpmath.pi)

EXACT = {  # name → σ in mpmath, as the framework documents it
    "silu": lambda z: z / (1 + mpmath.exp(-z)),
    "mish": lambda z: z * mpmath.tanh(mpmath.log1p(mpmath.exp(z))),
    "gelu": lambda z: z * mpmath.erfc(-z / mpmath.sqrt(2)) / 2,
    "gelu(approximate=tanh)":  # ½z(1 + tanh u) = z/(1 + e^(−2u)), which mpmath keeps exactly
        lambda z: z / (1 + mpmath.exp(-2 * C * (z + mpmath.mpf("0.044715") * z ** 3))),
    "selu": lambda z: SELU_SCALE * (z if z > 0 else SELU_ALPHA * mpmath.expm1(z)),
    "softsign": lambda z: z / (1 + abs(z)),
    "logsigmoid": lambda z: -mpmath.log1p(mpmath.exp(-z)),
    "tanhshrink": lambda z: z - mpmath.tanh(z),
    "hardsigmoid": lambda z: min(max(z / 6 + mpmath.mpf(1) / 2, 0), 1),
    "hardswish": lambda z: z * min(max(z + 3, 0), 6) / 6,
    "relu6": lambda z: min(max(z, 0), 6),
    "softplus(threshold=20)": lambda z: _softplus(z, 1, 20),
    "softplus(beta=2,threshold=5)": lambda z: _softplus(z, 2, 5),
    "softplus(beta=0.5)": lambda z: _softplus(z, mpmath.mpf("0.5")),
    "leaky_relu": lambda z: z if z > 0 else z / 100,
    "leaky_relu(negative_slope=0.2)": lambda z: z if z > 0 else z * mpmath.mpf("0.2"),
    "elu": _elu,
    "elu(alpha=0.5)": lambda z: _elu(z, mpmath.mpf("0.5")),
    "celu(alpha=2)": lambda z: z if z > 0 else 2 * mpmath.expm1(z / 2),
    "hardtanh(min_val=-2,max_val=3)": lambda z: min(max(z, -2), 3),
    "threshold(threshold=0.5,value=-1)": lambda z: z if z > mpmath.mpf("0.5") else -1,
    "hardshrink(lambd=0.7)": lambda z: z if abs(z) > mpmath.mpf("0.7") else 0,
    "softshrink": lambda z: (z - mpmath.mpf("0.5") if z > mpmath.mpf("0.5")
                             else z + mpmath.mpf("0.5") if z < -mpmath.mpf("0.5") else 0),
}
POINTS = [-750.0, -40.0, -25.0, -12.5, -2.5, -1.0, -1e-9, 0.3, 1e-6, 2.0, 17.0, 26.0, 40.0, 750.0]
SMOOTH = {"silu", "mish", "gelu", "gelu(approximate=tanh)", "softsign", "logsigmoid", "tanhshrink"}


def _near_kink(act: Activation, z: float) -> bool:
    return any(abs(z - k) < 1e-3 for k in act.kinks)


def _close(got: float, exact: mpmath.mpf, slope: mpmath.mpf, z: float) -> bool:
    """Within RTOL of the exact value, relative to its size and to its change under a relative
    perturbation RTOL of z (|z·σ′(z)|): z/√2 or z³ carry the rounding of z, and GELU's tail
    magnifies it by z² (erfc(x) has condition 2x²), which no formula in float64 avoids."""
    if abs(exact) < UNDERFLOW and abs(z * slope) < UNDERFLOW:
        return abs(got - float(exact)) <= 1e-300
    return abs(mpmath.mpf(got) - exact) <= RTOL * (abs(exact) + abs(z * slope))


@pytest.mark.parametrize("name", sorted(EXACT))
def test_value_and_derivative_match_mpmath_in_both_tails(name: str) -> None:
    act = named_activation(name)
    assert isinstance(act, Activation) and act.name == name
    f = EXACT[name]
    for z in POINTS:
        kink = _near_kink(act, z) or (name == "softsign" and z == 0)
        with mpmath.workdps(DIFF_DIGITS):  # σ′(−750) of a σ near a constant: e^(−750) beside 1
            exact = f(mpmath.mpf(z))
            slope, curvature = (0, 0) if kink else (mpmath.diff(f, mpmath.mpf(z), n)
                                                    for n in (1, 2))
        got = float(act.f(np.array([z]))[0])
        assert _close(got, exact, slope, z), (name, z, got, exact)
        if not kink:
            got_slope = float(act.fprime(np.array([z]))[0])
            assert _close(got_slope, slope, curvature, z), (name, z, got_slope, slope)


def test_tanhshrink_does_not_cancel_near_zero() -> None:
    """z − tanh z at z = 1e-6 is 3.3e-19: the subtraction would keep no digit of it."""
    got = float(F.tanhshrink.f(np.array([1e-6]))[0])
    exact = EXACT["tanhshrink"](mpmath.mpf(1e-6))
    assert abs(got - exact) <= RTOL * abs(exact)
    assert abs(1e-6 - math.tanh(1e-6) - exact) > 1e-5 * abs(exact)  # what it avoids


@pytest.mark.parametrize("name", sorted(EXACT))
def test_no_overflow_warning_for_any_finite_z(name: str) -> None:
    act = named_activation(name)
    z = np.array([-1.7e308, -1e154, -1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4, 1e154, 1.7e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, derivatives = act.f(z), act.fprime(z)
    assert np.all(np.isfinite(derivatives)) and not np.any(np.isnan(values)), (values, derivatives)


@pytest.mark.parametrize("name", sorted(EXACT))
@given(z=st.floats(-60, 60))
def test_derivative_equals_complex_step_of_value(name: str, z: float) -> None:
    """σ′ written by hand against Im σ(z + ih)/h, exact to rounding away from a kink (every
    branch is written on the sign of Re z, so it is analytic on each side)."""
    act = named_activation(name)
    if _near_kink(act, z) or abs(z) < 1e-6:
        return
    h = 1e-20
    complex_step = float(np.imag(act.f(np.array([z + 1j * h]))[0])) / h
    hand = float(act.fprime(np.array([z]))[0])
    step = 1e-5 * max(1.0, abs(z))  # |z·σ″(z)|, roughly: the conditioning, as in _close
    curvature = (act.fprime(np.array([z + step])) - act.fprime(np.array([z - step])))[0] / (2 * step)
    if abs(hand) < COMPLEX_STEP_FLOOR:
        return  # h·σ′ and the imaginary parts before it are subnormal: the tails are mpmath's
    assert abs(hand - complex_step) <= 1e-14 * (abs(complex_step) + abs(z * curvature)), (
        z, hand, complex_step)


@pytest.mark.parametrize("name", sorted(EXACT))
def test_jax_derivative_of_the_formula_is_the_hand_written_one(name: str) -> None:
    """The JAX oracle differentiates σ as written: no NaN from a branch not taken, and no 0 from
    JAX's own rules in the tails (its derivative of expm1 is expm1 + 1, which cancels)."""
    from bpverify.oracles.jax_gradient import precision

    act = named_activation(name)
    z = np.array([-750.0, -40.0, -2.5, -0.7, 0.3, 2.0, 26.0, 40.0, 750.0])
    z = z[[not _near_kink(act, v) for v in z]]
    with precision("float64") as jax:
        slope = np.asarray(jax.vmap(jax.grad(lambda v: act.f(v)))(jax.numpy.asarray(z)))
    np.testing.assert_allclose(slope, act.fprime(z), rtol=JAX_RTOL, atol=1e-300)


JAX_RTOL = 1e-12
"""JAX's chain rule on our formula, not the formula, sets this: softsign's quotient rule
1/w − z·s/w² cancels to 1e-13 at |z| = 750."""

KINKS = {  # PyTorch's autograd at the kink (measured with torch 2.13, float64)
    "leaky_relu(negative_slope=0.2)": {0.0: 0.2},
    "elu(alpha=0.5)": {0.0: 0.5},
    "celu(alpha=2)": {0.0: 1.0},
    "selu": {0.0: float(SELU_SCALE * SELU_ALPHA)},
    "hardtanh(min_val=-2,max_val=3)": {-2.0: 0.0, 3.0: 0.0},
    "relu6": {0.0: 0.0, 6.0: 0.0},
    "hardsigmoid": {-3.0: 0.0, 3.0: 0.0},
    "hardswish": {-3.0: 0.0, 3.0: 1.0},
    "threshold(threshold=0.5,value=-1)": {0.5: 0.0},
    "hardshrink(lambd=0.7)": {-0.7: 0.0, 0.7: 0.0},
    "softshrink": {-0.5: 0.0, 0.5: 0.0},
    "softplus(beta=2,threshold=5)": {2.5: float(1 / (1 + mpmath.exp(-5)))},
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_derivative_at_a_kink_is_pytorchs(name: str) -> None:
    act = named_activation(name)
    assert isinstance(act, Activation)
    for z, expected in KINKS[name].items():
        assert z in act.kinks
        assert float(act.fprime(np.array([z]))[0]) == pytest.approx(expected, rel=1e-15), z


@pytest.mark.parametrize("name", sorted(KINKS))
def test_the_complex_step_at_a_kink_gives_the_same_derivative(name: str) -> None:
    """σ takes at a kink the branch whose derivative σ′ has there: the complex step of a network
    with z exactly at a kink agrees with PyTorch's gradient."""
    act = named_activation(name)
    assert isinstance(act, Activation)
    h = 1e-20
    for z in KINKS[name]:
        complex_step = float(np.imag(act.f(np.array([z + 1j * h]))[0])) / h
        assert complex_step == pytest.approx(float(act.fprime(np.array([z]))[0]), rel=1e-15), z


@pytest.mark.parametrize("name", sorted(EXACT))
def test_a_name_round_trips(name: str) -> None:
    act = named_activation(name)
    assert named_activation(act.name) is act


@pytest.mark.parametrize(("written", "canonical"), [
    ("softplus(beta=1,threshold=inf)", "softplus"),
    ("softplus(beta=1.0, threshold=20.0)", "softplus(threshold=20)"),
    ("leaky_relu(negative_slope=0)", "relu"), ("celu(alpha=1)", "elu"),
    ("hardtanh(min_val=0,max_val=6)", "relu6"), ("threshold(threshold=0,value=0)", "relu"),
    ("gelu(approximate='tanh')", "gelu(approximate=tanh)"), ("gelu(approximate=none)", "gelu"),
])
def test_the_same_function_has_one_name(written: str, canonical: str) -> None:
    assert named_activation(written).name == canonical


@pytest.mark.parametrize(("name", "message"), [
    ("softplus(gamma=1)", r"unknown parameter\(s\) \['gamma'\], expected some of \['beta', "
                          r"'threshold'\]"),
    ("softplus(beta=0)", "beta is 0.0, expected > 0"),
    ("hardtanh(min_val=2,max_val=1)", "expected min_val < max_val"),
    ("leaky_relu(negative_slope=nan)", "negative_slope is nan, expected a finite number"),
    ("gelu(approximate=erf)", "approximate is 'erf', expected 'none' or 'tanh'"),
    ("softplus(beta)", "'beta' is not key=value"),
    ("swish", "expected one of .*'silu'.*or a family with parameters"),
])
def test_a_bad_name_says_what_is_expected(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        named_activation(name)


def test_a_wrong_variant_is_told_apart() -> None:
    """Negative controls: the textbook softplus is not PyTorch's at z = 25 (σ′ 1 − 1.4e-11
    against 1), nor GELU's tanh approximation the exact GELU, nor CELU(2) ELU(2)."""
    z = np.array([25.0, -1.5, -0.5])
    pairs = [("softplus", "softplus(threshold=20)"), ("gelu", "gelu(approximate=tanh)"),
             ("celu(alpha=2)", "elu(alpha=2)")]
    for one, other in pairs:
        a, b = named_activation(one), named_activation(other)
        assert np.any(np.abs(a.fprime(z) - b.fprime(z)) > 1e-12), (one, other)


def _naive_gelu(z):
    from scipy.special import erf
    return 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))


@pytest.mark.parametrize(("name", "which", "naive", "z"), [
    ("gelu", 0, _naive_gelu, -12.5),  # 1 + erf cancels: what PyTorch computes
    ("logsigmoid", 0, lambda z: np.log(1.0 / (1.0 + np.exp(-z))), 40.0),  # ln σ(40) = ln 1.0
    ("tanhshrink", 0, lambda z: z - np.tanh(z), 1e-6),
])
def test_the_accuracy_test_rejects_the_naive_formula(name: str, which: int, naive, z: float) -> None:
    """Negative controls for ``_close``: the formulas written the obvious way fail it where they
    cancel, so the tail tests above can fail."""
    f = EXACT[name]
    with mpmath.workdps(DIFF_DIGITS):
        values = [f(mpmath.mpf(z)), mpmath.diff(f, mpmath.mpf(z)), mpmath.diff(f, mpmath.mpf(z), 2)]
    got = float(naive(np.array([z]))[0])
    assert not _close(got, values[which], values[which + 1], z)
