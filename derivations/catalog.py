"""Every proposition, fact and equation of the seeds, as checked derivations.

Levels of generality (each derivation states the highest it reaches):
  concrete       every architecture up to a bound, σ and C undefined functions;
  width-generic  index form with symbolic widths (Sum with symbolic bounds);
  depth-generic  the layer-local induction step (all layers above l an undefined function
                 of zˡ⁺¹) with the base case at L: together, every depth.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sympy as sp

from bpverify.derivations.core import Derivation, Step, canonical, equal, sigma
from bpverify.derivations.network import (
    SymbolicNetwork,
    architectures,
    build,
    hadamard,
    quadratic_cost,
    sigma_prime_of,
)

CONCRETE_DEPTH, CONCRETE_WIDTH = 4, 2
"""The default bound of the concrete level: all (n₁, …, n_L) with L ≤ 4 and nₗ ≤ 2 (28 networks)."""


@functools.cache
def facts(sizes: tuple[int, ...]) -> dict[str, Any]:
    """zˡ, aˡ, δˡ (by definition), ∂C/∂b, ∂C/∂w of a symbolic network, computed once."""
    net = build(sizes)
    C = net.C()
    return {"net": net, "zs": net.zs(), "acts": net.activations(),
            "deltas": [net.delta(l) for l in range(2, net.L + 1)],
            "grad_b": [sp.Matrix([sp.diff(C, b) for b in B]) for B in net.biases],
            "grad_w": [W.applyfunc(lambda w: sp.diff(C, w)) for W in net.weights]}


Bound = tuple[int, int]
DEFAULT_BOUND: Bound = (CONCRETE_DEPTH, CONCRETE_WIDTH)


def _all_nets(claim: Callable[[dict[str, Any], int], bool], layers: str,
              bound: Bound = DEFAULT_BOUND) -> Callable[[], bool]:
    """The claim at every layer of every architecture within the concrete bound (depth, width)."""
    def run() -> bool:
        for sizes in architectures(*bound):
            f = facts(sizes)
            L = len(sizes)
            span = {"L": [L], "below L": range(2, L), "all": range(2, L + 1)}[layers]
            if not all(claim(f, l) for l in span):
                return False
        return True
    return run


def _net(f: dict[str, Any]) -> SymbolicNetwork:
    return f["net"]


def _d(f: dict[str, Any], l: int) -> sp.Matrix:
    return f["deltas"][l - 2]


def _z(f: dict[str, Any], l: int) -> sp.Matrix:
    return f["zs"][l - 2]


def _a(f: dict[str, Any], l: int) -> sp.Matrix:
    return f["acts"][l - 1]


def _bp1(f: dict[str, Any], l: int, wrong: bool = False) -> bool:
    net = _net(f)
    sp_z = sigma_prime_of(net, _z(f, l))
    return equal(_d(f, l), net.grad_a_cost() if wrong else hadamard(net.grad_a_cost(), sp_z))


def _bp2(f: dict[str, Any], l: int, wrong: bool = False) -> bool:
    net = _net(f)
    w = net.weights[l - 1]
    back = (w if wrong else w.T) * _d(f, l + 1)
    if back.shape != _d(f, l).shape:
        return False
    return equal(_d(f, l), hadamard(back, sigma_prime_of(net, _z(f, l))))


def _bp3(f: dict[str, Any], l: int) -> bool:
    return equal(f["grad_b"][l - 2], _d(f, l))


def _bp4(f: dict[str, Any], l: int, wrong: bool = False) -> bool:
    a = _a(f, l) if wrong else _a(f, l - 1)
    got = f["grad_w"][l - 2]
    expected = _d(f, l) * a.T
    return got.shape == expected.shape and equal(got, expected)


# -- depth-generic: the layer-local step ---------------------------------------------------------

def _local(n_here: int, n_next: int) -> dict[str, Any]:
    """Layer l with nₗ neurons feeding layer l + 1 with nₗ₊₁; everything above is R(zˡ⁺¹)."""
    z = sp.Matrix(sp.symbols(f"z_1:{n_here + 1}"))
    a_prev = sp.Matrix(sp.symbols("a'_1:3"))
    W = sp.Matrix(n_here, 2, lambda j, k: sp.Symbol(f"w_{j + 1}{k + 1}"))
    b = sp.Matrix(sp.symbols(f"b_1:{n_here + 1}"))
    W_next = sp.Matrix(n_next, n_here, lambda j, k: sp.Symbol(f"W_{j + 1}{k + 1}"))
    b_next = sp.Matrix(sp.symbols(f"B_1:{n_next + 1}"))
    R = sp.Function("R")
    z_next = W_next * z.applyfunc(sigma) + b_next
    C_of_z = R(*z_next)
    zeta = sp.Matrix(sp.symbols(f"zeta_1:{n_next + 1}"))
    delta_next = sp.Matrix([canonical(sp.diff(R(*zeta), s)) for s in zeta]).xreplace(
        dict(zip(zeta, z_next, strict=True)))
    delta = sp.Matrix([canonical(sp.diff(C_of_z, s)) for s in z])
    z_expr = W * a_prev + b
    C_of_params = C_of_z.xreplace(dict(zip(z, z_expr, strict=True)))
    return {"z": z, "W_next": W_next, "delta": delta, "delta_next": delta_next,
            "sigma_prime": z.applyfunc(lambda e: sp.Function("sigma'")(e)),
            "grad_b": sp.Matrix([canonical(sp.diff(C_of_params, s)) for s in b]),
            "grad_w": W.applyfunc(lambda w: canonical(sp.diff(C_of_params, w))),
            "delta_at_params": delta.xreplace(dict(zip(z, z_expr, strict=True))), "a_prev": a_prev}


LOCAL_WIDTHS = ((1, 1), (2, 3), (3, 2), (3, 3))


def _local_bp2(wrong: bool = False) -> bool:
    """The layer-local BP2; the wrong variant (w for wᵀ) on the square case, where it type-checks."""
    for n, m in ((3, 3),) if wrong else LOCAL_WIDTHS:
        f = _local(n, m)
        W_next = f["W_next"]
        back = (W_next if wrong else W_next.T) * f["delta_next"]
        if not equal(f["delta"], hadamard(back, f["sigma_prime"])):
            return False
    return True


def _local_bp3_bp4() -> bool:
    for n, m in LOCAL_WIDTHS:
        f = _local(n, m)
        d = f["delta_at_params"]
        if not (equal(f["grad_b"], d) and equal(f["grad_w"], d * f["a_prev"].T)):
            return False
    return True


# -- width-generic: index form with symbolic widths -------------------------------------------

def _width_generic_bp4(wrong: bool = False) -> bool:
    """∂C/∂w_pq = Σⱼ δⱼ ∂zⱼ/∂w_pq with zⱼ = Σₖ wⱼₖ aₖ + bⱼ over symbolic widths n, m."""
    j, k, p, q = sp.symbols("j k p q", integer=True, nonnegative=True)
    r, s = sp.symbols("r s", integer=True, nonnegative=True)
    w, a, b, delta = sp.IndexedBase("w"), sp.IndexedBase("a"), sp.IndexedBase("b"), sp.IndexedBase("delta")
    n = q + 1 + r  # width of layer l − 1, written so that q < n is evident (no Piecewise)
    m = p + 1 + s  # width of layer l
    z_j = sp.Sum(w[j, k] * a[k], (k, 0, n - 1)) + b[j]
    dz = sp.diff(z_j, w[p, q]).doit()
    lhs = sp.Sum(delta[j] * dz, (j, 0, m - 1)).doit()
    rhs = a[p] * delta[q] if wrong else delta[p] * a[q]
    return bool(sp.factor_terms(sp.simplify(lhs - rhs)) == 0)


def _width_generic_bp2(wrong: bool = False) -> bool:
    """δˡⱼ = Σₖ δˡ⁺¹ₖ ∂zˡ⁺¹ₖ/∂zˡⱼ with zˡ⁺¹ₖ = Σᵢ wₖᵢ σ(zᵢ) + bₖ over symbolic widths."""
    i, j, k = sp.symbols("i j k", integer=True, nonnegative=True)
    r, s = sp.symbols("r s", integer=True, nonnegative=True)
    w, b, z, delta = sp.IndexedBase("w"), sp.IndexedBase("b"), sp.IndexedBase("z"), sp.IndexedBase("delta")
    n = j + 1 + r
    m = s + 1
    z_next_k = sp.Sum(w[k, i] * sigma(z[i]), (i, 0, n - 1)) + b[k]
    dz = sp.diff(z_next_k, z[j]).doit()
    lhs = canonical(sp.Sum(delta[k] * dz, (k, 0, m - 1)).doit())
    weight = w[j, k] if wrong else w[k, j]
    rhs = canonical(sp.Sum(weight * delta[k], (k, 0, m - 1)) * sp.Function("sigma'")(z[j]))
    return bool(sp.simplify(lhs - rhs) == 0)


# -- the derivations ----------------------------------------------------------------------------

def _concrete(bound: Bound) -> str:
    return (f"concrete: every architecture with L ≤ {bound[0]} and widths ≤ {bound[1]}, "
            "σ and C undefined functions")


def _bp1_derivation(bound: Bound = DEFAULT_BOUND) -> Derivation:
    return Derivation(
        "bp1", "BP1: the error in the output layer", "Nielsen §2.4, proof of BP1",
        r"\delta^L = \nabla_a C \odot \sigma'(z^L)",
        _concrete(bound) + "; no induction needed (BP1 is about layer L only)",
        lambda: [
            Step("δᴸⱼ = ∂C/∂zᴸⱼ = Σₖ ∂C/∂aᴸₖ ∂aᴸₖ/∂zᴸⱼ = ∂C/∂aᴸⱼ σ′(zᴸⱼ)",
                 "definition of δ; chain rule; aᴸₖ depends on zᴸⱼ only for k = j",
                 _all_nets(_bp1, "L", bound),
                 r"\delta^L_j = \frac{\partial C}{\partial a^L_j}\,\sigma'(z^L_j)")],
        lambda: Step("δᴸ = ∇ₐC (σ′ left out)", "a plausible wrong variant",
                     _all_nets(lambda f, l: _bp1(f, l, wrong=True), "L", bound)))


def _bp2_derivation(bound: Bound = DEFAULT_BOUND) -> Derivation:
    return Derivation(
        "bp2", "BP2: the error δˡ in terms of δˡ⁺¹", "Nielsen §2.4, proof of BP2",
        r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)",
        "depth-generic (layer-local step for widths (1,1), (2,3), (3,2), (3,3), with BP1 as the "
        "base case: every depth) and width-generic (index form, symbolic widths); also "
        + _concrete(bound),
        lambda: [
            Step("δˡⱼ = Σₖ ∂C/∂zˡ⁺¹ₖ ∂zˡ⁺¹ₖ/∂zˡⱼ = Σₖ wˡ⁺¹ₖⱼ δˡ⁺¹ₖ σ′(zˡⱼ), the rest of the network "
                 "an undefined R(zˡ⁺¹)", "chain rule; zˡ⁺¹ₖ = Σⱼ wˡ⁺¹ₖⱼ σ(zˡⱼ) + bˡ⁺¹ₖ",
                 _local_bp2, r"\delta^l_j = \sum_k w^{l+1}_{kj}\delta^{l+1}_k\,\sigma'(z^l_j)"),
            Step("the same in index form for symbolic widths n, m", "Sum over symbolic bounds",
                 _width_generic_bp2),
            Step("on every concrete network", "definition of δ, chain rule",
                 _all_nets(_bp2, "below L", bound))],
        lambda: Step("δˡ = (wˡ⁺¹ δˡ⁺¹) ⊙ σ′(zˡ) (w instead of wᵀ)", "a plausible wrong variant",
                     lambda: _local_bp2(wrong=True)))


def _bp3_derivation(bound: Bound = DEFAULT_BOUND) -> Derivation:
    return Derivation(
        "bp3", "BP3: the rate of change of the cost with respect to any bias",
        "Nielsen §2.4 (left as an exercise), proved here",
        r"\frac{\partial C}{\partial b^l_j} = \delta^l_j",
        "depth-generic (layer-local step, widths up to 3) and " + _concrete(bound),
        lambda: [
            Step("∂C/∂bˡⱼ = Σₖ ∂C/∂zˡₖ ∂zˡₖ/∂bˡⱼ = δˡⱼ", "chain rule; ∂zˡₖ/∂bˡⱼ = 1 if k = j, else 0",
                 _local_bp3_bp4, r"\frac{\partial C}{\partial b^l_j} = \delta^l_j"),
            Step("on every concrete network", "as above", _all_nets(_bp3, "all", bound))],
        lambda: Step("∂C/∂bˡ = δˡ ⊙ σ′(zˡ) (σ′ applied once more)", "a plausible wrong variant",
                     _all_nets(lambda f, l: equal(f["grad_b"][l - 2],
                                                  hadamard(_d(f, l), sigma_prime_of(_net(f), _z(f, l)))),
                               "all", bound)))


def _bp4_derivation(bound: Bound = DEFAULT_BOUND) -> Derivation:
    return Derivation(
        "bp4", "BP4: the rate of change of the cost with respect to any weight",
        "Nielsen §2.4 (left as an exercise), proved here",
        r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j",
        "width-generic (index form, symbolic widths), depth-generic (layer-local step) and "
        + _concrete(bound),
        lambda: [
            Step("∂C/∂wˡⱼₖ = Σᵢ δˡᵢ ∂zˡᵢ/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ for symbolic widths",
                 "chain rule; zˡᵢ = Σₖ wˡᵢₖ aˡ⁻¹ₖ + bˡᵢ", _width_generic_bp4,
                 r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k\delta^l_j"),
            Step("the layer-local step", "chain rule", _local_bp3_bp4),
            Step("on every concrete network", "as above", _all_nets(_bp4, "all", bound))],
        lambda: Step("∂C/∂wˡⱼₖ = aˡⱼ δˡₖ (indices swapped)", "a plausible wrong variant",
                     lambda: _width_generic_bp4(wrong=True)))


# -- the note (seed 002): Propositions 1, 2, 2E, Facts 1–6, the algorithm ------------------------

def _prop1(transposed: bool = False) -> bool:
    """d_u f = D_u x · d_x f for x: (u₁..u_k) ↦ (x₁..x_n), f undefined; D_u x has rows u_i."""
    for n, k in ((3, 3),) if transposed else ((2, 3), (3, 2), (3, 3)):
        u = sp.symbols(f"u_1:{k + 1}")
        xs = [sp.Function(f"x_{i + 1}")(*u) for i in range(n)]
        X = sp.symbols(f"X_1:{n + 1}")
        f = sp.Function("f")
        lhs = sp.Matrix([sp.diff(f(*xs), ui) for ui in u])
        D = sp.Matrix(k, n, lambda i, j: sp.diff(xs[j], u[i]))
        grad = sp.Matrix([sp.diff(f(*X), Xi) for Xi in X]).xreplace(dict(zip(X, xs, strict=True)))
        if not equal(lhs, (D.T if transposed else D) * grad):
            return False
    return True


def _prop2(drop: bool = False) -> bool:
    """x_i = x_i(u_i): d_u f = d_x f ⊙ d_u x."""
    n = 3
    u = sp.symbols(f"u_1:{n + 1}")
    xs = [sp.Function(f"x_{i + 1}")(u[i]) for i in range(n)]
    X = sp.symbols(f"X_1:{n + 1}")
    f = sp.Function("f")
    lhs = sp.Matrix([sp.diff(f(*xs), ui) for ui in u])
    grad = sp.Matrix([sp.diff(f(*X), Xi) for Xi in X]).xreplace(dict(zip(X, xs, strict=True)))
    du = sp.Matrix([sp.diff(xs[i], u[i]) for i in range(n)])
    return equal(lhs, grad if drop else hadamard(grad, du))


def _prop2e(rows: bool = False) -> bool:
    """x_i depends on row i of U only: d_{c_j} f = d_x f ⊙ d_{c_j} x, for each column c_j."""
    m = n = 3
    U = sp.Matrix(m, n, lambda i, j: sp.Symbol(f"u_{i + 1}{j + 1}"))
    xs = [sp.Function(f"x_{i + 1}")(*U.row(i)) for i in range(m)]
    X = sp.symbols(f"X_1:{m + 1}")
    f = sp.Function("f")
    grad = sp.Matrix([sp.diff(f(*X), Xi) for Xi in X]).xreplace(dict(zip(X, xs, strict=True)))
    for j in range(n):
        column = U.row(j).T if rows else U.col(j)
        lhs = sp.Matrix([sp.diff(f(*xs), c) for c in column])
        d_col = sp.Matrix([sp.diff(xs[i], column[i]) for i in range(m)])
        if not equal(lhs, hadamard(grad, d_col)):
            return False
    return True


def _last_layer(n: int, n_prev: int) -> dict[str, Any]:
    a_prev = sp.Matrix(sp.symbols(f"a'_1:{n_prev + 1}"))
    W = sp.Matrix(n, n_prev, lambda j, k: sp.Symbol(f"w_{j + 1}{k + 1}"))
    b = sp.Matrix(sp.symbols(f"b_1:{n + 1}"))
    y = sp.Matrix(sp.symbols(f"y_1:{n + 1}"))
    A = sp.Matrix(sp.symbols(f"A_1:{n + 1}"))
    z = W * a_prev + b
    a = z.applyfunc(sigma)
    half = sp.Rational(1, 2)
    C = half * sum((yi - ai) ** 2 for yi, ai in zip(y, a, strict=True))
    C_of_A = half * sum((yi - Ai) ** 2 for yi, Ai in zip(y, A, strict=True))
    zeta = sp.Matrix(sp.symbols(f"zeta_1:{n + 1}"))
    C_of_zeta = C_of_A.xreplace(dict(zip(A, zeta.applyfunc(sigma), strict=True)))
    d_a = sp.Matrix([sp.diff(C_of_A, s) for s in A])
    d_z = sp.Matrix([canonical(sp.diff(C_of_zeta, s)) for s in zeta]).xreplace(
        dict(zip(zeta, z, strict=True)))
    return {"a_prev": a_prev, "W": W, "b": b, "y": y, "A": A, "z": z, "a": a, "C": C,
            "d_a": d_a, "d_z": d_z}


def _facts_1_to_5(wrong: bool = False) -> Callable[[], list[Step]]:
    def fact(number: int) -> Callable[[], bool]:
        def run() -> bool:
            for n, n_prev in ((2, 3), (3, 2)):
                f = _last_layer(n, n_prev)
                A, y, z = f["A"], f["y"], f["z"]
                sp_z = z.applyfunc(lambda e: sp.Function("sigma'")(e))
                d_a_at_a = f["d_a"].xreplace(dict(zip(A, f["a"], strict=True)))
                checks = {
                    1: lambda: equal(f["d_a"], (y - A) if wrong else (A - y)),
                    2: lambda: equal(f["d_z"], hadamard(d_a_at_a, sp_z)),
                    3: lambda: equal(sp.Matrix([sp.diff(f["C"], bj) for bj in f["b"]]), f["d_z"]),
                    4: lambda: all(equal(sp.Matrix([sp.diff(f["C"], w) for w in f["W"].col(i)]),
                                         f["a_prev"][i] * f["d_z"])
                                   for i in range(n_prev)),
                    5: lambda: equal(f["W"].applyfunc(lambda w: sp.diff(f["C"], w)),
                                     f["d_z"] * f["a_prev"].T),
                }
                if not checks[number]():
                    return False
            return True
        return run

    names = {1: ("d_a C = a − y", "C = ½‖y − a‖²; Prop. 2 with δ = y − a, ∂δ/∂a = −1",
                 r"\frac{\partial C}{\partial \vec a} = \vec a - \vec y"),
             2: ("d_z C = d_a C ⊙ σ′(z)", "Prop. 2: aᵢ = σ(zᵢ) depends on zᵢ only",
                 r"\frac{\partial C}{\partial \vec z} = \frac{\partial C}{\partial \vec a} \odot "
                 r"\sigma'(\vec z)"),
             3: ("d_b C = d_z C", "Prop. 2: zᵢ = Σ w a′ + bᵢ, ∂zᵢ/∂bᵢ = 1",
                 r"\frac{\partial C}{\partial \vec b} = \frac{\partial C}{\partial \vec z}"),
             4: ("d_{wᵢ} C = a′ᵢ d_z C (column i of W)", "Prop. 2E: zᵢ depends on row i of W",
                 r"\frac{\partial C}{\partial \vec w_i} = a'_i\,\frac{\partial C}{\partial \vec z}"),
             5: ("D_W C = d_z C ⊗ a′", "the columns of Fact 4 side by side: an outer product",
                 r"\frac{\partial C}{\partial W} = \frac{\partial C}{\partial \vec z} \otimes \vec a'")}
    return lambda: [Step(f"Fact {k}: {names[k][0]}", names[k][1], fact(k), names[k][2])
                    for k in (1, 2, 3, 4, 5)]


def _fact6(wrong: bool = False) -> bool:
    """d_{a′} C = Wᵀ d_z C with C = R(z), z = W a′ + b, R undefined: the note's inductive step."""
    for n, n_prev in ((3, 3),) if wrong else ((2, 3), (3, 2), (3, 3)):
        a_prev = sp.Matrix(sp.symbols(f"a'_1:{n_prev + 1}"))
        W = sp.Matrix(n, n_prev, lambda j, k: sp.Symbol(f"w_{j + 1}{k + 1}"))
        b = sp.Matrix(sp.symbols(f"b_1:{n + 1}"))
        z = W * a_prev + b
        R = sp.Function("R")
        zeta = sp.symbols(f"zeta_1:{n + 1}")
        d_z = sp.Matrix([canonical(sp.diff(R(*zeta), s)) for s in zeta]).xreplace(
            dict(zip(zeta, z, strict=True)))
        lhs = sp.Matrix([sp.diff(R(*z), s) for s in a_prev])
        if not equal(lhs, (W if wrong else W.T) * d_z):
            return False
    return True


