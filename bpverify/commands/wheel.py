"""A wheel of this very bpverify, built from the files it runs from (installed, editable or a
source checkout), for an engine that must install it where it is not on a package index: a
Gradescope image, a GitHub Actions runner (``autograder.py``).

bpverify is not on PyPI, so ``pip install bpverify`` there would install nothing, or someone
else's package. The wheel is ``bpverify-VERSION+CODE-py3-none-any.whl``: the package's files laid
out as an installation has them (``bpverify/`` and its parts ``bpverify/reference/`` …), its
metadata (the dependencies, which pip then installs from the index, and the entry points: the
``bpverify`` command, the pytest plugin), and a local version label ``+CODE``, the first 12 hex
digits of the code's hash, so two builds from different code never share a name.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

TAG = "py3-none-any"


def package_files() -> Iterator[tuple[str, Path]]:
    """(path inside the wheel, file) for every file of the package, as an installation lays it
    out: ``bpverify/...`` from the package's folder, ``bpverify/<part>/...`` from each part's."""
    import bpverify

    root = Path(bpverify.__file__).resolve().parent
    parts = {part: Path(str(spec.origin)).resolve().parent
             for part in bpverify.PARTS
             if (spec := importlib.util.find_spec(f"bpverify.{part}")) is not None and spec.origin}
    for name, folder in (("bpverify", root), *((f"bpverify/{p}", f) for p, f in parts.items())):
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if (not path.is_file() or "__pycache__" in relative.parts
                    or (name == "bpverify" and relative.parts[0] in parts)
                    or path.suffix not in (".py", ".typed")):
                continue
            yield f"{name}/{relative.as_posix()}", path


def version() -> str:
    from bpverify.conformance.isolation.grading import code_digest
    return f"{importlib.metadata.version('bpverify')}+{code_digest()[:12]}"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def metadata(full_version: str) -> str:
    dist = importlib.metadata.distribution("bpverify")
    lines = ["Metadata-Version: 2.1", "Name: bpverify", f"Version: {full_version}",
             f"Summary: {dist.metadata['Summary']}",
             f"Requires-Python: {dist.metadata['Requires-Python']}"]
    extras = sorted({r.split('extra == "')[1].rstrip('"') for r in dist.requires or []
                     if 'extra == "' in r})
    lines += [f"Provides-Extra: {extra}" for extra in extras]
    lines += [f"Requires-Dist: {requirement}" for requirement in dist.requires or []]
    return "\n".join(lines) + "\n"


def entry_points() -> str:
    groups: dict[str, list[str]] = {}
    for entry in importlib.metadata.distribution("bpverify").entry_points:
        groups.setdefault(entry.group, []).append(f"{entry.name} = {entry.value}")
    return "".join(f"[{group}]\n" + "\n".join(lines) + "\n\n" for group, lines in groups.items())


def build(folder: Path) -> Path:
    """Write the wheel into ``folder``; return its path."""
    full_version = version()
    info = f"bpverify-{full_version}.dist-info"
    files: list[tuple[str, bytes]] = [(name, path.read_bytes()) for name, path in package_files()]
    files += [(f"{info}/METADATA", metadata(full_version).encode()),
              (f"{info}/WHEEL", (f"Wheel-Version: 1.0\nGenerator: bpverify {full_version}\n"
                                 f"Root-Is-Purelib: true\nTag: {TAG}\n").encode()),
              (f"{info}/entry_points.txt", entry_points().encode()),
              (f"{info}/top_level.txt", b"bpverify\n")]
    record = io.StringIO()
    for name, data in files:
        record.write(f"{name},{_record_hash(data)},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bpverify-{full_version}-{TAG}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in [*files, (f"{info}/RECORD", record.getvalue().encode())]:
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            wheel.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return path
