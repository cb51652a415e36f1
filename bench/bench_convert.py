"""Wheel → .conda conversion: wheel2conda against whl2conda, conda-package-handling and the zstd floor.

One table per run: for each wheel and tool, output bytes and ratio (output ÷ wheel), wall time,
payload throughput (uncompressed wheel bytes ÷ wall time) and peak RSS of the tool's process
tree (``wait4``: the largest single process; for the floor pipeline that is max(unzip, zstd)).

Tools, each on the same wheel in the same run:

``wheel2conda``          this project, default settings (``python -m bridge convert``)
``wheel2conda-release``  ``--release`` (zstd 19); only when named in ``BENCH_TOOLS``
``whl2conda``            whl2conda 26.7.2 ``convert --allow-impure`` in its own venv
``cph``                  conda-package-handling 2.6 ``cph create`` at its defaults, on the tree
                         ``wheel2conda --format tree`` wrote (building the tree is not timed)
``floor``                ``unzip -p WHEEL | zstd -<level> --long=<W> -T<cores>``: no tar, no
                         hashing, no metadata — the least any converter can do at that setting;
                         W is the window log wheel2conda chose for the wheel's largest package
                         (27 when wheel2conda did not run), so both compress with the same window
``floor-release``        the same pipeline at ``zstd -19`` and the window ``--release`` chose: the
                         floor ``wheel2conda-release`` is judged against (issue 17: ≤ 1.05×);
                         only when named in ``BENCH_TOOLS``

Settings (environment):

``BENCH_SET``        ``small`` (default: nvjitlink, nvrtc, cupy-rocm; about 20 minutes on 2 cores,
                     nearly all of it whl2conda and cph; wheel2conda alone needs under a minute)
                     or ``full`` (adds cuBLAS and a CUDA torch wheel: over an hour on 2 cores)
``BENCH_WHEELS``     directory of wheels; missing ones are downloaded once with pip
                     (default ``.work/bench-wheels``)
``BENCH_ONLY``       comma-separated parts of wheel names: only the set's wheels matching one
``BENCH_TOOLS``      comma-separated tool names (default: all but wheel2conda-release)
``BENCH_LEVEL``      zstd level of the floor (default: wheel2conda's default level)
``BENCH_RESULTS``    JSON file the rows are written to (default ``.work/bench-results.json``)
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from bridge.sinks.compression import DEFAULT_LEVEL, MAX_WINDOW_LOG, RELEASE_LEVEL, default_threads

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".work"
WHL2CONDA = "whl2conda==26.7.2"
WHL2CONDA_VENV = WORK / "bench-venv-whl2conda"
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]

#: (requirement, wheel file name prefix) per set.
SMALL = [
    ("nvidia-nvjitlink-cu12==12.9.86", "nvidia_nvjitlink_cu12-12.9.86-"),
    ("nvidia-cuda-nvrtc-cu12==12.9.86", "nvidia_cuda_nvrtc_cu12-12.9.86-"),
    ("cupy-rocm-7-0==14.2.0", "cupy_rocm_7_0-14.2.0-cp312-"),
]
FULL = SMALL + [
    ("nvidia-cublas-cu12==12.9.3.13", "nvidia_cublas_cu12-12.9.3.13-"),
    ("torch==2.9.1", "torch-2.9.1-cp312-"),
]
ALL_TOOLS = ["wheel2conda", "wheel2conda-release", "whl2conda", "cph", "floor", "floor-release"]
DEFAULT_TOOLS = [t for t in ALL_TOOLS if t not in ("wheel2conda-release", "floor-release")]


@dataclass
class Row:
    wheel: str
    wheel_bytes: int
    payload_bytes: int
    tool: str
    output_bytes: int | None
    seconds: float
    peak_rss_bytes: int
    ok: bool
    note: str = ""
    cpu_seconds: float = 0.0

    @property
    def ratio(self) -> float | None:
        return self.output_bytes / self.wheel_bytes if self.output_bytes else None


# --------------------------------------------------------------------------- setup


def wheels_for(spec: list[tuple[str, str]], directory: Path) -> list[Path]:
    """The set's wheels from ``directory``, downloading the missing ones once."""
    directory.mkdir(parents=True, exist_ok=True)
    missing = [req for req, prefix in spec if not list(directory.glob(prefix + "*.whl"))]
    if missing:
        print(f"bench: downloading {', '.join(missing)} into {directory}", flush=True)
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", "3.12", *platforms, "-d", str(directory), *missing]
        subprocess.run(cmd, check=True)
    return [sorted(directory.glob(prefix + "*.whl"))[-1] for _, prefix in spec]


