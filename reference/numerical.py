"""Numerical gradients, the independent oracles of backprop (§2.6).

Methods, for a scalar f of a parameter vector θ, along the unit vector eⱼ or a direction v:
  forward     (f(θ + εeⱼ) − f(θ)) / ε                      equation 46; truncation O(ε)
  central     (f(θ + εeⱼ) − f(θ − εeⱼ)) / 2ε               truncation O(ε²)
  richardson  (4·D(ε/2) − D(ε)) / 3 of two central steps    truncation O(ε⁴), with an error estimate
  complex     Im f(θ + iεeⱼ) / ε                           no subtraction, so no cancellation:
                                                            exact to rounding for analytic f
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bpverify.reference.activations import layer_activations, sigmoid
from bpverify.reference.backpropagation import ActivationSpec
from bpverify.reference.costs import Cost, quadratic, value_at_output
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.validation import check_columns, check_network, check_same_columns

Method = Literal["forward", "central", "richardson", "complex"]
METHODS: tuple[Method, ...] = ("forward", "central", "richardson", "complex")

EPS = float(np.finfo(np.float64).eps)
DEFAULT_STEP: dict[str, float] = {
    "forward": EPS ** (1 / 2),     # balances O(ε) truncation against O(eps/ε) rounding
    "central": EPS ** (1 / 3),     # balances O(ε²) against O(eps/ε)
    "richardson": EPS ** (1 / 5),  # balances O(ε⁴) against O(eps/ε)
    "complex": 1e-20,              # no rounding term: any tiny step works
}


@dataclass(frozen=True)
class Estimate:
    """A numerical derivative and, where the method gives one, an estimate of its error."""

    value: np.ndarray
    error: np.ndarray | None


def _step(theta_j: complex | float, method: str, h: float | None) -> float:
    """A step scaled to |θⱼ| and rounded so that θⱼ + ε − θⱼ is exactly ε."""
    base = DEFAULT_STEP[method] if h is None else h
    if method == "complex":
        return base
    scaled = base * max(1.0, abs(float(np.real(theta_j))))
    return float((np.real(theta_j) + scaled) - np.real(theta_j))


def _derivative_along(f: Callable[[np.ndarray], complex | float], theta: np.ndarray,
                      v: np.ndarray, method: str, h: float,
                      f_theta: complex | float | None = None) -> tuple[float, float | None]:
    """d/dt f(θ + t·v) at t = 0 with step h, and an error estimate where the method has one;
    forward differences take f(θ) from ``f_theta`` where the caller computed it once."""
    if method == "forward":
        base = f(theta) if f_theta is None else f_theta
        return float(np.real(f(theta + h * v) - base)) / h, None
    if method == "complex":
        return float(np.imag(f(theta + 1j * h * v))) / h, None

    def central(step: float) -> float:
        return float(np.real(f(theta + step * v) - f(theta - step * v))) / (2 * step)

    if method == "central":
        return central(h), None
    if method == "richardson":
        coarse, fine = central(h), central(h / 2)
        extrapolated = (4 * fine - coarse) / 3
        return extrapolated, abs(extrapolated - fine)
    raise ValueError(f"method is {method!r}, expected one of {METHODS}")


def numerical_gradient(f: Callable[[np.ndarray], complex | float], theta: np.ndarray,
                       method: Method = "central", h: float | None = None) -> Estimate:
    """∇f(θ) entry by entry, one derivative along each unit vector eⱼ (forward differences
    evaluate f(θ) once: P + 1 evaluations in all, as §2.6 counts them)."""
    if method not in METHODS:
        raise ValueError(f"method is {method!r}, expected one of {METHODS}")
    theta = np.asarray(theta, dtype=np.complex128 if method == "complex" else np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}, expected a 1-D parameter vector")
    grad = np.empty(theta.size)
    err = np.empty(theta.size) if method == "richardson" else None
    f_theta = f(theta) if method == "forward" else None
    for j in range(theta.size):
        e_j = np.zeros(theta.size)
        e_j[j] = 1.0
        value, error = _derivative_along(f, theta, e_j, method, _step(theta[j], method, h), f_theta)
        grad[j] = value
        if err is not None and error is not None:
            err[j] = error
    return Estimate(grad, err)


def adaptive_central_gradient(f: Callable[[np.ndarray], complex | float], theta: np.ndarray,
                              steps: int = 8) -> Estimate:
    """Central differences with an error estimate, the step chosen entry by entry.

    With D_k the central difference at ε_k = 2^(k−3)·u^(1/3), D_k − D_(k−1) is ¾ of D_k's
    O(ε²) truncation error plus rounding noise. The error of D_k is estimated as 4/3 times
    the largest of the three gaps |D_(k−1) − D_(k−2)|, |D_k − D_(k−1)|, |D_(k+1) − D_k|:
    taking the smallest estimate over many steps would otherwise favour two noisy quotients
    that agree by chance. The estimate is never below 4u·|f(θ)|/ε_k, the resolution of a
    difference of two values of f rounded to u·|f|: below it all quotients can agree and
    still be wrong. Each entry keeps the D_k with the smallest estimate.
    """
    base = DEFAULT_STEP["central"] / 8
    quotients = np.array([numerical_gradient(f, theta, "central", h=base * 2.0 ** k).value
                          for k in range(steps + 3)])
    gaps = np.abs(np.diff(quotients, axis=0))  # gaps[k] = |D_(k+1) − D_k|
    errors = 4 / 3 * np.maximum(np.maximum(gaps[:-2], gaps[1:-1]), gaps[2:])  # D_2 … D_(steps+1)
    scales = np.maximum(1.0, np.abs(np.real(theta)))  # the steps of numerical_gradient's _step
    resolution = np.array([4 * EPS / 2 * abs(float(np.real(f(theta)))) / (base * 2.0 ** k * scales)
                           for k in range(2, steps + 2)])
    errors = np.maximum(errors, resolution)
    errors = np.where(np.isfinite(errors), errors, np.inf)
    best = np.argmin(errors, axis=0)
    columns = np.arange(quotients.shape[1])
    return Estimate(quotients[2:-1][best, columns], errors[best, columns])


def directional_derivative(f: Callable[[np.ndarray], complex | float], theta: np.ndarray,
                           v: np.ndarray, method: Method = "central",
                           h: float | None = None) -> Estimate:
    """∇f(θ)·v from one derivative along v (the random-direction check of autograd and JAX)."""
    if method not in METHODS:
        raise ValueError(f"method is {method!r}, expected one of {METHODS}")
    theta = np.asarray(theta, dtype=np.complex128 if method == "complex" else np.float64)
    v = np.asarray(v, dtype=np.float64)
    if v.shape != theta.shape:
        raise ValueError(f"v has shape {v.shape}, expected {theta.shape} (the shape of theta)")
    scale = float(np.max(np.abs(np.real(theta)), initial=0.0))
    value, error = _derivative_along(f, theta, v, method, _step(scale, method, h))
    return Estimate(np.array(value), None if error is None else np.array(error))


def flatten(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> np.ndarray:
    """θ = (w², b², w³, b³, …) with each array in row-major order."""
    parts = []
    for w, b in zip(weights, biases, strict=True):
        parts += [np.ravel(w), np.ravel(b)]
    return np.concatenate(parts)


def unflatten(theta: np.ndarray, sizes: Sequence[int]
              ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The inverse of ``flatten`` for a network of the given sizes."""
    weights, biases, start = [], [], 0
    for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True):
        weights.append(theta[start:start + n * n_prev].reshape(n, n_prev))
        start += n * n_prev
        biases.append(theta[start:start + n].reshape(n, 1))
        start += n
    if start != theta.size:
        raise ValueError(f"theta has {theta.size} entries, expected {start} for sizes {list(sizes)}")
    return weights, biases


