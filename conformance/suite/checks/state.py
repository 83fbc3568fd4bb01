"""What calls leave behind: state kept between calls, inputs changed in place, nondeterminism.

The ``state`` check keeps one network (``Session``) across a sequence of calls, as a user's
training loop does; it runs once the gradient and the update rule are right on fresh networks
(a failure of those blocks it), so what it finds is what the network remembers:

  1. ∇C at x₀, *kept as returned*; ∇C at x₁; then the kept result against the reference
     (returned arrays that are internal buffers, overwritten by the next call, fail here);
  2. new weights assigned directly; ∇C and aᴸ at the same x₀ (a forward pass memoised by its
     input alone fails here);
  3. four consecutive update steps of different mini-batch sizes m, none 1, L − 1 or L,
     each against the reference's step from the network's own parameters; then ∇C and aᴸ at
     x₀ again (momentum, a decaying η, stale caches fail here). η is the update rule's unless
     the curvature would make four steps run away (``curvature.stable_eta``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from bpverify.conformance.protocol.adapters import Session
from bpverify.conformance.protocol.calls import as_gradient, call_with_limit, check_finite
from bpverify.conformance.suite.battery import NetworkSpec
from bpverify.conformance.suite.checks.base import (
    CheckFailed,
    Context,
    Failure,
    check_shapes,
    compare,
)
from bpverify.conformance.suite.checks.batch import (
    StepRule,
    as_parameters,
    call_checked,
    judge_step,
    pairs,
    parameters_now,
)
from bpverify.conformance.suite.checks.curvature import stable_eta
from bpverify.oracles.cases import Case
from bpverify.oracles.rounding import allowance, relative_factor
from bpverify.reference.backpropagation import backprop_matrix

STEPS = 4
"""Consecutive update steps on one network: a schedule or a buffer can wait a few steps."""


def state_batch_sizes(L: int) -> tuple[int, ...]:
    """Mini-batch sizes for the consecutive steps, no two alike and none 1, L − 1 or L (where a
    step divided by the wrong one of those would go unseen)."""
    sizes = [m for m in range(2, L + 2 + STEPS) if m not in (L - 1, L)]
    return (sizes[-1], sizes[0], sizes[-2], sizes[1])[:STEPS]


def state_spec(spec: NetworkSpec) -> NetworkSpec:
    """The network of ``spec`` with enough examples for every step and the probes x₀, x₁, drawn
    plain: x₀ and x₁ must differ (a repeated example would hide a buffer overwritten by the
    next call), and what an example holds is the other checks' to vary."""
    return replace(spec, m=sum(state_batch_sizes(spec.L)), examples="plain")


def check_state(ctx: Context, spec: NetworkSpec) -> None:
    big = ctx.case(state_spec(spec))
    session = call_checked(ctx, "session(weights, biases)", ctx.impl.session, *ctx.arrays(big)[:2])
    _kept_results(ctx, spec, session, big)
    new_params = ctx.case(replace(spec, seed=spec.seed + 1))
    call_checked(ctx, "assigning new weights and biases", session.assign,
          *ctx.arrays(new_params)[:2])
    _probe(ctx, spec, session, new_params.weights, new_params.biases, big,
           "after new weights were assigned")
    if not ctx.impl.capabilities.update:
        return
    at_new = Case(new_params.weights, new_params.biases, big.x, big.y, big.activations, big.cost)
    rule = StepRule.of(ctx)
    rule = replace(rule, eta=stable_eta(at_new, (new_params.weights, new_params.biases),
                                        rule.eta))  # four steps of a linear network run away
    start = 0
    previous: list[np.ndarray] | None = None  # the step before, flattened per array
    for step, m in enumerate(state_batch_sizes(spec.L), start=1):
        columns = range(start, start + m)
        start += m
        before = parameters_now(ctx, session, big)
        call_checked(ctx, "update_mini_batch(mini_batch, eta)", session.update,
              pairs(ctx, big, columns), *rule.arguments())
        after = parameters_now(ctx, session, big)
        try:
            judge_step(ctx, spec, big, before, after, columns, rule, "state",
                       f"update step {step} of {STEPS} (m = {m}) on one network")
        except CheckFailed as failed:
            fresh = _fresh_step(ctx, big, before, columns, rule)
            if not _same(fresh, after):  # a fresh network steps right from there
                hint = None if previous is None else momentum_hint(before, after, fresh,
                                                                   previous)
                if hint is None:
                    raise
                raise CheckFailed(replace(failed.failure, diagnosis=hint)) from None
        previous = [a - b for a, b in zip(after[0] + after[1], before[0] + before[1],
                                          strict=True)]
        _probe(ctx, spec, session, after[0], after[1], big, f"after update step {step}")


