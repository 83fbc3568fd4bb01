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

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from bpverify.derivations import evaluate_algorithms, evaluate_components, evaluate_orders, method_values
from bpverify.derivations.core import Derivation
from bpverify.derivations.method_values import METHODS, ORACLES, NotEvaluated
from bpverify.derivations.models import ConcreteNets
from bpverify.derivations.notation import L, Q, eta, l, m
from bpverify.derivations.numeric_templates import lambdify_template
from bpverify.oracles import methods as oracles
from bpverify.oracles.cases import Case, random_case
from bpverify.oracles.claims import LEARNING_RATE
from bpverify.oracles.discrepancy import Discrepancy, worst_discrepancy
from bpverify.reference import costs
from bpverify.reference.activations import identity, sigmoid
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.numerical import cost_of_parameters, flatten, numerical_gradient


def _network_values(case: Case, method: str) -> Callable[[str, int], np.ndarray]:
    """Each leaf's value: forward quantities from the case, derivatives from the method."""
    derivs = method_values.derivatives(case, method)

    def d_cost_d_a(layer: int) -> np.ndarray:
        return method_values.d_cost_d_a(case, layer, method)
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
                   left: Callable[[str, int], np.ndarray] | None = None,
                   right: Callable[[str, int], np.ndarray] | None = None) -> Discrepancy:
    """lhs(leaf) vs the lambdified rhs at every layer where both exist; ``left`` gives the left
    side's leaves where another route than the method's computes them, ``right`` the right
    side's where they are not a network's own quantities."""
    value = right or _network_values(case, method)
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


NETWORKS: dict[str, dict[str, Any]] = {"network": dict(sizes=[3, 4, 3, 2]), "paths": dict(sizes=[3, 4, 3, 2]),
    "linear": dict(sizes=[3, 4, 3, 2], activations=identity),
    "mini_batch": dict(sizes=[3, 4, 2], batch_size=3),
    "cross_entropy": dict(sizes=[3, 4, 2], cost=costs.cross_entropy),
    "algorithm": dict(sizes=[3, 4, 3, 2]), "train": dict(sizes=[3, 4, 3, 2], batch_size=2),
    "orders": dict(sizes=[3, 4, 3, 2]), "counts": dict(sizes=[3, 4, 3, 2])}
"""Each kind's random network (``random_case``'s arguments); "modified" draws its own
(``evaluate_components.modified_case``)."""


_CASES: dict[tuple[str, int], list[Case]] = {}
"""By (the kind's network, seed): kinds that draw the same network share it, and with it each
method's derivatives."""


def statement_cases(d: Derivation, seed: int) -> list[Case]:
    """The random networks a statement is evaluated on: one per kind and seed, shared by every
    statement of that kind (so each method differentiates each network once)."""
    kwargs = NETWORKS.get(d.numbers)
    if kwargs is None and d.numbers != "modified":
        return []
    key = (repr(sorted(kwargs.items())) if kwargs else d.numbers, seed)
    if key not in _CASES:
        _CASES[key] = [random_case(seed, **kwargs) if kwargs else evaluate_components.modified_case(seed)]
    return _CASES[key]


def _one_case(d: Derivation, case: Case, method: str) -> Discrepancy:
    """The statement on one case by the evaluator of its kind (``Derivation.numbers``)."""
    if d.numbers == "paths":
        return evaluate_components.check_entries(d, case, evaluate_components.rate_factors(case, method))
    if d.numbers == "modified":
        return evaluate_components.check_entries(d, case, evaluate_components.modified_factors(case, method),
                                                 evaluate_components.MODIFIED_FUNCTIONS)
    if d.numbers == "orders":
        return evaluate_orders.check_orders(d, case, method)
    if d.numbers == "counts":
        return _check_counts(d, case, method)
    if d.numbers == "algorithm":
        left = evaluate_algorithms.backpropagate_values(case, *_program(d))
        return _check_network(d, case, method, left=left)
    if d.numbers == "train":
        both = evaluate_algorithms.train_values(case, method, *_program(d))
        return _check_network(d, case, method, left=both, right=both)
    return _check_network(d, case, method)


def _program(d: Derivation) -> tuple[evaluate_algorithms.Program, evaluate_algorithms.Program]:
    """The algorithm's lines as the statement's check ran them (its ConcreteNets level's)."""
    for model in d.statement_step.models:
        if isinstance(model, ConcreteNets) and model.algorithm is not None:
            return model.algorithm
    raise NotEvaluated("the statement's check runs no algorithm")


def evaluate(d: Derivation, method: str, seed: int) -> list[Discrepancy]:
    """The statement on numbers by one method: one Discrepancy per case (NotEvaluated if it does
    not apply)."""
    if d.numbers in NETWORKS or d.numbers == "modified":
        if d.numbers == "network" and method == "reference" and _uses(d, "dC_da"):
            raise NotEvaluated("the reference computes ∂C/∂aˡ only at the output (∇ₐC)")
        try:
            return [_one_case(d, case, method) for case in statement_cases(d, seed)]
        except oracles.Declined as why:
            raise NotEvaluated(str(why)) from None
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


