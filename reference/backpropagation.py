"""Backpropagation (§2.5): per example, and fully matrix-based over a mini-batch.

>>> import numpy as np
>>> from bpverify.reference import backprop
>>> w = [np.array([[0.5, -1.0]]), np.array([[2.0]])]
>>> b = [np.array([[0.1]]), np.array([[-0.3]])]
>>> nabla_b, nabla_w = backprop(w, b, np.array([[1.0], [0.5]]), np.array([[1.0]]))
>>> [g.shape for g in nabla_w]
[(1, 2), (1, 1)]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from bpverify.reference.activations import (
    BUILTIN_ACTIVATIONS,
    Activation,
    LayerActivation,
    is_real_numpy,
    layer_activations,
    real_sigmoid_and_prime,
    sigmoid,
)
from bpverify.reference.costs import Cost, cross_entropy, quadratic
from bpverify.reference.equations import (
    bp1_output_error,
    bp2_backpropagate,
    bp3_bias_gradient,
    bp4_weight_gradient,
    feedforward_layers,
)
from bpverify.reference.validation import check_example

ActivationSpec = LayerActivation | Sequence[LayerActivation]


@dataclass(frozen=True)
class BackpropResult:
    """∇b and ∇w per layer 2..L, with the δˡ, zˡ (layers 2..L) and aˡ (layers 1..L) that gave them.

    For a mini-batch the gradients are summed over the examples and δˡ, zˡ, aˡ
    are matrices with one column per example.
    """

    nabla_b: list[np.ndarray]
    nabla_w: list[np.ndarray]
    deltas: list[np.ndarray]
    zs: list[np.ndarray]
    activations: list[np.ndarray]

    def __iter__(self) -> Iterator[list[np.ndarray]]:
        """Unpack as the book's ``nabla_b, nabla_w = backprop(...)``."""
        return iter((self.nabla_b, self.nabla_w))


def _backprop(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
              y: np.ndarray, activations: Sequence[LayerActivation], cost: Cost,
              uniform: bool | None = None) -> BackpropResult:
    """The algorithm, unvalidated: the lean path when every array is a plain ndarray of one
    float32/float64 dtype (``uniform``, computed when not given) and σ and C are built in, the
    general path otherwise; both compute the same values."""
    if uniform is None:
        uniform = _one_real_dtype(weights, biases, x, y)
    if _lean_applies(activations, cost, uniform):
        return _backprop_lean(weights, biases, x, y, activations, cost)
    return _backprop_general(weights, biases, x, y, activations, cost)


def _lean_applies(activations: Sequence[LayerActivation], cost: Cost, uniform: bool) -> bool:
    """The lean path takes arrays of one real dtype (``uniform``) with built-in σ and C only:
    custom and per-neuron activations, custom costs, mixed dtypes keep the general path."""
    return uniform and (cost is quadratic or cost is cross_entropy) \
        and all(id(act) in _LEAN_ACTIVATIONS for act in activations)


def _one_real_dtype(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
                    y: np.ndarray) -> bool:
    """x, y, every wˡ and bˡ plain numpy arrays of one dtype, float32 or float64."""
    dtype = x.dtype
    return is_real_numpy(x) and type(y) is np.ndarray and y.dtype == dtype and all(
        type(w) is np.ndarray and type(b) is np.ndarray and w.dtype == dtype and b.dtype == dtype
        for w, b in zip(weights, biases, strict=True))


_LEAN_ACTIVATIONS = frozenset(id(act) for act in BUILTIN_ACTIVATIONS.values())
"""The built-in σ, by identity (hashing an Activation hashes its functions: slower)."""


