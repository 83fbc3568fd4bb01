"""Gradients by JAX reverse-mode autodiff, imported on first use only.

JAX differentiates σ and C as written in ``bpverify.reference.activations`` and
``bpverify.reference.costs``; it never sees the hand-written σ′, ∇ₐC or BP1–BP4, which is
what makes it an independent oracle for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def jax_grad(f: Callable[[Any], Any], point: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """∇f at ``point`` by ``jax.jit(jax.grad(f))`` in ``dtype`` (64-bit mode only within the call):
    one compilation per call, where eager mode compiles every primitive separately."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(np.dtype(dtype) == np.float64):
        return np.asarray(jax.jit(jax.grad(f))(jnp.asarray(point, dtype)))
