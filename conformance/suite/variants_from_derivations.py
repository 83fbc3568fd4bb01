"""The derivations' wrong variants as the catalogue the conformance hints are drawn from.

Every step of a derivation carries plausible wrong right sides that its check must reject
(``derivations.core.Step.wrongs``: σ′ left out, σ for σ′, σ′ at aᴸ instead of zᴸ, w instead of
wᵀ, the outer product transposed, aˡ instead of aˡ⁻¹, …). For each equation the suite checks
(BP1–BP4: the statements of ``bpverify derive bp1`` … ``bp4``) the catalogue holds

* the wrong right side of every step whose left side is that equation's (δᴸ, δˡ, ∂C/∂bˡ,
  ∂C/∂wˡ), as the step writes it: BP2's wˡ⁺¹ for (wˡ⁺¹)ᵀ, the Σ′ form's Σ′ of the layer above;
* the wrong variant of every other step as the one part of its formula it changes (σ′(zᴸ) →
  σ′(aᴸ), (wˡ⁺¹)ᵀ → wˡ⁺¹, a factor ⊙ σ′(zᴸ) left out: missing σ′(zᴸ)), moved to the equation's own layer and
  made wherever that part occurs in its statement: so BP1's σ′ at aᴸ instead of zᴸ is also
  BP2's σ′(aˡ) instead of σ′(zˡ), the commonest student bug (``sigmoid_prime(activations[-l])``).

Each variant is printed in the book's notation from the template it evaluates (the hint names
it so) and written as numpy code into ``derived_variants.py``, which the suite imports: the
checks run without SymPy, and ``test_diagnoses`` keeps the file current. Regenerate it with
``python -m bpverify.conformance.suite.variants_from_derivations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from bpverify.derivations import catalog
from bpverify.derivations.core import Step, Wrong
from bpverify.derivations.notation import Apply, Diag, L, Outer, Q, T, delta, grad_a_C, l, mul, w
from bpverify.derivations.printing import equation_text, text

TARGETS = {"BP1": "bp1", "BP2": "bp2", "BP3": "bp3", "BP4": "bp4"}
"""The equations the suite checks, by the derivation that states each."""

AT_THE_OUTPUT = ("grad_a_C", "y")
"""Quantities that exist at layer L only."""


@dataclass(frozen=True)
class Rule:
    """What a step's wrong variant changes: ``old`` becomes ``new`` (kind "replace"), or the
    factor ``old`` of a Hadamard product is left out (kind "drop"); at the step's layer
    ``layer`` (l or L)."""

    kind: str
    old: sp.Basic
    new: sp.Basic | None
    layer: sp.Symbol
    origin: str


@dataclass(frozen=True)
class Variant:
    equation: str
    formula: str
    change: str
    origin: str
    code: str


def _layer_symbol(expr: sp.Basic) -> sp.Symbol:
    """The layer a formula is written at: l if it mentions l, else L."""
    return l if l in expr.free_symbols else L


def _smallest_difference(right: sp.Basic, wrong: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """The smallest parts in which two formulas differ: descend while they differ in one
    argument only, keeping a function with its argument (σ′(zˡ) → σ′(aˡ), not zˡ → aˡ)."""
    while (right.func == wrong.func and len(right.args) == len(wrong.args)
           and not isinstance(right, Q | Apply)):
        differing = [(p, q) for p, q in zip(right.args, wrong.args, strict=True) if p != q]
        if len(differing) != 1:
            break
        right, wrong = differing[0]
    return right, wrong


def _change(old: sp.Basic, new: sp.Basic) -> str:
    """What a variant changes, in words: "missing σ′(zˡ)" (a factor of ⊙ left out), "an extra
    ⊙ σ′(zˡ)", "σ′(aˡ) instead of σ′(zˡ)"."""
    if isinstance(old, sp.HadamardProduct) and new in old.args:
        rest = [f for f in old.args if f != new]
        return f"missing {text(rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest))}"
    if isinstance(new, sp.HadamardProduct) and old in new.args:
        rest = [f for f in new.args if f != old]
        return f"an extra ⊙ {text(rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest))}"
    return f"{text(new)} instead of {text(old)}"


