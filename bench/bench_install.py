"""What installers pay: cold installs from our channels with py-rattler against ``uv pip install``.

For each stack (downloaded once with ``pip download`` for this machine's Python, with every
dependency, into ``.work/bench-install/<stack>/wheels``), the wheels are converted three times into
three channels:

``auto``      the default: the zstd window chosen per package (docs/performance.md)
``w23``       ``--zstd-window-log 23``: every package asks for at most 8 MiB
``w27``       ``--zstd-window-log 27``: every large package asks for 128 MiB (the old default)

Then each channel is installed cold (fresh package cache, fresh prefix; a stand-in ``python`` from
``bridge.check.standin`` instead of conda-forge's) by py-rattler in a child process, and the same wheels
with ``uv pip install --no-index`` into a fresh venv with a fresh cache.  Printed: channel size,
wall time and peak RSS (``wait4``: the largest process) of each install, and the targets of issue 17:
install time ≤ uv's, rattler's peak RSS on ``auto`` ≤ 1.25× on ``w23``, ``auto``'s size ≤ 1.01× ``w27``'s.

Settings (environment):

``BENCH_INSTALL_STACKS``  comma-separated stack names (default: all of :data:`STACKS`)
``BENCH_INSTALL_RUNS``    installs per channel and tool; the median is shown (default 1)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".work" / "bench-install"
PY = f"{sys.version_info.major}.{sys.version_info.minor}"

#: stack name -> requirements (installed with their dependencies)
STACKS: dict[str, list[str]] = {
    "popular": ["numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "pyarrow", "requests", "pyyaml"],
    "cuda13": ["nvidia-cuda-runtime==13.*", "nvidia-cuda-nvrtc==13.*", "nvidia-nvjitlink==13.*", "nvidia-cublas==13.*"],
}
WINDOWS = {"auto": [], "w23": ["--zstd-window-log", "23"], "w27": ["--zstd-window-log", "27"]}

RATTLER_INSTALL = """
import os, sys
from pathlib import Path
from bridge.check.client import install
channel, base, prefix, cache = map(Path, sys.argv[1:5])
install([channel, base], sys.argv[5:], prefix, cache_dir=cache)
sys.stdout.flush()
os._exit(0)  # py-rattler may crash at interpreter exit after the work is done (as in bench_index)
"""


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, the largest process) of ``cmd``, which must succeed."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:6])} … failed:\n{err.read().decode(errors='replace')[-3000:]}")
    return seconds, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def download(stack: str, requirements: list[str]) -> Path:
    wheels = WORK / stack / "wheels"
    marker = wheels / ".complete"
    if not marker.exists():
        shutil.rmtree(wheels, ignore_errors=True)
        wheels.mkdir(parents=True)
        print(f"bench: downloading the {stack} stack into {wheels}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(wheels), *requirements], check=True)
        marker.write_text("")
    return wheels


def convert(stack: str, wheels: Path, variant: str) -> Path:
    """A channel holding the stack converted with the variant's window option (built once)."""
    channel = WORK / stack / f"channel-{variant}"
    marker = channel / ".complete"
    if not marker.exists():
        shutil.rmtree(channel, ignore_errors=True)
        cmd = [sys.executable, "-m", "bridge", "convert", str(wheels), "--channel", str(channel), "-q", "--progress", "none", *WINDOWS[variant]]
        subprocess.run(cmd, check=True)
        marker.write_text("")
    return channel


def channel_bytes(channel: Path) -> int:
    return sum(p.stat().st_size for p in channel.glob("*/*.conda"))


def top_level_names(requirements: list[str]) -> list[str]:
    """Conda names of the requested projects (PyPI names lower-cased; no version pins)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return [canonicalize_name(Requirement(r).name) for r in requirements]


def rattler_install(channel: Path, base: Path, specs: list[str], scratch: Path) -> tuple[float, int]:
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    cmd = [sys.executable, "-c", RATTLER_INSTALL, str(channel), str(base), str(scratch / "prefix"), str(scratch / "pkgs"), *specs]
    return measured(cmd, env={"PYTHONPATH": str(ROOT)})


def uv_install(wheels: Path, requirements: list[str], scratch: Path) -> tuple[float, int] | None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        return None
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(scratch / "venv")], check=True)
    env = {"UV_CACHE_DIR": str(scratch / "cache"), "VIRTUAL_ENV": str(scratch / "venv"), "UV_NO_PROGRESS": "1"}
    return measured([uv, "pip", "install", "-q", "--no-index", "--find-links", str(wheels), *requirements], env=env)


def median(samples: list[tuple[float, int]]) -> tuple[float, int]:
    return statistics.median(s for s, _ in samples), int(statistics.median(r for _, r in samples))


def main() -> int:
    from bridge.check.standin import build_base_channel

    chosen = [s.strip() for s in os.environ.get("BENCH_INSTALL_STACKS", ",".join(STACKS)).split(",") if s.strip()]
    runs = int(os.environ.get("BENCH_INSTALL_RUNS", "1"))
    base = WORK / "base-channel"
    if not (base / "noarch" / "repodata.json").exists():
        build_base_channel(base, pythons=(PY,))
    lines = [
        "| stack | channel | packages | size MB | rattler s | rattler peak RSS MiB | uv s | uv peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts: list[str] = []
    status = 0
    for stack in chosen:
        requirements = STACKS[stack]
        wheels = download(stack, requirements)
        specs = top_level_names(requirements)
        with tempfile.TemporaryDirectory(prefix="bench-install-", dir=WORK) as tmp:
            uv_runs = [r for r in (uv_install(wheels, requirements, Path(tmp) / f"uv{i}") for i in range(runs)) if r]
            uv = median(uv_runs) if uv_runs else None
            found: dict[str, tuple[int, float, int]] = {}
            for variant in WINDOWS:
                channel = convert(stack, wheels, variant)
                seconds, rss = median([rattler_install(channel, base, specs, Path(tmp) / f"{variant}{i}") for i in range(runs)])
                size = channel_bytes(channel)
                found[variant] = (size, seconds, rss)
                count = len(list(channel.glob("*/*.conda")))
                uv_text = f"{uv[0]:.1f} | {uv[1] / (1 << 20):.0f}" if uv else "– | –"
                lines.append(f"| {stack} | {variant} | {count} | {size / 1e6:.1f} | {seconds:.1f} | {rss / (1 << 20):.0f} | {uv_text} |")
                print(lines[-1], flush=True)
        size, seconds, rss = found["auto"]
        checks = [
            (f"{stack}: rattler install ≤ uv's time", uv is None or seconds <= uv[0], f"{seconds:.1f} s vs {uv[0]:.1f} s" if uv else "uv not installed"),
            (f"{stack}: peak RSS ≤ 1.25× the w23 channel's", rss <= 1.25 * found["w23"][2], f"{rss / (1 << 20):.0f} vs {found['w23'][2] / (1 << 20):.0f} MiB"),
            (f"{stack}: size ≤ 1.01× the w27 channel's", size <= 1.01 * found["w27"][0], f"{size / 1e6:.1f} vs {found['w27'][0] / 1e6:.1f} MB"),
        ]
        for text, ok, numbers in checks:
            verdicts.append(f"{'met ' if ok else 'MISSED'} {text}: {numbers}")
    print()
    print("\n".join(lines))
    print()
    print("\n".join(verdicts))
    return status


if __name__ == "__main__":
    sys.exit(main())
