"""The bug zoo: book-style networks with one plausible bug each, and the check that must
reject it. The suite's meta-tests assert that every mutant is rejected by its check.

Each mutant overrides one step of ``BookNetwork`` (a port of the book's network.py) or of
``MatrixNetwork`` (the same with the chapter's matrix-based ``backprop_matrix``). ``check`` is
the id of the check that must reject it, ``status`` whether with a failure or an error verdict
(crash, hang, NaN), ``diagnosis`` a phrase its report must contain, and ``equation`` what the
report names (BP1–BP4, the update rule, …). The later families each hide from some networks:
they show only at some depths, widths or batch sizes, across calls, in saturation, or in one
layer, which is what the case battery (``battery``) is there to reach.

Kept whole: one catalogue, a few lines a mutant, read top to bottom as a list beside the check
each must fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from bpverify.conformance.specimens import correct_variants as _correct
from bpverify.conformance.specimens.book_network import BookNetwork, MatrixNetwork, sigmoid, sigmoid_prime


@dataclass(frozen=True)
class Mutant:
    name: str
    cls: type
    equation: str
    diagnosis: str | None = None
    status: str = "fail"
    check: str = ""
    needs: str = ""
    """What a network or batch must have for the bug to show (also the class's docstring)."""


EQUATIONS = {"shapes": "BP3/BP4", "forward": "feedforward", "update-rule": "update rule",
             "gradient-vs-reference": "gradient", "mini-batch": "mini-batch",
             "inputs-not-mutated": "purity", "deterministic": "determinism", "sgd": "SGD"}


def _mutant(name: str, check: str, diagnosis: str | None = None, status: str = "fail",
            base: type = BookNetwork, needs: str = "", **overrides: Callable) -> Mutant:
    cls = type(name, (base,), dict(overrides))
    cls.__module__ = __name__
    if needs:
        cls.__doc__ = f"Needs {needs}."
    return Mutant(name, cls, EQUATIONS.get(check, check), diagnosis, status, check, needs)


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


def _momentum_step(self, nabla_b, nabla_w, eta, m):
    """SGD with momentum 0.9: a velocity v = 0.9v + ∇/m kept in the object, a step of −ηv."""
    vb, vw = getattr(self, "velocity", ([0.0] * len(self.biases), [0.0] * len(self.weights)))
    vb = [0.9 * v + nb / m for v, nb in zip(vb, nabla_b, strict=True)]
    vw = [0.9 * v + nw / m for v, nw in zip(vw, nabla_w, strict=True)]
    self.velocity = (vb, vw)
    self.biases = [b - eta * v for b, v in zip(self.biases, vb, strict=True)]
    self.weights = [w - eta * v for w, v in zip(self.weights, vw, strict=True)]


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
    if grad.shape[1] == 784:  # the 784-wide input layer: one entry of tens of thousands
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


# -- bugs that show only at some depths, widths, batch sizes, after the weights change, in
#    saturated neurons, or in one layer (each family is a property of the case battery) --------

def _backward(self, x, y, step):
    """The book's backprop with BP2 replaced by ``step(self, l, w_next, delta, z)``."""
    zs, activations = self.forward_pass(x)
    delta = self.output_error(zs[-1], activations[-1], y)
    nabla_b, nabla_w = [None] * len(self.weights), [None] * len(self.weights)
    nabla_b[-1], nabla_w[-1] = delta, np.dot(delta, activations[-2].T)
    for l in range(2, self.num_layers):
        delta = step(self, l, self.weights[-l + 1], delta, zs[-l])
        nabla_b[-l], nabla_w[-l] = delta, np.dot(delta, activations[-l - 1].T)
    return nabla_b, nabla_w


def _interior_without_sigma_prime(self, x, y):
    # σ′ kept where the student tested it (the last hidden layer, the first), lost in between
    return _backward(self, x, y, lambda net, l, w, d, z: np.dot(w.T, d) * (
        sigmoid_prime(z) if l in (2, net.num_layers - 1) else 1.0))


def _hard_coded_depth(self, x, y):
    zs, activations = self.forward_pass(x)
    delta = self.output_error(zs[-1], activations[-1], y)
    nabla_b = [np.zeros(b.shape) for b in self.biases]
    nabla_w = [np.zeros(w.shape) for w in self.weights]
    nabla_b[-1], nabla_w[-1] = delta, np.dot(delta, activations[-2].T)
    for l in range(2, min(self.num_layers, 4)):  # written for the two-hidden-layer exercise
        delta = np.dot(self.weights[-l + 1].T, delta) * sigmoid_prime(zs[-l])
        nabla_b[-l], nabla_w[-l] = delta, np.dot(delta, activations[-l - 1].T)
    return nabla_b, nabla_w


def _single_output_without_sigma_prime(self, z, a, y):
    if z.shape[0] == 1:  # "one output neuron: the error is just a − y"
        return self.cost_derivative(a, y)
    return self.cost_derivative(a, y) * sigmoid_prime(z)


def _width_one_without_sigma_prime(self, w, d, z, zn):
    if z.shape[0] == 1:  # a scalar shortcut for a one-neuron layer
        return np.dot(w.T, d)
    return np.dot(w.T, d) * sigmoid_prime(z)


def _scalar_bias_gradient(self, delta):
    return delta.item() if delta.size == 1 else delta


def _chunked_overwrite(self, X, Y):
    for start in range(0, X.shape[1], 32):  # chunks of 32 columns, to save memory
        nabla_b, nabla_w = MatrixNetwork.backprop_matrix(self, X[:, start:start + 32],
                                                         Y[:, start:start + 32])
    return nabla_b, nabla_w  # the last chunk's, not the sum


def _bias_only_averaged(self, X, Y):
    nabla_b, nabla_w = MatrixNetwork.backprop_matrix(self, X, Y)
    return [nb / X.shape[1] for nb in nabla_b], nabla_w


def _both_averaged(self, X, Y):
    nabla_b, nabla_w = MatrixNetwork.backprop_matrix(self, X, Y)
    return [nb / X.shape[1] for nb in nabla_b], [nw / X.shape[1] for nw in nabla_w]


def _update_divided_by(divisor):
    def update_mini_batch(self, mini_batch, eta):
        nabla_b, nabla_w = self.summed_gradient(mini_batch)
        self.apply_step(nabla_b, nabla_w, eta, divisor(self, mini_batch))
    return update_mini_batch


def _internal_buffers(self, x, y):
    if not hasattr(self, "_nabla"):
        self._nabla = ([np.zeros(b.shape) for b in self.biases],
                       [np.zeros(w.shape) for w in self.weights])
    nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
    for buffer, fresh in zip(self._nabla[0] + self._nabla[1], nabla_b + nabla_w, strict=True):
        buffer[...] = fresh  # no allocation per call
    return self._nabla


def _memoised_forward(self, x):
    cache = self.__dict__.setdefault("_forward_cache", {})
    key = x.tobytes()
    if key not in cache:  # the same input gives the same activations... until w changes
        cache[key] = BookNetwork.forward_pass(self, x)
    return cache[key]


def _momentum(self, nabla_b, nabla_w, eta, m):
    velocity = self.__dict__.setdefault("_velocity", [np.zeros(w.shape) for w in self.weights])
    for i, nw in enumerate(nabla_w):
        velocity[i] = 0.9 * velocity[i] - (eta / m) * nw  # momentum left in from an experiment
    self.weights = [w + v for w, v in zip(self.weights, velocity, strict=True)]
    self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b, strict=True)]


