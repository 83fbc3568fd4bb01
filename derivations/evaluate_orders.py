"""Statements up to an error O(Δᵖ) on numbers: eq. 46's truncation orders and eqs. 47–52's ≈.

lhs(Δ) = P(Δ) + O(Δᵖ) says that lhs's Taylor coefficients of Δ⁰ … Δᵖ⁻¹ are P's. The left side
is evaluated in 60-digit arithmetic (mpmath) on the network's own cost, and its coefficients are
fitted at Chebyshev points of |Δ| ≤ 10⁻³ (exact to ~10⁻³⁵, far below float64); the right side's
derivatives are each method's. A wrong coefficient (ε C″ for ε C″/2), or an error claimed of
a higher order than it has (the Δᵖ term it leaves out is not 0), differs from the left side's
coefficients by the size of that term.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from bpverify.derivations.core import Derivation
from bpverify.derivations.evaluate_components import at_sizes, entry, rate_factors
from bpverify.derivations.method_values import NotEvaluated, derivatives_along
from bpverify.derivations.notation import L
from bpverify.oracles.cases import Case
from bpverify.oracles.discrepancy import Discrepancy, worst_discrepancy
from bpverify.reference.numerical import flatten

DIGITS = 60
"""The working precision of the left side: its coefficients of Δᵏ are fitted from values at
|Δ| ≤ 10⁻³, which divides their rounding by up to 10⁻³ᵏ."""
RESOLUTION = 1e-30
"""The fit resolves a coefficient to ~10⁻⁴⁵ of the largest (60 digits, less 10⁻³ᵏ for k ≤ 4, less
the fit's conditioning): one that is 0 in truth (a central difference's ε³ term, ΔC's Δ⁰) is
measured against this fraction of the largest coefficient, never against its own noise."""
HALF_WIDTH, POINTS = mpmath.mpf("1e-3"), 12
"""The fit: degree 11 at 12 Chebyshev points of [−10⁻³, 10⁻³] (none at 0, where a difference
quotient is 0/0), so its truncation is of order (10⁻³)¹² relative to the coefficients."""

_ACTIVATIONS: dict[str, Callable[[mpmath.mpf], mpmath.mpf]] = {
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)), "tanh": mpmath.tanh, "identity": lambda z: z}
_COSTS: dict[str, Callable[[list[mpmath.mpf], list[mpmath.mpf]], mpmath.mpf]] = {
    "quadratic": lambda a, y: sum((ai - yi) ** 2 for ai, yi in zip(a, y, strict=True)) / 2}


def cost_in_high_precision(case: Case) -> Callable[[list[mpmath.mpf]], mpmath.mpf]:
    """θ ↦ C(θ) for the case's one example, in mpmath (θ flattened as ``numerical.flatten``)."""
    names = [a.name for a in case.activations]
    if case.batch_size != 1 or case.cost.name not in _COSTS or \
            any(name not in _ACTIVATIONS for name in names):
        raise NotEvaluated("the left side in high precision is written for one example, σ, tanh "
                           "or linear neurons and the quadratic cost")
    x = [mpmath.mpf(float(v)) for v in case.x[:, 0]]
    y = [mpmath.mpf(float(v)) for v in case.y[:, 0]]

    def cost(theta: list[mpmath.mpf]) -> mpmath.mpf:
        a, start = x, 0
        for n_prev, n, name in zip(case.sizes[:-1], case.sizes[1:], names, strict=True):
            w, b = theta[start:start + n * n_prev], theta[start + n * n_prev:start + n * (n_prev + 1)]
            start += n * (n_prev + 1)
            a = [_ACTIVATIONS[name](sum(w[j * n_prev + k] * a[k] for k in range(n_prev)) + b[j])
                 for j in range(n)]
        return _COSTS[case.cost.name](a, y)
    return cost


def taylor_coefficients(f: Callable[[mpmath.mpf], mpmath.mpf], count: int) -> list[float]:
    """f's Taylor coefficients of Δ⁰ … Δ^(count−1) at 0, fitted in ``DIGITS`` digits."""
    with mpmath.workdps(DIGITS):
        nodes = [HALF_WIDTH * mpmath.cos(mpmath.pi * (i + mpmath.mpf(1) / 2) / POINTS)
                 for i in range(POINTS)]
        vandermonde = mpmath.matrix([[t ** k for k in range(POINTS)] for t in nodes])
        fitted = mpmath.lu_solve(vandermonde, mpmath.matrix([f(t) for t in nodes]))
        return [float(fitted[k]) for k in range(count)]


def _order(rhs: sp.Expr) -> tuple[sp.Symbol, int]:
    """The variable and the order p of the statement's O(Δᵖ)."""
    big_o = rhs.getO()
    if big_o is None or len(big_o.variables) != 1:
        raise NotEvaluated("a statement without one O(Δᵖ) term")
    variable = big_o.variables[0]
    return variable, int(sp.degree(big_o.expr, variable))


def _parameter_index(case: Case, layer: int, j: int, k: int) -> int:
    """The position of wˡⱼₖ (1-based j, k) in θ as ``numerical.flatten`` orders it."""
    marked = [np.zeros_like(w) for w in case.weights]
    marked[layer - 2][j - 1, k - 1] = 1.0
    return int(np.argmax(flatten(marked, [np.zeros_like(b) for b in case.biases])))


def _directions(d: Derivation, case: Case) -> list[tuple[int, dict[sp.Symbol, int]]]:
    """The parameters the statement is taken along, each with the binding of its indices: every
    parameter θₚ (a function C of one weight), or every entry (j, k) of the weight wˡⱼₖ its left
    side names (ΔC from a change of that weight)."""
    depth = len(case.sizes)
    if isinstance(d.lhs, sp.Indexed):
        if str(d.lhs.base) != "DC_w":
            raise NotEvaluated(f"no high-precision value for {d.lhs.base}")
        layer = int(d.lhs.indices[0].xreplace({L: depth}))
        if not 2 <= layer <= depth:
            raise NotEvaluated(f"the case has no layer {layer}")
        j_, k_ = d.lhs.indices[1:]
        rows, cols = case.weights[layer - 2].shape
        return [(_parameter_index(case, layer, j, k), {j_: j, k_: k})
                for j in range(1, rows + 1) for k in range(1, cols + 1)]
    return [(p, {}) for p in range(flatten(case.weights, case.biases).size)]


def _left(d: Derivation, case: Case, parameter: int, bind: dict[sp.Symbol, int], variable: sp.Symbol
          ) -> Callable[[mpmath.mpf], mpmath.mpf]:
    """Δ ↦ the left side in high precision: ΔC = C(θ + Δ·eₚ) − C(θ) for ΔC's entry, or the
    left side's formula in C(wⱼ + …) with C the cost as a function of θₚ."""
    cost = cost_in_high_precision(case)
    theta = [mpmath.mpf(float(t)) for t in flatten(case.weights, case.biases)]

    def cost_at(value: mpmath.mpf) -> mpmath.mpf:
        return cost(theta[:parameter] + [value] + theta[parameter + 1:])
    if isinstance(d.lhs, sp.Indexed):
        return lambda t: cost_at(theta[parameter] + t) - cost_at(theta[parameter])
    weight = [s for s in d.lhs.free_symbols if s != variable]
    if len(weight) != 1:
        raise NotEvaluated("a left side in more than one weight")
    fn = sp.lambdify([weight[0], variable], d.lhs, modules=[{"C": cost_at}, "mpmath"])
    return lambda t: fn(theta[parameter], t)


def _right_coefficients(d: Derivation, case: Case, method: str, variable: sp.Symbol, order: int,
                        directions: Sequence[tuple[int, dict[sp.Symbol, int]]]) -> np.ndarray:
    """Row k, entry i: the right side's coefficient of Δᵏ along direction i, its derivatives of
    C (Derivative(C(wⱼ), wⱼ, k)) or its rate factors (entries) taken by the method."""
    polynomial = sp.expand(d.rhs.removeO())
    coefficients = [polynomial.coeff(variable, k) if k else polynomial.subs(variable, 0)
                    for k in range(order)]
    depth = len(case.sizes)
    wanted = max([int(c.derivative_count) for c in polynomial.atoms(sp.Derivative)], default=0)
    along = derivatives_along(case, [p for p, _ in directions], wanted, method) if wanted else None
    table = rate_factors(case, method) if polynomial.atoms(sp.Indexed) else {}
    out = np.empty((order, len(directions)))
    for i, (_, bind) in enumerate(directions):
        for k, template in enumerate(coefficients):
            c = at_sizes(template.xreplace({L: depth, **bind}), case.sizes).doit()
            if along is not None:
                c = c.replace(lambda e: isinstance(e, sp.Derivative),
                              lambda e: sp.Float(along[int(e.derivative_count) - 1, i], 17))
            c = c.xreplace({leaf: sp.Float(entry(table, leaf), 17) for leaf in c.atoms(sp.Indexed)})
            out[k, i] = float(c)
    return out


_LEFT: dict[tuple[int, int, int], tuple[Derivation, Case, np.ndarray]] = {}
"""The left side's coefficients by (id(derivation), id(case), order), each entry keeping both
alive (so their ids are never another's): the same for every method."""


def left_coefficients(d: Derivation, case: Case, variable: sp.Symbol, order: int,
                      directions: Sequence[tuple[int, dict[sp.Symbol, int]]]) -> np.ndarray:
    """Row k, entry i: the left side's coefficient of Δᵏ along direction i, in high precision."""
    key = (id(d), id(case), order)
    if key not in _LEFT:
        found = np.array([taylor_coefficients(_left(d, case, p, bind, variable), order)
                          for p, bind in directions]).T
        _LEFT[key] = (d, case, found)
    return _LEFT[key][2]


def check_orders(d: Derivation, case: Case, method: str) -> Discrepancy:
    """lhs = rhs + O(Δᵖ): the coefficients of Δ⁰ … Δᵖ⁻¹, each order normwise over every
    direction, the left side's in high precision against the right side's by the method."""
    variable, order = _order(d.rhs)
    directions = _directions(d, case)
    right = _right_coefficients(d, case, method, variable, order, directions)
    left = left_coefficients(d, case, variable, order, directions)
    floor = RESOLUTION * float(np.max(np.abs(left)))
    return worst_discrepancy(list(right), list(left),
                             f"{d.name}: coefficients of {variable}⁰ … {variable}^{order - 1}",
                             first_layer=0, scales=[floor] * order)
