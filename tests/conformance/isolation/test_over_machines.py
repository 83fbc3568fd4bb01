"""`pytest --bp-grade` over several machines with xdist's `--tx` (README, "Over several machines"):
two local `popen` gateways, the stand-in for two machines that can be tested here, each
collecting the class itself and grading its share, give the outcomes of a run in one process,
and both gateways take part."""

from __future__ import annotations

import re
import sys

import pytest

from bpverify.conformance.specimens.sources import book_source, mutant_source
from bpverify.conformance.suite.checks import all_checks

pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    """test id → PASSED, FAILED or SKIPPED, from -rA's short summary and -v's lines."""
    found = {}
    for line in result.stdout.lines:
        match = re.search(r"(PASSED|FAILED|SKIPPED)\s.*?(test_grading\[[^\]]+\])", line) or \
            re.search(r"(test_grading\[[^\]]+\])\s+(PASSED|FAILED|SKIPPED)", line)
        if match:
            word, test = (match.group(1), match.group(2)) if match.group(1).isupper() else (
                match.group(2), match.group(1))
            found[test] = word
    return found


def test_two_gateways_grade_the_class_as_one_process_does(pytester: pytest.Pytester) -> None:
    root = pytester.path / "class"
    for name, text in (("alice", book_source()), ("bob", mutant_source("SignFlipBP1")),
                       ("carol", mutant_source("MissingSigmaPrimeBP2"))):
        (root / name).mkdir(parents=True)
        (root / name / "network.py").write_text(text)
    alone = pytester.runpytest_subprocess(f"--bp-grade={root}", "-p", "no:cacheprovider", "-v")
    gateway = f"popen//python={sys.executable}"
    spread = pytester.runpytest_subprocess(f"--bp-grade={root}", "-p", "no:cacheprovider", "-v",
                                           "-d", "--tx", gateway, "--tx", gateway)
    expected, got = _outcomes(alone), _outcomes(spread)
    assert len(expected) == 3 * len(all_checks()) and got == expected
    assert expected["test_grading[alice-BP1]"] == "PASSED"
    assert expected["test_grading[carol-BP2]"] == "FAILED"
    workers = set(re.findall(r"\[(gw\d+)\]", spread.stdout.str()))
    assert workers == {"gw0", "gw1"}, spread.stdout.str()[-2000:]
