"""derivations/evaluate.py: the numbers of ``bpverify verify``'s derivation rows. No cell compares a
side with itself: each rejects every wrong variant of its statement, the reference's cells reject
a broken reference, and where the reference has no route of its own it is not asked."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bpverify.derivations import catalog, evaluate, evaluate_algorithms, evaluate_components, method_values
from bpverify.derivations.core import Derivation
from bpverify.oracles.cases import random_case
from bpverify.oracles.discrepancy import Discrepancy
from bpverify.oracles.tolerances import TOLERANCES

SEED = 0


def _cell(d: Derivation, method: str) -> list[Discrepancy] | None:
    """The cell's discrepancies, None where the method is not asked."""
    try:
        return evaluate.evaluate(d, method, SEED)
    except evaluate.NotEvaluated:
        return None


def _passes(found: list[Discrepancy], method: str) -> bool:
    return max(f.relative for f in found) <= TOLERANCES[evaluate.tolerance_key(method)]


WITH_NUMBERS = [d for d in catalog.DERIVATIONS if d.numbers]
"""The derivations that name how their statement is put to numbers (``Derivation.numbers``)."""


def test_every_derivation_has_numbers() -> None:
    """Every derivation names how its statement is put to numbers, and each is asked of some
    method; every one but eq. 46's count (a count of forward differences' evaluations, which
    only the reference's forward differences make) of JAX, the complex step and central
    differences."""
    assert [d.name for d in catalog.DERIVATIONS if not d.numbers] == []
    assert all(any(_cell(d, m) is not None for m in evaluate.METHODS) for d in WITH_NUMBERS)
    differentiating = ("JAX autodiff", "complex step", "central diff.")
    without = [d.name for d in WITH_NUMBERS if d.numbers != "forward"
               and not all(_cell(d, m) is not None for m in differentiating)]
    assert without == ["cost_claims"]


def test_a_cached_derivative_belongs_to_its_own_case() -> None:
    """The caches are keyed by id(case): each entry keeps its case alive, so a network made
    later cannot take a dead one's id and read its derivatives (it once read a (2, 1) δ for a
    (3, 1) one). CPython hands a freed object's id to the next of its size at once: without
    the case in the entry, every round below read the dead case's δ."""
    small, large = random_case(0, [3, 4, 2]), random_case(0, [3, 4, 3, 2])
    for _ in range(20):
        method_values.derivatives(dataclasses.replace(small), "reference")  # a copy that dies at once
        deltas = method_values.derivatives(dataclasses.replace(large), "reference").deltas
        assert [d.shape for d in deltas] == [(4, 1), (3, 1), (2, 1)]


@pytest.mark.parametrize("d", WITH_NUMBERS, ids=lambda d: d.name)
def test_every_cell_of_a_statement_passes(d: Derivation) -> None:
    for method in evaluate.METHODS:
        found = _cell(d, method)
        assert found is None or _passes(found, method), (method, [f.describe() for f in found])


@pytest.mark.parametrize("d", WITH_NUMBERS, ids=lambda d: d.name)
def test_every_cell_rejects_every_wrong_variant_of_its_statement(d: Derivation) -> None:
    """A cell that compared the right side with itself (or took its left side from the claim)
    would pass a wrong right side: here every cell that is asked fails each of the statement's
    wrong variants, by a discrepancy above its tolerance or by shapes that do not fit."""
    asked = [m for m in evaluate.METHODS if _cell(d, m) is not None]
    for wrong in d.statement_step.wrongs:
        broken = d.with_rhs(wrong.rhs)
        for method in asked:
            try:
                found = evaluate.evaluate(broken, method, SEED)
            except ValueError:  # numpy: the wrong right side has no value at these shapes
                continue
            except evaluate.NotEvaluated:  # it reads a quantity the method has not (∂C/∂aˡ)
                continue
            assert not _passes(found, method), (d.name, wrong.why, method)


BROKEN_REFERENCE = {
    "bp1": ("bp1_output_error", lambda z, a, y, act, cost: cost.gradient(a, y)),  # σ′ left out
    "bp2": ("bp2_backpropagate", lambda w, d, z, act: w.T @ d),  # σ′ left out
    "bp3": ("bp3_bias_gradient", lambda d: 2.0 * d.sum(axis=1, keepdims=True)),
    "bp4": ("bp4_weight_gradient", lambda d, a: 2.0 * (d @ a.T)),
    "sigma_prime_form": ("bp2_backpropagate", lambda w, d, z, act: w.T @ d),
    "backpropagate": ("bp4_weight_gradient", lambda d, a: 2.0 * (d @ a.T)),
    "train": ("bp3_bias_gradient", lambda d: 2.0 * d.sum(axis=1, keepdims=True)),
    "modified_neuron": ("bp2_backpropagate", lambda w, d, z, act: w.T @ d),
}
"""For each row whose reference cell reads the reference's code: that code's equation broken."""


