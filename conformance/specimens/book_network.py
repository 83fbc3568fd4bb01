"""The book's ``network.py`` (ch. 1–2), ported to Python 3 and numpy, as a student would write it.

It is the example of a book-style class that plugs into the suite with no adapter,
and the base of the bug zoo: each step of ``backprop`` is a small method, so a
mutant overrides exactly one of them. Sigmoid neurons, quadratic cost.
"""

from __future__ import annotations

import random

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    return sigmoid(z) * (1 - sigmoid(z))


class BookNetwork:
    def __init__(self, sizes: list[int]) -> None:
        self.num_layers = len(sizes)
        self.sizes = sizes
        rng = np.random.default_rng(0)
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:], strict=True)]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        for b, w in zip(self.biases, self.weights, strict=True):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def SGD(self, training_data: list[tuple[np.ndarray, np.ndarray]], epochs: int,
            mini_batch_size: int, eta: float) -> None:
        """Stochastic gradient descent: each epoch shuffles the training data and takes one
        ``update_mini_batch`` step per consecutive slice of mini_batch_size examples."""
        data = list(training_data)
        shuffle = random.Random(0).shuffle
        for _ in self.epochs(epochs):
            shuffle(data)
            for mini_batch in self.mini_batches(data, mini_batch_size):
                self.update_mini_batch(mini_batch, eta)

    def epochs(self, count: int) -> range:
        return range(count)

    def mini_batches(self, data: list[tuple[np.ndarray, np.ndarray]], size: int
                     ) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        return [data[k:k + size] for k in range(0, len(data), size)]

    def update_mini_batch(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float) -> None:
        nabla_b, nabla_w = self.summed_gradient(mini_batch)
        self.apply_step(nabla_b, nabla_w, eta, len(mini_batch))

    def summed_gradient(self, mini_batch: list[tuple[np.ndarray, np.ndarray]]
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Σₓ ∂Cₓ/∂b, Σₓ ∂Cₓ/∂w over the mini-batch, one backprop(x, y) per example."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b, strict=True)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w, strict=True)]
        return nabla_b, nabla_w

    def apply_step(self, nabla_b: list[np.ndarray], nabla_w: list[np.ndarray], eta: float,
                   m: int) -> None:
        self.weights = [w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w, strict=True)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b, strict=True)]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        zs, activations = self.forward_pass(x)
        delta = self.output_error(zs[-1], activations[-1], y)
        nabla_b[-1] = self.bias_gradient(delta)
        nabla_w[-1] = self.weight_gradient(delta, activations[-2], activations[-1])
        for l in self.backward_layers():
            delta = self.backpropagate(self.weights[-l + 1], delta, zs[-l], zs[-l + 1])
            nabla_b[-l] = self.bias_gradient(delta)
            nabla_w[-l] = self.weight_gradient(delta, activations[-l - 1], activations[-l])
        return nabla_b, nabla_w

    # -- the steps a mutant may override --
    def forward_pass(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """([z², …, zᴸ], [a¹ = x, …, aᴸ]) for the column x."""
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights, strict=True):
            z = self.weighted_input(w, activation, b)
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        return zs, activations

    def weighted_input(self, w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.dot(w, a) + b

    def backward_layers(self) -> range:
        return range(2, self.num_layers)

    def output_error(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """BP1."""
        return self.cost_derivative(a, y) * self.sigmoid_prime(z)

    def backpropagate(self, w_next: np.ndarray, delta: np.ndarray, z: np.ndarray,
                      z_next: np.ndarray) -> np.ndarray:
        """BP2."""
        return np.dot(w_next.transpose(), delta) * self.sigmoid_prime(z)

    def bias_gradient(self, delta: np.ndarray) -> np.ndarray:
        """BP3."""
        return delta

    def weight_gradient(self, delta: np.ndarray, a_prev: np.ndarray, a: np.ndarray) -> np.ndarray:
        """BP4."""
        return np.dot(delta, a_prev.transpose())

    def sigmoid_prime(self, z: np.ndarray) -> np.ndarray:
        return sigmoid_prime(z)

    def cost_derivative(self, output_activations: np.ndarray, y: np.ndarray) -> np.ndarray:
        return output_activations - y


class MatrixNetwork(BookNetwork):
    """The book's network with the chapter's problem solved: the fully matrix-based approach,
    ``backprop_matrix(X, Y)`` over a mini-batch whose columns are examples, summed."""

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        zs, activations = self.forward_pass(X)  # b broadcasts over the columns
        delta = self.output_error(zs[-1], activations[-1], Y)
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        nabla_b[-1] = delta.sum(axis=1, keepdims=True)
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in self.backward_layers():
            delta = self.backpropagate(self.weights[-l + 1], delta, zs[-l], zs[-l + 1])
            nabla_b[-l] = delta.sum(axis=1, keepdims=True)
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w
