"""A real conda client for our own checks: solve and install with py-rattler.

Used by ``verify``, the demo and the tests.  Channels are local directories (``file://``);
nothing is fetched from the network.  Virtual packages are given explicitly (``__glibc=2.28``,
``__cuda=12.4``) or defaulted per platform, never detected, so results do not depend on the
machine that runs the check.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rattler
from rattler import BuildString, Channel, GenericVirtualPackage, PackageName, RepoDataRecord, Version
from rattler.exceptions import InvalidMatchSpecError, SolverError

#: conda subdir of this machine.
HOST_SUBDIR = str(rattler.Subdir.current())


class SolveError(RuntimeError):
    """The solver found no solution (or the specs were invalid); ``str()`` has rattler's message."""


def default_virtual_packages(platform: str) -> list[str]:
    """Virtual packages assumed for ``platform`` when the caller gives none."""
    if platform.startswith("linux-"):
        return ["__glibc=2.28", "__unix=0", "__linux=6.0"]
    if platform.startswith("osx-"):
        return ["__osx=13.0", "__unix=0"]
    if platform.startswith("win-"):
        return ["__win=0"]
    return []


def _virtual_packages(platform: str, extra: Sequence[str], defaults: bool) -> list[GenericVirtualPackage]:
    """Parse ``name=version[=build]`` (or space separated) entries; later ones override by name."""
    chosen: dict[str, tuple[str, str]] = {}
    for spec in [*(default_virtual_packages(platform) if defaults else []), *extra]:
        parts = spec.replace(" ", "=").split("=")
        if not 2 <= len(parts) <= 3 or not parts[0].startswith("__"):
            raise ValueError(f"virtual package must look like '__name=version[=build]': {spec!r}")
        chosen[parts[0]] = (parts[1], parts[2] if len(parts) == 3 else "0")
    return [GenericVirtualPackage(PackageName(n), Version(v), BuildString(b)) for n, (v, b) in chosen.items()]


def _channels(channels: Sequence[Path | str]) -> list[Channel]:
    return [Channel(channel_location(c)) for c in channels]


def channel_location(channel: Path | str) -> str:
    """A ``Path`` or existing directory as a ``file://`` URL; URLs and names (``conda-forge``) as given."""
    text = str(channel)
    if isinstance(channel, Path) or "://" not in text and (os.path.isdir(text) or os.sep in text or "/" in text):
        return Path(text).resolve().as_uri()
    return text


def solve(
    channels: Sequence[Path | str],
    specs: Sequence[str],
    *,
    platform: str = HOST_SUBDIR,
    virtual_packages: Sequence[str] = (),
    default_virtuals: bool = True,
    cache_dir: Path | None = None,
    timeout_s: float = 60.0,
) -> list[RepoDataRecord]:
    """Solve ``specs`` against local ``channels`` (strict priority, in order) for ``platform`` + noarch.

    ``virtual_packages`` (``"__glibc=2.28"``, ``"__cuda=12.4"``, ...) are added to, and
    override by name, :func:`default_virtual_packages` unless ``default_virtuals`` is
    False. Raises :class:`SolveError` with the solver's message when unsolvable.
    """
    vps = _virtual_packages(platform, virtual_packages, default_virtuals)
    with tempfile.TemporaryDirectory(prefix="rattler-repodata-") as tmp:
        gateway = rattler.Gateway(
            cache_dir=cache_dir or Path(tmp), default_config=rattler.SourceConfig(cache_action="no-cache")
        )
        try:
            return asyncio.run(
                rattler.solve(
                    _channels(channels),
                    list(specs),
                    gateway=gateway,
                    platforms=[platform, "noarch"],  # type: ignore[list-item]  # rattler's Literal of subdirs; a subdir string checked by our model
                    virtual_packages=vps,
                    timeout=datetime.timedelta(seconds=timeout_s),
                )
            )
        except (SolverError, InvalidMatchSpecError) as exc:
            raise SolveError(f"cannot solve {list(specs)} for {platform}:\n{exc}") from exc


def install(
    channels: Sequence[Path | str],
    specs: Sequence[str],
    prefix: Path,
    *,
    platform: str = HOST_SUBDIR,
    virtual_packages: Sequence[str] = (),
    default_virtuals: bool = True,
    cache_dir: Path | None = None,
) -> list[RepoDataRecord]:
    """Solve ``specs`` and install the result into ``prefix``; return the installed records.

    ``cache_dir`` is rattler's package cache; by default a fresh directory next to
    ``prefix`` (``.<prefix name>-pkgs``), so tests never share extracted packages.
    """
    records = solve(
        channels, specs, platform=platform, virtual_packages=virtual_packages, default_virtuals=default_virtuals
    )
    prefix = Path(prefix)
    if cache_dir is None:
        cache_dir = prefix.parent / f".{prefix.name}-pkgs"
    asyncio.run(
        rattler.install(
            records,
            target_prefix=prefix,
            cache_dir=cache_dir,
            platform=rattler.Subdir(platform),
            execute_link_scripts=False,
            show_progress=False,
        )
    )
    return records


