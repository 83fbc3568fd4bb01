"""The one catalogue of wrong variants (suite/diagnoses.py, from the derivations through
suite/variants_from_derivations.py): current, printed in the book's notation, each hint
named on a mutant that has exactly that bug, and none on a correct implementation."""

from __future__ import annotations

import numpy as np
import pytest
from reports import SEEDS

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.zoo import CORRECT, MUTANTS
from bpverify.conformance.suite import diagnoses, variants_from_derivations
from bpverify.conformance.suite.battery import battery
from bpverify.conformance.suite.checks import fundamental_equations
from bpverify.conformance.suite.checks.base import named_variant
from bpverify.conformance.suite.runner import run_suite
from bpverify.derivations import catalog, notation
from bpverify.derivations.printing import equation_text
from bpverify.reference.backpropagation import backprop_matrix


def test_the_generated_catalogue_is_current() -> None:
    """derived_variants.py is what the derivations give today (regenerate it with
    ``python -m bpverify.conformance.suite.variants_from_derivations``)."""
    assert variants_from_derivations.TARGET_FILE.read_text(encoding="utf-8") == (
        variants_from_derivations.generate())


def test_a_change_of_one_step_moves_to_every_equation_where_its_part_occurs() -> None:
    """BP1's σ′ at aᴸ instead of zᴸ (a step of ``derive bp1``) is BP2's σ′(aˡ) too; BP2's w for
    wᵀ does not reach BP1, which has no w."""
    derived = {(v.equation, v.change) for v in diagnoses.CATALOGUE}
    assert ("BP1", "σ′(aᴸ) instead of σ′(zᴸ)") in derived
    assert ("BP2", "σ′(aˡ) instead of σ′(zˡ)") in derived
    assert ("BP2", "wˡ⁺¹ instead of (wˡ⁺¹)ᵀ") in derived
    assert not any(e == "BP1" and "wᴸ" in change for e, change in derived)
    named = next(v for v in diagnoses.CATALOGUE if v.change == "σ′(aˡ) instead of σ′(zˡ)")
    assert named.formula == "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(aˡ)"
    bp1, bp2 = catalog.by_name("bp1"), catalog.by_name("bp2")
    at_a = [(s, w) for s in bp1.steps for w in s.wrongs if w.why == "σ′ at aᴸ instead of zᴸ"]
    assert at_a
    moved = variants_from_derivations.apply(
        variants_from_derivations.rule_of(*at_a[0], "bp1"), bp2.rhs, notation.l)
    assert moved is not None
    assert equation_text(bp2.lhs, moved[0]) == named.formula
    assert moved[1] == named.change


@pytest.mark.parametrize("equation", ["BP1", "BP2", "BP3", "BP4"])
def test_every_equation_has_variants_and_no_two_alike(equation: str) -> None:
    mine = [v for v in diagnoses.CATALOGUE if v.equation == equation]
    assert mine and len({(v.formula, v.change) for v in mine}) == len(mine)


