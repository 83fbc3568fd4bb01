"""Each equation of reference/equations.py on its own, against its definition computed another
way: zˡ entry by entry (the component form), δˡ = ∂C/∂zˡ by the complex step on the network
above layer l, BP3 and BP4 as sums over the columns of entrywise products."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpverify.oracles.cases import Case
from bpverify.oracles.rounding import allowance
from bpverify.reference import equations as E
from bpverify.reference.activations import sigmoid, softmax, tanh
from bpverify.reference.costs import (
    categorical_cross_entropy,
    cross_entropy,
    quadratic,
    value_at_output,
)
from bpverify.reference.numerical import numerical_gradient

COMPLEX_STEP = 1e-13
"""The complex step has no subtraction: rounding only (as oracles/tolerances.py "complex")."""


def _network(seed: int, sizes: list[int], m: int = 1):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [rng.standard_normal((b, 1)) for b in sizes[1:]]
    return weights, biases, rng.standard_normal((sizes[0], m)), rng.random((sizes[-1], m))


def _cost_from_z(l: int, weights, biases, y, per_layer, cost):  # type: ignore[no-untyped-def]
    """C as a function of zˡ alone (flattened), the network above l run on it; the cost taken
    from zᴸ where it has that form (``value_at_output``: through aᴸ the cross-entropy's 1 − aᴸ
    cancels near aᴸ = 1, and the complex step would inherit that error, the cost's as written,
    not the step's)."""
    def f(z_flat):  # type: ignore[no-untyped-def]
        z = z_flat.reshape(-1, 1)
        for w, b, act in zip(weights[l - 1:], biases[l - 1:], per_layer[l - 2:-1], strict=True):
            z = w @ act.f(z) + b
        return value_at_output(cost, per_layer[-1], z, y)
    return f


sizes_drawn = st.lists(st.integers(1, 4), min_size=2, max_size=4)


@given(sizes=sizes_drawn, seed=st.integers(0, 2**31))
def test_feedforward_is_the_component_form(sizes: list[int], seed: int) -> None:
    """zˡⱼ = Σₖ wˡⱼₖ aˡ⁻¹ₖ + bˡⱼ, summed by hand."""
    weights, biases, x, _ = _network(seed, sizes)
    zs, acts = E.feedforward_layers(weights, biases, x, [tanh] * len(weights))
    for l, (w, b) in enumerate(zip(weights, biases, strict=True)):
        by_hand = np.array([[sum(w[j, k] * acts[l][k, 0] for k in range(w.shape[1])) + b[j, 0]]
                            for j in range(w.shape[0])])
        assert np.allclose(zs[l], by_hand, rtol=1e-14, atol=1e-14)
        np.testing.assert_array_max_ulp(acts[l + 1], np.tanh(zs[l]), maxulp=4)  # aˡ = σ(zˡ)


@pytest.mark.parametrize(("activation", "cost"), [(sigmoid, quadratic), (tanh, quadratic),
                                                  (sigmoid, cross_entropy),
                                                  (softmax, categorical_cross_entropy)])
@given(sizes=sizes_drawn, seed=st.integers(0, 2**31))
def test_bp1_and_bp2_are_the_derivative_of_c_with_respect_to_z(
        activation, cost, sizes: list[int], seed: int) -> None:  # type: ignore[no-untyped-def]
    weights, biases, x, y = _network(seed, sizes)
    if cost is categorical_cross_entropy:
        y = y / y.sum()
    per_layer = [tanh] * (len(weights) - 1) + [activation]
    zs, acts = E.feedforward_layers(weights, biases, x, per_layer)
    deltas = [E.bp1_output_error(zs[-1], acts[-1], y, per_layer[-1], cost)]
    for i in range(len(weights) - 2, -1, -1):
        deltas.insert(0, E.bp2_backpropagate(weights[i + 1], deltas[0], zs[i], per_layer[i]))
    terms = allowance(Case(tuple(weights), tuple(biases), x, y, tuple(per_layer), cost)
                      ).delta_terms  # where sums cancel, rounding is relative to their terms
    for l in range(2, len(sizes) + 1):
        f = _cost_from_z(l, weights, biases, y, per_layer, cost)
        exact = numerical_gradient(f, zs[l - 2][:, 0], "complex").value.reshape(-1, 1)
        scale = max(float(np.max(np.abs(exact))), float(np.max(terms[l - 2])), 1e-300)
        assert np.max(np.abs(deltas[l - 2] - exact)) / scale <= COMPLEX_STEP, f"δ at layer {l}"


def test_bp2_with_w_for_its_transpose_is_refused_by_that_comparison() -> None:
    """The test above can fail: on a square layer, w for wᵀ is another δ."""
    weights, biases, x, y = _network(3, [2, 3, 3, 2])
    zs, acts = E.feedforward_layers(weights, biases, x, [sigmoid] * 3)
    delta_L = E.bp1_output_error(zs[-1], acts[-1], y, sigmoid, quadratic)
    delta_3 = E.bp2_backpropagate(weights[2], delta_L, zs[1], sigmoid)
    wrong = (weights[1] @ delta_3) * sigmoid.fprime(zs[0])  # w², not (w³)ᵀ … on a square w³
    right = E.bp2_backpropagate(weights[1], delta_3, zs[0], sigmoid)
    f = _cost_from_z(2, weights, biases, y, [sigmoid] * 3, quadratic)
    exact = numerical_gradient(f, zs[0][:, 0], "complex").value.reshape(-1, 1)
    assert np.max(np.abs(right - exact)) <= COMPLEX_STEP * np.max(np.abs(exact))
    assert np.max(np.abs(wrong - exact)) > 1e-3 * np.max(np.abs(exact))


@given(rows=st.integers(1, 4), cols=st.integers(1, 4), m=st.integers(1, 5),
       seed=st.integers(0, 2**31))
def test_bp3_and_bp4_sum_entrywise_products_over_the_columns(rows: int, cols: int, m: int,
                                                             seed: int) -> None:
    rng = np.random.default_rng(seed)
    delta, a_prev = rng.standard_normal((rows, m)), rng.standard_normal((cols, m))
    nabla_b, nabla_w = E.bp3_bias_gradient(delta), E.bp4_weight_gradient(delta, a_prev)
    assert nabla_b.shape == (rows, 1) and nabla_w.shape == (rows, cols)
    for j in range(rows):
        assert nabla_b[j, 0] == pytest.approx(sum(delta[j, x] for x in range(m)), rel=1e-14,
                                              abs=1e-14)
        for k in range(cols):
            assert nabla_w[j, k] == pytest.approx(
                sum(a_prev[k, x] * delta[j, x] for x in range(m)), rel=1e-13, abs=1e-14)


def test_bp3_returns_a_new_array_for_one_example() -> None:
    delta = np.ones((2, 1))
    assert E.bp3_bias_gradient(delta) is not delta
