"""A chapter-3 style network written for bpverify's tests (in the manner of the book's
network2.py, not its text): cost classes with ``fn`` and ``delta``, cross-entropy by default,
update_mini_batch(mini_batch, eta, lmbda, n) with L2 weight decay, SGD with lmbda; then four
planted bugs."""

from __future__ import annotations

import functools

import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # σ by another exact formula


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)


class QuadraticCost:
    @staticmethod
    def fn(a, y):
        return 0.5 * float(np.sum((a - y) ** 2))

    @staticmethod
    def delta(z, a, y):
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    @staticmethod
    def fn(a, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))))

    @staticmethod
    def delta(z, a, y):
        return a - y  # σ′ cancels


class Network:
    def __init__(self, sizes, cost=CrossEntropyCost):
        self.sizes, self.num_layers, self.cost = list(sizes), len(sizes), cost
        rng = np.random.default_rng(7)
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, p)) / np.sqrt(p)
                        for p, n in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for w, b in zip(self.weights, self.biases):
            a = sigmoid(w @ a + b)
        return a

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        sum_b = [np.zeros_like(b) for b in self.biases]
        sum_w = [np.zeros_like(w) for w in self.weights]
        for x, y in mini_batch:
            grad_b, grad_w = self.backprop(x, y)
            sum_b = [s + g for s, g in zip(sum_b, grad_b)]
            sum_w = [s + g for s, g in zip(sum_w, grad_w)]
        self.weights = [self.decay(eta, lmbda, n) * w - eta / len(mini_batch) * g
                        for w, g in zip(self.weights, sum_w)]
        self.biases = [b - eta / len(mini_batch) * g for b, g in zip(self.biases, sum_b)]

    def decay(self, eta, lmbda, n):
        return 1.0 - eta * lmbda / n

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None):
        training_data = list(training_data)
        for epoch in range(epochs):
            np.random.default_rng(epoch).shuffle(training_data)
            for k in range(0, len(training_data), mini_batch_size):
                mini_batch = training_data[k:k + mini_batch_size]
                self.update_mini_batch(mini_batch, eta, lmbda, self.size_of(training_data,
                                                                            mini_batch))
            print(f"Epoch {epoch} training complete")

    def size_of(self, training_data, mini_batch):
        return len(training_data)

    def backprop(self, x, y):
        activations, zs = [x], []
        for w, b in zip(self.weights, self.biases):
            zs.append(w @ activations[-1] + b)
            activations.append(sigmoid(zs[-1]))
        delta = self.cost.delta(zs[-1], activations[-1], y)
        grad_b, grad_w = [delta], [delta @ activations[-2].T]
        for layer in range(2, self.num_layers):
            delta = self.back(self.weights[-layer + 1], delta) * sigmoid_prime(zs[-layer])
            grad_b.insert(0, delta)
            grad_w.insert(0, delta @ activations[-layer - 1].T)
        return grad_b, grad_w

    def back(self, w_next, delta):
        return w_next.T @ delta


QuadraticNetwork = functools.partial(Network, cost=QuadraticCost)


# -- planted bugs ---------------------------------------------------------------------------

class SigmaPrimeInCrossEntropyCost(CrossEntropyCost):
    @staticmethod
    def delta(z, a, y):
        return (a - y) * sigmoid_prime(z)  # "fixing" the cancelled σ′ back in


SigmaPrimeAddedToCrossEntropy = functools.partial(Network, cost=SigmaPrimeInCrossEntropyCost)


class DecayMissingOverN(Network):
    def decay(self, eta, lmbda, n):
        return 1.0 - eta * lmbda


class DecayOverMiniBatchSize(Network):
    """SGD hands update_mini_batch the mini-batch's size as n, not the training set's."""

    def size_of(self, training_data, mini_batch):
        return len(mini_batch)


class WeightsNotTransposed(Network):
    """w for wᵀ in BP2: crashes wherever wˡ⁺¹ is not square, runs (wrong) where it is."""

    def back(self, w_next, delta):
        return w_next @ delta
