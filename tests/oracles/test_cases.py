"""σ by name for a layer list: a family's parameters (with their commas) inside one name, the
per-layer list and hidden/output forms around them."""

from __future__ import annotations

import pytest

from bpverify.oracles.cases import (
    activation_parameters,
    fixed_depth,
    layer_functions,
    layer_names,
    split_layers,
)


def test_commas_inside_a_familys_parameters_do_not_split_layers() -> None:
    per_layer = "softplus(beta=2,threshold=5),tanh,hardtanh(min_val=0,max_val=3)"
    assert split_layers(per_layer) == ["softplus(beta=2,threshold=5)", "tanh",
                                       "hardtanh(min_val=0,max_val=3)"]
    assert fixed_depth(per_layer) == 4
    assert layer_names(per_layer, 4)[0] == "softplus(beta=2,threshold=5)"
    assert fixed_depth("softplus(beta=2,threshold=5)") is None
    assert fixed_depth("softplus(beta=2,threshold=5),") == 2
    assert layer_names("leaky_relu(negative_slope=0.2)/softplus(threshold=20)", 4) == [
        "leaky_relu(negative_slope=0.2)", "leaky_relu(negative_slope=0.2)",
        "softplus(threshold=20)"]
    assert [a.name for a in layer_functions("relu/softplus(threshold=20)", 3)] == [
        "relu", "softplus(threshold=20)"]


def test_the_plain_comma_forms_are_unchanged() -> None:
    assert layer_names("tanh,relu,sigmoid", 4) == ["tanh", "relu", "sigmoid"]
    assert layer_names("tanh,", 2) == ["tanh"] and fixed_depth("tanh,") == 2
    assert layer_names("relu/sigmoid", 4) == ["relu", "relu", "sigmoid"]
    with pytest.raises(ValueError, match="one per layer 2..3, but the network has L = 4"):
        layer_names("tanh,sigmoid", 4)


def test_a_names_parameters_as_a_framework_takes_them() -> None:
    assert activation_parameters("softplus(beta=2,threshold=5)") == (
        "softplus", {"beta": 2.0, "threshold": 5.0})
    assert activation_parameters("gelu(approximate=tanh)") == ("gelu", {"approximate": "tanh"})
    assert activation_parameters("relu6") == ("relu6", {})
    with pytest.raises(ValueError, match="activation is 'relu7', expected one of"):
        activation_parameters("relu7")
