"""The networks the conformance checks run on: a battery drawn per seed, planted saturation, and
Hypothesis' wider draw that shrinks a failure to the smallest network that still fails.

A ``NetworkSpec`` is a network written down in a few numbers (sizes, batch size m, weight scale,
the seed of its values, how its examples are drawn); ``NetworkSpec.case()`` builds it. Every
seed's battery covers, at every seed, the properties that hide bugs:

  depth        L = 2 (one weight layer), 3, 4 and 8–9 (interior hidden layers, and past the
               seven layers a loop may be capped at)
  width        a hidden and an output layer of width 1; a network whose layers are all of one
               width k (every wˡ has the shape of its transpose, so code that swaps or forgets
               a transpose runs there); a 784-wide input and a hidden layer of 65–130 (past a
               block of 64)
  batch size   m = 1 (with no layer of width 1 too), 7 (a prime), m equal to a layer's width
               (in the square network to every width at once, n₁ and n_L among them, where a
               sum over the wrong axis has the right shape), 65–129 (past chunks of 32 and
               64) and 1025–1279 (past the blockings of 256 and 1024, for the checks that make
               one call per mini-batch), never a multiple of 32
  scale        weights from 0.5 to saturating (some |zˡⱼ| ≥ 10)
  examples     drawn adversarially (``examples``): zero, constant, one-hot, repeated,
               permuted, large and tiny inputs; targets real-valued, at 0 and 1, soft and
               near-one-hot probability vectors; per-example gradients from tiny to large

and every width, batch size past those and every value is drawn from the seed. The planted
saturation (``saturation_specs``) puts z of ±750, 40, ±25, 14 and −12 into every hidden layer
and into the output layer, whatever σ and C: exp(±z) overflows there for σ, tanh and softplus
written naively, σ and a softmax's probabilities round to 0 and 1.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bpverify.conformance.suite.examples import (
    EXAMPLE_RECIPES,
    FAR_NORM,
    Examples,
    mixed_inputs,
    mixed_targets,
)
from bpverify.oracles.cases import (
    Case,
    bound_output,
    bounded_output,
    fixed_depth,
    layer_functions,
    named_cost,
    random_case,
)
from bpverify.reference.backpropagation import backprop_matrix
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

HUGE_BATCH = "huge-batch"
SLOTS = ("one-layer", "width-one", "square", "deep", "wide-input", "large-batch", "saturating",
         HUGE_BATCH)
SATURATION_SLOTS = ("saturated-hidden", "saturated-output")
HUGE_M = (1025, 1279)
"""The huge batch: past the blockings of 1024 that BLAS and chunked implementations use; only
checks that make one call per mini-batch run on it (``Check.whole_batch``)."""


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
    examples: str = "plain"

    @property
    def L(self) -> int:
        return len(self.sizes)

    def describe(self) -> str:
        where = f", battery case {self.name}" if self.name != "drawn" else ""
        if where and fixed_depth(self.activation):
            where += " at the depth σ per layer fixes"
        extra = "" if (self.activation, self.cost) == ("sigmoid", "quadratic") else (
            f", σ = {self.activation}, C = {self.cost}")
        examples = ", examples mixed" if self.examples == "mixed" else ""
        return (f"sizes {list(self.sizes)}, m = {self.m}, weight scale {self.scale:g}{extra}"
                f"{examples}, seed {self.seed}{where}")

    def token(self) -> str:
        """What ``--case`` takes to rebuild exactly this network (with ``--seed``)."""
        if self.name != "drawn":
            return self.name
        examples = "" if self.examples == "plain" else f"/examples={self.examples}"
        return f"{','.join(map(str, self.sizes))}/m={self.m}/scale={self.scale:g}{examples}"

    def with_functions(self, activation: str, cost: str) -> NetworkSpec:
        """This network with σ and C; with σ named per layer, at the depth that fixes."""
        depth = fixed_depth(activation)
        sizes = self.sizes if depth is None else at_depth(self.sizes, depth)
        return replace(self, sizes=sizes, activation=activation, cost=cost)

    def case(self) -> Case:
        """The network itself, float64 (cached: specs are immutable)."""
        return _build(self)[0]

    def example(self, column: int) -> str:
        """What example ``column`` is: ``example 3 (x zero, y binary)`` ("example 3" for plain
        examples)."""
        kinds = _build(self)[1]
        return kinds.describe(column) if kinds is not None else f"example {column}"


@functools.lru_cache(maxsize=1024)
def _build(spec: NetworkSpec) -> tuple[Case, Examples | None]:
    """The network: parameters by ``random_case``, then its examples (``examples.py``) for
    ``examples="mixed"``, the output layer bounded for cross-entropy costs, the planted z."""
    activations = layer_functions(spec.activation, spec.L)
    case = random_case(spec.seed, spec.sizes, batch_size=spec.m, weight_scale=spec.scale,
                       activations=activations, cost=named_cost(spec.cost), label=spec.name)
    drawn = None
    if spec.examples == "mixed":
        inputs = mixed_inputs(spec.seed, spec.sizes[0], spec.m)
        weights, biases = list(case.weights), list(case.biases)
        if bounded_output(case.cost):
            weights[-1], biases[-1] = bound_output(weights, biases, inputs.x, case.activations)
        case = replace_examples(case, weights, biases, inputs.x, case.y)
    if spec.name in SATURATION_SLOTS:  # every hidden layer, or the output layer
        for layer in range(2, spec.L) if spec.name == "saturated-hidden" else (spec.L,):
            case = _plant(case, layer)
    if spec.examples == "mixed":
        _, acts = feedforward_layers(case.weights, case.biases, inputs.x, case.activations)
        drawn = mixed_targets(spec.seed, inputs, acts[-1], spec.cost)
        case = replace_examples(case, case.weights, case.biases, drawn.x, drawn.y)
        if spec.cost == "quadratic":
            case = _far_enough(case, acts[-1], drawn)
    return case, drawn


def _far_enough(case: Case, a_L: np.ndarray, drawn: Examples) -> Case:
    """Each far target's y − aᴸ scaled up until its example's ‖∇Cₓ‖ ≥ FAR_NORM (the quadratic
    cost's gradient is linear in y − aᴸ; saturated layers shrink it by σ′): a repeat of it is
    scaled alike and stays a repeat."""
    norms = gradient_norms(case)
    y = case.y.copy()
    for j, kind in enumerate(drawn.kinds):
        if kind.endswith("y far") and 0 < norms[j] < FAR_NORM:
            y[:, j] = a_L[:, j] + (y[:, j] - a_L[:, j]) * (FAR_NORM / norms[j])
    return replace_examples(case, case.weights, case.biases, case.x, y)


def replace_examples(case: Case, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                     x: np.ndarray, y: np.ndarray) -> Case:
    return Case(tuple(weights), tuple(biases), x, y, case.activations, case.cost, case.seed,
                case.label)


def at_depth(sizes: tuple[int, ...], L: int) -> tuple[int, ...]:
    """``sizes`` cut or stretched to L layers: the input width, the first hidden widths, the
    last hidden width repeated as needed, and the output width, so that a slot keeps what it
    is for (a width-one layer, a 784-wide input, the planted widths, every layer of one width)
    where that depth allows."""
    if len(sizes) >= L:
        return (*sizes[:L - 1], sizes[-1])
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
    return replace_examples(case, case.weights, case.biases[:i] + (b,) + case.biases[i + 1:],
                            case.x, case.y)


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
    one_layer = [*n(1, 2, 6), *n(1, 2, 4)]
    one_layer[int(rng.integers(2))] = 7  # m = 7 = n₁ or n_L
    deep = tuple(n(depth, 2, 5))
    saturating = tuple(n(4, 2, 6))
    specs = [
        NetworkSpec("one-layer", tuple(one_layer), 7, 0.5, seed),
        NetworkSpec("width-one", (n(1, 2, 5)[0], 1, n(1, 2, 4)[0], 1), 1, 1.0, seed),
        NetworkSpec("square", (k, k, k, k), k, 1.0, seed),
        NetworkSpec("deep", deep, deep[int(rng.integers(1, depth - 1))], 1.0, seed),
        NetworkSpec("wide-input", (784, n(1, 65, 130)[0], 10), 1, 1.0, seed),
        NetworkSpec("large-batch", tuple(n(3, 2, 5)), large, 1.0, seed),
    ]
    m_saturating = saturating[int(rng.integers(4))]
    specs.append(NetworkSpec("saturating", saturating, m_saturating,
                             _saturating_scale(saturating, m_saturating, seed), seed))
    huge = int(rng.choice([m for m in range(*HUGE_M) if m % 32]))
    specs.append(NetworkSpec(HUGE_BATCH, tuple(n(3, 2, 6)), huge, 1.0, seed))
    return tuple(replace(spec, examples="mixed") for spec in specs)


def _saturating_scale(sizes: tuple[int, ...], m: int, seed: int) -> float:
    """The smallest scale from 4, doubling, at which some |zˡⱼ| ≥ SATURATED_Z."""
    scale = 4.0
    while largest_abs_z(NetworkSpec("saturating", sizes, m, scale, seed, examples="mixed")
                        ) < SATURATED_Z:
        scale *= 2
    return scale


@functools.lru_cache(maxsize=64)
def saturation_specs(seed: int) -> tuple[NetworkSpec, ...]:
    """Networks with PLANTED_Z in every hidden layer (of width 7–9; one at L = 3, more at the
    depth σ per layer fixes) and in the output layer (of width 7–8, three examples)."""
    rng = np.random.default_rng([seed, 0x5A7])
    n = functools.partial(_draw_widths, rng)
    return (NetworkSpec("saturated-hidden", (n(1, 2, 5)[0], *n(1, 7, 9), *n(1, 1, 3)), 2, 1.0,
                        seed, examples="mixed"),
            NetworkSpec("saturated-output", (*n(2, 2, 5), *n(1, 7, 8)), 3, 1.0, seed,
                        examples="mixed"))


def specs_for(source: str, seed: int) -> tuple[NetworkSpec, ...]:
    """The networks of a check's ``source``: "battery", "saturation", or "both"."""
    if source == "saturation":
        return saturation_specs(seed)
    return battery(seed) + (saturation_specs(seed) if source == "both" else ())


_TOKEN = re.compile(r"^(?P<sizes>\d+(?:,\d+)+)/m=(?P<m>\d+)/scale=(?P<scale>[0-9.e+-]+)"
                    r"(?:/examples=(?P<examples>\w+))?$")


def parse_case(token: str, seed: int) -> NetworkSpec:
    """``--case``: a slot name (``deep``) or a network's numbers (``2,1,1/m=1/scale=1``)."""
    for spec in (*battery(seed), *saturation_specs(seed)):
        if spec.name == token:
            return spec
    match = _TOKEN.match(token)
    if match is None or (match["examples"] or "plain") not in EXAMPLE_RECIPES:
        raise ValueError(f"--case is {token!r}, expected one of {[*SLOTS, *SATURATION_SLOTS]} "
                         "or sizes/m/scale such as '2,1,1/m=1/scale=1' (and /examples=mixed)")
    sizes = tuple(int(s) for s in match["sizes"].split(","))
    if min(sizes) < 1 or int(match["m"]) < 1:
        raise ValueError(f"--case is {token!r}: widths and m must be positive")
    return NetworkSpec("drawn", sizes, int(match["m"]), float(match["scale"]), seed,
                       examples=match["examples"] or "plain")


def drawn_specs(max_depth: int = 9, max_width: int = 6,
                max_batch: int = 130) -> SearchStrategy[NetworkSpec]:
    """Hypothesis' strategy of networks: what it shrinks towards is the smallest network (fewest
    layers, narrowest widths, m = 1, scale 1, seed 0) with plain examples (then mixed ones:
    ``examples.py``)."""
    from hypothesis import strategies as st

    @st.composite
    def draw(draw_: st.DrawFn) -> NetworkSpec:
        depth = draw_(st.integers(2, max_depth))
        sizes = tuple(draw_(st.lists(st.integers(1, max_width), min_size=depth,
                                     max_size=depth)))
        m = draw_(st.one_of(st.integers(1, 8), st.integers(1, max_batch)))
        scale = draw_(st.sampled_from((1.0, 0.5, 2.0, 8.0)))
        seed = draw_(st.integers(0, 2**31 - 1))
        examples = draw_(st.sampled_from(EXAMPLE_RECIPES))
        return NetworkSpec("drawn", sizes, m, scale, seed, examples=examples)

    return draw()


TRAITS = (
    ("every layer of one width", lambda s: len(set(s.sizes)) == 1),
    ("n₂ = … = n_L (wˡ square for l ≥ 3)", lambda s: len(set(s.sizes[1:])) == 1),
    ("wˡ square in some layer l ≥ 3", lambda s: _has_square_pair(s.sizes)),
    ("one weight layer (L = 2)", lambda s: s.L == 2),
    ("m = 1", lambda s: s.m == 1),
    ("m = n₁", lambda s: s.m == s.sizes[0]),
    ("m = n_L", lambda s: s.m == s.sizes[-1]),
    ("an output layer of one neuron", lambda s: s.sizes[-1] == 1),
    ("a layer of one neuron", lambda s: 1 in s.sizes[1:]),
    ("n₁ = n_L", lambda s: s.sizes[0] == s.sizes[-1]),
)
"""Properties of a network that code may depend on, in the order a report names them."""


def distinguishing_trait(ran: Sequence[NetworkSpec], crashed: Sequence[NetworkSpec]) -> str | None:
    """A trait (``TRAITS``) that every network in ``ran`` has and none in ``crashed`` (or the
    other way round), to say which networks code needs: "it runs only with every layer of one
    width"; None when no trait tells them apart."""
    for name, has in TRAITS:
        if all(has(s) for s in ran) and not any(has(s) for s in crashed):
            return f"only those with {name}"
        if not any(has(s) for s in ran) and all(has(s) for s in crashed):
            return f"only those without {name}"
    return None


def largest_abs_z(spec: NetworkSpec) -> float:
    case = spec.case()
    zs, _ = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    return max(float(np.max(np.abs(z))) for z in zs)


def example_gradient_norms(spec: NetworkSpec) -> np.ndarray:
    """‖∇Cₓ‖ of each example x of the network."""
    return gradient_norms(spec.case())


def gradient_norms(case: Case) -> np.ndarray:
    """‖∇Cₓ‖ of each example x of ``case`` (the reference's δ: ‖δˡ(aˡ⁻¹)ᵀ‖ = ‖δˡ‖‖aˡ⁻¹‖)."""
    with np.errstate(all="ignore"):  # a planted z of ±750: the reference is finite, exp is not
        result = backprop_matrix(case.weights, case.biases, case.x, case.y, case.activations,
                                 case.cost)
    squares = sum(np.sum(d * d, axis=0) * (1.0 + np.sum(a * a, axis=0))
                  for d, a in zip(result.deltas, result.activations[:-1], strict=True))
    return np.sqrt(squares)


TINY_GRADIENT, LARGE_GRADIENT = 1e-5, 10.0
"""Per-example gradient norms the battery reaches below and above (``covered_properties``)."""


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
        if set(s.sizes) == {s.m} and s.L >= 3:
            found.add("every width = m")
        if s.m > 1 and s.m in s.sizes[1:-1]:
            found.add("m = a hidden width")
        if s.m > 1 and s.m in (s.sizes[0], s.sizes[-1]) and len(set(s.sizes)) > 1:
            found.add("m = n₁ or n_L")
        if s.sizes[0] == 784:
            found.add("784-wide input")
        found.add("m=1" if s.m == 1 else "m=7" if s.m == 7 else "m>1024" if s.m > 1024
                  else "m>64" if s.m > 64 else "")
        if s.m > 1 and s.m % 32 == 0:
            found.add("m a multiple of 32")
        if s.scale <= 0.5:
            found.add("small weights")
        if largest_abs_z(s) >= SATURATED_Z:
            found.add("|z|>=10")
        kinds = _build(s)[1]
        for kind in kinds.kinds if kinds is not None else ():
            x_kind, y_kind = kind.split(", ")
            found.update((x_kind, y_kind))
        norms = example_gradient_norms(s)
        if norms.min() < TINY_GRADIENT:
            found.add("gradient tiny")
        if norms.max() > LARGE_GRADIENT:
            found.add("gradient large")
    found.discard("")
    return found
