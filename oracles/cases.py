"""A network description written once (``Case``), and seeded random cases.

Every oracle, check and report takes a Case, so the same network, input, target,
activations and cost run through each of them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpverify.reference.activation_families import FAMILIES, NAMED
from bpverify.reference.activations import (
    BUILTIN_ACTIVATIONS,
    Activation,
    LayerActivation,
    PerNeuron,
    Softmax,
    layer_activations,
    sigmoid,
    softmax,
)
from bpverify.reference.costs import (
    BUILTIN_COSTS,
    Cost,
    categorical_cross_entropy,
    cross_entropy,
    quadratic,
)
from bpverify.reference.equations import feedforward_layers
from bpverify.reference.validation import check_columns, check_network, check_same_columns

CROSS_ENTROPY_MAX_ABS_Z = 4.0
"""Output |zᴸ| bound for cross-entropy cases: beyond it 1 − σ(z) loses digits in float64 and
C(aᴸ) itself, not backprop, becomes the ill-conditioned part (1 − σ(4) ≈ 0.018); for a softmax
output it keeps every aⱼ ≥ e⁻⁸/n, so −ln a stays finite."""


@dataclass(frozen=True)
class Case:
    """One network description: parameters in the book's shapes, input columns, targets, σ and C."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    x: np.ndarray
    y: np.ndarray
    activations: tuple[LayerActivation, ...]
    cost: Cost = quadratic
    seed: int | None = None
    label: str = ""
    sizes: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        sizes = check_network(self.weights, self.biases)
        check_columns(self.x, "x", sizes[0], single=False)
        check_columns(self.y, "y", sizes[-1], single=False)
        check_same_columns(self.x, self.y, "x", "y")
        object.__setattr__(self, "activations", layer_activations(self.activations, sizes))
        object.__setattr__(self, "sizes", sizes)

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[1])

    @property
    def analytic(self) -> bool:
        """True when every σ and C is holomorphic at this point (the complex step applies)."""
        return all(a.analytic for a in self.activations) and self.min_distance_to_kink() > 0

    def min_distance_to_kink(self) -> float:
        """The smallest |zˡⱼ − kink| over all neurons with a kink; ∞ when there is none."""
        zs, _ = feedforward_layers(self.weights, self.biases, self.x, self.activations)
        best = np.inf
        for z, act in zip(zs, self.activations, strict=True):
            rows = ([j for j, a in enumerate(act.activations) if a.kinks]
                    if isinstance(act, PerNeuron) else range(z.shape[0]))
            for kink in act.kinks:
                if len(rows):
                    best = min(best, float(np.min(np.abs(z[list(rows)] - kink))))
        return best

    def column(self, j: int) -> Case:
        """The single-example case of column j."""
        return Case(self.weights, self.biases, self.x[:, j:j + 1], self.y[:, j:j + 1],
                    self.activations, self.cost, self.seed, f"{self.label}[:, {j}]")

    def describe(self) -> str:
        acts = ", ".join(a.name for a in self.activations)
        return (f"sizes={list(self.sizes)} m={self.batch_size} activations=[{acts}] "
                f"cost={self.cost.name}" + (f" seed={self.seed}" if self.seed is not None else ""))


def random_case(seed: int, sizes: Sequence[int], *, batch_size: int = 1,
                activations: LayerActivation | Sequence[LayerActivation] = sigmoid,
                cost: Cost = quadratic, weight_scale: float = 1.0, label: str = "") -> Case:
    """A case drawn from ``default_rng(seed)``: standard normal parameters times ``weight_scale``
    (a scale of 30 or more drives sigmoid units deep into saturation, |z| ≥ 30)."""
    rng = np.random.default_rng(seed)
    sizes = list(sizes)
    weights = [weight_scale * rng.standard_normal((n, n_prev)) / np.sqrt(n_prev)
               for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [weight_scale * rng.standard_normal((n, 1)) for n in sizes[1:]]
    x = rng.standard_normal((sizes[0], batch_size))
    per_layer = layer_activations(activations, sizes)
    if cost is cross_entropy:
        y = rng.uniform(0.0, 1.0, (sizes[-1], batch_size))
    elif cost is categorical_cross_entropy:  # one class per example
        y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], batch_size)]
    else:
        y = rng.standard_normal((sizes[-1], batch_size))
    if bounded_output(cost):
        weights[-1], biases[-1] = bound_output(weights, biases, x, per_layer)
    return Case(tuple(weights), tuple(biases), x, y, per_layer, cost, seed, label)


def bounded_output(cost: Cost) -> bool:
    """The costs whose cases keep |zᴸ| ≤ CROSS_ENTROPY_MAX_ABS_Z (``bound_output``)."""
    return cost is cross_entropy or cost is categorical_cross_entropy


def bound_output(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray,
                 per_layer: Sequence[LayerActivation]) -> tuple[np.ndarray, np.ndarray]:
    """The output layer scaled so that |zᴸ| ≤ CROSS_ENTROPY_MAX_ABS_Z at x (see its docstring)."""
    zs, _ = feedforward_layers(weights, biases, x, per_layer)
    largest = float(np.max(np.abs(zs[-1])))
    shrink = min(1.0, CROSS_ENTROPY_MAX_ABS_Z / largest) if largest > 0 else 1.0
    return weights[-1] * shrink, biases[-1] * shrink


def cubic_activation() -> Activation:
    """A user-defined activation f(z) = z³/3 + z with f′(z) = z² + 1, written with operators only."""
    return Activation("cubic", lambda z: z * z * z / 3.0 + z, lambda z: z * z + 1.0)


