"""The SGD method (§1.5): epochs of shuffled mini-batches, each mini-batch one update step.

``SGD(training_data, epochs, mini_batch_size, eta)`` is called three times on one network (a
book-style class's own method; network2.py's ``lmbda=`` too, whose decay then uses
n = len(training_data)), each call from where the previous one left it (``CALLS``):

  1. three examples in mini-batches of 5: one mini-batch, shorter than mini_batch_size, so a
     single step of m = 3 (η divided by mini_batch_size fails here);
  2. four examples in mini-batches of 4: a single step of m = 4;
  3. five copies of one example in mini-batches of 2, for two epochs: six steps (m = 2, 2, 1,
     twice). The copies make the shuffle's order irrelevant, so the trajectory is the
     reference's up to rounding (a last mini-batch dropped, or stepped as if full, an epoch
     missing, fail here).

A single step is judged as ``update-rule`` judges one, with its hints. Several steps are judged
against the reference's trajectory: the allowance of each step (the one a single step gets)
is carried through the later steps by |∂θₖ₊₁/∂θₖ|, the absolute Jacobian of the step map
θ → Dθ − s·∇C(θ), whose Hessian part comes from central differences of the reference's ∇C.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bpverify.conformance.battery import NetworkSpec
from bpverify.conformance.bounds import UNIT_ROUNDOFF, allowance
from bpverify.conformance.cases import Case
from bpverify.conformance.checks.base import CheckFailed, Context, Failure, mismatch
from bpverify.conformance.checks.batch import ETA, L2_LAMBDA, StepRule, judge_step, pairs
from bpverify.conformance.checks.state import call_checked, parameters_now
from bpverify.reference.backpropagation import backprop_matrix

Params = tuple[list[np.ndarray], list[np.ndarray]]


@dataclass(frozen=True)
class SGDCall:
    """One call of SGD: the examples of its training data (columns of the case), in order."""

    columns: tuple[int, ...]
    epochs: int
    mini_batch_size: int

    def batches(self) -> list[list[int]]:
        """The mini-batches of every epoch, consecutive slices as the book takes them (which
        examples fall in which slice depends on the shuffle; here only the sizes matter)."""
        size, cols = self.mini_batch_size, list(self.columns)
        epoch = [cols[k:k + size] for k in range(0, len(cols), size)]
        return epoch * self.epochs

    def describe(self) -> str:
        return (f"SGD(training_data, {self.epochs}, {self.mini_batch_size}, eta) on "
                f"{len(self.columns)} examples")


CALLS = (SGDCall((0, 1, 2), 1, 5), SGDCall((3, 4, 5, 6), 1, 4), SGDCall((7,) * 5, 2, 2))
EXAMPLES = 8
"""The distinct examples the calls use: columns 0..7 of the network's case."""

FD_STEP = 1e-5
"""h of the central differences of ∇C that give the Hessian in the step map's Jacobian."""
HESSIAN_SLACK = 1e-6
"""Absolute allowance per entry of that Hessian: its truncation (h²·|∇C‴|) and rounding
(u·|∇C|/h) errors are near 1e-10 at h = 1e-5 for the small networks the check runs on."""


def sgd_spec(spec: NetworkSpec) -> NetworkSpec:
    return replace(spec, m=EXAMPLES)


def check_sgd(ctx: Context, spec: NetworkSpec) -> None:
    big = ctx.case(sgd_spec(spec))
    session = call_checked(ctx, "session(weights, biases)", ctx.impl.session,
                           *ctx.arrays(big)[:2])
    before: Params = (list(big.weights), list(big.biases))
    for number, call in enumerate(CALLS, start=1):
        rule = StepRule(ETA, L2_LAMBDA if ctx.impl.capabilities.sgd_lmbda else 0.0,
                        len(call.columns), ctx.impl.step_scale)
        what = ctx.impl.call_name(call.describe().split(" on ")[0])
        extra = (rule.lmbda,) if rule.lmbda else ()
        call_checked(ctx, what, session.sgd, pairs(ctx, big, call.columns), call.epochs,
                     call.mini_batch_size, rule.eta, *extra)
        after = parameters_now(ctx, session, big)
        where = f"call {number} of {len(CALLS)}, {call.describe()}"
        batches = call.batches()
        if len(batches) == 1:
            try:
                judge_step(ctx, spec, big, before, after, batches[0], rule, "SGD", where,
                           nominal=call.mini_batch_size)
            except CheckFailed as failed:
                raise CheckFailed(_no_step(failed.failure, call)) from None
        else:
            judge_trajectory(ctx, big, before, after, call, rule, where)
        before = after


