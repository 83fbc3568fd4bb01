"""Every derivation, found by its seed: ``note`` (the derivation note: Props. 1, 2, 2E, Facts 1–6),
``bp`` (the book's §2.2–2.4: forward equations, BP1–BP4, Σ′), ``exercises`` (§2.5–2.7 and one step
beyond). This module only lists them."""

from __future__ import annotations

from bpverify.derivations import bp, exercises, note
from bpverify.derivations.core import Derivation

DERIVATIONS: tuple[Derivation, ...] = note.DERIVATIONS + bp.DERIVATIONS + exercises.DERIVATIONS
SECTIONS: dict[str, tuple[Derivation, ...]] = {
    "note": note.DERIVATIONS, "bp": bp.DERIVATIONS, "exercises": exercises.DERIVATIONS}
"""The seed sections, one module (and one notebook) each."""

DEFAULT_BOUND = bp.DEFAULT_BOUND


def by_name(name: str) -> Derivation:
    for d in DERIVATIONS:
        if d.name == name:
            return d
    raise ValueError(f"derivation is {name!r}, expected one of {[d.name for d in DERIVATIONS]}")


def with_concrete_bound(depth: int, width: int) -> tuple[Derivation, ...]:
    """All derivations with every concrete step on the networks with L ≤ depth, widths ≤ width."""
    if depth < 2 or width < 1:
        raise ValueError(f"bound is depth {depth}, width {width}; expected depth ≥ 2, width ≥ 1")
    return tuple(d.with_bound((depth, width)) for d in DERIVATIONS)