def _decaying_rate(self, nabla_b, nabla_w, eta, m):
    self._decay = getattr(self, "_decay", 1.0)
    BookNetwork.apply_step(self, nabla_b, nabla_w, eta * self._decay, m)
    self._decay *= 0.95  # a learning-rate schedule hidden in the step


def _sigma_prime_zero_beyond_five(self, z):
    return np.where(np.abs(z) > 5, 0.0, sigmoid_prime(z))  # "it is 0 there anyway"


def _sigma_prime_by_exp(self, z):
    e = np.exp(-z)
    return e / (1 + e) ** 2  # inf/inf = NaN for z < −709


def _clipped_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))  # "for stability"


def _clipped_forward(self, x):
    activations, zs = [x], []
    for b, w in zip(self.biases, self.weights, strict=True):
        zs.append(np.dot(w, activations[-1]) + b)
        activations.append(_clipped_sigmoid(zs[-1]))
    return zs, activations


def _float32_output_error(self, z, a, y):
    f = np.float32
    return ((a.astype(f) - y.astype(f)) * sigmoid_prime(z.astype(f))).astype(np.float64)


def _float32_first_layer(self, delta, a_prev, a):
    if a_prev.shape[0] == self.sizes[0]:  # the big input layer, "to save memory"
        return np.dot(delta.astype(np.float32), a_prev.T.astype(np.float32)).astype(np.float64)
    return np.dot(delta, a_prev.T)


# -- found by an adversarial audit: bugs the first battery could not reach ----------------------

TILE = 64


def _tiled_dot(A, B):
    """A @ B by tiles of 64 rows of A, for wide layers; the last rows mod 64 are dropped."""
    if A.shape[0] <= TILE:
        return np.dot(A, B)
    out = np.zeros((A.shape[0], B.shape[1]))
    for i in range(0, A.shape[0] - TILE + 1, TILE):
        out[i:i + TILE] = np.dot(A[i:i + TILE], B)
    return out


def _chunks_of_64_drop_the_tail(self, X, Y):
    if X.shape[1] <= 64:
        return MatrixNetwork.backprop_matrix(self, X, Y)
    total_b = [np.zeros(b.shape) for b in self.biases]
    total_w = [np.zeros(w.shape) for w in self.weights]
    for s in range(0, X.shape[1] - 64 + 1, 64):  # the tail chunk never comes
        nb, nw = MatrixNetwork.backprop_matrix(self, X[:, s:s + 64], Y[:, s:s + 64])
        total_b = [t + g for t, g in zip(total_b, nb, strict=True)]
        total_w = [t + g for t, g in zip(total_w, nw, strict=True)]
    return total_b, total_w


