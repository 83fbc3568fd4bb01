"""A counterexample in the book's notation: the values of both sides on a concrete network written
with the network's own names (z²₁ for the weighted input b²₁ + w²₁₁x₁, ∂C/∂a³₁ for the cost's
derivative at the output, σ′(z²₁)), and what differs between them, named as a factor where one
side is the other times a factor."""

from __future__ import annotations

from typing import Any

import sympy as sp

from bpverify.derivations.canonical import canonical
from bpverify.derivations.printing import SUBSCRIPT, SUPERSCRIPT, text
from bpverify.derivations.worlds import ConcreteNet, NoteAlgorithm


def _named(letter: str, layer: int | None, *indices: int) -> sp.Symbol:
    sup = str(layer).translate(SUPERSCRIPT) if layer is not None else ""
    return sp.Symbol(letter + sup + "".join(str(i) for i in indices).translate(SUBSCRIPT))


def _renames(world: ConcreteNet | NoteAlgorithm) -> tuple[dict[sp.Expr, sp.Expr], dict[sp.Expr, sp.Expr],
                                                           list[tuple[sp.Symbol, sp.Expr]]]:
    """The network's names: its parameters and inputs (w²₁₁, b²₁, x₁, y₁), each weighted input's
    expression in those names with its name zˡⱼ (innermost first), and the legend zˡⱼ = …."""
    values = world.values if isinstance(world, NoteAlgorithm) else world.values()
    names: dict[sp.Expr, sp.Expr] = {}
    for layer in range(2, len(world.sizes) + 1):
        weights = values.weights[layer]
        names.update({weights[r, c]: _named("w", layer, r + 1, c + 1)
                      for r in range(weights.rows) for c in range(weights.cols)})
        names.update({s: _named("b", layer, r + 1) for r, s in enumerate(values.biases[layer])})
    names.update({s: _named("x", None, r + 1) for r, s in enumerate(values.x)})
    names.update({s: _named("y", None, r + 1) for r, s in enumerate(values.y)})
    inputs: dict[sp.Expr, sp.Expr] = {}
    legend = []
    for layer in range(2, len(world.sizes) + 1):
        for r, z in enumerate(values.matrix("z", layer)):
            shown = canonical(z).xreplace(names)
            for pattern, name in inputs.items():  # innermost first, as they are read back
                shown = shown.xreplace({pattern: name})
            inputs[shown] = _named("z", layer, r + 1)
            legend.append((_named("z", layer, r + 1), shown))
    return names, inputs, legend


def book_values(world: Any, *exprs: sp.Expr) -> tuple[list[sp.Expr], str]:
    """The expressions in the network's names, and the legend of the weighted inputs they use
    (other worlds: the expressions as they are)."""
    if not isinstance(world, ConcreteNet | NoteAlgorithm):
        return list(exprs), ""
    names, inputs, legend = _renames(world)
    depth = len(world.sizes)
    out = []
    for e in exprs:
        e = canonical(e).xreplace(names)
        for pattern, name in inputs.items():  # innermost first: an outer zˡ contains the inner names
            e = e.xreplace({pattern: name})
        e = e.replace(lambda f: isinstance(f, sp.Function) and f.func.__name__.startswith("C_d"),
                      lambda f: _named("∂C/∂a", depth, int(f.func.__name__[3:])))
        out.append(e)
    used: set[sp.Basic] = set().union(*(e.free_symbols for e in out))
    for _ in legend:  # a name's definition uses the names below it
        used |= {s for name, value in legend if name in used for s in value.free_symbols}
    shown = [f"{text(name)} = {text(value)}" for name, value in legend if name in used]
    return out, ("where " + ", ".join(shown)) if shown else ""


def difference(left: sp.Expr, right: sp.Expr) -> str:
    """What differs: the factor the right side has or lacks, a number times, or the difference."""
    if left == 0 or right == 0:
        return "one side is 0, the other is not"
    ratio = sp.cancel(sp.together(right / left))
    if ratio.is_Number:
        return f"the right side is {text(ratio).replace('-', '−')} times the left side"
    numerator, denominator = sp.fraction(ratio)
    if not (numerator.has(sp.Add) and numerator.is_Add) and not denominator.is_Add:
        if denominator == 1:
            return f"the right side has the factor {text(numerator)} that the left side has not"
        if numerator == 1:
            return f"the right side lacks the factor {text(denominator)}"
        return f"the right side has {text(numerator)} where the left side has {text(denominator)}"
    return f"right side − left side = {text(sp.factor_terms(right - left))}"
