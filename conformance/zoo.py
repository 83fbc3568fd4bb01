"""The bug zoo: book-style networks with one plausible bug each, and the check that must
name it. The suite's meta-tests assert that every mutant is rejected by the expected check.

Each mutant overrides one step of ``BookNetwork`` (a port of the book's network.py).
``equation`` is what the failing check's report must name (BP1–BP4, the update rule, …),
``status`` whether that is a failure or an error verdict (crash, hang, NaN), and
``diagnosis`` a phrase the report must contain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bpverify.conformance.book_network import BookNetwork, sigmoid, sigmoid_prime


@dataclass(frozen=True)
class Mutant:
    name: str
    cls: type
    equation: str
    diagnosis: str | None = None
    status: str = "fail"


def _mutant(name: str, equation: str, diagnosis: str | None = None, status: str = "fail",
            **overrides: Callable) -> Mutant:
    cls = type(name, (BookNetwork,), dict(overrides))
    cls.__module__ = __name__
    return Mutant(name, cls, equation, diagnosis, status)


def _sequential_update(self, mini_batch, eta):
    for x, y in mini_batch:  # steps after every example, still dividing by m
        nabla_b, nabla_w = self.backprop(x, y)
        self.apply_step(nabla_b, nabla_w, eta, len(mini_batch))


def _update_by_eta(self, nabla_b, nabla_w, eta, m):
    BookNetwork.apply_step(self, nabla_b, nabla_w, eta, 1)


def _gradient_ascent(self, nabla_b, nabla_w, eta, m):
    BookNetwork.apply_step(self, nabla_b, nabla_w, -eta, m)


def _biases_not_updated(self, nabla_b, nabla_w, eta, m):
    self.weights = [w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w, strict=True)]


def _hang_in_update(self, mini_batch, eta):
    while True:
        pass


def _mutates_y(self, x, y):
    result = BookNetwork.backprop(self, x, y)
    y *= 0.5  # "normalising" the label in place, after use
    return result


def _nondeterministic(self, x, y):
    nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
    nabla_w[0] = nabla_w[0] + np.random.default_rng().normal() * 1e-12
    return nabla_b, nabla_w


def _one_entry_one_percent_off(self, delta, a_prev, a):
    grad = np.dot(delta, a_prev.transpose())
    if grad.shape == (30, 784):
        grad[7, 123] *= 1.01
    return grad


def _nan_for_deep_nets(self, x, y):
    nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
    with np.errstate(invalid="ignore"):
        nabla_w[0] = nabla_w[0] * np.log(-1.0 if self.num_layers > 3 else 1.0)
    return nabla_b, nabla_w


def _crash(self, x, y):
    return BookNetwork.backprop(self, x, y[:, 0])  # "fixes" y to 1-D: breaks the shapes inside


def _feedforward_without_bias(self, a):
    for w in self.weights:
        a = sigmoid(np.dot(w, a))
    return a


MUTANTS: tuple[Mutant, ...] = (
    _mutant("MissingSigmaPrimeBP1", "BP1", "missing σ′",
            output_error=lambda self, z, a, y: self.cost_derivative(a, y)),
    _mutant("SignFlipBP1", "BP1", "sign flipped",
            cost_derivative=lambda self, a, y: y - a),
    _mutant("MissingHalfBP1", "BP1", "missing ½",
            cost_derivative=lambda self, a, y: 2 * (a - y)),
    _mutant("SigmaForSigmaPrimeBP1", "BP1", "σ(z) in place of σ′(z)",
            output_error=lambda self, z, a, y: self.cost_derivative(a, y) * sigmoid(z)),
    _mutant("MissingSigmaPrimeBP2", "BP2", "missing σ′",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.transpose(), d)),
    _mutant("WInsteadOfWTransposeBP2", "BP2", "instead of (wˡ⁺¹)ᵀ",
            backpropagate=lambda self, w, d, z, zn: (
                np.dot(w, d) if w.shape[0] == w.shape[1] else np.dot(w.T, d)) * sigmoid_prime(z)),
    _mutant("SigmaPrimeOfNextLayerBP2", "BP2", "σ′(zˡ⁺¹) instead of σ′(zˡ)",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.T, d) * (
                sigmoid_prime(zn) if zn.shape == z.shape else sigmoid_prime(z))),
    _mutant("SigmaForSigmaPrimeBP2", "BP2", "σ(zˡ) in place of σ′(zˡ)",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.T, d) * sigmoid(z)),
    _mutant("SkipsFirstLayerBP2", "BP2", None,
            backward_layers=lambda self: range(2, self.num_layers - 1)),
    _mutant("TyposInSigmaPrime", "BP1", None,
            sigmoid_prime=lambda self, z: sigmoid(z) * (1 - z)),
    _mutant("ActivationOfThisLayerBP4", "BP4", "aˡ instead of aˡ⁻¹",
            weight_gradient=lambda self, d, a_prev, a: (
                np.dot(d, a.T) if a.shape == a_prev.shape else np.dot(d, a_prev.T))),
    _mutant("TransposedWeightGradientBP4", "BP4", "transposed",
            weight_gradient=lambda self, d, a_prev, a: np.dot(a_prev, d.T)),
    _mutant("SignFlipBP4", "BP4", "sign flipped",
            weight_gradient=lambda self, d, a_prev, a: -np.dot(d, a_prev.T)),
    _mutant("OneEntryOnePercentOffBP4", "BP4", None, weight_gradient=_one_entry_one_percent_off),
    _mutant("BiasGradientSummedBP3", "BP3", "summed over the neurons",
            bias_gradient=lambda self, d: np.sum(d, keepdims=True)),
    _mutant("EtaInsteadOfEtaOverM", "update rule", "η instead of η/m", apply_step=_update_by_eta),
    _mutant("SequentialUpdates", "update rule", "sequential updates",
            update_mini_batch=_sequential_update),
    _mutant("GradientAscent", "update rule", "gradient ascent", apply_step=_gradient_ascent),
    _mutant("BiasesNotUpdated", "update rule", "b not updated", apply_step=_biases_not_updated),
    _mutant("HangsInUpdate", "update rule", None, "error", update_mini_batch=_hang_in_update),
    _mutant("MutatesItsInput", "purity", "in-place", backprop=_mutates_y),
    _mutant("Nondeterministic", "determinism", None, backprop=_nondeterministic),
    _mutant("ReturnsNaN", "BP3/BP4", "non-finite", "error", backprop=_nan_for_deep_nets),
    _mutant("Crashes", "BP3/BP4", "raised", "error", backprop=_crash),
    _mutant("FeedforwardWithoutBias", "feedforward", "bias left out",
            feedforward=_feedforward_without_bias),
)