def whl2conda_venv() -> Path:
    """whl2conda (and the conda-package-handling it depends on) in a venv of their own."""
    bindir = WHL2CONDA_VENV / ("Scripts" if os.name == "nt" else "bin")
    if not (bindir / "whl2conda").exists():
        print(f"bench: installing {WHL2CONDA} into {WHL2CONDA_VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(WHL2CONDA_VENV)], check=True)
        subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", WHL2CONDA], check=True)
    return bindir


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1 << 20)
        memory = f", {mem} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = ""
    zstd = subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip() if shutil.which("zstd") else "no zstd CLI"
    return f"{cpu}, {default_threads()} cores{memory}; {platform.system()} {platform.release()}; Python {platform.python_version()}; {zstd}"


# --------------------------------------------------------------------------- measuring


def measured(cmd: list[str], cwd: Path | None = None) -> tuple[float, int, int, str, float]:
    """Run ``cmd``; (wall seconds, peak RSS bytes of its largest process, exit status, stderr tail,
    CPU seconds of its whole tree: user + system; what a shared machine's load does not inflate)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-1:] or [""]
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return seconds, rss, proc.returncode, tail[0], usage.ru_utime + usage.ru_stime


def chosen_window_log(out: Path) -> int:
    """The largest window log the ``.conda`` packages under ``out`` ask for (27 if there are none)."""
    import zstandard

    logs = []
    for package in out.rglob("*.conda"):
        with zipfile.ZipFile(package) as zf:
            for name in zf.namelist():
                if name.startswith("pkg-") and name.endswith(".tar.zst"):
                    logs.append(zstandard.get_frame_parameters(zf.open(name).read(32)).window_size.bit_length() - 1)
    return max(logs, default=MAX_WINDOW_LOG)


def run_tool(tool: str, wheel: Path, out: Path, level: int, bindir: Path | None, window_log: int = MAX_WINDOW_LOG) -> tuple[float, int, int, str, float, Path]:
    """Run one tool on one wheel into ``out`` (emptied first); returns the measurement and the output dir."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    bridge = [sys.executable, "-m", "bridge", "convert", str(wheel), "-o", str(out), "-q", "--progress", "none"]
    if tool == "wheel2conda":
        return (*measured(bridge), out)
    if tool == "wheel2conda-release":
        return (*measured([*bridge, "--release"]), out)
    if tool == "whl2conda":
        assert bindir is not None
        cmd = [str(bindir / "whl2conda"), "convert", str(wheel), "--allow-impure", "--out-dir", str(out), "--overwrite", "--batch", "--yes", "--no-update-stdrenames", "-q"]
        return (*measured(cmd, cwd=out), out)
    if tool == "cph":
        assert bindir is not None
        tree = out.parent / f"{out.name}-tree"
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run([*bridge[:6], str(tree), "--format", "tree", "-q"], check=True)
        (stem,) = [p for p in tree.iterdir()]
        result = measured([str(bindir / "cph"), "create", str(stem), f"{stem.name}.conda", "--out-folder", str(out)])
        shutil.rmtree(tree, ignore_errors=True)
        return (*result, out)
    if tool in ("floor", "floor-release"):
        target = out / (wheel.name + ".zst")
        level = RELEASE_LEVEL if tool == "floor-release" else level
        pipeline = f"unzip -p {shlex.quote(str(wheel))} | zstd -q -{level} --long={window_log} -T{default_threads()} -o {shlex.quote(str(target))}"
        return (*measured(["sh", "-c", f"set -e; {pipeline}"]), out)
    raise ValueError(tool)


# --------------------------------------------------------------------------- report


