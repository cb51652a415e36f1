"""``recipes build``: convert the recipes that changed and publish them, one recipe at a time.

A recipe is up to date when the channel's state file records its content hash and every
package it produced is in the channel's repodata.  Otherwise its files are downloaded (into a
cache keyed by sha256, verified on the way), converted into a staging folder, and only when
every file converted are the packages handed to :func:`bridge.channel.publish.publish`, which
places them atomically under the channel lock.  The state is updated after that.  A crash at
any point leaves at worst unindexed (invisible) files, and the next run picks up where it
stopped: republishing identical bytes is a no-op.

A recipe that fails for a reason of its own (a wheel that does not convert, a conflict with what
the channel holds) is remembered with its content hash and reason, and is reported as
``skipped`` — not retried — until the recipe changes or ``retry_failed`` is given.  Network
failures are not remembered: the next run tries again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..channel.lock import channel_lock
from ..channel.publish import publish
from ..channel.repodata import iter_records
from ..core.digest import sha256_bytes
from ..core.errors import BadInput, BridgeError, Conflict
from ..core.fsutil import atomic_write
from ..pipelines.convert import convert_into_channel, convert_rocm_meta, convert_wheel
from ..pipelines.outcome import Outcome
from ..plan.types import ExtrasChoice
from ..sinks.settings import WriteSettings
from .cachedir import default_cache_dir
from .http import FetchError, Http
from .model import Recipe, SourceFile
from .regenerate import load_recipes

STATE_FILE = Path(".wheel2conda") / "recipes-state.json"
#: What became of a recipe; ``unreadable``: its file could not be read (no recipe id, not counted).
Status = Literal["built", "unchanged", "failed", "skipped", "unreadable"]
Log = Callable[[str], None]


@dataclass(frozen=True)
class BuildDetail:
    """What ``recipes build`` reports of one recipe; its packages in the channel are the outcome's
    outputs (sorted by channel-relative path), its input the recipe id (the file, when unreadable).

    A ``skipped`` recipe carries the reason it failed before as its error, without failing again.
    """

    status: Status
    published: dict[Path, str] = field(default_factory=dict)  # output → added/unchanged/replaced (built only)
    downloaded: int = 0  # bytes fetched this run (cache misses)


class DownloadCache:
    """Downloads kept by sha256: ``<root>/<sha256[:2]>/<sha256>/<file name>``."""

    def __init__(self, root: Path, http: Http):
        self.root = root
        self.http = http

    def path(self, f: SourceFile) -> Path:
        return self.root / f.sha256[:2] / f.sha256 / f.name

    def fetch(self, f: SourceFile) -> tuple[Path, int]:
        """The cached file (downloaded and verified when missing) and the bytes downloaded."""
        path = self.path(f)
        if path.is_file():
            return path, 0
        self.http.download(f.url, path, f.sha256)
        return path, path.stat().st_size

    def evict(self, f: SourceFile) -> None:
        self.path(f).unlink(missing_ok=True)


def read_state(channel: Path) -> dict[str, Any]:
    path = channel / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(path, f"unreadable build state ({exc})", hint="delete it to rebuild every recipe") from None
    return data.get("recipes", {}) if isinstance(data, dict) else {}


def _record_state(channel: Path, recipe_id: str, entry: dict[str, Any]) -> None:
    with channel_lock(channel):
        state = read_state(channel)
        state[recipe_id] = entry
        doc = {"version": 1, "recipes": dict(sorted(state.items()))}
        atomic_write(channel / STATE_FILE, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())


def _indexed(channel: Path) -> set[str]:
    """``<subdir>/<file>`` of every package listed in the channel's repodata."""
    return {f"{p.subdir}/{p.filename}" for p in iter_records(channel, skip_broken=True)}


