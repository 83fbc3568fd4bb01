"""The symbolic gradient, lambdified: derivations tied to the numbers of the reference.

For a case with activations and cost that SymPy can write (sigmoid, tanh, identity,
softplus, the cubic example; quadratic, cross-entropy, the quartic example), C is built
symbolically over φ = (θ, u) exactly as ``bpverify.oracles.methods.extended_cost`` builds it
numerically, differentiated by SymPy, and evaluated with ``lambdify``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

SYMPY_ACTIVATIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
    "tanh": sp.tanh,
    "identity": lambda z: z,
    "softplus": lambda z: sp.log(1 + sp.exp(z)),
    "cubic": lambda z: z ** 3 / 3 + z,
}
SYMPY_COSTS: dict[str, Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    "quadratic": lambda a, y: (a - y) ** 2 / 2,
    "cross-entropy": lambda a, y: -(y * sp.log(a) + (1 - y) * sp.log(1 - a)),
    "quartic (custom)": lambda a, y: (a - y) ** 4 / 4,
}
MAX_SYMBOLS = 80
"""Above this many parameters and offsets the symbolic gradient takes more than a few seconds."""


class NotSymbolic(ValueError):
    """The case uses something SymPy is not given a formula for, or is too large."""


@functools.cache
def _compiled_gradient(sizes: tuple[int, ...], names: tuple[tuple[str, ...], ...],
                       cost_name: str) -> Callable[..., Any]:
    """The lambdified ∂C/∂(θ, u) for one example, as a function of (θ, u, x, y); one per
    network structure, so repeated runs on the same structure differentiate once."""
    unknown = sorted({n for layer in names for n in layer} - set(SYMPY_ACTIVATIONS))
    if unknown:
        raise NotSymbolic(f"no SymPy formula for activation(s) {unknown}")
    n_theta = sum(n * p + n for p, n in zip(sizes[:-1], sizes[1:], strict=True))
    n_offsets = sum(sizes[1:])
    params = sp.symbols(f"theta0:{n_theta}")
    offsets_flat = sp.symbols(f"u0:{n_offsets}")
    xs, ys = sp.symbols(f"x0:{sizes[0]}"), sp.symbols(f"y0:{sizes[-1]}")
    it, ut = iter(params), iter(offsets_flat)
    a = sp.Matrix(xs)
    for (n_prev, n), layer in zip(zip(sizes[:-1], sizes[1:], strict=True), names, strict=True):
        w = sp.Matrix(n, n_prev, lambda *_: next(it))
        b = sp.Matrix(n, 1, lambda *_: next(it))
        z = w * a + b + sp.Matrix(n, 1, lambda *_: next(ut))
        a = sp.Matrix([SYMPY_ACTIVATIONS[layer[j]](z[j]) for j in range(n)])
    cost = SYMPY_COSTS[cost_name]
    C = sum(cost(a[j], ys[j]) for j in range(len(ys)))
    unknowns = (*params, *offsets_flat)
    return sp.lambdify([params, offsets_flat, xs, ys], [sp.diff(C, s) for s in unknowns],
                       modules="numpy", cse=True)


SATURATION = 20.0
"""Past |z| ≈ 20 the textbook formulas SymPy differentiates (e^(−z)/(1 + e^(−z))², 1 − tanh²)
lose their relative accuracy in float64; the symbolic column declines such cases."""


def symbolic_gradient(sizes: Sequence[int], activations: Sequence[Any], cost_name: str,
                      x: np.ndarray, y: np.ndarray, zs: Sequence[np.ndarray],
                      theta: np.ndarray) -> np.ndarray:
    """∂C/∂φ for φ = (w², b², …, wᴸ, bᴸ, u², …, uᴸ) in the order of ``extended_point``.

    C is built for one example with x and y as symbols, differentiated once, lambdified,
    and evaluated column by column (θ-parts summed, u-parts kept per example).
    """
    if cost_name not in SYMPY_COSTS:
        raise NotSymbolic(f"no SymPy formula for cost {cost_name!r}")
    if max(float(np.max(np.abs(z))) for z in zs) > SATURATION:
        raise NotSymbolic(f"a |zˡⱼ| exceeds {SATURATION:g}, where the textbook formulas lose "
                          "accuracy in float64")
    n_offsets = sum(sizes[1:])
    if theta.size + n_offsets > MAX_SYMBOLS:
        raise NotSymbolic(f"{theta.size + n_offsets} symbols exceed the limit of {MAX_SYMBOLS}")
    names = tuple(tuple(a.name for a in act.activations) if hasattr(act, "activations")
                  else (act.name,) * n for act, n in zip(activations, sizes[1:], strict=True))
    evaluate = _compiled_gradient(tuple(sizes), names, cost_name)
    m = x.shape[1]
    theta_part = np.zeros(theta.size)
    offset_part = np.zeros((n_offsets, m))
    for k in range(m):
        with np.errstate(all="ignore"):
            g = np.array(evaluate(theta, np.zeros(n_offsets), x[:, k], y[:, k]), dtype=np.float64)
        theta_part += g[:theta.size]
        offset_part[:, k] = g[theta.size:]
    rows = np.cumsum([0, *sizes[1:]])
    layout = [offset_part[rows[i]:rows[i + 1]].ravel() for i in range(len(sizes) - 1)]
    return np.concatenate([theta_part, *layout])
