"""Whether a formula is *true*: ``bpverify derive NAME --try EXPR`` decides EXPR as the right side of
NAME's statement in every model the statement's levels use, where the formula means something.

* Where: the layers l at which every quantity of the statement and of the formula exists
  (``Domain``); a formula that exists on fewer layers than the statement is judged there, and the
  answer says where it does not exist ("true for l ≤ L − 1; at l = L, wˡ⁺¹ does not exist").
* The index form with the source's facts as rewrites (``FactsWorld``): every quantity is
  rewritten by the statements ``derive --check`` proves, read from their checked objects (BP1,
  BP2, BP3, BP4, Fact 6, the forward equations), into one basis: w, b, y, x, ∇ₐC, the δ of the
  highest layer in play, the z of the lowest. Two formulas that are equal given the source's facts
  have one normal form, however they are written (∂C/∂aˡ ⊙ σ′(zˡ) for δˡ, Σ′(zˡ)(wˡ⁺¹)ᵀδˡ⁺¹,
  σ(zˡ⁻¹) for aˡ⁻¹). Each position of l is a case: far from both ends, l = L, L − 1, L − 2, and
  the lowest three layers.
* The layer-local step and the concrete networks, as the statement checks them, restricted to
  the layers where both sides exist.

A refutation on a concrete network is the answer's counterexample (the smallest); a refutation
in the index form alone is looked for on the networks of depth 4 too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from bpverify.derivations import catalog, interpret, worlds
from bpverify.derivations.core import Derivation
from bpverify.derivations.explain import book_values, difference
from bpverify.derivations.models import (
    ConcreteNets,
    Counterexample,
    IndexModel,
    LocalStep,
    Model,
    Verdict,
    compare_in,
    first_failure,
)
from bpverify.derivations.notation import QUANTITIES, L, Q, comp, j, k, l, z
from bpverify.derivations.printing import text

ONLY_AT_L = {"grad_a_C", "y"}


class NoMeaning(ValueError):
    """A quantity of the formula exists at no layer (wᴸ⁺¹, w¹)."""


def leaves(template: sp.Basic) -> list[tuple[str, sp.Expr, sp.Basic]]:
    """(quantity, layer, the leaf as written) of every quantity in a template."""
    found: list[tuple[str, sp.Expr, sp.Basic]] = [(q.name, q.layer, q) for q in template.atoms(Q)]
    return found + [(str(e.base), e.indices[0], e) for e in template.atoms(sp.Indexed)]


@dataclass(frozen=True)
class Domain:
    """The layers l where every quantity exists: lowest ≤ l ≤ L − below_top (or the one
    statement at the output, when no quantity is at layer l)."""

    lowest: int = 2
    below_top: int = 0
    uses_l: bool = True

    def describe(self) -> str:
        if not self.uses_l:
            return "the statement's layers"
        top = "L" if not self.below_top else f"L − {self.below_top}"
        return f"{self.lowest} ≤ l ≤ {top}"

    def positions(self) -> Iterator[tuple[str, dict[sp.Symbol, sp.Expr]]]:
        """The cases of the index form: l far from both ends; the highest l (where a quantity of
        layer l + c is at L) and the one below; the lowest l (where one is at layer 1, a¹ = x) and
        the one above. Only at the highest and the lowest does a rewrite differ from the generic
        one (δᴸ by BP1, ∂C/∂aᴸ = ∇ₐC; a¹ = x); their neighbours check the step between."""
        if not self.uses_l:
            yield "the output layer", {}
            return
        yield "l far from the input and the output", {}
        for t in range(self.below_top, self.below_top + 2):
            yield f"l = {'L' if not t else f'L − {t}'}", {l: L - t}
        for e in range(2):
            yield f"l = {self.lowest + e}", {l: sp.Integer(self.lowest + e)}


def domain(*templates: sp.Basic) -> Domain:
    """The layers where every quantity of the templates exists (``NoMeaning`` if none)."""
    lowest, below, uses_l = 1, 0, False
    for name, layer, shown in (x for t in templates for x in leaves(t)):
        if name in ("d_u_f", "D_u_x", "d_x_f", "d_u_x", "d_c_f", "d_c_x", "ones", "passes_46",
                    "mults_forward", "mults_backward"):
            continue
        layer = sp.sympify(layer)
        low, above = worlds.LAYERS_OF.get(name, 2), worlds.ABOVE.get(name, 0)
        if layer.has(l):
            offset = sp.simplify(layer - l)
            if not offset.is_Integer or name in ONLY_AT_L:
                raise NoMeaning(f"{text(shown)} is not at a layer l + c")
            uses_l = True
            lowest, below = max(lowest, low - int(offset)), max(below, int(offset) + above)
        elif layer.has(L):
            offset = sp.simplify(layer - L)
            if not offset.is_Integer or int(offset) + above > 0 or (name in ONLY_AT_L and offset != 0):
                raise NoMeaning(f"{text(shown)} does not exist: the output layer is L")
        elif not (layer.is_Integer and low <= int(layer)) or name in ONLY_AT_L:
            raise NoMeaning(f"{text(shown)} does not exist (the input layer is 1, a¹ = x)")
    return Domain(max(lowest, 2) if uses_l else 2, below, uses_l)


def missing_at(position: sp.Expr, formula: sp.Basic) -> str:
    """Which quantities of the formula do not exist when l is ``position`` (a number, or L − t)."""
    missing, input_layer = set(), False
    for name, layer, shown in leaves(formula):
        if not sp.sympify(layer).has(l):
            continue
        at = sp.sympify(layer).xreplace({l: position})
        low, above = worlds.LAYERS_OF.get(name, 2), worlds.ABOVE.get(name, 0)
        if at.is_Integer and int(at) < low or at.has(L) and sp.simplify(at - L) + above > 0:
            missing.add(text(Q(name, layer) if name in QUANTITIES and isinstance(shown, Q) else shown))
            input_layer |= at.is_Integer and int(at) == 1
    if not missing:
        return ""
    shown = " and ".join(sorted(missing))
    return (f"at l = {text(position)}, {shown} {'does' if len(missing) == 1 else 'do'} not exist"
            + (" (layer 1 is the input: a¹ = x, and there is no z¹)" if input_layer else ""))


# -- the index form with the source's facts as rewrites ----------------------------------------------

def _rule(name: str) -> sp.Basic:
    """A proved statement's right side, as ``derive --check`` checks it."""
    if name == "z":
        return next(s.rhs for s in catalog.by_name("forward").steps if s.lhs == z(l))
    return catalog.by_name(name).rhs


