"""The mini-batch: the fully matrix-based gradient, and the SGD step (§2.5).

Kept whole: the fully matrix-based gradient and the SGD step are judged on the same mini-batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bpverify.conformance.protocol.adapters import Session
from bpverify.conformance.protocol.calls import (
    ImplementationFault,
    as_gradient,
    call_with_limit,
    check_finite,
)
from bpverify.conformance.suite.battery import NetworkSpec
from bpverify.conformance.suite.checks.base import (
    CheckFailed,
    Context,
    Failure,
    Gradient,
    constant_factor,
    mismatch,
)
from bpverify.conformance.suite.checks.gradients import factor_hint
from bpverify.oracles.cases import Case
from bpverify.oracles.rounding import UNIT_ROUNDOFF, allowance
from bpverify.reference.backpropagation import backprop_matrix


def check_mini_batch(ctx: Context, spec: NetworkSpec) -> None:
    """backprop_matrix(X, Y) = Σₓ∇Cₓ, against the reference (never the implementation's own
    backprop, so each is blamed for its own error)."""
    case = ctx.case(spec)
    w, b, X, Y = ctx.arrays(case)
    what = ctx.impl.call_name("backprop_matrix(X, Y)")
    value = call_with_limit(what, ctx.impl.gradient_batch, w, b, X, Y, spec.activation,
                            spec.cost, seconds=ctx.seconds)
    got_b, got_w = as_gradient(value, what, [wt.shape for wt in case.weights])
    check_finite(got_b, "Σₓ∂C/∂b", what)
    check_finite(got_w, "Σₓ∂C/∂w", what)
    ref, allowed = ctx.reference(spec), ctx.allowance(spec)
    found = [_first(got_b, ref.nabla_b, allowed.nabla_b, "Σₓ∂C/∂b", ctx.float32_hint),
             _first(got_w, ref.nabla_w, allowed.nabla_w, "Σₓ∂C/∂w", ctx.float32_hint)]
    failures = [f for f in found if f is not None]
    if not failures:
        return
    factors = [_factor(got, expected, tol) for got, expected, tol in
               ((got_b, ref.nabla_b, allowed.nabla_b), (got_w, ref.nabla_w, allowed.nabla_w))]
    averaging = _averaging(ctx, factors, spec) or _batch_diagnosis(
        case, (got_b, got_w), (ref.nabla_b, ref.nabla_w), (allowed.nabla_b, allowed.nabla_w),
        ref.deltas)
    raise CheckFailed(replace(failures[0], diagnosis=averaging or failures[0].diagnosis))


def _batch_diagnosis(case: Case, got: Gradient, expected: Gradient, allowed: Gradient,
                     deltas: Sequence[np.ndarray]) -> str | None:
    """What a wrong backprop_matrix(X, Y) computed, among the batch's own bugs (computed on a
    failure only): ∂C/∂b left one column per example, summed over the wrong axis, a repeated
    example counted once, a sum that stops at a chunk, the batch read as rows where X and Y are
    square."""
    X, Y, m = case.x, case.y, case.batch_size
    variants: list[tuple[str, Gradient | tuple[list[np.ndarray], None]]] = [
        ("∂C/∂b left with one column per example: the sum over the examples is missing "
         "(Σₓ δˣ: delta.sum(axis=1, keepdims=True))", (list(deltas), None)),
        ("∂C/∂b left with one row per example: the sum over the examples is missing",
         ([d.T for d in deltas], None)),
        ("∂C/∂b summed over the neurons of each example instead of over the examples (axis 0 "
         "for axis 1)", ([d.sum(axis=0, keepdims=True).T for d in deltas], None))]
    _, first = np.unique(np.vstack([X, Y]), axis=1, return_index=True)
    if len(first) < m:
        columns = sorted(int(j) for j in first)
        once = backprop_matrix(list(case.weights), list(case.biases), X[:, columns],
                               Y[:, columns], case.activations, case.cost)
        variants.append(("each repeated example counted once: the sum runs over the distinct "
                         "examples only (a cache or set keyed by the example?)",
                         (once.nabla_b, once.nabla_w)))
    for k, why in _prefixes(m):
        prefix = backprop_matrix(list(case.weights), list(case.biases), X[:, :k], Y[:, :k],
                                 case.activations, case.cost)
        variants.append((f"the examples past the first {k} of m = {m} left out: {why}",
                         (prefix.nabla_b, prefix.nabla_w)))
    if X.shape[0] == X.shape[1] and Y.shape[0] == Y.shape[1] and m > 1:
        rows = backprop_matrix(list(case.weights), list(case.biases), X.T, Y.T,
                               case.activations, case.cost)
        variants.append(("the batch read as rows, Xᵀ and Yᵀ, where m = n₁ = n_L makes both "
                         "orientations fit", (rows.nabla_b, rows.nabla_w)))
    for name, (variant_b, variant_w) in variants:
        wanted_w = expected[1] if variant_w is None else variant_w  # right where not named
        if all(_matches(g, v, t) for g, v, t in (
                *zip(got[0], variant_b, allowed[0], strict=True),
                *zip(got[1], wanted_w, allowed[1], strict=True))):
            return name
    return None


CHUNKS = (32, 64, 128, 256, 512, 1024)
"""Blockings that batched code uses: a sum that stops at one of them is named."""


def _prefixes(m: int) -> list[tuple[int, str]]:
    """The k < m examples a chunked sum over a batch of m may stop at, and why: whole chunks
    only (the last, shorter chunk dropped), or a cap of one chunk."""
    chunked: dict[int, list[int]] = {}
    for c in CHUNKS:
        if c < m:
            chunked.setdefault(c * (m // c), []).append(c)
    found = []
    for k, sizes in sorted(chunked.items()):
        why = (f"chunks of {_either(sizes)} with the last, shorter one dropped"
               + (f", or a cap at {k}" if k in CHUNKS else ""))
        found.append((k, why))
    return found


def _either(values: Sequence[int]) -> str:
    return ", ".join(map(str, values[:-1])) + (" or " if len(values) > 1 else "") + str(values[-1])


def _matches(got: np.ndarray, variant: np.ndarray, tolerance: np.ndarray) -> bool:
    return got.shape == variant.shape and bool(np.all(
        np.abs(got - variant) <= tolerance + 1e-9 * np.abs(variant)))


def _first(got: Sequence[np.ndarray], expected: Sequence[np.ndarray],
           allowed: Sequence[np.ndarray], quantity: str, float32_hint: bool | None) -> Failure | None:
    for layer, (g, e, t) in enumerate(zip(got, expected, allowed, strict=True), start=2):
        found = mismatch(g, e, t, "mini-batch", quantity, layer, float32_hint)
        if found is not None:
            return found
    return None


def _factor(got: Sequence[np.ndarray], expected: Sequence[np.ndarray],
            allowed: Sequence[np.ndarray]) -> float | None:
    """One constant factor r shared by every layer (got = r·expected), else None; 1.0 if equal."""
    factors = set()
    for g, e, t in zip(got, expected, allowed, strict=True):
        if g.shape == e.shape and np.all(np.abs(g - e) <= t):
            factors.add(1.0)
            continue
        r = constant_factor(g, e, t)
        if r is None:
            return None
        factors.add(round(r, 12))
    return factors.pop() if len(factors) == 1 else None


def _averaging(ctx: Context, factors: list[float | None], spec: NetworkSpec) -> str | None:
    """Tell a convention (both gradients scaled alike: declare it) from a bug in one of them."""
    r_b, r_w = factors
    if r_b is not None and r_b == r_w and r_b != 1.0:
        return factor_hint(ctx, spec, r_b, spec.m, entries=4)
    for r, quantity, other in ((r_b, "∂C/∂b", r_w), (r_w, "∂C/∂w", r_b)):
        if r is not None and r != 1.0 and other == 1.0:
            return factor_hint(ctx, spec, r, spec.m, entries=4, quantity=quantity)
    return None


# -- the update rule ------------------------------------------------------------------------------

ETA = 0.75
"""η for the update checks: not 1, so that η and η/m are never confused by accident."""

L2_LAMBDA, L2_N = 5.0, 50
"""λ and n for an update with L2 decay (network2.py): ηλ/n = 0.075, far from ηλ = 3.75 and
from ηλ/m, so a decay missing /n, or dividing by m, cannot pass."""


@dataclass(frozen=True)
class StepRule:
    """w → (1 − ηλ/n)w − η·s(m)·Σₓ∂Cₓ/∂w, b → b − η·s(m)·Σₓ∂Cₓ/∂b: the book's rule with s = 1/m
    and λ = 0; chapter 3's L2 decay; s from the implementation's reduction otherwise."""

    eta: float
    lmbda: float
    n: int
    scale: Callable[[int, int], float]
    reduction: str = "sum"
    """The declared reduction of the implementation's gradient (for the hints)."""

    @classmethod
    def of(cls, ctx: Context, decay: bool = True) -> StepRule:
        """The rule the implementation's update follows: with L2 decay where it takes λ and n
        (unless ``decay`` is False: the plain call of an update whose λ has a default)."""
        lmbda, n = (L2_LAMBDA, L2_N) if decay and ctx.impl.capabilities.l2 else (0.0, 1)
        return cls(ETA, lmbda, n, ctx.impl.step_scale, ctx.impl.conventions.reduction)

    def arguments(self) -> tuple[float, ...]:
        """What update_mini_batch is called with after the mini-batch: (η) or (η, λ, n)."""
        return (self.eta, self.lmbda, self.n) if self.lmbda else (self.eta,)

    def step(self, m: int, n_out: int) -> float:
        return self.eta * self.scale(m, n_out)

    def decay(self) -> float:
        return 1.0 - self.eta * self.lmbda / self.n


