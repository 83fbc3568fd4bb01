"""Cost functions C(aᴸ, y) and their gradients ∇ₐC (the input of BP1).

A cost's ``value`` sums over every entry, so on a mini-batch (columns are
examples) it is Σₓ Cₓ. Values are written against the array namespace of their
argument (numpy float or complex, JAX), gradients by hand: the oracles check them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bpverify.reference.activations import (
    Activation,
    Array,
    LayerActivation,
    PerNeuron,
    Softmax,
    namespace,
    sigmoid,
    softmax,
    softplus,
)


@dataclass(frozen=True)
class Cost:
    """A cost C(a, y) with its gradient ∇ₐC.

    ``output_error`` maps an output activation to an exact simplification
    of BP1, δᴸ = ∇ₐC ⊙ σ′(zᴸ), written as a function of (zᴸ, aᴸ, y); ``value_of_z`` maps
    one to C written in zᴸ itself, where that avoids a cancellation the value in aᴸ has
    (``value_at_output``).
    """

    name: str
    value: Callable[[Array, Array], Any]
    gradient: Callable[[Array, Array], Array]
    output_error: Mapping[Activation | Softmax, Callable[[Array, Array, Array], Array]] = field(
        default_factory=dict)
    value_of_z: Mapping[Activation | Softmax, Callable[[Array, Array], Any]] = field(
        default_factory=dict)

    def __call__(self, a: Array, y: Array) -> Any:
        return self.value(a, y)

    def __repr__(self) -> str:
        return f"Cost({self.name!r})"


def _quadratic_value(a: Array, y: Array) -> Any:
    """C = ½‖a − y‖², written as ½Σ(a − y)² (a norm would break the complex step)."""
    d = a - y
    return 0.5 * namespace(d).sum(d * d)


def _quadratic_gradient(a: Array, y: Array) -> Array:
    """∇ₐC = a − y (Fact 1 of the note)."""
    return a - y


def _xlogy(x: Array, y: Array) -> Array:
    """x·ln(y), taken as 0 where x = 0 (so 0·ln 0 = 0), safe under autodiff."""
    xp = namespace(y)
    zero = x == 0
    return xp.where(zero, 0.0 * y, x * xp.log(xp.where(zero, 1.0, y)))


def _cross_entropy_value(a: Array, y: Array) -> Any:
    """C = −Σ [y ln a + (1 − y) ln(1 − a)], finite at a = 0 or 1 wherever the label allows."""
    return -namespace(a).sum(_xlogy(y, a) + _xlogy(1.0 - y, 1.0 - a))


def _cross_entropy_gradient(a: Array, y: Array) -> Array:
    """∇ₐC = −y/a + (1 − y)/(1 − a) = (a − y)/(a(1 − a)).

    The quotient form has no cancellation and is used for 0 < a < 1; at a = 0 or 1
    the sum form is used, each term 0 where its label coefficient is 0.
    """
    xp = namespace(a)
    inside = (xp.real(a) > 0) & (xp.real(a) < 1)
    safe = xp.where(inside, a, 0.5)
    quotient = (a - y) / (safe * (1.0 - safe))
    first = xp.where(y == 0, 0.0 * a, -y / xp.where(y == 0, 1.0, a))
    second = xp.where(y == 1, 0.0 * a, (1.0 - y) / xp.where(y == 1, 1.0, 1.0 - a))
    return xp.where(inside, quotient, first + second)


def _cross_entropy_sigmoid_value(z: Array, y: Array) -> Any:
    """C = Σ [y softplus(−zᴸ) + (1 − y) softplus(zᴸ)]: the same cost, since ln σ(z) =
    −softplus(−z) and ln(1 − σ(z)) = −softplus(z), without forming 1 − aᴸ (which keeps only
    −log₁₀(1 − aᴸ) fewer digits: at zᴸ = 20 the complex step through aᴸ erred by 5e-9)."""
    return namespace(z).sum(y * softplus.f(-z) + (1.0 - y) * softplus.f(z))


def _cross_entropy_sigmoid_delta(z: Array, a: Array, y: Array) -> Array:
    """δᴸ = ∇ₐC ⊙ σ′(zᴸ) = aᴸ − y for cross-entropy with sigmoid output (σ′ cancels exactly)."""
    return a - y


def _categorical_value(a: Array, y: Array) -> Any:
    """C = −Σ y ln a: the cross-entropy of a probability vector a (a softmax output) against y."""
    return -namespace(a).sum(_xlogy(y, a))


def _categorical_gradient(a: Array, y: Array) -> Array:
    """∇ₐC = −y/a, taken as 0 where y = 0."""
    xp = namespace(a)
    return xp.where(y == 0, 0.0 * a, -y / xp.where(y == 0, 1.0, a))


def _categorical_softmax_value(z: Array, y: Array) -> Any:
    """C = Σ y (logsumexp(zᴸ) − zᴸ), per column: −Σ y ln softmax(zᴸ) without the logarithm of a
    probability that rounds to 0 (the shift by the real maximum changes nothing)."""
    xp = namespace(z)
    top = xp.max(xp.real(z), axis=0, keepdims=True)
    lse = top + xp.log(xp.sum(xp.exp(z - top), axis=0, keepdims=True))
    return xp.sum(y * (lse - z))


def value_at_output(cost: Cost, activation: LayerActivation, z: Array, y: Array) -> Any:
    """C at the output layer's weighted input zᴸ: in zᴸ itself where the cost has that form for
    this σ (``Cost.value_of_z``), else C(σ(zᴸ), y)."""
    in_z = None if isinstance(activation, PerNeuron) else cost.value_of_z.get(activation)
    return in_z(z, y) if in_z is not None else cost.value(activation.f(z), y)


def _categorical_softmax_delta(z: Array, a: Array, y: Array) -> Array:
    """δᴸ = Jᵀ∇ₐC = aᴸ − y for a softmax output when each column of y sums to 1."""
    return a - y


quadratic = Cost("quadratic", _quadratic_value, _quadratic_gradient)
cross_entropy = Cost("cross-entropy", _cross_entropy_value, _cross_entropy_gradient,
                     output_error={sigmoid: _cross_entropy_sigmoid_delta},
                     value_of_z={sigmoid: _cross_entropy_sigmoid_value})

categorical_cross_entropy = Cost("categorical-cross-entropy", _categorical_value,
                                 _categorical_gradient,
                                 output_error={softmax: _categorical_softmax_delta},
                                 value_of_z={softmax: _categorical_softmax_value})
"""−Σ y ln a with a softmax output layer; y one-hot (or a probability vector) per column."""

BUILTIN_COSTS: dict[str, Cost] = {c.name: c for c in (quadratic, cross_entropy,
                                                      categorical_cross_entropy)}


def custom(value: Callable[[Array, Array], Any], gradient: Callable[[Array, Array], Array],
           name: str = "custom") -> Cost:
    """A user-defined cost from C(a, y) (summed over entries) and its gradient ∇ₐC."""
    if not callable(value) or not callable(gradient):
        raise ValueError(f"custom cost {name!r}: value and gradient must be callable, "
                         f"got {type(value).__name__} and {type(gradient).__name__}")
    return Cost(name, value, gradient)
