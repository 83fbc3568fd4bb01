"""The book's §2.2–2.4 (seed 001): the forward equations, BP1–BP4 and the Σ′(z) presentation.

Each derivation states its claim once, as SymPy templates (``derivations.notation``), and checks
it at several levels: in index form for every width and depth (given the chain rule), as the
layer-local step for every depth (nothing assumed), and on every concrete network up to a bound.
"""

from __future__ import annotations

import sympy as sp

from bpverify.derivations.core import Derivation, Step
from bpverify.derivations.models import ConcreteNets, IndexModel, LocalStep
from bpverify.derivations.notation import (
    Diag,
    L,
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
    z,
)

CONCRETE_DEPTH, CONCRETE_WIDTH = 3, 2
DEFAULT_BOUND = (CONCRETE_DEPTH, CONCRETE_WIDTH)
"""The default concrete bound: every (n₁, …, n_L) with L ≤ 3 and nₗ ≤ 2 (12 networks). The
index-form and layer-local steps cover every width and depth; the concrete steps cross-check
them with nothing assumed (``--bound 4 3``, 117 networks, in ``tox -e derive``)."""

LOCAL = LocalStep([(2, 1, 2), (1, 2, 3), (2, 3, 2), (3, 2, None), (2, 3, None)])
LOCAL_ANY_PREV = LocalStep([(None, 1, 2), (None, 2, 1), (None, 2, None), (2, 2, 2), (3, 1, None)])
"""The layer-local step, below the output and at l = L; the second for every n_{l−1} (symbolic)."""


def _bp1() -> Derivation:
    statement = hadamard(grad_a_C, sig_prime(z(L)))
    component = comp("grad_a_C", L, j) * sigma_prime(comp("z", L, j))
    return Derivation(
        "bp1", "BP1: the error in the output layer", "Nielsen §2.4, proof of BP1",
        delta(L), statement,
        (Step(comp("delta", L, j), component, comp("grad_a_C", L, j), IndexModel(),
              "definition δᴸⱼ = ∂C/∂zᴸⱼ; chain rule over aᴸ; aᴸₖ depends on zᴸⱼ only for k = j",
              "σ′ left out"),
         Step(delta(L), statement, hadamard(grad_a_C, sig(z(L))), IndexModel(),
              "the component form, for every j", "σ for σ′"),
         Step(delta(L), statement, grad_a_C, LOCAL, "the same, nothing assumed", "σ′ left out"),
         Step(delta(L), statement, hadamard(grad_a_C, sig_prime(a(L))), ConcreteNets(DEFAULT_BOUND),
              "the same, nothing assumed", "σ′ at aᴸ instead of zᴸ")),
        statement_steps=(1, 2, 3), numbers="network")


def _bp2() -> Derivation:
    statement = hadamard(mul(T(w(l + 1)), delta(l + 1)), sig_prime(z(l)))
    k_sum = sp.Sum(comp("w", l + 1, k, j) * comp("delta", l + 1, k), (k, 1, n(l + 1)))
    swapped = sp.Sum(comp("w", l + 1, j, k) * comp("delta", l + 1, k), (k, 1, n(l + 1)))
    return Derivation(
        "bp2", "BP2: the error δˡ in terms of δˡ⁺¹", "Nielsen §2.4, proof of BP2",
        delta(l), statement,
        (Step(comp("delta", l, j), k_sum * sigma_prime(comp("z", l, j)),
              swapped * sigma_prime(comp("z", l, j)), IndexModel(),
              "δˡⱼ = Σₖ ∂C/∂zˡ⁺¹ₖ ∂zˡ⁺¹ₖ/∂zˡⱼ (chain rule) with zˡ⁺¹ₖ = Σⱼ wˡ⁺¹ₖⱼ σ(zˡⱼ) + bˡ⁺¹ₖ",
              "indices of w swapped"),
         Step(delta(l), statement, hadamard(mul(w(l + 1), delta(l + 1)), sig_prime(z(l))), IndexModel(),
              "the component form, for every j", "w instead of wᵀ"),
         Step(delta(l), statement, mul(T(w(l + 1)), delta(l + 1)), LOCAL,
              "the same, nothing assumed", "σ′ left out"),
         Step(delta(l), statement, hadamard(mul(w(l + 1), delta(l + 1)), sig_prime(z(l))),
              ConcreteNets(DEFAULT_BOUND), "the same, nothing assumed", "w instead of wᵀ")),
        statement_steps=(1, 2, 3), numbers="network")


def _bp3() -> Derivation:
    return Derivation(
        "bp3", "BP3: the rate of change of the cost with respect to any bias",
        "Nielsen §2.4 (left as an exercise), proved here", dC_db(l), delta(l),
        (Step(comp("dC_db", l, j), comp("delta", l, j),
              comp("delta", l, j) * sigma_prime(comp("z", l, j)), IndexModel(),
              "∂C/∂bˡⱼ = Σₖ ∂C/∂zˡₖ ∂zˡₖ/∂bˡⱼ (chain rule) and ∂zˡₖ/∂bˡⱼ = 1 if k = j, else 0",
              "σ′ applied once more"),
         Step(dC_db(l), delta(l), hadamard(delta(l), a(l)), IndexModel(), "the component form, for every j",
              "⊙ aˡ"),
         Step(dC_db(l), delta(l), hadamard(delta(l), sig_prime(z(l))), LOCAL_ANY_PREV,
              "the same, nothing assumed, for every n_{l−1}, below the output and at l = L",
              "σ′ applied once more"),
         Step(dC_db(l), delta(l), hadamard(grad_a_C, sig_prime(z(l))), ConcreteNets(DEFAULT_BOUND),
              "the same, nothing assumed, at every layer", "BP1's right side, true at l = L only")),
        statement_steps=(1, 2, 3), numbers="network")


