"""Declared conventions: how an implementation's arrays differ from the book's, so that it plugs
in with a few declarations instead of an adapter of transposes.

A book-style class declares them in its ``bpverify_capabilities`` dict (every key optional):

  layout          "columns" (the book: an example is a column) or "rows" (an example is a row)
  weights         "out_in" (the book: wˡ is (nₗ, nₗ₋₁)) or "in_out" (stored (nₗ₋₁, nₗ))
  biases          "column" (the book: (nₗ, 1)), "flat" ((nₗ,)) or "row" ((1, nₗ))
  gradient_order  "bw" (the book: backprop returns (nabla_b, nabla_w)) or "wb"
  reduction       "sum" (the book: Σₓ), "mean" (averaged over the batch) or "mean_all"
                  (averaged over every entry of the output)
  quadratic       "half" (the book: C = ½Σ(a − y)²) or "full" (Σ(a − y)², as an MSE loss has
                  it; torch's MSELoss is quadratic="full", reduction="mean_all")
  update_input    "pairs" (the book: update_mini_batch(list of (x, y), eta)) or "arrays"
                  (update(X, Y, eta) with the batch as two arrays in their layout)
  methods         {"backprop": "their name", "feedforward": …, "update_mini_batch": …,
                   "backprop_matrix": …, "weights": …, "biases": …} where theirs differ

The suite speaks the book's conventions everywhere; ``Conventions`` converts at the boundary.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CHOICES: dict[str, tuple[str, ...]] = {
    "layout": ("columns", "rows"),
    "weights": ("out_in", "in_out"),
    "biases": ("column", "flat", "row"),
    "gradient_order": ("bw", "wb"),
    "reduction": ("sum", "mean", "mean_all"),
    "quadratic": ("half", "full"),
    "update_input": ("pairs", "arrays"),
}
METHODS = ("backprop", "feedforward", "update_mini_batch", "backprop_matrix", "SGD", "weights",
           "biases")

LONGEST_NAME = 200
"""A declared method name longer than this is refused before any lookup: the near-miss search
(difflib) on a name of millions of characters took minutes, inside the import limit."""


@dataclass(frozen=True)
class Conventions:
    """The book's conventions by default; each field one of ``CHOICES``."""

    layout: str = "columns"
    weights: str = "out_in"
    biases: str = "column"
    gradient_order: str = "bw"
    reduction: str = "sum"
    quadratic: str = "half"
    update_input: str = "pairs"
    methods: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def declared(cls, declared: Mapping[str, Any], owner: str) -> Conventions:
        """The conventions among ``declared`` (other keys are left to the capabilities)."""
        values: dict[str, Any] = {}
        for key, choices in CHOICES.items():
            if key in declared:
                if declared[key] not in choices:
                    raise ValueError(f"{owner}.bpverify_capabilities[{key!r}] is "
                                     f"{declared[key]!r}, expected one of {list(choices)}")
                values[key] = declared[key]
        methods = declared.get("methods", {})
        if not isinstance(methods, Mapping) or set(methods) - set(METHODS):
            raise ValueError(f"{owner}.bpverify_capabilities['methods'] is "
                             f"{reprlib.repr(methods)}, expected a dict with keys among "
                             f"{list(METHODS)} naming your methods")
        for book, theirs in methods.items():
            if not (isinstance(theirs, str) and theirs.isidentifier()
                    and len(theirs) <= LONGEST_NAME):
                raise ValueError(f"{owner}.bpverify_capabilities['methods'][{book!r}] is "
                                 f"{reprlib.repr(theirs)}, expected the name of your method "
                                 f"(a Python identifier of at most {LONGEST_NAME} characters)")
        return cls(**values, methods=dict(methods))

    def name(self, book_name: str) -> str:
        """Their name for the book's method or attribute."""
        return self.methods.get(book_name, book_name)

    # -- the book's arrays → theirs ----------------------------------------------------------

    def weight_to_theirs(self, w: np.ndarray) -> np.ndarray:
        return w.T.copy() if self.weights == "in_out" else w

    def bias_to_theirs(self, b: np.ndarray) -> np.ndarray:
        return {"column": b, "flat": b[:, 0].copy(), "row": b.T.copy()}[self.biases]

    def examples_to_theirs(self, x: np.ndarray) -> np.ndarray:
        """An example or a batch: columns (n, m) → theirs, (m, n) for rows."""
        return x.T.copy() if self.layout == "rows" else x

    # -- their arrays → the book's ---------------------------------------------------------

    def weight_from_theirs(self, w: Any) -> Any:
        array = np.asarray(w)
        return array.T if self.weights == "in_out" and array.ndim == 2 else array

    def bias_from_theirs(self, b: Any) -> Any:
        array = np.asarray(b)
        if self.biases == "flat" and array.ndim == 1:
            return array[:, None]
        if self.biases == "row" and array.ndim == 2:
            return array.T
        return array

    def examples_from_theirs(self, a: Any) -> np.ndarray:
        array = np.asarray(a)
        return array.T if self.layout == "rows" and array.ndim == 2 else array

    def gradient_scale(self, m: int, n_out: int) -> float:
        """Their gradient = this × the book's Σₓ∇Cₓ (their loss's reduction, and 2 for a
        quadratic cost without the ½)."""
        half = 2.0 if self.quadratic == "full" else 1.0
        return half * {"sum": 1.0, "mean": 1.0 / m, "mean_all": 1.0 / (m * n_out)}[self.reduction]

    def step_scale(self, m: int, n_out: int) -> float:
        """Their SGD step = η × this × Σₓ∇Cₓ: the book's η/m for a sum (update_mini_batch divides
        by m), η times their mean-reduced loss's gradient otherwise."""
        if self.reduction == "sum" and self.quadratic == "half":
            return 1.0 / m
        return self.gradient_scale(m, n_out)

    def gradient_from_theirs(self, value: Any, m: int, n_out: int) -> Any:
        """(nabla_b, nabla_w) in the book's order, shapes and sum, from what they returned; what
        is not a pair of lists is passed on unchanged for the suite to judge."""
        if not isinstance(value, tuple | list) or len(value) != 2:
            return value
        first, second = value
        nabla_b, nabla_w = (second, first) if self.gradient_order == "wb" else (first, second)
        if not isinstance(nabla_b, Sequence) or not isinstance(nabla_w, Sequence):
            return value
        scale = 1.0 / self.gradient_scale(m, n_out)
        return ([self._scaled(self.bias_from_theirs(b), scale) for b in nabla_b],
                [self._scaled(self.weight_from_theirs(w), scale) for w in nabla_w])

    @staticmethod
    def _scaled(array: Any, scale: float) -> Any:
        return array if scale == 1.0 or array.dtype.kind not in "fc" else array * scale

    def describe(self) -> str:
        changed = {k: getattr(self, k) for k in CHOICES if getattr(self, k) != getattr(
            Conventions(), k)}
        if self.methods:
            changed["methods"] = dict(self.methods)
        return ", ".join(f"{k}={v}" for k, v in changed.items())


