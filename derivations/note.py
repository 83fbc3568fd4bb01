"""The derivation note (source 002), in its own notation: Propositions 1, 2, 2E; Facts 1–5 at the
output layer for the quadratic cost and Facts 2–5 at a general layer; Fact 6 and the induction
to every layer; σ′ = σ(1 − σ), which the note's algorithm uses; the algorithm Backpropagate."""

from __future__ import annotations

import sympy as sp

from bpverify.derivations.bp import DEFAULT_BOUND
from bpverify.derivations.core import Derivation, step
from bpverify.derivations.models import (
    ConcreteNets,
    FunctionsIndexModel,
    FunctionsModel,
    IndexModel,
    LocalStep,
    ScalarModel,
)
from bpverify.derivations.notation import (
    Apply,
    L,
    Outer,
    Q,
    T,
    a,
    add,
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
    sig,
    sig_prime,
    sigma,
    sigma_prime,
    w,
    y,
    z,
)
from bpverify.derivations.printing import text
from bpverify.derivations.sources import NOTE_INTRODUCTION

BOUND = DEFAULT_BOUND
CONCRETE = ConcreteNets(BOUND)
CONCRETE_QUADRATIC = ConcreteNets(BOUND, quadratic=True)
PROP1 = FunctionsModel("prop1", [(1, 1), (2, 2), (2, 3), (3, 2), (1, 3)])
QUADRATIC = "C = ½‖y − aᴸ‖² (differentiated outright)"
OUTPUT_QUADRATIC = LocalStep([(2, 3, None), (3, 2, None), (None, 2, None)], cost="quadratic")
GENERAL = LocalStep([(2, 1, 2), (1, 2, 3), (3, 2, 2), (None, 2, 1), (2, 3, None), (None, 2, None)])
INDEX = IndexModel()
INDEX_VIA_A = IndexModel(delta_via="a", given="the chain rule (Prop. 1) through a")


def _prop1() -> Derivation:
    lhs, rhs = Q("d_u_f", 0), mul(Q("D_u_x", 0), Q("d_x_f", 0))
    return Derivation(
        "prop1", "Proposition 1 (chain rule)", "the derivation note, Prop. 1",
        (step(lhs, rhs, PROP1, [(mul(T(Q("D_u_x", 0)), Q("d_x_f", 0)), "D_u x transposed"),
                                (Q("d_x_f", 0), "the inner derivative left out")],
              "∂f/∂uᵢ = Σⱼ ∂f/∂xⱼ ∂xⱼ/∂uᵢ; row i of D_u x holds ∂xⱼ/∂uᵢ", "prop1", note=True),),
        numbers="prop1", note=True, intro=NOTE_INTRODUCTION,
        notes="Prop. 1 at every size is the multivariable chain rule itself, which SymPy's differentiation "
              "implements and which the index form of every other derivation is given: SymPy cannot "
              "differentiate "
              "an undefined f of a symbolic number of arguments, so it is checked at the sizes above.")


def _prop2() -> Derivation:
    lhs, rhs = Q("d_u_f", 0), hadamard(Q("d_x_f", 0), Q("d_u_x", 0))
    return Derivation(
        "prop2", "Proposition 2 (the \"parallel\" chain rule)", "the derivation note, Prop. 2",
        (step(lhs, rhs, [FunctionsIndexModel("prop2"), FunctionsModel("prop2", [(1, 1), (2, 2), (3, 3)])],
              [(Q("d_x_f", 0), "the ⊙ d_u x left out"), (Q("d_u_x", 0), "d_x f left out")],
              "Prop. 1 with xᵢ = xᵢ(uᵢ): D_u x is diagonal", "prop2", note=True),),
        numbers="prop2", note=True, intro=NOTE_INTRODUCTION)


