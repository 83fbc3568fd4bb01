"""Grading a class (issue 12): each submission gets its verdict, none of them can touch another,
the results or the run, the gradebook's links resolve, and ``bpverify check`` trusts no exit.

One class of 15 is graded once (module fixture, -j 2, 1 s a call, 2 s a submission); the other
tests use it or run single sandboxes. The whole module costs about 10 s of CPU.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import socket
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bpverify.conformance.specimens.zoo as zoo
from bpverify.commands.check import main as check_main
from bpverify.conformance.isolation import sandbox, wire
from bpverify.conformance.isolation.gradebook import page_names, spreadsheet_safe
from bpverify.conformance.isolation.grading import grade
from bpverify.conformance.isolation.submissions import discover
from bpverify.conformance.isolation.template import Template, job
from bpverify.conformance.isolation.worker import Limits, Placement, run_isolated
from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.specimens.sources import book_source, mutant_source
from bpverify.conformance.suite.checks import all_checks
from bpverify.conformance.suite.runner import run_suite

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

FAKE = "CONFORMS: 17 passed, 0 failed, 0 errors, 0 skipped"
MUTANTS = {"MissingSigmaPrimeBP2": "BP2", "TransposedWeightGradientBP4": "BP4",
           "EtaInsteadOfEtaOverM": "update rule", "Crashes": "BP3/BP4"}
HOSTILE_NAME = "=1+1<img src=x onerror=alert(1)>"
LIMITS = Limits(call_seconds=1.0, total_seconds=2.0)
CONTROL_LIMITS = Limits(call_seconds=10.0, total_seconds=60.0)


def _backprop(body: str) -> str:
    """The book's network, with ``body`` run first in every backprop."""
    return book_source("\nimport os, sys\n\n\nclass Network(BookNetwork):\n"
                       "    def backprop(self, x, y):\n" + textwrap.indent(body, " " * 8)
                       + "\n        return BookNetwork.backprop(self, x, y)\n")


def _attacker(submissions: Path, out: Path, port: int, probe: Path) -> str:
    """A correct network that tries, at import and in every backprop, to read, change, delete
    or add files of the other submissions, the results and the other private copies, to write
    into the Python installation, to signal other processes, to fork, to raise its memory limit
    and to connect to a port; if ANY attempt succeeds its gradients are doubled (and it says
    which: a BP3 failure), so the CONFORMS it must get proves that every attempt failed."""
    return book_source(textwrap.dedent(f"""
        import os, resource, signal, socket, sys
        TARGETS = [{str(submissions)!r}, {str(out)!r}, os.path.dirname(os.getcwd())]
        succeeded = []

        def attempt(what, action):
            try:
                action()
                succeeded.append(what)
            except BaseException:
                pass

        def attack():
            for root in TARGETS:
                attempt(f"list {{root}}", lambda: os.listdir(root))
                planted = os.path.join(root, "index.html")
                attempt(f"create in {{root}}", lambda: open(planted, "w").write("fake"))
                for folder, _, files in os.walk(root):
                    for name in files:
                        path = os.path.join(folder, name)
                        attempt(f"read {{path}}", lambda: open(path).read())
                        attempt(f"overwrite {{path}}", lambda: open(path, "a").write("# changed"))
                        attempt(f"delete {{path}}", lambda: os.remove(path))
            attempt("write the Python installation", lambda: open({str(probe)!r}, "w").write("x"))
            attempt("signal the parent", lambda: os.kill(os.getppid(), signal.SIGCONT))
            attempt("signal every process", lambda: os.kill(-1, signal.SIGCONT))
            attempt("fork", lambda: os.fork() or os._exit(0))
            attempt("raise the memory limit", lambda: resource.setrlimit(
                resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
            attempt("connect", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=0.5))
            if any(m == "jax" or m.startswith("jax.") for m in sys.modules):
                succeeded.append("JAX is imported in the sandbox (RLIMIT_AS would break it)")

        attack()

        class Network(BookNetwork):
            def backprop(self, x, y):
                attack()
                nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
                if succeeded:
                    print("succeeded:", sorted(set(succeeded)))
                    return [2 * b for b in nabla_b], nabla_w
                return nabla_b, nabla_w
        """))


