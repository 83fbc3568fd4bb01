"""What a derivation is: a statement and steps, each step a claim lhs = rhs made of SymPy
templates, a model that checks it (at a stated level), a plausible wrong right side that the
same model must reject, and a prose justification kept apart from the formula.

Everything a reader sees of a formula is printed from the very objects the model checks
(``derivations.printing``): editing a formula without changing its check is impossible.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass, field

import sympy as sp

from bpverify.derivations.models import ConcreteNets, Model, Verdict
from bpverify.derivations.printing import equation_latex, equation_text, latex_prose


@dataclass(frozen=True)
class Step:
    """One checked claim ``lhs = rhs``; ``wrong`` is a plausible wrong right side (same left
    side) that ``model`` must reject; ``why`` is the justification, in prose."""

    lhs: sp.Basic
    rhs: sp.Basic
    wrong: sp.Basic
    model: Model
    why: str
    wrong_why: str = ""
    note: bool = False

    def formula(self) -> str:
        return equation_text(self.lhs, self.rhs, self.note)

    def wrong_formula(self) -> str:
        return equation_text(self.lhs, self.wrong, self.note)


@dataclass(frozen=True)
class Derivation:
    """A named item of the seeds: its statement (lhs, rhs) and the steps that check it.

    ``statement_steps`` index the steps whose claim is the statement itself (the ones ``--try``
    re-runs with a formula of the user's); ``numbers`` names how ``bpverify verify`` evaluates the
    statement on numbers (see ``derivations.evaluate``)."""

    name: str
    title: str
    source: str
    lhs: sp.Basic
    rhs: sp.Basic
    steps: tuple[Step, ...]
    statement_steps: tuple[int, ...] = ()
    numbers: str = ""
    note: bool = False
    notes: str = ""

    def statement(self) -> str:
        return equation_text(self.lhs, self.rhs, self.note)

    def with_rhs(self, rhs: sp.Basic) -> Derivation:
        """The derivation with another right side of its statement (and of its statement steps)."""
        steps = tuple(dataclasses.replace(s, rhs=rhs) if n in self.statement_steps else s
                      for n, s in enumerate(self.steps))
        return dataclasses.replace(self, rhs=rhs, steps=steps)

    def with_bound(self, bound: tuple[int, int]) -> Derivation:
        """Every concrete step checked on the networks within ``bound`` (depth, width)."""
        def capped(model: ConcreteNets) -> tuple[int, int]:
            if model.ceiling is None:
                return bound
            return min(bound[0], model.ceiling[0]), min(bound[1], model.ceiling[1])
        steps = tuple(dataclasses.replace(s, model=dataclasses.replace(s.model, bound=capped(s.model)))
                      if isinstance(s.model, ConcreteNets) else s for s in self.steps)
        return dataclasses.replace(self, steps=steps)

    def levels(self) -> list[str]:
        """The levels its statement is checked at (one per statement step)."""
        return [self.steps[n].model.level for n in self.statement_steps]


@dataclass
class StepResult:
    step: Step
    verdict: Verdict | None = None
    wrong: Verdict | None = None
    error: str = ""
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return not self.error and self.verdict is not None and self.verdict.holds

    @property
    def wrong_rejected(self) -> bool:
        """The wrong variant failed on a case (a variant that checked no case is not rejected)."""
        return not self.error and self.wrong is not None and self.wrong.counterexample is not None

    @property
    def passed(self) -> bool:
        return self.holds and self.wrong_rejected


@dataclass
class Result:
    derivation: Derivation
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(s.passed for s in self.steps)

    @property
    def statement_passed(self) -> bool:
        return bool(self.derivation.statement_steps) and all(
            self.steps[n].passed for n in self.derivation.statement_steps)

    def failures(self) -> list[str]:
        out = []
        for number, s in enumerate(self.steps, 1):
            if s.error:
                out.append(f"step {number}: raised {s.error}")
            elif not s.holds:
                out.append(f"step {number}: {s.verdict.describe() if s.verdict else 'not run'}")
            elif not s.wrong_rejected:
                out.append(f"step {number}: its wrong variant was not rejected "
                           f"({s.wrong.describe() if s.wrong else 'not run'})")
        return out


def check_step(step: Step) -> StepResult:
    """The step's claim and its wrong variant under its model; an exception is this step's ✗."""
    start = time.perf_counter()
    result = StepResult(step)
    try:
        result.verdict = step.model.judge(step.lhs, step.rhs)
        result.wrong = step.model.judge(step.lhs, step.wrong)
    except Exception as error:  # noqa: BLE001 - reported as this step's ✗, the run goes on
        frame = traceback.extract_tb(error.__traceback__)[-1]
        result.error = f"{type(error).__name__}: {error} ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
    result.seconds = time.perf_counter() - start
    return result


def check(derivation: Derivation) -> Result:
    """Every step of the derivation, each on its own (one step's exception does not stop the rest)."""
    start = time.perf_counter()
    result = Result(derivation, [check_step(s) for s in derivation.steps])
    result.seconds = time.perf_counter() - start
    return result


MARK = {True: "✓", False: "✗"}


def render(result: Result, fmt: str = "markdown") -> str:
    """The derivation for reading: statement, steps (formula, justification, level, verdict) and
    each step's rejected wrong variant, all formulas printed from the checked objects."""
    if fmt == "text":
        return _render_text(result)
    if fmt == "latex":
        return _render_latex(result)
    return _render_markdown(result)


def _render_text(result: Result) -> str:
    d = result.derivation
    lines = [f"{d.title}  [{d.name}]", f"Source: {d.source}", "", f"Statement: {d.statement()}", ""]
    for number, s in enumerate(result.steps, 1):
        lines.append(f"  {number}. {s.step.formula()}   {MARK[s.holds]}")
        lines.append(f"     why: {s.step.why}")
        lines.append(f"     level: {s.step.model.level}")
        lines.append(f"     checked: {s.verdict.describe() if s.verdict else s.error}")
        lines.append(f"     wrong variant {s.step.wrong_formula()}"
                     + (f" ({s.step.wrong_why})" if s.step.wrong_why else "")
                     + f": rejected {MARK[s.wrong_rejected]}")
    if d.notes:
        lines += ["", d.notes]
    return "\n".join(lines)


def _render_markdown(result: Result) -> str:
    d = result.derivation
    lines = [f"# {d.title}", "", f"*Source:* {d.source}", "", "$$",
             equation_latex(d.lhs, d.rhs, d.note), "$$", "",
             "| # | step | justification | level | checked | wrong variant, rejected |",
             "|---|---|---|---|---|---|"]
    for number, s in enumerate(result.steps, 1):
        wrong = f"${equation_latex(s.step.lhs, s.step.wrong, s.step.note)}$"
        lines.append(f"| {number} | ${equation_latex(s.step.lhs, s.step.rhs, s.step.note)}$ | "
                     f"{s.step.why} | {s.step.model.level} | {MARK[s.holds]} "
                     f"({s.verdict.cases if s.verdict else 0} cases) | {wrong} {MARK[s.wrong_rejected]} |")
    if d.notes:
        lines += ["", d.notes]
    lines += ["", "*Generated by `bpverify derive --write-docs` from the objects `bpverify derive "
              "--check` checks; edit the derivation, not this page.*"]
    return "\n".join(lines) + "\n"


def _render_latex(result: Result) -> str:
    d = result.derivation
    body = [rf"\subsection*{{{latex_prose(d.title)}}}", rf"\textit{{{latex_prose(d.source)}}}", "",
            rf"\[ {equation_latex(d.lhs, d.rhs, d.note)} \]", r"\begin{enumerate}"]
    for s in result.steps:
        verdict = r"$\checkmark$" if s.holds else r"$\times$"
        wrong = r"$\checkmark$" if s.wrong_rejected else r"$\times$"
        body += [rf"  \item $ {equation_latex(s.step.lhs, s.step.rhs, s.step.note)} $ {verdict}\\",
                 rf"    {latex_prose(s.step.why)}; checked for {latex_prose(s.step.model.level)}.\\",
                 rf"    Wrong variant $ {equation_latex(s.step.lhs, s.step.wrong, s.step.note)} $ "
                 rf"rejected {wrong}"]
    body.append(r"\end{enumerate}")
    return "\n".join(body)


LATEX_PREAMBLE = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
LATEX_END = "\\end{document}\n"


def latex_document(results: list[Result]) -> str:
    """A standalone LaTeX document of the given derivations (it compiles with pdflatex)."""
    return LATEX_PREAMBLE + "\n\n".join(render(r, "latex") for r in results) + "\n" + LATEX_END
