"""A network with a different activation in every layer, written for bpverify's tests: the
book's conventions (columns of examples, weights (n_l, n_{l-1}), biases (n_l, 1)), a fixed
list of activations, one per layer 2..L, declared as such; then planted bugs that show in
one layer only."""

from __future__ import annotations

import numpy as np

ACTIVATIONS = {
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "sigmoid": (lambda z: 0.5 * (1 + np.tanh(z / 2)),
                lambda z: 0.25 * (1 - np.tanh(z / 2) ** 2)),
}


class Network:
    bpverify_capabilities = {"activation": ["tanh", "relu", "sigmoid"]}

    def __init__(self, sizes, activations=("tanh", "relu", "sigmoid")):
        if len(activations) != len(sizes) - 1:
            raise ValueError(f"{len(activations)} activations for {len(sizes) - 1} layers")
        rng = np.random.default_rng(5)
        self.activations = list(activations)
        self.weights = [rng.standard_normal((n, p)) for p, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]

    def feedforward(self, a):
        for w, b, name in zip(self.weights, self.biases, self.activations):
            a = ACTIVATIONS[name][0](w @ a + b)
        return a

    def backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for w, b, name in zip(self.weights, self.biases, self.activations):
            zs.append(w @ activation + b)
            activation = ACTIVATIONS[name][0](zs[-1])
            activations.append(activation)
        delta = (activations[-1] - y) * self.derivative(len(zs) - 1, zs[-1])
        nabla_b, nabla_w = [delta], [delta @ activations[-2].T]
        for i in range(len(zs) - 2, -1, -1):
            delta = (self.weights[i + 1].T @ delta) * self.derivative(i, zs[i])
            nabla_b.insert(0, delta)
            nabla_w.insert(0, delta @ activations[i].T)
        return nabla_b, nabla_w

    def derivative(self, i, z):
        """σ′ of layer i + 2 (i counts the weight layers from 0)."""
        return ACTIVATIONS[self.activations[i]][1](z)


class FirstLayersDerivative(Network):
    """σ′ of the first weight layer (tanh′) used in every hidden layer: shows in layer 3 only."""

    def derivative(self, i, z):
        last = i == len(self.activations) - 1
        return ACTIVATIONS[self.activations[-1 if last else 0]][1](z)
