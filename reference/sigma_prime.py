"""The "alternate presentation" problem of §2.4: BP1 and BP2 with the diagonal matrix Σ′(z).

Σ′(zˡ) is the square matrix with σ′(zˡⱼ) on its diagonal and zeros elsewhere.
  (1) δᴸ = Σ′(zᴸ) ∇ₐC
  (2) δˡ = Σ′(zˡ) (wˡ⁺¹)ᵀ δˡ⁺¹
  (3) δˡ = Σ′(zˡ) (wˡ⁺¹)ᵀ … Σ′(zᴸ⁻¹) (wᴸ)ᵀ Σ′(zᴸ) ∇ₐC
Everything is an ordinary matrix product; no Hadamard product appears.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bpverify.reference.activations import LayerActivation, Softmax, layer_activations, sigmoid
from bpverify.reference.backpropagation import ActivationSpec, BackpropResult
from bpverify.reference.costs import Cost, quadratic
from bpverify.reference.equations import bp3_bias_gradient, bp4_weight_gradient, feedforward_layers
from bpverify.reference.validation import check_columns, check_network


def sigma_prime_matrix(z: np.ndarray, activation: LayerActivation) -> np.ndarray:
    """Σ′(z): diag(σ′(z₁), …, σ′(zₙ)) for a column z (n, 1); for a softmax layer, whose aⱼ
    depends on every zₖ, the full Jacobian ∂a/∂z = diag(a) − aaᵀ (symmetric, so Σ′ᵀ = Σ′)."""
    if isinstance(activation, Softmax):  # aⱼ(1 − aⱼ) on the diagonal as aⱼ Σₖ≠ⱼ aₖ: no 1 − aⱼ
        a = activation.f(z)[:, 0]
        others = (np.ones((a.size, a.size)) - np.eye(a.size)) @ a
        return np.diag(a * others) - np.outer(a, a) * (1.0 - np.eye(a.size))
    return np.diag(activation.fprime(z)[:, 0])


def delta_closed_form(l: int, weights: Sequence[np.ndarray], zs: Sequence[np.ndarray],
                      grad_a: np.ndarray, activations: Sequence[LayerActivation]) -> np.ndarray:
    """Part (3): δˡ as the product Σ′(zˡ)(wˡ⁺¹)ᵀ…Σ′(zᴸ)∇ₐC, formed left to right as matrices.

    ``l`` is the book's layer number (2 ≤ l ≤ L); zs are z², …, zᴸ.
    """
    L = len(weights) + 1
    if not 2 <= l <= L:
        raise ValueError(f"l is {l}, expected a layer number from 2 to L = {L}")
    product = sigma_prime_matrix(zs[l - 2], activations[l - 2])
    for k in range(l + 1, L + 1):  # append (wᵏ)ᵀ Σ′(zᵏ)
        product = product @ weights[k - 2].T @ sigma_prime_matrix(zs[k - 2], activations[k - 2])
    return product @ grad_a


def backprop_sigma_prime(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                         x: np.ndarray, y: np.ndarray, activation: ActivationSpec = sigmoid,
                         cost: Cost = quadratic, *, closed_form: bool = False) -> BackpropResult:
    """∇Cₓ with δˡ from the Σ′ recursion (1)–(2), or from the closed product (3) when asked.

    BP1 is taken literally here, Σ′(zᴸ)∇ₐC, with no simplification for the cost.
    """
    sizes = check_network(weights, biases)
    check_columns(x, "x", sizes[0], single=True)
    check_columns(y, "y", sizes[-1], single=True)
    per_layer = layer_activations(activation, sizes)
    zs, acts = feedforward_layers(weights, biases, x, per_layer)
    grad_a = cost.gradient(acts[-1], y)
    L = len(sizes)
    if closed_form:
        deltas = [delta_closed_form(l, weights, zs, grad_a, per_layer) for l in range(2, L + 1)]
    else:
        deltas = [sigma_prime_matrix(zs[-1], per_layer[-1]) @ grad_a]
        for i in range(L - 3, -1, -1):
            deltas.insert(0, sigma_prime_matrix(zs[i], per_layer[i]) @ weights[i + 1].T @ deltas[0])
    nabla_b = [bp3_bias_gradient(d) for d in deltas]
    nabla_w = [bp4_weight_gradient(d, a) for d, a in zip(deltas, acts[:-1], strict=True)]
    return BackpropResult(nabla_b, nabla_w, deltas, zs, acts)
