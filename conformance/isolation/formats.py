"""``bpverify check --format``: one run's verdicts written for the reader at hand.

Every format is built from the same data (``worker.isolated_to_data``: the verdict, why it is
incomplete, the report's outcomes, what the implementation printed), so the verdicts and the
exit status are those of the text report:

* ``json``: a versioned document (``FORMAT``, ``VERSION``), described by
  ``docs/schemas/check-report.schema.json``;
* ``junit``: JUnit XML, one ``testcase`` per check; a failure's ``message`` is its FAIL line,
  its text the likely diagnosis and the rerun command;
* ``github``: GitHub Actions workflow commands, ``::error file=…,line=…,title=BP2::…`` on the
  implementation's own file (``locations.py``), the text report in a collapsed group;
* ``gradescope``: Gradescope's results.json (``tests`` with ``name``, ``score``, ``max_score``,
  ``status``, ``output``, ``visibility``), points from the assignment's weights.

Every string a submission controls goes through ``display.shown`` first.
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bpverify.conformance.isolation.annotations import Location, Source, in_text
from bpverify.conformance.protocol.display import one_line, shown, shown_tree
from bpverify.conformance.suite.assignment import ASSIGNMENT_CHECK, Assignment
from bpverify.conformance.suite.runner import MARKS

FORMAT = "bpverify-check"
VERSION = 1
"""The json format's name and version (``docs/schemas/check-report.schema.json``)."""

PASSING = ("pass",)


@dataclass(frozen=True)
class CheckRun:
    """One ``bpverify check``: the spec, the folder it ran in, the verdict data, the exit status
    the command returns and the assignment (if any)."""

    spec: str
    cwd: Path
    data: dict[str, Any]
    status: int
    assignment: Assignment | None = None
    checks: Sequence[str] = field(default_factory=tuple)
    """Every check id the suite has (a report that never ran lists them as not run)."""

    @property
    def report(self) -> dict[str, Any] | None:
        return self.data.get("report")

    @property
    def outcomes(self) -> list[dict[str, Any]]:
        return list((self.report or {}).get("outcomes", []))

    @property
    def verdict(self) -> str:
        return str(self.data.get("verdict", "ERROR"))


def render(fmt: str, run: CheckRun) -> str:
    """The report of ``run`` in ``fmt`` (json, junit, github, gradescope)."""
    return {"json": as_json, "junit": as_junit, "github": as_github,
            "gradescope": as_gradescope}[fmt](run)


def _source(run: CheckRun) -> Source:
    return Source(run.spec, run.cwd)


def location(run: CheckRun, outcome: dict[str, Any] | None, source: Source) -> Location | None:
    """Where a verdict points in the implementation's file (``locations.py``); for a run that
    never loaded, the location its reason names."""
    if outcome is None:
        return in_text(run.data.get("reason"), run.cwd) or source.file()
    return source.for_check(outcome["check"], outcome.get("detail"), outcome.get("diagnosis"))


def problem_text(outcome: dict[str, Any]) -> str:
    """A failure's lines after the FAIL line: the network, likely, rerun."""
    lines = []
    if outcome.get("diagnosis"):
        lines.append(f"likely: {outcome['diagnosis']}")
    if outcome.get("rerun"):
        lines.append(f"rerun: {outcome['rerun']}")
    return shown("\n".join(lines))


def fail_line(outcome: dict[str, Any]) -> str:
    """The line the text report prints: ``FAIL    BP2  detail``."""
    return one_line(f"{MARKS[outcome['status']].strip()} {outcome['check']}  {outcome.get('detail')}")


# -- json ---------------------------------------------------------------------------------------

def as_json(run: CheckRun) -> str:
    """The versioned JSON document (see ``docs/schemas/check-report.schema.json``)."""
    source = _source(run)
    report = run.report or {}
    checks = []
    for o in run.outcomes:
        where = location(run, o, source) if o["status"] not in ("pass", "skip") else None
        checks.append({**o, "location": None if where is None else
                       {"file": where.file, "line": where.line}})
    where = location(run, None, source) if run.report is None else None
    document = {
        "format": FORMAT, "version": VERSION, "verdict": run.verdict, "exit_status": run.status,
        "reason": run.data.get("reason"),
        "location": None if where is None else {"file": where.file, "line": where.line},
        "spec": run.spec, "implementation": report.get("implementation"),
        "capabilities": report.get("capabilities"),
        "assignment": None if run.assignment is None else {
            "title": run.assignment.title, "name": run.assignment.name,
            "digest": run.assignment.digest()},
        "seed": report.get("seed"), "strict": report.get("strict"),
        "counts": report.get("counts"), "checks": checks,
        "protections": run.data.get("protections", {}), "output": run.data.get("output", ""),
        "seconds": run.data.get("seconds")}
    return json.dumps(shown_tree(document), indent=1, ensure_ascii=False, allow_nan=False,
                      default=str)


