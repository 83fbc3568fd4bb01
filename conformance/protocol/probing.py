"""Finding, by trying them, the conventions under which an implementation's answer is right.

When a book-style class fails ``shapes`` (or crashes on the book's columns), the suite tries
its backprop(x, y) under every combination of declared conventions on one small network and
names the declarations under which the gradient matches the reference: "declare layout='rows',
weights='in_out'". Nothing is declared for the user; the hint says what would fit.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any, Protocol, cast

import numpy as np

from bpverify.conformance.protocol.calls import ImplementationFault, as_gradient, call_with_limit
from bpverify.conformance.protocol.conventions import Conventions
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
         "reduction": ("sum", "mean_all"), "quadratic": ("half", "full")}
"""One example per call: a mean over the batch is a sum there, so "mean" is told by mini-batch."""


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
        key=lambda c: sum(getattr(c, k) != getattr(declared, k) for k in TRIED))
    found = next((c for c in candidates if _agrees(adapter, c, case, reference,
                                                   allowed.nabla_b, allowed.nabla_w, seconds)),
                 None)
    return None if found == declared else found  # right as declared: the trouble is elsewhere


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


def declaration(found: Conventions, declared: Conventions) -> str:
    """``declare layout='rows', weights='in_out'``: what differs from the declared conventions."""
    changes = [f"{k}={getattr(found, k)!r}" for k in TRIED if getattr(found, k) != getattr(
        declared, k)]
    return ("with " + ", ".join(changes) + " the gradient is right: declare it in "
            "bpverify_capabilities = {" + ", ".join(f"'{c.split('=')[0]}': {c.split('=')[1]}"
                                                    for c in changes) + "}")
