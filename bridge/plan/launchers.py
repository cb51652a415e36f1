"""Windows entry-point launchers (``<name>.exe``) taken from the installed setuptools.

setuptools ships the classic launchers (``cli-64.exe``, ``gui-64.exe``, ``cli-arm64.exe``,
…): ``<name>.exe`` runs ``<name>-script.py`` (``-script.pyw`` for gui) beside it, with the
interpreter its first line names, resolved relative to the environment when not absolute.
conda-build ships the same pair in version-specific Windows packages.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from ..core.errors import Unsupported

_ARCH = {"win-64": "64", "win-arm64": "arm64", "win-32": "32"}


@cache
def windows_launcher(subdir: str, gui: bool) -> bytes:
    """The launcher executable for ``subdir`` (console or gui flavour)."""
    arch = _ARCH.get(subdir)
    if arch is None:
        raise Unsupported(None, f"no Windows launcher for subdir {subdir}")
    name = f"{'gui' if gui else 'cli'}-{arch}.exe"
    try:
        return resources.files("setuptools").joinpath(name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        raise Unsupported(
            None,
            f"setuptools' {name} launcher is not available",
            hint="install setuptools>=64 next to wheel2conda to convert Windows wheels with entry points",
        ) from None
