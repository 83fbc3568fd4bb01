"""The book's §2.2–2.4 (source 001): the forward equations, BP1–BP4 with the proofs of BP1 and
BP2 line by line, BP1 for the quadratic cost, and the Σ′(z) presentation.

Each derivation states its claim once, as SymPy templates (``derivations.notation``), and checks
it at several levels: in index form for every width and depth (given the chain rule), as the
layer-local step for every depth (nothing assumed), and on every concrete network up to a bound.
"""

from __future__ import annotations

import sympy as sp

from bpverify.derivations.core import Derivation, step
from bpverify.derivations.models import ConcreteNets, IndexModel, LocalStep
from bpverify.derivations.notation import (
    Diag,
    L,
    Q,
    T,
    a,
    add,
    b,
    comp,
    dC_db,
    dC_dw,
    delta,
    grad_a_C,
    hadamard,
    j,
    k,
    l,
    mul,
    n,
    sig,
    sig_prime,
    sigma,
    sigma_prime,
    w,
    y,
    z,
)

CONCRETE_DEPTH, CONCRETE_WIDTH = 3, 2
DEFAULT_BOUND = (CONCRETE_DEPTH, CONCRETE_WIDTH)
"""The default concrete bound: every (n₁, …, n_L) with L ≤ 3 and nₗ ≤ 2 (12 networks). The
index-form and layer-local steps cover every width and depth; the concrete steps cross-check
them with nothing assumed (``--bound 4 3``, 117 networks, in ``tox -e derive``)."""

CONCRETE = ConcreteNets(DEFAULT_BOUND)
LOCAL = LocalStep([(2, 1, 2), (1, 2, 3), (2, 3, 2), (None, 2, 1), (3, 2, None), (2, 3, None), (None, 2,
                                                                                               None)])
LOCAL_OUTPUT = LocalStep([(3, 2, None), (2, 3, None), (None, 2, None)])
"""The layer-local step below the output and at l = L, with n_{l−1} symbolic (N) among them."""
INDEX = IndexModel()
INDEX_VIA_A = IndexModel(delta_via="a", given="the chain rule (Prop. 1) through aᴸ")
DEFINITION = "δˡⱼ ≡ ∂C/∂zˡⱼ, the error of neuron j in layer l (§2.4)"


def _bp1() -> Derivation:
    statement = hadamard(grad_a_C, sig_prime(z(L)))
    dC_da_k = comp("grad_a_C", L, k)
    return Derivation(
        "bp1", "BP1: the error in the output layer", "Nielsen §2.4, (BP1), (BP1a) and the proof of BP1",
        (step(comp("delta", L, j), sp.Sum(dC_da_k * comp("da_dz", L, k, j), (k, 1, n(L))), [LOCAL_OUTPUT,
                                                                                            CONCRETE],
              [(comp("grad_a_C", L, j), "the inner derivative left out"),
               (sp.Sum(dC_da_k, (k, 1, n(L))), "the sum without ∂aᴸₖ/∂zᴸⱼ")],
              "δᴸⱼ ≡ ∂C/∂zᴸⱼ, and the chain rule over the output activations aᴸₖ", "proof-BP1-chain",
              premise=False),
         step(comp("delta", L, j), comp("grad_a_C", L, j) * comp("da_dz", L, j, j),
              [INDEX_VIA_A, LOCAL_OUTPUT, CONCRETE],
              [(comp("grad_a_C", L, j), "the inner derivative left out"),
               (comp("da_dz", L, j, j), "∂C/∂aᴸⱼ left out")],
              "aᴸₖ = σ(zᴸₖ) depends on zᴸⱼ only for k = j: the other terms vanish", "proof-BP1-diagonal",
              premise=False),
         step(comp("delta", L, j), comp("grad_a_C", L, j) * sigma_prime(comp("z", L, j)),
              [INDEX_VIA_A, LOCAL_OUTPUT, CONCRETE],
              [(comp("grad_a_C", L, j), "σ′ left out"),
               (comp("grad_a_C", L, j) * sigma(comp("z", L, j)), "σ for σ′"),
               (comp("grad_a_C", L, j) * sigma_prime(comp("a", L, j)), "σ′ at aᴸⱼ instead of zᴸⱼ")],
              "∂aᴸⱼ/∂zᴸⱼ = σ′(zᴸⱼ): (BP1) in components", "BP1"),
         step(delta(L), statement, [INDEX_VIA_A, LOCAL_OUTPUT, CONCRETE],
              [(hadamard(grad_a_C, sig(z(L))), "σ for σ′"), (grad_a_C, "σ′ left out"),
               (hadamard(grad_a_C, sig_prime(a(L))), "σ′ at aᴸ instead of zᴸ")],
              "(BP1a): entry j of u ⊙ v is uⱼvⱼ", "BP1a")),
        stated=3, numbers="network", intro=f"The definition: {DEFINITION}.")


