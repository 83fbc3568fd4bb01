"""The case battery keeps its promises at every seed, and a network's --case token rebuilds it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from bpverify.conformance.suite.battery import (
    PLANTED_Z,
    NetworkSpec,
    battery,
    covered_properties,
    drawn_specs,
    parse_case,
    saturation_specs,
)

PROMISED = {"L=2", "L=3", "L=4", "L=5", "L>=8", "hidden width 1", "output width 1",
            "square consecutive layers", "784-wide input", "hidden width > 64", "m=1",
            "m=1 without width-1 layers", "m=7", "m>64", "small weights", "|z|>=10"}


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_every_seed_covers_every_property(seed: int) -> None:
    assert covered_properties(battery(seed)) >= PROMISED


def test_seeds_draw_different_networks() -> None:
    assert len({tuple(s.sizes for s in battery(seed)) for seed in range(10)}) == 10


@pytest.mark.parametrize("seed", [0, 5])
def test_saturation_networks_have_the_planted_z(seed: int) -> None:
    for spec in saturation_specs(seed):
        case = spec.case()
        z = case.weights[0] @ case.x + case.biases[0]
        if spec.name == "saturated-output":
            from bpverify.reference.equations import feedforward_layers
            z = feedforward_layers(case.weights, case.biases, case.x, case.activations)[0][-1]
        np.testing.assert_allclose(z[:len(PLANTED_Z), 0], PLANTED_Z[:z.shape[0]], rtol=1e-12)


@given(drawn_specs())
def test_a_case_token_rebuilds_the_same_network(spec: NetworkSpec) -> None:
    again = parse_case(spec.token(), spec.seed)
    assert again == spec
    np.testing.assert_array_equal(again.case().weights[0], spec.case().weights[0])


def test_slot_names_rebuild_battery_networks() -> None:
    for spec in (*battery(3), *saturation_specs(3)):
        assert parse_case(spec.token(), 3) == spec


@pytest.mark.parametrize("token", ["nonsense", "2,x/m=1/scale=1", "0,2/m=1/scale=1"])
def test_a_bad_case_token_says_what_it_expects(token: str) -> None:
    with pytest.raises(ValueError, match="--case is"):
        parse_case(token, 0)


@pytest.mark.parametrize("names", [["tanh"], ["relu", "sigmoid"], ["tanh", "relu", "sigmoid"],
                                   ["sigmoid", "tanh", "relu", "tanh", "sigmoid"]])
def test_sigma_per_layer_puts_every_network_at_its_depth(names: list[str]) -> None:
    per_layer = ",".join(names) if len(names) > 1 else None
    L = len(names) + 1
    for spec in (*battery(4), *saturation_specs(4)):
        if per_layer is None:
            assert spec.with_functions(names[0], "quadratic").sizes == spec.sizes
            continue
        at = spec.with_functions(per_layer, "quadratic")
        assert at.L == L and at.sizes[0] == spec.sizes[0]
        assert at.sizes[-1] == spec.sizes[-1] or spec.name == "square"  # square: kept square
        assert [a.name for a in at.case().activations] == names
        assert parse_case(at.token(), 4).with_functions(per_layer, "quadratic") == at


def test_sigma_per_layer_of_another_depth_is_refused() -> None:
    from bpverify.oracles.cases import layer_functions
    with pytest.raises(ValueError, match="one per layer 2..4, but the network has L = 3"):
        layer_functions("tanh,relu,sigmoid", 3)


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_the_square_slot_stays_square_at_any_fixed_depth(seed: int) -> None:
    square = next(s for s in battery(seed) if s.name == "square")
    for L in (3, 4, 6):
        sizes = square.with_functions(",".join(["tanh"] * (L - 1)), "quadratic").sizes
        assert len(sizes) == L and any(a == b for a, b in zip(sizes[1:-1], sizes[2:],
                                                              strict=False)), sizes