Parameters = tuple[list[np.ndarray], list[np.ndarray]]


def _fresh_step(ctx: Context, big: Case, before: Parameters, columns: range,
                rule: StepRule) -> Parameters:
    """Where a fresh network, given the same parameters and mini-batch, steps to: if it takes
    the same wrong step, the fault is the update rule's or the gradient's (their checks say
    so), not state's."""
    dt = np.dtype(ctx.dtype)
    value = call_checked(ctx, "update_mini_batch(mini_batch, eta)", ctx.impl.update,
                  [w.astype(dt) for w in before[0]], [b.astype(dt) for b in before[1]],
                  pairs(ctx, big, columns), *rule.arguments())
    return as_parameters(value, ctx.impl.name, big, ctx.dtype, "state")


def _same(fresh: Parameters, after: Parameters) -> bool:
    return all(np.allclose(f, a, rtol=1e-12, atol=0.0) for f, a in zip(
        fresh[0] + fresh[1], after[0] + after[1], strict=True))


MOMENTUM_AGREEMENT = 1e-6
"""How closely the kept network's extra step must be one multiple μ of the step before (relative,
normwise) to be named momentum: far above rounding, far below any other coincidence."""


def momentum_hint(before: Parameters, after: Parameters, fresh: Parameters,
                  previous: Sequence[np.ndarray]) -> str | None:
    """The kept network stepped to ``after``, a fresh one from the same parameters to ``fresh``
    (the right step): where the difference is μ times the previous step for one μ, the update
    keeps a velocity (v = μv + ∇, a step of −ηv: SGD with momentum), which the book's
    update_mini_batch does not."""
    extra = np.concatenate([(a - f).ravel() for a, f in zip(after[0] + after[1],
                                                            fresh[0] + fresh[1], strict=True)])
    last = np.concatenate([p.ravel() for p in previous])
    scale = float(last @ last)
    if scale == 0.0 or not np.all(np.isfinite(extra)):
        return None
    mu = float(last @ extra) / scale
    residual = float(np.linalg.norm(extra - mu * last))
    if mu == 0.0 or residual > MOMENTUM_AGREEMENT * float(np.linalg.norm(extra)):
        return None
    return (f"each step carries μ = {mu:.6g} times the step before it: momentum (a velocity "
            f"v = μv + ∇ kept across calls, as torch.optim.SGD(momentum={mu:.3g}) keeps it); "
            "the book's update_mini_batch steps by −(η/m)Σₓ∇Cₓ alone")


def _kept_results(ctx: Context, spec: NetworkSpec, session: Session, big: Case) -> None:
    """∇C at x₀ kept exactly as returned, ∇C at x₁, then the kept result checked."""
    x, y = _columns(ctx, big, 0)
    what = ctx.impl.call_name("backprop(x, y)")
    shapes = [w.shape for w in big.weights]
    number = call_checked(ctx, "backprop(x, y)", session.kept_gradient, x, y)
    x1, y1 = _columns(ctx, big, 1)
    as_gradient(call_checked(ctx, "backprop(x, y)", session.gradient, x1, y1), what, shapes)
    first = as_gradient(call_checked(ctx, "backprop(x, y)", session.recall, number), what, shapes)
    _against(ctx, spec, big, big.weights, big.biases, 0, first,
             "a result kept from one call, after a second call with another x",
             "the returned arrays are internal buffers that the next call overwrites: "
             "return new arrays (or copies)")


