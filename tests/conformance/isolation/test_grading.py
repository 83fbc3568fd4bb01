"""Grading a class (isolation/grading.py): each submission gets its verdict, none of them can
touch another, the results or the run, and the gradebook's files are complete and link up.

One class of 15 is graded once (module fixture, -j 2, 1 s a call, 2 s a submission).
"""

from __future__ import annotations

import csv
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
from handed_in import FAKE, backprop_runs_first

from bpverify.conformance.isolation import sandbox
from bpverify.conformance.isolation.gradebook import page_names, spreadsheet_safe
from bpverify.conformance.isolation.grading import grade
from bpverify.conformance.isolation.worker import Limits, Placement, run_isolated
from bpverify.conformance.protocol.display import one_line
from bpverify.conformance.specimens.sources import book_source, mutant_source
from bpverify.conformance.suite.checks import all_checks

# JAX (imported by other tests in the same worker) warns at every fork; the forks here never
# call into JAX: the sandboxes run numpy and the book's network only.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

MUTANTS = {"MissingSigmaPrimeBP2": "BP2", "TransposedWeightGradientBP4": "BP4",
           "EtaInsteadOfEtaOverM": "update rule", "Crashes": "BP3/BP4"}


HOSTILE_NAME = "=1+1<img src=x onerror=alert(1)>"
NOT_UTF8 = os.fsdecode(b"jos\xe9")
"""A folder name an old zip tool writes: not UTF-8 (its byte kept as a lone surrogate)."""


LIMITS = Limits(call_seconds=1.0, total_seconds=2.0)
"""The class's: its endless loop must reach the 2 s of a whole submission (an ERROR that names
it); the tests of one correct network use ``CONTROL_LIMITS``."""


CONTROL_LIMITS = Limits(call_seconds=10.0, total_seconds=60.0)


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
        "endless-loop": backprop_runs_first("while True:\n    pass"),
        "huge-allocation": backprop_runs_first("bytearray(10 * 2**30)"),
        "sys-exit": backprop_runs_first("sys.exit(0)"),
        "os-exit": backprop_runs_first(f"print({FAKE!r}, flush=True)\nos._exit(0)"),
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
        NOT_UTF8: book_source(),
        "surrogate-message": backprop_runs_first('raise ValueError("\\udcff\\x1b[2J")'),
        **{f"zoo-{name}": mutant_source(name) for name in MUTANTS},
    }
    for name, text in sources.items():
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    (root / "single-file.py").write_text(book_source())
    (root / "no-network-py").mkdir()
    expected = {name: "DOES NOT CONFORM" for name in sources}
    expected.update({"correct": "CONFORMS", "attacker": "CONFORMS", HOSTILE_NAME: "CONFORMS",
                     NOT_UTF8: "CONFORMS",
                     "single-file.py": "CONFORMS", "endless-loop": "ERROR", "os-exit": "ERROR",
                     "syntax-error": "ERROR", "no-network-py": "ERROR"})
    return expected


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(os.fsencode(path.relative_to(root)))
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
        entries = grade(root, out, jobs=2, limits=LIMITS).entries
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
        assert all(o["rerun"].startswith("bpverify check network:Network --assignment book")
                   for o in failing)  # what the student types in their own folder


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
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
                     and p.parent.parent.name != "history")
    pages = {f"submissions/{p}" for p in page_names(list(graded["entries"]))}
    assert set(written) == {"gradebook.csv", "gradebook.json", "index.html", "verdicts.jsonl",
                            ".lock"} | pages
    assert {p.name for p in (out / "history").glob("*/*")} == {"gradebook.json",
                                                             "gradebook.csv"}


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
                       CONTROL_LIMITS)  # a correct network: 2 s in all was too few under load
    assert run.verdict == "CONFORMS"
    assert {k: v.split(":")[0] for k, v in run.protections.items()} == {
        "namespaces": "inactive", "rlimits": "active", "capabilities": "inactive",
        "landlock": "inactive", "seccomp": "inactive"}
    assert "the kernel offers no Landlock" in run.protections["landlock"]


