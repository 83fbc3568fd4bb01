"""Statements in components on numbers: equation 53's sum over paths of rate factors, and the
modified neuron's δˡ₁ with f′ in place of σ′. Each entry's sums are done at the network's sizes,
every factor's entry taken by the method (``rate_factors``, ``modified_factors``).

The modified neuron's network: neuron 1 of every layer 2..L computes f = tanh, the others σ, so
its statement (f′ for that neuron) and its wrong variants (σ′ kept) give different numbers.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from bpverify.derivations.core import Derivation
from bpverify.derivations.method_values import (
    NotEvaluated,
    d_cost_d_a,
    derivative,
    derivatives,
    jacobian,
)
from bpverify.derivations.notation import L, l, n
from bpverify.oracles.cases import Case, random_case
from bpverify.oracles.discrepancy import Discrepancy, worst_discrepancy
from bpverify.reference.activations import PerNeuron, sigmoid, tanh
from bpverify.reference.equations import feedforward_layers

Table = dict[str, Callable[[int], np.ndarray]]


def _layer_map(case: Case, layer: int) -> Callable[[Any], Any]:
    """aˡ⁻¹ ↦ aˡ = σ(wˡaˡ⁻¹ + bˡ) for one example (any array namespace)."""
    w, b, act = case.weights[layer - 2], case.biases[layer - 2][:, 0], case.activations[layer - 2]
    return lambda a: act.f(w @ a + b)


def rate_factors(case: Case, method: str) -> dict[str, Callable[[int], np.ndarray]]:
    """The path sum's factors, each taken by the method from the layer maps themselves (once
    per layer, however many entries read them):
    ``rate[λ]`` the Jacobian ∂a^(λ+1)/∂a^λ, ``rate_w[λ]`` the matrix of ∂a^λⱼ/∂w^λⱼₖ (row j
    differentiating aʲ in row j of w alone), ``grad_a_C[L]`` ∂C/∂aᴸ, ``dC_dw[λ]`` the method's
    gradient (the reference: BP4's; the derivatives the reference offers for the factors are
    its σ′ formulas)."""
    if case.batch_size != 1:
        raise NotEvaluated("the path sum is evaluated on single examples")
    _, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)

    def rate(layer: int) -> np.ndarray:
        at, act = acts[layer - 1][:, 0], case.activations[layer - 1]
        w, b = case.weights[layer - 1], case.biases[layer - 1][:, 0]
        return jacobian(method, _layer_map(case, layer + 1), at,
                         lambda t: act.fprime(w @ t + b)[:, None] * w)

    def rate_w(layer: int) -> np.ndarray:
        w, b, act = case.weights[layer - 2], case.biases[layer - 2][:, 0], case.activations[layer - 2]
        before = acts[layer - 2][:, 0]

        def row(j: int) -> np.ndarray:
            return derivative(method, lambda r: act.f(r @ before + b[j]), w[j].copy(),
                               lambda r: act.fprime(r @ before + b[j]) * before)
        return np.array([row(j) for j in range(w.shape[0])])

    derivs = derivatives(case, method)
    return {"rate": functools.cache(rate), "rate_w": functools.cache(rate_w),
            "grad_a_C": lambda layer: d_cost_d_a(case, layer, method)[:, 0],
            "dC_dw": lambda layer: derivs.nabla_w[layer - 2]}


def entry(table: dict[str, Callable[[int], np.ndarray]], leaf: sp.Indexed) -> float:
    """One entry (1-based indices, as the book writes them) of a factor; ValueError where the
    index is outside the factor (a formula whose shapes do not fit)."""
    name, layer, *indices = str(leaf.base), *(int(i) for i in leaf.indices)
    if name not in table:
        raise NotEvaluated(f"no numeric value for {name}")
    array = table[name](layer)
    if any(not 1 <= i <= n for i, n in zip(indices, array.shape, strict=False)) or \
            len(indices) != array.ndim:
        raise ValueError(f"{name}[{layer}] has shape {array.shape}, no entry {tuple(indices)}")
    return float(array[tuple(i - 1 for i in indices)])


def modified_case(seed: int) -> Case:
    """A network [3, 4, 3, 2] whose neuron 1 of every layer computes f = tanh, the rest σ."""
    sizes = [3, 4, 3, 2]
    return random_case(seed, sizes, activations=[PerNeuron((tanh,) + (sigmoid,) * (n - 1))
                                                 for n in sizes[1:]])


MODIFIED_FUNCTIONS = {"f_prime": tanh.fprime, "sigma_prime": sigmoid.fprime, "f": tanh.f,
                      "sigma": sigmoid.f}
"""The modified neuron's f and the other neurons' σ, with their derivatives, as numbers."""


def modified_factors(case: Case, method: str) -> Table:
    """wˡ, zˡ from the case; δˡ and ∂C/∂aᴸ (grad_a_C) from the method."""
    zs, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    found = derivatives(case, method)
    if found.deltas is None:
        raise NotEvaluated(f"{method} gives no δˡ")
    deltas = found.deltas
    return {"w": lambda layer: case.weights[layer - 2], "z": lambda layer: zs[layer - 2][:, 0],
            "a": lambda layer: acts[layer - 1][:, 0], "delta": lambda layer: deltas[layer - 2][:, 0],
            "grad_a_C": lambda layer: d_cost_d_a(case, layer, method)[:, 0]}


def _numbers(expr: sp.Expr, table: Table, functions: dict[str, Callable[[Any], Any]]) -> float:
    """An expression of entries (its sums at concrete bounds) as a float: each entry from the
    table, each function of one variable applied to its argument's number."""
    total = expr.doit()
    total = total.xreplace({leaf: sp.Float(entry(table, leaf), 17) for leaf in total.atoms(sp.Indexed)})
    applied = {e: sp.Float(float(functions[e.func.__name__](np.float64(float(e.args[0])))), 17)
               for e in total.atoms(sp.Function) if e.func.__name__ in functions}
    return float(total.xreplace(applied))


