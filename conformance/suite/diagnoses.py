"""The one catalogue of wrong variants the equations' hints are drawn from.

When an implementation's δᴸ, δˡ, ∂C/∂bˡ or ∂C/∂wˡ is out of tolerance, each variant of that
equation is evaluated on the same network, at the same layer and example, with the same
upstream values the check feeds the equation (the reference's zˡ and aˡ, the implementation's
own δˡ⁺¹); the first variant the implementation's numbers match names the bug in the
``likely:`` line, in the book's notation: "σ′(aˡ) instead of σ′(zˡ): δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙
σ′(aˡ)".

The variants are, in this order:

* ``DERIVED`` (``derived_variants.py``): the derivations' own wrong variants, each step's, and
  each moved to every equation where the part it changes occurs (``variants_from_derivations``
  explains how; ``bpverify derive bp1`` shows where they come from);
* ``SOFTMAX`` before them, a softmax output layer's (its σ′ is a Jacobian, not a factor), and
  ``OWN`` after: what the derivations do not state because it is no step of a proof: a sign flipped,
  σ′ applied twice, δ left at zero, a layer off by one, BP1's right side ∇ₐC ⊙ σ′(zˡ) (true at
  l = L only) for δˡ in BP3 and BP4, the softmax's Jacobian taken as its
  diagonal, the quadratic cost's ½ left out, and σ′ written with the activations (a(1 − a) for
  σ, the note's form; 1 − a² for tanh) but fed zˡ (a torch.autograd.Function that saved its
  input z where its backward needs its output a).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from bpverify.conformance.suite.derived_variants import DERIVED
from bpverify.conformance.suite.variant_operations import H, T, mm
from bpverify.oracles.cases import Case
from bpverify.reference.activations import LayerActivation, Softmax


class Unavailable(Exception):
    """A quantity the variant needs does not exist at this layer (zˡ⁺¹ at l = L, …)."""


SIGMA_PRIME_OF_ACTIVATION: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "sigmoid": ("{u}(1 − {u})", lambda a: a * (1.0 - a)),
    "tanh": ("1 − ({u})²", lambda a: 1.0 - a * a),
    "softplus": ("1 − e^(−{u})", lambda a: -np.expm1(-a)),
}
"""σ′ written with the activation a = σ(z) (the note's algorithm: σ′(z) = a ⊙ (1 − a)), as code
that stores a and differentiates from it has it; for relu and identity it is σ′ itself."""


@dataclass(frozen=True)
class Point:
    """A network at one layer of one example, as an equation's check sees it: ``v(name, base,
    offset)`` is the quantity at layer ``base + offset`` (base "l" the checked layer, "L" the
    output layer): w, b, z and a from the reference, δ the implementation's own, ∇ₐC and y at
    L; ``S`` and ``SP`` are σ and σ′ of the layer their argument belongs to."""

    layer: int
    L: int
    values: Callable[[str, int], np.ndarray]
    activations: tuple[LayerActivation, ...]
    expected: np.ndarray
    cost: str = "quadratic"

    def _at(self, base: str, offset: int) -> int:
        layer = (self.L if base == "L" else self.layer) + offset
        if not 1 <= layer <= self.L:
            raise Unavailable(f"layer {layer}")
        return layer

    def v(self, name: str, base: str, offset: int) -> np.ndarray:
        return self.values(name, self._at(base, offset))

    def activation(self, base: str, offset: int) -> LayerActivation:
        layer = self._at(base, offset)
        if layer < 2:
            raise Unavailable("the input layer has no σ")
        return self.activations[layer - 2]

    def S(self, u: np.ndarray, base: str, offset: int) -> np.ndarray:
        return np.asarray(self.activation(base, offset).f(u))

    def SP(self, u: np.ndarray, base: str, offset: int) -> np.ndarray:
        act = self.activation(base, offset)
        if isinstance(act, Softmax):
            raise Unavailable("softmax is not elementwise")
        return np.asarray(act.fprime(u))


def network_point(case: Case, zs: list[np.ndarray], activations_ref: list[np.ndarray],
                  own_deltas: list[np.ndarray], column: int, layer: int,
                  expected: np.ndarray) -> Point:
    """The Point of an equation's check: the reference's zˡ (layers 2..L) and aˡ (1..L) at
    ``column``, the implementation's own δˡ (2..L) of that example, ∇ₐC and y at L."""
    L = len(case.weights) + 1
    j = slice(column, column + 1)
    case_weights, y = case.weights, case.y[:, j]
    with np.errstate(all="ignore"):
        grad_a_C = case.cost.gradient(activations_ref[-1][:, j], y)

    def values(name: str, at: int) -> np.ndarray:
        if name == "w" and at >= 2:
            return case_weights[at - 2]
        if name == "z" and at >= 2:
            return zs[at - 2][:, j]
        if name == "a":
            return activations_ref[at - 1][:, j]
        if name == "delta" and at >= 2:
            return own_deltas[at - 2]
        if name in ("grad_a_C", "y") and at == L:
            return grad_a_C if name == "grad_a_C" else y
        raise Unavailable(f"{name} at layer {at}")

    return Point(layer, L, values, case.activations, expected, case.cost.name)