def _no_step(failure: Failure, call: SGDCall) -> Failure:
    """Say what leaves a network untouched in SGD, where the step rule says "not updated"."""
    if not (failure.diagnosis or "").endswith("not updated"):
        return failure
    return replace(failure, diagnosis=(
        f"SGD took no step on {len(call.columns)} examples in mini-batches of "
        f"{call.mini_batch_size}: the last, shorter mini-batch left out (n // mini_batch_size "
        "mini-batches), or fewer epochs run than asked"))


def judge_trajectory(ctx: Context, case: Case, old: Params, new: Params, call: SGDCall,
                     rule: StepRule, what: str) -> None:
    """CheckFailed unless ``new`` is the reference's trajectory from ``old`` through the
    mini-batches of ``call``, within the propagated allowance; the hint names the wrong
    trajectory it matches, if any."""
    batches = call.batches()
    states = trajectory(case, old, batches, rule)
    bound = trajectory_allowance(ctx.dtype, case, states, batches, rule)
    expected = states[-1]

    def first_failure(candidates: Callable[[int, int], dict[str, np.ndarray]] | None) -> None:
        for k, name in enumerate(("w", "b")):
            for layer, (g, e, t) in enumerate(zip(new[k], expected[k], bound[k], strict=True),
                                              start=2):
                found = mismatch(np.asarray(g, dtype=np.float64), e, t, "SGD",
                                 f"{name} after {what}", layer, ctx.float32_hint,
                                 candidates(k, layer) if candidates else None)
                if found is not None:
                    raise CheckFailed(found)

    try:
        first_failure(None)
    except CheckFailed:
        wrong = wrong_trajectories(case, old, call, rule)
        first_failure(lambda k, layer: {hint: p[k][layer - 2] for hint, p in wrong.items()})


def step(case: Case, theta: Params, batch: Sequence[int], rule: StepRule,
         size: int | None = None) -> Params:
    """One SGD step on the examples ``batch`` (``StepRule``); ``size``: the m it divides by."""
    X, Y = case.x[:, list(batch)], case.y[:, list(batch)]
    g = backprop_matrix(list(theta[0]), list(theta[1]), X, Y, case.activations, case.cost)
    s = rule.step(size or len(batch), Y.shape[0])
    return ([rule.decay() * w - s * nw for w, nw in zip(theta[0], g.nabla_w, strict=True)],
            [b - s * nb for b, nb in zip(theta[1], g.nabla_b, strict=True)])


def trajectory(case: Case, old: Params, batches: Sequence[Sequence[int]], rule: StepRule,
               size: Callable[[Sequence[int]], int] = len,
               n: Callable[[Sequence[int]], int] | None = None) -> list[Params]:
    """θ₀ = old and θₖ₊₁ = step(θₖ, batchₖ), by the reference (``size``: the m a step divides
    η by; ``n``: the n of its L2 decay, when not the rule's)."""
    states = [old]
    for batch in batches:
        this = rule if n is None else replace(rule, n=n(batch))
        states.append(step(case, states[-1], batch, this, size(batch)))
    return states