def _class(root: Path, out: Path, port: int, probe: Path) -> dict[str, str]:
    """Write the class; return the verdict each submission must get."""
    sources = {
        "correct": book_source(),
        "endless-loop": _backprop("while True:\n    pass"),
        "huge-allocation": _backprop("bytearray(10 * 2**30)"),
        "sys-exit": _backprop("sys.exit(0)"),
        "os-exit": _backprop(f"print({FAKE!r}, flush=True)\nos._exit(0)"),
        "fake-conforms": book_source(textwrap.dedent(f"""
            print({FAKE!r})
            class Network(BookNetwork):
                def backprop(self, x, y):
                    print({FAKE!r})
                    nabla_b, nabla_w = BookNetwork.backprop(self, x, y)
                    return nabla_b, [-w for w in nabla_w]
            """)),
        "syntax-error": "class Network:\n    def backprop(self, x, y)\n        return x\n",
        "attacker": _attacker(root, out, port, probe),
        HOSTILE_NAME: book_source(),
        **{f"zoo-{name}": mutant_source(name) for name in MUTANTS},
    }
    for name, text in sources.items():
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    (root / "single-file.py").write_text(book_source())
    (root / "no-network-py").mkdir()
    expected = {name: "DOES NOT CONFORM" for name in sources}
    expected.update({"correct": "CONFORMS", "attacker": "CONFORMS", HOSTILE_NAME: "CONFORMS",
                     "single-file.py": "CONFORMS", "endless-loop": "ERROR", "os-exit": "ERROR",
                     "syntax-error": "ERROR", "no-network-py": "ERROR"})
    return expected


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("grading")
    root, out = base / "class", base / "out"
    probe = Path(np.__file__).parent / f"bpverify-attack-probe-{os.getpid()}.txt"
    listener = socket.create_server(("127.0.0.1", 0))
    expected = _class(root, out, listener.getsockname()[1], probe)
    before = _tree_hash(root)
    try:
        entries = grade(root, out, jobs=2, limits=LIMITS)
    finally:
        listener.close()
        planted = probe.exists()
        probe.unlink(missing_ok=True)
    return {"root": root, "out": out, "expected": expected, "before": before,
            "entries": {e["submission"]: e for e in entries}, "planted": planted}


def _layers_active() -> bool:
    return sandbox.landlock_abi() >= 6 or os.geteuid() == 0


def test_every_submission_gets_its_verdict(graded: dict[str, Any]) -> None:
    got = {name: e["verdict"] for name, e in graded["entries"].items()}
    assert got == graded["expected"]


def test_the_verdicts_say_why(graded: dict[str, Any]) -> None:
    entries = graded["entries"]

    def details(name: str) -> str:
        return " ".join(o["detail"] or "" for o in entries[name]["outcomes"])

    assert "SyntaxError" in entries["syntax-error"]["reason"]
    assert "network.py:2" in entries["syntax-error"]["reason"]
    assert f"no module 'network' in {graded['root'] / 'no-network-py'}" in \
        entries["no-network-py"]["reason"]  # its own folder named, not its private copy's
    assert "time limit of 2 s" in entries["endless-loop"]["reason"]
    assert "exited with status 0" in entries["os-exit"]["reason"]
    assert "raised MemoryError" in details("huge-allocation")
    assert "raised SystemExit" in details("sys-exit")
    for name, equation in MUTANTS.items():
        failing = [o for o in entries[f"zoo-{name}"]["outcomes"] if o["status"] in ("fail", "error")]
        assert any(equation in (o["equation"] or "") for o in failing), (name, failing)
        assert all(o["rerun"].startswith("cd ") and "bpverify check network:Network" in o["rerun"]
                   for o in failing)


