"""What a derivation is: a statement, steps that the machine checks, a negative control that
the same checker must reject, its level of generality, and renderings for teaching.

A step claims ``lhs = rhs``. The checker rewrites every derivative of the undefined σ and
C into named functions σ′ and ∂C/∂aⱼ (so that two spellings of one derivative compare
equal), expands, and asks for zero: ``expand`` is 10–300× faster than ``simplify`` and
is a decision procedure for the polynomial identities in σ, σ′, w, b, a that backprop is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy as sp

sigma = sp.Function("sigma")
sigma_prime = sp.Function("sigma'")


def canonical(expr: sp.Expr) -> sp.Expr:
    """Rewrite σ′ and ∂C/∂aⱼ applications as named functions, then expand."""
    expr = sp.sympify(expr).doit()

    def derivative_name(d: sp.Derivative) -> sp.Function | None:
        f = d.expr
        if not isinstance(f, sp.core.function.AppliedUndef) or len(d.variable_count) != 1:
            return None
        var, count = d.variable_count[0]
        if count != 1 or var not in f.args:
            return None
        position = f.args.index(var)
        suffix = "'" if len(f.args) == 1 else f"_{position + 1}"
        return sp.Function(f"{f.func.__name__}{suffix}")(*f.args)

    def rewrite_subs(e: sp.Subs) -> sp.Expr:
        inner = e.expr
        if isinstance(inner, sp.Derivative):
            named = derivative_name(inner)
            if named is not None:
                return named.xreplace(dict(zip(e.variables, e.point, strict=True)))
        return e

    expr = expr.replace(lambda e: isinstance(e, sp.Subs), rewrite_subs)
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and derivative_name(e) is not None,
                        lambda e: derivative_name(e))
    return sp.expand(expr)


def equal(lhs: sp.Expr | sp.MatrixBase, rhs: sp.Expr | sp.MatrixBase) -> bool:
    """lhs = rhs as identities, entry by entry for matrices."""
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        lhs_m, rhs_m = sp.Matrix(lhs), sp.Matrix(rhs)
        if lhs_m.shape != rhs_m.shape:
            return False
        return all(canonical(a - b) == 0 for a, b in zip(lhs_m, rhs_m, strict=True))
    return bool(canonical(lhs - rhs) == 0)


@dataclass(frozen=True)
class Step:
    """One claimed identity, lhs = rhs, with its justification (the rule or fact it uses)."""

    claim: str
    justification: str
    check: Callable[[], bool]
    latex: str = ""


@dataclass(frozen=True)
class Derivation:
    """A named derivation of the seeds; ``steps`` are checked, ``negative`` must be rejected."""

    name: str
    title: str
    source: str
    statement: str
    generality: str
    steps: Callable[[], Sequence[Step]]
    negative: Callable[[], Step]
    notes: str = ""


@dataclass
class Result:
    derivation: Derivation
    steps: list[tuple[Step, bool]] = field(default_factory=list)
    negative_rejected: bool = False
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.steps) and self.negative_rejected and bool(self.steps)


def check(derivation: Derivation) -> Result:
    """Run every step's check and the negative control; time the whole."""
    start = time.perf_counter()
    result = Result(derivation)
    for step in derivation.steps():
        result.steps.append((step, bool(step.check())))
    negative = derivation.negative()
    result.negative_rejected = not negative.check()
    result.seconds = time.perf_counter() - start
    return result


def render(result: Result, fmt: str = "markdown") -> str:
    """The derivation for reading: statement, steps with justifications and verdicts."""
    d = result.derivation
    mark = {True: "✓", False: "✗"}
    if fmt == "text":
        lines = [f"{d.title}  [{d.name}]", f"Source: {d.source}", f"Generality: {d.generality}",
                 "", f"Statement: {_plain(d.statement)}", ""]
        for i, (step, ok) in enumerate(result.steps, 1):
            lines.append(f"  {i}. {step.claim}   — {step.justification}  {mark[ok]}")
        lines.append(f"  Negative control rejected: {mark[result.negative_rejected]} "
                     f"({d.negative().claim})")
        return "\n".join(lines)
    if fmt == "latex":
        body = [f"\\subsection*{{{d.title}}}", f"\\textit{{{d.source}. {d.generality}}}", "",
                f"\\[ {d.statement} \\]", "\\begin{enumerate}"]
        for step, ok in result.steps:
            verdict = "\\checkmark" if ok else "\\times"
            body.append(f"  \\item ${step.latex or step.claim}$ \\quad ({step.justification}) "
                        f"{verdict}")
        body.append("\\end{enumerate}")
        return "\n".join(body)
    lines = [f"# {d.title}", "", f"*Source:* {d.source}  ", f"*Generality:* {d.generality}", "",
             "$$", d.statement, "$$", "", "| # | step | justification | checked |",
             "|---|---|---|---|"]
    for i, (step, ok) in enumerate(result.steps, 1):
        shown = f"${step.latex}$" if step.latex else step.claim
        lines.append(f"| {i} | {shown} | {step.justification} | {mark[ok]} |")
    negative = d.negative()
    lines += ["", f"**Negative control** (must be rejected by the same checker): {negative.claim} "
              f"— rejected {mark[result.negative_rejected]}"]
    if d.notes:
        lines += ["", d.notes]
    lines += ["", "*Generated by `bpverify derive --write-docs`; checked by `bpverify derive "
              "--check`.*"]
    return "\n".join(lines) + "\n"


def _plain(latex: str) -> str:
    for a, b in (("\\odot", "⊙"), ("\\delta", "δ"), ("\\sigma", "σ"), ("\\partial", "∂"),
                 ("\\nabla", "∇"), ("\\Sigma", "Σ"), ("^{T}", "ᵀ"), ("\\,", " "), ("\\frac", ""),
                 ("\\left", ""), ("\\right", ""), ("{", ""), ("}", "")):
        latex = latex.replace(a, b)
    return latex
