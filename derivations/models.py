"""Models: how a claim lhs = rhs (two templates) is checked, over which cases, at what level.

A model answers a ``Verdict``: how many cases it checked and the first that failed, with the
entry and both values. A model that checks no case does not hold (``Verdict.holds``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from bpverify.derivations import interpret, worlds
from bpverify.derivations.compare import canonical
from bpverify.derivations.interpret import ShapeMismatch, World
from bpverify.derivations.notation import L, Q, j, k, l
from bpverify.derivations.printing import text


def attempt(lhs: sp.Basic, rhs: sp.Basic, world: Any, case: str,
            generic: Any = None) -> Counterexample | None:
    """``compare`` in one world; a world where the step does not apply is a counterexample
    that says why (a step must not pass by applying nowhere)."""
    try:
        return compare(lhs, rhs, world, case, generic)
    except worlds.NotApplicable as why:
        return Counterexample(case, reason=str(why))


def first_failure(lhs: sp.Basic, rhs: sp.Basic, cases: Iterable[tuple[Any, str]]) -> Verdict:
    """The step in every (world, case) in turn: the count checked, and the first failure."""
    count = 0
    for world, case in cases:
        count += 1
        failed = attempt(lhs, rhs, world, case)
        if failed is not None:
            return Verdict(count, failed)
    return Verdict(count)

@dataclass(frozen=True)
class Counterexample:
    """Where a claim fails: the case, the entry (from 1) and both sides there."""

    case: str
    entry: tuple[sp.Expr, ...] = ()
    lhs: sp.Expr | None = None
    rhs: sp.Expr | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.reason:
            return f"{self.case}: {self.reason}"
        shown = tuple(int(x) if sp.sympify(x).is_Integer else x for x in self.entry)
        where = f"entry {shown}" if self.entry else "the value"
        return f"{self.case}, {where}: left side {_short(self.lhs)}, right side {_short(self.rhs)}"


def _short(expr: sp.Expr | None, limit: int = 160) -> str:
    shown = str(expr)
    return shown if len(shown) <= limit else shown[:limit] + " …"


@dataclass(frozen=True)
class Verdict:
    cases: int
    counterexample: Counterexample | None = None

    @property
    def holds(self) -> bool:
        """True when at least one case was checked and none failed."""
        return self.cases > 0 and self.counterexample is None

    def describe(self) -> str:
        if self.counterexample is not None:
            return "false: " + self.counterexample.describe()
        return f"holds in {self.cases} case(s)" if self.cases else "checked no case"


def _compare_matrix(lhs: sp.Basic, rhs: sp.Basic, world: World, case: str,
                    generic: tuple[sp.Symbol, sp.Symbol] | None = None) -> Counterexample | None:
    """lhs = rhs entry by entry in one world (``generic``: one symbolic entry (j, k))."""
    try:
        left, right = interpret.shape(lhs, world), interpret.shape(rhs, world)
    except ShapeMismatch as why:
        return Counterexample(case, reason=f"the shapes do not fit: {why}")
    if any(sp.simplify(a - b) != 0 for a, b in zip(left, right, strict=True)):
        return Counterexample(case, reason=f"left side is {left[0]}×{left[1]}, "
                                           f"right side {right[0]}×{right[1]}")
    if generic is not None:
        entries: Iterator[tuple[sp.Expr, sp.Expr]] = iter([generic])
    else:
        entries = itertools.product(range(1, int(left[0]) + 1), range(1, int(left[1]) + 1))
    for r, c in entries:
        r, c = sp.sympify(r), sp.sympify(c)
        lv, rv = interpret.entry(lhs, r, c, world), interpret.entry(rhs, r, c, world)
        if canonical(lv - rv) != 0:
            return Counterexample(case, (r, c), canonical(lv), canonical(rv))
    return None


def _compare_component(lhs: sp.Expr, rhs: sp.Expr, world: World, case: str,
                       generic: bool) -> Counterexample | None:
    indices = interpret.free_indices(lhs)
    if generic:
        assignments: Iterator[dict[sp.Symbol, sp.Expr]] = iter([{}])
    else:
        ranges = [range(1, int(interpret.index_range(leaf, pos, world)) + 1) for _, leaf, pos in indices]
        assignments = (dict(zip([s for s, _, _ in indices], values, strict=True))
                       for values in itertools.product(*ranges))
    for values in assignments:
        lv = interpret.component(lhs.xreplace(values), world)
        rv = interpret.component(rhs.xreplace(values), world)
        if canonical(lv - rv) != 0:
            return Counterexample(case, tuple(values.values()), canonical(lv), canonical(rv))
    return None


def compare(lhs: sp.Basic, rhs: sp.Basic, world: World, case: str,
            generic: tuple[sp.Symbol, sp.Symbol] | None = None) -> Counterexample | None:
    """None when lhs = rhs in this world, else where it fails."""
    if isinstance(lhs, sp.MatrixExpr) or isinstance(rhs, sp.MatrixExpr):
        if not (isinstance(lhs, sp.MatrixExpr) and isinstance(rhs, sp.MatrixExpr)):
            return Counterexample(case, reason="one side is a matrix, the other a number")
        return _compare_matrix(lhs, rhs, world, case, generic)
    return _compare_component(lhs, rhs, world, case, generic is not None)


def _layers(template: sp.Basic) -> set[sp.Expr]:
    found = {q.layer for q in template.atoms(Q)}
    found |= {e.indices[0] for e in template.atoms(sp.Indexed)}
    return found


class Model:
    """A way to check claims; ``level`` says exactly what a pass proves."""

    level: str = ""

    def judge(self, lhs: sp.Basic, rhs: sp.Basic) -> Verdict:
        raise NotImplementedError


def architectures(max_depth: int, max_width: int) -> list[tuple[int, ...]]:
    """Every (n₁, …, n_L) with 2 ≤ L ≤ max_depth and 1 ≤ nₗ ≤ max_width, smallest first."""
    nets = [sizes for depth in range(2, max_depth + 1)
            for sizes in itertools.product(range(1, max_width + 1), repeat=depth)]
    return sorted(nets, key=lambda s: (sum(s), len(s), s))


@dataclass
class ConcreteNets(Model):
    """Every network up to a bound, at every layer where the claim's quantities exist."""

    bound: tuple[int, int]
    min_depth: int = 2
    ceiling: tuple[int, int] | None = None
    """The largest bound this step is checked at, whatever ``--bound`` asks (steps whose every
    network is a large symbolic expression: the level says the bound actually used)."""
    linear: bool = False
    modified: bool = False
    examples: tuple[int, ...] = (1,)
    algorithm: tuple[tuple[tuple[str, sp.Expr, sp.Basic], ...], ...] | None = None

    @property
    def level(self) -> str:  # type: ignore[override]
        if self.algorithm is not None:
            return (f"every network with L ≤ {max(self.bound[0], self.min_depth)} and widths "
                    f"≤ {self.bound[1]}, "
                    "quadratic cost, σ′ = σ(1 − σ), at every layer, after the algorithm ran")
        sigma_text = ("σ(z) = z" if self.linear else "σ undefined")
        extra = ("; neuron 1 of layer l outputs f(zˡ₁), f undefined" if self.modified else "")
        batch = (f"; mini-batches of m ∈ {set(self.examples)} examples, C = (1/m)Σₓ Cₓ"
                 if self.examples != (1,) else "")
        return (f"every network with L ≤ {max(self.bound[0], self.min_depth)} and widths ≤ {self.bound[1]}, "
                f"{sigma_text}, "
                f"C undefined, at every layer the claim applies to{extra}{batch}")

    def cases(self, lhs: sp.Basic, rhs: sp.Basic) -> Iterator[worlds.ConcreteNet | worlds.NoteAlgorithm]:
        uses_l = any(layer.has(l) for layer in _layers(lhs) | _layers(rhs))
        for sizes in architectures(max(self.bound[0], self.min_depth), self.bound[1]):
            for at, m in itertools.product(range(1, len(sizes) + 1) if uses_l else [len(sizes)],
                                           self.examples):
                world: worlds.ConcreteNet | worlds.NoteAlgorithm
                if self.algorithm is not None:
                    world = worlds.NoteAlgorithm(sizes, at, *self.algorithm)
                else:
                    world = worlds.ConcreteNet(sizes, at, worlds.identity if self.linear else worlds.sigma,
                                               self.modified, m)
                if self._applies(world, lhs, rhs):
                    yield world

    @staticmethod
    def _applies(world: worlds.ConcreteNet | worlds.NoteAlgorithm, lhs: sp.Basic, rhs: sp.Basic) -> bool:
        for template in (lhs, rhs):
            named = [(q.name, q.layer) for q in template.atoms(Q)]
            named += [(str(e.base), e.indices[0]) for e in template.atoms(sp.Indexed)]
            for name, layer in named:
                value = world.bind(layer)
                if not (worlds.LAYERS_OF.get(name, world.depth) <= value
                        and value + worlds.ABOVE.get(name, 0) <= world.depth):
                    return False
        return True

    def judge(self, lhs: sp.Basic, rhs: sp.Basic) -> Verdict:
        return first_failure(lhs, rhs, ((world, f"sizes {list(world.sizes)} at l = {world.at}" + (
            f", m = {world.examples}" if getattr(world, "examples", 1) > 1 else ""))
            for world in self.cases(lhs, rhs)))


