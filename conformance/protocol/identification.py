"""Which σ a framework's layer computes, told by what it does to z.

A framework's helper (``frameworks.TorchModule``, ``JaxFunction``) injects chosen values as zˡ
of one layer and reads what reaches the next layer (a ``LayerProbe``); nothing is read from the
names of the modules or functions in between, so ``torch.sigmoid(layer(x))`` in ``forward``, a
custom module and ``torch.nn.Sigmoid()`` all read the same. This module asks the questions:

1. *Elementwise?* The same z values, packed into batches of two sizes, in other orders and with
   other inputs x, must give the same aˡ each (a softmax, a normalisation, dropout or a residual
   connection does not); the same call twice must give the same result. An output layer that
   is not elementwise may be a softmax (checked on every row).
2. *Which function?* Every activation bpverify knows (``oracles.cases.named_activation``: the
   book's, the frameworks' and each family at its defaults), the ones the module's attributes
   name (``hints``: ``Softplus(beta=2, threshold=5)``), and each family with parameters
   estimated from the probe (a slope from σ(−1), α from σ(−∞), a breakpoint by bisection on
   the floats) are compared with σ at ``PROBE_Z`` (0, tiny, moderate, the tails to ±10⁴) and at
   each candidate's kinks and breakpoints. A candidate fits where it is within PROBE_TOLERANCE
   rounding units of every value; of those that fit, the first (hints, then the textbook
   functions, then the estimates) unless another fits much better.

What the probe cannot see is σ′ at a kink (the reference takes PyTorch's value there, see
``reference.activation_families``) and parameters that change no float64 value (a softplus
threshold past 37). An activation that fits no candidate is ``Unidentified``: the helper's
message names the values it saw and the declaration (``activation=``) that covers it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bpverify.oracles.cases import activation_names, named_activation
from bpverify.oracles.rounding import UNIT_ROUNDOFF, function_slack
from bpverify.reference.activation_families import (
    CELU,
    ELU,
    HARDSHRINK,
    HARDTANH,
    LEAKY_RELU,
    SOFTPLUS,
    SOFTSHRINK,
    THRESHOLD,
)
from bpverify.reference.activations import (
    Activation,
    LayerActivation,
    PerNeuron,
    Softmax,
    softmax,
)

_U = UNIT_ROUNDOFF["float64"]
PROBE_TOLERANCE = 16.0
"""A candidate fits where |σ_probed(z) − σ(z)| ≤ 16·u·(|σ(z)| + |z·σ′(z)|) + c·u at every point
(c·u: the absolute error of σ a correct implementation may make, ``oracles.rounding``): σ
evaluated at z rounded by u has |z·σ′(z)|·u of error, PyTorch's and JAX's formulas a few units
of rounding more (measured with torch 2.13 and JAX 0.10 on every activation they share with
the reference: at most 2.9 units, JAX's mish at z = 19.75), and 16 leaves margin. Distinct
functions differ far beyond it: the textbook softplus and PyTorch's (threshold 20) by 600 units
at z = 25."""
PREFER_FACTOR = 2.0
"""A later candidate is preferred to an earlier one that fits only if its error is at most half."""

_MODERATE = (1e-300, 1e-12, 1e-6, 1e-3, 0.1, 0.25, 0.5, 0.7, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 5.0,
             7.0, 10.0, 14.0, 20.0, 25.0, 30.0, 35.0, 40.0, 60.0, 100.0, 300.0, 700.0, 750.0,
             800.0, 1e4)


def _probe_points() -> np.ndarray:
    rng = np.random.default_rng(20240)
    drawn = [rng.normal(0.0, 3.0, 24),
             rng.choice([-1.0, 1.0], 8) * 10.0 ** rng.uniform(-3.0, 3.0, 8)]
    return np.unique(np.concatenate([[0.0], _MODERATE, np.negative(_MODERATE), *drawn]))


PROBE_Z = _probe_points()
"""Where every candidate is compared: 0, ±tiny, the moderate range, both tails (±700 … ±10⁴,
where e^z overflows) and 32 seeded draws between the kinks people choose."""
FAR = 1e300
"""σ(±FAR) gives a family's asymptotes: ELU's −α, Hardtanh's ends, Threshold's value."""


class Unidentified(ValueError):
    """A layer's activation that is not elementwise, not deterministic, or no known σ."""

    def __init__(self, layer: int, reason: str) -> None:
        super().__init__(f"layer {layer}: {reason}")
        self.layer, self.reason = layer, reason


class LayerProbe(Protocol):
    """What a framework's helper answers: the widths n₂..n_L of its probe network, and, for
    values Z (one row per example, nˡ columns) injected as zˡ of ``layer``, what reaches the
    next layer (the network's output for the last); ``variant`` picks the input x (a different
    one for each variant), to show that nothing but zˡ reaches there."""

    widths: Sequence[int]

    def run(self, layer: int, Z: np.ndarray, variant: int) -> np.ndarray: ...


@dataclass(frozen=True)
class Fit:
    """A candidate's error on the probe, in units of PROBE_TOLERANCE's scale, and where."""

    activation: Activation
    error: float
    z: float


def identify_layers(probe: LayerProbe, hints: Sequence[Activation] = ()) -> list[str]:
    """The name of σ for each layer 2..L of the probe network (``softmax`` possible for the
    output layer only); ``Unidentified`` for the first layer that has none."""
    last = len(probe.widths) + 1
    return [identify_layer(probe, layer, hints, output=layer == last)
            for layer in range(2, last + 1)]


def identify_layer(probe: LayerProbe, layer: int, hints: Sequence[Activation] = (), *,
                   output: bool = False) -> str:
    """σ of one layer: elementwise (and then which), or a softmax output layer."""
    width = probe.widths[layer - 2]
    values = _elementwise(probe, layer, width, output)
    if values is None:
        return softmax.name
    fit = best_fit(values, hints)
    if fit.error <= PROBE_TOLERANCE:
        return fit.activation.name
    raise Unidentified(layer, _unknown(values, fit))


def _pack(z: np.ndarray, width: int, rows: int | None = None) -> np.ndarray:
    """z in rows of ``width`` (at least ``rows`` of them), the rest 0."""
    count = max(math.ceil(z.size / width), rows or 1)
    packed = np.zeros(count * width)
    packed[:z.size] = z
    return packed.reshape(count, width)


def _reading(probe: LayerProbe, layer: int, width: int) -> Callable[[np.ndarray], np.ndarray]:
    """z ↦ σ(z), one call of the probe (variant 0)."""
    def values(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64).ravel()
        Z = _pack(z, width)
        A = _checked(probe, layer, Z, 0)
        return A.ravel()[:z.size]
    return values


def _checked(probe: LayerProbe, layer: int, Z: np.ndarray, variant: int) -> np.ndarray:
    A = np.asarray(probe.run(layer, Z, variant), dtype=np.float64)
    if A.shape != Z.shape:
        raise Unidentified(layer, f"zˡ of shape {Z.shape} (rows of examples) reached the next "
                                  f"layer as shape {A.shape}: what lies between the layers "
                                  "changes the width, so it is not an elementwise σ")
    return A


def _agree(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Equal up to what a vectorised and a scalar path of the same function may differ by."""
    scale = PROBE_TOLERANCE * _U * (np.abs(a) + np.abs(z)) + function_slack()
    with np.errstate(invalid="ignore"):
        return (np.abs(a - b) <= scale) | (a == b) | (np.isnan(a) & np.isnan(b))


def _elementwise(probe: LayerProbe, layer: int, width: int, output: bool
                 ) -> Callable[[np.ndarray], np.ndarray] | None:
    """σ as a function of z alone, or None for a softmax output layer; ``Unidentified`` where
    what reaches the next layer is neither."""
    z = PROBE_Z
    first = _pack(z, width)
    A = _checked(probe, layer, first, 0)
    again = _checked(probe, layer, first, 0)
    if not np.array_equal(A, again, equal_nan=True):
        raise Unidentified(layer, "the same zˡ gave different values twice: something random "
                                  "lies between the layers (dropout, RReLU in training mode?)")
    order = np.random.default_rng(layer).permutation(z.size)  # other neighbours, other batch
    second = _pack(z[order], width, rows=first.shape[0] + 3)
    B = _checked(probe, layer, second, 1)
    a, b = A.ravel()[:z.size], np.empty(z.size)
    b[order] = B.ravel()[:z.size]
    if np.all(_agree(a, b, z)):
        return _reading(probe, layer, width)
    if output and _is_softmax(first, A) and _is_softmax(second, B):
        return None
    worst = int(np.argmax(np.where(_agree(a, b, z), 0.0, 1.0 + np.abs(z))))
    raise Unidentified(layer, f"not an elementwise σ of zˡ: z = {z[worst]:.6g} gave "
                              f"{a[worst]:.17g} in one batch and {b[worst]:.17g} in another, with "
                              "other values beside it and another input (a softmax, a "
                              "normalisation or a skip connection between the layers?)")


def _is_softmax(Z: np.ndarray, A: np.ndarray) -> bool:
    expected = softmax.f(Z.T).T
    return bool(np.all(_agree(A, expected, np.abs(Z) * expected)))


def best_fit(values: Callable[[np.ndarray], np.ndarray],
             hints: Sequence[Activation] = ()) -> Fit:
    """The candidate that fits σ best (module docstring): the first within PREFER_FACTOR of
    the smallest error, among those that fit; else the smallest error (which does not fit)."""
    candidates = _unique([*hints, *_known(), *_estimates(values)])
    special = np.array([p for c in candidates for p in _near_kinks(c)])
    points = np.unique(np.concatenate([PROBE_Z, special]))
    probed = values(points)
    fits = [_fit(c, points, probed) for c in candidates]
    smallest = min(fits, key=lambda f: f.error)
    if smallest.error > PROBE_TOLERANCE:
        return smallest
    return next(f for f in fits if f.error <= min(PROBE_TOLERANCE,
                                                  max(PREFER_FACTOR * smallest.error, 1.0)))


def _fit(candidate: Activation, z: np.ndarray, probed: np.ndarray) -> Fit:
    with np.errstate(all="ignore"):
        expected, slope = candidate.f(z), candidate.fprime(z)
        scale = _U * (np.abs(expected) + np.abs(z * slope)) + function_slack()
        error = np.abs(probed - expected) / scale
    error = np.where(probed == expected, 0.0, error)  # inf = inf
    error = np.where(np.isnan(error), np.inf, error)
    worst = int(np.argmax(error))
    return Fit(candidate, float(error[worst]), float(z[worst]))


def _unique(candidates: Sequence[Activation]) -> list[Activation]:
    seen: dict[str, Activation] = {}
    for c in candidates:
        seen.setdefault(c.name, c)
    return list(seen.values())


def _known() -> list[Activation]:
    """Every activation known by a plain name that is elementwise (not ``cubic``, a test's
    user-defined example, nor softmax)."""
    return [a for a in (named_activation(n) for n in activation_names() if n != "cubic")
            if isinstance(a, Activation)]


def _near_kinks(candidate: Activation) -> list[float]:
    """Each kink k, the floats beside it, and points near it on both sides."""
    points: list[float] = []
    for k in candidate.kinks:
        if math.isfinite(k):
            step = 1e-6 * max(1.0, abs(k))
            points += [k, math.nextafter(k, -math.inf), math.nextafter(k, math.inf), k - step,
                       k + step, k - 0.25, k + 0.25]
    return points


# -- estimating a family's parameters from the probe ---------------------------------------------

def _estimates(values: Callable[[np.ndarray], np.ndarray]) -> list[Activation]:
    """Each family with the parameters the probe suggests (invalid ones left out)."""
    with np.errstate(all="ignore"):
        at_0, at_minus_1, low, high = values(np.array([0.0, -1.0, -FAR, FAR]))
    found: list[Activation] = []

    def add(build: Callable[..., Activation], **parameters: float) -> None:
        if all(math.isfinite(v) for v in parameters.values()):
            try:
                found.append(build(**parameters))
            except ValueError:
                pass

    add(LEAKY_RELU, negative_slope=-at_minus_1)
    if low < 0:
        add(ELU, alpha=-low)
        add(CELU, alpha=-low)
    if math.isfinite(low) and math.isfinite(high) and low < high:
        add(HARDTANH, min_val=low, max_val=high)
    if high == FAR:
        if math.isfinite(low) and low != -FAR:
            threshold = _breakpoint(values, lambda z, a: (a == z) & (a != low), -FAR, FAR)
            if threshold is not None:
                add(THRESHOLD, threshold=threshold, value=low)
        if low == -FAR and at_0 == 0.0:
            lambd = _breakpoint(values, lambda z, a: a != 0.0, 0.0, FAR)
            if lambd is not None:
                add(HARDSHRINK, lambd=lambd)
                add(SOFTSHRINK, lambd=lambd)
        if at_0 > 0 and low == 0.0:
            found += _softplus_estimates(values, at_0)
    return found


def _softplus_estimates(values: Callable[[np.ndarray], np.ndarray], at_0: float
                        ) -> list[Activation]:
    """softplus(β, threshold ≥ 0): β = ln 2/σ(0); the threshold where σ(z) = z exactly begins (if it
    begins before rounding makes the textbook function equal z, βz ≈ 37)."""
    beta = _shortest(math.log(2.0) / at_0 * (1 - 4 * _U), math.log(2.0) / at_0 * (1 + 4 * _U))
    found = [SOFTPLUS(beta=beta)]
    last = _breakpoint(values, lambda z, a: a == z, 0.0, 100.0 / beta)
    if last is not None:  # βz ≤ threshold at z = last, βz > threshold at the next float (as
        # PyTorch tests it; z > threshold/β differs in the last bit: 4 units of slack)
        ends = sorted([beta * last * (1 - 4 * _U), beta * last * (1 + 4 * _U),
                       beta * _next(last) * (1 - 4 * _U), beta * _next(last) * (1 + 4 * _U)])
        found.insert(0, SOFTPLUS(beta=beta, threshold=_shortest(ends[0], ends[-1])))
    return found


def _next(x: float) -> float:
    return math.nextafter(x, math.inf)


def _shortest(low: float, high: float) -> float:
    """The number with the fewest digits in [low, high] (20 rather than 20.000000000000004)."""
    for digits in range(1, 18):
        for value in (float(f"{low:.{digits}g}"), float(f"{high:.{digits}g}")):
            if low <= value <= high:
                return value
    return low


def _key(x: float) -> int:
    """Floats in order as integers (adjacent floats differ by 1)."""
    bits = int(np.array(abs(x)).view(np.int64))
    return -bits if x < 0 else bits


def _float(key: int) -> float:
    value = float(np.array(abs(key)).view(np.float64))
    return -value if key < 0 else value


def _breakpoint(values: Callable[[np.ndarray], np.ndarray],
                holds: Callable[[np.ndarray, np.ndarray], np.ndarray], low: float,
                high: float) -> float | None:
    """The largest float at which ``holds`` fails, where it fails at ``low`` and holds at
    ``high`` (and is taken to change once between): 63 probes a round over the floats between,
    so 11 rounds find it to the last bit. None where it does not fail at low and hold at high."""
    with np.errstate(all="ignore"):
        ends = values(np.array([low, high]))
        if bool(holds(np.array([low]), ends[:1])[0]) or not bool(holds(np.array([high]),
                                                                        ends[1:])[0]):
            return None
        below, above = _key(low), _key(high)
        while above - below > 1:
            inner = sorted({below + (above - below) * j // 64 for j in range(1, 64)}
                           - {below, above})
            z = np.array([_float(k) for k in inner])
            where = np.asarray(holds(z, values(z)))
            if where.any():
                first = int(np.argmax(where))
                above, below = inner[first], inner[first - 1] if first > 0 else below
            else:
                below = inner[-1]
    return _float(below)


def _unknown(values: Callable[[np.ndarray], np.ndarray], closest: Fit) -> str:
    """What the probe saw, for the message."""
    z = np.array([-25.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 25.0])
    with np.errstate(all="ignore"):
        seen = values(z)
    shown = ", ".join(f"σ({v:g}) = {a:.6g}" for v, a in zip(z, seen, strict=True))
    return (f"the function between this layer's zˡ and the next layer is no activation bpverify "
            f"knows ({shown}); the closest, {closest.activation.name}, is off by "
            f"{closest.error:.3g} rounding units at z = {closest.z:.6g}")


def layers_named(names: Sequence[str]) -> str:
    """σ per layer as the suite names it: one name, ``hidden/output``, or one per layer
    (``tanh,relu,sigmoid``: the depth then fixed)."""
    hidden, output = list(names[:-1]), names[-1]
    if len(set(hidden)) > 1:
        return ",".join(names)
    return output if not hidden or hidden[0] == output else f"{hidden[0]}/{output}"


def confirm_layer(probe: LayerProbe, layer: int, declared: LayerActivation, *,
                  output: bool = False) -> None:
    """A declared σ checked against what the layer does to z, as a probed one would be:
    ``Unidentified``, saying where they differ, unless it fits (a declaration may choose among
    functions the probe cannot tell apart, never contradict it)."""
    values = _elementwise(probe, layer, probe.widths[layer - 2], output)
    if isinstance(declared, PerNeuron):  # not a name's: never declared through a helper
        raise Unidentified(layer, f"declared {declared.name}, one σ per neuron")
    if values is None or isinstance(declared, Softmax):
        if (values is None) != isinstance(declared, Softmax):
            raise Unidentified(layer, f"declared {declared.name}, but the layer is "
                                      f"{'a softmax' if values is None else 'elementwise'}")
        return
    points = np.unique(np.concatenate([PROBE_Z, _near_kinks(declared)]))
    fit = _fit(declared, points, values(points))
    if fit.error > PROBE_TOLERANCE:
        got = float(values(np.array([fit.z]))[0])
        raise Unidentified(layer, f"declared {declared.name}, but σ({fit.z!r}) = {got!r} "
                                  f"where {declared.name} gives "
                                  f"{float(declared.f(np.array([fit.z]))[0])!r}")