def _sigmoid_substituted(expr: sp.Expr) -> sp.Expr:
    """σ′(t) → σ(t)(1 − σ(t)), the note's substitution (proved in ``sigmoid_prime``)."""
    return sp.expand(canonical(expr).replace(sp.Function("sigma'"), lambda t: sigma(t) * (1 - sigma(t))))


def _backpropagate_algorithm(wrong: bool = False) -> bool:
    """The note's Backpropagate(y, A), with σ′ = a(1 − a), gives ΔW = −η D_W C and Δb = −η d_b C."""
    eta = sp.Symbol("eta")
    for sizes in ((2, 2, 2), (1, 2, 2, 1)):
        y = sp.Matrix(sp.symbols(f"y_1:{sizes[-1] + 1}"))
        net = build(sizes, cost=quadratic_cost(y))
        C, A = net.C(), net.activations()
        d_a = A[-1] - y
        d_z = hadamard(d_a, A[-1].applyfunc(lambda a: a * (1 - a)))
        for l in range(net.L, 1, -1):  # "for each layer l from L to 2"
            a_prev = A[l - 2]
            delta_b, delta_W = -eta * d_z, -eta * d_z * a_prev.T
            true_b = -eta * sp.Matrix([sp.diff(C, b) for b in net.biases[l - 2]])
            true_W = -eta * net.weights[l - 2].applyfunc(lambda w: sp.diff(C, w))
            if not (sp.expand(_sigmoid_substituted(true_b - delta_b)) == sp.zeros(*delta_b.shape)
                    and sp.expand(_sigmoid_substituted(true_W - delta_W))
                    == sp.zeros(*delta_W.shape)):
                return False
            d_a = net.weights[l - 2].T * d_z
            a_used = A[l - 1] if wrong else a_prev
            d_z = hadamard(d_a, a_used.applyfunc(lambda a: a * (1 - a))) if l > 2 else d_z
    return True


