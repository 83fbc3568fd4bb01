"""Models: how a claim lhs = rhs (two templates) is checked, over which cases, at what level.

A model answers a ``Verdict``: how many cases it checked, how many entries it compared, and the
first failure with the entry and both values. A model that checks no case does not hold
(``Verdict.holds``). What the model's level claims is ``required``: the cases and entries a
check at that level must have compared, counted from the level's own description (the bound,
the widths, the sizes), not by the loop that checks, so that a check that quietly skips a
network, a layer, a width or an entry falls short of its level (``core.check_step`` says so).

Every network model can also be asked to judge the claim in the *premise-broken* network
(``broken=True``, see ``derivations.worlds``), where a claim about the book's network must fail.

Kept whole: the levels a step is checked at, side by side, so that what each assumes can be
compared.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from bpverify.derivations import interpret, worlds
from bpverify.derivations.canonical import canonical
from bpverify.derivations.interpret import ShapeMismatch, World
from bpverify.derivations.notation import QUANTITIES, L, Q, j, k, l
from bpverify.derivations.printing import text


@dataclass(frozen=True)
class Counterexample:
    """Where a claim fails: the case, the entry (from 1) and both sides there. An
    ``inapplicable`` one says the claim has no meaning in that case (no such layer or quantity):
    it does not hold there, and neither is it refuted."""

    case: str
    entry: tuple[sp.Expr, ...] = ()
    lhs: sp.Expr | None = None
    rhs: sp.Expr | None = None
    reason: str = ""
    inapplicable: bool = False
    world: Any = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        if self.reason:
            return f"{self.case}: {self.reason}"
        shown = tuple(int(x) if sp.sympify(x).is_Integer else x for x in self.entry)
        where = f"entry {shown}" if self.entry else "the value"
        return f"{self.case}, {where}: left side {text(self.lhs)}, right side {text(self.rhs)}"


@dataclass(frozen=True)
class Verdict:
    """What one model found: the cases and entries it compared and the first failure."""

    cases: int
    counterexample: Counterexample | None = None
    entries: int = 0
    nonuniform: int = 0
    """Networks of unequal widths among the cases (concrete models)."""
    symbolic: int = 0
    """Entries compared with a symbolic index (one entry standing for every entry)."""

    @property
    def holds(self) -> bool:
        """True when at least one case was checked and none failed."""
        return self.cases > 0 and self.counterexample is None

    @property
    def rejected(self) -> bool:
        """The claim was refuted: a case where both sides exist and differ (or do not fit)."""
        return self.counterexample is not None and not self.counterexample.inapplicable

    def describe(self) -> str:
        if self.counterexample is not None:
            return ("not applicable: " if self.counterexample.inapplicable else "false: ") + (
                self.counterexample.describe())
        return (f"holds in {self.cases} case(s), {self.entries} entries" if self.cases
                else "checked no case")


@dataclass(frozen=True)
class Required:
    """What a level claims: ``cases`` cases and ``entries`` entries compared, networks of
    unequal widths among them (``nonuniform``), ``symbolic`` entries with a symbolic index."""

    cases: int
    entries: int
    nonuniform: bool = False
    symbolic: int = 0

    def shortfall(self, verdict: Verdict) -> str:
        """Empty when the verdict covers the level; else what it left out."""
        missing = []
        if verdict.cases != self.cases:
            missing.append(f"{verdict.cases} of {self.cases} cases")
        if verdict.entries != self.entries:
            missing.append(f"{verdict.entries} of {self.entries} entries")
        if self.nonuniform and not verdict.nonuniform:
            missing.append("no network of unequal widths")
        if verdict.symbolic != self.symbolic:
            missing.append(f"{verdict.symbolic} of {self.symbolic} symbolic entries")
        return ", ".join(missing)


@dataclass(frozen=True)
class Compared:
    """One world's comparison: the first failure, and the entries compared on the way."""

    failure: Counterexample | None
    entries: int = 0
    symbolic: int = 0