def _step_decay_every_third(self, nabla_b, nabla_w, eta, m):
    self._steps = getattr(self, "_steps", 0) + 1
    BookNetwork.apply_step(self, nabla_b, nabla_w, eta * 0.1 ** (self._steps // 3), m)


def _consumes_its_mini_batch(self, mini_batch, eta):
    m = len(mini_batch)
    nabla_b = [np.zeros(b.shape) for b in self.biases]
    nabla_w = [np.zeros(w.shape) for w in self.weights]
    while mini_batch:  # empties the caller's list: the next epoch has nothing to learn from
        x, y = mini_batch.pop()
        delta_b, delta_w = self.backprop(x, y)
        nabla_b = [n + d for n, d in zip(nabla_b, delta_b, strict=True)]
        nabla_w = [n + d for n, d in zip(nabla_w, delta_w, strict=True)]
    self.apply_step(nabla_b, nabla_w, eta, m)


def _hidden_weight_decay(self, mini_batch, eta, lmbda=1e-4, n=1):
    """Chapter 3's rule, right with λ and n given, but with a decay on by default."""
    nabla_b, nabla_w = self.summed_gradient(mini_batch)
    m = len(mini_batch)
    self.weights = [(1 - eta * lmbda / n) * w - eta / m * g
                    for w, g in zip(self.weights, nabla_w, strict=True)]
    self.biases = [b - eta / m * g for b, g in zip(self.biases, nabla_b, strict=True)]


def _squeezed_labels(self, X, Y):
    return MatrixNetwork.backprop_matrix(self, X, np.squeeze(Y))  # (n_L, 1) → (n_L,) at m = 1


def _extra_sigma_prime_in_bias_gradient(self, x, y):
    nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
    zs, _ = self.forward_pass(x)
    nabla_b[-1] = nabla_b[-1] * sigmoid_prime(zs[-1])  # δᴸ ⊙ σ′ once more, in ∂C/∂b only
    return nabla_b, nabla_w


def _sigmoid_by_exp_of_z(self, x):
    activations, zs = [x], []
    for b, w in zip(self.biases, self.weights, strict=True):
        zs.append(np.dot(w, activations[-1]) + b)
        e = np.exp(zs[-1])
        activations.append(e / (1.0 + e))  # inf/inf = NaN for z > 709
    return zs, activations


def _sgd_nominal_size(self, training_data, epochs, mini_batch_size, eta):
    """Every mini-batch stepped with η/mini_batch_size, the last shorter one too."""
    data = list(training_data)
    for _ in range(epochs):
        for mini_batch in self.mini_batches(data, mini_batch_size):
            nabla_b, nabla_w = self.summed_gradient(mini_batch)
            self.apply_step(nabla_b, nabla_w, eta, mini_batch_size)


# -- the examples, targets and outputs as adversarial as the networks (issue 19) ---------------

def _deduplicated(self, X, Y):
    """Σ over the distinct examples: a repeated example is counted once."""
    _, first = np.unique(np.vstack([X, Y]), axis=1, return_index=True)
    keep = sorted(first)
    return MatrixNetwork.backprop_matrix(self, X[:, keep], Y[:, keep])


def _clipped_inputs(self, x):
    return BookNetwork.forward_pass(self, np.clip(x, -100.0, 100.0))  # "outliers"


def _zero_input_skipped(self, x, y):
    if not x.any():  # "nothing to learn from an empty input": the biases still learn
        return ([np.zeros(b.shape) for b in self.biases],
                [np.zeros(w.shape) for w in self.weights])
    return BookNetwork.backprop(self, x, y)


def _labels_by_argmax(self, z, a, y):
    return a - np.eye(y.shape[0])[:, y.argmax(axis=0)]  # targets as class labels


def _bias_summed_over_neurons(self, X, Y):
    nabla_b, nabla_w = MatrixNetwork.backprop_matrix(self, X, Y)
    deltas = self._deltas(X, Y)
    return [d.sum(axis=0, keepdims=True).T for d in deltas], nabla_w  # the wrong axis


def _deltas_of(self, X, Y):
    zs, activations = self.forward_pass(X)
    delta = self.output_error(zs[-1], activations[-1], Y)
    out = [delta]
    for l in self.backward_layers():
        delta = self.backpropagate(self.weights[-l + 1], delta, zs[-l], zs[-l + 1])
        out.insert(0, delta)
    return out


def _unsummed_bias_gradient(self, X, Y):
    _, nabla_w = MatrixNetwork.backprop_matrix(self, X, Y)
    return self._deltas(X, Y), nabla_w  # per-example δ, one column each


def _rows_when_square(self, X, Y):
    if X.shape[1] == self.sizes[0]:  # "accept a batch of rows too"
        X, Y = X.T, Y.T
    return MatrixNetwork.backprop_matrix(self, X, Y)


def _chunks_of_1024_drop_the_tail(self, X, Y):
    if X.shape[1] <= 1024:
        return MatrixNetwork.backprop_matrix(self, X, Y)
    return MatrixNetwork.backprop_matrix(self, X[:, :1024], Y[:, :1024])  # the rest "next time"


def _update_first_1024(self, mini_batch, eta):
    nabla_b, nabla_w = self.summed_gradient(mini_batch[:1024])  # a memory cap
    self.apply_step(nabla_b, nabla_w, eta, len(mini_batch))


def _norm_clipped(self, x, y):
    nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in nabla_b + nabla_w))
    if norm > 5.0:  # gradient clipping, left on
        nabla_b = [g * 5.0 / norm for g in nabla_b]
        nabla_w = [g * 5.0 / norm for g in nabla_w]
    return nabla_b, nabla_w


def _step_clipped(self, nabla_b, nabla_w, eta, m):
    self.weights = [w - np.clip((eta / m) * nw, -1.0, 1.0)
                    for w, nw in zip(self.weights, nabla_w, strict=True)]
    self.biases = [b - np.clip((eta / m) * nb, -1.0, 1.0)
                   for b, nb in zip(self.biases, nabla_b, strict=True)]


def _tiny_deltas_flushed(self, z, a, y):
    delta = BookNetwork.output_error(self, z, a, y)
    return np.where(np.abs(delta) < 1e-9, 0.0, delta)  # "rounding noise"


def _w_never_transposed(self, w, d, z, zn):
    return np.dot(w, d) * self.sigmoid_prime(z)  # crashes wherever w is not square


def _softmax_without_shift(self, z):
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


def _cross_entropy_through_grad_c(self, z, a, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - y) / (a * (1 - a)) * self.sigmoid_prime(z)  # ∇ₐC ⊙ σ′, literally


def _clipped_probabilities(self, z, a, y):
    return np.clip(a, 1e-7, 1 - 1e-7) - y  # "so that log a stays finite"


def _naive_tanh(self, z, last):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


