"""What a constant factor means and the declaration that fits (protocol/probing.py): told by the
cost in use and what is declared, always as the whole declaration."""

from __future__ import annotations

import ast

import pytest

from bpverify.conformance.protocol.adapters import Capabilities
from bpverify.conformance.protocol.conventions import Conventions
from bpverify.conformance.protocol.probing import explain_factor, full_declaration


def _declared(hint: str) -> dict[str, object]:
    return ast.literal_eval(hint.split("bpverify_capabilities = ", 1)[1].rstrip(")"))


def test_a_factor_of_m_on_a_cross_entropy_cost_is_a_reduction_not_the_half() -> None:
    caps = Capabilities(costs=("cross-entropy",))
    hint = explain_factor(2.0, 2, 3, "cross-entropy", Conventions(reduction="mean"), caps) or ""
    assert "summed over the batch" in hint and "declare reduction='sum'" in hint
    assert "½" not in hint
    assert _declared(hint) == {"cost": "cross-entropy"}  # sum is the book's: nothing else to say


def test_the_half_is_offered_only_for_the_quadratic_cost() -> None:
    hint = explain_factor(2.0, 1, 3, "quadratic", Conventions(), Capabilities()) or ""
    assert "½ of the quadratic cost left out" in hint and "quadratic='full'" in hint
    assert explain_factor(2.0, 1, 3, "cross-entropy", Conventions(), Capabilities()) is None


def test_the_hint_keeps_what_is_declared_and_adds_what_fits() -> None:
    declared = Conventions(layout="rows", weights="in_out", biases="flat", gradient_order="wb",
                           methods={"backprop": "grads"})
    caps = Capabilities(activations=("relu/softmax",), costs=("categorical-cross-entropy",))
    hint = explain_factor(1 / 4, 4, 3, "categorical-cross-entropy", declared, caps) or ""
    assert _declared(hint) == {
        "activation": "relu/softmax", "cost": "categorical-cross-entropy", "layout": "rows",
        "weights": "in_out", "biases": "flat", "gradient_order": "wb", "reduction": "mean",
        "methods": {"backprop": "grads"}}


def test_one_gradient_off_alone_is_a_bug_not_a_declaration() -> None:
    hint = explain_factor(4.0, 4, 2, "quadratic", Conventions(reduction="mean"), Capabilities(),
                          quantity="∂C/∂b") or ""
    assert "the /m (/batch) of the declared mean is missing in ∂C/∂b" in hint
    assert "bpverify_capabilities" not in hint


def test_a_per_layer_activation_is_declared_as_a_list() -> None:
    caps = Capabilities(activations=("tanh,relu,sigmoid",), dtype="float32")
    assert full_declaration(Conventions(), caps) == (
        "bpverify_capabilities = {'dtype': 'float32', 'activation': ['tanh', 'relu', 'sigmoid']}")


@pytest.mark.parametrize("name", [None, "", "back prop", "b" * 5_000_000, 3])
def test_a_declared_method_name_must_be_a_short_identifier(name: object) -> None:
    """Refused before any lookup, with the value shortened: a name of millions of characters
    once kept the near-miss search busy for minutes (inside the import limit), and None or ""
    raised a bare TypeError from getattr."""
    with pytest.raises(ValueError, match=r"\['methods'\]\['update_mini_batch'\] is .*"
                                         r"expected the name of your method") as raised:
        Conventions.declared({"methods": {"update_mini_batch": name}}, "Network")
    assert len(str(raised.value)) < 300
    assert Conventions.declared({"methods": {"update_mini_batch": "train_step"}},
                                "Network").name("update_mini_batch") == "train_step"