def compare_in(lhs: sp.Basic, rhs: sp.Basic, world: Any, case: str,
               generic: Any = None) -> Compared:
    """lhs = rhs in one world; a world where the claim has no meaning answers an inapplicable
    counterexample that says why (a step must not pass by applying nowhere)."""
    try:
        if isinstance(lhs, sp.MatrixExpr) or isinstance(rhs, sp.MatrixExpr):
            if not (isinstance(lhs, sp.MatrixExpr) and isinstance(rhs, sp.MatrixExpr)):
                return Compared(Counterexample(case, reason="one side is a matrix, the other a number",
                                               world=world))
            return _compare_matrix(lhs, rhs, world, case, generic)
        return _compare_component(lhs, rhs, world, case, generic is not None)
    except worlds.OutOfRange as why:
        return Compared(Counterexample(case, reason=f"the indices do not fit: {why}", world=world))
    except worlds.NotApplicable as why:
        return Compared(Counterexample(case, reason=str(why), inapplicable=True, world=world))


def _differs(lv: sp.Expr, rv: sp.Expr) -> bool:
    """Whether the two sides differ as an identity; a right side ending in O(hᵖ) claims that the
    left side minus the rest has a Taylor series in h starting at hᵖ: its coefficients of h⁰ … hᵖ⁻¹
    must vanish (each the derivative at h = 0, SymPy's)."""
    orders = rv.atoms(sp.Order) if isinstance(rv, sp.Basic) else set()
    if not orders:
        return canonical(lv - rv) != 0
    order = next(iter(orders))
    h = order.variables[0]
    rest = lv - rv.removeO()
    orders_checked = range(int(sp.degree(order.expr, h)))
    return any(canonical(sp.diff(rest, h, power).subs(h, 0)) != 0 for power in orders_checked)


def _compare_matrix(lhs: sp.Basic, rhs: sp.Basic, world: World, case: str,
                    generic: tuple[sp.Expr, sp.Expr] | None = None) -> Compared:
    """lhs = rhs entry by entry in one world (``generic``: one symbolic entry (j, k))."""
    try:
        left, right = interpret.shape(lhs, world), interpret.shape(rhs, world)
    except ShapeMismatch as why:
        return Compared(Counterexample(case, reason=f"the shapes do not fit: {why}", world=world))
    if any(sp.simplify(a - b) != 0 for a, b in zip(left, right, strict=True)):
        return Compared(Counterexample(case, reason=f"left side is {left[0]}×{left[1]}, "
                                                    f"right side {right[0]}×{right[1]}", world=world))
    if generic is not None:
        entries: Iterator[tuple[sp.Expr, sp.Expr]] = iter([generic])
    else:
        entries = itertools.product(range(1, int(left[0]) + 1), range(1, int(left[1]) + 1))
    count = symbolic = 0
    for r, c in entries:
        r, c = sp.sympify(r), sp.sympify(c)
        count += 1
        symbolic += not (r.is_Integer and c.is_Integer)
        lv, rv = interpret.entry(lhs, r, c, world), interpret.entry(rhs, r, c, world)
        if _differs(lv, rv):
            return Compared(Counterexample(case, (r, c), canonical(lv), canonical(rv), world=world), count,
                            symbolic)
    return Compared(None, count, symbolic)


