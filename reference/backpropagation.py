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

from bpverify.reference.activations import LayerActivation, layer_activations, sigmoid
from bpverify.reference.costs import Cost, quadratic
from bpverify.reference.equations import (
    bp1_output_error,
    bp2_backpropagate,
    bp3_bias_gradient,
    bp4_weight_gradient,
    feedforward_layers,
)
from bpverify.reference.validation import check_columns, check_network, check_same_columns

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
              y: np.ndarray, activations: Sequence[LayerActivation], cost: Cost) -> BackpropResult:
    """The algorithm, unvalidated: feedforward, BP1, BP2 for l = L−1..2, then BP3 and BP4."""
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
    sizes = check_network(weights, biases)
    check_columns(x, "x", sizes[0], single=True)
    check_columns(y, "y", sizes[-1], single=True)
    return _backprop(weights, biases, x, y, layer_activations(activation, sizes), cost)


def backprop_matrix(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
                    Y: np.ndarray, activation: ActivationSpec = sigmoid,
                    cost: Cost = quadratic) -> BackpropResult:
    """Σₓ ∇Cₓ over a mini-batch X = [x₁ … x_m] in one pass (the chapter's fully matrix-based problem).

    Feedforward with Zˡ = wˡAˡ⁻¹ + bˡ (b broadcast over columns), then BP1–BP2 on
    the matrices Δˡ; BP3 sums Δˡ over columns and BP4 is Δˡ(Aˡ⁻¹)ᵀ.
    """
    sizes = check_network(weights, biases)
    check_columns(X, "X", sizes[0], single=False)
    check_columns(Y, "Y", sizes[-1], single=False)
    check_same_columns(X, Y, "X", "Y")
    return _backprop(weights, biases, X, Y, layer_activations(activation, sizes), cost)


def backprop_loop(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
                  Y: np.ndarray, activation: ActivationSpec = sigmoid,
                  cost: Cost = quadratic) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Σₓ ∇Cₓ by looping per-example backprop over the columns of X, as ``update_mini_batch`` does."""
    sizes = check_network(weights, biases)
    check_columns(X, "X", sizes[0], single=False)
    check_columns(Y, "Y", sizes[-1], single=False)
    check_same_columns(X, Y, "X", "Y")
    per_layer = layer_activations(activation, sizes)
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for j in range(X.shape[1]):
        result = _backprop(weights, biases, X[:, j:j + 1], Y[:, j:j + 1], per_layer, cost)
        nabla_b = [nb + d for nb, d in zip(nabla_b, result.nabla_b, strict=True)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, result.nabla_w, strict=True)]
    return nabla_b, nabla_w