def build(
    root: Path,
    channel: Path,
    http: Http,
    *,
    cache_dir: Path | None = None,
    only: list[str] | None = None,
    force: bool = False,
    retry_failed: bool = False,
    settings: WriteSettings | None = None,
    extras: ExtrasChoice | None = None,
    log: Log = lambda _m: None,
) -> list[Outcome[BuildDetail]]:
    """Build and publish every recipe under ``root`` whose content is not yet in ``channel``.

    One outcome per recipe file that could not be read (first), then per recipe, by id.
    ``extras`` overrides every recipe's choice of extras packages (and counts as a change).
    Recipes that failed before with the same content are skipped unless ``retry_failed``.
    """
    if not Path(root).is_dir():
        raise BadInput(root, "no such recipes folder", hint="run 'wheel2conda recipes regenerate' first, or pass --recipes DIR")
    unreadable: list[BridgeError] = []
    recipes = load_recipes(root, unreadable)
    outcomes = [Outcome(Path(e.path) if e.path else Path(root), BuildDetail("unreadable"), error=e) for e in unreadable]
    if only:
        recipes = {i: e for i, e in recipes.items() if any(i == o or i.startswith(o.rstrip("/") + "/") for o in only)}
    created = not channel.exists()  # made only when a recipe is built; removed again if left empty
    state = read_state(channel)
    indexed = _indexed(channel)
    cache = DownloadCache(cache_dir or default_cache_dir(), http)
    for recipe_id in sorted(recipes):
        path = recipes[recipe_id].path
        digest = sha256_bytes((path.read_text(encoding="utf-8") + (f"\n# --extras {extras}\n" if extras is not None else "")).encode("utf-8"))
        entry = state.get(recipe_id) or {}
        if not force and entry.get("hash") == digest and entry.get("packages") and all(p in indexed for p in entry["packages"]):
            outcomes.append(Outcome(recipe_id, BuildDetail("unchanged"), [channel / p for p in entry["packages"]]))
            continue
        if not (force or retry_failed) and entry.get("hash") == digest and isinstance(entry.get("failed"), str):
            reason = f"failed before with the same inputs ({entry['failed']})"
            hint = "not retried until the recipe changes; --retry-failed tries again"
            outcomes.append(Outcome(recipe_id, BuildDetail("skipped"), error=Conflict(recipe_id, reason, hint=hint)))
            continue
        started = time.monotonic()
        item = _build_one(recipes[recipe_id].recipe, root, channel, cache, settings or WriteSettings(), log, extras)
        item.seconds = time.monotonic() - started
        if item.detail.status == "built":
            _record_state(channel, recipe_id, {"hash": digest, "packages": [in_channel(channel, p) for p in item.outputs]})
        elif item.error is not None and not isinstance(item.error, FetchError):  # the recipe's own failure
            _record_state(channel, recipe_id, {"hash": digest, "failed": item.error.one_line()})
        outcomes.append(item)
    if created and channel.is_dir() and not any(channel.iterdir()):
        channel.rmdir()
    return outcomes


def in_channel(channel: Path, path: Path) -> str:
    """``<subdir>/<file>`` of a package path under ``channel`` (how the state and reports name it)."""
    return path.relative_to(channel).as_posix()


def _build_one(
    recipe: Recipe, root: Path, channel: Path, cache: DownloadCache, settings: WriteSettings, log: Log, extras: ExtrasChoice | None = None
) -> Outcome[BuildDetail]:
    item = Outcome(recipe.id, BuildDetail("failed"))
    status: Status = "failed"
    downloaded = 0
    published: dict[Path, str] = {}
    try:
        options = recipe.conversion_options(root, extras)
        sources: list[tuple[SourceFile, Path]] = []
        for f in recipe.files:
            log(f"{recipe.id}: fetching {f.name}")
            path, fetched = cache.fetch(f)
            downloaded += fetched
            sources.append((f, path))
        with convert_into_channel(channel) as stage:
            outputs: list[Path] = []
            for n, (f, path) in enumerate(sources):
                log(f"{recipe.id}: converting {f.name}")
                # one folder per source: packages for different subdirs may share a file name
                if recipe.kind == "meta":  # ROCm's rocm sdist: the per-family meta package
                    meta_extras = ["devel"] if any(r.startswith("rocm-sdk-devel") for r in recipe.meta_requires) else []
                    done = convert_rocm_meta(path, Path(stage) / str(n), options, extras=meta_extras, settings=settings)
                else:
                    done = convert_wheel(path, Path(stage) / str(n), options, settings)
                if done.error is not None:
                    raise done.error
                for pkg in done.detail.packages:
                    actual = pkg.provenance.source_sha256
                    if actual and actual != f.sha256:
                        cache.evict(f)
                        raise FetchError(str(path), f"cached file has sha256 {actual}, recipe pins {f.sha256}", hint="evicted from the cache; run again")
                outputs.extend(done.outputs)
            placed = publish(channel, outputs)
        published = {p.path: p.status for p in placed}  # a file two sources made alike: listed twice, its last status
        item.outputs = sorted((p.path for p in placed), key=lambda p: in_channel(channel, p))
        status = "built"
    except BridgeError as exc:
        item.error = exc
    item.detail = BuildDetail(status, published, downloaded)
    return item