def wrong_trajectories(case: Case, old: Params, call: SGDCall, rule: StepRule
                       ) -> dict[str, Params]:
    """Where the classic SGD bugs would have taken the network."""
    batches, per_epoch = call.batches(), len(call.batches()) // call.epochs
    short = [b for b in batches if len(b) < call.mini_batch_size]
    found = {
        f"the last, shorter mini-batch of each epoch stepped with η/{call.mini_batch_size} "
        "(mini_batch_size) instead of η/len(mini_batch)":
            trajectory(case, old, batches, rule, lambda b: call.mini_batch_size),
        f"fewer epochs run than asked: {call.epochs - 1} of {call.epochs}":
            trajectory(case, old, batches[:-per_epoch], rule),
        "only the first mini-batch of each epoch used":
            trajectory(case, old, batches[::per_epoch], rule),
        "one step per example: mini_batch_size ignored":
            trajectory(case, old, [[j] for b in batches for j in b], rule),
    }
    if rule.lmbda:
        found["the L2 decay is (1 − ηλ/m), m the mini-batch's size, instead of (1 − ηλ/n) with "
              "n = len(training_data)"] = trajectory(case, old, batches, rule, n=len)
    if short:
        found["the last, shorter mini-batch of each epoch left out (n // mini_batch_size "
              "mini-batches)"] = trajectory(case, old, [b for b in batches if b not in short], rule)
    return {hint: states[-1] for hint, states in found.items()}


def trajectory_allowance(dtype: str, case: Case, states: Sequence[Params],
                         batches: Sequence[Sequence[int]], rule: StepRule
                         ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Eₖ₊₁ = |Jₖ|·Eₖ + Aₖ, E₀ = 0: Aₖ the allowance of one step (``judge_step``'s s·t + 4u|θ|),
    Jₖ the Jacobian of the step map at the reference's θₖ (``step_jacobian``)."""
    u = UNIT_ROUNDOFF[dtype]
    shapes = [w.shape for w in states[0][0]] + [b.shape for b in states[0][1]]
    E = np.zeros(sum(int(np.prod(s)) for s in shapes))
    for theta, batch in zip(states[:-1], batches, strict=True):
        sub = Case(tuple(theta[0]), tuple(theta[1]), case.x[:, list(batch)],
                   case.y[:, list(batch)], case.activations, case.cost)
        allowed = allowance(sub, dtype)
        s = rule.step(len(batch), case.y.shape[0])
        local = _flat([s * t + 4 * u * np.abs(w) for t, w in zip(allowed.nabla_w, theta[0],
                                                                   strict=True)]
                      + [s * t + 4 * u * np.abs(b) for t, b in zip(allowed.nabla_b, theta[1],
                                                                     strict=True)])
        E = np.abs(step_jacobian(sub, theta, rule, s)) @ E + s * HESSIAN_SLACK * E.sum() + local
    parts = _unflat(E, shapes)
    count = len(states[0][0])
    return parts[:count], parts[count:]


def step_jacobian(sub: Case, theta: Params, rule: StepRule, s: float) -> np.ndarray:
    """∂(Dθ − s·∇C(θ))/∂θ over the flattened (w, b), D = (1 − ηλ/n) on w and 1 on b; the
    Hessian of C on the examples of ``sub`` by central differences of the reference's ∇C."""
    shapes = [w.shape for w in theta[0]] + [b.shape for b in theta[1]]
    count = len(theta[0])
    x0 = _flat(list(theta[0]) + list(theta[1]))

    def gradient(x: np.ndarray) -> np.ndarray:
        parts = _unflat(x, shapes)
        g = backprop_matrix(parts[:count], parts[count:], sub.x, sub.y, sub.activations,
                            sub.cost)
        return _flat(list(g.nabla_w) + list(g.nabla_b))

    H = np.empty((x0.size, x0.size))
    for i in range(x0.size):
        h = FD_STEP * max(1.0, abs(x0[i]))
        up, down = x0.copy(), x0.copy()
        up[i] += h
        down[i] -= h
        H[:, i] = (gradient(up) - gradient(down)) / (2 * h)
    weights = sum(int(np.prod(sh)) for sh in shapes[:count])
    D = np.concatenate([np.full(weights, rule.decay()), np.ones(x0.size - weights)])
    return np.diag(D) - s * H


def _flat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def _unflat(x: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(x[start:start + size].reshape(shape))
        start += size
    return out
