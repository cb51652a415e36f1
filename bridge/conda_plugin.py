"""conda plugin: ``conda wheel2conda …`` runs the wheel2conda command line.

Declared in the ``conda`` entry-point group (``pyproject.toml``), which conda reads when it
starts; where conda is not installed nobody loads this module, and importing it anyway
registers nothing.  wheel2conda does not depend on conda.

The subcommand has no ``configure_parser``: conda hands over the arguments after
``conda wheel2conda`` untouched and wheel2conda parses them itself, so every command, flag,
exit code and ``--json`` document is the same as ``wheel2conda …``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from typing import Any

NAME = "wheel2conda"
SUMMARY = "Convert wheels to conda packages and back, inspect them, and publish local channels (wheel2conda)."


def run(args: Sequence[str] | argparse.Namespace) -> int:
    """The subcommand's action; returns the exit code conda exits with."""
    from .cli import main

    argv = list(map(str, args)) if not isinstance(args, argparse.Namespace) else sys.argv[2:]
    try:
        return main(argv, prog=f"conda {NAME}")
    except SystemExit as exc:  # --help, --version and usage errors: conda wants a return code
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)


try:
    from conda import plugins
except ImportError:  # no conda here: there is nothing to plug into
    plugins = None

if plugins is not None:

    @plugins.hookimpl
    def conda_subcommands() -> Iterator[Any]:
        yield plugins.CondaSubcommand(name=NAME, summary=SUMMARY, action=run)

    @plugins.hookimpl
    def conda_virtual_packages() -> Iterator[Any]:
        """``__amdgpu``: this machine's AMD GPU targets (``bridge/gpu/amdgpu.py``), overridable
        with ``CONDA_OVERRIDE_AMDGPU`` like ``__cuda`` with ``CONDA_OVERRIDE_CUDA``."""
        from conda.auxlib import NULL
        from conda.plugins.types import CondaVirtualPackage

        from .gpu.amdgpu import NAME, VERSION, detected_build

        yield CondaVirtualPackage(
            name=NAME,
            version=VERSION,
            build=lambda: detected_build() or NULL,  # deferred; NULL: no AMD GPU, no __amdgpu
            override_entity="build",
        )
