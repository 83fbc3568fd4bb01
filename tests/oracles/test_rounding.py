"""Componentwise rounding-error allowances keyed by dtype (oracles/rounding.py): a correct
computation in float32 stays within them, a 1% error in one entry of a 784×30 layer does not."""

from __future__ import annotations

import numpy as np

from bpverify.oracles.cases import random_case
from bpverify.oracles.rounding import allowance
from bpverify.reference.backpropagation import backprop_matrix


def test_a_correct_float32_gradient_is_within_the_float32_allowance() -> None:
    case = random_case(5, [6, 5, 3], batch_size=4)
    exact = backprop_matrix(case.weights, case.biases, case.x, case.y)
    single = backprop_matrix([w.astype(np.float32) for w in case.weights],
                             [b.astype(np.float32) for b in case.biases],
                             case.x.astype(np.float32), case.y.astype(np.float32))
    allowed = allowance(case, "float32")
    for got, e, t in zip(single.nabla_w, exact.nabla_w, allowed.nabla_w, strict=True):
        assert np.all(np.abs(got.astype(np.float64) - e) <= t)
    tight = allowance(case, "float64")  # the same float32 errors are far outside float64's
    assert any(np.any(np.abs(g.astype(np.float64) - e) > t)
               for g, e, t in zip(single.nabla_w, exact.nabla_w, tight.nabla_w, strict=True))


def test_one_entry_one_percent_off_in_a_wide_layer_is_outside() -> None:
    case = random_case(6, [784, 30, 10])
    exact = backprop_matrix(case.weights, case.biases, case.x, case.y).nabla_w[0]
    allowed = allowance(case).nabla_w[0]
    j, k = np.unravel_index(int(np.argmax(np.abs(exact))), exact.shape)
    wrong = exact.copy()
    wrong[j, k] *= 1.01
    assert np.all(np.abs(exact - exact) <= allowed)
    assert np.abs(wrong - exact)[j, k] > allowed[j, k]