def _bp1_quadratic() -> Derivation:
    output_error = add(a(L), mul(-1, y))
    statement = hadamard(output_error, sig_prime(z(L)))
    index = IndexModel(cost="quadratic", given="C = ½Σⱼ(yⱼ − aᴸⱼ)², differentiated outright")
    local = LocalStep([(3, 2, None), (2, 3, None), (None, 2, None)], cost="quadratic")
    concrete = ConcreteNets(DEFAULT_BOUND, quadratic=True)
    return Derivation(
        "bp1_quadratic", "BP1 for the quadratic cost: δᴸ = (aᴸ − y) ⊙ σ′(zᴸ)",
        "Nielsen §2.2 (the quadratic cost) and §2.4 (BP1 in its fully matrix-based form)",
        (step(grad_a_C, output_error, [index, local, concrete],
              [(add(y, mul(-1, a(L))), "y − aᴸ"), (a(L), "y left out")],
              "C = ½Σⱼ(yⱼ − aᴸⱼ)², so ∂C/∂aᴸⱼ = aᴸⱼ − yⱼ", "BP1-quadratic", premise=False),
         step(delta(L), statement, [index, local, concrete],
              [(hadamard(add(y, mul(-1, a(L))), sig_prime(z(L))), "y − aᴸ"),
               (output_error, "σ′ left out (the cross-entropy cost's δᴸ)"),
               (hadamard(output_error, sig_prime(a(L))), "σ′ at aᴸ")],
              "BP1 with ∇ₐC = aᴸ − y", "BP1-quadratic")),
        stated=1, numbers="network")


def _bp2() -> Derivation:
    statement = hadamard(mul(T(w(l + 1)), delta(l + 1)), sig_prime(z(l)))
    k_sum = sp.Sum(comp("w", l + 1, k, j) * comp("delta", l + 1, k), (k, 1, n(l + 1)))
    return Derivation(
        "bp2", "BP2: the error δˡ in terms of δˡ⁺¹", "Nielsen §2.4, (BP2) and its proof, eqs. (42)ff.",
        (step(comp("delta", l, j), sp.Sum(comp("dz_dz", l, k, j) * comp("delta", l + 1, k), (k, 1, n(l + 1))),
              [LOCAL, CONCRETE],
              [(sp.Sum(comp("dz_dz", l, k, j), (k, 1, n(l + 1))), "δˡ⁺¹ₖ left out"),
               (k_sum, "∂zˡ⁺¹ₖ/∂zˡⱼ taken for wˡ⁺¹ₖⱼ, σ′ forgotten")],
              "(42): δˡⱼ ≡ ∂C/∂zˡⱼ = Σₖ ∂C/∂zˡ⁺¹ₖ ∂zˡ⁺¹ₖ/∂zˡⱼ (the chain rule), with ∂C/∂zˡ⁺¹ₖ = δˡ⁺¹ₖ",
              "proof-BP2-chain", premise=False),
         step(comp("dz_dz", l, k, j), comp("w", l + 1, k, j) * sigma_prime(comp("z", l, j)),
              [INDEX, LOCAL, CONCRETE],
              [(comp("w", l + 1, k, j), "σ′ left out"),
               (comp("w", l + 1, k, j) * sigma_prime(comp("z", l + 1, k)), "σ′ of the layer above")],
              "differentiating zˡ⁺¹ₖ = Σⱼ wˡ⁺¹ₖⱼ σ(zˡⱼ) + bˡ⁺¹ₖ (see the forward equations): only the term "
              "with zˡⱼ depends on it", "proof-BP2-derivative"),
         step(comp("delta", l, j), k_sum * sigma_prime(comp("z", l, j)), [INDEX, LOCAL, CONCRETE],
              [(k_sum, "σ′ left out"),
               (sp.Sum(comp("w", l + 1, k, j) * comp("delta", l + 1, k) * sigma_prime(comp("z", l + 1, k)),
                       (k, 1, n(l + 1))), "σ′ of the layer above, inside the sum")],
              "the derivative substituted into (42): (BP2) in components", "proof-BP2-component"),
         step(delta(l), statement, [INDEX, LOCAL, CONCRETE],
              [(hadamard(mul(w(l + 1), delta(l + 1)), sig_prime(z(l))), "w instead of wᵀ"),
               (mul(T(w(l + 1)), delta(l + 1)), "σ′ left out"),
               (hadamard(mul(T(w(l + 1)), delta(l + 1)), sig(z(l))), "σ for σ′")],
              "(BP2): entry j of (wˡ⁺¹)ᵀδˡ⁺¹ is Σₖ wˡ⁺¹ₖⱼδˡ⁺¹ₖ", "BP2")),
        stated=3, numbers="network", intro=f"The definition: {DEFINITION}.")