def declaration_hint(got_shapes: Sequence[tuple[int, ...]], weight_shapes: Sequence[tuple[int, int]],
                     bias_shapes: Sequence[tuple[int, int]]) -> str | None:
    """The declaration that would explain a whole gradient of the wrong shapes."""
    got = list(got_shapes)
    n = len(weight_shapes)
    if len(got) == 2 * n:
        first, second = got[:n], got[n:]
        if first == list(weight_shapes) and second == list(bias_shapes):
            return "gradients returned as (nabla_w, nabla_b)? declare gradient_order='wb'"
        if first == [(w[0],) for w in weight_shapes] and second == list(weight_shapes):
            return "biases kept 1-D (n,)? declare biases='flat'"
        if first == list(bias_shapes) and second == [w[::-1] for w in weight_shapes]:
            return ("every ∂C/∂w is transposed: aˡ⁻¹(δˡ)ᵀ instead of δˡ(aˡ⁻¹)ᵀ; or the weights "
                    "are stored (n_in, n_out): then declare weights='in_out'")
        if first == [(w[0],) for w in weight_shapes] and second == [w[::-1] for w in
                                                                    weight_shapes]:
            return ("weights (n_in, n_out) and biases (n,)? declare weights='in_out', "
                    "biases='flat'")
        if first == [w[::-1] for w in weight_shapes] and second in (
                [(w[0],) for w in weight_shapes], list(bias_shapes)):
            return "gradients returned as (nabla_w, nabla_b), weights (n_in, n_out)? declare " \
                   "gradient_order='wb', weights='in_out'"
    return None
