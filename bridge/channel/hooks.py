"""Post-index steps: code that derives more files from a freshly indexed channel.

The indexer runs every step after every index (``wheel2conda index``, every publish, remove and
yank), **while the channel lock is still held**, with the :class:`~bridge.channel.results.IndexResult`:
``result.channel`` and, per subdir, ``result.subdirs[s].repodata`` (what clients see, patches
applied) and ``.entries`` (every package file's record and ``about.json`` subset).  The built-in
steps come first: the site files (``site.py``: ``channeldata.json``, ``index.html``) and the PyPI
name maps (``pypi_map.py``); registered hooks follow, in registration order.  A step must write its
files atomically (``bridge.core.fsutil.atomic_write``) and only when their bytes change; the
paths it writes go into ``result.written``.  An exception propagates to the caller (the packages
and repodata are already in place at that point).

Example (a PyPI ↔ conda name mapping written next to the repodata)::

    from bridge.channel.hooks import register_post_index_hook

    def write_mapping(result):
        ...
    register_post_index_hook(write_mapping)
"""

from __future__ import annotations

from collections.abc import Callable

from .pypi_map import write_mapping_files
from .results import IndexResult
from .site import write_site_files

PostIndexStep = Callable[[IndexResult], None]

#: Steps every index runs, before the registered hooks.
BUILTIN_STEPS: tuple[PostIndexStep, ...] = (write_site_files, write_mapping_files)

_HOOKS: list[PostIndexStep] = []


def register_post_index_hook(hook: PostIndexStep) -> PostIndexStep:
    """Add ``hook`` (once); returns it, so this also works as a decorator."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def unregister_post_index_hook(hook: PostIndexStep) -> None:
    if hook in _HOOKS:
        _HOOKS.remove(hook)


def run_post_index_steps(result: IndexResult) -> None:
    """The built-in steps, then the registered hooks."""
    for step in (*BUILTIN_STEPS, *_HOOKS):
        step(result)
