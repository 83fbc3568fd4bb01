"""Reading a template entry by entry in a *world*: a world says how wide each layer is, what each
leaf's entries are, and what σ, σ′ mean. The same reading serves concrete networks (integer
widths), the layer-local step and the index form (symbolic widths, sums with symbolic bounds).

``entry(template, r, c, world)`` is entry (r, c) of the template (from 1, as in the book),
``shape(template, world)`` its shape; a product or ⊙ of mismatched shapes raises
``ShapeMismatch`` instead of answering.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

import sympy as sp

from bpverify.derivations.notation import QUANTITIES, Apply, Diag, L, Outer, Q, l, m, n


class ShapeMismatch(ValueError):
    """The template multiplies, adds or ⊙s matrices whose shapes do not fit in this world."""


class World(Protocol):
    """What a template's leaves mean: widths, entries, functions, and the layers l and L."""

    def width(self, layer: sp.Expr) -> sp.Expr: ...

    def entry(self, name: str, layer: sp.Expr, row: sp.Expr, col: sp.Expr) -> sp.Expr: ...

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]: ...

    def bind(self, layer: sp.Expr) -> sp.Expr:
        """A template's layer expression in this world (l and L replaced by its values)."""
        ...


def extent(spec: str, layer: sp.Expr, world: World, cols: sp.Expr) -> sp.Expr:
    if spec == "1":
        return sp.Integer(1)
    if spec in ("u", "x"):
        return world.width(sp.Symbol(spec))
    if spec == "m":
        return world.bind(m)
    return world.width(world.bind(layer) + {"l-1": -1, "l+1": 1}.get(spec, 0))


def shape(template: sp.Basic, world: World) -> tuple[sp.Expr, sp.Expr]:
    """The template's shape in this world; ShapeMismatch where two parts do not fit."""
    if isinstance(template, Q):
        rows_spec, cols_spec = QUANTITIES[template.name]
        cols = template.columns
        if cols_spec == "1" and cols != 1:  # a mini-batch: m columns
            return extent(rows_spec, template.layer, world, cols), world.bind(cols)
        return (extent(rows_spec, template.layer, world, cols),
                extent(cols_spec, template.layer, world, cols))
    if isinstance(template, sp.Transpose):
        r, c = shape(template.arg, world)
        return c, r
    if isinstance(template, Apply):
        return shape(template.arg, world)
    if isinstance(template, Diag):
        r, c = shape(template.arg, world)
        if c != 1:
            raise ShapeMismatch(f"diag of a {r}×{c} matrix; expected a column")
        return r, r
    if isinstance(template, Outer):
        (r, c1), (s, c2) = shape(template.args[0], world), shape(template.args[1], world)
        if c1 != 1 or c2 != 1:
            raise ShapeMismatch(f"⊗ of {r}×{c1} and {s}×{c2}; expected two columns")
        return r, s
    if isinstance(template, sp.MatMul):
        shapes = [shape(x, world) for x in template.args if isinstance(x, sp.MatrixExpr)]
        for (r1, c1), (r2, c2) in itertools.pairwise(shapes):
            if sp.simplify(c1 - r2) != 0:
                raise ShapeMismatch(f"a product of {r1}×{c1} by {r2}×{c2}")
        return shapes[0][0], shapes[-1][1]
    if isinstance(template, sp.MatAdd | sp.HadamardProduct):
        shapes = [shape(x, world) for x in template.args]
        for s1, s2 in itertools.pairwise(shapes):
            if sp.simplify(s1[0] - s2[0]) != 0 or sp.simplify(s1[1] - s2[1]) != 0:
                op = "⊙" if isinstance(template, sp.HadamardProduct) else "+"
                raise ShapeMismatch(f"{s1[0]}×{s1[1]} {op} {s2[0]}×{s2[1]}")
        return shapes[0]
    raise TypeError(f"not a matrix template: {template!r}")


_dummies = itertools.count()


def _summation_index() -> sp.Symbol:
    return sp.Symbol(f"t{next(_dummies)}", integer=True, positive=True)


