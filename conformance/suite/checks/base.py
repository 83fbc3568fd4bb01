"""What a check is, what a failure says, and the context a check runs in.

A check runs on one network of the battery at a time (``NetworkSpec``); the runner takes its
first failure over the battery's networks (and, with ``--thorough``, Hypothesis' draws). The
implementation's δˡ is read from its ∂C/∂bˡ (BP3), or from ``deltas`` where it exposes them.

Kept whole: what every check uses (its context, its failure, the comparison), as the checks import
it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bpverify.conformance.protocol.adapters import Capabilities, Implementation
from bpverify.conformance.protocol.calls import as_gradient, call_with_limit, check_finite
from bpverify.conformance.protocol.conventions import declaration_hint
from bpverify.conformance.suite.battery import HUGE_BATCH, NetworkSpec
from bpverify.conformance.suite.diagnoses import named
from bpverify.oracles.cases import Case
from bpverify.oracles.rounding import UNIT_ROUNDOFF, Allowance, allowance, relative_factors
from bpverify.reference.backpropagation import BackpropResult, backprop_matrix

Gradient = tuple[list[np.ndarray], list[np.ndarray]]


@dataclass(frozen=True)
class Failure:
    """What a failed check found: equation, book layer, worst entry, both values, diagnosis, and
    the network it failed on."""

    equation: str
    message: str
    layer: int | None = None
    index: tuple[int, ...] | None = None
    expected: float | None = None
    actual: float | None = None
    diagnosis: str | None = None
    network: NetworkSpec | None = None
    example: str | None = None
    """Which example of the network's batch (``example 3 (x zero, y binary)``), where it matters."""

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
        if self.index is not None and self.expected is not None and self.actual is not None:
            expected, got = distinct(self.expected, self.actual)
            text += (f"; worst entry {self.index}: expected {expected}, got {got} (got − expected "
                     f"= {self.actual - self.expected:#.3g}"
                     + (f", rel error {self.relative:.3g})" if self.relative is not None else ")"))
        if self.example is not None:
            text += f", in {self.example}"
        if self.network is not None:
            text += f" — network: {self.network.describe()}"
        return text


MIN_DIGITS = 4
"""Significant digits a value is printed with at least (more where two values need them)."""


def distinct(expected: float, actual: float) -> tuple[str, str]:
    """Both values with as many significant digits as it takes for them to differ visibly (at
    least MIN_DIGITS; 17 tell any two float64 numbers apart), trailing zeros kept so that the
    two line up digit for digit (0.1448723407 against 0.1448723410, not 0.144872341)."""
    for digits in range(MIN_DIGITS, 18):
        shown = (_digits(expected, digits), _digits(actual, digits))
        if shown[0] != shown[1]:
            return shown
    return shown


def _digits(value: float, digits: int) -> str:
    """``value`` with ``digits`` significant digits, trailing zeros kept, no bare point (4925)."""
    text = f"{value:#.{digits}g}"
    return text[:-1] if text.endswith(".") else text.replace(".e", "e")


class CheckFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def _always(spec: NetworkSpec) -> bool:
    return True


def _nothing_required(caps: Capabilities) -> str | None:
    return None


@dataclass(frozen=True)
class Check:
    """A check with a stable id. ``run`` checks one network; ``applies`` picks the networks it
    runs on (from ``source``: the battery or the planted saturation cases), with ``functions``
    (σ, C) set on each; ``after`` names the checks whose failure blocks this one."""

    id: str
    equation: str
    title: str
    run: Callable[[Context, NetworkSpec], None]
    requires: Callable[[Capabilities], str | None] = _nothing_required
    applies: Callable[[NetworkSpec], bool] = _always
    source: str = "battery"
    functions: tuple[str | None, str | None] = (None, None)
    after: tuple[str, ...] = ("shapes",)
    whole_batch: bool = False
    """The check makes one call per mini-batch, not one per example: the battery's huge batch
    (m past 1024) is within its reach."""

    def networks(self, specs: Sequence[NetworkSpec], native: tuple[str, str] = (
            "sigmoid", "quadratic")) -> list[NetworkSpec]:
        """The networks of ``specs`` this check runs on, with its σ and C: its own
        ``functions``, else the implementation's ``native`` ones."""
        activation, cost = (mine or theirs for mine, theirs in zip(self.functions, native,
                                                                   strict=True))
        chosen = [s.with_functions(activation, cost) for s in specs
                  if self.whole_batch or s.name != HUGE_BATCH]
        return [s for s in chosen if self.applies(s)]


