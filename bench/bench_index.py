"""Channel indexing on 5,000 packages: wheel2conda vs conda-index vs py-rattler's indexer, in one run.

For each tool, in its own copy of the same channel (2,500 ``noarch`` + 2,500 ``linux-64``
packages, generated once and cached under ``.work/bench/index/``):

* **full index**: a channel nobody indexed yet (cold caches);
* **nothing changed**: the same command again;
* **add one**: one more package, then what a publisher runs (``wheel2conda publish``, or
  copy + ``python -m conda_index`` / ``rattler.index.index_fs``).

Every command runs as a fresh process (interpreter start-up included, as a nightly job sees
it); ``wheel2conda`` is also timed in-process (library call, median of 5 adds).  Outputs:
``repodata.json`` + ``.zst`` from all three, plus ``index.html`` (conda-index, wheel2conda)
and ``channeldata.json`` (wheel2conda only: conda-index's ``--channeldata`` made it 5x slower
here, so it is left off); no shards, no ``current_repodata.json``.  At the end the three
indexes must list the same files with the same sha256.

conda-index imports two names from ``conda`` itself, which is not installable from PyPI (only
4.3.16, from 2017, is there); a 10-line stand-in for them is written next to the data
(``conda.models.version.VersionOrder`` backed by py-rattler's conda version order and
``conda.base.constants.PLATFORM_DIRECTORIES``).  Install the comparison tools with
``pip install -e '.[bench]'``; missing ones are reported, not fatal.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".work" / "bench" / "index"
COUNT = 5000
SUBDIRS = ("noarch", "linux-64")

CONDA_SHIM = {
    "conda/__init__.py": '"""Stand-in for the two names conda-index imports from conda (benchmark only)."""\n__version__ = "0"\n',
    "conda/models/__init__.py": "",
    "conda/models/version.py": "import rattler\n\n\nclass VersionOrder(rattler.Version):\n    pass\n",
    "conda/base/__init__.py": "",
    "conda/base/constants.py": (
        'PLATFORM_DIRECTORIES = ("noarch", "linux-32", "linux-64", "linux-aarch64", "linux-armv6l", "linux-armv7l",\n'
        '    "linux-ppc64", "linux-ppc64le", "linux-riscv64", "linux-s390x", "osx-64", "osx-arm64", "win-32", "win-64",\n'
        '    "win-arm64", "zos-z")\n'
    ),
}

RATTLER_INDEX = (
    "import asyncio, os, sys\n"
    "from rattler.index import index_fs\n"
    "asyncio.run(index_fs(sys.argv[1], write_zst=True, write_shards=False))\n"
    "os._exit(0)  # py-rattler 0.28 may crash at interpreter exit after the work is done\n"
)


def generate(folder: Path, count: int) -> Path:
    """``count`` small but realistic packages (depends, license, about.json), built once."""
    from bridge.check.standin import build_conda_package

    marker = folder / f".complete-{count}"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    for i in range(count):
        subdir = SUBDIRS[i % len(SUBDIRS)]
        name = f"pkg{i // 5:04d}"
        index = {
            "name": name,
            "version": f"1.{i % 5}.0",
            "build": "py_0" if subdir == "noarch" else "h1234567_0",
            "depends": ["python >=3.9", f"dep{i % 97} >=1.0", "numpy >=1.22,<3"],
            "license": "MIT",
            **({"noarch": "python"} if subdir == "noarch" else {}),
        }
        build_conda_package(
            folder / subdir,
            index,
            {f"site-packages/{name}/__init__.py": f"VERSION = {i}\n" * 20},
            about={"summary": f"Package {name}", "home": "https://example.org", "license": "MIT"},
            compression_level=1,
        )
    marker.write_text("")
    print(f"generated {count} packages in {time.monotonic() - started:.1f} s ({folder})", flush=True)
    return folder


def extra_package(folder: Path) -> Path:
    from bridge.check.standin import build_conda_package

    return build_conda_package(folder / "noarch", {"name": "added", "version": "1.0", "build": "py_0", "noarch": "python", "depends": ["python"]}, {"site-packages/added.py": "x = 1\n"})


def copy_channel(source: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    for subdir in SUBDIRS:
        (target / subdir).mkdir(parents=True)
        for pkg in (source / subdir).iterdir():
            if pkg.name.endswith(".conda"):
                shutil.copyfile(pkg, target / subdir / pkg.name)
    return target


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def listing(channel: Path) -> dict[str, str]:
    """``subdir/file -> sha256`` from a channel's repodata.json files."""
    found = {}
    for subdir in SUBDIRS:
        data = json.loads((channel / subdir / "repodata.json").read_bytes())
        for group in ("packages", "packages.conda"):
            found.update({f"{subdir}/{fn}": rec["sha256"] for fn, rec in data.get(group, {}).items()})
    return found