NAMED_ON = {
    ("BP1", "δᴸ = ∇ₐC ⊙ aᴸ(1 − aᴸ)"): "SoftmaxJacobianAsItsDiagonalBP1",
    ("BP1", "missing the softmax's Jacobian"): "SoftmaxJacobianMissingBP1",
    ("BP1", "δᴸ = (aᴸ − y) ⊙ aᴸ(1 − aᴸ)"): "SoftmaxSigmaPrimeOnTheOutputErrorBP1",
    ("BP1", "δᴸ = aᴸ − e_argmax(y)"): "SoftTargetsAsLabels",
    ("BP1", "δᴸ = ∇ₐC ⊙ σ(zᴸ)"): "SigmaForSigmaPrimeBP1",
    ("BP1", "missing σ′(zᴸ)"): "MissingSigmaPrimeBP1",
    ("BP1", "δᴸ = ∇ₐC ⊙ σ′(aᴸ)"): "SigmaPrimeOfOutputActivationBP1",
    ("BP1", "δᴸ = (−yᴸ + aᴸ) ⊙ σ′(zᴸ)"): "CrossEntropyWithSigmaPrimeBP1",
    ("BP1", "δᴸ = −∇ₐC ⊙ σ′(zᴸ)"): "SignFlipBP1",
    ("BP1", "δᴸ = 2(aᴸ − y) ⊙ σ′(zᴸ)"): "MissingHalfBP1",
    ("BP1", "δᴸ = ∇ₐC ⊙ σ′(zᴸ) ⊙ σ′(zᴸ)"): "SigmaPrimeTwiceBP1",
    ("BP1", "δᴸ = ∇ₐC ⊙ σ′ₐ(zᴸ)"): "FunctionSavedInputNotOutput",
    ("BP2", "δˡ = (wˡ⁺¹δˡ⁺¹) ⊙ σ′(zˡ)"): "WeightsNeverTransposedBP2",
    ("BP2", "δˡ = (wˡ⁺¹)ᵀδˡ⁺¹"): "MissingSigmaPrimeBP2",
    ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ⁺¹)"): "SigmaPrimeOfNextLayerBP2",
    ("BP2", "δˡ = (wˡ⁺¹)ᵀΣ′(zˡ⁺¹)δˡ⁺¹"): "SigmaPrimeFormOfTheLayerAboveBP2",
    ("BP2", "δˡ = wˡ⁺¹δˡ⁺¹"): "LinearNeuronsBackwardWithoutTransposeBP2",
    ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ(zˡ)"): "SigmaForSigmaPrimeBP2",
    ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(aˡ)"): "SigmaPrimeOfActivationBP2",
    ("BP2", "δˡ = −((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)"): "SignFlipBP2",
    ("BP2", "δˡ = 0"): "SkipsFirstLayerBP2",
    ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′ₐ(zˡ)"): "SigmaPrimeWrittenInAFedZBP2",
    ("BP3", "∂C/∂bˡ = δˡ ⊙ aˡ"): "BiasGradientTimesActivationBP3",
    ("BP3", "∂C/∂bˡ = δˡ ⊙ σ′(zˡ)"): "ExtraSigmaPrimeInOutputBiasGradientBP3",
    ("BP3", "∂C/∂bˡ = ∇ₐC ⊙ σ′(zˡ)"): "BiasGradientFromTheOutputErrorBP3",
    ("BP3", "∂C/∂bˡ = (wˡ⁺¹)ᵀδˡ⁺¹"): "BiasGradientBeforeSigmaPrimeBP3",
    ("BP4", "∂C/∂wˡ = aˡ⁻¹(δˡ)ᵀ"): "TransposedWeightGradientBP4",
    ("BP4", "∂C/∂wˡ = δˡ(aˡ)ᵀ"): "ActivationOfThisLayerBP4",
    ("BP4", "∂C/∂wˡ = (δˡ ⊙ σ′(zˡ))(aˡ⁻¹)ᵀ"): "WeightGradientExtraSigmaPrimeBP4",
    ("BP4", "∂C/∂wˡ = δˡ(zˡ)ᵀ"): "WeightGradientOfWeightedInputBP4",
    ("BP4", "∂C/∂wˡ = ((wˡ⁺¹)ᵀδˡ⁺¹)(aˡ⁻¹)ᵀ"): "WeightGradientBeforeSigmaPrimeBP4",
    ("BP4", "∂C/∂wˡ = (δˡ ⊙ aˡ)(aˡ⁻¹)ᵀ"): "WeightGradientTimesActivationBP4",
    ("BP4", "∂C/∂wˡ = (∇ₐC ⊙ σ′(zˡ))(aˡ⁻¹)ᵀ"): "WeightGradientFromTheOutputErrorBP4",
    ("BP4", "∂C/∂wˡ = −δˡ(aˡ⁻¹)ᵀ"): "SignFlipBP4",
    ("BP4", "∂C/∂wˡ = δˡ⁺¹(aˡ)ᵀ"): "WeightGradientOneLayerOffBP4",
    ("BP4", "∂C/∂wˡ = δˡxᵀ"): "WeightGradientOfTheInputBP4",
    ("BP1", "δᴸ = −aᴸ + yᴸ"): "CrossEntropySignFlipBP1",
    ("BP1", "δᴸ = ∇ₐC ⊙ zᴸ"): "OutputErrorTimesWeightedInputBP1",
    ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ zˡ"): "BackpropagateTimesWeightedInputBP2",
    ("BP3", "∂C/∂bˡ = 2 δˡ"): "BiasGradientTwiceBP3",
    ("BP4", "∂C/∂wˡ = (2 δˡ)(aˡ⁻¹)ᵀ"): "WeightGradientTwiceBP4",
}
"""The zoo's mutant (specimens/zoo.py) that has exactly each hint's bug, by (equation, formula),
or (equation, change) where two hints share a formula (δᴸ = ∇ₐC)."""

