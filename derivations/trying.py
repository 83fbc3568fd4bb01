"""``bpverify derive NAME --try "EXPR"``: a student's formula for a derivation's right side, read
from Python with the book's names, checked by the derivation's own models.

EXPR is parsed with ``ast`` and only the book's names and arithmetic are accepted: quantities
indexed by a layer (``w[l+1]``, ``delta[l+1]``, ``z[l]``, ``a[l-1]``, ``b[l]``, ``dC_da[l]``),
``grad_a_C`` and ``y``, the functions ``sigma``, ``sigma_prime``, ``diag``, ``outer``, the
scalars ``eta`` and ``m``, numbers, ``+ - * / @`` and ``.T``. ``*`` of two matrices is the
Hadamard product ⊙ (numpy's meaning), ``@`` the matrix product. Nothing is ever evaluated by
Python: the tree is translated node by node into the templates of ``derivations.notation``.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from bpverify.derivations.core import Derivation, check_step
from bpverify.derivations.models import ConcreteNets, Counterexample
from bpverify.derivations.notation import (
    Diag,
    L,
    Outer,
    Q,
    T,
    add,
    eta,
    grad_a_C,
    hadamard,
    l,
    m,
    mul,
    sig,
    sig_prime,
    y,
)
from bpverify.derivations.printing import text

LAYERED = {"w": "w", "b": "b", "z": "z", "a": "a", "delta": "delta", "dC_db": "dC_db",
           "dC_dw": "dC_dw", "dC_da": "dC_da", "w_swapped": "w_swapped", "Delta_b": "Delta_b",
           "Delta_W": "Delta_W"}
BATCH = {"delta_X": "delta", "a_X": "a", "z_X": "z"}
"""A mini-batch's quantities: one column per example (column x of delta_X[l] is δˣ'ˡ)."""
PLAIN = {"grad_a_C": grad_a_C, "nabla_a_C": grad_a_C, "y": y, "d_u_f": Q("d_u_f", 0),
         "D_u_x": Q("D_u_x", 0), "d_x_f": Q("d_x_f", 0), "d_u_x": Q("d_u_x", 0),
         "d_c_f": Q("d_c_f", 0), "d_c_x": Q("d_c_x", 0)}
SCALARS = {"eta": eta, "m": m, "l": l, "L": L}
FUNCTIONS: dict[str, Callable[..., sp.Basic]] = {"sigma": sig, "sigma_prime": sig_prime, "diag": Diag,
                                                 "outer": Outer}


class BadFormula(ValueError):
    """EXPR is not Python, or uses a name or an operation outside the book's vocabulary."""


def _where(node: ast.AST) -> str:
    return f" (column {getattr(node, 'col_offset', 0) + 1})"


def _layer(node: ast.expr) -> sp.Expr:
    """A layer: l, L, integers, + and −."""
    if isinstance(node, ast.Name) and node.id in ("l", "L"):
        return SCALARS[node.id]
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sp.Integer(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        left, right = _layer(node.left), _layer(node.right)
        return left + right if isinstance(node.op, ast.Add) else left - right
    raise BadFormula("a layer is l or L plus or minus a whole number, e.g. w[l+1]" + _where(node))


def _is_matrix(x: sp.Basic) -> bool:
    return isinstance(x, sp.MatrixExpr)


def translate(node: ast.expr) -> sp.Basic:
    """One node of EXPR as a template (or a scalar)."""
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Name) and node.value.id in BATCH:
            return Q(BATCH[node.value.id], _layer(node.slice), m)
        if not (isinstance(node.value, ast.Name) and node.value.id in LAYERED):
            raise BadFormula("only the book's quantities take a layer: "
                             f"{sorted({*LAYERED, *BATCH})}" + _where(node))
        return Q(LAYERED[node.value.id], _layer(node.slice))
    if isinstance(node, ast.Name):
        if node.id in PLAIN:
            return PLAIN[node.id]
        if node.id in SCALARS:
            return SCALARS[node.id]
        if node.id in LAYERED:
            raise BadFormula(f"{node.id} needs a layer, e.g. {node.id}[l]" + _where(node))
        raise BadFormula(f"unknown name {node.id!r}; expected one of "
                         f"{sorted({*LAYERED, *PLAIN, *SCALARS, *FUNCTIONS})}" + _where(node))
    if (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)):
        return sp.nsimplify(node.value)
    if isinstance(node, ast.Attribute):
        if node.attr != "T":
            raise BadFormula(f"only .T (the transpose) is allowed, not .{node.attr}" + _where(node))
        inner = translate(node.value)
        if not _is_matrix(inner):
            raise BadFormula(".T of a number" + _where(node))
        return T(inner)
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords:
            raise BadFormula(f"only the functions {sorted(FUNCTIONS)} may be called" + _where(node))
        args = [translate(x) for x in node.args]
        expected = 2 if node.func.id == "outer" else 1
        if len(args) != expected or not all(_is_matrix(x) for x in args):
            raise BadFormula(f"{node.func.id} takes {expected} matrix argument(s)" + _where(node))
        return FUNCTIONS[node.func.id](*args)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = translate(node.operand)
        return _product(sp.Integer(-1), inner) if _is_matrix(inner) else -inner
    if isinstance(node, ast.BinOp):
        return _binary(node)
    raise BadFormula(f"{type(node).__name__} is not part of the book's notation" + _where(node))


