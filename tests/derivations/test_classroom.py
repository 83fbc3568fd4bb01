"""The heavy checks of generated material, each behind its tox env (and skipped, with the
reason, in the default run): the notebooks execute (``tox -e notebooks``) and the LaTeX compiles
with pdflatex (``tox -e latex``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bpverify.derivations.catalog import DERIVATIONS, SECTIONS
from bpverify.derivations.core import check, latex_document
from bpverify.derivations.notebooks import notebook_text


@pytest.mark.skipif(os.environ.get("BPVERIFY_EXECUTE_NOTEBOOKS") != "1",
                    reason="executes the notebooks: tox -e notebooks (BPVERIFY_EXECUTE_NOTEBOOKS=1)")
@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_notebook_executes(section: str) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.reads(notebook_text(section), as_version=4)
    nbformat.validate(notebook)
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3").execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    shown = {c.source.rsplit("\n", 1)[-1].split("(")[0]: [] for c in notebook.cells if c.cell_type == "code"}
    for c in notebook.cells:
        if c.cell_type == "code" and c.outputs:
            shown[c.source.rsplit("\n", 1)[-1].split("(")[0]].append(c.outputs[0].get("data", {}))
    assert len(shown["recheck"]) == sum(len(d.steps) for d in SECTIONS[section])
    assert all(o["text/plain"].startswith("✓") and "text/markdown" in o for o in shown["recheck"])
    assert shown["decide"] and all(o["text/plain"].startswith("true:") for o in shown["decide"])


@pytest.mark.skipif(os.environ.get("BPVERIFY_COMPILE_LATEX") != "1",
                    reason="compiles the LaTeX with pdflatex: tox -e latex (BPVERIFY_COMPILE_LATEX=1)")
def test_latex_compiles_with_pdflatex(tmp_path: Path) -> None:
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is not installed (apt-get install texlive-latex-base)")
    source = tmp_path / "derivations.tex"
    source.write_text(latex_document([check(d) for d in DERIVATIONS]), encoding="ascii")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "derivations.pdf").stat().st_size > 0
