"""Running the checks against one implementation and reporting, without pytest.

``bpverify check SPEC`` and the pytest plugin both run a check through ``run_check``, so a
verdict reads the same in both. A check runs on every network of the battery of each seed
that it applies to; its verdict is its first failure, which names the network and a command
that reruns exactly it. With ``search`` (``--thorough``), Hypothesis then draws many more
networks and shrinks a failure to the smallest network and batch that still fails.

Kept whole: running the checks and reporting them share the outcome record.
"""

from __future__ import annotations

import platform
import random
import re
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bpverify.conformance.protocol.adapters import Capabilities, Implementation
from bpverify.conformance.protocol.calls import Hang, ImplementationFault
from bpverify.conformance.suite.assignment import ASSIGNMENT_CHECK, Assigned, Assignment
from bpverify.conformance.suite.battery import (
    NetworkSpec,
    distinguishing_trait,
    drawn_specs,
    parse_case,
    specs_for,
)
from bpverify.conformance.suite.checks import Check, CheckFailed, Context, Failure, all_checks

DEFAULT_SECONDS = 10.0
"""Time limit for one call into the implementation."""

THOROUGH_SEEDS = 10
"""``--thorough``: the batteries of this many seeds, then the Hypothesis search."""

SEARCH_EXAMPLES = 40
"""``--thorough``: networks Hypothesis draws per check (before shrinking a failure)."""

STATUSES = ("pass", "fail", "error", "blocked", "skip")


@dataclass(frozen=True)
class Outcome:
    """A check's verdict: pass, fail (with the equation), error (crash, hang, junk), blocked (a
    check it depends on failed), or skip (a capability not declared, with the reason)."""

    check: Check
    status: str
    detail: str
    failure: Failure | None
    seconds: float
    seed: int = 0
    network: NetworkSpec | None = None
    networks: int = 0
    shrunk: bool = False
    hang: bool = False
    assignment: str | None = None
    """The assignment it was judged under, as ``--assignment`` names it (None: none)."""
    note: str = ""
    """What else the networks showed: where it crashed beside a failure, where it ran beside a
    crash, the networks a prerequisite left out."""
    broken: frozenset[tuple[str, int]] = frozenset()
    """The networks (``network_key``) it did not pass on: a check that depends on it is judged
    on the others."""
    passed_on: int = 0
    """How many networks it passed on (none: the checks that depend on it are blocked)."""
    blocker: str = ""
    """The id of the check that blocked this one."""

    def rerun(self, spec: str) -> str:
        """The command that reruns exactly this check on exactly this network."""
        if self.network is None:
            return rerun_command(spec, self.seed, self.check.id, assignment=self.assignment)
        return rerun_command(spec, self.network.seed, self.check.id, self.network.token(),
                             self.assignment)


def rerun_command(spec: str, seed: int, check_id: str, case: str | None = None,
                  assignment: str | None = None) -> str:
    where = f" --case {shlex.quote(case)}" if case is not None else ""
    under = f" --assignment {shlex.quote(assignment)}" if assignment is not None else ""
    return f"bpverify check {shlex.quote(spec)}{under} --seed {seed}{where} --only {check_id}"


def _one(check: Check, ctx: Context, spec: NetworkSpec) -> Outcome:
    """The check on one network: pass, fail or error, the network named in the failure."""
    start = time.perf_counter()
    try:
        check.run(ctx, spec)
    except CheckFailed as failed:
        failure = replace(failed.failure, network=spec)
        return Outcome(check, "fail", failure.describe(), failure, time.perf_counter() - start,
                       spec.seed, spec)
    except ImplementationFault as fault:
        failure = Failure(check.equation, str(fault), network=spec)
        return Outcome(check, "error", failure.describe(), failure, time.perf_counter() - start,
                       spec.seed, spec, hang=isinstance(fault, Hang))
    except Exception as unexpected:  # noqa: BLE001 - an answer the checks did not foresee
        failure = Failure(check.equation, f"the suite could not judge this answer "
                          f"({type(unexpected).__name__}: {unexpected}); if the answer is "
                          "well-formed, this is a bug in bpverify: please report it",
                          network=spec)
        return Outcome(check, "error", failure.describe(), failure, time.perf_counter() - start,
                       spec.seed, spec)
    return Outcome(check, "pass", check.title, None, time.perf_counter() - start, spec.seed, spec)


def networks_of(check: Check, native: tuple[str, str], seeds: Sequence[int],
                case: str | None = None) -> list[NetworkSpec]:
    """The networks ``check`` runs on: its battery networks of each seed, or the one ``case``,
    with the implementation's ``native`` σ and C where the check sets none."""
    if case is not None:
        return [spec for seed in seeds
                for spec in check.networks([parse_case(case, seed)], native)]
    return [spec for seed in seeds
            for spec in check.networks(specs_for(check.source, seed), native)]


