"""A PEP 503 index of test-made files, served over HTTP on 127.0.0.1 (port 0) from a thread.

:func:`write_simple_index` lays out a TheRock-style tree: ``<prefix>/index.html`` lists the
projects, ``<prefix>/<project>/index.html`` links ``../<file>#sha256=…`` with PEP 658
``data-core-metadata`` attributes, and files (plus ``<file>.metadata``) sit flat in ``<prefix>/``.
:class:`IndexServer` serves a folder and can inject failures (status codes for a path, a
shutdown after N wheel downloads) and counts requests per path.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import http.server
import io
import tarfile
import threading
import zipfile
from collections import Counter
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename


def _metadata_of(path: Path) -> bytes | None:
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            return zf.read(name)
    return None


def write_simple_index(prefix: Path, files: Iterable[Path], *, metadata: bool = True, hashes: bool = True) -> Path:
    """Copy ``files`` into ``prefix`` and (re)write its PEP 503 pages for every file there.

    ``hashes=False`` writes links without ``#sha256=`` (a plain directory listing, which PEP 503
    allows)."""
    prefix.mkdir(parents=True, exist_ok=True)
    for f in files:
        (prefix / f.name).write_bytes(f.read_bytes())
    projects: dict[str, list[Path]] = {}
    for f in sorted(prefix.iterdir()):
        if f.name.endswith(".whl"):
            name = parse_wheel_filename(f.name)[0]
        elif f.name.endswith(".tar.gz"):
            name = parse_sdist_filename(f.name)[0]
        else:
            continue
        projects.setdefault(str(name), []).append(f)
    for project, paths in projects.items():
        links = []
        for f in paths:
            sha = hashlib.sha256(f.read_bytes()).hexdigest()
            attrs = ""
            md = _metadata_of(f) if metadata else None
            if md is not None:
                (prefix / f"{f.name}.metadata").write_bytes(md)
                attrs = f' data-dist-info-metadata="sha256={hashlib.sha256(md).hexdigest()}" data-core-metadata="sha256={hashlib.sha256(md).hexdigest()}"'
            fragment = f"#sha256={sha}" if hashes else ""
            links.append(f'<a href="../{html.escape(f.name)}{fragment}" data-requires-python="&gt;=3.9"{attrs}>{html.escape(f.name)}</a><br/>')
        (prefix / project).mkdir(exist_ok=True)
        (prefix / project / "index.html").write_text(
            f"<!DOCTYPE html>\n<html><body><h1>Links for {project}</h1>\n" + "\n".join(links) + "\n</body></html>\n"
        )
    root_links = "\n".join(f'<a href="{p}/">{p}</a><br/>' for p in sorted(projects))
    (prefix / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{root_links}\n</body></html>\n")
    return prefix


def build_sdist(out_dir: Path, name: str, version: str) -> Path:
    """A minimal sdist (PKG-INFO + setup.py), deterministic."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    path = out_dir / f"{stem}.tar.gz"
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: meta package\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in ((f"{stem}/PKG-INFO", pkg_info), (f"{stem}/setup.py", b"raise SystemExit('test sdist')\n")):
            info = tarfile.TarInfo(member)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return path


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        with owner.lock:
            owner.requests[path] += 1
            failure = owner.failures.get(path)
            if failure and failure[1] > 0:
                owner.failures[path] = (failure[0], failure[1] - 1)
            else:
                failure = None
        if failure:
            self.send_error(failure[0])
            return
        if path.endswith(".whl"):
            with owner.lock:
                owner.wheel_downloads += 1
                stop = owner.stop_after is not None and owner.wheel_downloads > owner.stop_after
            if stop:
                # the server "disappears": drop this connection and shut down
                self.close_connection = True
                threading.Thread(target=owner.stop, daemon=True).start()
                return
        super().do_GET()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: IndexServer


class IndexServer:
    """Serve ``root`` on 127.0.0.1 (``port`` 0: any free port); use as a context manager."""

    def __init__(self, root: Path, port: int = 0):
        self.root = root
        self.port = port
        self.requests: Counter[str] = Counter()
        self.failures: dict[str, tuple[int, int]] = {}  # path → (status, times)
        self.stop_after: int | None = None
        self.wheel_downloads = 0
        self.lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> IndexServer:
        self._server = _Server(("127.0.0.1", self.port), partial(_Handler, directory=str(self.root)))
        self._server.owner = self
        host, self.port = self._server.server_address[:2]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def fail(self, path: str, status: int, times: int = 1) -> None:
        with self.lock:
            self.failures[path] = (status, times)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
