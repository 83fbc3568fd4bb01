"""The book's ``Network`` class (network.py of ch. 1–2), a thin wrapper over the functional core.

>>> import numpy as np
>>> net = Network([2, 3, 1], seed=0)
>>> [w.shape for w in net.weights], [b.shape for b in net.biases]
([(3, 2), (1, 3)], [(3, 1), (1, 1)])
>>> net.feedforward(np.array([[0.5], [-0.2]])).shape
(1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bpverify.reference.activations import layer_activations, sigmoid
from bpverify.reference.backpropagation import ActivationSpec, backprop, backprop_matrix
from bpverify.reference.costs import Cost, quadratic
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.gradient_descent import sgd, update_mini_batch
from bpverify.reference.validation import check_columns, check_network

Gradients = tuple[list[np.ndarray], list[np.ndarray]]


class Network:
    """A feedforward network with ``weights[l]`` of shape (n_l, n_{l−1}) and ``biases[l]`` (n_l, 1).

    Weights and biases start as standard normal draws from ``default_rng(seed)``,
    as the book's ``np.random.randn``. Methods that train rebind ``weights`` and
    ``biases`` to new arrays, never writing into the old ones.
    """

    def __init__(self, sizes: Sequence[int], activation: ActivationSpec = sigmoid,
                 cost: Cost = quadratic, *, seed: int | None = None) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes is {sizes}, expected at least two layers (input and output)")
        for i, n in enumerate(sizes):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"sizes[{i}] (layer {i + 1}) is {n!r}, expected a positive integer")
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.activation = activation
        self.cost = cost
        layer_activations(activation, sizes)  # validate now, not at the first call
        self._rng = np.random.default_rng(seed)
        self.biases = [self._rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [self._rng.standard_normal((n, n_prev))
                        for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True)]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        """aᴸ for the input a (n₁, 1), or (n₁, m) for a batch of columns."""
        sizes = check_network(self.weights, self.biases)
        check_columns(a, "a", sizes[0], single=False)
        _, acts = feedforward_layers(self.weights, self.biases, a,
                                     layer_activations(self.activation, sizes))
        return acts[-1]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> Gradients:
        """(nabla_b, nabla_w): the gradient of Cₓ for one example, by BP1–BP4."""
        result = backprop(self.weights, self.biases, x, y, self.activation, self.cost)
        return result.nabla_b, result.nabla_w

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray) -> Gradients:
        """(nabla_b, nabla_w) summed over the columns of X, Y in one matrix-based pass."""
        result = backprop_matrix(self.weights, self.biases, X, Y, self.activation, self.cost)
        return result.nabla_b, result.nabla_w

    def update_mini_batch(self, mini_batch: Sequence[tuple[np.ndarray, np.ndarray]],
                          eta: float) -> None:
        """One step w → w − (η/m)Σ∇w, b → b − (η/m)Σ∇b on a list of (x, y) tuples."""
        self.weights, self.biases = update_mini_batch(self.weights, self.biases, mini_batch, eta,
                                                      self.activation, self.cost)

    def SGD(self, training_data: Sequence[tuple[np.ndarray, np.ndarray]], epochs: int,
            mini_batch_size: int, eta: float,
            test_data: Sequence[tuple[np.ndarray, int]] | None = None,
            *, verbose: bool = True) -> list[int]:
        """Train for ``epochs`` epochs; with test_data, print and return the score after each."""
        scores = []
        for epoch in range(epochs):
            self.weights, self.biases = sgd(self.weights, self.biases, training_data, 1,
                                            mini_batch_size, eta, seed=self._rng,
                                            activation=self.activation, cost=self.cost)
            if test_data is not None:
                scores.append(self.evaluate(test_data))
                if verbose:
                    print(f"Epoch {epoch}: {scores[-1]} / {len(test_data)}")
            elif verbose:
                print(f"Epoch {epoch} complete")
        return scores

    def evaluate(self, test_data: Sequence[tuple[np.ndarray, int]]) -> int:
        """How many test inputs the network classifies right: argmax of aᴸ equals the label."""
        return sum(int(np.argmax(self.feedforward(x)) == int(label)) for x, label in test_data)
