"""Correct implementations written differently from the book's: the suite must pass each of them,
at every seed, with no false failure (the other half of testing the checks, beside the zoo).

Each is a book-style class (``Cls(sizes)``, ``.weights``, ``.biases``, ``backprop(x, y)``,
``feedforward(a)``, ``update_mini_batch(mini_batch, eta)``) whose arithmetic is arranged
otherwise: rows as examples with einsum, Σ′ as a diagonal matrix, float32 with an overflow-free
σ, δ by recursion, in-place updates; and styles written for the battery's adversarial inputs,
targets and planted saturation: a softmax classifier for soft targets, the cross-entropy with
δᴸ = aᴸ − y, tanh and softplus without overflow, a batch in chunks, a mean-reduced gradient.
"""

from __future__ import annotations

import functools

import numpy as np

from bpverify.conformance.specimens.book_network import BookNetwork, MatrixNetwork


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) from t = e^(−|z|) ≤ 1: no overflow for any z, in any float dtype."""
    t = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + t), t / (1 + t))


def stable_sigmoid_prime(z: np.ndarray) -> np.ndarray:
    t = np.exp(-np.abs(z))
    return t / (1 + t) ** 2


def summed_per_example(net: _Initialised, X: np.ndarray, Y: np.ndarray
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Σₓ backprop(x, y) over the columns of X."""
    grads = [net.backprop(X[:, j:j + 1], Y[:, j:j + 1]) for j in range(X.shape[1])]
    return ([np.sum(layer, axis=0) for layer in zip(*(g[0] for g in grads), strict=True)],
            [np.sum(layer, axis=0) for layer in zip(*(g[1] for g in grads), strict=True)])


class _Initialised:
    """Parameters as the book draws them; the suite replaces them anyway."""

    def __init__(self, sizes: list[int]) -> None:
        rng = np.random.default_rng(1)
        self.sizes, self.num_layers = list(sizes), len(sizes)
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, p)) for p, n in zip(sizes[:-1], sizes[1:],
                                                                     strict=True)]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        for w, b in zip(self.weights, self.biases, strict=True):
            a = stable_sigmoid(w @ a + b)
        return a

    def update_mini_batch(self, mini_batch: list[tuple[np.ndarray, np.ndarray]],
                          eta: float) -> None:
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop_matrix(X, Y)
        m = len(mini_batch)
        self.weights = [w - eta / m * g for w, g in zip(self.weights, nabla_w, strict=True)]
        self.biases = [b - eta / m * g for b, g in zip(self.biases, nabla_b, strict=True)]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self.backprop_matrix(x, y)

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        raise NotImplementedError


class EinsumRowsAsExamples(_Initialised):
    """Batch-first: examples are rows inside (A = Xᵀ), products by einsum, transposed back."""

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        acts, zs = [X.T], []
        for w, b in zip(self.weights, self.biases, strict=True):
            zs.append(np.einsum("mk,jk->mj", acts[-1], w) + b[:, 0])
            acts.append(stable_sigmoid(zs[-1]))
        delta = (acts[-1] - Y.T) * stable_sigmoid_prime(zs[-1])  # (m, n_L)
        nabla_b: list[np.ndarray] = []
        nabla_w: list[np.ndarray] = []
        for i in range(len(self.weights) - 1, -1, -1):
            nabla_b.insert(0, delta.sum(axis=0)[:, None])
            nabla_w.insert(0, np.einsum("mj,mk->jk", delta, acts[i]))
            if i > 0:
                delta = np.einsum("mj,jk->mk", delta, self.weights[i]) * stable_sigmoid_prime(
                    zs[i - 1])
        return nabla_b, nabla_w


class DiagonalSigmaPrime(_Initialised):
    """BP1 and BP2 in the Σ′ form of §2.4's problem: δᴸ = Σ′(zᴸ)∇ₐC, δˡ = Σ′(zˡ)(wˡ⁺¹)ᵀδˡ⁺¹."""

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        acts, zs = [x], []
        for w, b in zip(self.weights, self.biases, strict=True):
            zs.append(w @ acts[-1] + b)
            acts.append(stable_sigmoid(zs[-1]))
        delta = np.diag(stable_sigmoid_prime(zs[-1])[:, 0]) @ (acts[-1] - y)
        deltas = [delta]
        for i in range(len(self.weights) - 2, -1, -1):
            deltas.insert(0, np.diag(stable_sigmoid_prime(zs[i])[:, 0]) @ self.weights[i + 1].T
                          @ deltas[0])
        return deltas, [d @ a.T for d, a in zip(deltas, acts[:-1], strict=True)]

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return summed_per_example(self, X, Y)