def _probe(ctx: Context, spec: NetworkSpec, session: Session, weights: Sequence[np.ndarray],
           biases: Sequence[np.ndarray], big: Case, when: str) -> None:
    """∇C and, where there is one, aᴸ at the same x₀ as before, against the current parameters."""
    x, y = _columns(ctx, big, 0)
    what = ctx.impl.call_name("backprop(x, y)")
    got = as_gradient(call_checked(ctx, "backprop(x, y)", session.gradient, x, y), what,
                      [w.shape for w in big.weights])
    hint = ("the same x gives the result of the old weights: a forward pass or gradient "
            "remembered by its input, not recomputed")
    _against(ctx, spec, big, weights, biases, 0, got, f"∇C at the same x {when}", hint)
    if not ctx.impl.capabilities.feedforward:
        return
    x, _ = _columns(ctx, big, 0)  # afresh: what backprop did to its x is not our concern here
    a = np.asarray(call_checked(ctx, "feedforward(a)", session.feedforward, x), dtype=np.float64)
    probe = Case(tuple(weights), tuple(biases), big.x[:, :1], big.y[:, :1], big.activations,
                 big.cost)
    ref = backprop_matrix(probe.weights, probe.biases, probe.x, probe.y, probe.activations,
                          probe.cost)
    tol = relative_factor(probe, ctx.dtype) * (1.0 + np.abs(ref.activations[-1])) + allowance(
        probe, ctx.dtype).activations[-1]
    try:
        compare([a], [ref.activations[-1]], [tol], "state", f"aᴸ of feedforward {when}",
                [spec.L], ctx.float32_hint)
    except CheckFailed as failed:
        raise CheckFailed(replace(failed.failure, diagnosis=failed.failure.diagnosis or hint)) from None


def _against(ctx: Context, spec: NetworkSpec, big: Case, weights: Sequence[np.ndarray],
             biases: Sequence[np.ndarray], column: int,
             got: tuple[list[np.ndarray], list[np.ndarray]], quantity: str, hint: str) -> None:
    probe = Case(tuple(weights), tuple(biases), big.x[:, column:column + 1],
                 big.y[:, column:column + 1], big.activations, big.cost)
    check_shapes(got[0], got[1], probe)
    check_finite(got[0], "∂C/∂b", quantity)
    check_finite(got[1], "∂C/∂w", quantity)
    ref = backprop_matrix(probe.weights, probe.biases, probe.x, probe.y, probe.activations,
                          probe.cost)
    allowed = allowance(probe, ctx.dtype)
    layers = range(2, spec.L + 1)
    try:
        compare(got[0], ref.nabla_b, allowed.nabla_b, "state", f"∂C/∂b: {quantity}", layers,
                ctx.float32_hint)
        compare(got[1], ref.nabla_w, allowed.nabla_w, "state", f"∂C/∂w: {quantity}", layers,
                ctx.float32_hint)
    except CheckFailed as failed:
        if _fresh_gradient_agrees(ctx, probe, got):
            return  # a fresh network is as wrong here: gradient-vs-reference's to say
        raise CheckFailed(replace(failed.failure, diagnosis=failed.failure.diagnosis or hint)) from None


def _fresh_gradient_agrees(ctx: Context, probe: Case,
                           got: tuple[list[np.ndarray], list[np.ndarray]]) -> bool:
    """A fresh network at the same parameters and x gives the same (wrong) gradient."""
    w, b, x, y = ctx.arrays(probe)
    value = call_checked(ctx, "backprop(x, y)", ctx.impl.gradient, w, b, x, y)
    fresh = as_gradient(value, ctx.impl.name, [wt.shape for wt in probe.weights])
    return all(np.allclose(f, g, rtol=1e-12, atol=0.0) for f, g in zip(
        fresh[0] + fresh[1], got[0] + got[1], strict=True))


def _columns(ctx: Context, case: Case, j: int) -> tuple[np.ndarray, np.ndarray]:
    _, _, X, Y = ctx.arrays(case)
    return X[:, j:j + 1].copy(), Y[:, j:j + 1].copy()