# -- the book's other claims -----------------------------------------------------------------------

def _sigmoid_prime(wrong: bool = False) -> bool:
    z = sp.Symbol("z")
    s = 1 / (1 + sp.exp(-z))
    claim = s * (1 + s) if wrong else s * (1 - s)
    return bool(sp.simplify(sp.diff(s, z) - claim) == 0)


def _sigma_prime_matrix_form(part: int, wrong: bool = False) -> Callable[[], bool]:
    """Parts (1)–(3) of "alternate presentation": Σ′(z) = diag(σ′(z))."""
    def run() -> bool:
        for sizes in ((2, 2, 2), (2, 1, 2, 2), (1, 2, 2, 1)):
            f = facts(sizes)
            net = _net(f)
            L = net.L

            def S(l: int) -> sp.Matrix:
                return sp.diag(*sigma_prime_of(net, _z(f, l)))
            if part == 1 and not equal(_d(f, L), S(L) * net.grad_a_cost()):
                return False
            for l in range(2, L):
                if part == 2:
                    rhs = (net.weights[l - 1].T * S(l + 1) * _d(f, l + 1) if wrong
                           else S(l) * net.weights[l - 1].T * _d(f, l + 1))
                    if not equal(_d(f, l), rhs):
                        return False
                if part == 3:
                    product = S(l)
                    for k in range(l + 1, L + 1):
                        product = product * net.weights[k - 2].T * S(k)
                    if not equal(_d(f, l), product * net.grad_a_cost()):
                        return False
        return True
    return run


