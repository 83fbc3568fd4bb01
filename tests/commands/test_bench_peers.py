"""`bpverify bench --checkers` (commands/bench_peers.py): the peers see the zoo as a user would
wire them up."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from bpverify.commands import bench_peers as checkers
from bpverify.conformance.specimens import zoo
from bpverify.conformance.specimens.book_network import BookNetwork

SMALL = (checkers.problem((4, 5, 5, 3)),)


FAST = checkers.Limits(peer_seconds=30.0, suite_seconds=2.0)


def _first_mutant(equation_prefix: str) -> checkers.Subject:
    return next(s for s in checkers.subjects()
                if not s.correct and s.equation.startswith(equation_prefix))


def _peer(name: str) -> checkers.Checker:
    return next(c for c in checkers.CHECKERS if c.name == name)


def test_subjects_are_the_whole_zoo_and_its_correct_variants(monkeypatch: pytest.MonkeyPatch) -> None:
    found = checkers.subjects()
    assert [s.name for s in found if not s.correct] == [m.name for m in zoo.MUTANTS]
    assert [s.cls for s in found if s.correct] == list(dict.fromkeys((BookNetwork, *zoo.CORRECT)))

    class AnotherCorrectNetwork(BookNetwork):
        pass
    monkeypatch.setattr(zoo, "CORRECT", (AnotherCorrectNetwork,), raising=False)
    assert [s.name for s in checkers.subjects() if s.correct] == ["BookNetwork",
                                                                   "AnotherCorrectNetwork"]


PEERS = [c.name for c in checkers.CHECKERS if c.run is not None and checkers.installed(c.module)]


@pytest.mark.parametrize("peer", PEERS)
def test_each_peer_rejects_a_bp1_bug_and_passes_the_books_network(peer: str) -> None:
    wrong = checkers.check_subject(_first_mutant("BP1"), _peer(peer), SMALL, FAST)
    right = checkers.check_subject(checkers.subjects()[0], _peer(peer), SMALL, FAST)
    assert wrong.rejected and wrong.visibility == "visible", wrong
    assert not wrong.names_equation  # a peer's message says "Jacobian mismatch", not "BP1"
    assert not right.rejected, right


def test_an_update_rule_bug_is_not_visible_to_a_gradient_checker() -> None:
    mutant = _first_mutant("update rule")
    verdict = checkers.check_subject(mutant, _peer("np.allclose vs central differences"), SMALL,
                                     FAST)
    assert not verdict.rejected and verdict.visibility.startswith("never runs"), verdict
    own = checkers.check_subject(mutant, _peer("bpverify check"), SMALL, FAST)
    assert own.rejected and own.names_equation, own


@pytest.mark.skipif(sys.gettrace() is not None, reason=(
    "under a tracer (coverage, a debugger) CPython delivers the stop to a thread blocked in C "
    "only when its wait ends, and the caller waits with it"))
def test_a_call_past_the_limit_is_a_rejection_and_marks_the_worker() -> None:
    released = threading.Event()

    class Waits(BookNetwork):
        def backprop(self, x, y):  # type: ignore[no-untyped-def]
            released.wait(60.0)  # waits rather than spins: the abandoned thread costs no CPU,
            return super().backprop(x, y)  # and it is still running when asked, at any load
    subject = checkers.Subject("Waits", Waits, False, "BP1")
    try:
        verdict = checkers.check_subject(subject, _peer("np.allclose vs central differences"),
                                         SMALL, checkers.Limits(peer_seconds=0.2))
        assert verdict.rejected and verdict.abandoned and "did not return" in verdict.detail
        assert checkers._abandoned_calls()  # the worker would now be replaced
    finally:
        released.set()


def test_the_checker_benchmark_writes_its_tables(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """End to end in a worker process, on two subjects and two checkers."""
    wrong = _first_mutant("BP2")
    config = checkers.Config(sizes=((4, 5, 5, 3),), only=("BookNetwork", wrong.name),
                             checkers=("bpverify check", "np.allclose vs central differences"),
                             limits=FAST)
    assert checkers.main(str(tmp_path), config) == 0
    data = json.loads((tmp_path / "checkers.json").read_text())
    assert {(v["subject"], v["checker"], v["rejected"]) for v in data["verdicts"]} == {
        ("BookNetwork", "bpverify check", False), (wrong.name, "bpverify check", True),
        ("BookNetwork", "np.allclose vs central differences", False),
        (wrong.name, "np.allclose vs central differences", True)}
    text = (tmp_path / "checkers.md").read_text()
    assert "| bpverify check | 1/1 | 0 |" in text and "| 0/1 |" in text
    assert f"| {wrong.name} | BP2 | ✓ killed (named) | ✓ killed |" in text
    assert "mutants killed" in capsys.readouterr().out


def test_where_a_bug_lives_is_read_from_the_class() -> None:
    """Plain methods the class defines itself, __init__ included (an initialisation bug runs in
    every checker); the visibility verdict only ever names those."""
    class InitBug(BookNetwork):
        def __init__(self, sizes):  # type: ignore[no-untyped-def]
            super().__init__(sizes)

        def feedforward(self, a):  # type: ignore[no-untyped-def]
            return super().feedforward(a)

        @staticmethod
        def helper() -> int:
            return 1
    assert checkers.overridden_methods(InitBug) == {"__init__", "feedforward"}
    calls: set[str] = set()
    recorded = checkers.recording(InitBug, checkers.overridden_methods(InitBug), calls)
    recorded([2, 3, 1]).feedforward(np.ones((2, 1)))
    assert calls == {"__init__", "feedforward"}

