"""The claims verify makes and the cases it makes them on (oracles/claims.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bpverify.oracles import claims


def test_update_discrepancy_ignores_rounding_of_a_tiny_step() -> None:
    old = [np.array([[1.0]])]
    step = [np.array([[1e-30]])]
    assert claims.update_discrepancy(old, [old[0] - step[0]], step, "w").relative == 0.0
    doubled = claims.update_discrepancy(old, [old[0] - 2e-3], [np.array([[1e-3]])], "w")
    assert doubled.relative == pytest.approx(1.0)


def test_the_cases_cover_every_tagged_row() -> None:
    tagged = claims.verification_cases(seed=0)
    assert set(claims.TAG_ROWS) <= {tag for t in tagged for tag in t.tags}
    again = claims.verification_cases(seed=0)
    assert all(np.array_equal(a.case.x, b.case.x) for a, b in zip(tagged, again, strict=True))


def test_every_claim_measures_a_case_against_the_reference_itself_as_zero() -> None:
    """The reference against itself: every claim measures 0 (BP1, BP2 by δ; BP3, BP4 by the
    gradient; the forms; the SGD rule against η/m times the same gradient)."""
    from bpverify.oracles import methods

    tagged = claims.verification_cases(seed=1)[0]
    derivatives = methods.MATRIX.compute(tagged.case)
    for name, _, measure in claims.claims():
        for found in measure(tagged, derivatives):
            assert found.relative <= 1e-13, (name, found.describe())
