"""The template process that forks a checker per submission (isolation/template.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpverify.conformance.isolation.template import Template, job
from bpverify.conformance.isolation.worker import Limits, Placement

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

def test_a_checker_that_ends_before_its_verdicts_are_sent_is_an_error(tmp_path: Path) -> None:
    """The template's backstop kills a checker (here: one whose submission hangs at import
    within a generous call limit); the client hears how it ended and makes that an ERROR."""
    (tmp_path / "network.py").write_text("while True:\n    pass\n")
    template = Template()
    try:
        request = job("network:Network", Placement(cwd=str(tmp_path), writable=(str(tmp_path),)),
                      Limits(call_seconds=30.0, total_seconds=30.0))
        result = template.run(dict(request, backstop=0.5))
    finally:
        template.close()
    assert result["verdict"] == "ERROR"
    assert "its checker process was stopped after" in result["reason"]
    assert "before the verdicts were complete" in result["reason"]

