"""A real conda client for our own checks: solve and install with py-rattler.

Used by ``verify``, the demo and the tests.  Channels are local directories (``file://``);
nothing is fetched from the network.  Virtual packages are given explicitly (``__glibc=2.28``,
``__cuda=12.4``) or defaulted per platform, never detected, so results do not depend on the
machine that runs the check.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
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
            cache_dir=cache_dir or tmp, default_config=rattler.SourceConfig(cache_action="no-cache")
        )
        try:
            return asyncio.run(
                rattler.solve(
                    _channels(channels),
                    list(specs),
                    gateway=gateway,
                    platforms=[platform, "noarch"],
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
