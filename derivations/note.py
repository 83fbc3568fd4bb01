"""The derivation note (seed 002), in its own notation: Propositions 1, 2, 2E; Facts 1–5 at the
output layer for the quadratic cost and Facts 2–5 at a general layer; Fact 6 and the induction
to every layer; σ′ = σ(1 − σ), which the note's algorithm uses."""

from __future__ import annotations

import sympy as sp

from bpverify.derivations.bp import DEFAULT_BOUND
from bpverify.derivations.core import Derivation, Step
from bpverify.derivations.models import ConcreteNets, FunctionsModel, IndexModel, LocalStep, ScalarModel
from bpverify.derivations.notation import (
    Apply,
    L,
    Outer,
    Q,
    T,
    a,
    add,
    b,
    comp,
    dC_da,
    dC_db,
    dC_dw,
    delta,
    eta,
    hadamard,
    j,
    k,
    l,
    mul,
    one_minus,
    sig_prime,
    sigma,
    sigma_prime,
    w,
    y,
    z,
)
from bpverify.derivations.printing import text

BOUND = DEFAULT_BOUND
PROP1 = FunctionsModel("prop1", [(1, 1), (2, 2), (2, 3), (3, 2), (1, 3)])
QUADRATIC = "C = ½‖y − aᴸ‖² (differentiated outright)"
OUTPUT_QUADRATIC = LocalStep([(2, 3, None), (3, 2, None), (None, 2, None)], cost="quadratic")
GENERAL = LocalStep([(2, 1, 2), (1, 2, 3), (3, 2, 2), (None, 2, 1)])


def _prop1() -> Derivation:
    lhs, rhs = Q("d_u_f", 0), mul(Q("D_u_x", 0), Q("d_x_f", 0))
    return Derivation(
        "prop1", "Proposition 1 (chain rule)", "derivation note, Prop. 1", lhs, rhs,
        (Step(lhs, rhs, mul(T(Q("D_u_x", 0)), Q("d_x_f", 0)), PROP1,
              "∂f/∂uᵢ = Σⱼ ∂f/∂xⱼ ∂xⱼ/∂uᵢ; row i of D_u x holds ∂xⱼ/∂uᵢ", "D_u x transposed", note=True),),
        statement_steps=(0,), numbers="prop1", note=True)


def _prop2() -> Derivation:
    lhs, rhs = Q("d_u_f", 0), hadamard(Q("d_x_f", 0), Q("d_u_x", 0))
    return Derivation(
        "prop2", "Proposition 2 (the \"parallel\" chain rule)", "derivation note, Prop. 2", lhs, rhs,
        (Step(lhs, rhs, Q("d_x_f", 0), FunctionsModel("prop2", [(1, 1), (2, 2), (3, 3)]),
              "Prop. 1 with xᵢ = xᵢ(uᵢ): D_u x is diagonal", "the ⊙ d_u x left out", note=True),),
        statement_steps=(0,), numbers="prop2", note=True)


def _prop2e() -> Derivation:
    lhs, rhs = Q("d_c_f", 0), hadamard(Q("d_x_f", 0), Q("d_c_x", 0))
    return Derivation(
        "prop2e", "Proposition 2E (columns of a matrix)", "derivation note, Prop. 2E", lhs, rhs,
        (Step(lhs, rhs, Q("d_x_f", 0), FunctionsModel("prop2e", [(2, 3), (3, 2), (2, 2)]),
              "only uᵢⱼ is in both row i and column j", "the ⊙ d_cⱼ x left out", note=True),),
        statement_steps=(0,), numbers="prop2e", note=True)


