"""Streaming writer: zstd settings, reproducibility across jobs and threads, nested archives, progress."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard
from conda_package_streaming.package_streaming import stream_conda_component

from bridge.cli import main
from bridge.core.progress import Progress
from bridge.pipelines.convert import convert_all, convert_wheel
from bridge.plan.types import ConversionOptions
from bridge.sinks.compression import MAX_WINDOW_LOG, SHORT_WINDOW_LOG, ZstdSettings
from bridge.sinks.settings import WriteSettings
from tests.links_support import DEVEL_ENTRIES, core_wheel, devel_wheel, expected_devel_tree, tar_bytes
from tests.support.wheels import build_wheel


def written(out: Path) -> list[Path]:
    """Files under an output directory (packages go into ``<out>/<subdir>/``)."""
    return sorted(p for p in out.rglob("*") if p.is_file()) if out.exists() else []


def members(path: Path, component: str = "pkg") -> dict[str, tarfile.TarInfo]:
    return {m.name: m for _, m in stream_conda_component(str(path), component=component)}


@pytest.fixture
def wheels(tmp_path: Path) -> list[Path]:
    out = tmp_path / "wheels"
    payload = bytes(range(256)) * 4096  # 1 MiB, several zstd jobs' worth of work across wheels
    plain = build_wheel(out, "plain", "1.0", files={"plain/__init__.py": "x = 1\n", "plain/data.bin": payload * 3})
    return [plain, core_wheel(out), devel_wheel(out)]


# --------------------------------------------------------------------------- zstd


def test_zstd_window_and_threads() -> None:
    data = b"".join(i.to_bytes(4, "little") for i in range(300_000))
    frames = []
    for threads in (1, 2, 3):
        buf = io.BytesIO()
        with ZstdSettings(threads=threads).compressor().stream_writer(buf, closefd=False) as w:
            w.write(data)
        frames.append(buf.getvalue())
    assert frames[0] == frames[1] == frames[2]  # multi-threaded output does not depend on the thread count
    assert zstandard.get_frame_parameters(frames[0]).window_size == 1 << SHORT_WINDOW_LOG  # no window decided: the short one
    forced = io.BytesIO()
    with ZstdSettings(window_log=MAX_WINDOW_LOG).compressor().stream_writer(forced, closefd=False) as w:
        w.write(data)
    assert zstandard.get_frame_parameters(forced.getvalue()).window_size == 1 << MAX_WINDOW_LOG
    assert zstandard.ZstdDecompressor().stream_reader(io.BytesIO(frames[0])).read() == data
    small = io.BytesIO()
    with ZstdSettings().compressor(size_hint=5000).stream_writer(small, closefd=False) as w:
        w.write(b"x" * 5000)
    assert zstandard.get_frame_parameters(small.getvalue()).window_size <= 8192  # small inputs, small windows
    for bad in ({"window_log": 28}, {"level": 0}, {"threads": -1}):
        with pytest.raises(ValueError):
            ZstdSettings(**bad)


# --------------------------------------------------------------------------- reproducibility and jobs


def test_outputs_do_not_depend_on_jobs_or_threads(wheels: list[Path], tmp_path: Path) -> None:
    runs = {}
    for jobs, threads in ((1, 1), (2, 0), (1, 3)):
        out = tmp_path / f"out-{jobs}-{threads}"
        results = convert_all(wheels, out, ConversionOptions(), WriteSettings(zstd=ZstdSettings(threads=threads)), jobs=jobs)
        assert [r.input for r in results] == wheels and all(r.ok for r in results)
        runs[(jobs, threads)] = {p.relative_to(out).as_posix(): p.read_bytes() for p in written(out)}
    first, *others = runs.values()
    assert len(first) == 3 and all(other == first for other in others)


def test_parallel_failure_is_reported_per_wheel(wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(wheels[0].read_bytes()[:-40])
    out = tmp_path / "out"
    code = main(["convert", str(wheels[0]), str(broken), "-o", str(out), "--jobs", "2", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and not doc["ok"]
    assert [e["path"] for e in doc["errors"]] == [str(broken)] and doc["errors"][0]["kind"] == "BadInput"
    assert [i["source"] for i in doc["items"]] == [str(wheels[0])]
    assert [p.name.split("-")[0] for p in written(out)] == ["plain"]


# --------------------------------------------------------------------------- formats and nested archives


def test_tar_bz2_and_tree_hold_the_devel_tree(tmp_path: Path) -> None:
    wheel = devel_wheel(tmp_path / "w")
    files, links = expected_devel_tree()
    assert main(["convert", str(wheel), "-o", str(tmp_path / "v1"), "--format", "tar.bz2", "-q"]) == 0
    (bz2,) = written(tmp_path / "v1")
    v1 = members(bz2)
    assert {n.removeprefix("site-packages/") for n, m in v1.items() if m.issym()} == set(links)
    assert next(iter(v1)).startswith("info/")  # v1 archives carry info/ first
    assert main(["convert", str(wheel), "-o", str(tmp_path / "tree"), "--format", "tree", "-q"]) == 0
    (tree,) = (tmp_path / "tree").glob("*/*")
    for name, content in files.items():
        assert (tree / "site-packages" / name).read_bytes() == content
    assert not (tree / "site-packages/rocm_sdk_devel/_devel.tar").exists()


def test_corrupt_devel_tarball_is_refused_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tar_bytes(DEVEL_ENTRIES)  # cut inside hipcc's data
    wheel = build_wheel(
        tmp_path / "w",
        "rocm-sdk-devel",
        "7.11",
        tag="py3-none-linux_x86_64",
        files={"rocm_sdk_devel/__init__.py": b"", "rocm_sdk_devel/_devel.tar": good[:2570]},
    )
    out = tmp_path / "out"
    assert main(["convert", str(wheel), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"wheel2conda: error: {wheel}: rocm_sdk_devel/_devel.tar") and "\n" not in err
    assert not written(out)


def test_nested_entries_are_verified_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry whose bytes differ from what planning hashed aborts the write; nothing is left."""
    import bridge.plan.links as links

    original = links._scan_tarball

    def tampered(*args, **kwargs):
        for f in original(*args, **kwargs):
            yield links.replace(f, sha256="0" * 64) if f.path.endswith("hip_runtime.h") else f

    monkeypatch.setattr(links, "_scan_tarball", tampered)
    out = tmp_path / "out"
    done = convert_wheel(devel_wheel(tmp_path / "w"), out, ConversionOptions())
    assert done.error is not None and "hip_runtime.h: sha256 does not match" in done.error.reason
    assert not written(out)


