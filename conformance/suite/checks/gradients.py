"""The whole gradient: against the reference, against the complex step, in saturation, and for
each activation and cost an implementation declares."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpverify.conformance.protocol.calls import NonFinite
from bpverify.conformance.suite.battery import NetworkSpec
from bpverify.conformance.suite.checks.base import CheckFailed, Context, Failure, compare, constant_factor
from bpverify.oracles.cases import layer_names
from bpverify.reference.numerical import numerical_network_gradient

COMPLEX_STEP_MAX_PARAMETERS = 400
"""The complex step costs one forward pass per parameter: it runs on the battery's small networks."""


def _against(ctx: Context, spec: NetworkSpec, nabla_b: list[np.ndarray],
             nabla_w: list[np.ndarray], equation: str = "gradient") -> None:
    """The summed ∂C/∂b, ∂C/∂w against ``nabla_b``, ``nabla_w``, entry by entry, with a hint when
    a layer is off by one constant factor (a mean instead of a sum, a factor 2 in the cost)."""
    allowed = ctx.allowance(spec)
    got_b, got_w = ctx.gradient(spec, None)
    layers = range(2, spec.L + 1)
    compare(got_b, nabla_b, allowed.nabla_b, equation, "∂C/∂b", layers, ctx.float32_hint,
            scaled(spec, got_b, nabla_b, allowed.nabla_b))
    compare(got_w, nabla_w, allowed.nabla_w, equation, "∂C/∂w", layers, ctx.float32_hint,
            scaled(spec, got_w, nabla_w, allowed.nabla_w))


def scaled(spec: NetworkSpec, actual: list[np.ndarray], expected: list[np.ndarray],
           allowed: list[np.ndarray]) -> Callable[[int], dict[str, np.ndarray]]:
    """Candidates for ``compare``: r·expected, when the layer is off by a constant factor r that
    means something (``factor_hint``)."""
    def candidates(layer: int) -> dict[str, np.ndarray]:
        i = layer - 2
        r = constant_factor(actual[i], expected[i], allowed[i])
        meaning = None if r is None else factor_hint(r, 1, spec.sizes[-1], actual[i].size)
        return {} if meaning is None else {meaning: r * expected[i]}
    return candidates


def factor_hint(r: float, m: int, n_out: int, entries: int) -> str | None:
    """What a constant factor r between a gradient of a batch of m and the expected Σₓ∇Cₓ
    suggests, with the declaration that would fit; a factor with no name only when enough
    entries share it to make it a pattern."""
    if r == 0.0:
        return "every entry is 0: this gradient is never computed (left at its initial zeros)"
    names = [(-1.0, "−1: the sign flipped"),
             (2.0, "2: the ½ of the quadratic cost left out (if your loss is Σ(a − y)² on "
                   "purpose, declare quadratic='full')")]
    if m > 1:
        names += [(1 / m, f"1/m = 1/{m}: averaged over the mini-batch instead of summed (a "
                          "loss averaged over the batch? declare reduction='mean')"),
                  (2 / m, f"2/m = 2/{m}: the mean of (a − y)² over the batch? declare "
                          "reduction='mean', quadratic='full'")]
    if m * n_out > 1:
        names += [(1 / (m * n_out), f"1/(m·n_L) = 1/{m * n_out}: a loss averaged over every "
                                    "entry? declare reduction='mean_all'"),
                  (2 / (m * n_out), f"2/(m·n_L) = 2/{m * n_out}: the mean of (a − y)² over "
                                    "every entry, as torch's MSELoss? declare "
                                    "reduction='mean_all', quadratic='full'")]
    where = f" (in a call on one example, with n_L = {n_out})" if m == 1 else (
        f" (in a call on m = {m} examples, with n_L = {n_out})")
    for value, meaning in names:
        if abs(r - value) <= 1e-6 * abs(value):
            return f"every entry is exactly {meaning}{where}"
    if entries >= 4:
        return f"every entry is exactly {r:.6g} × expected: a constant factor in the cost or step"
    return None