@functools.cache
def named_activation(name: str) -> Activation | Softmax:
    """An activation by name: a built-in one (``sigmoid``, ``tanh``, ``identity``, ``relu``,
    ``softplus``), one a framework defines (``silu``, ``gelu``, ``selu``, …,
    ``reference.activation_families.NAMED``), a family with its parameters
    (``softplus(beta=2,threshold=5)``, ``leaky_relu(negative_slope=0.2)``,
    ``gelu(approximate=tanh)``), the user-defined example ``cubic``, or ``softmax``."""
    if name == "cubic":
        return cubic_activation()
    if name == "softmax":
        return softmax
    known = BUILTIN_ACTIVATIONS.get(name) or NAMED.get(name)
    if known is not None:
        return known
    family, parameters = activation_parameters(name)
    try:
        return FAMILIES[family](**parameters)
    except ValueError as bad:
        raise ValueError(f"activation is {name!r}: {bad}") from None


def activation_parameters(name: str) -> tuple[str, dict[str, Any]]:
    """``softplus(beta=2,threshold=5)`` → ``("softplus", {"beta": 2.0, "threshold": 5.0})``; a
    plain name → (the name, {})."""
    match = _FAMILY_CALL.match(name)
    if "(" not in name and name in activation_names():
        return name, {}
    if "(" not in name or match is None or match["family"] not in FAMILIES:
        raise ValueError(f"activation is {name!r}, expected one of {activation_names()}, or a "
                         f"family with parameters, one of {sorted(FAMILIES)}: e.g. "
                         "'softplus(beta=2,threshold=5)'")
    parameters: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in match["parameters"].split(","))):
        key, equals, value = item.partition("=")
        if not equals:
            raise ValueError(f"activation is {name!r}: {item!r} is not key=value")
        parameters[key.strip()] = _parameter(value.strip())
    return match["family"], parameters


_FAMILY_CALL = re.compile(r"^(?P<family>[a-z_0-9]+)\((?P<parameters>[^()]*)\)$")


def _parameter(text: str) -> float | str:
    """A family's parameter as a name writes it: a number (``20``, ``0.01``, ``inf``) or a word
    (``tanh``)."""
    try:
        return float(text)
    except ValueError:
        return text.strip("'\"")


def activation_names() -> list[str]:
    """Every activation known by a plain name (families also take parameters)."""
    return sorted([*BUILTIN_ACTIVATIONS, *NAMED, "cubic", "softmax"])


_DECLARED_COSTS: dict[str, Cost] = {}
"""Costs an implementation declared as a ``Cost`` (``reference.costs.custom(C, ∇ₐC)``), by name."""


def split_layers(activation: str) -> list[str]:
    """``tanh,relu,sigmoid`` → its names, the commas inside a family's parameters
    (``softplus(beta=2,threshold=5)``) left alone."""
    names, depth, start = [], 0, 0
    for i, character in enumerate(activation):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            names.append(activation[start:i])
            start = i + 1
    names.append(activation[start:])
    return names


def _per_layer(activation: str) -> list[str] | None:
    """The names of a σ named per layer (a comma outside parentheses), else None."""
    names = split_layers(activation)
    if len(names) == 1:
        return None
    return names[:-1] if names[-1] == "" else names


def layer_names(activation: str, L: int) -> list[str]:
    """The names of σ for layers 2..L: one name (every layer), ``hidden/output`` (e.g.
    ``relu/sigmoid``) or one per layer, comma-separated (``tanh,relu,sigmoid``: a network of
    that depth only, see ``fixed_depth``)."""
    names = _per_layer(activation)
    if names is not None:
        if len(names) != L - 1:
            raise ValueError(f"activation is {activation!r}, one per layer 2..{len(names) + 1}, "
                             f"but the network has L = {L} layers")
        return names
    hidden, _, output = activation.partition("/")
    return [hidden] * (L - 2) + [output or hidden]


def layer_functions(activation: str, L: int) -> list[LayerActivation]:
    """σ for layers 2..L (``layer_names``)."""
    return [named_activation(name) for name in layer_names(activation, L)]


def fixed_depth(activation: str) -> int | None:
    """L when σ is named per layer (``tanh,relu,sigmoid`` has L = 4; a list of one name is
    written ``tanh,``: L = 2), else None (any depth)."""
    names = _per_layer(activation)
    return None if names is None else len(names) + 1


def declare_cost(cost: Cost) -> str:
    """Make a user's cost known by its name to the cases (and the networks of the battery)."""
    if not isinstance(cost, Cost):
        raise ValueError(f"cost is {type(cost).__name__}, expected a cost name or a Cost, e.g. "
                         "bpverify.reference.costs.custom(C, gradient_C, name='mine')")
    known = BUILTIN_COSTS.get(cost.name) or _DECLARED_COSTS.get(cost.name)
    if known is not None and known is not cost:
        raise ValueError(f"cost name {cost.name!r} is taken; give your custom cost another name")
    _DECLARED_COSTS[cost.name] = cost
    return cost.name


def named_cost(name: str) -> Cost:
    """A built-in cost by name, or one an implementation declared."""
    cost = BUILTIN_COSTS.get(name) or _DECLARED_COSTS.get(name)
    if cost is None:
        raise ValueError(f"cost is {name!r}, expected one of "
                         f"{sorted(BUILTIN_COSTS) + sorted(_DECLARED_COSTS)}")
    return cost


def mixed_layer(width: int, names: Sequence[str]) -> PerNeuron:
    """A layer whose neuron j uses activation names[j mod len(names)] (elementwise ones)."""
    chosen = [named_activation(names[j % len(names)]) for j in range(width)]
    elementwise = tuple(a for a in chosen if isinstance(a, Activation))
    if len(elementwise) != width:
        raise ValueError(f"names are {list(names)}: a layer of per-neuron activations takes "
                         "elementwise ones only (softmax is a whole layer's)")
    return PerNeuron(elementwise)
