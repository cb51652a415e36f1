"""HTTP for index scanning and downloads: stdlib ``urllib`` with timeouts, retries and backoff.

Transient failures (timeouts, refused or reset connections, HTTP 5xx and 429) are retried with
exponential backoff; anything else (404, 403, a bad URL) fails at once.  Every failure is a
:class:`FetchError` naming the URL and the reason on one line.  ``file://`` URLs go through the
same code, so a local index behaves like a remote one.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Protocol

from .. import __version__
from ..core.digest import Digests
from ..core.errors import EXIT_PARTIAL, BridgeError
from ..core.fsutil import atomic_path

USER_AGENT = f"wheel2conda/{__version__} (+recipes regenerate)"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class FetchError(BridgeError):
    """A URL could not be fetched (unreachable, HTTP error, hash mismatch)."""

    exit_code = EXIT_PARTIAL

    def __init__(self, url: str, reason: str, *, hint: str | None = None, status: int | None = None):
        self.status = status
        super().__init__(url, reason, hint=hint)


class ResponseStream(Protocol):
    """What ``urlopen`` returns for http(s) and file URLs alike: a body to read and its headers."""

    headers: Message

    def read(self, amt: int | None = None, /) -> bytes: ...


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    content_type: str  # media type only, lower case ("text/html")
    body: bytes


@dataclass
class Http:
    """A small HTTP client; one instance per run (it counts requests for reports and tests)."""

    timeout: float = 30.0
    retries: int = 3  # attempts after the first
    backoff: float = 1.0  # first pause; doubles each retry
    sleep: Callable[[float], None] = time.sleep
    requests: int = field(default=0, init=False)

    def get(self, url: str, accept: str | None = None) -> Response:
        """The whole body of ``url`` (index pages, metadata files: small documents)."""
        with self.open(url, accept) as (resp, final_url):
            body = resp.read()
            content_type = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return Response(final_url, content_type, body)

    @contextmanager
    def open(self, url: str, accept: str | None = None) -> Iterator[tuple[ResponseStream, str]]:
        """A response stream for ``url`` after retries; ``(stream, final_url)``."""
        headers = {"User-Agent": USER_AGENT}
        if accept:
            headers["Accept"] = accept
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                exc.close()
                error = FetchError(url, f"HTTP {exc.code} {exc.reason}", status=exc.code)
                if exc.code not in RETRY_STATUS:
                    raise _hinted(error) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, FileNotFoundError) or isinstance(exc, FileNotFoundError):
                    raise FetchError(url, "no such file", status=404) from None
                if isinstance(reason, (socket.timeout, TimeoutError)) or isinstance(exc, (socket.timeout, TimeoutError)):
                    error = FetchError(url, f"timed out after {self.timeout:g} s")
                else:
                    error = FetchError(url, f"unreachable ({_describe(reason)})")
            else:
                with resp:
                    yield resp, resp.geturl()
                return
            if attempt > self.retries:
                gave_up = f" (gave up after {attempt} attempts)" if attempt > 1 else ""
                raise _hinted(FetchError(url, error.reason + gave_up, status=error.status))
            self.sleep(self.backoff * 2 ** (attempt - 1))

    def download(self, url: str, dest: Path, sha256: str) -> Path:
        """Stream ``url`` into ``dest`` (atomically), verifying ``sha256``; an interrupted transfer is retried."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._download_once(url, dest, sha256)
            except FetchError as exc:
                if not exc.reason.startswith("download interrupted") or attempt > self.retries:
                    raise
            self.sleep(self.backoff * 2 ** (attempt - 1))

    def hash(self, url: str) -> tuple[str, int]:
        """``(sha256, size)`` of ``url``, streamed and not kept (for indexes that give no hash)."""
        digest = Digests()
        with self.open(url) as (resp, _):
            try:
                digest.consume(resp)
            except (TimeoutError, OSError) as exc:
                raise FetchError(url, f"download interrupted ({_describe(exc)})", hint="run again to retry") from None
        return digest.sha256, digest.size

    def _download_once(self, url: str, dest: Path, sha256: str) -> Path:
        digest = Digests()
        with atomic_path(dest) as tmp:
            with self.open(url) as (resp, _), tmp.open("wb") as out:
                try:
                    digest.consume(resp, out)
                except (TimeoutError, OSError) as exc:
                    raise FetchError(url, f"download interrupted ({_describe(exc)})", hint="run again to retry") from None
            if digest.sha256 != sha256:
                raise FetchError(url, f"sha256 mismatch: expected {sha256}, got {digest.sha256}", hint="the file changed upstream; run `wheel2conda recipes regenerate`")
        return dest


def _describe(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _hinted(error: FetchError) -> FetchError:
    """The same error with a hint on what to do."""
    if error.status == 404:
        hint = "the file or project is not on the index (removed upstream?)"
    elif error.status is None or error.status >= 500:
        hint = "check the URL and the network, or run again later"
    else:
        return error
    return FetchError(error.path or "", error.reason, hint=hint, status=error.status)


def file_url_path(url: str) -> Path | None:
    """The local path of a ``file://`` URL, else None."""
    if not url.startswith("file:"):
        return None
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
