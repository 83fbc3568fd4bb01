"""Optional dependencies: each belongs to a named extra of pyproject.toml, and a command that
misses one says so in one line naming the extra, instead of a traceback."""

from __future__ import annotations

import importlib.util


def missing(module: str, extra: str, purpose: str) -> str | None:
    """None if ``module`` can be imported; else the line that names the ``extra`` installing it."""
    if importlib.util.find_spec(module) is not None:
        return None
    return (f"{purpose}: {module} is not installed; pip install 'bpverify[{extra}]' installs it "
            f"(from a checkout: pip install '.[{extra}]')")