def _bp3() -> Derivation:
    return Derivation(
        "bp3", "BP3: the rate of change of the cost with respect to any bias",
        "Nielsen §2.4, (BP3) (left as an exercise), proved here",
        (step(comp("dC_db", l, j), comp("delta", l, j), [INDEX, LOCAL, CONCRETE],
              [(comp("delta", l, j) * sigma_prime(comp("z", l, j)), "σ′ applied once more"),
               (comp("delta", l, j) * comp("a", l, j), "times aˡⱼ")],
              "∂C/∂bˡⱼ = Σₖ ∂C/∂zˡₖ ∂zˡₖ/∂bˡⱼ (chain rule) and ∂zˡₖ/∂bˡⱼ = 1 if k = j, else 0", "BP3"),
         step(dC_db(l), delta(l), [INDEX, LOCAL, CONCRETE],
              [(hadamard(delta(l), sig_prime(z(l))), "σ′ applied once more"),
               (hadamard(delta(l), a(l)), "⊙ aˡ"), (mul(2, delta(l)), "twice δˡ")],
              "the component form, for every j", "BP3")),
        stated=1, numbers="network")


def _bp4() -> Derivation:
    statement = mul(delta(l), T(a(l - 1)))
    return Derivation(
        "bp4", "BP4: the rate of change of the cost with respect to any weight",
        "Nielsen §2.4, (BP4) (left as an exercise), proved here",
        (step(comp("dC_dw", l, j, k), comp("a", l - 1, k) * comp("delta", l, j), [INDEX, LOCAL, CONCRETE],
              [(comp("a", l - 1, j) * comp("delta", l, k), "indices swapped"),
               (comp("a", l, k) * comp("delta", l, j), "aˡ instead of aˡ⁻¹")],
              "∂C/∂wˡⱼₖ = Σᵢ ∂C/∂zˡᵢ ∂zˡᵢ/∂wˡⱼₖ (chain rule) with zˡᵢ = Σₖ wˡᵢₖ aˡ⁻¹ₖ + bˡᵢ", "BP4"),
         step(dC_dw(l), statement, [INDEX, LOCAL, CONCRETE],
              [(mul(a(l - 1), T(delta(l))), "the outer product transposed"),
               (mul(delta(l), T(a(l))), "aˡ instead of aˡ⁻¹"),
               (mul(hadamard(delta(l), sig_prime(z(l))), T(a(l - 1))), "σ′ applied once more")],
              "the component form, for every j and k", "BP4")),
        stated=1, numbers="network")


def _forward() -> Derivation:
    matrix = sig(add(mul(w(l), a(l - 1)), b(l)))
    component = sigma(sp.Sum(comp("w", l, j, k) * comp("a", l - 1, k), (k, 1, n(l - 1))) + comp("b", l, j))
    defined = IndexModel(given="the component form (2.2.1) as the definition of aˡ")
    w_swapped = Q("w_swapped", l)
    local = LocalStep([(2, 1, 2), (1, 2, 3), (3, 2, None), (None, 2, 1)])
    z_next = sp.Sum(comp("w", l + 1, k, j) * sigma(comp("z", l, j)), (j, 1, n(l))) + comp("b", l + 1, k)
    through_sigma = IndexModel(given="zˡ⁺¹ₖ = Σⱼ wˡ⁺¹ₖⱼaˡⱼ + bˡ⁺¹ₖ (2.2.1) with aˡ = σ(zˡ)",
                               through_sigma=True)
    return Derivation(
        "forward", "The forward equations, in component and matrix form (and the j, k order)",
        "Nielsen §2.2, equations (2.2.1) and (2.2.3), the weighted input and the footnote on the order "
        "of j and k",
        (step(comp("a", l, j), component, [local, CONCRETE],
              [(sigma(sp.Sum(comp("w", l, k, j) * comp("a", l - 1, k), (k, 1, n(l - 1))) + comp("b", l, j)),
                "wˡₖⱼ: the j, k order of the footnote"),
               (sigma(sp.Sum(comp("w", l, j, k) * comp("a", l - 1, k), (k, 1, n(l - 1)))),
                "the bias left out")],
              "(2.2.1): the weighted input of neuron j sums over the neurons k of layer l − 1", "2.2.1"),
         step(a(l), matrix, [defined, local, CONCRETE],
              [(sig(add(mul(T(w(l)), a(l - 1)), b(l))), "wᵀ instead of w"),
               (sig(mul(w(l), a(l - 1))), "the bias left out")],
              "(2.2.3): entry j of wˡaˡ⁻¹ is Σₖ wˡⱼₖaˡ⁻¹ₖ", "2.2.3"),
         step(a(l), sig(add(mul(T(w_swapped), a(l - 1)), b(l))),
              [defined, CONCRETE],
              [(sig(add(mul(w_swapped, a(l - 1)), b(l))), "w̃ without the transpose"),
               (sig(mul(T(w_swapped), a(l - 1))), "the bias left out")],
              "the footnote: with j indexing the input neuron (the matrix w̃ˡ, entry (k, j) = wˡⱼₖ) the same "
              "layer needs the transpose", "footnote-jk"),
         step(z(l), add(mul(w(l), a(l - 1)), b(l)), [defined, local, CONCRETE],
              [(add(mul(a(l - 1), w(l)), b(l)), "aˡ⁻¹wˡ"), (add(mul(T(w(l)), a(l - 1)), b(l)),
                                                            "wᵀ instead of w"),
               (mul(w(l), a(l - 1)), "the bias left out")],
              "the weighted input zˡ ≡ wˡaˡ⁻¹ + bˡ, and aˡ = σ(zˡ)", "weighted-input"),
         step(comp("z", l + 1, k), z_next, [through_sigma, local, CONCRETE],
              [(sp.Sum(comp("w", l + 1, k, j) * comp("z", l, j), (j, 1, n(l))) + comp("b", l + 1, k),
                "σ left out"),
               (sp.Sum(comp("w", l + 1, k, j) * sigma(comp("z", l, j)), (j, 1, n(l))), "the bias left out")],
              "the weighted input of layer l + 1 through σ(zˡ) (aˡ = σ(zˡ)), as the proof of BP2 uses it",
              "proof-BP2-z")),
        stated=1, numbers="forward")