def _modified_neuron(wrong: bool = False) -> bool:
    """Neuron 1 of layer 2 outputs f(z) instead of σ(z): BP2 holds with f′ in its place."""
    fn = sp.Function("f")
    x = sp.Matrix(sp.symbols("x_1:3"))
    W2 = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f"w^2_{j + 1}{k + 1}"))
    W3 = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f"w^3_{j + 1}{k + 1}"))
    b2, b3 = sp.Matrix(sp.symbols("b^2_1:3")), sp.Matrix(sp.symbols("b^3_1:3"))
    z2 = W2 * x + b2

    def layer2(z: sp.Matrix) -> sp.Matrix:
        return sp.Matrix([fn(z[0]), sigma(z[1])])
    C = sp.Function("C")
    zeta2, zeta3 = sp.symbols("zeta_1:3"), sp.symbols("xi_1:3")
    down2 = C(*(W3 * layer2(sp.Matrix(zeta2)) + b3).applyfunc(sigma))
    delta2 = sp.Matrix([canonical(sp.diff(down2, s)) for s in zeta2]).xreplace(
        dict(zip(zeta2, z2, strict=True)))
    z3 = W3 * layer2(z2) + b3
    delta3 = sp.Matrix([canonical(sp.diff(C(*sp.Matrix(zeta3).applyfunc(sigma)), s))
                        for s in zeta3]).xreplace(dict(zip(zeta3, z3, strict=True)))
    first = sp.Function("sigma'")(z2[0]) if wrong else sp.Function("f'")(z2[0])
    derivative = sp.Matrix([first, sp.Function("sigma'")(z2[1])])
    return equal(delta2, hadamard(W3.T * delta3, derivative))