def test_printed_verdicts_are_shown_never_believed(graded: dict[str, Any]) -> None:
    for name in ("fake-conforms", "os-exit"):
        entry = graded["entries"][name]
        assert FAKE in entry["output"]
        assert entry["verdict"] != "CONFORMS"


@pytest.mark.skipif(not _layers_active(), reason="needs Landlock ABI 6+ or root for namespaces")
def test_no_submission_can_touch_the_others_the_results_or_the_run(graded: dict[str, Any]) -> None:
    attacker = graded["entries"]["attacker"]
    assert attacker["verdict"] == "CONFORMS", attacker["output"]
    assert not graded["planted"]
    assert _tree_hash(graded["root"]) == graded["before"]
    out = graded["out"]
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    pages = {f"submissions/{p}" for p in page_names(list(graded["entries"]))}
    assert set(written) == {"gradebook.csv", "gradebook.json", "index.html"} | pages


def test_the_attacker_succeeds_without_the_sandbox(tmp_path: Path) -> None:
    """Negative control: the same attacker, its layers switched off, against a class of its own,
    changes a neighbour and is caught by its own report: so the test above can fail."""
    root, out, copy = tmp_path / "class", tmp_path / "out", tmp_path / "ws" / "copy"
    for folder in (root / "bob", out, copy):
        folder.mkdir(parents=True)
    (root / "bob" / "network.py").write_text(book_source())
    before = _tree_hash(root)
    probe = tmp_path / "probe.txt"  # a stand-in: the control writes nothing into the venv
    with socket.create_server(("127.0.0.1", 0)) as listener:
        (copy / "network.py").write_text(_attacker(root, out, listener.getsockname()[1], probe))
        # unconfined, every backprop walks the folders and forks: time enough for that under
        # load (with LIMITS' 2 s in all it once ran out, an ERROR that proved nothing)
        run = run_isolated("network:Network", Placement(cwd=str(copy), writable=(str(copy),),
                                                        layers=()), CONTROL_LIMITS, only=["BP3"])
    assert run.verdict == "DOES NOT CONFORM" and "overwrite" in run.output, run.output
    assert _tree_hash(root) != before and probe.exists()


def test_the_protections_are_reported(graded: dict[str, Any]) -> None:
    protections = graded["entries"]["correct"]["protections"]
    assert set(protections) == set(sandbox.LAYERS)
    assert protections["rlimits"].startswith("active")
    if sandbox.landlock_abi():
        assert protections["landlock"].startswith("active")
    if os.geteuid() == 0:
        assert protections["namespaces"].startswith("active")
        assert protections["capabilities"].startswith("active")
    assert "Isolation" in (graded["out"] / "index.html").read_text()


