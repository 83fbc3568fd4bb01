"""Every independent way bpverify has to compute the derivatives of C for a Case.

An oracle answers ``Derivatives``: ∂C/∂b and ∂C/∂w summed over the columns of
the case, and, where the method gives them, δˡ = ∂C/∂zˡ for every example (one
column each). The differentiating oracles (JAX, complex step, central
differences) obtain δˡ from the book's definition, not from BP1–BP3: they add an
offset uˡ = 0 to every zˡ and differentiate C with respect to it.

An oracle raises ``Declined`` with the reason where its method does not apply
(the complex step at a kink, too many paths, an ill-conditioned difference).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpverify.oracles.cases import Case
from bpverify.oracles.tolerances import TOLERANCES
from bpverify.reference.activations import Softmax
from bpverify.reference.backpropagation import backprop_loop, backprop_matrix
from bpverify.reference.costs import value_at_output
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.numerical import (
    adaptive_central_gradient,
    flatten,
    numerical_gradient,
    unflatten,
)
from bpverify.reference.paths import DEFAULT_MAX_PATHS, gradient_by_paths, path_count
from bpverify.reference.sigma_prime import backprop_sigma_prime


class Declined(Exception):
    """An oracle's method does not apply to this case, or cannot certify its accuracy on it."""


@dataclass(frozen=True)
class Derivatives:
    """∂C/∂b and ∂C/∂w per layer 2..L (summed over examples), and δˡ per layer 2..L when known."""

    nabla_b: list[np.ndarray]
    nabla_w: list[np.ndarray]
    deltas: list[np.ndarray] | None = None

    @property
    def gradient(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self.nabla_b, self.nabla_w


@dataclass(frozen=True)
class Oracle:
    """A named method; ``compute`` raises Declined, with the reason, where it does not apply.
    ``tolerance`` keys its agreement in ``tolerances.TOLERANCES`` (the one table: ``verify``
    and the derivations' numbers both read it here); ``column`` is its title in a report."""

    name: str
    compute: Callable[[Case], Derivatives]
    tolerance: str
    column: str


# -- the extended parameter vector φ = (θ, u): parameters, then one offset per zˡⱼ per example --

def extended_point(case: Case) -> np.ndarray:
    """φ₀ = (θ, 0): the case's parameters followed by zero offsets uˡ on every zˡ."""
    n_offsets = sum(case.sizes[1:]) * case.batch_size
    return np.concatenate([flatten(case.weights, case.biases), np.zeros(n_offsets)])


def extended_cost(case: Case) -> Callable[[Any], Any]:
    """φ ↦ C with zˡ = wˡaˡ⁻¹ + bˡ + uˡ; runs on numpy (float, complex) and JAX arrays."""
    n_theta = flatten(case.weights, case.biases).size
    x, y, m = case.x, case.y, case.batch_size

    def f(phi: Any) -> Any:
        weights, biases = unflatten(phi[:n_theta], case.sizes)
        offsets = _split_offsets(phi[n_theta:], case.sizes, m)
        a = x
        for w, b, u, act in zip(weights[:-1], biases[:-1], offsets[:-1], case.activations[:-1],
                                strict=True):
            a = act.f(w @ a + b + u)
        z = weights[-1] @ a + biases[-1] + offsets[-1]
        return value_at_output(case.cost, case.activations[-1], z, y)

    return f


def _split_offsets(u: Any, sizes: Sequence[int], m: int) -> list[Any]:
    parts, start = [], 0
    for n in sizes[1:]:
        parts.append(u[start:start + n * m].reshape(n, m))
        start += n * m
    return parts


def split_extended(gradient: np.ndarray, case: Case) -> Derivatives:
    """∂C/∂φ split into (∂C/∂b, ∂C/∂w, δˡ = ∂C/∂uˡ)."""
    n_theta = flatten(case.weights, case.biases).size
    nabla_w, nabla_b = unflatten(gradient[:n_theta], case.sizes)
    return Derivatives(nabla_b, nabla_w,
                       _split_offsets(gradient[n_theta:], case.sizes, case.batch_size))


# -- the oracles --

def _sum_layers(per_example: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """Σₓ of per-example lists of per-layer arrays, layer by layer."""
    return [np.sum(layer, axis=0) for layer in zip(*per_example, strict=True)]


def _reference_form(name: str, per_example: Callable[[Case], Any] | None = None,
                    batch: Callable[[Case], Any] | None = None, column: str = "") -> Oracle:
    """A form of the reference: a batch function, or a per-example one summed over columns."""
    def compute(case: Case) -> Derivatives:
        if batch is not None:
            r = batch(case)
            return Derivatives(r.nabla_b, r.nabla_w, r.deltas)
        assert per_example is not None
        results = [per_example(case.column(j)) for j in range(case.batch_size)]
        return Derivatives(_sum_layers([r.nabla_b for r in results]),
                           _sum_layers([r.nabla_w for r in results]),
                           [np.hstack(d) for d in zip(*(r.deltas for r in results),
                                                       strict=True)])
    return Oracle(name, compute, "algebraic", column or name)


def _backprop_one(case: Case) -> Any:
    return backprop_matrix(case.weights, case.biases, case.x, case.y, case.activations,
                           case.cost)


def _sigma_prime_one(closed_form: bool) -> Callable[[Case], Any]:
    def one(case: Case) -> Any:
        return backprop_sigma_prime(case.weights, case.biases, case.x, case.y, case.activations,
                                    case.cost, closed_form=closed_form)
    return one


def _loop(case: Case) -> Derivatives:
    nabla_b, nabla_w = backprop_loop(case.weights, case.biases, case.x, case.y,
                                     case.activations, case.cost)
    return Derivatives(nabla_b, nabla_w)


def _path_sum(case: Case) -> Derivatives:
    if any(isinstance(act, Softmax) for act in case.activations):
        raise Declined("equation 53 needs an elementwise σ; this network has a softmax layer")
    count = path_count(case.sizes) * case.batch_size
    if count > DEFAULT_MAX_PATHS:
        raise Declined(f"{count} paths exceed the limit of {DEFAULT_MAX_PATHS}")
    per_example = [gradient_by_paths(case.weights, case.biases, case.x[:, j:j + 1],
                                     case.y[:, j:j + 1], case.activations, case.cost)
                   for j in range(case.batch_size)]
    return Derivatives(_sum_layers([p[0] for p in per_example]),
                       _sum_layers([p[1] for p in per_example]))


def _jax(case: Case) -> Derivatives:
    from bpverify.oracles.jax_gradient import gradient
    return split_extended(gradient(extended_cost(case), extended_point(case)), case)


def _complex_step(case: Case) -> Derivatives:
    if not case.analytic:
        raise Declined("the complex step needs σ and C holomorphic at the point, "
                       f"but a zˡⱼ lies {case.min_distance_to_kink():.3g} from a kink")
    estimate = numerical_gradient(extended_cost(case), extended_point(case), "complex")
    return split_extended(estimate.value, case)


def _central_differences(case: Case) -> Derivatives:
    """Central differences (step chosen per entry, ``adaptive_central_gradient``) that decline
    when their own error estimate exceeds the tolerance on any layer's tensor. The estimate
    is not a proven bound, but it bounded the actual error in each of 1,644 layer tensors
    we measured (largest ratio 0.79)."""
    tolerance = TOLERANCES["central"]
    certified = tolerance
    with np.errstate(all="ignore"):  # a perturbed point may overflow; the estimate then says so
        estimate = adaptive_central_gradient(extended_cost(case), extended_point(case))
    assert estimate.error is not None
    value, error = split_extended(estimate.value, case), split_extended(estimate.error, case)
    assert value.deltas is not None and error.deltas is not None
    for quantity, values, errors in (("∂C/∂b", value.nabla_b, error.nabla_b),
                                     ("∂C/∂w", value.nabla_w, error.nabla_w),
                                     ("δ", value.deltas, error.deltas)):
        for layer, (v, e) in enumerate(zip(values, errors, strict=True), start=2):
            scale = float(np.max(np.abs(v)))
            if scale == 0.0:
                raise Declined(f"it resolves no change at all in {quantity} at layer {layer}: "
                               "the true values are below its resolution u·|C|/ε")
            relative = float(np.max(e)) / scale
            if not relative <= certified:
                raise Declined(f"its own error estimate for {quantity} at layer {layer} is "
                               f"{relative:.2g}, above its tolerance {tolerance:g}: "
                               "the case is ill-conditioned for finite differences")
    return value


def _symbolic(case: Case) -> Derivatives:
    from bpverify.oracles.symbolic import NotSymbolic, symbolic_gradient
    try:
        zs, _ = feedforward_layers(case.weights, case.biases, case.x, case.activations)
        gradient = symbolic_gradient(case.sizes, case.activations, case.cost.name, case.x,
                                     case.y, zs, flatten(case.weights, case.biases))
    except NotSymbolic as why:
        raise Declined(str(why)) from None
    return split_extended(gradient, case)


MATRIX = _reference_form("matrix mini-batch", batch=_backprop_one, column="reference")
PER_EXAMPLE_LOOP = Oracle("per-example loop", _loop, "algebraic", "per-example loop")
SIGMA_PRIME = _reference_form("Σ′ recursion", per_example=_sigma_prime_one(False))
SIGMA_PRIME_PRODUCT = _reference_form("Σ′ closed product", per_example=_sigma_prime_one(True))
PATH_SUM = Oracle("path sum (eq. 53)", _path_sum, "algebraic", "path sum")
JAX_AUTODIFF = Oracle("JAX autodiff", _jax, "autodiff", "JAX autodiff")
COMPLEX_STEP = Oracle("complex step", _complex_step, "complex", "complex step")
CENTRAL = Oracle("central differences", _central_differences, "central", "central diff.")
SYMBOLIC = Oracle("SymPy, lambdified", _symbolic, "symbolic", "symbolic")

REFERENCE_FORMS = (MATRIX, PER_EXAMPLE_LOOP, SIGMA_PRIME, SIGMA_PRIME_PRODUCT)
