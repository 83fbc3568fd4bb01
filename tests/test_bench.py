"""The benchmark runs end to end on a tiny configuration; no test asserts a timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bpverify import bench


def test_tiny_bench_writes_every_measurement_and_plot(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(quick=True, out=str(tmp_path), config=bench.TINY) == 0
    data = json.loads((tmp_path / "bench.json").read_text())
    assert set(data) == {"setup", "finite_differences", "gradient_over_forward", "loop_vs_matrix",
                         "frameworks", "flops", "step_sizes"}
    assert data["setup"]["threads"] == 1
    assert all(r["forward_passes"] == r["parameters"] + 1 for r in data["finite_differences"])
    assert {"reference_over_jax_f64", "reference_over_jax_f32"} <= set(data["frameworks"][0])
    assert set(data["step_sizes"]["relative_error"]) == {"forward", "central", "richardson", "complex"}
    for name in ("finite_differences", "gradient_over_forward", "loop_vs_matrix", "frameworks",
                 "step_sizes"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert "1. finite differences" in capsys.readouterr().out


def test_flop_prediction_for_a_two_layer_network() -> None:
    """[784, 30, 10]: forward 784·30 + 30·10, backward adds BP4 (the same) and BP2 (30·10)."""
    forward = 784 * 30 + 30 * 10
    assert bench.predicted_gradient_over_forward((784, 30, 10)) == (2 * forward + 300) / forward
