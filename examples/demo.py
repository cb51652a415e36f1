"""The main job on the bundled examples: wheels → conda packages → ./channel → a real install.

1. build the example wheels in ``examples/projects`` with pip: a pure one, a
   ``py3-none-manylinux`` one shaped like NVIDIA's component wheels, and one built twice per
   backend (``+cpu``, ``+cu124``) like the PyTorch ecosystem's GPU wheels;
2. ``wheel2conda convert … --channel ./channel``;
3. install them with py-rattler into a fresh prefix under ``.work/demo``, next to a stand-in
   for conda-forge's ``python`` that points at this machine's interpreter (so the demo runs
   offline; with network access you would use ``-c conda-forge`` instead);
4. import the packages and run their entry points from that prefix;
5. install again as if on a machine with a CUDA 12.4 driver (virtual package ``__cuda``): the
   solver now picks the ``cu124`` build of the same package.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from bridge.check.client import HOST_SUBDIR, install, run_in_prefix
from bridge.check.standin import HOST_PY, build_base_channel

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("WHEEL2CONDA_DEMO_WORK", ROOT / ".work" / "demo"))  # overridable for the test
CHANNEL = Path(os.environ.get("WHEEL2CONDA_DEMO_CHANNEL", ROOT / "channel"))
PROJECTS = ["greet", "hostinfo"]
VARIANTS = {"tinyattn": ["cpu", "cu124"]}  # built once per backend, like torch+cpu / torch+cu124


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def run(*argv: str | Path, env: dict[str, str] | None = None) -> None:
    shown = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    print("$", shown + (" " if shown else "") + " ".join(str(a) for a in argv), flush=True)
    subprocess.run([str(a) for a in argv], check=True, env={**os.environ, **(env or {})})


def build_wheel(project: str, wheels: Path, env: dict[str, str] | None = None) -> None:
    """pip-build a copy of the project (setuptools writes build/ into the source tree).

    SOURCE_DATE_EPOCH makes the wheels reproducible, so running the demo again republishes
    identical packages (a no-op) instead of different bytes under the same name (refused).
    """
    source = WORK / "src" / (project + "".join(f"-{v}" for v in (env or {}).values()))
    shutil.copytree(ROOT / "examples" / "projects" / project, source)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1704067200")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", wheels, source, env=env)


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    wheels = WORK / "wheels"
    step("build the example wheels with pip")
    for name in PROJECTS:
        build_wheel(name, wheels)
    for name, backends in VARIANTS.items():
        for backend in backends:
            build_wheel(name, wheels, env={"TINYATTN_BACKEND": backend})
    for wheel in sorted(wheels.iterdir()):
        print("  ", wheel.name)

    step("convert them and publish into ./channel")
    run(Path(sys.executable).parent / "wheel2conda", "convert", wheels, "--channel", CHANNEL)

    step(f"install with py-rattler into a fresh prefix (python {HOST_PY} stand-in for conda-forge)")
    base = build_base_channel(WORK / "base-channel", pythons=(HOST_PY,), subdirs=(HOST_SUBDIR,))
    prefix = WORK / "prefix"
    records = install([CHANNEL, base], [*PROJECTS, *VARIANTS], prefix)
    show(records)

    step("run what was installed")
    checks = [
        ("greet",),
        ("hostinfo",),
        ("tinyattn",),
        ("python", "-c", 'import importlib.metadata as m; print("importlib.metadata sees", {d: m.version(d) for d in ("greet", "hostinfo", "tinyattn")})'),
    ]
    failed = 0
    for argv in checks:
        result = run_in_prefix(prefix, *argv)
        print(f"$ {shlex.join(argv)}\n{result.stdout.strip()}{result.stderr.strip()}")
        failed += result.returncode != 0
    step("the same install on a machine with a CUDA 12.4 driver (virtual package __cuda=12.4)")
    gpu_prefix = WORK / "prefix-cuda"
    show(install([CHANNEL, base], list(VARIANTS), gpu_prefix, virtual_packages=["__cuda=12.4"]))
    result = run_in_prefix(gpu_prefix, "tinyattn")
    print(f"$ tinyattn\n{result.stdout.strip()}{result.stderr.strip()}")
    failed += result.returncode != 0 or "cu124 build" not in result.stdout
    print(f"\nchannel: {CHANNEL}    prefixes: {prefix}, {gpu_prefix}")
    print("demo", "FAILED" if failed else "OK")
    return 1 if failed else 0


def show(records: list) -> None:
    for record in sorted(records, key=lambda r: r.name.normalized):
        print(f"   {record.name.normalized:12} {record.version!s:10} {record.build!s:12} {record.subdir}")


if __name__ == "__main__":
    raise SystemExit(main())