def _compare_component(lhs: sp.Expr, rhs: sp.Expr, world: World, case: str,
                       generic: bool) -> Compared:
    """Every entry of a component claim: each free index over its range, or, where the world's
    range is a symbol (n_{l−1} in the local step), as the world's symbolic index."""
    indices = interpret.free_indices(lhs)
    if generic:
        assignments: Iterator[dict[sp.Symbol, sp.Expr]] = iter([{}])
    else:
        ranges: list[Sequence[sp.Expr]] = []
        for _, leaf, pos in indices:
            extent_ = sp.sympify(interpret.index_range(leaf, pos, world))
            if extent_.is_Integer:
                ranges.append([sp.Integer(v) for v in range(1, int(extent_) + 1)])
            elif isinstance(world, worlds.LocalLayer):  # n_{l−1} symbolic: its index is the symbol k
                ranges.append([world.col])
            else:
                raise worlds.NotApplicable(f"a symbolic width {extent_} in a concrete check")
        assignments = (dict(zip([s for s, _, _ in indices], values, strict=True))
                       for values in itertools.product(*ranges))
    count = symbolic = 0
    for values in assignments:
        count += 1
        shown = [lhs.xreplace(values).atoms(sp.Indexed)]
        symbolic += any(not index.is_Integer for leaf in shown[0] for index in leaf.indices[1:])
        lv = interpret.component(lhs.xreplace(values), world)
        rv = interpret.component(rhs.xreplace(values), world)
        if _differs(lv, rv):
            return Compared(Counterexample(case, tuple(values.values()), canonical(lv), canonical(rv),
                                           world=world), count, symbolic)
    return Compared(None, count, symbolic)


def first_failure(lhs: sp.Basic, rhs: sp.Basic, cases: Iterable[tuple[Any, str]]) -> Verdict:
    """The claim in every (world, case) in turn: the counts, and the first failure."""
    count = entries = symbolic = nonuniform = 0
    for world, case in cases:
        count += 1
        nonuniform += len(set(getattr(world, "sizes", ()))) > 1
        done = compare_in(lhs, rhs, world, case)
        entries += done.entries
        symbolic += done.symbolic
        if done.failure is not None:
            return Verdict(count, done.failure, entries, nonuniform, symbolic)
    return Verdict(count, None, entries, nonuniform, symbolic)


def _layers(template: sp.Basic) -> set[sp.Expr]:
    found = {q.layer for q in template.atoms(Q)}
    found |= {e.indices[0] for e in template.atoms(sp.Indexed)}
    return found


def _named_layers(template: sp.Basic) -> list[tuple[str, sp.Expr]]:
    """(quantity, layer) of every leaf of a template (matrix or component)."""
    named = [(q.name, q.layer) for q in template.atoms(Q)]
    return named + [(str(e.base), e.indices[0]) for e in template.atoms(sp.Indexed)]


def _lhs_dimensions(lhs: sp.Basic, examples: int = 1) -> list[sp.Expr | int]:
    """The dimensions of the claim's left side (its one quantity), each the layer whose width it
    is, or a number: read from the quantity's declared shape (``notation.QUANTITIES``), not from
    the template as a check reads it."""
    offsets = {"l": 0, "l-1": -1, "l+1": 1}
    quantities = list(lhs.atoms(Q))
    if quantities:
        q = quantities[0]
        rows, cols = QUANTITIES[q.name]
        batch = cols == "1" and q.columns != 1
        return [q.layer + offsets[rows] if rows in offsets else 1,
                examples if batch else q.layer + offsets[cols] if cols in offsets else 1]
    dims: list[sp.Expr | int] = []
    for leaf in list(lhs.atoms(sp.Indexed))[:1]:
        specs = QUANTITIES[str(leaf.base)]
        dims = [leaf.indices[0] + offsets[specs[pos]] for pos, index in enumerate(leaf.indices[1:3])
                if isinstance(index, sp.Symbol)]
    return dims


def _lhs_entries(lhs: sp.Basic, widths: Any, examples: int = 1) -> tuple[int, int]:
    """How many entries the claim's left side has, ``widths`` giving each layer's width (None:
    symbolic), and how many of them have a symbolic index."""
    count, symbolic = 1, False
    for dim in _lhs_dimensions(lhs, examples):
        width = dim if isinstance(dim, int) else widths(dim)
        symbolic |= width is None
        count *= 1 if width is None else width
    return count, count if symbolic else 0


class Model:
    """A way to check claims; ``level`` says exactly what a pass proves."""

    level: str = ""
    can_break: bool = False
    """Whether the model can judge a claim in the premise-broken network."""
    broken_premise: str = f"the premise-broken network ({worlds.BROKEN_FORWARD})"
    """The world where a claim about the book's network (or the note's f(x(u))) must fail."""

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        raise NotImplementedError

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        raise NotImplementedError