def at_sizes(expr: sp.Basic, sizes: Sequence[int]) -> sp.Basic:
    """The expression with every width n(λ) of a concrete layer λ replaced by the network's."""
    return expr.replace(n, lambda layer: sp.Integer(sizes[int(layer) - 1]))


def _layers(d: Derivation, depth: int, lowest: int) -> list[int]:
    """The layers l at which every entry the statement names exists (l free: 2..L; else one)."""
    if l not in (d.lhs.free_symbols | d.rhs.free_symbols):
        return [depth]
    fits = []
    for layer in range(2, depth + 1):
        layers = [int(i.indices[0].xreplace({l: layer, L: depth}))
                  for i in (d.lhs.atoms(sp.Indexed) | d.rhs.atoms(sp.Indexed))]
        if all(lowest <= lv <= depth for lv in layers):
            fits.append(layer)
    return fits


def check_entries(d: Derivation, case: Case, table: Table,
                  functions: dict[str, Callable[[Any], Any]] | None = None) -> Discrepancy:
    """A statement in components, lhs = rhs at every layer it applies to and every entry of its
    left side (its free indices run over the factor's shape; a fixed index is that entry)."""
    depth = len(case.sizes)
    got, expected = [], []
    for layer in _layers(d, depth, lowest=2):
        lhs, rhs = (side.xreplace({l: layer, L: depth}) for side in (d.lhs, d.rhs))
        rhs = at_sizes(rhs, case.sizes)
        shape = table[str(lhs.base)](int(lhs.indices[0])).shape
        free = [(i, n) for i, n in zip(lhs.indices[1:], shape, strict=True) if isinstance(i, sp.Symbol)]
        ranges = [range(1, n + 1) for _, n in free]
        left, right = [], []
        for at in itertools.product(*ranges):
            bind = dict(zip((i for i, _ in free), at, strict=True))
            right.append(_numbers(rhs.xreplace(bind), table, functions or {}))
            left.append(entry(table, lhs.xreplace(bind)))
        got.append(np.array(right))
        expected.append(np.array(left))
    if not got:
        raise NotEvaluated("no layer of the case has the statement's entries")
    return worst_discrepancy(got, expected, f"{d.name}: right side vs left side")
