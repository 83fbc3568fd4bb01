"""``bpverify derive NAME --try "EXPR"``: a student's formula for a derivation's right side, read
from Python with the book's names (numpy's spellings too, or the book's notation as the outputs
print it), and decided by truth (``derivations.truth``).

EXPR is parsed with ``ast`` and translated node by node into the templates of
``derivations.notation``; nothing is ever evaluated by Python. Accepted:

* quantities by layer: ``w[l+1]``, ``b[l]``, ``z[l]``, ``a[l-1]``, ``delta[l+1]``, ``dC_db[l]``,
  ``dC_dw[l]``, ``dC_da[l]``; ``grad_a_C`` (∇ₐC), ``y``; their entries ``delta[l][j]``,
  ``delta[l, j]``, ``w[l+1][k][j]``, and entries of any matrix, ``(w[l+1].T @ delta[l+1])[j]``;
* ``+ - / @``, ``*`` (⊙ between two matrices, as in numpy), ``.T``, ``.transpose()``, ``.dot``,
  numbers, ``eta``, ``m``; ``sigma``, ``sigma_prime``, ``diag``, ``outer`` and numpy's
  ``multiply``, ``dot``, ``matmul``, ``transpose``, ``diagflat``, ``einsum`` (``np.``/``numpy.``
  prefixes allowed); sums ``sum(… for k in range(n[l+1]))`` (indices count the neurons from 1,
  as in the book);
* the book's notation as printed: ``((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)``, ``Σ′(zˡ)``, ``∇ₐC``, ``∂C/∂aˡ``;
* ``LEFT = RIGHT`` where LEFT is the statement's left side.

Kept whole: one translator from Python to the templates, node type by node type.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from bpverify.derivations import interpret
from bpverify.derivations.core import Derivation
from bpverify.derivations.notation import (
    QUANTITIES,
    Apply,
    Diag,
    L,
    Outer,
    Q,
    T,
    add,
    comp,
    eta,
    f,
    f_prime,
    grad_a_C,
    hadamard,
    i,
    j,
    k,
    l,
    m,
    mul,
    n,
    p,
    sig,
    sig_prime,
    sigma,
    sigma_prime,
    y,
)
from bpverify.derivations.printing import text
from bpverify.derivations.truth import Answer, NoMeaning, decide, leaves

LAYERED = ("w", "b", "z", "a", "delta", "dC_db", "dC_dw", "dC_da", "w_swapped", "Delta_b", "Delta_W",
           "da_dz", "dz_dz", "rate", "rate_w", "Train_W", "Train_b", "Train_W_swapped", "Train_b_swapped",
           "dC1_dw", "dC1_db", "dC2_dw", "dC2_db", "dC2_dw0", "dC2_db0")
BATCH = {"delta_X": "delta", "a_X": "a", "z_X": "z"}
"""A mini-batch's quantities: one column per example (column x of delta_X[l] is δˣ'ˡ)."""
PLAIN = {"grad_a_C": grad_a_C, "nabla_a_C": grad_a_C, "y": y, "grad_a_C_X": Q("grad_a_C", L, m),
         "ones": Q("ones", 0), "d_u_f": Q("d_u_f", 0), "D_u_x": Q("D_u_x", 0), "d_x_f": Q("d_x_f", 0),
         "d_u_x": Q("d_u_x", 0), "d_c_f": Q("d_c_f", 0), "d_c_x": Q("d_c_x", 0)}
SCALARS = {"eta": eta, "m": m, "l": l, "L": L, "t": sp.Symbol("t")}
INDICES = {"j": j, "k": k, "i": i, "p": p, "q": sp.Symbol("q", integer=True, positive=True),
           "s": sp.Symbol("s", integer=True, positive=True)}
"""Neuron indices (from 1, as in the book); a formula's free indices are j (and k)."""
NUMPY = ("np", "numpy")
FUNCTIONS = ("sigma", "sigma_prime", "f", "f_prime", "Sigma_prime", "diag", "diagflat", "outer", "multiply",
             "dot", "matmul",
             "transpose", "einsum", "sum", "len", "n")
