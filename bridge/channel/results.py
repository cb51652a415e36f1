"""What an index run hands to its post-index steps and callers: :class:`IndexResult` and one
:class:`SubdirIndex` per subdir (kept apart from ``index.py`` so the steps need not import the indexer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import BridgeError
from .cache import Entry
from .repodata import REPODATA, build_repodata, materialize


class SubdirIndex:
    """The outcome for one subdir.  ``repodata`` (what clients see, records as dicts) is built on
    first use; ``visible`` is the same with undecoded cache entries, for cheap counting."""

    def __init__(self, subdir: str, folder: Path, entries: dict[str, Entry], instructions: dict[str, Any]):
        self.subdir = subdir
        self.path = folder / REPODATA  #: its repodata.json
        self.entries = entries  #: every package file in the folder (yanked ones too), by file name
        self.instructions = instructions  #: its patch_instructions.json
        self.summaries: dict[str, dict[str, Any]] = {}  #: package name → its channeldata contribution
        self.changed = False  #: repodata.json/.zst were rewritten
        self.current = True  #: nothing in the folder changed since the last index (nothing was rebuilt)
        self.read = 0  #: packages opened and hashed (not served from the cache)
        self.skipped: list[BridgeError] = []  #: unreadable or misplaced packages
        self._visible: dict[str, Any] | None = None
        self._repodata: dict[str, Any] | None = None

    @property
    def visible(self) -> dict[str, Any]:
        if self._visible is None:
            self._visible = build_repodata(self.subdir, self.entries, self.instructions)
        return self._visible

    @property
    def repodata(self) -> dict[str, Any]:
        if self._repodata is None:
            self._repodata = materialize(self.visible)
        return self._repodata


@dataclass
class IndexResult:
    """The outcome of one index run: what post-index steps and reporters read."""

    channel: Path
    subdirs: dict[str, SubdirIndex]
    written: list[Path] = field(default_factory=list)  #: every file (re)written
    removed_temps: list[Path] = field(default_factory=list)  #: stale temporary files swept
    rehash: bool = False  #: every package was re-read (the site files are rewritten too)

    @property
    def skipped(self) -> list[BridgeError]:
        return [e for s in self.subdirs.values() for e in s.skipped]
