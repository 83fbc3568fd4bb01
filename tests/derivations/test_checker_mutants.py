"""Meta-tests of the derivation checker: a catalogue of weakenings of the checking machinery (a
bug zoo for ``bpverify derive --check`` itself), each applied on its own, each of which
``derive --check`` (the derivations' checks, their invariants, ``catalog.audit`` and
``catalog.canaries``) must catch.

A weakening of the code is a *source mutant*: one function of the machinery, recompiled with an
edit (each edit must apply exactly once, so a mutant cannot rot into the original). A weakening
of the data is a change of the list of derivations. Each names the steps that catch it (checking
the whole list under every mutant would take minutes; catching on a part of ``derive --check``
implies catching on all of it, as the checks are independent). Caches are cleared around each
mutant so that no value computed by the original leaks in.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bpverify.derivations import catalog, core, interpret, models, worlds
from bpverify.derivations.notation import L, T, add, delta, l, mul, w

Derivations = tuple[core.Derivation, ...]


@dataclass(frozen=True)
class Edit:
    """Recompile ``owner.name`` (a function, method, property or staticmethod) with each ``old``
    snippet of its source replaced by ``new``."""

    owner: Any
    name: str
    changes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Mutant:
    name: str
    kind: str
    edits: tuple[Edit, ...] = ()
    data: Callable[[Derivations], Derivations] | None = None
    catchers: tuple[str, ...] = ()
    """"bp3" checks the derivation, "bp3:2" its step 2 (with the derivation's own invariants)."""
    why: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def edit(owner: Any, name: str, *changes: tuple[str, str]) -> Edit:
    return Edit(owner, name, tuple(changes))


def _apply(e: Edit, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = e.owner.__dict__[e.name] if isinstance(e.owner, type) else getattr(e.owner, e.name)
    func = (raw.fget if isinstance(raw, property) else raw.__func__ if isinstance(raw, staticmethod)
            else raw.func if isinstance(raw, functools.cached_property) else raw)
    source = inspect.getsource(func)
    for old, new in e.changes:
        times = source.count(old)
        assert times == 1, f"{e.name}: the mutant's edit {old!r} applies {times} times"
        source = source.replace(old, new)
    source = textwrap.dedent(source)
    namespace = dict(func.__globals__)
    exec(compile("from __future__ import annotations\n" + source, f"<mutant of {e.name}>", "exec"), namespace)
    mutated = namespace[e.name]
    if isinstance(mutated, functools.cached_property):
        mutated.__set_name__(e.owner, e.name)
    monkeypatch.setattr(e.owner, e.name, mutated)


def _clear_caches() -> None:
    worlds.network_values.cache_clear()
    worlds._run_algorithm.cache_clear()


# -- the weakenings of the data -----------------------------------------------------------------------

def _replace(derivations: Derivations, name: str, change: Callable[[core.Derivation],
                                                                   core.Derivation]) -> Derivations:
    return tuple(change(d) if d.name == name else d for d in derivations)


def _with_steps(d: core.Derivation, steps: tuple[core.Step, ...],
                stated: int | None = None) -> core.Derivation:
    return dataclasses.replace(d, steps=steps, stated=d.stated if stated is None else stated)


def _tautology(d: core.Derivation) -> core.Derivation:
    s = d.steps[-1]
    return _with_steps(d, d.steps + (dataclasses.replace(s, lhs=delta(L), rhs=delta(L)),))


def _contains_its_left_side(d: core.Derivation) -> core.Derivation:
    s = d.statement_step
    detour = add(delta(l), mul(T(w(l + 1)), delta(l + 1)), mul(-1, T(w(l + 1)), delta(l + 1)))
    return d.with_rhs(detour) if s.lhs == delta(l) else d


def _one_guard(d: core.Derivation) -> core.Derivation:
    s = d.statement_step
    steps = tuple(dataclasses.replace(x, wrongs=x.wrongs[:1]) if x is s else x for x in d.steps)
    return _with_steps(d, steps)


def _bias_rule_deleted(d: core.Derivation) -> core.Derivation:
    return _with_steps(d, d.steps[:-1])


def _index_level_removed(d: core.Derivation) -> core.Derivation:
    s = d.statement_step
    stripped = dataclasses.replace(s, models=tuple(m for m in s.models if not isinstance(m,
                                                                                         models.IndexModel)))
    return _with_steps(d, tuple(stripped if x is s else x for x in d.steps))


def _statement_only(d: core.Derivation) -> core.Derivation:
    return _with_steps(d, (d.statement_step,), stated=0)


FI = worlds.FunctionsIndex
C, W, IF, LS, NV, LL = (models.ConcreteNets, worlds, worlds.IndexForm, models.LocalStep, worlds.NetworkValues,
                        worlds.LocalLayer)

MUTANTS: tuple[Mutant, ...] = (
    # entries, points, sizes and levels narrowed
    Mutant("one entry of each matrix", "narrowed", (edit(
        models, "_compare_matrix", ("entries = itertools.product(range(1, int(left[0]) + 1), "
                                    "range(1, int(left[1]) + 1))", "entries = iter([(1, 1)])")),),
        catchers=("bp4:2",)),
    Mutant("one assignment of a component claim's indices", "narrowed", (edit(
        models, "_compare_component", ("for values in assignments:",
                                       "for values in itertools.islice(assignments, 1):")),),
        catchers=("bp4:1",)),
    Mutant("sides compared at one point (every symbol 0)", "narrowed", (edit(
        models, "_differs", ("return canonical(lv - rv) != 0", "difference = canonical(lv - rv)\n"
                             "    return difference.subs({s: 0 for s in difference.free_symbols}) != 0")),),
        catchers=("forward:2",)),
    Mutant("the index form's symbolic entry (j, k) replaced by (1, 1)", "narrowed", (edit(
        models.IndexModel, "judge", ("generic = (j, k if extents[1] != 1 else sp.Integer(1))",
                                     "generic = (sp.Integer(1), sp.Integer(1))")),),
        catchers=("bp2:4",)),
    Mutant("networks of uniform widths only", "narrowed", (edit(
        models, "architectures", ("for sizes in itertools.product(range(1, max_width + 1), repeat=depth)]",
                                  "for sizes in itertools.product(range(1, max_width + 1), repeat=depth)"
                                  " if len(set(sizes)) == 1]")),),
        catchers=("bp3:2",)),
    Mutant("networks of depth 2 only", "narrowed", (edit(
        models, "architectures", ("for depth in range(2, max_depth + 1)", "for depth in range(2, 3)")),),
        catchers=("bp3:2",)),
    Mutant("networks of width 1 only", "narrowed", (edit(
        models, "architectures", ("range(1, max_width + 1), repeat=depth", "range(1, 2), repeat=depth")),),
        catchers=("bp4:2",)),
    Mutant("concrete networks read at the output layer only", "narrowed", (edit(
        C, "cases", ("range(1, len(sizes) + 1) if uses_l else [len(sizes)]", "[len(sizes)]")),),
        catchers=("bp3:2",)),
    Mutant("concrete networks never read at l = 2", "narrowed", (edit(
        C, "cases", ("range(1, len(sizes) + 1) if uses_l", "range(3, len(sizes) + 1) if uses_l")),),
        catchers=("bp4:2",)),
    Mutant("mini-batches of one example", "narrowed", (edit(
        C, "cases", ("self.examples):", "(1,)):")),),
        catchers=("mini_batch:2",)),
    Mutant("the local step without its symbolic n_{l−1}", "skipped", (edit(
        LS, "judge", ("for n_prev, n_here, n_next in self.widths:",
                      "for n_prev, n_here, n_next in [x for x in self.widths if x[0] is not None]:")),),
        catchers=("bp3:2",)),
    Mutant("the local step at the output layer only", "skipped", (edit(
        LS, "judge", ("for n_prev, n_here, n_next in self.widths:",
                      "for n_prev, n_here, n_next in [x for x in self.widths if x[2] is None]:")),),
        catchers=("bp3:2",)),
    Mutant("the local step's symbolic column never compared", "narrowed", (edit(
        LS, "_judge_symbolic_columns", ("ranges = [[world.col] if not extent_.is_Integer",
                                        "ranges = [[] if not extent_.is_Integer")),),
        catchers=("bp4:2",)),
    Mutant("Prop. 2E at its first column only", "narrowed", (edit(
        models.FunctionsModel, "judge", ("for column in (range(1, sizes[1] + 1) if prop2e else [1])",
                                         "for column in [1]")),),
        catchers=("prop2e",)),
    Mutant("the propositions at their first size only", "narrowed", (edit(
        models.FunctionsModel, "judge", ("for sizes in self.sizes", "for sizes in self.sizes[:1]")),),
        catchers=("prop1",)),
    Mutant("the output layer alone at n_L = 1 only", "narrowed", (edit(
        models.OutputModel, "judge", ("for width in range(1, self.max_width + 1):",
                                      "for width in range(1, 2):")),),
        catchers=("cross_entropy",)),
    Mutant("a Taylor claim checked one order short", "narrowed", (edit(
        models.ScalarModel, "judge", ("power = sp.degree(order.expr, var)",
                                      "power = sp.degree(order.expr, var) - 1")),),
        catchers=("finite_differences",)),
    Mutant("a concrete level stops after its first case", "skipped", (edit(
        models, "first_failure", ("for world, case in cases:",
                                  "for world, case in itertools.islice(cases, 1):")),),
        catchers=("bp3:2",)),
    # a case or a level skipped
    Mutant("a step checked at its first level only", "skipped", (edit(
        core, "check_step", ("for m in step.models]", "for m in step.models[:1]]")),),
        catchers=("bp3:2",)),
    Mutant("one wrong variant checked per level", "skipped", (edit(
        core, "check_level", ("for wrong in step.wrongs]", "for wrong in step.wrongs[:1]]")),),
        catchers=("bp3:2",)),
    Mutant("a derivation's last step not checked", "skipped", (edit(
        core, "check", ("[check_step(s) for s in derivation.steps]",
                        "[check_step(s) for s in derivation.steps[:-1]]")),),
        catchers=("bp3",)),
    # a side compared with itself
    Mutant("a matrix entry's right side read from the left side", "itself", (edit(
        models, "_compare_matrix", ("interpret.entry(rhs, r, c, world)\n",
                                    "interpret.entry(lhs, r, c, world)\n")),),
        catchers=("bp2:4",)),
    Mutant("a component's right side read from the left side", "itself", (edit(
        models, "_compare_component", ("rv = interpret.component(rhs.xreplace(values), world)",
                                       "rv = interpret.component(lhs.xreplace(values), world)")),),
        catchers=("bp3:1",)),
    Mutant("a step's claim judged as its left side against itself", "itself", (edit(
        core, "check_level", ("result.verdict = model.judge(step.lhs, step.rhs)",
                              "result.verdict = model.judge(step.lhs, step.lhs)")),),
        catchers=()),
    Mutant("every verdict refutes", "itself", (edit(
        models.Verdict, "rejected", ("return self.counterexample is not None and not "
                                     "self.counterexample.inapplicable", "return True")),),
        catchers=("bp3:2",)),
    Mutant("a verdict holds whatever it found", "itself", (edit(
        models.Verdict, "holds", ("return self.cases > 0 and self.counterexample is None",
                                  "return self.cases > 0")),),
        catchers=("bp3:2",)),
    Mutant("shapes that do not fit read as 'not applicable'", "itself", (edit(
        models, "_compare_matrix", ('reason=f"the shapes do not fit: {why}", world=world',
                                    'reason=f"the shapes do not fit: {why}", world=world, '
                                    'inapplicable=True')),),
        catchers=("bp2:4",)),
    Mutant("an index out of range read as 'not applicable'", "itself", (edit(
        models, "compare_in", ('reason=f"the indices do not fit: {why}", world=world',
                               'reason=f"the indices do not fit: {why}", world=world, inapplicable=True')),),
        catchers=("bp4:1",)),
    # the conclusion assumed
    Mutant("the index form's δˡ is BP2, not the chain-rule sum", "assumed", (edit(
        IF, "_expanded", ('* sp.diff(self._z(layer + 1, t, True, x), self._q("z", layer, r, x)),',
                          '* comp("w", layer + 1, t, r) * sigma_prime(self._q("z", layer, r, x)),')),),
        catchers=("bp2:4",)),
    Mutant("the index form's δᴸ is BP1, not the chain-rule sum", "assumed", (edit(
        IF, "_expanded", ('return sp.Sum(outer * sp.diff(self._act(self._q("z", layer, t, x)), '
                          'self._q("z", layer, r, x)),',
                          'return sp.Sum(outer * sigma_prime(self._q("z", layer, t, x)) * '
                          'sp.KroneckerDelta(t, r),')),),
        catchers=("bp1:4",)),
    Mutant("concrete networks compute δ by the BP1/BP2 recursion, not as ∂C/∂z", "assumed", (edit(
        NV, "_compute", ('return _gradient_at(lambda zeta: self.above(lv, self.act(lv, zeta)), '
                         'self.matrix("z", lv), "zeta")',
                         'return (self.matrix("grad_a_C", lv) if lv == len(self.sizes) else '
                         'self.weights[lv + 1].T * self.matrix("delta", lv + 1)).multiply_elementwise('
                         'self.matrix("z", lv).applyfunc(lambda e: canonical(sp.Subs('
                         'sp.diff(self.activation(_T), _T), _T, e))))')),),
        catchers=("bp2:4",)),
    Mutant("the index form's ∂C/∂bˡ is δˡ, not the chain-rule sum", "assumed", (edit(
        IF, "_expanded", ('        if name in ("dC_db", "dC_dw"):',
                          '        if name == "dC_db":\n            return comp("delta", layer, r)\n'
                          '        if name in ("dC_db", "dC_dw"):')),),
        catchers=("bp3:2",)),
    Mutant("the local step's δ is BP1 (∂C/∂a ⊙ σ′), not ∂C/∂z", "assumed", (edit(
        LL, "entry", ('delta = _gradient_at(lambda zeta: C_of_a(self._activate(zeta)), z, "zeta")',
                      'delta = _gradient_at(C_of_a, v["a"], "A").multiply_elementwise('
                      'z.applyfunc(sigma_prime))')),),
        catchers=("bp1:4",)),
    Mutant("the premise-broken network is the book's network", "assumed", (
        edit(NV, "act", ("z.applyfunc(tau if self.broken else self.activation)",
                         "z.applyfunc(self.activation)")),
        edit(NV, "pre", ("if self.broken:", "if False:"))),
        catchers=("bp2:4",)),
    # a branch no step uses would hide these sign flips: every branch of the worlds is used
    # (tests/derivations/test_catalog.py traces derive --check), so each is caught by the step that uses it
    Mutant("the index form's mini-batch cost is Σₓ Cₓ, not (1/m)Σₓ Cₓ", "branch", (edit(
        IF, "_expanded", ("(t, 1, self.width(layer))), (e, 1, batch_size)) / batch_size",
                          "(t, 1, self.width(layer))), (e, 1, batch_size))")),),
        catchers=("matrix_based:4",)),
    Mutant("the local step's modified neuron outputs σ(zˡ₁), not f(zˡ₁)", "branch", (edit(
        LL, "_activate", ('a[0, 0] = sp.Function("f")(z[0, 0])', "a[0, 0] = self._act(z[0, 0])")),),
        catchers=("modified_neuron:1",)),
    Mutant("Prop. 2 at every size: d_u f as its conclusion, not Prop. 1's sum", "assumed", (edit(
        FI, "entry", ('return sp.Sum(sp.diff(self._x(t)[0], self._x(r)[1]) * comp("d_x_f", 0, t), '
                      '(t, 1, self.size))',
                      'return sp.diff(*self._x(r)) * comp("d_x_f", 0, r)')),),
        catchers=("prop2:1",)),
    Mutant("Prop. 2E at every size: d_c f as its conclusion, not Prop. 1's sum", "assumed", (edit(
        FI, "entry", ('return sp.Sum(sp.diff(self._x(t)[0], self._x(r)[1]) * comp("d_x_f", 0, t), '
                      '(t, 1, self.size))',
                      'return sp.diff(*self._x(r)) * comp("d_x_f", 0, r)')),),
        catchers=("prop2e:1",)),
    Mutant("the premise-broken propositions keep the premise", "assumed", (edit(
        FI, "_x", ("return X(t, u[t], u[t + 1]), u[t]", "return X(t, u[t]), u[t]")),),
        catchers=("prop2:1",)),
    Mutant("sign flip: the index form's quadratic cost", "branch", (edit(
        IF, "_expanded", ('C = sp.Sum((comp("a", L, t) - comp("y", L, t)) ** 2 / 2,',
                          'C = sp.Sum((comp("a", L, t) + comp("y", L, t)) ** 2 / 2,')),),
        catchers=("bp1_quadratic:1",)),
    Mutant("sign flip: the local step's quadratic cost", "branch", (edit(
        LL, "_values", ("sum((vi - yi) ** 2 for vi, yi", "sum((vi + yi) ** 2 for vi, yi")),),
        catchers=("bp1_quadratic:1",)),
    Mutant("sign flip: a concrete network's quadratic cost", "branch", (edit(
        NV, "cost", ("sum((ai - yi) ** 2 for ai, yi", "sum((ai + yi) ** 2 for ai, yi")),),
        catchers=("facts1-5:1",)),
    Mutant("Σ′(z) read without its zeros off the diagonal", "branch", (edit(
        interpret, "entry", ("return sp.KroneckerDelta(r, c) * entry(template.arg, r, 1, world) if not (",
                             "return entry(template.arg, r, 1, world) if not (")),),
        catchers=("sigma_prime_form:2",)),
    Mutant("sign flip: the outer product u ⊗ v", "branch", (edit(
        interpret, "entry", ("return entry(template.args[0], r, 1, world) * entry(",
                             "return -entry(template.args[0], r, 1, world) * entry(")),),
        catchers=("facts2-5:4",)),
    Mutant("sign flip: the note's σ′ = σ(1 − σ)", "branch", (edit(
        W, "_sigmoid_rule", ("sigma(t) * (1 - sigma(t))", "sigma(t) * (1 + sigma(t))")),),
        catchers=("backpropagate",)),
    Mutant("sign flip: σ′ = 1 of linear neurons", "branch", (edit(
        IF, "function", ("return lambda e: sp.S.One", "return lambda e: sp.S.NegativeOne")),),
        catchers=("linear_neurons:1",)),
    Mutant("the 1 of a mini-batch's ones read as 2", "branch", (edit(
        worlds.ConcreteNet, "_batch_entry", ("sp.ones(self.examples, 1)", "2 * sp.ones(self.examples, 1)")),),
        catchers=("matrix_based:1",)),
    # a displayed statement apart from its check
    Mutant("the statement printed from another step", "displayed", (edit(
        core.Derivation, "statement", ("return self.statement_step.formula()",
                                       "return self.steps[0].formula()")),),
        catchers=("bp2:4",)),
    Mutant("the statement's right side read from another step", "displayed", (edit(
        core.Derivation, "rhs", ("return self.statement_step.rhs", "return self.steps[0].rhs")),),
        catchers=("bp2:4",)),
    # tautologies, weak guards, deleted steps
    Mutant("a tautological step δᴸ = δᴸ", "tautology",
           data=lambda ds: _replace(ds, "bp1", _tautology), catchers=("bp1:5",)),
    Mutant("BP2's right side containing δˡ itself", "tautology",
           data=lambda ds: _replace(ds, "bp2", _contains_its_left_side), catchers=("bp2:4",)),
    Mutant("BP3's statement guarded by one wrong variant", "tautology",
           data=lambda ds: _replace(ds, "bp3", _one_guard), catchers=("bp3:2",)),
    Mutant("the mini-batch bias rule deleted", "deleted",
           data=lambda ds: _replace(ds, "mini_batch", _bias_rule_deleted), catchers=()),
    Mutant("BP3's index-form level removed", "deleted",
           data=lambda ds: _replace(ds, "bp3", _index_level_removed), catchers=()),
    Mutant("BP1's proof reduced to its statement", "deleted",
           data=lambda ds: _replace(ds, "bp1", _statement_only), catchers=()),
    Mutant("the fully matrix-based derivation deleted", "deleted",
           data=lambda ds: tuple(d for d in ds if d.name != "matrix_based"), catchers=()),
)


def _caught(mutant: Mutant, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What derive --check reports under the mutant: the catchers' failures first, and only if
    they report nothing, the audit of the list and the canaries."""
    _clear_caches()
    try:
        for e in mutant.edits:
            _apply(e, monkeypatch)
        derivations = catalog.DERIVATIONS if mutant.data is None else mutant.data(catalog.DERIVATIONS)
        found: list[str] = []
        for catcher in mutant.catchers:
            name, _, number = catcher.partition(":")
            d = next(x for x in derivations if x.name == name)
            if number:
                s = core.check_step(d.steps[int(number) - 1])
                found += s.failures() + core.derivation_problems(d) + ([] if s.passed else ["✗"])
            else:
                r = core.check(d)
                found += r.failures() + ([] if r.passed else ["✗"])
        if not found:
            found = catalog.audit(derivations) + catalog.canaries(derivations)
        return found
    finally:
        monkeypatch.undo()
        _clear_caches()


def test_the_catalogue_covers_every_kind_of_weakening() -> None:
    kinds = {m.kind for m in MUTANTS}
    assert kinds == {"narrowed", "skipped", "itself", "assumed", "branch", "displayed", "tautology",
                     "deleted"}
    assert len(MUTANTS) >= 30
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_weakening_is_caught(mutant: Mutant, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _caught(mutant, monkeypatch)
    assert found, f"the weakening «{mutant.name}» passed derive --check unnoticed"


def test_the_list_is_clean_without_a_mutant() -> None:
    """The audit and the canaries pass on the derivations as they are (that every step passes is
    tests/derivations/test_catalog.py's full check): what a mutant makes them report is the mutant's."""
    assert catalog.audit() == [] and catalog.canaries() == []
