"""Specs resolve from the current folder, as ``python -m`` does, and a broken user file is one
line naming its file:line, never a traceback through bpverify."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import pytest

from bpverify.conformance.protocol.adapters import BookClassAdapter, resolve
from bpverify.conformance.protocol.loading import SpecError, load
from bpverify.conformance.specimens import book_network


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder whose modules are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    monkeypatch.setattr("sys.modules", dict(__import__("sys").modules))
    return tmp_path


def _write(folder: Path, name: str, source: str) -> None:
    (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")


def test_a_module_in_the_current_folder_resolves(folder: Path) -> None:
    _write(folder, "student_net.py", inspect.getsource(book_network))
    impl = resolve("student_net:BookNetwork")
    assert isinstance(impl, BookClassAdapter) and impl.name == "student_net:BookNetwork"


def test_a_file_path_resolves_from_anywhere(folder: Path) -> None:
    (folder / "sub").mkdir()
    _write(folder / "sub", "helper_mod.py", "VALUE = 3\n")
    _write(folder / "sub", "other_net.py", "from helper_mod import VALUE\n")
    assert load("sub/other_net.py:VALUE") == 3  # and its sibling imports as it would for them


@pytest.mark.parametrize("source, expected", [
    ("x = 1\nprint 'epoch'\n", r"py2_net\.py:2: SyntaxError: Missing parentheses.*Python 2 code"),
    ("import numpy\nimport mnist_loader_missing\n",
     r"py2_net\.py:2: ModuleNotFoundError: No module named 'mnist_loader_missing'"),
    ("\n\nx = 1 / 0\n", r"py2_net\.py:3: ZeroDivisionError: division by zero"),
])
def test_an_error_in_the_users_file_names_its_file_and_line(folder: Path, source: str,
                                                           expected: str) -> None:
    _write(folder, "py2_net.py", source)
    with pytest.raises(SpecError, match=expected):
        load("py2_net:Network")


@pytest.mark.parametrize("spec, expected", [
    ("network", "expected 'module:attribute'"),
    ("no_such_module_here:Network", "no module 'no_such_module_here' in .*\\(the current folder\\)"),
    ("missing.py:Network", "'missing.py' is not a .py file"),
    ("attr_net:Nope", r"module 'attr_net' \(attr_net.py\) has no attribute 'Nope'"),
])
def test_a_bad_spec_says_what_is_wrong(folder: Path, spec: str, expected: str) -> None:
    _write(folder, "attr_net.py", "class Network: pass\n")
    with pytest.raises(SpecError, match=expected):
        load(spec)