def _prop2e() -> Derivation:
    lhs, rhs = Q("d_c_f", 0), hadamard(Q("d_x_f", 0), Q("d_c_x", 0))
    return Derivation(
        "prop2e", "Proposition 2E (columns of a matrix)", "the derivation note, Prop. 2E",
        (step(lhs, rhs, [FunctionsIndexModel("prop2e"), FunctionsModel("prop2e", [(2, 3), (3, 2), (2, 2)])],
              [(Q("d_x_f", 0), "the ⊙ d_cⱼ x left out"), (Q("d_c_x", 0), "d_x f left out")],
              "only uᵢⱼ is in both row i and column j", "prop2e", note=True),),
        numbers="prop2e", note=True, intro=NOTE_INTRODUCTION)


def _facts_output() -> Derivation:
    fact1 = add(a(L), mul(-1, y))
    fact2 = hadamard(dC_da(L), sig_prime(z(L)))
    fact5 = Outer(delta(L), a(L - 1))
    return Derivation(
        "facts1-5", "Facts 1–5: the last layer, quadratic cost", "the derivation note, Facts 1–5",
        (step(dC_da(L), fact1, [IndexModel(cost="quadratic", given=QUADRATIC), OUTPUT_QUADRATIC,
                                CONCRETE_QUADRATIC],
              [(add(y, mul(-1, a(L))), "y − a"), (a(L), "y left out")],
              "Fact 1: C = ½‖y − a‖²; Prop. 2 with δ = y − a, ∂δ/∂a = −1", "fact1", note=True, premise=False),
         step(delta(L), fact2, [INDEX_VIA_A, OUTPUT_QUADRATIC, CONCRETE],
              [(dC_da(L), "σ′ left out"), (hadamard(dC_da(L), sig(z(L))), "σ for σ′")],
              "Fact 2: Prop. 2, aᵢ = σ(zᵢ) depends on zᵢ only", "fact2", note=True),
         step(dC_db(L), delta(L), [INDEX, OUTPUT_QUADRATIC, CONCRETE],
              [(hadamard(delta(L), sig_prime(z(L))), "σ′ applied once more"), (dC_da(L), "d_a C for d_z C")],
              "Fact 3: Prop. 2, zᵢ = Σ w a′ + bᵢ, ∂zᵢ/∂bᵢ = 1", "fact3", note=True),
         step(comp("dC_dw", L, j, k), comp("a", L - 1, k) * comp("delta", L, j), [INDEX, OUTPUT_QUADRATIC,
                                                                                  CONCRETE],
              [(comp("a", L, k) * comp("delta", L, j), "a of the current layer"),
               (comp("a", L - 1, j) * comp("delta", L, k), "indices swapped")],
              "Fact 4: Prop. 2E, zᵢ depends on row i of W; column k of D_W C is a′ₖ d_z C", "fact4"),
         step(dC_dw(L), fact5, [INDEX, OUTPUT_QUADRATIC, CONCRETE],
              [(Outer(a(L - 1), delta(L)), "the factors swapped"), (Outer(delta(L), a(L)),
                                                                    "a of the current layer"),
               (Outer(dC_da(L), a(L - 1)), "d_a C for d_z C")],
              "Fact 5: the columns of Fact 4 side by side, an outer product", "fact5", note=True)),
        stated=4, numbers="network", note=True, intro=NOTE_INTRODUCTION)


