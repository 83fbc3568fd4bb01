"""The SGD method (§1.5): epochs of shuffled mini-batches, each mini-batch one update step.

``SGD(training_data, epochs, mini_batch_size, eta)`` is called three times on one network (a
book-style class's own method; network2.py's λ too, whose decay then uses
n = len(training_data)), each call from where the previous one left it (``CALLS``):

  1. three examples in mini-batches of 5: one mini-batch, shorter than mini_batch_size, so a
     single step of m = 3 (η divided by mini_batch_size fails here);
  2. four examples in mini-batches of 4: a single step of m = 4;
  3. three other examples in mini-batches of 2, for two epochs: four steps (m = 2, 1, 2, 1).
     Which examples share a mini-batch is the shuffle's choice, so the result must be the
     reference's trajectory for one of the 3 × 3 ways the two epochs can fall (a stale or
     repeated mini-batch, slices without their offset or overlapping, a last mini-batch
     dropped, merged or stepped as if full, an epoch missing or added, fail here).

η is the update rule's 0.75 unless the network's curvature would make such steps diverge (a
linear network): then 0.5/ρ, ρ the spectral radius of the Hessian of the mean cost at the
start (``curvature.stable_eta``). A single step is judged as ``update-rule`` judges one, with its hints.
Several steps are judged against the nearest of the possible trajectories: the allowance of
each step (the one a single step gets) is carried through the later steps by |∂θₖ₊₁/∂θₖ|, the
absolute Jacobian of the step map θ → Dθ − s·∇C(θ) (``curvature.step_jacobian``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bpverify.conformance.suite.battery import NetworkSpec
from bpverify.conformance.suite.checks.base import CheckFailed, Context, Failure, mismatch
from bpverify.conformance.suite.checks.batch import (
    ETA,
    StepRule,
    call_checked,
    expected_step,
    judge_step,
    pairs,
    parameters_now,
)
from bpverify.conformance.suite.checks.curvature import (
    HESSIAN_SLACK,
    flat,
    stable_eta,
    step_jacobian,
    unflat,
)
from bpverify.oracles.cases import Case
from bpverify.oracles.rounding import UNIT_ROUNDOFF, allowance

Params = tuple[list[np.ndarray], list[np.ndarray]]
Schedule = list[list[int]]


@dataclass(frozen=True)
class SGDCall:
    """One call of SGD: the examples of its training data (columns of the case)."""

    columns: tuple[int, ...]
    epochs: int
    mini_batch_size: int

    def epoch_orders(self) -> list[Schedule]:
        """Every sequence of mini-batches one epoch can take: consecutive slices of a shuffle
        (which examples share a slice matters, their order within it does not)."""
        size, seen, orders = self.mini_batch_size, set(), []
        for order in itertools.permutations(self.columns):
            key = tuple(tuple(sorted(order[k:k + size])) for k in range(0, len(order), size))
            if key not in seen:
                seen.add(key)
                orders.append([list(batch) for batch in key])
        return orders

    def schedules(self) -> list[Schedule]:
        """Every sequence of mini-batches the whole call can take."""
        return [[batch for epoch in combination for batch in epoch]
                for combination in itertools.product(self.epoch_orders(), repeat=self.epochs)]

    def call(self, eta: float) -> str:
        return f"SGD(training_data, {self.epochs}, {self.mini_batch_size}, eta = {eta:.3g})"

    def describe(self, eta: float) -> str:
        return f"{self.call(eta)} on {len(self.columns)} examples"


CALLS = (SGDCall((0, 1, 2), 1, 5), SGDCall((3, 4, 5, 6), 1, 4), SGDCall((7, 8, 9), 2, 2))
EXAMPLES = 10
"""The distinct examples the calls use: columns 0..9 of the network's case."""

SGD_LAMBDA = 0.4
"""λ for an SGD with L2 decay: ηλ/n ≤ 0.1 for n ≥ 3, so the decay 1 − ηλ/n stays in (0.9, 1),
as in training, and n = 3 differs from the m = 2 or 1 of call 3's mini-batches."""
def sgd_spec(spec: NetworkSpec) -> NetworkSpec:
    """The network of ``spec`` with EXAMPLES plain examples: distinct, so that which of them
    share a mini-batch shows (the other checks vary what an example holds)."""
    return replace(spec, m=EXAMPLES, examples="plain")


