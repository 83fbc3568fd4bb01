"""Activation functions σ and their derivatives σ′ (BP1, BP2 use σ′(z)).

Each activation is written once, against the array namespace of its argument, so
the same formula runs on numpy arrays (float or complex, for the complex-step
oracle) and on JAX arrays (for the autodiff oracle). σ′ is written by hand: it is
what the oracles check. The sigmoid also has a fast form for real float32/float64
numpy arrays (``scipy.special.expit``, one ufunc), which the reference's
backpropagation uses; every other argument takes the general formula.

>>> import numpy as np
>>> float(sigmoid.fprime(np.array(40.0)))  # the naive σ(1 − σ) gives 0.0 here
4.248354255291589e-18
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

Array = Any  # numpy or JAX array; float or complex


def namespace(x: Array) -> ModuleType:
    """The array namespace of ``x`` (numpy, or jax.numpy for JAX arrays and tracers)."""
    get = getattr(x, "__array_namespace__", None)
    return get() if get is not None else np


@dataclass(frozen=True)
class Activation:
    """An elementwise activation σ with its derivative σ′.

    ``analytic`` says whether σ is holomorphic where it is evaluated, so that
    the complex-step oracle applies; ``kinks`` lists points where σ′ jumps.
    """

    name: str
    f: Callable[[Array], Array]
    fprime: Callable[[Array], Array]
    analytic: bool = True
    kinks: tuple[float, ...] = ()

    def __call__(self, z: Array) -> Array:
        return self.f(z)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


def _sign_of_real(z: Array) -> Array:
    """s = +1 where Re z ≥ 0, else −1: exp(−s·z) then never overflows."""
    xp = namespace(z)
    return xp.where(xp.real(z) >= 0, 1.0, -1.0)


def _exp_minus_abs(z: Array) -> tuple[Array, Array]:
    """(t, Re z ≥ 0) with t = e^(−|z|) ≤ 1, continued analytically as e^(−s·z) for complex z."""
    xp = namespace(z)
    if z.dtype.kind == "f":  # the common, real case: two ufuncs fewer
        return xp.exp(-xp.abs(z)), z >= 0
    s = _sign_of_real(z)
    return xp.exp(-s * z), s > 0


def is_real_numpy(z: Array) -> bool:
    """Whether ``z`` takes the fast path: a numpy float32/float64 array of at least one dimension
    (not a subclass, not complex, not a JAX array or tracer)."""
    return type(z) is np.ndarray and z.ndim > 0 and z.dtype.char in "fd"


_EXP_OVERFLOW = {c: float(np.log(np.finfo(c).max)) for c in "fd"}
"""ln(max float): 709.78 in float64, 88.72 in float32. Beyond it e^|z| overflows."""

_expit: np.ufunc | None = None


def _expit_function() -> np.ufunc:
    """``scipy.special.expit``, imported on first use: ``import bpverify.reference`` stays light."""
    global _expit
    if _expit is None:
        from scipy.special import expit
        _expit = expit
    return _expit


def _far_tails(z: np.ndarray) -> np.ndarray:
    """Where |z| > ln(max float): e^|z| overflows, so ``expit`` gives σ = 0 (z < 0) where σ is
    still a subnormal number, and σ′ = 0 where it is too. These are the only zeros it gives."""
    return np.abs(z) > _EXP_OVERFLOW[z.dtype.char]


def real_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) for a real numpy array: ``expit``, 1/(1 + e^(−z)) in one ufunc, a few ulp in both tails.

    Where it gives 0, σ(z) = e^z to rounding (1 + e^z = 1): that is written instead, the
    general formula's subnormal value, so both paths agree on every finite z.
    """
    a = _expit_function()(z)
    if np.count_nonzero(a) != a.size:  # a zero: z < −ln(max float) somewhere
        low = _far_tails(z) & (z < 0)
        a[low] = np.exp(z[low])
    return a


