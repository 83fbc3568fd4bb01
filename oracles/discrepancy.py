"""How far one gradient is from another, and where.

The error of a tensor is normwise: max |actual − expected| / scale over that tensor (layer),
where the scale is the largest |expected|, or, for a gradient summed over a mini-batch, the
largest Σₓ|∂Cₓ/∂θ| (``batch_scales``): a sum whose terms cancel is only as accurate as its
terms are large. Entrywise relative error is ill-conditioned for entries that are sums with
cancellation; normwise error is the standard measure for a result of matrix products, and it
still sees a single wrong entry of a layer. Below UNDERFLOW_SCALE no scale is taken smaller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

UNDERFLOW_SCALE = 2.0 ** -969
"""2⁻¹⁰²² · 2⁵³ ≈ 2e-292: gradients this small are products that may pass through subnormal
numbers, whose spacing 2⁻¹⁰⁷⁴ bounds their absolute, not relative, error; an error is never
measured relative to anything smaller."""


@dataclass(frozen=True)
class Discrepancy:
    """The worst entry of a comparison: which tensor (book layer), which index, both values."""

    relative: float
    absolute: float
    quantity: str
    layer: int
    index: tuple[int, ...]
    actual: float
    expected: float

    def describe(self) -> str:
        return (f"{self.quantity} at layer {self.layer}, index {self.index}: got "
                f"{self.actual:.17g}, expected {self.expected:.17g} (abs error "
                f"{self.absolute:.3g}, relative to the layer's largest entry {self.relative:.3g})")


def worst_discrepancy(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                      quantity: str, first_layer: int = 2,
                      scales: Sequence[float] | None = None) -> Discrepancy:
    """The largest normwise relative error over a list of per-layer tensors; ``scales``, one
    per layer, where the largest |expected| understates the terms (``batch_scales``)."""
    worst: Discrepancy | None = None
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        a = np.asarray(a, dtype=np.float64)
        e = np.asarray(e, dtype=np.float64)
        diff = np.abs(a - e)
        diff = np.where(np.isnan(diff), np.inf, diff)
        index = tuple(int(k) for k in np.unravel_index(int(np.argmax(diff)), diff.shape))
        scale = max(float(np.max(np.abs(e))), scales[i] if scales is not None else 0.0,
                    UNDERFLOW_SCALE)
        found = Discrepancy(float(diff[index]) / scale, float(diff[index]), quantity,
                            first_layer + i, index, float(a[index]), float(e[index]))
        if worst is None or not found.relative <= worst.relative:
            worst = found
    if worst is None:
        raise ValueError(f"no tensors to compare for {quantity}")
    return worst


def batch_scales(deltas: Sequence[np.ndarray], activations: Sequence[np.ndarray]
                 ) -> tuple[list[float], list[float]]:
    """Per layer, the largest Σₓ|δˣ| (for ∂C/∂b) and the largest Σₓ|δˣ||aˣ|ᵀ (for ∂C/∂w): the
    size of the terms of a gradient summed over the columns of a mini-batch (pass the size of
    the terms of δ, ``bounds.Allowance.delta_terms``, where its own sums may cancel)."""
    return ([float(np.max(np.abs(d).sum(axis=1))) for d in deltas],
            [float(np.max(np.abs(d) @ np.abs(a).T)) for d, a in zip(deltas, activations,
                                                                     strict=False)])
