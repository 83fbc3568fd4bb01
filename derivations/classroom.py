"""What a classroom notebook imports: the book's names and ``recheck``, which runs one step of a
derivation with a right side the student wrote, under the same model the proof uses.

A matrix right side is a string in the notation of ``bpverify derive --try``
(``"(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])"``); a component or scalar right side is a SymPy
expression built from the names below (``Sum(w[l + 1, k, j]*delta[l + 1, k], (k, 1, n(l + 1)))``).
"""

from __future__ import annotations

import dataclasses

import sympy as sp
from sympy import Derivative, O, Sum, diff  # noqa: F401 - names for the notebooks' cells

from bpverify.derivations.catalog import by_name
from bpverify.derivations.core import Step, check_step
from bpverify.derivations.notation import (  # noqa: F401 - names for the notebooks' cells
    QUANTITIES,
    L,
    eta,
    f_prime,
    i,
    j,
    k,
    l,
    m,
    n,
    p,
    sigma,
    sigma_prime,
)
from bpverify.derivations.printing import equation_text
from bpverify.derivations.trying import parse

x = sp.Symbol("x", integer=True, positive=True)
λ = sp.Symbol("λ", integer=True, positive=True)
epsilon = sp.Symbol("epsilon", positive=True)
w_j, t = sp.Symbol("w_j"), sp.Symbol("t")
C = sp.Function("C")
INDEXED = {name: sp.IndexedBase(name) for name in ("w", "b", "z", "a", "delta", "y", "dC_db", "dC_dw",
                                                  "dC_da", "grad_a_C", "rate", "rate_w", "passes_46",
                                                  "mults_forward", "mults_backward")}
globals().update(INDEXED)


class StepFails(AssertionError):
    """The step, with this right side, does not hold (or its wrong variant is not rejected)."""


def recheck(name: str, number: int, rhs: str | sp.Basic) -> str:
    """Step ``number`` (from 1) of derivation ``name`` with ``rhs`` as its right side, checked by
    the step's own model; returns the verdict, raises StepFails when it does not hold."""
    derivation = by_name(name)
    step: Step = derivation.steps[number - 1]
    right = parse(rhs) if isinstance(rhs, str) else sp.sympify(rhs)
    if isinstance(rhs, str) and not isinstance(step.rhs, sp.MatrixExpr):
        raise ValueError(f"step {number} of {name} is a component formula: give a SymPy expression")
    result = check_step(dataclasses.replace(step, rhs=right))
    shown = equation_text(step.lhs, right, step.note)
    if result.error:
        raise StepFails(f"{shown}: {result.error}")
    assert result.verdict is not None
    if not result.verdict.holds:
        raise StepFails(f"✗ {shown}\n  {result.verdict.describe()}")
    return f"✓ {shown}\n  holds for {step.model.level} ({result.verdict.cases} cases)"
