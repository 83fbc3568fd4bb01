"""Network descriptions (oracles/cases.py): reproducible from a seed, validated, σ and C by name
and per layer (a family's parameters, with their commas, inside one name)."""

from __future__ import annotations

import numpy as np
import pytest

from bpverify.oracles.cases import (
    activation_parameters,
    fixed_depth,
    layer_functions,
    layer_names,
    named_activation,
    named_cost,
    random_case,
    split_layers,
)


def test_a_seed_repeats_its_case_and_another_seed_does_not() -> None:
    a, b, c = random_case(7, [3, 4, 2], batch_size=3), random_case(7, [3, 4, 2], batch_size=3), \
        random_case(8, [3, 4, 2], batch_size=3)
    assert all(np.array_equal(p, q) for p, q in zip(a.weights, b.weights, strict=True))
    assert not np.array_equal(a.weights[0], c.weights[0])
    assert a.x.shape == (3, 3) and a.y.shape == (2, 3) and a.sizes == (3, 4, 2)


@pytest.mark.parametrize(("declared", "L", "expected"), [
    ("tanh", 4, ["tanh", "tanh", "tanh"]), ("relu/sigmoid", 3, ["relu", "sigmoid"]),
    ("tanh,relu,sigmoid", 4, ["tanh", "relu", "sigmoid"]), ("tanh,", 2, ["tanh"])])
def test_sigma_is_named_per_layer(declared: str, L: int, expected: list[str]) -> None:
    assert layer_names(declared, L) == expected
    assert [f.name for f in layer_functions(declared, L)] == expected


def test_a_list_per_layer_fixes_the_depth_and_refuses_another() -> None:
    assert fixed_depth("tanh,relu,sigmoid") == 4 and fixed_depth("tanh,") == 2
    assert fixed_depth("relu/sigmoid") is None
    with pytest.raises(ValueError, match="L = 3"):
        layer_names("tanh,relu,sigmoid", 3)


def test_unknown_names_say_what_is_known() -> None:
    with pytest.raises(ValueError, match="sigmoid"):
        named_activation("sigmod")
    with pytest.raises(ValueError, match="quadratic"):
        named_cost("quadradic")


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
