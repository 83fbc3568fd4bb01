"""JAX's derivatives and the one float64 policy (oracles/jax_gradient.py)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from bpverify.oracles.jax_gradient import gradient, jacobian, precision

AUTODIFF = 1e-15
"""Reverse mode of a few elementwise operations: rounding only, a few u relative."""


def test_the_gradient_is_the_derivative_in_float64() -> None:
    point = np.array([0.3, -1.7, 2.5])
    got = gradient(lambda t: (t ** 3).sum() + t[0] * t[1], point)
    expected = 3 * point ** 2 + np.array([point[1], point[0], 0.0])
    assert got.dtype == np.float64
    assert np.max(np.abs(got - expected) / np.abs(expected)) <= AUTODIFF


def test_float32_is_asked_for_and_given() -> None:
    got = gradient(lambda t: (t ** 2).sum(), np.array([1.0 / 3.0]), dtype=np.float32)
    assert got.dtype == np.float32 and got[0] == np.float32(2.0 / 3.0)


def test_the_jacobian_has_a_row_per_output() -> None:
    point = np.array([0.5, -2.0])
    got = jacobian(lambda t: np.array([1.0, 0.0]) * t[0] * t[1] + np.array([0.0, 1.0]) * t[0],
                   point)
    assert np.allclose(got, [[point[1], point[0]], [1.0, 0.0]], rtol=0, atol=AUTODIFF)


@pytest.mark.parametrize("raises", [False, True])
def test_precision_is_restored_after_the_block(raises: bool) -> None:
    import jax

    before = jax.config.read("jax_enable_x64")
    with pytest.raises(RuntimeError) if raises else contextlib.nullcontext():
        with precision(np.float64):
            assert jax.config.read("jax_enable_x64") is True
            if raises:
                raise RuntimeError("inside")
    assert jax.config.read("jax_enable_x64") == before


def test_a_host_callback_computes_in_float64_within_the_block() -> None:
    """The reason for the policy: XLA runs a callback on a thread of its own, which the
    thread-local context does not reach."""
    import jax
    import jax.numpy as jnp

    seen = []

    def host(t: np.ndarray) -> np.ndarray:
        seen.append(t.dtype)
        return np.asarray(t * 2)

    with precision(np.float64):
        out = jax.jit(lambda t: jax.pure_callback(host, jax.ShapeDtypeStruct((1,), jnp.float64),
                                                  t))(jnp.asarray([1.0 / 3.0]))
    assert seen == [np.float64] and np.asarray(out).dtype == np.float64
