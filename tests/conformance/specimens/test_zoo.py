"""Every mutant of the bug zoo (specimens/zoo.py) is rejected by its check, which names its
equation."""

from __future__ import annotations

import pytest
from reports import problems as _problems

from bpverify.conformance.protocol.adapters import as_implementation
from bpverify.conformance.specimens.zoo import MUTANTS, Mutant
from bpverify.conformance.suite.checks import all_checks
from bpverify.conformance.suite.runner import SuiteReport, run_suite

HANGS = ("HangsInUpdate",)
"""Mutants whose calls hang: each hang costs the time limit, so theirs is short (0.5 s); the
others get a generous one, so that no verdict depends on the machine's load."""


class _Reports(dict[str, SuiteReport]):
    """Each mutant through the whole suite once, when a test first asks for it (a worker of
    ``pytest -n`` runs only the mutants of its own tests)."""

    def __missing__(self, name: str) -> SuiteReport:
        mutant = next(m for m in MUTANTS if m.name == name)
        report = run_suite(as_implementation(mutant.cls),
                           seconds=0.5 if name in HANGS else 10.0)
        self[name] = report
        return report


@pytest.fixture(scope="module")
def zoo_reports() -> dict[str, SuiteReport]:
    return _Reports()


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_every_mutant_is_rejected_by_its_check(mutant: Mutant,
                                               zoo_reports: dict[str, SuiteReport]) -> None:
    report = zoo_reports[mutant.name]
    assert not report.passed
    outcome = next(o for o in report.outcomes if o.check.id == mutant.check)
    assert outcome.status == mutant.status, (mutant.name, outcome.status, outcome.detail,
                                             _problems(report))
    if mutant.diagnosis:
        text = outcome.detail + " " + ((outcome.failure.diagnosis or "") if outcome.failure
                                       else "")
        assert mutant.diagnosis in text, (mutant.name, text)


def test_the_zoo_has_every_family() -> None:
    """Each mutant is killed by its own test above; the zoo keeps every family, each name once."""
    from bpverify.conformance.specimens.zoo import ADVERSARIAL, HINTED
    names = [m.name for m in MUTANTS]
    assert len(set(names)) == len(names) >= 105
    assert set(ADVERSARIAL) | set(HINTED) <= set(MUTANTS)


def test_every_mutant_names_the_equation_of_the_check_that_kills_it() -> None:
    equations = {c.id: c.equation for c in all_checks()}
    assert all(m.equation == equations[m.check] for m in MUTANTS), [
        (m.name, m.equation, equations[m.check]) for m in MUTANTS
        if m.equation != equations[m.check]]



NEEDS_THE_EXAMPLES = ("RepeatedExamplesCountedOnce", "InputsClippedAtHundred",
                      "ZeroInputLearnsNothing", "SoftTargetsAsLabels", "GradientNormClippedAtFive",
                      "StepClippedAtOne", "TinyOutputErrorFlushedToZero")
"""Mutants that only the battery's examples and targets reveal: on the very network that kills
each, with the generic examples of before, they pass."""


@pytest.mark.parametrize("name", NEEDS_THE_EXAMPLES)
def test_a_mutant_of_the_examples_needs_them(name: str,
                                            zoo_reports: dict[str, SuiteReport]) -> None:
    mutant = next(m for m in MUTANTS if m.name == name)
    outcome = next(o for o in zoo_reports[name].outcomes if o.check.id == mutant.check)
    network = outcome.network
    assert outcome.status == "fail" and network is not None
    numbers = f"{','.join(map(str, network.sizes))}/m={network.m}/scale={network.scale:g}"
    impl = as_implementation(mutant.cls)
    mixed = run_suite(impl, seed=network.seed, only=[mutant.check],
                      case=numbers + "/examples=mixed", seconds=2.0)
    plain = run_suite(impl, seed=network.seed, only=[mutant.check], case=numbers, seconds=2.0)
    assert mixed.outcomes[0].status == "fail", mixed.outcomes[0].detail
    assert plain.outcomes[0].status == "pass", plain.outcomes[0].detail


def test_every_new_mutant_says_what_it_needs() -> None:
    from bpverify.conformance.specimens.zoo import ADVERSARIAL
    assert len(ADVERSARIAL) >= 15
    assert all(m.needs and m.cls.__doc__ == f"Needs {m.needs}." for m in ADVERSARIAL)