def _naive_tanh_prime(self, z):
    return 1.0 - _naive_tanh(self, z, False) ** 2


def _naive_softplus(self, z, last):
    return np.log(1.0 + np.exp(z))


def _sigma_prime_of_activation(self, x, y):
    """The book's loop with ``sigmoid_prime(activations[-l])``."""
    zs, activations = self.forward_pass(x)
    delta = self.output_error(zs[-1], activations[-1], y)
    nabla_b, nabla_w = [delta], [np.dot(delta, activations[-2].T)]
    for l in range(2, self.num_layers):
        delta = np.dot(self.weights[-l + 1].T, delta) * self.sigmoid_prime(activations[-l])
        nabla_b.insert(0, delta)
        nabla_w.insert(0, np.dot(delta, activations[-l - 1].T))
    return nabla_b, nabla_w


def _bias_mean_missing(self, X, Y):
    nabla_b, nabla_w = MatrixNetwork.backprop_matrix(self, X, Y)
    return nabla_b, [g / X.shape[1] for g in nabla_w]  # ∂C/∂b not divided by the batch


def _biases_step_by_eta(self, nabla_b, nabla_w, eta, m):
    self.weights = [w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w, strict=True)]
    self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b, strict=True)]


ADVERSARIAL: tuple[Mutant, ...] = (
    # the examples and targets of a batch
    _mutant("RepeatedExamplesCountedOnce", "mini-batch", "each repeated example counted once",
            base=MatrixNetwork, needs="a batch in which an example occurs twice",
            backprop_matrix=_deduplicated),
    _mutant("InputsClippedAtHundred", "gradient-vs-reference", None,
            needs="an input entry beyond ±100 (the battery's large inputs)",
            forward_pass=_clipped_inputs),
    _mutant("ZeroInputLearnsNothing", "gradient-vs-reference", None,
            needs="an all-zero input (whose ∂C/∂b is not zero)", backprop=_zero_input_skipped),
    _mutant("SoftTargetsAsLabels", "BP1", "y taken as the one-hot vector of its largest entry",
            base=_correct.SoftmaxClassifier,
            needs="a softmax network with a soft or near-one-hot target",
            output_error=_labels_by_argmax),
    # batch sizes: m equal to a width, m past 1024
    _mutant("BiasGradientSummedOverNeurons", "mini-batch", "summed over the neurons of each "
            "example", base=MatrixNetwork, needs="m > 1 (it runs only where m = n_l, the "
            "square network)", backprop_matrix=_bias_summed_over_neurons, _deltas=_deltas_of),
    _mutant("UnsummedBiasGradient", "mini-batch", "one column per example", base=MatrixNetwork,
            needs="m > 1 (per-example δ returned as ∂C/∂b)",
            backprop_matrix=_unsummed_bias_gradient, _deltas=_deltas_of),
    _mutant("BatchReadAsRowsWhenSquare", "mini-batch", "the batch read as rows",
            base=MatrixNetwork, needs="m = n₁ = n_L (the square network)",
            backprop_matrix=_rows_when_square),
    _mutant("BackpropMatrixCappedAt1024", "mini-batch", "the examples past the first 1024 "
            "of m = ", base=MatrixNetwork,
            needs="m > 1024 (the huge batch)", backprop_matrix=_chunks_of_1024_drop_the_tail),
    _mutant("UpdateCappedAt1024Examples", "update-rule", None,
            needs="a mini-batch of more than 1024 examples", update_mini_batch=_update_first_1024),
    # the size of the gradient
    _mutant("GradientNormClippedAtFive", "gradient-vs-reference", None,
            needs="a per-example gradient of norm > 5 (the far targets)", backprop=_norm_clipped),
    _mutant("StepClippedAtOne", "update-rule", None,
            needs="a step (η/m)Σₓ∇ with an entry beyond ±1", apply_step=_step_clipped),
    _mutant("TinyOutputErrorFlushedToZero", "BP1", None,
            needs="an entry of δᴸ below 1e-9 that is not zero (the near targets)",
            output_error=_tiny_deltas_flushed),
    # a crash on some networks, a wrong equation on the others
    _mutant("WeightsNeverTransposedBP2", "BP2", "wˡ⁺¹ instead of (wˡ⁺¹)ᵀ",
            needs="a network where every wˡ⁺¹ of BP2 is square (it crashes on the others)",
            backpropagate=_w_never_transposed),
    # saturation in the output layer and in every σ
    _mutant("SoftmaxWithoutMaxShift", "saturation", "subtract max z",
            base=_correct.SoftmaxClassifier, needs="a softmax logit beyond 709",
            softmax=_softmax_without_shift),
    _mutant("CrossEntropyDeltaThroughGradientOfC", "saturation", "use δᴸ = aᴸ − y",
            base=_correct.CrossEntropyNetwork,
            needs="a cross-entropy output that rounds to 0 or 1",
            output_error=_cross_entropy_through_grad_c),
    _mutant("CrossEntropyProbabilitiesClipped", "saturation", None,
            base=_correct.CrossEntropyNetwork,
            needs="a cross-entropy output within 1e-7 of 0 or 1",
            output_error=_clipped_probabilities),
    _mutant("TanhByExponentials", "saturation", "use np.tanh", base=_correct.TanhNetwork,
            needs="a tanh neuron with |z| > 709 (e^|z| overflows)", activation=_naive_tanh,
            sigmoid_prime=_naive_tanh_prime),
    _mutant("SoftplusByExponential", "saturation", "ln(1 + e^z) is ∞",
            base=_correct.SoftplusNetwork,
            needs="a softplus neuron with z > 709", activation=_naive_softplus),
    # the diagnoses of the catalogue (issue 16)
    _mutant("SigmaPrimeOfActivationBP2", "BP2", "σ′(aˡ) instead of σ′(zˡ)",
            needs="a hidden layer (L ≥ 3)", backprop=_sigma_prime_of_activation),
    _mutant("TanhPrimeOfActivationBP2", "BP2", "σ′(aˡ) instead of σ′(zˡ)",
            base=_correct.TanhNetwork, needs="a tanh hidden layer (L ≥ 3)",
            backprop=_sigma_prime_of_activation),
    _mutant("TanhPrimeWrittenInAFedZ", "BP1", "fed zᴸ: 1 − (zᴸ)² instead of 1 − (aᴸ)²",
            base=_correct.TanhNetwork, needs="tanh neurons",
            sigmoid_prime=lambda self, z: 1.0 - z * z),
    _mutant("FunctionSavedInputNotOutput", "BP1", "fed zᴸ: zᴸ(1 − zᴸ) instead of aᴸ(1 − aᴸ)",
            needs="σ neurons (a backward that reads σ′ as a(1 − a) from what it saved)",
            sigmoid_prime=lambda self, z: z * (1 - z)),
    _mutant("BiasGradientMissingBatchMean", "mini-batch", "the /m (/batch) of the declared "
            "mean is missing in ∂C/∂b", base=_correct.MeanReduced,
            needs="m > 1 and a declared mean", backprop_matrix=_bias_mean_missing),
    # hints that agree with the declaration
    _mutant("BiasesStepByEtaOneLayer", "update-rule", "η instead of η/m",
            needs="m > 1 (only the biases' step is wrong)", apply_step=_biases_step_by_eta),
    _mutant("Float32NetworkStepsInFloat64", "update-rule", "keep the parameters in float32",
            base=_correct.Float32Stable, needs="an update of a network declared float32",
            summed_gradient=BookNetwork.summed_gradient),
)
"""Bugs of the families issue 19 names, each needing what its docstring says."""



