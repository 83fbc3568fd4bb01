"""The Σ′(z) presentation of §2.4 (reference/sigma_prime.py): Σ′ is ∂a/∂z (diagonal for an
elementwise σ, the softmax's full Jacobian), and its recursion (1)–(2) and closed product (3)
give the δˡ of BP1–BP2."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpverify.oracles.cases import random_case
from bpverify.reference.activations import sigmoid, softmax, tanh
from bpverify.reference.backpropagation import backprop
from bpverify.reference.costs import categorical_cross_entropy, quadratic
from bpverify.reference.numerical import numerical_gradient
from bpverify.reference.sigma_prime import backprop_sigma_prime, sigma_prime_matrix

ALGEBRAIC = 1e-13
"""Another order of the same products: rounding only (oracles/tolerances.py "algebraic")."""


@pytest.mark.parametrize("activation", [sigmoid, tanh, softmax])
def test_sigma_prime_is_the_jacobian_of_a_with_respect_to_z(activation) -> None:  # type: ignore[no-untyped-def]
    z = np.array([[0.3], [-1.2], [2.0], [0.0]])
    by_complex_step = np.array([
        numerical_gradient(lambda t, j=j: activation.f(t.reshape(-1, 1))[j, 0], z[:, 0],
                           "complex").value for j in range(4)])  # row j: ∂aⱼ/∂z
    got = sigma_prime_matrix(z, activation)
    assert np.max(np.abs(got - by_complex_step)) <= ALGEBRAIC
    if activation is not softmax:
        assert np.count_nonzero(got - np.diag(np.diag(got))) == 0  # diagonal: elementwise σ


@pytest.mark.parametrize("closed_form", [False, True])
@given(sizes=st.lists(st.integers(1, 4), min_size=2, max_size=5), seed=st.integers(0, 2**31),
       output=st.sampled_from(["sigmoid", "softmax"]))
def test_both_forms_give_the_deltas_of_bp1_and_bp2(closed_form: bool, sizes: list[int],
                                                   seed: int, output: str) -> None:
    per_layer = [tanh] * (len(sizes) - 2) + [softmax if output == "softmax" else sigmoid]
    cost = categorical_cross_entropy if output == "softmax" else quadratic
    case = random_case(seed, sizes, activations=per_layer, cost=cost)
    expected = backprop(case.weights, case.biases, case.x, case.y, per_layer, cost)
    got = backprop_sigma_prime(case.weights, case.biases, case.x, case.y, per_layer, cost,
                               closed_form=closed_form)
    for g, e in zip([*got.deltas, *got.nabla_w], [*expected.deltas, *expected.nabla_w],
                    strict=True):
        assert np.max(np.abs(g - e)) <= ALGEBRAIC * max(1.0, float(np.max(np.abs(e))))


def test_sigma_on_the_diagonal_in_place_of_sigma_prime_is_told_apart() -> None:
    """The comparison above can fail: diag(σ(zᴸ))∇ₐC is not δᴸ."""
    case = random_case(4, [3, 2], activations=sigmoid)
    expected = backprop(case.weights, case.biases, case.x, case.y, sigmoid, quadratic).deltas[-1]
    z = case.weights[0] @ case.x + case.biases[0]
    wrong = np.diag(sigmoid.f(z)[:, 0]) @ quadratic.gradient(sigmoid.f(z), case.y)
    assert np.max(np.abs(wrong - expected)) > 1e-3 * float(np.max(np.abs(expected)))
