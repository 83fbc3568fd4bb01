"""Docs that cannot drift: the README's Python runs, and the docstring examples are doctests."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import bpverify.reference.activations
import bpverify.reference.backpropagation
import bpverify.reference.network

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


@pytest.mark.parametrize("module", [bpverify.reference.activations, bpverify.reference.backpropagation,
                                    bpverify.reference.network], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0 and failures == 0


def test_readme_opens_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[:4] == ["```", "pip install . && bpverify verify", "pip install tox && tox", "```"]


def test_every_package_folder_is_installed() -> None:
    """pyproject lists the packages one by one (the folders map into bpverify.*): a new
    subpackage that is not listed works in a checkout and is missing once installed."""
    import tomllib
    root = README.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    folders = {"bpverify." + str(path.parent.relative_to(root)).replace("/", ".")
               for top in ("reference", "oracles", "derivations", "conformance")
               for path in (root / top).rglob("__init__.py")}
    commands = {str(path.parent.relative_to(root)).replace("/", ".")
                for path in (root / "bpverify").rglob("__init__.py")}
    assert folders | commands == listed, sorted(folders ^ listed)