# -- one mutant for each hint of the catalogue no other mutant names (issue 16) -----------------

def _loop(self, x, y, bias=None, weight=None):
    """The book's backprop with ∂C/∂bˡ = bias(q) and ∂C/∂wˡ = weight(q) where given, q what the
    loop holds at layer l: delta, z, a, a_prev, x, grad_a_C, and above it w_next, delta_next
    (None at l = L)."""
    zs, activations = self.forward_pass(x)
    delta = self.output_error(zs[-1], activations[-1], y)
    grad_a_C = self.cost_derivative(activations[-1], y)
    nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
    delta_next, w_next = None, None
    for l in range(1, self.num_layers):
        if l > 1:
            delta_next, w_next = delta, self.weights[-l + 1]
            delta = np.dot(w_next.T, delta_next) * self.sigmoid_prime(zs[-l])
        q = SimpleNamespace(delta=delta, z=zs[-l], a=activations[-l], a_prev=activations[-l - 1],
                            x=x, grad_a_C=grad_a_C, w_next=w_next, delta_next=delta_next)
        nabla_b[-l] = bias(q) if bias is not None else delta
        nabla_w[-l] = weight(q) if weight is not None else np.dot(delta, q.a_prev.T)
    return nabla_b, nabla_w


def _changing(bias=None, weight=None):
    return lambda self, x, y: _loop(self, x, y, bias, weight)


def _hidden(change):
    """``change`` at the hidden layers, the book's δˡ at l = L (where there is no layer above)."""
    return lambda q: q.delta if q.w_next is None else change(q)


def _hidden_w(change):
    return lambda q: np.dot(q.delta, q.a_prev.T) if q.w_next is None else change(q)


def _weight_gradient_before_update(self, x, y):
    """nabla_w[-l] taken before δ moves down a layer: δˡ⁺¹(aˡ)ᵀ lands in layer l."""
    zs, activations = self.forward_pass(x)
    delta = self.output_error(zs[-1], activations[-1], y)
    nabla_b = [np.zeros(b.shape) for b in self.biases]
    nabla_w = [np.zeros(w.shape) for w in self.weights]
    nabla_b[-1], nabla_w[-1] = delta, np.dot(delta, activations[-2].T)
    for l in range(2, self.num_layers):
        nabla_w[-l] = np.dot(delta, activations[-l].T)
        delta = np.dot(self.weights[-l + 1].T, delta) * self.sigmoid_prime(zs[-l])
        nabla_b[-l] = delta
    return nabla_b, nabla_w