def check_sgd(ctx: Context, spec: NetworkSpec) -> None:
    big = ctx.case(sgd_spec(spec))
    before: Params = (list(big.weights), list(big.biases))
    eta = stable_eta(big, before, ETA)
    session = call_checked(ctx, "session(weights, biases)", ctx.impl.session,
                           *ctx.arrays(big)[:2])
    l2 = ctx.impl.capabilities.sgd_l2
    for number, call in enumerate(CALLS, start=1):
        rule = StepRule(eta, SGD_LAMBDA if l2 else 0.0, len(call.columns), ctx.impl.step_scale)
        what = call.describe(eta) + (f", {l2} = {SGD_LAMBDA:g}" if l2 else "")
        call_checked(ctx, ctx.impl.call_name(call.call(eta)), session.sgd,
                     pairs(ctx, big, call.columns), call.epochs, call.mini_batch_size, eta,
                     *((rule.lmbda,) if l2 else ()))
        after = parameters_now(ctx, session, big, "SGD")
        where = f"call {number} of {len(CALLS)}, {what}"
        schedules = call.schedules()
        if len(schedules) == 1 and len(schedules[0]) == 1:
            try:
                judge_step(ctx, spec, big, before, after, schedules[0][0], rule, "SGD", where,
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
        "mini-batches), or no epoch run (the training data consumed, a generator exhausted)"))


def judge_trajectory(ctx: Context, case: Case, old: Params, new: Params, call: SGDCall,
                     rule: StepRule, what: str) -> None:
    """CheckFailed unless ``new`` is the reference's trajectory from ``old`` through one of the
    schedules ``call`` can take, within the allowance carried along the nearest one; the hint
    names the wrong trajectory it matches, if any."""
    schedules = call.schedules()
    runs = [trajectory(case, old, schedule, rule) for schedule in schedules]
    nearest = min(range(len(runs)), key=lambda k: _distance(new, runs[k][-1]))
    states, schedule = runs[nearest], schedules[nearest]
    bound = trajectory_allowance(ctx.dtype, case, states, schedule, rule)
    expected = states[-1]

    def first_failure(candidates: dict[str, Params] | None) -> None:
        for k, name in enumerate(("w", "b")):
            for layer, (g, e, t) in enumerate(zip(new[k], expected[k], bound[k], strict=True),
                                              start=2):
                found = mismatch(np.asarray(g, dtype=np.float64), e, t, "SGD",
                                 f"{name} after {what}", layer, ctx.float32_hint,
                                 {hint: p[k][layer - 2] for hint, p in candidates.items()}
                                 if candidates else None)
                if found is not None:
                    raise CheckFailed(found)

    try:
        first_failure(None)
    except CheckFailed:
        first_failure(wrong_trajectories(case, old, new, call, rule))


def _same(a: Params, b: Params) -> bool:
    """Two ends equal to 1e-12 relative: bugs these calls cannot tell apart."""
    size = sum(float(np.sum(np.square(x))) for x in [*b[0], *b[1]])
    return _distance(a, b) <= 1e-24 * (1.0 + size)


def _distance(a: Params, b: Params) -> float:
    return sum(float(np.sum((np.asarray(x, dtype=np.float64) - y) ** 2))
               for x, y in zip([*a[0], *a[1]], [*b[0], *b[1]], strict=True))


def trajectory(case: Case, old: Params, schedule: Sequence[Sequence[int]], rule: StepRule,
               size: Callable[[Sequence[int]], int] = len,
               n: Callable[[Sequence[int]], int] | None = None) -> list[Params]:
    """θ₀ = old and θₖ₊₁ = step(θₖ, batchₖ), by the reference (``size``: the m a step divides
    η by; ``n``: the n of its L2 decay, when not the rule's)."""
    states = [old]
    for batch in schedule:
        this = rule if n is None else replace(rule, n=n(batch))
        states.append(expected_step(case, states[-1][0], states[-1][1], batch, this,
                                    size(batch)))
    return states


