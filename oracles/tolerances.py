"""Named tolerances, keyed by method, each with the one-line reason for its size.

All are normwise relative errors (see ``bpverify.oracles.discrepancy``) in float64 unless
keyed otherwise. u = 2⁻⁵³ ≈ 1.1e-16 is the unit roundoff of float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from bpverify.reference.activations import LayerActivation
from bpverify.reference.equations import feedforward_layers

if TYPE_CHECKING:
    from bpverify.oracles.cases import Case

TOLERANCES: dict[str, float] = {
    # Loop, matrix, Σ′ and path sum add the same products in another order: rounding only,
    # a few hundred u for the depths and widths we draw (measured: at most 3e-14).
    "algebraic": 1e-13,
    # JAX differentiates the same σ and C in float64: again rounding only (measured: 6e-14).
    "autodiff": 1e-13,
    # The complex step has no subtraction, so no cancellation: rounding only (measured: 6e-14).
    "complex": 1e-13,
    # Central differences: truncation (ε²/6)|C‴| plus rounding u|C|/ε, both ≈ 1e-11 relative at
    # ε = u^(1/3) ≈ 6e-6 on a well-scaled case; 1e-8 leaves room for |C‴| and |C| ≫ |∇C|.
    "central": 1e-8,
    # The lambdified SymPy gradient evaluates its own expression trees (e.g. e^(−z)/(1 + e^(−z))²
    # for σ′), so it rounds differently from the reference: 1e-12 is the bound.
    "symbolic": 1e-12,
    # SGD: w − (η/m)Σ∇w is one more multiply-add per entry on top of the gradient's error.
    "update": 1e-13,
}

UNIT_ROUNDOFF = 2.0 ** -53


def z_magnitudes(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
                 activations: Sequence[LayerActivation]) -> list[float]:
    """maxⱼ (|wˡ||aˡ⁻¹| + |bˡ|)ⱼ for l = 2..L: the scale of the rounding error of each zˡ."""
    _, acts = feedforward_layers(weights, biases, x, activations)
    return [float(np.max(np.abs(w) @ np.abs(a_prev) + np.abs(b)))
            for w, b, a_prev in zip(weights, biases, acts[:-1], strict=True)]


def z_rounding_allowance(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                         x: np.ndarray, activations: Sequence[LayerActivation]) -> float:
    """4u·Σₗ (nₗ₋₁ + 1)·maxⱼ (|wˡ||aˡ⁻¹| + |bˡ|)ⱼ: the relative error two correct
    implementations may show from rounding zˡ alone.

    zˡ = wˡaˡ⁻¹ + bˡ, a sum of nₗ₋₁ + 1 terms, is rounded with absolute error up to
    γ_(nₗ₋₁+1)·(|wˡ||aˡ⁻¹| + |bˡ|) (Higham, ch. 3), which moves σ′(zˡ) relatively by
    |σ″/σ′|·|Δz| (|σ″/σ′| ≤ 2 for sigmoid, tanh and softplus); these add up over the layers,
    and two implementations may err in opposite directions. It matters only in deep
    saturation: at |z| ≈ 400, e^(−|z|) inherits a relative error of 400u ≈ 4e-14 per bit of z.
    """
    scales = z_magnitudes(weights, biases, x, activations)
    total = sum((w.shape[1] + 1) * s for w, s in zip(weights, scales, strict=True))
    return 4.0 * UNIT_ROUNDOFF * total


def tolerance_for(key: str, case: Case) -> float:
    """The tolerance of ``key`` for this case: the named constant, or the rounding allowance of
    its zˡ where that is larger (deep saturation only)."""
    return max(TOLERANCES[key],
               z_rounding_allowance(case.weights, case.biases, case.x, case.activations))
