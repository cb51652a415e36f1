"""``verify`` on installs that fail or crash (issue 14 item 6).

The installer (py-rattler) runs in a child process: the throwaway prefix is removed only after
it has exited, so the real error is reported every time (never "prefix-1: Directory not
empty"), no temporary folder is left, and a crash of the installer is a reported failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bridge.check import client
from bridge.check.standin import build_conda_package
from tests.support.hostile import ROOT

pytestmark = pytest.mark.skipif(os.name == "nt", reason="signals are POSIX")


def _broken_dependency(out: Path) -> tuple[Path, Path]:
    """``(candidate, channel)``: a sound package depending on ``broken``, and a channel where
    ``broken``'s info/ is fine (it indexes and solves) but its payload is garbage, so the
    installer fails while fetching it (``verify`` opens the candidates, not the channel's packages)."""
    from bridge.channel.index import index_channel

    candidate = build_conda_package(out / "in" / "noarch", {"name": "needs-broken", "version": "1.0", "build": "0", "noarch": "generic", "depends": ["broken"]}, {"share/needs.txt": "x"})
    good = build_conda_package(out / "good" / "noarch", {"name": "broken", "version": "1.0", "build": "0", "noarch": "generic"}, {"share/broken.txt": "x" * 5000})
    channel = out / "channel"
    bad = channel / "noarch" / good.name
    bad.parent.mkdir(parents=True)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[:40] + b"\x00garbage" * 50 if info.filename.startswith("pkg-") else data)
    index_channel(channel)
    return candidate, channel


def _verify(package: Path, channel: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    return subprocess.run([sys.executable, "-m", "bridge", "verify", str(package), "--next-to", str(channel)], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.e2e
def test_a_failing_install_reports_the_real_error_every_time_and_leaves_nothing(tmp_path):
    package, channel = _broken_dependency(tmp_path)
    errors = set()
    for attempt in range(10):
        private_tmp = tmp_path / f"tmp-{attempt}"
        private_tmp.mkdir()
        done = _verify(package, channel, private_tmp)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and "Directory not empty" not in done.stderr + done.stdout, done.stderr
        line = next(text for text in (done.stdout + done.stderr).splitlines() if "does not install" in text)
        errors.add(line.split("does not install:", 1)[1].strip()[:60])
        assert not list(private_tmp.iterdir()), f"left behind: {list(private_tmp.iterdir())}"
    assert len(errors) == 1, errors  # the same real error each time


def test_an_installer_crash_is_a_reported_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(client, "_CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(client.InstallFailed) as caught:
        client.install_isolated([tmp_path], ["x"], tmp_path / "prefix", cache_dir=tmp_path / "pkgs")
    assert caught.value.signal_name == "SIGSEGV" and "crashed (SIGSEGV)" in str(caught.value)


def test_verify_reports_an_installer_crash_per_package(tmp_path, monkeypatch, capsys):
    from bridge.cli import main

    package = build_conda_package(tmp_path / "noarch", {"name": "fine", "version": "1.0", "build": "0", "noarch": "generic"}, {"share/fine.txt": "x"})
    monkeypatch.setattr(client, "_CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["verify", str(package)]) == 1
    captured = capsys.readouterr()
    assert "crashed (SIGSEGV)" in captured.out + captured.err
    assert not list((tmp_path / "tmp").iterdir())