def bench_ours(pristine: Path, extra: Path) -> tuple[dict[str, float | str], Path]:
    from bridge.channel.publish import publish
    from bridge.check.standin import build_conda_package

    channel = copy_channel(pristine, WORK / "ours")
    w2c = [sys.executable, "-m", "bridge"]  # the same interpreter start-up as ``python -m conda_index``
    row: dict[str, float | str] = {"tool": "wheel2conda"}
    row["full"] = timed([*w2c, "index", "-q", str(channel)])
    row["noop"] = timed([*w2c, "index", "-q", str(channel)])
    row["add"] = timed([*w2c, "publish", "-q", str(extra), "--channel", str(channel)])
    # in-process: what the library costs without interpreter start-up (median of 5 adds)
    stage = WORK / "ours-stage"
    shutil.rmtree(stage, ignore_errors=True)
    adds = []
    for i in range(5):
        pkg = build_conda_package(stage / "linux-64", {"name": "inproc", "version": f"1.{i}", "build": "0"}, {"a.txt": str(i)})
        started = time.perf_counter()
        publish(channel, [pkg])
        adds.append(time.perf_counter() - started)
    row["add_lib"] = statistics.median(adds)
    started = time.perf_counter()
    publish(channel, [pkg])
    row["noop_lib"] = time.perf_counter() - started
    for i in range(5):  # back to the same package set as the other tools
        (channel / "linux-64" / f"inproc-1.{i}-0.conda").unlink()
    timed([*w2c, "index", "-q", str(channel)])
    return row, channel


def bench_conda_index(pristine: Path, extra: Path) -> tuple[dict[str, float | str], Path | None]:
    row: dict[str, float | str] = {"tool": "conda-index"}
    if importlib.util.find_spec("conda_index") is None:
        row["note"] = "not installed: pip install -e '.[bench]'"
        return row, None
    from importlib.metadata import version

    row["tool"] = f"conda-index {version('conda-index')}"
    shim = WORK / "conda-shim"
    for rel, text in CONDA_SHIM.items():
        (shim / rel).parent.mkdir(parents=True, exist_ok=True)
        (shim / rel).write_text(text)
    env = {"PYTHONPATH": os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")])}
    channel = copy_channel(pristine, WORK / "conda-index")
    argv = [sys.executable, "-m", "conda_index", "--zst", "--no-current-repodata", str(channel)]
    row["full"] = timed(argv, env)
    row["noop"] = timed(argv, env)
    started = time.perf_counter()
    shutil.copyfile(extra, channel / "noarch" / extra.name)
    timed(argv, env)
    row["add"] = time.perf_counter() - started
    return row, channel


def bench_rattler(pristine: Path, extra: Path) -> tuple[dict[str, float | str], Path | None]:
    from importlib.metadata import version

    row: dict[str, float | str] = {"tool": f"py-rattler {version('py-rattler')} index_fs"}
    channel = copy_channel(pristine, WORK / "rattler")
    argv = [sys.executable, "-c", RATTLER_INDEX, str(channel)]
    row["full"] = timed(argv)
    row["noop"] = timed(argv)
    started = time.perf_counter()
    shutil.copyfile(extra, channel / "noarch" / extra.name)
    timed(argv)
    row["add"] = time.perf_counter() - started
    return row, channel


def fmt(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    WORK.mkdir(parents=True, exist_ok=True)
    pristine = generate(WORK / f"packages-{COUNT}", COUNT)
    extra = extra_package(WORK / "extra")
    rows, channels = [], {}
    for bench in (bench_ours, bench_conda_index, bench_rattler):
        try:
            row, channel = bench(pristine, extra)
        except Exception as exc:  # one tool failing must not hide the others
            row, channel = {"tool": bench.__name__.removeprefix("bench_"), "note": f"failed: {str(exc).splitlines()[0]}"}, None
        rows.append(row)
        if channel is not None:
            channels[row["tool"]] = channel

    print(f"\nindexing a channel of {COUNT} packages (+1), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; every command a fresh process")
    header = ("tool", "full index", "nothing changed", "add one package", "notes")
    table = [header]
    for row in rows:
        note = str(row.get("note", ""))
        if "add_lib" in row:
            note = f"in-process: add one {fmt(row['add_lib'])}, identical republish {fmt(row['noop_lib'])}; also writes channeldata.json"
        table.append((str(row["tool"]), fmt(row.get("full")), fmt(row.get("noop")), fmt(row.get("add")), note))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for n, line in enumerate(table):
        print("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")

    listings = {tool: listing(channel) for tool, channel in channels.items()}
    reference = listings.get("wheel2conda")
    agree = all(found == reference for found in listings.values())
    print(f"\nsame {len(reference or {})} files and sha256 in every index: {'yes' if agree else 'NO'}")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
