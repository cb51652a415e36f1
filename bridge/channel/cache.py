"""The per-subdir index cache: ``<subdir>/.cache/wheel2conda.sqlite3`` (stdlib sqlite3).

For every package file it keeps the repodata record (as the exact JSON text that goes into
``repodata.json``, so an unchanged record is never encoded again) and the ``about.json``
subset, keyed by the file's name and *stat key* ``(size, mtime_ns, inode, ctime_ns)``.  A file
whose stat key is unchanged is not opened again.  It also keeps the stat keys of the
``repodata.json``/``.zst``/``patch_instructions.json`` it last wrote or read, so an untouched
subdir is not even re-serialised.  Saving writes only the rows that changed, in one
transaction, so adding one package to a large subdir costs one row.

Why inode and ctime: a package rewritten in place with the same size and a restored mtime
(``cp -p``, ``rsync -t``, ``touch -r``) keeps size and mtime, but gets a new ctime (POSIX
updates it on every write and it cannot be set by a user) and, when replaced by a rename, a
new inode.  On Windows ``st_ctime`` is the creation time, so an in-place rewrite that also
restores the mtime is not detected there: use ``wheel2conda index --rehash``.  Copying or
restoring a whole channel changes every inode, which costs one full re-read, never a stale
record.

The cache is derived data: a missing, unreadable, corrupt or foreign-version database means
"read every package again" (it is then recreated).  It is only touched under the channel lock.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

CACHE_DIR = ".cache"
CACHE_NAME = "wheel2conda.sqlite3"
CACHE_VERSION = 1

StatKey = str  #: ``"size:mtime_ns:inode:ctime_ns"`` (text: inodes can exceed sqlite's int64)


def stat_key(st: os.stat_result) -> StatKey:
    # Windows: os.scandir() entries report inode 0, so leave it out there for both ways of stat-ing
    ino = 0 if os.name == "nt" else st.st_ino
    return f"{st.st_size}:{st.st_mtime_ns}:{ino}:{st.st_ctime_ns}"


def path_key(path: Path) -> StatKey | None:
    """The stat key of ``path``, or None when it does not exist."""
    try:
        return stat_key(path.stat())
    except FileNotFoundError:
        return None


def encode_record(record: dict[str, Any]) -> str:
    """A record as it appears in repodata.json: compact, keys sorted."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


class Entry:
    """One package file: stat key, repodata record (dict and JSON text, each made on demand), about subset."""

    __slots__ = ("key", "_about", "_about_text", "_record", "_text")

    def __init__(
        self,
        key: StatKey,
        record: dict[str, Any] | None = None,
        about: dict[str, Any] | None = None,
        *,
        text: str | None = None,
        about_text: str = "{}",
    ):
        assert record is not None or text is not None
        self.key = key
        self._about = about
        self._about_text = about_text
        self._record = record
        self._text = text

    @property
    def about(self) -> dict[str, Any]:
        """The ``about.json`` subset (``records.ABOUT_KEYS``)."""
        if self._about is None:
            self._about = json.loads(self._about_text)
        return self._about

    @property
    def about_text(self) -> str:
        return self._about_text if self._about is None else json.dumps(self._about, sort_keys=True)

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None:
            self._record = json.loads(self._text)  # type: ignore[arg-type]
        return self._record

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = encode_record(self.record)
        return self._text

    def __repr__(self) -> str:
        return f"Entry({self.key}, {self.text})"


def parse_records(entries: Iterable[Entry]) -> None:
    """Decode the records of many entries in one ``json.loads`` call (much faster than one each)."""
    pending = [e for e in entries if e._record is None]
    if pending:
        for entry, record in zip(pending, json.loads("[" + ",".join(e.text for e in pending) + "]")):
            entry._record = record


_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, key TEXT NOT NULL, about TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outputs (name TEXT PRIMARY KEY, key TEXT);
CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY, summary TEXT NOT NULL);
"""


class SubdirCache:
    """One subdir's cached state, backed by sqlite: ``entries`` (file name → :class:`Entry`),
    ``outputs`` (file name → stat key of what the last index wrote or read) and ``summaries``
    (package name → its channeldata contribution, ``site.summarize``)."""

    def __init__(self, folder: Path):
        self.path = folder / CACHE_DIR / CACHE_NAME
        self.entries: dict[str, Entry] = {}
        self.outputs: dict[str, StatKey | None] = {}
        self.summaries: dict[str, dict[str, Any]] = {}
        self._stored: dict[str, Entry] = {}  # what the database holds
        self._stored_summaries: dict[str, dict[str, Any]] = {}

    @classmethod
    def load(cls, folder: Path) -> SubdirCache:
        cache = cls(folder)
        if not cache.path.is_file():
            return cache
        try:
            with closing(sqlite3.connect(cache.path)) as db:
                if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
                    return cache
                cache.entries = {
                    name: Entry(key, text=record, about_text=about)
                    for name, key, about, record in db.execute("SELECT name, key, about, record FROM files")
                }
                cache.outputs = dict(db.execute("SELECT name, key FROM outputs"))
                cache.summaries = {name: json.loads(text) for name, text in db.execute("SELECT name, summary FROM names")}
        except (sqlite3.Error, ValueError, TypeError):
            cache.entries, cache.outputs, cache.summaries = {}, {}, {}
        cache._stored, cache._stored_summaries = dict(cache.entries), dict(cache.summaries)
        return cache

    def lookup(self, name: str, key: StatKey) -> Entry | None:
        entry = self.entries.get(name)
        return entry if entry is not None and entry.key == key else None

    def save(self) -> None:
        """Write the rows that differ from what was loaded (recreating a broken database)."""
        try:
            self._save()
        except sqlite3.Error:
            self._drop()
            try:
                self._save()
            except sqlite3.Error:  # a full disk: the cache is derived data, so go without it
                self._drop()

    def _drop(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            path = Path(f"{self.path}{suffix}")
            if path.is_dir() and not path.is_symlink():
                continue
            path.unlink(missing_ok=True)
        self._stored, self._stored_summaries = {}, {}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute("PRAGMA synchronous = NORMAL")
            if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
                db.executescript("DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS outputs; DROP TABLE IF EXISTS names;")
                self._stored, self._stored_summaries = {}, {}
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {CACHE_VERSION}")
            gone = [(name,) for name in self._stored.keys() - self.entries.keys()]
            db.executemany("DELETE FROM files WHERE name = ?", gone)
            changed = [
                (name, e.key, e.about_text, e.text)
                for name, e in self.entries.items()
                if self._stored.get(name) is not e
            ]
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", changed)
            db.execute("DELETE FROM outputs")
            db.executemany("INSERT INTO outputs VALUES (?, ?)", list(self.outputs.items()))
            db.executemany("DELETE FROM names WHERE name = ?", [(n,) for n in self._stored_summaries.keys() - self.summaries.keys()])
            db.executemany(
                "INSERT OR REPLACE INTO names VALUES (?, ?)",
                [(n, json.dumps(v, sort_keys=True)) for n, v in self.summaries.items() if self._stored_summaries.get(n) != v],
            )
        self._stored, self._stored_summaries = dict(self.entries), dict(self.summaries)
