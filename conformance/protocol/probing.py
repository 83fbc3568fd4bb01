"""Finding, by trying them, the conventions under which an implementation's answer is right,
and saying what a constant factor means, always as the full declaration to write.

When a book-style class fails ``shapes`` (or crashes on the book's columns), the suite tries
its backprop(x, y) under every combination of conventions on one small network, starting from
what it declares (fewest changes first), then on a batch of three, where a mean over the batch
and a sum differ, and names the declaration under which the gradient matches the reference. A
gradient off by a constant factor is explained by the cost in use and the declared conventions
(``explain_factor``): a factor of m on a cross-entropy cost is never "the ½ of the quadratic".
Every hint gives the whole ``bpverify_capabilities`` to write (``full_declaration``), the
declared keys kept, so that following it literally is enough and two hints never contradict
each other. Nothing is declared for the user; the hint says what would fit.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any, Protocol, cast

import numpy as np

from bpverify.conformance.protocol.calls import ImplementationFault, as_gradient, call_with_limit
from bpverify.conformance.protocol.conventions import CHOICES, Conventions
from bpverify.oracles.cases import Case, layer_functions, named_cost, random_case
from bpverify.oracles.rounding import allowance
from bpverify.reference.backpropagation import backprop_matrix


class Probed(Protocol):
    """What probing needs of an adapter (``adapters.BookClassAdapter`` has it)."""

    conventions: Conventions
    capabilities: Any
    probe_sizes: list[int]

    def with_conventions(self, conventions: Conventions) -> Any: ...


TRIED = {"layout": ("columns", "rows"), "weights": ("out_in", "in_out"),
         "biases": ("column", "flat", "row"), "gradient_order": ("bw", "wb"),
         "reduction": ("sum", "mean", "mean_all"), "quadratic": ("half", "full")}
"""Every convention of a gradient. On one example a mean over the batch is a sum (the declared
one is kept: fewest changes); a batch of three tells them apart (``_on_a_batch``)."""

BATCH = 3


def fitting_conventions(adapter: Probed, seconds: float,
                        case: Case | None = None) -> Conventions | None:
    """The first conventions (fewest changes from the declared ones) under which backprop(x, y)
    agrees with the reference on a small network; None if none does."""
    case = case or random_case(0, adapter.probe_sizes, activations=_activations(adapter),
                               cost=named_cost(adapter.capabilities.costs[0]))
    reference = backprop_matrix(case.weights, case.biases, case.x, case.y, case.activations,
                                case.cost)
    allowed = allowance(case, "float64")
    declared = adapter.conventions
    candidates = sorted(
        (replace(declared, **cast(dict[str, Any], dict(zip(TRIED, values, strict=True))))
         for values in itertools.product(*TRIED.values())),
        key=lambda c: _changes(c, declared))
    found = next((c for c in candidates if _agrees(adapter, c, case, reference,
                                                   allowed.nabla_b, allowed.nabla_w, seconds)),
                 None)
    if found is not None:
        found = _on_a_batch(adapter, found, seconds)
    return None if found == declared else found  # right as declared: the trouble is elsewhere


def _changes(conventions: Conventions, declared: Conventions) -> int:
    return sum(getattr(conventions, k) != getattr(declared, k) for k in TRIED)


def _on_a_batch(adapter: Probed, found: Conventions, seconds: float) -> Conventions:
    """``found`` with the reduction under which backprop of a batch of BATCH examples is right
    (the one found first, then the others); ``found`` as it is where backprop takes one example
    at a time (the book's)."""
    sizes = adapter.probe_sizes
    case = random_case(1, sizes, batch_size=BATCH, activations=_activations(adapter),
                       cost=named_cost(adapter.capabilities.costs[0]))
    reference = backprop_matrix(case.weights, case.biases, case.x, case.y, case.activations,
                                case.cost)
    allowed = allowance(case, "float64")
    for reduction in sorted(CHOICES["reduction"], key=lambda r: r != found.reduction):
        trial = replace(found, reduction=reduction)
        if _agrees(adapter, trial, case, reference, allowed.nabla_b, allowed.nabla_w, seconds):
            return trial
    return found


def _activations(adapter: Probed) -> Any:
    return layer_functions(adapter.capabilities.activations[0], len(adapter.probe_sizes))


def _agrees(adapter: Probed, conventions: Conventions, case: Case, reference: Any,
            allowed_b: list[np.ndarray], allowed_w: list[np.ndarray], seconds: float) -> bool:
    trial = adapter.with_conventions(conventions)
    try:
        value = call_with_limit("probe", trial.gradient, [w.copy() for w in case.weights],
                                [b.copy() for b in case.biases], case.x.copy(), case.y.copy(),
                                seconds=seconds)
        nabla_b, nabla_w = as_gradient(value, "probe", [w.shape for w in case.weights])
    except (ImplementationFault, ValueError, TypeError):
        return False
    pairs = zip([*nabla_b, *nabla_w], [*reference.nabla_b, *reference.nabla_w],
                [*allowed_b, *allowed_w], strict=True)
    return all(g.shape == e.shape and bool(np.all(np.abs(g - e) <= t)) for g, e, t in pairs)


def declaration(found: Conventions, declared: Conventions, capabilities: Any) -> str:
    """``with layout='rows', weights='in_out' the gradient is right: declare
    bpverify_capabilities = {…}``, the whole declaration (``full_declaration``)."""
    return ("with " + _listed(found, declared) + " the gradient is right: declare "
            + full_declaration(found, capabilities))


def _listed(found: Conventions, declared: Conventions) -> str:
    return ", ".join(f"{k}={getattr(found, k)!r}" for k in CHOICES
                     if getattr(found, k) != getattr(declared, k))


def full_declaration(conventions: Conventions, capabilities: Any) -> str:
    """The whole ``bpverify_capabilities = {…}`` of an implementation with these conventions and
    its declared capabilities (dtype, σ, C): what it declares already, and what it should."""
    items: dict[str, Any] = {}
    if capabilities.dtype != "float64":
        items["dtype"] = capabilities.dtype
    activation = capabilities.activations[0]
    if activation != "sigmoid":
        items["activation"] = (activation.rstrip(",").split(",") if "," in activation
                               else activation)
    if capabilities.costs[0] != "quadratic":
        items["cost"] = capabilities.costs[0]
    default = Conventions()
    items.update({k: getattr(conventions, k) for k in CHOICES
                  if getattr(conventions, k) != getattr(default, k)})
    if conventions.methods:
        items["methods"] = dict(conventions.methods)
    return "bpverify_capabilities = {" + ", ".join(f"{k!r}: {v!r}" for k, v in items.items()) + "}"


REDUCTION_WORDS = {"sum": "summed over the batch", "mean": "averaged over the batch (÷ m)",
                   "mean_all": "averaged over every entry of the output (÷ m·n_L)"}


def explain_factor(r: float, m: int, n_out: int, cost: str, declared: Conventions,
                   capabilities: Any, quantity: str = "") -> str | None:
    """What a gradient that is r times the expected one (on a batch of m, n_L = ``n_out``)
    means, told by the cost in use and the declared conventions: the conventions (reduction;
    for the quadratic cost the ½) under which it would be right, as the full declaration; or,
    for one of ∂C/∂b and ∂C/∂w alone (``quantity``), which division is missing or extra there;
    None when no convention explains it."""
    if r == 0.0:
        return "every entry is 0: this gradient is never computed (left at its initial zeros)"
    if abs(r + 1.0) <= 1e-9:
        return "every entry is −1 × expected: the sign flipped"
    actual = r * declared.gradient_scale(m, n_out)
    halves = CHOICES["quadratic"] if cost == "quadratic" else (declared.quadratic,)
    fits = sorted((replace(declared, reduction=red, quadratic=half)
                   for red in CHOICES["reduction"] for half in halves
                   if abs(replace(declared, reduction=red, quadratic=half).gradient_scale(
                       m, n_out) - actual) <= 1e-9 * actual),
                  key=lambda c: _changes(c, declared))
    if not fits or fits[0] == declared:
        return None
    found = fits[0]
    where = f" (m = {m}, n_L = {n_out}, C = {cost})"
    parts = []
    if found.reduction != declared.reduction:
        parts.append(f"{REDUCTION_WORDS[found.reduction]}, where the declaration says "
                     f"{REDUCTION_WORDS[declared.reduction].split(' (')[0]}")
    if found.quadratic != declared.quadratic:
        parts.append("the ½ of the quadratic cost left out: Σ(a − y)², ∇ = 2(a − y)"
                     if found.quadratic == "full" else "½Σ(a − y)², where the declaration says "
                     "Σ(a − y)²")
    meaning = f"every entry is exactly {r:.6g} × expected{where}: " + "; ".join(parts)
    if quantity:  # one of ∂C/∂b and ∂C/∂w: a bug, not a convention to declare
        if found.reduction == "mean" and declared.reduction == "sum":
            return (f"only {quantity} averaged over the mini-batch (divided by m = {m}); the "
                    f"other is summed{where}")
        if found.reduction == "sum" and declared.reduction == "mean":
            return (f"only {quantity} summed over the mini-batch: the /m (/batch) of the "
                    f"declared mean is missing in {quantity}{where}")
        return f"only {quantity}: {meaning}, the other as declared"
    if found.quadratic == "full" and found.reduction == declared.reduction == "sum":
        return meaning + (f" (if your loss is Σ(a − y)² on purpose, declare quadratic='full': "
                          f"{full_declaration(found, capabilities)})")
    return (meaning + f"? declare {_listed(found, declared)}: "
            + full_declaration(found, capabilities))
