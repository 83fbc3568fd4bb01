"""Specs resolve from the current folder, as ``python -m`` does, and a broken user file is one
line naming its file:line, never a traceback through bpverify."""

from __future__ import annotations

import inspect
import sys
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
    ("missing.py:Network", "there is no file missing.py"),
    ("attr_net:Nope", r"module 'attr_net' \(attr_net.py\) has no attribute 'Nope'"),
])
def test_a_bad_spec_says_what_is_wrong(folder: Path, spec: str, expected: str) -> None:
    _write(folder, "attr_net.py", "class Network: pass\n")
    with pytest.raises(SpecError, match=expected):
        load(spec)


def test_a_file_inside_a_package_imports_as_the_packages_module(folder: Path) -> None:
    """``hw2/nets/network.py`` with ``nets/__init__.py``: imported as ``nets.network`` from hw2/,
    so its relative import works; run on its own, the relative import fails and the message
    names the spec that works."""
    package = folder / "hw2" / "nets"
    package.mkdir(parents=True)
    _write(package, "__init__.py", "")
    _write(package, "helpers.py", "VALUE = 7\n")
    _write(package, "network.py", "from .helpers import VALUE\n")
    assert load("hw2/nets/network.py:VALUE") == 7
    assert sys.modules["nets.network"].__package__ == "nets"
    __import__("os").chdir(package)
    with pytest.raises(SpecError, match=r"relative import.*its folder is the package 'nets': use "
                                        r"the spec 'network.py:VALUE', which imports it as "
                                        r"'nets.network'"):
        load("network:VALUE")


@pytest.mark.parametrize("where, works", [
    ("Network.py", "Network:Network"),
    ("hw2/network.py", "hw2/network.py:Network"),
    ("net.py", "net:Network"),
])
def test_a_module_not_found_names_the_near_miss_that_is_there(folder: Path, where: str,
                                                              works: str) -> None:
    """``network:Network`` not found, but a file in another case, one folder down, or of another
    name that defines Network is there: the message names the spec that loads it, and it does."""
    path = folder / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("class Network:\n    pass\n", encoding="utf-8")
    _write(folder, "other.py", "class Other: pass\n")  # defines no Network: not named
    with pytest.raises(SpecError) as raised:
        load("network:Network")
    message = str(raised.value)
    assert f"'{works}'" in message and "other" not in message
    assert load(works).__name__ == "Network"


def test_a_missing_attribute_lists_what_the_module_defines(folder: Path) -> None:
    _write(folder, "mine.py", """
        import numpy as np
        from random import shuffle

        class NeuralNet: pass
        class Layer: pass
        def sigmoid(z): return z
    """)
    with pytest.raises(SpecError) as raised:
        load("mine:Network")
    message = str(raised.value)
    assert "the classes Layer, NeuralNet and the function sigmoid" in message
    assert "'mine:NeuralNet'" not in message or "did you mean" in message
    assert "shuffle" not in message and "np" not in message.split("defines")[1]
    with pytest.raises(SpecError, match="did you mean 'mine:NeuralNet'"):
        load("mine:neuralnet")
