"""What a derivation is: steps, each a claim lhs = rhs made of SymPy templates, checked by one or
more models (its levels), with plausible wrong right sides that every one of those models must
reject, and a prose justification kept apart from the formula. The derivation's statement is one
of its steps (``Derivation.stated``), not a second object beside them.

Everything a reader sees of a formula is printed from the very objects the models check
(``derivations.printing``): editing a formula without changing its check is impossible.

A check of a step fails unless, at every level: the claim holds; the cases and entries compared
are all the level claims (``models.Required``); every wrong variant is refuted; and, for a claim
about the book's network (``Step.premise``), the claim fails in the premise-broken network
(zˡ = wˡκ(aˡ⁻¹) + 2bˡ, aˡ = τ(zˡ)), which shows the model derived it rather than assumed it. A
derivation also fails when a step's right side contains its left side (a tautology), when a
step has fewer than two wrong variants, or when two steps make the same claim.

Kept whole: a step, its check at each level and the rendering of what was checked are one object's
life; rendered from anything but the checked result, they could drift.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sympy as sp

from bpverify.derivations.models import ConcreteNets, Model, Required, Verdict
from bpverify.derivations.notation import Q
from bpverify.derivations.printing import equation_latex, equation_text, latex, latex_prose, text

MIN_WRONGS = 2
"""Each step has at least this many wrong variants: one is a weak guard (a weakened check that
still rejects it passes unnoticed)."""


@dataclass(frozen=True)
class Wrong:
    """A plausible wrong right side, and what is wrong with it."""

    rhs: sp.Basic
    why: str


@dataclass(frozen=True)
class Step:
    """One checked claim ``lhs = rhs`` at the levels ``models``; ``wrongs`` are plausible wrong
    right sides (same left side) that every model must reject; ``why`` is the justification, in
    prose; ``item`` names the source item it checks (``derivations.sources``); ``premise``: the
    claim is about the book's network, so it must fail in the premise-broken one."""

    lhs: sp.Basic
    rhs: sp.Basic
    models: tuple[Model, ...]
    wrongs: tuple[Wrong, ...]
    why: str
    item: str = ""
    note: bool = False
    premise: bool = True

    def formula(self) -> str:
        return equation_text(self.lhs, self.rhs, self.note)

    @property
    def wrong(self) -> sp.Basic:
        """The first wrong variant's right side."""
        return self.wrongs[0].rhs

    def wrong_formula(self, wrong: Wrong) -> str:
        return equation_text(self.lhs, wrong.rhs, self.note)


def step(lhs: sp.Basic, rhs: sp.Basic, models: Model | Sequence[Model],
         wrongs: Iterable[tuple[sp.Basic, str]], why: str, item: str = "", *, note: bool = False,
         premise: bool = True) -> Step:
    """A ``Step`` from plain tuples: ``wrongs`` as (right side, what is wrong with it)."""
    levels = (models,) if isinstance(models, Model) else tuple(models)
    return Step(lhs, rhs, levels, tuple(Wrong(r, w) for r, w in wrongs), why, item, note, premise)


@dataclass(frozen=True)
class Derivation:
    """A named item of the source texts: the steps that check it, one of which (``stated``, an
    index into ``steps``) is the claim the derivation states.

    ``numbers`` names how ``bpverify verify`` evaluates the statement on numbers (see
    ``derivations.evaluate``); ``intro`` is prose shown before the steps."""

    name: str
    title: str
    source: str
    steps: tuple[Step, ...]
    stated: int = 0
    numbers: str = ""
    note: bool = False
    notes: str = ""
    intro: str = ""

    @property
    def statement_step(self) -> Step:
        return self.steps[self.stated]

    @property
    def lhs(self) -> sp.Basic:
        return self.statement_step.lhs

    @property
    def rhs(self) -> sp.Basic:
        return self.statement_step.rhs

    def statement(self) -> str:
        """The statement as the book writes it, printed from the step that checks it."""
        return self.statement_step.formula()

    def with_rhs(self, rhs: sp.Basic) -> Derivation:
        """The derivation with another right side of its statement."""
        steps = tuple(dataclasses.replace(s, rhs=rhs) if n == self.stated else s
                      for n, s in enumerate(self.steps))
        return dataclasses.replace(self, steps=steps)

    def with_bound(self, bound: tuple[int, int]) -> Derivation:
        """Every concrete level checked on the networks within ``bound`` (depth, width)."""
        def capped(model: ConcreteNets) -> tuple[int, int]:
            if model.ceiling is None:
                return bound
            return min(bound[0], model.ceiling[0]), min(bound[1], model.ceiling[1])

        def bounded(models: tuple[Model, ...]) -> tuple[Model, ...]:
            return tuple(dataclasses.replace(m, bound=capped(m)) if isinstance(m, ConcreteNets) else m
                         for m in models)
        return dataclasses.replace(self, steps=tuple(dataclasses.replace(s, models=bounded(s.models))
                                                     for s in self.steps))

    def levels(self) -> list[str]:
        """The levels its statement is checked at."""
        return [m.level for m in self.statement_step.models]


