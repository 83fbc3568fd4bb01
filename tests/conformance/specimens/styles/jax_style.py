"""A JAX model as a user writes one: a loss of a list of (W, b) pairs, rows of examples,
W stored (n_in, n_out), flat b, mean over the batch; plugged in with the helper."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from bpverify.conformance.protocol.frameworks import JaxFunction


def predict(params, X):
    for W, b in params:
        X = jax.nn.sigmoid(X @ W + b)
    return X


def loss(params, X, Y):
    return 0.5 * jnp.sum((predict(params, X) - Y) ** 2) / X.shape[0]


implementation = JaxFunction(loss, predict=predict)


def loss_without_half(params, X, Y):
    return jnp.sum((predict(params, X) - Y) ** 2) / X.shape[0]


undeclared_full_square = JaxFunction(loss_without_half, predict=predict)
