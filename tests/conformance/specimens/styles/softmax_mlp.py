"""A classifier in the style of many small numpy MLPs, written for bpverify's tests: rows of
examples, ReLU hidden layers, a softmax output with categorical cross-entropy averaged over the
batch, weights (n_in, n_out), flat biases; then one planted bug."""

from __future__ import annotations

import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Classifier:
    bpverify_capabilities = {
        "activation": "relu/softmax", "cost": "categorical-cross-entropy", "layout": "rows",
        "weights": "in_out", "biases": "flat", "gradient_order": "wb", "reduction": "mean",
        "methods": {"backprop": "grads", "feedforward": "probabilities"}}

    def __init__(self, sizes):
        rng = np.random.default_rng(11)
        self.weights = [rng.standard_normal((p, n)) * np.sqrt(2 / p)
                        for p, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(n) for n in sizes[1:]]

    def _forward(self, X):
        outs, zs = [X], []
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            zs.append(outs[-1] @ W + b)
            last = i == len(self.weights) - 1
            outs.append(softmax(zs[-1]) if last else np.maximum(zs[-1], 0))
        return outs, zs

    def probabilities(self, X):
        return self._forward(X)[0][-1]

    def grads(self, X, Y):
        outs, zs = self._forward(X)
        delta = self.output_error(outs[-1], Y) / X.shape[0]
        dW, db = [], []
        for i in range(len(self.weights) - 1, -1, -1):
            dW.insert(0, outs[i].T @ delta)
            db.insert(0, delta.sum(axis=0))
            if i:
                delta = (delta @ self.weights[i].T) * (zs[i - 1] > 0)
        return dW, db

    def output_error(self, probabilities, Y):
        return probabilities - Y  # softmax with categorical cross-entropy


class ElementwiseSoftmaxDerivative(Classifier):
    """δᴸ = (a − y) ⊙ a(1 − a): the softmax treated as if it were elementwise, and σ′ applied."""

    def output_error(self, probabilities, Y):
        return (probabilities - Y) * probabilities * (1 - probabilities)
