"""The teacher's assignment (suite/assignment.py): a declaration says how a submission is written,
never what is checked. Each attack is shown to pass without the assignment (the negative control:
the assignment is what catches it), and every correct implementation still conforms under it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from reports import problems

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.book_network import BookNetwork
from bpverify.conformance.specimens.correct_variants import CORRECT
from bpverify.conformance.specimens.zoo import MUTANTS
from bpverify.conformance.suite import assignment as assignments
from bpverify.conformance.suite.assignment import BOOK, Assignment
from bpverify.conformance.suite.runner import format_report, run_suite

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "assignment.example.toml"


class OneLinearLayer:
    """One linear layer, no backprop worth the name, declared to skip the rest (issue 17)."""

    bpverify_capabilities = {"activation": ["identity"]}

    def __init__(self, sizes: list[int]) -> None:
        self.weights = [np.zeros((sizes[1], sizes[0]))]
        self.biases = [np.zeros((sizes[1], 1))]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        delta = self.weights[0] @ x + self.biases[0] - y
        return [delta], [delta @ x.T]


def _mutant(name: str) -> type:
    return next(m.cls for m in MUTANTS if m.name == name)


def _hidden(names: tuple[str, ...]) -> type:
    """The zoo's η-instead-of-η/m update with ``names`` removed from the class, so the suite
    finds no such method. (Declaring them away under names the class lacks, as the issue's
    attack did, is refused when the class loads: ``methods`` must name methods it has.)"""
    merged: dict[str, object] = {}
    for klass in reversed(_mutant("EtaInsteadOfEtaOverM").__mro__[:-1]):
        merged.update(vars(klass))
    return type("Hidden", (), {k: v for k, v in merged.items()
                               if k not in (*names, "__dict__", "__weakref__")})


ATTACKS = {"one linear layer": OneLinearLayer,
           "update hidden": _hidden(("update_mini_batch", "SGD")),
           "update hidden, SGD left": _hidden(("update_mini_batch",))}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_declaration_cannot_narrow_what_the_assignment_requires(name: str) -> None:
    impl = as_implementation(ATTACKS[name])
    report = run_suite(impl, assignment=BOOK)
    assert not report.passed, format_report(report)
    failed = {o.check.id: o.detail for o in report.outcomes if o.status == "fail"}
    if name == "one linear layer":
        assert "fixes the depth at L = 2" in failed["assignment"]
        assert failed["forward"].startswith("required by the assignment")
        assert failed["update-rule"].startswith("required by the assignment")
        statuses = {o.check.id: o.status for o in report.outcomes}
        assert statuses["BP2"] != "skip"  # checked at every depth, as the assignment asks
    else:
        assert failed["update-rule"].startswith("required by the assignment: needs capability "
                                                "update")


def test_without_the_assignment_the_attacks_the_issue_names_conform() -> None:
    """The negative control: declared alone, they skip their way to CONFORMS."""
    for name in ("one linear layer", "update hidden"):
        report = run_suite(as_implementation(ATTACKS[name]))
        assert report.passed and report.count("skip") > 0, (name, format_report(report))


TOLD_OTHERWISE = {"MeanReduced": "it declares reduction='mean'; the class was told "
                                  "reduction='sum'"}
"""Correct code in a convention the book's assignment does not allow: its own violation."""


@pytest.mark.parametrize("cls", CORRECT, ids=lambda c: c.__name__)
def test_every_correct_implementation_conforms_under_the_books_assignment(cls: type) -> None:
    """Right code conforms, unless it is written in another convention than the class was
    told; then the check ``assignment`` (and only it) says so."""
    report = run_suite(as_implementation(cls), assignment=BOOK)
    if cls.__name__ in TOLD_OTHERWISE:
        assert problems(report) == [("assignment", TOLD_OTHERWISE[cls.__name__])]
        return
    assert report.passed, problems(report)
    assert report.outcomes[0].check.id == "assignment" and report.outcomes[0].status == "pass"


def test_the_checks_use_the_assignments_sigma_and_name_a_contradicting_declaration() -> None:
    tanh = Assignment(activation="tanh", name="tanh.toml")
    report = run_suite(as_implementation(BookNetwork), assignment=tanh, only=["assignment", "BP1"])
    statuses = {o.check.id: o.status for o in report.outcomes}
    assert statuses == {"assignment": "pass", "BP1": "fail"}  # σ computed is not the one asked
    declared = type("Declared", (BookNetwork,), {"bpverify_capabilities": {"activation": "relu"}})
    report = run_suite(as_implementation(declared), assignment=tanh, only=["assignment"])
    assert "declares σ = relu; the assignment asks for σ = tanh" in report.outcomes[0].detail
    rerun = report.outcomes[0].rerun("network:Network")
    assert "--assignment tanh.toml" in rerun and rerun.endswith("--only assignment")