def expected_step(case: Case, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                  columns: Sequence[int], rule: StepRule, size: int | None = None
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The reference's step (``StepRule``) from the given parameters on these examples
    (``size``: the m it divides η by, when not their number)."""
    X, Y = case.x[:, list(columns)], case.y[:, list(columns)]
    g = backprop_matrix(list(weights), list(biases), X, Y, case.activations, case.cost)
    step = rule.step(size or len(columns), Y.shape[0])
    return ([rule.decay() * w - step * nw for w, nw in zip(weights, g.nabla_w, strict=True)],
            [b - step * nb for b, nb in zip(biases, g.nabla_b, strict=True)])


def judge_step(ctx: Context, spec: NetworkSpec, case: Case,
               old: tuple[Sequence[np.ndarray], Sequence[np.ndarray]],
               new: tuple[Sequence[np.ndarray], Sequence[np.ndarray]], columns: Sequence[int],
               rule: StepRule, equation: str, what: str,
               own_gradient: Callable[[], Gradient | None] | None = None,
               nominal: int | None = None) -> None:
    """CheckFailed unless ``new`` is one step (``rule``) from ``old`` on the examples ``columns``
    of ``case``; the hint names the constant factor a wrong step has (η instead of η/m, …), a
    decay without /n, or says the step is right for the implementation's own wrong gradient
    (``nominal``: the mini_batch_size of an SGD whose last mini-batch is shorter)."""
    u = UNIT_ROUNDOFF[ctx.dtype]
    m, cols = len(columns), list(columns)
    allowed = allowance(Case(tuple(old[0]), tuple(old[1]), case.x[:, cols], case.y[:, cols],
                             case.activations, case.cost), ctx.dtype)
    exp_w, exp_b = expected_step(case, old[0], old[1], columns, rule)
    step = rule.step(m, case.y.shape[0])
    for k, (name, got, before, expected, bound) in enumerate((
            ("w", new[0], old[0], exp_w, allowed.nabla_w),
            ("b", new[1], old[1], exp_b, allowed.nabla_b))):
        decay = rule.decay() if name == "w" else 1.0
        for layer, (g, o, e, t) in enumerate(zip(got, before, expected, bound, strict=True),
                                             start=2):
            g = np.asarray(g, dtype=np.float64)
            tol = step * t + 4 * u * np.abs(o)
            quantity = f"{name} after {what}"
            if mismatch(g, e, tol, equation, quantity, layer, ctx.float32_hint) is None:
                continue
            raise CheckFailed(mismatch(g, e, tol, equation, quantity, layer, ctx.float32_hint,  # type: ignore[arg-type]
                                       _step_candidates(case, spec, old, columns, rule, k, layer,
                                                        g, o, e, tol, decay, own_gradient,
                                                        nominal)))


def _step_candidates(case: Case, spec: NetworkSpec,
                     old: tuple[Sequence[np.ndarray], Sequence[np.ndarray]],
                     columns: Sequence[int], rule: StepRule, k: int, layer: int, g: np.ndarray,
                     o: np.ndarray, e: np.ndarray, tol: np.ndarray, decay: float,
                     own_gradient: Callable[[], Gradient | None] | None,
                     nominal: int | None = None) -> dict[str, np.ndarray]:
    """Wrong steps a failed update may be, most telling first (computed on failure only)."""
    name, m = ("w", "b")[k], len(columns)
    step = rule.step(m, case.y.shape[0])
    found: dict[str, np.ndarray] = {}
    own = own_gradient() if own_gradient is not None else None
    if own is not None:
        found["the step is right for the gradient backprop(x, y) returns: the gradient itself "
              "is wrong (see gradient-vs-reference)"] = (
            decay * o - step * own[1 - k][layer - 2])
    if rule.lmbda and name == "w":
        gradient_step = decay * o - e
        found["the L2 decay is (1 − ηλ) instead of (1 − ηλ/n): it is missing /n"] = (
            (1 - rule.eta * rule.lmbda) * o - gradient_step)
        found[f"the L2 decay is (1 − ηλ/m) with m = {m} instead of (1 − ηλ/n)"] = (
            (1 - rule.eta * rule.lmbda / m) * o - gradient_step)
        found["no L2 decay: w → w − step, without (1 − ηλ/n)"] = o - gradient_step
    if rule.lmbda and name == "b":
        found["the biases decayed too: L2 regularisation leaves b alone"] = e - rule.eta * (
            rule.lmbda / rule.n) * o
    r = constant_factor(decay * o - g, decay * o - e, tol) if g.shape == e.shape else None
    hint = None if r is None else _step_hint(r, spec, m, g.size, nominal, rule.reduction)
    if r is not None and hint is not None:
        found[hint] = decay * o - r * (decay * o - e)
    found["sequential updates inside the mini-batch"] = _sequential_update(
        case, old, columns, rule)[k][layer - 2]
    found[f"{name} not updated"] = np.asarray(o)
    return found


def _step_hint(r: float, spec: NetworkSpec, m: int, entries: int,
               nominal: int | None = None, reduction: str = "sum") -> str | None:
    """What a step r times the right one means: the divisor of η it implies, named if we can
    (every name that fits), unnamed only when enough entries share it to make it a pattern."""
    if abs(r + 1) <= 1e-9:
        return "sign flipped: gradient ascent"
    if abs(r) <= 1e-9:
        return None  # "w not updated" or "b not updated", a candidate of its own
    divisor = m / r
    if divisor < 0:
        return None  # a step backwards that is not −1× the right one: no divisor means that
    depth = ((float(spec.L - 1), "η/(L − 1): divided by the number of weight layers"),) if (
        spec.L - 1 >= 2) else ()  # at L = 2 a divisor L − 1 = 1 is no division: depth cannot explain it
    unscaled = ("η·Σₓ∇ where the declared mean needs η·(1/m)Σₓ∇: the /m (/batch) is missing, "
                "in the gradient or in the step") if reduction == "mean" else "η instead of η/m"
    named = ((1.0, unscaled), *depth,
             (2.0, "η/2: divided by len(mini_batch[0]), the length of an (x, y) pair"),
             (float(m * m), "η/m²: averaged twice"),
             *(((float(nominal), f"η/{nominal}: divided by mini_batch_size, not by the length "
                 "of this last, shorter mini-batch"),) if nominal and nominal != m else ()))
    meanings = [meaning for value, meaning in named if abs(divisor - value) <= 1e-9 * value]
    if meanings:
        return (f"the step is (η/{divisor:g})Σₓ∇ instead of (η/m)Σₓ∇ with m = {m}: "
                + " or ".join(meanings))
    if entries >= 4:
        return f"the step is {r:.6g} × (η/m)Σₓ∇ (m = {m}): η divided by {divisor:.6g} instead of m"
    return None


def _sequential_update(case: Case, old: tuple[Sequence[np.ndarray], Sequence[np.ndarray]],
                       columns: Sequence[int], rule: StepRule
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """What updating after every example (a classic bug) gives, by the reference."""
    w, b = list(old[0]), list(old[1])
    m = len(columns)
    for j in columns:
        g = backprop_matrix(w, b, case.x[:, j:j + 1], case.y[:, j:j + 1], case.activations,
                            case.cost)
        step = rule.step(m, case.y.shape[0])
        w = [p - step * q for p, q in zip(w, g.nabla_w, strict=True)]
        b = [p - step * q for p, q in zip(b, g.nabla_b, strict=True)]
    return w, b


def pairs(ctx: Context, case: Case, columns: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The book's mini-batch: a list of (x, y) columns, fresh copies in the implementation's dtype."""
    _, _, X, Y = ctx.arrays(case)
    return [(X[:, j:j + 1].copy(), Y[:, j:j + 1].copy()) for j in columns]


def check_update(ctx: Context, spec: NetworkSpec) -> None:
    """w → (1 − ηλ/n)w − (η/m)Σₓ∂Cₓ/∂w and b → b − (η/m)Σₓ∂Cₓ/∂b on the network's mini-batch
    (λ = 0 unless the implementation's update takes λ and n, as network2.py's does)."""
    caps = ctx.impl.capabilities
    for decay in (True, False) if caps.l2_optional else (True,):
        case = ctx.case(spec)
        w, b, _, _ = ctx.arrays(case)
        columns = range(spec.m)
        rule = StepRule.of(ctx, decay)
        arguments = "mini_batch, eta, lmbda, n" if rule.lmbda else "mini_batch, eta"
        what = ctx.impl.call_name(f"update_mini_batch({arguments})")
        value = call_with_limit(what, ctx.impl.update, w, b, pairs(ctx, case, columns),
                                *rule.arguments(), seconds=ctx.seconds)
        new_w, new_b = as_parameters(value, what, case, ctx.dtype)
        judge_step(ctx, spec, case, (case.weights, case.biases), (new_w, new_b), columns, rule,
                   "update rule", "the step" if decay or not caps.l2 else
                   "the step of update_mini_batch(mini_batch, eta), λ left at its default",
                   lambda: _own_gradient(ctx, spec))


def as_parameters(value: Any, what: str, case: Case, dtype: str | None = None,
                  equation: str = "update rule") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(weights, biases) after an update: two lists of L − 1 real arrays in the book's shapes,
    as float64; anything else is a fault of the implementation, named. With ``dtype`` (the
    declared one), parameters of another dtype fail ``equation``: an update must keep them in
    the dtype the network computes in (a float32 network whose step is taken in float64 returns
    float64 parameters, and every later step pays for it)."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ImplementationFault(f"{what} left {type(value).__name__} as its parameters, "
                                  "expected (weights, biases)")
    out = []
    for name, part, shapes in (("weights", value[0], [w.shape for w in case.weights]),
                               ("biases", value[1], [b.shape for b in case.biases])):
        if not isinstance(part, tuple | list) or len(part) != len(shapes):
            count = len(part) if isinstance(part, tuple | list) else type(part).__name__
            raise ImplementationFault(f"{what} left {name} with {count} layers, expected "
                                      f"{len(shapes)} (layers 2..L)")
        arrays = []
        for i, (item, shape) in enumerate(zip(part, shapes, strict=True)):
            array = np.asarray(item)
            if array.dtype.kind not in "fiu" or array.shape != shape:
                raise ImplementationFault(
                    f"{what} left {name}[{i}] (layer {i + 2}) of dtype {array.dtype} and shape "
                    f"{array.shape}, expected real numbers of shape {shape}")
            if dtype is not None and array.dtype != np.dtype(dtype):
                raise CheckFailed(Failure(
                    equation, f"{what} left {name}[{i}] (layer {i + 2}) of dtype {array.dtype}, "
                    f"expected {dtype} (the dtype the implementation declares)", i + 2,
                    diagnosis=f"the step is computed in {array.dtype}: keep the parameters in "
                              f"{dtype} (cast the step, e.g. w -= step.astype(w.dtype)), or "
                              f"declare the dtype you compute in"))
            arrays.append(array.astype(np.float64))
        out.append(arrays)
    return out[0], out[1]


def call_checked(ctx: Context, what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """A call of the implementation (a session's method, too), named and time-limited."""
    return call_with_limit(f"{ctx.impl.name}: {what}", fn, *args, seconds=ctx.seconds)


def parameters_now(ctx: Context, session: Session, case: Case, equation: str = "state"
                   ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The session's parameters now, as float64 copies (an in-place update cannot reach them);
    of another dtype than the declared one, they fail ``equation``."""
    value = call_checked(ctx, "reading weights and biases", session.parameters)
    return as_parameters(value, f"{ctx.impl.name} (its weights and biases)", case, ctx.dtype,
                         equation)


def _own_gradient(ctx: Context, spec: NetworkSpec) -> Gradient | None:
    """Σₓ of the implementation's own backprop(x, y), for the hint (asked for on a failure only);
    None if it has none to give, or the batch is too large to call it once per example."""
    if spec.m > OWN_GRADIENT_MAX_M:
        return None
    try:
        return ctx.gradient(spec, None)
    except (ImplementationFault, CheckFailed):
        return None


OWN_GRADIENT_MAX_M = 256
"""A failed step is compared with the implementation's own gradient up to this batch size (one
backprop(x, y) call per example)."""
