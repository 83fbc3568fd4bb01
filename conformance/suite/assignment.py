"""The teacher's assignment: what a class must implement, whatever a submission declares.

A submission's ``bpverify_capabilities`` may say *how* it is written (its layout, orientation,
bias shape, gradient order, the names of its methods); it cannot narrow *what* is checked.
The assignment states that (``docs/assignment.example.toml``):

* the methods the class must have (the book's names: ``backprop``, ``feedforward``,
  ``update_mini_batch``, ``backprop_matrix``, ``SGD``);
* σ per layer and the cost C (or ``"any"``: what the submission declares, among the suite's);
* the depth (``"any"``: every depth of the battery, L = 2 … 9; or one L);
* the dtypes a submission may compute in, and the conventions the class was told to use
  (by default the book's cost and its sum, ``reduction = "sum"``, ``quadratic = "half"``,
  because they change the values of ∇C and of the step, not only their layout);
* the checks that must pass (by default every check that applies to those networks) and
  their weights (points, for Gradescope's scores).

Under an assignment the checks run with the assignment's σ, C and depth (``Assigned``); a
check the assignment requires that the submission skips (it declared the method away, or
fixed a depth where the check has no network) **fails**, its detail beginning "required by
the assignment"; and a declaration that contradicts the assignment fails the extra check
``assignment``. ``BOOK`` is the default of ``bpverify grade``: the book's network.py.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from bpverify.conformance.protocol.adapters import (
    DTYPES,
    Capabilities,
    Implementation,
    Session,
    activation_name,
)
from bpverify.conformance.protocol.conventions import CHOICES, Conventions
from bpverify.conformance.suite.checks import Check, Context, all_checks
from bpverify.oracles.cases import fixed_depth, layer_names
from bpverify.reference.costs import BUILTIN_COSTS

VERSION = 1
"""The assignment file's format (its ``version`` key)."""

METHOD_CAPABILITIES = {"backprop": None, "feedforward": "feedforward",
                       "update_mini_batch": "update", "backprop_matrix": "mini_batch",
                       "SGD": "sgd"}
"""The book's methods an assignment can require, and the capability each gives."""

ANY = "any"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
"""Gradescope's visibility of a test (and of the results as a whole)."""


def _never(ctx: Context, spec: Any) -> None:
    raise AssertionError("the assignment check is judged from the declaration, not run")


ASSIGNMENT_CHECK = Check("assignment", "assignment",
                         "what the assignment requires: σ, C, depth, dtype, conventions", _never,
                         after=())
"""The check that a submission's declaration does not contradict the assignment."""


