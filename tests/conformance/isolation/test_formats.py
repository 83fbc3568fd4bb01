"""`bpverify check --format` (isolation/formats.py, annotations.py): the same verdicts and exit status
for every reader, on a student's own file: JSON valid against its versioned schema, JUnit XML that
parses, GitHub annotations on the student's lines, Gradescope's results.json."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from student_network import BP2_WITHOUT_SIGMA_PRIME, CORRECT, line_of

from bpverify.cli import FORMATS
from bpverify.commands.check import main as check_main
from bpverify.conformance.isolation.annotations import Location, Source, in_text

pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

DOCS = Path(__file__).resolve().parents[3] / "docs"
REPORT_SCHEMA = json.loads((DOCS / "schemas" / "check-report.schema.json").read_text())
GRADESCOPE_SCHEMA = json.loads((DOCS / "schemas" / "gradescope-results.schema.json").read_text())
EXAMPLE = DOCS / "assignment.example.toml"


def _check(folder: Path, fmt: str, monkeypatch: pytest.MonkeyPatch, **options: Any
           ) -> tuple[int, str]:
    monkeypatch.chdir(folder)
    out = folder / f"report.{fmt}"
    status = check_main("network:Network", fmt=fmt, output=str(out), seconds=5.0, **options)
    return status, out.read_text(encoding="utf-8") if out.exists() else ""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, tuple[int, str]]]:
    """Every format of `bpverify check` on a buggy and on a correct student file (under the
    example assignment, whose weights Gradescope's scores use)."""
    found: dict[str, dict[str, tuple[int, str]]] = {}
    monkeypatch = pytest.MonkeyPatch()
    try:
        for name, source in (("buggy", BP2_WITHOUT_SIGMA_PRIME), ("correct", CORRECT)):
            folder = tmp_path_factory.mktemp(name)
            (folder / "network.py").write_text(source)
            found[name] = {fmt: _check(folder, fmt, monkeypatch, assignment=str(EXAMPLE))
                           for fmt in FORMATS if fmt != "text"}
    finally:
        monkeypatch.undo()
    return found


def test_json_is_valid_against_its_versioned_schema_and_points_into_the_file(
        reports: dict[str, dict[str, tuple[int, str]]]) -> None:
    status, text = reports["buggy"]["json"]
    document = json.loads(text)
    jsonschema.validate(document, REPORT_SCHEMA)
    assert status == document["exit_status"] == 1 and document["verdict"] == "DOES NOT CONFORM"
    bp2 = next(c for c in document["checks"] if c["check"] == "BP2")
    assert bp2["status"] == "fail" and "likely" not in bp2["detail"]
    assert bp2["location"] == {"file": "network.py",
                               "line": line_of(BP2_WITHOUT_SIGMA_PRIME, "def backprop")}
    assert document["assignment"]["name"] == "assignment.example.toml"
    status, text = reports["correct"]["json"]
    jsonschema.validate(json.loads(text), REPORT_SCHEMA)
    assert status == 0 and json.loads(text)["verdict"] == "CONFORMS"


def test_junit_has_one_testcase_per_check_and_the_fail_line_as_message(
        reports: dict[str, dict[str, tuple[int, str]]]) -> None:
    status, text = reports["buggy"]["junit"]
    root = ET.fromstring(text.encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert status == 1 and "assignment" in cases and "BP2" in cases and "update-rule" in cases
    failure = cases["BP2"].find("failure")
    assert failure is not None and failure.get("message", "").startswith("FAIL BP2  δˡ at layer")
    assert "likely: missing σ′" in (failure.text or "") and "rerun: bpverify check" in (
        failure.text or "")
    assert cases["BP1"].find("failure") is None
    assert int(root.get("failures", "0")) >= 1
    status, text = reports["correct"]["junit"]
    root = ET.fromstring(text.encode())
    assert status == 0 and root.get("failures") == "0" and root.get("errors") == "0"


def test_github_annotates_the_students_own_lines(
        reports: dict[str, dict[str, tuple[int, str]]]) -> None:
    status, text = reports["buggy"]["github"]
    line = line_of(BP2_WITHOUT_SIGMA_PRIME, "def backprop")
    assert status == 1
    assert any(row.startswith(f"::error file=network.py,line={line},title=BP2::δˡ at layer")
               for row in text.splitlines()), text
    update = line_of(BP2_WITHOUT_SIGMA_PRIME, "def update_mini_batch")
    assert f"::error file=network.py,line={update},title=update-rule::" in text
    assert "%0Alikely: missing σ′" in text  # the message's lines, escaped as GitHub wants
    status, text = reports["correct"]["github"]
    assert status == 0 and "::error" not in text and "::notice title=bpverify::CONFORMS" in text


def test_gradescope_results_follow_its_spec_with_the_assignments_weights(
        reports: dict[str, dict[str, tuple[int, str]]]) -> None:
    status, text = reports["buggy"]["gradescope"]
    results = json.loads(text)
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    tests = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert status == 1
    assert tests["BP2"]["status"] == "failed" and tests["BP2"]["score"] == 0
    assert tests["BP2"]["max_score"] == 2.0 and tests["forward"]["max_score"] == 1.0
    assert "likely: missing σ′" in tests["BP2"]["output"]
    assert results["score"] == sum(t["score"] for t in results["tests"]) > 0
    status, text = reports["correct"]["gradescope"]
    results = json.loads(text)
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert status == 0 and results["score"] == sum(t["max_score"] for t in results["tests"])
    assert all(t["status"] == "passed" for t in results["tests"])


def test_a_file_that_does_not_load_is_reported_in_every_format(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "network.py").write_text(CORRECT.replace("def backprop(self, x, y):",
                                                         "def backprop(self, x, y)"))
    broken = line_of(CORRECT, "def backprop(self, x, y):")
    reports = {fmt: _check(tmp_path, fmt, monkeypatch, assignment="book")
               for fmt in FORMATS if fmt != "text"}
    assert {fmt: status for fmt, (status, _) in reports.items()} == dict.fromkeys(reports, 2)
    document = json.loads(reports["json"][1])
    jsonschema.validate(document, REPORT_SCHEMA)
    assert document["verdict"] == "ERROR" and "SyntaxError" in document["reason"]
    assert document["location"] == {"file": "network.py", "line": broken}
    assert f"::error file=network.py,line={broken}," in reports["github"][1]
    results = json.loads(reports["gradescope"][1])
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 0 and len(results["tests"]) > 10
    assert all("SyntaxError" in t["output"] for t in results["tests"])
    assert ET.fromstring(reports["junit"][1].encode()).find(".//error") is not None


def test_a_bad_spec_is_still_a_document_for_the_machine_readers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    status, text = _check(tmp_path, "gradescope", monkeypatch, assignment="book")
    results = json.loads(text)
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert status == 2 and results["score"] == 0 and "no module 'network'" in results["output"]


def test_a_crash_points_at_its_frame_else_at_the_method(tmp_path: Path) -> None:
    (tmp_path / "network.py").write_text(CORRECT)
    source = Source("network:Network", tmp_path)
    crash = line_of(CORRECT, "delta = (activations[-1] - y)")
    found = source.for_check("BP1", f"raised ValueError: shapes (at network.py:{crash})")
    assert found == Location("network.py", crash)
    assert source.for_check("forward").line == line_of(CORRECT, "def feedforward")  # type: ignore[union-attr]
    assert in_text("at /elsewhere/network.py:3", tmp_path) is None  # not the student's file
    assert in_text("at network.py:3 and other.py:9", tmp_path) == in_text("network.py:3", tmp_path)


def test_methods_under_their_own_names_and_inherited_ones_are_found(tmp_path: Path) -> None:
    (tmp_path / "base.py").write_text(CORRECT)
    (tmp_path / "mine.py").write_text(
        "import numpy as np\n\n\nclass Base:\n    def backprop(self, x, y):\n        pass\n\n\n"
        "class Mine(Base):\n    bpverify_capabilities = {'methods': {'feedforward': 'predict'}}\n"
        "\n    def predict(self, a):\n        return a\n\n\nNetwork = Mine\n")
    source = Source("mine:Network", tmp_path)
    assert source.for_check("forward").line == 12  # type: ignore[union-attr]
    assert source.for_check("BP2").line == 5  # type: ignore[union-attr]
    assert source.for_check("assignment").line == 10  # type: ignore[union-attr]
