"""Correct implementations written differently (specimens/correct_variants.py) conform at every
seed."""

from __future__ import annotations

import pytest
from reports import SEEDS
from reports import problems as _problems

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.zoo import CORRECT
from bpverify.conformance.suite.runner import run_suite


@pytest.mark.parametrize("cls", CORRECT, ids=lambda cls: cls.__name__)
def test_correct_implementations_written_differently_conform(cls: type) -> None:
    report = run_suite(as_implementation(cls), seeds=SEEDS)
    assert report.passed, _problems(report)