def _linear_neurons(wrong: bool = False) -> bool:
    """σ(z) = z: δᴸ = ∇ₐC and δˡ = (wˡ⁺¹)ᵀδˡ⁺¹, no σ′ anywhere."""
    for sizes in ((2, 2, 2), (2, 3, 3, 2)):
        net = build(sizes, activation=lambda e: e)
        if not equal(net.delta(net.L), net.grad_a_cost()):
            return False
        for l in range(2, net.L):
            w = net.weights[l - 1]
            if wrong and w.shape[0] != w.shape[1]:
                continue
            if not equal(net.delta(l), (w if wrong else w.T) * net.delta(l + 1)):
                return False
    return True


def _mini_batch_rule(wrong: bool = False) -> bool:
    """C = (1/m)Σₓ Cₓ ⇒ w − η∂C/∂w = w − (η/m)Σₓ δˣ'ˡ(aˣ'ˡ⁻¹)ᵀ (and b likewise), m = 2."""
    eta, m = sp.Symbol("eta"), 2
    nets = [build((2, 2, 1)) for _ in range(m)]
    xs = [sp.Matrix(sp.symbols(f"x^{e}_1:3")) for e in range(m)]
    for net, x in zip(nets, xs, strict=True):
        net.x = x
    C = sum(net.C() for net in nets) / m
    for l in (2, 3):
        W = nets[0].weights[l - 2]
        step = -eta * W.applyfunc(lambda w: sp.diff(C, w))
        per_example = sum((net.delta(l) * net.activations()[l - 2].T for net in nets),
                          sp.zeros(*W.shape))
        rule = -(eta if wrong else eta / m) * per_example
        if not equal(step, rule):
            return False
    return True