def _book_form(expr: sp.Basic) -> sp.Basic:
    """The note's quantities in the book's: ∂C/∂aᴸ = ∇ₐC, ∂C/∂aˡ = (wˡ⁺¹)ᵀδˡ⁺¹ (Fact 6), u ⊗ v =
    u vᵀ; so that one variant written two ways is one entry."""
    changes: dict[sp.Basic, sp.Basic] = {}
    for node in sp.preorder_traversal(expr):
        if isinstance(node, Q) and node.name == "dC_da":
            layer = node.layer
            changes[node] = grad_a_C if layer == L else mul(T(w(layer + 1)), delta(layer + 1))
        elif isinstance(node, Outer):
            changes[node] = mul(_book_form(node.args[0]), T(_book_form(node.args[1])))
    return expr.xreplace(changes) if changes else expr


def rule_of(step: Step, wrong: Wrong, origin: str) -> Rule:
    """The change one of a step's wrong variants makes to its right side."""
    old, new = _smallest_difference(_book_form(step.rhs), _book_form(wrong.rhs))
    layer = _layer_symbol(step.lhs)
    if isinstance(old, sp.HadamardProduct) and new in old.args:
        factors = [f for f in old.args if f != new]
        return Rule("drop", factors[0] if len(factors) == 1 else sp.HadamardProduct(*factors),
                    None, layer, origin)
    return Rule("replace", old, new, layer, origin)


def _at(expr: sp.Basic, source: sp.Symbol, target: sp.Symbol) -> sp.Basic:
    return expr if source == target else expr.xreplace({source: target})


def _without_factor(expr: sp.Basic, factor: sp.Basic) -> sp.Basic:
    """``expr`` with ``factor`` left out of every Hadamard product it is a factor of."""
    changes = {}
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.HadamardProduct) and factor in node.args:
            rest = [f for f in node.args if f != factor]
            changes[node] = rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest)
    return expr.xreplace(changes)


def apply(rule: Rule, statement: sp.Basic, layer: sp.Symbol) -> tuple[sp.Basic, str] | None:
    """The statement with the rule's change made where its part occurs, moved to ``layer``, and
    the change in words ("σ′(aˡ) instead of σ′(zˡ)"); None where the part does not occur."""
    old = _at(rule.old, rule.layer, layer)
    if rule.kind == "drop":
        changed = _without_factor(statement, old)
        change = f"missing {text(old)}"
    else:
        assert rule.new is not None
        new = _at(rule.new, rule.layer, layer)
        changed = statement.xreplace({old: new}) if statement.has(old) else statement
        change = _change(old, new)
    return None if changed == statement else (changed, change)


def _layer_code(layer: sp.Expr) -> tuple[str, int] | None:
    """(base, offset) of a layer: l + 1 → ("l", 1), L → ("L", 0); None for anything else."""
    for base in (l, L):
        offset = sp.simplify(layer - base)
        if offset.is_Integer:
            return str(base), int(offset)
    return None


def _code(expr: sp.Basic) -> str:
    """numpy code of a template over ``n`` (a network at one layer and example, the checks'
    ``diagnoses.Point``): ``n.v(name, base, offset)`` a quantity, ``n.S``/``n.SP`` σ and σ′ of
    the layer their argument belongs to; ``mm``, ``T``, ``H``, ``add``, ``diag``, ``outer``,
    ``one_minus`` the operations. ValueError for a node it has no code for."""
    if isinstance(expr, Q):
        where = _layer_code(expr.layer)
        if where is None:
            raise ValueError(f"layer {expr.layer}")
        return f'n.v("{expr.name}", "{where[0]}", {where[1]})'
    if isinstance(expr, Apply):
        function = str(expr.args[0])
        if function == "one_minus":
            return f"one_minus({_code(expr.arg)})"
        rows = expr.arg.shape[0]
        where = _layer_code(rows.args[0]) if isinstance(rows, sp.Function) else None
        if function not in ("sigma", "sigma_prime") or where is None:
            raise ValueError(f"function {function}")
        name = "S" if function == "sigma" else "SP"
        return f'n.{name}({_code(expr.arg)}, "{where[0]}", {where[1]})'
    if isinstance(expr, sp.Transpose):
        return f"T({_code(expr.arg)})"
    if isinstance(expr, Diag):
        return f"diag({_code(expr.arg)})"
    if isinstance(expr, Outer):
        return f"outer({_code(expr.args[0])}, {_code(expr.args[1])})"
    if isinstance(expr, sp.Number):
        return repr(float(expr))
    parts = ", ".join(_code(a) for a in expr.args)
    for kind, name in ((sp.MatMul, "mm"), (sp.HadamardProduct, "H"), (sp.MatAdd, "add")):
        if isinstance(expr, kind):
            return f"{name}({parts})"
    raise ValueError(f"node {type(expr).__name__}")