def _sigma_prime_form() -> Derivation:
    S = Diag(sig_prime(z(l)))
    part2 = mul(S, T(w(l + 1)), delta(l + 1))
    part3 = mul(Diag(sig_prime(z(L - 1))), T(w(L)), Diag(sig_prime(z(L))), grad_a_C)
    part3_two = mul(Diag(sig_prime(z(L - 2))), T(w(L - 1)), Diag(sig_prime(z(L - 1))), T(w(L)),
                    Diag(sig_prime(z(L))), grad_a_C)
    return Derivation(
        "sigma_prime_form", "BP1 and BP2 with the diagonal matrix Σ′(z), parts 1–3",
        "Nielsen §2.4, problem \"alternate presentation\"",
        (step(delta(L), mul(Diag(sig_prime(z(L))), grad_a_C), [INDEX_VIA_A, LOCAL_OUTPUT, CONCRETE],
              [(mul(grad_a_C, Diag(sig_prime(z(L)))), "the factors in the other order"),
               (mul(Diag(sig(z(L))), grad_a_C), "Σ(z) for Σ′(z)"), (grad_a_C, "Σ′ left out")],
              "(1) diag(v)u = v ⊙ u, with BP1", "sigma-prime-1"),
         step(delta(l), part2, [INDEX, LOCAL, CONCRETE],
              [(mul(T(w(l + 1)), Diag(sig_prime(z(l + 1))), delta(l + 1)), "Σ′ of the layer above"),
               (mul(S, w(l + 1), delta(l + 1)), "w instead of wᵀ"), (mul(T(w(l + 1)), delta(l + 1)),
                                                                     "Σ′ left out")],
              "(2) diag(v)u = v ⊙ u, with BP2", "sigma-prime-2"),
         step(delta(L - 1), part3, [ConcreteNets(DEFAULT_BOUND)],
              [(mul(Diag(sig_prime(z(L - 1))), T(w(L)), grad_a_C), "the inner Σ′ left out"),
               (mul(T(w(L)), Diag(sig_prime(z(L))), grad_a_C), "the outer Σ′ left out")],
              "(3) two layers from the output: (1) substituted into (2)", "sigma-prime-3"),
         step(delta(L - 2), part3_two, [ConcreteNets((4, 2), min_depth=4, ceiling=(4, 2))],
              [(mul(Diag(sig_prime(z(L - 2))), T(w(L - 1)), T(w(L)), Diag(sig_prime(z(L))), grad_a_C),
                "the middle Σ′ left out"),
               (mul(Diag(sig_prime(z(L - 2))), T(w(L - 1)), Diag(sig_prime(z(L - 1))), T(w(L)), grad_a_C),
                "the last Σ′ left out")],
              "(3) three layers from the output: (2) substituted once more", "sigma-prime-3")),
        stated=1, numbers="network",
        notes="Part (3) for every depth is (1) followed by (2) applied L − l times: an induction whose "
              "base (1) and step (2) are checked above for every width and depth; SymPy has no product "
              "of a symbolic number of matrices, so (3) itself is checked at L − 1 and L − 2.")


DERIVATIONS: tuple[Derivation, ...] = (_forward(), _bp1(), _bp1_quadratic(), _bp2(), _bp3(), _bp4(),
                                       _sigma_prime_form())
