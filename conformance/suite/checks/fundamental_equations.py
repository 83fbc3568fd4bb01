"""The equations, each checked on its own (feedforward, BP1–BP4).

Each equation is fed the reference's upstream values and the implementation's own δ, so one bug
fails the equation it is in and not every check:

  BP1  δᴸ                  against ∇ₐC(aᴸ) ⊙ σ′(zᴸ), aᴸ and zᴸ from the reference
  BP2  δˡ, l = L−1..2      against ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ), δˡ⁺¹ the implementation's own
  BP3  ∂C/∂bˡ              against the exposed δˡ
  BP4  ∂C/∂wˡ              against δˡ (aˡ⁻¹)ᵀ, δˡ its own, aˡ⁻¹ from the reference
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bpverify.conformance.protocol.calls import ImplementationFault, call_with_limit
from bpverify.conformance.suite.battery import NetworkSpec
from bpverify.conformance.suite.checks.base import CheckFailed, Context, Failure, compare, fixed
from bpverify.reference.activations import Softmax
from bpverify.reference.equations import bp1_output_error, feedforward_layers


def check_shapes(ctx: Context, spec: NetworkSpec) -> None:
    """backprop(x, y) returns lists of L − 1 finite arrays in the book's shapes (BP3, BP4); when
    it does not, or crashes, the conventions under which it would be right are named."""
    try:
        ctx.gradient(spec, 0)
    except (CheckFailed, ImplementationFault) as problem:
        try:
            fits = call_with_limit("trying other conventions", ctx.impl.declarations_that_fit,
                                   ctx.seconds, seconds=10 * ctx.seconds)
        except ImplementationFault:
            fits = None
        if not isinstance(fits, str):
            raise
        failure = problem.failure if isinstance(problem, CheckFailed) else Failure(
            "BP3/BP4", str(problem))
        raise CheckFailed(replace(failure, diagnosis=fits)) from None


def check_forward(ctx: Context, spec: NetworkSpec) -> None:
    """aᴸ = σ(wᴸσ(…) + bᴸ) for one example."""
    case = ctx.case(spec)
    w, b, x, _ = ctx.arrays(case)
    what = ctx.impl.call_name("feedforward(a)")
    got = np.asarray(call_with_limit(what, ctx.impl.feedforward, w, b, x[:, :1],
                                     seconds=ctx.seconds), dtype=np.float64)
    a_L = ctx.reference(spec).activations[-1][:, :1]
    zero = [np.zeros_like(bias) for bias in case.biases]
    without_bias = feedforward_layers(case.weights, zero, case.x[:, :1], case.activations)[1][-1]
    tol = ctx.kappa(spec) * (1.0 + np.abs(a_L)) + ctx.allowance(spec).activations[-1][:, :1]
    compare([got], [a_L], [tol], "feedforward", "aᴸ",
            [spec.L], ctx.float32_hint,
            fixed({"the bias left out of zˡ = wˡaˡ⁻¹ + bˡ": without_bias}))


def check_bp1(ctx: Context, spec: NetworkSpec) -> None:
    """δᴸ = ∇ₐC ⊙ σ′(zᴸ), the implementation's δᴸ against the reference's aᴸ and zᴸ."""
    case, ref = ctx.case(spec), ctx.reference(spec)
    z, a, y = ref.zs[-1][:, :1], ref.activations[-1][:, :1], case.y[:, :1]
    act = case.activations[-1]
    expected = bp1_output_error(z, a, y, act, case.cost)
    grad_a = case.cost.gradient(a, y)
    candidates = {}
    if isinstance(act, Softmax):
        candidates["the softmax's Jacobian taken as its diagonal aⱼ(1 − aⱼ), as if it were "
                   "elementwise: δᴸ = ∇ₐC ⊙ a(1 − a)"] = grad_a * a * (1 - a)
        candidates["missing the softmax's Jacobian: δᴸ = ∇ₐC"] = grad_a
        candidates["(aᴸ − y) ⊙ a(1 − a): with softmax and categorical cross-entropy δᴸ = aᴸ − y, "
                   "no σ′ (the softmax is not elementwise)"] = (a - y) * a * (1 - a)
        candidates["sign flipped: y − a instead of a − y"] = -expected
    else:
        if case.cost.name == "cross-entropy":
            candidates["σ′ multiplied into the cross-entropy δᴸ: with this cost δᴸ = aᴸ − y "
                       "(σ′ cancels); (aᴸ − y) ⊙ σ′(zᴸ) is the quadratic cost's δᴸ"] = (
                (a - y) * act.fprime(z))
        candidates.update({
            "missing σ′: δᴸ = ∇ₐC instead of ∇ₐC ⊙ σ′(zᴸ)": grad_a,
            "sign flipped: y − a instead of a − y": -expected,
            "σ(z) in place of σ′(z)": grad_a * act.f(z),
            "σ′ applied twice": expected * act.fprime(z),
        })
    if case.cost.name == "quadratic":
        candidates["missing ½ of the quadratic cost: ∇ₐC = 2(a − y)"] = 2 * expected
    compare([ctx.own_deltas(spec, 0)[-1]], [expected], [ctx.allowance(spec).deltas[-1][:, :1]],
            "BP1", "δᴸ", [spec.L], ctx.float32_hint, fixed(candidates))


def check_bp2(ctx: Context, spec: NetworkSpec) -> None:
    """δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ) for l = L − 1 down to 2, δˡ⁺¹ the implementation's own."""
    case, ref = ctx.case(spec), ctx.reference(spec)
    own = ctx.own_deltas(spec, 0)
    kappa, sigma_prime_error = ctx.kappa(spec), ctx.allowance(spec).sigma_prime
    for i in range(len(own) - 2, -1, -1):  # layer l = i + 2, from L − 1 down to 2
        act, z, w_next = case.activations[i], ref.zs[i][:, :1], case.weights[i + 1]
        sp = act.fprime(z)
        back = w_next.T @ own[i + 1]
        tol = (kappa * np.abs(sp) + sigma_prime_error[i][:, :1]) * (
            np.abs(w_next).T @ np.abs(own[i + 1]))
        candidates = {"missing σ′: δˡ = (wˡ⁺¹)ᵀδˡ⁺¹": back, "sign flipped": -back * sp,
                      "σ(zˡ) in place of σ′(zˡ)": back * act.f(z),
                      "δˡ left at zero: the backward loop stops before this layer":
                          np.zeros_like(back)}
        if w_next.shape[0] == w_next.shape[1]:
            candidates["wˡ⁺¹ instead of (wˡ⁺¹)ᵀ"] = (w_next @ own[i + 1]) * sp
        if ref.zs[i + 1].shape[0] == z.shape[0] and not isinstance(case.activations[i + 1],
                                                                     Softmax):
            candidates["σ′(zˡ⁺¹) instead of σ′(zˡ)"] = back * case.activations[i + 1].fprime(
                ref.zs[i + 1][:, :1])
        compare([own[i]], [back * sp], [tol], "BP2", "δˡ", [i + 2], ctx.float32_hint,
                fixed(candidates))


