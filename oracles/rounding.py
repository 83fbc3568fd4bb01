"""Componentwise rounding-error bounds for backprop, keyed by dtype: the suite's tolerances.

Each entry of ∂C/∂b, ∂C/∂w and δ gets its own allowance. Two kinds of rounding error are
allowed, propagated through the network on absolute values:

* relative errors of the sums and products, from the classic bound for a matrix product,
  |fl(AB) − AB| ≤ γₙ|A||B| with γₙ ≈ n·u (Higham, ch. 3):

      δ̄ᴸ = (|∇ₐC| + |aᴸ| + |y|) ⊙ |σ′(zᴸ)|,    δ̄ˡ = (|wˡ⁺¹|ᵀ δ̄ˡ⁺¹) ⊙ |σ′(zˡ)|,

  times the relative factor κ = u·(Σₗ nₗ + 4L)·(1 + 2·maxₗ max(|wˡ||aˡ⁻¹| + |bˡ|)) of each
  example (its own z: one example of large magnitude does not loosen the others): the
  accumulation lengths, and the rounding of zˡ that moves σ′(zˡ) by |σ″/σ′|·|Δz| ≤ 2|Δz|;

* *absolute* errors of σ and σ′ of up to c·u each (c = FUNCTION_ABS_ERROR). Correct formulas
  cancel: the book's σ′ = σ(1 − σ) is 0 where σ′(40) = 4e-18, and σ = ½(1 + tanh(z/2)) has an
  error of u, not u·σ, where σ(−30) = 1e-13. Carried forward, an error εᵃ in aˡ⁻¹ moves zˡ by
  εᶻ = |wˡ|εᵃ, so σ(zˡ) by |σ′|εᶻ and σ′(zˡ) by at most εᶻ (|σ″| ≤ 1):

      εᵃ¹ = 0,  εᶻˡ = |wˡ| εᵃˡ⁻¹,  εᵃˡ = c·u + |σ′(zˡ)| εᶻˡ,  εˢˡ = c·u + εᶻˡ,

  and carried backward into δ:

      Ēᴸ = εˢᴸ ⊙ (|∇ₐC| + |aᴸ| + |y|) + εᵃᴸ,
      Ēˡ = (|wˡ⁺¹|ᵀ Ēˡ⁺¹) ⊙ |σ′(zˡ)| + εˢˡ ⊙ (|wˡ⁺¹|ᵀ δ̄ˡ⁺¹).

An entry of δˡ may differ from the exact value by SAFETY·(κ·δ̄ˡ + Ēˡ), of ∂C/∂bˡ by its sum over
the examples, of ∂C/∂wˡ by SAFETY·((κ·δ̄ˡ + Ēˡ)|aˡ⁻¹|ᵀ + δ̄ˡ(εᵃˡ⁻¹)ᵀ), each sum over the m
examples of a mini-batch also by SAFETY·γₘ·Σₓ|terms| (γₘ = (m − 1)u: the sum itself, which
matters past m ≈ 100 when every example's κ is small). Unlike a normwise or
random-projection check, this sees a single entry that is 1% wrong in a 784×30 layer, and
σ′ = 0 where σ′(12) = 6e-6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpverify.oracles.cases import Case
from bpverify.oracles.tolerances import z_magnitudes
from bpverify.reference.activations import Activation, LayerActivation, Softmax
from bpverify.reference.equations import feedforward_layers

SAFETY = 4.0
"""Two implementations each within the bound differ by at most twice it; twice again for margin."""

FUNCTION_ABS_ERROR = 4.0
"""c: σ or σ′ computed by a cancelling formula (σ(1 − σ), 1 − tanh², ½(1 + tanh(z/2))) errs by
about 2u in absolute terms; twice that."""

UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24}


@dataclass(frozen=True)
class Allowance:
    """Per-entry tolerances for ∂C/∂b, ∂C/∂w and δ (one column per example), layers 2..L; and
    the absolute errors a correct implementation may have in σ′(zˡ) (layers 2..L) and in aˡ
    (layers 1..L), for the checks that build their own comparisons; and δ̄, the size of the
    terms of δ, which rounding errors are relative to where the sums of BP1 (a softmax's
    a ⊙ (g − ⟨a, g⟩)) and BP2 ((wˡ⁺¹)ᵀδˡ⁺¹) cancel."""

    nabla_b: list[np.ndarray]
    nabla_w: list[np.ndarray]
    deltas: list[np.ndarray]
    sigma_prime: list[np.ndarray]
    activations: list[np.ndarray]
    delta_terms: list[np.ndarray]


def relative_factor(case: Case, dtype: str = "float64") -> float:
    """SAFETY·κ, with κ = u·(Σₗ nₗ + 4L)·(1 + 2·maxₗ max(|wˡ||aˡ⁻¹| + |bˡ|)) (module docstring),
    the largest over the examples (``relative_factors``)."""
    z_scale = max(z_magnitudes(case.weights, case.biases, case.x, case.activations))
    return SAFETY * UNIT_ROUNDOFF[dtype] * (sum(case.sizes) + 4 * len(case.sizes)) * (
        1.0 + 2.0 * z_scale)


def relative_factors(case: Case, dtype: str = "float64") -> np.ndarray:
    """SAFETY·κ for each example (shape (m,)): an example's rounding errors come from its own
    values alone, so one example of large magnitude does not loosen the others' allowance."""
    _, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    return _relative_factors(case, acts, dtype)


