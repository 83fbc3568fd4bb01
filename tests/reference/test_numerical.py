"""Numerical gradients (reference/numerical.py): truncation orders, the complex step's exactness,
error estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpverify.reference import numerical as N


def _f(theta: np.ndarray):  # type: ignore[no-untyped-def]
    """A smooth test function with a known gradient: Σ sin(θⱼ)·e^(θⱼ/2)."""
    xp = np
    return xp.sum(xp.sin(theta) * xp.exp(theta / 2))


def _grad(theta: np.ndarray) -> np.ndarray:
    return np.cos(theta) * np.exp(theta / 2) + 0.5 * np.sin(theta) * np.exp(theta / 2)


THETA = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize("method, order", [("forward", 1), ("central", 2), ("richardson", 4)])
def test_truncation_order(method: str, order: int) -> None:
    """Halving ε divides the error by 2^order, in the range of ε where truncation dominates."""
    h = {"forward": 1e-3, "central": 1e-2, "richardson": 1e-1}[method]
    errors = [np.max(np.abs(N.numerical_gradient(_f, THETA, method, h=step).value - _grad(THETA)))  # type: ignore[arg-type]
              for step in (h, h / 2)]
    assert math.log2(errors[0] / errors[1]) == pytest.approx(order, abs=0.2)


def test_complex_step_is_exact_to_rounding_for_any_tiny_step() -> None:
    for h in (1e-9, 1e-20, 1e-100):
        got = N.numerical_gradient(_f, THETA, "complex", h=h).value
        # normwise: the third entry of the exact gradient is itself a sum with cancellation
        assert np.max(np.abs(got - _grad(THETA))) <= 4e-16 * np.max(np.abs(_grad(THETA)))


def test_richardson_error_estimate_bounds_its_error() -> None:
    estimate = N.numerical_gradient(_f, THETA, "richardson")
    assert estimate.error is not None
    assert np.all(np.abs(estimate.value - _grad(THETA)) <= estimate.error + 1e-14)


def test_adaptive_central_error_estimate_has_the_right_size() -> None:
    """An estimate, not a bound: the actual error is within a factor 2 of it, or below it."""
    estimate = N.adaptive_central_gradient(_f, THETA)
    assert estimate.error is not None
    assert np.all(np.abs(estimate.value - _grad(THETA)) <= 2 * estimate.error)
    assert np.max(np.abs(estimate.value - _grad(THETA))) < 1e-10


@pytest.mark.parametrize("method", N.METHODS)
def test_directional_derivative_is_the_gradient_along_v(method: str) -> None:
    v = np.array([0.6, -0.8, 0.0])
    got = float(N.directional_derivative(_f, THETA, v, method).value)  # type: ignore[arg-type]
    bound = {"forward": 1e-7, "central": 1e-9, "richardson": 1e-11, "complex": 1e-15}[method]
    assert got == pytest.approx(float(_grad(THETA) @ v), abs=bound)


def test_unknown_method_is_rejected() -> None:
    with pytest.raises(ValueError, match="method is 'secant'"):
        N.numerical_gradient(_f, THETA, "secant")  # type: ignore[arg-type]



@pytest.mark.parametrize("method, evaluations", [("forward", 3 + 1), ("central", 2 * 3), ("complex", 3)])
def test_the_number_of_evaluations_is_what_section_2_6_counts(method: str, evaluations: int) -> None:
    """Eq. 46's forward differences need f(θ) once and f(θ + εeⱼ) per parameter: P + 1 (2P would
    be the count of a forward difference recomputing f(θ) per direction); central 2P, complex P."""
    calls = []

    def counted(theta: np.ndarray):  # type: ignore[no-untyped-def]
        calls.append(1)
        return _f(theta)
    N.numerical_gradient(counted, THETA, method)  # type: ignore[arg-type]
    assert len(calls) == evaluations
