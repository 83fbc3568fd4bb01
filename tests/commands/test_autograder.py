"""`bpverify autograder` (commands/autograder.py, wheel.py): the Gradescope bundle's run_autograder,
run in a scratch folder laid out as Gradescope's with bpverify installed from the bundle's own
wheel, writes a results.json that follows Gradescope's spec, for a correct and a buggy
submission; the GitHub workflow's check step, run as written in a student's repository,
annotates the student's line and fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from student_network import BP2_WITHOUT_SIGMA_PRIME, CORRECT, line_of

from bpverify.commands.autograder import main as autograder_main

pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA = json.loads((DOCS / "schemas" / "gradescope-results.schema.json").read_text())


@pytest.fixture(scope="module")
def gradescope_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/autograder as Gradescope lays it out: source/ (the zip, unpacked), submission/,
    results/; bpverify installed from the zip's wheel (what setup.sh does, its dependencies
    taken from this environment instead of PyPI)."""
    root = tmp_path_factory.mktemp("autograder")
    bundle = root / "autograder.zip"
    assert autograder_main(gradescope=str(bundle), assignment=str(DOCS /
                                                                   "assignment.example.toml")) == 0
    with zipfile.ZipFile(bundle) as zipped:
        modes = {i.filename: i.external_attr >> 16 for i in zipped.infolist()}
        zipped.extractall(root / "source")
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    wheels = list((root / "source").glob("bpverify-*-py3-none-any.whl"))
    assert len(wheels) == 1 and (root / "source" / "assignment.example.toml").is_file()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(root / "site"), str(wheels[0])], check=True, capture_output=True)
    return root


def _run_autograder(root: Path, files: dict[str, str]) -> tuple[dict[str, Any], str]:
    submission = root / "submission"
    if submission.exists():
        subprocess.run(["rm", "-rf", str(submission)], check=True)
    for name, text in files.items():
        (submission / name).parent.mkdir(parents=True, exist_ok=True)
        (submission / name).write_text(text)
    env = dict(os.environ, BPVERIFY_AUTOGRADER_ROOT=str(root),
               BPVERIFY_AUTOGRADER_PYTHON=sys.executable, PYTHONPATH=str(root / "site"))
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=300, cwd="/")
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results, done.stderr


def test_the_bundle_installs_this_bpverify(gradescope_root: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(gradescope_root / "site"))
    where = subprocess.run([sys.executable, "-c", "import bpverify.conformance.suite.runner as r;"
                            " print(r.__file__)"], env=env, capture_output=True, text=True,
                           cwd="/", check=True).stdout
    assert where.startswith(str(gradescope_root / "site"))
    assert subprocess.run(["bash", "-n", str(gradescope_root / "source" / "setup.sh")]
                          ).returncode == 0


def test_run_autograder_scores_a_correct_submission_in_full(gradescope_root: Path) -> None:
    results, _ = _run_autograder(gradescope_root, {"network.py": CORRECT})
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    assert all(t["status"] == "passed" for t in results["tests"])
    assert {t["name"].split(":")[0] for t in results["tests"]} >= {"BP1", "BP2", "update-rule"}


def test_run_autograder_scores_a_buggy_submission_and_says_why(gradescope_root: Path) -> None:
    results, _ = _run_autograder(gradescope_root, {"network.py": BP2_WITHOUT_SIGMA_PRIME})
    tests = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert tests["BP2"]["status"] == "failed" and tests["BP2"]["score"] == 0
    assert tests["BP2"]["max_score"] == 2.0  # the assignment's weight
    assert "likely: missing σ′" in tests["BP2"]["output"]
    assert "--assignment assignment.example.toml" in tests["BP2"]["output"]  # a rerun to paste
    assert 0 < results["score"] < sum(t["max_score"] for t in results["tests"])


def test_run_autograder_finds_a_submission_uploaded_in_a_folder_or_says_it_is_missing(
        gradescope_root: Path) -> None:
    results, _ = _run_autograder(gradescope_root, {"hw2/network.py": CORRECT})
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    results, _ = _run_autograder(gradescope_root, {"netwrk.py": CORRECT})
    assert results["score"] == 0 and "no module 'network'" in results["output"]
    assert results["tests"] and all(t["status"] == "failed" for t in results["tests"])


def test_the_github_workflow_checks_the_students_repository(tmp_path: Path) -> None:
    repo = tmp_path / "student-repo"
    repo.mkdir()
    (repo / "network.py").write_text(BP2_WITHOUT_SIGMA_PRIME)
    assert autograder_main(github=str(repo)) == 0
    workflow = (repo / ".github" / "workflows" / "bpverify.yml").read_text()
    install = re.search(r"run: (python -m pip install \.github/bpverify/(\S+))", workflow)
    check = re.search(r"run: (bpverify check .*)", workflow)
    assert install and check and (repo / ".github" / "bpverify" / install.group(2)).is_file()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", check.group(1)], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=300)
    line = line_of(BP2_WITHOUT_SIGMA_PRIME, "def backprop")
    assert done.returncode == 1, done.stderr
    assert f"::error file=network.py,line={line},title=BP2::" in done.stdout
