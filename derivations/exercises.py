"""The book's §2.5–2.7 (source 000): the exercises (a modified neuron, linear neurons), the
mini-batch rule with C = (1/m)Σₓ Cₓ, equation 46's truncation orders, and one step beyond the
source texts (cross-entropy with a sigmoid output, chapter 3)."""

from __future__ import annotations

import sympy as sp

from bpverify.derivations.bp import DEFAULT_BOUND
from bpverify.derivations.core import Derivation, step
from bpverify.derivations.models import ConcreteNets, IndexModel, LocalStep, OutputModel, ScalarModel
from bpverify.derivations.notation import (
    L,
    Q,
    T,
    a,
    add,
    b,
    comp,
    da,
    dC_db,
    dC_dw,
    delta,
    dw,
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
    sig,
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
    local = LocalStep([(2, 1, 2), (1, 2, 3), (None, 2, 1), (2, 2, None), (None, 1, None)], modified=True)
    return Derivation(
        "modified_neuron", "Backpropagation with a single modified neuron", "Nielsen §2.5, exercise",
        (step(comp("delta", l, 1), hidden, [local, model],
              [(k_sum * sp.Function("sigma_prime")(comp("z", l, 1)), "σ′ kept"), (k_sum, "f′ left out")],
              "BP2's chain rule, with f′ in place of σ′ for that neuron (hidden layer)", "modified-neuron"),
         step(comp("delta", L, 1), output, [local, model],
              [(comp("grad_a_C", L, 1) * sp.Function("sigma_prime")(comp("z", L, 1)), "σ′ kept"),
               (comp("grad_a_C", L, 1) * f_prime(comp("a", L, 1)), "f′ at aᴸ₁")],
              "BP1's chain rule, with f′ in place of σ′ (the modified neuron in the output layer)",
              "modified-neuron", premise=False)),
        numbers="modified")


def _linear_neurons() -> Derivation:
    bp2 = mul(T(w(l + 1)), delta(l + 1))
    linear = ConcreteNets(BOUND, linear=True, ceiling=(4, 2))
    index, index_via_a = IndexModel(linear=True), IndexModel(delta_via="a", linear=True)
    return Derivation(
        "linear_neurons", "Backpropagation with linear neurons σ(z) = z", "Nielsen §2.5, exercise",
        (step(delta(L), hadamard(grad_a_C, sig_prime(z(L))), [index_via_a, linear],
              [(hadamard(grad_a_C, sig(z(L))), "σ for σ′, which is zᴸ here"), (hadamard(grad_a_C, a(L)),
                                                                               "⊙ aᴸ")],
              "BP1 holds for every σ, σ(z) = z included", "linear-neurons"),
         step(delta(L), grad_a_C, [index_via_a, linear], [(hadamard(grad_a_C, a(L)), "⊙ aᴸ kept"),
                                                          (hadamard(grad_a_C, z(L)), "⊙ zᴸ")],
              "BP1 with σ′ = 1", "linear-neurons"),
         step(delta(l), bp2, [index, linear], [(mul(w(l + 1), delta(l + 1)), "w instead of wᵀ"),
                                               (hadamard(bp2, z(l)), "⊙ zˡ")],
              "BP2 with σ′ = 1", "linear-neurons"),
         step(dC_dw(l), mul(delta(l), T(a(l - 1))), [index, linear],
              [(mul(delta(l), T(z(l))), "zˡ for aˡ⁻¹"), (mul(delta(l), T(a(l))), "aˡ for aˡ⁻¹")],
              "BP4 unchanged, with aˡ⁻¹ = zˡ⁻¹ below", "linear-neurons")),
        stated=2, numbers="linear")


def _mini_batch() -> Derivation:
    X = (2,)
    batch = ConcreteNets(SMALL, examples=X, ceiling=DEFAULT_BOUND)
    index = IndexModel(batch=True, given="the chain rule (Prop. 1) for each example's Cₓ")
    x = sp.Symbol("x", integer=True, positive=True)
    rule_w = mul(-eta / m, Q("delta", l, m), T(Q("a", l - 1, m)))
    component_b = -eta / m * sp.Sum(comp("delta", l, j, x), (x, 1, m))
    per_example = sp.Sum(comp("delta", l, j, x) * comp("a", l - 1, k, x), (x, 1, m))
    return Derivation(
        "mini_batch", "The mini-batch rule, with the cost an average over examples",
        "Nielsen §2.2 (C = (1/n)Σₓ Cₓ) and §2.5 (gradient descent on a mini-batch)",
        (step(comp("dC_dw", l, j, k), per_example / m, [index, batch],
              [(per_example, "the 1/m left out"),
               (sp.Sum(comp("delta", l, j, x) * comp("a", l, k, x), (x, 1, m)) / m, "aˡ for aˡ⁻¹")],
              "C = (1/m)Σₓ Cₓ, and BP4 for each Cₓ", "mini-batch-w"),
         step(mul(-eta, dC_dw(l)), rule_w, batch,
              [(mul(-eta, Q("delta", l, m), T(Q("a", l - 1, m))), "η instead of η/m"),
               (mul(eta / m, Q("delta", l, m), T(Q("a", l - 1, m))), "the sign")],
              "w → w − η∂C/∂w: column x of δ^(X,l) is δˣ'ˡ, so δ^(X,l)(a^(X,l−1))ᵀ = Σₓ δˣ'ˡ(aˣ'ˡ⁻¹)ᵀ",
              "mini-batch-w"),
         step(-eta * comp("dC_db", l, j), component_b, batch,
              [(-eta * sp.Sum(comp("delta", l, j, x), (x, 1, m)), "η instead of η/m"),
               (-eta / m * sp.Sum(comp("a", l, j, x), (x, 1, m)), "aˡ for δˡ")],
              "b → b − η∂C/∂b, by BP3 for each Cₓ", "mini-batch-b")),
        stated=1, numbers="mini_batch")


def _matrix_based() -> Derivation:
    batch = ConcreteNets(SMALL, examples=(2,), ceiling=DEFAULT_BOUND)
    index = IndexModel(batch=True, given="the chain rule (Prop. 1) for each example's Cₓ")
    index_via_a = IndexModel(batch=True, delta_via="a",
                             given="the chain rule (Prop. 1) through aᴸ, per example")
    Z, A, D = (lambda layer: Q("z", layer, m)), (lambda layer: Q("a", layer, m)), (lambda layer: Q("delta",
                                                                                                   layer, m))
    ones = Q("ones", 0)
    grad = Q("grad_a_C", L, m)
    return Derivation(
        "matrix_based", "The fully matrix-based approach over a mini-batch X = [x₁ … xₘ]",
        "Nielsen §2.5, problem \"fully matrix-based approach to backpropagation over a mini-batch\"",
        (step(Z(l), add(mul(w(l), A(l - 1)), mul(b(l), T(ones))), [index, batch],
              [(add(mul(w(l), A(l - 1)), mul(b(l), T(ones)), mul(b(l), T(ones))), "the bias added twice"),
               (mul(w(l), A(l - 1)), "the bias left out")],
              "feedforward: column x of wˡa^(X,l−1) + bˡ1ᵀ is wˡaˣ'ˡ⁻¹ + bˡ", "matrix-based"),
         step(D(L), hadamard(grad, sig_prime(Z(L))), [index_via_a, batch],
              [(grad, "σ′ left out"), (hadamard(grad, sig(Z(L))), "σ for σ′")],
              "BP1 column by column: column x of ∇ₐC^(X) is ∇ₐCₓ", "matrix-based"),
         step(D(l), hadamard(mul(T(w(l + 1)), D(l + 1)), sig_prime(Z(l))), [index, batch],
              [(hadamard(mul(w(l + 1), D(l + 1)), sig_prime(Z(l))), "w instead of wᵀ"),
               (mul(T(w(l + 1)), D(l + 1)), "σ′ left out")],
              "BP2 column by column: one product (wˡ⁺¹)ᵀδ^(X,l+1) for the whole mini-batch", "matrix-based"),
         step(dC_dw(l), mul(1 / m, D(l), T(A(l - 1))), [index, batch],
              [(mul(D(l), T(A(l - 1))), "the 1/m left out"), (mul(1 / m, D(l), T(A(l))),
                                                              "a^(X,l) for a^(X,l−1)")],
              "∂C/∂wˡ = (1/m)Σₓ δˣ'ˡ(aˣ'ˡ⁻¹)ᵀ, one matrix product", "matrix-based"),
         step(dC_db(l), mul(1 / m, D(l), ones), [index, batch],
              [(mul(D(l), ones), "the 1/m left out"), (mul(1 / m, A(l), ones), "a^(X,l) for δ^(X,l)")],
              "∂C/∂bˡ = (1/m)Σₓ δˣ'ˡ: the row sums of δ^(X,l)", "matrix-based")),
        stated=2, numbers="mini_batch")


def _finite_differences() -> Derivation:
    C, wv, eps = sp.Function("C"), sp.Symbol("w_j"), sp.Symbol("epsilon", positive=True)
    forward = (C(wv + eps) - C(wv)) / eps
    central = (C(wv + eps) - C(wv - eps)) / (2 * eps)
    d1, d2, d3 = (sp.Derivative(C(wv), (wv, p)) for p in (1, 2, 3))
    d4 = sp.Derivative(C(wv), (wv, 4))
    taylor = ScalarModel({}, "C an undefined function of one weight, Taylor series in ε")
    return Derivation(
        "finite_differences", "Equation 46: truncation orders of the difference quotients",
        "Nielsen §2.6, eq. (46)",
        (step(forward, d1 + eps / 2 * d2 + sp.O(eps ** 2), taylor,
              [(d1 + eps * d2 + sp.O(eps ** 2), "ε C″ without the ½"), (d1 + sp.O(eps ** 2),
                                                                        "second order claimed")],
              "Taylor series of C(w + ε)", "46"),
         step(central, d1 + eps ** 2 / 6 * d3 + sp.O(eps ** 4), taylor,
              [(d1 + eps ** 2 / 6 * d3 + eps ** 3 / 24 * d4 + sp.O(eps ** 4),
                "an ε³ term, wrong only at order ε³"),
               (d1 + eps ** 2 / 3 * d3 + sp.O(eps ** 4), "ε²C‴/3")],
              "Taylor series; the even terms cancel, so the error is ε²C‴/6 + O(ε⁴)", "46")),
        numbers="orders")


def _cross_entropy() -> Derivation:
    statement = a(L) + mul(-1, y)
    model = OutputModel()
    return Derivation(
        "cross_entropy", "Cross-entropy with sigmoid output: δᴸ = aᴸ − y",
        "one step beyond the source texts (the book's ch. 3)",
        (step(delta(L), statement, model,
              [(hadamard(statement, sig_prime(z(L))), "σ′ kept, as for the quadratic cost"),
               (y + mul(-1, a(L)), "y − aᴸ")],
              "σ′ = σ(1 − σ) cancels the denominators of ∂C/∂a", "cross-entropy"),),
        numbers="cross_entropy")


DERIVATIONS: tuple[Derivation, ...] = (_modified_neuron(), _linear_neurons(), _mini_batch(), _matrix_based(),
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
        "Nielsen §2.7, eqs. (47)–(53)",
        (step(comp("dC_da", l, j), sp.Sum(comp("dC_da", l + 1, p_) * comp("rate", l, p_, j), (p_, 1, n(l
                                                                                                       + 1))),
              [LocalStep([(2, 1, 2), (1, 2, 3), (2, 3, 2), (None, 2, 1)]), ConcreteNets(SMALL, ceiling=(4,
                                                                                                        2))],
              [(sp.Sum(comp("dC_da", l + 1, p_), (p_, 1, n(l + 1))), "the rate factor left out"),
               (comp("dC_da", l + 1, j) * comp("rate", l, j, j), "only the path through neuron j")],
              "the paths from aˡⱼ go through some aˡ⁺¹_q: the sum over paths from a layer is the sum over "
              "the next "
              "layer's paths times the rate factor of the edge, so (53) at every depth follows by induction "
              "from "
              "its form at L − 1 below", "53", premise=False),
         step(comp("dC_dw", L - 1, j, k), one_layer, ConcreteNets(SMALL, ceiling=(4, 2)),
              [(sp.Sum(comp("grad_a_C", L, p_) * comp("rate", L - 1, p_, j), (p_, 1, n(L))),
                "the first rate factor of each path left out"),
               (comp("grad_a_C", L, j) * comp("rate", L - 1, j, j) * comp("rate_w", L - 1, j, k),
                "only the path through neuron j")],
              "eqs. (48)–(51): the rate factor ∂aˡⱼ/∂wˡⱼₖ, then ∂aᴸₚ/∂aᴸ⁻¹ⱼ, then ∂C/∂aᴸₚ; eq. (52): summed "
              "over p", "53", premise=False),
         step(comp("dC_dw", L - 2, j, k), two_layers, model,
              [(only_through_j, "only the paths through neuron j of every layer"),
               (sp.Sum(sp.Sum(comp("grad_a_C", L, p_) * comp("rate", L - 1, p_, i_) * comp("rate", L - 2, i_,
                                                                                           j),
                              (i_, 1, n(L - 1))), (p_, 1, n(L))), "the rate factor ∂aˡⱼ/∂wˡⱼₖ left out")],
              "eq. (53): one factor ∂a/∂a per neuron the path passes, summed over every path", "53",
              premise=False)),
        stated=2, numbers="paths",
        notes="(53) at every depth: at L − 1 and L − 2 on every network (steps 2 and 3), and from any layer "
              "to "
              "the one below by step 1, which holds at every depth (the layer-local step), by induction.")


def _changes() -> Derivation:
    """Eqs. 47–52 as what their ≈ means: equal up to an error of second order in the change."""
    q, p_ = sp.Symbol("q", integer=True, positive=True), sp.Symbol("p", integer=True, positive=True)
    model = ConcreteNets(SMALL, ceiling=DEFAULT_BOUND)
    paths = sp.Sum(comp("grad_a_C", L, p_) * comp("rate", L - 1, p_, j) * comp("rate_w", L - 1, j, k),
                   (p_, 1, n(L)))
    return Derivation(
        "changes", "Equations 47–52: the changes a small Δw causes, to first order",
        "Nielsen §2.7, eqs. (47)–(52)",
        (step(comp("DC_w", l, j, k), comp("dC_dw", l, j, k) * dw + sp.O(dw ** 2), model,
              [(comp("dC_dw", l, j, k) * dw + sp.O(dw ** 3), "the error claimed of third order"),
               (2 * comp("dC_dw", l, j, k) * dw + sp.O(dw ** 2), "twice the rate")],
              "(47): ΔC ≈ ∂C/∂wˡⱼₖ Δwˡⱼₖ means ΔC = ∂C/∂wˡⱼₖ Δwˡⱼₖ + O(Δw²): C's Taylor series in the one "
              "weight",
              "47", premise=False),
         step(comp("Da_w", l, j, k), comp("rate_w", l, j, k) * dw + sp.O(dw ** 2), model,
              [(comp("rate_w", l, j, k) * dw + sp.O(dw ** 3), "the error claimed of third order"),
               (sp.O(dw ** 2), "no first-order change")],
              "(48): the change of the weight's own neuron", "48", premise=False),
         step(comp("Danext_a", l, q, j), comp("rate", l, q, j) * da + sp.O(da ** 2), model,
              [(comp("rate", l, q, j) * da + sp.O(da ** 3), "the error claimed of third order"),
               (da + sp.O(da ** 2), "the rate factor left out")],
              "(49), with the Δaˡⱼ the source's text lost: a change of aˡⱼ changes every aˡ⁺¹_q", "49",
              premise=False),
         step(comp("Danext_w1", l, q, j), comp("rate", l, q, j) * comp("rate_w", l, j, 1) * dw
              + sp.O(dw ** 2), model,
              [(comp("rate", l, q, j) * comp("rate_w", l, j, 1) * dw + sp.O(dw ** 3),
                "the error claimed of third order"),
               (comp("rate", l, q, j) * dw + sp.O(dw ** 2), "∂aˡⱼ/∂wˡⱼₖ left out")],
              "(50): (48) substituted into (49), for the weight wˡⱼ₁ (every k alike): wˡⱼₖ reaches layer l "
              "+ 1 "
              "through aˡⱼ only", "50", premise=False),
         step(comp("DC_w", L - 1, j, k), paths * dw + sp.O(dw ** 2), model,
              [(paths * dw + sp.O(dw ** 3), "the error claimed of third order"),
               (comp("grad_a_C", L, j) * comp("rate", L - 1, j, j) * comp("rate_w", L - 1, j, k) * dw
                + sp.O(dw ** 2),
                "only the path through neuron j")],
              "(52): ΔC is the sum over every path of its product of rate factors (51), times Δw, to first "
              "order: with (47) this is eq. (53)", "52", premise=False)),
        stated=4, numbers="orders",
        notes="Each ≈ of eqs. 47–52 is checked as an equality up to an error O(Δ²) whose order is exact in "
              "general (the variant claiming O(Δ³) is refuted). Eq. (51), one path's product of rate "
              "factors, is not by itself the change in C (every path contributes); it is checked as the "
              "terms of (52)'s sum, and (52) at every depth is eq. 53's (see path_sum).")


def _cost_claims() -> Derivation:
    lam = sp.Symbol("λ", integer=True, positive=True)
    parameters = sp.Sum(n(lam) * (n(lam - 1) + 1), (lam, 2, L))
    forward = sp.Sum(n(lam) * n(lam - 1), (lam, 2, L))
    model = ConcreteNets(BOUND)
    return Derivation(
        "cost_claims",
        "§2.6: P + 1 forward passes for eq. 46; the backward pass costs about one forward pass",
        "Nielsen §2.6, \"in what sense is backpropagation a fast algorithm?\"",
        (step(comp("passes_46", L), parameters + 1, model,
              [(2 * parameters, "2P, the central difference's count"), (parameters, "P, C(w) forgotten")],
              "C(w) once, and C(w + εeⱼ) for each of the P weights and biases", "cost-46", premise=False),
         step(comp("mults_forward", L), forward, model,
              [(parameters, "counting the biases too"),
               (sp.Sum(n(lam) ** 2, (lam, 2, L)), "nₗ² for each layer")],
              "the forward pass's products wˡaˡ⁻¹: nₗ·nₗ₋₁ multiplications each", "cost-backward",
              premise=False),
         step(comp("mults_backward", L), comp("mults_forward", L) - n(2) * n(1), model,
              [(comp("mults_forward", L), "exactly one forward pass"),
               (comp("mults_forward", L) - n(L) * n(L - 1), "the last layer's product left out")],
              "the backward pass's (wˡ⁺¹)ᵀδˡ⁺¹ for l = L − 1..2: the same products as the forward pass "
              "but the first; so a backward pass costs at most one forward pass", "cost-backward",
              premise=False)),
        numbers="counts")


DERIVATIONS = DERIVATIONS + (_changes(), _path_sum(), _cost_claims())