NO_NUMBERS_TELL_APART = {
    ("BP1", "δᴸ = ∇ₐCΣ′(zᴸ)"): "a row times a matrix has a shape only where n_L = 1, and there it "
                               "is δᴸ itself",
    ("BP1", "δᴸ = ∇ₐC ⊙ aᴸ"): "aᴸ = σ(zᴸ): the numbers of σ(zᴸ) instead of σ′(zᴸ), named first",
    ("BP1", "δᴸ = diag(σ(zᴸ))∇ₐC"): "diag(u)v = v ⊙ u: the numbers of ∇ₐC ⊙ σ(zᴸ), named first",
    ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ aˡ"): "aˡ = σ(zˡ): the numbers of σ(zˡ) instead of σ′(zˡ), "
                                       "named first",
    ("BP2", "δˡ = Σ′(zˡ)wˡ⁺¹δˡ⁺¹"): "diag(u)v = v ⊙ u: the numbers of (wˡ⁺¹δˡ⁺¹) ⊙ σ′(zˡ), "
                                   "named first",
}
"""Hints no implementation can be told (``test_the_hints_no_mutant_has_are_those_no_numbers_tell_
apart`` shows why)."""


def _key(variant: diagnoses.Variant) -> tuple[str, str]:
    shared = sum(v.equation == variant.equation and v.formula == variant.formula
                 for v in diagnoses.CATALOGUE) > 1
    return variant.equation, variant.change if shared else variant.formula


def test_every_hint_of_the_catalogue_has_its_mutant_or_a_reason() -> None:
    keys = [_key(v) for v in diagnoses.CATALOGUE]
    assert len(set(keys)) == len(keys)
    assert set(keys) == set(NAMED_ON) | set(NO_NUMBERS_TELL_APART)
    assert not set(NAMED_ON) & set(NO_NUMBERS_TELL_APART)


@pytest.mark.parametrize("variant", [v for v in diagnoses.CATALOGUE if _key(v) in NAMED_ON],
                         ids=lambda v: f"{v.equation}: {v.formula}")
def test_each_hint_is_named_on_the_mutant_that_has_its_bug(variant: diagnoses.Variant) -> None:
    """σ′(aˡ) in BP2 (the commonest student bug) and every other hint: the mutant fails the
    equation, and its likely line is this hint, in the book's notation."""
    mutant = next(m for m in MUTANTS if m.name == NAMED_ON[_key(variant)])
    assert mutant.check == variant.equation
    outcome = run_suite(as_implementation(mutant.cls), only=[mutant.check]).outcomes[0]
    assert outcome.status == "fail" and outcome.failure is not None, outcome.detail
    said = outcome.failure.diagnosis or ""
    if "σ′ₐ" in variant.formula:  # spelled out for the layer's σ: zˡ(1 − zˡ) instead of aˡ(1 − aˡ)
        mark = "ᴸ" if variant.equation == "BP1" else "ˡ"
        assert said.startswith("σ′ written with the activations") and f"fed z{mark}" in said
    else:
        assert said.startswith(f"{variant.change}: {variant.formula}"), said


SAME_NUMBERS_AS = {
    ("BP1", "δᴸ = ∇ₐC ⊙ aᴸ"): ("BP1", "δᴸ = ∇ₐC ⊙ σ(zᴸ)"),
    ("BP1", "δᴸ = diag(σ(zᴸ))∇ₐC"): ("BP1", "δᴸ = ∇ₐC ⊙ σ(zᴸ)"),
    ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ aˡ"): ("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ(zˡ)"),
    ("BP2", "δˡ = Σ′(zˡ)wˡ⁺¹δˡ⁺¹"): ("BP2", "δˡ = (wˡ⁺¹δˡ⁺¹) ⊙ σ′(zˡ)"),
}
"""The hints of ``NO_NUMBERS_TELL_APART`` that are another, earlier hint's numbers."""


