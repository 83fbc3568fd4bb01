"""The book's §2.5–2.7 (seed 000): the exercises (a modified neuron, linear neurons), the
mini-batch rule with C = (1/m)Σₓ Cₓ, equation 46's truncation orders, and one step beyond the
seeds (cross-entropy with a sigmoid output, chapter 3)."""

from __future__ import annotations

import sympy as sp

from bpverify.derivations.bp import DEFAULT_BOUND
from bpverify.derivations.core import Derivation, Step
from bpverify.derivations.models import ConcreteNets, OutputModel, ScalarModel
from bpverify.derivations.notation import (
    L,
    Q,
    T,
    a,
    comp,
    dC_dw,
    delta,
    eta,
    f_prime,
    grad_a_C,
    hadamard,
    j,
    k,
    l,
    m,
    mul,
    n,
    sig_prime,
    w,
    y,
    z,
)

BOUND = SMALL = DEFAULT_BOUND


def _modified_neuron() -> Derivation:
    k_sum = sp.Sum(comp("w", l + 1, k, 1) * comp("delta", l + 1, k), (k, 1, n(l + 1)))
    hidden = k_sum * f_prime(comp("z", l, 1))
    output = comp("grad_a_C", L, 1) * f_prime(comp("z", L, 1))
    model = ConcreteNets(SMALL, modified=True, ceiling=(4, 2))
    return Derivation(
        "modified_neuron", "Backpropagation with a single modified neuron", "Nielsen §2.5, exercise",
        comp("delta", l, 1), hidden,
        (Step(comp("delta", l, 1), hidden, k_sum * sp.Function("sigma_prime")(comp("z", l, 1)), model,
              "BP2's chain rule, with f′ in place of σ′ for that neuron (hidden layer)", "σ′ kept"),
         Step(comp("delta", L, 1), output,
              comp("grad_a_C", L, 1) * sp.Function("sigma_prime")(comp("z", L, 1)),
              model, "BP1's chain rule, with f′ in place of σ′ (the modified neuron in the output layer)",
              "σ′ kept")),
        statement_steps=(0,), numbers="")


def _linear_neurons() -> Derivation:
    bp2 = mul(T(w(l + 1)), delta(l + 1))
    linear = ConcreteNets(BOUND, linear=True, ceiling=(4, 2))
    return Derivation(
        "linear_neurons", "Backpropagation with linear neurons σ(z) = z", "Nielsen §2.5, exercise",
        delta(l), bp2,
        (Step(delta(L), grad_a_C, hadamard(grad_a_C, a(L)), linear, "BP1 with σ′ = 1", "⊙ aᴸ kept"),
         Step(delta(l), bp2, mul(w(l + 1), delta(l + 1)), linear, "BP2 with σ′ = 1", "w instead of wᵀ"),
         Step(dC_dw(l), mul(delta(l), T(a(l - 1))), mul(delta(l), T(z(l))), linear,
              "BP4 unchanged, with aˡ⁻¹ = zˡ⁻¹ below", "zˡ for aˡ⁻¹")),
        statement_steps=(1,), numbers="linear")


def _mini_batch() -> Derivation:
    X = (2,)
    batch = ConcreteNets(SMALL, examples=X, ceiling=DEFAULT_BOUND)
    x = sp.Symbol("x", integer=True, positive=True)
    rule_w = mul(-eta / m, Q("delta", l, m), T(Q("a", l - 1, m)))
    component_b = -eta / m * sp.Sum(comp("delta", l, j, x), (x, 1, m))
    return Derivation(
        "mini_batch", "The mini-batch rule, with the cost an average over examples",
        "Nielsen §2.2 (C = (1/n)Σₓ Cₓ) and §2.5 (gradient descent on a mini-batch)",
        mul(-eta, dC_dw(l)), rule_w,
        (Step(comp("dC_dw", l, j, k), sp.Sum(comp("delta", l, j, x) * comp("a", l - 1, k, x), (x, 1, m)) / m,
              sp.Sum(comp("delta", l, j, x) * comp("a", l - 1, k, x), (x, 1, m)), batch,
              "C = (1/m)Σₓ Cₓ, and BP4 for each Cₓ", "the 1/m left out"),
         Step(mul(-eta, dC_dw(l)), rule_w, mul(-eta, Q("delta", l, m), T(Q("a", l - 1, m))), batch,
              "w → w − η∂C/∂w: column x of δ^(X,l) is δˣ'ˡ, so δ^(X,l)(a^(X,l−1))ᵀ = Σₓ δˣ'ˡ(aˣ'ˡ⁻¹)ᵀ",
              "η instead of η/m"),
         Step(-eta * comp("dC_db", l, j), component_b, -eta * sp.Sum(comp("delta", l, j, x), (x, 1, m)),
              batch, "b → b − η∂C/∂b, by BP3 for each Cₓ", "η instead of η/m")),
        statement_steps=(1,), numbers="mini_batch")