def _facts_general() -> Derivation:
    fact5 = Outer(delta(l), a(l - 1))
    return Derivation(
        "facts2-5", "Facts 2–5 at a general layer",
        "the derivation note, the induction (Facts 2–5 at layer l)",
        (step(delta(l), hadamard(dC_da(l), sig_prime(z(l))), [IndexModel(delta_via="a"), GENERAL, CONCRETE],
              [(dC_da(l), "σ′ left out"), (hadamard(dC_da(l), sig(z(l))), "σ for σ′")],
              "Fact 2 at layer l: Prop. 2 through a = σ(z)", "induction", note=True),
         step(dC_db(l), delta(l), [INDEX, GENERAL, CONCRETE],
              [(dC_da(l), "d_a C for d_z C"), (hadamard(delta(l), sig_prime(z(l))), "σ′ applied once more")],
              "Fact 3 at layer l: ∂zᵢ/∂bᵢ = 1", "induction", note=True),
         step(comp("dC_dw", l, j, k), comp("a", l - 1, k) * comp("delta", l, j), [INDEX, GENERAL, CONCRETE],
              [(comp("a", l, k) * comp("delta", l, j), "a of the current layer"),
               (comp("a", l - 1, k) * comp("dC_da", l, j), "d_a C for d_z C")],
              "Fact 4 at layer l: column k of D_W C is a′ₖ d_z C (Prop. 2E)", "induction"),
         step(dC_dw(l), fact5, [INDEX, GENERAL, CONCRETE],
              [(Outer(a(l - 1), delta(l)), "the factors swapped"), (Outer(delta(l), a(l)),
                                                                    "a of the current layer"),
               (Outer(dC_da(l), a(l - 1)), "d_a C for d_z C")],
              "Facts 4–5 at layer l: Prop. 2E, then the columns side by side", "induction", note=True)),
        stated=3, numbers="network", note=True, intro=NOTE_INTRODUCTION)


def _fact6() -> Derivation:
    fact6 = mul(T(w(l)), delta(l))
    return Derivation(
        "fact6", "Fact 6 and the induction to every layer", "the derivation note, Fact 6 and the induction",
        (step(dC_da(l - 1), fact6, [INDEX, GENERAL, ConcreteNets(BOUND, ceiling=(4, 2))],
              [(mul(w(l), delta(l)), "W instead of Wᵀ"), (mul(T(w(l)), dC_da(l)), "d_a C for d_z C"),
               (mul(T(w(l)), hadamard(delta(l), sig_prime(z(l)))), "σ′ applied once more")],
              "Fact 6: Prop. 1 with D_{a′} z = Wᵀ", "fact6", note=True),
         step(delta(L), hadamard(dC_da(L), sig_prime(z(L))),
              [INDEX_VIA_A, LocalStep([(2, 3, None), (None, 2, None)]), CONCRETE],
              [(dC_da(L), "σ′ left out"), (hadamard(dC_da(L), sig_prime(a(L))), "σ′ at a")],
              "base case at L: Fact 2 (BP1 in the note's notation)", "induction", note=True),
         step(delta(l), hadamard(mul(T(w(l + 1)), delta(l + 1)), sig_prime(z(l))), [INDEX, GENERAL, CONCRETE],
              [(hadamard(mul(T(w(l + 1)), delta(l + 1)), sig_prime(z(l + 1))), "σ′ of the layer above"),
               (mul(T(w(l + 1)), delta(l + 1)), "σ′ left out")],
              "inductive step: Fact 6 at layer l + 1, then Fact 2 at layer l", "induction", note=True)),
        stated=0, numbers="network", note=True, intro=NOTE_INTRODUCTION)


def _sigmoid_prime() -> Derivation:
    t = sp.Symbol("t")
    body = sp.Lambda(t, 1 / (1 + sp.exp(-t)))
    definitions = {"sigma": body, "sigma_prime": sp.Lambda(t, sp.diff(body(t), t))}
    model = ScalarModel(definitions, "t symbolic, σ(t) = 1/(1 + e^(−t)), σ′ its derivative")
    lhs, rhs = sigma_prime(t), sigma(t) * (1 - sigma(t))
    return Derivation(
        "sigmoid_prime", "σ′ = σ(1 − σ)", "Nielsen §2.4; the derivation note",
        (step(lhs, rhs, model, [(sigma(t) * (1 + sigma(t)), "σ(1 + σ)"), (sigma(t) ** 2, "σ²")],
              "the quotient rule", "sigmoid-prime"),),
        numbers="sigmoid_prime", intro=NOTE_INTRODUCTION)


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
    ("b", l, add(Q("b", l), Q("Delta_b", l))),
    ("w", l, add(w(l), Q("Delta_W", l))),
)