def check_bp3(ctx: Context, spec: NetworkSpec) -> None:
    """∂C/∂bˡⱼ = δˡⱼ: against the δˡ the implementation exposes, or else against δˡ read from its
    ∂C/∂wˡ by BP4 where that one agrees with the reference and ∂C/∂bˡ does not."""
    nabla_b = ctx.gradient(spec, 0)[0]
    if not ctx.impl.capabilities.exposes_delta:
        read = ctx.read_deltas(spec, 0)
        for layer in read.bp3_broken[::-1]:  # from layer L down, as backprop runs
            i = layer - 2
            delta, act = read.deltas[i], ctx.case(spec).activations[i]
            candidates = {} if isinstance(act, Softmax) else {
                "σ′ applied once more: ∂C/∂b = δ ⊙ σ′(z)":
                    delta * act.fprime(ctx.reference(spec).zs[i][:, :1])}
            compare([nabla_b[i]], [delta], [ctx.allowance(spec).deltas[i][:, :1]], "BP3",
                    "∂C/∂b (δˡ read from ∂C/∂wˡ)", [layer], ctx.float32_hint,
                    fixed(candidates))
        return
    deltas = ctx.own_deltas(spec, 0)
    compare(nabla_b, deltas, [ctx.kappa(spec) * np.abs(d) for d in deltas], "BP3", "∂C/∂b",
            range(2, spec.L + 1), ctx.float32_hint)


def check_bp4(ctx: Context, spec: NetworkSpec) -> None:
    """∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ, δˡ the implementation's own, aˡ⁻¹ the reference's."""
    ref = ctx.reference(spec)
    own = ctx.own_deltas(spec, 0)
    nabla_w = ctx.gradient(spec, 0)[1]
    acts = [a[:, :1] for a in ref.activations]
    kappa, activation_error = ctx.kappa(spec), ctx.allowance(spec).activations
    for i, (gw, d) in enumerate(zip(nabla_w, own, strict=True)):
        candidates = {"sign flipped": -d @ acts[i].T, "aˡ instead of aˡ⁻¹": d @ acts[i + 1].T}
        if i + 1 < len(own):
            candidates["off by one layer: δˡ⁺¹(aˡ)ᵀ"] = own[i + 1] @ acts[i + 1].T
        if i > 0:
            candidates["the input x instead of aˡ⁻¹"] = d @ acts[0].T
        tol = kappa * np.abs(d) @ np.abs(acts[i]).T + np.abs(d) @ activation_error[i][:, :1].T
        compare([gw], [d @ acts[i].T], [tol], "BP4", "∂C/∂w",
                [i + 2], ctx.float32_hint, fixed(candidates))
