"""The curvature of C in the parameters, for checks that take several update steps in a row.

The SGD step map is θ → Dθ − s·∇C(θ) (D = 1 − ηλ/n on w, 1 on b; s = η/m): its Jacobian
D − s·H (H the Hessian of C over the mini-batch) carries an earlier step's rounding into the
later steps (``sgd.trajectory_allowance``), and its spectral radius says how large η may be
before steps run away (``stable_eta``: a linear network at η = 0.75 diverges in a few steps).
H comes from central differences of the reference's ∇C.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bpverify.oracles.cases import Case
from bpverify.reference.backpropagation import backprop_matrix

Params = tuple[Sequence[np.ndarray], Sequence[np.ndarray]]

FD_STEP = 1e-5
"""h of the central differences of ∇C that give the Hessian."""
HESSIAN_SLACK = 1e-6
"""Absolute allowance per entry of that Hessian: its truncation (h²·|∇C‴|) and rounding
(u·|∇C|/h) errors are near 1e-10 at h = 1e-5 for the small networks it is used on."""
POWER_STEPS = 30
"""Power-method steps for ρ: enough to come within a few per cent of it on these networks."""
CONTRACTION = 0.5
"""η·ρ at most this (ρ: the spectral radius of the mean cost's Hessian): steps that cannot run
away, since each multiplies a deviation by at most 1 + η·ρ near the start."""


def _gradient_of(case: Case, theta: Params) -> tuple[np.ndarray, Callable[[np.ndarray],
                                                                          np.ndarray]]:
    """θ flattened over (w, b), and ∇(Σₓ Cₓ) as a function of such a vector (the reference's)."""
    shapes = [np.shape(w) for w in theta[0]] + [np.shape(b) for b in theta[1]]
    count = len(theta[0])

    def gradient(x: np.ndarray) -> np.ndarray:
        parts = unflat(x, shapes)
        g = backprop_matrix(parts[:count], parts[count:], case.x, case.y, case.activations,
                            case.cost)
        return flat([*g.nabla_w, *g.nabla_b])

    return flat([*theta[0], *theta[1]]), gradient


def hessian(case: Case, theta: Params) -> np.ndarray:
    """∂²(Σₓ Cₓ)/∂θ² over the flattened (w, b) at θ, on the examples of ``case``."""
    x0, gradient = _gradient_of(case, theta)
    H = np.empty((x0.size, x0.size))
    for i in range(x0.size):
        h = FD_STEP * max(1.0, abs(x0[i]))
        up, down = x0.copy(), x0.copy()
        up[i] += h
        down[i] -= h
        H[:, i] = (gradient(up) - gradient(down)) / (2 * h)
    return H


def step_jacobian(case: Case, theta: Params, decay: float, s: float) -> np.ndarray:
    """∂(Dθ − s·∇C(θ))/∂θ, D = ``decay`` on the weights and 1 on the biases."""
    weights = sum(int(np.prod(np.shape(w))) for w in theta[0])
    H = hessian(case, theta)
    D = np.concatenate([np.full(weights, decay), np.ones(H.shape[0] - weights)])
    return np.diag(D) - s * H


def stable_eta(case: Case, theta: Params, eta: float) -> float:
    """``eta``, or CONTRACTION/ρ where η·ρ would exceed CONTRACTION, ρ the spectral radius of
    the mean cost's Hessian over the examples of ``case`` at θ (by POWER_STEPS of the power
    method on Hessian-vector products, each two gradients: not 2·P of them)."""
    x0, gradient = _gradient_of(case, theta)
    v = np.random.default_rng(0).standard_normal(x0.size)
    rho = 0.0
    for _ in range(POWER_STEPS):
        norm = float(np.linalg.norm(v))
        if norm == 0.0:  # Hv = 0: no curvature along v (a softmax layer of one neuron: none)
            break
        v /= norm
        h = FD_STEP * max(1.0, float(np.max(np.abs(x0))))
        v = (gradient(x0 + h * v) - gradient(x0 - h * v)) / (2 * h * case.x.shape[1])
        rho = max(rho, float(np.linalg.norm(v)))
    return eta if rho * eta <= CONTRACTION else CONTRACTION / rho


def flat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def unflat(x: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(x[start:start + size].reshape(shape))
        start += size
    return out
