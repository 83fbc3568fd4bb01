"""The whole gradient (suite/checks/gradients.py): a wrong gradient is read as the slip in BP1
that gives it before it is read as a constant factor of the cost or step."""

from __future__ import annotations

import pytest

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.zoo import MUTANTS
from bpverify.conformance.suite.runner import run_suite

WHOLE_GRADIENT = ["gradient-vs-reference", "gradient-vs-complex-step", "saturation"]


def _said(mutant: str) -> dict[str, str]:
    cls = next(m.cls for m in MUTANTS if m.name == mutant)
    report = run_suite(as_implementation(cls), only=["shapes", *WHOLE_GRADIENT])
    return {o.check.id: (o.failure.diagnosis or "") if o.failure else ""
            for o in report.outcomes if o.status == "fail"}


@pytest.mark.parametrize(("mutant", "slip"), [
    ("MissingSigmaPrimeBP1", "missing σ′(zᴸ) in BP1"),
    ("SigmaPrimeTwiceBP1", "σ′ applied twice in BP1"),
    ("SingleOutputWithoutSigmaPrimeBP1", "missing σ′(zᴸ) in BP1"),
])
def test_a_slip_in_bp1_is_named_on_the_whole_gradient(mutant: str, slip: str) -> None:
    """With one output neuron (the saturation slot n_L = 1) such a slip scales every entry by
    one factor (1/σ′(zᴸ), σ′(zᴸ)): it was read as "a constant factor in the cost or step"."""
    said = _said(mutant)
    assert set(said) == set(WHOLE_GRADIENT), said
    for check, diagnosis in said.items():
        assert diagnosis.startswith(slip), (check, diagnosis)
        assert "constant factor in the cost or step" not in diagnosis


def test_a_factor_of_the_cost_is_still_read_as_the_cost() -> None:
    """The negative control: the quadratic cost's ½ left out is a factor 2 of the cost, named
    so, and not taken for a slip in σ′."""
    said = _said("MissingHalfBP1")
    assert set(said) == set(WHOLE_GRADIENT), said
    assert all("the ½ of the quadratic cost left out" in d and "σ′" not in d.split(":")[0]
               for d in said.values()), said
