"""Specimens as the source files a class hands in: the book's network.py, a zoo mutant as a
network.py, and a generated class of them (for grading tests and ``bpverify grade --bench``)."""

from __future__ import annotations

import inspect
from pathlib import Path


def book_source(extra: str = "") -> str:
    """A self-contained network.py: the book's network (``book_network.py``) as ``Network``."""
    from bpverify.conformance.specimens import book_network
    return inspect.getsource(book_network) + "\n\nNetwork = BookNetwork\n" + extra


def mutant_source(name: str) -> str:
    """A network.py whose ``Network`` is the bug zoo's mutant ``name``."""
    return book_source("\nfrom bpverify.conformance.specimens.zoo import MUTANTS as _MUTANTS\n"
                       f"Network = next(m.cls for m in _MUTANTS if m.name == {name!r})\n")


def write_class(folder: Path, n: int) -> dict[str, str]:
    """``n`` submissions in ``folder``: every other one the book's network.py, the rest the bug
    zoo's mutants in turn; returns the verdict each must get."""
    from bpverify.conformance.specimens.zoo import MUTANTS

    expected = {}
    for i in range(n):
        name = f"student-{i:03d}"
        (folder / name).mkdir(parents=True)
        mutant = MUTANTS[(i // 2) % len(MUTANTS)].name
        (folder / name / "network.py").write_text(book_source() if i % 2 == 0
                                                  else mutant_source(mutant))
        expected[name] = "CONFORMS" if i % 2 == 0 else "DOES NOT CONFORM"
    return expected
