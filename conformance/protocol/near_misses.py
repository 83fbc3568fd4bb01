"""What is there when a name a spec or the suite asks for is not: near misses by case, by folder
depth and by file name, the classes and functions a module defines, the methods that look like a
missing one, each with the spec or the declaration that would use it.

Files are only listed and parsed (``ast``), never imported: a hint runs none of the user's code.
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bpverify.conformance.protocol.locations import short

MAX_ENTRIES = 2000
"""Folder entries looked at, at most, when searching below the current folder."""
MAX_PARSED = 40
"""Neighbouring .py files parsed, at most, to see whether one defines the attribute."""
MAX_BYTES = 1 << 20
SKIPPED = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


def module_hints(name: str, folder: Path, attribute: str, *, spec_path: str | None = None
                 ) -> list[str]:
    """Why ``name`` (a module, or the stem of a .py path) may not be found in ``folder``, and the
    spec that would find what is there: the same name in another case, one or two folders
    down, one folder up, a file of another name that defines ``attribute``, a similar name."""
    stem = name.rpartition(".")[2]
    hints: list[str] = []
    seen: set[Path] = set()
    here = _python_files(folder)

    def spec_for(path: Path) -> str:
        if path.parent == folder and spec_path is None:
            return f"{path.stem}:{attribute}"
        return f"{short(path)}:{attribute}"

    for path in here:
        if path.stem != stem and path.stem.lower() == stem.lower():
            seen.add(path)
            hints.append(f"{short(path)} is there (module names are case-sensitive): use "
                         f"'{spec_for(path)}', or rename the file")
    for path, depth in _below(folder, stem):
        if path not in seen:
            seen.add(path)
            down = "one folder" if depth == 1 else f"{depth} folders"
            hints.append(f"{short(path)} is {down} down: use '{short(path)}:{attribute}', or "
                         f"run from {short(path.parent)}/")
    above = folder.parent / f"{stem}.py"
    if above.is_file() and above not in seen and folder.parent != folder:
        seen.add(above)
        hints.append(f"{short(above)} is one folder up: use '{short(above)}:{attribute}', "
                     f"or run from {short(above.parent)}/")
    for path in _defining(here, attribute, seen):
        seen.add(path)
        hints.append(f"{short(path)} defines {attribute}: use '{spec_for(path)}'")
    close = difflib.get_close_matches(stem, [p.stem for p in here if p not in seen], n=2,
                                      cutoff=0.75)
    if close:
        hints.append("a similar name: " + ", ".join(f"'{c}:{attribute}'" for c in close))
    return hints


def attribute_hints(module: Any, attribute: str, spec: str) -> list[str]:
    """What ``module`` defines instead of ``attribute``: its own classes and functions, and the
    names that look like it (other case, a typo), each as the spec that would use it."""
    names = [n for n in dir(module) if not n.startswith("_")]
    classes, functions = [], []
    for name in names:
        value = getattr(module, name, None)
        if getattr(value, "__module__", None) != getattr(module, "__name__", None):
            continue  # imported from elsewhere (numpy, random): not theirs
        if inspect.isclass(value):
            classes.append(name)
        elif inspect.isfunction(value) or isinstance(value, functools.partial):
            functions.append(name)
    hints = []
    prefix = spec.rpartition(":")[0]
    close = _similar(attribute, names)
    if close:
        hints.append("did you mean " + " or ".join(f"'{prefix}:{c}'" for c in close) + "?")
    parts = [f"the class{'es' if len(classes) > 1 else ''} {_listed(classes)}" if classes else "",
             f"the function{'s' if len(functions) > 1 else ''} {_listed(functions)}"
             if functions else ""]
    defined = " and ".join(p for p in parts if p)
    hints.append(f"it defines {defined}" if defined else "it defines no class or function")
    return hints


def method_hints(cls: type, wanted: str, book_name: str, signature: str) -> str:
    """A class lacks the method ``wanted`` (the book's ``book_name``, called as ``signature``):
    the methods that look like it, with the ``methods`` declaration that maps one of them, or
    the list of what it has."""
    methods = sorted(n for n in dir(cls) if callable(getattr(cls, n, None))
                     and not n.startswith("__"))
    close = _similar(wanted, methods)
    if book_name != wanted:  # a declared name that is not there: the book's own name may be
        own = [book_name] if book_name in methods else []
        close = list(dict.fromkeys(own + close + _similar(book_name, methods)))[:3]
    if close:
        return (f"it has {_listed(close)}: if {close[0]} is the book's {signature}, declare "
                f"bpverify_capabilities = {{'methods': {{'{book_name}': '{close[0]}'}}}}")
    own = [n for n in methods if not n.startswith("_")]
    return (f"its methods are {_listed(own)}" if own else "it has no methods") + (
        f"; name yours {book_name}, or declare bpverify_capabilities = "
        f"{{'methods': {{'{book_name}': 'YOUR_NAME'}}}}")


def _similar(name: str, candidates: Iterable[str]) -> list[str]:
    """Candidates equal to ``name`` but for case and underscores, then close by difflib."""
    def key(text: str) -> str:
        return text.lower().replace("_", "")

    candidates = [c for c in candidates if c != name]
    same = [c for c in candidates if key(c) == key(name)]
    by_key = {key(c): c for c in candidates}
    close = [by_key[k] for k in difflib.get_close_matches(key(name), list(by_key), n=3,
                                                          cutoff=0.7)]
    return list(dict.fromkeys(same + close))[:3]


def _listed(names: list[str], limit: int = 12) -> str:
    shown = names[:limit] + ([f"… ({len(names) - limit} more)"] if len(names) > limit else [])
    return ", ".join(shown)


def _python_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".py" and p.is_file())
    except OSError:
        return []


def _below(folder: Path, stem: str, max_depth: int = 2) -> Iterator[tuple[Path, int]]:
    """``stem``.py (any case) in the folders below ``folder``, nearest first, hidden folders,
    virtual environments and caches left out; at most MAX_ENTRIES entries looked at."""
    budget = MAX_ENTRIES
    level = [folder]
    for depth in range(1, max_depth + 1):
        found, deeper = [], []
        for parent in level:
            try:
                entries = sorted(os.scandir(parent), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                budget -= 1
                if budget < 0:
                    return
                if not entry.is_dir(follow_symlinks=False) or entry.name.startswith(".") \
                        or entry.name in SKIPPED or (Path(entry.path) / "pyvenv.cfg").exists():
                    continue
                deeper.append(Path(entry.path))
                candidate = next((p for p in _python_files(Path(entry.path))
                                  if p.stem.lower() == stem.lower()), None)
                if candidate is not None:
                    found.append(candidate)
        yield from ((path, depth) for path in found)
        level = deeper


def _defining(files: list[Path], attribute: str, skip: set[Path]) -> Iterator[Path]:
    """The files among ``files`` whose top level defines ``attribute`` (a class, a function or
    an assignment), read with ``ast``: nothing is run."""
    top = attribute.partition(".")[0]
    for path in [p for p in files if p not in skip][:MAX_PARSED]:
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            tree = ast.parse(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.name == top:
                yield path
                break
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == top
                                                    for t in node.targets):
                yield path
                break