def table(rows: list[Row]) -> str:
    lines = [
        "| wheel | wheel MB | payload MB | tool | output MB | output ÷ wheel | wall s | CPU s | payload MB/s | peak RSS MiB |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out = f"{r.output_bytes / 1e6:.1f}" if r.output_bytes else "–"
        ratio = f"{r.ratio:.3f}" if r.ratio else "–"
        speed = f"{r.payload_bytes / 1e6 / r.seconds:.1f}" if r.ok and r.seconds else "–"
        tool = (f"{r.tool} ({r.note})" if r.note else r.tool) if r.ok else f"{r.tool} (failed: {r.note})"
        lines.append(
            f"| {r.wheel} | {r.wheel_bytes / 1e6:.1f} | {r.payload_bytes / 1e6:.1f} | {tool} | {out} | {ratio} | {r.seconds:.1f} | {r.cpu_seconds:.1f} | {speed} | {r.peak_rss_bytes / (1 << 20):.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    spec = FULL if os.environ.get("BENCH_SET", "small") == "full" else SMALL
    only = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
    if only:
        spec = [(req, prefix) for req, prefix in spec if any(part in req for part in only)]
    tools = [t.strip() for t in os.environ.get("BENCH_TOOLS", ",".join(DEFAULT_TOOLS)).split(",") if t.strip()]
    unknown = set(tools) - set(ALL_TOOLS)
    if unknown:
        print(f"bench: unknown tools {sorted(unknown)} (known: {', '.join(ALL_TOOLS)})", file=sys.stderr)
        return 2
    if "floor" in tools and not (shutil.which("unzip") and shutil.which("zstd")):
        print("bench: the floor needs the unzip and zstd command-line tools (apt-get install unzip zstd); skipping it", file=sys.stderr)
        tools.remove("floor")
    level = int(os.environ.get("BENCH_LEVEL", DEFAULT_LEVEL))
    wheels = wheels_for(spec, Path(os.environ.get("BENCH_WHEELS", WORK / "bench-wheels")))
    bindir = whl2conda_venv() if {"whl2conda", "cph"} & set(tools) else None
    print(f"machine: {machine()}", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-", dir=WORK) as scratch:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                payload = sum(i.file_size for i in zf.infolist())
            windows = {"floor": MAX_WINDOW_LOG, "floor-release": MAX_WINDOW_LOG}
            for tool in tools:
                window_log = windows.get(tool, MAX_WINDOW_LOG)
                seconds, rss, code, note, cpu, out = run_tool(tool, wheel, Path(scratch) / tool, level, bindir, window_log)
                if tool.startswith("wheel2conda") and code == 0:  # the floor of each compresses with its window
                    windows["floor-release" if tool == "wheel2conda-release" else "floor"] = chosen_window_log(out)
                outputs = [p for p in out.rglob("*") if p.is_file()]
                size = sum(p.stat().st_size for p in outputs) if code == 0 and outputs else None
                note = note if code else (f"--long={window_log}" if tool.startswith("floor") else f"window 2**{chosen_window_log(out)}")
                row = Row(wheel.name, wheel.stat().st_size, payload, tool, size, round(seconds, 2), rss, code == 0, note, round(cpu, 2))
                rows.append(row)
                print(table([row]).splitlines()[-1], flush=True)
    print()
    print(f"Machine: {machine()}")
    print(table(rows))
    for wheel_name in dict.fromkeys(r.wheel for r in rows):
        found = {r.tool: r for r in rows if r.wheel == wheel_name and r.ok}
        for tool, floor, target in (("wheel2conda", "floor", None), ("wheel2conda-release", "floor-release", 1.05)):
            if tool in found and floor in found:
                ratio = found[tool].seconds / found[floor].seconds
                cpu_ratio = found[tool].cpu_seconds / found[floor].cpu_seconds if found[floor].cpu_seconds else 0.0
                verdict = "" if target is None else f" (target ≤ {target}: {'met' if ratio <= target else 'MISSED'})"
                print(f"{wheel_name}: {tool} takes {ratio:.2f}x the wall time of its {floor} ({found[floor].note}){verdict}, {cpu_ratio:.2f}x its CPU time")
    results = Path(os.environ.get("BENCH_RESULTS", WORK / "bench-results.json"))
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"machine": machine(), "level": level, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    return 0 if all(r.ok for r in rows) else 1
