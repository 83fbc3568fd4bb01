"""The equations, each checked on its own (feedforward, BP1–BP4).

Each equation is fed the reference's upstream values and the implementation's own δ, so one bug
fails the equation it is in and not every check:

  BP1  δᴸ                  against ∇ₐC(aᴸ) ⊙ σ′(zᴸ), aᴸ and zᴸ from the reference
  BP2  δˡ, l = L−1..2      against ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ), δˡ⁺¹ the implementation's own
  BP3  ∂C/∂bˡ              against the exposed δˡ
  BP4  ∂C/∂wˡ              against δˡ (aˡ⁻¹)ᵀ, δˡ its own, aˡ⁻¹ from the reference
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from bpverify.conformance.protocol.calls import ImplementationFault, call_with_limit
from bpverify.conformance.suite.battery import NetworkSpec
from bpverify.conformance.suite.checks.base import (
    CheckFailed,
    Context,
    Failure,
    compare,
    fixed,
    over_examples,
)
from bpverify.conformance.suite.diagnoses import lazily, network_point
from bpverify.reference.equations import bp1_output_error, feedforward_layers


def check_shapes(ctx: Context, spec: NetworkSpec) -> None:
    """backprop(x, y) returns lists of L − 1 finite arrays in the book's shapes (BP3, BP4); when
    it does not, or crashes, the conventions under which it would be right are named."""
    try:
        ctx.gradient(spec, 0)
    except (CheckFailed, ImplementationFault) as problem:
        def probe() -> str | None:  # once a run: it does not depend on the network
            try:
                return call_with_limit("trying other conventions", ctx.impl.declarations_that_fit,
                                       ctx.seconds, seconds=10 * ctx.seconds)
            except ImplementationFault:
                return None
        fits = ctx.memo(("declarations that fit",), probe)
        if not isinstance(fits, str):
            raise
        failure = problem.failure if isinstance(problem, CheckFailed) else Failure(
            "BP3/BP4", str(problem))
        raise CheckFailed(replace(failure, diagnosis=fits)) from None


def check_forward(ctx: Context, spec: NetworkSpec) -> None:
    """aᴸ = σ(wᴸσ(…) + bᴸ) for each probed example."""
    case = ctx.case(spec)
    w, b, x, _ = ctx.arrays(case)
    what = ctx.impl.call_name("feedforward(a)")
    zero = [np.zeros_like(bias) for bias in case.biases]

    def one(j: int) -> None:
        got = np.asarray(call_with_limit(what, ctx.impl.feedforward, w, b, x[:, j:j + 1].copy(),
                                         seconds=ctx.seconds), dtype=np.float64)
        a_L = ctx.reference(spec).activations[-1][:, j:j + 1]
        without_bias = feedforward_layers(case.weights, zero, case.x[:, j:j + 1],
                                          case.activations)[1][-1]
        tol = ctx.kappa(spec, j) * (1.0 + np.abs(a_L)) + ctx.allowance(spec).activations[-1][
            :, j:j + 1]
        compare([got], [a_L], [tol], "feedforward", "aᴸ", [spec.L], ctx.float32_hint,
                fixed({"the bias left out of zˡ = wˡaˡ⁻¹ + bˡ": without_bias}))

    over_examples(spec, one)


def check_bp1(ctx: Context, spec: NetworkSpec) -> None:
    """δᴸ = ∇ₐC ⊙ σ′(zᴸ), the implementation's δᴸ against the reference's aᴸ and zᴸ."""
    over_examples(spec, lambda j: _bp1(ctx, spec, j))


def _bp1(ctx: Context, spec: NetworkSpec, j: int) -> None:
    case, ref = ctx.case(spec), ctx.reference(spec)
    z, a, y = ref.zs[-1][:, j:j + 1], ref.activations[-1][:, j:j + 1], case.y[:, j:j + 1]
    expected = bp1_output_error(z, a, y, case.activations[-1], case.cost)
    own = ctx.own_deltas(spec, j)
    compare([own[-1]], [expected], [ctx.allowance(spec).deltas[-1][:, j:j + 1]], "BP1", "δᴸ",
            [spec.L], ctx.float32_hint, lazily("BP1", lambda layer: network_point(
                case, ref.zs, ref.activations, own, j, layer, expected)))


def check_bp2(ctx: Context, spec: NetworkSpec) -> None:
    """δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ) for l = L − 1 down to 2, δˡ⁺¹ the implementation's own."""
    over_examples(spec, lambda j: _bp2(ctx, spec, j))