@dataclass
class LocalStep(Model):
    """Layer l alone, the rest of the network an undefined function: every depth at once."""

    widths: Sequence[tuple[int | None, int, int | None]]
    cost: str = "undefined"

    @property
    def level(self) -> str:  # type: ignore[override]
        shown = ", ".join("(" + ", ".join("N" if x is None and i == 0 else "–" if x is None else str(x)
                                          for i, x in enumerate(w)) + ")" for w in self.widths)
        return ("every depth: layer l alone with the rest of the network an undefined function "
                f"(widths (n_l−1, n_l, n_l+1) ∈ {{{shown}}}; N symbolic, – at l = L)")

    def judge(self, lhs: sp.Basic, rhs: sp.Basic) -> Verdict:
        count = 0
        for n_prev, n_here, n_next in self.widths:
            world = worlds.LocalLayer(n_prev, n_here, n_next, self.cost)
            try:
                for template in (lhs, rhs):
                    for layer in _layers(template):
                        world._offset(layer)
            except worlds.NotApplicable:
                continue
            count += 1
            case = f"the local step with widths ({n_prev or 'N'}, {n_here}, {n_next or '–'})"
            generic = None
            if n_prev is None:
                failed = self._judge_symbolic_columns(lhs, rhs, world, case)
            else:
                failed = attempt(lhs, rhs, world, case, generic)
            if failed is not None:
                return Verdict(count, failed)
        return Verdict(count)

    @staticmethod
    def _judge_symbolic_columns(lhs: sp.Basic, rhs: sp.Basic, world: worlds.LocalLayer,
                                case: str) -> Counterexample | None:
        """n_{l−1} symbolic: that dimension's index is the symbol k ≤ n_{l−1}, the others concrete."""
        try:
            left, right = interpret.shape(lhs, world), interpret.shape(rhs, world)
            if any(sp.simplify(x - y) != 0 for x, y in zip(left, right, strict=True)):
                return Counterexample(case, reason=f"left side is {left[0]}×{left[1]}, right side "
                                                   f"{right[0]}×{right[1]}")
            ranges = [[world.col] if not extent_.is_Integer else range(1, int(extent_) + 1)
                      for extent_ in left]
            for r, c in itertools.product(*ranges):
                r, c = sp.sympify(r), sp.sympify(c)
                lv, rv = interpret.entry(lhs, r, c, world), interpret.entry(rhs, r, c, world)
                if canonical(lv - rv) != 0:
                    return Counterexample(case, (r, c), canonical(lv), canonical(rv))
        except (ShapeMismatch, worlds.NotApplicable) as why:
            return Counterexample(case, reason=str(why))
        return None