def test_without_the_kernel_layers_the_run_still_works_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As on an older kernel, not root, not x86-64 (the fork inherits these stand-ins)."""
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 0)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox.platform, "machine", lambda: "aarch64")
    (tmp_path / "network.py").write_text(book_source())
    run = run_isolated("network:Network", Placement(cwd=str(tmp_path), writable=(str(tmp_path),)),
                       LIMITS)
    assert run.verdict == "CONFORMS"
    assert {k: v.split(":")[0] for k, v in run.protections.items()} == {
        "namespaces": "inactive", "rlimits": "active", "capabilities": "inactive",
        "landlock": "inactive", "seccomp": "inactive"}
    assert "the kernel offers no Landlock" in run.protections["landlock"]


def test_the_csv_and_json_gradebooks(graded: dict[str, Any]) -> None:
    ids = [c.id for c in all_checks()]
    with (graded["out"] / "gradebook.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["submission", "verdict", *ids, "failed", "seconds"]
    by_name = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {spreadsheet_safe(n) for n in graded["expected"]}
    assert "'" + HOSTILE_NAME in by_name  # a formula no spreadsheet runs
    row = by_name["zoo-MissingSigmaPrimeBP2"]
    assert row["verdict"] == "DOES NOT CONFORM" and row["BP2"] == "fail"
    assert "BP2" in row["failed"].split()
    assert all(by_name["syntax-error"][c] == "error" for c in ids)
    assert all(row[c] in ("pass", "fail", "skip", "error", "blocked") for row in by_name.values()
               for c in ids)
    book = json.loads((graded["out"] / "gradebook.json").read_text())
    assert book["checks"] == ids
    assert {e["submission"]: e["verdict"] for e in book["submissions"]} == graded["expected"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v for k, v in attrs if k in ("href", "src") and v is not None]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text())
    return parser


def test_the_html_report_links_resolve_and_every_submission_has_a_page(graded: dict[str, Any]
                                                                      ) -> None:
    out = graded["out"]
    index = _parse(out / "index.html")
    pages = [link for link in index.links if link.startswith("submissions/")]
    assert len(pages) == len(graded["expected"])
    for page in {out / "index.html", *(out / p for p in pages)}:
        parsed = _parse(page)
        for link in parsed.links:
            assert "://" not in link and not link.startswith("/"), (page, link)
            assert (page.parent / link).resolve().is_file(), (page, link)
    names = list(graded["entries"])
    for name, page_name in zip(names, page_names(names), strict=True):
        text = "".join(_parse(out / "submissions" / page_name).text)
        assert name in text and graded["entries"][name]["verdict"] in text
    assert HOSTILE_NAME in "".join(index.text)  # shown as text …
    assert "<img" not in (out / "index.html").read_text()  # … never as markup
    failing = (out / "submissions" / "zoo-MissingSigmaPrimeBP2.html").read_text()
    assert "likely: missing σ′" in failing and "rerun: <code>cd " in failing


def test_discovery_leaves_out_hidden_entries_caches_and_out(tmp_path: Path) -> None:
    for name in ("b", "a", ".git", "__pycache__", "out"):
        (tmp_path / name).mkdir()
    (tmp_path / "c.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    assert [s.name for s in discover(tmp_path, exclude=[tmp_path / "out"])] == ["a", "b", "c.py"]
    with pytest.raises(ValueError, match="expected a folder of submissions"):
        discover(tmp_path / "c.py")


def test_page_names_are_distinct_and_url_safe() -> None:
    assert page_names(["a b", "a-b", "A B", "<>", ""]) == [
        "a-b.html", "a-b-2.html", "A-B-3.html", "submission.html", "submission-2.html"]


# -- bpverify check (item 7) ---------------------------------------------------------------------

def test_check_exits_non_zero_when_the_implementation_fakes_its_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "network.py").write_text(_backprop(f"print({FAKE!r}, flush=True)\nos._exit(0)"))
    monkeypatch.chdir(tmp_path)
    assert check_main("network:Network", seconds=2.0) == 1
    captured = capsys.readouterr()
    assert FAKE in captured.err  # shown, as what it printed …
    assert "ERROR: its process exited with status 0" in captured.out  # … and judged
    assert "DOES NOT CONFORM" in captured.out
    (tmp_path / "network.py").write_text(book_source())
    assert check_main("network:Network", seconds=2.0) == 0
    assert "isolated: " in capsys.readouterr().out


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


# -- pytest --bp-grade ---------------------------------------------------------------------------

def test_pytest_grades_a_class_one_test_per_submission_and_check(pytester: pytest.Pytester) -> None:
    root = pytester.path / "class"
    for name, text in (("alice", book_source()), ("bob", mutant_source("SignFlipBP1"))):
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    expected = {"passed": 0, "failed": 0, "skipped": 0}
    for cls in (BookNetwork, next(m.cls for m in zoo.MUTANTS if m.name == "SignFlipBP1")):
        for o in run_suite(as_implementation(cls)).outcomes:
            expected[{"pass": "passed", "skip": "skipped", "blocked": "skipped"}.get(
                o.status, "failed")] += 1
    result = pytester.runpytest_inprocess(f"--bp-grade={root}", "-p", "no:cacheprovider")
    result.assert_outcomes(**expected)
    result.stdout.fnmatch_lines(["*test_grading?bob-BP1?*", "*likely: sign flipped*",
                                 f"*rerun: cd {root / 'bob'} && bpverify check network:Network*"])


def test_an_implementation_that_exits_ends_pytest_green_in_process_but_not_graded(
        pytester: pytest.Pytester) -> None:
    """The hazard the plugin documents, and how --bp-grade closes it."""
    faker = pytester.path / "class" / "faker"
    faker.mkdir(parents=True)
    for folder in (faker, pytester.path):
        (folder / "network.py").write_text(_backprop(f"print({FAKE!r}, flush=True)\nos._exit(0)"))
    in_process = pytester.runpytest_subprocess("--bp-impl=network:Network", "-p",
                                               "no:cacheprovider", "-s")
    assert in_process.ret == 0 and FAKE in in_process.stdout.str()  # green, with that line
    graded = pytester.runpytest_inprocess(f"--bp-grade={faker.parent}", "-k", "BP1", "-p",
                                          "no:cacheprovider")
    graded.assert_outcomes(failed=1)
    graded.stdout.fnmatch_lines(["*ERROR faker BP1*exited with status 0*"])


# -- the worker against the in-process suite --------------------------------------------------

def _in_process_statuses(cls: type) -> list[list[str]]:
    """Each check's status with the implementation in-process, as before the worker existed, run
    in a fork: a hung call's abandoned thread would spin on in this process."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        report = run_suite(as_implementation(cls), seconds=0.5)
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


