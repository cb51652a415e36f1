"""Real-wheel corpus check (``make corpus``; not part of ``make test``: it downloads from PyPI).

For each top-level package of :data:`CORPUS` (linux x86_64, the Python running this script):

1. ``pip download`` the wheel and its dependencies into ``.work/corpus/wheels`` (kept between runs);
2. ``wheel2conda convert`` every downloaded wheel into a fresh channel (``.work/corpus/channel``);
3. install the package with py-rattler into a fresh prefix next to the stand-in python of
   :mod:`bridge.check.standin` (offline; the interpreter is this machine's);
4. compare the installed files with ``pip install --no-deps --target`` of the same wheel: path and
   sha256, leaving out what installers write themselves (INSTALLER, RECORD, REQUESTED,
   direct_url.json, bytecode) and the console-script launchers (each installer writes its own);
5. import the package and run its console entry points (``--version``, else ``--help``);
6. ``wheel2conda to-wheel`` the conda package back into a wheel and ``pip install`` that.

Prints a table and, with ``--write-docs``, replaces the "Latest run" section of docs/corpus.md.
``python -m bench.corpus --only numpy,black`` checks a subset; ``--keep`` leaves the prefixes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from conda_package_streaming.package_streaming import stream_conda_component
from packaging.utils import canonicalize_name, parse_wheel_filename

from bridge.check.client import HOST_SUBDIR, install, run_in_prefix
from bridge.check.standin import HOST_PY, build_base_channel

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("CORPUS_WORK", ROOT / ".work" / "corpus"))
DOC = ROOT / "docs" / "corpus.md"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Entry:
    """One top-level package of the corpus: its PyPI requirement and the module to import ("": none,
    importlib.metadata must find the distribution instead)."""

    requirement: str
    module: str
    why: str = ""

    @property
    def name(self) -> str:
        return str(canonicalize_name(self.requirement))


#: ROCm on PyPI: ``rocm-sdk-core`` (TheRock) is not on PyPI (``pip download rocm-sdk-core``: "No
#: matching distribution"); AMD publishes ``hip-python`` there, which pulls ``rocm-bindings-*``.
CORPUS: tuple[Entry, ...] = (
    Entry("numpy", "numpy"),
    Entry("pandas", "pandas"),
    Entry("scipy", "scipy.linalg"),
    Entry("scikit-learn", "sklearn.linear_model"),
    Entry("matplotlib", "matplotlib.pyplot"),
    Entry("pyarrow", "pyarrow.parquet"),
    Entry("grpcio", "grpc"),
    Entry("cryptography", "cryptography.hazmat.primitives.ciphers"),
    Entry("lxml", "lxml.etree"),
    Entry("pillow", "PIL.Image"),
    Entry("pydantic", "pydantic", "pulls pydantic-core"),
    Entry("pydantic-core", "pydantic_core"),
    Entry("tokenizers", "tokenizers"),
    Entry("orjson", "orjson"),
    Entry("black", "black"),
    Entry("ruff", "ruff", "a Rust binary in .data/scripts"),
    Entry("pybind11", "pybind11"),
    Entry("pybind11-global", "", "no module: headers in .data/headers and .data/data, cmake files"),
    Entry("opencv-python-headless", "cv2", "abi3, python_version markers"),
    Entry("httpx", "httpx"),
    Entry("anyio", "anyio"),
    Entry("nvidia-cuda-runtime-cu12", "nvidia.cuda_runtime", "CUDA"),
    Entry("hip-python", "hip", "ROCm"),
    Entry("requests", "requests"),
    Entry("pyyaml", "yaml"),
    Entry("rich", "rich.console"),
    Entry("click", "click"),
    Entry("jinja2", "jinja2"),
    Entry("sqlalchemy", "sqlalchemy"),
    Entry("psutil", "psutil"),
    Entry("attrs", "attrs"),
    Entry("protobuf", "google.protobuf"),
    Entry("aiohttp", "aiohttp"),
    Entry("regex", "regex"),
    Entry("msgpack", "msgpack"),
    Entry("setuptools", "setuptools"),
    Entry("pytest", "pytest"),
    Entry("tqdm", "tqdm"),
    Entry("python-dateutil", "dateutil.parser"),
    Entry("huggingface-hub", "huggingface_hub", "tokenizers' dependency"),
)

#: Files every installer writes its own way (PEP 376/610/627), and bytecode.
INSTALLER_FILES = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}
_TIMEOUT = 120


@dataclass
class Row:
    """The outcome of one top-level package; a column is True, False, or None (not run)."""

    package: str
    version: str = ""
    convert: bool | None = None
    install: bool | None = None
    files: bool | None = None
    imports: bool | None = None
    entry_points: bool | None = None
    to_wheel: bool | None = None
    pip: bool | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(v is not False for v in (self.convert, self.install, self.files, self.imports, self.entry_points, self.to_wheel, self.pip))


# --------------------------------------------------------------------------- steps


def run(argv: Sequence[str | Path], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


def download(entries: Iterable[Entry], wheels: Path) -> None:
    """``pip download`` the wheels for linux x86_64 and this Python, with their dependencies."""
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_26_x86_64", "manylinux_2_24_x86_64",
                 "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_12_x86_64", "manylinux2010_x86_64",
                 "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"]  # fmt: skip
    argv: list[str | Path] = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--python-version", py,
            "--implementation", "cp", "--abi", f"cp{py.replace('.', '')}", "-d", wheels]  # fmt: skip
    for plat in platforms:
        argv += ["--platform", plat]
    result = run([*argv, *(e.requirement for e in entries)])
    if result.returncode != 0:
        raise SystemExit(f"pip download failed:\n{result.stderr[-3000:]}")


def wheel_of(entry: Entry, wheels: Path) -> Path | None:
    """The newest downloaded wheel of ``entry``."""
    found = []
    for path in wheels.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(path.name)
        if name == entry.name:
            found.append((version, path))
    return max(found)[1] if found else None


@dataclass(frozen=True)
class CorpusPackage:
    """One package `wheel2conda convert --json` reported (an item of its document)."""

    name: str
    version: str
    build: str
    subdir: str
    output: Path


def convert(wheels: Path, channel: Path) -> tuple[dict[str, list[CorpusPackage]], dict[str, str]]:
    """Convert every wheel into ``channel``; return the packages and the errors by wheel file name."""
    result = run([BIN / "wheel2conda", "convert", "--json", "--progress", "none", "-j", "2", "--channel", channel, wheels])
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"wheel2conda convert printed no JSON:\n{result.stderr[-3000:]}") from None
    packages: dict[str, list[CorpusPackage]] = {}
    for item in doc["items"]:
        packages.setdefault(Path(item["source"]).name, []).append(
            CorpusPackage(item["name"], item["version"], item["build"], item["subdir"], Path(item["output"]))
        )
    errors = {Path(e["path"] or "").name: e["reason"] for e in doc["errors"]}
    return packages, errors


def installed_files(prefix: Path, record: CorpusPackage) -> dict[str, str]:
    """``path -> sha256`` of what the conda package installed, paths as pip ``--target`` has them."""
    meta = conda_meta(prefix, record)
    site = f"lib/python{HOST_PY}/site-packages/"
    out: dict[str, str] = {}
    for rel in meta["files"]:
        target = rel[len(site) :] if rel.startswith(site) else rel
        out[target] = sha256(prefix / rel)
    return out


def conda_meta(prefix: Path, record: CorpusPackage) -> dict[str, Any]:
    return json.loads((prefix / "conda-meta" / f"{record.name}-{record.version}-{record.build}.json").read_text())


def target_files(target: Path) -> dict[str, str]:
    """``path -> sha256`` under a pip ``--target`` directory."""
    return {p.relative_to(target).as_posix(): sha256(p) for p in sorted(target.rglob("*")) if p.is_file()}


_HEADERS = re.compile(r"^include/(?:site/)?(?:python\d+(?:\.\d+)?t?/)?([^/]+)/(.+)$")


def headers_as_scheme(files: dict[str, str], dist: str) -> dict[str, str]:
    """``.data/headers`` files renamed ``<headers>/…``: installers choose the directory (pip
    ``--target`` in a venv: ``include/site/python3.11/<dist>/``; conda: ``include/<dist>/`` for
    noarch, ``include/python3.11/<dist>/`` otherwise)."""
    out = {}
    for path, digest in files.items():
        m = _HEADERS.match(path)
        out[f"<headers>/{m.group(2)}" if m and canonicalize_name(m.group(1)) == dist else path] = digest
    return out


def sha256(path: Path) -> str:
    """Of the content (a link: of its target's; ``convert`` links identical copies by default)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def ignored(path: str, scripts: set[str]) -> bool:
    parts = path.split("/")
    if parts[-1].endswith((".pyc", ".pyo")) or "__pycache__" in parts:
        return True
    if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in INSTALLER_FILES:
        return True
    return len(parts) == 2 and parts[0] == "bin" and parts[1] in scripts


def compare(conda: dict[str, str], pip: dict[str, str], scripts: set[str]) -> list[str]:
    """Differences between the two installs, one line each (empty when equal)."""
    conda = {k: v for k, v in conda.items() if not ignored(k, scripts)}
    pip = {k: v for k, v in pip.items() if not ignored(k, scripts)}
    lines = [f"only conda: {p}" for p in sorted(conda.keys() - pip.keys())]
    lines += [f"only pip: {p}" for p in sorted(pip.keys() - conda.keys())]
    lines += [f"sha256 differs: {p}" for p in sorted(conda.keys() & pip.keys()) if conda[p] != pip[p]]
    return lines


def entry_points(wheel: Path) -> list[tuple[str, str]]:
    """``(name, extras)`` of the wheel's console scripts (its own ``.dist-info``) and of the
    programs in its ``.data/scripts``."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        found = [(n.rsplit("/", 1)[1], "") for n in names if n.count("/") == 2 and n.split("/")[0].endswith(".data") and n.split("/")[1] == "scripts"]
        texts = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/entry_points.txt")]
        if not texts:
            return found
        import configparser

        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(zf.read(texts[0]).decode())
    if not parser.has_section("console_scripts"):
        return found
    for script, target in parser.items("console_scripts"):
        extras = target.split("[", 1)[1].rstrip("] ") if "[" in target else ""
        found.append((script, extras))
    return found


def launchers_and_rewritten(wheel: Path) -> set[str]:
    """Names under ``bin/`` each installer writes its own way: console-script launchers, and
    ``.data/scripts`` whose ``#!python`` line is rewritten to the installing interpreter."""
    names = {s for s, _ in entry_points(wheel) if "/" not in s}
    with zipfile.ZipFile(wheel) as zf:
        for n in zf.namelist():
            parts = n.split("/")
            if len(parts) == 3 and parts[0].endswith(".data") and parts[1] == "scripts":
                with zf.open(n) as fh:
                    if fh.read(8) == b"#!python":
                        names.add(parts[2])
    return {n for n in names}


def run_entry_point(prefix: Path, script: str) -> tuple[bool, str]:
    for flag in ("--version", "--help"):
        try:
            result = run_in_prefix(prefix, script, flag, timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            return False, f"{script} {flag}: timed out"
        if result.returncode == 0:
            return True, ""
    tail = (result.stderr or result.stdout).strip().splitlines()
    return False, f"{script}: exit {result.returncode}: {tail[-1][:160] if tail else ''}"


def wheel_members(wheel: Path) -> dict[str, str]:
    """``name -> sha256`` of a wheel's members, less RECORD and our round-trip record."""
    with zipfile.ZipFile(wheel) as zf:
        return {
            i.filename: hashlib.sha256(zf.read(i)).hexdigest()
            for i in zf.infolist()
            if not i.is_dir() and not i.filename.endswith(("/RECORD", "/conda-package.json"))
        }


def metadata_of(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(next(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")))


# --------------------------------------------------------------------------- one package


def run_checks(entry: Entry, wheel: Path, prefix: Path, row: Row) -> None:
    """Import the package and run its entry points from the prefix."""
    # A package without a module (module ""): importlib.metadata must still find it.
    code = f"import {entry.module}" if entry.module else f"import importlib.metadata as m; m.version({entry.name!r})"
    result = run_in_prefix(prefix, "python", "-c", code, timeout=_TIMEOUT)
    row.imports = result.returncode == 0
    if not row.imports:
        tail = result.stderr.strip().splitlines()
        row.notes.append(f"{code}: {tail[-1][:200] if tail else result.returncode}")

    failures = []
    skipped = []
    for script, extras in entry_points(wheel):
        if extras:
            skipped.append(f"{script} [{extras}]")
            continue
        ok, why = run_entry_point(prefix, script)
        if not ok:
            failures.append(why)
    if entry_points(wheel):
        row.entry_points = not failures
    row.notes += failures
    if skipped:
        row.notes.append(f"not run (needs an extra): {', '.join(skipped)}")


def round_trip(wheel: Path, record: CorpusPackage, scratch: Path, row: Row) -> None:
    """to-wheel the conda package, compare with the original wheel, pip install the result."""
    out = scratch / "to-wheel"
    result = run([BIN / "wheel2conda", "to-wheel", "--json", "-o", out, record.output])
    made = sorted(out.glob("*.whl")) if out.is_dir() else []
    row.to_wheel = result.returncode == 0 and len(made) == 1
    if not row.to_wheel:
        try:
            reason = "; ".join(e["reason"] for e in json.loads(result.stdout)["errors"])
        except (json.JSONDecodeError, KeyError):
            reason = result.stderr.strip()[-200:]
        row.notes.append(f"to-wheel: {reason[:300]}")
        return
    back = made[0]
    if back.name != wheel.name:
        row.notes.append(f"to-wheel name: {back.name}")
    original, again = wheel_members(wheel), wheel_members(back)
    changed = sorted(k for k in original.keys() | again.keys() if original.get(k) != again.get(k))
    if changed:
        row.notes.append(f"to-wheel members differ: {', '.join(changed[:3])}" + (f" … {len(changed) - 3} more" if len(changed) > 3 else ""))
    result = run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--no-index", "--target", scratch / "pip-again", back])
    row.pip = result.returncode == 0
    if not row.pip:
        row.notes.append(f"pip install of to-wheel output: {result.stderr.strip()[-200:]}")


def host_build(builds: Sequence[CorpusPackage]) -> CorpusPackage:
    """The build this machine would install when the solver cannot say (per-OS noarch: the unix one)."""
    return next((b for b in builds if "win" not in b.build and "osx" not in b.build), builds[0])


def archive_files(package: Path) -> tuple[dict[str, str], int]:
    """``path -> sha256`` of what a ``.conda`` installs, as :func:`installed_files` has them
    (noarch ``site-packages/`` and ``python-scripts/`` placed as an installer would), and how many links."""
    content: dict[str, str] = {}
    links: dict[str, str] = {}
    with open(package, "rb") as fh:
        for tar, member in stream_conda_component(package.name, fh, component="pkg"):
            name = member.name
            if name.startswith("site-packages/"):
                name = name[len("site-packages/") :]
            elif name.startswith(f"lib/python{HOST_PY}/site-packages/"):
                name = name[len(f"lib/python{HOST_PY}/site-packages/") :]
            elif name.startswith("python-scripts/"):
                name = "bin/" + name[len("python-scripts/") :]
            if member.issym():
                links[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
            elif member.isfile():
                extracted = tar.extractfile(member)
                content[name] = hashlib.sha256(extracted.read() if extracted else b"").hexdigest()
    for name, target in links.items():
        content[name] = content.get(target, f"dangling link to {target}")
    return content, len(links)


def check(entry: Entry, wheels: Path, packages: dict[str, list[CorpusPackage]], errors: dict[str, str], channels: list[Path], keep: bool) -> Row:
    started = time.monotonic()
    row = Row(entry.name)
    wheel = wheel_of(entry, wheels)
    if wheel is None:
        row.notes.append("no wheel downloaded")
        return row
    row.version = str(parse_wheel_filename(wheel.name)[1])
    if wheel.name in errors:
        row.convert = False
        row.notes.append(f"convert: {errors[wheel.name]}")
        return row
    mine = [c for c in packages.get(wheel.name, []) if c.name == entry.name and c.subdir in (HOST_SUBDIR, "noarch")]
    row.convert = bool(mine)
    if not mine:
        row.notes.append("convert wrote no package for this platform")
        return row
    if len(mine) > 1:
        row.notes.append(f"{len(mine)} builds: {', '.join(c.build for c in mine)}")
    record_of = {c.build: c for c in mine}

    scratch = WORK / "runs" / entry.name
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    prefix = scratch / "prefix"
    record: CorpusPackage | None = None
    try:
        records = install(channels, [f"{entry.name}=={row.version}"], prefix, cache_dir=WORK / "pkgs")
        row.install = True
        installed = next((r for r in records if r.name.normalized == entry.name), None)
        record = record_of.get(str(installed.build)) if installed else None
    except Exception as exc:  # noqa: BLE001 - the row records any failure (SolveError, link errors)
        row.install = False
        row.notes.append(f"install: {' '.join(str(exc).split())[:300]}")

    # Files: what the prefix got, or (not installable) what the package would install.
    target = scratch / "pip-target"
    result = run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--no-index", "--target", target, wheel])
    if result.returncode != 0:
        row.files = False
        row.notes.append(f"pip --target: {result.stderr.strip()[-200:]}")
    else:
        if record is not None:
            conda_files = installed_files(prefix, record)
            links = sum(1 for rel in conda_meta(prefix, record)["files"] if (prefix / rel).is_symlink())
        else:
            conda_files, links = archive_files(host_build(mine).output)
            row.notes.append("files compared from the package archive")
        if links:
            row.notes.append(f"{links} identical copies installed as links")
        diff = compare(headers_as_scheme(conda_files, entry.name), headers_as_scheme(target_files(target), entry.name), launchers_and_rewritten(wheel))
        row.files = not diff
        if diff:
            shown = "; ".join(diff[:3]) + (f"; … {len(diff) - 3} more" if len(diff) > 3 else "")
            row.notes.append(f"files: {shown}")

    if row.install:
        run_checks(entry, wheel, prefix, row)
    round_trip(wheel, record or host_build(mine), scratch, row)
    if entry.why:
        row.notes.insert(0, entry.why)
    if not keep:
        shutil.rmtree(scratch, ignore_errors=True)
    row.seconds = time.monotonic() - started
    return row


# --------------------------------------------------------------------------- report


COLUMNS = ("package", "version", "convert", "install", "files equal", "import", "entry points", "to-wheel", "pip", "note")


def cell(value: bool | None) -> str:
    return {True: "ok", False: "FAIL", None: "–"}[value]


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        note = "; ".join(r.notes).replace("|", "\\|")
        values = (r.package, r.version, cell(r.convert), cell(r.install), cell(r.files), cell(r.imports), cell(r.entry_points), cell(r.to_wheel), cell(r.pip), note)
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def summary(rows: Sequence[Row], wheels: int, packages: int, seconds: float) -> str:
    ok = sum(r.ok for r in rows)
    import importlib.metadata as md

    versions = ", ".join(f"{d} {md.version(d)}" for d in ("wheel2conda", "py-rattler", "pip"))
    return (
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.system().lower()}-{platform.machine()}, "
        f"Python {platform.python_version()}, {versions}: {len(rows)} top-level packages, {wheels} wheels downloaded "
        f"with their dependencies, {packages} conda packages written; {ok} of {len(rows)} pass every column; "
        f"{seconds:.0f} s in all."
    )


def write_docs(text: str) -> None:
    marker = "<!-- corpus:latest -->"
    doc = DOC.read_text() if DOC.exists() else ""
    if marker not in doc:
        raise SystemExit(f"{DOC} has no {marker} line")
    head = doc.split(marker, 1)[0]
    DOC.write_text(f"{head}{marker}\n\n{text}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated top-level names (default: the whole corpus)")
    parser.add_argument("--keep", action="store_true", help="keep each package's prefix and pip targets under .work/corpus/runs")
    parser.add_argument("--write-docs", action="store_true", help="replace the latest run in docs/corpus.md")
    args = parser.parse_args(argv)
    entries = [e for e in CORPUS if not args.only or e.name in {str(canonicalize_name(n)) for n in args.only.split(",")}]
    started = time.monotonic()
    wheels = WORK / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    print(f"==> pip download {len(entries)} packages and their dependencies into {wheels}", flush=True)
    download(entries, wheels)
    channel = WORK / "channel"
    shutil.rmtree(channel, ignore_errors=True)
    print(f"==> wheel2conda convert {len(list(wheels.glob('*.whl')))} wheels into {channel}", flush=True)
    packages, errors = convert(wheels, channel)
    base = build_base_channel(WORK / "base-channel", pythons=(HOST_PY,), subdirs=(HOST_SUBDIR,))
    rows = []
    for entry in entries:
        row = check(entry, wheels, packages, errors, [channel, base], args.keep)
        rows.append(row)
        print(f"   {row.package:26} {'ok' if row.ok else 'FAIL':4} {row.seconds:5.1f} s  {'; '.join(row.notes)[:150]}", flush=True)
    text = summary(rows, len(list(wheels.glob("*.whl"))), sum(map(len, packages.values())), time.monotonic() - started) + "\n\n" + table(rows)
    print("\n" + text)
    if args.write_docs:
        write_docs(text)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
