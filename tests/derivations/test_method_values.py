"""derivations/method_values.py: derivatives of any order along one parameter by each method,
against JAX's and against functions whose derivatives are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpverify.derivations import method_values
from bpverify.oracles.cases import random_case
from bpverify.oracles.tolerances import TOLERANCES


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_cauchy_integral_and_the_central_differences_on_exp(order: int) -> None:
    """dᵏ/dtᵏ e^(2t) at 0 is 2ᵏ: the Cauchy integral to rounding, the extrapolated central
    difference to the central tolerance (1e-8) at k ≤ 2, within 1e-6 at k = 3, 4."""
    exact = 2.0 ** order
    cauchy = method_values._cauchy(lambda t: np.exp(2 * t), order)
    central = method_values._central(lambda t: np.exp(2 * t), order)
    assert abs(cauchy - exact) <= 1e-13 * exact
    assert abs(central - exact) <= (1e-8 if order <= 2 else 1e-6) * exact


def test_a_central_difference_without_its_extrapolation_is_caught() -> None:
    """The guard above is tight enough to see the unextrapolated k-th difference's O(h²)."""
    h = np.finfo(np.float64).eps ** (1 / 8)
    plain = sum((-1) ** i * math.comb(2, i) * np.exp(2 * (1 - i) * h) for i in range(3)) / h ** 2
    assert abs(plain - 4.0) > 1e-8 * 4.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_second_derivatives_along_each_parameter_agree_with_jax(seed: int) -> None:
    """C″ along every parameter of a [3, 4, 3, 2] network: the complex column (the Cauchy
    integral) within the complex tolerance of JAX's nested derivative, central differences
    within the central one; first derivatives are each method's gradient."""
    case = random_case(seed, [3, 4, 3, 2])
    parameters = range(39)
    jax = method_values.derivatives_along(case, parameters, 2, "JAX autodiff")
    for method, key in (("complex step", "complex"), ("central diff.", "central")):
        found = method_values.derivatives_along(case, parameters, 2, method)
        for k in range(2):
            error = np.max(np.abs(found[k] - jax[k])) / np.max(np.abs(jax[k]))
            assert error <= TOLERANCES[key], (method, k + 1, error)


def test_the_reference_gives_first_derivatives_only() -> None:
    case = random_case(0, [3, 4, 2])
    assert method_values.derivatives_along(case, [0, 5], 1, "reference").shape == (1, 2)
    with pytest.raises(method_values.NotEvaluated, match="first derivatives only"):
        method_values.derivatives_along(case, [0, 5], 2, "reference")


def test_along_moves_exactly_the_parameter_flatten_puts_there() -> None:
    """C(θ + t·eₚ) changes with t only through θₚ: the gradient's entry p, by the complex step
    on ``along``, is the reference's ∂C/∂θₚ (w², b², w³, b³ in flatten's order)."""
    from bpverify.reference.backpropagation import backprop
    from bpverify.reference.numerical import flatten
    case = random_case(3, [2, 3, 2])
    nabla_b, nabla_w = backprop(list(case.weights), list(case.biases), case.x, case.y)
    expected = flatten(nabla_w, nabla_b)
    f = method_values.along(case)
    found = [np.imag(f(1e-20j, np.eye(expected.size)[p])) / 1e-20 for p in range(expected.size)]
    assert np.allclose(found, expected, rtol=1e-13, atol=0)