HINTED: tuple[Mutant, ...] = (
    _mutant("SigmaPrimeOfOutputActivationBP1", "BP1", "σ′(aᴸ) instead of σ′(zᴸ)",
            needs="σ neurons", output_error=lambda self, z, a, y: (
                self.cost_derivative(a, y) * self.sigmoid_prime(a))),
    _mutant("SigmaPrimeTwiceBP1", "BP1", "σ′ applied twice", needs="any σ but the identity",
            output_error=lambda self, z, a, y: (
                self.cost_derivative(a, y) * self.sigmoid_prime(z) * self.sigmoid_prime(z))),
    _mutant("CrossEntropyWithSigmaPrimeBP1", "BP1", "an extra ⊙ σ′(zᴸ): δᴸ = (−yᴸ + aᴸ) ⊙ σ′(zᴸ)",
            base=_correct.CrossEntropyNetwork, needs="the cross-entropy cost (under the "
            "quadratic one this δᴸ is right)",
            output_error=lambda self, z, a, y: (a - y) * self.sigmoid_prime(z)),
    _mutant("SoftmaxJacobianAsItsDiagonalBP1", "BP1", "the softmax's Jacobian taken as its "
            "diagonal", base=_correct.SoftmaxClassifier, needs="a softmax output layer",
            output_error=lambda self, z, a, y: (-y / a) * a * (1 - a)),
    _mutant("SoftmaxSigmaPrimeOnTheOutputErrorBP1", "BP1", "σ′ applied to aᴸ − y",
            base=_correct.SoftmaxClassifier, needs="a softmax output layer",
            output_error=lambda self, z, a, y: (a - y) * a * (1 - a)),
    _mutant("SoftmaxJacobianMissingBP1", "BP1", "missing the softmax's Jacobian",
            base=_correct.SoftmaxClassifier, needs="a softmax output layer",
            output_error=lambda self, z, a, y: -y / a),
    _mutant("SigmaPrimeFormOfTheLayerAboveBP2", "BP2", "(wˡ⁺¹)ᵀΣ′(zˡ⁺¹)δˡ⁺¹ instead of",
            needs="a hidden layer (L ≥ 3)",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.T, self.sigmoid_prime(zn) * d)),
    _mutant("LinearNeuronsBackwardWithoutTransposeBP2", "BP2", "wˡ⁺¹ instead of (wˡ⁺¹)ᵀ: δˡ = "
            "wˡ⁺¹δˡ⁺¹", needs="a network where every wˡ⁺¹ of BP2 is square (it crashes on the "
            "others)", backpropagate=lambda self, w, d, z, zn: np.dot(w, d)),
    _mutant("SignFlipBP2", "BP2", "sign flipped: δˡ = −((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)",
            needs="a hidden layer (L ≥ 3)",
            backpropagate=lambda self, w, d, z, zn: -np.dot(w.T, d) * self.sigmoid_prime(z)),
    _mutant("SigmaPrimeWrittenInAFedZBP2", "BP2", "zˡ(1 − zˡ) instead of aˡ(1 − aˡ)",
            needs="a hidden layer of σ neurons",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.T, d) * z * (1 - z)),
    _mutant("BiasGradientTimesActivationBP3", "BP3", "an extra ⊙ aˡ: ∂C/∂bˡ = δˡ ⊙ aˡ",
            needs="any network", backprop=_changing(bias=lambda q: q.delta * q.a)),
    _mutant("BiasGradientBeforeSigmaPrimeBP3", "BP3", "(wˡ⁺¹)ᵀδˡ⁺¹ instead of δˡ",
            needs="a hidden layer (L ≥ 3)",
            backprop=_changing(bias=_hidden(lambda q: np.dot(q.w_next.T, q.delta_next)))),
    _mutant("BiasGradientFromTheOutputErrorBP3", "BP3", "∇ₐC ⊙ σ′(zˡ) instead of δˡ",
            needs="a hidden layer as wide as the output layer (it crashes on the others)",
            backprop=_changing(bias=_hidden(lambda q: q.grad_a_C * sigmoid_prime(q.z)))),
    _mutant("WeightGradientTimesActivationBP4", "BP4", "an extra ⊙ aˡ: ∂C/∂wˡ = (δˡ ⊙ aˡ)",
            needs="any network", weight_gradient=lambda self, d, a_prev, a: np.dot(d * a,
                                                                                    a_prev.T)),
    _mutant("WeightGradientExtraSigmaPrimeBP4", "BP4", "an extra ⊙ σ′(zˡ): ∂C/∂wˡ = (δˡ ⊙ σ′(zˡ))",
            needs="any σ but the identity",
            backprop=_changing(weight=lambda q: np.dot(q.delta * sigmoid_prime(q.z), q.a_prev.T))),
    _mutant("WeightGradientOfWeightedInputBP4", "BP4", "zˡ instead of aˡ⁻¹",
            needs="a square wˡ (it crashes on the others)",
            backprop=_changing(weight=lambda q: np.dot(q.delta, q.z.T))),
    _mutant("WeightGradientBeforeSigmaPrimeBP4", "BP4", "(wˡ⁺¹)ᵀδˡ⁺¹ instead of δˡ",
            needs="a hidden layer (L ≥ 3)", backprop=_changing(weight=_hidden_w(
                lambda q: np.dot(np.dot(q.w_next.T, q.delta_next), q.a_prev.T)))),
    _mutant("WeightGradientFromTheOutputErrorBP4", "BP4", "∇ₐC ⊙ σ′(zˡ) instead of δˡ",
            needs="a hidden layer as wide as the output layer (it crashes on the others)",
            backprop=_changing(weight=_hidden_w(
                lambda q: np.dot(q.grad_a_C * sigmoid_prime(q.z), q.a_prev.T)))),
    _mutant("WeightGradientOneLayerOffBP4", "BP4", "off by one layer: δˡ⁺¹(aˡ)ᵀ",
            needs="a square network (it crashes on the others)",
            backprop=_weight_gradient_before_update),
    _mutant("WeightGradientOfTheInputBP4", "BP4", "the input x instead of aˡ⁻¹",
            needs="a layer l ≥ 3 with nₗ₋₁ = n₁ (it returns the wrong shape elsewhere)",
            backprop=_changing(weight=lambda q: np.dot(q.delta, q.x.T))),
    _mutant("CrossEntropySignFlipBP1", "BP1", "−aᴸ + yᴸ instead of −yᴸ + aᴸ",
            base=_correct.CrossEntropyNetwork, needs="the cross-entropy cost",
            output_error=lambda self, z, a, y: y - a),
    _mutant("OutputErrorTimesWeightedInputBP1", "BP1", "an extra ⊙ zᴸ",
            needs="any network", output_error=lambda self, z, a, y: (
                self.cost_derivative(a, y) * z)),
    _mutant("BackpropagateTimesWeightedInputBP2", "BP2", "an extra ⊙ zˡ",
            needs="a hidden layer (L ≥ 3)",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.T, d) * z),
    _mutant("BiasGradientTwiceBP3", "BP3", "2 δˡ instead of δˡ", needs="any network",
            bias_gradient=lambda self, d: 2 * d),
    _mutant("WeightGradientTwiceBP4", "BP4", "2 δˡ instead of δˡ", needs="any network",
            weight_gradient=lambda self, d, a_prev, a: np.dot(2 * d, a_prev.T)),
    _mutant("ThisLayersActivationEverywhereBP4", "shapes", "aˡ instead of aˡ⁻¹",
            needs="a layer with nₗ ≠ nₗ₋₁ (a square one hides it)",
            weight_gradient=lambda self, d, a_prev, a: np.dot(d, a.T)),
    _mutant("MomentumKeptAcrossCalls", "state", "each step carries μ = 0.9 times the step before",
            needs="an update (a fresh network's first step is right)",
            apply_step=_momentum_step),
)
"""One mutant for each hint of the catalogue (``suite/diagnoses.py``) that no mutant above
names: each must fail its equation with exactly that hint (``tests/conformance/suite/
test_diagnoses.py``)."""

