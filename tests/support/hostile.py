"""A harness for hostile-input tests: run one command and check it stayed in its lane.

Usage (``tmp_path`` is pytest's)::

    from tests.support.hostile import Sandbox

    def test_fifo_wheel_is_refused(tmp_path):
        box = Sandbox(tmp_path)                   # tmp_path/work (cwd of the command) + tmp_path/canary
        fifo = box.fifo("evil-1.0-py3-none-any.whl")
        box.run("convert", fifo, "-o", "out")     # asserts exit 2, one stderr line, no traceback,
                                                  # nothing outside work/ touched, no unsafe member written
        box.assert_absent("out")                  # a refusal leaves nothing in -o

``Sandbox.run(*argv, expect=2, stderr_lines=1, contains=None, subprocess=None, timeout=60)``
runs ``wheel2conda *argv`` with the work directory as current directory, in this process
(``bridge.cli.main``, stdout and stderr captured, a ``SIGALRM`` after ``timeout`` seconds
interrupting a blocked open or read) or, with ``subprocess=True`` (or ``env``), as
``python -m bridge`` with a timeout.  Either way a hang fails the test instead of blocking it.  It then asserts:

* the exit status is ``expect`` (``None``: any);
* stderr has exactly ``stderr_lines`` lines (``None``: any) and never ``Traceback`` or
  ``internal error``; with ``contains`` the text must appear in stderr;
* nothing outside ``work/`` was created, changed or removed: the canary folder's files keep
  their content, mtime and hard-link count, no file appears or disappears there, and the
  sandbox root holds only ``work/`` and ``canary/`` (checked against a snapshot taken when
  the sandbox was made);
* every package or wheel the command wrote under ``work/`` (and every symlink) is safe: member names are
  relative without ``..``, backslashes, NUL or control characters, and links stay inside.

It returns a :class:`Outcome` (``code``, ``stdout``, ``stderr``).  Helpers build hostile
inputs: :meth:`Sandbox.fifo`, :meth:`Sandbox.socket`, :meth:`Sandbox.link` (e.g. to
``/dev/zero``), :meth:`Sandbox.char_device` (root only; ``None`` otherwise).  ``canary_file``
is a file *outside* work/ that an escaping write would most likely hit; ``canary_link`` is a
hard link inside work/ to a canary file (its removal or replacement changes the count).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import socket as socketlib
import stat
import subprocess as subprocesslib
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_SUFFIXES = (".conda", ".tar.bz2", ".whl")


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


@dataclass(frozen=True)
class _FileState:
    kind: str
    size: int
    mtime_ns: int
    nlink: int
    sha256: str | None


def _state(path: Path) -> _FileState:
    st = path.lstat()
    digest = None
    if stat.S_ISREG(st.st_mode):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        kind = "file"
    elif stat.S_ISLNK(st.st_mode):
        kind = "link:" + os.readlink(path)
    elif stat.S_ISDIR(st.st_mode):
        kind = "dir"
    else:
        kind = "special"
    return _FileState(kind, st.st_size if kind != "dir" else 0, st.st_mtime_ns if kind != "dir" else 0, st.st_nlink if kind != "dir" else 0, digest)


def unsafe_name(name: str) -> str | None:
    """Why an archive member name is unsafe, or None (the harness's own rule, independent of bridge)."""
    if not name:
        return "empty"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute"
    if "\\" in name:
        return "backslash"
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "control character"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return "'..' component"
    return None


def _link_escapes(name: str, target: str) -> bool:
    if target.startswith("/") or "\\" in target:
        return True
    depth = 0
    for part in [*PurePosixPath(name).parent.parts, *PurePosixPath(target).parts]:
        depth = depth - 1 if part == ".." else depth + (part not in ("", "."))
        if depth < 0:
            return True
    return False


def package_members(path: Path) -> Iterator[tuple[str, str | None]]:
    """``(member name, link target or None)`` of a .whl, .conda or .tar.bz2."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                yield info.filename, None
        return
    from conda_package_streaming.package_streaming import stream_conda_component

    components = ("info", "pkg") if path.name.endswith(".conda") else ("pkg",)
    for component in components:
        for tar, member in stream_conda_component(str(path), component=component):
            assert isinstance(tar, tarfile.TarFile)
            yield member.name, member.linkname if member.issym() or member.islnk() else None


class Sandbox:
    """``tmp/work`` (the command's current directory) beside ``tmp/canary`` (must stay untouched)."""

    def __init__(self, tmp: Path):
        self.root = Path(tmp)
        self.work = self.root / "work"
        self.canary = self.root / "canary"
        self.work.mkdir(parents=True, exist_ok=True)
        (self.canary / "sub").mkdir(parents=True, exist_ok=True)
        self.canary_file = self.canary / "PWN"
        self.canary_file.write_text("canary\n")
        (self.canary / "sub" / "data.bin").write_bytes(b"\x00canary" * 64)
        (self.canary / "x").mkdir(exist_ok=True)
        (self.canary / "x" / "keep.txt").write_text("keep\n")
        self.canary_link = self.work / ".canary-hardlink"
        os.link(self.canary / "sub" / "data.bin", self.canary_link)
        self._before = self.snapshot()

    # -- hostile inputs ---------------------------------------------------------------------
    def path(self, name: str | Path) -> Path:
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def fifo(self, name: str) -> Path:
        path = self.path(name)
        os.mkfifo(path)
        return path

    def socket(self, name: str) -> Path:
        path = self.path(name)
        sock = socketlib.socket(socketlib.AF_UNIX)
        cwd = os.getcwd()
        os.chdir(path.parent)  # socket paths are limited to ~100 bytes: bind by the bare name
        try:
            sock.bind(path.name)
        finally:
            os.chdir(cwd)
            sock.close()
        return path

    def link(self, name: str, target: str | Path) -> Path:
        path = self.path(name)
        path.symlink_to(target)
        return path

    def char_device(self, name: str) -> Path | None:
        """A character device node like /dev/zero (needs root; None when not permitted)."""
        path = self.path(name)
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        except (PermissionError, OSError):
            return None
        return path

    # -- the outside world ------------------------------------------------------------------
    def snapshot(self) -> dict[str, _FileState]:
        found = {entry.name: _FileState("top", 0, 0, 0, None) for entry in self.root.iterdir()}
        for dirpath, dirnames, filenames in os.walk(self.canary):
            for name in [*dirnames, *filenames]:
                path = Path(dirpath, name)
                found[str(path.relative_to(self.root))] = _state(path)
        return found

    def assert_outside_untouched(self) -> None:
        after = self.snapshot()
        created = sorted(after.keys() - self._before.keys())
        removed = sorted(self._before.keys() - after.keys())
        changed = sorted(k for k in after.keys() & self._before.keys() if after[k] != self._before[k])
        assert not (created or removed or changed), f"outside the work dir: created {created}, removed {removed}, changed {changed}"

    def _work_files(self) -> dict[Path, tuple[int, int, int]]:
        found = {}
        for dirpath, dirnames, filenames in os.walk(self.work):
            for name in [*dirnames, *filenames]:
                path = Path(dirpath, name)
                st = path.lstat()
                found[path] = (st.st_ino, st.st_size, st.st_mtime_ns)
        return found

    def assert_written_safe(self, before: dict[Path, tuple[int, int, int]] | None = None) -> None:
        """Every file or link under work/ that is new (or changed since ``before``) is safe."""
        before = before or {}

        def _made_by_tool(path: Path) -> bool:
            st = path.lstat()
            return before.get(path) != (st.st_ino, st.st_size, st.st_mtime_ns)

        for dirpath, dirnames, filenames in os.walk(self.work):
            for name in [*dirnames, *filenames]:
                path = Path(dirpath, name)
                if path.is_symlink():
                    resolved = Path(os.path.realpath(path))
                    assert resolved == self.work or self.work.resolve() in resolved.parents or not _made_by_tool(path), f"{path} links outside the work dir"
                elif name.endswith(PACKAGE_SUFFIXES) and path.is_file() and path.stat().st_size and _made_by_tool(path):
                    try:
                        members = list(package_members(path))
                    except Exception as exc:
                        raise AssertionError(f"{path} was written but cannot be read back: {exc}") from exc
                    for member, target in members:
                        problem = unsafe_name(member)
                        assert problem is None, f"{path} holds an unsafe member {member!r}: {problem}"
                        if target is not None:
                            assert not _link_escapes(member, target), f"{path}: {member} links out to {target}"

    def assert_absent(self, name: str) -> None:
        """Nothing at ``work/name`` (a refused run leaves not even an empty output folder)."""
        path = self.work / name
        assert not path.exists(), f"{name} was left behind: {sorted(p.name for p in path.rglob('*')) if path.is_dir() else 'a file'}"

    # -- running ----------------------------------------------------------------------------
    def run(
        self,
        *argv: str | Path,
        expect: int | None = 2,
        stderr_lines: int | None = -1,
        contains: str | None = None,
        subprocess: bool | None = None,
        timeout: float = 30,
        env: dict[str, str] | None = None,
    ) -> Outcome:
        """Run ``wheel2conda *argv`` in work/ and check the outcome (module docstring).

        ``stderr_lines`` defaults to 1 when a failure is expected and to "any" otherwise.
        """
        args = [str(a) for a in argv]
        if subprocess is None:
            subprocess = env is not None
        if stderr_lines == -1:
            stderr_lines = 1 if expect not in (0, None) else None
        inputs = self._work_files()
        outcome = self._subprocess(args, timeout, env) if subprocess else self._in_process(args, timeout)
        text = outcome.stderr
        assert "Traceback" not in text and "internal error" not in text, f"crashed: {text}"
        if expect is not None:
            assert outcome.code == expect, f"exit {outcome.code}, expected {expect}; stderr: {text}"
        if stderr_lines is not None:
            assert len(outcome.lines) == stderr_lines, f"{len(outcome.lines)} stderr lines, expected {stderr_lines}: {text}"
        if contains is not None:
            assert contains in text, f"{contains!r} not in stderr: {text}"
        self.assert_outside_untouched()
        self.assert_written_safe(inputs)
        return outcome

    def _in_process(self, args: list[str], timeout: float) -> Outcome:
        from bridge.cli import main

        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(self.work)

        def hung(signum: int, frame: object) -> None:  # interrupts a blocking open()/read() of a FIFO
            raise _Hung(f"wheel2conda {' '.join(args)} hung (no exit within {timeout} s)")

        previous = signal.signal(signal.SIGALRM, hung)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code: int | None = main(args)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
        except _Hung as exc:
            raise AssertionError(str(exc)) from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            os.chdir(cwd)
        return Outcome(code, out.getvalue(), err.getvalue())

    def _subprocess(self, args: list[str], timeout: float, env: dict[str, str] | None) -> Outcome:
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        try:
            done = subprocesslib.run(
                [sys.executable, "-m", "bridge", *args], cwd=self.work, env=full_env, capture_output=True, text=True, timeout=timeout
            )
        except subprocesslib.TimeoutExpired as exc:
            raise AssertionError(f"wheel2conda {' '.join(args)} hung (no exit within {timeout} s)") from exc
        return Outcome(done.returncode, done.stdout, done.stderr)


class _Hung(BaseException):
    """Raised by the alarm in an in-process run that blocks (a BaseException: no ``except Exception`` eats it)."""


def _is_special(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
