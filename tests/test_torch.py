"""The optional PyTorch implementation passes the suite (tox -e torch installs PyTorch)."""

from __future__ import annotations

import pytest

from bpverify.conformance.adapters import resolve
from bpverify.conformance.runner import run_suite

pytest.importorskip("torch", reason="PyTorch is optional: run `tox -e torch`")


def test_pytorch_autograd_conforms() -> None:
    report = run_suite(resolve("bpverify.conformance.builtin:torch_autograd"), seeds=3)
    assert report.passed, [(o.check.id, o.detail) for o in report.outcomes if o.status != "pass"]
    assert report.count("pass") == 16  # BP3 is skipped: autograd exposes no δ
