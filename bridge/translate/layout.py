"""Where each install-scheme file of a wheel lands inside a conda package.  Pure functions.

===================  ==========================  =============================  ===================
scheme               noarch: python (pure, CEP20) version-specific, Unix         version-specific, Windows
===================  ==========================  =============================  ===================
purelib / platlib    ``site-packages/``           ``lib/pythonX.Y/site-packages`` ``Lib/site-packages``
scripts              ``python-scripts/``          ``bin/``                        ``Scripts/``
headers              ``include/<dist>/``          ``include/pythonX.Y/<dist>/``   ``Include/<dist>/``
data                 prefix root                  prefix root                     prefix root
===================  ==========================  =============================  ===================

``noarch: python`` packages are relocated by the client (``site-packages/`` → the
environment's site-packages, ``python-scripts/`` → ``bin``/``Scripts``) and get their entry
points from ``info/link.json``.  Version-specific packages are linked verbatim, so they carry
their own launchers (see :func:`unix_launcher` and :mod:`bridge.plan.launchers`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import EntryPoint, Scheme
from .tags import Target

#: The legacy conda-build placeholder; clients replace it with the environment prefix.
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"

#: Top-level names a package must not write into (client-owned).
RESERVED_ROOTS = ("info", "conda-meta")

@dataclass(frozen=True)
class CondaLayout:
    """Paths of one target's package."""

    target: Target
    dist_name: str  # project name, for the headers directory

    @property
    def site_packages(self) -> str:
        if self.target.noarch_python:
            return "site-packages"
        return self.target.python.site_packages(self.target.windows)

    @property
    def scripts_dir(self) -> str:
        if self.target.noarch_python:
            return "python-scripts"
        return "Scripts" if self.target.windows else "bin"

    def headers_dir(self) -> str:
        if self.target.noarch_python:
            return f"include/{self.dist_name}"
        if self.target.windows:
            return f"Include/{self.dist_name}"
        py = self.target.python
        return f"include/python{py.xy}{'t' if py.free_threaded else ''}/{self.dist_name}"

    def path_for(self, scheme: Scheme, path: str) -> str:
        """Archive path of a file installed under ``scheme`` at ``path``."""
        if scheme.in_site_packages:
            return f"{self.site_packages}/{path}"
        if scheme is Scheme.SCRIPTS:
            return f"{self.scripts_dir}/{path}"
        if scheme is Scheme.HEADERS:
            return f"{self.headers_dir()}/{path}"
        return path

    def installed_path(self, archive_path: str) -> str:
        """Where the client puts an archive path, relative to the prefix (Unix layout for noarch)."""
        if self.target.noarch_python:
            windows = self.target.windows
            if archive_path.startswith("site-packages/"):
                base = "Lib/site-packages" if windows else "lib/pythonX.Y/site-packages"
                return base + archive_path[len("site-packages") :]
            if archive_path.startswith("python-scripts/"):
                return ("Scripts" if windows else "bin") + archive_path[len("python-scripts") :]
        return archive_path

    def record_path(self, archive_path: str) -> str:
        """A RECORD entry: the installed path relative to the installed site-packages.

        Pure string work on relative paths (``posixpath.relpath`` would consult the working
        directory for every one of a devel tree's tens of thousands of files).
        """
        site = self.installed_path(f"{self.site_packages}/x").split("/")[:-1]
        path = self.installed_path(archive_path).split("/")
        common = 0
        while common < min(len(site), len(path) - 1) and site[common] == path[common]:
            common += 1
        return "/".join([".."] * (len(site) - common) + path[common:])

    @property
    def python_executable(self) -> str:
        """The environment's interpreter, written with the placeholder prefix."""
        return f"{PLACEHOLDER}/python.exe" if self.target.windows else f"{PLACEHOLDER}/bin/python"


def launcher_script(ep: EntryPoint) -> str:
    """The Python body of an entry-point launcher (the same shape pip and conda write)."""
    head = ep.attr.split(".", 1)[0]
    return (
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        f"from {ep.module} import {head}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({ep.attr}())\n"
    )


def unix_launcher(ep: EntryPoint, python: str) -> bytes:
    """``bin/<name>`` for a version-specific package: placeholder shebang + launcher body."""
    return f"#!{python}\n{launcher_script(ep)}".encode()


def windows_launcher_script(ep: EntryPoint) -> tuple[str, bytes]:
    """``(file name, content)`` of the script a setuptools-style ``<name>.exe`` runs.

    With no ``#!`` line the launcher runs ``python.exe`` from the parent of ``Scripts\\``,
    i.e. the environment's own interpreter, so no prefix placeholder is needed; gui scripts
    ask for ``pythonw.exe`` the same relative way.
    """
    if ep.gui:
        return f"{ep.name}-script.pyw", ("#!pythonw.exe\n" + launcher_script(ep)).encode()
    return f"{ep.name}-script.py", launcher_script(ep).encode()