def _finite_differences() -> Derivation:
    C, wv, eps = sp.Function("C"), sp.Symbol("w_j"), sp.Symbol("epsilon", positive=True)
    forward = (C(wv + eps) - C(wv)) / eps
    central = (C(wv + eps) - C(wv - eps)) / (2 * eps)
    d1, d2, d3 = (sp.Derivative(C(wv), (wv, p)) for p in (1, 2, 3))
    d4 = sp.Derivative(C(wv), (wv, 4))
    taylor = ScalarModel({}, "C an undefined function of one weight, Taylor series in ε")
    return Derivation(
        "finite_differences", "Equation 46: truncation orders of the difference quotients", "Nielsen §2.6",
        forward, d1 + eps / 2 * d2 + sp.O(eps ** 2),
        (Step(forward, d1 + eps / 2 * d2 + sp.O(eps ** 2), d1 + eps * d2 + sp.O(eps ** 2), taylor,
              "Taylor series of C(w + ε)", "ε C″ without the ½"),
         Step(central, d1 + eps ** 2 / 6 * d3 + sp.O(eps ** 4), d1 + eps ** 2 / 6 * d3 + eps ** 3 / 24 * d4
              + sp.O(eps ** 4), taylor,
              "Taylor series; the even terms cancel, so the error is ε²C‴/6 + O(ε⁴)",
              "an ε³ term, wrong only at order ε³")),
        statement_steps=(0,), numbers="")


def _cross_entropy() -> Derivation:
    statement = a(L) + mul(-1, y)
    model = OutputModel("cross-entropy", "sigmoid")
    return Derivation(
        "cross_entropy", "Cross-entropy with sigmoid output: δᴸ = aᴸ − y",
        "one step beyond the seeds (the book's ch. 3)", delta(L), statement,
        (Step(delta(L), statement, hadamard(statement, sig_prime(z(L))), model,
              "σ′ = σ(1 − σ) cancels the denominators of ∂C/∂a", "σ′ kept, as for the quadratic cost"),),
        statement_steps=(0,), numbers="cross_entropy")



DERIVATIONS: tuple[Derivation, ...] = (_modified_neuron(), _linear_neurons(), _mini_batch(),
                                       _finite_differences(), _cross_entropy())


def _path_sum() -> Derivation:
    p_, i_ = sp.symbols("p i", integer=True, positive=True)
    one_layer = sp.Sum(comp("grad_a_C", L, p_) * comp("rate", L - 1, p_, j) * comp("rate_w", L - 1, j, k),
                       (p_, 1, n(L)))
    two_layers = sp.Sum(sp.Sum(comp("grad_a_C", L, p_) * comp("rate", L - 1, p_, i_)
                               * comp("rate", L - 2, i_, j) * comp("rate_w", L - 2, j, k),
                               (i_, 1, n(L - 1))), (p_, 1, n(L)))
    only_through_j = sp.Sum(comp("grad_a_C", L, p_) * comp("rate", L - 1, p_, j) * comp("rate", L - 2, j, j)
                            * comp("rate_w", L - 2, j, k), (p_, 1, n(L)))
    model = ConcreteNets(SMALL, min_depth=4, ceiling=(4, 2))
    return Derivation(
        "path_sum", "Equation 53: the gradient as a sum over paths of rate factors",
        "Nielsen §2.7, eqs. 47–53",
        comp("dC_dw", L - 2, j, k), two_layers,
        (Step(comp("dC_dw", L - 1, j, k), one_layer,
              sp.Sum(comp("grad_a_C", L, p_) * comp("rate", L - 1, p_, j), (p_, 1, n(L))),
              ConcreteNets(SMALL, ceiling=(4, 2)),
              "eqs. 48–51: the rate factor ∂aˡⱼ/∂wˡⱼₖ, then ∂aᴸₚ/∂aᴸ⁻¹ⱼ, then ∂C/∂aᴸₚ; eq. 52: summed over p",
              "the first rate factor of each path left out"),
         Step(comp("dC_dw", L - 2, j, k), two_layers, only_through_j, model,
              "eq. 53: one factor ∂a/∂a per neuron the path passes, summed over every path",
              "only the paths through neuron j of every layer")),
        statement_steps=(1,), numbers="")


def _cost_claims() -> Derivation:
    lam = sp.Symbol("λ", integer=True, positive=True)
    parameters = sp.Sum(n(lam) * (n(lam - 1) + 1), (lam, 2, L))
    forward = sp.Sum(n(lam) * n(lam - 1), (lam, 2, L))
    model = ConcreteNets(BOUND)
    return Derivation(
        "cost_claims",
        "§2.6: P + 1 forward passes for eq. 46; the backward pass costs about one forward pass",
        "Nielsen §2.6, \"in what sense is backpropagation a fast algorithm?\"",
        comp("passes_46", L), parameters + 1,
        (Step(comp("passes_46", L), parameters + 1, 2 * parameters, model,
              "C(w) once, and C(w + εeⱼ) for each of the P weights and biases",
              "2P, the central difference's count"),
         Step(comp("mults_forward", L), forward, parameters, model,
              "the forward pass's products wˡaˡ⁻¹: nₗ·nₗ₋₁ multiplications each", "counting the biases too"),
         Step(comp("mults_backward", L), comp("mults_forward", L) - n(2) * n(1), comp("mults_forward", L),
              model,
              "the backward pass's (wˡ⁺¹)ᵀδˡ⁺¹ for l = L − 1..2: the same products as the forward pass "
              "but the first; so a backward pass costs at most one forward pass",
              "exactly one forward pass")),
        statement_steps=(0,), numbers="")


DERIVATIONS = DERIVATIONS + (_path_sum(), _cost_claims())