# -- comparing ------------------------------------------------------------------------------------

FLOAT32_HINT = ("agrees to ~1e-7 everywhere: this looks like float32 arithmetic; declare it with "
                "bpverify_capabilities = {'dtype': 'float32'}")


def constant_factor(actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray) -> float | None:
    """r when actual = r·expected in every entry (within the allowance scaled by |r|), else None."""
    if actual.shape != expected.shape or not np.any(np.abs(expected) > allowed):
        return None
    big = np.abs(expected) > 10 * allowed
    if not big.any():
        return None
    r = float(np.median(actual[big] / expected[big]))
    ok = np.abs(actual - r * expected) <= (1 + abs(r)) * allowed + 1e-9 * np.abs(r * expected)
    return r if bool(np.all(ok)) and abs(r - 1.0) > 1e-6 else None


FLOAT32_NORMWISE = (1e-9, 1e-5)
"""Normwise relative errors typical of float32 arithmetic (u = 6e-8, times small growth)."""


def looks_like_float32(actual: np.ndarray, expected: np.ndarray, ratio: np.ndarray) -> bool:
    """Every entry within the float32 allowance (the float64 one scaled by u₃₂/u₆₄), with a
    normwise error of float32 size (the caller knows the values are float32 numbers: a wrong
    constant such as e ≈ 2.71828 in float64 is small too, but its values are not)."""
    scale = float(np.max(np.abs(expected)))
    normwise = float(np.max(np.abs(actual - expected))) / scale if scale > 0 else np.inf
    return bool(np.all(
        ratio <= UNIT_ROUNDOFF["float32"] / UNIT_ROUNDOFF["float64"])) and (
        FLOAT32_NORMWISE[0] <= normwise <= FLOAT32_NORMWISE[1])


def mismatch(actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray, equation: str,
             quantity: str, layer: int, float32_hint: bool | None = None,
             candidates: Mapping[str, np.ndarray] | None = None) -> Failure | None:
    """None when every entry is within its allowance; else a Failure at the worst entry (by excess
    ratio), with a diagnosis when the values match one of ``candidates`` (wrong formulas), or
    float32 rounding when within the float32 allowance and ``float32_hint`` is True (declared
    float64, every value returned a float32 number) or False and these values are float32
    numbers (None: no such hint; declared float32)."""
    if actual.shape != expected.shape:
        return Failure(equation, f"{quantity} at layer {layer} has shape {actual.shape}, expected "
                       f"{expected.shape}", layer, diagnosis=shape_diagnosis(actual.shape,
                                                                            expected.shape))
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN ratios are judged below
        ratio = np.abs(actual - expected) / np.maximum(allowed, np.finfo(np.float64).tiny)
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    if np.all(ratio <= 1.0):
        return None
    index = tuple(int(k) for k in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    diagnosis = named_variant(actual, expected, allowed, candidates or {})
    if diagnosis is None and float32_hint is not None and (float32_hint or np.array_equal(
            actual.astype(np.float32), actual)) and looks_like_float32(actual, expected, ratio):
        diagnosis = FLOAT32_HINT
    return Failure(equation, f"{quantity} at layer {layer} is out of tolerance "
                   f"({int(np.sum(ratio > 1))} of {ratio.size} entries)", layer, index,
                   float(expected[index]), float(actual[index]), diagnosis)


def named_variant(actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray,
                  candidates: Mapping[str, np.ndarray]) -> str | None:
    """The first of ``candidates`` (wrong formulas, by name) whose value ``actual`` matches at
    every entry (within its allowance and VARIANT_MATCH of its size); never one that right code
    gives too, being as close to ``expected`` everywhere (σ′ applied twice where σ′ = 1, an
    extra ⊙ σ′ under the quadratic cost, BP1's right side at l = L, where they are right): it
    cannot be what made a check fail."""
    for name, alternative in candidates.items():
        near = allowed + VARIANT_MATCH * np.abs(alternative)
        if alternative.shape == actual.shape and np.all(np.abs(actual - alternative) <= near) \
                and not np.all(np.abs(alternative - expected) <= near):
            return name
    return None


VARIANT_MATCH = 1e-9
"""Relative closeness beyond the allowance at which a value is taken to be a wrong formula's:
the formula is evaluated in float64 by other operations than the implementation's (1e-9 is far
above their rounding and far below any real difference between two formulas)."""


def compare(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray],
            allowed: Sequence[np.ndarray], equation: str, quantity: str, layers: Sequence[int],
            float32_hint: bool | None = None,
            candidates: Callable[[int], Mapping[str, np.ndarray]] | None = None) -> None:
    """``mismatch`` layer by layer; CheckFailed at the first layer that has one (the candidates
    of a layer are computed only where it fails)."""
    for a, e, tol, layer in zip(actual, expected, allowed, layers, strict=True):
        if mismatch(a, e, tol, equation, quantity, layer, float32_hint) is None:
            continue
        found = mismatch(a, e, tol, equation, quantity, layer, float32_hint,
                         candidates(layer) if candidates else None)
        assert found is not None
        raise CheckFailed(found)