def _product(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p ⊙ q for two arrays this call made, written into the one that has the product's dtype
    (p first): no third array, and one fewer new page of memory to fault in."""
    if p.dtype == q.dtype or np.result_type(p, q) == p.dtype:
        p *= q
        return p
    if np.result_type(p, q) == q.dtype:
        q *= p
        return q
    return p * q


def _backprop_lean(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
                   y: np.ndarray, activations: Sequence[LayerActivation], cost: Cost
                   ) -> BackpropResult:
    """The same equations with fewer temporaries: zˡ is built in place, σ′(zˡ) becomes δˡ in
    place, and for the sigmoid σ(zˡ) and σ′(zˡ) come together from the feedforward pass."""
    zs: list[np.ndarray] = []
    acts = [x]
    primes: list[np.ndarray | None] = []  # σ′(zˡ) where the feedforward pass had it at hand
    for w, b, act in zip(weights, biases, activations, strict=True):
        z = w @ acts[-1]
        z += b  # zˡ = wˡaˡ⁻¹ + bˡ
        zs.append(z)
        if act is sigmoid:
            a, prime = real_sigmoid_and_prime(z)  # aˡ = σ(zˡ), and σ′(zˡ) = σ(zˡ)σ(−zˡ)
            acts.append(a)
            primes.append(prime)
        else:
            acts.append(act.f(z))
            primes.append(None)
    output, known = activations[-1], primes[-1]
    if cost.output_error and isinstance(output, Activation) \
            and cost.output_error.get(output) is not None:  # BP1 simplified
        delta = bp1_output_error(zs[-1], acts[-1], y, output, cost)  # δᴸ = aᴸ − y (cross-entropy, σ)
    else:  # BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ)
        delta = _product(output.fprime(zs[-1]) if known is None else known,
                         cost.gradient(acts[-1], y))
    deltas = [delta]
    for i in range(len(weights) - 2, -1, -1):  # BP2: δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)
        known = primes[i]
        delta = _product(activations[i].fprime(zs[i]) if known is None else known,
                         weights[i + 1].T @ delta)
        deltas.append(delta)
    deltas.reverse()
    nabla_b = [bp3_bias_gradient(d) for d in deltas]
    nabla_w = [bp4_weight_gradient(d, a) for d, a in zip(deltas, acts, strict=False)]
    return BackpropResult(nabla_b, nabla_w, deltas, zs, acts)


def _backprop_general(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
                      y: np.ndarray, activations: Sequence[LayerActivation], cost: Cost
                      ) -> BackpropResult:
    """Feedforward, BP1, BP2 for l = L−1..2, then BP3 and BP4, each by its equation's function."""
    zs, acts = feedforward_layers(weights, biases, x, activations)
    deltas = [bp1_output_error(zs[-1], acts[-1], y, activations[-1], cost)]
    for i in range(len(weights) - 2, -1, -1):
        deltas.insert(0, bp2_backpropagate(weights[i + 1], deltas[0], zs[i], activations[i]))
    nabla_b = [bp3_bias_gradient(d) for d in deltas]
    nabla_w = [bp4_weight_gradient(d, a) for d, a in zip(deltas, acts[:-1], strict=True)]
    return BackpropResult(nabla_b, nabla_w, deltas, zs, acts)


def backprop(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
             y: np.ndarray, activation: ActivationSpec = sigmoid,
             cost: Cost = quadratic) -> BackpropResult:
    """∇Cₓ for one example x (n₁, 1) with target y (n_L, 1), by BP1–BP4."""
    sizes, uniform = check_example(weights, biases, x, y, single=True)
    return _backprop(weights, biases, x, y, layer_activations(activation, sizes), cost, uniform)


def backprop_matrix(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
                    Y: np.ndarray, activation: ActivationSpec = sigmoid,
                    cost: Cost = quadratic) -> BackpropResult:
    """Σₓ ∇Cₓ over a mini-batch X = [x₁ … x_m] in one pass (the chapter's fully matrix-based problem).

    Feedforward with Zˡ = wˡAˡ⁻¹ + bˡ (b broadcast over columns), then BP1–BP2 on
    the matrices Δˡ; BP3 sums Δˡ over columns and BP4 is Δˡ(Aˡ⁻¹)ᵀ.
    """
    sizes, uniform = check_example(weights, biases, X, Y, single=False, names=("X", "Y"))
    return _backprop(weights, biases, X, Y, layer_activations(activation, sizes), cost, uniform)


def backprop_loop(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
                  Y: np.ndarray, activation: ActivationSpec = sigmoid,
                  cost: Cost = quadratic) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Σₓ ∇Cₓ by looping per-example backprop over the columns of X, as ``update_mini_batch`` does."""
    sizes, uniform = check_example(weights, biases, X, Y, single=False, names=("X", "Y"))
    per_layer = layer_activations(activation, sizes)
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for j in range(X.shape[1]):
        result = _backprop(weights, biases, X[:, j:j + 1], Y[:, j:j + 1], per_layer, cost, uniform)
        nabla_b = [nb + d for nb, d in zip(nabla_b, result.nabla_b, strict=True)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, result.nabla_w, strict=True)]
    return nabla_b, nabla_w
