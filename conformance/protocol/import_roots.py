"""Where Python would import a spec's module from, found before any of its code runs: the folders
a sandbox must be allowed to read so that it imports what ``python -m`` and pytest would.

``import_roots(spec, cwd)`` is, besides the spec's own folder (the current one, or a path
spec's package root): where ``importlib`` finds the spec's top-level module or package (a
``PYTHONPATH`` entry, an editable install's source folder); the folders the environment adds to
``sys.path`` (``PYTHONPATH``, the path lines of ``.pth`` files, as a legacy ``pip install -e``
writes them); the source folders setuptools' editable finders map names to (``pip install -e``
since setuptools 64); and the targets of the links in those folders (an editable install's
link tree in ``editable_mode=strict``). Nothing is imported: only the top-level name is looked
up, as ``importlib.util.find_spec`` does without running a package's ``__init__``.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from bpverify.conformance.protocol.loading import parse

MAX_LINKS_SCANNED = 5000
"""Entries of a folder looked at, at most, for links into other folders."""


def import_roots(spec: str, cwd: Path) -> tuple[str, ...]:
    """The folders a sandbox reads to import ``spec``'s module as Python would, from ``cwd``."""
    module, folder, _ = parse(spec)
    first = folder if folder is not None else cwd
    found = [first]
    located = where_python_finds(module, first)
    if located is not None:
        found.append(located if located.is_dir() else located.parent)
        found.append(located.resolve().parent if located.is_file() else located.resolve())
    found.extend(environment_roots())
    for root in list(found):
        if "__editable__" in str(root):  # setuptools' link tree (editable_mode=strict)
            found.extend(_link_targets(root))
    return tuple(dict.fromkeys(str(p) for p in found if p.exists()))


def where_python_finds(module: str, first: Path, path: Sequence[str] | None = None
                       ) -> Path | None:
    """The file of ``module``'s top-level module, or the folder of its top-level package, where
    Python would find it with ``first`` first on ``path`` (``sys.path`` by default); None if
    nowhere (or built in)."""
    top = module.partition(".")[0]
    if not all(part.isidentifier() for part in module.split(".")):
        return None
    for finder in sys.meta_path:
        try:
            if finder is importlib.machinery.PathFinder:
                spec = finder.find_spec(top, [str(first), *(sys.path if path is None else path)])
            else:
                spec = finder.find_spec(top, None)
        except Exception:  # noqa: BLE001 - a finder of the environment's that fails: not there
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            return Path(list(spec.submodule_search_locations)[0])
        if spec.origin and spec.has_location:
            return Path(spec.origin)
        return None
    return None


def environment_roots() -> list[Path]:
    """The folders this environment imports from beyond the Python installation: ``sys.path``
    entries added by ``PYTHONPATH`` or ``.pth`` files, and the folders setuptools' editable
    finders (``__editable___*_finder``) map package names to."""
    installation = [Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]
    found = []
    for entry in sys.path:
        path = Path(entry or os.curdir).resolve()
        if path.is_dir() and not any(path.is_relative_to(p) for p in installation):
            found.append(path)
    for name, module in list(sys.modules.items()):
        mapping = getattr(module, "MAPPING", None)
        if name.startswith("__editable__") and isinstance(mapping, dict):
            found.extend(Path(p) for p in mapping.values() if isinstance(p, str))
    return found


def within(path: Path, roots: Iterable[str]) -> bool:
    """``path`` lies in one of ``roots`` (both resolved)."""
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return any(resolved.is_relative_to(Path(r).resolve()) for r in roots)


def _link_targets(root: Path) -> Iterator[Path]:
    """The folders the symbolic links below ``root`` point into (an editable link tree)."""
    seen = 0
    try:
        walk = os.walk(root)
        for folder, dirs, files in walk:
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in (*files, *dirs):
                seen += 1
                if seen > MAX_LINKS_SCANNED:
                    return
                path = Path(folder) / name
                if path.is_symlink():
                    target = path.resolve()
                    yield target if target.is_dir() else target.parent
    except OSError:
        return