def prefix_python(prefix: Path) -> Path:
    """The interpreter of a prefix installed for the host platform."""
    prefix = Path(prefix)
    return prefix / "python.exe" if sys.platform == "win32" else prefix / "bin" / "python"


def run_in_prefix(prefix: Path, *argv: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with ``prefix/bin`` first on ``PATH`` (``argv[0]`` taken from there if present).

    Output is captured as text, ``check=False``; ``PYTHONPATH``/``PYTHONHOME`` and
    venv variables of the test runner are removed. Keyword arguments go to
    :func:`subprocess.run` (``env`` entries are merged into the environment).
    """
    prefix = Path(prefix)
    bindir = prefix / "bin"
    candidate = bindir / argv[0]
    cmd = [str(candidate) if candidate.exists() else argv[0], *argv[1:]]
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX"}}
    env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])
    env.update(kw.pop("env", None) or {})
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("check", False)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, env=env, **kw)


# --------------------------------------------------------------------------- installing in a child process


@dataclass(frozen=True)
class InstalledRecord:
    """What :func:`install_isolated` reports of each installed package."""

    name: str  # normalized conda name
    version: str
    build: str
    subdir: str
    file_name: str
    url: str
    depends: tuple[str, ...] = ()


class InstallFailed(RuntimeError):
    """The installer reported an error (``kind``: its exception class) or died (``signal``)."""

    def __init__(self, message: str, kind: str, signal_name: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.signal_name = signal_name


#: Runs :func:`install` for the JSON request in argv[1]; prints one JSON line: the records, or
#: the error's class and message.
_CHILD = r"""
import json, os, sys
from pathlib import Path
from bridge.check.client import SolveError, install
request = json.loads(sys.argv[1])
try:
    records = install(
        request["channels"], request["specs"], Path(request["prefix"]), platform=request["platform"],
        virtual_packages=request["virtual_packages"], cache_dir=Path(request["cache_dir"]),
    )
except SolveError as exc:
    result = {"error": "SolveError", "message": str(exc)}
except ValueError as exc:
    result = {"error": "ValueError", "message": str(exc)}
except Exception as exc:
    result = {"error": type(exc).__name__, "message": str(exc)}
else:
    result = {"records": [
        {"name": r.name.normalized, "version": str(r.version), "build": str(r.build), "subdir": r.subdir, "file_name": r.file_name, "url": r.url, "depends": [str(d) for d in r.depends]}
        for r in records
    ]}
print(json.dumps(result), flush=True)
os._exit(0)  # no interpreter shutdown: tokio worker threads of a failed install can crash in it
"""


def install_isolated(
    channels: Sequence[Path | str],
    specs: Sequence[str],
    prefix: Path,
    *,
    platform: str = HOST_SUBDIR,
    virtual_packages: Sequence[str] = (),
    cache_dir: Path,
    timeout_s: float = 1800.0,
) -> list[InstalledRecord]:
    """:func:`install` in a child process, returning only once it has exited.

    When this returns or raises, nothing is still writing into ``prefix`` (py-rattler's
    installer runs tokio worker threads; cleaning up while they run races them), and a crash
    of the installer (a segfault in a worker thread) is an :class:`InstallFailed` naming the
    signal instead of the death of the caller.  Raises :class:`SolveError` when unsolvable,
    ``ValueError`` for a malformed virtual package, :class:`InstallFailed` otherwise.
    """
    request = {
        "channels": [channel_location(c) for c in channels],
        "specs": list(specs),
        "prefix": str(prefix),
        "platform": platform,
        "virtual_packages": list(virtual_packages),
        "cache_dir": str(cache_dir),
    }
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME",)}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(request)], capture_output=True, text=True, env=env, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        raise InstallFailed(f"the installer did not finish within {timeout_s:.0f} s", "Timeout") from None
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])  # printed before any crash at exit: the real outcome
    except (IndexError, ValueError):
        if done.returncode < 0:
            name = signal.Signals(-done.returncode).name
            raise InstallFailed(f"the installer crashed ({name})", "Crash", name) from None
        tail = " ".join(done.stderr.strip().splitlines()[-1:]) or f"exit status {done.returncode}"
        raise InstallFailed(f"the installer failed ({tail})", "Crash") from None
    if "records" in result:
        return [InstalledRecord(**{**r, "depends": tuple(r.get("depends") or ())}) for r in result["records"]]
    if result["error"] == "SolveError":
        raise SolveError(result["message"])
    if result["error"] == "ValueError":
        raise ValueError(result["message"])
    raise InstallFailed(result["message"], result["error"])
