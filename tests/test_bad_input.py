"""Bad wheels: one clear line naming the file and the cause, exit 2, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.cli import main
from tests.support.wheels import corrupt_crc, dist_info_name, rewrite_wheel, truncate

DI = dist_info_name("good", "1.0") + ".dist-info"


@pytest.fixture
def good(make_wheel) -> Path:
    return make_wheel(
        "good",
        "1.0",
        files={"good/__init__.py": "X = 1\n", "good/data.bin": bytes(range(256)) * 64},
        requires_dist=["requests>=2"],
    )


def craft(good: Path, tmp_path: Path, how: str) -> Path:
    """One broken variant of ``good`` (same file name unless the case is about the name)."""
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir(exist_ok=True)
    dst = bad_dir / good.name
    if how == "not-a-zip":
        dst.write_text("this is not a zip archive\n")
    elif how == "truncated":
        shutil.copy(good, dst)
        truncate(dst, -200)
    elif how == "crc":
        corrupt_crc(good, dst, "good/data.bin")
    elif how == "missing-wheel":
        rewrite_wheel(good, dst, drop=[f"{DI}/WHEEL"], keep_record=False)
    elif how == "bad-wheel-version":
        rewrite_wheel(good, dst, replace={f"{DI}/WHEEL": b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}, keep_record=False)
    elif how == "bad-purelib":
        rewrite_wheel(good, dst, replace={f"{DI}/WHEEL": b"Wheel-Version: 1.0\nTag: py3-none-any\n"}, keep_record=False)
    elif how == "missing-metadata":
        rewrite_wheel(good, dst, drop=[f"{DI}/METADATA"], keep_record=False)
    elif how == "metadata-no-version":
        rewrite_wheel(good, dst, replace={f"{DI}/METADATA": b"Metadata-Version: 2.1\nName: good\n"}, keep_record=False)
    elif how == "metadata-bad-requirement":
        rewrite_wheel(good, dst, replace={f"{DI}/METADATA": b"Metadata-Version: 2.1\nName: good\nVersion: 1.0\nRequires-Dist: requests >>> 2\n"}, keep_record=False)
    elif how == "name-mismatch":
        rewrite_wheel(good, dst, replace={f"{DI}/METADATA": b"Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"}, keep_record=False)
    elif how == "version-mismatch":
        rewrite_wheel(good, dst, replace={f"{DI}/METADATA": b"Metadata-Version: 2.1\nName: good\nVersion: 1.1\n"}, keep_record=False)
    elif how == "hash-mismatch":
        rewrite_wheel(good, dst, replace={"good/__init__.py": b"X = 2\n"}, keep_record=True)  # same size, other bytes
    elif how == "size-mismatch":
        rewrite_wheel(good, dst, replace={"good/__init__.py": b"X = 22\n"}, keep_record=True)
    elif how == "unlisted-member":
        rewrite_wheel(good, dst, add=[("good/extra.py", b"")], keep_record=True)
    elif how == "dotdot":
        rewrite_wheel(good, dst, add=[("../evil.py", b"boom")], keep_record=False)
    elif how == "absolute":
        rewrite_wheel(good, dst, add=[("/abs.py", b"boom")], keep_record=False)
    elif how == "duplicate":
        rewrite_wheel(good, dst, add=[("good/__init__.py", b"X = 3\n")], keep_record=True)
    elif how == "musllinux":
        dst = bad_dir / good.name.replace("py3-none-any", "cp312-cp312-musllinux_1_2_x86_64")
        shutil.copy(good, dst)
    elif how == "bad-filename":
        dst = bad_dir / "good.whl"
        shutil.copy(good, dst)
    elif how == "missing-file":
        dst = bad_dir / "absent-1.0-py3-none-any.whl"
    else:  # pragma: no cover
        raise AssertionError(how)
    return dst


CASES = {
    "not-a-zip": "not a valid zip archive",
    "truncated": "not a valid zip archive",
    "crc": "good/data.bin",
    "missing-wheel": "WHEEL is missing",
    "bad-wheel-version": "Wheel-Version 2.0 is not supported",
    "bad-purelib": "Root-Is-Purelib must be true or false",
    "missing-metadata": "METADATA is missing",
    "metadata-no-version": "METADATA lacks Name or Version",
    "metadata-bad-requirement": "invalid Requires-Dist",
    "name-mismatch": "file name says 'good' but METADATA says Name: other",
    "version-mismatch": "file name says version 1.0 but METADATA says 1.1",
    "hash-mismatch": "good/__init__.py: sha256 does not match RECORD",
    "size-mismatch": "good/__init__.py: size is 7 bytes but RECORD says 6",
    "unlisted-member": "good/extra.py: not listed in RECORD",
    "dotdot": "unsafe member name '../evil.py'",
    "absolute": "unsafe member name '/abs.py': absolute path",
    "duplicate": "duplicate member 'good/__init__.py'",
    "musllinux": "musllinux wheels have no conda virtual package",
    "bad-filename": "not a wheel file name",
    "missing-file": "no such file",
}


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


@pytest.mark.parametrize("how", sorted(CASES))
def test_bad_wheel_is_refused_cleanly(how: str, good: Path, tmp_path: Path, capsys) -> None:
    bad = craft(good, tmp_path, how)
    out, channel = tmp_path / "out", tmp_path / "channel"
    assert main(["convert", str(bad), "-o", str(out), "--channel", str(channel)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"wheel2conda: error: {bad}: "), lines[0]
    assert CASES[how] in lines[0]
    assert files_under(out) == [] and files_under(channel) == []


def test_batch_with_one_bad_wheel_publishes_the_good_one(good: Path, tmp_path: Path, capsys) -> None:
    bad = craft(good, tmp_path, "hash-mismatch")
    channel = tmp_path / "channel"
    assert main(["convert", str(good), str(bad), "--channel", str(channel)]) == 1
    assert [p.name for p in files_under(channel) if p.suffix == ".conda"] == ["good-1.0-py_0.conda"]
    assert "sha256 does not match RECORD" in capsys.readouterr().err


def test_republishing_different_bytes_is_refused(good: Path, tmp_path: Path, capsys) -> None:
    channel = tmp_path / "channel"
    assert main(["convert", "-q", str(good), "--channel", str(channel)]) == 0
    before = (channel / "noarch" / "repodata.json").read_bytes()
    assert main(["convert", "-q", str(good), "--channel", str(channel)]) == 0  # identical: a no-op
    assert main(["convert", "-q", str(good), "--channel", str(channel), "--zstd-level", "3"]) == 1
    assert "already published with different content" in capsys.readouterr().err
    assert (channel / "noarch" / "repodata.json").read_bytes() == before


def test_usage_errors_exit_2(tmp_path: Path, good: Path, capsys) -> None:
    assert main(["convert", str(good), "--zstd-window-log", "30", "-o", str(tmp_path)]) == 2
    assert "window log must be" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["convert"])
    assert exc.value.code == 2


def test_invalid_added_dependency_is_a_usage_error(good: Path, tmp_path: Path, capsys) -> None:
    assert main(["convert", str(good), "-o", str(tmp_path / "o"), "--depends", "x >>= 1"]) == 2
    assert "--depends 'x >>= 1' is not a conda match spec" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
