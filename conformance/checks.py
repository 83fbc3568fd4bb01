"""The conformance checks, one per equation or property, each with a stable id.

The suite reads an implementation's δˡ from its ∂C/∂bˡ (BP3), or from ``deltas`` where it
exposes them. Each equation is checked on its own, fed the reference's upstream values and
the implementation's own δ, so that one bug fails the equation it is in and not every check:

  BP1  δᴸ                  against ∇ₐC(aᴸ) ⊙ σ′(zᴸ), aᴸ and zᴸ from the reference
  BP2  δˡ, l = L−1..2      against ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ), δˡ⁺¹ the implementation's own
  BP3  ∂C/∂bˡ              against the exposed δˡ
  BP4  ∂C/∂wˡ              against δˡ (aˡ⁻¹)ᵀ, δˡ its own, aˡ⁻¹ from the reference

Every entry of every tensor is compared, each with its own allowance (``bounds``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpverify.conformance.adapters import Capabilities, Implementation
from bpverify.conformance.bounds import UNIT_ROUNDOFF, Allowance, allowance, relative_factor
from bpverify.conformance.calls import ImplementationFault, as_gradient, call_with_limit, first_non_finite
from bpverify.conformance.cases import Case, named_activation, random_case
from bpverify.reference.backpropagation import backprop_matrix
from bpverify.reference.costs import BUILTIN_COSTS
from bpverify.reference.equations import bp1_output_error, feedforward_layers
from bpverify.reference.numerical import numerical_network_gradient


@dataclass(frozen=True)
class Failure:
    """What a failed check found: equation, book layer, worst entry, both values, diagnosis."""

    equation: str
    message: str
    layer: int | None = None
    index: tuple[int, ...] | None = None
    expected: float | None = None
    actual: float | None = None
    diagnosis: str | None = None

    @property
    def absolute(self) -> float | None:
        if self.expected is None or self.actual is None:
            return None
        return abs(self.actual - self.expected)

    @property
    def relative(self) -> float | None:
        if self.absolute is None or self.expected is None or self.expected == 0:
            return None
        return self.absolute / abs(self.expected)

    def describe(self) -> str:
        text = self.message
        if self.index is not None:
            text += (f"; worst entry {self.index}: expected {self.expected:.10g}, got "
                     f"{self.actual:.10g} (abs error {self.absolute:.3g}"
                     + (f", rel error {self.relative:.3g})" if self.relative is not None else ")"))
        return text


class CheckFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


@dataclass
class Context:
    """One run: the implementation, the cases it is checked on, and cached answers."""

    impl: Implementation
    seed: int = 0
    seconds: float = 10.0
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def dtype(self) -> str:
        return self.impl.capabilities.dtype

    def case(self, which: str, activation: str = "sigmoid", cost: str = "quadratic") -> Case:
        """``small`` ([4, 5, 5, 3], 3 examples) or ``wide`` ([784, 30, 10], 2 examples), with
        parameters rounded to the implementation's dtype so both sides see the same numbers."""
        key = f"case/{which}/{activation}/{cost}"
        if key not in self._cache:
            sizes, m, offset = ([4, 5, 5, 3], 3, 0) if which == "small" else ([784, 30, 10], 2, 1)
            case = random_case(self.seed + offset, sizes, batch_size=m, cost=BUILTIN_COSTS[cost],
                               activations=named_activation(activation))
            self._cache[key] = _rounded(case, self.dtype)
        return self._cache[key]

    def arrays(self, case: Case) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
        """Fresh copies in the implementation's dtype, so nothing it does can reach our case."""
        dt = np.dtype(self.dtype)
        return ([w.astype(dt) for w in case.weights], [b.astype(dt) for b in case.biases],
                case.x.astype(dt), case.y.astype(dt))

    def gradient(self, case: Case, column: int | None, activation: str = "sigmoid",
                 cost: str = "quadratic") -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The implementation's (∂C/∂b, ∂C/∂w) for one column, or summed over all columns by
        calling it once per example; cached, and checked to be finite."""
        key = f"grad/{id(case)}/{column}/{activation}/{cost}"
        if key not in self._cache:
            columns = range(case.batch_size) if column is None else [column]
            total: tuple[list[np.ndarray], list[np.ndarray]] | None = None
            for j in columns:
                w, b, x, y = self.arrays(case)
                got = self.call_gradient(w, b, x[:, j:j + 1], y[:, j:j + 1], activation, cost,
                                         case)
                total = got if total is None else (
                    [p + q for p, q in zip(total[0], got[0], strict=True)],
                    [p + q for p, q in zip(total[1], got[1], strict=True)])
            self._cache[key] = total
        return self._cache[key]

    def call_gradient(self, w: list[np.ndarray], b: list[np.ndarray], x: np.ndarray,
                      y: np.ndarray, activation: str, cost: str, case: Case
                      ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        what = f"{self.impl.name}.backprop(x, y)"
        value = call_with_limit(what, self.impl.gradient, w, b, x, y, activation, cost,
                                seconds=self.seconds)
        nabla_b, nabla_w = as_gradient(value, what, [wt.shape for wt in case.weights])
        check_shapes(nabla_b, nabla_w, case)
        for name, arrays in (("∂C/∂b", nabla_b), ("∂C/∂w", nabla_w)):
            where = first_non_finite(arrays, name)
            if where is not None:
                raise ImplementationFault(f"{what} returned a non-finite value: {where}")
        return nabla_b, nabla_w

    def own_deltas(self, case: Case, column: int) -> list[np.ndarray]:
        """The implementation's δˡ for one example: its ``deltas`` if exposed, else ∂C/∂bˡ (BP3)."""
        if self.impl.capabilities.exposes_delta:
            w, b, x, y = self.arrays(case)
            what = f"{self.impl.name}.deltas(x, y)"
            value = call_with_limit(what, self.impl.deltas, w, b, x[:, column:column + 1],
                                    y[:, column:column + 1], seconds=self.seconds)
            return [np.asarray(d, dtype=np.float64) for d in value]
        return self.gradient(case, column)[0]