def _binary(node: ast.BinOp) -> sp.Basic:
    left, right = translate(node.left), translate(node.right)
    both = _is_matrix(left) and _is_matrix(right)
    if isinstance(node.op, ast.MatMult):
        if not both:
            raise BadFormula("@ multiplies two matrices; use * for a number" + _where(node))
        return _product(left, right)
    if isinstance(node.op, ast.Mult):
        return hadamard(left, right) if both else _product(left, right) if (
            _is_matrix(left) or _is_matrix(right)) else left * right
    if isinstance(node.op, ast.Add | ast.Sub):
        if _is_matrix(left) != _is_matrix(right):
            raise BadFormula("a matrix plus a number" + _where(node))
        if not both:
            return left + right if isinstance(node.op, ast.Add) else left - right
        if isinstance(node.op, ast.Add):
            return add(left, right)
        return add(left, _product(sp.Integer(-1), right))
    if isinstance(node.op, ast.Div):
        if _is_matrix(right):
            raise BadFormula("division by a matrix" + _where(node))
        return _product(1 / right, left) if _is_matrix(left) else left / right
    raise BadFormula(f"the operator {type(node.op).__name__} is not allowed" + _where(node))


def _product(left: sp.Basic, right: sp.Basic) -> sp.Basic:
    """A matrix product, flat as the book writes a chain (A @ B @ C is one product of three)."""
    factors = [*(left.args if isinstance(left, sp.MatMul) else [left]),
               *(right.args if isinstance(right, sp.MatMul) else [right])]
    return mul(*factors)


def parse(expression: str) -> sp.Basic:
    """EXPR as a template; BadFormula with a clear message otherwise."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise BadFormula(f"not a Python expression: {error.msg} (column {error.offset})") from None
    result = translate(tree.body)
    if not _is_matrix(result):
        raise BadFormula("the formula is a number; a right side here is a vector or matrix")
    return result


@dataclass
class Attempt:
    """The outcome of trying a formula: proved (every level), or false with a counterexample."""

    derivation: Derivation
    formula: sp.Basic
    proved: bool
    levels: list[str]
    counterexample: Counterexample | None
    seconds: float

    def report(self) -> str:
        note = self.derivation.note
        claim = f"{text(self.derivation.lhs, note)} = {text(self.formula, note)}"
        if self.proved:
            return (f"proved: {claim}\n" + "\n".join(f"  equal for {level}" for level in self.levels)
                    + f"\n({self.seconds:.1f} s)")
        assert self.counterexample is not None
        return f"false: {claim}\n  smallest counterexample: {self.counterexample.describe()}"


def attempt(derivation: Derivation, expression: str) -> Attempt:
    """Check ``derivation`` with EXPR as its statement's right side: the concrete networks first,
    smallest first (so a counterexample is the smallest), then every other level of the statement."""
    if not derivation.statement_steps or not _is_matrix(derivation.rhs):
        raise BadFormula(f"{derivation.name}'s statement is not a vector or matrix formula; "
                         "--try takes derivations whose statement is one (see --list)")
    formula = parse(expression)
    start = time.perf_counter()
    trial = derivation.with_rhs(formula)
    order = sorted(trial.statement_steps, key=lambda n: not isinstance(trial.steps[n].model, ConcreteNets))
    levels = []
    for number in order:
        step = trial.steps[number]
        verdict = step.model.judge(step.lhs, step.rhs)
        if not verdict.holds:
            failed = verdict.counterexample or Counterexample(step.model.level, reason="checked no case")
            return Attempt(derivation, formula, False, [], failed, time.perf_counter() - start)
        levels.append(step.model.level)
    return Attempt(derivation, formula, True, levels, None, time.perf_counter() - start)


__all__ = ["Attempt", "BadFormula", "attempt", "check_step", "parse"]
