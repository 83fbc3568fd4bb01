"""What a failure says (suite/checks/base.py): the two values with the digits that tell them
apart, the difference itself, and a hint only where it can be the bug."""

from __future__ import annotations

import numpy as np
import pytest

from bpverify.conformance.suite.checks.base import (
    Failure,
    distinct,
    mismatch,
    named_variant,
    shape_diagnosis,
    weight_shape_diagnosis,
)


@pytest.mark.parametrize("expected, got", [
    (0.14487234070001, 0.1448723410000),  # printed alike to 9 digits with %g's dropped zeros
    (1.0, 1.0 + 2 ** -52),  # one unit in the last place
    (4.25e-18, 0.0),
    (-3.0, 3.0),
    (123456789.0, 123456789.5),
])
def test_expected_and_got_are_printed_with_the_digits_that_differ(expected: float,
                                                                  got: float) -> None:
    shown = distinct(expected, got)
    assert shown[0] != shown[1]
    assert float(shown[0]) == pytest.approx(expected, rel=1e-3, abs=1e-300)
    digits = len(shown[0].split("e")[0].replace("-", "").replace(".", "").lstrip("0"))
    fewer = max(digits - 1, 1)
    if digits > 4:  # the fewest that tell them apart: one fewer would print them alike
        assert f"{expected:#.{fewer}g}" == f"{got:#.{fewer}g}"


def test_a_failure_prints_both_values_aligned_and_the_difference() -> None:
    text = Failure("BP1", "δᴸ at layer 2 is out of tolerance", 2, (0, 0), 0.14487234070001,
                   0.144872341).describe()
    assert "expected 0.1448723407, got 0.1448723410" in text
    assert "got − expected = 3.00e-10" in text


def test_a_wrong_formula_that_right_code_gives_too_is_never_named() -> None:
    """A variant within the allowance of the right value everywhere (an extra ⊙ σ′ under the
    quadratic cost, where it is no extra) cannot be what made a check fail: an implementation
    one hair out of tolerance is not told it has that bug; the same variant, where it differs
    from the right value, is named."""
    expected = np.array([[1.0], [2.0]])
    allowed = np.full((2, 1), 1e-12)
    hair_off = expected + np.array([[2e-12], [0.0]])
    coincides = {"an extra ⊙ σ′(zᴸ)": expected.copy()}
    assert named_variant(hair_off, expected, allowed, coincides) is None
    assert mismatch(hair_off, expected, allowed, "BP1", "δᴸ", 3, None, coincides) is not None
    differs = {"an extra ⊙ σ′(zᴸ)": 0.25 * expected}
    assert named_variant(0.25 * expected, expected, allowed, differs) == "an extra ⊙ σ′(zᴸ)"


def test_a_weight_gradient_of_the_wrong_shape_is_read_as_the_factor_that_gives_it() -> None:
    """weights (4, 3) then (2, 4): δˡ(aˡ)ᵀ is (4, 4), δˡ⁺¹(aˡ)ᵀ (2, 4), transposed (3, 4); at a
    layer of one neuron δˡ(aˡ)ᵀ is (1, 1), which is not "summed over the neurons" (that reading
    stays the bias's)."""
    weights = [np.zeros((4, 3)), np.zeros((2, 4))]
    assert weight_shape_diagnosis((4, 4), weights, 0).startswith("aˡ instead of aˡ⁻¹")
    assert weight_shape_diagnosis((2, 4), weights, 0).startswith("off by one layer")
    assert weight_shape_diagnosis((3, 4), weights, 0).startswith("transposed")
    one = [np.zeros((1, 3)), np.zeros((2, 1))]
    assert weight_shape_diagnosis((1, 1), one, 0).startswith("aˡ instead of aˡ⁻¹")
    assert "summed over the neurons" in (shape_diagnosis((1, 1), (3, 1)) or "")
    square_next = [np.zeros((2, 3)), np.zeros((2, 2))]
    both = weight_shape_diagnosis((2, 2), square_next, 0) or ""
    assert "aˡ instead of aˡ⁻¹" in both and "off by one layer" in both


def test_the_students_bp4_with_this_layers_activation_is_named_on_shapes() -> None:
    """``nabla_w[-l] = np.dot(delta, activations[-l].transpose())``: on every network with
    nₗ ≠ nₗ₋₁ the shapes check fails, and names it."""
    from bpverify.conformance.protocol.adapters import as_implementation
    from bpverify.conformance.specimens.book_network import BookNetwork
    from bpverify.conformance.suite.runner import run_suite

    class ThisLayersActivation(BookNetwork):
        def weight_gradient(self, delta, a_prev, a):  # type: ignore[no-untyped-def]
            return np.dot(delta, a.T)

    outcome = run_suite(as_implementation(ThisLayersActivation), only=["shapes"]).outcomes[0]
    assert outcome.status == "fail" and outcome.failure is not None
    assert (outcome.failure.diagnosis or "").startswith("aˡ instead of aˡ⁻¹"), outcome.failure
