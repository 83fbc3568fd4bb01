"""The note's algorithms on numbers: Backpropagate(y, A) run line by line in the note's order, each
line's template (the very object the derivation checks) lambdified, and Train, Backpropagate once
per example in turn from the parameters the previous example left. Their results are the left
sides of the derivations ``backpropagate`` (ΔWˡ, Δbˡ) and ``train`` (the parameters after two
examples); the right sides (−η∂C/∂wˡ; two gradient steps) are each method's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np
import sympy as sp

from bpverify.derivations.method_values import NotEvaluated, derivatives
from bpverify.derivations.notation import L, eta, l
from bpverify.derivations.numeric_templates import lambdify_template
from bpverify.oracles.cases import Case
from bpverify.oracles.claims import LEARNING_RATE
from bpverify.reference.activations import sigmoid
from bpverify.reference.costs import quadratic
from bpverify.reference.equations import feedforward_layers

Program = tuple[tuple[str, sp.Expr, sp.Basic], ...]
Store = dict[tuple[str, int], np.ndarray]

FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"one_minus": lambda v: 1 - v,
                                                             "sigma": sigmoid.f}
"""The note writes σ′ as a ⊙ (1 − a): its one function besides σ."""


@functools.cache
def _compiled(template: sp.Basic, layer: int, depth: int
              ) -> tuple[Callable[..., np.ndarray], list[tuple[str, int]]]:
    return lambdify_template(template, {l: layer, L: depth, eta: LEARNING_RATE}, FUNCTIONS)


def _require_the_notes_network(case: Case) -> None:
    if case.cost is not quadratic or any(a is not sigmoid for a in case.activations):
        raise NotEvaluated("the note's algorithm is written for σ and the quadratic cost")


def run(weights: tuple[np.ndarray, ...], biases: tuple[np.ndarray, ...], x: np.ndarray,
        y: np.ndarray, start: Program, loop: Program) -> Store:
    """The algorithm's variables after it ran on one example: the forward pass's wˡ, bˡ, zˡ, aˡ
    and y, then each line in turn, the loop's for l = L down to 2, every line reading the
    variables as the lines before it left them."""
    depth = len(weights) + 1
    zs, acts = feedforward_layers(weights, biases, x, [sigmoid] * len(weights))
    store: Store = {("y", depth): y, ("a", 1): acts[0]}
    for layer in range(2, depth + 1):
        store.update({("w", layer): weights[layer - 2], ("b", layer): biases[layer - 2],
                      ("z", layer): zs[layer - 2], ("a", layer): acts[layer - 1]})
    lines = [(name, at, template, depth) for name, at, template in start]
    lines += [(name, at, template, layer) for layer in range(depth, 1, -1) for name, at, template in loop]
    for name, at, template, layer in lines:
        fn, leaves = _compiled(template, layer, depth)
        target = int(sp.sympify(at).xreplace({l: layer, L: depth}))
        store[(name, target)] = np.asarray(fn(*(store[leaf] for leaf in leaves)), dtype=np.float64)
    return store


def backpropagate_values(case: Case, start: Program, loop: Program
                         ) -> Callable[[str, int], np.ndarray]:
    """ΔWˡ and Δbˡ as the algorithm computed them on the case's one example."""
    _require_the_notes_network(case)
    if case.batch_size != 1:
        raise NotEvaluated("Backpropagate(y, A) takes one example")
    store = run(case.weights, case.biases, case.x, case.y, start, loop)

    def value(name: str, layer: int) -> np.ndarray:
        if (name, layer) not in store or name not in ("Delta_W", "Delta_b"):
            raise NotEvaluated(f"the algorithm computes no {name}")
        return store[(name, layer)]
    return value


def swapped(loop: Program) -> Program:
    """The loop with W += ΔW and b += Δb moved before d_a C := Wᵀ d_z C (which then reads the
    updated W): the order Train's wrong variant names."""
    updates = [line for line in loop if line[0] in ("w", "b")]
    rest = [line for line in loop if line[0] not in ("w", "b")]
    reads_w = next(i for i, line in enumerate(rest) if line[0] == "dC_da")
    return tuple(rest[:reads_w] + updates + rest[reads_w:])


def _parameters_after(store: Store, depth: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    return (tuple(store[("w", layer)] for layer in range(2, depth + 1)),
            tuple(store[("b", layer)] for layer in range(2, depth + 1)))


def train_values(case: Case, method: str, start: Program, loop: Program
                 ) -> Callable[[str, int], np.ndarray]:
    """Train on the case's two examples (its columns), and the method's gradients: dC1 at θ₀ on
    example 1, dC2 at θ₁ = θ₀ − η∇C₁(θ₀) (dC2) and at θ₀ (dC2_…0) on example 2; Train_… the
    algorithm's parameters after both examples (…_swapped: with the lines out of order)."""
    _require_the_notes_network(case)
    if case.batch_size != 2:
        raise NotEvaluated("Train is evaluated on two examples")
    depth = len(case.sizes)
    x1, x2, y1, y2 = case.x[:, :1], case.x[:, 1:], case.y[:, :1], case.y[:, 1:]

    def trained(program: Program) -> Store:
        first = run(case.weights, case.biases, x1, y1, start, program)
        return run(*_parameters_after(first, depth), x2, y2, start, program)
    right, wrong = trained(loop), trained(swapped(loop))

    def example(weights: tuple[np.ndarray, ...], biases: tuple[np.ndarray, ...], x: np.ndarray,
                y: np.ndarray) -> Case:
        return dataclasses.replace(case, weights=weights, biases=biases, x=x, y=y)
    first = derivatives(example(case.weights, case.biases, x1, y1), method)
    theta_1 = (tuple(w - LEARNING_RATE * g for w, g in zip(case.weights, first.nabla_w, strict=True)),
               tuple(b - LEARNING_RATE * g for b, g in zip(case.biases, first.nabla_b, strict=True)))
    second = derivatives(example(*theta_1, x2, y2), method)
    second_at_start = derivatives(example(case.weights, case.biases, x2, y2), method)
    table: dict[str, Callable[[int], np.ndarray]] = {
        "w": lambda i: case.weights[i], "b": lambda i: case.biases[i],
        "dC1_dw": lambda i: first.nabla_w[i], "dC1_db": lambda i: first.nabla_b[i],
        "dC2_dw": lambda i: second.nabla_w[i], "dC2_db": lambda i: second.nabla_b[i],
        "dC2_dw0": lambda i: second_at_start.nabla_w[i], "dC2_db0": lambda i: second_at_start.nabla_b[i],
        "Train_W": lambda i: right[("w", i + 2)], "Train_b": lambda i: right[("b", i + 2)],
        "Train_W_swapped": lambda i: wrong[("w", i + 2)], "Train_b_swapped": lambda i: wrong[("b", i + 2)]}

    def value(name: str, layer: int) -> np.ndarray:
        if name not in table:
            raise NotEvaluated(f"no numeric value for {name}")
        return np.asarray(table[name](layer - 2), dtype=np.float64)
    return value