def test_the_csv_and_json_gradebooks(graded: dict[str, Any]) -> None:
    ids = ["assignment", *(c.id for c in all_checks())]  # under the book's assignment
    with (graded["out"] / "gradebook.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["submission", "verdict", *ids, "failed", "reason", "seconds"]
    by_name = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {spreadsheet_safe(one_line(n)) for n in graded["expected"]}
    assert "jos\\xe9" in by_name  # a name that is not UTF-8, shown escaped
    assert "'" + HOSTILE_NAME in by_name  # a formula no spreadsheet runs
    row = by_name["zoo-MissingSigmaPrimeBP2"]
    assert row["verdict"] == "DOES NOT CONFORM" and row["BP2"] == "fail"
    assert "BP2" in row["failed"].split()
    assert all(by_name["syntax-error"][c] == "error" for c in ids)
    assert "SyntaxError" in by_name["syntax-error"]["reason"]  # why, in the CSV itself
    assert "network.py:2" in by_name["syntax-error"]["reason"]
    assert "time limit of 2 s" in by_name["endless-loop"]["reason"]
    assert by_name["correct"]["reason"] == ""
    assert all(row[c] in ("pass", "fail", "skip", "error", "blocked") for row in by_name.values()
               for c in ids)
    book = json.loads((graded["out"] / "gradebook.json").read_text())
    assert book["checks"] == ids
    assert {e["submission"]: e["verdict"] for e in book["submissions"]} == {
        one_line(n): v for n, v in graded["expected"].items()}
    message = next(o["detail"] for e in book["submissions"] if e["submission"] ==
                   "surrogate-message" for o in e["outcomes"] if o["status"] == "error")
    shown = message.partition("raised ValueError: ")[2]
    assert shown.startswith("\\xff (at network.py:") and "\x1b" not in shown  # escaped, no ESC


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
        assert one_line(name) in text and graded["entries"][name]["verdict"] in text
    assert HOSTILE_NAME in "".join(index.text)  # shown as text …
    assert "<img" not in (out / "index.html").read_text()  # … never as markup
    failing = (out / "submissions" / "zoo-MissingSigmaPrimeBP2.html").read_text()
    assert "likely: missing σ′" in failing
    assert "rerun: <code>bpverify check network:Network --assignment book" in failing
    assert str(graded["root"]) not in failing.split("rerun:")[1]  # never the teacher's path
    index_text = (out / "index.html").read_text()
    assert "reason (ERROR)" in index_text and "SyntaxError" in index_text



def test_a_virtualenv_inside_the_temporary_folder_is_no_clash(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A student's venv in /tmp (python -m venv /tmp/venv) beside grade's private copies in
    /tmp/bpverify-grade-…: the copies stay unreadable, so the class is graded; the temporary
    folder inside a folder the sandbox reads is refused, naming TMPDIR."""
    import tempfile

    from bpverify.conformance.isolation import grading
    temporary = tmp_path / "tmp"
    (temporary / "venv").mkdir(parents=True)
    real = grading.python_readable()
    monkeypatch.setattr(grading, "python_readable", lambda: (*real, str(temporary / "venv")))
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    (tmp_path / "class" / "ada").mkdir(parents=True)
    (tmp_path / "class" / "ada" / "network.py").write_text(book_source())
    run = grade(tmp_path / "class", tmp_path / "out", jobs=1, only=["BP1"])
    assert [e["verdict"] for e in run.entries] == ["CONFORMS"]
    monkeypatch.setattr(tempfile, "tempdir", str(temporary / "venv" / "tmp"))
    (temporary / "venv" / "tmp").mkdir()
    with pytest.raises(ValueError, match="overlap: .* set TMPDIR"):
        grade(tmp_path / "class", tmp_path / "out2", jobs=1, only=["BP1"])


def test_a_folder_inside_another_overlaps_either_way_unless_asked_one_way() -> None:
    assert sandbox.overlaps(["/a/b"], ["/a"]) == [("/a/b", "/a")]
    assert sandbox.overlaps(["/a"], ["/a/b"]) == [("/a", "/a/b")]
    assert sandbox.overlaps(["/a"], ["/a/b"], either_way=False) == []
    assert sandbox.overlaps(["/a/b"], ["/a"], either_way=False) == [("/a/b", "/a")]
    assert sandbox.overlaps(["/a/b"], ["/a/c"]) == []
