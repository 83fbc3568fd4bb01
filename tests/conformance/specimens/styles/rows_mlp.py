"""A small numpy MLP in the other common convention, written for bpverify's tests: examples are
rows, weights stored (n_in, n_out), 1-D biases, gradients returned (dW, db) and averaged over
the batch, a train_step(X, Y, lr) on arrays. Five lines of declarations plug it in."""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class MLP:
    bpverify_capabilities = {
        "layout": "rows", "weights": "in_out", "biases": "flat", "gradient_order": "wb",
        "reduction": "mean", "update_input": "arrays",
        "methods": {"backprop": "gradients", "feedforward": "predict",
                    "update_mini_batch": "train_step", "weights": "W", "biases": "b"}}

    def __init__(self, sizes):
        rng = np.random.default_rng(3)
        self.W = [rng.standard_normal((p, n)) for p, n in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(n) for n in sizes[1:]]

    def _forward(self, X):
        outs = [X]
        for W, b in zip(self.W, self.b):
            outs.append(sigmoid(outs[-1] @ W + b))
        return outs

    def predict(self, X):
        return self._forward(X)[-1]

    def loss(self, X, Y):
        return 0.5 * np.sum((self.predict(X) - Y) ** 2) / X.shape[0]

    def gradients(self, X, Y):
        outs = self._forward(X)
        m = X.shape[0]
        delta = (outs[-1] - Y) * outs[-1] * (1 - outs[-1]) / m
        dW, db = [], []
        for i in range(len(self.W) - 1, -1, -1):
            dW.insert(0, outs[i].T @ delta)
            db.insert(0, self.reduce_bias(delta))
            if i:
                delta = (delta @ self.W[i].T) * outs[i] * (1 - outs[i])
        return dW, db

    def reduce_bias(self, delta):
        return delta.sum(axis=0)

    def train_step(self, X, Y, lr):
        dW, db = self.gradients(X, Y)
        self.W = [W - lr * g for W, g in zip(self.W, dW)]
        self.b = [b - lr * g for b, g in zip(self.b, db)]


class Undeclared(MLP):
    """The same code with its declarations forgotten, but for its method names."""

    bpverify_capabilities = {"methods": {"backprop": "gradients", "feedforward": "predict",
                                         "weights": "W", "biases": "b"}}


class MeanOverEveryEntry(MLP):
    """Declares a mean over the batch but averages over every entry (÷ m·n_L)."""

    def gradients(self, X, Y):
        dW, db = super().gradients(X, Y)
        n_out = Y.shape[1]
        return [g / n_out for g in dW], [g / n_out for g in db]


class BiasSummedOverNeurons(MLP):
    def reduce_bias(self, delta):
        return delta.sum(axis=1).mean() * np.ones(delta.shape[1])  # the wrong axis
