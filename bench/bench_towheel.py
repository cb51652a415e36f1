"""Benchmark: conda → wheel throughput and memory, deflate on 1 thread vs all cores.

Builds a linux-64 package with a semi-compressible payload (random blocks interleaved with
repeated text, like shared libraries), converts it with ``--threads 1`` and ``--threads 0``,
and prints seconds, MB/s, output size and peak RSS.  Each conversion runs in a fresh process
(``python -m bench.bench_towheel PACKAGE OUT THREADS MIB``), so peak RSS is the converter's own.

Settings (environment): ``BENCH_TOWHEEL_MIB``, payload size in MiB (default 256).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bridge.check.standin import build_conda_package
from bridge.pipelines.to_wheel import ToWheelOptions, to_wheel
from bridge.sinks.settings import WheelCompression, WriteSettings

REPO = Path(__file__).resolve().parents[1]


def payload(mib: int) -> bytes:
    block = os.urandom(1 << 16) + (b"kernel gfx1030 v_add_f32 " * 2700)[: 1 << 16]
    return (block * (mib * 8))[: mib << 20]


def main() -> int:
    mib = int(os.environ.get("BENCH_TOWHEEL_MIB", "256"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = payload(mib)
        pkg = build_conda_package(
            root / "linux-64",
            {"name": "bench", "version": "1.0", "build": "py312_rocm7.11_0", "depends": ["python_abi 3.12.* *_cp312", "__glibc >=2.28"]},
            {"lib/python3.12/site-packages/bench/__init__.py": "", "lib/python3.12/site-packages/bench/libbig.so": data},
            symlinks={"lib/python3.12/site-packages/bench/libbig.so.1": "libbig.so"},
        )
        del data
        for threads in (1, 0):
            proc = subprocess.run(
                [sys.executable, "-m", "bench.bench_towheel", str(pkg), str(root / f"t{threads}"), str(threads), str(mib)],
                capture_output=True, text=True, check=True, cwd=REPO,
            )
            print(proc.stdout, end="")
    return 0


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM on Linux: ru_maxrss survives exec and counts the parent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def convert(pkg: str, out: str, threads: int, mib: int) -> None:
    """One conversion in a fresh process, so peak RSS is the converter's own."""
    start = time.perf_counter()
    wheel = to_wheel(pkg, out, ToWheelOptions(), WriteSettings(wheel_compression=WheelCompression(threads=threads))).outputs[0]
    seconds = time.perf_counter() - start
    rss = peak_rss_mib()
    print(
        f"threads={threads or os.cpu_count()}: {seconds:.1f} s, {mib / seconds:.0f} MiB/s of payload, "
        f"wheel {Path(wheel).stat().st_size / 2**20:.1f} MiB, peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    package, out, threads, mib = sys.argv[1:]
    convert(package, out, int(threads), int(mib))
