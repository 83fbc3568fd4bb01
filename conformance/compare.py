"""How far one gradient is from another, and where.

The error of a tensor is normwise: max |actual − expected| / max |expected| over
that tensor (layer). Entrywise relative error is ill-conditioned for entries that
are sums with cancellation; normwise error is the standard measure for a result of
matrix products, and it still sees a single wrong entry of a layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TINY = np.finfo(np.float64).tiny


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
                      quantity: str, first_layer: int = 2) -> Discrepancy:
    """The largest normwise relative error over a list of per-layer tensors."""
    worst: Discrepancy | None = None
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        a = np.asarray(a, dtype=np.float64)
        e = np.asarray(e, dtype=np.float64)
        diff = np.abs(a - e)
        diff = np.where(np.isnan(diff), np.inf, diff)
        index = tuple(int(k) for k in np.unravel_index(int(np.argmax(diff)), diff.shape))
        scale = max(float(np.max(np.abs(e))), TINY)
        found = Discrepancy(float(diff[index]) / scale, float(diff[index]), quantity,
                            first_layer + i, index, float(a[index]), float(e[index]))
        if worst is None or not found.relative <= worst.relative:
            worst = found
    if worst is None:
        raise ValueError(f"no tensors to compare for {quantity}")
    return worst