def _rounded(case: Case, dtype: str) -> Case:
    if dtype == "float64":
        return case
    dt = np.dtype(dtype)

    def r(a: np.ndarray) -> np.ndarray:
        return a.astype(dt).astype(np.float64)
    return Case(tuple(r(w) for w in case.weights), tuple(r(b) for b in case.biases), r(case.x),
                r(case.y), case.activations, case.cost, case.seed, case.label)


def check_shapes(nabla_b: Sequence[np.ndarray], nabla_w: Sequence[np.ndarray], case: Case) -> None:
    """∂C/∂bˡ must have shape (nₗ, 1) (BP3) and ∂C/∂wˡ shape (nₗ, nₗ₋₁) (BP4)."""
    for i, (gb, gw, w) in enumerate(zip(nabla_b, nabla_w, case.weights, strict=True)):
        layer = i + 2
        if gb.shape != (w.shape[0], 1):
            raise CheckFailed(Failure("BP3", f"∂C/∂b for layer {layer} has shape {gb.shape}, "
                                      f"expected {(w.shape[0], 1)} = (n_{layer}, 1)", layer,
                                      diagnosis=_shape_diagnosis(gb.shape, (w.shape[0], 1))))
        if gw.shape != w.shape:
            raise CheckFailed(Failure("BP4", f"∂C/∂w for layer {layer} has shape {gw.shape}, "
                                      f"expected {w.shape} = (n_{layer}, n_{layer - 1})", layer,
                                      diagnosis=_shape_diagnosis(gw.shape, w.shape)))


def _shape_diagnosis(got: tuple[int, ...], expected: tuple[int, ...]) -> str | None:
    if tuple(reversed(got)) == expected:
        return "transposed: aˡ⁻¹(δˡ)ᵀ instead of δˡ(aˡ⁻¹)ᵀ" if len(got) == 2 else "transposed"
    if got in ((), (1,), (1, 1)):
        return "summed over the neurons of the layer instead of kept per neuron"
    return None