def entry(template: sp.Basic, r: sp.Expr, c: sp.Expr, world: World) -> sp.Expr:
    """sp.Expr (r, c) of a matrix template in this world (indices from 1)."""
    if isinstance(template, Q):
        return world.entry(template.name, world.bind(template.layer), r, c)
    if isinstance(template, sp.Transpose):
        return entry(template.arg, c, r, world)
    if isinstance(template, Apply):
        return world.function(str(template.args[0]))(entry(template.arg, r, c, world))
    if isinstance(template, Diag):
        return sp.KroneckerDelta(r, c) * entry(template.arg, r, 1, world) if not (
            isinstance(r, int | sp.Integer) and isinstance(c, int | sp.Integer) and r != c) else sp.S.Zero
    if isinstance(template, Outer):
        return entry(template.args[0], r, 1, world) * entry(template.args[1], c, 1, world)
    if isinstance(template, sp.MatAdd):
        shape(template, world)
        return sp.Add(*(entry(x, r, c, world) for x in template.args))
    if isinstance(template, sp.HadamardProduct):
        shape(template, world)
        return sp.Mul(*(entry(x, r, c, world) for x in template.args))
    if isinstance(template, sp.MatMul):
        shape(template, world)
        scalars = [world_scalar(world.bind(x), world) for x in template.args
                   if not isinstance(x, sp.MatrixExpr)]
        factors = [x for x in template.args if isinstance(x, sp.MatrixExpr)]
        return sp.Mul(*scalars) * _product_entry(factors, r, c, world)
    raise TypeError(f"not a matrix template: {template!r}")


def _product_entry(factors: list[sp.Basic], r: sp.Expr, c: sp.Expr, world: World) -> sp.Expr:
    if len(factors) == 1:
        return entry(factors[0], r, c, world)
    head, rest = factors[0], factors[1:]
    inner = shape(head, world)[1]
    if isinstance(inner, int | sp.Integer):
        return sp.Add(*(entry(head, r, t, world) * _product_entry(rest, t, c, world)
                        for t in range(1, int(inner) + 1)))
    t = _summation_index()
    return sp.Sum(entry(head, r, t, world) * _product_entry(rest, t, c, world), (t, 1, inner))


def world_scalar(expr: sp.Expr, world: World) -> sp.Expr:
    """A scalar coefficient (η, m, 1/m, …) with any width n(·) in it read in this world."""
    return expr.replace(lambda e: isinstance(e, sp.Function) and e.func == n,
                        lambda e: world.width(world.bind(e.args[0])))


def component(template: sp.Expr, world: World) -> sp.Expr:
    """A component template (δˡⱼ = Σₖ wˡ⁺¹ₖⱼ δˡ⁺¹ₖ σ′(zˡⱼ)) in this world: layers and widths bound,
    sums done where their bounds are numbers, functions interpreted, then entries read."""
    expr = world.bind(template)

    def known(e: sp.Expr) -> sp.Expr:
        """n(layer) where the world gives that layer a number of neurons; n of a symbol the world
        does not bind (a summation index) or of a symbolic width stays."""
        if not e.args[0].free_symbols <= {l, L}:
            return e
        width = world.width(e.args[0])
        return width if width.is_Integer else e

    for _ in range(3):  # widths of known layers, then sums with known bounds, then the widths they expose
        expr = expr.replace(lambda e: isinstance(e, sp.Function) and e.func == n, known)
        if not expr.has(sp.Sum):
            break
        expr = expr.doit()
    expr = world_scalar(expr, world)
    for name in ("sigma", "sigma_prime", "f", "f_prime", "one_minus"):
        fn = sp.Function(name)
        expr = expr.replace(lambda e, fn=fn: isinstance(e, sp.Function) and e.func == fn,
                            lambda e, name=name: world.function(name)(e.args[0]))

    def leaf(e: sp.Indexed) -> sp.Expr:
        layer, *idx = e.indices
        r = idx[0] if idx else 1
        c = idx[1] if len(idx) > 1 else 1
        return world.entry(str(e.base), world.bind(layer), r, c)

    return expr.replace(lambda e: isinstance(e, sp.Indexed), leaf)


def free_indices(template: sp.Expr) -> list[tuple[sp.Symbol, sp.Indexed, int]]:
    """The free neuron indices of a component template, each with a leaf entry and position that
    gives its range (j in δˡⱼ ranges over layer l's neurons)."""
    bound = {v for s in template.atoms(sp.Sum) for v, *_ in s.limits}
    found: dict[sp.Symbol, tuple[sp.Indexed, int]] = {}
    for e in sorted(template.atoms(sp.Indexed), key=sp.default_sort_key):
        for position, index in enumerate(e.indices[1:]):
            if isinstance(index, sp.Symbol) and index not in bound and index not in found:
                found[index] = (e, position)
    return [(s, e, pos) for s, (e, pos) in found.items()]


def index_range(leaf: sp.Indexed, position: int, world: World) -> sp.Expr:
    """How many values index ``position`` of this entry takes in this world."""
    name, layer = str(leaf.base), leaf.indices[0]
    spec = QUANTITIES[name][position]
    return extent(spec, layer, world, sp.Integer(1))


__all__ = ["L", "ShapeMismatch", "World", "component", "entry", "free_indices", "index_range",
           "l", "shape"]