# -- junit --------------------------------------------------------------------------------------

def _xml_text(value: Any) -> str:
    """``shown`` text with what XML 1.0 cannot hold (U+FFFE, U+FFFF) escaped too."""
    return shown(value).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


def as_junit(run: CheckRun) -> str:
    """JUnit XML: one testcase per check (``classname`` bpverify.SPEC); fail, error and
    blocked are failures (or errors), a skip is skipped (a failure under --strict)."""
    strict = bool((run.report or {}).get("strict"))
    suite = ET.Element("testsuite", name=_xml_text(f"bpverify check {run.spec}"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total = 0.0
    classname = _xml_text(f"bpverify.{run.spec}")

    def case(name: str, seconds: float = 0.0) -> ET.Element:
        counts["tests"] += 1
        return ET.SubElement(suite, "testcase", classname=classname, name=_xml_text(name),
                             time=f"{seconds:.3f}")

    if run.report is None:
        element = case("load")
        ET.SubElement(element, "error", message=_xml_text(run.data.get("reason")),
                      type="ERROR").text = _xml_text(run.data.get("reason"))
        counts["errors"] += 1
    for o in run.outcomes:
        seconds = float(o.get("seconds") or 0.0)
        total += seconds
        element = case(o["check"], seconds)
        status = o["status"]
        if status == "error":
            counts["errors"] += 1
            ET.SubElement(element, "error", message=_xml_text(fail_line(o)),
                          type=_xml_text(o.get("equation"))).text = problem_text(o)
        elif status in ("fail", "blocked") or (status == "skip" and strict):
            counts["failures"] += 1
            ET.SubElement(element, "failure", message=_xml_text(fail_line(o)),
                          type=_xml_text(o.get("equation"))).text = problem_text(o)
        elif status == "skip":
            counts["skipped"] += 1
            ET.SubElement(element, "skipped", message=_xml_text(o.get("detail")))
    if run.report is not None and run.data.get("reason"):  # the verdicts are incomplete
        element = case("verdicts-complete")
        counts["errors"] += 1
        ET.SubElement(element, "error", message=_xml_text(run.data["reason"]), type="ERROR")
    properties = ET.Element("properties")
    for name, value in (("verdict", run.verdict), ("exit_status", run.status),
                        ("assignment", run.assignment.describe() if run.assignment else "none")):
        ET.SubElement(properties, "property", name=name, value=_xml_text(value))
    suite.insert(0, properties)
    if str(run.data.get("output", "")).strip():
        ET.SubElement(suite, "system-out").text = _xml_text(run.data["output"])
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{total:.3f}")
    root = ET.Element("testsuites", {"name": "bpverify", **{k: str(v) for k, v in counts.items()}})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# -- github -------------------------------------------------------------------------------------

def _data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped (GitHub's own escaping)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow command's property value: also : and , escaped."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, title: str, where: Location | None) -> str:
    props = [] if where is None else [f"file={_property(where.file)}", f"line={where.line}"]
    props.append(f"title={_property(title)}")
    return f"::{level} {','.join(props)}::{_data(shown(message))}"


def as_github(run: CheckRun, text_report: str | None = None) -> str:
    """The text report inside a collapsed group with workflow commands switched off (nothing a
    submission printed can be read as a command), then one annotation per failing check on
    the implementation's file, then the verdict."""
    source = _source(run)
    token = secrets.token_hex(16)
    lines = ["::group::bpverify check report", f"::stop-commands::{token}"]
    lines += shown(text_report or _plain_report(run)).splitlines()
    lines += [f"::{token}::", "::endgroup::"]
    if run.report is None:
        lines.append(annotation("error", f"ERROR: {run.data.get('reason')}",
                                "bpverify: did not load", location(run, None, source)))
    for o in run.outcomes:
        if o["status"] in ("pass", "skip", "blocked"):  # blocked: its blocker is annotated
            continue
        detail = f"{o.get('detail')}\n{problem_text(o)}".strip()
        lines.append(annotation("error", detail, o["check"], location(run, o, source)))
    if run.report is not None and run.data.get("reason"):
        lines.append(annotation("error", f"{run.data['reason']}: the verdicts are incomplete",
                                "bpverify: ERROR", source.file()))
    counts = (run.report or {}).get("counts") or {}
    summary = (f"{run.verdict}: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in
                                               ("pass", "fail", "error", "skip"))
               if counts else run.verdict)
    lines.append(annotation("notice" if run.status == 0 else "error", summary, "bpverify", None))
    return "\n".join(lines)


def _plain_report(run: CheckRun) -> str:
    rows = [f"{MARKS[o['status']]} {o['check']}  {o.get('detail')}" for o in run.outcomes]
    return "\n".join([f"bpverify check {run.spec}: {run.verdict}", *rows,
                      *([f"reason: {run.data['reason']}"] if run.data.get("reason") else [])])


def step_summary(run: CheckRun) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: the verdict and a table of the checks."""
    rows = [f"| `{one_line(o['check'])}` | {o['status']} | "
            f"{one_line(o.get('detail')).replace('|', '/')[:300]} |" for o in run.outcomes]
    return "\n".join([f"### bpverify check `{one_line(run.spec)}`: {run.verdict}", "",
                      *([f"{one_line(run.data.get('reason'))}", ""] if run.data.get("reason")
                        else []),
                      "| check | status | detail |", "|---|---|---|", *rows, ""])


# -- gradescope ---------------------------------------------------------------------------------

def weight(run: CheckRun, check: str) -> float:
    """Points of ``check``: the assignment's weight (``assignment`` itself: 0 unless given),
    1 without an assignment."""
    if run.assignment is None:
        return 1.0
    if check == ASSIGNMENT_CHECK.id:
        return dict(run.assignment.weights).get(check, 0.0)
    return run.assignment.weight(check)


def as_gradescope(run: CheckRun) -> str:
    """Gradescope's results.json. A check that passed scores its weight; fail, error, blocked
    score 0; a skip the assignment allows is not a test. When the submission does not do what
    the assignment asks (the check ``assignment`` failed), nothing scores: what passed did not
    check what was asked. A submission that never loaded scores 0 on every check, each saying
    why."""
    visibility = run.assignment.visibility if run.assignment is not None else "visible"
    tests = []
    gate = next((o for o in run.outcomes if o["check"] == ASSIGNMENT_CHECK.id
                 and o["status"] != "pass"), None)
    if run.report is None:
        why = shown(f"not run: {run.data.get('reason')}")
        for number, check in enumerate(run.checks, 1):
            tests.append({"name": check, "number": str(number), "score": 0.0,
                          "max_score": weight(run, check), "status": "failed", "output": why,
                          "visibility": visibility})
    for number, o in enumerate(run.outcomes, 1):
        if o["status"] == "skip" and not bool((run.report or {}).get("strict")):
            continue
        points = weight(run, o["check"])
        passed = o["status"] in PASSING and (gate is None or o is gate)
        output = shown(f"{fail_line(o)}\n{problem_text(o)}".strip())
        if gate is not None and o is not gate:
            output = f"not scored: the submission does not do what the assignment asks " \
                     f"(see the test 'assignment')\n{output}"
        tests.append({"name": shown(f"{o['check']}: {o.get('title') or o.get('equation')}"),
                      "number": str(number), "score": points if passed else 0.0,
                      "max_score": points,
                      "status": "passed" if o["status"] in PASSING else "failed",
                      "output": output, "visibility": visibility})
    counts = (run.report or {}).get("counts") or {}
    summary = [f"bpverify check {run.spec}: {run.verdict}"]
    if run.assignment is not None:
        summary.append(f"assignment: {run.assignment.describe()}")
    if counts:
        summary.append(", ".join(f"{counts.get(k, 0)} {k}" for k in ("pass", "fail", "error",
                                                                     "skip")))
    if run.data.get("reason"):
        summary.append(f"ERROR: {run.data['reason']}")
    if str(run.data.get("output", "")).strip():
        summary.append("--- what the submission printed (not read as a verdict) ---\n"
                      + str(run.data["output"]))
    return json.dumps(shown_tree({
        "score": sum(t["score"] for t in tests), "output": "\n".join(summary),
        "visibility": visibility, "stdout_visibility": "hidden",
        "execution_time": round(float(run.data.get("seconds") or 0.0), 3), "tests": tests}),
        indent=1, ensure_ascii=False, allow_nan=False)