@dataclass
class FactsWorld(worlds.IndexForm):
    """The index form in which every quantity is rewritten by the source's facts (BP1–BP4, Fact 6,
    zˡ = wˡaˡ⁻¹ + bˡ, aˡ = σ(zˡ)) into the basis: w, b, x = a¹, y, ∇ₐC, the δ of the highest
    layer in play (top) and the z of the lowest (floor); per anchor (layers l + c, L + c, or
    numbers), so that l far from L keeps δˡ⁺¹ and δᴸ apart."""

    subs: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)
    quadratic: bool = False
    top: dict[str, int] = field(default_factory=dict)
    floor: dict[str, int] = field(default_factory=dict)

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer).xreplace(self.subs)

    @staticmethod
    def anchor(layer: sp.Expr) -> tuple[str, int]:
        layer = sp.sympify(layer)
        if layer.is_Integer:
            return "n", int(layer)
        for name, symbol in (("L", L), ("l", l)):
            offset = sp.simplify(layer - symbol)
            if offset.is_Integer:
                return name, int(offset)
        raise worlds.NotApplicable(f"layer {layer}")

    def prepare(self, *templates: sp.Basic) -> None:
        """The top δ and the floor z of each anchor, from the quantities in play."""
        for name, layer, _ in (x for t in templates for x in leaves(t)):
            anchor, offset = self.anchor(self.bind(layer))
            if name in ("delta", "dC_db", "dC_dw", "dC_da") and anchor != "L":
                high = offset + (name == "dC_da")
                self.top[anchor] = max(self.top.get(anchor, high), high)
            low = offset - (name in ("dC_dw", "w")) if name != "y" else offset
            self.floor[anchor] = min(self.floor.get(anchor, low), low)
        if "n" in self.floor:  # z¹ does not exist: at numbered layers, z expands down to a¹ = x
            self.floor["n"] = max(self.floor["n"], 1)

    def _read(self, template: sp.Basic, at: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        return interpret.entry(template.xreplace({l: at}), r, c, self)

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        anchor, offset = self.anchor(layer)
        output = anchor == "L" and offset == 0
        if name == "grad_a_C" or (name == "dC_da" and output):
            if self.quadratic:  # ∇ₐC = aᴸ − y, the quadratic cost (proved in bp1_quadratic)
                return self._read(catalog.by_name("bp1_quadratic").steps[0].rhs, layer, r, c)
            return comp("grad_a_C", L, r)
        if name in ("w", "b", "y"):
            return comp(name, layer, r, c) if name == "w" else comp(name, layer, r)
        if name == "w_swapped":
            return comp("w", layer, c, r)
        if name == "dC_db":
            return self._read(_rule("bp3"), layer, r, c)
        if name == "dC_dw":
            return self._read(_rule("bp4"), layer, r, c)
        if name == "dC_da":
            return self._read(_rule("fact6"), layer + 1, r, c)
        if name == "delta":
            if output:
                return self._read(_rule("bp1"), layer, r, c)
            if anchor == "L" or offset < self.top.get(anchor, offset):
                return self._read(_rule("bp2"), layer, r, c)
            return comp("delta", layer, r)
        if name == "a":
            if anchor == "n" and offset == 1:
                return comp("a", layer, r)
            return self.function("sigma")(self.entry("z", layer, r, c))
        if name == "z":
            if offset <= self.floor.get(anchor, offset):
                return comp("z", layer, r)
            return self._read(_rule("z"), layer, r, c)
        raise worlds.NotApplicable(f"--try reads no {name} in the index form")


@dataclass
class FactsModel(Model):
    """Every width (the index form) at every position of l, given the source's facts."""

    domain: Domain
    linear: bool = False
    quadratic: bool = False

    @property
    def level(self) -> str:  # type: ignore[override]
        act = (", σ(z) = z" if self.linear else "") + (", the quadratic cost" if self.quadratic else "")
        return (f"every width (symbolic widths, index form{act}) at every position of l in "
                f"{self.domain.describe()}, given BP1–BP4, Fact 6 and the forward equations "
                "(each proved by derive --check) as rewrites")

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        count = entries = 0
        for case, subs in self.domain.positions():
            world = FactsWorld(linear=self.linear, subs=subs, quadratic=self.quadratic)
            world.prepare(lhs, rhs)
            generic: Any
            if isinstance(lhs, sp.MatrixExpr):
                rows, cols = (world.bind(x) for x in lhs.shape)
                world.fixed_widths = {e.args[0]: index + rho for e, index, rho in
                                      ((rows, j, sp.Symbol("rho1", integer=True, nonnegative=True)),
                                       (cols, k, sp.Symbol("rho2", integer=True, nonnegative=True)))
                                      if isinstance(e, sp.Function)}
                generic = (j, k if cols != 1 else sp.Integer(1))
            else:
                generic = True
                for index, leaf, position in interpret.free_indices(lhs):
                    spec = QUANTITIES[str(leaf.base)][position]
                    layer = world.bind(leaf.indices[0]) + {"l": 0, "l-1": -1, "l+1": 1}.get(spec, 0)
                    world.fixed_widths[layer] = index + sp.Symbol(f"rho_{index}", integer=True,
                                                                  nonnegative=True)
            count += 1
            done = compare_in(lhs, rhs, world, f"the index form, {case}", generic)
            entries += done.entries
            if done.failure is not None:
                return Verdict(count, done.failure, entries)
        return Verdict(count, None, entries)

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Any:  # pragma: no cover - not a step's model
        raise NotImplementedError


# -- the answer ----------------------------------------------------------------------------------------

@dataclass
class Level:
    model: Model
    verdict: Verdict

    @property
    def applies(self) -> bool:
        return not (self.verdict.counterexample is not None and self.verdict.counterexample.inapplicable)


@dataclass
class Answer:
    """Whether the formula holds where it is defined, at each level; where it is not; and the
    smallest counterexample, in the book's notation."""

    derivation: Derivation
    lhs: sp.Basic
    formula: sp.Basic
    levels: list[Level]
    where: str = ""
    counterexample: Counterexample | None = None
    seconds: float = 0.0

    @property
    def proved(self) -> bool:
        return self.true

    def __repr__(self) -> str:
        return self.report()

    def _repr_markdown_(self) -> str:
        from bpverify.derivations.printing import equation_latex
        claim = f"${equation_latex(self.lhs, self.formula, self.derivation.note)}$"
        verdict = "✓ true" if self.true else "✗ false" if self.counterexample is not None else "undecided"
        details = self.report().split("\n", 1)[1] if "\n" in self.report() else ""
        return f"{verdict}: {claim}\n\n```\n{details}\n```\n"

    @property
    def true(self) -> bool:
        return self.counterexample is None and any(x.applies and x.verdict.holds for x in self.levels)

    def report(self) -> str:
        note = self.derivation.note
        claim = f"{text(self.lhs, note)} = {text(self.formula, note)}"
        if self.true:
            lines = [f"true: {claim}" + (f"\n  {self.where}" if self.where else "")]
            for x in self.levels:
                shown = (f"✓ {x.model.level} ({x.verdict.cases} case{'s' if x.verdict.cases != 1 else ''})"
                         if x.applies else f"– {x.model.level}: does not apply "
                         f"({x.verdict.counterexample.reason if x.verdict.counterexample else ''})")
                lines.append(f"  {shown}")
            return "\n".join(lines) + f"\n({self.seconds:.1f} s)"
        if self.counterexample is None:
            return f"undecided: {claim}\n  no level of the statement applies to it"
        return f"false: {claim}\n" + explain(self.counterexample, self.lhs, note)


def explain(found: Counterexample, lhs: sp.Basic, note: bool = False) -> str:
    """A counterexample as the book writes it: the case, the entry, both sides in the network's
    names, what differs, and the weighted inputs used."""
    if found.reason:
        return f"  {found.case}: {found.reason}"
    (left, right), legend = book_values(found.world, found.lhs, found.rhs)
    shown = ", ".join(str(int(x)) if sp.sympify(x).is_Integer else text(x) for x in found.entry)
    where = f", entry ({shown})" if found.entry else ""
    lines = [f"  counterexample: {found.case}{where}:",
             f"    left side  ({text(lhs, note)}) = {text(left)}",
             f"    right side = {text(right)}",
             f"    {difference(left, right)}"]
    if legend:
        lines.append(f"    {legend}")
    return "\n".join(lines)


def _restricted(model: ConcreteNets, lhs: sp.Basic, rhs: sp.Basic, where: Domain) -> Verdict:
    """A concrete level at the positions of l in the domain only."""
    def inside(world: Any) -> bool:
        return not where.uses_l or where.lowest <= world.at <= world.depth - where.below_top
    return first_failure(lhs, rhs, ((w, case) for w, case in model.cases(lhs, rhs) if inside(w)))


def decide(derivation: Derivation, lhs: sp.Basic, formula: sp.Basic) -> Answer:
    """The formula as the statement's right side, judged where both sides exist."""
    start = time.perf_counter()
    stated = derivation.statement_step
    statement, trial = domain(lhs, stated.rhs), domain(lhs, formula)
    where = Domain(max(statement.lowest, trial.lowest), max(statement.below_top, trial.below_top),
                   statement.uses_l or trial.uses_l)
    excluded = [missing_at(sp.Integer(p), formula) for p in range(statement.lowest, where.lowest)]
    excluded += [missing_at(L - t, formula) for t in range(statement.below_top, where.below_top)]
    note = ""
    if any(excluded):
        note = f"true for {where.describe()}; " + "; ".join(x for x in excluded if x)
    levels: list[Level] = []
    found: Counterexample | None = None
    for model in sorted(stated.models, key=lambda m: not isinstance(m, ConcreteNets)):
        if isinstance(model, ConcreteNets):
            verdict = _restricted(model, lhs, formula, where)
        elif isinstance(model, IndexModel):
            model = FactsModel(where, linear=model.linear, quadratic=model.cost == "quadratic")
            verdict = model.judge(lhs, formula)
        elif isinstance(model, LocalStep):
            verdict = _local(model, lhs, formula, where)
        else:
            verdict = model.judge(lhs, formula)
        levels.append(Level(model, verdict))
        if verdict.rejected and found is None:
            found = verdict.counterexample
    if found is not None and not any(isinstance(x.model, ConcreteNets)
                                     and x.verdict.rejected for x in levels):
        deeper = _restricted(ConcreteNets((4, 2)), lhs, formula, where)
        if deeper.rejected:
            found = deeper.counterexample
    return Answer(derivation, lhs, formula, levels, note if found is None else "", found,
                  time.perf_counter() - start)


def _local(model: LocalStep, lhs: sp.Basic, formula: sp.Basic, where: Domain) -> Verdict:
    """The local step at the triples inside the domain: the output triples if l = L is in it,
    the others if some l < L is; a formula reading l − 2 or l + 2 is beyond the local step."""
    widths = [t for t in model.widths if (t[2] is None and where.below_top == 0)
              or (t[2] is not None and where.uses_l)]
    if where.lowest > 2:
        return Verdict(0, Counterexample("the local step", reason="it reads layer l − 1 as free activations, "
                                         "not as σ(zˡ⁻¹)", inapplicable=True))
    verdict = LocalStep(widths, model.cost, model.modified).judge(lhs, formula)
    if verdict.cases == 0:
        return Verdict(0, Counterexample("the local step", reason="it has layers l − 1, l and l + 1 only",
                                         inapplicable=True))
    return verdict


__all__ = ["Answer", "Domain", "FactsModel", "FactsWorld", "NoMeaning", "decide", "domain", "explain"]
