"""Files for people and catalogues: ``channeldata.json`` (CEP 38) and ``index.html`` listings.

Clients do not need them (conda-format.md §8.2); they are derived from the indexed subdirs,
deterministic (no wall-clock time), and written atomically only when their bytes change.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core.fsutil import atomic_write
from .cache import encode_record
from .records import version_key
from .results import IndexResult, SubdirIndex

CHANNELDATA = "channeldata.json"
INDEX_HTML = "index.html"


def write_site_files(result: IndexResult) -> None:
    """Post-index step: :func:`write_site` for the indexed channel."""
    result.written += write_site(result.channel, result.subdirs, refresh=result.rehash)


def write_site(channel: Path, subdirs: Mapping[str, SubdirIndex], *, refresh: bool = False) -> list[Path]:
    """Write ``channeldata.json`` and ``index.html`` when a subdir changed (or ``refresh``, or one is
    missing); return the paths whose bytes changed."""
    targets = (channel / CHANNELDATA, channel / INDEX_HTML)
    if not refresh and all(s.current for s in subdirs.values()) and all(p.is_file() for p in targets):
        return []
    channeldata = build_channeldata(subdirs)
    files = {
        targets[0]: dump_channeldata(channeldata),
        targets[1]: channel_html(channel.resolve().name, channeldata, subdirs).encode(),
    }
    return [path for path, data in files.items() if write_if_changed(path, data)]


def dump_channeldata(channeldata: Mapping[str, Any]) -> bytes:
    """Sorted keys, one package per line (an indented dump is several times slower)."""
    parts = []
    for key in sorted(channeldata):
        value = channeldata[key]
        if key == "packages":
            lines = ",\n".join(f"{json.dumps(name)}:{encode_record(value[name])}" for name in sorted(value))
            parts.append(f'"packages":{{\n{lines}\n}}')
        else:
            parts.append(f"{json.dumps(key)}:{json.dumps(value, sort_keys=True)}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()


def write_if_changed(path: Path, data: bytes) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write(path, data)
    return True


def summarize(builds: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, Any]:
    """One subdir's channeldata entry for one name, from its visible ``(record, about)`` pairs:
    the newest version (conda order; newest timestamp among its builds) with its license and
    about fields."""
    record, about = max(builds, key=lambda b: (version_key(str(b[0].get("version", "0"))), b[0].get("timestamp", 0)))
    info = {
        "version": str(record.get("version", "0")),
        "timestamp": record.get("timestamp", 0),
        "license": about.get("license") or record.get("license"),
        **{k: about[k] for k in ("summary", "home", "dev_url", "doc_url") if about.get(k)},
    }
    return {k: v for k, v in info.items() if v is not None}


def build_channeldata(subdirs: Mapping[str, SubdirIndex]) -> dict[str, Any]:
    """CEP 38 ``channeldata.json`` merged from the subdirs' per-name summaries (yanked builds do not count)."""
    by_name: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for subdir, sub in subdirs.items():
        for name, info in sub.summaries.items():
            by_name.setdefault(name, []).append((subdir, info))
    packages = {}
    for name in sorted(by_name):
        found = by_name[name]
        _, newest = max(found, key=lambda f: (version_key(f[1]["version"]), f[1].get("timestamp", 0)))
        packages[name] = {**newest, "subdirs": sorted(subdir for subdir, _ in found)}
    return {"channeldata_version": 1, "packages": packages, "subdirs": sorted(subdirs)}


_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}td.n{text-align:right}"
    "code{font-size:85%}"
)


def _page(title: str, body: str) -> str:
    t = html.escape(title)
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{t}</title>'
        f"<style>{_STYLE}</style></head>\n<body><h1>{t}</h1>\n{body}</body></html>\n"
    )


def _date(timestamp_ms: Any) -> str:
    if not isinstance(timestamp_ms, (int, float)) or timestamp_ms <= 0:
        return ""
    seconds = timestamp_ms / 1000 if timestamp_ms > 253402300799 else timestamp_ms
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")


def channel_html(title: str, channeldata: Mapping[str, Any], subdirs: Mapping[str, SubdirIndex]) -> str:
    """One page: how to use the channel, its subdirs, and every package's newest version."""
    e = html.escape
    links = []
    for s, sub in subdirs.items():
        yanked = len(sub.visible["removed"])
        note = f", {yanked} yanked" if yanked else ""
        links.append(f'<a href="{e(s)}/">{e(s)}/</a> (<a href="{e(s)}/repodata.json">repodata.json</a>, {len(sub.entries)} files{note})')
    rows = []
    for name, info in channeldata["packages"].items():
        home = f'<a href="{e(info["home"])}">home</a>' if info.get("home") else ""
        rows.append(
            f"<tr><td>{e(name)}</td><td>{e(str(info.get('version')))}</td><td>{_date(info.get('timestamp'))}</td>"
            f"<td>{e(', '.join(info['subdirs']))}</td><td>{e(info.get('license', ''))}</td><td>{e(info.get('summary', ''))}</td><td>{home}</td></tr>"
        )
    body = (
        f"<p>A conda channel. Use it with <code>conda install -c &lt;this directory or its file:// URL&gt; PACKAGE</code>.</p>\n"
        f"<p>{' · '.join(links)}</p>\n"
        "<table><tr><th>package</th><th>newest</th><th>built (UTC)</th><th>subdirs</th><th>license</th><th>summary</th><th></th></tr>\n"
        + "\n".join(rows)
        + "\n</table>\n"
    )
    return _page(title or "channel", body)
