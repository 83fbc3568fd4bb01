"""Checker ↔ sandbox messages (isolation/wire.py)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from bpverify.conformance.isolation import wire

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

def test_the_wire_carries_arrays_and_refuses_anything_else() -> None:
    buffers: list[memoryview] = []
    value = ([np.arange(6.0).reshape(2, 3), np.float32(1.5)], {"k": (1, "s", None, 2j)})
    decoded = wire.decode(json.loads(json.dumps(wire.encode(value, buffers))),
                          [bytes(b) for b in buffers])
    np.testing.assert_array_equal(decoded[0][0], value[0][0])
    assert decoded[0][1].dtype == np.float32 and decoded[1] == {"k": (1, "s", None, 2j)}
    assert isinstance(wire.decode(wire.encode(object(), []), []), wire.Junk)
    assert isinstance(wire.decode(wire.encode(np.array([object()]), []), []), wire.Junk)
    for bad, match in (({"array": 0, "dtype": "|O", "shape": [1]}, "not numeric"),
                       ({"array": 0, "dtype": "<f8", "shape": [2]}, "does not match"),
                       ({"eval": "1"}, "unexpected value")):
        with pytest.raises(wire.ProtocolError, match=match):
            wire.decode(bad, [bytes(8)])
    deep: Any = 0
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(wire.ProtocolError, match="nested too deeply"):
        wire.decode(deep, [])