def architectures(max_depth: int, max_width: int) -> list[tuple[int, ...]]:
    """Every (n₁, …, n_L) with 2 ≤ L ≤ max_depth and 1 ≤ nₗ ≤ max_width, smallest first."""
    nets = [sizes for depth in range(2, max_depth + 1)
            for sizes in itertools.product(range(1, max_width + 1), repeat=depth)]
    return sorted(nets, key=lambda s: (sum(s), len(s), s))


Program = tuple[tuple[str, sp.Expr, sp.Basic], ...]
"""An algorithm's lines: (variable, layer, template)."""


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
    algorithm: tuple[Program, Program] | None = None
    train: bool = False
    """With ``algorithm``: the note's Train on two examples ran (``worlds.NoteTrain``)."""
    quadratic: bool = False
    can_break = True

    @property
    def depth(self) -> int:
        return max(self.bound[0], self.min_depth)

    @property
    def level(self) -> str:  # type: ignore[override]
        size = f"every network with L ≤ {self.depth} and widths ≤ {self.bound[1]}"
        if self.algorithm is not None:
            ran = "Train ran on two examples" if self.train else "the algorithm ran"
            return f"{size}, quadratic cost, σ′ = σ(1 − σ), at every layer, after {ran}"
        sigma_text = ("σ(z) = z" if self.linear else "σ undefined")
        cost = "quadratic cost" if self.quadratic else "C undefined"
        extra = ("; neuron 1 of layer l outputs f(zˡ₁), f undefined" if self.modified else "")
        batch = (f"; mini-batches of m ∈ {set(self.examples)} examples, C = (1/m)Σₓ Cₓ"
                 if self.examples != (1,) else "")
        return f"{size}, {sigma_text}, {cost}, at every layer the claim applies to{extra}{batch}"

    def cases(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False
              ) -> Iterator[tuple[worlds.ConcreteNet | worlds.NoteAlgorithm, str]]:
        uses_l = any(layer.has(l) for layer in _layers(lhs) | _layers(rhs))
        for sizes in architectures(self.depth, self.bound[1]):
            for at, m in itertools.product(range(1, len(sizes) + 1) if uses_l else [len(sizes)],
                                           self.examples):
                world: worlds.ConcreteNet | worlds.NoteAlgorithm
                if self.algorithm is not None:
                    program, loop = self.algorithm
                    kind = worlds.NoteTrain if self.train else worlds.NoteAlgorithm
                    world = kind(sizes, at, program, loop, broken)
                else:
                    world = worlds.ConcreteNet(sizes, at, worlds.identity if self.linear else worlds.sigma,
                                               self.modified, m, broken, self.quadratic)
                if self._applies(world, lhs, rhs):
                    yield world, f"sizes {list(sizes)} at l = {at}" + (f", m = {m}" if m > 1 else "")

    @staticmethod
    def _applies(world: worlds.ConcreteNet | worlds.NoteAlgorithm, lhs: sp.Basic, rhs: sp.Basic) -> bool:
        for template in (lhs, rhs):
            for name, layer in _named_layers(template):
                value = world.bind(layer)
                if not (worlds.LAYERS_OF.get(name, world.depth) <= value
                        and value + worlds.ABOVE.get(name, 0) <= world.depth):
                    return False
        return True

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        return first_failure(lhs, rhs, self.cases(lhs, rhs, broken))

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        """Every network of the bound, at every layer the claim's quantities exist at (the input
        layer is 1, quantities from LAYERS_OF): counted in closed form, not by enumerating
        networks as ``cases`` does. Over all W^L networks of depth L, an entry count that is a
        product of widths sums to W^(L − #layers) Πλ Σₙ₌₁..W n^(times layer λ appears)."""
        named = _named_layers(lhs) + _named_layers(rhs)
        uses_l = any(layer.has(l) for _, layer in named)
        width = self.bound[1]
        cases = entries = symbolic = 0
        for depth in range(2, self.depth + 1):
            for at in (range(1, depth + 1) if uses_l else [depth]):
                def value(layer: sp.Expr, at: int = at, depth: int = depth) -> int:
                    return int(sp.sympify(layer).subs({l: at, L: depth}))
                if not all(worlds.LAYERS_OF.get(name, depth) <= value(layer)
                           <= depth - worlds.ABOVE.get(name, 0) for name, layer in named):
                    continue
                for m in self.examples:
                    dims = _lhs_dimensions(lhs, m)
                    layers = [value(d) for d in dims if not isinstance(d, int)]
                    total = width ** (depth - len(set(layers)))
                    for d in dims:
                        total *= d if isinstance(d, int) else 1
                    for layer in set(layers):
                        total *= sum(n_ ** layers.count(layer) for n_ in range(1, width + 1))
                    cases += width ** depth
                    entries += total
        return Required(cases, entries, nonuniform=width > 1, symbolic=symbolic)


