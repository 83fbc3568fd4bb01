"""Finding the object a spec names, as ``python -m`` and pytest would: from the current folder.

A spec is ``module:attribute`` (``network:Network``), ``path/to/file.py:attribute``, or a
dotted attribute path after the colon (``mymodule:Factory.create``). The folder of the
module (the current folder for a bare module name) is put first on ``sys.path``, so the
user's file and the files beside it import as they do when the user runs them.

An error in the user's file (a syntax error, a failing import, an exception at import
time) is one ``SpecError`` line with the file:line in *their* code, never a traceback
through bpverify or importlib.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path
from types import FrameType, ModuleType, TracebackType
from typing import Any

PYTHON2_HINT = ("this looks like Python 2 code; bpverify runs Python 3: port it "
                "(print(...), range for xrange, pickle for cPickle)")


class SpecError(ValueError):
    """The spec is malformed, or the module it names cannot be imported or lacks the attribute."""


def parse(spec: str) -> tuple[str, Path | None, str]:
    """``spec`` → (module name, folder to import it from or None for the current one, attribute)."""
    module_part, sep, attribute = spec.rpartition(":")
    if not sep or not module_part or not attribute:
        raise SpecError(f"implementation spec is {spec!r}, expected 'module:attribute', "
                        "e.g. 'network:Network', or 'path/to/network.py:Network'")
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        path = Path(module_part)
        if path.suffix != ".py" or not path.is_file():
            raise SpecError(f"implementation spec {spec!r}: {module_part!r} is not a .py file")
        return path.stem, path.resolve().parent, attribute
    return module_part, None, attribute


def user_location(tb: TracebackType | None, exclude: tuple[Path, ...] = ()) -> str | None:
    """``file:line`` of the deepest frame of ``tb`` in the user's code: not in bpverify, not in
    importlib, not in the standard library or site-packages."""
    ours = (*_our_folders(), *exclude)
    library = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found = None
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith("<"):
            continue
        path = Path(frame.filename).resolve()
        if any(path.is_relative_to(p) for p in (*ours, *library)):
            continue
        found = f"{_short(path)}:{frame.lineno}"
    return found


def user_location_of_frame(frame: FrameType) -> str | None:
    """``file:line`` of the innermost frame of a running stack that is in the user's code."""
    ours = _our_folders()
    library = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    for entry in traceback.extract_stack(frame)[::-1]:
        path = Path(entry.filename).resolve()
        if not entry.filename.startswith("<") and not any(
                path.is_relative_to(p) for p in (*ours, *library)):
            return f"{_short(path)}:{entry.lineno}"
    return None


def _our_folders() -> tuple[Path, ...]:
    """The folders of bpverify's own packages, installed or in a source checkout."""
    import bpverify
    return tuple(Path(p).resolve() for p in bpverify.folders())


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _import(module_name: str, folder: Path, spec: str) -> ModuleType:
    entry = str(folder)
    if entry not in sys.path:
        sys.path.insert(0, entry)
    try:
        return importlib.import_module(module_name)
    except SyntaxError as error:
        where = f"{_short(Path(error.filename or module_name))}:{error.lineno}"
        hint = f" ({PYTHON2_HINT})" if _looks_like_python2(error) else ""
        raise SpecError(f"implementation spec {spec!r}: {where}: SyntaxError: {error.msg}"
                        f"{hint}") from None
    except ModuleNotFoundError as error:
        if error.name == module_name.split(".")[0] or error.name == module_name:
            here = " (the current folder)" if folder == Path.cwd() else ""
            raise SpecError(f"implementation spec {spec!r}: no module {module_name!r} in "
                            f"{folder}{here}") from None
        raise SpecError(f"implementation spec {spec!r}: {_located(error)}") from None
    except Exception as error:  # noqa: BLE001 - anything their module raises at import time
        raise SpecError(f"implementation spec {spec!r}: {_located(error)} (while importing "
                        f"{module_name!r})") from None


def _looks_like_python2(error: SyntaxError) -> bool:
    return "Missing parentheses in call to 'print'" in (error.msg or "") or any(
        marker in (error.text or "") for marker in ("print ", "except Exception, ", "xrange"))


def _located(error: BaseException) -> str:
    where = user_location(error.__traceback__)
    text = f"{type(error).__name__}: {error}"
    return f"{where}: {text}" if where else text


def load(spec: str) -> Any:
    """The object ``spec`` names, imported from its folder (the current one for a bare module)."""
    module_name, folder, attribute = parse(spec)
    module = _import(module_name, folder or Path.cwd(), spec)
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            where = getattr(module, "__file__", None)
            raise SpecError(f"implementation spec {spec!r}: module {module_name!r}"
                            f"{f' ({_short(Path(where))})' if where else ''} has no attribute "
                            f"{attribute!r}")
        obj = getattr(obj, part)
    return obj