def _facts_output() -> Derivation:
    fact1 = add(a(L), mul(-1, y))
    fact2 = hadamard(dC_da(L), sig_prime(z(L)))
    fact5 = Outer(delta(L), a(L - 1))
    index = IndexModel(delta_via="a", given="the chain rule (Prop. 1)")
    return Derivation(
        "facts1-5", "Facts 1–5: the last layer, quadratic cost", "derivation note, Facts 1–5",
        dC_dw(L), fact5,
        (Step(dC_da(L), fact1, add(y, mul(-1, a(L))), IndexModel(cost="quadratic", given=QUADRATIC),
              "Fact 1: C = ½‖y − a‖²; Prop. 2 with δ = y − a, ∂δ/∂a = −1", "y − a", note=True),
         Step(dC_da(L), fact1, add(y, mul(-1, a(L))), OUTPUT_QUADRATIC, "Fact 1, nothing assumed",
              "y − a", note=True),
         Step(delta(L), fact2, dC_da(L), index, "Fact 2: Prop. 2, aᵢ = σ(zᵢ) depends on zᵢ only",
              "σ′ left out", note=True),
         Step(delta(L), fact2, dC_da(L), OUTPUT_QUADRATIC, "Fact 2, nothing assumed", "σ′ left out",
              note=True),
         Step(dC_db(L), delta(L), hadamard(delta(L), sig_prime(z(L))), IndexModel(),
              "Fact 3: Prop. 2, zᵢ = Σ w a′ + bᵢ, ∂zᵢ/∂bᵢ = 1", "σ′ applied once more", note=True),
         Step(dC_db(L), delta(L), hadamard(delta(L), sig_prime(z(L))), OUTPUT_QUADRATIC,
              "Fact 3, nothing assumed", "σ′ applied once more", note=True),
         Step(comp("dC_dw", L, j, k), comp("a", L - 1, k) * comp("delta", L, j),
              comp("a", L, j) * comp("delta", L, j), IndexModel(),
              "Fact 4: Prop. 2E, zᵢ depends on row i of W; column k of D_W C is a′ₖ d_z C",
              "a of the current layer"),
         Step(dC_dw(L), fact5, Outer(a(L - 1), delta(L)), IndexModel(),
              "Fact 5: the columns of Fact 4 side by side, an outer product", "the factors swapped",
              note=True),
         Step(dC_dw(L), fact5, Outer(delta(L), a(L)), OUTPUT_QUADRATIC, "Fact 5, nothing assumed",
              "a of the current layer", note=True)),
        statement_steps=(7, 8), numbers="network", note=True)


def _facts_general() -> Derivation:
    fact5 = Outer(delta(l), a(l - 1))
    return Derivation(
        "facts2-5", "Facts 2–5 at a general layer", "derivation note, the induction (Facts 2–5 at layer l)",
        dC_dw(l), fact5,
        (Step(delta(l), hadamard(dC_da(l), sig_prime(z(l))), dC_da(l), IndexModel(delta_via="a"),
              "Fact 2 at layer l: Prop. 2 through a = σ(z)", "σ′ left out", note=True),
         Step(delta(l), hadamard(dC_da(l), sig_prime(z(l))), dC_da(l), GENERAL,
              "Fact 2 at layer l, nothing assumed", "σ′ left out", note=True),
         Step(dC_db(l), delta(l), dC_da(l), GENERAL, "Fact 3 at layer l: ∂zᵢ/∂bᵢ = 1",
              "d_a C for d_z C", note=True),
         Step(dC_dw(l), fact5, Outer(a(l - 1), delta(l)), IndexModel(),
              "Facts 4–5 at layer l: Prop. 2E, then the columns side by side", "the factors swapped",
              note=True),
         Step(dC_dw(l), fact5, Outer(delta(l), a(l)), GENERAL, "Facts 4–5 at layer l, nothing assumed, "
              "for every n_{l−1}", "a of the current layer", note=True)),
        statement_steps=(3, 4), numbers="network", note=True)


def _fact6() -> Derivation:
    fact6 = mul(T(w(l)), delta(l))
    return Derivation(
        "fact6", "Fact 6 and the induction to every layer", "derivation note, Fact 6 and the induction",
        dC_da(l - 1), fact6,
        (Step(dC_da(l - 1), fact6, mul(w(l), delta(l)), IndexModel(),
              "Fact 6: Prop. 1 with D_{a′} z = Wᵀ", "W instead of Wᵀ", note=True),
         Step(dC_da(l - 1), fact6, mul(T(w(l)), dC_da(l)), GENERAL,
              "Fact 6, nothing assumed (the rest of the network an undefined R(z))", "d_a C for d_z C",
              note=True),
         Step(delta(L), hadamard(dC_da(L), sig_prime(z(L))), dC_da(L), IndexModel(delta_via="a"),
              "base case at L: Fact 2 (BP1 in the note's notation)", "σ′ left out", note=True),
         Step(delta(l), hadamard(mul(T(w(l + 1)), delta(l + 1)), sig_prime(z(l))),
              hadamard(mul(T(w(l + 1)), delta(l + 1)), sig_prime(z(l + 1))), GENERAL,
              "inductive step: Fact 6 at layer l + 1, then Fact 2 at layer l", "σ′ of the layer above"),
         Step(dC_da(l - 1), fact6, mul(w(l), delta(l)), ConcreteNets(BOUND, ceiling=(4, 2)),
              "the conclusion, at every layer of every concrete network", "W instead of Wᵀ", note=True)),
        statement_steps=(0, 1, 4), numbers="network", note=True)


