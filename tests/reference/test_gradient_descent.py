"""The mini-batch SGD step, update_mini_batch and sgd (reference/gradient_descent.py)."""

from __future__ import annotations

import numpy as np
import pytest

import bpverify.reference as R
from bpverify.oracles.cases import random_case
from bpverify.reference.numerical import numerical_network_gradient

UPDATE_RTOL = 1e-13  # one multiply-add per entry on top of the gradient (see tolerances.py)


def _case():  # type: ignore[no-untyped-def]
    return random_case(3, [3, 4, 2], batch_size=5)


def test_sgd_step_is_w_minus_eta_over_m_times_the_summed_gradient() -> None:
    """Against the complex-step gradient, an oracle independent of backprop."""
    c, eta = _case(), 0.7
    grad_b, grad_w, _ = numerical_network_gradient(list(c.weights), list(c.biases), c.x, c.y,
                                                   method="complex")
    new_w, new_b = R.sgd_step(list(c.weights), list(c.biases), c.x, c.y, eta)
    for new, old, g in zip(new_w + new_b, list(c.weights) + list(c.biases), grad_w + grad_b, strict=True):
        step = eta / 5 * g
        np.testing.assert_allclose(old - new, step, rtol=UPDATE_RTOL, atol=1e-16 * np.max(np.abs(old)))


def test_a_short_last_batch_divides_by_its_own_size() -> None:
    """update_mini_batch with m = 1 must step by η·∇, not η/len(training_data)·∇."""
    c = _case()
    x, y = c.x[:, :1], c.y[:, :1]
    new_w, _ = R.update_mini_batch(list(c.weights), list(c.biases), [(x, y)], 1.0)
    g = R.backprop(list(c.weights), list(c.biases), x, y)
    np.testing.assert_allclose(c.weights[0] - new_w[0], g.nabla_w[0], rtol=UPDATE_RTOL)


def test_update_mini_batch_equals_the_matrix_step() -> None:
    c = _case()
    pairs = [(c.x[:, j:j + 1], c.y[:, j:j + 1]) for j in range(5)]
    a = R.update_mini_batch(list(c.weights), list(c.biases), pairs, 0.3)
    b = R.sgd_step(list(c.weights), list(c.biases), c.x, c.y, 0.3)
    for p, q in zip(a[0] + a[1], b[0] + b[1], strict=True):
        np.testing.assert_array_equal(p, q)


def test_sgd_repeats_with_a_seed_and_lowers_the_cost() -> None:
    c = random_case(5, [2, 3, 1], batch_size=20)
    data = [(c.x[:, j:j + 1], c.y[:, j:j + 1]) for j in range(20)]
    first = R.sgd(list(c.weights), list(c.biases), data, 30, 4, 0.5, seed=11)
    second = R.sgd(list(c.weights), list(c.biases), data, 30, 4, 0.5, seed=11)
    for p, q in zip(first[0] + first[1], second[0] + second[1], strict=True):
        np.testing.assert_array_equal(p, q)

    def cost(w, b):  # type: ignore[no-untyped-def]
        _, acts = R.feedforward_layers(w, b, c.x, [R.sigmoid, R.sigmoid])
        return R.quadratic.value(acts[-1], c.y)
    assert cost(*first) < cost(list(c.weights), list(c.biases))


@pytest.mark.parametrize("epochs, size", [(0, 1), (1, 0), (1.5, 1)])
def test_sgd_rejects_bad_counts(epochs, size) -> None:  # type: ignore[no-untyped-def]
    c = _case()
    with pytest.raises(ValueError, match="expected a positive integer"):
        R.sgd(list(c.weights), list(c.biases), [(c.x[:, :1], c.y[:, :1])], epochs, size, 0.1)

