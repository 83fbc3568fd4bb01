"""Derivatives by JAX autodiff, JAX imported on first use only, with one float64 policy.

JAX differentiates σ and C as written in ``bpverify.reference.activations`` and
``bpverify.reference.costs``; it never sees the hand-written σ′, ∇ₐC or BP1–BP4, which is
what makes it an independent oracle for them.

The float64 policy (``precision``): 64-bit mode only within a call, switched on in JAX's
configuration and restored after it. The thread-local ``jax.enable_x64`` context is not enough:
it does not reach the thread XLA runs a host callback on, which would then compute in float32.
Everything in bpverify that runs JAX (the oracle, the derivations' numbers, the shipped JAX
implementation, ``JaxFunction``, the benchmarks) goes through it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


@contextlib.contextmanager
def precision(dtype: Any = np.float64) -> Iterator[Any]:
    """JAX in ``dtype`` (float64 or float32) within the block; yields the ``jax`` module."""
    import jax

    wanted = np.dtype(dtype) == np.float64
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", wanted)
    try:
        yield jax
    finally:
        jax.config.update("jax_enable_x64", before)


def compiled_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """``jax.jit(jax.grad(f))``: one compilation per shape, where eager mode compiles every
    primitive separately. Call it within ``precision``."""
    import jax

    return jax.jit(jax.grad(f))


def gradient(f: Callable[[Any], Any], point: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """∇f at ``point`` (f: a vector to a scalar) by reverse mode, in ``dtype``."""
    with precision(dtype) as jax:
        return np.asarray(compiled_gradient(f)(jax.numpy.asarray(point, dtype)))


def jacobian(F: Callable[[Any], Any], point: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """∂Fᵢ/∂pointⱼ at ``point`` (row i: F's entry i) by forward mode (one jacfwd, so one
    compilation), in ``dtype``."""
    with precision(dtype) as jax:
        return np.asarray(jax.jit(jax.jacfwd(F))(jax.numpy.asarray(point, dtype)))
