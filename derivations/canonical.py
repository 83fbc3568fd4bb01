"""When two entries are the same identity: derivatives of undefined functions renamed, sums put in
one canonical form, then expanded (a decision procedure for the polynomial identities in σ, σ′,
w, b, a, δ that backpropagation is; ``expand`` is 10–300× faster than ``simplify``)."""

from __future__ import annotations

import sympy as sp

from bpverify.derivations.notation import DERIVATIVE_OF


def derivative_name(d: sp.Derivative) -> sp.Expr | None:
    """∂f/∂x₁ of an undefined f as a named function: σ′ → sigma_prime(z), ∂C/∂aⱼ → C_d1(a…)."""
    fn = d.expr
    var, count = d.variable_count[0]
    if (not isinstance(fn, sp.core.function.AppliedUndef) or len(d.variable_count) != 1 or count != 1
            or var not in fn.args):
        return None
    position = fn.args.index(var)
    name = fn.func.__name__
    new = DERIVATIVE_OF.get(name) if len(fn.args) == 1 else None
    return sp.Function(new or f"{name}_d{position + 1}")(*fn.args)


def rename_derivatives(expr: sp.Expr) -> sp.Expr:
    """Every first derivative of an undefined function, as a Derivative or at a point (Subs),
    becomes a named function, so that two spellings of one derivative compare equal."""
    def from_subs(e: sp.Subs) -> sp.Expr:
        named = derivative_name(e.expr) if isinstance(e.expr, sp.Derivative) else None
        return e if named is None else named.xreplace(dict(zip(e.variables, e.point, strict=True)))

    expr = expr.replace(lambda e: isinstance(e, sp.Subs), from_subs)
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and derivative_name(e) is not None,
                        derivative_name)


def canonical_sums(expr: sp.Expr, depth: int = 0) -> sp.Expr:
    """Σ in one form: the summation index renamed by nesting depth, the summand expanded, and
    factors free of the index taken out, so that equal sums written two ways cancel."""
    if isinstance(expr, sp.Sum):
        (var, lo, hi), *inner = expr.limits
        body = sp.Sum(expr.function, *inner) if inner else expr.function  # Σᵢⱼ as Σᵢ Σⱼ
        new = sp.Symbol(f"_s{depth}", integer=True, positive=True)
        body = canonical_sums(body.xreplace({var: new}), depth + 1)
        total = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(body)):
            free, bound = term.as_independent(new, as_Add=False)
            total += free * (sp.Sum(bound, (new, lo, hi)) if bound != 1 else hi - lo + 1)
        return total
    if expr.args and not isinstance(expr, sp.Indexed):
        return expr.func(*(canonical_sums(x, depth) for x in expr.args))
    return expr


def expanded(expr: sp.Expr, memo: dict[sp.Basic, sp.Expr] | None = None) -> sp.Expr:
    """``sp.expand(expr)`` (deep: inside every function's arguments too), each distinct
    subexpression expanded once: a network's σ(zˡⱼ) recurs in many terms."""
    memo = {} if memo is None else memo
    if expr in memo:
        return memo[expr]
    if not expr.args or isinstance(expr, sp.Indexed):
        result = expr
    else:
        inner = expr.func(*(expanded(a, memo) for a in expr.args))
        result = sp.expand(inner, deep=False) if isinstance(inner, sp.Expr) else inner
    memo[expr] = result
    return result


def canonical(expr: sp.Expr) -> sp.Expr:
    """The canonical form of an entry: done, derivatives named, sums canonical, expanded."""
    expr = rename_derivatives(sp.sympify(expr).doit())
    if expr.has(sp.Sum):
        expr = canonical_sums(expr)
    return expanded(expr)
