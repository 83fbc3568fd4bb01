"""A classifier in the manner of pvml's MLP (written for bpverify's tests, not copied): rows of
examples, weights (n_in, n_out), 1-D biases, ReLU hidden layers and a softmax output with the
cross-entropy averaged over the batch; forward keeps every layer's activations, backward returns
the derivatives with respect to the pre-activations, and the gradient is (dW, db). Declared as
its author would at first, without the gradient's order."""

from __future__ import annotations

import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class MLP:
    bpverify_capabilities = {
        "activation": "relu/softmax", "cost": "categorical-cross-entropy", "layout": "rows",
        "weights": "in_out", "biases": "flat", "reduction": "mean",
        "methods": {"backprop": "grads", "feedforward": "inference"}}

    def __init__(self, neuron_counts):
        rng = np.random.default_rng(5)
        self.weights = [rng.standard_normal((m, n)) * np.sqrt(2.0 / m)
                        for m, n in zip(neuron_counts[:-1], neuron_counts[1:])]
        self.biases = [np.zeros(n) for n in neuron_counts[1:]]

    def forward(self, X):
        activations = [X]
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            X = X @ W + b
            X = softmax(X) if i == len(self.weights) - 1 else np.maximum(X, 0)
            activations.append(X)
        return activations

    def inference(self, X):
        return self.forward(X)[-1]

    def backward(self, Y, activations):
        d = (activations[-1] - Y) / Y.shape[0]
        derivatives = [d]
        for W, X in zip(self.weights[:0:-1], activations[-2::-1]):
            d = (d @ W.T) * (X > 0)
            derivatives.append(d)
        return derivatives[::-1]

    def grads(self, X, Y):
        activations = self.forward(X)
        derivatives = self.backward(Y, activations)
        return ([A.T @ D for A, D in zip(activations, derivatives)],
                [D.sum(0) for D in derivatives])


class LabelsByArgmax(MLP):
    """Targets taken as class labels (argmax), as with integer labels: right for one-hot targets
    only (the battery's soft and near-one-hot ones show it)."""

    bpverify_capabilities = {**MLP.bpverify_capabilities, "gradient_order": "wb"}

    def backward(self, Y, activations):
        labels = np.eye(Y.shape[1])[Y.argmax(axis=1)]
        return super().backward(labels, activations)
