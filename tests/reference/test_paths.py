"""Equation 53 (reference/paths.py): the count of paths and the refusal above the limit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bpverify.reference.paths import gradient_by_paths, path_count


def test_path_count_matches_enumeration() -> None:
    sizes = [2, 3, 2, 2]
    enumerated = 0
    for l in range(2, len(sizes) + 1):
        per_parameter = sum(1 for _ in itertools.product(*(range(n) for n in sizes[l:])))
        enumerated += (sizes[l - 1] * sizes[l - 2] + sizes[l - 1]) * per_parameter
    # by hand: layer 2 (3·2 + 3)·2·2 = 36, layer 3 (2·3 + 2)·2 = 16, layer 4 (2·2 + 2) = 6
    assert path_count(sizes) == enumerated == 58


def test_path_sum_refuses_above_its_limit() -> None:
    sizes = [4, 4, 4]
    w = [np.ones((4, 4)), np.ones((4, 4))]
    b = [np.zeros((4, 1)), np.zeros((4, 1))]
    with pytest.raises(ValueError, match=f"have {path_count(sizes)} paths, above max_paths = 10"):
        gradient_by_paths(w, b, np.ones((4, 1)), np.ones((4, 1)), max_paths=10)

