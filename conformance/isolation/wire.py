"""Messages between the checker and the sandboxed implementation: JSON and raw array bytes.

Nothing from the sandbox is unpickled or executed: a frame is a length-prefixed JSON header
naming the lengths of the raw buffers that follow; values are trees of None, bool, int, float,
str, lists, tuples, str-keyed dicts and numeric arrays (bool, int, float, complex). An object
that is none of these arrives as ``Junk`` (its type name), which the checks reject as an answer.
Anything malformed is a ``ProtocolError``.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from typing import Any

import numpy as np

MAX_HEADER_BYTES = 16 << 20
MAX_FRAME_BYTES = 512 << 20
"""Larger replies are refused: the largest answer the suite expects is a few MB of gradients."""
MAX_DEPTH = 64
ARRAY_KINDS = "biufc"


class ChannelClosed(Exception):
    """The other end closed the channel (for the checker: the implementation's process ended)."""


class ChannelTimeout(Exception):
    """No complete frame before the deadline."""


class ProtocolError(Exception):
    """A frame or value that does not follow this module's format."""


class Junk:
    """Stands for a value the sandbox could not send (its type name); never equal to an answer."""

    def __init__(self, description: str) -> None:
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"


def encode(value: Any, buffers: list[memoryview], depth: int = 0) -> Any:
    """``value`` as JSON-able data; arrays are appended to ``buffers`` and referenced by index."""
    if depth > MAX_DEPTH:
        return {"junk": "a value nested too deeply"}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, complex):
        return {"complex": [value.real, value.imag]}
    if isinstance(value, list):
        return [encode(v, buffers, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [encode(v, buffers, depth + 1) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, buffers, depth + 1) for k, v in value.items()}}
    if isinstance(value, Junk):
        return {"junk": value.description}
    if isinstance(value, np.ndarray | np.generic) or hasattr(value, "__array__"):
        try:
            array = np.ascontiguousarray(np.asarray(value))
        except Exception:  # noqa: BLE001 - their __array__ may raise anything: the value is junk
            array = None
        if array is not None and array.dtype.kind in ARRAY_KINDS and not array.dtype.hasobject:
            buffers.append(memoryview(array.data).cast("B") if array.size else memoryview(b""))
            return {"array": len(buffers) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}
    return {"junk": f"{type(value).__module__}.{type(value).__qualname__} object"}


def decode(data: Any, buffers: list[bytes], depth: int = 0) -> Any:
    """The value ``encode`` described; raises ProtocolError on anything else."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v, buffers, depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 3):
        raise ProtocolError(f"unexpected value {str(data)[:80]}")
    if "tuple" in data and isinstance(data["tuple"], list):
        return tuple(decode(v, buffers, depth + 1) for v in data["tuple"])
    if "dict" in data and isinstance(data["dict"], dict):
        return {str(k): decode(v, buffers, depth + 1) for k, v in data["dict"].items()}
    if "complex" in data and isinstance(data["complex"], list) and len(data["complex"]) == 2:
        return complex(*(float(x) for x in data["complex"]))
    if "junk" in data:
        return Junk(str(data["junk"])[:200])
    if "array" in data:
        return _array(data, buffers)
    raise ProtocolError(f"unexpected value {str(data)[:80]}")


def _array(data: dict[str, Any], buffers: list[bytes]) -> np.ndarray:
    index, shape = data.get("array"), data.get("shape")
    if not isinstance(index, int) or not 0 <= index < len(buffers) or not isinstance(shape, list) \
            or not all(isinstance(n, int) and n >= 0 for n in shape) or len(shape) > 32:
        raise ProtocolError("malformed array")
    try:
        dtype = np.dtype(str(data.get("dtype")))
    except TypeError as error:
        raise ProtocolError(f"unknown dtype {data.get('dtype')!r}") from error
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject or dtype.itemsize == 0:
        raise ProtocolError(f"dtype {dtype} is not numeric")
    raw = buffers[index]
    if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != len(raw):
        raise ProtocolError("array size does not match its bytes")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def send(sock: socket.socket, header: dict[str, Any], buffers: list[memoryview] | None = None
         ) -> None:
    """One frame: 4-byte header length, JSON header (with the buffer lengths), the buffers."""
    buffers = buffers or []
    header = dict(header, buffers=[b.nbytes for b in buffers])
    text = json.dumps(header).encode()
    sock.sendall(struct.pack("!I", len(text)) + text)
    for buffer in buffers:
        sock.sendall(buffer)


def receive(sock: socket.socket, deadline: float | None = None
            ) -> tuple[dict[str, Any], list[bytes]]:
    """One frame, by ``deadline`` (a time.monotonic() value) if given."""
    (length,) = struct.unpack("!I", _read(sock, 4, deadline))
    if length > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {length} bytes")
    try:
        header = json.loads(_read(sock, length, deadline))
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"header is not JSON: {error}") from None
    sizes = header.get("buffers") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(isinstance(n, int) and n >= 0 for n in sizes) \
            or sum(sizes) > MAX_FRAME_BYTES:
        raise ProtocolError("malformed or oversized frame")
    return header, [_read(sock, n, deadline) for n in sizes]


def _read(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, remaining = [], n
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise ChannelTimeout()
        try:
            chunk = sock.recv(min(remaining, 1 << 20))
        except ConnectionError:
            chunk = b""
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
