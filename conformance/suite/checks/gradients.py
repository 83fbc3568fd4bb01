"""The whole gradient: against the reference, against the complex step, in saturation, and for
each activation and cost an implementation declares."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpverify.conformance.protocol.calls import NonFinite
from bpverify.conformance.protocol.probing import explain_factor
from bpverify.conformance.suite.battery import SATURATION_SLOTS, NetworkSpec
from bpverify.conformance.suite.checks.base import CheckFailed, Context, Failure, compare, constant_factor
from bpverify.conformance.suite.diagnoses import named
from bpverify.reference.activations import Activation, Softmax, custom
from bpverify.reference.backpropagation import backprop_matrix
from bpverify.reference.costs import BUILTIN_COSTS
from bpverify.reference.numerical import numerical_network_gradient

COMPLEX_STEP_MAX_PARAMETERS = 400
"""The complex step costs one forward pass per parameter: it runs on the battery's small networks."""


def _against(ctx: Context, spec: NetworkSpec, nabla_b: list[np.ndarray],
             nabla_w: list[np.ndarray], equation: str = "gradient") -> None:
    """The summed ∂C/∂b, ∂C/∂w against ``nabla_b``, ``nabla_w``, entry by entry, with a hint when
    the gradient is the one BP1 without σ′(zᴸ) gives, or a layer is off by one constant factor
    (a mean instead of a sum, a factor 2 in the cost)."""
    allowed = ctx.allowance(spec)
    got_b, got_w = ctx.gradient(spec, None)
    layers = range(2, spec.L + 1)
    def slips(part: int) -> Callable[[], dict[str, list[np.ndarray]]]:
        """Computed only where a comparison fails (``compare`` asks for candidates there)."""
        return lambda: {name: gradient[part]
                        for name, gradient in _output_sigma_prime_variants(ctx, spec).items()}
    compare(got_b, nabla_b, allowed.nabla_b, equation, "∂C/∂b", layers, ctx.float32_hint,
            scaled(ctx, spec, got_b, nabla_b, allowed.nabla_b, slips(0)))
    compare(got_w, nabla_w, allowed.nabla_w, equation, "∂C/∂w", layers, ctx.float32_hint,
            scaled(ctx, spec, got_w, nabla_w, allowed.nabla_w, slips(1)))


OUTPUT_SIGMA_PRIME_VARIANTS = {
    "missing σ′(zᴸ)": lambda fprime: (lambda z: 1.0 + 0.0 * z),
    "σ′ applied twice": lambda fprime: (lambda z: fprime(z) * fprime(z)),
}
"""BP1's commonest slips in σ′(zᴸ) (their changes in the catalogue, ``diagnoses``), as the output
layer's σ′ they amount to: each gives a whole gradient the reference computes (every layer's
gradient is computed from δᴸ)."""


def _output_sigma_prime_variants(ctx: Context, spec: NetworkSpec
                                 ) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """The summed gradient an implementation gets with each of BP1's slips in σ′(zᴸ) (the
    reference with the output layer's σ′ replaced); none for a softmax output, whose σ′ is a
    Jacobian. Values where the slip overflows are left non-finite: they match nothing."""
    case = ctx.case(spec)
    output = case.activations[-1]
    if not isinstance(output, Activation):
        return {}

    def compute() -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
        found = {}
        for change, replace in OUTPUT_SIGMA_PRIME_VARIANTS.items():
            slipped = custom(output.f, replace(output.fprime), name=f"{output.name}: {change}")
            with np.errstate(all="ignore"):
                wrong = backprop_matrix(case.weights, case.biases, case.x, case.y,
                                        (*case.activations[:-1], slipped), case.cost)
            change_, formula = named("BP1", change).split(": ", 1)
            found[f"{change_} in BP1: {formula}, and every layer's gradient is computed from it "
                  "(see BP1)"] = (
                wrong.nabla_b, wrong.nabla_w)
        return found
    return ctx.memo(("output σ′ variants", spec), compute)


def scaled(ctx: Context, spec: NetworkSpec, actual: list[np.ndarray], expected: list[np.ndarray],
           allowed: list[np.ndarray],
           slips: Callable[[], dict[str, list[np.ndarray]]] | None = None
           ) -> Callable[[int], dict[str, np.ndarray]]:
    """Candidates for ``compare``: the gradients of BP1's slips in σ′(zᴸ) (``slips()``), then
    r·expected, when the layer is off by a constant factor r that means something
    (``factor_hint``; backprop(x, y) takes one example: m = 1). With one output neuron such a
    slip is itself a constant factor (1/σ′(zᴸ), σ′(zᴸ)): it is named first, as what it is."""
    def candidates(layer: int) -> dict[str, np.ndarray]:
        i = layer - 2
        found = {name: gradient[i] for name, gradient in (slips() if slips else {}).items()}
        r = constant_factor(actual[i], expected[i], allowed[i])
        meaning = None if r is None else factor_hint(ctx, spec, r, 1, actual[i].size)
        return found if meaning is None else {**found, meaning: r * expected[i]}
    return candidates


