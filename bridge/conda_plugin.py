"""conda plugin: ``conda wheel2conda …`` runs the wheel2conda command line.

Declared in the ``conda`` entry-point group (``pyproject.toml``), which conda reads each time
it starts, whatever command it runs: this module must never break conda.  So

* at load time it imports nothing but ``conda.plugins.hookimpl`` (and only the standard
  library besides): the plugin types are imported, and the hook's results built, when conda
  calls the hook, inside :func:`_guarded`;
* every hook yields what its builder returns, or nothing when building fails (conda carries
  on without the plugin; the failure is logged on conda's ``conda.wheel2conda`` logger);
* the subcommand's action imports wheel2conda's command line only when ``conda wheel2conda``
  runs, and turns any failure into a message and an exit code.

API: conda 26's, read from its source (github.com/conda/conda 26.7.1): ``conda.plugins``
exports only ``hookimpl``; the plugin types live in ``conda.plugins.types``; hook names are
``CondaSpecs``' methods in ``conda/plugins/hookspec.py``.  ``tests/data/conda_plugin_api.json``
records those names, and ``tests/test_conda_plugin.py`` fails if this module uses any other.

To add a hook (e.g. ``conda_virtual_packages``): write a builder that returns a list of plugin
objects (importing ``conda.plugins.types`` inside it), then::

    @hookimpl
    def conda_virtual_packages() -> Iterator[object]:
        yield from _guarded(_virtual_packages)

The subcommand has no ``configure_parser``: conda hands over the arguments after
``conda wheel2conda`` untouched and wheel2conda parses them itself, so every command, flag,
exit code and ``--json`` document is the same as ``wheel2conda …``.  wheel2conda does not
depend on conda; where conda is not installed nobody loads this module.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence

try:
    from conda.plugins import hookimpl
except Exception:  # no conda (or one without plugins): the hooks below are plain functions nobody calls

    def hookimpl(function: Callable) -> Callable:  # type: ignore[no-redef]
        return function


NAME = "wheel2conda"
SUMMARY = "Convert wheels to conda packages and back, inspect them, and publish local channels (wheel2conda)."

log = logging.getLogger("conda.wheel2conda")  # under conda's logger: shown with conda's -v flags


def _guarded(build: Callable[[], Sequence[object]]) -> Iterator[object]:
    """What ``build`` returns, or nothing (logged) when it fails: a hook must never break conda."""
    try:
        items = list(build())
    except Exception as exc:  # an API change, a broken install: conda runs on without this plugin
        log.debug("wheel2conda: %s failed: %s: %s", build.__name__, type(exc).__name__, exc)
        return
    yield from items


# -- conda_subcommands: ``conda wheel2conda …`` --------------------------------------------------


def run(args: Sequence[str] | object) -> int:
    """The subcommand's action: conda passes the arguments after ``conda wheel2conda`` (a tuple).

    Returns the exit code conda exits with; never raises (usage errors, ``--help`` and
    ``--version`` included, which argparse ends with SystemExit).
    """
    argv = [str(a) for a in args] if isinstance(args, (list, tuple)) else sys.argv[2:]  # not conda 26's tuple: the process's own
    try:
        from .cli import main
    except Exception as exc:  # a broken install: say so here, not in every conda command
        print(f"conda {NAME}: error: cannot load wheel2conda ({type(exc).__name__}: {exc}); reinstall it", file=sys.stderr)
        return 1
    try:
        return main(argv, prog=f"conda {NAME}")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)


def _subcommands() -> list[object]:
    from conda.plugins.types import CondaSubcommand

    return [CondaSubcommand(name=NAME, summary=SUMMARY, action=run)]


@hookimpl
def conda_subcommands() -> Iterator[object]:
    yield from _guarded(_subcommands)


# -- conda_virtual_packages: ``__amdgpu`` ---------------------------------------------------------


def _virtual_packages() -> list[object]:
    """``__amdgpu``: this machine's AMD GPU targets (``bridge/gpu/amdgpu.py``), overridable with
    ``CONDA_OVERRIDE_AMDGPU`` like ``__cuda`` with ``CONDA_OVERRIDE_CUDA``; not exported without one
    (conda's ``NULL``, as its own virtual packages do)."""
    import dataclasses

    from conda.plugins.types import CondaVirtualPackage

    from .gpu.amdgpu import NAME as AMDGPU
    from .gpu.amdgpu import VERSION, detected_build

    # conda's NULL ("do not export") is the default of CondaVirtualPackage.empty_override
    # (conda/plugins/types.py, 26.7.1): taken from there, so only plugin-API names are imported
    null = next(f.default for f in dataclasses.fields(CondaVirtualPackage) if f.name == "empty_override")
    return [CondaVirtualPackage(name=AMDGPU, version=VERSION, build=lambda: detected_build() or null, override_entity="build")]


@hookimpl
def conda_virtual_packages() -> Iterator[object]:
    yield from _guarded(_virtual_packages)
