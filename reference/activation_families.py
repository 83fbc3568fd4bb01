"""The activations frameworks define besides the book's, σ and σ′ as each framework computes them.

PyTorch's ``torch.nn`` activations (and JAX's ``jax.nn`` ones) are documented functions, some
with parameters, some differing from the textbook function by design: ``Softplus`` is z itself
where βz > threshold (20 by default), so its σ′ is exactly 1 there instead of σ(βz);
``GELU(approximate='tanh')`` is not z·Φ(z). Each is written here once, like the book's five in
``activations``: one formula for numpy (float or complex, for the complex step) and JAX, σ and σ′
accurate in both tails, no overflow warning for any finite z, the parameters in its name.

At a kink σ′ takes PyTorch's value (its autograd, measured): LeakyReLU′(0) = slope, ELU′(0) = α,
CELU′(0) = 1, SELU′(0) = λα, 0 at both ends of Hardtanh and Hardsigmoid (and of Hardshrink and
Softshrink's dead zone, Threshold's threshold), Hardswish′(−3) = 0 and Hardswish′(3) = 1; and σ
takes, at the kink, the branch whose derivative that is, so that the complex step of σ there
gives the same σ′ (the suite's complex-step check meets planted z at kinks: Hardtanh(−12, 14)).

A family's name lists the parameters that differ from its defaults (PyTorch's, except softplus,
whose default is the textbook function: threshold = inf), in PyTorch's argument names:
``softplus(beta=2,threshold=5)``, ``leaky_relu(negative_slope=0.2)``, ``gelu(approximate=tanh)``.

>>> import numpy as np
>>> torch_default = softplus_family(threshold=20.0)
>>> torch_default.name, float(torch_default.fprime(np.array(25.0)))
('softplus(threshold=20)', 1.0)

Kept whole: a catalogue of σ and σ′ as the frameworks document them, a few lines each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpverify.reference.activations import (
    Activation,
    Array,
    _sigmoid,
    _softplus,
    _tanh,
    _tanh_prime,
    namespace,
    relu,
    softplus,
)


def _real(z: Array) -> Array:
    return namespace(z).real(z)


def _zero(z: Array) -> Array:
    """0 in the dtype of z (complex stays complex)."""
    return 0.0 * z


def _expm1(z: Array) -> Array:
    """e^z − 1, accurate for complex z too: numpy's complex expm1 loses the real part of a tiny
    z (as its log1p does, see ``activations._log1p``); Re = expm1(x)·cos y − 2 sin²(y/2),
    Im = e^x·sin y for z = x + iy. Real (and JAX) input takes ``xp.expm1`` for z ≥ −1 and
    e^z − 1 below (no cancellation there: e^z − 1 < −0.63), whose derivative e^z JAX gets
    right in the tail, where its rule for expm1, expm1(z) + 1, gives 0 for z < −37."""
    xp = namespace(z)
    if not xp.isdtype(z.dtype, "complex floating"):
        return xp.where(z < -1.0, xp.exp(z) - 1.0, xp.expm1(xp.maximum(z, -1.0)))
    x, y = xp.real(z), xp.imag(z)
    half = xp.sin(0.5 * y)
    return xp.expm1(x) * xp.cos(y) - 2.0 * half * half + 1j * xp.exp(x) * xp.sin(y)


def _negative_part(z: Array) -> Array:
    """z where Re z ≤ 0, else 0: the argument of e^z in ELU-like branches, so that the branch not
    taken never overflows (nor gives JAX's gradient of ``where`` an inf·0)."""
    return namespace(z).where(_real(z) > 0, _zero(z), z)


def _erfc(z: Array) -> Array:
    """erfc for the namespace of z: scipy's (complex too) for numpy, JAX's for JAX arrays."""
    if namespace(z) is np:
        from scipy.special import erfc
        return erfc(z)
    import jax.scipy.special

    return jax.scipy.special.erfc(z)


# -- parameter-free ------------------------------------------------------------------------------

def _silu(z: Array) -> Array:
    """SiLU (swish): z·σ(z)."""
    return z * _sigmoid(z)


def _silu_prime(z: Array) -> Array:
    """σ(z)(1 + z·σ(−z)): no 1 − σ(z) to cancel in the right tail."""
    return _sigmoid(z) * (1.0 + z * _sigmoid(-z))


def _mish(z: Array) -> Array:
    """Mish: z·tanh(softplus(z))."""
    return z * _tanh(_softplus(z))


def _mish_prime(z: Array) -> Array:
    """tanh(sp) + z·tanh′(sp)·σ(z), sp = softplus(z), with tanh′ = 4t/(1+t)² (no 1 − tanh²)."""
    sp = _softplus(z)
    return _tanh(sp) + z * _tanh_prime(sp) * _sigmoid(z)


_GAUSS_LIMIT = 40.0
"""|z| beyond which φ(z) = e^(−z²/2)/√(2π) is 0 in float64 (e^(−800)): z is clamped there, so
that z² never overflows."""


def _phi(z: Array) -> Array:
    """The standard normal density, 0 for |Re z| ≥ 40 (its value underflows there anyway)."""
    xp = namespace(z)
    near = xp.where(xp.abs(_real(z)) < _GAUSS_LIMIT, z, _zero(z) + _GAUSS_LIMIT)
    return xp.exp(-0.5 * near * near) / math.sqrt(2.0 * math.pi)


def _gauss_cdf(z: Array) -> Array:
    """Φ(z) = ½ erfc(−z/√2): relative accuracy in the left tail, where 1 + erf cancels."""
    return 0.5 * _erfc(-z / math.sqrt(2.0))


def _gelu(z: Array) -> Array:
    """GELU, exact: z·Φ(z)."""
    return z * _gauss_cdf(z)


def _gelu_prime(z: Array) -> Array:
    """Φ(z) + z·φ(z)."""
    return _gauss_cdf(z) + z * _phi(z)


_GELU_TANH_C = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715
_GELU_TANH_LIMIT = 1000.0
"""|z| beyond which σ(2u) is exactly 0 or 1 (2u ≈ 7e7): z is clamped there inside u, so that z³
never overflows."""


def _gelu_tanh_u(z: Array) -> tuple[Array, Array]:
    """u = √(2/π)(z + 0.044715 z³) and du/dz, with z clamped at ±1000 (``_GELU_TANH_LIMIT``)."""
    xp = namespace(z)
    w = xp.where(xp.abs(_real(z)) < _GELU_TANH_LIMIT, z,
                 _zero(z) + xp.where(_real(z) > 0, _GELU_TANH_LIMIT, -_GELU_TANH_LIMIT))
    return (_GELU_TANH_C * (w + _GELU_TANH_CUBIC * w * w * w),
            _GELU_TANH_C * (1.0 + 3.0 * _GELU_TANH_CUBIC * w * w))


def _gelu_tanh(z: Array) -> Array:
    """GELU, tanh approximation: ½z(1 + tanh u) = z·σ(2u), which does not cancel where u ≪ 0."""
    u, _ = _gelu_tanh_u(z)
    return z * _sigmoid(2.0 * u)


def _gelu_tanh_prime(z: Array) -> Array:
    """σ(2u) + z·2σ(2u)σ(−2u)·u′."""
    u, du = _gelu_tanh_u(z)
    return _sigmoid(2.0 * u) + 2.0 * _sigmoid(2.0 * u) * _sigmoid(-2.0 * u) * du * z


def _sign_real(z: Array) -> Array:
    """+1 where Re z ≥ 0, else −1: |z| continued analytically as s·z on each side."""
    xp = namespace(z)
    return xp.where(_real(z) >= 0, 1.0, -1.0)


def _softsign(z: Array) -> Array:
    """z/(1 + |z|), |z| as s·z (complex-step safe away from 0)."""
    return z / (1.0 + _sign_real(z) * z)


def _softsign_prime(z: Array) -> Array:
    """1/(1 + |z|)², as r·r: (1 + |z|)² would overflow for |z| > 1e154."""
    r = 1.0 / (1.0 + _sign_real(z) * z)
    return r * r


def _logsigmoid(z: Array) -> Array:
    """ln σ(z) = −softplus(−z)."""
    return -_softplus(-z)


def _logsigmoid_prime(z: Array) -> Array:
    """σ(−z)."""
    return _sigmoid(-z)


_TANH_TAYLOR = (1.0, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075,
                -929569 / 638512875, 6404582 / 10854718875, -443861162 / 1856156927625,
                18888466084 / 194896477400625, -113927491862 / 2900518163668125,
                58870668456604 / 3698160658676859375)
"""tanh z = Σₖ Tₖ z^(2k+1) (|z| < π/2)."""
_TANHSHRINK_SERIES = 0.25
"""|z| below which z − tanh z is summed as a series (the terms shrink by ≈ (2z/π)² ≤ 0.025, so
the 12 terms kept leave < 1e-19 relative): the difference cancels there."""


def _tanhshrink(z: Array) -> Array:
    """z − tanh z; near 0, −Σₖ≥₁ Tₖ z^(2k+1), without the cancellation."""
    xp = namespace(z)
    small = xp.abs(_real(z)) < _TANHSHRINK_SERIES
    zs = xp.where(small, z, _zero(z))
    z2 = zs * zs
    series = _zero(z)
    for coefficient in reversed(_TANH_TAYLOR[1:]):
        series = (series + coefficient) * z2
    return xp.where(small, -series * zs, z - _tanh(z))


def _tanhshrink_prime(z: Array) -> Array:
    """tanh² z."""
    t = _tanh(z)
    return t * t


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
"""SELU's constants, as PyTorch and JAX define them."""


def _selu(z: Array) -> Array:
    """λ·(z for z > 0, α(e^z − 1) for z ≤ 0)."""
    xp = namespace(z)
    return _SELU_SCALE * xp.where(_real(z) > 0, z, _SELU_ALPHA * _expm1(_negative_part(z)))


def _selu_prime(z: Array) -> Array:
    """λ for z > 0, λαe^z for z ≤ 0 (λα at the kink, as PyTorch)."""
    xp = namespace(z)
    return _SELU_SCALE * xp.where(_real(z) > 0, 1.0 + _zero(z),
                                  _SELU_ALPHA * xp.exp(_negative_part(z)))


def _hardsigmoid(z: Array) -> Array:
    """0 for z ≤ −3, 1 for z ≥ 3, z/6 + ½ between."""
    xp = namespace(z)
    r = _real(z)
    return xp.where(r <= -3.0, _zero(z), xp.where(r >= 3.0, _zero(z) + 1.0, z / 6.0 + 0.5))


def _hardsigmoid_prime(z: Array) -> Array:
    """1/6 strictly between −3 and 3, else 0 (0 at ±3, as PyTorch)."""
    xp = namespace(z)
    r = _real(z)
    return xp.where((r > -3.0) & (r < 3.0), 1.0 / 6.0, 0.0) + _zero(z)


def _hardswish(z: Array) -> Array:
    """z·hardsigmoid(z): 0 for z ≤ −3, z for z ≥ 3, z(z + 3)/6 between."""
    xp = namespace(z)
    r = _real(z)
    inner = xp.where(xp.abs(r) <= 3.0, z, _zero(z))  # z(z + 3) overflows where not taken
    return xp.where(r <= -3.0, _zero(z), xp.where(r >= 3.0, z, inner * (inner + 3.0) / 6.0))


def _hardswish_prime(z: Array) -> Array:
    """0 for z ≤ −3, z/3 + ½ for −3 < z < 3, 1 for z ≥ 3 (PyTorch's values at ±3)."""
    xp = namespace(z)
    r = _real(z)
    return xp.where(r <= -3.0, _zero(z), xp.where(r >= 3.0, _zero(z) + 1.0, z / 3.0 + 0.5))


silu = Activation("silu", _silu, _silu_prime)
"""SiLU or swish, z·σ(z) (``torch.nn.SiLU``, ``jax.nn.silu``)."""
mish = Activation("mish", _mish, _mish_prime)
gelu = Activation("gelu", _gelu, _gelu_prime)
"""GELU as ``torch.nn.GELU()`` (``approximate='none'``) and ``jax.nn.gelu(approximate=False)``."""
gelu_tanh = Activation("gelu(approximate=tanh)", _gelu_tanh, _gelu_tanh_prime)
"""GELU's tanh approximation, ``torch.nn.GELU(approximate='tanh')`` and ``jax.nn.gelu``'s
default."""
selu = Activation("selu", _selu, _selu_prime, kinks=(0.0,))
softsign = Activation("softsign", _softsign, _softsign_prime)
logsigmoid = Activation("logsigmoid", _logsigmoid, _logsigmoid_prime)
tanhshrink = Activation("tanhshrink", _tanhshrink, _tanhshrink_prime)
hardsigmoid = Activation("hardsigmoid", _hardsigmoid, _hardsigmoid_prime, kinks=(-3.0, 3.0))
hardswish = Activation("hardswish", _hardswish, _hardswish_prime, kinks=(-3.0, 3.0))


# -- families with parameters --------------------------------------------------------------------

def _number(value: float) -> str:
    """A parameter as a name shows it: 20 (not 20.0), 0.01, 1e-05, inf."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True)
class Family:
    """Activations with parameters: ``build(**parameters)`` → the Activation; ``defaults`` lists
    every parameter in order, with its default (a name leaves out the parameters at theirs)."""

    name: str
    defaults: tuple[tuple[str, Any], ...]
    build: Callable[..., Activation]

    def __call__(self, **parameters: Any) -> Activation:
        unknown = sorted(set(parameters) - {key for key, _ in self.defaults})
        if unknown:
            raise ValueError(f"activation {self.name}: unknown parameter(s) {unknown}, expected "
                             f"some of {[key for key, _ in self.defaults]}")
        values = {key: parameters.get(key, default) for key, default in self.defaults}
        return self.build(**values)

    def named(self, values: dict[str, Any]) -> str:
        """``family(key=value,…)`` with the parameters off their defaults, or ``family``."""
        shown = [f"{key}={_number(values[key]) if isinstance(default, float) else values[key]}"
                 for key, default in self.defaults if values[key] != default]
        return f"{self.name}({','.join(shown)})" if shown else self.name


def _finite(family: str, **values: float) -> None:
    for key, value in values.items():
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"activation {family}: {key} is {value!r}, expected a finite number")


_SOFTPLUS_FLOOR = 800.0
"""−βz beyond which softplus(βz) = e^(βz) and σ(βz) underflow to 0 (e^(−745) is the least
subnormal number)."""


def _build_softplus(beta: float, threshold: float) -> Activation:
    """(1/β)·ln(1 + e^(βz)), and z itself where βz > threshold: PyTorch's ``Softplus`` (the
    branch taken where z > threshold/β, which may differ from PyTorch's test βz > threshold in the
    last bit of the breakpoint)."""
    _finite("softplus", beta=beta)
    if beta <= 0:
        raise ValueError(f"activation softplus: beta is {beta!r}, expected > 0")
    if math.isnan(threshold):
        raise ValueError("activation softplus: threshold is nan, expected a number or inf")
    if beta == 1.0 and threshold == math.inf:
        return softplus  # the textbook function itself

    kink = threshold / beta

    floor = -_SOFTPLUS_FLOOR / beta

    def linear(z: Array) -> tuple[Array, Array]:
        """Where βz > threshold; and z elsewhere, 0 there and −800/β below it (βz would overflow
        where not taken, and softplus(βz) and σ(βz) are 0 below −800 all the same)."""
        xp = namespace(z)
        r = _real(z)
        above = r > kink
        return above, xp.where(above, _zero(z), xp.where(r < floor, _zero(z) + floor, z))

    def f(z: Array) -> Array:
        above, below = linear(z)
        return namespace(z).where(above, z, _softplus(beta * below) / beta)

    def fprime(z: Array) -> Array:
        above, below = linear(z)
        return namespace(z).where(above, 1.0 + _zero(z), _sigmoid(beta * below))

    kinks = (kink,) if math.isfinite(threshold) else ()
    return Activation(SOFTPLUS.named({"beta": beta, "threshold": threshold}), f, fprime,
                      kinks=kinks)


def _build_leaky_relu(negative_slope: float) -> Activation:
    """z for z > 0, slope·z for z ≤ 0; σ′(0) = slope (PyTorch)."""
    _finite("leaky_relu", negative_slope=negative_slope)
    if negative_slope == 0.0:
        return relu

    def f(z: Array) -> Array:
        return namespace(z).where(_real(z) > 0, z, negative_slope * z)

    def fprime(z: Array) -> Array:
        return namespace(z).where(_real(z) > 0, 1.0, negative_slope) + _zero(z)

    return Activation(LEAKY_RELU.named({"negative_slope": negative_slope}), f, fprime,
                      kinks=(0.0,))


def _build_elu(alpha: float) -> Activation:
    """z for z > 0, α(e^z − 1) for z ≤ 0; σ′(0) = α (PyTorch)."""
    _finite("elu", alpha=alpha)

    def f(z: Array) -> Array:
        return namespace(z).where(_real(z) > 0, z, alpha * _expm1(_negative_part(z)))

    def fprime(z: Array) -> Array:
        xp = namespace(z)
        return xp.where(_real(z) > 0, 1.0 + _zero(z), alpha * xp.exp(_negative_part(z)))

    return Activation(ELU.named({"alpha": alpha}), f, fprime, kinks=(0.0,))


def _build_celu(alpha: float) -> Activation:
    """z for z > 0, α(e^(z/α) − 1) for z ≤ 0; σ′(0) = 1. CELU with α = 1 is ELU with α = 1."""
    _finite("celu", alpha=alpha)
    if alpha == 0.0:
        raise ValueError("activation celu: alpha is 0, expected a nonzero number")
    if alpha == 1.0:
        return ELU()

    def f(z: Array) -> Array:
        return namespace(z).where(_real(z) > 0, z, alpha * _expm1(_negative_part(z) / alpha))

    def fprime(z: Array) -> Array:
        xp = namespace(z)
        return xp.where(_real(z) > 0, 1.0 + _zero(z), xp.exp(_negative_part(z) / alpha))

    return Activation(CELU.named({"alpha": alpha}), f, fprime, kinks=(0.0,))


def _build_hardtanh(min_val: float, max_val: float) -> Activation:
    """z clamped to [min_val, max_val]; σ′ = 0 at both ends (PyTorch). ReLU6 is (0, 6)."""
    _finite("hardtanh", min_val=min_val, max_val=max_val)
    if not min_val < max_val:
        raise ValueError(f"activation hardtanh: min_val is {min_val!r} and max_val {max_val!r}, "
                         "expected min_val < max_val")

    def f(z: Array) -> Array:
        xp = namespace(z)
        r = _real(z)
        return xp.where(r <= min_val, _zero(z) + min_val,
                        xp.where(r >= max_val, _zero(z) + max_val, z))

    def fprime(z: Array) -> Array:
        r = _real(z)
        return namespace(z).where((r > min_val) & (r < max_val), 1.0, 0.0) + _zero(z)

    name = "relu6" if (min_val, max_val) == (0.0, 6.0) else HARDTANH.named(
        {"min_val": min_val, "max_val": max_val})
    return Activation(name, f, fprime, kinks=(min_val, max_val))


def _build_threshold(threshold: float, value: float) -> Activation:
    """z for z > threshold, else value; σ′ = 0 at the threshold (PyTorch). (0, 0) is ReLU."""
    _finite("threshold", threshold=threshold, value=value)
    if threshold == 0.0 and value == 0.0:
        return relu

    def f(z: Array) -> Array:
        return namespace(z).where(_real(z) > threshold, z, _zero(z) + value)

    def fprime(z: Array) -> Array:
        return namespace(z).where(_real(z) > threshold, 1.0, 0.0) + _zero(z)

    return Activation(THRESHOLD.named({"threshold": threshold, "value": value}), f, fprime,
                      kinks=(threshold,))


def _check_lambd(family: str, lambd: float) -> None:
    _finite(family, lambd=lambd)
    if lambd < 0:
        raise ValueError(f"activation {family}: lambd is {lambd!r}, expected ≥ 0")


def _dead_zone_prime(lambd: float) -> Callable[[Array], Array]:
    """1 for |z| > λ, 0 on [−λ, λ] (both ends included, as PyTorch)."""
    def fprime(z: Array) -> Array:
        xp = namespace(z)
        return xp.where(xp.abs(_real(z)) > lambd, 1.0, 0.0) + _zero(z)
    return fprime


def _build_hardshrink(lambd: float) -> Activation:
    """z for |z| > λ, else 0."""
    _check_lambd("hardshrink", lambd)

    def f(z: Array) -> Array:
        xp = namespace(z)
        return xp.where(xp.abs(_real(z)) > lambd, z, _zero(z))

    return Activation(HARDSHRINK.named({"lambd": lambd}), f, _dead_zone_prime(lambd),
                      kinks=(-lambd, lambd))


def _build_softshrink(lambd: float) -> Activation:
    """z − λ for z > λ, z + λ for z < −λ, else 0."""
    _check_lambd("softshrink", lambd)

    def f(z: Array) -> Array:
        xp = namespace(z)
        r = _real(z)
        return xp.where(r > lambd, z - lambd, xp.where(r < -lambd, z + lambd, _zero(z)))

    return Activation(SOFTSHRINK.named({"lambd": lambd}), f, _dead_zone_prime(lambd),
                      kinks=(-lambd, lambd))


def _build_gelu(approximate: str) -> Activation:
    """GELU exact (``approximate='none'``) or its tanh approximation (``'tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"activation gelu: approximate is {approximate!r}, expected 'none' or "
                         "'tanh'")
    return gelu if approximate == "none" else gelu_tanh