@pytest.mark.parametrize("name", sorted(BROKEN_REFERENCE))
def test_each_reference_cell_rejects_the_reference_with_its_equation_broken(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference column puts the reference's own numbers (δˡ, ∂C/∂bˡ, ∂C/∂wˡ from the code of
    reference/) beside the statement's template from the proof: same mathematics, two routes. With
    the row's equation broken in the reference (the general path: the lean one inlines it), the
    reference cell fails, and JAX's, which does not read the reference, still passes."""
    function, broken = BROKEN_REFERENCE[name]
    monkeypatch.setattr(f"bpverify.reference.backpropagation.{function}", broken)
    monkeypatch.setattr("bpverify.reference.backpropagation._lean_applies", lambda *_: False)
    monkeypatch.setattr(method_values, "_DERIVATIVES", {})
    d = catalog.by_name(name)
    reference = _cell(d, "reference")
    assert reference is not None and not _passes(reference, "reference")
    jax = _cell(d, "JAX autodiff")
    assert jax is not None and _passes(jax, "JAX autodiff")


def test_the_forward_cell_takes_its_left_side_from_the_component_form(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """aˡ = σ(wˡaˡ⁻¹ + bˡ) against aˡ summed entry by entry (2.2.1): a matrix form that lost its
    bias fails there, though it would agree with itself."""
    from bpverify.reference import equations
    real = equations.feedforward_layers

    def without_bias(weights, biases, x, activations):  # type: ignore[no-untyped-def]
        return real(weights, [np.zeros_like(b) for b in biases], x, activations)
    monkeypatch.setattr(evaluate, "feedforward_layers", without_bias)
    found = _cell(catalog.by_name("forward"), "reference")
    assert found is not None and not _passes(found, "reference")


@pytest.mark.parametrize("name", ["prop1", "prop2", "prop2e"])
def test_the_propositions_are_not_asked_of_the_reference(name: str) -> None:
    """The reference has no derivative of a composite but the chain rule: its cell would restate
    the proposition (it once did, at 0.0); the three methods that differentiate are asked."""
    d = catalog.by_name(name)
    assert _cell(d, "reference") is None
    assert all(_cell(d, m) is not None for m in ("JAX autodiff", "complex step", "central diff."))


def test_the_path_sum_takes_each_factor_from_the_method(monkeypatch: pytest.MonkeyPatch) -> None:
    """Equation 53 with JAX's Jacobians and JAX's ∂C/∂w: a rate factor ∂a/∂a taken one layer
    off (the Jacobian of the layer above) fails the cell, as a path sum that skipped a layer
    would; the statement itself passes."""
    d = catalog.by_name("path_sum")
    assert _passes(evaluate.evaluate(d, "JAX autodiff", SEED), "JAX autodiff")
    real = evaluate_components.rate_factors

    def shifted(case, method):  # type: ignore[no-untyped-def]
        table = real(case, method)
        rate = table["rate"]
        return {**table, "rate": lambda layer: rate(layer + 1) if layer + 1 < len(case.sizes)
                else rate(layer)}
    monkeypatch.setattr(evaluate_components, "rate_factors", shifted)
    try:
        found = evaluate.evaluate(d, "JAX autodiff", SEED)
    except ValueError:
        return  # the shifted Jacobian does not even fit
    assert not _passes(found, "JAX autodiff")


def test_the_algorithms_cell_takes_its_left_side_from_the_notes_lines(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ΔWˡ is what the note's lines compute, run in their order: with the note's σ′ = a ⊙ (1 − a)
    read as a ⊙ a, JAX's cell fails (the right side, −η∂C/∂wˡ, does not read the lines)."""
    d = catalog.by_name("backpropagate")
    assert _passes(evaluate.evaluate(d, "JAX autodiff", SEED), "JAX autodiff")
    monkeypatch.setitem(evaluate_algorithms.FUNCTIONS, "one_minus", lambda v: v)
    evaluate_algorithms._compiled.cache_clear()
    try:
        assert not _passes(evaluate.evaluate(d, "JAX autodiff", SEED), "JAX autodiff")
    finally:
        evaluate_algorithms._compiled.cache_clear()


def test_train_reads_the_weights_before_the_lines_that_change_them() -> None:
    """The wrong order (W += ΔW before d_a C := Wᵀ d_z C) gives other parameters than the note's
    order, by far more than rounding: the wrong variant that names it is a real number."""
    d = catalog.by_name("train")
    case = evaluate.statement_cases(d, SEED)[0]
    value = evaluate_algorithms.train_values(case, "reference", *evaluate._program(d))
    right, wrong = value("Train_W", 2), value("Train_W_swapped", 2)
    assert np.max(np.abs(right - wrong)) > 1e-6 * np.max(np.abs(right))


def test_the_count_of_eq_46_is_the_forward_differences_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """P + 1 is counted on the reference's forward differences, which evaluate C(w) once; with
    C(w) evaluated again for every direction (2P evaluations) the cell fails."""
    d = catalog.by_name("cost_claims")
    assert _passes(evaluate.evaluate(d, "reference", SEED), "reference")
    from bpverify.reference import numerical
    real = numerical._derivative_along
    monkeypatch.setattr(numerical, "_derivative_along",
                        lambda f, theta, v, method, h, f_theta=None: real(f, theta, v, method, h))
    assert not _passes(evaluate.evaluate(d, "reference", SEED), "reference")
