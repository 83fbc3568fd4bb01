"""A derivation's statement on numbers: its right side lambdified from the very template the proof
checks, evaluated on random concrete cases with the inputs each method supplies, against the left
side as that method computes it (the numpy reference, JAX autodiff, the complex step, central
differences). Props. 1, 2, 2E are evaluated on random smooth functions.

Each evaluation answers a ``Discrepancy`` (normwise, as ``oracles.discrepancy``) per method, or
raises ``NotEvaluated`` with the reason where the method does not apply.

Kept whole: one dispatcher from a statement to its numbers, each kind of statement's evaluator
(matrix templates, components, smooth functions) beside the others, sharing the methods'
derivatives and their caches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from bpverify.derivations.core import Derivation
from bpverify.derivations.notation import QUANTITIES, Apply, Diag, L, Outer, Q, eta, l, m
from bpverify.oracles import jax_gradient
from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import Case, random_case
from bpverify.oracles.claims import LEARNING_RATE
from bpverify.oracles.discrepancy import Discrepancy, worst_discrepancy
from bpverify.reference import costs
from bpverify.reference.activations import identity, sigmoid
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.numerical import adaptive_central_gradient, numerical_gradient

ORACLES = {o.column: o for o in (oracles.MATRIX, oracles.JAX_AUTODIFF, oracles.COMPLEX_STEP,
                                 oracles.CENTRAL)}
METHODS = tuple(ORACLES)
"""The columns ("reference", "JAX autodiff", "complex step", "central diff."): each method's
tolerance is its oracle's (the lambdified right side adds a few roundings to the method's own,
so the method's named tolerance applies unchanged)."""


class NotEvaluated(Exception):
    """The method does not apply to this statement (the reason is the message)."""


class _Printer(NumPyPrinter):
    """NumPy code for the book's nodes: σ(v) and σ′(v) elementwise, Σ′ = diag, u ⊗ v = u vᵀ."""

    def _print_Apply(self, expr: Apply) -> str:
        return f"book_{expr.args[0]}({self._print(expr.arg)})"

    def _print_Diag(self, expr: Diag) -> str:
        return f"numpy.diagflat({self._print(expr.arg)})"

    def _print_Outer(self, expr: Outer) -> str:
        return f"numpy.outer({self._print(expr.args[0])}, {self._print(expr.args[1])})"


def lambdify_template(template: sp.Basic, bind: dict[sp.Symbol, float],
                      functions: dict[str, Callable[[np.ndarray], np.ndarray]]
                      ) -> tuple[Callable[..., np.ndarray], list[tuple[str, int]]]:
    """The template at concrete layers as a numpy function of its leaves (name, layer)."""
    bound = template.xreplace({k: sp.nsimplify(v) for k, v in bind.items()})
    leaves = sorted(bound.atoms(Q), key=sp.default_sort_key)
    symbols = [sp.MatrixSymbol(f"{q.name}_{int(q.layer)}", 1, 1) for q in leaves]
    code = bound.xreplace(dict(zip(leaves, symbols, strict=True)))
    namespace = {f"book_{name}": fn for name, fn in functions.items()}
    fn = sp.lambdify(symbols, code, modules=[namespace, "numpy"], printer=_Printer)
    return fn, [(q.name, int(q.layer)) for q in leaves]


# -- what each method says the derivatives are ----------------------------------------------------

def _cost_of_activation_offsets(case: Case) -> Callable[[Any], Any]:
    """v ↦ C with aˡ ← aˡ + vˡ at every layer 1..L (one example): ∂C/∂vˡ at v = 0 is ∂C/∂aˡ,
    for every layer from one gradient (any array namespace)."""
    sizes, x, y = case.sizes, case.x, case.y
    starts = np.cumsum([0, *sizes])

    def f(v: Any) -> Any:
        a = x + v[starts[0]:starts[1]].reshape(-1, 1)
        for layer, (w, b, act) in enumerate(zip(case.weights, case.biases, case.activations, strict=True), 2):
            a = act.f(w @ a + b) + v[starts[layer - 1]:starts[layer]].reshape(-1, 1)
        return case.cost.value(a, y)
    return f


def _d_cost_d_a_all(case: Case, method: str) -> list[np.ndarray]:
    """∂C/∂aˡ for l = 1..L by the method, from one gradient with respect to activation offsets."""
    if case.batch_size != 1:
        raise NotEvaluated("∂C/∂aˡ is evaluated on single examples")
    f = _cost_of_activation_offsets(case)
    zero = np.zeros(sum(case.sizes))
    if method == "JAX autodiff":
        flat = jax_gradient.gradient(f, zero)
    elif method == "complex step":
        flat = numerical_gradient(f, zero, "complex").value
    else:
        flat = adaptive_central_gradient(f, zero).value
    starts = np.cumsum([0, *case.sizes])
    return [flat[starts[i]:starts[i + 1]].reshape(-1, 1) for i in range(len(case.sizes))]


