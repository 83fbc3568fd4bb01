"""The error measure (oracles/discrepancy.py): normwise per layer, the worst entry named, NaN as
infinitely wrong, never relative to less than the underflow scale."""

from __future__ import annotations

import numpy as np
import pytest

from bpverify.oracles.discrepancy import UNDERFLOW_SCALE, batch_scales, worst_discrepancy


def test_the_worst_entry_over_the_layers_is_named_with_both_values() -> None:
    expected = [np.array([[1.0, 2.0]]), np.array([[10.0], [-4.0]])]
    actual = [np.array([[1.0, 2.0]]), np.array([[10.0], [-4.5]])]
    found = worst_discrepancy(actual, expected, "∂C/∂w")
    assert (found.layer, found.index, found.actual, found.expected) == (3, (1, 0), -4.5, -4.0)
    assert found.absolute == 0.5 and found.relative == 0.5 / 10.0  # the layer's largest entry
    assert "∂C/∂w at layer 3, index (1, 0)" in found.describe()


def test_nan_is_worse_than_any_number() -> None:
    found = worst_discrepancy([np.array([[np.nan, 1e300]])], [np.array([[0.0, 0.0]])], "δ")
    assert found.index == (0, 0) and found.relative == np.inf


def test_a_scale_given_for_cancelling_sums_is_used() -> None:
    found = worst_discrepancy([np.array([[1e-3]])], [np.array([[0.0]])], "∂C/∂b", scales=[1.0])
    assert found.relative == pytest.approx(1e-3)
    tiny = worst_discrepancy([np.array([[1e-300]])], [np.array([[0.0]])], "∂C/∂b")
    assert tiny.relative == pytest.approx(1e-300 / UNDERFLOW_SCALE)


def test_batch_scales_are_the_sizes_of_the_summed_terms() -> None:
    deltas = [np.array([[1.0, -1.0]])]          # Σₓδ = 0: the sum cancels
    activations = [np.array([[2.0, 3.0]])]
    scale_b, scale_w = batch_scales(deltas, activations)
    assert scale_b == [2.0] and scale_w == [5.0]


def test_nothing_to_compare_is_an_error() -> None:
    with pytest.raises(ValueError, match="no tensors to compare"):
        worst_discrepancy([], [], "δ")