@dataclass(frozen=True)
class Variant:
    """A wrong right side of ``equation``: ``formula`` in the book's notation, ``change`` what it
    changes, ``origin`` where it is stated, ``value`` at a Point (Unavailable, or ValueError for
    shapes that do not fit, where it cannot be formed)."""

    equation: str
    formula: str
    change: str
    origin: str
    value: Callable[[Point], np.ndarray]

    def likely(self) -> str:
        """The ``likely:`` line."""
        origin = f" (bpverify {self.origin})" if self.origin.startswith("derive") else ""
        return f"{self.change}: {self.formula}{origin}"


def _sigma_prime_of_z(n: Point, base: str, offset: int) -> np.ndarray:
    """σ′ written with aˡ, fed zˡ (SIGMA_PRIME_OF_ACTIVATION)."""
    act = n.activation(base, offset)
    form = SIGMA_PRIME_OF_ACTIVATION.get(getattr(act, "name", ""))
    if form is None:
        raise Unavailable(f"no activation form of σ′ for {getattr(act, 'name', act)}")
    return form[1](n.v("z", base, offset))


def _softmax(n: Point) -> np.ndarray:
    """aᴸ, where the output layer is a softmax (Unavailable elsewhere)."""
    if not isinstance(n.activations[-1], Softmax):
        raise Unavailable("no softmax output")
    return n.v("a", "L", 0)


def _one_hot_of(y: np.ndarray) -> np.ndarray:
    out = np.zeros_like(y)
    out[int(np.argmax(y[:, 0])), 0] = 1.0
    return out


def _quadratic(n: Point) -> Point:
    if n.cost != "quadratic":
        raise Unavailable("not the quadratic cost")
    return n


SOFTMAX = (
    Variant("BP1", "δᴸ = ∇ₐC ⊙ aᴸ(1 − aᴸ)", "the softmax's Jacobian taken as its diagonal "
            "aⱼ(1 − aⱼ), as if it were elementwise", "",
            lambda n: n.v("grad_a_C", "L", 0) * _softmax(n) * (1 - _softmax(n))),
    Variant("BP1", "δᴸ = ∇ₐC", "missing the softmax's Jacobian", "",
            lambda n: n.v("grad_a_C", "L", 0) + 0 * _softmax(n)),
    Variant("BP1", "δᴸ = (aᴸ − y) ⊙ aᴸ(1 − aᴸ)", "σ′ applied to aᴸ − y: with softmax and "
            "categorical cross-entropy δᴸ = aᴸ − y, no σ′ (the softmax is not elementwise)", "",
            lambda n: (_softmax(n) - n.v("y", "L", 0)) * _softmax(n) * (1 - _softmax(n))),
    Variant("BP1", "δᴸ = aᴸ − e_argmax(y)", "y taken as the one-hot vector of its largest entry "
            "(a class label): with a probability vector y, δᴸ = aᴸ − y", "",
            lambda n: _softmax(n) - _one_hot_of(n.v("y", "L", 0))),
)
"""A softmax output layer's own variants, first: there σ′ is a Jacobian, not a factor."""

