"""Hostile channels and crash consistency (issue 14 items 5 and 7).

* ``publish --force`` killed (SIGKILL) at its N-th ``os.replace``/``os.rename``/``os.unlink``,
  for every N until a run completes: after each kill, every package repodata lists exists with
  the listed size and sha256.
* staging folders of killed ``convert --channel`` runs are reported by ``channel verify`` and
  swept by the next index or publish (dead pid, or older than an hour);
* a refused run leaves nothing in ``-o`` and creates no channel;
* a full disk (a real tmpfs, mounted when permitted: the suite runs as root in CI) at any
  point of a publish is a one-line error that leaves the channel as it was;
* malformed channel files (repodata, patch instructions, the sqlite cache) never crash a command.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.channel.index import index_channel
from bridge.channel.publish import publish
from bridge.check.audit import audit_channel
from bridge.check.standin import build_conda_package
from bridge.cli import main
from tests.support.hostile import ROOT, Sandbox
from tests.support.wheels import build_wheel

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL, FIFOs and tmpfs are POSIX")

#: ``publish --force`` (argv[2:]) into argv[1], SIGKILLing itself at the argv[0]-th call of
#: os.replace / os.rename / os.unlink (pathlib goes through them too); 0 runs to the end.
KILL_AT_NTH_RENAME = r"""
import os, signal, sys
kill_at, calls = int(sys.argv[1]), 0
def counted(fn):
    def call(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return fn(*args, **kwargs)
    return call
os.replace, os.rename, os.unlink = counted(os.replace), counted(os.rename), counted(os.unlink)
from bridge.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run_killed(kill_at: int, *argv: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", KILL_AT_NTH_RENAME, str(kill_at), *map(str, argv)], capture_output=True, text=True, env=env, timeout=120)


def _cli(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    """``wheel2conda *argv`` in this process, stderr captured (like a subprocess's result)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in argv])
    return subprocess.CompletedProcess(argv, code, "", err.getvalue())


def listed_packages_match_disk(channel: Path) -> dict[str, str]:
    """Every listed package exists with the listed size and sha256; returns name → sha256 listed."""
    listed: dict[str, str] = {}
    for repodata in channel.glob("*/repodata.json"):
        data = json.loads(repodata.read_bytes())
        for group in ("packages", "packages.conda"):
            for name, record in data.get(group, {}).items():
                path = repodata.parent / name
                assert path.is_file(), f"{name} is listed but missing"
                body = path.read_bytes()
                assert len(body) == record["size"], f"{name}: listed size {record['size']}, on disk {len(body)}"
                assert hashlib.sha256(body).hexdigest() == record["sha256"], f"{name}: listed sha256 is not the bytes on disk"
                listed[f"{repodata.parent.name}/{name}"] = record["sha256"]
    return listed


def _package(out: Path, payload: str, name: str = "victim") -> Path:
    return build_conda_package(out / "noarch", {"name": name, "version": "1.0", "build": "0", "noarch": "generic"}, {f"share/{name}.txt": payload})


@pytest.mark.parametrize("batch", ["one", "with-a-new-package"])
def test_publish_force_killed_at_every_rename_keeps_repodata_true(tmp_path, batch):
    start = tmp_path / "start"
    old = _package(tmp_path / "old", "old bytes\n")
    publish(start, [old])
    new = _package(tmp_path / "new", "new bytes, a different size\n")
    inputs = [new] + ([_package(tmp_path / "new", "fresh\n", name="other")] if batch != "one" else [])
    new_sha = hashlib.sha256(new.read_bytes()).hexdigest()
    kills = 0
    for kill_at in range(1, 200):
        channel = tmp_path / f"channel-{kill_at}"
        shutil.copytree(start, channel)
        done = _run_killed(kill_at, "publish", "-q", "--force", *inputs, "--channel", channel)
        listed = listed_packages_match_disk(channel)  # the invariant, checked before anything repairs the channel
        if done.returncode == 0:
            assert listed["noarch/victim-1.0-0.conda"] == new_sha
            assert not done.stderr
            break
        assert done.returncode == -9, done.stderr
        kills += 1
        index_channel(channel)  # the next index repairs, never lies
        listed_packages_match_disk(channel)
        assert audit_channel(channel).ok
        shutil.rmtree(channel)
    else:
        pytest.fail("publish --force never completed")
    assert kills >= 3  # the package rename, the repodata renames and the old-file removal were all hit


def test_killed_convert_channel_leaves_a_stage_that_verify_reports_and_index_sweeps(tmp_path):
    box = Sandbox(tmp_path)
    wheel = build_wheel(box.work / "in", "staged", "1.0")
    publish(box.work / "chan", [_package(box.work / "seed", "x")])
    # kill at the first rename: the package is converted into the staging folder, not yet published
    done = _run_killed(1, "convert", "-q", wheel, "--channel", box.work / "chan")
    assert done.returncode == -9
    stages = [p for p in (box.work / "chan").iterdir() if p.name.startswith(".w2c-stage-")]
    assert len(stages) == 1  # killed at its first rename: the package's own atomic write
    out = box.run("channel", "verify", "chan", expect=0)
    assert ".w2c-stage-" in out.stdout + out.stderr and "removes it" in out.stdout + out.stderr
    box.run("index", "chan", "-q", expect=0)
    assert not [p for p in (box.work / "chan").iterdir() if p.name.startswith(".w2c-stage-")]
    out = box.run("channel", "verify", "chan", expect=0)
    assert ".w2c-stage-" not in out.stdout + out.stderr


@pytest.mark.parametrize("case", ["live-pid", "dead-pid", "old", "old-style-fresh"])
def test_stage_sweeping_rules(tmp_path, case):
    box = Sandbox(tmp_path)
    chan = box.work / "chan"
    publish(chan, [_package(box.work / "seed", "x")])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    name = {"live-pid": f".w2c-stage-{os.getpid()}-abcd", "dead-pid": f".w2c-stage-{dead}-abcd", "old": f".w2c-stage-{os.getpid()}-old0", "old-style-fresh": ".w2c-stage-k3j4h5"}[case]
    stage = chan / name
    (stage / "0" / "noarch").mkdir(parents=True)
    (stage / "0" / "noarch" / "half.conda").write_bytes(b"partial")
    if case == "old":
        os.utime(stage, (time.time() - 7200, time.time() - 7200))
    box.run("index", "-q", "chan", expect=0)
    assert stage.exists() == (case in ("live-pid", "old-style-fresh"))


# --------------------------------------------------------------------------- refused runs leave nothing

def _refused_inputs(box: Sandbox) -> dict[str, list[str]]:
    bad_ep = build_wheel(box.work / "in", "badep", "1.0", tag="cp312-cp312-manylinux_2_28_x86_64", root_is_purelib=False, entry_points={"console_scripts": {"x": "mod"}})
    musl = build_wheel(box.work / "in", "muslonly", "1.0", tag="cp312-cp312-musllinux_1_2_x86_64", root_is_purelib=False)
    return {
        "convert-bad-entry-point": ["convert", "-q", str(bad_ep), "-o", "out"],
        "convert-musllinux": ["convert", "-q", str(musl), "-o", "out"],
        "convert-musllinux-channel": ["convert", "-q", str(musl), "--channel", "out"],
        "convert-tree": ["convert", "-q", str(musl), "--format", "tree", "-o", "out"],
        "convert-tar-bz2": ["convert", "-q", str(musl), "--format", "tar.bz2", "-o", "out"],
        "convert-missing": ["convert", "-q", "nothing-1.0-py3-none-any.whl", "-o", "out"],
        "to-wheel-missing": ["to-wheel", "nothing-1.0-0.conda", "-o", "out"],
        "publish-not-a-package": ["publish", str(bad_ep), "--channel", "out"],
        "repack-unknown": ["repack", "nothing", "--path", "env/lib/python3.12/site-packages", "-o", "out"],
    }


@pytest.mark.parametrize(
    "case",
    ["convert-bad-entry-point", "convert-musllinux", "convert-musllinux-channel", "convert-tree", "convert-tar-bz2", "convert-missing", "to-wheel-missing", "publish-not-a-package", "repack-unknown"],
)
def test_refused_run_leaves_no_output_folder(tmp_path, case):
    box = Sandbox(tmp_path)
    (box.work / "env" / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    argv = _refused_inputs(box)[case]
    box.run(*argv)
    box.assert_absent("out")


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2", "tree"])
@pytest.mark.parametrize("nested", [False, True])
def test_a_write_that_fails_midway_leaves_no_empty_folders(tmp_path, fmt, nested):
    """The wheel opens fine; a member's CRC fails only while it is written."""
    from tests.support.wheels import corrupt_crc

    good = build_wheel(tmp_path / "src", "crcpkg", "1.0", files={"crcpkg/__init__.py": "x = 1\n" * 100})
    box = Sandbox(tmp_path)
    bad = corrupt_crc(good, box.work / good.name, "crcpkg/__init__.py")
    out = "out/deeper" if nested else "out"
    box.run("convert", "-q", bad.name, "--format", fmt, "-o", out, contains="CRC")
    box.assert_absent("out")


def test_a_failed_to_wheel_leaves_no_output_folder(tmp_path):
    good = _package(tmp_path / "src", "payload\n" * 1000)
    box = Sandbox(tmp_path)
    bad = box.path(good.name)
    import zipfile

    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[:40] + b"\x00garbage" * 50 if info.filename.startswith("pkg-") else data)
    box.run("to-wheel", bad.name, "-o", "out")
    box.assert_absent("out")


# --------------------------------------------------------------------------- a full disk

def _mount_tmpfs(path: Path, size: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True).returncode == 0


def _channel_state(channel: Path) -> dict[str, bytes]:
    return {str(p.relative_to(channel)): p.read_bytes() for p in sorted(channel.rglob("*")) if p.is_file() and p.name != ".wheel2conda.lock"}


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "disk"
    if not _mount_tmpfs(mount, 1 << 20):
        pytest.skip("mounting a tmpfs needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("room", [0, 2_000, 8_000, 16_000, 24_000, 32_000, 48_000, 64_000, 96_000, 160_000])
def test_full_disk_during_publish_is_one_line_and_leaves_the_channel_as_it_was(tmp_path, tiny_disk, room):
    channel = tiny_disk / "chan"
    publish(channel, [_package(tmp_path / "seed", "seed\n")])
    new = build_conda_package(tmp_path / "new" / "noarch", {"name": "big", "version": "1.0", "build": "0", "noarch": "generic"}, {"share/big.bin": os.urandom(48_000)}, compression_level=1)
    before = _channel_state(channel)
    free = shutil.disk_usage(tiny_disk).free
    filler = tiny_disk / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - room))
    done = _cli("publish", "-q", new, "--channel", channel)
    filler.unlink()
    if done.returncode == 0:  # enough room after all: then it must be complete
        listed = listed_packages_match_disk(channel)
        assert "noarch/big-1.0-0.conda" in listed
        return
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "Traceback" not in done.stderr, done.stderr
    after = _channel_state(channel)
    assert {k: v for k, v in after.items() if not k.startswith("noarch/.cache")} == {k: v for k, v in before.items() if not k.startswith("noarch/.cache")}
    listed_packages_match_disk(channel)
    assert not [p for p in channel.rglob("*") if ".w2c-tmp-" in p.name]


# --------------------------------------------------------------------------- malformed channel files

REPODATA_CASES: dict[str, bytes] = {
    "not-json": b"{",
    "a-list": b"[]",
    "packages-a-string": b'{"info": {"subdir": "noarch"}, "packages": "abc", "packages.conda": {}}',
    "record-a-list": b'{"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {"x-1-0.conda": []}}',
    "binary": b"\xff\xfe\x00\x01",
    "huge-number": b'{"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {"x-1-0.conda": {"size": 1e400}}}',
}

CHANNEL_COMMANDS = {
    "index": (["index", "-q", "chan"], 0),
    "verify": (["channel", "verify", "chan"], 1),
    "list": (["channel", "list", "chan"], None),
    "publish": (["publish", "-q", "in/noarch/fresh-1.0-0.conda", "--channel", "chan"], 0),
}


@pytest.mark.parametrize("command", sorted(CHANNEL_COMMANDS))
@pytest.mark.parametrize("case", sorted(REPODATA_CASES))
def test_malformed_repodata_never_crashes(tmp_path, case, command):
    box = Sandbox(tmp_path)
    publish(box.work / "chan", [_package(box.work / "seed", "x")])
    _package(box.work / "in", "fresh\n", name="fresh")
    (box.work / "chan" / "noarch" / "repodata.json").write_bytes(REPODATA_CASES[case])
    argv, expect = CHANNEL_COMMANDS[command]
    box.run(*argv, expect=expect, stderr_lines=None)
    if command in ("index", "publish"):
        listed_packages_match_disk(box.work / "chan")


@pytest.mark.parametrize("what", ["cache-garbage", "cache-fifo", "patch-not-json", "patch-a-list", "repodata-fifo", "repodata-devzero"])
def test_malformed_channel_side_files_never_crash_or_hang(tmp_path, what):
    box = Sandbox(tmp_path)
    chan = box.work / "chan"
    publish(chan, [_package(box.work / "seed", "x")])
    cache = chan / "noarch" / ".cache" / "wheel2conda.sqlite3"
    target = {"cache-garbage": cache, "cache-fifo": cache, "patch-not-json": chan / "noarch" / "patch_instructions.json", "patch-a-list": chan / "noarch" / "patch_instructions.json", "repodata-fifo": chan / "noarch" / "repodata.json", "repodata-devzero": chan / "noarch" / "repodata.json"}[what]
    target.unlink(missing_ok=True)
    if what.endswith("fifo"):
        os.mkfifo(target)
    elif what == "repodata-devzero":
        target.symlink_to("/dev/zero")
    else:
        target.write_bytes({"cache-garbage": b"not sqlite" * 100, "patch-not-json": b"{", "patch-a-list": b"[]"}[what])
    outcome = box.run("index", "-q", "chan", expect=None, stderr_lines=None, timeout=30)
    assert outcome.code in (0, 2) and len(outcome.lines) <= 1, outcome.stderr
    box.run("channel", "verify", "chan", expect=None, stderr_lines=None, timeout=30)