class Float32Stable(MatrixNetwork):
    """The book's code computing in float32, with an overflow-free σ, and saying so."""

    bpverify_capabilities = {"dtype": "float32"}

    def forward_pass(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        self.weights = [w.astype(np.float32) for w in self.weights]
        self.biases = [b.astype(np.float32) for b in self.biases]
        acts, zs = [x.astype(np.float32)], []
        for w, b in zip(self.weights, self.biases, strict=True):
            zs.append(w @ acts[-1] + b)
            acts.append(stable_sigmoid(zs[-1]))
        return zs, acts

    def sigmoid_prime(self, z: np.ndarray) -> np.ndarray:
        return stable_sigmoid_prime(z)

    def cost_derivative(self, output_activations: np.ndarray, y: np.ndarray) -> np.ndarray:
        return output_activations - y.astype(np.float32)

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        return self.forward_pass(a)[1][-1]

    def summed_gradient(self, mini_batch: list[tuple[np.ndarray, np.ndarray]]
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Σₓ in float32: accumulators of the parameters' dtype (the book's np.zeros(shape) would
        make the sums, and with them the updated parameters, float64)."""
        nabla_b = [np.zeros_like(b, dtype=np.float32) for b in self.biases]
        nabla_w = [np.zeros_like(w, dtype=np.float32) for w in self.weights]
        for x, y in mini_batch:
            delta_b, delta_w = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, delta_b, strict=True)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, delta_w, strict=True)]
        return nabla_b, nabla_w


class Recursive(_Initialised):
    """δˡ by its recursion written literally: δ(l) calls δ(l + 1) (memoised), down from BP1."""

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        L = self.num_layers
        acts, zs = {1: x}, {}
        for l in range(2, L + 1):
            zs[l] = self.weights[l - 2] @ acts[l - 1] + self.biases[l - 2]
            acts[l] = stable_sigmoid(zs[l])

        @functools.cache
        def delta(l: int) -> np.ndarray:
            if l == L:
                return (acts[L] - y) * stable_sigmoid_prime(zs[L])
            return (self.weights[l - 1].T @ delta(l + 1)) * stable_sigmoid_prime(zs[l])

        return ([delta(l) for l in range(2, L + 1)],
                [delta(l) @ acts[l - 1].T for l in range(2, L + 1)])

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return summed_per_example(self, X, Y)


class InPlaceUpdates(BookNetwork):
    """The book's loop, accumulating ∇ and updating w and b in place (``+=``, ``-=``) on its own
    arrays, never on the caller's."""

    def update_mini_batch(self, mini_batch: list[tuple[np.ndarray, np.ndarray]],
                          eta: float) -> None:
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_b, delta_w = self.backprop(x, y)
            for total, part in zip(nabla_b + nabla_w, delta_b + delta_w, strict=True):
                total += part
        step = eta / len(mini_batch)
        for param, grad in zip(self.weights + self.biases, nabla_w + nabla_b, strict=True):
            param -= step * grad


class TanhSigmoid(MatrixNetwork):
    """σ(z) = ½(1 + tanh(z/2)) and σ′ = σ(1 − σ): exact formulas that cancel in the tails (an
    error of u, not u·σ, where σ(−30) = 1e-13): correct, and once falsely failed."""

    def forward_pass(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        acts, zs = [x], []
        for w, b in zip(self.weights, self.biases, strict=True):
            zs.append(w @ acts[-1] + b)
            acts.append(0.5 * (1.0 + np.tanh(0.5 * zs[-1])))
        return zs, acts

    def sigmoid_prime(self, z: np.ndarray) -> np.ndarray:
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return s * (1.0 - s)


class OptionalUpdateArguments(BookNetwork):
    """update_mini_batch(mini_batch, eta, momentum=0.0, clip=None): extra knobs, off by default,
    so the book's two-argument call is the book's step (once taken for chapter 3's λ, n)."""

    def update_mini_batch(self, mini_batch: list[tuple[np.ndarray, np.ndarray]], eta: float,
                          momentum: float = 0.0, clip: float | None = None) -> None:
        BookNetwork.update_mini_batch(self, mini_batch, eta)


class LinearNeurons(BookNetwork):
    """Linear neurons everywhere (σ(z) = z, σ′ = 1, the exercise of §2.4), declared: a network
    whose curvature makes a few steps at η = 0.75 run away, once an ERROR of the suite's own."""

    bpverify_capabilities = {"activation": "identity"}

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        for b, w in zip(self.biases, self.weights, strict=True):
            a = w @ a + b
        return a

    def forward_pass(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        acts, zs = [x], []
        for w, b in zip(self.weights, self.biases, strict=True):
            zs.append(w @ acts[-1] + b)
            acts.append(zs[-1])
        return zs, acts

    def sigmoid_prime(self, z: np.ndarray) -> np.ndarray:
        return np.ones_like(z)


# -- written for the battery's adversarial examples, targets and saturation ----------------------

def stable_softmax(z: np.ndarray) -> np.ndarray:
    """e^(z − max z) / Σ e^(z − max z) per column: no overflow at any logit."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


class _StableMatrix(MatrixNetwork):
    """The matrix-based network with an overflow-free σ and σ′ (the base of the styles below)."""

    def activation(self, z: np.ndarray, last: bool) -> np.ndarray:
        return stable_sigmoid(z)

    def forward_pass(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        acts, zs = [x], []
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            zs.append(w @ acts[-1] + b)
            acts.append(self.activation(zs[-1], i == len(self.weights) - 1))
        return zs, acts

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        return self.forward_pass(a)[1][-1]

    def sigmoid_prime(self, z: np.ndarray) -> np.ndarray:
        return stable_sigmoid_prime(z)

    def update_mini_batch(self, mini_batch: list[tuple[np.ndarray, np.ndarray]],
                          eta: float) -> None:
        """One step from the whole mini-batch at once (the matrix route, for large batches)."""
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop_matrix(X, Y)
        self.apply_step(nabla_b, nabla_w, eta, len(mini_batch))


class SoftmaxClassifier(_StableMatrix):
    """σ hidden layers and a softmax output (shifted by max z) with the categorical
    cross-entropy: δᴸ = aᴸ − y for any probability vector y, soft targets too."""

    bpverify_capabilities = {"activation": "sigmoid/softmax", "cost": "categorical-cross-entropy"}

    def activation(self, z: np.ndarray, last: bool) -> np.ndarray:
        return self.softmax(z) if last else stable_sigmoid(z)

    def softmax(self, z: np.ndarray) -> np.ndarray:
        return stable_softmax(z)

    def output_error(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return a - y


class CrossEntropyNetwork(_StableMatrix):
    """σ neurons and the cross-entropy cost, δᴸ = aᴸ − y (σ′ cancels), declared: finite where
    aᴸ rounds to 0 or 1."""

    bpverify_capabilities = {"cost": "cross-entropy"}

    def output_error(self, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        return a - y


class TanhNetwork(_StableMatrix):
    """tanh neurons, declared: np.tanh (no overflow), tanh′ = 1 − tanh²."""

    bpverify_capabilities = {"activation": "tanh"}

    def activation(self, z: np.ndarray, last: bool) -> np.ndarray:
        return np.tanh(z)

    def sigmoid_prime(self, z: np.ndarray) -> np.ndarray:
        return 1.0 - np.tanh(z) ** 2


class SoftplusNetwork(_StableMatrix):
    """softplus neurons, declared: ln(1 + e^z) as logaddexp(0, z), σ′ = σ (no overflow)."""

    bpverify_capabilities = {"activation": "softplus"}

    def activation(self, z: np.ndarray, last: bool) -> np.ndarray:
        return np.logaddexp(0.0, z)

    def sigmoid_prime(self, z: np.ndarray) -> np.ndarray:
        return stable_sigmoid(z)


class ChunkedBatch(_StableMatrix):
    """backprop_matrix in chunks of 256 columns (to bound memory), each chunk's gradient added
    to the total: right for any m, past 1024 too."""

    CHUNK = 256

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        total_b = [np.zeros(b.shape) for b in self.biases]
        total_w = [np.zeros(w.shape) for w in self.weights]
        for start in range(0, X.shape[1], self.CHUNK):
            nb, nw = MatrixNetwork.backprop_matrix(self, X[:, start:start + self.CHUNK],
                                                   Y[:, start:start + self.CHUNK])
            total_b = [t + g for t, g in zip(total_b, nb, strict=True)]
            total_w = [t + g for t, g in zip(total_w, nw, strict=True)]
        return total_b, total_w


class MeanReduced(_StableMatrix):
    """backprop_matrix averaged over the mini-batch, as most frameworks' losses are, declared
    (reduction='mean'), and update_mini_batch stepping by η times that mean."""

    bpverify_capabilities = {"reduction": "mean"}

    def backprop_matrix(self, X: np.ndarray, Y: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        nabla_b, nabla_w = MatrixNetwork.backprop_matrix(self, X, Y)
        m = X.shape[1]
        return [g / m for g in nabla_b], [g / m for g in nabla_w]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self.backprop_matrix(x, y)

    def update_mini_batch(self, mini_batch: list[tuple[np.ndarray, np.ndarray]],
                          eta: float) -> None:
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop_matrix(X, Y)
        self.weights = [w - eta * g for w, g in zip(self.weights, nabla_w, strict=True)]
        self.biases = [b - eta * g for b, g in zip(self.biases, nabla_b, strict=True)]


CORRECT: tuple[type, ...] = (BookNetwork, MatrixNetwork, EinsumRowsAsExamples,
                             DiagonalSigmaPrime, Float32Stable, Recursive, InPlaceUpdates,
                             TanhSigmoid, OptionalUpdateArguments, LinearNeurons,
                             SoftmaxClassifier, CrossEntropyNetwork, TanhNetwork, SoftplusNetwork,
                             ChunkedBatch, MeanReduced)
"""Every correct implementation the suite must pass (the book's own code among them)."""
