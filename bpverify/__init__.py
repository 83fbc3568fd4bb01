"""bpverify: verification and conformance testing of backpropagation (Nielsen, ch. 2).

One import name: ``bpverify.reference`` (the numpy reference), ``bpverify.oracles`` (the
independent methods that check it), ``bpverify.derivations`` (SymPy derivations),
``bpverify.conformance`` (checking other implementations) and the ``bpverify`` command
(``bpverify.commands``). The parts are top-level folders of the repository that setuptools
installs inside this package (``package-dir`` in pyproject.toml), so bpverify is used installed:
``pip install .``, or ``pip install -e .`` for development (see the README on editable installs
that tools such as mypy and IDEs follow). ``__path__`` is this folder only, never the checkout.
Run from a source checkout that is not installed (or whose ``bpverify/`` folder shadows an
installed link tree), the parts are found beside this folder by a finder that maps exactly the
names ``bpverify.<part>`` to them (``_CheckoutParts``).
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path

PARTS = ("reference", "oracles", "derivations", "conformance")
"""The parts installed as subpackages from folders of their own."""


def folders() -> tuple[str, ...]:
    """The folders bpverify's code lives in: this package's and each part's, found without
    importing the parts (the sandbox reads them; a traceback's frames in them are not the
    user's)."""
    found = [*__path__, str(Path(__file__).resolve().parent)]
    for part in PARTS:
        spec = importlib.util.find_spec(f"{__name__}.{part}")
        if spec is not None:
            found.extend(spec.submodule_search_locations or ())
            if spec.origin:  # an editable link tree: the files its links point to
                found.append(str(Path(spec.origin).resolve().parent))
    return tuple(dict.fromkeys(found))


class _CheckoutParts(importlib.abc.MetaPathFinder):
    """``bpverify.<part>`` → the folder ``<part>/`` beside this package's folder, for a source
    checkout; consulted after every other finder, so an installation always wins."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find_spec(self, fullname: str, path: object = None, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        package, _, part = fullname.partition(".")
        init = self.root / part / "__init__.py"
        if package != __name__ or part not in PARTS or not init.is_file():
            return None
        return importlib.util.spec_from_file_location(
            fullname, init, submodule_search_locations=[str(init.parent)])


if not all((Path(__file__).parent / part).is_dir() for part in PARTS):
    sys.meta_path.append(_CheckoutParts(Path(__file__).resolve().parent.parent))