def real_sigmoid_and_prime(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and σ′(z) = σ(z)·σ(−z) for a real numpy array (two ``expit`` ufuncs and a product).

    Both factors keep full relative accuracy in both tails and the product has no
    cancellation (the naive σ(1 − σ) gives σ′(40) = 0 instead of 4.25e-18). Where |z| >
    ln(max float), σ′ = e^(−|z|) and σ(z) = e^z (z < 0) to rounding, as the general formula
    gives them (subnormal numbers), instead of ``expit``'s zeros.
    """
    expit = _expit_function()
    a = expit(z)
    s = np.negative(z)
    expit(s, out=s)
    s *= a
    if np.count_nonzero(s) != s.size:  # a zero: |z| > ln(max float) somewhere
        far = _far_tails(z)
        low = far & (z < 0)
        a[low] = np.exp(z[low])
        s[far] = np.exp(-np.abs(z[far]))
    return a, s


def sigmoid_formula(z: Array) -> Array:
    """σ(z) = 1/(1 + e^(−z)), evaluated as 1/(1+t) or t/(1+t) with t = e^(−|z|) ≤ 1 (any array)."""
    t, nonnegative = _exp_minus_abs(z)
    r = 1.0 / (1.0 + t)
    return namespace(z).where(nonnegative, r, t * r)


def sigmoid_prime_formula(z: Array) -> Array:
    """σ′(z) = σ(z)(1 − σ(z)) = t/(1+t)² with t = e^(−|z|): full relative accuracy in both tails."""
    t, _ = _exp_minus_abs(z)
    r = 1.0 / (1.0 + t)
    return t * r * r


def _sigmoid(z: Array) -> Array:
    """σ(z): ``real_sigmoid`` for real numpy arrays, ``sigmoid_formula`` for everything else."""
    return real_sigmoid(z) if is_real_numpy(z) else sigmoid_formula(z)


def _sigmoid_prime(z: Array) -> Array:
    """σ′(z): from ``real_sigmoid_and_prime`` for real numpy arrays, else ``sigmoid_prime_formula``."""
    return real_sigmoid_and_prime(z)[1] if is_real_numpy(z) else sigmoid_prime_formula(z)


def _tanh(z: Array) -> Array:
    """tanh(z): ``xp.tanh`` for |z| < 1, s·(1 − t)/(1 + t) with t = e^(−2|z|) beyond.

    Both branches are exact to rounding; the second exists so that autodiff of
    this formula stays accurate in the tails, where JAX's derivative of
    ``jnp.tanh``, 1 − tanh², is 0 past |z| ≈ 19.
    """
    xp = namespace(z)
    s = _sign_of_real(z)
    e = xp.exp(-s * z)
    t = e * e  # not exp(−2|z|): 2|z| overflows for |z| > 9e307
    return xp.where(xp.abs(xp.real(z)) < 1.0, xp.tanh(z), s * (1.0 - t) / (1.0 + t))


def _tanh_prime(z: Array) -> Array:
    """tanh′(z) = 1 − tanh²(z) = 4t/(1+t)² with t = e^(−2|z|): no cancellation in the tails."""
    xp = namespace(z)
    e = xp.exp(-_sign_of_real(z) * z)
    t = e * e  # not exp(−2|z|): 2|z| overflows for |z| > 9e307
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


def _identity(z: Array) -> Array:
    return z


def _one(z: Array) -> Array:
    return namespace(z).ones_like(z)


def _relu(z: Array) -> Array:
    xp = namespace(z)
    return xp.where(xp.real(z) > 0, z, 0.0 * z)


def _relu_prime(z: Array) -> Array:
    """ReLU′(z) = 1 for z > 0 and 0 for z ≤ 0 (convention at the kink z = 0, as in JAX and PyTorch)."""
    xp = namespace(z)
    return xp.where(xp.real(z) > 0, 1.0, 0.0) + 0.0 * z


def _log1p(t: Array) -> Array:
    """ln(1 + t), accurate for complex t too.

    numpy's complex log1p loses the real part for small t (log1p(1e-20 + 0j) gives
    0), which would corrupt the complex step. For complex t we take
    Re ln(1 + t) = ½ log1p(Re t·(2 + Re t) + (Im t)²) and Im ln(1 + t) = atan2(Im t, 1 + Re t).
    Real (and JAX) input keeps ``xp.log1p``, whose derivative autodiff gets right.
    """
    xp = namespace(t)
    if not xp.isdtype(t.dtype, "complex floating"):
        return xp.log1p(t)
    re, im = xp.real(t), xp.imag(t)
    return 0.5 * xp.log1p(re * (2.0 + re) + im * im) + 1j * xp.atan2(im, 1.0 + re)


def _softplus(z: Array) -> Array:
    """softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^(−|z|))."""
    xp = namespace(z)
    s = _sign_of_real(z)
    return xp.where(s > 0, z, 0.0 * z) + _log1p(xp.exp(-s * z))


sigmoid = Activation("sigmoid", _sigmoid, _sigmoid_prime)
tanh = Activation("tanh", _tanh, _tanh_prime)
identity = Activation("identity", _identity, _one)
"""The linear neuron σ(z) = z of the exercise "backpropagation with linear neurons"."""
relu = Activation("relu", _relu, _relu_prime, kinks=(0.0,))
softplus = Activation("softplus", _softplus, _sigmoid)

BUILTIN_ACTIVATIONS: dict[str, Activation] = {
    a.name: a for a in (sigmoid, tanh, identity, relu, softplus)
}


def custom(f: Callable[[Array], Array], fprime: Callable[[Array], Array], name: str = "custom",
           *, analytic: bool = True) -> Activation:
    """A user-defined activation f with its derivative f′ (the exercise "a single modified neuron").

    Write f and f′ with arithmetic operators or ``namespace(z)`` functions so the
    JAX and complex-step oracles can run them too.
    """
    if not callable(f) or not callable(fprime):
        raise ValueError(f"custom activation {name!r}: f and fprime must be callable, "
                         f"got {type(f).__name__} and {type(fprime).__name__}")
    return Activation(name, f, fprime, analytic=analytic)


@dataclass(frozen=True)
class PerNeuron:
    """Different activations for the neurons of one layer: row j of z goes through ``activations[j]``."""

    activations: tuple[Activation, ...]

    def __post_init__(self) -> None:
        if len(self.activations) == 0:
            raise ValueError("PerNeuron: activations is empty, expected one per neuron")
        for j, act in enumerate(self.activations):
            if not isinstance(act, Activation):
                raise ValueError(f"PerNeuron: activations[{j}] is {type(act).__name__}, "
                                 "expected an Activation")

    @property
    def name(self) -> str:
        return "per-neuron(" + ", ".join(a.name for a in self.activations) + ")"

    @property
    def width(self) -> int:
        return len(self.activations)

    @property
    def analytic(self) -> bool:
        return all(a.analytic for a in self.activations)

    @property
    def kinks(self) -> tuple[float, ...]:
        return tuple(sorted({k for a in self.activations for k in a.kinks}))

    def _rowwise(self, z: Array, which: str) -> Array:
        xp = namespace(z)
        return xp.concat([getattr(act, which)(z[j:j + 1]) for j, act in
                          enumerate(self.activations)], axis=0)

    def f(self, z: Array) -> Array:
        return self._rowwise(z, "f")

    def fprime(self, z: Array) -> Array:
        return self._rowwise(z, "fprime")

    def __call__(self, z: Array) -> Array:
        return self.f(z)


class Softmax:
    """The softmax output layer, aⱼ = e^(zⱼ) / Σₖ e^(zₖ) for each column: not elementwise, so
    BP1 takes its Jacobian J = diag(a) − aaᵀ: δᴸ = Jᵀ∇ₐC = a ⊙ (∇ₐC − ⟨a, ∇ₐC⟩). It belongs to
    the output layer only (BP2 needs an elementwise σ′)."""

    name = "softmax"
    analytic = True
    kinks: tuple[float, ...] = ()

    def f(self, z: Array) -> Array:
        """e^(z − max z) / Σ e^(z − max z): the shift by the (real) maximum changes nothing but
        keeps every exponential ≤ 1."""
        xp = namespace(z)
        shifted = z - xp.max(xp.real(z), axis=0, keepdims=True)
        e = xp.exp(shifted)
        return e / xp.sum(e, axis=0, keepdims=True)

    def fprime(self, z: Array) -> Array:
        """Not elementwise: there is no σ′(zⱼ) of one zⱼ; BP1 uses ``vjp``, BP2 never meets it."""
        raise NotImplementedError("softmax is not elementwise: its derivative is the Jacobian "
                                  "diag(a) − aaᵀ, applied by Softmax.vjp")

    def vjp(self, z: Array, g: Array) -> Array:
        """Jᵀg = a ⊙ (g − ⟨a, g⟩) per column: BP1 for a softmax output layer, evaluated as
        aⱼ Σₖ aₖ(gⱼ − gₖ) (Σₖ aₖ = 1): where one aⱼ is near 1, gⱼ − ⟨a, g⟩ would cancel and lose
        the small δⱼ of the others; this form has no such subtraction (O(n_L²) per example)."""
        a = self.f(z)
        differences = g[:, None, :] - g[None, :, :]  # gⱼ − gₖ
        return a * namespace(z).sum(a[None, :, :] * differences, axis=1)

    def __call__(self, z: Array) -> Array:
        return self.f(z)

    def __repr__(self) -> str:
        return "Softmax()"


softmax = Softmax()
"""The softmax output layer (pair it with ``costs.categorical_cross_entropy``)."""

LayerActivation = Activation | PerNeuron | Softmax


def layer_activations(activation: LayerActivation | Sequence[LayerActivation],
                      sizes: Sequence[int]) -> tuple[LayerActivation, ...]:
    """One activation per layer l = 2, …, L from a single activation or a list of L − 1 of them."""
    n_layers = len(sizes) - 1
    if type(activation) is Activation:  # the common case: nothing per layer to check
        return (activation,) * n_layers
    if isinstance(activation, Softmax) and n_layers > 1:
        raise ValueError("activation is softmax for every layer; softmax belongs to the output "
                         "layer only: give one activation per layer, softmax last")
    if isinstance(activation, Activation | PerNeuron | Softmax):
        per_layer: tuple[Any, ...] = (activation,) * n_layers
    elif isinstance(activation, Sequence) and not isinstance(activation, str):
        per_layer = tuple(activation)
        if len(per_layer) != n_layers:
            raise ValueError(f"activation has {len(per_layer)} entries, expected one per layer "
                             f"2..{n_layers + 1} ({n_layers}) for sizes {list(sizes)}")
    else:
        raise ValueError(f"activation is {type(activation).__name__}, expected an Activation, "
                         "a PerNeuron or a list of them (one per layer 2..L)")
    for i, act in enumerate(per_layer):
        if not isinstance(act, Activation | PerNeuron | Softmax):
            raise ValueError(f"activation for layer {i + 2} is {type(act).__name__}, "
                             "expected an Activation, a PerNeuron or softmax")
        if isinstance(act, Softmax) and i != n_layers - 1:
            raise ValueError(f"activation for layer {i + 2} is softmax, which belongs to the "
                             f"output layer {n_layers + 1} only")
        if isinstance(act, PerNeuron) and act.width != sizes[i + 1]:
            raise ValueError(f"activation for layer {i + 2} has {act.width} per-neuron "
                             f"activations, expected {sizes[i + 1]} (the width of layer {i + 2})")
    return per_layer