OWN = (
    Variant("BP1", "δᴸ = −∇ₐC ⊙ σ′(zᴸ)", "sign flipped: y − a instead of a − y", "",
            lambda n: -n.expected),
    Variant("BP1", "δᴸ = 2(aᴸ − y) ⊙ σ′(zᴸ)", "missing ½ of the quadratic cost: ∇ₐC = 2(a − y)",
            "",
            lambda n: 2 * _quadratic(n).expected),
    Variant("BP1", "δᴸ = ∇ₐC ⊙ σ′(zᴸ) ⊙ σ′(zᴸ)", "σ′ applied twice", "",
            lambda n: H(n.expected, n.SP(n.v("z", "L", 0), "L", 0))),
    Variant("BP1", "δᴸ = ∇ₐC ⊙ σ′ₐ(zᴸ)", "σ′ written with the activations, fed zᴸ: "
            "σ′ₐ(zᴸ) instead of σ′ₐ(aᴸ) = σ′(zᴸ) (a derivative that kept its input z where it "
            "needs its output a)", "", lambda n: H(n.v("grad_a_C", "L", 0),
                                                   _sigma_prime_of_z(n, "L", 0))),
    Variant("BP2", "δˡ = −((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)", "sign flipped", "", lambda n: -n.expected),
    Variant("BP2", "δˡ = 0", "δˡ left at zero: the backward loop stops before this layer", "",
            lambda n: np.zeros_like(n.expected)),
    Variant("BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′ₐ(zˡ)", "σ′ written with the activations, fed zˡ: "
            "σ′ₐ(zˡ) instead of σ′ₐ(aˡ) = σ′(zˡ) (a derivative that kept its input z where it "
            "needs its output a)", "",
            lambda n: H(mm(T(n.v("w", "l", 1)), n.v("delta", "l", 1)),
                        _sigma_prime_of_z(n, "l", 0))),
    Variant("BP3", "∂C/∂bˡ = ∇ₐC ⊙ σ′(zˡ)", "∇ₐC ⊙ σ′(zˡ) instead of δˡ", "",
            lambda n: H(n.v("grad_a_C", "L", 0), n.SP(n.v("z", "l", 0), "l", 0))),
    Variant("BP4", "∂C/∂wˡ = −δˡ(aˡ⁻¹)ᵀ", "sign flipped", "", lambda n: -n.expected),
    Variant("BP4", "∂C/∂wˡ = (∇ₐC ⊙ σ′(zˡ))(aˡ⁻¹)ᵀ", "∇ₐC ⊙ σ′(zˡ) instead of δˡ", "",
            lambda n: mm(H(n.v("grad_a_C", "L", 0), n.SP(n.v("z", "l", 0), "l", 0)),
                         T(n.v("a", "l", -1)))),
    Variant("BP4", "∂C/∂wˡ = δˡ⁺¹(aˡ)ᵀ", "off by one layer: δˡ⁺¹(aˡ)ᵀ", "",
            lambda n: mm(n.v("delta", "l", 1), T(n.v("a", "l", 0)))),
    Variant("BP4", "∂C/∂wˡ = δˡxᵀ", "the input x instead of aˡ⁻¹", "",
            lambda n: mm(n.v("delta", "l", 0), T(n.v("a", "L", 1 - n.L)))),
)
"""The suite's own variants (module docstring); σ′ₐ is σ′ written with the activations."""


CATALOGUE: tuple[Variant, ...] = SOFTMAX + tuple(Variant(*entry) for entry in DERIVED) + OWN


def _formula(variant: Variant, n: Point) -> str:
    """The formula with σ′ₐ spelled out for this layer's σ (a(1 − a) for σ: zˡ(1 − zˡ))."""
    if "σ′ₐ" not in variant.formula:
        return variant.likely()
    base, mark = ("L", "ᴸ") if variant.equation == "BP1" else ("l", "ˡ")
    act = n.activation(base, 0)
    written = SIGMA_PRIME_OF_ACTIVATION[getattr(act, "name", "")][0]
    at_z, at_a = written.format(u="z" + mark), written.format(u="a" + mark)
    factor = at_z if at_z[0] != "1" else f"({at_z})"  # a sum inside a product: parenthesised
    return (f"σ′ written with the activations ({act.name}′ = {at_a}) fed z{mark}: {at_z} "
            f"instead of {at_a} (a derivative that kept its input z where it needs its output "
            f"a): {variant.formula.replace(f'σ′ₐ(z{mark})', factor)}")


def candidates(equation: str, n: Point) -> dict[str, np.ndarray]:
    """Each variant of ``equation`` that can be formed at ``n``, by its ``likely:`` line."""
    found: dict[str, np.ndarray] = {}
    for variant in CATALOGUE:
        if variant.equation != equation:
            continue
        try:
            with np.errstate(all="ignore"):
                value = np.asarray(variant.value(n), dtype=np.float64)
            name = _formula(variant, n)
        except (Unavailable, ValueError, NotImplementedError, KeyError):
            continue
        if value.shape == n.expected.shape and np.all(np.isfinite(value)):
            found.setdefault(name, value)
    return found


def lazily(equation: str, point: Callable[[int], Point],
           extra: Callable[[int], Mapping[str, np.ndarray]] | None = None
           ) -> Callable[[int], dict[str, np.ndarray]]:
    """``compare``'s candidates for a layer, computed only when that layer fails: the catalogue's
    variants of ``equation`` at ``point(layer)``, then ``extra`` (a check's own, such as the
    softmax's)."""
    def at(layer: int) -> dict[str, np.ndarray]:
        found = candidates(equation, point(layer))
        if extra is not None:
            for name, value in extra(layer).items():
                found.setdefault(name, value)
        return found
    return at


def named(equation: str, change: str) -> str:
    """"change: formula" of the catalogue's variant of ``equation`` that makes ``change``: the
    words and the formula printed from the derivations (or the suite's own entry), for a hint
    given elsewhere (a shape, a whole gradient) that is this variant."""
    variant = next(v for v in CATALOGUE if v.equation == equation and v.change == change)
    return f"{variant.change}: {variant.formula}"

