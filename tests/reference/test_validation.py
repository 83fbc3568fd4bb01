"""Bad input gets a ValueError naming the argument, the expected and the actual; no public
function changes what it was given."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import bpverify.reference as R


def net(sizes=(3, 4, 2), seed=0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    w = [rng.standard_normal((n, m)) for m, n in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    return w, b, rng.standard_normal((sizes[0], 1)), rng.standard_normal((sizes[-1], 1))


BAD_INPUTS = [
    ("1-D x", lambda w, b, x, y: (w, b, x[:, 0], y),
     r"x has shape \(3,\), expected \(3, 1\).*reshape"),
    ("x of the wrong length", lambda w, b, x, y: (w, b, x[:2], y),
     r"x has shape \(2, 1\), expected \(3, 1\)"),
    ("y of the wrong length", lambda w, b, x, y: (w, b, x, np.zeros((3, 1))),
     r"y has shape \(3, 1\), expected \(2, 1\)"),
    ("integer x", lambda w, b, x, y: (w, b, np.ones((3, 1), dtype=int), y),
     "x has dtype int64, expected a real floating"),
    ("NaN in x", lambda w, b, x, y: (w, b, np.where(np.arange(3)[:, None] == 1, np.nan, x), y),
     r"x has a non-finite entry nan at index \(1, 0\)"),
    ("inf in a weight", lambda w, b, x, y: ([np.full_like(w[0], np.inf), w[1]], b, x, y),
     r"weights\[0\] \(layer 2\) has a non-finite entry inf"),
    ("mismatched weight", lambda w, b, x, y: ([w[0], np.zeros((2, 5))], b, x, y),
     r"weights\[1\] \(layer 3\) has shape \(2, 5\), expected \(2, 4\) = \(n_3, n_2\)"),
    ("mismatched bias", lambda w, b, x, y: (w, [b[0], np.zeros((2,))], x, y),
     r"biases\[1\] \(layer 3\) has shape \(2,\), expected \(2, 1\)"),
    ("no layers", lambda w, b, x, y: ([], [], x, y), "at least two layers"),
    ("zero-width layer",
     lambda w, b, x, y: ([np.zeros((0, 3)), np.zeros((2, 0))], [np.zeros((0, 1)), b[1]], x, y),
     "zero-width"),
    ("biases count", lambda w, b, x, y: (w, b[:1], x, y), "biases has 1 entries, expected 2"),
    ("weights as an array", lambda w, b, x, y: (np.zeros((2, 2)), b, x, y), "weights has type ndarray"),
]


@pytest.mark.parametrize("what, corrupt, message", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
@pytest.mark.parametrize("function", [R.backprop, R.backprop_sigma_prime, R.gradient_by_paths],
                         ids=lambda f: f.__name__)
def test_bad_input_is_a_clear_value_error(function, what, corrupt, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        function(*corrupt(*net()))


def test_empty_batch_and_mismatched_columns() -> None:
    w, b, _, _ = net()
    with pytest.raises(ValueError, match="the mini-batch is empty"):
        R.backprop_matrix(w, b, np.zeros((3, 0)), np.zeros((2, 0)))
    with pytest.raises(ValueError, match="Y has 2 columns, expected 3"):
        R.backprop_matrix(w, b, np.zeros((3, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="mini_batch is empty"):
        R.update_mini_batch(w, b, [], 0.1)
    with pytest.raises(ValueError, match="eta is -1.0, expected a positive"):
        R.sgd_step(w, b, np.zeros((3, 1)), np.zeros((2, 1)), -1.0)


def test_network_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="at least two layers"):
        R.Network([3])
    with pytest.raises(ValueError, match=r"sizes\[1\] \(layer 2\) is 0"):
        R.Network([3, 0, 2])


def test_no_public_function_mutates_its_inputs() -> None:
    w, b, x, y = net()
    X, Y = np.hstack([x, 2 * x]), np.hstack([y, -y])
    args = (w, b, x, y, X, Y)
    before = copy.deepcopy(args)
    calls = [
        lambda: R.backprop(w, b, x, y), lambda: R.backprop_matrix(w, b, X, Y),
        lambda: R.backprop_loop(w, b, X, Y), lambda: R.backprop_sigma_prime(w, b, x, y),
        lambda: R.backprop_sigma_prime(w, b, x, y, closed_form=True),
        lambda: R.gradient_by_paths(w, b, x, y), lambda: R.sgd_step(w, b, X, Y, 0.5),
        lambda: R.update_mini_batch(w, b, [(x, y), (2 * x, -y)], 0.5),
        lambda: R.sgd(w, b, [(x, y), (2 * x, -y)], 2, 1, 0.5),
        lambda: R.numerical_network_gradient(w, b, x, y, method="complex"),
    ]
    for call in calls:
        call()
    for got, original in zip(args, before, strict=True):
        as_list = got if isinstance(got, list) else [got]
        for g, o in zip(as_list, original if isinstance(original, list) else [original], strict=True):
            np.testing.assert_array_equal(g, o)


def test_update_mini_batch_does_not_write_into_the_old_arrays() -> None:
    net_ = R.Network([2, 3, 1], seed=1)
    old = net_.weights[0]
    snapshot = old.copy()
    net_.update_mini_batch([(np.ones((2, 1)), np.zeros((1, 1)))], 1.0)
    np.testing.assert_array_equal(old, snapshot)
    assert not np.array_equal(net_.weights[0], snapshot)
