"""derivations/evaluate_orders.py: statements up to O(Δᵖ) on numbers — the high-precision left
side and its fitted Taylor coefficients, checked against what is known exactly."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from bpverify.derivations import catalog, evaluate, evaluate_orders
from bpverify.oracles.cases import random_case
from bpverify.reference.activations import identity, sigmoid, tanh
from bpverify.reference.numerical import cost_of_parameters, flatten


def test_the_fit_recovers_exact_taylor_coefficients() -> None:
    """(e^(1+ε) − e)/ε = Σₖ e·εᵏ/(k + 1)!: the fitted coefficients to float64's last bit."""
    found = evaluate_orders.taylor_coefficients(lambda t: (mpmath.exp(1 + t) - mpmath.e) / t, 5)
    exact = [float(mpmath.e / mpmath.factorial(k + 1)) for k in range(5)]
    assert np.allclose(found, exact, rtol=1e-15, atol=0)


@pytest.mark.parametrize("activation", [sigmoid, tanh, identity], ids=lambda a: a.name)
def test_the_high_precision_cost_is_the_networks_cost(activation) -> None:  # type: ignore[no-untyped-def]
    case = random_case(4, [3, 4, 2], activations=activation)
    theta = flatten(case.weights, case.biases)
    cost = evaluate_orders.cost_in_high_precision(case)
    expected = cost_of_parameters(case.sizes, case.x, case.y, case.activations)(theta)
    assert abs(float(cost([mpmath.mpf(float(t)) for t in theta])) - expected) <= 1e-15 * abs(expected)


def test_a_cost_it_cannot_write_is_not_evaluated() -> None:
    from bpverify.reference.costs import cross_entropy
    with pytest.raises(evaluate.NotEvaluated, match="quadratic cost"):
        evaluate_orders.cost_in_high_precision(random_case(0, [3, 2], cost=cross_entropy))


def test_a_coefficient_that_is_zero_in_truth_is_measured_against_the_fits_resolution() -> None:
    """ΔC's Δ⁰ coefficient is 0: the fit's ~1e-50 is not read as an error relative to itself (the
    row passes), and a right side claiming a Δ⁰ term of 1e-20 is still refused."""
    d = catalog.by_name("changes")
    found = evaluate.evaluate(d, "complex step", 0)
    assert max(f.relative for f in found) <= 1e-13
    shifted = d.with_rhs(d.rhs + 1e-20)
    assert max(f.relative for f in evaluate.evaluate(shifted, "complex step", 0)) > 1e-13


def test_the_central_statement_of_eq_46_is_put_to_numbers_too() -> None:
    """Step 2 of finite_differences (central: C′ + ε²C‴/6 + O(ε⁴)) holds on numbers with C‴ and
    C⁗ from Cauchy's integral (the complex column: JAX's fourfold nested derivative compiles for
    seconds), and its wrong variant with an ε³ term (a coefficient that is 0 in truth) is refused."""
    d = catalog.by_name("finite_differences")
    central = d.steps[1]
    as_stated = type(d)(d.name, d.title, d.source, d.steps, stated=1, numbers=d.numbers)
    assert max(f.relative for f in evaluate.evaluate(as_stated, "complex step", 0)) <= 1e-13
    for wrong in central.wrongs:
        broken = as_stated.with_rhs(wrong.rhs)
        assert max(f.relative for f in evaluate.evaluate(broken, "complex step", 0)) > 1e-13, wrong.why
