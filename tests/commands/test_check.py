"""`bpverify check` (commands/check.py): the verdict is computed outside the implementation's
process."""

from __future__ import annotations

from pathlib import Path

import pytest
from handed_in import FAKE, backprop_runs_first

from bpverify.commands.check import main as check_main
from bpverify.conformance.specimens.sources import book_source

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

def test_check_exits_non_zero_when_the_implementation_fakes_its_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "network.py").write_text(backprop_runs_first(f"print({FAKE!r}, flush=True)\nos._exit(0)"))
    monkeypatch.chdir(tmp_path)
    assert check_main("network:Network", seconds=2.0) == 1
    captured = capsys.readouterr()
    assert FAKE in captured.err  # shown, as what it printed …
    assert "ERROR: its process exited with status 0" in captured.out  # … and judged
    assert "DOES NOT CONFORM" in captured.out
    (tmp_path / "network.py").write_text(book_source())
    assert check_main("network:Network", seconds=2.0) == 0
    assert "isolated: " in capsys.readouterr().out

