"""PyTorch plugs in (tox -e torch installs it): the built-in autograd implementation, and a
user's nn.Module through the helper, torch's MSELoss and SGD included; momentum is seen."""

from __future__ import annotations

from pathlib import Path

import pytest
from reports import problems as _problems

from bpverify.conformance.protocol.adapters import resolve
from bpverify.conformance.suite.runner import run_suite

pytest.importorskip("torch", reason="PyTorch is optional: run `tox -e torch`")

STYLES = Path(__file__).resolve().parent.parent / "specimens" / "styles"



def test_pytorch_autograd_conforms() -> None:
    report = run_suite(resolve("bpverify.conformance.specimens.builtin:torch_autograd"), seeds=3)
    assert report.passed, _problems(report)
    skipped = [o.check.id for o in report.outcomes if o.status == "skip"]
    assert skipped == ["sgd"]  # BP3 too: δ read from ∂C/∂w; no SGD method of a class


@pytest.mark.parametrize("attribute", ["implementation", "tanh_hidden", "classifier",
                                       "per_layer"])
def test_a_torch_module_with_its_loss_and_optimizer_conforms(attribute: str) -> None:
    impl = resolve(f"{STYLES / 'torch_style.py'}:{attribute}")
    report = run_suite(impl, seeds=2)
    assert report.passed, _problems(report)
    assert impl.capabilities.update and impl.capabilities.mini_batch


def test_a_torch_module_with_sigma_per_layer_is_checked_at_the_depth_probed() -> None:
    impl = resolve(f"{STYLES / 'torch_style.py'}:per_layer")
    assert impl.capabilities.activations == ("tanh,relu,sigmoid",)


def test_momentum_left_in_the_optimizer_fails_state() -> None:
    report = run_suite(resolve(f"{STYLES / 'torch_style.py'}:with_momentum"))
    failed = {o.check.id for o in report.outcomes if o.status == "fail"}
    assert failed == {"state"}, _problems(report)
