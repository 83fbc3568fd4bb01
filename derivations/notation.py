"""The book's vocabulary as SymPy objects: every formula a derivation shows and checks is built
from these.

A *matrix template* is a SymPy matrix expression over ``Q`` leaves (wˡ, bˡ, zˡ, aˡ, δˡ, ∇ₐC,
∂C/∂bˡ, ∂C/∂wˡ, …), each at a layer that is an expression in the symbols ``l`` and ``L``, with
the widths nˡ as an undefined function ``n`` of the layer. Its nodes are SymPy's MatMul, MatAdd,
Transpose and HadamardProduct (⊙) and three of ours: ``Apply`` (σ(v), σ′(v) elementwise),
``Diag`` (Σ′(z) = diag σ′(z)) and ``Outer`` (the note's u ⊗ v = u vᵀ). A *component template* is
a scalar SymPy expression over ``comp`` entries (δˡⱼ, wˡⱼₖ, …), undefined scalar functions σ, σ′
and ``Sum`` with symbolic bounds.

A template says nothing about how it is checked: a model (``derivations.models``) gives its
leaves values, the printer (``derivations.printing``) shows it, and ``derivations.evaluate``
lambdifies it. One object, three readers.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

l, L = sp.symbols("l L", integer=True, positive=True)
"""The current layer and the output layer (the input layer is layer 1)."""
j, k, i, p = sp.symbols("j k i p", integer=True, positive=True)
"""Neuron indices, from 1 as in the book."""
eta = sp.Symbol("eta", positive=True)
m = sp.Symbol("m", integer=True, positive=True)
"""The learning rate η and the mini-batch size m."""
n = sp.Function("n")
"""n(l): the number of neurons in layer l."""

sigma = sp.Function("sigma")
sigma_prime = sp.Function("sigma_prime")
f = sp.Function("f")
f_prime = sp.Function("f_prime")
"""σ and σ′ (and the exercise's f, f′) as undefined functions of one variable."""
one_minus = sp.Function("one_minus")
"""1 − v entry by entry (the note's algorithm writes σ′ as a ⊙ (1 − a))."""
DERIVATIVE_OF = {"sigma": "sigma_prime", "f": "f_prime"}

dw, da = sp.Symbol("Δw"), sp.Symbol("Δa")
"""§2.7's small changes: of one weight (Δwˡⱼₖ) and of one activation (Δaˡⱼ)."""

u_, x_ = sp.symbols("u x")
"""Labels of the note's vectors u and x: their lengths are n(u) and n(x)."""


QUANTITIES: dict[str, tuple[str, str]] = {
    # name: (rows, cols); "l" is n(layer), "l-1" is n(layer − 1), "u"/"x" the lengths of u, x
    "w": ("l", "l-1"), "b": ("l", "1"), "z": ("l", "1"), "a": ("l", "1"), "delta": ("l", "1"),
    "dC_db": ("l", "1"), "dC_dw": ("l", "l-1"), "dC_da": ("l", "1"), "grad_a_C": ("l", "1"),
    "y": ("l", "1"), "w_swapped": ("l-1", "l"),
    # the note's Propositions: f(x(u)); for 2E, u is a column c_j of U and x has one entry per row
    "d_u_f": ("u", "1"), "D_u_x": ("u", "x"), "d_x_f": ("x", "1"), "d_u_x": ("x", "1"),
    "d_c_f": ("u", "1"), "d_c_x": ("x", "1"),
    # the note's algorithm: the changes it makes to bˡ and Wˡ
    "Delta_b": ("l", "1"), "Delta_W": ("l", "l-1"),
    # equation 53's rate factors: ∂aˡ⁺¹ₚ/∂aˡⱼ and ∂aˡⱼ/∂wˡⱼₖ (entry j, k of the latter)
    "rate": ("l+1", "l"), "rate_w": ("l", "l-1"),
    # the proofs' inner derivatives: ∂aˡₖ/∂zˡⱼ (entry k, j) and ∂zˡ⁺¹ₖ/∂zˡⱼ (entry k, j)
    "da_dz": ("l", "l"), "dz_dz": ("l+1", "l"),
    # the note's Train on two examples: what it leaves, and the examples' gradients (worlds.NoteTrain)
    **{name: ("l", "l-1" if "W" in name or name.endswith(("dw", "dw0")) else "1")
       for name in ("Train_W", "Train_b", "Train_W_swapped", "Train_b_swapped", "dC1_dw", "dC1_db", "dC2_dw",
                    "dC2_db", "dC2_dw0", "dC2_db0")},
    # §2.7's changes, each caused by a small change: ΔC and Δaˡⱼ by Δwˡⱼₖ (entry j, k), Δaˡ⁺¹_q by
    # Δaˡⱼ and by Δwˡⱼ₁ (entry q, j)
    "DC_w": ("l", "l-1"), "Da_w": ("l", "l-1"), "Danext_a": ("l+1", "l"), "Danext_w1": ("l+1", "l"),
    # a column of m ones (the fully matrix-based mini-batch: bˡ1ᵀ repeats the bias in every column)
    "ones": ("m", "1"),
    # §2.6's costs, counted on a concrete network: C's evaluations for eq. 46's gradient, and the
    # multiplications of the forward pass's wˡaˡ⁻¹ and the backward pass's (wˡ⁺¹)ᵀδˡ⁺¹
    "passes_46": ("1", "1"), "mults_forward": ("1", "1"), "mults_backward": ("1", "1"),
}
"""w_swapped is the footnote's matrix with j and k exchanged: entry (k, j) is wˡⱼₖ. d_r_x is
the derivative of x along a row of U instead of a column; d_c_f, d_c_x are d_u f, d_u x for u a
column c_j of U (Prop. 2E)."""


def _extent(spec: str, layer: sp.Expr) -> sp.Expr:
    return {"l": n(layer), "l-1": n(layer - 1), "l+1": n(layer + 1), "1": sp.Integer(1), "u": n(u_),
            "x": n(x_), "m": m}[spec]


class Q(MatrixExpr):
    """A quantity of the book at a layer: ``Q("delta", l + 1)`` is δˡ⁺¹, a column of n(l + 1)."""

    def __new__(cls, name: str | sp.Symbol, layer: sp.Expr | int, cols: sp.Expr | int | None = None) -> Q:
        name = str(name)  # SymPy rebuilds a node from its args, where the name is a Symbol
        if name not in QUANTITIES:
            raise ValueError(f"quantity is {name!r}, expected one of {sorted(QUANTITIES)}")
        layer = sp.sympify(layer)
        if cols is None:
            cols = _extent(QUANTITIES[name][1], layer)
        return MatrixExpr.__new__(cls, sp.Symbol(name), layer, sp.sympify(cols))

    @property
    def name(self) -> str:
        return str(self.args[0])

    @property
    def layer(self) -> sp.Expr:
        return self.args[1]

    @property
    def shape(self) -> tuple[sp.Expr, sp.Expr]:
        return _extent(QUANTITIES[self.name][0], self.layer), self.args[2]

    @property
    def is_column(self) -> bool:
        return QUANTITIES[self.name][1] == "1"

    @property
    def columns(self) -> sp.Expr:
        return self.args[2]



class Apply(MatrixExpr):
    """σ(v), σ′(v), f(v), f′(v) applied entry by entry (the book's vectorized function)."""

    def __new__(cls, function: sp.FunctionClass | sp.Symbol, arg: MatrixExpr) -> Apply:
        name = function if isinstance(function, sp.Symbol) else sp.Symbol(function.__name__)
        return MatrixExpr.__new__(cls, name, arg)

    @property
    def function(self) -> sp.FunctionClass:
        return sp.Function(str(self.args[0]))

    @property
    def arg(self) -> MatrixExpr:
        return self.args[1]

    @property
    def shape(self) -> tuple[sp.Expr, sp.Expr]:
        return self.arg.shape


class Diag(MatrixExpr):
    """diag(v): the square matrix with v on its diagonal (Σ′(z) = diag σ′(z))."""

    def __new__(cls, arg: MatrixExpr) -> Diag:
        return MatrixExpr.__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def shape(self) -> tuple[sp.Expr, sp.Expr]:
        return self.arg.shape[0], self.arg.shape[0]


class Outer(MatrixExpr):
    """u ⊗ v = u vᵀ (the note's outer product)."""

    def __new__(cls, u: MatrixExpr, v: MatrixExpr) -> Outer:
        return MatrixExpr.__new__(cls, u, v)

    @property
    def shape(self) -> tuple[sp.Expr, sp.Expr]:
        return self.args[0].shape[0], self.args[1].shape[0]


def comp(name: str, layer: sp.Expr | int, *indices: sp.Expr | int) -> sp.Indexed:
    """An entry: ``comp("delta", l, j)`` is δˡⱼ, ``comp("w", l, j, k)`` is wˡⱼₖ (indices from 1)."""
    return sp.IndexedBase(name)[sp.sympify(layer), *indices]


def w(layer: sp.Expr | int) -> Q:
    return Q("w", layer)


def b(layer: sp.Expr | int) -> Q:
    return Q("b", layer)


def z(layer: sp.Expr | int) -> Q:
    return Q("z", layer)


def a(layer: sp.Expr | int) -> Q:
    return Q("a", layer)


def delta(layer: sp.Expr | int) -> Q:
    return Q("delta", layer)


def dC_db(layer: sp.Expr | int) -> Q:
    return Q("dC_db", layer)


def dC_dw(layer: sp.Expr | int) -> Q:
    return Q("dC_dw", layer)


def dC_da(layer: sp.Expr | int) -> Q:
    return Q("dC_da", layer)


grad_a_C = Q("grad_a_C", L)
y = Q("y", L)


def hadamard(u: MatrixExpr, v: MatrixExpr) -> MatrixExpr:
    """u ⊙ v (no shape check here: a model checks shapes on each concrete network)."""
    return sp.HadamardProduct(u, v)


def mul(*factors: sp.Basic) -> MatrixExpr:
    """The matrix product of the factors, scalars allowed, without simplification."""
    return sp.MatMul(*factors)


def add(*terms: sp.Basic) -> MatrixExpr:
    return sp.MatAdd(*terms)


def T(u: MatrixExpr) -> MatrixExpr:
    """uᵀ."""
    return sp.Transpose(u)


def sig(u: MatrixExpr) -> Apply:
    return Apply(sigma, u)


def sig_prime(u: MatrixExpr) -> Apply:
    return Apply(sigma_prime, u)


def leaves(template: sp.Basic) -> set[Q]:
    """The quantities a matrix template uses."""
    return set(template.atoms(Q))