ONE_COST = ("cross_entropy",)
"""The derivations whose statement is one cost's δᴸ written in y, whose variants in y the
catalogue keeps (σ′ kept under the cross-entropy cost). The others' variants in y are dropped:
``bp1_quadratic`` restates BP1 for the quadratic cost, and BP1's variants are written for every
cost, in ∇ₐC."""


def _valid(expr: sp.Basic, layer: sp.Symbol, derivation: str) -> bool:
    """Every quantity at a layer that can exist: at or below L, L itself for ∇ₐC and y; y only in
    a variant of a derivation in ``ONE_COST``."""
    for q in expr.atoms(Q):
        if q.name == "y" and derivation not in ONE_COST:
            return False
        where = _layer_code(q.layer)
        if where is None or (where[0] == "L" and where[1] > 0):
            return False
        if q.name in AT_THE_OUTPUT and where != ("L", 0) and not (layer == L and where[1] == 0):
            return False
    return True


def variants() -> list[Variant]:
    """The catalogue (module docstring), each equation's own derivation's variants first, then
    the other steps with its left side, then the changes moved from other steps."""
    derivations = catalog.DERIVATIONS
    found: list[Variant] = []
    for equation, name in TARGETS.items():
        own = catalog.by_name(name)
        lhs, statement, layer = own.lhs, own.rhs, _layer_symbol(own.lhs)
        steps = [(d, n, s) for d in [own, *[d for d in derivations if d is not own]]
                 for n, s in enumerate(d.steps)]
        seen = {_code(statement)}
        candidates: list[tuple[sp.Basic, str, str, str]] = []
        for d, n, s in steps:
            for wrong in s.wrongs if s.lhs == lhs else ():
                old, new = _smallest_difference(_book_form(s.rhs), _book_form(wrong.rhs))
                candidates.append((_book_form(wrong.rhs), _change(old, new),
                                   f"derive {d.name}, step {n + 1}: {wrong.why}", d.name))
        for d, n, s in steps:
            for wrong in s.wrongs if isinstance(s.lhs, Q) and s.lhs != lhs else ():
                moved = apply(rule_of(s, wrong, d.name), statement, layer)
                if moved is not None:
                    candidates.append((_book_form(moved[0]), moved[1],
                                       f"derive {d.name}, step {n + 1}: {wrong.why}", d.name))
        for template, change, origin, derivation in candidates:
            if not _valid(template, layer, derivation):
                continue
            try:
                code = _code(template)
            except ValueError:
                continue
            if code in seen:
                continue
            seen.add(code)
            found.append(Variant(equation, equation_text(lhs, template), change, origin, code))
    return found


HEADER = '''"""The derivations' wrong variants of BP1–BP4, as numpy code: GENERATED by
``python -m bpverify.conformance.suite.variants_from_derivations`` from ``bpverify.derivations``
(do not edit; ``tests/conformance/suite/test_diagnoses.py`` checks that it is current).

Each entry: (equation, the variant in the book's notation, what it changes, where the
derivations state it, its value at a network ``n``: ``diagnoses.Point``)."""

# ruff: noqa: E501

from __future__ import annotations

'''
OPERATIONS = ("H", "T", "add", "diag", "mm", "one_minus", "outer")


def generate() -> str:
    """The source of ``derived_variants.py``."""
    found = variants()
    body = "".join(f"    ({v.equation!r}, {v.formula!r}, {v.change!r},\n     {v.origin!r},\n"
                   f"     lambda n: {v.code}),\n" for v in found)
    used = [op for op in OPERATIONS if any(f"{op}(" in v.code for v in found)]
    return (HEADER + "from bpverify.conformance.suite.variant_operations import "
            + ", ".join(used) + "\n\nDERIVED = (\n" + body + ")\n")


TARGET_FILE = Path(__file__).with_name("derived_variants.py")


if __name__ == "__main__":
    TARGET_FILE.write_text(generate(), encoding="utf-8")
    print(f"wrote {TARGET_FILE}")
