"""The networks the conformance checks run on: a battery drawn per seed, planted saturation, and
Hypothesis' wider draw that shrinks a failure to the smallest network that still fails.

A ``NetworkSpec`` is a network written down in a few numbers (sizes, batch size m, weight scale,
the seed of its values); ``NetworkSpec.case()`` builds it. Every seed's battery covers, at every
seed, the properties that hide bugs:

  depth        L = 2 (one weight layer), 3, 4 and 8–9 (interior hidden layers, and past the
               seven layers a loop may be capped at)
  width        a hidden and an output layer of width 1; square consecutive layers
               (nₗ = nₗ₋₁, where wˡ⁺¹ and its transpose have the same shape); a 784-wide input
               and a hidden layer of 65–130 (past a block of 64)
  batch size   m = 1 (with no layer of width 1 too), 7 (a prime) and 65–129 (past chunks of
               32 and 64, a multiple of neither)
  scale        weights from 0.5 to saturating (some |zˡⱼ| ≥ 10)

and every width, batch size past those and every value is drawn from the seed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bpverify.oracles.cases import (
    Case,
    fixed_depth,
    layer_functions,
    named_cost,
    random_case,
)
from bpverify.reference.equations import feedforward_layers

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

SATURATED_Z = 10.0
"""The saturating battery case has some |zˡⱼ| at least this large (σ′(10) ≈ 4.5e-5)."""

PLANTED_Z = (-750.0, 750.0, 40.0, 25.0, -25.0, 14.0, -12.0)
"""z values planted in a saturated layer: exp(−z) overflows below −709 and exp(z) above 709;
σ(40) is 1.0 in float64, so σ(1 − σ) gives σ′ = 0 there (an absolute error of 4e-18, which a
correct implementation may make); at ±25 σ′ ≈ 1.4e-11 and at ±12..14 σ′ ≈ 1e-6, far above
rounding, and must be right."""

SLOTS = ("one-layer", "width-one", "square", "deep", "wide-input", "large-batch", "saturating")
SATURATION_SLOTS = ("saturated-hidden", "saturated-output")


@dataclass(frozen=True)
class NetworkSpec:
    """One network of the battery: ``name`` is its slot, or ``drawn`` for a network given by its
    numbers (a Hypothesis draw, or ``--case 2,1,1/m=1/scale=1`` on the command line)."""

    name: str
    sizes: tuple[int, ...]
    m: int
    scale: float
    seed: int
    activation: str = "sigmoid"
    cost: str = "quadratic"

    @property
    def L(self) -> int:
        return len(self.sizes)

    def describe(self) -> str:
        where = f", battery case {self.name}" if self.name != "drawn" else ""
        if where and fixed_depth(self.activation):
            where += " at the depth σ per layer fixes"
        extra = "" if (self.activation, self.cost) == ("sigmoid", "quadratic") else (
            f", σ = {self.activation}, C = {self.cost}")
        return (f"sizes {list(self.sizes)}, m = {self.m}, weight scale {self.scale:g}{extra}, "
                f"seed {self.seed}{where}")

    def token(self) -> str:
        """What ``--case`` takes to rebuild exactly this network (with ``--seed``)."""
        if self.name != "drawn":
            return self.name
        return f"{','.join(map(str, self.sizes))}/m={self.m}/scale={self.scale:g}"

    def with_functions(self, activation: str, cost: str) -> NetworkSpec:
        """This network with σ and C; with σ named per layer, at the depth that fixes."""
        depth = fixed_depth(activation)
        sizes = self.sizes if depth is None else at_depth(self.sizes, depth)
        return replace(self, sizes=sizes, activation=activation, cost=cost)

    def case(self) -> Case:
        """The network itself, float64 (cached: specs are immutable)."""
        return _build(self)


@functools.lru_cache(maxsize=1024)
def _build(spec: NetworkSpec) -> Case:
    case = random_case(spec.seed, spec.sizes, batch_size=spec.m, weight_scale=spec.scale,
                       activations=layer_functions(spec.activation, spec.L),
                       cost=named_cost(spec.cost), label=spec.name)
    if spec.name in SATURATION_SLOTS:
        case = _plant(case, layer=2 if spec.name == "saturated-hidden" else spec.L)
    return case


def at_depth(sizes: tuple[int, ...], L: int) -> tuple[int, ...]:
    """``sizes`` cut or stretched to L layers: the input width, the first hidden widths, the
    last hidden width repeated as needed, and the output width, so that a slot keeps what it
    is for (a width-one layer, a 784-wide input, the planted widths, square consecutive layers:
    the last two then) where that depth allows."""
    if len(sizes) >= L:
        cut = (*sizes[:L - 1], sizes[-1])
        lost = _has_square_pair(sizes) and not _has_square_pair(cut)
        return (*cut[:-1], cut[-2]) if lost and L >= 3 else cut
    return (*sizes[:-1], *[sizes[-2]] * (L - len(sizes)), sizes[-1])


def _has_square_pair(sizes: Sequence[int]) -> bool:
    """nₗ = nₗ₋₁ for some l ≥ 3: a wˡ that has the shape of its transpose, seen by BP2."""
    return any(a == b for a, b in zip(sizes[1:-1], sizes[2:], strict=False))


def _plant(case: Case, layer: int) -> Case:
    """Shift the biases of ``layer`` so that its first neurons take the PLANTED_Z values at the
    first example (the other examples sit near them)."""
    i = layer - 2
    zs, _ = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    b = case.biases[i].copy()
    for j, target in enumerate(PLANTED_Z[:b.shape[0]]):
        b[j, 0] += target - zs[i][j, 0]
    biases = case.biases[:i] + (b,) + case.biases[i + 1:]
    return Case(case.weights, biases, case.x, case.y, case.activations, case.cost, case.seed,
                case.label)


def _draw_widths(rng: np.random.Generator, count: int, low: int, high: int) -> list[int]:
    return [int(k) for k in rng.integers(low, high + 1, size=count)]


@functools.lru_cache(maxsize=64)  # asked for by every check of every run: built once a seed
def battery(seed: int) -> tuple[NetworkSpec, ...]:
    """The networks of one seed, one per slot of ``SLOTS`` (module docstring)."""
    rng = np.random.default_rng([seed, 0xB9])
    n = functools.partial(_draw_widths, rng)
    depth = int(rng.integers(8, 10))
    k = n(1, 2, 5)[0]
    large = int(rng.choice([m for m in range(65, 130) if m % 32]))
    specs = [
        NetworkSpec("one-layer", (*n(1, 2, 6), *n(1, 2, 4)), 7, 0.5, seed),
        NetworkSpec("width-one", (n(1, 2, 5)[0], 1, n(1, 2, 4)[0], 1), 1, 1.0, seed),
        NetworkSpec("square", (n(1, 2, 5)[0], k, k, n(1, 2, 4)[0]), 1, 1.0, seed),
        NetworkSpec("deep", tuple(n(depth, 2, 5)), int(rng.integers(2, 4)), 1.0, seed),
        NetworkSpec("wide-input", (784, n(1, 65, 130)[0], 10), 2, 1.0, seed),
        NetworkSpec("large-batch", tuple(n(3, 2, 5)), large, 1.0, seed),
    ]
    sizes = tuple(n(4, 2, 6))
    specs.append(NetworkSpec("saturating", sizes, 3, _saturating_scale(sizes, seed), seed))
    return tuple(specs)


def _saturating_scale(sizes: tuple[int, ...], seed: int) -> float:
    """The smallest scale from 4, doubling, at which some |zˡⱼ| ≥ SATURATED_Z."""
    scale = 4.0
    while True:
        case = random_case(seed, sizes, batch_size=3, weight_scale=scale)
        zs, _ = feedforward_layers(case.weights, case.biases, case.x, case.activations)
        if max(float(np.max(np.abs(z))) for z in zs) >= SATURATED_Z:
            return scale
        scale *= 2


@functools.lru_cache(maxsize=64)
def saturation_specs(seed: int) -> tuple[NetworkSpec, ...]:
    """Networks with PLANTED_Z in a hidden layer of width 7–9 and in the output layer."""
    rng = np.random.default_rng([seed, 0x5A7])
    n = functools.partial(_draw_widths, rng)
    return (NetworkSpec("saturated-hidden", (n(1, 2, 5)[0], *n(1, 7, 9), *n(1, 1, 3)), 2, 1.0,
                        seed),
            NetworkSpec("saturated-output", (*n(2, 2, 5), *n(1, 7, 8)), 1, 1.0, seed))


def specs_for(source: str, seed: int) -> tuple[NetworkSpec, ...]:
    return saturation_specs(seed) if source == "saturation" else battery(seed)


_TOKEN = re.compile(r"^(?P<sizes>\d+(?:,\d+)+)/m=(?P<m>\d+)/scale=(?P<scale>[0-9.e+-]+)$")


def parse_case(token: str, seed: int) -> NetworkSpec:
    """``--case``: a slot name (``deep``) or a network's numbers (``2,1,1/m=1/scale=1``)."""
    for spec in (*battery(seed), *saturation_specs(seed)):
        if spec.name == token:
            return spec
    match = _TOKEN.match(token)
    if match is None:
        raise ValueError(f"--case is {token!r}, expected one of {[*SLOTS, *SATURATION_SLOTS]} "
                         "or sizes/m/scale such as '2,1,1/m=1/scale=1'")
    sizes = tuple(int(s) for s in match["sizes"].split(","))
    if min(sizes) < 1 or int(match["m"]) < 1:
        raise ValueError(f"--case is {token!r}: widths and m must be positive")
    return NetworkSpec("drawn", sizes, int(match["m"]), float(match["scale"]), seed)


