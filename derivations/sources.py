"""The items of the source texts the derivations check, each with where it is and a quotation by
which it is found in its source text (the quotation is as extracted, garbles included).

Every step names the item it checks (``Step.item``); ``audit`` in ``derivations.catalog`` fails
when an item is checked by no step (a deleted step) or a step names no known item. An equation
number cited in a derivation ("eq. 46", "(2.2.3)", "(42)") must be the ``label`` of an item
here, and ``tests/derivations/test_lecture_outputs.py`` finds every quotation, with its label beside it, in
the source texts themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCUMENTS = {
    "000": "Nielsen, Neural Networks and Deep Learning, §2.5–2.7 (the algorithm, its code, the "
           "matrix-based problem, why backpropagation is fast, the big picture)",
    "001": "Nielsen, Neural Networks and Deep Learning, §2.2–2.4 (notation, the four fundamental "
           "equations, their proofs)",
    "002": "the derivation note: a derivation of backpropagation for the quadratic cost in its own "
           "notation (d_z C for δ, W for w, a′ for the previous layer's activations), with Propositions "
           "1, 2, 2E, Facts 1–6 and the algorithms Backpropagate and Train",
}
"""The source texts, by the number of their file (000_…, 001_…, 002_…)."""

NOTE_INTRODUCTION = (
    "*The derivation note* (source 002) is a second derivation of backpropagation, for the quadratic "
    "cost, in its own notation: d_z C for the book's δ, d_a C for ∂C/∂a, W for w, and primes for "
    "earlier layers (a′ is the previous layer's a). Its Propositions 1, 2, 2E are chain rules; its "
    "Facts 1–6 are BP1–BP4 and the step from one layer to the one below; its algorithms "
    "Backpropagate and Train compute the updates.")
"""Where a page or notebook first names the note, it says what the note is with these words."""


EVERY_LEVEL = ("IndexModel", "LocalStep", "ConcreteNets")
"""Every width (index form), every depth (the local step) and every small network, concretely."""


@dataclass(frozen=True)
class Item:
    """One claim of a source text: ``document`` (a key of DOCUMENTS, or "" beyond them),
    ``where`` in it, its equation ``label`` as the text prints it (empty if unnumbered), a
    ``quote`` found verbatim in the text, and the ``levels`` a check of it must reach."""

    document: str
    where: str
    quote: str
    label: str = ""
    levels: tuple[str, ...] = ()
    """The kinds of model (``models`` class names) one step checking the item must have."""


ITEMS: dict[str, Item] = {
    # source 001, the book's §2.2–2.4
    "2.2.1": Item("001", "§2.2, the activation in component form", r"a_{j}^l = σ \Big(\sum_k w_{jk}^l "
                  r"a_{k}^{l-1} + b_{j}^l\Big)", "(2.2.1)"),
    "2.2.3": Item("001", "§2.2, the vectorized form", "a^l = σ(w^l a^{l-1} + b^l)", "(2.2.3)",
                  levels=EVERY_LEVEL),
    "footnote-jk": Item("001", "§2.2, the footnote on the order of j and k",
                        "replace the weight matrix in Equation"),
    "weighted-input": Item("001", "§2.2, the weighted input", "z^l ≡ w^l a^{l−1} + b^l"),
    "BP1": Item("001", "§2.4, BP1 in components", r"δ^L_j = \frac{∂C}{∂a^L_j} σ′(z^L_j)", "(BP1)"),
    "BP1a": Item("001", "§2.4, BP1 in matrix form", "δ^L = ∇_a C⊙σ′(z^L)", "(BP1a)", levels=EVERY_LEVEL),
    "BP1-quadratic": Item("001", "§2.4, BP1 for the quadratic cost", "δ^L = (a^L−y)⊙σ′(z^L)",
                          levels=EVERY_LEVEL),
    "BP2": Item("001", "§2.4, BP2", r"δ^l = ((w^{l+1})^T δ^{l+1})⊙σ′(z^l)", "(BP2)", levels=EVERY_LEVEL),
    "BP3": Item("001", "§2.4, BP3 (left as an exercise, proved here)", r"\frac{∂C}{∂b^L_j} = δ^l_j", "(BP3)",
                levels=EVERY_LEVEL),
    "BP4": Item("001", "§2.4, BP4 (left as an exercise, proved here)",
                r"\frac{∂C}{∂w^L_{jk}} = a^{l−1}_k δ^l_j", "(BP4)", levels=EVERY_LEVEL),
    "sigma-prime-1": Item("001", "§2.4, problem \"alternate presentation\", part (1)", "δ^L = Σ′(z^L)∇_a C",
                          levels=EVERY_LEVEL),
    "sigma-prime-2": Item("001", "§2.4, problem \"alternate presentation\", part (2)",
                          r"δ^l = Σ′(z^l)(w^{l+1})^T δ{l+1}", levels=EVERY_LEVEL),
    "sigma-prime-3": Item("001", "§2.4, problem \"alternate presentation\", part (3)",
                          r"δ^l = Σ′(z^l)(w^{l+1})^T…Σ′(z^{L−1}) (w^L)^T Σ′(z^L) ∇_a C"),
    "proof-BP1-chain": Item("001", "§2.4, proof of BP1: the chain rule over aᴸ",
                            r"δ^L_j = \sum_k \frac{∂C}{∂a^L_k} \frac{∂a^L_k}{∂z^L_j}"),
    "proof-BP1-diagonal": Item("001", "§2.4, proof of BP1: only k = j remains",
                               r"δ^L_j = \frac{∂C}{∂a^L_j} \frac{∂a^L_j}{∂z^L_j}"),
    "proof-BP2-chain": Item("001", "§2.4, proof of BP2: the chain rule over zˡ⁺¹, eq. (42)",
                            r"&= \sum_k \frac{∂z^{l+1}_k}{∂z^l_j} δ^{l+1}_k", "(42)"),
    "proof-BP2-z": Item("001", "§2.4, proof of BP2: zˡ⁺¹ through σ(zˡ)",
                        r"\sum_j w^{l+1}_{kj} σ(z^l_j) + b^{l+1}_k"),
    "proof-BP2-derivative": Item("001", "§2.4, proof of BP2: ∂zˡ⁺¹ₖ/∂zˡⱼ",
                                 r"\frac{∂z^{l+1}_k}{∂z^l_j} = w^{l+1}_{kj} σ′(z^l_j)"),
    "proof-BP2-component": Item("001", "§2.4, proof of BP2: BP2 in components",
                                r"δ^l_j = \sum_k w^{l+1}_{kj} δ^{l+1}_k σ′(z^l_j)", levels=EVERY_LEVEL),
    # source 000, the book's §2.5–2.7
    "modified-neuron": Item("000", "§2.5, exercise \"a single modified neuron\"",
                            r"f(\sum_jw_jx_j + b)"),
    "linear-neurons": Item("000", "§2.5, exercise \"linear neurons\"", "σ(z)=z"),
    "mini-batch-w": Item("000", "§2.5, gradient descent on a mini-batch: the weights",
                         r"w^l→ w^l−\frac{η}{m}\sum_x δ^{x,l} (a^{x,l−1})^T"),
    "mini-batch-b": Item("000", "§2.5, gradient descent on a mini-batch: the biases",
                         r"b^l→b^l −\frac{η}{m}\sum_x δ^{x,l}"),
    "matrix-based": Item("000", "§2.5, problem \"fully matrix-based approach over a mini-batch\"",
                         "Fully matrix-based approach to backpropagation over a mini-batch"),
    "46": Item("000", "§2.6, the forward-difference quotient", r"\frac{C(w+ϵe_j) − C(w)}{ϵ},\label{46}",
               "(46)"),
    "cost-46": Item("000", "§2.6, eq. 46 needs a million and one passes",
                    "a total of a million and one passes through the network"),
    "cost-backward": Item("000", "§2.6, the backward pass costs about a forward pass",
                          "the computational cost of the backward pass is about the same as the forward "
                          "pass"),
    "47": Item("000", "§2.7, a change of one weight changes the cost", r"Δw^l_{jk}\label{47}", "(47)"),
    "48": Item("000", "§2.7, ... and the activation of its neuron", r"Δw^l_{jk}\label{48}", "(48)"),
    "49": Item("000", "§2.7, ... and an activation of the next layer", r"\frac{∂a^{l+1}_q}{∂a^l_j}\label{49}",
               "(49)"),
    "50": Item("000", "§2.7, ... through that one activation", r"Δw^l_{jk}\label{50}", "(50)"),
    "52": Item("000", "§2.7, the change summed over every path", r"Δw^l_{jk}},\label{52}", "(52)"),
    "53": Item("000", "§2.7, the gradient as a sum over paths",
               r"\frac{∂a^l_j}{∂w^l_{jk}}}.\label{53}", "(53)"),
    # source 002, the derivation note
    "prop1": Item("002", "Proposition 1 (chain rule)", "Proposition 1 (Chain Rule)"),
    "prop2": Item("002", "Proposition 2 (the \"parallel\" chain rule)",
                  "Proposition 2 (\"Parallel\" Chain Rule)"),
    "prop2e": Item("002", "Proposition 2E (columns of a matrix)", "Proposition 2E (Extended)"),
    "fact1": Item("002", "Fact 1", r"Fact 1:  $\vec{\partial_{\vec{a}}} C = \vec{a} - \vec{y}$"),
    "fact2": Item("002", "Fact 2", r"Fact 2: } \vec{d}_{\vec{z}} C = \vec{d}_{\vec{a}} C \odot",
                  levels=EVERY_LEVEL),
    "fact3": Item("002", "Fact 3", r"Fact 3: } \vec{d}_{\vec{b}} C = \vec{d}_{\vec{z}} C",
                  levels=EVERY_LEVEL),
    "fact4": Item("002", "Fact 4", r"Fact 4:  $\vec{d}_{\vec{w}_i} C = a'_i \vec{d}_{\vec{z}} C$"),
    "fact5": Item("002", "Fact 5", r"Fact 5:  $D_w C = \vec{d}_{\vec{z}} C \otimes \vec{a}'$",
                  levels=EVERY_LEVEL),
    "fact6": Item("002", "Fact 6", r"Fact 6:  $\vec{d}_{\vec{a}'} C = W^t \vec{d}_{\vec{z}} C$",
                  levels=EVERY_LEVEL),
    "induction": Item("002", "the induction to every layer",
                      "we can now verify the other formulas for any layer", levels=EVERY_LEVEL),
    "train": Item("002", "the algorithm Train", r"Train ( $\vec{x}_1, \dots, \vec{x}_n, y_1, \dots, y_n$ )"),
    "sigmoid-prime": Item("002", "σ′ = σ(1 − σ), used by the algorithms",
                          r"Note:  $\sigma'(x) = \sigma(x)(1 - \sigma(x))$"),
    "backpropagate": Item("002", "the algorithm Backpropagate(y, A)", "Backpropagate ( $y, A$ )"),
    "cross-entropy": Item("", "the book's ch. 3: cross-entropy with a sigmoid output", ""),
}


EQUATIONS = {
    "001": ("(2.2.1)", "(2.2.2)", "(2.2.3)", "(2.2.15)", "(42)", "(BP1)", "(BP1a)", "(BP2)", "(BP3)",
            "(BP4)"),
    "000": tuple(f"({number})" for number in range(46, 54)),
}
"""The equation numbers each source text prints (as "(2.2.3)", "\\label{46}" or "(BP1)"); the
derivations may cite these and no others."""


def labels() -> set[str]:
    """Every equation number the source texts print ("(46)", "(2.2.3)", …)."""
    return {label for numbers in EQUATIONS.values() for label in numbers}
