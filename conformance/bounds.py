"""Componentwise rounding-error bounds for backprop, keyed by dtype: the suite's tolerances.

Each entry of ∂C/∂b, ∂C/∂w and δ gets its own allowance, from the classic bound for a
matrix product, |fl(AB) − AB| ≤ γₙ|A||B| with γₙ ≈ n·u (Higham, ch. 3), propagated through
the network on absolute values:

    δ̄ᴸ = (|∇ₐC| + |aᴸ| + |y|) ⊙ s̄ᴸ,    δ̄ˡ = (|wˡ⁺¹|ᵀ δ̄ˡ⁺¹) ⊙ s̄ˡ,
    ∂C/∂b̄ˡ = Σₓ δ̄ˡ,                     ∂C/∂w̄ˡ = δ̄ˡ |aˡ⁻¹|ᵀ,

with s̄ˡ = |σ′(zˡ)| + u (an absolute slack, so that the book's σ(1 − σ), whose error is about
u in absolute terms, passes in float32). The relative factor is
κ = u·(Σₗ nₗ + 4L)·(1 + 2·maxₗ max(|wˡ||aˡ⁻¹| + |bˡ|)): the accumulation lengths, and the
rounding of zˡ that moves σ′(zˡ) by |σ″/σ′|·|Δz| ≤ 2|Δz|. An entry may differ from the exact
value by SAFETY·κ times its magnitude. Unlike a normwise or random-projection check, this
sees a single entry that is 1% wrong in a 784×30 layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpverify.conformance.cases import Case
from bpverify.conformance.tolerances import z_magnitudes
from bpverify.reference.equations import feedforward_layers

SAFETY = 4.0
"""Two implementations each within the bound differ by at most twice it; twice again for margin."""

UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24}


@dataclass(frozen=True)
class Allowance:
    """Per-entry tolerances for ∂C/∂b, ∂C/∂w and δ (one column per example), layers 2..L."""

    nabla_b: list[np.ndarray]
    nabla_w: list[np.ndarray]
    deltas: list[np.ndarray]


def relative_factor(case: Case, dtype: str = "float64") -> float:
    """SAFETY·κ, with κ = u·(Σₗ nₗ + 4L)·(1 + 2·maxₗ max(|wˡ||aˡ⁻¹| + |bˡ|)) (module docstring)."""
    z_scale = max(z_magnitudes(case.weights, case.biases, case.x, case.activations))
    return SAFETY * UNIT_ROUNDOFF[dtype] * (sum(case.sizes) + 4 * len(case.sizes)) * (
        1.0 + 2.0 * z_scale)


def allowance(case: Case, dtype: str = "float64") -> Allowance:
    """SAFETY·κ·(the magnitude bound) per entry, for an implementation computing in ``dtype``."""
    u = UNIT_ROUNDOFF[dtype]
    zs, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    s_bar = [np.abs(act.fprime(z)) + u for act, z in zip(case.activations, zs, strict=True)]
    grad_a = case.cost.gradient(acts[-1], case.y)
    delta_bar = [(np.abs(grad_a) + np.abs(acts[-1]) + np.abs(case.y)) * s_bar[-1]]
    for i in range(len(zs) - 2, -1, -1):
        delta_bar.insert(0, (np.abs(case.weights[i + 1]).T @ delta_bar[0]) * s_bar[i])
    scale = relative_factor(case, dtype)
    return Allowance([scale * d.sum(axis=1, keepdims=True) for d in delta_bar],
                     [scale * d @ np.abs(a).T for d, a in zip(delta_bar, acts[:-1], strict=True)],
                     [scale * d for d in delta_bar])
