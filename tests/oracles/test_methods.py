"""The reference against every independent oracle, on networks Hypothesis draws.

Each drawn Case (one network description) runs through every method; tolerances
come from ``bpverify.oracles.tolerances``, where each is justified.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, reject
from strategies import cases

from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import Case, random_case
from bpverify.oracles.discrepancy import batch_scales, worst_discrepancy
from bpverify.oracles.rounding import allowance
from bpverify.oracles.tolerances import tolerance_for
from bpverify.reference.backpropagation import backprop_matrix


def assert_agree(got: oracles.Derivatives, expected: oracles.Derivatives, tolerance_key: str,
                 case: Case, method: str) -> None:
    tolerance = tolerance_for(tolerance_key, case)
    ref = backprop_matrix(case.weights, case.biases, case.x, case.y, case.activations, case.cost)
    terms = allowance(case).delta_terms  # what rounding is relative to where sums cancel
    scale_b, scale_w = batch_scales(terms, ref.activations)
    checks = [worst_discrepancy(got.nabla_b, expected.nabla_b, "∂C/∂b", scales=scale_b),
              worst_discrepancy(got.nabla_w, expected.nabla_w, "∂C/∂w", scales=scale_w)]
    if got.deltas is not None and expected.deltas is not None:
        checks.append(worst_discrepancy(got.deltas, expected.deltas, "δ",
                                        scales=[float(np.max(t)) for t in terms]))
    for found in checks:
        assert found.relative <= tolerance, (
            f"reference vs {method} on {case.describe()}: {found.describe()} "
            f"exceeds the tolerance {tolerance:g}")


def _reference(case: Case) -> oracles.Derivatives:
    return oracles.MATRIX.compute(case)


@given(cases())
def test_loop_matrix_and_sigma_prime_forms_agree(case: Case) -> None:
    reference = _reference(case)
    for form in oracles.REFERENCE_FORMS[1:]:
        assert_agree(form.compute(case), reference, "algebraic", case, form.name)


@given(cases())
def test_reference_agrees_with_jax_autodiff(case: Case) -> None:
    assert_agree(oracles.JAX_AUTODIFF.compute(case), _reference(case), "autodiff", case,
                 "JAX autodiff")


@given(cases())
def test_reference_agrees_with_complex_step(case: Case) -> None:
    reference = _reference(case)
    try:
        got = oracles.COMPLEX_STEP.compute(case)
    except oracles.Declined:
        assert not case.analytic  # it may decline only at a kink
        return
    assert_agree(got, reference, "complex", case, "complex step")


@given(cases(max_depth=3, max_width=3, max_batch=2))
def test_reference_agrees_with_path_sum(case: Case) -> None:
    try:
        got = oracles.PATH_SUM.compute(case)
    except oracles.Declined:
        assert any(a.name == "softmax" for a in case.activations)  # eq. 53 needs σ elementwise
        return
    assert_agree(got, _reference(case), "algebraic", case, "path sum")


@given(cases(scales=(0.5, 1.0), activation_names=("sigmoid", "tanh", "identity", "softplus")))
def test_reference_agrees_with_central_differences(case: Case) -> None:
    """Where central differences certify their accuracy they must agree. A declined draw is
    rejected; Hypothesis fails the test (filter_too_much) if most draws are."""
    reference = _reference(case)
    try:
        got = oracles.CENTRAL.compute(case)
    except oracles.Declined:
        reject()
    assert_agree(got, reference, "central", case, "central differences")


@pytest.mark.parametrize("seed", range(3))
def test_central_differences_certify_moderate_networks(seed: int) -> None:
    """The central-difference check is not vacuous: on moderate networks it runs and agrees."""
    case = random_case(seed, [3, 4, 2], batch_size=2)
    assert_agree(oracles.CENTRAL.compute(case), _reference(case), "central", case,
                 "central differences")


def test_central_differences_decline_a_saturated_network() -> None:
    """Where |zˡ| ≥ 30 the gradient of early layers is below the resolution of any step."""
    case = random_case(7, [3, 3, 2], weight_scale=40.0)
    with pytest.raises(oracles.Declined, match="ill-conditioned|resolves no change"):
        oracles.CENTRAL.compute(case)


def test_path_sum_declines_a_large_network() -> None:
    case = random_case(0, [30, 30, 30, 10])
    with pytest.raises(oracles.Declined, match="paths exceed"):
        oracles.PATH_SUM.compute(case)


def test_complex_step_declines_at_a_relu_kink() -> None:
    from bpverify.reference import relu
    case = random_case(0, [2, 2, 1], activations=relu)
    weights = list(case.weights)
    biases = list(case.biases)
    biases[0] = -(weights[0] @ case.x)  # every z² is exactly 0, the kink
    at_kink = Case(tuple(weights), tuple(biases), case.x, case.y, case.activations)
    with pytest.raises(oracles.Declined, match="kink"):
        oracles.COMPLEX_STEP.compute(at_kink)


@pytest.mark.parametrize("shift", [0.0, 20.0, 800.0])
@pytest.mark.parametrize("kind", ["cross-entropy", "softmax"])
def test_the_oracles_are_exact_where_the_output_layer_saturates(kind: str, shift: float) -> None:
    """Output weighted inputs pushed to ±shift under the cross-entropy cost (σ output) and under
    softmax with −Σ y ln a: the complex step and JAX differentiate the cost written in zᴸ
    (``costs.value_at_output``), so they agree with the reference to rounding where 1 − aᴸ or a
    probability rounds away (through aᴸ the complex step erred by 5e-9 at 20, 9e-5 at 30)."""
    import dataclasses

    from bpverify.oracles.tolerances import TOLERANCES
    from bpverify.reference import costs
    from bpverify.reference.activations import sigmoid, softmax

    if kind == "softmax":
        case = random_case(1, [3, 4, 3], cost=costs.categorical_cross_entropy,
                           activations=(sigmoid, softmax))
    else:
        case = random_case(1, [3, 4, 3], cost=costs.cross_entropy)
    biases = list(case.biases)
    biases[-1] = biases[-1] + shift * np.array([[1.0], [-1.0], [0.5]])
    case = dataclasses.replace(case, biases=tuple(biases))
    reference = oracles.MATRIX.compute(case)
    for oracle in (oracles.COMPLEX_STEP, oracles.JAX_AUTODIFF):
        found = oracle.compute(case)
        d = worst_discrepancy([*found.nabla_w, *found.nabla_b],
                              [*reference.nabla_w, *reference.nabla_b], oracle.name)
        assert d.relative <= TOLERANCES[oracle.tolerance], (oracle.name, d.describe())