def wrong_trajectories(case: Case, old: Params, new: Params, call: SGDCall, rule: StepRule
                       ) -> dict[str, Params]:
    """Where the classic SGD bugs would have taken the network: for each, over every schedule
    the shuffle allows, the end nearest to ``new``."""
    size, per_epoch = call.mini_batch_size, len(call.schedules()[0]) // call.epochs

    def epochs(schedule: Schedule) -> list[Schedule]:
        return [schedule[e * per_epoch:(e + 1) * per_epoch] for e in range(call.epochs)]

    def merged(epoch: Schedule) -> Schedule:
        return epoch[:-2] + [epoch[-2] + epoch[-1]] if len(epoch[-1]) < size else epoch

    variants: dict[str, Callable[[Schedule], list[Params]]] = {
        f"the last, shorter mini-batch stepped with η/{size} (mini_batch_size) instead of "
        "η/len(mini_batch)": lambda s: trajectory(case, old, s, rule, lambda b: size),
        "the last, shorter mini-batch of each epoch left out (n // mini_batch_size "
        "mini-batches)": lambda s: trajectory(case, old, [b for b in s if len(b) == size], rule),
        "the last, shorter mini-batch merged into the one before": lambda s: trajectory(
            case, old, [b for e in epochs(s) for b in merged(e)], rule),
        f"fewer epochs run than asked ({call.epochs - 1} of {call.epochs}): the training data "
        "consumed, or a generator exhausted, by the first": lambda s: trajectory(
            case, old, s[:-per_epoch], rule),
        f"one epoch more than asked ({call.epochs + 1})": lambda s: trajectory(
            case, old, s + s[:per_epoch], rule),
        "only one mini-batch of each epoch stepped": lambda s: trajectory(
            case, old, [e[0] for e in epochs(s)], rule),
        "the same mini-batch stepped again and again (a stale index, or slices without their "
        "offset k)": lambda s: trajectory(case, old, [e[0] for e in epochs(s) for _ in e], rule),
        "one step per example: mini_batch_size ignored": lambda s: trajectory(
            case, old, [[j] for b in s for j in b], rule),
    }
    if rule.lmbda:
        variants["the L2 decay (1 − ηλ/m), m the mini-batch's size, instead of (1 − ηλ/n), "
                 "n = len(training_data)"] = lambda s: trajectory(case, old, s, rule, n=len)
        variants["the L2 decay (1 − ηλ/mini_batch_size) instead of (1 − ηλ/n), "
                 "n = len(training_data)"] = lambda s: trajectory(case, old, s, rule,
                                                                  n=lambda b: size)
    found: dict[str, Params] = {}
    for hint, variant in variants.items():
        ends = [variant(schedule)[-1] for schedule in call.schedules()]
        end = min(ends, key=lambda e: _distance(new, e))
        same = next((h for h, e in found.items() if _same(e, end)), None)
        if same is None:
            found[hint] = end
        else:  # these calls cannot tell the two apart: say both
            found[f"{same}; or {hint}"] = found.pop(same)
    return found


def trajectory_allowance(dtype: str, case: Case, states: Sequence[Params],
                         schedule: Sequence[Sequence[int]], rule: StepRule
                         ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Eₖ₊₁ = |Jₖ|·Eₖ + Aₖ, E₀ = 0: Aₖ the allowance of one step (``judge_step``'s s·t + 4u|θ|),
    Jₖ the Jacobian of the step map at the reference's θₖ (``step_jacobian``)."""
    u = UNIT_ROUNDOFF[dtype]
    shapes = [w.shape for w in states[0][0]] + [b.shape for b in states[0][1]]
    E = np.zeros(sum(int(np.prod(s)) for s in shapes))
    for theta, batch in zip(states[:-1], schedule, strict=True):
        sub = Case(tuple(theta[0]), tuple(theta[1]), case.x[:, list(batch)],
                   case.y[:, list(batch)], case.activations, case.cost)
        allowed = allowance(sub, dtype)
        s = rule.step(len(batch), case.y.shape[0])
        local = flat([s * t + 4 * u * np.abs(w) for t, w in zip(allowed.nabla_w, theta[0],
                                                                   strict=True)]
                      + [s * t + 4 * u * np.abs(b) for t, b in zip(allowed.nabla_b, theta[1],
                                                                     strict=True)])
        jacobian = step_jacobian(sub, theta, rule.decay(), s)
        E = np.abs(jacobian) @ E + s * HESSIAN_SLACK * E.sum() + local
    parts = unflat(E, shapes)
    count = len(states[0][0])
    return parts[:count], parts[count:]