# -- purity and determinism -----------------------------------------------------------------------

def check_inputs_not_mutated(ctx: Context, spec: NetworkSpec) -> None:
    """backprop(x, y) (and backprop_matrix(X, Y), update_mini_batch) change none of their inputs."""
    case = ctx.case(spec)
    w, b, x, y = ctx.arrays(case)
    x, y = x[:, :1].copy(), y[:, :1].copy()
    calls = [("backprop(x, y)", lambda: ctx.call_gradient(w, b, x, y, spec),
              [*w, *b, x, y], [f"weights[{i}]" for i in range(len(w))]
              + [f"biases[{i}]" for i in range(len(b))] + ["x", "y"])]
    if ctx.impl.capabilities.mini_batch:
        _, _, X, Y = ctx.arrays(case)
        calls.append(("backprop_matrix(X, Y)", lambda: call_with_limit(
            "backprop_matrix", ctx.impl.gradient_batch, w, b, X, Y, seconds=ctx.seconds),
            [X, Y], ["X", "Y"]))
    for what, call, arrays, names in calls:
        before = [a.copy() for a in arrays]
        call()
        for name, old, new in zip(names, before, arrays, strict=True):
            if not np.array_equal(old, new):
                raise CheckFailed(Failure("purity", f"{what} changed its input {name}",
                                          diagnosis="an in-place operation on an argument"))
    if ctx.impl.capabilities.update:
        _update_leaves_its_mini_batch(ctx, case)


def _update_leaves_its_mini_batch(ctx: Context, case: Case) -> None:
    """update_mini_batch leaves the caller's list of (x, y) pairs as it was: the same pairs (a
    shuffle in place is fine), every array unchanged (an epoch loop reuses them)."""
    w, b, _, _ = ctx.arrays(case)
    mini_batch = pairs(ctx, case, range(case.batch_size))
    before = [(x.copy(), y.copy()) for x, y in mini_batch]
    rule = StepRule.of(ctx)
    call_with_limit(ctx.impl.call_name("update_mini_batch(mini_batch, eta)"), ctx.impl.update,
                    w, b, mini_batch, *rule.arguments(), seconds=ctx.seconds)
    what = "update_mini_batch(mini_batch, eta)"
    if len(mini_batch) != len(before):
        raise CheckFailed(Failure("purity", f"{what} changed its list mini_batch: it had "
                                  f"{len(before)} pairs, it has {len(mini_batch)}",
                                  diagnosis="the list consumed (pop, clear) in place: iterate "
                                            "over it, or over a copy"))
    def contents(pairs_: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[bytes]:
        return sorted(np.asarray(x).tobytes() + np.asarray(y).tobytes() for x, y in pairs_)
    if contents(mini_batch) != contents(before):  # in another order is fine (a shuffle)
        changed = next(j for j, (x, y) in enumerate(mini_batch) if all(
            not (np.array_equal(np.asarray(x), x0) and np.array_equal(np.asarray(y), y0))
            for x0, y0 in before))
        raise CheckFailed(Failure("purity", f"{what} changed the pair mini_batch[{changed}] "
                                  "in place", diagnosis="an in-place operation on an argument"))


def check_deterministic(ctx: Context, spec: NetworkSpec) -> None:
    """Two identical calls give identical results."""
    case = ctx.case(spec)
    runs = []
    for _ in range(2):
        w, b, x, y = ctx.arrays(case)
        runs.append(ctx.call_gradient(w, b, x[:, :1], y[:, :1], spec))
    for name, first, second in (("∂C/∂b", runs[0][0], runs[1][0]),
                                ("∂C/∂w", runs[0][1], runs[1][1])):
        for i, (p, q) in enumerate(zip(first, second, strict=True)):
            if not np.array_equal(p, q):
                index = tuple(int(k) for k in np.argwhere(p != q)[0])
                raise CheckFailed(Failure("determinism", f"two identical calls gave different "
                                          f"{name} at layer {i + 2}", i + 2, index,
                                          float(p[index]), float(q[index]),
                                          "randomness or uninitialised memory in backprop"))
