"""What each method says the derivatives are, for the derivations' numbers (``evaluate`` and its
kinds of statement): the gradients of a network, ∂C/∂aˡ at every layer, Jacobians and
derivatives of small maps, and derivatives of any order along one parameter.

The methods are the columns of ``bpverify verify``: "reference" (the numpy reference's
hand-written formulas), "JAX autodiff", "complex step" (beyond the first order: the Cauchy
integral on a circle, the complex step's generalisation by Lyness and Moler) and "central diff."
(Richardson-extrapolated central differences). Each network's derivatives are computed once per
method and kept with their case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bpverify.oracles import jax_gradient
from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import Case
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.numerical import (
    adaptive_central_gradient,
    cost_of_parameters,
    flatten,
    numerical_gradient,
)

ORACLES = {o.column: o for o in (oracles.MATRIX, oracles.JAX_AUTODIFF, oracles.COMPLEX_STEP,
                                 oracles.CENTRAL)}
METHODS = tuple(ORACLES)
"""The columns ("reference", "JAX autodiff", "complex step", "central diff."): each method's
tolerance is its oracle's (the lambdified right side adds a few roundings to the method's own,
so the method's named tolerance applies unchanged)."""


class NotEvaluated(Exception):
    """The method does not apply to this statement (the reason is the message)."""


def xp_of(v: Any) -> Any:
    """The array namespace of ``v`` (numpy for numpy arrays and Python numbers)."""
    get = getattr(v, "__array_namespace__", None)
    return get() if get is not None and not isinstance(v, np.ndarray) else np


_DERIVATIVES: dict[tuple[str, int], tuple[Case, oracles.Derivatives]] = {}
"""By (method, id(case)), each entry holding its case: alive, its id is never another's."""


def derivatives(case: Case, method: str) -> oracles.Derivatives:
    """The method's derivatives of one case, computed once however many statements read them
    (a Case is immutable, so its id identifies it while the cache keeps it alive)."""
    key = (method, id(case))
    if key not in _DERIVATIVES:
        _DERIVATIVES[key] = (case, ORACLES[method].compute(case))
    return _DERIVATIVES[key][1]


def _cost_of_activation_offsets(case: Case) -> Callable[[Any], Any]:
    """v ↦ C with aˡ ← aˡ + vˡ at every layer 1..L (one example): ∂C/∂vˡ at v = 0 is ∂C/∂aˡ,
    for every layer from one gradient (any array namespace)."""
    sizes, x, y = case.sizes, case.x, case.y
    starts = np.cumsum([0, *sizes])

    def f(v: Any) -> Any:
        a = x + v[starts[0]:starts[1]].reshape(-1, 1)
        for layer, (w, b, act) in enumerate(zip(case.weights, case.biases, case.activations, strict=True), 2):
            a = act.f(w @ a + b) + v[starts[layer - 1]:starts[layer]].reshape(-1, 1)
        return case.cost.value(a, y)
    return f


_DC_DA: dict[tuple[str, int], tuple[Case, list[np.ndarray]]] = {}
"""As ``_DERIVATIVES``: ∂C/∂aˡ at every layer by (method, id(case)), with the case."""


def _d_cost_d_a_all(case: Case, method: str) -> list[np.ndarray]:
    """∂C/∂aˡ for l = 1..L by the method, from one gradient with respect to activation offsets."""
    if case.batch_size != 1:
        raise NotEvaluated("∂C/∂aˡ is evaluated on single examples")
    f = _cost_of_activation_offsets(case)
    zero = np.zeros(sum(case.sizes))
    if method == "JAX autodiff":
        flat = jax_gradient.gradient(f, zero)
    elif method == "complex step":
        flat = numerical_gradient(f, zero, "complex").value
    else:
        flat = adaptive_central_gradient(f, zero).value
    starts = np.cumsum([0, *case.sizes])
    return [flat[starts[i]:starts[i + 1]].reshape(-1, 1) for i in range(len(case.sizes))]


def d_cost_d_a(case: Case, layer: int, method: str) -> np.ndarray:
    """∂C/∂aˡ by the method (the reference: ∇ₐC at L only, from the cost's hand-written gradient)."""
    if method == "reference":
        if layer != len(case.sizes):
            raise NotEvaluated("the reference computes ∂C/∂aˡ only at the output (∇ₐC)")
        _, a_all = feedforward_layers(case.weights, case.biases, case.x, case.activations)
        return case.cost.gradient(a_all[-1], case.y)
    key = (method, id(case))
    if key not in _DC_DA:
        _DC_DA[key] = (case, _d_cost_d_a_all(case, method))
    return _DC_DA[key][1][layer - 1]


