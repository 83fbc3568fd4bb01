"""`bpverify bench` (commands/bench.py): every measurement and plot written; the floor computes the
reference's numbers; targets judged as printed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bpverify.commands import bench
from bpverify.oracles.cases import random_case
from bpverify.reference import backprop_matrix


def test_tiny_bench_writes_every_measurement_and_plot(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(quick=True, out=str(tmp_path), config=bench.TINY) == 0
    data = json.loads((tmp_path / "bench.json").read_text())
    assert set(data) == {"setup", "finite_differences", "gradient_over_forward", "loop_vs_matrix",
                         "floor", "frameworks", "flops", "step_sizes", "commands"}
    assert data["setup"]["threads"] == 1
    assert all(r["forward_passes"] == r["parameters"] + 1 for r in data["finite_differences"])
    assert {"reference_over_jax_f64", "reference_over_jax_f32", "minimal_over_jax_f64",
            "reference_over_torch_f64"} <= set(data["frameworks"][0])
    assert [r["target"] for r in data["floor"]] == [t for _, _, t in bench.TINY.floor_shapes]
    assert set(data["step_sizes"]["relative_error"]) == {"forward", "central", "richardson", "complex"}
    for name in ("finite_differences", "gradient_over_forward", "loop_vs_matrix", "floor",
                 "frameworks", "step_sizes"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "1. finite differences" in out and "4. reference backprop_matrix / the minimal" in out
    assert ("✓" in out or "✗" in out) and "≤ 1.2" in out


def test_flop_prediction_for_a_two_layer_network() -> None:
    """[784, 30, 10]: forward 784·30 + 30·10, backward adds BP4 (the same) and BP2 (30·10)."""
    forward = 784 * 30 + 30 * 10
    assert bench.predicted_gradient_over_forward((784, 30, 10)) == (2 * forward + 300) / forward


@pytest.mark.parametrize("sizes, m", [((784, 30, 10), 1), ((5, 4, 4, 3), 3), ((6, 2), 2)])
def test_the_floor_computes_the_references_numbers(sizes: tuple[int, ...], m: int) -> None:
    """The minimal algorithm is a fair floor only if it does the same arithmetic: bit for bit."""
    case = random_case(1, sizes, batch_size=m, weight_scale=3.0)
    nabla_b, nabla_w = bench.minimal_backprop(list(case.weights), list(case.biases), case.x, case.y)
    expected = backprop_matrix(list(case.weights), list(case.biases), case.x, case.y)
    for got, want in zip(nabla_b + nabla_w, expected.nabla_b + expected.nabla_w, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_target_is_judged_on_the_value_as_printed() -> None:
    assert bench.verdict(1.004, 1.0) == "✓" and bench.verdict(1.006, 1.0) == "✗"
    assert bench.verdict(79.6, 80.0, at_least=True, digits=0) == "✓"
    assert bench.verdict(79.4, 80.0, at_least=True, digits=0) == "✗"

