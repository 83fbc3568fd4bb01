"""bpverify/commands/bench_grading.py: ``grade --bench N`` grades a generated class and names every
verdict that is not the one its specimen must get."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bpverify.commands import bench_grading
from bpverify.conformance.specimens import sources

COSTS = {name: 0.0 for name in ("worker_only_ms", "suite_in_process_ms", "suite_in_worker_ms",
                                "call_in_worker_ms", "call_in_process_ms")}


@pytest.fixture
def no_overhead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-submission costs are measured by ``overhead`` (60 suite runs): not what this
    test is about."""
    monkeypatch.setattr(bench_grading, "overhead", lambda: dict(COSTS))


@pytest.mark.usefixtures("no_overhead")
def test_a_small_class_is_graded_as_its_specimens_must_be(tmp_path: Path) -> None:
    printed = io.StringIO()
    result = bench_grading.benchmark(4, jobs=2, out=tmp_path / "out", stream=printed)
    assert result["submissions"] == 4 and result["unexpected"] == {}
    assert result["seconds"] > 0 and result["peak_rss_mib_worker"] > 0
    assert "bpverify grade --bench 4:" in printed.getvalue()
    assert "0 unexpected verdicts" in printed.getvalue()
    assert (tmp_path / "out" / "gradebook.json").exists()


@pytest.mark.usefixtures("no_overhead")
def test_a_verdict_other_than_expected_is_named(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The negative control: told that the book's network must fail, the bench names it."""
    real = sources.write_class

    def expecting_the_opposite(folder: Path, n: int) -> dict[str, str]:
        expected = real(folder, n)
        return {**expected, "student-000": "DOES NOT CONFORM"}
    monkeypatch.setattr(bench_grading, "write_class", expecting_the_opposite)
    printed = io.StringIO()
    result = bench_grading.benchmark(2, jobs=1, out=tmp_path / "out", stream=printed)
    assert result["unexpected"] == {"student-000": "CONFORMS"}
    assert "1 unexpected verdicts: {'student-000': 'CONFORMS'}" in printed.getvalue()