def _d_cost_d_a(case: Case, layer: int, method: str) -> np.ndarray:
    """∂C/∂aˡ by the method (the reference: ∇ₐC at L only, from the cost's hand-written gradient)."""
    if method == "reference":
        if layer != len(case.sizes):
            raise NotEvaluated("the reference computes ∂C/∂aˡ only at the output (∇ₐC)")
        _, a_all = feedforward_layers(case.weights, case.biases, case.x, case.activations)
        return case.cost.gradient(a_all[-1], case.y)
    key = (method, id(case))
    if key not in _DC_DA:
        _DC_DA[key] = (case, _d_cost_d_a_all(case, method))
    return _DC_DA[key][1][layer - 1]


_DERIVATIVES: dict[tuple[str, int], tuple[Case, oracles.Derivatives]] = {}
"""By (method, id(case)), each entry holding its case: alive, its id is never another's."""


def _derivatives(case: Case, method: str) -> oracles.Derivatives:
    """The method's derivatives of one case, computed once however many statements read them
    (a Case is immutable, so its id identifies it while the cache keeps it alive)."""
    key = (method, id(case))
    if key not in _DERIVATIVES:
        _DERIVATIVES[key] = (case, ORACLES[method].compute(case))
    return _DERIVATIVES[key][1]


def _network_values(case: Case, method: str) -> Callable[[str, int], np.ndarray]:
    """Each leaf's value: forward quantities from the case, derivatives from the method."""
    derivs = _derivatives(case, method)

    def d_cost_d_a(layer: int) -> np.ndarray:
        return _d_cost_d_a(case, layer, method)
    zs, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    m_ = case.batch_size

    def value(name: str, layer: int) -> np.ndarray:
        i = layer - 2
        table: dict[str, Callable[[], np.ndarray]] = {
            "w": lambda: case.weights[i], "b": lambda: case.biases[i], "z": lambda: zs[i],
            "a": lambda: acts[layer - 1], "y": lambda: case.y,
            "delta": lambda: derivs.deltas[i],  # type: ignore[index]
            "dC_db": lambda: derivs.nabla_b[i] / m_, "dC_dw": lambda: derivs.nabla_w[i] / m_,
            "dC_da": lambda: d_cost_d_a(layer), "grad_a_C": lambda: d_cost_d_a(layer)}
        if name not in table:
            raise NotEvaluated(f"no numeric value for {name}")
        return np.asarray(table[name](), dtype=np.float64)
    return value


def _component_forward(case: Case) -> Callable[[str, int], np.ndarray]:
    """zˡ and aˡ of one example by the component form (2.2.1), zˡⱼ = Σₖ wˡⱼₖaˡ⁻¹ₖ + bˡⱼ summed
    entry by entry: the forward equations' left side by another route than their matrix form."""
    acts, zs = [case.x[:, 0].tolist()], []
    for w, b, act in zip(case.weights, case.biases, case.activations, strict=True):
        z = [sum(w[j, k] * acts[-1][k] for k in range(w.shape[1])) + b[j, 0]
             for j in range(w.shape[0])]
        zs.append(z)
        acts.append([float(act.f(np.array([[zj]]))[0, 0]) for zj in z])

    def value(name: str, layer: int) -> np.ndarray:
        table = {"z": lambda: zs[layer - 2], "a": lambda: acts[layer - 1]}
        if name not in table:
            raise NotEvaluated(f"no component-form value for {name}")
        return np.array(table[name](), dtype=np.float64).reshape(-1, 1)
    return value