def _bp2(ctx: Context, spec: NetworkSpec, j: int) -> None:
    case, ref = ctx.case(spec), ctx.reference(spec)
    own = ctx.own_deltas(spec, j)
    kappa, sigma_prime_error = ctx.kappa(spec, j), ctx.allowance(spec).sigma_prime
    for i in range(len(own) - 2, -1, -1):  # layer l = i + 2, from L − 1 down to 2
        w_next = case.weights[i + 1]
        sp = case.activations[i].fprime(ref.zs[i][:, j:j + 1])
        expected = (w_next.T @ own[i + 1]) * sp
        tol = (kappa * np.abs(sp) + sigma_prime_error[i][:, j:j + 1]) * (
            np.abs(w_next).T @ np.abs(own[i + 1]))
        compare([own[i]], [expected], [tol], "BP2", "δˡ", [i + 2], ctx.float32_hint,
                lazily("BP2", functools.partial(network_point, case, ref.zs, ref.activations,
                                                own, j, expected=expected)))


def check_bp3(ctx: Context, spec: NetworkSpec) -> None:
    """∂C/∂bˡⱼ = δˡⱼ: against the δˡ the implementation exposes, or else against δˡ read from its
    ∂C/∂wˡ by BP4 where that one agrees with the reference and ∂C/∂bˡ does not."""
    over_examples(spec, lambda j: _bp3(ctx, spec, j))


def _bp3(ctx: Context, spec: NetworkSpec, j: int) -> None:
    nabla_b = ctx.gradient(spec, j)[0]
    case, ref = ctx.case(spec), ctx.reference(spec)
    if not ctx.impl.capabilities.exposes_delta:
        read = ctx.read_deltas(spec, j)
        for layer in read.bp3_broken[::-1]:  # from layer L down, as backprop runs
            delta = read.deltas[layer - 2]
            compare([nabla_b[layer - 2]], [delta], [ctx.allowance(spec).deltas[layer - 2][
                :, j:j + 1]], "BP3", "∂C/∂b (δˡ read from ∂C/∂wˡ)", [layer], ctx.float32_hint,
                    lazily("BP3", functools.partial(network_point, case, ref.zs,
                                                    ref.activations, read.deltas, j,
                                                    expected=delta)))
        return
    deltas = ctx.own_deltas(spec, j)
    compare(nabla_b, deltas, [ctx.kappa(spec, j) * np.abs(d) for d in deltas], "BP3", "∂C/∂b",
            range(2, spec.L + 1), ctx.float32_hint)


def check_bp4(ctx: Context, spec: NetworkSpec) -> None:
    """∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ, δˡ the implementation's own, aˡ⁻¹ the reference's."""
    over_examples(spec, lambda j: _bp4(ctx, spec, j))


def _bp4(ctx: Context, spec: NetworkSpec, j: int) -> None:
    case, ref = ctx.case(spec), ctx.reference(spec)
    own = ctx.own_deltas(spec, j)
    nabla_w = ctx.gradient(spec, j)[1]
    kappa, activation_error = ctx.kappa(spec, j), ctx.allowance(spec).activations
    for i, (gw, d) in enumerate(zip(nabla_w, own, strict=True)):
        a_prev = ref.activations[i][:, j:j + 1]
        expected = d @ a_prev.T
        tol = kappa * np.abs(d) @ np.abs(a_prev).T + np.abs(d) @ activation_error[i][
            :, j:j + 1].T
        compare([gw], [expected], [tol], "BP4", "∂C/∂w", [i + 2], ctx.float32_hint,
                lazily("BP4", functools.partial(network_point, case, ref.zs, ref.activations,
                                                own, j, expected=expected)))
