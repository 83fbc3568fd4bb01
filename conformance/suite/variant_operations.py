"""The operations the catalogue's variants are written in (``derived_variants.py``): the book's
matrix operations on numpy columns, each refusing shapes that do not fit (numpy would broadcast
a (3, 1) ⊙ (1, 3) into a matrix: a variant that cannot be formed at this network is no
candidate)."""

from __future__ import annotations

import numpy as np


def mm(*factors: float | np.ndarray) -> np.ndarray:
    """The matrix product of the factors, scalars allowed."""
    out: float | np.ndarray = 1.0
    for factor in factors:
        if isinstance(out, np.ndarray) and isinstance(factor, np.ndarray):
            out = out @ factor  # ValueError where the shapes do not fit
        else:
            out = out * factor
    return np.asarray(out, dtype=np.float64)


def _same_shape(arrays: tuple[np.ndarray, ...]) -> None:
    if len({np.shape(a) for a in arrays}) != 1:
        raise ValueError(f"shapes {[np.shape(a) for a in arrays]} differ")


def H(*factors: np.ndarray) -> np.ndarray:
    """u ⊙ v ⊙ …, entry by entry."""
    _same_shape(factors)
    out = factors[0]
    for factor in factors[1:]:
        out = out * factor
    return out


def add(*terms: np.ndarray) -> np.ndarray:
    _same_shape(terms)
    return np.sum(terms, axis=0)


def T(u: np.ndarray) -> np.ndarray:
    return u.T


def diag(u: np.ndarray) -> np.ndarray:
    """diag(v) of a column: Σ′(z) = diag σ′(z)."""
    return np.diagflat(u)


def outer(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u @ v.T


def one_minus(u: np.ndarray) -> np.ndarray:
    return 1.0 - u
