"""An implementation in a sandboxed worker process (isolation/worker.py) gets the verdicts it
gets in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import bpverify.conformance.specimens.zoo as zoo
from bpverify.conformance.isolation.worker import Limits, Placement, run_isolated
from bpverify.conformance.protocol.adapters import as_implementation
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
        assert [[o.check.id, o.status] for o in isolated.report.outcomes] == \
            _in_process_statuses(mutant.cls, seconds), mutant.name

