"""Checks of what callers pass in: each failure is a ValueError naming the argument,
the expected and the actual shape, dtype or value. Layers are numbered as in the
book: the input layer is layer 1, so ``weights[i]`` belongs to layer i + 2.

A 1-D x is rejected rather than broadcast: in the book's code an x of shape (3,)
against b of shape (4, 1) silently gives a (4, 4) z.
"""

from __future__ import annotations

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


def _check_finite(value: np.ndarray, name: str) -> None:
    if np.isfinite(np.sum(value)):  # a NaN or ±inf entry makes the sum non-finite (fast path)
        return
    finite = np.isfinite(value)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name} has a non-finite entry {float(value[index])} at index {index}, "
                         "expected finite values")


def check_network(weights: Sequence[Any], biases: Sequence[Any]) -> tuple[int, ...]:
    """Validate weights[l] of shape (n_l, n_{l−1}) and biases[l] of shape (n_l, 1); return sizes."""
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
