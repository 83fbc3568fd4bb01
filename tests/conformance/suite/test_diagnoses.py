"""The one catalogue of wrong variants (suite/diagnoses.py, from the derivations through
suite/variants_from_derivations.py): current, printed in the book's notation, and each hint
named on a mutant that has exactly that bug."""

from __future__ import annotations

import pytest

from bpverify.conformance.suite import diagnoses, variants_from_derivations


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
    moved = next(v for v in diagnoses.CATALOGUE if v.change == "σ′(aˡ) instead of σ′(zˡ)")
    assert moved.formula == "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(aˡ)"
    assert "derive bp1" in moved.origin


@pytest.mark.parametrize("equation", ["BP1", "BP2", "BP3", "BP4"])
def test_every_equation_has_variants_and_no_two_alike(equation: str) -> None:
    mine = [v for v in diagnoses.CATALOGUE if v.equation == equation]
    assert mine and len({(v.formula, v.change) for v in mine}) == len(mine)