def jacobian(method: str, F: Callable[[Any], Any], at: np.ndarray,
             exact: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Row i is ∂Fᵢ/∂at by the method (JAX: one jacfwd, so one compilation; the reference:
    ``exact``, its own formula)."""
    if method == "JAX autodiff":
        return jax_gradient.jacobian(F, at)
    rows = len(np.asarray(F(at)))

    def component(i: int) -> Callable[[Any], Any]:
        return lambda t: F(t)[i]

    def exact_row(i: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda t: exact(t)[i]
    return np.array([derivative(method, component(i), at, exact_row(i)) for i in range(rows)])


def derivative(method: str, f: Callable[[Any], Any], at: np.ndarray,
               exact: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """∂f/∂at by the method; f maps a vector to a scalar (any array namespace)."""
    if method == "reference":
        return exact(at)
    if method == "JAX autodiff":
        return jax_gradient.gradient(f, at)
    if method == "complex step":
        return numerical_gradient(f, at, "complex").value
    return adaptive_central_gradient(f, at).value


# -- derivatives of any order along one parameter ---------------------------------------------------

CAUCHY_RADIUS, CAUCHY_POINTS = 0.5, 64
"""The circle of the Cauchy integral f⁽ᵏ⁾(0) = k!/(2πi)∮ f(ζ)/ζᵏ⁺¹ dζ: the trapezoidal rule on N
points converges like (r/R)ᴺ, R the distance to f's nearest singularity (σ's poles at Im z = ±π
are reached by a change t of one parameter of order π/|aˡ⁻¹ₖ| ≥ π/|x|: R ≥ 1 on our cases, so
(r/R)ᴺ ≤ 5e-20), and it rounds like k!·u·max|f|/rᵏ (8u·|C| at k = 2). Measured against JAX at
k = 2 on six networks: ≤ 1.2e-14 normwise."""


def _cauchy(f: Callable[[complex], complex], order: int) -> float:
    """f⁽ᵏ⁾(0) from N complex values of f on the circle |ζ| = r (Lyness and Moler, 1967)."""
    zeta = CAUCHY_RADIUS * np.exp(2j * np.pi * np.arange(CAUCHY_POINTS) / CAUCHY_POINTS)
    values = np.array([f(complex(t)) for t in zeta])
    return float(np.real(np.mean(values * zeta ** -order)) * math.factorial(order))


def _central(f: Callable[[float], float], order: int) -> float:
    """f⁽ᵏ⁾(0) by the k-th central difference Dₕ (truncation O(h²)), Richardson-extrapolated
    twice over h, h/2, h/4 (O(h⁶)), at h ≈ u^(1/(k+6)): rounding, amplified by 1/hᵏ, balanced
    against h⁶ (measured against JAX on six networks: ≤ 2e-12 at k = 1, ≤ 4.7e-9 at k = 2)."""
    h = np.finfo(np.float64).eps ** (1 / (order + 6))

    def difference(step: float) -> float:
        return sum((-1) ** i * math.comb(order, i) * f((order / 2 - i) * step)
                   for i in range(order + 1)) / step ** order
    d1, d2, d4 = difference(h), difference(h / 2), difference(h / 4)
    coarse, fine = (4 * d2 - d1) / 3, (4 * d4 - d2) / 3
    return (16 * fine - coarse) / 15


def along(case: Case) -> Callable[[Any, Any], Any]:
    """(t, v) ↦ C(θ + t·v) for one example, θ the case's parameters flattened as
    ``reference.numerical.flatten`` orders them (any array namespace, complex t included)."""
    theta = flatten(case.weights, case.biases)
    cost = cost_of_parameters(case.sizes, case.x, case.y, case.activations, case.cost)
    return lambda t, v: cost(theta + t * v)


def derivatives_along(case: Case, parameters: Sequence[int], order: int, method: str) -> np.ndarray:
    """Row k − 1, entry i: dᵏ/dtᵏ C(θ + t·eₚ) at t = 0 for p = ``parameters[i]`` and k = 1 …
    ``order``, by the method, for one example. k = 1 is the method's gradient (``derivatives``);
    beyond it JAX nests its derivative (one compilation per order), the complex step becomes the
    Cauchy integral, central differences take their k-th difference. The reference has no
    derivative beyond the gradient."""
    if case.batch_size != 1:
        raise NotEvaluated("derivatives along a parameter are evaluated on single examples")
    found = derivatives(case, method)
    out = np.empty((order, len(parameters)))
    out[0] = flatten(found.nabla_w, found.nabla_b)[list(parameters)]
    if order == 1:
        return out
    if method == "reference":
        raise NotEvaluated("the reference computes first derivatives only (BP1–BP4)")
    f = along(case)
    directions = np.eye(len(flatten(case.weights, case.biases)))[list(parameters)]
    for k in range(2, order + 1):
        if method == "JAX autodiff":
            with jax_gradient.precision() as jax:
                g = f
                for _ in range(k):
                    g = jax.grad(g)
                out[k - 1] = np.asarray(jax.jit(jax.vmap(g, in_axes=(None, 0)))(0.0, directions))
            continue
        for i, v in enumerate(directions):
            def f_v(t: Any, v: np.ndarray = v) -> Any:
                return f(t, v)
            out[k - 1, i] = _cauchy(f_v, k) if method == "complex step" else _central(f_v, k)
    return out