@dataclass
class LocalStep(Model):
    """Layer l alone, the rest of the network an undefined function: every depth at once."""

    widths: Sequence[tuple[int | None, int, int | None]]
    cost: str = "undefined"
    modified: bool = False
    can_break = True

    @property
    def level(self) -> str:  # type: ignore[override]
        shown = ", ".join("(" + ", ".join("N" if x is None and i == 0 else "–" if x is None else str(x)
                                          for i, x in enumerate(w)) + ")" for w in self.widths)
        cost = ", quadratic cost" if self.cost == "quadratic" else ""
        extra = "; neuron 1 of layer l outputs f(zˡ₁), f undefined" if self.modified else ""
        return ("every depth: layer l alone with the rest of the network an undefined function "
                f"(widths (n_l−1, n_l, n_l+1) ∈ {{{shown}}}; N symbolic, – at l = L{cost}){extra}")

    @staticmethod
    def _fits(lhs: sp.Basic, rhs: sp.Basic, output: bool) -> bool:
        """Whether the claim's layers are l − 1, l (and l + 1 below the output), read from its
        leaves: the level's own description of where the local step applies."""
        for _, layer in _named_layers(lhs) + _named_layers(rhs):
            layer = sp.sympify(layer)
            if layer.has(L) and not output:
                return False
            offset = sp.simplify(layer.xreplace({L: l}) - l)
            if not (offset.is_Integer and -1 <= int(offset) <= (0 if output else 1)):
                return False
        return True

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        count = entries = symbolic = 0
        for n_prev, n_here, n_next in self.widths:
            world = worlds.LocalLayer(n_prev, n_here, n_next, self.cost, broken=broken,
                                      modified=self.modified)
            try:
                for template in (lhs, rhs):
                    for layer in _layers(template):
                        world._offset(layer)
            except worlds.NotApplicable:
                continue
            count += 1
            case = f"the local step with widths ({n_prev or 'N'}, {n_here}, {n_next or '–'})"
            if n_prev is None and isinstance(lhs, sp.MatrixExpr):
                done = self._judge_symbolic_columns(lhs, rhs, world, case)
            else:
                done = compare_in(lhs, rhs, world, case)
            entries += done.entries
            symbolic += done.symbolic
            if done.failure is not None:
                return Verdict(count, done.failure, entries, 0, symbolic)
        return Verdict(count, None, entries, 0, symbolic)

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        cases = entries = symbolic = 0
        for n_prev, n_here, n_next in self.widths:
            if not self._fits(lhs, rhs, n_next is None):
                continue
            by_offset = {-1: n_prev, 0: n_here, 1: n_next}

            def widths(layer: sp.Expr, by_offset: dict[int, int | None] = by_offset) -> int | None:
                return by_offset[int(sp.simplify(sp.sympify(layer).xreplace({L: l}) - l))]
            count, sym = _lhs_entries(lhs, widths)
            cases += 1
            entries += count
            symbolic += sym
        return Required(cases, entries, symbolic=symbolic)

    @staticmethod
    def _judge_symbolic_columns(lhs: sp.Basic, rhs: sp.Basic, world: worlds.LocalLayer,
                                case: str) -> Compared:
        """n_{l−1} symbolic: that dimension's index is the symbol k ≤ n_{l−1}, the others concrete."""
        count = symbolic = 0
        try:
            left, right = interpret.shape(lhs, world), interpret.shape(rhs, world)
            if any(sp.simplify(x - y) != 0 for x, y in zip(left, right, strict=True)):
                return Compared(Counterexample(case, reason=f"left side is {left[0]}×{left[1]}, right side "
                                                            f"{right[0]}×{right[1]}", world=world))
            ranges = [[world.col] if not extent_.is_Integer else range(1, int(extent_) + 1)
                      for extent_ in left]
            for r, c in itertools.product(*ranges):
                r, c = sp.sympify(r), sp.sympify(c)
                count += 1
                symbolic += not (r.is_Integer and c.is_Integer)
                lv, rv = interpret.entry(lhs, r, c, world), interpret.entry(rhs, r, c, world)
                if _differs(lv, rv):
                    return Compared(Counterexample(case, (r, c), canonical(lv), canonical(rv), world=world),
                                    count, symbolic)
        except (ShapeMismatch, worlds.OutOfRange) as why:
            return Compared(Counterexample(case, reason=str(why), world=world), count, symbolic)
        except worlds.NotApplicable as why:
            return Compared(Counterexample(case, reason=str(why), inapplicable=True, world=world),
                            count, symbolic)
        return Compared(None, count, symbolic)


