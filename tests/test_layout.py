"""The house: the parts named in the README's layout table, and the import graph of the installed
package, agree. Every import, lazy ones inside functions included (``if TYPE_CHECKING:`` blocks
left out: they never run), goes from a part to one the table says it may import, and no modules
import each other in a circle."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def allowed_imports() -> dict[str, set[str]]:
    """The README's table "| part | folder | import name | may import |": part → parts."""
    rows = re.findall(r"^\| \*\*(\S+)\*\* \| `[^`]+` \| `([\w.]+)` \| ([^|]*) \|$",
                      README.read_text(encoding="utf-8"), re.M)
    assert rows, "the README's layout table is missing"
    names = {part: name for part, name, _ in rows}
    return {names[part]: {names[p.strip()] for p in may.split(",") if p.strip() not in ("", "–")}
            for part, _, may in rows}


TOPS = ("bpverify", "bpverify.reference", "bpverify.oracles", "bpverify.derivations",
        "bpverify.conformance")
"""The packages that have a folder of their own (installed in place, or mapped there by an
editable install's finder, where walking ``bpverify`` alone would not find them)."""


def modules() -> dict[str, Path]:
    """Every module of the installed package, by name."""
    found = {}
    for top in TOPS:
        package = importlib.import_module(top)
        found[top] = Path(str(package.__file__))
        for info in pkgutil.walk_packages(package.__path__, top + "."):
            spec = importlib.util.find_spec(info.name)
            assert spec is not None and spec.origin is not None
            found[info.name] = Path(spec.origin)
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """The tree's nodes outside ``if TYPE_CHECKING:`` blocks."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The bpverify modules ``name`` imports (``from a import b`` counts as a.b where that is a
    module, else as a)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                         for a in node.names)
    return {m for m in found if m in known and m != name}


COMMAND_MODULES = ("bpverify.cli", "bpverify.__main__")
"""The command's entry points, beside its package ``bpverify.commands`` (the README says so)."""


def part_of(module: str, parts: set[str]) -> str | None:
    """The longest part name that is ``module`` or a prefix of it (None: the package roots)."""
    if module in COMMAND_MODULES:
        return "bpverify.commands"
    matches = [p for p in parts if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_every_import_runs_downward() -> None:
    allowed = allowed_imports()
    wrong = []
    for module, targets in graph().items():
        own = part_of(module, set(allowed))
        if own is None:
            assert module in ("bpverify", "bpverify.conformance"), f"{module} is in no part"
            continue
        for target in targets:
            theirs = part_of(target, set(allowed))
            if theirs is not None and theirs != own and theirs not in allowed[own]:
                wrong.append(f"{module} imports {target}: {own} may import only "
                             f"{sorted(allowed[own]) or 'nothing of ours'}")
    assert not wrong, "\n".join(wrong)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert cycles(graph()) == []


def test_the_checkers_of_this_test_reject_what_they_must(tmp_path: Path) -> None:
    """The guards guarded: a circle is found, an upward import is named."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    allowed = allowed_imports()
    assert "bpverify.conformance.suite" not in allowed["bpverify.reference"]
    assert part_of("bpverify.conformance.suite.checks.base", set(allowed)) == \
        "bpverify.conformance.suite"
    path = tmp_path / "probe.py"
    path.write_text("import typing\nif typing.TYPE_CHECKING:\n    import bpverify.oracles\n"
                    "def f():\n    import bpverify.reference\n")
    assert imports_of("bpverify.x", path, {"bpverify.oracles", "bpverify.reference"}) == {
        "bpverify.reference"}


def test_the_walk_finds_every_part() -> None:
    found = modules()
    assert {"bpverify.reference.equations", "bpverify.oracles.methods",
            "bpverify.derivations.core", "bpverify.conformance.suite.checks.base",
            "bpverify.commands.verify"} <= set(found)
    assert len(found) > 70


def test_every_module_is_named_in_the_readme_layout() -> None:
    """The layout section lists every module file (``name.py``) of every part."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Layout and data path"):]
    section = section[:section.index("\n## ", 4)]
    missing = [f"{name} ({path.name})" for name, path in modules().items()
               if path.name != "__init__.py" and path.name not in section]
    assert not missing, missing


TESTS = Path(__file__).resolve().parent