def test_the_worker_gives_every_zoo_mutant_the_in_process_verdicts(tmp_path: Path) -> None:
    """Forwarding calls to a sandbox changes no verdict: not for a hang, an exception, NaN, an
    argument changed in place or randomness (each check's status, for the mutants
    ``ACROSS_THE_BOUNDARY``, and for all of the bug zoo with HYPOTHESIS_PROFILE=thorough)."""
    placement = Placement(cwd=str(tmp_path), writable=(str(tmp_path),))
    thorough = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
    chosen = [m for m in zoo.MUTANTS if thorough or m.name in ACROSS_THE_BOUNDARY]
    assert len(chosen) >= len(ACROSS_THE_BOUNDARY)  # every name is a mutant of the zoo
    for mutant in chosen:
        setattr(zoo, mutant.name, mutant.cls)  # the fork sees it, as the existing tests do
        try:
            isolated = run_isolated(f"bpverify.conformance.specimens.zoo:{mutant.name}", placement,
                                    Limits(call_seconds=0.5))
        finally:
            delattr(zoo, mutant.name)
        assert isolated.report is not None and isolated.error is None, isolated.error
        assert [[o.check.id, o.status] for o in isolated.report.outcomes] == \
            _in_process_statuses(mutant.cls), mutant.name


# -- each layer on its own ---------------------------------------------------------------------

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


# -- the wire format -----------------------------------------------------------------------------

def test_the_wire_carries_arrays_and_refuses_anything_else() -> None:
    buffers: list[memoryview] = []
    value = ([np.arange(6.0).reshape(2, 3), np.float32(1.5)], {"k": (1, "s", None, 2j)})
    decoded = wire.decode(json.loads(json.dumps(wire.encode(value, buffers))),
                          [bytes(b) for b in buffers])
    np.testing.assert_array_equal(decoded[0][0], value[0][0])
    assert decoded[0][1].dtype == np.float32 and decoded[1] == {"k": (1, "s", None, 2j)}
    assert isinstance(wire.decode(wire.encode(object(), []), []), wire.Junk)
    assert isinstance(wire.decode(wire.encode(np.array([object()]), []), []), wire.Junk)
    for bad, match in (({"array": 0, "dtype": "|O", "shape": [1]}, "not numeric"),
                       ({"array": 0, "dtype": "<f8", "shape": [2]}, "does not match"),
                       ({"eval": "1"}, "unexpected value")):
        with pytest.raises(wire.ProtocolError, match=match):
            wire.decode(bad, [bytes(8)])
    deep: Any = 0
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(wire.ProtocolError, match="nested too deeply"):
        wire.decode(deep, [])