@dataclass
class IndexModel(Model):
    """Symbolic widths: the left side expanded once by its definition (the chain rule), the right
    side read as it is; one symbolic entry (j, k) stands for every entry of every width."""

    delta_via: str = "z_next"
    cost: str = "undefined"
    given: str = "the chain rule (Prop. 1) for the left side's definition"
    linear: bool = False
    through_sigma: bool = False
    batch: bool = False
    can_break = True

    @property
    def level(self) -> str:  # type: ignore[override]
        act = (", σ(z) = z" if self.linear else "") + (
            ", a mini-batch of m examples, m symbolic, C = (1/m)Σₓ Cₓ" if self.batch else "")
        return f"every width and every depth (symbolic widths, index form{act}), given {self.given}"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        leaf = _single_leaf(lhs)
        if leaf is None:
            return Verdict(0, Counterexample("the index form", reason="its left side is not one quantity"))
        world = worlds.IndexForm(leaf, self.delta_via, self.cost, linear=self.linear, broken=broken,
                                 through_sigma=self.through_sigma, batch=self.batch)
        fixed: dict[sp.Expr, sp.Expr] = {}
        if isinstance(lhs, sp.MatrixExpr):
            try:
                extents = interpret.shape(lhs, world)
            except ShapeMismatch as why:
                return Verdict(1, Counterexample("the index form", reason=str(why)))
            indices: list[sp.Expr] = [j, k]
        else:
            found = interpret.free_indices(lhs)
            extents = tuple(interpret.index_range(leaf_, pos, world) for _, leaf_, pos in found)
            indices = [s for s, _, _ in found]
        for extent_, index, rho in zip(extents, indices, sp.symbols("rho1 rho2", integer=True,
                                                                     nonnegative=True), strict=False):
            if isinstance(extent_, sp.Function):
                fixed[extent_.args[0]] = index + rho
        world.fixed_widths = fixed
        if isinstance(lhs, sp.MatrixExpr):
            generic = (j, k if extents[1] != 1 else sp.Integer(1))
            done = compare_in(lhs, rhs, world, "the index form", generic)
        else:
            done = compare_in(lhs, rhs, world, "the index form", True)
        return Verdict(1, done.failure, done.entries, 0, done.symbolic)

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        return Required(1, 1, symbolic=1)


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

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        prop2e = self.kind == "prop2e"
        return first_failure(lhs, rhs, (
            (worlds.Functions(self.kind, sizes, column),
             f"sizes {sizes}" + (f", column {column}" if prop2e else ""))
            for sizes in self.sizes
            for column in (range(1, sizes[1] + 1) if prop2e else [1])))

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        """One case per size (per column of U for Prop. 2E), len u entries each (m for 2E)."""
        cases = entries = 0
        for rows, cols in self.sizes:
            for _ in range(cols if self.kind == "prop2e" else 1):
                cases += 1
                entries += rows
        return Required(cases, entries)


