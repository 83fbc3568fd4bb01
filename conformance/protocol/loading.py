"""Finding the object a spec names, as ``python -m`` and pytest would: from the current folder.

A spec is ``module:attribute`` (``network:Network``), ``path/to/file.py:attribute``, or a
dotted attribute path after the colon (``mymodule:Factory.create``). The folder of the
module (the current folder for a bare module name) is put first on ``sys.path``, so the
user's file and the files beside it import as they do when the user runs them. A file inside
a package (its folder has an ``__init__.py``, and so on up) imports as that package's module
(``hw2/nets/network.py`` → ``nets.network`` from ``hw2/``), so its relative imports work.

An error in the user's file (a syntax error, a failing import, an exception at import
time) is one ``SpecError`` line with the file:line in *their* code, never a traceback
through bpverify or importlib; a name that is not there says what is (``near_misses``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from bpverify.conformance.protocol.locations import location, short, user_frames
from bpverify.conformance.protocol.near_misses import attribute_hints, module_hints

PYTHON2_HINT = ("this looks like Python 2 code; bpverify runs Python 3: port it "
                "(print(...), range for xrange, pickle for cPickle)")


class SpecError(ValueError):
    """The spec is malformed, or the module it names cannot be imported or lacks the attribute.

    ``missing`` names a module that was not found and ``refused`` a file that could not be read
    (a sandbox, told where Python would have found them, explains that they lie outside it)."""

    def __init__(self, message: str, missing: str | None = None, refused: str | None = None
                 ) -> None:
        super().__init__(message)
        self.missing, self.refused = missing, refused


def parse(spec: str) -> tuple[str, Path | None, str]:
    """``spec`` → (module name, folder to import it from or None for the current one, attribute).

    For a file inside a package the module name is dotted and the folder is the package's root
    (the first folder up without an ``__init__.py``)."""
    module_part, sep, attribute = spec.rpartition(":")
    if not sep or not module_part or not attribute:
        raise SpecError(f"implementation spec is {spec!r}, expected 'module:attribute', "
                        "e.g. 'network:Network', or 'path/to/network.py:Network'")
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        path = Path(module_part)
        if path.suffix != ".py" or not path.is_file():
            hints = module_hints(path.stem, (path.parent if str(path.parent) else Path()).resolve(),
                                 attribute, spec_path=module_part)
            what = (f"there is no file {module_part}" if not path.exists() else
                    f"{module_part} is not a .py file")
            raise SpecError(f"implementation spec {spec!r}: {what}"
                            + "".join(f"; {h}" for h in hints))
        return (*package_module(path.resolve()), attribute)
    return module_part, None, attribute


def package_module(file: Path) -> tuple[str, Path]:
    """(dotted module name, the folder to import it from) of a .py file: inside a package (every
    folder up to the root has an ``__init__.py`` and a name Python can import), as the package's
    module; else the file's own name in its own folder."""
    names = [] if file.stem == "__init__" else [file.stem]
    folder = file.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier() \
            and folder.parent != folder:
        names.insert(0, folder.name)
        folder = folder.parent
    if not names or not all(n.isidentifier() for n in names):
        return file.stem, file.parent
    return ".".join(names), folder


def _import(module_name: str, folder: Path, spec: str) -> ModuleType:
    entry = str(folder)
    if entry not in sys.path:
        sys.path.insert(0, entry)
    try:
        return importlib.import_module(module_name)
    except SyntaxError as error:
        where = f"{short(Path(error.filename or module_name))}:{error.lineno}"
        hint = f" ({PYTHON2_HINT})" if _looks_like_python2(error) else ""
        raise SpecError(f"implementation spec {spec!r}: {where}: SyntaxError: {error.msg}"
                        f"{hint}") from None
    except ModuleNotFoundError as error:
        if error.name == module_name.split(".")[0] or error.name == module_name:
            here = " (the current folder)" if folder == Path.cwd() else ""
            hints = module_hints(module_name, folder, spec.rpartition(":")[2])
            raise SpecError(f"implementation spec {spec!r}: no module {module_name!r} in "
                            f"{folder}{here}" + "".join(f"; {h}" for h in hints),
                            missing=module_name) from None
        raise SpecError(f"implementation spec {spec!r}: {_located(error)}",
                        missing=error.name) from None
    except PermissionError as error:  # a sandbox refused a file Python wanted to read
        raise SpecError(f"implementation spec {spec!r}: {_located(error)} (while importing "
                        f"{module_name!r})", refused=error.filename) from None
    except Exception as error:  # noqa: BLE001 - anything their module raises at import time
        raise SpecError(f"implementation spec {spec!r}: {_located(error)} (while importing "
                        f"{module_name!r})" + _package_hint(error, module_name, folder, spec)
                        ) from None


def _package_hint(error: Exception, module_name: str, folder: Path, spec: str) -> str:
    """A relative import in a module imported on its own: the spec that imports it as its
    package's module, where its folder is a package."""
    file = folder.joinpath(*module_name.split(".")).with_suffix(".py")
    if not (isinstance(error, ImportError) and "relative import" in str(error)
            and "." not in module_name and (folder / "__init__.py").is_file() and file.is_file()):
        return ""
    dotted, root = package_module(file)
    return (f"; its folder is the package {dotted.rpartition('.')[0]!r}: use the spec "
            f"'{short(file)}:{spec.rpartition(':')[2]}', which imports it as {dotted!r} "
            f"from {short(root)}")


def _looks_like_python2(error: SyntaxError) -> bool:
    return "Missing parentheses in call to 'print'" in (error.msg or "") or any(
        marker in (error.text or "") for marker in ("print ", "except Exception, ", "xrange"))


def _located(error: BaseException) -> str:
    where = location(user_frames(error.__traceback__))
    text = f"{type(error).__name__}: {error}"
    return f"{where}: {text}" if where else text


def load(spec: str) -> Any:
    """The object ``spec`` names, imported from its folder (the current one for a bare module)."""
    module_name, folder, attribute = parse(spec)
    module = _import(module_name, folder or Path.cwd(), spec)
    obj: Any = module
    for depth, part in enumerate(attribute.split(".")):
        if not hasattr(obj, part):
            where = getattr(module, "__file__", None)
            hints = attribute_hints(obj, part, spec) if depth == 0 else []
            raise SpecError(f"implementation spec {spec!r}: module {module_name!r}"
                            f"{f' ({short(Path(where))})' if where else ''} has no attribute "
                            f"{attribute!r}" + "".join(f"; {h}" for h in hints))
        obj = getattr(obj, part)
    return obj
