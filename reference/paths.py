"""Equation 53 (§2.7, "the big picture"): ∂C/∂wˡⱼₖ as a sum over every path from the
weight to the cost of the product of the rate factors along the path,

    ∂C/∂wˡⱼₖ = Σ_{m n p … q} ∂C/∂aᴸₘ · ∂aᴸₘ/∂aᴸ⁻¹ₙ ⋯ ∂aˡ⁺¹_q/∂aˡⱼ · ∂aˡⱼ/∂wˡⱼₖ,

with ∂aⁱ_q/∂aⁱ⁻¹_p = σ′(zⁱ_q) wⁱ_qp, ∂aˡⱼ/∂wˡⱼₖ = σ′(zˡⱼ) aˡ⁻¹ₖ and ∂aˡⱼ/∂bˡⱼ = σ′(zˡⱼ).
The paths are enumerated one by one: exponential in depth, for small networks only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from bpverify.reference.activations import Softmax, layer_activations, sigmoid
from bpverify.reference.backpropagation import ActivationSpec
from bpverify.reference.costs import Cost, quadratic
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.validation import check_columns, check_network

DEFAULT_MAX_PATHS = 200_000
"""About two seconds of pure-Python enumeration on this machine."""


def path_count(sizes: Sequence[int]) -> int:
    """Paths enumerated for every weight and bias: Σₗ (nₗnₗ₋₁ + nₗ) · Πᵢ₌ₗ₊₁..L nᵢ."""
    total = 0
    for l in range(2, len(sizes) + 1):
        n_l, n_prev = sizes[l - 1], sizes[l - 2]
        total += (n_l * n_prev + n_l) * math.prod(sizes[l:])
    return total


def gradient_by_paths(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                      x: np.ndarray, y: np.ndarray, activation: ActivationSpec = sigmoid,
                      cost: Cost = quadratic, *, max_paths: int = DEFAULT_MAX_PATHS
                      ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(∇b, ∇w) by equation 53; ValueError when the network has more than ``max_paths`` paths."""
    sizes = check_network(weights, biases)
    check_columns(x, "x", sizes[0], single=True)
    check_columns(y, "y", sizes[-1], single=True)
    count = path_count(sizes)
    if count > max_paths:
        raise ValueError(f"sizes {list(sizes)} have {count} paths, above max_paths = {max_paths}: "
                         "equation 53 enumerates every path, use it on small networks only")
    per_layer = layer_activations(activation, sizes)
    if any(isinstance(act, Softmax) for act in per_layer):
        raise ValueError("activation includes softmax: equation 53 multiplies one rate factor "
                         "σ′(z)w per step of a path, which needs an elementwise σ")
    zs, acts = feedforward_layers(weights, biases, x, per_layer)
    sp = [act.fprime(z)[:, 0] for act, z in zip(per_layer, zs, strict=True)]  # σ′(zˡ), l = 2..L
    dC_da = cost.gradient(acts[-1], y)[:, 0]
    L = len(sizes)

    def rate_to_cost(l: int, j: int) -> complex:
        """Σ over paths j = q_l → q_{l+1} → … → q_L of ∂C/∂aᴸ_{q_L} Π ∂aⁱ_{qᵢ}/∂aⁱ⁻¹_{qᵢ₋₁}."""
        total = 0.0
        for tail in itertools.product(*(range(n) for n in sizes[l:])):
            path = (j, *tail)
            factor = dC_da[path[-1]]
            for step, i in enumerate(range(l + 1, L + 1)):
                q, p = path[step + 1], path[step]
                factor = factor * sp[i - 2][q] * weights[i - 2][q, p]
            total = total + factor
        return total

    nabla_b, nabla_w = [], []
    for l in range(2, L + 1):
        dtype = np.result_type(weights[l - 2], acts[l - 2], sp[l - 2])
        gb = np.zeros((sizes[l - 1], 1), dtype=dtype)
        gw = np.zeros((sizes[l - 1], sizes[l - 2]), dtype=dtype)
        for j in range(sizes[l - 1]):
            for k in range(sizes[l - 2]):  # one path sum per weight, as equation 53 reads
                gw[j, k] = rate_to_cost(l, j) * sp[l - 2][j] * acts[l - 2][k, 0]
            gb[j, 0] = rate_to_cost(l, j) * sp[l - 2][j]
        nabla_b.append(gb)
        nabla_w.append(gw)
    return nabla_b, nabla_w
