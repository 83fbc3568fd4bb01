"""The reference's fast path: for real float32/float64 numpy arrays, σ is ``scipy.special.expit``,
σ′ = σ(z)·σ(−z), and backpropagation runs lean (in place, σ′ from the feedforward pass);
complex, JAX, custom and per-neuron arguments keep the general formulas. The fast path must be
as accurate as the formulas in both tails and give the general path's values.

Exact values come from mpmath at 50 digits, independent of both formulas.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given
from strategies import cases

import bpverify.reference as R
from bpverify.oracles.cases import Case, cubic_activation, random_case
from bpverify.oracles.discrepancy import worst_discrepancy
from bpverify.oracles.tolerances import tolerance_for
from bpverify.reference import activations as A
from bpverify.reference import backpropagation as B
from bpverify.reference import validation as V

mpmath.mp.dps = 50

# Relative error allowed where the exact value is a normal number, in units of the dtype's
# roundoff u: expit = 1/(1 + e^(−z)) rounds three times (exp, +, ÷; measured ≤ 2.4u), σ′ is two
# such factors and a product (measured ≤ 3.8u).
SIGMA_ULPS = 4
SIGMA_PRIME_ULPS = 8
# Where the exact value is subnormal (|z| beyond ln(max float)), only absolute accuracy exists:
# float64 within two steps of the subnormal grid; float32 within the smallest normal number,
# because numpy's float32 exp flushes subnormal results to 0 (the general formula does too).
SUBNORMAL_ALLOWANCE = {np.float64: 2 * float(np.finfo(np.float64).smallest_subnormal),
                       np.float32: float(np.finfo(np.float32).tiny)}


def _exact(z: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    e = mpmath.exp(-mpmath.mpf(z))
    return 1 / (1 + e), e / (1 + e) ** 2


def _tail_points(dtype: type) -> np.ndarray:
    """Both tails out to underflow, the subnormal band past ln(max float), and the middle."""
    edge = float(np.log(np.finfo(dtype).max))
    below = float(-np.log(np.finfo(dtype).smallest_subnormal))
    grid = np.concatenate([np.linspace(-below, below, 801), np.linspace(edge - 2, below, 200),
                           [0.0, 1e-9, 36.0, 37.5, 40.0, edge, np.nextafter(edge, 0)]])
    points = np.concatenate([grid, -grid]).astype(dtype)
    return points


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_sigma_and_sigma_prime_are_accurate_in_both_tails(dtype: type) -> None:
    z = _tail_points(dtype)
    assert A.is_real_numpy(z)
    u = float(np.finfo(dtype).eps) / 2
    tiny = float(np.finfo(dtype).tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or underflow warning anywhere
        value, derivative = A.real_sigmoid_and_prime(z)
        alone = A.real_sigmoid(z)
    np.testing.assert_array_equal(alone, value)
    assert value.dtype == derivative.dtype == dtype
    for zj, got_f, got_fp in zip(z, value, derivative, strict=True):
        exact_f, exact_fp = _exact(float(zj))
        for got, exact, ulps in ((got_f, exact_f, SIGMA_ULPS), (got_fp, exact_fp, SIGMA_PRIME_ULPS)):
            error = abs(mpmath.mpf(float(got)) - exact)
            if exact >= tiny:
                assert error <= ulps * u * exact, (dtype, float(zj), float(got), float(exact))
            else:
                assert error <= SUBNORMAL_ALLOWANCE[dtype], (dtype, float(zj), float(got), float(exact))


def test_sigma_prime_at_40_keeps_its_value_on_the_fast_path() -> None:
    """The naive σ(1 − σ) gives 0 at z = 40; the fast path gives 4.248e-18 to a few ulp."""
    z = np.array([[40.0], [-40.0]])
    exact = float(_exact(40.0)[1])
    np.testing.assert_allclose(R.sigmoid.fprime(z), [[exact], [exact]], rtol=SIGMA_PRIME_ULPS * 2**-53)


class _Subclass(np.ndarray):
    pass


@pytest.mark.parametrize("make", [
    lambda z: z.astype(np.complex128) + 1e-20j,     # the complex step
    lambda z: jnp.asarray(z),                       # JAX (and so its tracers)
    lambda z: np.float64(z[0, 0]),                  # a numpy scalar
    lambda z: np.array(z[0, 0]),                    # a 0-d array
    lambda z: z.astype(np.float16),                 # a float the fast path does not take
    lambda z: z.view(_Subclass),                    # a subclass
], ids=["complex", "jax", "scalar", "0-d", "float16", "subclass"])
def test_other_arguments_take_the_general_formula(make) -> None:  # type: ignore[no-untyped-def]
    z = make(np.array([[-3.0], [0.5], [41.0]]))
    assert not A.is_real_numpy(z)
    for got, formula in ((R.sigmoid.f(z), A.sigmoid_formula(z)),
                         (R.sigmoid.fprime(z), A.sigmoid_prime_formula(z))):
        assert type(got) is type(formula)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(formula))


def test_which_path_backpropagation_takes() -> None:
    sig, cubic = R.sigmoid, cubic_activation()
    assert B._lean_applies((sig, R.tanh, R.relu), R.quadratic, True)
    assert B._lean_applies((sig,), R.cross_entropy, True)
    assert not B._lean_applies((sig, sig), R.quadratic, False)  # mixed or other dtypes
    assert not B._lean_applies((cubic, sig), R.quadratic, True)  # custom activation
    assert not B._lean_applies((R.PerNeuron((sig, R.tanh)), sig), R.quadratic, True)
    custom_cost = R.costs.custom(R.quadratic.value, R.quadratic.gradient)
    assert not B._lean_applies((sig,), custom_cost, True)
    w, b, x, y = _arrays(np.float64)
    assert B._one_real_dtype(w, b, x, y) and B._one_real_dtype(*_arrays(np.float32))
    assert not B._one_real_dtype(w, b, x, y.astype(np.float32))
    assert not B._one_real_dtype([w[0].astype(np.float16), w[1]], b, x, y)
    assert V.check_example(w, b, x, y, single=True) == ((3, 4, 2), True)
    assert V.check_example(w, b, x, y.astype(np.float32), single=True) == ((3, 4, 2), False)


def _arrays(dtype: type) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    case = random_case(3, [3, 4, 2])
    return ([w.astype(dtype) for w in case.weights], [b.astype(dtype) for b in case.biases],
            case.x.astype(dtype), case.y.astype(dtype))


def _fields(result: R.BackpropResult) -> list[list[np.ndarray]]:
    return [result.nabla_b, result.nabla_w, result.deltas, result.zs, result.activations]


@given(cases())
def test_lean_path_gives_the_general_paths_values(case: Case) -> None:
    """Same σ and σ′ functions, same operations (in place or not): the same numbers, bit for bit,
    for every activation the strategy draws (per-neuron and custom ones included)."""
    if any(isinstance(act, A.Softmax) for act in case.activations):
        return  # not elementwise: the lean path is never taken for it (_lean_applies)
    args = (list(case.weights), list(case.biases), case.x, case.y, case.activations, case.cost)
    lean, general = B._backprop_lean(*args), B._backprop_general(*args)
    for got, expected in zip(_fields(lean), _fields(general), strict=True):
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert g.dtype == e.dtype and g.shape == e.shape
            np.testing.assert_array_equal(g, e, err_msg=case.describe())


FORMULA_SIGMOID = A.custom(A.sigmoid_formula, A.sigmoid_prime_formula, "sigmoid (formula)")


@given(cases(activation_names=("sigmoid",)))
def test_fast_sigmoid_network_agrees_with_the_formula_network(case: Case) -> None:
    """The public backprop_matrix (lean, expit) against the general path with the formulas (a
    custom activation): only σ's rounding differs, so the algebraic tolerance holds."""
    if not all(act is R.sigmoid for act in case.activations):
        return  # per-neuron layers: the strategy mixes them in; they take the general path anyway
    fast = R.backprop_matrix(list(case.weights), list(case.biases), case.x, case.y, R.sigmoid,
                             case.cost)
    cost = R.costs.custom(case.cost.value, case.cost.gradient)  # no cross-entropy shortcut
    formula = R.backprop_matrix(list(case.weights), list(case.biases), case.x, case.y,
                                FORMULA_SIGMOID, cost)
    tolerance = tolerance_for("algebraic", case)
    for name, got, expected in (("∂C/∂b", fast.nabla_b, formula.nabla_b),
                                ("∂C/∂w", fast.nabla_w, formula.nabla_w),
                                ("δ", fast.deltas, formula.deltas)):
        found = worst_discrepancy(got, expected, name)
        assert found.relative <= tolerance, f"{case.describe()}: {found.describe()}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lean_path_keeps_the_dtype(dtype: type) -> None:
    w, b, x, y = _arrays(dtype)
    result = R.backprop(w, b, x, y)
    assert all(a.dtype == dtype for field in _fields(result) for a in field)


