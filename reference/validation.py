"""Checks of what callers pass in: each failure is a ValueError naming the argument,
the expected and the actual shape, dtype or value. Layers are numbered as in the
book: the input layer is layer 1, so ``weights[i]`` belongs to layer i + 2.

A 1-D x is rejected rather than broadcast: in the book's code an x of shape (3,)
against b of shape (4, 1) silently gives a (4, 4) z.

Each check first tries a quick pass that can only say "all good" (plain float arrays of the
right shapes, finite); anything else goes through the detailed checks, which raise the
message. The quick pass changes the cost of a call, never its outcome.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def _check_array(value: Any, name: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} has type {type(value).__name__}, expected a numpy array")
    if value.dtype.kind != "f":
        raise ValueError(f"{name} has dtype {value.dtype}, expected a real floating dtype "
                         "(float64 by default)")
    return value


def _is_finite(value: np.ndarray) -> bool:
    """Quick and exact "every entry is finite" when True: Σ vᵢ² is NaN or +∞ for any NaN or ±∞
    entry (the terms are ≥ 0, so never ∞ − ∞); False may also mean that Σ vᵢ² overflowed
    (entries beyond ~1e154), which the caller settles entry by entry. ``vdot`` is one BLAS call
    and, unlike ``np.sum`` or ``@``, raises no overflow warning."""
    return math.isfinite(np.vdot(value, value))


def _check_finite(value: np.ndarray, name: str) -> None:
    if _is_finite(value) or np.isfinite(np.sum(value)):  # a NaN or ±inf entry fails both
        return
    finite = np.isfinite(value)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name} has a non-finite entry {float(value[index])} at index {index}, "
                         "expected finite values")


def _quick_network(weights: Sequence[Any], biases: Sequence[Any]
                   ) -> tuple[tuple[int, ...], np.dtype | None] | None:
    """(sizes, the one dtype of every array or None) when every weights[l] is a finite real
    ndarray (n_l, n_{l−1}) and biases[l] one of (n_l, 1), layers not empty; None for anything
    else, for ``check_network`` to explain."""
    if type(weights) not in (list, tuple) or type(biases) not in (list, tuple) \
            or not weights or len(weights) != len(biases) or type(weights[0]) is not np.ndarray \
            or weights[0].ndim != 2 or weights[0].shape[1] == 0:
        return None
    dtype: np.dtype | None = weights[0].dtype
    sizes = [weights[0].shape[1]]
    for w, b in zip(weights, biases, strict=True):
        if type(w) is not np.ndarray or type(b) is not np.ndarray:
            return None
        shape = w.shape
        if len(shape) != 2 or shape[1] != sizes[-1] or shape[0] == 0 or b.shape != (shape[0], 1) \
                or w.dtype.kind != "f" or b.dtype.kind != "f" or not _is_finite(w) \
                or not _is_finite(b):
            return None
        if w.dtype != dtype or b.dtype != dtype:
            dtype = None
        sizes.append(shape[0])
    return tuple(sizes), dtype


def check_network(weights: Sequence[Any], biases: Sequence[Any]) -> tuple[int, ...]:
    """Validate weights[l] of shape (n_l, n_{l−1}) and biases[l] of shape (n_l, 1); return sizes."""
    quick = _quick_network(weights, biases)
    if quick is not None:
        return quick[0]
    for name, seq in (("weights", weights), ("biases", biases)):
        if type(seq) not in (list, tuple) and (isinstance(seq, np.ndarray)
                                               or not isinstance(seq, Sequence)):
            raise ValueError(f"{name} has type {type(seq).__name__}, expected a list of "
                             "arrays, one per layer 2..L")
    if len(weights) == 0:
        raise ValueError("weights is empty: a network needs at least two layers "
                         "(the input layer 1 and an output layer)")
    if len(biases) != len(weights):
        raise ValueError(f"biases has {len(biases)} entries, expected {len(weights)} "
                         "(one per layer 2..L, as weights)")
    sizes: list[int] = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        layer = i + 2
        w = _check_array(w, f"weights[{i}] (layer {layer})")
        b = _check_array(b, f"biases[{i}] (layer {layer})")
        if w.ndim != 2:
            raise ValueError(f"weights[{i}] (layer {layer}) has shape {w.shape}, "
                             f"expected 2-D (n_{layer}, n_{layer - 1})")
        if i == 0:
            sizes.append(w.shape[1])
        expected = (w.shape[0], sizes[-1])
        if w.shape != expected:
            raise ValueError(f"weights[{i}] (layer {layer}) has shape {w.shape}, expected "
                             f"{expected} = (n_{layer}, n_{layer - 1})")
        if 0 in w.shape:
            raise ValueError(f"weights[{i}] (layer {layer}) has shape {w.shape}: "
                             "zero-width layers are not allowed")
        sizes.append(w.shape[0])
        if b.shape != (w.shape[0], 1):
            raise ValueError(f"biases[{i}] (layer {layer}) has shape {b.shape}, expected "
                             f"{(w.shape[0], 1)} = (n_{layer}, 1)")
        _check_finite(w, f"weights[{i}] (layer {layer})")
        _check_finite(b, f"biases[{i}] (layer {layer})")
    return tuple(sizes)


def check_columns(value: Any, name: str, rows: int, *, single: bool) -> np.ndarray:
    """Validate a column (rows, 1) when ``single``, else a batch (rows, m) with m ≥ 1."""
    if type(value) is np.ndarray and value.dtype.kind == "f" and value.ndim == 2 \
            and value.shape[0] == rows and (value.shape[1] == 1 if single else value.shape[1] > 0) \
            and _is_finite(value):
        return value
    value = _check_array(value, name)
    expected = f"({rows}, 1)" if single else f"({rows}, m) with m ≥ 1 columns (one per example)"
    if value.ndim != 2:
        hint = f"; use {name}.reshape(-1, 1) for a column" if value.ndim == 1 else ""
        raise ValueError(f"{name} has shape {value.shape}, expected {expected}{hint}")
    if value.shape[0] != rows or (single and value.shape[1] != 1):
        raise ValueError(f"{name} has shape {value.shape}, expected {expected}")
    if value.shape[1] == 0:
        raise ValueError(f"{name} has shape {value.shape}: the mini-batch is empty, "
                         "expected at least one example")
    _check_finite(value, name)
    return value


def check_example(weights: Sequence[Any], biases: Sequence[Any], x: Any, y: Any, *, single: bool,
                  names: tuple[str, str] = ("x", "y")) -> tuple[tuple[int, ...], bool]:
    """``check_network``, then x and y as columns (``single``) or as a batch with one column per
    example each, in one pass over the layers. Returns the sizes and whether every array is a
    plain ndarray of one float32/float64 dtype (what the reference's lean path takes)."""
    quick = _quick_network(weights, biases)
    if quick is not None and type(x) is np.ndarray and type(y) is np.ndarray:
        sizes, dtype = quick
        x_shape, y_shape = x.shape, y.shape
        if len(x_shape) == 2 and len(y_shape) == 2 and x_shape[0] == sizes[0] \
                and y_shape[0] == sizes[-1] and x_shape[1] == y_shape[1] \
                and (x_shape[1] == 1 if single else x_shape[1] > 0) and x.dtype.kind == "f" \
                and y.dtype.kind == "f" and _is_finite(x) and _is_finite(y):
            return sizes, dtype is not None and dtype.char in "fd" and x.dtype == dtype == y.dtype
    sizes = check_network(weights, biases)  # the detailed checks, in the order they always ran
    check_columns(x, names[0], sizes[0], single=single)
    check_columns(y, names[1], sizes[-1], single=single)
    if not single:
        check_same_columns(x, y, *names)
    return sizes, False


def check_same_columns(x: np.ndarray, y: np.ndarray, x_name: str, y_name: str) -> None:
    """A batch of inputs and its targets must have one column per example each."""
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{y_name} has {y.shape[1]} columns, expected {x.shape[1]} "
                         f"(one per example, as {x_name})")


def check_positive(value: Any, name: str) -> float:
    """A positive finite real number, such as the learning rate η."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} has type {type(value).__name__}, expected a positive number")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} is {value!r}, expected a positive finite number")
    return float(value)