def _relative_factors(case: Case, acts: list[np.ndarray], dtype: str) -> np.ndarray:
    z_scale = np.max([np.max(np.abs(w) @ np.abs(a) + np.abs(b), axis=0)
                      for w, b, a in zip(case.weights, case.biases, acts[:-1], strict=True)],
                     axis=0)
    return SAFETY * UNIT_ROUNDOFF[dtype] * (sum(case.sizes) + 4 * len(case.sizes)) * (
        1.0 + 2.0 * z_scale)


def function_slack(dtype: str = "float64") -> float:
    """c·u: the absolute error of σ or σ′ a correct implementation may make (module docstring)."""
    return FUNCTION_ABS_ERROR * UNIT_ROUNDOFF[dtype]


def _sigma_prime_magnitude(activation: LayerActivation, z: np.ndarray, a: np.ndarray
                           ) -> np.ndarray:
    """|σ′(zˡ)|, or for a softmax layer 2|a|: a bound on the row sums of |∂a/∂z| (2aⱼ(1 − aⱼ))."""
    if isinstance(activation, Softmax):
        return 2.0 * np.abs(a)
    return np.abs(activation.fprime(z))


def _where_saturated(case: Case, acts: list[np.ndarray], eps_a: np.ndarray,
                     delta_bar: list[np.ndarray], e_bar: list[np.ndarray]
                     ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """δᴸ's terms where ∇ₐC ⊙ σ′ is ∞·0: an output σ or softmax probability rounded to 0 or 1
    under a cost whose δᴸ simplifies to aᴸ − y (cross-entropy): there δ̄ᴸ = |aᴸ| + |y|, and its
    error is aᴸ's."""
    output = case.activations[-1]
    if not isinstance(output, Activation | Softmax) or output not in case.cost.output_error:
        return delta_bar, e_bar
    bad = ~np.isfinite(delta_bar[0]) | ~np.isfinite(e_bar[0])
    if not bad.any():
        return delta_bar, e_bar
    simple = np.abs(acts[-1]) + np.abs(case.y)
    return ([np.where(bad, simple, delta_bar[0])], [np.where(bad, eps_a, e_bar[0])])


def allowance(case: Case, dtype: str = "float64") -> Allowance:
    """SAFETY·(κ·δ̄ + Ē) per entry of δ, and its sums and products for ∂C/∂b and ∂C/∂w."""
    zs, acts = feedforward_layers(case.weights, case.biases, case.x, case.activations)
    softmax = isinstance(case.activations[-1], Softmax)
    s = [_sigma_prime_magnitude(act, z, a) for act, z, a in zip(case.activations, zs, acts[1:],
                                                                 strict=True)]
    cu = function_slack(dtype)
    eps_a, eps_s = [np.zeros_like(case.x)], []
    for i, (w, s_l) in enumerate(zip(case.weights, s, strict=True)):
        eps_z = np.abs(w) @ eps_a[-1]
        if softmax and i == len(s) - 1:  # every aⱼ moves with every zₖ
            eps_z = np.broadcast_to(eps_z.max(axis=0, keepdims=True), eps_z.shape)
        eps_s.append(cu + eps_z)
        eps_a.append(cu + s_l * eps_z)
    kappa = _relative_factors(case, acts, dtype)[None, :]
    with np.errstate(all="ignore"):  # ∇ₐC is infinite where a cross-entropy's aᴸ rounds to 0 or 1
        output = np.abs(case.cost.gradient(acts[-1], case.y)) + np.abs(acts[-1]) + np.abs(case.y)
        if softmax:  # δᴸ = a ⊙ (g − ⟨a, g⟩): |δᴸ| ≤ |a| ⊙ (G + ⟨|a|, G⟩), its errors likewise
            a_L, e_a = np.abs(acts[-1]), eps_a[-1]
            delta_bar = [a_L * (output + np.sum(a_L * output, axis=0, keepdims=True))]
            e_bar = [e_a * (output + np.sum(a_L * output, axis=0, keepdims=True))
                     + a_L * np.sum(e_a * output, axis=0, keepdims=True) + e_a]
        else:
            delta_bar, e_bar = [output * s[-1]], [eps_s[-1] * output + eps_a[-1]]
    delta_bar, e_bar = _where_saturated(case, acts, eps_a[-1], delta_bar, e_bar)
    for i in range(len(zs) - 2, -1, -1):
        w_abs = np.abs(case.weights[i + 1]).T
        e_bar.insert(0, (w_abs @ e_bar[0]) * s[i] + eps_s[i] * (w_abs @ delta_bar[0]))
        delta_bar.insert(0, (w_abs @ delta_bar[0]) * s[i])
    per_delta = [kappa * d + SAFETY * e for d, e in zip(delta_bar, e_bar, strict=True)]
    summing = SAFETY * (case.batch_size - 1) * UNIT_ROUNDOFF[dtype]  # Σₓ over m examples: γₘ
    return Allowance(
        [d.sum(axis=1, keepdims=True) + summing * db.sum(axis=1, keepdims=True)
         for d, db in zip(per_delta, delta_bar, strict=True)],
        [d @ np.abs(a).T + SAFETY * db @ ea.T + summing * db @ np.abs(a).T
         for d, db, a, ea in zip(per_delta, delta_bar, acts[:-1], eps_a[:-1], strict=True)],
        per_delta, [SAFETY * e for e in eps_s], [SAFETY * e for e in eps_a], delta_bar)