TESTED_ELSEWHERE = {
    "bpverify.__main__": "test_layout.py",
    "bpverify.cli": "commands/test_check.py",
    "bpverify.commands.derive": "derivations/test_catalog.py",
    "bpverify.commands.extras": "test_docs.py",
    "bpverify.commands.grade": "conformance/isolation/test_resume.py",
    "bpverify.commands.wheel": "commands/test_autograder.py",
    "bpverify.conformance.isolation.annotations": "conformance/isolation/test_formats.py",
    "bpverify.conformance.isolation.journal": "conformance/isolation/test_resume.py",
    "bpverify.conformance.protocol.calls": "conformance/protocol/test_locations.py",
    "bpverify.conformance.protocol.conventions": "conformance/protocol/test_probing.py",
    "bpverify.conformance.protocol.near_misses": "conformance/protocol/test_loading.py",
    "bpverify.conformance.specimens.book_network": "conformance/specimens/test_zoo.py",
    "bpverify.conformance.specimens.sources": "commands/test_bench_grading.py",
    "bpverify.conformance.suite.checks.curvature": "conformance/specimens/test_zoo.py",
    "bpverify.conformance.suite.checks.sgd": "conformance/specimens/test_zoo.py",
    "bpverify.conformance.suite.derived_variants": "conformance/suite/test_diagnoses.py",
    "bpverify.conformance.suite.examples": "conformance/suite/test_battery.py",
    "bpverify.conformance.suite.test_conformance": "conformance/test_plugin.py",
    "bpverify.conformance.suite.test_grading": "conformance/test_plugin.py",
    "bpverify.conformance.suite.variant_operations": "conformance/suite/test_diagnoses.py",
    "bpverify.conformance.suite.variants_from_derivations": "conformance/suite/test_diagnoses.py",
    "bpverify.derivations.bp": "derivations/test_catalog.py",
    "bpverify.derivations.canonical": "derivations/test_catalog.py",
    "bpverify.derivations.core": "derivations/test_checker_mutants.py",
    "bpverify.derivations.evaluate_algorithms": "derivations/test_evaluate.py",
    "bpverify.derivations.evaluate_components": "derivations/test_evaluate.py",
    "bpverify.derivations.exercises": "derivations/test_catalog.py",
    "bpverify.derivations.explain": "derivations/test_trying.py",
    "bpverify.derivations.interpret": "derivations/test_checker_mutants.py",
    "bpverify.derivations.models": "derivations/test_checker_mutants.py",
    "bpverify.derivations.notation": "derivations/test_catalog.py",
    "bpverify.derivations.note": "derivations/test_catalog.py",
    "bpverify.derivations.notebooks": "derivations/test_classroom.py",
    "bpverify.derivations.numeric_templates": "derivations/test_evaluate.py",
    "bpverify.derivations.printing": "derivations/test_lecture_outputs.py",
    "bpverify.derivations.sources": "derivations/test_lecture_outputs.py",
    "bpverify.derivations.truth": "derivations/test_trying.py",
    "bpverify.derivations.worlds": "derivations/test_checker_mutants.py",
}
"""The modules without a test file of their own name in the mirrored folder, and the test file
that exercises them (the checks through the zoo's mutants, a catalogue's entries through the
catalogue, the derivations' machinery through its meta-tests, a command through its engine)."""


def mirrored_test_file(module: str) -> Path:
    """Where a module's tests are by name: bpverify.conformance.suite.runner →
    tests/conformance/suite/test_runner.py (the commands: tests/commands/)."""
    parts = module.split(".")[1:]
    return TESTS.joinpath(*parts[:-1], f"test_{parts[-1]}.py")


def test_every_module_has_tests_found_by_its_name_or_named_here() -> None:
    """A module's tests are its mirrored test file, or the one ``TESTED_ELSEWHERE`` names, which
    exists; an entry for a module that has its own file is stale."""
    problems = []
    for name, path in modules().items():
        if path.name == "__init__.py":
            continue
        own = mirrored_test_file(name).exists()
        elsewhere = TESTED_ELSEWHERE.get(name)
        if own and elsewhere:
            problems.append(f"{name}: has {mirrored_test_file(name).relative_to(TESTS)}; drop its entry")
        elif not own and elsewhere is None:
            problems.append(f"{name}: no {mirrored_test_file(name).relative_to(TESTS)} and no entry")
        elif elsewhere is not None and not (TESTS / elsewhere).exists():
            problems.append(f"{name}: {elsewhere} does not exist")
    assert not problems, "\n".join(problems)
    assert mirrored_test_file("bpverify.conformance.suite.runner") == \
        TESTS / "conformance" / "suite" / "test_runner.py"


LONG = 400
"""Lines past which a module says, in its docstring, why it is kept whole ("Kept whole: …")."""


def kept_whole_without_a_reason(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text)) or ""
    return len(text.splitlines()) > LONG and "Kept whole: " not in docstring


def test_a_long_module_says_why_it_is_kept_whole(tmp_path: Path) -> None:
    long = [name for name, path in modules().items() if kept_whole_without_a_reason(path)]
    assert not long, long
    probe = tmp_path / "probe.py"
    probe.write_text('"""A module."""\n' + "x = 1\n" * LONG)
    assert kept_whole_without_a_reason(probe)
    probe.write_text('"""A module.\n\nKept whole: one flow.\n"""\n' + "x = 1\n" * LONG)
    assert not kept_whole_without_a_reason(probe)


def _linted(tox_ini: str) -> set[str]:
    """The folders tox's lint environment gives ruff."""
    command = re.search(r"^\[testenv:lint\][^\[]*?^commands = ruff check (.+)$", tox_ini, re.M | re.S)
    assert command, "tox.ini has no lint command"
    return set(command.group(1).split())


def test_lint_covers_every_part_and_the_tests() -> None:
    """ruff in tox sees every top folder of the layout and tests/ (oracles/ was once left out);
    the negative control: a lint line without it is caught."""
    tox_ini = (README.parent / "tox.ini").read_text(encoding="utf-8")
    tops = {folder.split("/")[0] for folder in re.findall(r"^\| \*\*\S+\*\* \| `([^`]+)` \|",
                                                        README.read_text(encoding="utf-8"), re.M)}
    assert tops | {"tests"} <= _linted(tox_ini), sorted(tops | {"tests"} - _linted(tox_ini))
    without = tox_ini.replace(" oracles ", " ")
    assert not tops | {"tests"} <= _linted(without)