def _check_network(d: Derivation, case: Case, method: str,
                   left: Callable[[str, int], np.ndarray] | None = None) -> Discrepancy:
    """lhs(leaf) vs the lambdified rhs at every layer where both exist; ``left`` gives the left
    side's leaves where another route than the method's computes them."""
    value = _network_values(case, method)
    left = left or value
    depth = len(case.sizes)
    act = case.activations[0]
    functions = {"sigma": act.f, "sigma_prime": act.fprime}
    lhs_leaf = d.lhs if isinstance(d.lhs, Q) else None
    got, expected = [], []
    for layer in range(1, depth + 1):
        bind = {l: layer, L: depth, m: case.batch_size, eta: LEARNING_RATE}
        lower = {"a": 1, "dC_da": 1}
        leaves = (d.rhs.atoms(Q) | d.lhs.atoms(Q))
        if any(not (lower.get(q.name, 2) <= int(q.layer.xreplace({l: layer, L: depth})) <= depth)
               for q in leaves):
            continue
        fn, args = lambdify_template(d.rhs, bind, functions)
        rhs_value = np.asarray(fn(*(value(name, lv) for name, lv in args)), dtype=np.float64)
        if lhs_leaf is not None:
            lhs_value = left(lhs_leaf.name, int(lhs_leaf.layer.xreplace({l: layer, L: depth})))
        else:
            lfn, largs = lambdify_template(d.lhs, bind, functions)
            lhs_value = np.asarray(lfn(*(left(name, lv) for name, lv in largs)), dtype=np.float64)
        got.append(rhs_value)
        expected.append(lhs_value)
    if not got:
        raise NotEvaluated("no layer of the case has the statement's quantities")
    return worst_discrepancy(got, expected, f"{d.name}: right side vs left side")


NETWORKS = {"network": dict(sizes=[3, 4, 3, 2]), "paths": dict(sizes=[3, 4, 3, 2]),
            "linear": dict(sizes=[3, 4, 3, 2], activations=identity),
            "mini_batch": dict(sizes=[3, 4, 2], batch_size=3),
            "cross_entropy": dict(sizes=[3, 4, 2], cost=costs.cross_entropy)}


_CASES: dict[tuple[str, int], list[Case]] = {}


def statement_cases(d: Derivation, seed: int) -> list[Case]:
    """The random networks a statement is evaluated on: one per kind and seed, shared by every
    statement of that kind (so each method differentiates each network once)."""
    kwargs = NETWORKS.get(d.numbers)
    if kwargs is None:
        return []
    key = (d.numbers, seed)
    if key not in _CASES:
        _CASES[key] = [random_case(seed, **kwargs)]  # type: ignore[arg-type]
    return _CASES[key]


def evaluate(d: Derivation, method: str, seed: int) -> list[Discrepancy]:
    """The statement on numbers by one method: one Discrepancy per case (NotEvaluated if it does
    not apply)."""
    if d.numbers == "paths":
        return [_check_entries(d, case, method) for case in statement_cases(d, seed)]
    if d.numbers in NETWORKS:
        if d.numbers == "network" and method == "reference" and _uses(d, "dC_da"):
            raise NotEvaluated("the reference computes ∂C/∂aˡ only at the output (∇ₐC)")
        out = []
        for case in statement_cases(d, seed):
            try:
                out.append(_check_network(d, case, method))
            except oracles.Declined as why:
                raise NotEvaluated(str(why)) from None
        return out
    if d.numbers == "forward":
        if method != "reference":
            raise NotEvaluated("the forward equations have no derivative for this method to compute")
        case = random_case(seed, [3, 4, 2])
        return [_check_network(d, case, "reference", left=_component_forward(case))]
    if d.numbers in ("prop1", "prop2", "prop2e"):
        if method == "reference":
            raise NotEvaluated("the reference has no derivative of a composite f(x(u)) but the "
                               "chain rule itself: its cell would restate the proposition")
        return [_check_functions(d, method, seed)]
    if d.numbers == "sigmoid_prime":
        return [_check_sigmoid_prime(d, method, seed)]
    raise NotEvaluated("a statement about symbols only (no numbers to put in)")


def _uses(d: Derivation, name: str) -> bool:
    return any(q.name == name for q in d.rhs.atoms(Q) | d.lhs.atoms(Q))


# -- statements in components: equation 53's rate factors -----------------------------------------

def _layer_map(case: Case, layer: int) -> Callable[[Any], Any]:
    """aˡ⁻¹ ↦ aˡ = σ(wˡaˡ⁻¹ + bˡ) for one example (any array namespace)."""
    w, b, act = case.weights[layer - 2], case.biases[layer - 2][:, 0], case.activations[layer - 2]
    return lambda a: act.f(w @ a + b)