@dataclass
class IndexModel(Model):
    """Symbolic widths: the left side expanded once by its definition (the chain rule), the right
    side read as it is; one symbolic entry (j, k) stands for every entry of every width."""

    delta_via: str = "z_next"
    cost: str = "undefined"
    given: str = "the chain rule (Prop. 1) for the left side's definition"

    @property
    def level(self) -> str:  # type: ignore[override]
        return f"every width and every depth (symbolic widths, index form), given {self.given}"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic) -> Verdict:
        leaf = _single_leaf(lhs)
        if leaf is None:
            return Verdict(0, Counterexample("the index form", reason="its left side is not one quantity"))
        name, layer = leaf
        world = worlds.IndexForm((name, layer), self.delta_via, self.cost)
        fixed: dict[sp.Expr, sp.Expr] = {}
        if isinstance(lhs, sp.MatrixExpr):
            try:
                extents = interpret.shape(lhs, world)
            except ShapeMismatch as why:
                return Verdict(1, Counterexample("the index form", reason=str(why)))
            indices: list[sp.Expr] = [j, k]
        else:
            found = interpret.free_indices(lhs)
            extents = tuple(interpret.index_range(leaf, pos, world) for _, leaf, pos in found)
            indices = [s for s, _, _ in found]
        for extent_, index, rho in zip(extents, indices, sp.symbols("rho1 rho2", integer=True,
                                                                     nonnegative=True), strict=False):
            if isinstance(extent_, sp.Function):
                fixed[extent_.args[0]] = index + rho
        world.fixed_widths = fixed
        try:
            if isinstance(lhs, sp.MatrixExpr):
                generic = (j, k if extents[1] != 1 else sp.Integer(1))
                failed = compare(lhs, rhs, world, "the index form", generic)
            else:
                failed = _compare_component(lhs, rhs, world, "the index form", generic=True)
        except worlds.NotApplicable as why:
            failed = Counterexample("the index form", reason=str(why))
        return Verdict(1, failed)


