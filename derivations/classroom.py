"""What a classroom notebook imports: the book's names, ``recheck``, which runs one step of a
derivation with a right side the student wrote under the same models the proof uses, and
``decide``, which answers ``bpverify derive NAME --try`` by truth. Both answer with objects that a
notebook shows as math, ✓ or ✗ with a counterexample in the book's notation; nothing is raised
for a wrong formula.

A right side is a string in the notation of ``bpverify derive --try``
(``"(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])"``, entries ``delta[l][j]``, sums
``sum(w[l+1][k][j] * delta[l+1][k] for k in range(n[l+1]))``); a scalar right side (the Taylor
series of eq. 46) is a SymPy expression built from the names below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy as sp
from sympy import Derivative, O, Sum, diff  # noqa: F401 - names for the notebooks' cells

from bpverify.derivations.catalog import by_name
from bpverify.derivations.core import Step, StepResult, _counted, check_step
from bpverify.derivations.models import ConcreteNets
from bpverify.derivations.notation import (  # noqa: F401 - names for the notebooks' cells
    QUANTITIES,
    L,
    da,
    dw,
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
from bpverify.derivations.printing import equation_latex, equation_text
from bpverify.derivations.truth import Answer, explain
from bpverify.derivations.trying import BadFormula, attempt, parse

x = sp.Symbol("x", integer=True, positive=True)
λ = sp.Symbol("λ", integer=True, positive=True)
epsilon = sp.Symbol("epsilon", positive=True)
w_j, t = sp.Symbol("w_j"), sp.Symbol("t")
C = sp.Function("C")
Δw, Δa = dw, da
INDEXED = {name: sp.IndexedBase(name) for name in ("DC_w", "Da_w", "Danext_a", "Danext_w1",
                                                  "w", "b", "z", "a", "delta", "y", "dC_db", "dC_dw",
                                                  "dC_da", "grad_a_C", "rate", "rate_w", "passes_46",
                                                  "mults_forward", "mults_backward")}
globals().update(INDEXED)


class StepFails(AssertionError):
    """Raised by ``Checked.assert_passed``: the step, with this right side, does not hold."""


@dataclass
class Checked:
    """What ``recheck`` answers, shown in a notebook as math (``_repr_markdown_``) and as text:
    ✓ with the levels it holds at, or ✗ with what failed (a counterexample in the book's
    notation, or what to write instead of an unreadable formula)."""

    name: str
    number: int
    step: Step
    formula: sp.Basic | None
    result: StepResult | None = None
    problem: str = ""

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed

    def assert_passed(self) -> Checked:
        if not self.passed:
            raise StepFails(repr(self))
        return self

    def _failure(self) -> str:
        if self.problem:
            return self.problem
        assert self.result is not None
        concrete_first = sorted(self.result.levels, key=lambda r: not isinstance(r.model, ConcreteNets))
        for level in concrete_first:
            verdict = level.verdict
            if verdict is not None and verdict.counterexample is not None and not verdict.holds:
                return (f"at the level «{level.model.level}»:\n"
                        + explain(verdict.counterexample, self.step.lhs, self.step.note))
        return "\n".join(self.result.failures())

    def __repr__(self) -> str:
        shown = (equation_text(self.step.lhs, self.formula, self.step.note) if self.formula is not None
                 else f"{self.name} step {self.number}")
        if self.passed:
            assert self.result is not None
            return f"✓ {shown}\n" + "\n".join(
                f"  holds for {r.model.level} ({_counted(r)})" for r in self.result.levels)
        return f"✗ {shown}\n  {self._failure()}"

    def _repr_markdown_(self) -> str:
        shown = (f"${equation_latex(self.step.lhs, self.formula, self.step.note)}$"
                 if self.formula is not None else f"{self.name} step {self.number}")
        if self.passed:
            assert self.result is not None
            levels = "\n".join(f"* holds for {r.model.level} ({_counted(r)})" for r in self.result.levels)
            return f"✓ {shown}\n\n{levels}\n"
        return f"✗ {shown}\n\n```\n{self._failure()}\n```\n"


def recheck(name: str, number: int, rhs: str | sp.Basic) -> Checked:
    """Step ``number`` (from 1) of derivation ``name`` with ``rhs`` as its right side, checked by
    the step's own models. ``rhs`` is a string in the notation of ``bpverify derive --try`` (or a
    SymPy expression). A formula that does not hold is answered, not raised: the counterexample."""
    step: Step = by_name(name).steps[number - 1]
    try:
        right = parse(rhs) if isinstance(rhs, str) else sp.sympify(rhs)
    except BadFormula as why:
        return Checked(name, number, step, None, problem=f"not read: {why}")
    if isinstance(right, sp.MatrixExpr) != isinstance(step.rhs, sp.MatrixExpr):
        kind = "a vector or matrix" if isinstance(step.rhs, sp.MatrixExpr) else "an entry (with j, k)"
        return Checked(name, number, step, None, problem=f"step {number} of {name} is {kind}")
    return Checked(name, number, step, right, check_step(dataclasses.replace(step, rhs=right)))


def decide(name: str, formula: str) -> Answer | Refused:
    """``bpverify derive NAME --try FORMULA``: the formula as the statement's right side, by truth."""
    try:
        return attempt(by_name(name), formula)
    except BadFormula as why:
        return Refused(str(why))


@dataclass
class Refused:
    """A formula ``decide`` could not read, and what to write instead."""

    why: str

    def __repr__(self) -> str:
        return f"✗ not read: {self.why}"

    def _repr_markdown_(self) -> str:
        return f"✗ not read: {self.why}"