def cost_of_parameters(sizes: Sequence[int], x: np.ndarray, y: np.ndarray,
                       activation: ActivationSpec = sigmoid, cost: Cost = quadratic
                       ) -> Callable[[np.ndarray], complex | float]:
    """θ ↦ C(aᴸ(θ; x), y), summed over the columns of x; complex θ is carried through."""
    per_layer = layer_activations(activation, sizes)

    def f(theta: np.ndarray) -> complex | float:
        weights, biases = unflatten(theta, sizes)
        zs, _ = feedforward_layers(weights, biases, x, per_layer)
        return value_at_output(cost, per_layer[-1], zs[-1], y)

    return f


def numerical_network_gradient(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                               x: np.ndarray, y: np.ndarray, activation: ActivationSpec = sigmoid,
                               cost: Cost = quadratic, method: Method = "central",
                               h: float | None = None
                               ) -> tuple[list[np.ndarray], list[np.ndarray], Estimate]:
    """(∇b, ∇w) of C summed over the columns of x, by ``method``; also the flat Estimate."""
    sizes = check_network(weights, biases)
    check_columns(x, "x", sizes[0], single=False)
    check_columns(y, "y", sizes[-1], single=False)
    check_same_columns(x, y, "x", "y")
    estimate = numerical_gradient(cost_of_parameters(sizes, x, y, activation, cost),
                                  flatten(weights, biases), method, h)
    nabla_w, nabla_b = unflatten(estimate.value, sizes)
    return nabla_b, nabla_w, estimate
