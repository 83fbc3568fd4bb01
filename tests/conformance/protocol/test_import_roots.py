"""Where Python would import a spec's module from (protocol/import_roots.py), found without
importing it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bpverify.conformance.protocol.import_roots import import_roots, where_python_finds, within


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))


def test_the_roots_are_where_python_finds_the_module_and_nothing_is_imported(
        tmp_path: Path, paths: None) -> None:
    (tmp_path / "proj" / "pkg").mkdir(parents=True)
    (tmp_path / "proj" / "pkg" / "__init__.py").write_text("raise SystemExit('imported!')\n")
    (tmp_path / "here").mkdir()
    sys.path.append(str(tmp_path / "proj"))  # PYTHONPATH
    assert where_python_finds("pkg.network", tmp_path / "here") == tmp_path / "proj" / "pkg"
    roots = import_roots("pkg.network:Network", tmp_path / "here")
    assert str(tmp_path / "here") in roots and str(tmp_path / "proj" / "pkg") in roots
    assert "pkg" not in sys.modules
    assert where_python_finds("no_such_module_anywhere", tmp_path) is None
    assert where_python_finds("../etc", tmp_path) is None  # not a module name: not looked up


def test_a_path_spec_roots_at_its_package_and_links_are_followed(
        tmp_path: Path, paths: None) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "network.py").write_text("")
    tree = tmp_path / "build" / "__editable__.pkg-0.1-py3-none-any"  # editable_mode=strict
    (tree / "pkg").mkdir(parents=True)
    for name in ("__init__.py", "network.py"):
        (tree / "pkg" / name).symlink_to(tmp_path / "src" / "pkg" / name)
    assert import_roots(f"{tmp_path / 'src' / 'pkg' / 'network.py'}:N", tmp_path)[0] == \
        str(tmp_path / "src")
    sys.path.append(str(tree))
    roots = import_roots("pkg:N", tmp_path / "elsewhere")
    assert str(tmp_path / "src" / "pkg") in roots and str(tree) in roots
    assert within(tmp_path / "src" / "pkg" / "network.py", roots)
    assert not within(tmp_path / "secret.txt", [str(tmp_path / "src")])
