"""Componentwise rounding-error bounds for backprop, keyed by dtype: the suite's tolerances.

Each entry of ∂C/∂b, ∂C/∂w and δ gets its own allowance. Two kinds of rounding error are
allowed, propagated through the network on absolute values:

* relative errors of the sums and products, from the classic bound for a matrix product,
  |fl(AB) − AB| ≤ γₙ|A||B| with γₙ ≈ n·u (Higham, ch. 3):

      δ̄ᴸ = (|∇ₐC| + |aᴸ| + |y|) ⊙ |σ′(zᴸ)|,    δ̄ˡ = (|wˡ⁺¹|ᵀ δ̄ˡ⁺¹) ⊙ |σ′(zˡ)|,

  times the relative factor κ = u·(Σₗ nₗ + 4L)·(1 + 2·maxₗ max(|wˡ||aˡ⁻¹| + |bˡ|)): the
  accumulation lengths, and the rounding of zˡ that moves σ′(zˡ) by |σ″/σ′|·|Δz| ≤ 2|Δz|;

* an *absolute* error of σ′ of up to SIGMA_PRIME_ABS_ERROR·u. The book's σ(z)(1 − σ(z)) is
  such a σ′: 1 − σ(z) cancels, so its error is about u in absolute terms, not relative. It is
  0 where σ′(40) = 4e-18 and wrong in its last digits at z = 12, and correct for all that:

      Ēᴸ = c·u·(|∇ₐC| + |aᴸ| + |y|),    Ēˡ = (|wˡ⁺¹|ᵀ Ēˡ⁺¹) ⊙ |σ′(zˡ)| + c·u·(|wˡ⁺¹|ᵀ δ̄ˡ⁺¹).

An entry may differ from the exact value by SAFETY·(κ·δ̄ + Ē) (and the matching sums and
products for ∂C/∂b, ∂C/∂w). Unlike a normwise or random-projection check, this sees a single
entry that is 1% wrong in a 784×30 layer, and σ′ = 0 where σ′(12) = 6e-6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpverify.conformance.cases import Case
from bpverify.conformance.tolerances import z_magnitudes
from bpverify.reference.equations import feedforward_layers

SAFETY = 4.0
"""Two implementations each within the bound differ by at most twice it; twice again for margin."""

SIGMA_PRIME_ABS_ERROR = 4.0
"""c: σ′ computed as σ(1 − σ) or 1 − tanh² errs by about 2u in absolute terms; twice that."""

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


def sigma_prime_slack(dtype: str = "float64") -> float:
    """SAFETY·c·u: the absolute error of σ′ a correct implementation may make (module docstring)."""
    return SAFETY * SIGMA_PRIME_ABS_ERROR * UNIT_ROUNDOFF[dtype]


def allowance(case: Case, dtype: str = "float64") -> Allowance:
    """SAFETY·(κ·δ̄ + Ē) per entry of δ, and its sums and products for ∂C/∂b and ∂C/∂w."""
    zs, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    s = [np.abs(act.fprime(z)) for act, z in zip(case.activations, zs, strict=True)]
    output = np.abs(case.cost.gradient(acts[-1], case.y)) + np.abs(acts[-1]) + np.abs(case.y)
    kappa, slack = relative_factor(case, dtype), sigma_prime_slack(dtype)
    delta_bar, e_bar = [output * s[-1]], [slack * output]
    for i in range(len(zs) - 2, -1, -1):
        w_abs = np.abs(case.weights[i + 1]).T
        e_bar.insert(0, (w_abs @ e_bar[0]) * s[i] + slack * (w_abs @ delta_bar[0]))
        delta_bar.insert(0, (w_abs @ delta_bar[0]) * s[i])
    per_delta = [kappa * d + e for d, e in zip(delta_bar, e_bar, strict=True)]
    return Allowance([d.sum(axis=1, keepdims=True) for d in per_delta],
                     [d @ np.abs(a).T for d, a in zip(per_delta, acts[:-1], strict=True)],
                     per_delta)