def test_a_fixed_depth_runs_the_battery_at_that_depth_only() -> None:
    three = Assignment(depth=3)
    report = run_suite(as_implementation(BookNetwork), assignment=three, only=["BP2"])
    assert report.passed and report.outcomes[0].networks > 0
    assert "activations=['sigmoid,sigmoid']" in report.capabilities
    two = Assignment(depth=2)
    report = run_suite(as_implementation(BookNetwork), assignment=two, only=["BP2"])
    assert report.outcomes[0].status == "skip"  # no BP2 at L = 2, and the teacher said L = 2


def test_conventions_the_class_was_told_and_the_books_sum() -> None:
    """A mean-reduced MLP declares a cost the book's assignment does not allow; a teacher who
    allows it says so, and then it conforms."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "specimens"))
    try:
        from styles.rows_mlp import MLP  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    report = run_suite(as_implementation(MLP), assignment=BOOK)
    assert not report.passed
    assert "declares reduction='mean'; the class was told reduction='sum'" in \
        report.outcomes[0].detail
    free = assignments.parse({"conventions": {"reduction": "any"}}, "free.toml")
    assert run_suite(as_implementation(MLP), assignment=free).passed
    columns = assignments.parse({"conventions": {"layout": "columns", "reduction": "any"}},
                                "columns.toml")
    assert "layout='rows'" in run_suite(as_implementation(MLP), assignment=columns,
                                        only=["assignment"]).outcomes[0].detail


def test_a_dtype_the_assignment_does_not_allow_fails() -> None:
    float32 = next(cls for cls in CORRECT if cls.__name__ == "Float32Stable")
    only64 = Assignment(dtypes=("float64",))
    report = run_suite(as_implementation(float32), assignment=only64, only=["assignment"])
    assert "it computes in float32; the assignment allows float64" in report.outcomes[0].detail


def test_the_example_file_loads_and_every_assignment_writes_itself_back() -> None:
    example = assignments.load(EXAMPLE)
    assert example.activation == "sigmoid" and example.dtypes == ("float64",)
    assert example.weight("BP2") == 2.0 and example.weight("forward") == 1.0
    for assignment in (example, BOOK, Assignment(activation="tanh,relu,sigmoid", depth=4),
                       Assignment(depth=2, checks=("BP1", "BP3"), cost="cross-entropy")):
        again = assignments.parse(tomllib.loads(assignment.to_toml()), assignment.name)
        assert again == assignment and again.digest() == assignment.digest()
    assert assignments.load("book") is BOOK


@pytest.mark.parametrize(("data", "message"), [
    ({"requires": {"methods": ["backprop", "train"]}}, "methods is ['backprop', 'train']"),
    ({"requires": {"depth": 1}}, "depth is 1, expected 'any' or a number of layers"),
    ({"requires": {"activation": "swish"}}, "activation"),
    ({"requires": {"activation": ["tanh", "relu"], "depth": 4}}, "depth is 4, expected 3"),
    ({"requires": {"cost": "hinge"}}, "cost is 'hinge'"),
    ({"requires": {"dtype": "float16"}}, "dtype is 'float16'"),
    ({"requires": {"checks": ["BP5"]}}, "checks is ['BP5']"),
    ({"conventions": {"layout": "diagonal"}}, "layout is 'diagonal'"),
    ({"weights": {"BP1": -1}}, "[weights] BP1 is -1"),
    ({"weights": {"BP9": 1}}, "[weights] key is 'BP9'"),
    ({"gradescope": {"visibility": "secret"}}, "visibility is 'secret'"),
    ({"require": {}}, "a top-level key is 'require'"),
    ({"version": 2}, "version is 2, expected 1"),
])
def test_a_bad_assignment_names_the_key_the_expected_and_the_actual(data: dict[str, object],
                                                                   message: str) -> None:
    with pytest.raises(ValueError, match="assignment x.toml") as raised:
        assignments.parse(data, "x.toml", "x.toml")
    assert message in str(raised.value)


def test_an_unreadable_assignment_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read it"):
        assignments.load(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[requires\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        assignments.load(tmp_path / "bad.toml")


def test_a_declaration_naming_a_method_the_class_lacks_is_refused() -> None:
    """The issue's own form of the attack: a buggy update declared away to a missing name."""
    declared = type("Hidden", (_mutant("EtaInsteadOfEtaOverM"),), {
        "bpverify_capabilities": {"methods": {"update_mini_batch": "no_such_method"}}})
    with pytest.raises(ValueError, match="no_such_method"):
        as_implementation(declared)