def test_the_hints_no_mutant_has_are_those_no_numbers_tell_apart() -> None:
    """On every network of a battery, at the output layer and at every hidden layer: ∇ₐCΣ′(zᴸ)
    has no value unless n_L = 1, where it is δᴸ; each hint of ``SAME_NUMBERS_AS`` has the value
    of the hint named before it, wherever either is formed."""
    assert set(SAME_NUMBERS_AS) | {("BP1", "δᴸ = ∇ₐCΣ′(zᴸ)")} == set(NO_NUMBERS_TELL_APART)
    compared = 0
    for spec in battery(0):
        case = spec.case()
        ref = backprop_matrix(case.weights, case.biases, case.x, case.y, case.activations,
                              case.cost)
        for layer in range(2, spec.L + 1):
            equation = "BP1" if layer == spec.L else "BP2"
            expected = ref.deltas[layer - 2][:, :1]
            point = diagnoses.network_point(case, ref.zs, ref.activations,
                                            [d[:, :1] for d in ref.deltas], 0, layer, expected)
            found = {_key(v): v.value(point) for v in diagnoses.CATALOGUE
                     if v.equation == equation and _formed(v, point)}
            if equation == "BP1":
                row_times_matrix = found.get(("BP1", "δᴸ = ∇ₐCΣ′(zᴸ)"))
                assert (row_times_matrix is None) == (spec.sizes[-1] > 1)
                if row_times_matrix is not None:
                    np.testing.assert_allclose(row_times_matrix, expected, rtol=1e-14)
            for hint, named_first in SAME_NUMBERS_AS.items():
                if hint in found and named_first in found:
                    np.testing.assert_allclose(found[hint], found[named_first], rtol=1e-14,
                                               atol=0)
                    compared += 1
    assert compared >= 4 * 5


def test_a_hint_with_other_numbers_is_not_taken_for_one_named_first() -> None:
    """Negative control of the test above: σ′(zˡ) and σ(zˡ) differ, so SAME_NUMBERS_AS would
    reject a pair that does not share its numbers."""
    spec = battery(0)[0]
    case = spec.case()
    ref = backprop_matrix(case.weights, case.biases, case.x, case.y, case.activations, case.cost)
    expected = ref.deltas[-1][:, :1]
    point = diagnoses.network_point(case, ref.zs, ref.activations,
                                    [d[:, :1] for d in ref.deltas], 0, spec.L, expected)
    found = {_key(v): v.value(point) for v in diagnoses.CATALOGUE
             if v.equation == "BP1" and _formed(v, point)}
    assert not np.allclose(found[("BP1", "δᴸ = ∇ₐC ⊙ aᴸ")], found[("BP1", "δᴸ = ∇ₐC ⊙ σ′(aᴸ)")],
                           rtol=1e-14, atol=0)


def _formed(variant: diagnoses.Variant, point: diagnoses.Point) -> bool:
    try:
        with np.errstate(all="ignore"):
            variant.value(point)
    except (diagnoses.Unavailable, ValueError):
        return False
    return True


def _offered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str]]:
    """Every hint the equation checks would name if the comparison had failed, asked at every
    layer they compare (the network, example and layer where they ask it)."""
    offered: list[tuple[str, int, str]] = []
    real = fundamental_equations.compare

    def asking(actual, expected, allowed, equation, quantity, layers,  # type: ignore[no-untyped-def]
               float32_hint=None, candidates=None):
        for a, e, t, layer in zip(actual, expected, allowed, layers, strict=True):
            name = named_variant(a, e, t, candidates(layer)) if candidates else None
            if name is not None:
                offered.append((equation, layer, name))
        real(actual, expected, allowed, equation, quantity, layers, float32_hint, candidates)

    monkeypatch.setattr(fundamental_equations, "compare", asking)
    return offered


@pytest.mark.parametrize("cls", CORRECT, ids=lambda cls: cls.__name__)
def test_no_hint_fires_on_a_correct_implementation(cls: type,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hint of BP1–BP4, asked of a correct implementation's numbers at every network,
    example and layer the checks compare, as if the comparison had failed: none is named (no
    wrong formula matches right numbers)."""
    offered = _offered(monkeypatch)
    report = run_suite(as_implementation(cls), only=["BP1", "BP2", "BP3", "BP4"], seeds=SEEDS)
    assert report.passed and not offered, offered[:5]


def test_asking_for_hints_on_a_mutant_names_its_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """The negative control of the test above: asked the same way, a mutant's numbers are named."""
    offered = _offered(monkeypatch)
    mutant = next(m for m in MUTANTS if m.name == "SigmaPrimeOfActivationBP2")
    run_suite(as_implementation(mutant.cls), only=["BP2"])
    assert any(name.startswith("σ′(aˡ) instead of σ′(zˡ)") for _, _, name in offered), offered
