"""The main job on the bundled examples: wheels → conda packages → ./channel → a real install.

1. build the example wheels in ``examples/projects`` with pip (a pure one, a
   ``py3-none-manylinux`` one shaped like NVIDIA's component wheels);
2. ``wheel2conda convert … --channel ./channel``;
3. install them with py-rattler into a fresh prefix under ``.work/demo``, next to a stand-in
   for conda-forge's ``python`` that points at this machine's interpreter (so the demo runs
   offline; with network access you would use ``-c conda-forge`` instead);
4. import the packages and run their entry points from that prefix.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bridge.client import HOST_SUBDIR, install, run_in_prefix
from bridge.standin import HOST_PY, build_base_channel

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".work" / "demo"
CHANNEL = ROOT / "channel"
PROJECTS = ["greet", "hostinfo"]


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def run(*argv: str | Path) -> None:
    print("$", " ".join(str(a) for a in argv), flush=True)
    subprocess.run([str(a) for a in argv], check=True)


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    wheels = WORK / "wheels"
    step("build the example wheels with pip")
    for name in PROJECTS:
        run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT / "examples" / "projects" / name)
    for wheel in sorted(wheels.iterdir()):
        print("  ", wheel.name)

    step("convert them and publish into ./channel")
    run(Path(sys.executable).parent / "wheel2conda", "convert", wheels, "--channel", CHANNEL)

    step(f"install with py-rattler into a fresh prefix (python {HOST_PY} stand-in for conda-forge)")
    base = build_base_channel(WORK / "base-channel", pythons=(HOST_PY,), subdirs=(HOST_SUBDIR,))
    prefix = WORK / "prefix"
    records = install([CHANNEL, base], PROJECTS, prefix)
    for record in sorted(records, key=lambda r: r.name.normalized):
        print(f"   {record.name.normalized:12} {record.version!s:10} {record.build!s:12} {record.subdir}")

    step("run what was installed")
    checks = [
        ("greet",),
        ("hostinfo",),
        ("python", "-c", "import importlib.metadata as m; print('importlib.metadata sees', {d: m.version(d) for d in ('greet', 'hostinfo')})"),
    ]
    failed = 0
    for argv in checks:
        result = run_in_prefix(prefix, *argv)
        print(f"$ {' '.join(argv)}\n{result.stdout.strip()}{result.stderr.strip()}")
        failed += result.returncode != 0
    print(f"\nchannel: {CHANNEL}    prefix: {prefix}")
    print("demo", "FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
