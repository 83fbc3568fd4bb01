"""Each layer of the sandbox (isolation/sandbox.py) on its own, with its unconfined control."""

from __future__ import annotations

import dataclasses
import os
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bpverify.conformance.isolation import sandbox, wire

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

def _in_confined_child(policy: sandbox.Policy, layers: tuple[str, ...], probe: str
                       ) -> tuple[dict[str, str], str]:
    """Fork, apply only ``layers``, run ``probe`` (Python code setting ``result``), report."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            report = sandbox.confine(dataclasses.replace(policy, layers=layers))
            scope: dict[str, Any] = {}
            try:
                exec(probe, scope)
                result = str(scope.get("result"))
            except BaseException as error:  # noqa: BLE001
                result = f"{type(error).__name__}: {error}"
            wire.send(theirs, {"report": report, "result": result})
        finally:
            os._exit(0)
    theirs.close()
    header, _ = wire.receive(ours)
    os.waitpid(pid, 0)
    ours.close()
    return header["report"], header["result"]


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    mine, theirs = tmp_path / "ws" / "mine", tmp_path / "class" / "bob"
    for folder in (mine, theirs):
        folder.mkdir(parents=True)
    (theirs / "network.py").write_text("secret")
    return {"mine": mine, "theirs": theirs, "ws": tmp_path / "ws", "class": tmp_path / "class"}


def _policy(f: dict[str, Path]) -> sandbox.Policy:
    return sandbox.Policy(cwd=str(f["mine"]), readable=sandbox.python_readable(),
                          writable=(str(f["mine"]),), hidden=(str(f["class"]), str(f["ws"])))


@pytest.mark.parametrize("layer", ["landlock", "namespaces"])
def test_each_file_system_layer_alone_keeps_the_neighbours_out(layer: str,
                                                               folders: dict[str, Path]) -> None:
    probe = textwrap.dedent(f"""
        import os
        def tries(action):
            try:
                action()
                return "yes"
            except OSError as error:
                return type(error).__name__
        result = [tries(lambda: open({str(folders['theirs'] / 'network.py')!r}).read()),
                  tries(lambda: open({str(folders['theirs'] / 'x.py')!r}, "w")),
                  tries(lambda: open("mine.txt", "w").write("ok"))]
        """)
    report, result = _in_confined_child(_policy(folders), (layer,), probe)
    if not report[layer].startswith("active"):
        pytest.skip(f"{layer} is {report[layer]}")
    read, write, own = eval(result)  # a list of three words, made by the probe above
    assert read != "yes" and write != "yes" and own == "yes", result
    assert (folders["theirs"] / "network.py").read_text() == "secret"
    assert not (folders["theirs"] / "x.py").exists()


@pytest.mark.parametrize("abi", [1, 2, 3, 4, 5, 6])
def test_landlock_written_for_an_older_abi_still_keeps_the_neighbours_out(
        abi: int, folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The ruleset for an older kernel (fewer rights, a shorter attribute struct), applied by
    this one: the kernel accepts it and it still denies the neighbour's file."""
    if sandbox.landlock_abi() < abi:
        pytest.skip(f"this kernel offers Landlock ABI {sandbox.landlock_abi()}")
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: abi)
    probe = f"result = open({str(folders['theirs'] / 'network.py')!r}).read()"
    report, result = _in_confined_child(_policy(folders), ("landlock",), probe)
    assert report["landlock"].startswith(f"active: ABI {abi}")
    assert result.startswith("PermissionError"), result


def test_seccomp_alone_forbids_new_processes_and_signals_to_others(folders: dict[str, Path]) -> None:
    probe = textwrap.dedent("""
        import os, signal, threading
        outcomes = []
        for action in (os.fork, lambda: os.kill(os.getppid(), signal.SIGCONT),
                       lambda: os.kill(os.getpid(), 0)):
            try:
                action()
                outcomes.append("yes")
            except OSError as error:
                outcomes.append(error.errno)
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()
        result = outcomes
        """)
    report, result = _in_confined_child(_policy(folders), ("seccomp",), probe)
    if not report["seccomp"].startswith("active"):
        pytest.skip(f"seccomp is {report['seccomp']}")
    assert result == "[1, 1, 'yes']"  # EPERM, EPERM, its own pid; and threads still start


def test_rlimits_and_capabilities_hold_the_memory_limit(folders: dict[str, Path]) -> None:
    probe = textwrap.dedent("""
        import resource
        try:
            resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)
            raised = "raised"
        except (ValueError, OSError):
            raised = "kept"
        try:
            bytearray(10 * 2**30)
            result = [raised, "allocated"]
        except MemoryError:
            result = [raised, "MemoryError"]
        """)
    report, result = _in_confined_child(_policy(folders), ("rlimits", "capabilities"), probe)
    assert report["rlimits"].startswith("active")
    assert result == "['kept', 'MemoryError']"



def test_the_memory_budget_does_not_shrink_with_what_the_checker_maps(
        folders: dict[str, Path]) -> None:
    """A checker that maps 3 GiB it never touches (JAX imported does) leaves the implementation
    its whole budget (here 256 MiB: 128 MiB allocate), and the budget still holds (512 MiB do
    not)."""
    import mmap

    reserved = mmap.mmap(-1, 3 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(
        mmap, "MAP_NORESERVE", 0))
    try:
        policy = dataclasses.replace(_policy(folders), memory_bytes=256 << 20)
        probe = textwrap.dedent("""
            result = []
            for size in (128 << 20, 512 << 20):
                try:
                    bytearray(size)
                    result.append("allocated")
                except MemoryError:
                    result.append("MemoryError")
            """)
        _, result = _in_confined_child(policy, ("namespaces", "rlimits"), probe)  # /proc hidden
    finally:
        reserved.close()
    assert result == "['allocated', 'MemoryError']"
