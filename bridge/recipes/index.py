"""Package indexes: PEP 503 HTML, PEP 691 JSON, a ``file://`` tree or a plain local directory.

An :class:`Index` lists project names and a project's files as :class:`IndexFile` records
(file name, URL, hashes, Requires-Python, yanked, PEP 658 metadata).  Parsing is pure
(:func:`parse_html_page`, :func:`parse_json_page`); fetching goes through :class:`~.http.Http`.
HTML is read with :class:`html.parser.HTMLParser`, names with :mod:`packaging.utils`.
"""

from __future__ import annotations

import json
import posixpath
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from packaging.metadata import Metadata
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from ..core.digest import sha256_bytes, sha256_file
from ..core.errors import BadInput
from .http import FetchError, Http, file_url_path

ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class IndexFile:
    """One distribution file offered by an index."""

    filename: str
    url: str  # absolute, without fragment
    hashes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    requires_python: str | None = None
    yanked: bool = False
    metadata_hashes: dict[str, str] | None = field(default=None, hash=False, compare=False)  # PEP 658: None = not offered
    size: int | None = None

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


def dist_identity(filename: str) -> tuple[NormalizedName, Version] | None:
    """``(name, version)`` from a wheel or sdist file name, None for anything else."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return name, version
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def _anchors(text: str, page_url: str) -> tuple[list[tuple[dict[str, str | None], str]], str]:
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    base = urllib.parse.urljoin(page_url, parser.base) if parser.base else page_url
    return parser.anchors, base


def _split_fragment(url: str) -> tuple[str, dict[str, str]]:
    clean, _, fragment = url.partition("#")
    hashes: dict[str, str] = {}
    algo, sep, value = fragment.partition("=")
    if sep and algo and value:
        hashes[algo.lower()] = value.lower()
    return clean, hashes


def _metadata_attr(value: Any) -> dict[str, str] | None:
    """PEP 658/714 attribute (HTML string or JSON value) → hashes dict, or None when absent."""
    if value is None or value is False or value == "false":
        return None
    if isinstance(value, dict):
        return {str(k).lower(): str(v).lower() for k, v in value.items()}
    if isinstance(value, str) and "=" in value:
        algo, _, digest = value.partition("=")
        return {algo.lower(): digest.lower()}
    return {}  # "true", "" or True: offered, no hash


def parse_html_page(text: str, page_url: str) -> list[IndexFile]:
    """The files of a PEP 503 project page."""
    anchors, base = _anchors(text, page_url)
    files: list[IndexFile] = []
    for attrs, label in anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, hashes = _split_fragment(urllib.parse.urljoin(base, href))
        filename = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(url).path)) or label
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        files.append(
            IndexFile(
                filename=filename,
                url=url,
                hashes=hashes,
                requires_python=attrs.get("data-requires-python") or None,
                yanked="data-yanked" in attrs,
                metadata_hashes=_metadata_attr(metadata) if ("data-core-metadata" in attrs or "data-dist-info-metadata" in attrs) else None,
            )
        )
    return files


def parse_html_root(text: str, page_url: str) -> dict[NormalizedName, str]:
    """Project name → project page URL, from a PEP 503 root page."""
    anchors, base = _anchors(text, page_url)
    return {canonicalize_name(label): urllib.parse.urljoin(base, attrs["href"]) for attrs, label in anchors if attrs.get("href") and label}


def parse_json_page(data: dict[str, Any], page_url: str) -> list[IndexFile]:
    """The files of a PEP 691 project page."""
    files: list[IndexFile] = []
    for entry in data.get("files", []):
        url, fragment = _split_fragment(urllib.parse.urljoin(page_url, entry["url"]))
        hashes = {str(k).lower(): str(v).lower() for k, v in (entry.get("hashes") or {}).items()} or fragment
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
        files.append(
            IndexFile(
                filename=entry["filename"],
                url=url,
                hashes=hashes,
                requires_python=entry.get("requires-python") or None,
                yanked=bool(entry.get("yanked")),
                metadata_hashes=_metadata_attr(metadata),
                size=entry.get("size"),
            )
        )
    return files


def parse_json_root(data: dict[str, Any], page_url: str) -> dict[NormalizedName, str]:
    return {canonicalize_name(p["name"]): urllib.parse.urljoin(page_url, f"{canonicalize_name(p['name'])}/") for p in data.get("projects", [])}


class Index:
    """One index, by URL (``http(s)://``, ``file://``) or local directory path."""

    def __init__(self, location: str, http: Http):
        self.http = http
        local = file_url_path(location) if "://" in location else Path(location)
        self.local = local
        if local is not None:
            self.url = local.resolve().as_uri() + "/"
        else:
            self.url = location if location.endswith("/") else location + "/"
        self._root: dict[NormalizedName, str] | None = None

    @property
    def flat(self) -> bool:
        """A local directory of distribution files (no ``index.html`` tree)."""
        return self.local is not None and not (self.local / "index.html").exists() and not any(
            (child / "index.html").exists() for child in self.local.iterdir() if child.is_dir()
        )

    def _check_local(self) -> None:
        if self.local is not None and not self.local.is_dir():
            raise FetchError(str(self.local), "index directory does not exist", hint="check `index:` in the sources config")

    def projects(self) -> dict[NormalizedName, str]:
        """Every project the index lists (for name patterns)."""
        if self._root is None:
            self._check_local()
            if self.flat:
                assert self.local is not None
                self._root = {}
                for path in sorted(self.local.iterdir()):
                    ident = dist_identity(path.name)
                    if ident:
                        self._root.setdefault(ident[0], self.url)
            else:
                page = self._page(self.url)
                self._root = parse_json_root(page[1], page[0]) if isinstance(page[1], dict) else parse_html_root(page[1], page[0])
        return self._root

    def files(self, project: str) -> list[IndexFile]:
        """The files of ``project`` (sorted by file name); an unknown project gives a FetchError (404)."""
        name = canonicalize_name(project)
        self._check_local()
        if self.flat:
            assert self.local is not None
            found = []
            for path in sorted(self.local.iterdir()):
                ident = dist_identity(path.name)
                if ident and ident[0] == name and path.is_file():
                    found.append(IndexFile(path.name, path.resolve().as_uri(), {"sha256": sha256_file(path)}, size=path.stat().st_size))
            if not found:
                raise FetchError(f"{self.local}/{name}", "no files for this project", status=404)
            return found
        page_url = (self._root or {}).get(name) or urllib.parse.urljoin(self.url, f"{name}/")
        final_url, content = self._page(page_url)
        files = parse_json_page(content, final_url) if isinstance(content, dict) else parse_html_page(content, final_url)
        return sorted(files, key=lambda f: f.filename)

    def _page(self, url: str) -> tuple[str, Any]:
        """Fetch a page; JSON documents come back parsed, HTML as text."""
        local = file_url_path(url)
        if local is not None:
            if local.is_dir():
                local = local / "index.html"
                url = local.as_uri()
            try:
                return url, local.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise FetchError(str(local), "no such file", status=404, hint="the project is not on the index") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise FetchError(str(local), f"cannot read ({exc})") from None
        resp = self.http.get(url, ACCEPT)
        text = resp.body.decode("utf-8", errors="replace")
        if resp.content_type == JSON_TYPE:
            try:
                return resp.url, json.loads(text)
            except json.JSONDecodeError as exc:
                raise FetchError(resp.url, f"invalid PEP 691 JSON ({exc.msg} at line {exc.lineno})") from None
        return resp.url, text

    def metadata(self, file: IndexFile) -> Metadata:
        """Core metadata of ``file`` through PEP 658 (only call when offered); hash verified when given."""
        url = f"{file.url}.metadata"
        local = file_url_path(url)
        if local is not None:
            try:
                body = local.read_bytes()
            except OSError:
                raise FetchError(str(local), "no such file", status=404) from None
        else:
            body = self.http.get(url).body
        expected = (file.metadata_hashes or {}).get("sha256")
        if expected:
            actual = sha256_bytes(body)
            if actual != expected:
                raise FetchError(url, f"metadata sha256 mismatch: expected {expected}, got {actual}")
        try:
            return Metadata.from_email(body, validate=False)
        except Exception as exc:  # packaging raises several error types for malformed metadata
            raise BadInput(url, f"unreadable core metadata ({exc})", hint="the index serves broken metadata: report it to the index owner") from None