def factor_hint(ctx: Context, spec: NetworkSpec, r: float, m: int, entries: int,
                quantity: str = "") -> str | None:
    """What a constant factor r between a gradient of a batch of m and the expected Σₓ∇Cₓ
    suggests: the conventions that explain it for the cost in use and the declared ones, as the
    full declaration (``probing.explain_factor``); a factor with no name only when enough
    entries share it to make it a pattern."""
    impl = ctx.impl
    meaning = explain_factor(r, m, spec.sizes[-1], spec.cost, impl.conventions,
                             impl.capabilities, quantity)
    if meaning is not None:
        return meaning
    if entries >= 4:
        return (f"every entry is exactly {r:.6g} × expected"
                + (f" in {quantity} only" if quantity else "")
                + ": a constant factor in the cost or step")
    return None


def check_gradient_reference(ctx: Context, spec: NetworkSpec) -> None:
    """Every entry of Σₓ∇Cₓ (backprop called per example) against the reference."""
    ref = ctx.reference(spec)
    _against(ctx, spec, ref.nabla_b, ref.nabla_w)


def check_declared_function(ctx: Context, spec: NetworkSpec) -> None:
    """∇C with a declared σ or C: against the reference on the battery, and as ``saturation``
    judges it on the planted saturation (each declared σ driven past where exp overflows)."""
    if spec.name in SATURATION_SLOTS:
        check_saturation(ctx, spec)
    else:
        check_gradient_reference(ctx, spec)


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
    exact_b, exact_w = ctx.memo(("complex", spec), compute)
    _against(ctx, spec, exact_b, exact_w)


def saturates(spec: NetworkSpec) -> bool:
    """Planted saturation in every hidden layer, whatever σ; in the output layer whatever σ,
    with the costs whose δᴸ stays finite there (the quadratic one; cross-entropy and its
    categorical form, whose δᴸ = aᴸ − y is finite where C itself is infinite); a cost the
    implementation declared has no saturated output (its ∇ₐC may be infinite there)."""
    return spec.name != "saturated-output" or spec.cost in BUILTIN_COSTS


def check_saturation(ctx: Context, spec: NetworkSpec) -> None:
    """Accurate where σ saturates (|z| ≥ 12, with σ′ of 1e-6; σ and a softmax's probabilities
    rounded to 0 or 1) and finite where exp(±z) overflows (|z| > 709)."""
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
    beyond = [(z_there, bad.layer)] if abs(z_there) > 709 else []
    if not beyond:  # the NaN came from another layer (the forward pass): name the extreme z
        beyond = [(float(v), l) for l, z in enumerate(zs, start=2) for v in z if abs(v) > 709]
        message += "; beyond ±709 the network has " + ", ".join(
            f"z = {v:.6g} at layer {l}" for v, l in beyond)
    case = ctx.case(spec)
    names = {getattr(case.activations[l - 2], "name", "") for _, l in beyond}
    name = names.pop() if len(names) == 1 and names <= set(NAIVE) else "sigmoid"
    signs = ({np.sign(v) for v, _ in beyond} & set(NAIVE[name][0])) or set(NAIVE[name][0])
    output = case.activations[-1]
    if isinstance(output, Softmax) and (bad.layer == spec.L or not signs):
        diagnosis = ("the softmax evaluated as e^z/Σe^z: e^z overflows for z > 709 (inf/inf = "
                     "NaN); subtract max z first, e^(z − max z)/Σe^(z − max z)")
    elif spec.name == "saturated-output" and spec.cost != "quadratic" and (
            output in case.cost.output_error):
        diagnosis = ("δᴸ computed as ∇ₐC ⊙ σ′(zᴸ): ∇ₐC is infinite where aᴸ rounds to 0 or 1 "
                     f"(∞·0 = NaN); with C = {spec.cost} use δᴸ = aᴸ − y, σ′ cancels")
    else:
        naive, fix = NAIVE[name]
        σ = "σ" if name == "sigmoid" else f"σ = {name}"
        diagnosis = (f"{σ} or σ′ evaluated through " + " or through ".join(
            naive[s] for s in sorted(signs)) + f"; {fix}")
    return Failure("saturation", message, bad.layer, diagnosis=diagnosis)


NAIVE: dict[str, tuple[dict[float, str], str]] = {
    "sigmoid": ({1.0: "exp(+z), which overflows for z > 709 (e^z/(1 + e^z) is inf/inf = NaN)",
                 -1.0: "exp(−z), which overflows for z < −709 (e^(−z)/(1 + e^(−z))² is inf/inf "
                       "= NaN)"}, "write it with e^(−|z|) ≤ 1"),
    "tanh": ({1.0: "exp(+z), which overflows for z > 709 ((e^z − e^(−z))/(e^z + e^(−z)) is "
                   "inf/inf = NaN)",
              -1.0: "exp(−z), which overflows for z < −709 ((e^z − e^(−z))/(e^z + e^(−z)) is "
                    "inf/inf = NaN)"}, "use np.tanh, or write it with e^(−2|z|) ≤ 1"),
    "softplus": ({1.0: "exp(+z), which overflows for z > 709 (ln(1 + e^z) is ∞)"},
                 "use np.logaddexp(0, z) = max(z, 0) + ln(1 + e^(−|z|))"),
}
"""Per σ: how its textbook formula overflows past ±709 (by the sign of z), and the way out."""
