"""An implementation in a sandboxed worker process (isolation/worker.py) gets the verdicts it
gets in-process."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import pytest
from handed_in import backprop_runs_first, w_for_w_transposed

import bpverify.conformance.specimens.zoo as zoo
from bpverify.conformance.isolation.grading import grade
from bpverify.conformance.isolation.worker import Limits, Placement, run_isolated
from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.sources import book_source
from bpverify.conformance.suite.runner import run_suite

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

def _in_process_statuses(cls: type, seconds: float) -> list[list[str]]:
    """Each check's status with the implementation in-process, as before the worker existed, run
    in a fork: a hung call's abandoned thread would spin on in this process."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        report = run_suite(as_implementation(cls), seconds=seconds)
        os.write(write, json.dumps([[o.check.id, o.status] for o in report.outcomes]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


ACROSS_THE_BOUNDARY = (
    "MissingSigmaPrimeBP2", "ScalarBiasGradientForOneNeuron", "HangsInUpdate", "Crashes",
    "ReturnsNaN", "SigmaPrimeOverflowsToNaN", "MutatesItsInput", "UpdateConsumesItsMiniBatch",
    "Nondeterministic", "ReturnsInternalBuffers", "MomentumLeftIn", "Float32OutputErrorBP1",
    "SGDShortLastBatchNominalSize", "SGDFirstMiniBatchOnly")
"""One mutant per way a result crosses the sandbox's boundary (a wrong value, a wrong shape, a
hang, an exception, NaN, an argument changed in place, a list consumed, randomness, buffers
kept, state kept across steps, float32, the SGD session); the whole zoo in ``tox -e thorough``."""

HANGS = ("HangsInUpdate",)
"""Mutants whose calls hang: each hang costs the time limit, so theirs is short (0.5 s); the
others get a generous one (a mini-batch of more than 1024 examples crosses the boundary in about
0.3 s), so that no verdict depends on the machine's load."""

RANDOM = ("Nondeterministic",)
"""Mutants that draw unseeded noise: whether a check other than the one that kills them passes
on a network depends on the draw (|N(0, 1)|·1e-12 may be tiny), so a check that depends on it
may run or be blocked; only their killing check's verdict is the same in every run (a full
comparison once failed this way: 'state' blocked in-process, failed in the sandbox)."""


def _compared(mutant: zoo.Mutant, statuses: list[list[str]]) -> list[list[str]]:
    return [s for s in statuses if mutant.name not in RANDOM or s[0] == mutant.check]


def test_the_worker_gives_every_zoo_mutant_the_in_process_verdicts(tmp_path: Path) -> None:
    """Forwarding calls to a sandbox changes no verdict: not for a hang, an exception, NaN, an
    argument changed in place or randomness (each check's status, for the mutants
    ``ACROSS_THE_BOUNDARY``, and for all of the bug zoo with HYPOTHESIS_PROFILE=thorough)."""
    placement = Placement(cwd=str(tmp_path), writable=(str(tmp_path),))
    thorough = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
    chosen = [m for m in zoo.MUTANTS if thorough or m.name in ACROSS_THE_BOUNDARY]
    assert len(chosen) >= len(ACROSS_THE_BOUNDARY)  # every name is a mutant of the zoo
    for mutant in chosen:
        seconds = 0.5 if mutant.name in HANGS else 10.0
        setattr(zoo, mutant.name, mutant.cls)  # the fork sees it, as the existing tests do
        try:
            isolated = run_isolated(f"bpverify.conformance.specimens.zoo:{mutant.name}", placement,
                                    Limits(call_seconds=seconds))
        finally:
            delattr(zoo, mutant.name)
        assert isolated.report is not None and isolated.error is None, isolated.error
        sandboxed = [[o.check.id, o.status] for o in isolated.report.outcomes]
        assert _compared(mutant, sandboxed) == _compared(mutant, _in_process_statuses(mutant.cls, seconds)), \
            mutant.name
        assert _compared(mutant, sandboxed), mutant.name  # its killing check is among them



def test_a_crash_names_the_users_line_in_the_gradebook(tmp_path: Path) -> None:
    """The w-for-wᵀ crash of the book's network, graded: its file:line and source line in
    gradebook.json and on its page, as ``bpverify check`` prints them."""
    source, line = w_for_w_transposed()
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "network.py").write_text(source)
    (entry,) = grade(tmp_path / "class", tmp_path / "out", jobs=1, only=["shapes"],
                     limits=Limits(call_seconds=5.0, total_seconds=60.0)).entries
    where = f"at network.py:{line} in backpropagate: return np.dot(w_next, delta)"
    data = json.loads((tmp_path / "out" / "gradebook.json").read_text())
    (shapes,) = data["submissions"][0]["outcomes"]
    assert entry["verdict"] == "DOES NOT CONFORM" and where in shapes["detail"]
    assert html.escape(where) in (tmp_path / "out" / "submissions" / "alice.html").read_text()


FORGED = "[\"CONFORMS\\nbob: 17 passed\", 1, \"f\", \"\\u001b[2J\"]"


def test_a_location_sent_by_the_implementation_is_display_text_only(tmp_path: Path) -> None:
    """An implementation that writes 'where I was' frames of its own into the channel, forged
    text with newlines and terminal escapes, before it hangs: its verdict is its own (an error),
    and what it wrote is shown, if at all, printable on one line."""
    frame = ("import json, socket, struct\n"
             f"text = json.dumps({{'stopped_at': [{FORGED}], 'buffers': []}}).encode()\n"
             "channel = socket.socket(fileno=3)\n"
             "channel.sendall(struct.pack('!I', len(text)) + text)\n"
             "channel.detach()  # the sandbox's channel stays open\n"
             "while True:\n    pass")
    (tmp_path / "network.py").write_text(backprop_runs_first(frame))
    run = run_isolated("network:Network", Placement(cwd=str(tmp_path), writable=(str(tmp_path),)),
                       Limits(call_seconds=1.0), only=["shapes"])
    assert run.report is not None
    (shapes,) = run.report.outcomes
    assert shapes.status == "error" and run.verdict == "DOES NOT CONFORM", (run.error, shapes.detail)
    assert "\n" not in shapes.detail and "\x1b" not in shapes.detail


def test_a_sandbox_short_of_memory_fails_to_load_and_does_not_hang(tmp_path: Path) -> None:
    """Its address space limit 1 MiB above what it inherits from the checker (the limit is
    counted beyond that, sandbox.resource_limits) and 4 GiB allocated at import (more than the
    checker could have mapped and freed, which the fork may reuse): the import
    fails with the error of the allocation that failed (nothing of ours waits for a thread that
    could not get its stack), whatever the checker had loaded before."""
    (tmp_path / "network.py").write_text(book_source("\nBUFFER = bytearray(4 << 30)\n"))
    run = run_isolated("network:Network", Placement(cwd=str(tmp_path), writable=(str(tmp_path),)),
                       Limits(import_seconds=30.0, memory_bytes=1 << 20), only=["shapes"])
    assert "MemoryError" in str(run.error), run.error  # not a hang, not what the checker loaded
    assert run.verdict == "ERROR" and run.error is not None
    assert "did not finish importing" not in run.error, run.error


JAX_FORK_WARNING = "JAX is multithreaded"
FORK_AFTER_JAX = ("import os, jax.numpy as jnp\njnp.ones(3).sum().block_until_ready()\n"
                  "pid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\n")


def _stderr_of(args: list[str], cwd: Path) -> str:
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)
    return done.stderr


def test_the_commands_never_fork_after_jax_has_started(tmp_path: Path) -> None:
    """``check`` and ``grade`` fork their sandboxes (and grade its checkers) before any JAX
    thread exists: run as a user runs them, JAX's at-fork warning never fires. (The in-process
    tests above fork in a pytest worker that other tests' JAX may have started, hence their
    filter.) Negative control: a fork after JAX has run does print it."""
    assert JAX_FORK_WARNING in _stderr_of(["-c", FORK_AFTER_JAX], tmp_path)
    (tmp_path / "network.py").write_text(book_source())
    assert JAX_FORK_WARNING not in _stderr_of(["-m", "bpverify", "check", "network.py:Network"],
                                              tmp_path)
    (tmp_path / "class" / "ada").mkdir(parents=True)
    (tmp_path / "class" / "ada" / "network.py").write_text(book_source())
    assert JAX_FORK_WARNING not in _stderr_of(["-m", "bpverify", "grade", "class", "--out", "out"],
                                              tmp_path)
    assert (tmp_path / "out" / "gradebook.json").exists()
