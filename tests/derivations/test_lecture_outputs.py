"""What a lecturer uses: LaTeX fragments to paste into slides (per derivation and per step),
notebook answers shown as math (✓, or ✗ with a counterexample, never a traceback), pages that say
what the derivation note is where they first name it, no step repeated, and every equation number
and quotation checked against the source texts themselves."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from bpverify.derivations import core, sources
from bpverify.derivations.catalog import DERIVATIONS, SECTIONS, by_name
from bpverify.derivations.notebooks import notebook_text


def _bpverify_derive(argv: list[str]) -> int:
    """``bpverify derive ARGV`` as the command line reads it (the entry point users type)."""
    from bpverify.cli import main
    return main(["derive", *argv])


ROOT = Path(__file__).resolve().parents[2]
SOURCE_TEXTS = Path(os.environ.get("BPVERIFY_SOURCE_TEXTS", "/work/shared/seeds"))
"""Where the source texts are (000_….txt, 001_….txt, 002_….txt); the tests that read them say so
when they are not there."""


def _source(key: str) -> str:
    found = sorted(SOURCE_TEXTS.glob(f"{key}_*.txt"))
    if not found:
        pytest.skip(f"the source texts are not in {SOURCE_TEXTS} (set BPVERIFY_SOURCE_TEXTS)")
    return found[0].read_text(encoding="utf-8")


def _plain(s: str) -> str:
    return " ".join(s.split())


# -- the source texts -----------------------------------------------------------------------------------

def test_every_quotation_is_in_its_source_text() -> None:
    for item, found in sources.ITEMS.items():
        if found.document:
            assert _plain(found.quote) in _plain(_source(found.document)), (item, found.quote)


def test_equation_numbers_are_the_books() -> None:
    """(2.2.k) is the k-th displayed equation of §2.2 (the text's own numbering: it cites (2.2.1),
    (2.2.3) and (2.2.15)); (46)–(53) are the \\label{n} of 000; (42) is the chain rule that BP2's
    proof substitutes into; (BP1)–(BP4) and (BP1a) are named in 001."""
    book = _source("001")
    displays = [_plain(d) for d in re.findall(r"\\\[(.*?)\\\]", book[book.index("Before discussing"):], re.S)]
    assert "a_{in}δ_{out}" in displays[15 - 1] and "Equation (2.2.15)" in book
    for item, found in sources.ITEMS.items():
        number = re.fullmatch(r"\((2\.2\.\d+)\)", found.label)
        if number:
            k = int(number.group(1).rsplit(".", 1)[1])
            assert _plain(found.quote) in displays[k - 1], (item, found.label)
        elif found.label == "(42)":  # the last line of the chain (40)–(42), which the proof cites after it
            chain = next(d for d in displays if _plain(found.quote) in d)
            assert chain.endswith(_plain(found.quote) + ", \\end{aligned}"), item
            assert book.index(found.quote) < book.index("Substituting back into (42)")
        elif re.fullmatch(r"\(\d+\)", found.label):
            assert f"\\label{{{found.label[1:-1]}}}" in found.quote and found.document == "000", item
        elif found.label:
            assert found.label in _source(found.document), (item, found.label)
    for label in sources.labels():
        document = "000" if re.fullmatch(r"\(\d+\)", label) and int(label[1:-1]) >= 46 else "001"
        shown = f"\\label{{{label[1:-1]}}}" if document == "000" else label
        assert shown in _source(document), label


def test_the_derivations_cite_only_the_books_equation_numbers() -> None:
    from bpverify.derivations.catalog import audit
    assert not [p for p in audit() if "cites equation" in p]


# -- LaTeX for slides --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bp1", "bp2", "fact6", "matrix_based"])
def test_a_latex_fragment_pastes_into_slides(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from pylatexenc.latexwalker import LatexWalker

    run = _bpverify_derive
    d = by_name(name)
    assert run([name, "--format", "latex", "--fragment"]) == 0
    fragment = capsys.readouterr().out.strip()
    assert fragment == core.latex_fragment(d)
    assert fragment.startswith("\\begin{align*}") and "documentclass" not in fragment
    assert fragment.count("\\\\") == len(d.steps) - 1 and fragment.count("\\tag*{$\\star$}") == 1
    LatexWalker(fragment, tolerant_parsing=False).get_latex_nodes()
    assert run([f"{name}:{d.stated + 1}", "--format", "latex"]) == 0
    step = capsys.readouterr().out.strip()
    assert step == f"\\[ {core.equation_latex(d.lhs, d.rhs, d.note)} \\]"
    LatexWalker(step, tolerant_parsing=False).get_latex_nodes()


def test_a_fragment_is_latex_only(capsys: pytest.CaptureFixture[str]) -> None:
    run = _bpverify_derive
    assert run(["bp1", "--fragment"]) == 2
    assert "--format latex" in capsys.readouterr().err
    assert run(["bp1:99"]) == 2


# -- notebooks -----------------------------------------------------------------------------------------

def test_a_notebook_answers_as_math_and_a_wrong_formula_with_its_counterexample() -> None:
    from bpverify.derivations.classroom import decide, recheck
    right = recheck("bp2", 4, "(w[l+1].T @ delta[l+1]) * sigma_prime(z[l])")
    assert right.passed and repr(right).startswith("✓ δˡ = ") and "$\\delta^{l}" in right._repr_markdown_()
    wrong = recheck("bp2", 4, "w[l+1].T @ delta[l+1]")  # answered, not raised
    shown = repr(wrong)
    assert not wrong.passed and shown.startswith("✗") and "counterexample: sizes [1, 1, 1] at l = 2" in shown
    assert "the right side lacks the factor σ′(z²₁)" in shown
    for internal in ("rho", "C_d1", "_s0", "sigma", "Piecewise", "Traceback"):
        assert internal not in shown and internal not in wrong._repr_markdown_(), internal
    unread = recheck("bp2", 4, "w[l+1]^T @ delta[l+1]")
    assert not unread.passed and "the transpose is .T" in repr(unread)
    component = recheck("bp2", 3, "sum(w[l+1][k][j] * delta[l+1][k] for k in range(n[l+1]))")
    assert not component.passed and "σ′(z²₁)" in repr(component)
    answer = decide("bp3", "diag(sigma_prime(z[l])) @ w[l+1].T @ delta[l+1]")
    assert repr(answer).startswith("true:") and "✓ true" in answer._repr_markdown_()
    assert repr(decide("bp3", "dC_db[l]")).startswith("✗ not read: circular")


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_notebook_cell_is_in_the_try_notation_where_it_can_be(section: str) -> None:
    code = [c["source"] for c in json.loads(notebook_text(section))["cells"] if c["cell_type"] == "code"]
    rechecks = [line for c in code for line in c.splitlines() if line.startswith("recheck(")]
    as_sympy = [line for line in rechecks if not re.match(r"recheck\('[^']+', \d+, '", line)]
    assert all(any(name in line for name in ("finite_differences", "cost_claims", "changes"))  # O(h²), counts
               for line in as_sympy), as_sympy


# -- what a page shows -------------------------------------------------------------------------------

def test_no_derivation_repeats_a_step() -> None:
    for d in DERIVATIONS:
        claims = [(s.lhs, s.rhs) for s in d.steps]
        assert len(set(claims)) == len(claims), d.name
    bp1 = core.render(core.check(by_name("bp1")), "text")
    assert bp1.count("δᴸ = ∇ₐC ⊙ σ′(zᴸ)   ✓") == 1


def _pages() -> dict[str, str]:
    pages = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "derivations").glob("*.md")}
    for p in (ROOT / "docs" / "notebooks").glob("*.ipynb"):
        pages[p.name] = "\n".join(c["source"] for c in json.loads(p.read_text(encoding="utf-8"))["cells"])
    return pages


def test_the_note_is_introduced_where_it_is_first_named() -> None:
    introduction = sources.NOTE_INTRODUCTION
    named = re.compile(r"the (derivation )?note\b", re.IGNORECASE)
    for name, page in _pages().items():
        first = named.search(page)
        if first is None:
            continue
        shown = page.find(introduction.split(" is a second")[0])
        assert 0 <= shown <= first.start(), f"{name} names the note before it says what it is"