def drawn_specs(max_depth: int = 9, max_width: int = 6,
                max_batch: int = 130) -> SearchStrategy[NetworkSpec]:
    """Hypothesis' strategy of networks: what it shrinks towards is the smallest network (fewest
    layers, narrowest widths, m = 1, scale 1, seed 0)."""
    from hypothesis import strategies as st

    @st.composite
    def draw(draw_: st.DrawFn) -> NetworkSpec:
        depth = draw_(st.integers(2, max_depth))
        sizes = tuple(draw_(st.lists(st.integers(1, max_width), min_size=depth,
                                     max_size=depth)))
        m = draw_(st.one_of(st.integers(1, 8), st.integers(1, max_batch)))
        scale = draw_(st.sampled_from((1.0, 0.5, 2.0, 8.0)))
        seed = draw_(st.integers(0, 2**31 - 1))
        return NetworkSpec("drawn", sizes, m, scale, seed)

    return draw()


def largest_abs_z(spec: NetworkSpec) -> float:
    case = spec.case()
    zs, _ = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    return max(float(np.max(np.abs(z))) for z in zs)


def covered_properties(specs: Sequence[NetworkSpec]) -> set[str]:
    """Which of the battery's promised properties these networks have (tested at every seed)."""
    found: set[str] = set()
    for s in specs:
        found.add(f"L={min(s.L, 5)}")
        if s.L >= 8:
            found.add("L>=8")
        if max(s.sizes[1:-1], default=0) > 64:
            found.add("hidden width > 64")
        if s.m == 1 and min(s.sizes) > 1 and s.sizes[-1] > 1:
            found.add("m=1 without width-1 layers")
        if 1 in s.sizes[1:-1]:
            found.add("hidden width 1")
        if s.sizes[-1] == 1:
            found.add("output width 1")
        if _has_square_pair(s.sizes):
            found.add("square consecutive layers")
        if s.sizes[0] == 784:
            found.add("784-wide input")
        found.add("m=1" if s.m == 1 else "m=7" if s.m == 7 else "m>64" if s.m > 64 else "")
        if s.scale <= 0.5:
            found.add("small weights")
        if largest_abs_z(s) >= SATURATED_Z:
            found.add("|z|>=10")
    found.discard("")
    return found
