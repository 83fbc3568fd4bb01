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

from reference.activations import layer_activations, sigmoid
from reference.backprop import ActivationSpec
from reference.costs import Cost, quadratic
from reference.equations import feedforward_layers
from reference.validation import check_columns, check_network, check_same_columns

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
                      v: np.ndarray, method: str, h: float) -> tuple[float, float | None]:
    """d/dt f(θ + t·v) at t = 0 with step h, and an error estimate where the method has one."""
    if method == "forward":
        return float(np.real(f(theta + h * v) - f(theta))) / h, None
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
    """∇f(θ) entry by entry, one derivative along each unit vector eⱼ."""
    if method not in METHODS:
        raise ValueError(f"method is {method!r}, expected one of {METHODS}")
    theta = np.asarray(theta, dtype=np.complex128 if method == "complex" else np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}, expected a 1-D parameter vector")
    grad = np.empty(theta.size)
    err = np.empty(theta.size) if method == "richardson" else None
    for j in range(theta.size):
        e_j = np.zeros(theta.size)
        e_j[j] = 1.0
        value, error = _derivative_along(f, theta, e_j, method, _step(theta[j], method, h))
        grad[j] = value
        if err is not None and error is not None:
            err[j] = error
    return Estimate(grad, err)


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
        _, acts = feedforward_layers(weights, biases, x, per_layer)
        return cost.value(acts[-1], y)  # type: ignore[no-any-return]

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