def _sigmoid_prime() -> Derivation:
    t = sp.Symbol("t")
    body = sp.Lambda(t, 1 / (1 + sp.exp(-t)))
    definitions = {"sigma": body, "sigma_prime": sp.Lambda(t, sp.diff(body(t), t))}
    model = ScalarModel(definitions, "t symbolic, σ(t) = 1/(1 + e^(−t)), σ′ its derivative")
    lhs, rhs = sigma_prime(t), sigma(t) * (1 - sigma(t))
    return Derivation(
        "sigmoid_prime", "σ′ = σ(1 − σ)", "Nielsen §2.4; derivation note", lhs, rhs,
        (Step(lhs, rhs, sigma(t) * (1 + sigma(t)), model, "the quotient rule", "σ(1 + σ)"),),
        statement_steps=(0,), numbers="sigmoid_prime")


def _sigmoid_prime_of(v: sp.Basic) -> sp.Basic:
    """The note's σ′ written with the activations: v ⊙ (1 − v)."""
    return hadamard(v, Apply(one_minus, v))


BACKPROPAGATE_START = (
    ("dC_da", L, add(a(L), mul(-1, y))),
    ("delta", L, hadamard(dC_da(L), _sigmoid_prime_of(a(L)))),
)
BACKPROPAGATE_LOOP = (  # "for each layer l from L to 2", in the note's order
    ("Delta_b", l, mul(-eta, delta(l))),
    ("Delta_W", l, mul(-eta, Outer(delta(l), a(l - 1)))),
    ("dC_da", l - 1, mul(T(w(l)), delta(l))),
    ("delta", l - 1, hadamard(dC_da(l - 1), _sigmoid_prime_of(a(l - 1)))),
    ("b", l, add(b(l), Q("Delta_b", l))),
    ("w", l, add(w(l), Q("Delta_W", l))),
)


def _backpropagate() -> Derivation:
    model = ConcreteNets(DEFAULT_BOUND, ceiling=DEFAULT_BOUND,
                         algorithm=(BACKPROPAGATE_START, BACKPROPAGATE_LOOP))
    lines = [f"{text(Q(name, at) if name not in ('b', 'w') else Q(name, at), True)} := {text(t, True)}"
             for name, at, t in BACKPROPAGATE_START]
    lines += ["for each layer l from L to 2:"] + [
        f"    {text(Q(name, at), True)} := {text(t, True)}" for name, at, t in BACKPROPAGATE_LOOP]
    return Derivation(
        "backpropagate", "The algorithm Backpropagate(y, A) computes −η times the gradient",
        "derivation note, Backpropagate and Train", Q("Delta_W", l), mul(-eta, dC_dw(l)),
        (Step(Q("Delta_W", l), mul(-eta, dC_dw(l)), mul(-eta, Outer(delta(l), a(l))), model,
              "the loop's ΔW line is Fact 5 with d_z C from Facts 1, 2 and 6", "a of the current layer",
              note=True),
         Step(Q("Delta_b", l), mul(-eta, dC_db(l)), mul(-eta, dC_da(l)), model,
              "the loop's Δb line is Fact 3", "d_a C for d_z C", note=True)),
        statement_steps=(0,), numbers="", note=True,
        notes="The algorithm as checked (its lines are the templates the check runs, in this order):\n\n"
              + "\n".join(f"    {line}" for line in lines)
              + "\n\nTrain(x₁, …, xₙ) runs Feedforward and this Backpropagate once per example; its "
                "statement about the order of updates is not checked here.")


DERIVATIONS: tuple[Derivation, ...] = (_prop1(), _prop2(), _prop2e(), _facts_output(), _facts_general(),
                                       _fact6(), _backpropagate(), _sigmoid_prime())
