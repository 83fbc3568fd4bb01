"""A concrete network in symbols, with σ an undefined function and C an undefined function of
aᴸ, so that one proof covers every activation and every cost.

Names follow the book: wˡⱼₖ joins neuron k of layer l − 1 to neuron j of layer l (indices
from 1 in the symbols' names), the input layer is layer 1. δˡⱼ is taken from its definition,
∂C/∂zˡⱼ: the layers above l are rebuilt from fresh symbols ζˡ standing for zˡ,
differentiated, and ζˡ put back to zˡ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from bpverify.derivations.core import canonical, sigma

Activation = Callable[[sp.Expr], sp.Expr]


@dataclass
class SymbolicNetwork:
    sizes: tuple[int, ...]
    weights: list[sp.Matrix]   # layers 2..L
    biases: list[sp.Matrix]
    x: sp.Matrix
    activation: Activation
    cost: Callable[[sp.Matrix], sp.Expr]

    @property
    def L(self) -> int:
        return len(self.sizes)

    def forward_from(self, l: int, zeta: sp.Matrix) -> sp.Matrix:
        """aᴸ computed from zˡ = ζ (l ≥ 2)."""
        a = zeta.applyfunc(self.activation)
        for k in range(l + 1, self.L + 1):
            a = (self.weights[k - 2] * a + self.biases[k - 2]).applyfunc(self.activation)
        return a

    def zs(self) -> list[sp.Matrix]:
        """z², …, zᴸ as expressions in the parameters and x."""
        out, a = [], self.x
        for w, b in zip(self.weights, self.biases, strict=True):
            z = w * a + b
            out.append(z)
            a = z.applyfunc(self.activation)
        return out

    def activations(self) -> list[sp.Matrix]:
        """a¹ = x, a², …, aᴸ."""
        return [self.x] + [z.applyfunc(self.activation) for z in self.zs()]

    def C(self) -> sp.Expr:
        return self.cost(self.activations()[-1])

    def delta(self, l: int) -> sp.Matrix:
        """δˡ = ∂C/∂zˡ by its definition (canonical form)."""
        n = self.sizes[l - 1]
        zeta = sp.Matrix(sp.symbols(f"zeta_1:{n + 1}"))
        downstream = self.cost(self.forward_from(l, zeta))
        back = dict(zip(zeta, self.zs()[l - 2], strict=True))
        return sp.Matrix([canonical(sp.diff(downstream, s)).xreplace(back) for s in zeta])

    def grad_a_cost(self) -> sp.Matrix:
        """∇ₐC at aᴸ (canonical form: C_j(aᴸ) for an undefined C)."""
        n = self.sizes[-1]
        A = sp.Matrix(sp.symbols(f"A_1:{n + 1}"))
        back = dict(zip(A, self.activations()[-1], strict=True))
        return sp.Matrix([canonical(sp.diff(self.cost(A), s)).xreplace(back) for s in A])


def undefined_cost(a: sp.Matrix) -> sp.Expr:
    """C as an undefined function of the output activations aᴸ₁, …, aᴸₙ."""
    return sp.Function("C")(*a)


def quadratic_cost(y: sp.Matrix) -> Callable[[sp.Matrix], sp.Expr]:
    return lambda a: sp.Rational(1, 2) * sum((ai - yi) ** 2 for ai, yi in zip(a, y, strict=True))


def build(sizes: Sequence[int], activation: Activation = sigma,
          cost: Callable[[sp.Matrix], sp.Expr] = undefined_cost) -> SymbolicNetwork:
    """Symbols wˡⱼₖ, bˡⱼ and x_k for the given sizes."""
    weights, biases = [], []
    for l in range(2, len(sizes) + 1):
        n, n_prev = sizes[l - 1], sizes[l - 2]
        weights.append(sp.Matrix(n, n_prev, lambda j, k, l=l: sp.Symbol(f"w^{l}_{j + 1}{k + 1}")))
        biases.append(sp.Matrix(n, 1, lambda j, _, l=l: sp.Symbol(f"b^{l}_{j + 1}")))
    x = sp.Matrix(sizes[0], 1, lambda k, _: sp.Symbol(f"x_{k + 1}"))
    return SymbolicNetwork(tuple(sizes), weights, biases, x, activation, cost)


def hadamard(u: sp.Matrix, v: sp.Matrix) -> sp.Matrix:
    """u ⊙ v."""
    return u.multiply_elementwise(v)


def sigma_prime_of(net: SymbolicNetwork, z: sp.Matrix) -> sp.Matrix:
    """σ′(z) entry by entry, in the checker's canonical form."""
    t = sp.Symbol("t")
    return z.applyfunc(lambda e: canonical(sp.Subs(sp.diff(net.activation(t), t), t, e)))


def architectures(max_depth: int, max_width: int) -> list[tuple[int, ...]]:
    """Every (n₁, …, n_L) with 2 ≤ L ≤ max_depth and 1 ≤ nₗ ≤ max_width."""
    import itertools

    return [sizes for L in range(2, max_depth + 1)
            for sizes in itertools.product(range(1, max_width + 1), repeat=L)]