def _difference_orders(central: bool, claimed_order: int) -> bool:
    """Series in ε: forward difference − f′ starts at ε¹, central at ε² (equation 46 and after)."""
    w, eps = sp.symbols("w epsilon")
    f = sp.Function("f")
    quotient = ((f(w + eps) - f(w - eps)) / (2 * eps)) if central else ((f(w + eps) - f(w)) / eps)
    error = canonical((quotient - sp.diff(f(w), w)).series(eps, 0, 4).removeO())
    poly = sp.Poly(error, eps)
    lowest = min(k for (k,) in poly.monoms()) if poly.monoms() else None
    leading = poly.coeff_monomial(eps ** claimed_order)
    if lowest != claimed_order:
        return False
    expected = canonical(sp.diff(f(w), w, 3) / 6 if central else sp.diff(f(w), w, 2) / 2)
    return equal(leading, expected)


def _path_sum(wrong: bool = False) -> bool:
    """∂C/∂wˡⱼₖ = Σ over paths of ∂C/∂aᴸₘ ∂aᴸₘ/∂aᴸ⁻¹ₙ ⋯ ∂aˡⱼ/∂wˡⱼₖ (equation 53), every weight."""
    import itertools
    for sizes in ((1, 2, 2, 1), (2, 2, 2)):
        net = build(sizes)
        A = net.activations()
        C = net.C()
        for l in range(2, net.L + 1):
            for j, k in itertools.product(range(sizes[l - 1]), range(sizes[l - 2])):
                w = net.weights[l - 2][j, k]
                total = sp.Integer(0)
                for tail in itertools.product(*(range(n) for n in sizes[l:])):
                    path = (j, *tail)
                    factor = sp.diff(A[l - 1][j], w)  # ∂aˡⱼ/∂wˡⱼₖ (through zˡⱼ only)
                    for step, i in enumerate(range(l + 1, net.L + 1)):
                        q, p = path[step + 1], path[step]
                        z_q = net.weights[i - 2][q, :] * A[i - 2] + net.biases[i - 2][q, :]
                        a_p = sp.Symbol("alpha")
                        local = sigma((z_q.xreplace({A[i - 2][p]: a_p}))[0])
                        rate = sp.diff(local, a_p).xreplace({a_p: A[i - 2][p]})
                        factor = factor * (rate if not wrong or step else rate * 0 + 1)
                    A_sym = sp.symbols(f"A_1:{sizes[-1] + 1}")
                    dC = sp.diff(sp.Function("C")(*A_sym), A_sym[path[-1]]).xreplace(
                        dict(zip(A_sym, A[-1], strict=True)))
                    total += dC * factor
                if not equal(total, sp.diff(C, w)):
                    return False
    return True


def _cross_entropy_sigmoid(wrong: bool = False) -> bool:
    """C = −[y ln a + (1 − y) ln(1 − a)], a = σ(z) = 1/(1 + e^(−z)) ⇒ δᴸ = ∂C/∂z = a − y."""
    z, y = sp.symbols("z y")
    a = 1 / (1 + sp.exp(-z))
    C = -(y * sp.log(a) + (1 - y) * sp.log(1 - a))
    claim = (a - y) * sp.diff(a, z) if wrong else a - y
    return bool(sp.simplify(sp.diff(C, z) - claim) == 0)


def _steps(*steps: Step) -> Callable[[], list[Step]]:
    return lambda: list(steps)


def _single(claim: str, why: str, run: Callable[[], bool], latex: str = "") -> Callable[[], list[Step]]:
    return _steps(Step(claim, why, run, latex))


def _negative(claim: str, run: Callable[[], bool]) -> Callable[[], Step]:
    return lambda: Step(claim, "a plausible wrong variant", run)