MUTANTS: tuple[Mutant, ...] = (
    _mutant("MissingSigmaPrimeBP1", "BP1", "missing σ′(zᴸ)",
            output_error=lambda self, z, a, y: self.cost_derivative(a, y)),
    _mutant("SignFlipBP1", "BP1", "sign flipped",
            cost_derivative=lambda self, a, y: y - a),
    _mutant("MissingHalfBP1", "BP1", "missing ½",
            cost_derivative=lambda self, a, y: 2 * (a - y)),
    _mutant("SigmaForSigmaPrimeBP1", "BP1", "σ(zᴸ) instead of σ′(zᴸ)",
            output_error=lambda self, z, a, y: self.cost_derivative(a, y) * sigmoid(z)),
    _mutant("MissingSigmaPrimeBP2", "BP2", "missing σ′(zˡ)",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.transpose(), d)),
    _mutant("WInsteadOfWTransposeBP2", "BP2", "instead of (wˡ⁺¹)ᵀ",
            backpropagate=lambda self, w, d, z, zn: (
                np.dot(w, d) if w.shape[0] == w.shape[1] else np.dot(w.T, d)) * sigmoid_prime(z)),
    _mutant("SigmaPrimeOfNextLayerBP2", "BP2", "σ′(zˡ⁺¹) instead of σ′(zˡ)",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.T, d) * (
                sigmoid_prime(zn) if zn.shape == z.shape else sigmoid_prime(z))),
    _mutant("SigmaForSigmaPrimeBP2", "BP2", "σ(zˡ) instead of σ′(zˡ)",
            backpropagate=lambda self, w, d, z, zn: np.dot(w.T, d) * sigmoid(z)),
    _mutant("SkipsFirstLayerBP2", "BP2", None,
            backward_layers=lambda self: range(2, self.num_layers - 1)),
    _mutant("TyposInSigmaPrime", "BP1", None,
            sigmoid_prime=lambda self, z: sigmoid(z) * (1 - z)),
    _mutant("ActivationOfThisLayerBP4", "BP4", "aˡ instead of aˡ⁻¹",
            weight_gradient=lambda self, d, a_prev, a: (
                np.dot(d, a.T) if a.shape == a_prev.shape else np.dot(d, a_prev.T))),
    _mutant("TransposedWeightGradientBP4", "BP4", "aˡ⁻¹(δˡ)ᵀ instead of δˡ(aˡ⁻¹)ᵀ",
            weight_gradient=lambda self, d, a_prev, a: np.dot(a_prev, d.T)),
    _mutant("SignFlipBP4", "BP4", "sign flipped",
            weight_gradient=lambda self, d, a_prev, a: -np.dot(d, a_prev.T)),
    _mutant("OneEntryOnePercentOffBP4", "BP4", None, weight_gradient=_one_entry_one_percent_off),
    _mutant("BiasGradientSummedBP3", "shapes", "summed over the neurons",
            bias_gradient=lambda self, d: np.sum(d, keepdims=True)),
    _mutant("EtaInsteadOfEtaOverM", "update-rule", "η instead of η/m", apply_step=_update_by_eta),
    _mutant("SequentialUpdates", "update-rule", "sequential updates",
            update_mini_batch=_sequential_update),
    _mutant("GradientAscent", "update-rule", "gradient ascent", apply_step=_gradient_ascent),
    _mutant("BiasesNotUpdated", "update-rule", "b not updated", apply_step=_biases_not_updated),
    _mutant("HangsInUpdate", "update-rule", None, "error", update_mini_batch=_hang_in_update),
    _mutant("MutatesItsInput", "inputs-not-mutated", "in-place", backprop=_mutates_y),
    _mutant("Nondeterministic", "deterministic", None, backprop=_nondeterministic),
    _mutant("ReturnsNaN", "shapes", "non-finite", "error", backprop=_nan_for_deep_nets),
    _mutant("Crashes", "shapes", "raised", "error", backprop=_crash),
    _mutant("FeedforwardWithoutBias", "forward", "bias left out",
            feedforward=_feedforward_without_bias),
    # depth: only at L ≥ 5
    _mutant("InteriorLayersWithoutSigmaPrimeBP2", "BP2", "missing σ′(zˡ)",
            backprop=_interior_without_sigma_prime),
    _mutant("HardCodedDepthBP2", "BP2", "left at zero", backprop=_hard_coded_depth),
    # width: only with a layer of one neuron
    _mutant("SingleOutputWithoutSigmaPrimeBP1", "BP1", "missing σ′(zᴸ)",
            output_error=_single_output_without_sigma_prime),
    _mutant("WidthOneLayerWithoutSigmaPrimeBP2", "BP2", "missing σ′(zˡ)",
            backpropagate=_width_one_without_sigma_prime),
    _mutant("ScalarBiasGradientForOneNeuron", "shapes", "a scalar",
            bias_gradient=_scalar_bias_gradient),
    # batch size: only at some m
    _mutant("ChunkedBackpropMatrixOverwrites", "mini-batch", None, base=MatrixNetwork,
            backprop_matrix=_chunked_overwrite),
    _mutant("OnlyBiasGradientAveraged", "mini-batch", "only ∂C/∂b averaged", base=MatrixNetwork,
            backprop_matrix=_bias_only_averaged),
    _mutant("BackpropMatrixAveraged", "mini-batch", "declare reduction='mean'",
            base=MatrixNetwork, backprop_matrix=_both_averaged),
    # update scaling: a wrong divisor that equals m for some m
    _mutant("EtaOverNumberOfWeightLayers", "update-rule", "number of weight layers",
            update_mini_batch=_update_divided_by(lambda net, batch: net.num_layers - 1)),
    _mutant("EtaOverLengthOfAPair", "update-rule", "length of an (x, y) pair",
            update_mini_batch=_update_divided_by(lambda net, batch: len(batch[0]))),
    _mutant("EtaOverFixedBatchSize", "update-rule", "η divided by 10",
            update_mini_batch=_update_divided_by(lambda net, batch: 10)),
    # state: only across calls on one network
    _mutant("ReturnsInternalBuffers", "state", "internal buffers", backprop=_internal_buffers),
    _mutant("MemoisedForwardPass", "state", "remembered by its input",
            forward_pass=_memoised_forward),
    _mutant("MomentumLeftIn", "state", "update step 2 of 4", apply_step=_momentum),
    _mutant("DecayingLearningRate", "state", "update step 2 of 4", apply_step=_decaying_rate),
    # saturation: only where |z| is large
    _mutant("SigmaPrimeZeroBeyondFive", "saturation", None,
            sigmoid_prime=_sigma_prime_zero_beyond_five),
    _mutant("SigmaPrimeOverflowsToNaN", "saturation", "overflows for z < −709",
            sigmoid_prime=_sigma_prime_by_exp),
    _mutant("ClippedSigmoid", "saturation", None, forward_pass=_clipped_forward,
            sigmoid_prime=lambda self, z: _clipped_sigmoid(z) * (1 - _clipped_sigmoid(z))),
    # reduced precision in one layer
    _mutant("Float32OutputErrorBP1", "BP1", "float32", output_error=_float32_output_error),
    _mutant("Float32InputLayerWeightsBP4", "BP4", "float32",
            weight_gradient=_float32_first_layer),
    # found by an adversarial audit of the first battery
    _mutant("TiledMatmulDropsTailRows", "gradient-vs-reference", None,
            weighted_input=lambda self, w, a, b: _tiled_dot(w, a) + b,
            backpropagate=lambda self, w, d, z, zn: _tiled_dot(w.T, d) * sigmoid_prime(z)),
    _mutant("BackpropMatrixChunksOf64DropTheTail", "mini-batch", "chunks of 64 with the last, "
            "shorter one dropped", base=MatrixNetwork,
            backprop_matrix=_chunks_of_64_drop_the_tail),
    _mutant("BackwardLoopCappedAtSevenLayers", "BP2", "left at zero",
            backward_layers=lambda self: range(2, min(self.num_layers, 7))),
    _mutant("StepDecayEveryThirdUpdate", "state", "update step 3 of 4",
            apply_step=_step_decay_every_third),
    _mutant("UpdateConsumesItsMiniBatch", "inputs-not-mutated", "consumed",
            update_mini_batch=_consumes_its_mini_batch),
    _mutant("HiddenWeightDecayByDefault", "update-rule", "λ left at its default",
            update_mini_batch=_hidden_weight_decay),
    _mutant("BackpropMatrixSqueezesLabels", "mini-batch", None, "error", base=MatrixNetwork,
            backprop_matrix=_squeezed_labels),
    _mutant("SigmaPrimeZeroBeyondTwenty", "saturation", None,
            sigmoid_prime=lambda self, z: np.where(np.abs(z) > 20, 0.0, sigmoid_prime(z))),
    _mutant("ExtraSigmaPrimeInOutputBiasGradientBP3", "BP3", "σ′ applied once more",
            backprop=_extra_sigma_prime_in_bias_gradient),
    _mutant("SigmoidByExpOfZ", "saturation", "exp(+z)", forward_pass=_sigmoid_by_exp_of_z),
    # the SGD method: its loops over epochs and mini-batches
    _mutant("SGDShortLastBatchNominalSize", "sgd", "divided by mini_batch_size", SGD=_sgd_nominal_size),
    _mutant("SGDDropsShortLastBatch", "sgd", "left out",
            mini_batches=lambda self, data, size: [data[k:k + size]
                                                   for k in range(0, len(data) - size + 1, size)]),
    _mutant("SGDOneEpochShort", "sgd", "no epoch run", epochs=lambda self, count: range(count - 1)),
    _mutant("SGDFirstMiniBatchOnly", "sgd", "only one mini-batch of each epoch",
            mini_batches=lambda self, data, size: [data[:size]]),
    _mutant("SGDSlicesWithoutOffset", "sgd", "the same mini-batch stepped again",
            mini_batches=lambda self, data, size: [data[0:size]
                                                   for k in range(0, len(data), size)]),
    *ADVERSARIAL,
    *HINTED,
)

CORRECT = _correct.CORRECT
"""The other half: correct implementations written differently, which must conform."""
