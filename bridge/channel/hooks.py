"""Post-index hooks: code that derives more files from a freshly indexed channel.

A hook is called after every index (``wheel2conda index``, every publish, remove and yank),
**while the channel lock is still held**, with the :class:`~bridge.channel.index.IndexResult`:
``result.channel`` and, per subdir, ``result.subdirs[s].repodata`` (what clients see, patches
applied) and ``.entries`` (every package file's record and ``about.json`` subset).  A hook must
write its files atomically (``bridge.core.fsutil.atomic_write``) and only when their bytes change;
the paths it writes go into ``result.written``.  An exception propagates to the caller (the
packages and repodata are already in place at that point).

Example (a PyPI ↔ conda name mapping written next to the repodata)::

    from bridge.channel.hooks import register_post_index_hook

    def write_mapping(result):
        ...
    register_post_index_hook(write_mapping)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .index import IndexResult

PostIndexHook = Callable[["IndexResult"], None]

_HOOKS: list[PostIndexHook] = []


def register_post_index_hook(hook: PostIndexHook) -> PostIndexHook:
    """Add ``hook`` (once); returns it, so this also works as a decorator."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def unregister_post_index_hook(hook: PostIndexHook) -> None:
    if hook in _HOOKS:
        _HOOKS.remove(hook)


def run_post_index_hooks(result: IndexResult) -> None:
    for hook in list(_HOOKS):
        hook(result)
