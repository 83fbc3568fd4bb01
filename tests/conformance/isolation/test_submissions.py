"""Finding a class's submissions (isolation/submissions.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpverify.conformance.isolation.submissions import discover

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

def test_discovery_leaves_out_hidden_entries_caches_and_out(tmp_path: Path) -> None:
    for name in ("b", "a", ".git", "__pycache__", "out"):
        (tmp_path / name).mkdir()
    (tmp_path / "c.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    assert [s.name for s in discover(tmp_path, exclude=[tmp_path / "out"])] == ["a", "b", "c.py"]
    with pytest.raises(ValueError, match="expected a folder of submissions"):
        discover(tmp_path / "c.py")