def test_whole_members_are_never_buffered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read the writer makes from a source stream is bounded by the copy chunk."""
    from bridge.core import digest

    sizes: list[int] = []
    original = digest.VerifyingReader.read

    def spy(self, n=-1):
        sizes.append(n)
        return original(self, n)

    monkeypatch.setattr(digest.VerifyingReader, "read", spy)
    big = build_wheel(tmp_path / "w", "big", "1.0", files={"big/blob.bin": bytes(3 << 20)})
    assert main(["convert", str(big), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert sizes and all(0 < n <= digest.CHUNK for n in sizes), sorted(set(sizes))


# --------------------------------------------------------------------------- progress


def test_progress_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(200 << 20, 2, stream=stream) as progress:
        assert progress.mode == "lines"
        progress.started("big.whl", 100 << 20)
        progress.started("small.whl", 1000)  # small inputs are not announced
        progress.advance(100 << 20, 7)
        progress.finished()
        assert (progress.bytes, progress.files, progress.done) == (100 << 20, 7, 1)
    assert stream.getvalue() == "wheel2conda: converting big.whl (100.0 MiB)\n"


def test_progress_bar_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with Progress(1 << 20, 1, stream=stream) as progress:
        assert progress.mode == "bar"
        progress.advance(1 << 20, 3)
        progress.finished()
        with progress.paused():
            pass
    assert "3 files, 1/1 wheels" in stream.getvalue()


def test_cli_prints_no_progress_with_json(wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", *map(str, wheels), "-o", str(tmp_path / "out"), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["ok"]
    # asking for progress with --json is a contradiction, refused before anything is written (issue 15)
    assert main(["convert", *map(str, wheels), "-o", str(tmp_path / "out2"), "--json", "--progress", "lines"]) == 2
    assert "--json and --progress lines contradict each other" in json.loads(capsys.readouterr().out)["errors"][0]["reason"]
    assert not (tmp_path / "out2").exists()


def test_zip_members_of_output_are_stored(wheels: list[Path], tmp_path: Path) -> None:
    (done,) = convert_all(wheels[:1], tmp_path / "out", ConversionOptions())
    with zipfile.ZipFile(done.outputs[0]) as zf:
        assert [i.compress_type for i in zf.infolist()] == [zipfile.ZIP_STORED] * 3