NAMES = sorted({*LAYERED, *BATCH, *PLAIN, *SCALARS, *INDICES, *FUNCTIONS})


class BadFormula(ValueError):
    """EXPR is not Python, or uses a name or an operation outside the book's vocabulary."""


def _where(node: ast.AST) -> str:
    return f" (column {getattr(node, 'col_offset', 0) + 1})"


def _is_matrix(x: sp.Basic) -> bool:
    return isinstance(x, sp.MatrixExpr)


# -- the book's notation, as the outputs print it ----------------------------------------------------

SUPERSCRIPTS = str.maketrans("ˡᴸ⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "lL+-0123456789")
SUBSCRIPTS = str.maketrans("ⱼₖᵢₚ₀₁₂₃₄₅₆₇₈₉", "jkip0123456789")
BOOK = [("−", "-"), ("⊙", "*"), ("·", "*"), ("ᵀ", ".T"), ("∇ₐC", "grad_a_C"), ("Σ′", "Sigma_prime"),
        ("σ′", "sigma_prime"), ("σ", "sigma"), ("η", "eta"), ("∂C/∂a", "dC_da"), ("∂C/∂b", "dC_db"),
        ("∂C/∂w", "dC_dw"), ("δ", "delta")]
LAYER_MARK = re.compile(r"(delta|dC_d[abw]|[wbzay])([ˡᴸ⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)([ⱼₖᵢₚ]*)")
JUXTAPOSED = re.compile(r"(\]|\)|\.T)\s*(?=[A-Za-z_(])")


def from_book(expression: str) -> str:
    """The book's notation in Python: δˡ → delta[l], wˡ⁺¹ₖⱼ → w[l+1][k][j], (wˡ⁺¹)ᵀδˡ⁺¹ →
    (w[l+1]).T @ delta[l+1] (a product written by juxtaposition), ⊙ → *, σ′ → sigma_prime."""
    if expression.isascii():
        return expression
    for book, python in BOOK:
        expression = expression.replace(book, python)
    expression = LAYER_MARK.sub(lambda m_: m_.group(1) + f"[{m_.group(2).translate(SUPERSCRIPTS)}]"
                                + "".join(f"[{c}]" for c in m_.group(3).translate(SUBSCRIPTS)), expression)
    return JUXTAPOSED.sub(lambda m_: m_.group(1) + " @ ", expression)


# -- Python to templates --------------------------------------------------------------------------------

@dataclass
class Reader:
    """Translates one EXPR; ``bound`` are the summation indices of the enclosing sums."""

    bound: dict[str, sp.Symbol] = field(default_factory=dict)

    def layer(self, node: ast.expr) -> sp.Expr:
        """A layer: l, L, integers, + and −."""
        if isinstance(node, ast.Name) and node.id in ("l", "L"):
            return SCALARS[node.id]
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return sp.Integer(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            left, right = self.layer(node.left), self.layer(node.right)
            return left + right if isinstance(node.op, ast.Add) else left - right
        raise BadFormula("a layer is l or L plus or minus a whole number, e.g. w[l+1]" + _where(node))

    def index(self, node: ast.expr) -> sp.Expr:
        """A neuron index: j, k, … or a summation index, plus or minus a whole number."""
        if isinstance(node, ast.Name) and (node.id in self.bound or node.id in INDICES):
            return self.bound.get(node.id) or INDICES[node.id]
        if isinstance(node, ast.Constant) and type(node.value) is int:
            if node.value < 1:
                raise BadFormula("the book counts neurons from 1: the first entry is delta[l][1]"
                                 + _where(node))
            return sp.Integer(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub) and isinstance(
                node.right, ast.Constant) and type(node.right.value) is int:
            base = self.index(node.left)
            return base + node.right.value if isinstance(node.op, ast.Add) else base - node.right.value
        raise BadFormula("an entry's index is a neuron index such as j or k (the book counts neurons from "
                         "1), "
                         "e.g. delta[l][j]" + _where(node))

    def translate(self, node: ast.expr) -> sp.Basic:
        """One node of EXPR as a template (or a scalar)."""
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant) and isinstance(node.value,
                                                         int | float) and not isinstance(node.value, bool):
            return sp.nsimplify(node.value)
        if isinstance(node, ast.Attribute):
            if node.attr == "T":
                inner = self.translate(node.value)
                if not _is_matrix(inner):
                    raise BadFormula(".T of a number" + _where(node))
                return T(inner)
            if isinstance(node.value, ast.Name) and node.value.id in NUMPY:
                raise BadFormula(f"{node.value.id}.{node.attr} is not one of numpy's functions read here: "
                                 "multiply, dot, matmul, transpose, diag, diagflat, outer, einsum, sum"
                                 + _where(node))
            raise BadFormula(f"only .T (the transpose) is an attribute here, not .{node.attr}" + _where(node))
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.translate(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            return _product(sp.Integer(-1), inner) if _is_matrix(inner) else -inner
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        raise BadFormula(f"{type(node).__name__} is not part of the book's notation" + _where(node))

    def _name(self, node: ast.Name) -> sp.Basic:
        if node.id in self.bound:
            return self.bound[node.id]
        if node.id in PLAIN:
            return PLAIN[node.id]
        if node.id in SCALARS:
            return SCALARS[node.id]
        if node.id in INDICES:
            return INDICES[node.id]
        if node.id in LAYERED or node.id in BATCH:
            raise BadFormula(f"{node.id} needs a layer, e.g. {node.id}[l]" + _where(node))
        close = difflib.get_close_matches(node.id, NAMES, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else "."
        raise BadFormula(f"unknown name {node.id!r}{hint} The names are {', '.join(NAMES)}" + _where(node))

    def _subscript(self, node: ast.Subscript) -> sp.Basic:
        value, key = node.value, node.slice
        keys = list(key.elts) if isinstance(key, ast.Tuple) else [key]
        if isinstance(value, ast.Name) and value.id == "n":
            return n(self.layer(keys[0]))
        if isinstance(value, ast.Name) and value.id in BATCH:
            return Q(BATCH[value.id], self.layer(keys[0]), m)
        if isinstance(value, ast.Name) and value.id in LAYERED:
            quantity = Q(value.id, self.layer(keys[0]))
            return self._entry(quantity, keys[1:], node) if len(keys) > 1 else quantity
        if isinstance(value, ast.Name) and value.id not in self.bound and value.id not in PLAIN:
            close = [x for x in LAYERED if x.lower() == value.id.lower()] or difflib.get_close_matches(
                value.id, LAYERED, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise BadFormula(f"only the book's quantities take a layer: {', '.join(LAYERED)}{hint}"
                             + _where(node))
        inner = self.translate(value)
        if isinstance(inner, _Row) and len(keys) == 1:  # w[l][j][k]
            return interpret.entry(inner.args[0], inner.args[1], self.index(keys[0]), ENTRIES)
        return self._entry(inner, keys, node)

    def _entry(self, matrix: sp.Basic, keys: list[ast.expr], node: ast.AST) -> sp.Expr:
        """Entry (r, c) of a matrix template, as a component template (every width symbolic)."""
        if not _is_matrix(matrix) or len(keys) not in (1, 2):
            raise BadFormula("an entry is X[j] of a vector or X[j][k] of a matrix" + _where(node))
        if len(keys) == 1 and matrix.shape[1] != 1:
            return _Row(matrix, self.index(keys[0]))  # w[l][j], waiting for its column
        r, c = self.index(keys[0]), self.index(keys[1]) if len(keys) == 2 else sp.Integer(1)
        return interpret.entry(matrix, r, c, ENTRIES)

    def _call(self, node: ast.Call) -> sp.Basic:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in NUMPY:
            name = func.attr
        elif isinstance(func, ast.Attribute) and func.attr in ("transpose", "dot"):
            target = self.translate(func.value)
            if func.attr == "transpose" and not node.args:
                return T(target)
            if func.attr == "dot" and len(node.args) == 1:
                return self._matmul(target, self.translate(node.args[0]), node)
            raise BadFormula(f".{func.attr} takes {'no' if func.attr == 'transpose' else 'one'} argument"
                             + _where(node))
        elif isinstance(func, ast.Name):
            name = func.id
        else:
            raise BadFormula(f"only the functions {', '.join(FUNCTIONS)} may be called" + _where(node))
        if node.keywords:
            raise BadFormula(f"{name} takes no keyword arguments here" + _where(node))
        if name == "sum" and len(node.args) == 1 and isinstance(node.args[0],
                                                                ast.GeneratorExp | ast.ListComp):
            return self._sum(node.args[0])
        if name == "einsum":
            return self._einsum(node)
        if name == "len" and len(node.args) == 1:
            target = self.translate(node.args[0])
            if not _is_matrix(target):
                raise BadFormula("len of a number" + _where(node))
            return target.shape[0]
        if name == "n" and len(node.args) == 1:
            return n(self.layer(node.args[0]))
        table: dict[str, tuple[int, Callable[..., sp.Basic]]] = {
            "sigma": (1, lambda x: sig(x) if _is_matrix(x) else sigma(x)),
            "sigma_prime": (1, lambda x: sig_prime(x) if _is_matrix(x) else sigma_prime(x)),
            "f": (1, lambda x: Apply(f, x) if _is_matrix(x) else f(x)),
            "f_prime": (1, lambda x: Apply(f_prime, x) if _is_matrix(x) else f_prime(x)),
            "Sigma_prime": (1, lambda x: Diag(sig_prime(x))), "diag": (1, Diag), "diagflat": (1, Diag),
            "outer": (2, Outer), "multiply": (2, lambda x, y_: self._combine(ast.Mult(), x, y_, node)),
            "dot": (2, lambda x, y_: self._matmul(x, y_, node)),
            "matmul": (2, lambda x, y_: self._matmul(x, y_, node)),
            "transpose": (1, T)}
        if name not in table:
            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise BadFormula(f"only the functions {', '.join(FUNCTIONS)} may be called, not {name}{hint}"
                             + _where(node))
        expected, build = table[name]
        args = [self.translate(x) for x in node.args]
        if len(args) != expected:
            raise BadFormula(f"{name} takes {expected} argument(s)" + _where(node))
        if name in ("diag", "diagflat", "outer", "transpose",
                    "Sigma_prime") and not all(_is_matrix(x) for x in args):
            raise BadFormula(f"{name} takes a vector or matrix" + _where(node))
        return build(*args)

    def _sum(self, comprehension: ast.GeneratorExp | ast.ListComp) -> sp.Expr:
        """sum(BODY for k in range(N)): Σₖ₌₁..N BODY (the N neurons, counted from 1 as in the book)."""
        reader = Reader(dict(self.bound))
        limits = []
        for generator in comprehension.generators:
            if generator.ifs or not isinstance(generator.target, ast.Name):
                raise BadFormula("a sum runs one index over range(…), without conditions" + _where(generator))
            iterator = generator.iter
            if not (isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name)
                    and iterator.func.id == "range" and len(iterator.args) in (1, 2)):
                raise BadFormula("a sum runs its index over range(n[l+1]) or range(len(delta[l+1]))"
                                 + _where(iterator))
            bounds = [reader.translate(x) for x in iterator.args]
            low, high = (sp.Integer(1), bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1] - 1)
            if len(bounds) == 2 and low not in (0, 1):
                raise BadFormula("a sum counts neurons from 1 (or 0, as range does)" + _where(iterator))
            if len(bounds) == 2 and low == 0:
                low, high = sp.Integer(1), high + 1
            symbol = sp.Symbol(generator.target.id, integer=True, positive=True)
            reader.bound[generator.target.id] = symbol
            limits.append((symbol, low, high))
        body = reader.translate(comprehension.elt)
        if _is_matrix(body):
            raise BadFormula("sum over matrices: write the entry (delta[l+1][k]) inside the sum")
        for limit in reversed(limits):
            body = sp.Sum(body, limit)
        return body

    def _einsum(self, node: ast.Call) -> sp.Expr:
        """einsum("kj,k->j", A, v): the component Σₖ Aₖⱼvₖ, with the output's indices named j, k."""
        if not (node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            raise BadFormula('einsum takes its subscripts first, e.g. einsum("kj,k->j", w[l+1], delta[l+1])'
                             + _where(node))
        spec = node.args[0].value.replace(" ", "")
        if "->" not in spec:
            raise BadFormula("einsum needs its output written, e.g. \"kj,k->j\"" + _where(node))
        inputs, output = spec.split("->")
        operands = [self.translate(x) for x in node.args[1:]]
        parts = inputs.split(",")
        if len(parts) != len(operands) or not all(_is_matrix(x) for x in operands) or len(output) > 2:
            raise BadFormula("einsum's subscripts do not match its matrices" + _where(node))
        names = {letter: (j, k)[position] for position, letter in enumerate(output)}
        extents: dict[str, sp.Expr] = {}
        product = sp.Integer(1)
        world = ENTRIES
        for letters, operand in zip(parts, operands, strict=True):
            shape = interpret.shape(operand, world)
            if len(letters) == 1 and shape[1] != 1 or len(letters) not in (1, 2):
                raise BadFormula(f"einsum's {letters!r} does not fit a {shape[0]}×{shape[1]} operand"
                                 + _where(node))
            for position, letter in enumerate(letters):
                if letter not in names:
                    names[letter] = sp.Symbol(f"e_{letter}", integer=True, positive=True)
                extents.setdefault(letter, shape[position])
            r = names[letters[0]]
            c = names[letters[1]] if len(letters) == 2 else sp.Integer(1)
            product *= interpret.entry(operand, r, c, world)
        for letter in dict.fromkeys(inputs.replace(",", "")):
            if letter not in output:
                product = sp.Sum(product, (names[letter], 1, extents[letter]))
        return product

    def _binary(self, node: ast.BinOp) -> sp.Basic:
        left, right = self.translate(node.left), self.translate(node.right)
        if isinstance(node.op, ast.MatMult):
            return self._matmul(left, right, node)
        if isinstance(node.op, ast.Pow):
            if _is_matrix(left) or not (isinstance(node.right, ast.Constant)
                                        and type(node.right.value) is int):
                raise BadFormula("the operator Pow (**) raises a number to a whole power; for matrices "
                                 "write the "
                                 "product" + _where(node))
            return left ** right
        return self._combine(node.op, left, right, node)

    def _combine(self, op: ast.operator, left: sp.Basic, right: sp.Basic, node: ast.AST) -> sp.Basic:
        """+, −, * (⊙ between matrices), / of two templates; a matrix beside an entry with free
        indices is read at those indices (numpy's elementwise meaning)."""
        for a_, b_ in ((left, right), (right, left)):
            if _is_matrix(a_) and not _is_matrix(b_) and _free(b_) and not isinstance(op, ast.Div):
                converted = _at(a_, _free(b_), node)
                left, right = (converted, right) if a_ is left else (left, converted)
        both = _is_matrix(left) and _is_matrix(right)
        if isinstance(op, ast.Mult):
            return hadamard(left, right) if both else _product(left, right) if (
                _is_matrix(left) or _is_matrix(right)) else left * right
        if isinstance(op, ast.Add | ast.Sub):
            if _is_matrix(left) != _is_matrix(right):
                raise BadFormula("a matrix plus a number" + _where(node))
            if not both:
                return left + right if isinstance(op, ast.Add) else left - right
            terms = [*(left.args if isinstance(left, sp.MatAdd) else [left])]
            terms += [right] if isinstance(op, ast.Add) else [_product(sp.Integer(-1), right)]
            return add(*terms)
        if isinstance(op, ast.Div):
            if _is_matrix(right):
                raise BadFormula("division by a matrix" + _where(node))
            return _product(1 / right, left) if _is_matrix(left) else left / right
        raise BadFormula(f"the operator {type(op).__name__} is not allowed" + _where(node))

    def _matmul(self, left: sp.Basic, right: sp.Basic, node: ast.AST) -> sp.Basic:
        if not (_is_matrix(left) and _is_matrix(right)):
            raise BadFormula("@ multiplies two matrices; use * for a number" + _where(node))
        return _product(left, right)


class _Entries:
    """How an entry of a template is written as a component template: each quantity's entry is
    its indexed symbol (wˡ⁺¹ₖⱼ), every width symbolic, σ and σ′ undefined (nothing evaluated)."""

    def bind(self, layer: sp.Expr) -> sp.Expr:
        return sp.sympify(layer)

    def width(self, layer: sp.Expr) -> sp.Expr:
        return n(layer)

    def function(self, name: str) -> Callable[[sp.Expr], sp.Expr]:
        return sp.Function(name)

    def entry(self, name: str, layer: sp.Expr, r: sp.Expr, c: sp.Expr) -> sp.Expr:
        if name == "w_swapped":
            return comp("w", layer, c, r)
        if QUANTITIES[name][1] == "1" and c == 1:
            return comp(name, layer, r)
        return comp(name, layer, r, c)


ENTRIES = _Entries()


class _Row(sp.Expr):
    """w[l][j] before its column: an error if it stays so."""

    def __new__(cls, matrix: sp.Basic, row: sp.Expr) -> _Row:
        return sp.Expr.__new__(cls, matrix, row)


def _free(x: sp.Basic) -> tuple[sp.Symbol, ...]:
    """The free neuron indices of a component template: j, then k."""
    bound = {v for s in x.atoms(sp.Sum) for v, *_ in s.limits}
    return tuple(s for s in (j, k) if s in x.free_symbols and s not in bound)


def _at(matrix: sp.Basic, indices: tuple[sp.Symbol, ...], node: ast.AST) -> sp.Expr:
    rows_only = matrix.shape[1] == 1
    if rows_only and indices != (j,) or not rows_only and indices != (j, k):
        raise BadFormula("a matrix beside an entry: the entry's free indices do not fit its shape"
                         + _where(node))
    return interpret.entry(matrix, j, k if not rows_only else sp.Integer(1), ENTRIES)


def _product(left: sp.Basic, right: sp.Basic) -> sp.Basic:
    """A matrix product, flat as the book writes a chain (A @ B @ C is one product of three)."""
    factors = [*(left.args if isinstance(left, sp.MatMul) else [left]),
               *(right.args if isinstance(right, sp.MatMul) else [right])]
    coefficient = sp.Mul(*(x for x in factors if not _is_matrix(x)))
    matrices = [x for x in factors if _is_matrix(x)]
    return mul(*([coefficient] if coefficient != 1 else []), *matrices)


SPELLINGS = [(re.compile(r"\^\s*T\b|\^\s*\{?T\}?"), "the transpose is .T (w[l+1].T), not ^T"),
             (re.compile(r"sigma\s*'|σ\s*'"), "σ′ is sigma_prime (sigma_prime(z[l])), not sigma'"),
             (re.compile(r"\bΣ\b|\bSigma\b"), "Σ′(z) is Sigma_prime(z[l]) or diag(sigma_prime(z[l]))"),
             (re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹ˡᴸ]"), "a layer is written in brackets: w[l+1]")]


def _syntax(expression: str, error: SyntaxError) -> BadFormula:
    """A syntax error, with the spelling it probably meant and the names."""
    hints = [hint for pattern, hint in SPELLINGS if pattern.search(expression)]
    if "=" in expression and "==" not in expression and not hints:
        hints.append("write only the right side, or LEFT = RIGHT with the statement's left side")
    return BadFormula(f"not a Python expression: {error.msg} (column {error.offset})"
                      + ("; " + "; ".join(hints) if hints else "")
                      + f". The names are {', '.join(NAMES)}")


def _split(expression: str) -> tuple[str | None, str]:
    """LEFT = RIGHT (a single =), or the right side alone."""
    parts = re.split(r"(?<![=!<>])=(?!=)", expression)
    return (parts[0], parts[1]) if len(parts) == 2 else (None, expression)


def parse(expression: str, reader: Reader | None = None) -> sp.Basic:
    """EXPR as a template; BadFormula with a clear message otherwise."""
    python = from_book(expression.strip())
    try:
        tree = ast.parse(python, mode="eval")
    except SyntaxError as error:
        raise _syntax(expression, error) from None
    try:
        result = (reader or Reader()).translate(tree.body)
    except BadFormula as why:
        hints = [hint for pattern, hint in SPELLINGS if pattern.search(expression)]
        raise BadFormula("; ".join(hints) + f" ({why})" if hints else str(why)) from None
    if isinstance(result, _Row) or any(isinstance(x, _Row) for x in sp.preorder_traversal(result)):
        raise BadFormula("an entry of a matrix needs its row and its column: w[l][j][k]")
    return result


def statement_formula(derivation: Derivation, expression: str) -> tuple[sp.Basic, sp.Basic]:
    """(left side, formula) of EXPR for the derivation's statement: the statement's left side, or
    its entry (j[, k]) when EXPR is written by entries; EXPR's own left side must be that one."""
    lhs = derivation.lhs
    left, right = _split(from_book(expression.strip()))
    formula = parse(right)
    if not _is_matrix(formula) and _is_matrix(lhs):
        free = _free(formula)
        if not free:
            raise BadFormula("the formula is a number; the right side here is a vector or matrix, or its "
                             "entry "
                             "written with j (and k)")
        lhs = _at(lhs, (j,) if lhs.shape[1] == 1 else (j, k), ast.Name("_"))
        if free != _free(lhs):
            raise BadFormula(f"write the entry with the indices of {text(lhs, derivation.note)}: "
                             f"{', '.join(str(s) for s in _free(lhs))}")
    elif _is_matrix(formula) and not _is_matrix(lhs):
        raise BadFormula(f"{derivation.name}'s statement is not a vector or matrix formula but about "
                         f"{text(lhs, derivation.note)}: write that, not a matrix")
    if left is not None and parse(left) not in (derivation.lhs, lhs):
        raise BadFormula(f"the left side here is {text(lhs, derivation.note)}, the statement's, "
                         f"not {text(parse(left), derivation.note)}")
    if formula == lhs:
        raise BadFormula(f"circular: the formula is the left side {text(lhs, derivation.note)} itself")
    own = {(name, sp.sympify(layer)) for name, layer, _ in leaves(lhs)}
    own |= {("grad_a_C", L) for name, layer in list(own) if name == "dC_da" and layer == L}
    own |= {("dC_da", L) for name, layer in list(own) if name == "grad_a_C"}
    for name, layer, shown in leaves(formula):
        if (name, sp.sympify(layer)) in own:
            raise BadFormula(f"circular: the formula uses the left side {text(shown, derivation.note)} "
                             f"itself; "
                             "write it with other quantities")
    return lhs, formula


def attempt(derivation: Derivation, expression: str) -> Answer:
    """Decide EXPR as the right side of the derivation's statement (``derivations.truth``)."""
    lhs, formula = statement_formula(derivation, expression)
    try:
        return decide(derivation, lhs, formula)
    except NoMeaning as why:
        raise BadFormula(str(why)) from None


__all__ = ["Answer", "BadFormula", "attempt", "from_book", "parse", "statement_formula"]
