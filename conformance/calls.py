"""Calling a plugged-in implementation safely: a time limit, exceptions and junk turned into
verdicts (``ImplementationFault``) instead of tracebacks from the suite's internals."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class ImplementationFault(Exception):
    """The implementation crashed, hung or returned something that is not an answer."""


def call_with_limit(what: str, fn: Callable[..., Any], *args: Any, seconds: float) -> Any:
    """``fn(*args)`` in a daemon thread; a fault if it raises or runs past ``seconds``.

    A hung call cannot be killed from Python; its thread is abandoned (it is a daemon,
    so it does not keep the process alive) and the verdict says so.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as error:  # noqa: BLE001 - every failure of theirs is a verdict
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True, name=f"bpverify: {what}")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise ImplementationFault(f"{what} did not return within {seconds:g} s (a hang?)")
    if "error" in box:
        error = box["error"]
        raise ImplementationFault(f"{what} raised {type(error).__name__}: {error}")
    return box["value"]


def as_gradient(value: Any, what: str, weight_shapes: Sequence[tuple[int, int]]
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Check that ``value`` is (∂C/∂b, ∂C/∂w): two lists of L − 1 numeric arrays, finite."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ImplementationFault(f"{what} returned {type(value).__name__}, expected a tuple "
                                  "(nabla_b, nabla_w)")
    out = []
    for name, part in zip(("nabla_b", "nabla_w"), value, strict=True):
        if not isinstance(part, tuple | list) or len(part) != len(weight_shapes):
            count = len(part) if isinstance(part, tuple | list) else type(part).__name__
            raise ImplementationFault(f"{what} returned {name} with {count} entries, expected "
                                      f"{len(weight_shapes)} (one per layer 2..L)")
        arrays = []
        for i, item in enumerate(part):
            array = np.asarray(item)
            if array.dtype.kind not in "fiu":
                raise ImplementationFault(f"{what} returned {name}[{i}] (layer {i + 2}) of dtype "
                                          f"{array.dtype}, expected real numbers")
            arrays.append(array.astype(np.float64))
        out.append(arrays)
    return out[0], out[1]


def first_non_finite(arrays: Sequence[np.ndarray], name: str) -> str | None:
    """Where the first NaN or ±inf is, in the book's layer numbering, or None."""
    for i, array in enumerate(arrays):
        bad = ~np.isfinite(array)
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            return f"{name} at layer {i + 2}, index {index}, is {array[index]}"
    return None