@dataclass
class FunctionsIndexModel(Model):
    """Props. 2 and 2E at every size: one symbolic entry j of u of symbolic length, given Prop. 1."""

    kind: str
    can_break = True
    broken_premise = f"the premise-broken propositions ({worlds.BROKEN_PROPOSITIONS})"

    @property
    def level(self) -> str:  # type: ignore[override]
        what = "n = len u = len x" if self.kind == "prop2" else "U of m×n"
        return f"every size ({what} symbolic, index form), given Prop. 1 for d_u f"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        world = worlds.FunctionsIndex(self.kind, broken=broken)
        done = compare_in(lhs, rhs, world, "the index form", (j, sp.Integer(1)))
        return Verdict(1, done.failure, done.entries, 0, done.symbolic)

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        return Required(1, 1, symbolic=1)


@dataclass
class OutputModel(Model):
    """The output layer alone with the cross-entropy cost and the sigmoid, at widths 1..``max_width``."""

    max_width: int = 3

    @property
    def level(self) -> str:  # type: ignore[override]
        return f"the output layer with n_L ≤ {self.max_width}, cross-entropy cost, σ the sigmoid"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
        entries = 0
        for width in range(1, self.max_width + 1):
            world = worlds.OutputLayer(width)
            case = f"n_L = {width}"
            try:
                rows = int(interpret.shape(lhs, world)[0])
                if interpret.shape(rhs, world) != (rows, 1):
                    return Verdict(width, Counterexample(case, reason="the shapes do not fit"), entries)
                for r in range(1, rows + 1):
                    entries += 1
                    lv, rv = interpret.entry(lhs, r, 1, world), interpret.entry(rhs, r, 1, world)
                    if _differs(lv, rv) and sp.simplify(lv - rv) != 0:  # exp/log identities need simplify
                        return Verdict(width, Counterexample(case, (sp.Integer(r), sp.Integer(1)), lv, rv,
                                                             world=world), entries)
            except ShapeMismatch as why:
                return Verdict(width, Counterexample(case, reason=f"the shapes do not fit: {why}"), entries)
            except worlds.NotApplicable as why:
                return Verdict(width, Counterexample(case, reason=str(why), inapplicable=True), entries)
        return Verdict(self.max_width, None, entries)

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        return Required(self.max_width, sum(range(1, self.max_width + 1)))


@dataclass
class ScalarModel(Model):
    """A scalar identity with given definitions (σ = 1/(1 + e^(−z)) …), or a Taylor claim
    ``lhs = rhs`` where rhs ends in O(εᵖ): the series of lhs − rhs vanishes up to εᵖ."""

    definitions: dict[str, sp.Lambda] = field(default_factory=dict)
    description: str = "one symbolic variable"

    @property
    def level(self) -> str:  # type: ignore[override]
        return f"general: {self.description}"

    def judge(self, lhs: sp.Basic, rhs: sp.Basic, broken: bool = False) -> Verdict:
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
            shown = right.removeO() if orders else right
            return Verdict(1, Counterexample("symbolically", (), left, shown,
                                             f"the difference is {text(difference)}"), 1)
        return Verdict(1, None, 1)

    def required(self, lhs: sp.Basic, rhs: sp.Basic) -> Required:
        return Required(1, 1)


__all__ = ["ConcreteNets", "Counterexample", "FunctionsIndexModel", "FunctionsModel", "IndexModel",
           "LocalStep", "Model",
           "OutputModel", "Required", "ScalarModel", "Verdict", "architectures", "compare_in"]