def network_key(spec: NetworkSpec) -> tuple[str, int]:
    """A network as every check sees it, whatever σ and C a check sets (its slot, or numbers)."""
    return spec.token(), spec.seed


def run_check(check: Check, ctx: Context, seeds: Sequence[int], *, case: str | None = None,
              search: int = 0, prerequisites: Sequence[Outcome] = ()) -> Outcome:
    """The verdict of one check over the networks of ``seeds`` (or the one ``case``), then, with
    ``search`` > 0, over that many networks drawn by Hypothesis, shrunk if one fails.

    The check runs on every network where its ``prerequisites`` passed (blocked where none is
    left), and on each of them to the end: a crash on some networks does not hide a wrong
    equation on the others (w for wᵀ crashes wherever wˡ⁺¹ is not square, and is wrong on the
    square network). A failure is the verdict (the most telling one: ``_reported``), with the
    crashes named beside it; crashes alone are an error that says where the code runs."""
    reason = check.requires(ctx.impl.capabilities)
    if reason is not None:
        return Outcome(check, "skip", reason, None, 0.0, ctx.seed)
    native = ctx.impl.capabilities.native
    specs = networks_of(check, native, seeds, case)
    if not specs:
        where = f"the network --case {case}" if case else (
            f"any network with σ = {native[0]}, C = {native[1]}")
        return Outcome(check, "skip", f"does not apply to {where}", None, 0.0, ctx.seed)
    broken = frozenset().union(*(p.broken for p in prerequisites))
    kept = [spec for spec in specs if network_key(spec) not in broken]
    nowhere = [p for p in prerequisites if p.status in ("fail", "error", "blocked")
               and not p.passed_on]
    if not kept or nowhere:
        blockers = nowhere or [p for p in prerequisites if p.status != "pass"]
        said = {"fail": "it fails", "error": "it errors", "blocked": "it is blocked"}
        names = " and ".join(f"{p.check.id} ({said.get(p.status, p.status)})" for p in blockers)
        return Outcome(check, "blocked", f"blocked by {names}: fix it first", None, 0.0, ctx.seed,
                       broken=frozenset(network_key(s) for s in specs),
                       blocker=blockers[0].check.id)
    start = time.perf_counter()
    results = []
    for spec in kept:
        results.append(_one(check, ctx, spec))
        if results[-1].hang:
            break  # each further hang would cost its whole time limit
    outcome = _reported(results)
    note = _note(results, specs, kept, prerequisites)
    searched = search if (case is None and check.source != "saturation" and not outcome.hang
                          and len(kept) == len(specs)) else 0  # no search after a hang: it would hang
    if searched:
        outcome = _search(check, ctx, searched, seeds[0]) or outcome
    seconds = time.perf_counter() - start
    not_passed = frozenset(network_key(o.network) for o in results
                           if o.status != "pass" and o.network is not None)
    passed_on = sum(o.status == "pass" for o in results)
    if outcome.status == "pass":
        return replace(outcome, seconds=seconds, networks=len(kept) + searched, note=note,
                       passed_on=passed_on)
    return replace(outcome, seconds=seconds, networks=len(kept), note=note, passed_on=passed_on,
                   broken=not_passed | frozenset(network_key(s) for s in specs
                                                 if s not in kept))


def _reported(results: Sequence[Outcome]) -> Outcome:
    """The outcome a check reports over its networks: its first failure whose diagnosis the most
    failing networks share (a hint that holds on several networks before one that holds on one:
    η/(L − 1) explains a step at every depth, "η instead of η/m" only where L − 1 = 1; any
    diagnosis before none); else its first error; else a pass."""
    failed = [o for o in results if o.status == "fail"]
    if failed:
        diagnoses = [_meaning(o.failure.diagnosis) if o.failure else None for o in failed]
        shared = {d: sum(d == other for other in diagnoses) for d in diagnoses if d}
        if shared:
            best = max(shared.values())
            return next(o for o, d in zip(failed, diagnoses, strict=True)
                        if d and shared[d] == best)
        return failed[0]
    return next((o for o in results if o.status == "error"), results[-1])


