"""Calling a plugged-in implementation safely: a time limit, exceptions and junk turned into
verdicts (``ImplementationFault``) instead of tracebacks from the suite's internals."""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bpverify.conformance.protocol.locations import (
    UserFrame,
    describe,
    printable,
    stack_frames,
    user_frames,
)

CALL_FLAGS = "--timeout SECONDS (pytest: --bp-timeout)"
"""The options that give a call more time, named in every message about a call's time limit."""


class ImplementationFault(Exception):
    """The implementation crashed, hung or returned something that is not an answer."""


class Hang(ImplementationFault):
    """The implementation did not return within its time limit; ``frames``: where it was."""

    def __init__(self, message: str, frames: tuple[UserFrame, ...] = ()) -> None:
        super().__init__(message)
        self.frames = frames


class RaisedElsewhere(Exception):
    """An exception the implementation raised in another process (a sandbox), with the user's
    frames it sent along (display text only)."""

    frames: tuple[UserFrame, ...] = ()


class NonFinite(ImplementationFault):
    """The implementation returned a NaN or ±inf: ``quantity`` at book ``layer``, ``index``."""

    def __init__(self, message: str, quantity: str, layer: int, index: tuple[int, ...]) -> None:
        super().__init__(message)
        self.quantity, self.layer, self.index = quantity, layer, index


class _Stopped(BaseException):
    """Raised inside a call that ran past its time limit, to stop it."""


def call_with_limit(what: str, fn: Callable[..., Any], *args: Any, seconds: float) -> Any:
    """``fn(*args)`` in a daemon thread; a fault if it raises or runs past ``seconds``.

    A call past its limit is stopped by raising ``_Stopped`` inside it (this stops Python code,
    such as an endless loop, at its next bytecode); a call stuck inside C code cannot be stopped
    from Python, and its thread is abandoned (a daemon: it does not keep the process alive).
    The fault says where in their code the call was when it was stopped, or, for an exception,
    the user's frames it passed through (the innermost with its source line). A ``Hang`` that
    ``fn`` raises (a sandbox that stopped a hung call) stays a hang. (Under a tracer such as
    coverage or a debugger, CPython holds the caller until a stopped thread's C call returns.)
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:  # their overflow warnings are not verdicts; the NaN or inf they lead to is judged
            with np.errstate(all="ignore"):
                box["value"] = fn(*args)
        except _Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - every failure of theirs is a verdict
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True, name=f"bpverify: {what}")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        frames = tuple(stack_frames(sys._current_frames().get(thread.ident or -1)))
        _stop(thread)
        raise Hang(hang_message(what, seconds, frames), frames)
    if "error" in box:
        error = box["error"]
        if isinstance(error, Hang):
            raise Hang(f"{what} {error}", error.frames)
        frames = error.frames if isinstance(error, RaisedElsewhere) else tuple(
            user_frames(error.__traceback__))
        where = describe(frames)
        raise ImplementationFault(f"{what} raised {type(error).__name__}: {_text(error)}"
                                  + (f" ({where})" if where else ""))
    return box["value"]


def hang_message(what: str, seconds: float, frames: tuple[UserFrame, ...],
                 flags: str = CALL_FLAGS, doing: str = "return", stopped: str = "") -> str:
    """``what`` did not ``doing`` within ``seconds``: that it was ``stopped`` (where it was), and
    the options that give it more time."""
    where = describe(frames)
    text = f"{what} did not {doing} within {seconds:g} s (a hang?)".lstrip()
    if stopped or where:
        text += "; " + " ".join(part for part in (stopped or "it was", where) if part)
    return f"{text}; more time: {flags}"


def _text(error: BaseException) -> str:
    """The exception's message on one line (their ``__str__`` may raise, or print escapes)."""
    try:
        return printable(str(error), 2000)
    except Exception:  # noqa: BLE001 - their __str__ may raise anything
        return "<unprintable>"


def _stop(thread: threading.Thread) -> None:
    """Raise _Stopped in ``thread`` (CPython's PyThreadState_SetAsyncExc) and give it a moment."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                   ctypes.py_object(_Stopped))
        thread.join(0.1)


def as_gradient(value: Any, what: str, weight_shapes: Sequence[tuple[int, int]], *,
                copy: bool = True) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Check that ``value`` is (∂C/∂b, ∂C/∂w): two lists of L − 1 numeric arrays; float64
    copies, or (``copy=False``) the very arrays returned, to see later whether they change."""
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
            arrays.append(array.astype(np.float64) if copy else array)
        out.append(arrays)
    return out[0], out[1]


def check_finite(arrays: Sequence[np.ndarray], quantity: str, what: str) -> None:
    """NonFinite at the NaN or ±inf of the highest layer (book numbering): backprop runs from
    layer L down, so that is where a non-finite value arose."""
    for i in range(len(arrays) - 1, -1, -1):
        bad = ~np.isfinite(arrays[i])
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            raise NonFinite(f"{what} returned a non-finite value: {quantity} at layer {i + 2}, "
                            f"index {index}, is {arrays[i][index]}", quantity, i + 2, index)
