"""Docs that cannot drift: the README's Python runs, and the docstring examples are doctests."""

from __future__ import annotations

import ast
import doctest
import functools
import importlib.metadata
import re
import shlex
import sys
from pathlib import Path

import pytest

import bpverify.reference.activations
import bpverify.reference.backpropagation
import bpverify.reference.network

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


@pytest.mark.parametrize("module", [bpverify.reference.activations, bpverify.reference.backpropagation,
                                    bpverify.reference.network], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0 and failures == 0


def test_readme_opens_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[:4] == ["```", "pip install . && bpverify verify", "pip install tox && tox", "```"]


PATH_IN_BACKTICKS = re.compile(
    r"`((?:tests|reference|oracles|derivations|conformance|bpverify|docs|examples|\.ci)/[^`\s…]*)`")


def readme_paths(text: str) -> list[str]:
    """The repository paths the text names in backticks (``file.py:Class`` as its file)."""
    return [p.split(":")[0].rstrip("/") for p in PATH_IN_BACKTICKS.findall(text)]


def test_every_path_the_readme_names_exists() -> None:
    """A moved file leaves no stale pointer behind (the styles once moved to
    tests/conformance/specimens/styles/ while the README still sent readers to tests/styles/)."""
    paths = readme_paths(README.read_text(encoding="utf-8"))
    assert len(paths) > 20
    assert readme_paths("see `tests/styles/rows_mlp.py` and `bpverify/reference/…`") == [
        "tests/styles/rows_mlp.py"]
    assert not (README.parent / "tests/styles/rows_mlp.py").exists()  # what the check rejects
    missing = sorted({p for p in paths if not (README.parent / p).exists()})
    assert not missing, missing


def test_every_package_folder_is_installed() -> None:
    """pyproject lists the packages one by one (the folders map into bpverify.*): a new
    subpackage that is not listed works in a checkout and is missing once installed."""
    import tomllib
    root = README.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    folders = {"bpverify." + str(path.parent.relative_to(root)).replace("/", ".")
               for top in ("reference", "oracles", "derivations", "conformance")
               for path in (root / top).rglob("__init__.py")}
    commands = {str(path.parent.relative_to(root)).replace("/", ".")
                for path in (root / "bpverify").rglob("__init__.py")}
    assert folders | commands == listed, sorted(folders ^ listed)


OPTIONAL = {
    "torch": "the user's framework: bench and bench --checkers time or check it where it is "
             "installed and say 'not installed' where it is not",
    "matplotlib": "bench's plots: extras.missing names the extra [bench] instead",
}
"""Third-party imports a command may reach without them being installed, and why."""


def readme_commands() -> list[str]:
    """The commands of the README's shell blocks: the fenced blocks without a language whose every
    line starts with a program (pip, tox, bpverify, pytest, jupyter, cd), split at ``&&``, their
    comments cut. Blocks of output (a report, a table) are not commands."""
    programs = ("pip ", "tox", "bpverify ", "pytest ", "jupyter ", "cd ")
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            current = (([] if line == "```" else ["(not shell)"]) if current is None else None)
            if current is not None:
                blocks.append(current)
        elif current is not None:
            current.append(line)
    commands = []
    for block in blocks:
        lines = [line for line in block if line.strip()]
        if lines and all(line.startswith(programs) for line in lines):
            for line in lines:
                commands += [re.sub(r"\s+#\s.*$", "", part).strip() for part in line.split("&&")]
    return commands


def _third_party(path: Path) -> set[str]:
    """The top-level names of the third-party modules a file imports outside ``try`` blocks."""
    from test_layout import _runtime_nodes

    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside_try = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try)
                  for stmt in t.body for n in ast.walk(stmt)}
    found = set()
    for node in _runtime_nodes(tree):
        if id(node) in inside_try:
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        found.update(n.partition(".")[0] for n in names)
    return {n for n in found if n and n not in sys.stdlib_module_names
            and n not in ("bpverify", "__future__")}


@functools.cache
def _imports() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """bpverify's modules → the bpverify modules and the third-party top-level names each one
    imports (``test_layout``'s graph, lazy imports included)."""
    from test_layout import imports_of, modules

    found = modules()
    return ({name: imports_of(name, path, set(found)) for name, path in found.items()},
            {name: _third_party(path) for name, path in found.items()})


def _needed(entry: list[str]) -> set[str]:
    """The distributions the modules ``entry`` reach (bpverify's imports followed, lazy ones
    too) import without a guard, but OPTIONAL."""
    ours, theirs = _imports()
    seen: set[str] = set()
    todo = list(entry)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(ours[module])
    owners = importlib.metadata.packages_distributions()
    tops = {top for module in seen for top in theirs[module]} - set(OPTIONAL)
    missing = [top for top in tops if top not in owners]
    assert not missing, f"modules that no installed distribution provides: {missing}"
    return {_normal(owners[top][0]) for top in tops}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_normal(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in requirements}


def test_every_readme_command_imports_only_what_the_readmes_installs_provide() -> None:
    """Each ``bpverify`` and ``pytest`` command of the README parses, and the modules it runs
    import only core dependencies and those of the extras the README's ``pip install`` lines
    name (``pytest -n`` needs pytest-xdist; ``jupyter`` the notebook server)."""
    import tomllib

    from bpverify.cli import _parser

    project = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    commands = readme_commands()
    installed = [e for c in commands if c.startswith("pip install")
                 for e in re.findall(r"\[([\w,-]+)\]", c)]
    assert "pip install ." in commands  # the README's install
    provided = _requirement_names(project["dependencies"]) | _requirement_names(
        [r for extras in installed for e in extras.split(",")
         for r in project["optional-dependencies"][e]])
    checked = 0
    for command in commands:
        words = shlex.split(command)
        if words[0] == "bpverify":
            args = _parser().parse_args(words[1:])  # every option the README uses exists
            name = {"bench": "bench_peers" if getattr(args, "checkers", False) else "bench",
                    "grade": "bench_grading" if getattr(args, "bench", None) else "grade"
                    }.get(args.command, args.command)
            needed = _needed(["bpverify.cli", f"bpverify.commands.{name}"])
        elif words[0] == "pytest":
            needed = _needed(["bpverify.conformance.plugin",
                              "bpverify.conformance.suite.test_conformance",
                              "bpverify.conformance.suite.test_grading"])
            needed |= {"pytest-xdist"} if "-n" in words else set()
        elif words[0] == "jupyter":
            needed = {"notebook"}
        else:
            continue
        checked += 1
        assert needed <= provided, f"{command!r} needs {sorted(needed - provided)}"
        if "-n" in words:  # the control: the same check fails where xdist is not provided
            assert not needed <= provided - {"pytest-xdist"}
        if words[:2] == ["bpverify", "verify"]:
            assert {"jax", "sympy", "numpy"} <= needed
    assert checked >= 15


def test_a_missing_optional_dependency_is_one_line_naming_its_extra() -> None:
    from bpverify.commands.extras import missing

    assert missing("json", "bench", "plots") is None
    line = missing("no_such_module_for_bpverify", "bench", "plots not written")
    assert line is not None and "\n" not in line and "pip install '.[bench]'" in line
