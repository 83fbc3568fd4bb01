"""Every derivation, found by its source text: ``note`` (the derivation note: Props. 1, 2, 2E,
Facts 1–6, Backpropagate), ``bp`` (the book's §2.2–2.4: forward equations, BP1–BP4, Σ′),
``exercises`` (§2.5–2.7 and one step beyond). This module lists them and audits the list against
the source items (``derivations.sources``)."""

from __future__ import annotations

import dataclasses
import re

from bpverify.derivations import bp, core, exercises, note
from bpverify.derivations.core import Derivation
from bpverify.derivations.models import Required, Verdict
from bpverify.derivations.sources import ITEMS, labels

DERIVATIONS: tuple[Derivation, ...] = note.DERIVATIONS + bp.DERIVATIONS + exercises.DERIVATIONS
SECTIONS: dict[str, tuple[Derivation, ...]] = {
    "note": note.DERIVATIONS, "bp": bp.DERIVATIONS, "exercises": exercises.DERIVATIONS}
"""The source sections, one module (and one notebook) each."""

DEFAULT_BOUND = bp.DEFAULT_BOUND

CITED = re.compile(r"\((\d{2,}|\d+(?:\.\d+)+)\)")
"""An equation number as the derivations cite it: (46), (2.2.3), (42)."""


def by_name(name: str) -> Derivation:
    for d in DERIVATIONS:
        if d.name == name:
            return d
    raise ValueError(f"derivation is {name!r}, expected one of {[d.name for d in DERIVATIONS]}")


def with_concrete_bound(depth: int, width: int) -> tuple[Derivation, ...]:
    """All derivations with every concrete step on the networks with L ≤ depth, widths ≤ width."""
    if depth < 2 or width < 1:
        raise ValueError(f"bound is depth {depth}, width {width}; expected depth ≥ 2, width ≥ 1")
    return tuple(d.with_bound((depth, width)) for d in DERIVATIONS)


def audit(derivations: tuple[Derivation, ...] = DERIVATIONS) -> list[str]:
    """What the list of derivations leaves out or gets wrong about the source texts: an item no
    step checks (a step deleted), a step naming no known item, an equation number the source
    texts do not print, two derivations of one name."""
    problems = []
    named = {s.item for d in derivations for s in d.steps}
    for item, found in ITEMS.items():
        if item not in named:
            problems.append(f"the source item {item!r} ({found.where}) is checked by no step")
        for d in derivations:
            for number, s in enumerate(d.steps, 1):
                kinds = {type(m).__name__ for m in s.models}
                if s.item == item and not set(found.levels) <= kinds:
                    problems.append(f"{d.name} step {number} checks the source item {item!r} ({found.where}) "
                                    f"without the levels {', '.join(sorted(set(found.levels) - kinds))}")
    known = labels()
    for d in derivations:
        for number, s in enumerate(d.steps, 1):
            if s.item not in ITEMS:
                problems.append(f"{d.name} step {number} names the unknown source item {s.item!r}")
        prose = " ".join([d.title, d.source, d.notes, d.intro, *(s.why for s in d.steps)])
        for cited in CITED.findall(prose):
            if f"({cited})" not in known:
                problems.append(f"{d.name} cites equation ({cited}), which no source text numbers")
    names = [d.name for d in derivations]
    twice = sorted({x for x in names if names.count(x) > 1})
    problems += [f"two derivations are named {name!r}" for name in twice]
    return problems


CANARIES = ("bp3", "bp4", "prop2", "cross_entropy", "sigmoid_prime", "backpropagate", "mini_batch")
"""Derivations whose statements, swapped with their first wrong variant, exercise every kind of
model: the index form, the local step (n_{l−1} concrete and symbolic), concrete networks (one
example, a mini-batch, the note's algorithm), the note's propositions, the output layer alone and
a scalar identity."""


def canaries(derivations: tuple[Derivation, ...] = DERIVATIONS) -> list[str]:
    """The checking machinery on claims known to be false: each canary statement with its first
    wrong variant as its right side must be refuted at every level, and a level that checked
    fewer cases than it claims must fall short. A check that compares a side with itself, or
    that never refutes, fails here whatever the derivations."""
    problems = []
    chosen = [d for d in derivations if d.name in CANARIES]
    for d in chosen:
        stated = d.statement_step
        swapped = dataclasses.replace(stated, rhs=stated.wrong, wrongs=(), premise=False)
        for model in stated.models:
            judged = core.check_level(swapped, model)
            if judged.holds or judged.verdict is None or not judged.verdict.rejected:
                found = judged.error or (judged.verdict.describe() if judged.verdict else "not run")
                problems.append(f"canary: {d.name}'s wrong statement {swapped.formula()} was not refuted "
                                f"at the level «{model.level}» ({found})")
    if not Required(2, 2).shortfall(Verdict(1, None, 1)):
        problems.append("canary: a check of 1 case where its level claims 2 does not fall short")
    return problems