def _check_counts(d: Derivation, case: Case, method: str) -> Discrepancy:
    """Eq. 46's count: the evaluations of C that the reference's forward-difference gradient
    makes, counted by instrumenting C, against the right side at the network's sizes."""
    if method != "reference":
        raise NotEvaluated("eq. 46 counts the evaluations of C that forward differences make: "
                           "JAX (one backward pass), the complex step (P) and central "
                           "differences (2P) are other algorithms")
    if not isinstance(d.lhs, sp.Indexed) or str(d.lhs.base) != "passes_46":
        raise NotEvaluated(f"no count of {d.lhs}")
    cost = cost_of_parameters(case.sizes, case.x, case.y, case.activations, case.cost)
    calls = [0]

    def counted(theta: np.ndarray) -> complex | float:
        calls[0] += 1
        return cost(theta)
    numerical_gradient(counted, flatten(case.weights, case.biases), "forward")
    claimed = evaluate_components.at_sizes(d.rhs.xreplace({L: len(case.sizes)}).doit(), case.sizes).doit()
    return worst_discrepancy([np.array(float(claimed))], [np.array(float(calls[0]))],
                             f"{d.name}: evaluations of C counted")


def _uses(d: Derivation, name: str) -> bool:
    return any(q.name == name for q in d.rhs.atoms(Q) | d.lhs.atoms(Q))


# -- random smooth functions for the propositions -------------------------------------------------

def _check_functions(d: Derivation, method: str, seed: int) -> Discrepancy:
    """Props. 1, 2, 2E with x(u) = tanh(A u + c) (or its diagonal / row-wise forms) and
    f(x) = Σ sin(γ x) + (Σ x)²/2, every derivative taken by the method."""
    rng = np.random.default_rng(seed)
    k_, n_ = (3, 2) if d.numbers == "prop1" else (3, 3) if d.numbers == "prop2" else (3, 2)
    gamma = rng.standard_normal(3)

    def f(x: Any) -> Any:
        xp = method_values.xp_of(x)
        return xp.sum(xp.sin(gamma[:x.shape[0]] * x)) + xp.sum(x) ** 2 / 2

    def f_exact(x: np.ndarray) -> np.ndarray:
        return gamma[:x.shape[0]] * np.cos(gamma[:x.shape[0]] * x) + np.sum(x)

    x_of: Callable[[Any], Any]
    if d.numbers == "prop2e":
        U = rng.standard_normal((k_, n_))
        beta, c = rng.standard_normal(n_), rng.standard_normal(k_)
        col = 0

        def x_of_column(u_col: Any) -> Any:  # x_i = tanh(Σ_j U_ij β_j + c_i), column ``col`` free
            xp = method_values.xp_of(u_col)
            rest = U @ beta - U[:, col] * beta[col]
            return xp.tanh(rest + u_col * beta[col] + c)
        x_of = x_of_column
        u0 = U[:, col].copy()
        x0 = np.tanh(U @ beta + c)
        d_u_x = np.diag(method_values.jacobian(
            method, x_of, u0, lambda t: np.diag(beta[col] * (1 - x_of(t) ** 2)))).reshape(-1, 1)
        names = {"d_c_x": d_u_x}
        lhs = method_values.derivative(method, lambda t: f(x_of(t)), u0,
                          lambda t: f_exact(x_of(t)) * beta[col] * (1 - x_of(t) ** 2)).reshape(-1, 1)
    else:
        A = rng.standard_normal((n_, k_)) if d.numbers == "prop1" else np.diag(rng.standard_normal(k_))
        c = rng.standard_normal(n_)

        def x_of_u(u: Any) -> Any:
            return method_values.xp_of(u).tanh(A @ u + c)
        x_of = x_of_u
        u0 = rng.standard_normal(k_)
        x0 = np.tanh(A @ u0 + c)
        jac = method_values.jacobian(method, x_of, u0, lambda t: A * (1 - np.tanh(A @ t + c) ** 2)[:, None])
        names = {"D_u_x": jac.T, "d_u_x": np.diag(jac).reshape(-1, 1)}
        lhs = method_values.derivative(method, lambda t: f(x_of(t)), u0,
                          lambda t: jac.T @ f_exact(x0)).reshape(-1, 1)
    names["d_x_f"] = method_values.derivative(method, f, x0, f_exact).reshape(-1, 1)
    fn, args = lambdify_template(d.rhs, {}, {})
    rhs = np.asarray(fn(*(names[name] for name, _ in args)), dtype=np.float64)
    return worst_discrepancy([rhs], [lhs], f"{d.name}: right side vs left side")


def _check_sigmoid_prime(d: Derivation, method: str, seed: int) -> Discrepancy:
    z = np.random.default_rng(seed).uniform(-6, 6, 5)

    def total(t: Any) -> Any:  # σ acts entry by entry, so ∂/∂zᵢ Σ σ(z) = σ′(zᵢ)
        return method_values.xp_of(t).sum(sigmoid.f(t))
    lhs = method_values.derivative(method, total, z, sigmoid.fprime)
    sigma_ = sp.Function("sigma")
    rhs = sp.lambdify(sp.Symbol("t"), d.rhs.replace(sigma_, sp.Lambda(sp.Symbol("t"), sp.Function("s")(
        sp.Symbol("t")))), modules=[{"s": sigmoid.f}, "numpy"])(z)
    return worst_discrepancy([np.asarray(rhs, dtype=np.float64)], [lhs], "σ′: right side vs left side")


def tolerance_key(method: str) -> str:
    return ORACLES[method].tolerance


__all__ = ["METHODS", "NotEvaluated", "evaluate", "lambdify_template", "tolerance_key"]