def _backpropagate() -> Derivation:
    model = ConcreteNets(DEFAULT_BOUND, ceiling=DEFAULT_BOUND,
                         algorithm=(BACKPROPAGATE_START, BACKPROPAGATE_LOOP))
    lines = [f"{text(Q(name, at), True)} := {text(t, True)}" for name, at, t in BACKPROPAGATE_START]
    lines += ["for each layer l from L to 2:"] + [
        f"    {text(Q(name, at), True)} := {text(t, True)}" for name, at, t in BACKPROPAGATE_LOOP]
    return Derivation(
        "backpropagate", "The algorithm Backpropagate(y, A) computes −η times the gradient",
        "the derivation note, Backpropagate", (
            step(Q("Delta_W", l), mul(-eta, dC_dw(l)), model,
                 [(mul(-eta, Outer(delta(l), a(l))), "a of the current layer"), (mul(eta, dC_dw(l)),
                                                                                 "the sign")],
                 "the loop's ΔW line is Fact 5 with d_z C from Facts 1, 2 and 6", "backpropagate", note=True),
            step(Q("Delta_b", l), mul(-eta, dC_db(l)), model,
                 [(mul(-eta, dC_da(l)), "d_a C for d_z C"), (mul(eta, dC_db(l)), "the sign")],
                 "the loop's Δb line is Fact 3", "backpropagate", note=True)),
        numbers="algorithm", note=True, intro=NOTE_INTRODUCTION,
        notes="The algorithm as checked (its lines are the templates the check runs, in this order):\n\n"
              + "\n".join(f"    {line}" for line in lines))


def _train() -> Derivation:
    model = ConcreteNets((3, 2), ceiling=(3, 2), algorithm=(BACKPROPAGATE_START, BACKPROPAGATE_LOOP),
                         train=True)
    W, B = Q("Train_W", l), Q("Train_b", l)
    step_w, step_b = mul(-eta, Q("dC1_dw", l)), mul(-eta, Q("dC1_db", l))
    return Derivation(
        "train", "The algorithm Train: one gradient step per example, in turn",
        "the derivation note, Train (and the order of Backpropagate's lines)", (
            step(W, add(w(l), step_w, mul(-eta, Q("dC2_dw", l))), model,
                 [(add(w(l), step_w, mul(-eta, Q("dC2_dw0", l))),
                   "both gradients at the start: a mini-batch step"),
                  (add(w(l), mul(-eta / 2, add(Q("dC1_dw", l), Q("dC2_dw0", l)))), "the mini-batch average"),
                  (Q("Train_W_swapped", l), "W updated before d_a C := Wᵀ d_z C reads it")],
                 "Train runs Backpropagate once per example, the second from the weights the first left: "
                 "W → W − η∂C₁/∂W at θ₀, then − η∂C₂/∂W at θ₁ = θ₀ − η∂C₁/∂θ; within Backpropagate, "
                 "d_a C := Wᵀ d_z C reads W before the line W += ΔW changes it", "train", note=True),
            step(B, add(Q("b", l), step_b, mul(-eta, Q("dC2_db", l))), model,
                 [(add(Q("b", l), step_b, mul(-eta, Q("dC2_db0", l))),
                   "both gradients at the start: a mini-batch step"),
                  (Q("Train_b_swapped", l), "b and W updated before d_a C := Wᵀ d_z C reads W")],
                 "the biases likewise: Δb = −η d_z C for each example, at the weights the previous one left",
                 "train", note=True)),
        numbers="train", note=True, intro=NOTE_INTRODUCTION,
        notes="Checked on every network with L ≤ 3 and widths ≤ 2: each run is exact symbolic algebra "
              "in the weights, the biases and two examples (x¹, y¹), (x², y²).")


DERIVATIONS: tuple[Derivation, ...] = (_prop1(), _prop2(), _prop2e(), _facts_output(), _facts_general(),
                                       _fact6(), _backpropagate(), _train(), _sigmoid_prime())
