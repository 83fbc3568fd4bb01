"""The implementations shipped with the suite (specimens/builtin.py) conform."""

from __future__ import annotations

import pytest
from reports import THOROUGH
from reports import problems as _problems

from bpverify.conformance.protocol.adapters import resolve
from bpverify.conformance.suite.runner import run_suite

BUILTINS = [f"bpverify.conformance.specimens.builtin:{name}" for name in (
    "reference_matrix", "reference_loop", "reference_sigma_prime", "jax_autodiff")]


@pytest.mark.parametrize("spec", BUILTINS)
def test_the_builtin_implementations_conform(spec: str) -> None:
    report = run_suite(resolve(spec), spec=spec)
    assert report.passed, _problems(report)


@pytest.mark.skipif(not THOROUGH, reason="JAX compiles once per shape of the battery (~10 s): "
                    "tox -e thorough")
def test_jax_in_float32_conforms_as_float32() -> None:
    report = run_suite(resolve("bpverify.conformance.specimens.builtin:jax_autodiff_float32"), seeds=3)
    assert report.passed, _problems(report)

