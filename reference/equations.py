"""The equations of backpropagation, one function each, for a column x (n, 1) or a
mini-batch X (n, m) whose columns are examples (BP3 and BP4 then sum over the batch).

Lists are indexed from layer 2: ``weights[i]``, ``zs[i]`` and ``deltas[i]`` belong
to layer i + 2 of the book; ``activations[0]`` is a¹ = x.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bpverify.reference.activations import Activation, Array, LayerActivation, Softmax
from bpverify.reference.costs import Cost


def feedforward_layers(weights: Sequence[Array], biases: Sequence[Array], x: Array,
                       activations: Sequence[LayerActivation]) -> tuple[list[Array], list[Array]]:
    """zˡ = wˡaˡ⁻¹ + bˡ and aˡ = σ(zˡ) for l = 2, …, L; return ([z², …, zᴸ], [a¹, …, aᴸ])."""
    zs: list[Array] = []
    acts: list[Array] = [x]
    for w, b, act in zip(weights, biases, activations, strict=True):
        z = w @ acts[-1] + b
        zs.append(z)
        acts.append(act.f(z))
    return zs, acts


def bp1_output_error(z_L: Array, a_L: Array, y: Array, activation: LayerActivation,
                     cost: Cost) -> Array:
    """BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ).

    Where the cost declares an exact simplification for this output activation
    (cross-entropy with sigmoid: δᴸ = aᴸ − y) it is used, since the literal
    product is ∞·0 once σ saturates.
    """
    simplified = (cost.output_error.get(activation)
                  if isinstance(activation, Activation | Softmax) else None)
    if simplified is not None:
        return simplified(z_L, a_L, y)
    if isinstance(activation, Softmax):  # not elementwise: δᴸ = Jᵀ∇ₐC
        return activation.vjp(z_L, cost.gradient(a_L, y))
    return cost.gradient(a_L, y) * activation.fprime(z_L)


def bp2_backpropagate(w_next: Array, delta_next: Array, z: Array,
                      activation: LayerActivation) -> Array:
    """BP2: δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)."""
    return (w_next.T @ delta_next) * activation.fprime(z)


def bp3_bias_gradient(delta: Array) -> Array:
    """BP3: ∂C/∂bˡⱼ = δˡⱼ (summed over the columns of a mini-batch)."""
    if delta.shape[1] == 1:
        return delta.copy()
    return delta.sum(axis=1, keepdims=True)


def bp4_weight_gradient(delta: Array, a_prev: Array) -> Array:
    """BP4: ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ, i.e. δˡ(aˡ⁻¹)ᵀ (summed over the columns of a mini-batch)."""
    if delta.shape[1] == 1:  # one product per entry; a matmul with inner dimension 1 is ~3× slower
        return np.einsum("i,j->ij", delta[:, 0], a_prev[:, 0])  # np.outer's values, 1.4× faster
    return delta @ a_prev.T