def _bp4() -> Derivation:
    statement = mul(delta(l), T(a(l - 1)))
    return Derivation(
        "bp4", "BP4: the rate of change of the cost with respect to any weight",
        "Nielsen §2.4 (left as an exercise), proved here", dC_dw(l), statement,
        (Step(comp("dC_dw", l, j, k), comp("a", l - 1, k) * comp("delta", l, j),
              comp("a", l - 1, j) * comp("delta", l, k), IndexModel(),
              "∂C/∂wˡⱼₖ = Σᵢ ∂C/∂zˡᵢ ∂zˡᵢ/∂wˡⱼₖ (chain rule) with zˡᵢ = Σₖ wˡᵢₖ aˡ⁻¹ₖ + bˡᵢ",
              "indices swapped"),
         Step(dC_dw(l), statement, mul(a(l - 1), T(delta(l))), IndexModel(),
              "the component form, for every j and k", "the outer product transposed"),
         Step(dC_dw(l), statement, mul(delta(l), T(a(l))), LOCAL_ANY_PREV,
              "the same, nothing assumed, for every n_{l−1} and at l = L", "aˡ instead of aˡ⁻¹"),
         Step(dC_dw(l), statement, mul(hadamard(delta(l), sig_prime(z(l))), T(a(l - 1))),
              ConcreteNets(DEFAULT_BOUND), "the same, nothing assumed", "σ′ applied once more")),
        statement_steps=(1, 2, 3), numbers="network")


def _forward() -> Derivation:
    matrix = sig(add(mul(w(l), a(l - 1)), b(l)))
    component = sigma(sp.Sum(comp("w", l, j, k) * comp("a", l - 1, k), (k, 1, n(l - 1))) + comp("b", l, j))
    defined = IndexModel(given="the component form aˡⱼ = σ(Σₖ wˡⱼₖaˡ⁻¹ₖ + bˡⱼ) (2.2.1) as the definition")
    swapped = sig(add(mul(T(sp.MatrixSymbol("_", 1, 1)), a(l - 1)), b(l)))  # placeholder, replaced below
    del swapped
    from bpverify.derivations.notation import Q
    w_swapped = Q("w_swapped", l)
    return Derivation(
        "forward", "The forward equations, in component and matrix form (and the j, k order)",
        "Nielsen §2.2, equations (2.2.1)–(2.2.3) and the footnote on the order of j and k",
        a(l), matrix,
        (Step(comp("a", l, j), component,
              sigma(sp.Sum(comp("w", l, k, j) * comp("a", l - 1, k), (k, 1, n(l - 1))) + comp("b", l, j)),
              defined, "(2.2.1): the weighted input of neuron j sums over the neurons k of layer l − 1",
              "wˡₖⱼ: the j, k order of the footnote"),
         Step(a(l), matrix, sig(add(mul(T(w(l)), a(l - 1)), b(l))), defined,
              "(2.2.3): entry j of wˡaˡ⁻¹ is Σₖ wˡⱼₖaˡ⁻¹ₖ", "wᵀ instead of w"),
         Step(a(l), sig(add(mul(T(w_swapped), a(l - 1)), b(l))), sig(add(mul(w_swapped, a(l - 1)), b(l))),
              defined, "the footnote: with j indexing the input neuron (the matrix w̃ˡ, entry (k, j) = "
              "wˡⱼₖ) the same layer needs the transpose", "w̃ without the transpose"),
         Step(z(l), add(mul(w(l), a(l - 1)), b(l)), add(mul(a(l - 1), w(l)), b(l)),
              defined, "the weighted input zˡ ≡ wˡaˡ⁻¹ + bˡ, and aˡ = σ(zˡ)", "aˡ⁻¹wˡ")),
        statement_steps=(1,), numbers="forward")


def _sigma_prime_form() -> Derivation:
    S = Diag(sig_prime(z(l)))
    part2 = mul(S, T(w(l + 1)), delta(l + 1))
    return Derivation(
        "sigma_prime_form", "BP1 and BP2 with the diagonal matrix Σ′(z), parts 1–3",
        "Nielsen §2.4, problem \"alternate presentation\"", delta(l), part2,
        (Step(delta(L), mul(Diag(sig_prime(z(L))), grad_a_C), mul(grad_a_C, Diag(sig_prime(z(L)))),
              IndexModel(),
              "(1) diag(v)u = v ⊙ u, with BP1", "the factors in the other order"),
         Step(delta(l), part2, mul(T(w(l + 1)), Diag(sig_prime(z(l + 1))), delta(l + 1)), IndexModel(),
              "(2) diag(v)u = v ⊙ u, with BP2", "Σ′ of the layer above"),
         Step(delta(l), part2, mul(T(w(l + 1)), Diag(sig_prime(z(l + 1))), delta(l + 1)),
              ConcreteNets(DEFAULT_BOUND), "(2) on every concrete network", "Σ′ of the layer above"),
         Step(delta(L - 1), mul(Diag(sig_prime(z(L - 1))), T(w(L)), Diag(sig_prime(z(L))), grad_a_C),
              mul(Diag(sig_prime(z(L - 1))), T(w(L)), grad_a_C), ConcreteNets(DEFAULT_BOUND),
              "(3) the product, two layers from the output: (1) substituted into (2)",
              "the inner Σ′ left out")),
        statement_steps=(1, 2), numbers="network",
        notes="Part (3) for every depth is (1) followed by (2) applied L − l times: an induction whose "
              "base (1) and step (2) are checked above for every width and depth.")


DERIVATIONS: tuple[Derivation, ...] = (_forward(), _bp1(), _bp2(), _bp3(), _bp4(), _sigma_prime_form())
