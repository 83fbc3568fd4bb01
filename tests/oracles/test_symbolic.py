"""SymPy differentiating a whole concrete network, lambdified (oracles/symbolic.py): it agrees
with the reference, and declines what its textbook formulas cannot do accurately."""

from __future__ import annotations

import numpy as np
import pytest

from bpverify.oracles import methods
from bpverify.oracles.cases import random_case
from bpverify.oracles.tolerances import TOLERANCES
from bpverify.reference.activations import relu, sigmoid, tanh


@pytest.mark.parametrize("activation", [sigmoid, tanh])
def test_the_symbolic_gradient_is_the_references(activation) -> None:  # type: ignore[no-untyped-def]
    case = random_case(2, [3, 2, 2], batch_size=2, activations=activation)
    got, expected = methods.SYMBOLIC.compute(case), methods.MATRIX.compute(case)
    for g, e in zip([*got.nabla_w, *got.nabla_b], [*expected.nabla_w, *expected.nabla_b],
                    strict=True):
        assert np.max(np.abs(g - e)) <= TOLERANCES["symbolic"] * np.max(np.abs(e))


def test_it_declines_relu_and_saturation_with_the_reason() -> None:
    with pytest.raises(methods.Declined):
        methods.SYMBOLIC.compute(random_case(2, [2, 2], activations=relu))
    with pytest.raises(methods.Declined, match="exceeds"):
        methods.SYMBOLIC.compute(random_case(2, [2, 2], weight_scale=200.0))