def _rate_factors(case: Case, method: str) -> dict[str, Callable[[int], np.ndarray]]:
    """The path sum's factors, each taken by the method from the layer maps themselves:
    ``rate[λ]`` the Jacobian ∂a^(λ+1)/∂a^λ, ``rate_w[λ]`` the matrix of ∂a^λⱼ/∂w^λⱼₖ (row j
    differentiating aʲ in row j of w alone), ``grad_a_C[L]`` ∂C/∂aᴸ, ``dC_dw[λ]`` the method's
    gradient (the reference: BP4's; the derivatives the reference offers for the factors are
    its σ′ formulas)."""
    if case.batch_size != 1:
        raise NotEvaluated("the path sum is evaluated on single examples")
    _, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)

    def rate(layer: int) -> np.ndarray:
        at, act = acts[layer - 1][:, 0], case.activations[layer - 1]
        w, b = case.weights[layer - 1], case.biases[layer - 1][:, 0]
        return _jacobian(method, _layer_map(case, layer + 1), at,
                         lambda t: act.fprime(w @ t + b)[:, None] * w)

    def rate_w(layer: int) -> np.ndarray:
        w, b, act = case.weights[layer - 2], case.biases[layer - 2][:, 0], case.activations[layer - 2]
        before = acts[layer - 2][:, 0]

        def row(j: int) -> np.ndarray:
            return _derivative(method, lambda r: act.f(r @ before + b[j]), w[j].copy(),
                               lambda r: act.fprime(r @ before + b[j]) * before)
        return np.array([row(j) for j in range(w.shape[0])])

    derivs = _derivatives(case, method)
    return {"rate": rate, "rate_w": rate_w,
            "grad_a_C": lambda layer: _d_cost_d_a(case, layer, method)[:, 0],
            "dC_dw": lambda layer: derivs.nabla_w[layer - 2]}


def _entry(table: dict[str, Callable[[int], np.ndarray]], leaf: sp.Indexed) -> float:
    """One entry (1-based indices, as the book writes them) of a factor; ValueError where the
    index is outside the factor (a formula whose shapes do not fit)."""
    name, layer, *indices = str(leaf.base), *(int(i) for i in leaf.indices)
    if name not in table:
        raise NotEvaluated(f"no numeric value for {name}")
    array = table[name](layer)
    if any(not 1 <= i <= n for i, n in zip(indices, array.shape, strict=False)) or \
            len(indices) != array.ndim:
        raise ValueError(f"{name}[{layer}] has shape {array.shape}, no entry {tuple(indices)}")
    return float(array[tuple(i - 1 for i in indices)])


def _check_entries(d: Derivation, case: Case, method: str) -> Discrepancy:
    """A statement in components, lhs = rhs at every entry (j, k) of its left side: the sums
    done at the case's sizes, every factor's entry the method's (``_rate_factors``)."""
    table = _rate_factors(case, method)
    depth = len(case.sizes)
    sizes = {sp.Function("n")(layer): case.sizes[layer - 1] for layer in range(1, depth + 1)}
    lhs, rhs = (side.xreplace({L: depth}) for side in (d.lhs, d.rhs))
    rhs = rhs.replace(lambda e: isinstance(e, sp.Function) and e.func.__name__ == "n",
                      lambda e: sizes[sp.Function("n")(e.args[0])])
    free = list(lhs.indices[1:])  # the entry's indices (j, k) after its layer
    shape = table[str(lhs.base)](int(lhs.indices[0])).shape
    got, expected = np.zeros(shape), np.zeros(shape)
    for entry in np.ndindex(*shape):
        at = {symbol: index + 1 for symbol, index in zip(free, entry, strict=True)}
        total = rhs.xreplace(at).doit()
        leaves = {leaf: _entry(table, leaf) for leaf in total.atoms(sp.Indexed)}
        got[entry] = float(total.xreplace(leaves))
        expected[entry] = _entry(table, lhs.xreplace(at))
    return worst_discrepancy([got], [expected], f"{d.name}: right side vs left side")


# -- random smooth functions for the propositions -------------------------------------------------

_DC_DA: dict[tuple[str, int], tuple[Case, list[np.ndarray]]] = {}
"""As ``_DERIVATIVES``: ∂C/∂aˡ at every layer by (method, id(case)), with the case."""