DERIVATIONS: tuple[Derivation, ...] = (
    Derivation("prop1", "Proposition 1 (chain rule)", "derivation note, Prop. 1",
               r"\frac{\partial f}{\partial \vec u} = D_{\vec u}\vec x \cdot \frac{\partial "
               r"f}{\partial \vec x}",
               "concrete: n, k ∈ {2, 3}, f and every xᵢ undefined functions",
               _single("d_u f = D_u x · d_x f", "∂f/∂uᵢ = Σⱼ ∂f/∂xⱼ ∂xⱼ/∂uᵢ", _prop1),
               _negative("d_u f = (D_u x)ᵀ · d_x f", lambda: _prop1(transposed=True))),
    Derivation("prop2", "Proposition 2 (the \"parallel\" chain rule)", "derivation note, Prop. 2",
               r"\frac{\partial f}{\partial \vec u} = \frac{\partial f}{\partial \vec x} \odot "
               r"\frac{\partial \vec x}{\partial \vec u}",
               "concrete: n = 3, f and every xᵢ(uᵢ) undefined",
               _single("d_u f = d_x f ⊙ d_u x", "Prop. 1 with a diagonal D_u x", _prop2),
               _negative("d_u f = d_x f (the ⊙ d_u x left out)", lambda: _prop2(drop=True))),
    Derivation("prop2e", "Proposition 2E (columns of a matrix)", "derivation note, Prop. 2E",
               r"\frac{\partial f}{\partial \vec c_j} = \frac{\partial f}{\partial \vec x} \odot "
               r"\frac{\partial \vec x}{\partial \vec c_j}",
               "concrete: U 3×3, f and every xᵢ(row i) undefined",
               _single("d_{c_j} f = d_x f ⊙ d_{c_j} x for every column j",
                       "only u_ij is in both row i and column j", _prop2e),
               _negative("the same along rows instead of columns", lambda: _prop2e(rows=True))),
    Derivation("facts1-5", "Facts 1–5: the last layer, quadratic cost", "derivation note, Facts 1–5",
               r"\frac{\partial C}{\partial \vec a} = \vec a-\vec y,\ \frac{\partial C}{\partial \vec "
               r"z} = \frac{\partial C}{\partial \vec a}\odot\sigma'(\vec z),"
               r"\ \frac{\partial C}{\partial \vec b} = \frac{\partial C}{\partial \vec z},\ "
               r"\frac{\partial C}{\partial W} = \frac{\partial C}{\partial \vec z}\otimes\vec a'",
               "concrete: (n, n′) ∈ {(2, 3), (3, 2)}, σ undefined", _facts_1_to_5(),
               lambda: Step("Fact 1 as d_a C = y − a", "a plausible wrong variant",
                            _facts_1_to_5(wrong=True)()[0].check)),
    Derivation("fact6", "Fact 6 and the induction to every layer", "derivation note, Fact 6",
               r"\frac{\partial C}{\partial \vec a'} = W^T \frac{\partial C}{\partial \vec z}",
               "depth-generic: the inductive step with the rest of the network an undefined "
               "R(z); with Facts 1–5 as the base case it gives every layer",
               _single("d_{a′} C = Wᵀ d_z C", "Prop. 1 with D_{a′} z = Wᵀ", _fact6,
                       r"\frac{\partial C}{\partial \vec a'} = W^T \frac{\partial C}{\partial \vec z}"),
               _negative("d_{a′} C = W d_z C", lambda: _fact6(wrong=True))),
    Derivation("backpropagate", "The algorithm Backpropagate(y, A) equals BP1–BP4",
               "derivation note, Backpropagate and Train",
               r"\Delta W^l = -\eta\,\frac{\partial C}{\partial \vec z}\otimes\vec a',\quad \sigma' = a(1-a)",
               "concrete: sizes (2, 2, 2) and (1, 2, 2, 1), quadratic cost, σ′ = σ(1 − σ)",
               _single("every ΔW, Δb of the algorithm is −η times ∂C/∂W, ∂C/∂b",
                       "Facts 1–6; σ′ = a(1 − a) (sigmoid_prime)", _backpropagate_algorithm),
               _negative("using a(1 − a) of the current layer instead of a′(1 − a′)",
                         lambda: _backpropagate_algorithm(wrong=True))),
    Derivation("sigmoid_prime", "σ′ = σ(1 − σ)", "Nielsen §2.4; derivation note",
               r"\sigma'(z) = \sigma(z)(1-\sigma(z))", "general: z symbolic",
               _single("d/dz (1 + e^(−z))⁻¹ = σ(z)(1 − σ(z))", "quotient rule", _sigmoid_prime),
               _negative("σ′ = σ(1 + σ)", lambda: _sigmoid_prime(wrong=True))),
    _bp1_derivation(), _bp2_derivation(), _bp3_derivation(), _bp4_derivation(),
    Derivation("sigma_prime_form", "BP1 and BP2 with the diagonal matrix Σ′(z), parts 1–3",
               "Nielsen §2.4, problem \"alternate presentation\"",
               r"\delta^l = \Sigma'(z^l)(w^{l+1})^T\cdots\Sigma'(z^{L-1})(w^L)^T\Sigma'(z^L)\nabla_a C",
               "concrete: sizes (2, 2, 2), (2, 1, 2, 2), (1, 2, 2, 1), σ and C undefined",
               _steps(Step("(1) δᴸ = Σ′(zᴸ)∇ₐC", "diag(v)u = v ⊙ u", _sigma_prime_matrix_form(1)),
                      Step("(2) δˡ = Σ′(zˡ)(wˡ⁺¹)ᵀδˡ⁺¹", "BP2 and diag(v)u = v ⊙ u",
                           _sigma_prime_matrix_form(2)),
                      Step("(3) the closed product", "(1) and (2), by induction downwards",
                           _sigma_prime_matrix_form(3))),
               _negative("(2) as (wˡ⁺¹)ᵀΣ′(zˡ⁺¹)δˡ⁺¹", _sigma_prime_matrix_form(2, wrong=True))),
    Derivation("modified_neuron", "Backpropagation with a single modified neuron",
               "Nielsen §2.5, exercise",
               r"\delta^l_j = ((w^{l+1})^T\delta^{l+1})_j\, f'(z^l_j) \text{ for the modified neuron}",
               "concrete: sizes (2, 2, 2), neuron 1 of layer 2 with an undefined f",
               _single("BP2 with f′(zˡⱼ) in place of σ′(zˡⱼ) for that neuron", "chain rule",
                       _modified_neuron),
               _negative("keeping σ′ for the modified neuron", lambda: _modified_neuron(wrong=True))),
    Derivation("linear_neurons", "Backpropagation with linear neurons σ(z) = z",
               "Nielsen §2.5, exercise",
               r"\delta^L = \nabla_a C,\quad \delta^l = (w^{l+1})^T\delta^{l+1}",
               "concrete: sizes (2, 2, 2) and (2, 3, 3, 2), C undefined",
               _single("BP1 and BP2 with σ′ = 1", "σ(z) = z", _linear_neurons),
               _negative("δˡ = wˡ⁺¹δˡ⁺¹", lambda: _linear_neurons(wrong=True))),
    Derivation("mini_batch", "The mini-batch gradient-descent rule", "Nielsen §2.5",
               r"w^l \to w^l - \frac{\eta}{m}\sum_x \delta^{x,l}(a^{x,l-1})^T",
               "concrete: m = 2 examples, sizes (2, 2, 1), C undefined",
               _single("−η∂C/∂wˡ for C = (1/m)ΣₓCₓ is −(η/m)Σₓδˣ'ˡ(aˣ'ˡ⁻¹)ᵀ", "BP4 per example",
                       _mini_batch_rule),
               _negative("−η Σₓ δˣ'ˡ(aˣ'ˡ⁻¹)ᵀ (η instead of η/m)", lambda: _mini_batch_rule(wrong=True))),
    Derivation("finite_differences", "Equation 46: truncation orders of the difference quotients",
               "Nielsen §2.6",
               r"\frac{C(w+\epsilon)-C(w)}{\epsilon} = C' + \frac{\epsilon}{2}C'' + O(\epsilon^2),"
               r"\ \frac{C(w+\epsilon)-C(w-\epsilon)}{2\epsilon} = C' + \frac{\epsilon^2}{6}C''' + "
               r"O(\epsilon^4)",
               "general: C an undefined function, Taylor series",
               _steps(Step("forward difference: error ε C″/2 + O(ε²)", "Taylor series",
                           lambda: _difference_orders(central=False, claimed_order=1)),
                      Step("central difference: error ε² C‴/6 + O(ε⁴)", "Taylor series; even terms cancel",
                           lambda: _difference_orders(central=True, claimed_order=2))),
               _negative("the forward difference is O(ε²)",
                         lambda: _difference_orders(central=False, claimed_order=2))),
    Derivation("path_sum", "Equation 53: the gradient as a sum over paths", "Nielsen §2.7",
               r"\frac{\partial C}{\partial w^l_{jk}} = \sum_{mnp\ldots q}\frac{\partial C}{\partial a^L_m}"
               r"\frac{\partial a^L_m}{\partial a^{L-1}_n}\cdots\frac{\partial a^{l+1}_q}{\partial a^l_j}"
               r"\frac{\partial a^l_j}{\partial w^l_{jk}}",
               "concrete: sizes (1, 2, 2, 1) and (2, 2, 2), every weight, σ and C undefined",
               _single("Σ over paths of products of rate factors = ∂C/∂wˡⱼₖ", "chain rule, path by path",
                       _path_sum),
               _negative("dropping the first rate factor of each path", lambda: _path_sum(wrong=True))),
    Derivation("cross_entropy", "Cross-entropy with sigmoid output: δᴸ = aᴸ − y",
               "one step beyond the seeds (the book's ch. 3)",
               r"C = -[y\ln a + (1-y)\ln(1-a)],\ a = \sigma(z) \Rightarrow \delta^L = a^L - y",
               "general: z, y symbolic, σ the sigmoid",
               _single("∂C/∂z = a − y", "σ′ = σ(1 − σ) cancels the denominators", _cross_entropy_sigmoid),
               _negative("δᴸ = (a − y)σ′(z)", lambda: _cross_entropy_sigmoid(wrong=True))),
)


def with_concrete_bound(depth: int, width: int) -> tuple[Derivation, ...]:
    """All derivations, BP1–BP4 checked on every architecture with L ≤ depth, widths ≤ width
    (the default, CONCRETE_DEPTH and CONCRETE_WIDTH, keeps tox fast; larger is thorougher)."""
    if depth < 2 or width < 1:
        raise ValueError(f"bound is depth {depth}, width {width}; expected depth ≥ 2, width ≥ 1")
    bound = (depth, width)
    rebuilt = {"bp1": _bp1_derivation(bound), "bp2": _bp2_derivation(bound),
               "bp3": _bp3_derivation(bound), "bp4": _bp4_derivation(bound)}
    return tuple(rebuilt.get(d.name, d) for d in DERIVATIONS)