@dataclass(frozen=True)
class Assignment:
    """What a class must implement (see the module's docstring); the fields as the file says."""

    title: str = "the book's network.py"
    spec: str = "network:Network"
    methods: tuple[str, ...] = ("backprop", "feedforward", "update_mini_batch")
    activation: str = ANY
    cost: str = ANY
    depth: int | None = None
    dtypes: tuple[str, ...] = DTYPES
    conventions: tuple[tuple[str, str], ...] = (("quadratic", "half"), ("reduction", "sum"))
    checks: tuple[str, ...] | None = None
    weights: tuple[tuple[str, float], ...] = ()
    visibility: str = "visible"
    name: str = "book"
    """How a rerun line names it: ``book`` (built in) or the file's name."""

    # -- what is checked ------------------------------------------------------------------

    def activation_for(self, declared: str) -> str:
        """σ the checks use: the assignment's, else the declared one, at the assignment's depth
        (a declaration that fixes another depth is not followed: the depth is the teacher's)."""
        base = declared if self.activation == ANY else self.activation
        if self.depth is None:
            return free_depth(base) if self.activation == ANY else base
        return at_depth(base, self.depth)

    def cost_for(self, declared: str) -> str:
        return declared if self.cost == ANY else self.cost

    def capabilities_for(self, caps: Capabilities) -> Capabilities:
        """The capabilities the checks run with: the submission's, σ and C the assignment's."""
        return replace(caps, activations=(self.activation_for(caps.native[0]),),
                       costs=(self.cost_for(caps.native[1]),))

    def asked(self, caps: Capabilities) -> Capabilities:
        """``caps`` with every method the assignment requires present: what a submission that
        did as asked would have, to tell which checks the assignment requires."""
        asked = set(self.methods)
        return replace(caps, feedforward=caps.feedforward or "feedforward" in asked,
                       update=caps.update or "update_mini_batch" in asked,
                       mini_batch=caps.mini_batch or "backprop_matrix" in asked,
                       sgd=caps.sgd or "SGD" in asked)

    def requires(self, check: Check, caps: Capabilities, applies: bool) -> bool:
        """Does the assignment require ``check`` of a submission with (effective) ``caps``?
        ``applies``: the check has networks with the σ and C the checks use."""
        if self.checks is not None:
            return check.id in self.checks
        if check.id.startswith(("activation-", "cost-")):
            return False  # one σ and one C: the variants only when listed in checks
        return applies and check.requires(self.asked(caps)) is None

    def violations(self, caps: Capabilities, conventions: Conventions) -> list[str]:
        """How a submission's declaration contradicts the assignment (empty: it does not)."""
        found = []
        sigma, cost = caps.native
        declared_depth = fixed_depth(sigma)
        if self.activation != ANY and sigma != "sigmoid" and not same_activation(
                sigma, self.activation):
            found.append(f"it declares σ = {shown_activation(sigma)}; the assignment asks for "
                         f"σ = {shown_activation(self.activation)}")
        if self.cost != ANY and cost not in ("quadratic", self.cost):
            found.append(f"its cost is {cost}; the assignment asks for C = {self.cost}")
        if declared_depth is not None and self.depth != declared_depth:
            wanted = "every depth (L = 2 … 9 in the battery)" if self.depth is None else (
                f"L = {self.depth}")
            found.append(f"its declaration fixes the depth at L = {declared_depth} (σ per layer "
                         f"{shown_activation(sigma)}); the assignment asks for {wanted}")
        if caps.dtype not in self.dtypes:
            found.append(f"it computes in {caps.dtype}; the assignment allows "
                         f"{' or '.join(self.dtypes)}")
        for key, value in self.conventions:
            theirs = getattr(conventions, key)
            if theirs != value:
                found.append(f"it declares {key}={theirs!r}; the class was told {key}={value!r}")
        return found

    # -- points ---------------------------------------------------------------------------

    def weight(self, check_id: str) -> float:
        return dict(self.weights).get(check_id, 1.0)

    # -- identity -------------------------------------------------------------------------

    def judging(self) -> dict[str, Any]:
        """What the verdicts depend on (not the title, weights or visibility)."""
        return {"version": VERSION, "methods": list(self.methods),
                "activation": self.activation, "cost": self.cost, "depth": self.depth,
                "dtypes": list(self.dtypes), "conventions": dict(self.conventions),
                "checks": None if self.checks is None else list(self.checks)}

    def digest(self) -> str:
        """sha256 of ``judging``: the same for two assignments that judge alike."""
        text = json.dumps(self.judging(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> str:
        return f"{self.title} ({self.name}, {self.digest()[:12]})"

    def to_data(self) -> dict[str, Any]:
        """Plain data (a template job carries it); ``from_data`` reads it back."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Assignment:
        values = dict(data)
        for key in ("methods", "dtypes", "checks"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        for key in ("conventions", "weights"):
            values[key] = tuple((str(k), v) for k, v in values.get(key, ()))
        return cls(**values)

    def to_toml(self) -> str:
        """The assignment as a file ``load`` reads back (what the teacher hands out)."""
        def value(v: Any) -> str:
            return json.dumps(v, ensure_ascii=False)
        lines = [f"version = {VERSION}", "", "[assignment]", f"title = {value(self.title)}",
                 f"spec = {value(self.spec)}", "", "[requires]",
                 f"methods = {value(list(self.methods))}",
                 f"activation = {value(self.activation)}", f"cost = {value(self.cost)}",
                 f"depth = {value(ANY if self.depth is None else self.depth)}",
                 f"dtype = {value(list(self.dtypes))}",
                 f"checks = {value(ANY if self.checks is None else list(self.checks))}", "",
                 "[conventions]"]
        lines += [f"{key} = {value(v)}" for key, v in self.conventions]
        lines += ["", "[weights]"] + [f"{json.dumps(k)} = {w:g}" for k, w in self.weights]
        lines += ["", "[gradescope]", f"visibility = {value(self.visibility)}", ""]
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


BOOK = Assignment()
"""The default of ``bpverify grade``: the book's network.py — ``backprop``, ``feedforward`` and
``update_mini_batch`` at every depth, with the book's summed cost (½Σ(a − y)² when quadratic);
σ and C as the submission declares them among the suite's, float64 or float32; every check that
applies."""

BUILT_IN = {"book": BOOK}


def free_depth(activation: str) -> str:
    """σ named per layer (``tanh,relu,sigmoid``) made depth-free: its first layer's σ for the
    hidden layers, its last one's for the output (``tanh/sigmoid``)."""
    if fixed_depth(activation) is None:
        return activation
    names = activation.rstrip(",").split(",")
    return names[0] if len(names) == 1 or names[0] == names[-1] else f"{names[0]}/{names[-1]}"


def at_depth(activation: str, depth: int) -> str:
    """σ at exactly ``depth`` layers, named per layer (``sigmoid,sigmoid,`` … as the battery
    writes a fixed depth; ``sigmoid,`` for L = 2)."""
    names = layer_names(activation, depth) if fixed_depth(activation) in (None, depth) else None
    if names is None:
        raise ValueError(f"activation {activation!r} fixes another depth than {depth}")
    return ",".join(names) + ("," if depth == 2 else "")


def same_activation(a: str, b: str) -> bool:
    """σ named two ways that are the same per layer (``sigmoid`` and ``sigmoid/sigmoid``)."""
    depth = fixed_depth(a) or fixed_depth(b) or 4
    try:
        return layer_names(a, depth) == layer_names(b, depth)
    except ValueError:  # a fixed depth of the other one
        return False


def shown_activation(activation: str) -> str:
    if fixed_depth(activation) is None:
        return activation
    return str(activation.rstrip(",").split(","))


# -- under an assignment -------------------------------------------------------------------------

class Assigned(Implementation):
    """An implementation as the assignment checks it: its own code and conventions, the
    assignment's σ and C (``Assignment.capabilities_for``); every call forwarded."""

    def __init__(self, inner: Implementation, capabilities: Capabilities) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = capabilities
        self.conventions = inner.conventions

    def gradient(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.gradient(*args, **kwargs)

    def gradient_batch(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.gradient_batch(*args, **kwargs)

    def deltas(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.deltas(*args, **kwargs)

    def feedforward(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.feedforward(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.update(*args, **kwargs)

    def step_scale(self, m: int, n_out: int) -> float:
        return self.inner.step_scale(m, n_out)

    def call_name(self, book_call: str) -> str:
        return self.inner.call_name(book_call)

    def declarations_that_fit(self, seconds: float) -> str | None:
        return self.inner.declarations_that_fit(seconds)

    def session(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Session:
        return self.inner.session(weights, biases)


# -- reading an assignment file ------------------------------------------------------------------

SECTIONS = {"version": None, "assignment": ("title", "spec"),
            "requires": ("methods", "activation", "cost", "depth", "dtype", "checks"),
            "conventions": tuple(CHOICES), "weights": None, "gradescope": ("visibility",)}


def load(source: str | Path) -> Assignment:
    """An assignment from a TOML file, or a built-in one by name (``book``); ValueError naming
    the file, the key, what it expected and what it found."""
    if str(source) in BUILT_IN:
        return BUILT_IN[str(source)]
    path = Path(source)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"assignment {source}: cannot read it ({error.strerror}); expected a "
                         f"TOML file or one of {sorted(BUILT_IN)}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"assignment {source}: not valid TOML: {error}") from None
    return parse(data, path.name, str(source))


def parse(data: Mapping[str, Any], name: str, where: str = "the assignment") -> Assignment:
    """An assignment from the tables of its file (see ``docs/assignment.example.toml``)."""
    def bad(key: str, expected: str, got: Any) -> ValueError:
        return ValueError(f"assignment {where}: {key} is {got!r}, expected {expected}")

    for section, value in data.items():
        if section not in SECTIONS:
            raise bad("a top-level key", f"one of {sorted(SECTIONS)}", section)
        allowed = SECTIONS[section]
        if allowed is not None:
            if not isinstance(value, Mapping):
                raise bad(f"[{section}]", "a table", value)
            unknown = sorted(set(value) - set(allowed))
            if unknown:
                raise bad(f"[{section}] key {unknown[0]!r}", f"one of {list(allowed)}", unknown[0])
    if data.get("version", VERSION) != VERSION:
        raise bad("version", str(VERSION), data.get("version"))
    head, needs = data.get("assignment", {}), data.get("requires", {})
    values: dict[str, Any] = {"name": name}
    for key in ("title", "spec"):
        if key in head:
            if not isinstance(head[key], str) or not head[key]:
                raise bad(f"[assignment] {key}", "a non-empty string", head[key])
            values[key] = head[key]
    if ":" not in values.get("spec", BOOK.spec):
        raise bad("[assignment] spec", "module:attribute, e.g. 'network:Network'", values["spec"])
    if "methods" in needs:
        methods = needs["methods"]
        if not isinstance(methods, list) or not set(methods) <= set(METHOD_CAPABILITIES):
            raise bad("[requires] methods", f"a list of the book's methods among "
                      f"{list(METHOD_CAPABILITIES)}", methods)
        values["methods"] = tuple(dict.fromkeys(["backprop", *methods]))
    if needs.get("activation", ANY) != ANY:
        try:
            values["activation"] = activation_name(needs["activation"], "the assignment")
        except ValueError as error:
            raise ValueError(f"assignment {where}: [requires] {error}") from None
    if needs.get("cost", ANY) != ANY:
        if needs["cost"] not in BUILTIN_COSTS:
            raise bad("[requires] cost", f"one of {sorted(BUILTIN_COSTS)} or 'any'", needs["cost"])
        values["cost"] = needs["cost"]
    depth = needs.get("depth", ANY)
    if depth != ANY:
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 2:
            raise bad("[requires] depth", "'any' or a number of layers L ≥ 2 (input included)",
                      depth)
        values["depth"] = depth
    fixed = fixed_depth(values.get("activation", ANY))
    if fixed is not None:
        if values.get("depth", fixed) != fixed:
            raise bad("[requires] depth", f"{fixed} (σ is named for {fixed - 1} layers)", depth)
        values["depth"] = fixed
    if "dtype" in needs:
        dtypes = needs["dtype"] if isinstance(needs["dtype"], list) else [needs["dtype"]]
        if not dtypes or not set(dtypes) <= set(DTYPES):
            raise bad("[requires] dtype", f"some of {list(DTYPES)}", needs["dtype"])
        values["dtypes"] = tuple(dtypes)
    if needs.get("checks", ANY) != ANY:
        known = [c.id for c in all_checks()]
        checks = needs["checks"]
        if not isinstance(checks, list) or not set(checks) <= set(known):
            raise bad("[requires] checks", f"'any' or a list of check ids among {known}", checks)
        values["checks"] = tuple(checks)
    if "conventions" in data:
        told = dict(BOOK.conventions)
        for key, value in data["conventions"].items():
            if value == ANY:
                told.pop(key, None)
            elif value not in CHOICES[key]:
                raise bad(f"[conventions] {key}", f"one of {list(CHOICES[key])} or 'any'", value)
            else:
                told[key] = value
        values["conventions"] = tuple(sorted(told.items()))
    weights = data.get("weights", {})
    known = [ASSIGNMENT_CHECK.id, *(c.id for c in all_checks())]
    for key, weight in weights.items():
        if key not in known:
            raise bad("[weights] key", f"a check id among {known}", key)
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            raise bad(f"[weights] {key}", "a number of points ≥ 0", weight)
    values["weights"] = tuple((k, float(w)) for k, w in weights.items())
    visibility = data.get("gradescope", {}).get("visibility", BOOK.visibility)
    if visibility not in VISIBILITIES:
        raise bad("[gradescope] visibility", f"one of {list(VISIBILITIES)}", visibility)
    values["visibility"] = visibility
    return Assignment(**values)
