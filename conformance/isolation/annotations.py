"""Where in the implementation's own file a verdict points (a GitHub annotation's file and line).

Two sources, both read here as text, never by importing the implementation (its code runs only
in its sandbox):

* a location a message already carries: the frame of a crash ("raised ValueError: … (at
  network.py:42)"), of a hang ("it was at network.py:17"), of a syntax or import error
  ("network.py:3: SyntaxError"); the last one that names a file below the folder checked wins;
* else the method that computes the failing quantity, found with ``ast`` in the spec's own
  file: the class the spec names (following ``Network = Other`` and the bases defined in the
  same file), then its method under the implementation's own name for it (``backprop`` for
  BP1–BP4 and the gradient checks, ``feedforward`` for ``forward``, ``update_mini_batch`` for
  ``update-rule``, ``backprop_matrix`` for ``mini-batch``, ``SGD`` for ``sgd``); for the
  check ``assignment``, the line of ``bpverify_capabilities``; failing all, the class's line.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bpverify.conformance.protocol.loading import parse

CHECK_METHODS = {"forward": "feedforward", "update-rule": "update_mini_batch",
                 "mini-batch": "backprop_matrix", "sgd": "SGD"}
"""The book's method each check's quantity comes from (``backprop`` for the others)."""

_LOCATION = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.py):(\d+)\b")


@dataclass(frozen=True)
class Location:
    """A file (relative to the folder checked, with / separators) and a line (1-based)."""

    file: str
    line: int


def spec_file(spec: str, cwd: Path) -> Path | None:
    """The source file of the spec's module, as ``loading.load`` would import it (no import)."""
    try:
        module, folder, _ = parse(spec)
    except ValueError:
        return None
    base = (folder or cwd) / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def relative(path: Path, cwd: Path) -> str:
    """``path`` as a workflow annotation names it: relative to the folder checked."""
    return Path(os.path.relpath(path, cwd)).as_posix()


def in_text(text: str | None, cwd: Path) -> Location | None:
    """The last ``file.py:LINE`` in ``text`` that is a file below ``cwd``."""
    found = None
    for match in _LOCATION.finditer(text or ""):
        path = (cwd / match.group(1)).resolve()
        if path.is_file() and path.is_relative_to(cwd.resolve()):
            found = Location(relative(path, cwd), int(match.group(2)))
    return found


class Source:
    """The spec's file, parsed once: its classes, and where a method or a declaration is."""

    def __init__(self, spec: str, cwd: Path, names: Mapping[str, str] | None = None) -> None:
        self.cwd, self.names = cwd, dict(names or {})
        self.path = spec_file(spec, cwd)
        self.attribute = spec.rpartition(":")[2].split(".")[0]
        self.tree: ast.Module | None = None
        if self.path is not None:
            try:
                self.tree = ast.parse(self.path.read_bytes())
            except (SyntaxError, ValueError, OSError):
                self.tree = None
        if names is None:
            self.names = self._declared_names()

    def _declared_names(self) -> dict[str, str]:
        """The method names a literal ``bpverify_capabilities = {"methods": {...}}`` gives."""
        found = self.declaration() if self.tree is not None else None
        if found is None or self.tree is None:
            return {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign) and node.lineno == found.line:
                try:
                    value = ast.literal_eval(node.value)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    return {}
                methods = value.get("methods") if isinstance(value, dict) else None
                if isinstance(methods, dict):
                    return {str(k): str(v) for k, v in methods.items()}
        return {}

    def _classes(self) -> dict[str, ast.ClassDef]:
        assert self.tree is not None
        return {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}

    def _class(self) -> ast.ClassDef | None:
        """The class the spec names, following ``Name = Other`` assignments in the module."""
        classes = self._classes()
        aliases = {t.id: n.value.id for n in self.tree.body if isinstance(n, ast.Assign)  # type: ignore[union-attr]
                   and isinstance(n.value, ast.Name) for t in n.targets if isinstance(t, ast.Name)}
        name, seen = self.attribute, set()
        while name not in classes and name in aliases and name not in seen:
            seen.add(name)
            name = aliases[name]
        return classes.get(name)

    def _lineage(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """The class, then its bases defined in the same file, depth first."""
        classes, order, stack = self._classes(), [], [cls]
        while stack:
            current = stack.pop(0)
            if current in order:
                continue
            order.append(current)
            stack += [classes[b.id] for b in current.bases
                      if isinstance(b, ast.Name) and b.id in classes]
        return order

    def _here(self, line: int) -> Location:
        assert self.path is not None
        return Location(relative(self.path, self.cwd), line)

    def method(self, book_name: str) -> Location | None:
        """Where the implementation's method for the book's ``book_name`` is defined."""
        if self.tree is None:
            return None
        names = list(dict.fromkeys([self.names.get(book_name, book_name), book_name]))
        cls = self._class()
        for name in names:
            for owner in self._lineage(cls) if cls is not None else []:
                for node in owner.body:
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                            node.name == name:
                        return self._here(node.lineno)
        for anywhere in ast.walk(self.tree):  # a function of that name anywhere in the file
            if isinstance(anywhere, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    anywhere.name in names:
                return self._here(anywhere.lineno)
        return self._here(cls.lineno) if cls is not None else None

    def declaration(self) -> Location | None:
        """Where ``bpverify_capabilities`` is declared (in the class or its bases)."""
        if self.tree is None:
            return None
        cls = self._class()
        for owner in self._lineage(cls) if cls is not None else []:
            for node in owner.body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) else [])
                if any(isinstance(t, ast.Name) and t.id == "bpverify_capabilities"
                       for t in targets):
                    return self._here(node.lineno)
        return self._here(cls.lineno) if cls is not None else None

    def file(self) -> Location | None:
        return self._here(1) if self.path is not None else None

    def for_check(self, check: str, *texts: str | None) -> Location | None:
        """Where a verdict of ``check`` points: a location its texts carry, else the method
        that computes its quantity (the declaration for ``assignment``), else the file."""
        for text in texts:
            found = in_text(text, self.cwd)
            if found is not None:
                return found
        if check == "assignment":
            return self.declaration() or self.file()
        return self.method(CHECK_METHODS.get(check, "backprop")) or self.file()