def _meaning(diagnosis: str | None) -> str | None:
    """A diagnosis without its numbers (the m, the layer, the factor of one network), to tell
    which networks share it."""
    return None if diagnosis is None else re.sub(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?", "#", diagnosis)


def _note(results: Sequence[Outcome], specs: Sequence[NetworkSpec], kept: Sequence[NetworkSpec],
          prerequisites: Sequence[Outcome]) -> str:
    """Where a check crashed beside its verdict, where it ran beside its crashes, and what its
    prerequisites left out."""
    errors = [o for o in results if o.status == "error" and o.network is not None]
    ran = [o.network for o in results if o.status != "error" and o.network is not None]
    parts = []
    if errors:
        crashed = [o.network for o in errors if o.network is not None]
        verdict = next((o for o in results if o.status == "fail"), None)
        first = errors[0].failure.message if errors[0].failure else errors[0].detail
        where = f"{len(crashed)} of {len(results)} networks ({_names(crashed)})"
        if verdict is not None:
            parts.append(f"it crashes on {where} too: {first}")
        elif ran:
            parts.append(f"it crashes on {where}; it runs on {_names(ran)}"
                         + (f" ({trait})" if (trait := distinguishing_trait(ran, crashed))
                            else ""))
    left_out = [s for s in specs if s not in kept]
    if left_out:
        by = " and ".join(p.check.id for p in prerequisites if p.broken)
        part = (f"judged on {len(kept)} of {len(specs)} networks ({_names(kept)}): {by} does not "
                f"pass on the others")
        crash = next((p.failure.message for p in prerequisites
                      if p.status == "error" and p.failure is not None), "")
        located = re.search(r"\(at ([^\s()]+:\d+)", crash)  # the innermost frame's file:line
        if located and any(o.status == "fail" for o in results):
            part += f" (it crashes there, at {located[1]})"
        parts.append(part)
    return "; ".join(parts)


def _names(specs: Sequence[NetworkSpec]) -> str:
    """Battery slots by name (with their seed when several seeds ran), drawn networks by sizes."""
    seeds = {s.seed for s in specs}
    names = [s.name if s.name != "drawn" else f"sizes {list(s.sizes)}" for s in specs]
    if len(seeds) > 1:
        names = [f"{n} (seed {s.seed})" for n, s in zip(names, specs, strict=True)]
    shown = ", ".join(names[:6])
    return shown + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def _search(check: Check, ctx: Context, examples: int, seed: int) -> Outcome | None:
    """Hypothesis draws ``examples`` networks; a failing one is shrunk to the smallest network,
    batch and scale that still fail (``hypothesis.find``). None when none fails."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import HypothesisException, NoSuchExample

    native = ctx.impl.capabilities.native

    def fails(spec: NetworkSpec) -> bool:
        chosen = check.networks([spec], native)
        return bool(chosen) and _one(check, ctx, chosen[0]).status in ("fail", "error")

    config = settings(max_examples=examples, database=None, deadline=None,
                      phases=(Phase.generate, Phase.shrink),
                      suppress_health_check=list(HealthCheck))
    try:
        smallest = find(drawn_specs(), fails, settings=config, random=random.Random(seed))
    except NoSuchExample:
        return None
    except HypothesisException:  # flaky (the implementation answers differently each time)
        return None
    chosen = check.networks([smallest], native)[0]
    found = _one(check, ctx, chosen)
    return replace(found, shrunk=True) if found.status != "pass" else None


def check_selection(only: Sequence[str] | None, case: str | None, seed: int,
                    assignment: Assignment | None = None) -> None:
    """A usage error (ValueError) for unknown check ids or a bad --case, before anything runs."""
    ids = [*([ASSIGNMENT_CHECK.id] if assignment is not None else []),
           *(c.id for c in all_checks())]
    unknown = sorted(set(only or ()) - set(ids))
    if unknown:
        raise ValueError(f"unknown check id(s) {unknown}, expected some of {ids}")
    if case is not None:
        parse_case(case, seed)


@dataclass(frozen=True)
class SuiteReport:
    implementation: str
    capabilities: str
    spec: str
    seed: int
    outcomes: list[Outcome]
    strict: bool
    thorough: bool = False
    seeds: int = 1
    assignment: str | None = None
    """The assignment it was judged under (``Assignment.describe``), None if none."""

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def passed(self) -> bool:
        bad = self.count("fail") + self.count("error") + self.count("blocked")
        return bad == 0 and (not self.strict or self.count("skip") == 0)


def run_suite(impl: Implementation, *, spec: str = "", seed: int = 0,
              only: Sequence[str] | None = None, strict: bool = False,
              seconds: float = DEFAULT_SECONDS, seeds: int = 1, thorough: bool = False,
              case: str | None = None, assignment: Assignment | None = None) -> SuiteReport:
    """Every check (or ``only`` these) on the batteries of ``seeds`` consecutive seeds (or the
    one network ``case``); ``thorough`` is THOROUGH_SEEDS seeds and the Hypothesis search.
    Under an ``assignment`` the checks use its σ, C and depth, a check it requires cannot be
    skipped, and the check ``assignment`` comes first (``suite/assignment.py``)."""
    check_selection(only, case, seed, assignment)
    checks = all_checks()
    target = impl if assignment is None else Assigned(
        impl, assignment.capabilities_for(impl.capabilities))
    ctx = Context(target, seed, seconds)
    seed_list = list(range(seed, seed + (max(seeds, THOROUGH_SEEDS) if thorough else seeds)))
    done: dict[str, Outcome] = {}
    for check in checks:
        if only is not None and check.id not in only:
            continue  # nor its prerequisites: nothing of it runs
        needed = [c for c in checks if c.id in check.after]
        for prerequisite in needed:
            if prerequisite.id not in done:  # on the battery even for --case: blocked is general
                done[prerequisite.id] = run_check(prerequisite, ctx, seed_list,
                                                  case=case if only is None else None)
        done[check.id] = run_check(check, ctx, seed_list, case=case,
                                   search=SEARCH_EXAMPLES if thorough else 0,
                                   prerequisites=[done[c.id] for c in needed])
    outcomes = [done[c.id] for c in checks if only is None or c.id in only]
    if assignment is not None:
        outcomes = _judged(assignment, impl, target.capabilities, outcomes, seed_list, only)
    return SuiteReport(impl.name, target.capabilities.describe(), spec or impl.name, seed,
                       outcomes, strict, thorough, len(seed_list),
                       None if assignment is None else assignment.describe())


def _judged(assignment: Assignment, impl: Implementation, used: Capabilities,
            outcomes: list[Outcome], seeds: Sequence[int], only: Sequence[str] | None
            ) -> list[Outcome]:
    """The outcomes under ``assignment``: the check ``assignment`` first (the declaration
    against what the assignment asks), and every check it requires that was skipped failed."""
    judged = []
    if only is None or ASSIGNMENT_CHECK.id in only:
        found = assignment.violations(impl.capabilities, impl.conventions)
        failure = Failure("assignment", "; ".join(found), diagnosis=(
            "a declaration may say how the code is written (layout, names), not change what "
            "the assignment asks")) if found else None
        judged.append(Outcome(ASSIGNMENT_CHECK, "fail" if found else "pass",
                              failure.describe() if failure else ASSIGNMENT_CHECK.title,
                              failure, 0.0, seeds[0], assignment=assignment.name))
    native = used.native
    for o in outcomes:
        if o.status == "skip" and assignment.requires(o.check, used,
                                                      bool(networks_of(o.check, native, seeds))):
            failure = Failure(o.check.equation, f"required by the assignment: {o.detail}",
                              diagnosis="the assignment requires this check: a declaration "
                              "cannot skip it (implement what it needs under the book's name, "
                              "or give your name in bpverify_capabilities['methods'])")
            o = replace(o, status="fail", detail=failure.describe(), failure=failure)
        judged.append(replace(o, assignment=assignment.name))
    return judged


MARKS = {"pass": "PASS   ", "fail": "FAIL   ", "skip": "SKIP   ", "error": "ERROR  ",
         "blocked": "BLOCKED"}


def format_report(report: SuiteReport) -> str:
    import numpy as np

    batteries = "battery of one seed" if report.seeds == 1 else (
        f"batteries of {report.seeds} seeds")
    mode = f"thorough: {batteries} + Hypothesis" if report.thorough else batteries
    lines = [f"bpverify check  implementation: {report.implementation}",
             *([f"assignment: {report.assignment}"] if report.assignment else []),
             f"capabilities: {report.capabilities}",
             f"seed {report.seed} ({mode})  python {platform.python_version()}  "
             f"numpy {np.__version__}", ""]
    width = max(len(o.check.id) for o in report.outcomes)
    pad = " " * (len(MARKS["pass"]) + 1 + width + 2)
    for o in report.outcomes:
        detail = o.detail
        if o.status == "pass" and o.networks:
            detail += f"  ({o.networks} network{'s' if o.networks != 1 else ''})"
        lines.append(f"{MARKS[o.status]} {o.check.id:<{width}}  {detail}")
        if o.note:
            lines.append(f"{pad}also: {o.note}")
        if o.failure is not None:
            if o.shrunk and o.network is not None and o.status == "fail":
                lines.append(f"{pad}shrunk: fails at sizes {list(o.network.sizes)}, m = "
                             f"{o.network.m} (the smallest failing network Hypothesis found)")
            if o.failure.diagnosis:
                lines.append(f"{pad}likely: {o.failure.diagnosis}")
            lines.append(f"{pad}rerun: {o.rerun(report.spec)}")
    lines.append("")
    skips = report.count("skip")
    verdict = "CONFORMS" if report.passed else "DOES NOT CONFORM"
    blocked = report.count("blocked")
    lines.append(f"{verdict}: {report.count('pass')} passed, {report.count('fail')} failed, "
                 f"{report.count('error')} errors, "
                 + (f"{blocked} blocked, " if blocked else "") + f"{skips} skipped"
                 + (" (skips count as failures: --strict)" if report.strict and skips else ""))
    return "\n".join(lines)