def _jacobian(method: str, F: Callable[[Any], Any], at: np.ndarray,
              exact: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Row i is ∂Fᵢ/∂at by the method (JAX: one jacfwd, so one compilation)."""
    if method == "JAX autodiff":
        return jax_gradient.jacobian(F, at)
    rows = len(np.asarray(F(at)))

    def component(i: int) -> Callable[[Any], Any]:
        return lambda t: F(t)[i]

    def exact_row(i: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda t: exact(t)[i]
    return np.array([_derivative(method, component(i), at, exact_row(i)) for i in range(rows)])


def _derivative(method: str, f: Callable[[Any], Any], at: np.ndarray,
                exact: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """∂f/∂at by the method; f maps a vector to a scalar (any array namespace)."""
    if method == "reference":
        return exact(at)
    if method == "JAX autodiff":
        return jax_gradient.gradient(f, at)
    if method == "complex step":
        return numerical_gradient(f, at, "complex").value
    return adaptive_central_gradient(f, at).value


def _xp(v: Any) -> Any:
    get = getattr(v, "__array_namespace__", None)
    return get() if get is not None and not isinstance(v, np.ndarray) else np


def _check_functions(d: Derivation, method: str, seed: int) -> Discrepancy:
    """Props. 1, 2, 2E with x(u) = tanh(A u + c) (or its diagonal / row-wise forms) and
    f(x) = Σ sin(γ x) + (Σ x)²/2, every derivative taken by the method."""
    rng = np.random.default_rng(seed)
    k_, n_ = (3, 2) if d.numbers == "prop1" else (3, 3) if d.numbers == "prop2" else (3, 2)
    gamma = rng.standard_normal(3)

    def f(x: Any) -> Any:
        xp = _xp(x)
        return xp.sum(xp.sin(gamma[:x.shape[0]] * x)) + xp.sum(x) ** 2 / 2

    def f_exact(x: np.ndarray) -> np.ndarray:
        return gamma[:x.shape[0]] * np.cos(gamma[:x.shape[0]] * x) + np.sum(x)

    x_of: Callable[[Any], Any]
    if d.numbers == "prop2e":
        U = rng.standard_normal((k_, n_))
        beta, c = rng.standard_normal(n_), rng.standard_normal(k_)
        col = 0

        def x_of_column(u_col: Any) -> Any:  # x_i = tanh(Σ_j U_ij β_j + c_i), column ``col`` free
            xp = _xp(u_col)
            rest = U @ beta - U[:, col] * beta[col]
            return xp.tanh(rest + u_col * beta[col] + c)
        x_of = x_of_column
        u0 = U[:, col].copy()
        x0 = np.tanh(U @ beta + c)
        d_u_x = np.diag(_jacobian(method, x_of, u0, lambda t: np.diag(beta[col] * (1 - x_of(t) ** 2)))
                        ).reshape(-1, 1)
        names = {"d_c_x": d_u_x}
        lhs = _derivative(method, lambda t: f(x_of(t)), u0,
                          lambda t: f_exact(x_of(t)) * beta[col] * (1 - x_of(t) ** 2)).reshape(-1, 1)
    else:
        A = rng.standard_normal((n_, k_)) if d.numbers == "prop1" else np.diag(rng.standard_normal(k_))
        c = rng.standard_normal(n_)

        def x_of_u(u: Any) -> Any:
            return _xp(u).tanh(A @ u + c)
        x_of = x_of_u
        u0 = rng.standard_normal(k_)
        x0 = np.tanh(A @ u0 + c)
        jac = _jacobian(method, x_of, u0, lambda t: A * (1 - np.tanh(A @ t + c) ** 2)[:, None])
        names = {"D_u_x": jac.T, "d_u_x": np.diag(jac).reshape(-1, 1)}
        lhs = _derivative(method, lambda t: f(x_of(t)), u0,
                          lambda t: jac.T @ f_exact(x0)).reshape(-1, 1)
    names["d_x_f"] = _derivative(method, f, x0, f_exact).reshape(-1, 1)
    fn, args = lambdify_template(d.rhs, {}, {})
    rhs = np.asarray(fn(*(names[name] for name, _ in args)), dtype=np.float64)
    return worst_discrepancy([rhs], [lhs], f"{d.name}: right side vs left side")


def _check_sigmoid_prime(d: Derivation, method: str, seed: int) -> Discrepancy:
    z = np.random.default_rng(seed).uniform(-6, 6, 5)

    def total(t: Any) -> Any:  # σ acts entry by entry, so ∂/∂zᵢ Σ σ(z) = σ′(zᵢ)
        return _xp(t).sum(sigmoid.f(t))
    lhs = _derivative(method, total, z, sigmoid.fprime)
    sigma_ = sp.Function("sigma")
    rhs = sp.lambdify(sp.Symbol("t"), d.rhs.replace(sigma_, sp.Lambda(sp.Symbol("t"), sp.Function("s")(
        sp.Symbol("t")))), modules=[{"s": sigmoid.f}, "numpy"])(z)
    return worst_discrepancy([np.asarray(rhs, dtype=np.float64)], [lhs], "σ′: right side vs left side")


def tolerance_key(method: str) -> str:
    return ORACLES[method].tolerance


__all__ = ["METHODS", "NotEvaluated", "QUANTITIES", "Sequence", "evaluate", "lambdify_template",
           "tolerance_key"]