def check_gradient_reference(ctx: Context, spec: NetworkSpec) -> None:
    """Every entry of Σₓ∇Cₓ (backprop called per example) against the reference."""
    ref = ctx.reference(spec)
    _against(ctx, spec, ref.nabla_b, ref.nabla_w)


def small_and_smooth(spec: NetworkSpec) -> bool:
    parameters = sum(n * p + n for p, n in zip(spec.sizes[:-1], spec.sizes[1:], strict=True))
    return parameters <= COMPLEX_STEP_MAX_PARAMETERS and spec.m <= 8


def check_gradient_complex_step(ctx: Context, spec: NetworkSpec) -> None:
    """Every entry of Σₓ∇Cₓ against the complex step of C, which never sees BP1–BP4."""
    case = ctx.case(spec)

    def compute() -> tuple[list[np.ndarray], list[np.ndarray]]:
        b, w, _ = numerical_network_gradient(list(case.weights), list(case.biases), case.x,
                                             case.y, case.activations, case.cost, "complex")
        return b, w
    exact_b, exact_w = ctx._memo(("complex", spec), compute)
    _against(ctx, spec, exact_b, exact_w)


SATURATING = ("sigmoid", "tanh")
"""The σ whose σ′ vanishes in both tails: where the saturation check means something."""


def saturates(spec: NetworkSpec) -> bool:
    """Planted saturation in a hidden layer of a saturating σ; in the output layer only with a
    cost that stays finite there (the cross-entropy of an output σ(−750) = 0 is infinite; its
    δᴸ = a − y is tested elsewhere)."""
    names = layer_names(spec.activation, spec.L)
    if spec.name == "saturated-output":
        return names[-1] in SATURATING and spec.cost == "quadratic"
    return names[0] in SATURATING


def check_saturation(ctx: Context, spec: NetworkSpec) -> None:
    """Accurate where σ saturates (|z| ≥ 12, with σ′ of 1e-6) and finite where z < −709."""
    for column in range(spec.m):
        try:
            ctx.gradient(spec, column)
        except NonFinite as bad:
            raise CheckFailed(_non_finite_failure(ctx, spec, bad, column)) from None
    ref = ctx.reference(spec)
    _against(ctx, spec, ref.nabla_b, ref.nabla_w, "saturation")


def _non_finite_failure(ctx: Context, spec: NetworkSpec, bad: NonFinite, column: int) -> Failure:
    """Name the layer and the z where the NaN or inf arose, and the extreme z of the network."""
    zs = [z[:, column] for z in ctx.reference(spec).zs]
    row = bad.index[0]
    z_there = float(zs[bad.layer - 2][row])
    message = (f"{bad.quantity} at layer {bad.layer}, index {bad.index}, is not finite; there "
               f"z^{bad.layer}_{row} = {z_there:.6g} (example {column})")
    signs = {np.sign(z_there)} if abs(z_there) > 709 else set()
    if not signs:  # the NaN came from another layer (the forward pass): name the extreme z
        beyond = [(float(v), l) for l, z in enumerate(zs, start=2) for v in z if abs(v) > 709]
        signs = {np.sign(v) for v, _ in beyond}
        message += "; beyond ±709 the network has " + ", ".join(
            f"z = {v:.6g} at layer {l}" for v, l in beyond)
    overflow = {1.0: "exp(+z), which overflows for z > 709 (e^z/(1 + e^z) is inf/inf = NaN)",
                -1.0: "exp(−z), which overflows for z < −709 (e^(−z)/(1 + e^(−z))² is inf/inf "
                      "= NaN)"}
    return Failure("saturation", message, bad.layer, diagnosis=(
        "σ or σ′ evaluated through " + " or through ".join(overflow[s] for s in sorted(signs)
                                                            if s in overflow)
        + "; write it with e^(−|z|) ≤ 1"))
