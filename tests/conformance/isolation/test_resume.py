"""Grading written as it goes (isolation/journal.py, grading.py): kill -9 of `bpverify grade` in the
middle, then the same command: every submission once, the verdicts right, nothing graded twice;
a class regraded after one submission changed regrades exactly that one, and says so; each run's
gradebook is kept; deaths that are ours are retried once; an empty or unreadable class is a
usage error with its reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bpverify.commands.grade import main as grade_main
from bpverify.conformance.isolation import grading
from bpverify.conformance.isolation.grading import grade
from bpverify.conformance.isolation.journal import Journal
from bpverify.conformance.isolation.submissions import Submission
from bpverify.conformance.isolation.template import TemplateStopped
from bpverify.conformance.isolation.worker import Limits, describe_exit
from bpverify.conformance.specimens.sources import book_source, mutant_source

pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

LIMITS = Limits(call_seconds=10.0, total_seconds=60.0)
SLOW_IMPORT = "\nimport time\ntime.sleep(2)\n"


def _class(root: Path) -> dict[str, str]:
    """Six submissions; the third takes 2 s to import, so a run is surely killed before it
    ends."""
    sources = {"a-book": book_source(), "b-bp2": mutant_source("MissingSigmaPrimeBP2"),
               "c-slow": book_source() + SLOW_IMPORT, "d-book": book_source(),
               "e-eta": mutant_source("EtaInsteadOfEtaOverM"), "f-book": book_source()}
    for name, text in sources.items():
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    return {name: "CONFORMS" if "book" in name or "slow" in name else "DOES NOT CONFORM"
            for name in sources}


def _verdict_lines(out: Path) -> Counter[str]:
    return Counter(r["submission"] for r in Journal(out).records() if r["kind"] == "verdict")


def _grade_command(root: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "bpverify", "grade", str(root), "--out", str(out), "-j", "1",
            "--timeout", str(LIMITS.call_seconds), "--submission-timeout",
            str(LIMITS.total_seconds)]


@pytest.fixture(scope="module")
def killed_then_resumed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("resume")
    root, out = base / "class", base / "out"
    expected = _class(root)
    process = subprocess.Popen(_grade_command(root, out), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while sum(_verdict_lines(out).values()) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, "grade ended before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = _verdict_lines(out)
    stale = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("bpverify-grade-*")
             if (p / "owner").is_file() and (p / "owner").read_text() == str(process.pid)]
    again = subprocess.run(_grade_command(root, out), capture_output=True, text=True,
                           timeout=300)
    return {"root": root, "out": out, "expected": expected, "before": before, "stale": stale,
            "again": again, "after": _verdict_lines(out)}


def test_kill_9_then_the_same_command_grades_each_submission_once(
        killed_then_resumed: dict[str, Any]) -> None:
    run = killed_then_resumed
    assert 2 <= sum(run["before"].values()) < len(run["expected"])  # killed mid-run
    assert run["again"].returncode == 0, run["again"].stderr
    assert run["after"] == Counter(list(run["expected"]))  # every submission once: none twice
    assert f"{sum(run['before'].values())} of {len(run['expected'])} unchanged" in \
        run["again"].stderr
    book = json.loads((run["out"] / "gradebook.json").read_text())
    assert {e["submission"]: e["verdict"] for e in book["submissions"]} == run["expected"]
    assert book["meta"]["kept"] == sum(run["before"].values())
    for folder in run["stale"]:  # the killed run's private copies are removed by the next
        assert not folder.exists()


def test_a_changed_submission_is_regraded_alone_and_the_change_is_shown(
        killed_then_resumed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    root, out = killed_then_resumed["root"], killed_then_resumed["out"]
    (root / "b-bp2" / "network.py").write_text(book_source())  # the student fixed BP2
    assert grade_main(str(root), str(out), jobs=1, seconds=LIMITS.call_seconds,
                      submission_seconds=LIMITS.total_seconds) == 0
    captured = capsys.readouterr()
    assert "1 graded (1 changed), 5 kept" in captured.out
    assert "verdict changed for b-bp2: DOES NOT CONFORM → CONFORMS" in captured.err
    counts = _verdict_lines(out)
    assert counts["b-bp2"] == 2 and all(counts[n] == 1 for n in counts if n != "b-bp2")
    history = sorted((out / "history").iterdir())
    assert len(history) == 2  # the resumed run and this one; the killed one wrote none
    first = json.loads((history[0] / "gradebook.json").read_text())
    assert {e["submission"]: e["verdict"] for e in first["submissions"]}["b-bp2"] == \
        "DOES NOT CONFORM"  # what the teacher saw then, kept
    index = (out / "index.html").read_text()
    assert "Changes since run-" in index and "b-bp2" in index.split("Changes since")[1]


def test_other_options_regrade_everyone(killed_then_resumed: dict[str, Any]) -> None:
    root, out = killed_then_resumed["root"], killed_then_resumed["out"]
    run = grade(root, out, jobs=2, limits=LIMITS, only=["assignment", "BP2"])
    assert run.kept == [] and len(run.graded["other options"]) == 6
    again = grade(root, out, jobs=2, limits=LIMITS, only=["assignment", "BP2"])
    assert len(again.kept) == 6 and again.summary().startswith("0 graded")


def test_an_empty_or_unreadable_class_is_exit_2_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / ".hidden").mkdir()
    assert grade_main(str(tmp_path / "class"), str(tmp_path / "out")) == 2
    assert "holds no submission" in capsys.readouterr().err

    def refused(self: Path) -> Any:
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(Path, "iterdir", refused)
    assert grade_main(str(tmp_path / "class"), str(tmp_path / "out")) == 2
    assert "cannot be read: Permission denied" in capsys.readouterr().err
    monkeypatch.undo()
    assert grade_main(str(tmp_path / "missing"), str(tmp_path / "out")) == 2
    assert "expected a folder of submissions" in capsys.readouterr().err


def test_one_out_is_written_by_one_grade_at_a_time(tmp_path: Path) -> None:
    import fcntl
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "network.py").write_text(book_source())
    (tmp_path / "out").mkdir()
    with (tmp_path / "out" / ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ValueError, match="being written by another bpverify grade"):
            grade(tmp_path / "class", tmp_path / "out")


def test_a_torn_last_line_is_ignored_and_cut_off_before_the_next(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append({"kind": "verdict", "submission": "jos\udce9", "entry": {"v": "\ud800"}})
    journal.close()
    with journal.path.open("ab") as f:
        f.write(b'{"kind": "verdict", "submission": "bo')  # a kill in the middle of a write
    assert list(journal.latest()) == ["jos\udce9"]  # losslessly, surrogates and all
    journal.append({"kind": "verdict", "submission": "bob", "entry": {}})
    journal.close()
    assert list(journal.latest()) == ["jos\udce9", "bob"]
    assert journal.path.read_bytes().count(b"\n") == 2


class _Template:
    """A stand-in template whose checkers die (``ours``) or which dies itself, as scripted."""

    script: list[str] = []

    def __init__(self) -> None:
        self.jobs: list[int] = []

    def submit(self, job: dict[str, Any]) -> int:
        self.jobs.append(len(self.jobs) + 1)
        return self.jobs[-1]

    def finished(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self.jobs:
            return []
        event = self.script.pop(0)
        if event == "template dies":
            raise TemplateStopped("the grading template process was ended by SIGKILL")
        number = self.jobs.pop(0)
        if event == "checker dies":
            return [(number, {"verdict": "ERROR", "ours": True,
                              "reason": "its checker process was ended by SIGKILL before the "
                                        "verdicts were complete"})]
        return [(number, {"verdict": "CONFORMS", "report": None, "seconds": 0.1})]

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("script", "verdict", "attempts"), [
    (["checker dies", "graded"], "CONFORMS", 2),
    (["checker dies", "checker dies"], "ERROR", 2),
    (["template dies", "graded"], "CONFORMS", 2),
    (["template dies", "template dies"], "ERROR", 2),
])
def test_a_death_that_is_ours_is_retried_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: list[str], verdict: str,
        attempts: int) -> None:
    (tmp_path / "alice").mkdir()
    (tmp_path / "ws").mkdir()  # grade's workspace, made before any copy into it
    monkeypatch.setattr(grading, "Template", _Template)
    _Template.script = list(script)
    recorded: list[dict[str, Any]] = []
    grading._run_all([(Submission("alice", tmp_path / "alice"), "hash")], tmp_path / "ws", [],
                     "network:Network", 1, LIMITS, {}, grading.Progress(1, open(os.devnull, "w")),
                     lambda sub, content, entry: recorded.append(entry))
    assert [e["verdict"] for e in recorded] == [verdict] and not _Template.script
    if verdict == "ERROR":
        assert "SIGKILL" in recorded[0]["reason"]


def test_a_sandbox_killed_by_a_signal_is_retried_once_then_named(tmp_path: Path) -> None:
    from handed_in import backprop_runs_first
    (tmp_path / "class" / "self-kill").mkdir(parents=True)
    (tmp_path / "class" / "self-kill" / "network.py").write_text(
        backprop_runs_first("os.kill(os.getpid(), 9)"))
    run = grade(tmp_path / "class", tmp_path / "out", limits=LIMITS, only=["BP1"])
    entry = run.entries[0]
    assert entry["verdict"] == "ERROR" and entry["attempts"] == 2
    assert "was ended by SIGKILL (sent by the system, another process or itself; not a limit " \
        "of its own: its memory peaked at" in entry["reason"]


def test_a_signal_is_named_and_memory_blamed_only_at_its_limit() -> None:
    killed = signal.SIGKILL  # a wait status: killed by signal N is N
    assert describe_exit(killed, 70 << 20, 2 << 30) == (
        "was ended by SIGKILL (sent by the system, another process or itself; not a limit of "
        "its own: its memory peaked at 70 MiB)")
    assert "at its memory limit: 1900 MiB of 2048 MiB" in describe_exit(killed, 1900 << 20,
                                                                        2 << 30)
    assert describe_exit(signal.SIGSEGV, 80 << 20, 2 << 30) == (
        "was ended by SIGSEGV (its memory peaked at 80 MiB)")
    assert describe_exit(3 << 8) == "exited with status 3"