ARRAYS = ["weights[0] (layer 2)", "biases[0] (layer 2)", "weights[1] (layer 3)",
          "biases[1] (layer 3)", "X", "Y"]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("which", range(len(ARRAYS)), ids=ARRAYS)
def test_quick_validation_rejects_every_non_finite_entry(which: int, bad: float) -> None:
    """The one-call finiteness test (Σv², never warning) must see any NaN or ±∞, wherever it is,
    and the message is the detailed one, naming the array and the index."""
    case = random_case(5, [6, 5, 3], batch_size=4)
    arrays = [case.weights[0].copy(), case.biases[0].copy(), case.weights[1].copy(),
              case.biases[1].copy(), case.x.copy(), case.y.copy()]
    rng = np.random.default_rng(which)
    index = tuple(int(rng.integers(n)) for n in arrays[which].shape)
    arrays[which][index] = bad
    w, b, X, Y = [arrays[0], arrays[2]], [arrays[1], arrays[3]], arrays[4], arrays[5]
    name = ARRAYS[which].replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=rf"^{name} has a non-finite entry {bad} at index "
                                         rf"\({index[0]}, {index[1]}\)"):
        R.backprop_matrix(w, b, X, Y)


def test_huge_finite_entries_pass_without_a_warning() -> None:
    """Σv² overflows beyond ~1e154 per entry: then each entry is looked at, and none is
    non-finite, so the arguments are accepted (and no overflow warning comes from the check)."""
    w, b, x, y = _arrays(np.float64)
    b = [b[0] + 1e200, b[1]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert V.check_example(w, b, x, y, single=True)[0] == (3, 4, 2)
        assert V.check_network(w, b) == (3, 4, 2)
        V.check_columns(np.full((3, 1), 1e300), "x", 3, single=True)


def test_sgd_still_stops_when_a_step_diverges() -> None:
    """sgd checks shapes once, but the parameters of every step are still checked for
    finiteness, as before: a diverging step is reported at the next step."""
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((3, 2)), rng.standard_normal((1, 3))]
    b = [rng.standard_normal((3, 1)), rng.standard_normal((1, 1))]
    data = [(rng.standard_normal((2, 1)), rng.standard_normal((1, 1))) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow that makes it diverge
        with pytest.raises(ValueError, match=r"weights\[0\] \(layer 2\) has a non-finite entry"):
            R.sgd(w, b, data, 3, 1, 1e308, activation=R.identity)
