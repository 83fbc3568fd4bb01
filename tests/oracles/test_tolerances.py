"""The tolerance table (oracles/tolerances.py): one named tolerance per method, widened only by
the rounding of zˡ in deep saturation."""

from __future__ import annotations

from bpverify.oracles import methods
from bpverify.oracles.cases import random_case
from bpverify.oracles.tolerances import TOLERANCES, tolerance_for


def test_every_oracle_has_a_tolerance_in_the_table() -> None:
    oracles = [methods.MATRIX, methods.PER_EXAMPLE_LOOP, methods.SIGMA_PRIME, methods.PATH_SUM,
               methods.JAX_AUTODIFF, methods.COMPLEX_STEP, methods.CENTRAL, methods.SYMBOLIC]
    assert all(o.tolerance in TOLERANCES for o in oracles)


def test_the_constant_holds_unless_z_is_deep_in_saturation() -> None:
    calm = random_case(1, [3, 4, 2])
    assert tolerance_for("autodiff", calm) == TOLERANCES["autodiff"]
    saturated = random_case(1, [30, 30, 2], weight_scale=400.0)
    widened = tolerance_for("autodiff", saturated)
    assert widened > TOLERANCES["autodiff"] and widened < 1e-9