def _single_leaf(template: sp.Basic) -> tuple[str, sp.Expr] | None:
    if isinstance(template, Q):
        return template.name, template.layer
    if isinstance(template, sp.Indexed):
        return str(template.base), template.indices[0]
    return None


@dataclass
class FunctionsModel(Model):
    """The note's f(x(u)), f and every xᵢ undefined, at the given sizes (and every column)."""

    kind: str
    sizes: Sequence[tuple[int, int]]

    @property
    def level(self) -> str:  # type: ignore[override]
        what = {"prop1": "(k, n) = (len u, len x)", "prop2": "n = len u = len x",
                "prop2e": "U of m×n"}[self.kind]
        shown = ", ".join(str(s) if self.kind != "prop2" else str(s[0]) for s in self.sizes)
        extra = ", every column c_j" if self.kind == "prop2e" else ""
        return f"{what} ∈ {{{shown}}}{extra}, f and every xᵢ undefined functions"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic) -> Verdict:
        prop2e = self.kind == "prop2e"
        return first_failure(lhs, rhs, (
            (worlds.Functions(self.kind, sizes, column),
             f"sizes {sizes}" + (f", column {column}" if prop2e else ""))
            for sizes in self.sizes
            for column in (range(1, sizes[1] + 1) if prop2e else [1])))


@dataclass
class OutputModel(Model):
    """The output layer alone with a given cost (and σ), at widths 1..``max_width``."""

    cost: str
    activation: str | None = None
    max_width: int = 3

    @property
    def level(self) -> str:  # type: ignore[override]
        act = "σ the sigmoid" if self.activation == "sigmoid" else "σ undefined"
        return f"the output layer with n_L ≤ {self.max_width}, {self.cost} cost, {act}"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic) -> Verdict:
        for width in range(1, self.max_width + 1):
            world = worlds.OutputLayer(width, self.cost, self.activation)
            case = f"n_L = {width}"
            failed = attempt(lhs, rhs, world, case)
            if failed is not None and failed.lhs is not None and failed.rhs is not None and (
                    self.activation == "sigmoid"):
                if sp.simplify(failed.lhs - failed.rhs) == 0:  # exp/log identities need simplify
                    continue
            if failed is not None:
                return Verdict(width, failed)
        return Verdict(self.max_width)


@dataclass
class ScalarModel(Model):
    """A scalar identity with given definitions (σ = 1/(1 + e^(−z)) …), or a Taylor claim
    ``lhs = rhs`` where rhs ends in O(εᵖ): the series of lhs − rhs vanishes up to εᵖ."""

    definitions: dict[str, sp.Lambda] = field(default_factory=dict)
    description: str = "one symbolic variable"

    @property
    def level(self) -> str:  # type: ignore[override]
        return f"general: {self.description}"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic) -> Verdict:
        def define(e: sp.Expr) -> sp.Expr:
            for name, body in self.definitions.items():
                e = e.replace(sp.Function(name), body)
            return e.doit()
        left, right = define(sp.sympify(lhs)), define(sp.sympify(rhs))
        orders = right.atoms(sp.Order)
        if orders:
            order = next(iter(orders))
            var = order.variables[0]
            power = sp.degree(order.expr, var)
            difference = canonical((left - right.removeO()).series(var, 0, int(power)).removeO())
        else:
            difference = sp.simplify(canonical(left - right))
        if difference != 0:
            return Verdict(1, Counterexample("symbolically", (), left, right.removeO()
                                             if orders else right, f"the difference is {difference}"))
        return Verdict(1)


def level_text(model: Model) -> str:
    return model.level


__all__ = ["ConcreteNets", "Counterexample", "FunctionsModel", "IndexModel", "LocalStep", "Model",
           "OutputModel", "ScalarModel", "Verdict", "architectures", "compare", "text", "L"]
