"""A book-style class without the book's backprop, or without a method it declares, is refused
at once with the names that look like it and the declaration that maps one."""

from __future__ import annotations

import pytest

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork


def _renamed(**names: str) -> type:
    """BookNetwork with its methods under other names (backprop → back_prop, …)."""
    return type("Network", (BookNetwork,), {new: getattr(BookNetwork, old)
                                            for old, new in names.items()}
                | {old: None for old in names})


def test_a_missing_backprop_names_its_look_alike_and_the_declaration() -> None:
    with pytest.raises(ValueError, match=r"Network has no method backprop\(x, y\); it has "
                       r"back_prop.*declare bpverify_capabilities = \{'methods': \{'backprop': "
                       r"'back_prop'\}\}"):
        as_implementation(_renamed(backprop="back_prop"))
    declared = _renamed(backprop="back_prop")
    declared.bpverify_capabilities = {"methods": {"backprop": "back_prop"}}
    assert as_implementation(declared).capabilities.update  # the declaration it names works


def test_a_class_with_nothing_alike_lists_its_methods() -> None:
    class Network:
        def __init__(self, sizes: list[int]) -> None:
            self.sizes = sizes

        def gradients(self, x: object, y: object) -> None: ...

    cls = Network
    with pytest.raises(ValueError, match=r"its methods are .*gradients.*name yours backprop"):
        as_implementation(cls)


def test_a_declared_method_that_is_not_there_is_named() -> None:
    cls = type("Network", (BookNetwork,), {"bpverify_capabilities": {
        "methods": {"feedforward": "predict"}}})
    with pytest.raises(ValueError, match=r"declares methods=\{'feedforward': 'predict'\} but has "
                                         r"no method predict; it has feedforward"):
        as_implementation(cls)


def test_a_torch_module_given_as_the_class_is_told_to_use_the_helper() -> None:
    """``bpverify check torchnet:Net`` with Net an nn.Module: the helper that plugs it in, not a
    list of nn.Module's hundred methods (told by the base's name; torch is not imported)."""
    module = type("Module", (), {"__module__": "torch.nn.modules.module"})
    net = type("Net", (module,), {"__init__": lambda self, sizes=None: None,
                                  "forward": lambda self, x: x})
    with pytest.raises(ValueError, match=r"Net is a torch\.nn\.Module") as raised:
        as_implementation(net)
    assert "model = TorchModule(Net, loss=torch.nn.MSELoss()" in str(raised.value)
    plain = type("Net", (), {"__init__": lambda self, sizes=None: None,
                             "forward": lambda self, x: x})
    with pytest.raises(ValueError) as raised:
        as_implementation(plain)
    assert "TorchModule" not in str(raised.value)
