"""Named tolerances, keyed by method, each with the one-line reason for its size.

All are normwise relative errors (see ``conformance.compare``) in float64 unless
keyed otherwise. u = 2⁻⁵³ ≈ 1.1e-16 is the unit roundoff of float64.
"""

from __future__ import annotations

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
    # SGD: w − (η/m)Σ∇w is one more multiply-add per entry on top of the gradient's error.
    "update": 1e-13,
}
