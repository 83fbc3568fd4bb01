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


def predict_relu_softplus(params, X):
    """relu in the hidden layers, softplus (JAX's: the textbook function) out."""
    for W, b in params[:-1]:
        X = jax.nn.relu(X @ W + b)
    W, b = params[-1]
    return jax.nn.softplus(X @ W + b)


def loss_relu_softplus(params, X, Y):
    return 0.5 * jnp.sum((predict_relu_softplus(params, X) - Y) ** 2) / X.shape[0]


relu_softplus = JaxFunction(loss_relu_softplus, predict=predict_relu_softplus)
"""σ probed through predict: relu/softplus, nothing declared."""


@jax.custom_vjp
def sigmoid_with_sigma_for_sigma_prime(z):
    return jax.nn.sigmoid(z)


def _forward(z):
    a = jax.nn.sigmoid(z)
    return a, a


def _backward(a, g):
    return (g * a,)  # a planted bug: σ(z) for σ′(z)


sigmoid_with_sigma_for_sigma_prime.defvjp(_forward, _backward)


def predict_wrong_backward(params, X):
    for W, b in params:
        X = sigmoid_with_sigma_for_sigma_prime(X @ W + b)
    return X


def loss_wrong_backward(params, X, Y):
    return 0.5 * jnp.sum((predict_wrong_backward(params, X) - Y) ** 2) / X.shape[0]


wrong_backward = JaxFunction(loss_wrong_backward, predict=predict_wrong_backward)
