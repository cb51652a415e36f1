"""The local channel: index, incremental cache, atomic publish, yank/remove, list/search, verify."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from bridge.channel import hooks
from bridge.channel import index as index_module
from bridge.channel.cache import SubdirCache
from bridge.channel.index import index_channel
from bridge.channel.lock import channel_lock
from bridge.channel.manage import catalog, remove, search, yank
from bridge.channel.publish import publish
from bridge.channel.repodata import apply_patch_instructions, build_repodata, dump_repodata, iter_records
from bridge.check.audit import audit_channel
from bridge.cli import main
from bridge.core.errors import BadInput, Conflict
from bridge.core.fsutil import temp_name
from tests.support.conda_env import build_conda_package


def make_pkg(out: Path, name: str = "demo", version: str = "1.0", build: str = "0", subdir: str = "noarch", payload: str = "x", **index) -> Path:
    """A small .conda in ``out/<subdir>/`` (a staging area, not the channel)."""
    extra = {"noarch": "generic"} if subdir == "noarch" else {"arch": "x86_64", "platform": "linux"}
    return build_conda_package(
        out / subdir,
        {"name": name, "version": version, "build": build, "subdir": subdir, "license": "MIT", **extra, **index},
        {f"share/{name}/data.txt": payload},
        about={"summary": f"{name} summary", "home": "https://example.org", "license": "MIT"},
    )


def repodata(channel: Path, subdir: str = "noarch") -> dict:
    return json.loads((channel / subdir / "repodata.json").read_bytes())


def listed(channel: Path, subdir: str = "noarch") -> set[str]:
    data = repodata(channel, subdir)
    return set(data["packages"]) | set(data["packages.conda"])


@pytest.fixture
def stage(tmp_path: Path) -> Path:
    return tmp_path / "stage"


@pytest.fixture
def channel(tmp_path: Path) -> Path:
    return tmp_path / "channel"


# ----------------------------------------------------------------------------- index


def test_index_empty_channel_writes_noarch(channel: Path) -> None:
    channel.mkdir()
    result = index_channel(channel)
    assert list(result.subdirs) == ["noarch"]
    data = repodata(channel)
    assert data == {"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {}, "removed": [], "repodata_version": 1}
    zst = zstandard.ZstdDecompressor().decompress((channel / "noarch" / "repodata.json.zst").read_bytes())
    assert zst == (channel / "noarch" / "repodata.json").read_bytes()


def test_records_carry_hashes_and_index_fields(stage: Path, channel: Path) -> None:
    pkg = make_pkg(stage, "fast", "2.0", "h1_0", subdir="linux-64", depends=["libc >=2"], constrains=["other <2"])
    publish(channel, [pkg])
    assert (channel / "noarch" / "repodata.json").is_file()
    data = repodata(channel, "linux-64")
    assert data["info"] == {"subdir": "linux-64"} and data["repodata_version"] == 1
    record = data["packages.conda"]["fast-2.0-h1_0.conda"]
    raw = pkg.read_bytes()
    assert record["sha256"] == hashlib.sha256(raw).hexdigest()
    assert record["md5"] == hashlib.md5(raw).hexdigest()
    assert record["size"] == len(raw)
    assert record["subdir"] == "linux-64"
    assert record["depends"] == ["libc >=2"] and record["constrains"] == ["other <2"]
    assert record["license"] == "MIT" and record["build_number"] == 0 and record["timestamp"] > 0
    assert "arch" not in record and "platform" not in record  # deprecated, dropped like conda-index


def test_repodata_serialisation_is_deterministic_json() -> None:
    records = {f"p{i}-1-0.conda": {"name": f"p{i}", "version": "1", "build": "0", "z": [1, "ü"], "a": {"b": 1}} for i in range(3)}
    records["old-1-0.tar.bz2"] = {"name": "old", "version": "1", "build": "0"}
    data = build_repodata("noarch", records, {})
    text = dump_repodata(data)
    assert json.loads(text) == data
    assert text == dump_repodata(build_repodata("noarch", dict(reversed(records.items())), {}))
    assert json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")).replace("\n", "") == text.decode().replace("\n", "")


def test_patch_instructions_follow_conda_index() -> None:
    records = {
        "a-1-0.tar.bz2": {"name": "a", "depends": []},
        "a-1-0.conda": {"name": "a", "depends": []},
        "b-1-0.conda": {"name": "b", "depends": ["x"]},
        "c-1-0.conda": {"name": "c"},
    }
    data = build_repodata("noarch", records, {})
    apply_patch_instructions(
        data,
        {"packages": {"a-1-0.tar.bz2": {"license": "MIT"}}, "revoke": ["b-1-0.conda"], "remove": ["c-1-0.conda", "missing.conda"]},
    )
    assert data["packages"]["a-1-0.tar.bz2"]["license"] == "MIT"
    assert data["packages.conda"]["a-1-0.conda"]["license"] == "MIT"  # .tar.bz2 patches apply to the .conda twin
    assert data["packages.conda"]["b-1-0.conda"]["depends"] == ["x", "package_has_been_revoked"]
    assert "c-1-0.conda" not in data["packages.conda"] and data["removed"] == ["c-1-0.conda"]
    assert records["b-1-0.conda"]["depends"] == ["x"]  # inputs (cache records) are not mutated


def test_stale_shadowing_files_are_removed(stage: Path, channel: Path) -> None:
    folder = channel / "noarch"
    (folder / "shards").mkdir(parents=True)
    (folder / "shards" / "abc.msgpack.zst").write_bytes(b"old")
    for name in ("repodata_shards.msgpack.zst", "current_repodata.json", "repodata.json.bz2"):
        (folder / name).write_bytes(b"stale")
    (folder / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(b'{"packages": {}}'))
    publish(channel, [make_pkg(stage)])
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["demo-1.0-0.conda", "repodata.json", "repodata.json.zst"]
    assert zstandard.ZstdDecompressor().decompress((folder / "repodata.json.zst").read_bytes()) == (folder / "repodata.json").read_bytes()
    assert audit_channel(channel).ok


def test_foreign_files_and_temps_are_ignored_and_swept(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage)])
    folder = channel / "noarch"
    dead = folder / f".demo-2.0-0.conda.w2c-tmp-{2**22 + 12345}-abcd1234"  # pid beyond pid_max: not running
    dead.write_bytes(b"half a package")
    old = temp_name(channel / "channeldata.json")  # our own pid, but two hours old
    old.write_bytes(b"{")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    live = temp_name(folder / "x-1-0.conda")  # our own pid: a publisher still at work
    live.write_bytes(b"in progress")
    (folder / "README.txt").write_text("not a package")
    (channel / "docs").mkdir()
    (channel / "docs" / "x.conda").write_bytes(b"not a subdir")
    result = index_channel(channel)
    assert list(result.subdirs) == ["noarch"]
    assert listed(channel) == {"demo-1.0-0.conda"}
    assert not old.exists() and old in result.removed_temps
    if os.name != "nt":  # Windows goes by age only
        assert not dead.exists() and dead in result.removed_temps
    assert live.exists()
    assert audit_channel(channel).notes  # the live temp is reported, not a problem
    assert audit_channel(channel).ok


def test_unreadable_package_is_skipped_others_indexed(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage)])
    (channel / "noarch" / "broken-1.0-0.conda").write_bytes(b"not a zip")
    shutil.copy(make_pkg(stage, "other"), channel / "noarch" / "renamed-1.0-0.conda")
    result = index_channel(channel)
    assert {Path(e.path).name for e in result.skipped} == {"broken-1.0-0.conda", "renamed-1.0-0.conda"}
    assert listed(channel) == {"demo-1.0-0.conda"}
    problems = {p.path.name for p in audit_channel(channel).problems}
    assert problems == {"broken-1.0-0.conda", "renamed-1.0-0.conda"}  # present but not listed


def test_misplaced_package_is_skipped(stage: Path, channel: Path) -> None:
    (channel / "noarch").mkdir(parents=True)
    shutil.copy(make_pkg(stage, "fast", subdir="linux-64"), channel / "noarch")
    result = index_channel(channel)
    assert "says subdir 'linux-64'" in result.skipped[0].reason
    assert listed(channel) == set()


# ----------------------------------------------------------------------------- parallel reading

INDEX_OUTPUTS = ("noarch/repodata.json", "noarch/repodata.json.zst", "linux-64/repodata.json", "linux-64/repodata.json.zst", "channeldata.json", "index.html")


def _channel_for_parallel_index(stage: Path, channel: Path) -> None:
    """A dozen packages in two subdirs, plus two files the index must skip.

    Built once per ``stage``: a second build could differ in its zip time stamps (serial and
    parallel channels must hold the same bytes)."""
    if not (stage / "noarch").is_dir():
        for i in range(7):
            make_pkg(stage, f"pkg{i}", version=f"1.{i}", payload=str(i) * (i + 1))
            make_pkg(stage, f"fast{i}", subdir="linux-64", payload=str(i))
    for subdir in ("noarch", "linux-64"):
        (channel / subdir).mkdir(parents=True)
        for pkg in (stage / subdir).iterdir():
            shutil.copyfile(pkg, channel / subdir / pkg.name)
    (channel / "noarch" / "broken-1.0-0.conda").write_bytes(b"not a zip")
    shutil.copyfile(stage / "noarch" / "pkg1-1.1-0.conda", channel / "noarch" / "renamed-1.0-0.conda")


def _serial_index(stage: Path, where: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    channel = where / "channel"
    _channel_for_parallel_index(stage, channel)
    with monkeypatch.context() as patch:
        patch.setattr(index_module, "READ_PROCESSES", 1)
        skipped = {Path(e.path).name for e in index_channel(channel).skipped}
    assert skipped == {"broken-1.0-0.conda", "renamed-1.0-0.conda"}
    return {name: (channel / name).read_bytes() for name in INDEX_OUTPUTS}


def test_parallel_index_writes_the_same_bytes_as_serial(stage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes (spawned here: the test runner has threads) read in chunks, out of order
    in time, yet the index is byte for byte the serial one, skips included."""
    serial = _serial_index(stage, tmp_path / "serial", monkeypatch)
    channel = tmp_path / "parallel" / "channel"
    _channel_for_parallel_index(stage, channel)
    for name, value in (("READ_PROCESSES", 2), ("PARALLEL_READ_MIN", 1), ("PARALLEL_SPAWN_MIN", 1), ("READ_CHUNK", 2), ("READ_START_METHOD", "spawn")):
        monkeypatch.setattr(index_module, name, value)
    reads: list[int] = []
    real_read = index_module.PackageReader.read
    monkeypatch.setattr(index_module.PackageReader, "read", lambda self, folder, items: (reads.append(self._start(len(items)) is not None), real_read(self, folder, items))[1])
    skipped = {Path(e.path).name for e in index_channel(channel).skipped}
    assert reads == [True, True]  # both subdirs went through the pool
    assert skipped == {"broken-1.0-0.conda", "renamed-1.0-0.conda"}
    assert {name: (channel / name).read_bytes() for name in INDEX_OUTPUTS} == serial


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_forked_index_writes_the_same_bytes_as_serial(stage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default path of ``wheel2conda index`` (a single-threaded process on Linux forks its
    workers), run as its own process; the lock is free again afterwards."""
    serial = _serial_index(stage, tmp_path / "serial", monkeypatch)
    channel = tmp_path / "forked" / "channel"
    _channel_for_parallel_index(stage, channel)
    script = (
        "import sys, threading\n"
        "from bridge.channel import index\n"
        "index.READ_PROCESSES, index.PARALLEL_READ_MIN, index.READ_CHUNK = 2, 1, 2\n"
        "assert threading.active_count() == 1\n"
        "result = index.index_channel(index.Path(sys.argv[1]))\n"
        "print(sorted(index.Path(e.path).name for e in result.skipped))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(channel)], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "['broken-1.0-0.conda', 'renamed-1.0-0.conda']"
    assert {name: (channel / name).read_bytes() for name in INDEX_OUTPUTS} == serial
    with channel_lock(channel, timeout=0):
        pass


# ----------------------------------------------------------------------------- incremental


def test_incremental_reads_only_changed_files(stage: Path, channel: Path) -> None:
    pkgs = [make_pkg(stage, f"p{i}") for i in range(5)]
    publish(channel, pkgs)
    (channel / "noarch" / ".cache").rename(channel / "noarch" / ".cache-old")  # cold cache
    assert index_channel(channel).subdirs["noarch"].read == 5
    again = index_channel(channel)
    assert again.subdirs["noarch"].read == 0 and again.written == []
    shutil.copy(make_pkg(stage, "new"), channel / "noarch")
    assert index_channel(channel).subdirs["noarch"].read == 1
    assert "new-1.0-0.conda" in listed(channel)
    (channel / "noarch" / "p0-1.0-0.conda").unlink()
    assert index_channel(channel).subdirs["noarch"].read == 0
    assert "p0-1.0-0.conda" not in listed(channel)


@pytest.mark.skipif(os.name == "nt", reason="st_ctime is the creation time on Windows (documented: use --rehash)")
def test_rewrite_with_same_size_and_mtime_is_detected(stage: Path, channel: Path) -> None:
    a = make_pkg(stage)
    publish(channel, [a])
    target = channel / "noarch" / a.name
    st = target.stat()
    other = bytearray(a.read_bytes())
    other[10] ^= 0xFF  # first local zip header's mtime: still a valid package, different bytes
    with target.open("r+b") as fh:  # in place: same inode, same size
        fh.write(other)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert (target.stat().st_size, target.stat().st_mtime_ns, target.stat().st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    result = index_channel(channel)
    assert result.subdirs["noarch"].read == 1  # ctime gave it away
    assert repodata(channel)["packages.conda"][a.name]["sha256"] == hashlib.sha256(other).hexdigest()
    assert audit_channel(channel).ok


def test_rehash_rereads_everything(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage, f"p{i}") for i in range(3)])
    assert index_channel(channel, rehash=True).subdirs["noarch"].read == 3


def test_corrupt_cache_is_rebuilt(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage)])
    cache = channel / "noarch" / ".cache" / "wheel2conda.sqlite3"
    cache.write_bytes(b"garbage" * 100)
    assert index_channel(channel, rehash=False).subdirs["noarch"].read == 1
    assert list(SubdirCache.load(channel / "noarch").entries) == ["demo-1.0-0.conda"]


def test_hand_edited_repodata_is_rewritten(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage)])
    good = (channel / "noarch" / "repodata.json").read_bytes()
    (channel / "noarch" / "repodata.json").write_text("{}")
    (channel / "noarch" / "repodata.json.zst").unlink()
    result = index_channel(channel)
    assert result.subdirs["noarch"].changed and result.subdirs["noarch"].read == 0
    assert (channel / "noarch" / "repodata.json").read_bytes() == good
    assert audit_channel(channel).ok


# ----------------------------------------------------------------------------- publish


def test_identical_republish_is_a_noop(stage: Path, channel: Path) -> None:
    pkg = make_pkg(stage)
    assert [p.status for p in publish(channel, [pkg])] == ["added"]
    files = sorted(p for p in channel.rglob("*") if p.is_file() and p.name != ".wheel2conda.lock")
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in files}
    assert [p.status for p in publish(channel, [pkg])] == ["unchanged"]
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in files} == before


def test_different_bytes_are_refused_whole_batch(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage / "v1", payload="one")])
    snapshot = {p: p.read_bytes() for p in channel.rglob("*") if p.is_file()}
    new = make_pkg(stage / "other", "other")
    changed = make_pkg(stage / "v2", payload="two")
    with pytest.raises(Conflict, match="already published with different content"):
        publish(channel, [new, changed])
    assert {p: p.read_bytes() for p in channel.rglob("*") if p.is_file()} == snapshot  # nothing of the batch landed
    result = publish(channel, [changed], force=True)
    assert [p.status for p in result] == ["replaced"]
    assert repodata(channel)["packages.conda"][changed.name]["sha256"] == hashlib.sha256(changed.read_bytes()).hexdigest()
    assert audit_channel(channel).ok


def test_bad_inputs_are_refused_before_anything_is_written(stage: Path, channel: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk-1.0-0.conda"
    junk.write_bytes(b"no zip")
    renamed = tmp_path / "renamed-1.0-0.conda"
    shutil.copy(make_pkg(stage), renamed)
    with pytest.raises(BadInput, match="not a readable conda package"):
        publish(channel, [make_pkg(stage, "good"), junk])
    with pytest.raises(BadInput, match="named for another file"):
        publish(channel, [renamed])
    with pytest.raises(BadInput, match="not a conda package file"):
        publish(channel, [tmp_path / "x.whl"])
    assert not channel.exists()


def test_same_name_twice_in_one_batch(stage: Path, channel: Path) -> None:
    a = make_pkg(stage / "a", payload="A")
    same = shutil.copy(a, stage / "a-copy.conda")
    b = make_pkg(stage / "b", payload="B")
    with pytest.raises(BadInput, match="same file name"):
        publish(channel, [a, b])
    dup = stage / "dup"
    dup.mkdir()
    shutil.copy(a, dup / a.name)
    assert [p.status for p in publish(channel, [a, dup / a.name])] == ["added", "unchanged"]
    del same


def test_move_renames_staged_packages(stage: Path, channel: Path) -> None:
    pkg = make_pkg(stage)
    data = pkg.read_bytes()
    publish(channel, [pkg], move=True)
    assert not pkg.exists() and (channel / "noarch" / pkg.name).read_bytes() == data
    assert audit_channel(channel).ok


def test_post_index_hook_sees_the_channel(stage: Path, channel: Path) -> None:
    seen = []

    @hooks.register_post_index_hook
    def hook(result) -> None:
        seen.append({s: sorted(sub.repodata["packages.conda"]) for s, sub in result.subdirs.items()})

    try:
        publish(channel, [make_pkg(stage), make_pkg(stage, "fast", subdir="linux-64")])
    finally:
        hooks.unregister_post_index_hook(hook)
    assert seen == [{"linux-64": ["fast-1.0-0.conda"], "noarch": ["demo-1.0-0.conda"]}]


def test_builtin_post_index_steps_run_before_registered_hooks(stage: Path, channel: Path) -> None:
    """The site files and the PyPI maps are steps like any hook, run first (no import back into index)."""
    seen = []

    @hooks.register_post_index_hook
    def hook(result) -> None:
        seen.append(sorted(p.name for p in result.written if p.parent == channel))

    try:
        publish(channel, [make_pkg(stage)])
    finally:
        hooks.unregister_post_index_hook(hook)
    assert hooks.BUILTIN_STEPS[0].__module__ == "bridge.channel.site"
    assert seen and {"channeldata.json", "index.html"} <= set(seen[0])


def test_iter_records_walks_listed_packages_only(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage), make_pkg(stage, "fast", subdir="linux-64"), make_pkg(stage, "gone")])
    yank(channel, ["gone"])
    listed = [(p.subdir, p.filename, p.name) for p in iter_records(channel)]
    assert listed == [("linux-64", "fast-1.0-0.conda", "fast"), ("noarch", "demo-1.0-0.conda", "demo")]
    assert [p.filename for p in iter_records(channel, ["noarch"])] == ["demo-1.0-0.conda"]
    (channel / "linux-64" / "repodata.json").write_text("{not json")
    with pytest.raises(BadInput, match="not valid JSON"):
        list(iter_records(channel))
    assert [p.subdir for p in iter_records(channel, skip_broken=True)] == ["noarch"]


def test_lock_is_reentrant_and_exclusive_across_threads(channel: Path) -> None:
    import threading

    from bridge.core.errors import BridgeError

    errors = []
    with channel_lock(channel):
        with channel_lock(channel):  # publish -> index_channel nests
            pass

        def other() -> None:
            try:
                with channel_lock(channel, timeout=0.2):
                    pass
            except BridgeError as exc:
                errors.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert errors and "timed out" in errors[0].reason
    with channel_lock(channel, timeout=0.2):
        pass


# ----------------------------------------------------------------------------- site files


def test_channeldata_and_index_html(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage, "demo", "1.9"), make_pkg(stage, "demo", "1.10"), make_pkg(stage, "demo", "1.10", subdir="linux-64")])
    data = json.loads((channel / "channeldata.json").read_bytes())
    assert data["channeldata_version"] == 1 and data["subdirs"] == ["linux-64", "noarch"]
    demo = data["packages"]["demo"]
    assert demo["version"] == "1.10"  # conda version order, not string order
    assert demo["subdirs"] == ["linux-64", "noarch"] and demo["summary"] == "demo summary" and demo["license"] == "MIT"
    page = (channel / "index.html").read_text()
    assert "demo" in page and "1.10" in page and 'href="noarch/repodata.json"' in page


# ----------------------------------------------------------------------------- manage


def test_yank_unyank_remove(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage, "demo", "1.0"), make_pkg(stage, "demo", "2.0"), make_pkg(stage, "keep")])
    rows, _ = yank(channel, ["demo >=2"])
    assert [r.filename for r in rows] == ["demo-2.0-0.conda"]
    data = repodata(channel)
    assert data["removed"] == ["demo-2.0-0.conda"] and "demo-2.0-0.conda" not in data["packages.conda"]
    assert (channel / "noarch" / "demo-2.0-0.conda").exists()
    assert json.loads((channel / "noarch" / "patch_instructions.json").read_bytes())["remove"] == ["demo-2.0-0.conda"]
    assert json.loads((channel / "channeldata.json").read_bytes())["packages"]["demo"]["version"] == "1.0"
    assert audit_channel(channel).ok
    assert [(r.filename, r.yanked) for r in catalog(channel) if r.record["name"] == "demo"] == [("demo-1.0-0.conda", False), ("demo-2.0-0.conda", True)]
    # republishing the same bytes does not undo a yank
    assert publish(channel, [stage / "noarch" / "demo-2.0-0.conda"])[0].yanked

    yank(channel, ["noarch/demo-2.0-0.conda"], undo=True)
    assert repodata(channel)["removed"] == [] and not (channel / "noarch" / "patch_instructions.json").exists()

    remove(channel, ["demo-1.0-0.conda", "demo 2.0"])
    assert not (channel / "noarch" / "demo-1.0-0.conda").exists()
    assert listed(channel) == {"keep-1.0-0.conda"} and repodata(channel)["removed"] == []
    assert audit_channel(channel).ok
    # a removed file name can be published again
    assert publish(channel, [stage / "noarch" / "demo-1.0-0.conda"])[0].status == "added"
    assert "demo-1.0-0.conda" in listed(channel)


def test_select_errors(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage, "demo"), make_pkg(stage, "demo", subdir="linux-64")])
    with pytest.raises(BadInput, match="in several subdirs"):
        yank(channel, ["demo-1.0-0.conda"])
    with pytest.raises(BadInput, match="no such package"):
        remove(channel, ["nope-1.0-0.conda"])
    with pytest.raises(BadInput, match="no package matches"):
        remove(channel, ["nope"])
    with pytest.raises(BadInput, match="invalid match spec"):
        search(channel, "demo >=>=1")
    assert listed(channel) == {"demo-1.0-0.conda"}


def test_search_uses_matchspec(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage, "torch", "2.5.1", "cuda124_0"), make_pkg(stage, "torch", "2.5.1", "cpu_0"), make_pkg(stage, "torchvision", "0.20")])
    assert [r.filename for r in search(channel, "torch[build=*cuda*]")] == ["torch-2.5.1-cuda124_0.conda"]
    assert {r.record["name"] for r in search(channel, "torch*")} == {"torch", "torchvision"}
    assert search(channel, "torch >=3") == []
    assert len(search(channel, "torch")) == 2


def test_catalog_needs_a_channel(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not a conda channel"):
        catalog(tmp_path)


# ----------------------------------------------------------------------------- verify


def test_verify_finds_every_kind_of_damage(stage: Path, channel: Path) -> None:
    publish(channel, [make_pkg(stage, f"p{i}") for i in range(4)] + [make_pkg(stage, "fast", subdir="linux-64")])
    assert audit_channel(channel).ok and audit_channel(channel).checked == 5
    folder = channel / "noarch"
    (folder / "p0-1.0-0.conda").unlink()  # listed but missing
    raw = bytearray((folder / "p1-1.0-0.conda").read_bytes())
    raw[-30] ^= 0xFF
    (folder / "p1-1.0-0.conda").write_bytes(raw)  # same size, different bytes
    (folder / "p2-1.0-0.conda").write_bytes(b"short")  # size differs
    shutil.copy(make_pkg(stage, "extra"), folder)  # not listed
    (channel / "linux-64" / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(b"{}"))  # stale zst
    (channel / "linux-64" / "current_repodata.json").write_text("{}")
    report = audit_channel(channel)
    reasons = {(p.path.name, p.reason.split(" ")[0]) for p in report.problems}
    assert reasons == {
        ("p0-1.0-0.conda", "listed"),
        ("p1-1.0-0.conda", "sha256"),
        ("p2-1.0-0.conda", "size"),
        ("extra-1.0-0.conda", "package"),
        ("repodata.json.zst", "stale:"),
        ("current_repodata.json", "stale:"),
    }
    assert {p.path.name for p in audit_channel(channel, hashes=False).problems} == {name for name, _ in reasons} - {"p1-1.0-0.conda"}


def test_verify_broken_repodata(channel: Path) -> None:
    (channel / "linux-64").mkdir(parents=True)
    (channel / "linux-64" / "repodata.json").write_text('{"info": {"subdir": "osx-64"}, "packages": {}}')
    report = audit_channel(channel)
    assert {p.reason.split(" ")[0] for p in report.problems} == {"missing", "info.subdir"}
    (channel / "noarch").mkdir()
    (channel / "noarch" / "repodata.json").write_text("")
    assert any("not valid JSON" in p.reason for p in audit_channel(channel).problems)


# ----------------------------------------------------------------------------- CLI


def test_cli_round_trip(stage: Path, channel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_pkg(stage, "demo", "1.0")
    make_pkg(stage, "demo", "2.0")
    assert main(["publish", str(stage / "noarch"), "--channel", str(channel)]) == 0
    assert "added     noarch/demo-1.0-0.conda" in capsys.readouterr().out
    assert main(["index", str(channel)]) == 0
    assert "noarch              2 files (0 read, 2 cached)  repodata.json unchanged" in capsys.readouterr().out
    assert main(["channel", "yank", str(channel), "demo-2.0-0.conda"]) == 0
    assert main(["channel", "list", str(channel)]) == 0
    out = capsys.readouterr().out
    assert "demo  2.0      0      noarch  " in out and "(yanked)" in out
    assert main(["channel", "search", str(channel), "demo <2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "channel search" and [i["file"] for i in doc["items"]] == ["demo-1.0-0.conda"]
    assert main(["channel", "verify", str(channel)]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 subdirs, 1 packages")
    (channel / "noarch" / "demo-1.0-0.conda").unlink()
    assert main(["channel", "verify", str(channel), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"][0]["reason"] == "listed in repodata.json but missing" and doc["summary"]["problems"] == 1
    assert main(["channel", "remove", str(channel), "nothing-here"]) == 2
    assert "no package matches 'nothing-here'" in capsys.readouterr().err
    make_pkg(stage / "v2", "demo", "2.0", payload="other")
    assert main(["publish", str(stage / "v2" / "noarch"), "--channel", str(channel)]) == 1
    assert "already published with different content" in capsys.readouterr().err