def fixed(candidates: Mapping[str, np.ndarray]) -> Callable[[int], Mapping[str, np.ndarray]]:
    """The same ``candidates`` for every layer ``compare`` looks at."""
    return lambda layer: candidates


def shape_diagnosis(got: tuple[int, ...], expected: tuple[int, ...]) -> str | None:
    if tuple(reversed(got)) == expected and got != expected:
        return "transposed: aˡ⁻¹(δˡ)ᵀ instead of δˡ(aˡ⁻¹)ᵀ" if len(got) == 2 else "transposed"
    if got == () and expected == (1, 1):
        return "a scalar for a layer of one neuron: keep the (n, 1) column shape"
    if got in ((), (1,), (1, 1)):
        return "summed over the neurons of the layer instead of kept per neuron"
    if len(got) == 1 and (got[0], 1) == expected:
        return "a 1-D array: keep the column shape (n, 1), e.g. with keepdims=True"
    return None


def weight_shape_diagnosis(got: tuple[int, ...], weights: Sequence[np.ndarray],
                           index: int) -> str | None:
    """What shape of ∂C/∂wˡ (weights[index], (nₗ, nₗ₋₁)) a BP4 with a wrong factor has: (nₗ, nₗ)
    for δˡ(aˡ)ᵀ, (nₗ₊₁, nₗ) for δˡ⁺¹(aˡ)ᵀ, (nₗ₋₁, nₗ) transposed; each named where the shape
    is its (both where two coincide), else ``shape_diagnosis``'s reading (never "summed over
    the neurons" for a square (1, 1): that is δˡ(aˡ)ᵀ at a layer of one neuron)."""
    n_l, n_before = weights[index].shape
    found = []
    if got == (n_before, n_l):
        found.append("transposed: " + named("BP4", "aˡ⁻¹(δˡ)ᵀ instead of δˡ(aˡ⁻¹)ᵀ"))
    if got == (n_l, n_l):
        found.append(named("BP4", "aˡ instead of aˡ⁻¹") + " has shape (nₗ, nₗ)")
    if index + 1 < len(weights) and got == (weights[index + 1].shape[0], n_l):
        found.append(named("BP4", "off by one layer: δˡ⁺¹(aˡ)ᵀ") + " has shape (nₗ₊₁, nₗ)")
    if found:
        return "; or ".join(found)
    return shape_diagnosis(got, (n_l, n_before))


def check_shapes(nabla_b: Sequence[np.ndarray], nabla_w: Sequence[np.ndarray], case: Case,
                 dtype: str | None = None) -> None:
    """∂C/∂bˡ must have shape (nₗ, 1) (BP3) and ∂C/∂wˡ shape (nₗ, nₗ₋₁) (BP4), both of the
    declared ``dtype`` when one is given; the diagnosis names a declaration that would fit."""
    weight_shapes = [w.shape for w in case.weights]
    bias_shapes = [(w.shape[0], 1) for w in case.weights]
    declaration = declaration_hint([*(b.shape for b in nabla_b), *(w.shape for w in nabla_w)],
                                   weight_shapes, bias_shapes)
    for i, (gb, gw, w) in enumerate(zip(nabla_b, nabla_w, case.weights, strict=True)):
        layer = i + 2
        if gb.shape != (w.shape[0], 1):
            raise CheckFailed(Failure("BP3", f"∂C/∂b for layer {layer} has shape {gb.shape}, "
                                      f"expected {(w.shape[0], 1)} = (n_{layer}, 1)", layer,
                                      diagnosis=declaration or shape_diagnosis(
                                          gb.shape, (w.shape[0], 1))))
        if gw.shape != w.shape:
            raise CheckFailed(Failure("BP4", f"∂C/∂w for layer {layer} has shape {gw.shape}, "
                                      f"expected {w.shape} = (n_{layer}, n_{layer - 1})", layer,
                                      diagnosis=declaration or weight_shape_diagnosis(
                                          gw.shape, case.weights, i)))
        for name, array in (("∂C/∂b", gb), ("∂C/∂w", gw)):
            if dtype is not None and array.dtype != np.dtype(dtype):
                raise CheckFailed(Failure(
                    "BP3/BP4", f"{name} for layer {layer} has dtype {array.dtype}, expected "
                    f"{dtype} (the dtype the implementation declares)", layer,
                    diagnosis=f"compute in {dtype}, or declare the dtype you compute in: "
                              f"bpverify_capabilities = {{'dtype': '{array.dtype}'}}"
                    if array.dtype.kind == "f" else "return real floating arrays"))


