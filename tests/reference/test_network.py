"""The book's Network class over the reference (reference/network.py)."""

from __future__ import annotations

import numpy as np

import bpverify.reference as R


def test_network_has_the_books_interface() -> None:
    net = R.Network([2, 3, 2], seed=0)
    x, y = np.array([[0.2], [-0.4]]), np.array([[1.0], [0.0]])
    nabla_b, nabla_w = net.backprop(x, y)
    assert [g.shape for g in nabla_w] == [(3, 2), (2, 3)] and [g.shape for g in nabla_b] == [(3, 1), (2, 1)]
    X, Y = np.hstack([x, -x]), np.hstack([y, y[::-1]])
    mb, mw = net.backprop_matrix(X, Y)
    lb, lw = R.backprop_loop(net.weights, net.biases, X, Y)
    for p, q in zip(mb + mw, lb + lw, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-13)
    test_data = [(x, 0), (-x, 1)]
    scores = net.SGD([(x, y), (-x, y[::-1])], 3, 2, 1.0, test_data=test_data, verbose=False)
    assert len(scores) == 3 and all(0 <= s <= 2 for s in scores)
    assert net.evaluate(test_data) == scores[-1]


def test_network_learns_xor_like_data() -> None:
    """A smoke test of training end to end: a separable toy problem gets classified."""
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((2, 200))
    labels = (xs[0] > 0).astype(int)
    data = [(xs[:, j:j + 1], np.eye(2)[:, labels[j]:labels[j] + 1]) for j in range(200)]
    net = R.Network([2, 4, 2], seed=3)
    net.SGD(data, 20, 10, 3.0, verbose=False)
    assert net.evaluate([(xs[:, j:j + 1], labels[j]) for j in range(200)]) >= 190

