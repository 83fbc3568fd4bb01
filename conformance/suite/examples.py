"""The examples and targets of a battery network, drawn per seed as adversarially as its widths
and depth: what a mini-batch holds is where bugs that key on examples, labels or the size of
the gradient hide.

A network with ``examples="mixed"`` (every network of the battery) has columns of these kinds,
the first ones one of each kind in an order drawn from the seed, the rest drawn, most of them
normal; x and y take their kinds independently:

  inputs   normal N(0, 1); zero (x = 0); constant (x = c·1); one-hot; repeat (an earlier example
           again, x and y); same-x (an earlier x with another y); permuted (an earlier x with its
           entries permuted); large (N(0, 1)·10³) and tiny (N(0, 1)·10⁻⁶) magnitudes
  targets  by the cost: quadratic: normal, binary (0 and 1), one-hot, near (y = aᴸ + g·d with
           |d| = 1 and g of 10⁻⁹ to 10⁻⁶: a tiny gradient) and far (g of 10² to 10⁴: a large
           one); cross-entropy: uniform in (0, 1), binary (the boundaries 0 and 1), near;
           categorical cross-entropy (softmax): one-hot, near-one-hot (1 − ε on one class, ε of
           10⁻⁶ to 10⁻², spread over the others), soft (a probability vector) and near (y =
           (1 − t)aᴸ + t·p, t of 10⁻⁹ to 10⁻⁶); any other cost: normal

so that within one network per-example gradients range from tiny to large (a near and, where
the cost allows one, a far target come first in every batch of two or more; a lone example is
near or far, alternately). ``examples="plain"``
is the generic draw of ``oracles.cases.random_case`` (x normal, y by the cost).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EXAMPLE_RECIPES = ("plain", "mixed")

INPUT_KINDS = ("normal", "zero", "constant", "one-hot", "repeat", "same-x", "permuted", "large",
               "tiny")
NEEDS_EARLIER = ("repeat", "same-x", "permuted")
"""Kinds made from an earlier column of the batch (never the first column)."""

TARGET_KINDS = {"quadratic": ("normal", "binary", "one-hot", "near", "far"),
                "cross-entropy": ("uniform", "binary", "near"),
                "categorical-cross-entropy": ("one-hot", "near-one-hot", "soft", "near")}
OTHER_COSTS = ("normal",)

LARGE_INPUT, TINY_INPUT = 1e3, 1e-6
"""Magnitudes of the large and tiny inputs: the large ones saturate a first layer of σ or tanh
and make ∂C/∂w² of relu or identity networks large; neither loosens the allowance of the other
columns (it is relative per column: ``oracles.rounding``)."""

NEAR_GAIN = (1e-9, 1e-6)
FAR_GAIN = (1e2, 1e4)
"""|y − aᴸ| of the near and far targets (log-uniform): per-example gradients from ~10⁻¹⁰ to
~10³, past every clipping threshold in use (1, 5, 10) and below every "small enough" one."""
GRADIENT_EXTREMES = ("near", "far")
"""The target kinds of the tiniest and the largest gradients: the first two examples of every
batch of two or more (in an order drawn), so that each network has both; a lone example (m = 1)
is one of them, near or far as the parity of seed + n_L says (so that the battery's two networks
of m = 1, whose n_L differ in parity, have one each, and each has both over two seeds)."""
FAR_NORM = 20.0
"""The least ‖∇Cₓ‖ of a far target's example under the quadratic cost (``battery`` scales
y − aᴸ up to it, where saturated layers make the drawn gain fall short): past every clipping
threshold in use."""
NEAR_ONE_HOT = (1e-6, 1e-2)
"""The probability left off the true class of a near-one-hot target (log-uniform)."""


@dataclass(frozen=True)
class Examples:
    """The input columns x, the targets y, and what kind each column is (for messages)."""

    x: np.ndarray
    y: np.ndarray
    kinds: tuple[str, ...]

    def describe(self, column: int) -> str:
        """``example 3 (x zero, y binary)``."""
        return f"example {column} ({self.kinds[column]})"


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def _order(rng: np.random.Generator, kinds: Sequence[str], m: int, usual: str,
           leading: Sequence[str] = ()) -> list[str]:
    """One of each kind first, in an order drawn from rng (never one that needs an earlier column
    first; with m ≥ 2 the ``leading`` kinds before the others, so that even a batch of two has
    them; else the first one ``usual`` half the time), then kinds drawn, half of them
    ``usual``."""
    first = [kinds[i] for i in rng.permutation(len(kinds))]
    lead = [k for k in first if k in leading] if m >= 2 else []
    first = lead + [k for k in first if k not in lead]
    if not lead and (first[0] in NEEDS_EARLIER or rng.random() < 0.5):
        swap = first.index(usual) if first[0] in NEEDS_EARLIER or first[0] != usual else 0
        first[0], first[swap] = first[swap], first[0]
    rest = [usual if rng.random() < 0.5 else kinds[int(rng.integers(len(kinds)))]
            for _ in range(max(0, m - len(first)))]
    return (first + rest)[:m]


@dataclass(frozen=True)
class Inputs:
    """Input columns x, the kind of each, and for a repeated example the column it repeats."""

    x: np.ndarray
    kinds: tuple[str, ...]
    repeats: tuple[int | None, ...]


def mixed_inputs(seed: int, n_in: int, m: int) -> Inputs:
    """x (n₁, m) of the input kinds (module docstring), from the seed and the shape alone."""
    rng = np.random.default_rng([seed, 0xE7A, n_in, m])
    kinds = _order(rng, INPUT_KINDS, m, "normal")
    if m >= 2:  # the examples of the gradient extremes: no repeated target, no saturated layer
        for j in (0, 1):
            if kinds[j] in ("repeat", "large"):
                later = next((k for k in range(2, m) if kinds[k] not in ("repeat", "large")
                              and (j or kinds[k] not in NEEDS_EARLIER)), None)
                if later is None:
                    kinds[j] = "normal" if j == 0 else "same-x"
                else:
                    kinds[j], kinds[later] = kinds[later], kinds[j]
    x = np.empty((n_in, m))
    repeats: list[int | None] = []
    for j, kind in enumerate(kinds):
        source = int(rng.integers(j)) if kind in NEEDS_EARLIER else None
        if kind == "zero":
            column = np.zeros(n_in)
        elif kind == "constant":
            column = np.full(n_in, rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0))
        elif kind == "one-hot":
            column = np.eye(n_in)[int(rng.integers(n_in))]
        elif kind in ("repeat", "same-x"):
            column = x[:, source]
        elif kind == "permuted":
            column = x[rng.permutation(n_in), source]
        else:
            scale = {"large": LARGE_INPUT, "tiny": TINY_INPUT}.get(kind, 1.0)
            column = scale * rng.standard_normal(n_in)
        x[:, j] = column
        repeats.append(source if kind == "repeat" else None)
    return Inputs(x, tuple(kinds), tuple(repeats))


def mixed_targets(seed: int, inputs: Inputs, a_L: np.ndarray, cost: str) -> Examples:
    """y (n_L, m) of the target kinds of ``cost`` (module docstring), given the network's outputs
    aᴸ at ``inputs``; a repeated example keeps its source's y."""
    n_out, m = a_L.shape
    rng = np.random.default_rng([seed, 0x7A6, n_out, m])
    choices = TARGET_KINDS.get(cost, OTHER_COSTS)
    kinds = _order(rng, choices, m, choices[0], leading=GRADIENT_EXTREMES)
    lone = GRADIENT_EXTREMES[(seed + n_out) % 2]
    if m == 1 and lone in choices:
        kinds = [lone]
    y = np.empty((n_out, m))
    for j, kind in enumerate(kinds):
        source = inputs.repeats[j]
        if source is not None:
            y[:, j] = y[:, source]
            kinds[j] = kinds[source]
            continue
        a = a_L[:, j]
        direction = rng.standard_normal(n_out)
        direction /= max(float(np.linalg.norm(direction)), 1e-300)
        label = int(rng.integers(n_out))
        column: np.ndarray
        if kind == "normal":
            column = rng.standard_normal((n_out,))
        elif kind == "uniform":
            column = rng.uniform(0.0, 1.0, (n_out,))
        elif kind == "binary":
            column = rng.integers(0, 2, n_out).astype(float)
        elif kind == "one-hot":
            column = np.eye(n_out)[label]
        elif kind == "far":
            column = a + _log_uniform(rng, FAR_GAIN) * direction
        elif kind == "near" and cost == "categorical-cross-entropy":
            t = _log_uniform(rng, NEAR_GAIN)
            column = (1.0 - t) * a + t * rng.dirichlet(np.ones(n_out))
        elif kind == "near":
            column = a + _log_uniform(rng, NEAR_GAIN) * direction
            if cost == "cross-entropy":
                column = np.clip(column, 0.0, 1.0)
        elif kind == "near-one-hot":
            epsilon = _log_uniform(rng, NEAR_ONE_HOT) if n_out > 1 else 0.0
            column = np.full(n_out, epsilon / max(n_out - 1, 1))
            column[label] = 1.0 - epsilon
        else:  # soft: a probability vector, every class likely
            column = rng.dirichlet(np.ones(n_out))
        y[:, j] = column
    return Examples(inputs.x, y, tuple(f"x {xk}, y {yk}" for xk, yk in zip(
        inputs.kinds, kinds, strict=True)))