SOFTPLUS = Family("softplus", (("beta", 1.0), ("threshold", math.inf)), _build_softplus)
LEAKY_RELU = Family("leaky_relu", (("negative_slope", 0.01),), _build_leaky_relu)
ELU = Family("elu", (("alpha", 1.0),), _build_elu)
CELU = Family("celu", (("alpha", 1.0),), _build_celu)
HARDTANH = Family("hardtanh", (("min_val", -1.0), ("max_val", 1.0)), _build_hardtanh)
THRESHOLD = Family("threshold", (("threshold", 0.0), ("value", 0.0)), _build_threshold)
HARDSHRINK = Family("hardshrink", (("lambd", 0.5),), _build_hardshrink)
SOFTSHRINK = Family("softshrink", (("lambd", 0.5),), _build_softshrink)
GELU = Family("gelu", (("approximate", "none"),), _build_gelu)

FAMILIES: dict[str, Family] = {f.name: f for f in (SOFTPLUS, LEAKY_RELU, ELU, CELU, HARDTANH,
                                                   THRESHOLD, HARDSHRINK, SOFTSHRINK, GELU)}
"""By name: ``FAMILIES['softplus'](beta=2.0, threshold=5.0)``."""

softplus_family = SOFTPLUS
relu6 = HARDTANH(min_val=0.0, max_val=6.0)

NAMED: dict[str, Activation] = {a.name: a for a in (
    silu, mish, gelu, gelu_tanh, selu, softsign, logsigmoid, tanhshrink, hardsigmoid, hardswish,
    relu6, LEAKY_RELU(), ELU(), HARDTANH(), HARDSHRINK(), SOFTSHRINK())}
"""The parameter-free ones, and each family at its defaults, by name (``leaky_relu`` is PyTorch's
slope 0.01)."""