@dataclass
class LevelResult:
    """One model's judgement of a step: the claim, its requirement, each wrong variant, and the
    claim in the premise-broken network."""

    model: Model
    verdict: Verdict | None = None
    required: Required | None = None
    wrongs: list[Verdict] = field(default_factory=list)
    broken: Verdict | None = None
    error: str = ""

    @property
    def shortfall(self) -> str:
        if self.verdict is None or self.required is None:
            return ""
        return self.required.shortfall(self.verdict)

    @property
    def holds(self) -> bool:
        """The claim held in every case the level claims (and was refuted in none)."""
        return (not self.error and self.verdict is not None and self.verdict.holds
                and not self.verdict.rejected and not self.shortfall)

    def wrongs_rejected(self, expected: int) -> bool:
        """Every wrong variant refuted (and held in none)."""
        return not self.error and len(self.wrongs) == expected and all(
            v.rejected and not v.holds for v in self.wrongs)

    @property
    def premise_shown(self) -> bool:
        return self.broken is None or self.broken.rejected


@dataclass
class StepResult:
    step: Step
    levels: list[LevelResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        """Every level of the step was judged, and the claim held at each."""
        return len(self.levels) == len(self.step.models) > 0 and all(r.holds for r in self.levels)

    @property
    def wrong_rejected(self) -> bool:
        """Every wrong variant refuted at every level (one that checked no case is not)."""
        return bool(self.levels) and all(r.wrongs_rejected(len(self.step.wrongs)) for r in self.levels)

    @property
    def premise_shown(self) -> bool:
        return all(r.premise_shown for r in self.levels)

    @property
    def passed(self) -> bool:
        return self.holds and self.wrong_rejected and self.premise_shown and not self.problems

    def failures(self) -> list[str]:
        out = list(self.problems)
        if len(self.levels) != len(self.step.models):
            out.append(f"{len(self.levels)} of its {len(self.step.models)} levels were judged")
        for r in self.levels:
            where = f"at the level «{r.model.level}»"
            if r.error:
                out.append(f"raised {r.error} {where}")
                continue
            if r.verdict is None or not r.verdict.holds:
                out.append(f"{r.verdict.describe() if r.verdict else 'not run'} {where}")
            elif r.verdict.rejected:
                out.append(f"its claim both held and was refuted: an inconsistent verdict {where}")
            elif r.shortfall:
                out.append(f"its check fell short of its level ({r.shortfall}) {where}")
            if len(r.wrongs) != len(self.step.wrongs):
                out.append(f"{len(r.wrongs)} of its {len(self.step.wrongs)} wrong variants were judged "
                           f"{where}")
            for wrong, v in zip(self.step.wrongs, r.wrongs, strict=False):
                if not v.rejected:
                    out.append(f"its wrong variant {self.step.wrong_formula(wrong)} was not rejected "
                               f"({v.describe()}) {where}")
                elif v.holds:
                    out.append(f"its wrong variant {self.step.wrong_formula(wrong)} both held and was "
                               f"refuted: an inconsistent verdict {where}")
            if not r.premise_shown and r.broken is not None:
                out.append(f"it held in {r.model.broken_premise}: its check "
                           f"assumes what it proves ({r.broken.describe()}) {where}")
        return out


@dataclass
class Result:
    derivation: Derivation
    steps: list[StepResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return (len(self.steps) == len(self.derivation.steps) > 0 and all(s.passed for s in self.steps)
                and not self.problems)

    @property
    def statement_passed(self) -> bool:
        d = self.derivation
        return 0 <= d.stated < len(self.steps) and self.steps[d.stated].passed

    def failures(self) -> list[str]:
        out = list(self.problems)
        if len(self.steps) != len(self.derivation.steps):
            out.append(f"{len(self.steps)} of its {len(self.derivation.steps)} steps were checked")
        for number, s in enumerate(self.steps, 1):
            out += [f"step {number}: {failure}" for failure in s.failures()]
        return out


def circular(step: Step) -> str:
    """Why the step's right side cannot differ from its left side (empty when it can): the right
    side is the left side, or contains the left side's quantity at the same layer."""
    if step.rhs == step.lhs:
        return "its right side is its left side"
    leaves = [(q.name, q.layer) for q in step.lhs.atoms(Q)]
    leaves += [(str(e.base), e.indices[0]) for e in step.lhs.atoms(sp.Indexed)]
    if len(leaves) == 1:
        found = {(q.name, q.layer) for q in step.rhs.atoms(Q)}
        found |= {(str(e.base), e.indices[0]) for e in step.rhs.atoms(sp.Indexed)}
        if leaves[0] in found:
            return f"its right side contains its left side's {text(step.lhs, step.note)}"
    elif step.lhs in step.rhs.atoms(type(step.lhs)) or step.rhs.has(step.lhs):
        return "its right side contains its left side"
    return ""


def step_problems(step: Step) -> list[str]:
    """What is wrong with a step before any model runs: tautologies and weak guards."""
    problems = []
    why = circular(step)
    if why:
        problems.append(f"{step.formula()} is circular: {why}")
    if not step.models:
        problems.append(f"{step.formula()} is checked by no model")
    if len(step.wrongs) < MIN_WRONGS:
        problems.append(f"{step.formula()} has {len(step.wrongs)} wrong variant(s); a step needs "
                        f"{MIN_WRONGS}")
    shown = [w.rhs for w in step.wrongs]
    if step.rhs in shown or len(set(shown)) != len(shown):
        problems.append(f"{step.formula()}: a wrong variant repeats the right side or another variant")
    if not step.item:
        problems.append(f"{step.formula()} names no source item")
    return problems


def check_level(step: Step, model: Model) -> LevelResult:
    """The step's claim, its wrong variants and (for a claim about the book's network) the
    premise-broken network under one model; an exception is this level's ✗."""
    result = LevelResult(model)
    try:
        result.verdict = model.judge(step.lhs, step.rhs)
        result.required = model.required(step.lhs, step.rhs)
        result.wrongs = [model.judge(step.lhs, wrong.rhs) for wrong in step.wrongs]
        if step.premise and model.can_break:
            result.broken = model.judge(step.lhs, step.rhs, broken=True)
    except Exception as error:  # noqa: BLE001 - reported as this level's ✗, the run goes on
        frame = traceback.extract_tb(error.__traceback__)[-1]
        result.error = f"{type(error).__name__}: {error} ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
    return result


def check_step(step: Step) -> StepResult:
    """Every level of the step, each on its own (one level's exception does not stop the rest)."""
    start = time.perf_counter()
    result = StepResult(step, [check_level(step, m) for m in step.models], step_problems(step))
    result.seconds = time.perf_counter() - start
    return result


def derivation_problems(derivation: Derivation) -> list[str]:
    problems = []
    if not 0 <= derivation.stated < len(derivation.steps):
        problems.append(f"its statement is step {derivation.stated + 1} of {len(derivation.steps)}")
    else:
        stated = derivation.steps[derivation.stated]
        if not (derivation.lhs is stated.lhs and derivation.rhs is stated.rhs
                and derivation.statement() == stated.formula()):
            problems.append(f"its displayed statement ({derivation.statement()}; right side "
                            f"{text(derivation.rhs, derivation.note)}) is not the claim of its step "
                            f"{derivation.stated + 1}, {stated.formula()}")
    claims = [(s.lhs, s.rhs) for s in derivation.steps]
    for number, claim in enumerate(claims):
        if claim in claims[:number]:
            problems.append(f"step {number + 1} repeats step {claims.index(claim) + 1}: "
                            f"{derivation.steps[number].formula()}")
    return problems


def check(derivation: Derivation) -> Result:
    """Every step of the derivation, each on its own (one step's exception does not stop the rest)."""
    start = time.perf_counter()
    result = Result(derivation, [check_step(s) for s in derivation.steps], derivation_problems(derivation))
    result.seconds = time.perf_counter() - start
    return result


MARK = {True: "✓", False: "✗"}


def _counted(r: LevelResult) -> str:
    """"12 of 12 networks, 17 entries": what the level checked against what it claims."""
    if r.error:
        return f"raised {r.error}"
    if r.verdict is None:
        return "not run"
    if not r.verdict.holds:
        return r.verdict.describe()
    required = r.required
    of = f" of {required.cases}" if required is not None and required.cases != r.verdict.cases else ""
    symbolic = r.verdict.symbolic
    return (f"{r.verdict.cases}{of} case{'s' if r.verdict.cases != 1 else ''}, "
            f"{r.verdict.entries} entr{'ies' if r.verdict.entries != 1 else 'y'}"
            + ("" if not symbolic else " (symbolic)" if symbolic == r.verdict.entries
               else f" ({symbolic} symbolic)"))


def render(result: Result, fmt: str = "markdown") -> str:
    """The derivation for reading: statement, steps (formula, justification, levels with their
    counts, verdict) and each step's rejected wrong variants, all formulas printed from the
    checked objects."""
    if fmt == "text":
        return _render_text(result)
    if fmt == "latex":
        return _render_latex(result)
    return _render_markdown(result)


def _render_text(result: Result) -> str:
    d = result.derivation
    lines = [f"{d.title}  [{d.name}]", ""]
    if d.intro:
        lines += [d.intro, ""]
    lines += [f"Source: {d.source}", ""]
    lines += [f"Statement (step {d.stated + 1}): {d.statement()}", ""]
    for number, s in enumerate(result.steps, 1):
        lines += _step_lines(number, s)
    for problem in result.problems:
        lines.append(f"  ✗ {problem}")
    if d.notes:
        lines += ["", d.notes]
    return "\n".join(lines)


def _step_lines(number: int, s: StepResult) -> list[str]:
    lines = [f"  {number}. {s.step.formula()}   {MARK[s.passed]}", f"     why: {s.step.why}"]
    for r in s.levels:
        lines.append(f"     {MARK[r.holds]} {r.model.level}: {_counted(r)}")
    for n_wrong, wrong in enumerate(s.step.wrongs):
        rejected = all(len(r.wrongs) > n_wrong and r.wrongs[n_wrong].rejected for r in s.levels)
        lines.append(f"     wrong variant {s.step.wrong_formula(wrong)} ({wrong.why}): "
                     f"rejected {MARK[rejected]}")
    if any(r.broken is not None for r in s.levels):
        lines.append(f"     in {_broken_premises(s)}: fails {MARK[s.premise_shown]}")
    return lines + [f"     ✗ {failure}" for failure in s.failures()]


def _broken_premises(s: StepResult) -> str:
    """Where the step's claim was asked to fail: each level's premise-broken world, once."""
    return " and ".join(dict.fromkeys(r.model.broken_premise for r in s.levels if r.broken is not None))


def render_step(derivation: Derivation, number: int, result: StepResult, fmt: str = "text") -> str:
    """One step (from 1) for reading: its formula, levels and wrong variants (text), or the same
    as Markdown with the formulas in LaTeX."""
    if fmt == "markdown":
        s = result.step
        levels = "; ".join(f"{MARK[r.holds]} {r.model.level} ({_counted(r)})" for r in result.levels)
        wrongs = "; ".join(f"${equation_latex(s.lhs, w.rhs, s.note)}$ ({w.why})" for w in s.wrongs)
        return (f"**{derivation.title}, step {number}.** ${equation_latex(s.lhs, s.rhs, s.note)}$\n\n"
                f"*Why:* {s.why}. *Checked for:* {levels}. *Wrong variants, each rejected:* {wrongs}\n")
    return "\n".join([f"{derivation.title}  [{derivation.name}:{number}]", *_step_lines(number, result)])


def _render_markdown(result: Result) -> str:
    d = result.derivation
    lines = [f"# {d.title}", ""]
    if d.intro:
        lines += [d.intro, ""]
    lines += [f"*Source:* {d.source}", ""]
    lines += [f"Statement (step {d.stated + 1}):", "", "$$", equation_latex(d.lhs, d.rhs, d.note), "$$", "",
              "| # | step | justification | checked for | wrong variants, each rejected at every level |",
              "|---|---|---|---|---|"]
    for number, s in enumerate(result.steps, 1):
        levels = "<br>".join(f"{MARK[r.holds]} {r.model.level} ({_counted(r)})" for r in s.levels)
        if any(r.broken is not None for r in s.levels):
            levels += f"<br>{MARK[s.premise_shown]} fails in {_broken_premises(s)}"
        wrongs = "<br>".join(
            f"${equation_latex(s.step.lhs, w.rhs, s.step.note)}$ ({w.why}) "
            f"{MARK[all(len(r.wrongs) > n and r.wrongs[n].rejected for r in s.levels)]}"
            for n, w in enumerate(s.step.wrongs))
        lines.append(f"| {number} | ${equation_latex(s.step.lhs, s.step.rhs, s.step.note)}$ | "
                     f"{s.step.why} | {levels} | {wrongs} |")
    if d.notes:
        lines += ["", d.notes]
    lines += ["", "*Generated by `bpverify derive --write-docs` from the objects `bpverify derive "
              "--check` checks; edit the derivation, not this page.*"]
    return "\n".join(lines) + "\n"


def _render_latex(result: Result) -> str:
    d = result.derivation
    body = [rf"\subsection*{{{latex_prose(d.title)}}}", ""]
    if d.intro:
        body += [latex_prose(d.intro), ""]
    body += [rf"\textit{{{latex_prose(d.source)}}}", ""]
    body += [rf"\[ {equation_latex(d.lhs, d.rhs, d.note)} \]", r"\begin{enumerate}"]
    for s in result.steps:
        mark = r"$\checkmark$" if s.passed else r"$\times$"
        body += [rf"  \item $ {equation_latex(s.step.lhs, s.step.rhs, s.step.note)} $ {mark}\\",
                 rf"    {latex_prose(s.step.why)}; checked for "
                 + "; ".join(latex_prose(r.model.level) for r in s.levels) + r".\\",
                 "    Wrong variants, each rejected: "
                 + "; ".join(rf"$ {equation_latex(s.step.lhs, w.rhs, s.step.note)} $" for w in s.step.wrongs)]
    body.append(r"\end{enumerate}")
    return "\n".join(body)


def latex_fragment(derivation: Derivation, number: int | None = None) -> str:
    """LaTeX to paste into slides (no preamble, no prose): the derivation as one ``align*``
    (its steps, the statement marked), or step ``number`` (from 1) as one equation. Printed
    from the checked objects, as everything else."""
    if number is not None:
        s = derivation.steps[number - 1]
        return rf"\[ {equation_latex(s.lhs, s.rhs, s.note)} \]"
    rows = []
    previous: sp.Basic | None = None
    for n_step, s in enumerate(derivation.steps):
        left = "" if s.lhs == previous else latex(s.lhs, s.note)
        tag = r" \tag*{$\star$}" if n_step == derivation.stated else ""
        rows.append(rf"  {left} &= {latex(s.rhs, s.note)}{tag}")
        previous = s.lhs
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


LATEX_PREAMBLE = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
LATEX_END = "\\end{document}\n"


def latex_document(results: list[Result]) -> str:
    """A standalone LaTeX document of the given derivations (it compiles with pdflatex)."""
    return LATEX_PREAMBLE + "\n\n".join(render(r, "latex") for r in results) + "\n" + LATEX_END
