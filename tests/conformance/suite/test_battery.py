"""The case battery keeps its promises at every seed, and a network's --case token rebuilds it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from bpverify.conformance.suite.battery import (
    LARGE_GRADIENT,
    PLANTED_Z,
    TINY_GRADIENT,
    NetworkSpec,
    battery,
    covered_properties,
    drawn_specs,
    example_gradient_norms,
    parse_case,
    saturation_specs,
)
from bpverify.conformance.suite.examples import INPUT_KINDS, TARGET_KINDS

PROMISED = {"L=2", "L=3", "L=4", "L=5", "L>=8", "hidden width 1", "output width 1",
            "square consecutive layers", "every width = m", "m = a hidden width",
            "m = n₁ or n_L", "784-wide input", "hidden width > 64", "m=1",
            "m=1 without width-1 layers", "m=7", "m>64", "m>1024", "small weights", "|z|>=10",
            "gradient tiny", "gradient large",
            *(f"x {kind}" for kind in INPUT_KINDS),
            *(f"y {kind}" for kind in TARGET_KINDS["quadratic"])}


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_every_seed_covers_every_property(seed: int) -> None:
    found = covered_properties(battery(seed))
    assert found >= PROMISED, PROMISED - found
    assert "m a multiple of 32" not in found  # past the blockings, never on one


@pytest.mark.parametrize("cost", sorted(TARGET_KINDS))
@pytest.mark.parametrize("seed", [0, 7])
def test_every_cost_gets_every_kind_of_target(cost: str, seed: int) -> None:
    """Real-valued, boundary, soft and near-one-hot targets, each within its cost's domain."""
    output = "sigmoid" if cost == "cross-entropy" else "sigmoid/softmax" if (
        cost == "categorical-cross-entropy") else "sigmoid"
    kinds: set[str] = set()
    for spec in battery(seed):
        at = spec.with_functions(output, cost)
        kinds.update(k.split(", y ")[1] for k in at.case() and _kinds(at))
        y = at.case().y
        if cost != "quadratic":
            assert np.all((y >= 0) & (y <= 1))
        if cost == "categorical-cross-entropy":
            np.testing.assert_allclose(y.sum(axis=0), 1.0, rtol=1e-12)
    assert kinds == set(TARGET_KINDS[cost])


def _kinds(spec: NetworkSpec) -> list[str]:
    return [spec.example(j).split("(", 1)[1].rstrip(")") for j in range(spec.m)]


@pytest.mark.parametrize("seed", range(0, 60, 7))
def test_every_slot_has_a_tiny_and_a_large_gradient(seed: int) -> None:
    """Gradient norms from tiny to large in every slot (clipping and thresholds show): in one
    battery where m ≥ 2 (the saturating slot too, where σ′ ≈ 0 scales gradients down), over two
    consecutive seeds where m = 1 (a lone example is near or far, the two such slots unlike)."""
    pairs = zip(battery(seed), battery(seed + 1), strict=True)
    for spec, following in pairs:
        norms = example_gradient_norms(spec)
        if spec.m == 1:
            norms = np.concatenate([norms, example_gradient_norms(following)])
        assert norms.min() < TINY_GRADIENT and norms.max() > LARGE_GRADIENT, spec
    lone = [example_gradient_norms(s)[0] for s in battery(seed) if s.m == 1]
    assert len(lone) == 2 and min(lone) < TINY_GRADIENT and max(lone) > LARGE_GRADIENT, lone


@pytest.mark.parametrize("seed", [0, 1])
def test_the_examples_a_batch_promises_are_what_they_say(seed: int) -> None:
    """Each kind of input is what its name says, and a repeated example repeats x and y."""
    spec = next(s for s in battery(seed) if s.name == "large-batch")
    case = spec.case()
    for j in range(spec.m):
        x_kind = _kinds(spec)[j].split(",")[0].removeprefix("x ")
        x = case.x[:, j]
        if x_kind == "zero":
            assert not x.any()
        elif x_kind == "constant":
            assert np.all(x == x[0]) and x[0] != 0
        elif x_kind == "one-hot":
            assert sorted(x) == [0.0] * (len(x) - 1) + [1.0]
        elif x_kind == "large":
            assert np.max(np.abs(x)) > 10
        elif x_kind == "tiny":
            assert np.max(np.abs(x)) < 1e-4
        elif x_kind in ("repeat", "same-x", "permuted"):
            earlier = [sorted(case.x[:, k]) for k in range(j)]
            assert sorted(x) in earlier
            if x_kind == "repeat":
                assert any(np.array_equal(case.x[:, k], x) and np.array_equal(
                    case.y[:, k], case.y[:, j]) for k in range(j))


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
        assert at.sizes[-1] == spec.sizes[-1]
        assert [a.name for a in at.case().activations] == names
        assert parse_case(at.token(), 4).with_functions(per_layer, "quadratic") == at


def test_sigma_per_layer_of_another_depth_is_refused() -> None:
    from bpverify.oracles.cases import layer_functions
    with pytest.raises(ValueError, match="one per layer 2..4, but the network has L = 3"):
        layer_functions("tanh,relu,sigmoid", 3)


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_the_square_slot_stays_square_at_any_fixed_depth(seed: int) -> None:
    """Every layer of one width k and m = k, at any depth σ per layer fixes."""
    square = next(s for s in battery(seed) if s.name == "square")
    for L in (2, 3, 4, 6):
        at = square.with_functions(",".join(["tanh"] * (L - 1)) + ("," if L == 2 else ""),
                                   "quadratic")
        assert len(at.sizes) == L and set(at.sizes) == {at.m}, at.sizes
