"""Mini-batch stochastic gradient descent (§2.5):

    wˡ → wˡ − (η/m) Σₓ δˣ'ˡ (aˣ'ˡ⁻¹)ᵀ,    bˡ → bˡ − (η/m) Σₓ δˣ'ˡ,

with m the size of *this* mini-batch (a short last batch divides by its own size).
Pure functions: new lists are returned, the caller's arrays are never changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bpverify.reference.activations import LayerActivation, layer_activations, sigmoid
from bpverify.reference.backpropagation import ActivationSpec, _backprop
from bpverify.reference.costs import Cost, quadratic
from bpverify.reference.validation import (
    check_columns,
    check_example,
    check_network,
    check_positive,
)

Params = tuple[list[np.ndarray], list[np.ndarray]]


def stack_mini_batch(mini_batch: Sequence[tuple[np.ndarray, np.ndarray]], n_in: int, n_out: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The book's list of (x, y) columns as the matrices X = [x₁ … x_m], Y = [y₁ … y_m]."""
    if isinstance(mini_batch, np.ndarray) or not isinstance(mini_batch, Sequence):
        raise ValueError(f"mini_batch has type {type(mini_batch).__name__}, "
                         "expected a list of (x, y) tuples")
    if len(mini_batch) == 0:
        raise ValueError("mini_batch is empty, expected at least one (x, y) tuple")
    for i, pair in enumerate(mini_batch):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"mini_batch[{i}] is {type(pair).__name__}, expected an (x, y) tuple")
        check_columns(pair[0], f"mini_batch[{i}][0] (x)", n_in, single=True)
        check_columns(pair[1], f"mini_batch[{i}][1] (y)", n_out, single=True)
    return (np.hstack([x for x, _ in mini_batch]), np.hstack([y for _, y in mini_batch]))


def sgd_step(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
             Y: np.ndarray, eta: float, activation: ActivationSpec = sigmoid,
             cost: Cost = quadratic) -> Params:
    """One gradient-descent step on the mini-batch X, Y (columns are examples); returns new params."""
    sizes, uniform = check_example(weights, biases, X, Y, single=False, names=("X", "Y"))
    eta = check_positive(eta, "eta")
    return _step(weights, biases, X, Y, eta, layer_activations(activation, sizes), cost, uniform)


def _step(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
          Y: np.ndarray, eta: float, activations: Sequence[LayerActivation], cost: Cost,
          uniform: bool | None = None) -> Params:
    """The step on arguments already checked: w → w − (η/m)Σ∇w, b → b − (η/m)Σ∇b."""
    grads = _backprop(weights, biases, X, Y, activations, cost, uniform)
    scale = eta / X.shape[1]
    new_w = [w - scale * nw for w, nw in zip(weights, grads.nabla_w, strict=True)]
    new_b = [b - scale * nb for b, nb in zip(biases, grads.nabla_b, strict=True)]
    return new_w, new_b


def update_mini_batch(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                      mini_batch: Sequence[tuple[np.ndarray, np.ndarray]], eta: float,
                      activation: ActivationSpec = sigmoid, cost: Cost = quadratic) -> Params:
    """The book's ``update_mini_batch``: one step on a list of (x, y) tuples; returns new params."""
    sizes = check_network(weights, biases)
    X, Y = stack_mini_batch(mini_batch, sizes[0], sizes[-1])
    eta = check_positive(eta, "eta")
    return _step(weights, biases, X, Y, eta, layer_activations(activation, sizes), cost)


def sgd(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
        training_data: Sequence[tuple[np.ndarray, np.ndarray]], epochs: int,
        mini_batch_size: int, eta: float, *, seed: int | np.random.Generator = 0,
        activation: ActivationSpec = sigmoid, cost: Cost = quadratic) -> Params:
    """``epochs`` passes over the shuffled training data in mini-batches; returns new params.

    The shuffle is drawn from ``numpy.random.default_rng(seed)``, so a run repeats.
    """
    sizes = check_network(weights, biases)
    for name, value in (("epochs", epochs), ("mini_batch_size", mini_batch_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} is {value!r}, expected a positive integer")
    X, Y = stack_mini_batch(training_data, sizes[0], sizes[-1])
    eta = check_positive(eta, "eta")
    per_layer = layer_activations(activation, sizes)
    rng = np.random.default_rng(seed)
    w, b = list(weights), list(biases)
    for _ in range(epochs):
        order = rng.permutation(X.shape[1])
        for start in range(0, X.shape[1], mini_batch_size):
            cols = order[start:start + mini_batch_size]
            check_network(w, b)  # shapes hold; a diverging step may have made w or b non-finite
            w, b = _step(w, b, X[:, cols], Y[:, cols], eta, per_layer, cost)
    return w, b