def compare(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray],
            allowed: Sequence[np.ndarray], equation: str, quantity: str,
            layers: Sequence[int], candidates: Callable[[int], dict[str, np.ndarray]] | None = None
            ) -> None:
    """Every entry within its allowance, or CheckFailed at the worst entry (by excess ratio),
    with a diagnosis when the actual values match one of the ``candidates`` (wrong formulas)."""
    for a, e, tol, layer in zip(actual, expected, allowed, layers, strict=True):
        if a.shape != e.shape:
            raise CheckFailed(Failure(equation, f"{quantity} at layer {layer} has shape {a.shape}, "
                                      f"expected {e.shape}", layer,
                                      diagnosis=_shape_diagnosis(a.shape, e.shape)))
        ratio = np.abs(a - e) / np.maximum(tol, np.finfo(np.float64).tiny)
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        if np.all(ratio <= 1.0):
            continue
        index = tuple(int(k) for k in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
        diagnosis = None
        for name, alternative in (candidates(layer) if candidates else {}).items():
            if alternative.shape == a.shape and np.all(np.abs(a - alternative) <= tol + 1e-9
                                                       * np.abs(alternative)):
                diagnosis = name
                break
        raise CheckFailed(Failure(equation, f"{quantity} at layer {layer} is out of tolerance "
                                  f"({int(np.sum(ratio > 1))} of {ratio.size} entries)", layer,
                                  index, float(e[index]), float(a[index]), diagnosis))


@dataclass(frozen=True)
class Check:
    id: str
    equation: str
    title: str
    run: Callable[[Context], None]
    requires: Callable[[Capabilities], str | None] = lambda caps: None


# -- the checks ---------------------------------------------------------------------------------

def _reference(ctx: Context, case: Case) -> Any:
    key = f"ref/{id(case)}"
    if key not in ctx._cache:
        ctx._cache[key] = backprop_matrix(case.weights, case.biases, case.x, case.y,
                                          case.activations, case.cost)
    return ctx._cache[key]


def _allowance(ctx: Context, case: Case) -> Allowance:
    key = f"allow/{id(case)}"
    if key not in ctx._cache:
        ctx._cache[key] = allowance(case, ctx.dtype)
    return ctx._cache[key]


def _kappa_scale(ctx: Context, case: Case) -> float:
    """SAFETY·κ of ``bounds``, for relations that build their magnitudes themselves; once a case."""
    key = f"kappa/{id(case)}"
    if key not in ctx._cache:
        ctx._cache[key] = relative_factor(case, ctx.dtype)
    return float(ctx._cache[key])


def check_api(ctx: Context) -> None:
    """backprop(x, y) returns lists of L − 1 finite arrays in the book's shapes (BP3, BP4)."""
    ctx.gradient(ctx.case("small"), 0)


def check_forward(ctx: Context) -> None:
    case = ctx.case("small")
    w, b, x, _ = ctx.arrays(case)
    what = f"{ctx.impl.name}.feedforward(a)"
    got = np.asarray(call_with_limit(what, ctx.impl.feedforward, w, b, x[:, :1],
                                     seconds=ctx.seconds), dtype=np.float64)
    a_L = _reference(ctx, case).activations[-1][:, :1]
    tol = _kappa_scale(ctx, case) * (1.0 + np.abs(a_L))
    compare([got], [a_L], [tol], "feedforward", "aᴸ", [len(case.sizes)],
            lambda layer: {"the bias left out of zˡ = wˡaˡ⁻¹ + bˡ": _forward_without_bias(case)})


def _forward_without_bias(case: Case) -> np.ndarray:
    zero = [np.zeros_like(b) for b in case.biases]
    return feedforward_layers(case.weights, zero, case.x[:, :1], case.activations)[1][-1]


def check_bp1(ctx: Context) -> None:
    for which in ("small", "wide"):
        case = ctx.case(which)
        ref, allowed = _reference(ctx, case), _allowance(ctx, case)
        z, a, y = ref.zs[-1][:, :1], ref.activations[-1][:, :1], case.y[:, :1]
        act = case.activations[-1]
        expected = bp1_output_error(z, a, y, act, case.cost)
        grad_a = case.cost.gradient(a, y)
        candidates = {
            "missing σ′: δᴸ = ∇ₐC instead of ∇ₐC ⊙ σ′(zᴸ)": grad_a,
            "sign flipped: y − a instead of a − y": -expected,
            "missing ½ of the quadratic cost: ∇ₐC = 2(a − y)": 2 * expected,
            "σ(z) in place of σ′(z)": grad_a * act.f(z),
            "σ′ applied twice": expected * act.fprime(z),
        }
        L = len(case.sizes)
        compare([ctx.own_deltas(case, 0)[-1]], [expected], [allowed.deltas[-1][:, :1]], "BP1",
                "δᴸ", [L], lambda layer: candidates)


def check_bp2(ctx: Context) -> None:
    for which in ("small", "wide"):
        case = ctx.case(which)
        ref = _reference(ctx, case)
        own = ctx.own_deltas(case, 0)
        scale = _kappa_scale(ctx, case)
        for i in range(len(own) - 2, -1, -1):  # layer l = i + 2, from L − 1 down to 2
            act, z, w_next = case.activations[i], ref.zs[i][:, :1], case.weights[i + 1]
            sp = act.fprime(z)
            back = w_next.T @ own[i + 1]
            expected = back * sp
            tol = scale * (np.abs(w_next).T @ np.abs(own[i + 1])) * (np.abs(sp) + UNIT_ROUNDOFF[
                ctx.dtype])

            def candidates(layer: int, i: int = i, back: np.ndarray = back, sp: np.ndarray = sp,
                           act: Any = act, z: np.ndarray = z) -> dict[str, np.ndarray]:
                found = {"missing σ′: δˡ = (wˡ⁺¹)ᵀδˡ⁺¹": back,
                         "sign flipped": -back * sp,
                         "σ(zˡ) in place of σ′(zˡ)": back * act.f(z)}
                w_next = case.weights[i + 1]
                if w_next.shape[0] == w_next.shape[1]:
                    found["wˡ⁺¹ instead of (wˡ⁺¹)ᵀ"] = (w_next @ own[i + 1]) * sp
                if ref.zs[i + 1][:, :1].shape == z.shape:
                    found["σ′(zˡ⁺¹) instead of σ′(zˡ)"] = back * case.activations[i + 1].fprime(
                        ref.zs[i + 1][:, :1])
                return found

            compare([own[i]], [expected], [tol], "BP2", "δˡ", [i + 2], candidates)


def check_bp3(ctx: Context) -> None:
    case = ctx.case("small")
    nabla_b = ctx.gradient(case, 0)[0]
    deltas = ctx.own_deltas(case, 0)
    tol = [_kappa_scale(ctx, case) * np.abs(d) for d in deltas]
    compare(nabla_b, deltas, tol, "BP3", "∂C/∂b", range(2, len(case.sizes) + 1))


def check_bp4(ctx: Context) -> None:
    for which in ("small", "wide"):
        case = ctx.case(which)
        ref = _reference(ctx, case)
        own = ctx.own_deltas(case, 0)
        nabla_w = ctx.gradient(case, 0)[1]
        acts = [a[:, :1] for a in ref.activations]
        scale = _kappa_scale(ctx, case)
        for i, (gw, d) in enumerate(zip(nabla_w, own, strict=True)):
            expected = d @ acts[i].T
            tol = scale * np.abs(d) @ np.abs(acts[i]).T

            def candidates(layer: int, i: int = i, d: np.ndarray = d) -> dict[str, np.ndarray]:
                found = {"sign flipped": -d @ acts[i].T,
                         "aˡ instead of aˡ⁻¹": d @ acts[i + 1].T}
                if i + 1 < len(own):
                    found["off by one layer: δˡ⁺¹(aˡ)ᵀ"] = own[i + 1] @ acts[i + 1].T
                if i > 0:
                    found["the input x instead of aˡ⁻¹"] = d @ acts[0].T
                return found

            compare([gw], [expected], [tol], "BP4", "∂C/∂w", [i + 2], candidates)


def check_gradient_reference(ctx: Context) -> None:
    for which in ("small", "wide"):
        case = ctx.case(which)
        ref, allowed = _reference(ctx, case), _allowance(ctx, case)
        nabla_b, nabla_w = ctx.gradient(case, None)
        layers = range(2, len(case.sizes) + 1)
        compare(nabla_b, ref.nabla_b, allowed.nabla_b, "gradient", "∂C/∂b", layers)
        compare(nabla_w, ref.nabla_w, allowed.nabla_w, "gradient", "∂C/∂w", layers)


def check_gradient_complex_step(ctx: Context) -> None:
    case = ctx.case("small")
    allowed = _allowance(ctx, case)
    key = f"complex/{id(case)}"
    if key not in ctx._cache:
        ctx._cache[key] = numerical_network_gradient(list(case.weights), list(case.biases),
                                                     case.x, case.y, case.activations,
                                                     case.cost, "complex")
    exact_b, exact_w, _ = ctx._cache[key]
    nabla_b, nabla_w = ctx.gradient(case, None)
    layers = range(2, len(case.sizes) + 1)
    compare(nabla_b, exact_b, allowed.nabla_b, "gradient", "∂C/∂b", layers)
    compare(nabla_w, exact_w, allowed.nabla_w, "gradient", "∂C/∂w", layers)


def check_mini_batch(ctx: Context) -> None:
    case = ctx.case("small")
    w, b, X, Y = ctx.arrays(case)
    what = f"{ctx.impl.name}.backprop_matrix(X, Y)"
    got = as_gradient(call_with_limit(what, ctx.impl.gradient_batch, w, b, X, Y,
                                      seconds=ctx.seconds), what, [wt.shape for wt in case.weights])
    per_example = ctx.gradient(case, None)
    allowed = _allowance(ctx, case)
    m = case.batch_size
    layers = range(2, len(case.sizes) + 1)
    for quantity, g, e, tol in (("Σₓ∂C/∂b", got[0], per_example[0], allowed.nabla_b),
                                ("Σₓ∂C/∂w", got[1], per_example[1], allowed.nabla_w)):
        compare(g, e, tol, "mini-batch", quantity, layers,
                lambda layer: {"averaged over the mini-batch instead of summed":
                                    e[layer - 2] / m})


def check_update(ctx: Context) -> None:
    """w → w − (η/m)Σₓ∂Cₓ/∂w and b likewise, on the mini-batch of the small case."""
    case, eta = ctx.case("small"), 0.75
    w, b, X, Y = ctx.arrays(case)
    pairs = [(X[:, j:j + 1].copy(), Y[:, j:j + 1].copy()) for j in range(case.batch_size)]
    what = f"{ctx.impl.name}.update_mini_batch(mini_batch, eta)"
    value = call_with_limit(what, ctx.impl.update, w, b, pairs, eta, seconds=ctx.seconds)
    new_w, new_b = ([np.asarray(a, dtype=np.float64) for a in part] for part in value)
    ref = _reference(ctx, case)
    m, u = case.batch_size, UNIT_ROUNDOFF[ctx.dtype]
    allowed = _allowance(ctx, case)

    def expected_after(step: float, grads: Sequence[np.ndarray], old: Sequence[np.ndarray]
                       ) -> list[np.ndarray]:
        return [o - step * g for o, g in zip(old, grads, strict=True)]

    sequential = _sequential_update(case, eta)
    layers = range(2, len(case.sizes) + 1)
    for name, got, old, grads, bound, k in (("w", new_w, case.weights, ref.nabla_w,
                                             allowed.nabla_w, 0),
                                            ("b", new_b, case.biases, ref.nabla_b,
                                             allowed.nabla_b, 1)):
        expected = expected_after(eta / m, grads, old)
        tol = [eta / m * t + 4 * u * np.abs(o) for t, o in zip(bound, old, strict=True)]
        compare(got, expected, tol, "update rule", f"{name} after the step", layers,
                lambda layer: {
                    "η instead of η/m": (old[layer - 2] - eta * grads[layer - 2]),
                    "sign flipped: gradient ascent": old[layer - 2] + eta / m * grads[layer - 2],
                    "sequential updates inside the mini-batch": sequential[k][layer - 2],
                    f"{name} not updated": old[layer - 2]})


def _sequential_update(case: Case, eta: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """What updating after every example (a classic bug) gives, by the reference."""
    w, b = list(case.weights), list(case.biases)
    m = case.batch_size
    for j in range(m):
        g = backprop_matrix(w, b, case.x[:, j:j + 1], case.y[:, j:j + 1], case.activations,
                            case.cost)
        w = [p - eta / m * q for p, q in zip(w, g.nabla_w, strict=True)]
        b = [p - eta / m * q for p, q in zip(b, g.nabla_b, strict=True)]
    return w, b


def check_inputs_not_mutated(ctx: Context) -> None:
    case = ctx.case("small")
    w, b, x, y = ctx.arrays(case)
    x, y = x[:, :1].copy(), y[:, :1].copy()
    before = [a.copy() for a in (*w, *b, x, y)]
    ctx.call_gradient(w, b, x, y, "sigmoid", "quadratic", case)
    names = ([f"weights[{i}]" for i in range(len(w))] + [f"biases[{i}]" for i in range(len(b))]
             + ["x", "y"])
    for name, old, new in zip(names, before, (*w, *b, x, y), strict=True):
        if not np.array_equal(old, new):
            raise CheckFailed(Failure("purity", f"backprop(x, y) changed its input {name}",
                                      diagnosis="an in-place operation on an argument"))


def check_deterministic(ctx: Context) -> None:
    case = ctx.case("small")
    runs = []
    for _ in range(2):
        w, b, x, y = ctx.arrays(case)
        runs.append(ctx.call_gradient(w, b, x[:, :1], y[:, :1], "sigmoid", "quadratic", case))
    for name, first, second in (("∂C/∂b", runs[0][0], runs[1][0]),
                                ("∂C/∂w", runs[0][1], runs[1][1])):
        for i, (p, q) in enumerate(zip(first, second, strict=True)):
            if not np.array_equal(p, q):
                index = tuple(int(k) for k in np.argwhere(p != q)[0])
                raise CheckFailed(Failure("determinism", f"two identical calls gave different "
                                          f"{name} at layer {i + 2}", i + 2, index,
                                          float(p[index]), float(q[index]),
                                          "randomness or uninitialised memory in backprop"))


def _variant_check(activation: str, cost: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        case = ctx.case("small", activation, cost)
        ref, allowed = _reference(ctx, case), _allowance(ctx, case)
        nabla_b, nabla_w = ctx.gradient(case, None, activation, cost)
        layers = range(2, len(case.sizes) + 1)
        compare(nabla_b, ref.nabla_b, allowed.nabla_b, "gradient", "∂C/∂b", layers)
        compare(nabla_w, ref.nabla_w, allowed.nabla_w, "gradient", "∂C/∂w", layers)
    return run


def _needs(flag: str, why: str) -> Callable[[Capabilities], str | None]:
    return lambda caps: None if getattr(caps, flag) else f"needs capability {flag}: {why}"


CORE_CHECKS: tuple[Check, ...] = (
    Check("shapes", "BP3/BP4", "∂C/∂b, ∂C/∂w: L − 1 finite arrays in the book's shapes", check_api),
    Check("forward", "feedforward", "aᴸ = σ(wᴸσ(…) + bᴸ)", check_forward,
          _needs("feedforward", "no feedforward(a) method")),
    Check("BP1", "BP1", "δᴸ = ∇ₐC ⊙ σ′(zᴸ)", check_bp1),
    Check("BP2", "BP2", "δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ′(zˡ)", check_bp2),
    Check("BP3", "BP3", "∂C/∂bˡⱼ = δˡⱼ", check_bp3,
          _needs("exposes_delta", "the suite reads δˡ from ∂C/∂bˡ, so BP3 cannot be checked "
                 "on its own")),
    Check("BP4", "BP4", "∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ", check_bp4),
    Check("gradient-vs-reference", "gradient", "every entry of ∇C against the reference",
          check_gradient_reference),
    Check("gradient-vs-complex-step", "gradient", "every entry of ∇C against the complex step",
          check_gradient_complex_step),
    Check("mini-batch", "mini-batch", "backprop_matrix(X, Y) = Σₓ backprop(x, y)", check_mini_batch,
          _needs("mini_batch", "no backprop_matrix(X, Y) method")),
    Check("update-rule", "update rule", "w → w − (η/m)Σₓ∂Cₓ/∂w, b likewise", check_update,
          _needs("update", "no update_mini_batch(mini_batch, eta) method")),
    Check("inputs-not-mutated", "purity", "backprop(x, y) changes none of its inputs",
          check_inputs_not_mutated),
    Check("deterministic", "determinism", "two identical calls give identical results",
          check_deterministic),
)

VARIANT_ACTIVATIONS = ("tanh", "identity", "relu", "softplus")
VARIANT_COSTS = ("cross-entropy",)


def _declared(kind: str, name: str) -> Callable[[Capabilities], str | None]:
    def requires(caps: Capabilities) -> str | None:
        return None if name in getattr(caps, kind) else f"{kind[:-1]} {name} not declared"
    return requires


def all_checks() -> tuple[Check, ...]:
    """The core checks, then one per activation and cost an implementation may declare."""
    variants = [Check(f"activation-{name}", "gradient", f"∇C with σ = {name}",
                      _variant_check(name, "quadratic"), _declared("activations", name))
                for name in VARIANT_ACTIVATIONS]
    variants += [Check(f"cost-{name}", "gradient", f"∇C with C = {name}",
                       _variant_check("sigmoid", name), _declared("costs", name))
                 for name in VARIANT_COSTS]
    return CORE_CHECKS + tuple(variants)