PROBE_COLUMNS = 10
"""The equations are checked on each of a network's first examples, up to this many: at least one
of each kind the battery draws (``examples.py``: nine kinds of input, up to five of target)."""


def probe_columns(spec: NetworkSpec) -> range:
    return range(min(spec.m, PROBE_COLUMNS))


def over_examples(spec: NetworkSpec, check: Callable[[int], None]) -> None:
    """``check(j)`` for each probed example j; on failures, the one reported is the first that
    has a diagnosis (an example of tiny gradient can fail without one where the others say
    why), else the first; it names the example (of a batch of more than one)."""
    failures = []
    for j in probe_columns(spec):
        try:
            check(j)
        except CheckFailed as failed:
            example = None if spec.m == 1 and spec.examples == "plain" else spec.example(j)
            failures.append(replace(failed.failure, example=example))
    if failures:
        raise CheckFailed(next((f for f in failures if f.diagnosis), failures[0]))


# -- the context ----------------------------------------------------------------------------------

@dataclass
class Context:
    """One run against one implementation: its cases in its dtype, and cached answers."""

    impl: Implementation
    seed: int = 0
    seconds: float = 10.0
    _cache: dict[Any, Any] = field(default_factory=dict)

    float32_values: bool = True
    """Every value backprop(x, y) has returned so far was a float32 number."""

    @property
    def dtype(self) -> str:
        return self.impl.capabilities.dtype

    @property
    def float32_hint(self) -> bool | None:
        """For ``mismatch``: None when declared float32; True when declared float64 yet every
        value returned so far was a float32 number; False otherwise (look at the values)."""
        return None if self.dtype != "float64" else self.float32_values

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key for this implementation's run (a value of the network)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def case(self, spec: NetworkSpec) -> Case:
        """The network with its values rounded to the implementation's dtype, so that both sides
        see the same numbers."""
        return self.memo(("case", spec), lambda: rounded(spec.case(), self.dtype))

    def arrays(self, case: Case) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray,
                                          np.ndarray]:
        """Fresh copies in the implementation's dtype, so nothing it does can reach our case."""
        dt = np.dtype(self.dtype)
        return ([w.astype(dt) for w in case.weights], [b.astype(dt) for b in case.biases],
                case.x.astype(dt), case.y.astype(dt))

    def reference(self, spec: NetworkSpec) -> BackpropResult:
        def compute() -> BackpropResult:
            c = self.case(spec)
            return backprop_matrix(c.weights, c.biases, c.x, c.y, c.activations, c.cost)
        return self.memo(("reference", spec), compute)

    def allowance(self, spec: NetworkSpec) -> Allowance:
        return self.memo(("allowance", spec), lambda: allowance(self.case(spec), self.dtype))

    def kappa(self, spec: NetworkSpec, column: int) -> float:
        """SAFETY·κ of ``rounding`` for one example, for relations that build their magnitudes
        themselves."""
        return float(self.memo(("kappa", spec), lambda: relative_factors(
            self.case(spec), self.dtype))[column])

    def gradient(self, spec: NetworkSpec, column: int | None) -> Gradient:
        """The implementation's (∂C/∂b, ∂C/∂w) for one column, or summed over all columns by
        calling it once per example; cached, shapes and finiteness checked."""
        def one() -> Gradient:
            assert column is not None
            w, b, x, y = self.arrays(self.case(spec))
            return self.call_gradient(w, b, x[:, column:column + 1], y[:, column:column + 1], spec)

        def summed() -> Gradient:
            each = [self.gradient(spec, j) for j in range(spec.m)]
            return ([sum(layer) for layer in zip(*(g[0] for g in each), strict=True)],
                    [sum(layer) for layer in zip(*(g[1] for g in each), strict=True)])
        return self.memo(("gradient", spec, column), one if column is not None else summed)

    def call_gradient(self, w: list[np.ndarray], b: list[np.ndarray], x: np.ndarray,
                      y: np.ndarray, spec: NetworkSpec) -> Gradient:
        what = self.impl.call_name("backprop(x, y)")
        value = call_with_limit(what, self.impl.gradient, w, b, x, y, spec.activation, spec.cost,
                                seconds=self.seconds)
        case = self.case(spec)
        raw_b, raw_w = as_gradient(value, what, [wt.shape for wt in case.weights], copy=False)
        check_shapes(raw_b, raw_w, case, self.dtype)
        self.float32_values = self.float32_values and all(
            np.array_equal(a.astype(np.float32), a) for a in (*raw_b, *raw_w))
        nabla_b = [np.array(a, dtype=np.float64) for a in raw_b]
        nabla_w = [np.array(a, dtype=np.float64) for a in raw_w]
        check_finite(nabla_b, "∂C/∂b", what)
        check_finite(nabla_w, "∂C/∂w", what)
        return nabla_b, nabla_w

    def own_deltas(self, spec: NetworkSpec, column: int) -> list[np.ndarray]:
        """The implementation's δˡ for one example: its ``deltas`` if exposed, else read from
        its gradient (``read_deltas``)."""
        if not self.impl.capabilities.exposes_delta:
            return self.read_deltas(spec, column).deltas

        def compute() -> list[np.ndarray]:
            w, b, x, y = self.arrays(self.case(spec))
            what = self.impl.call_name("deltas(x, y)")
            value = call_with_limit(what, self.impl.deltas, w, b, x[:, column:column + 1],
                                    y[:, column:column + 1], spec.activation, spec.cost,
                                    seconds=self.seconds)
            return [np.asarray(d, dtype=np.float64) for d in value]
        return self.memo(("deltas", spec, column), compute)


    def read_deltas(self, spec: NetworkSpec, column: int) -> ReadDeltas:
        """δˡ read from the implementation's gradient for one example, where it does not expose it:
        from ∂C/∂bˡ by BP3, and from ∂C/∂wˡ by BP4 (δˡⱼ = ∂C/∂wˡⱼₖ / aˡ⁻¹ₖ at the largest
        |aˡ⁻¹ₖ|). The two agree unless BP3 or BP4 is broken; where they differ, the one that
        agrees with the reference's δˡ is taken, so a BP3 bug is not blamed on BP1, BP2, BP4."""
        def compute() -> ReadDeltas:
            nabla_b, nabla_w = self.gradient(spec, column)
            ref, allowed = self.reference(spec), self.allowance(spec)
            chosen, bp3_broken = [], []
            for i, (gb, gw) in enumerate(zip(nabla_b, nabla_w, strict=True)):
                a_prev = ref.activations[i][:, column]
                k = int(np.argmax(np.abs(a_prev)))
                exact = ref.deltas[i][:, column:column + 1]
                tol = 2 * allowed.deltas[i][:, column:column + 1]
                from_w = gw[:, k:k + 1] / a_prev[k] if a_prev[k] != 0 else None
                if from_w is not None and not _close(gb, exact, tol) and _close(
                        from_w, exact, tol + np.abs(exact) * allowed.activations[i][k, column]
                        / abs(a_prev[k])):
                    chosen.append(from_w)
                    bp3_broken.append(i + 2)
                else:
                    chosen.append(gb)
            return ReadDeltas(chosen, bp3_broken)
        return self.memo(("read-deltas", spec, column), compute)


@dataclass(frozen=True)
class ReadDeltas:
    """δˡ per layer 2..L as read from a gradient, and the layers whose ∂C/∂bˡ is not δˡ."""

    deltas: list[np.ndarray]
    bp3_broken: list[int]


def _close(actual: np.ndarray, expected: np.ndarray, tolerance: np.ndarray) -> bool:
    return actual.shape == expected.shape and bool(np.all(np.abs(actual - expected) <= tolerance))


def rounded(case: Case, dtype: str) -> Case:
    """The case with every value rounded to ``dtype`` (and held in float64)."""
    if dtype == "float64":
        return case
    dt = np.dtype(dtype)

    def r(a: np.ndarray) -> np.ndarray:
        return a.astype(dt).astype(np.float64)
    return Case(tuple(r(w) for w in case.weights), tuple(r(b) for b in case.biases), r(case.x),
                r(case.y), case.activations, case.cost, case.seed, case.label)


def needs(flag: str, why: str) -> Callable[[Capabilities], str | None]:
    return lambda caps: None if getattr(caps, flag) else f"needs capability {flag}: {why}"
