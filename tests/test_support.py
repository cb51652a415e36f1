"""Self-tests of the test infrastructure in tests/support (no project code involved)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from conda_package_streaming.create import anonymize, conda_builder
from packaging.metadata import Metadata
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from bridge.channel.index import index_channel
from tests.support.conda_env import (
    HOST_PY,
    HOST_SUBDIR,
    SolveError,
    build_base_channel,
    install,
    prefix_python,
    run_in_prefix,
    solve,
)
from tests.support.wheels import build_wheel, corrupt_crc, rewrite_wheel, truncate, wheel_members


def _check_record(zf: zipfile.ZipFile) -> list[list[str]]:
    """Assert every member is in RECORD with a matching hash and size; return the rows."""
    (record_name,) = [n for n in zf.namelist() if n.endswith(".dist-info/RECORD")]
    rows = list(csv.reader(io.StringIO(zf.read(record_name).decode())))
    assert rows[-1] == [record_name, "", ""]
    assert sorted(r[0] for r in rows) == sorted(zf.namelist())
    for name, digest, size in rows[:-1]:
        data = zf.read(name)
        algo, _, b64 = digest.partition("=")
        assert algo == "sha256" and "=" not in b64
        assert base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)) == hashlib.sha256(data).digest()
        assert int(size) == len(data)
    return rows


# --------------------------------------------------------------------------- wheels


def test_pure_wheel(make_wheel) -> None:
    whl = make_wheel(
        "Demo.Pkg",
        "1.2.3",
        files={"demo_pkg/__init__.py": "def main():\n    print('hi')\n"},
        data={"scripts": {"demo-sh": "#!/bin/sh\necho hi\n"}, "data": {"share/demo/x.txt": b"x"}},
        entry_points={"console_scripts": {"Demo": "demo_pkg:main"}, "gui_scripts": {"demo-gui": "demo_pkg:main"}},
        requires_dist=["requests>=2", 'tomli; python_version < "3.11"'],
        requires_python=">=3.9",
        license_files={"LICENSE": "MIT License\n"},
        metadata_fields=[("Project-URL", "Homepage, https://example.org")],
    )
    name, version, build, tags = parse_wheel_filename(whl.name)
    assert (str(name), str(version), build, tags) == ("demo-pkg", "1.2.3", (), frozenset({Tag("py3", "none", "any")}))
    assert whl.name == "demo_pkg-1.2.3-py3-none-any.whl"

    with zipfile.ZipFile(whl) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[-1] == "demo_pkg-1.2.3.dist-info/RECORD"
        tail = names[names.index("demo_pkg-1.2.3.dist-info/METADATA") :]
        assert all(n.startswith("demo_pkg-1.2.3.dist-info/") for n in tail)
        _check_record(zf)
        infos = {i.filename: i for i in zf.infolist()}
        assert infos["demo_pkg-1.2.3.data/scripts/demo-sh"].external_attr >> 16 == 0o100755
        assert infos["demo_pkg/__init__.py"].external_attr >> 16 == 0o100644
        assert {i.date_time for i in infos.values()} == {(2024, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos.values()} == {zipfile.ZIP_DEFLATED}
        meta = Metadata.from_email(zf.read("demo_pkg-1.2.3.dist-info/METADATA"), validate=True)
        wheel = zf.read("demo_pkg-1.2.3.dist-info/WHEEL").decode()
        eps = zf.read("demo_pkg-1.2.3.dist-info/entry_points.txt").decode()
        assert zf.read("demo_pkg-1.2.3.dist-info/licenses/LICENSE") == b"MIT License\n"

    assert (meta.metadata_version, meta.name, str(meta.version)) == ("2.4", "Demo.Pkg", "1.2.3")
    assert [str(r) for r in meta.requires_dist or []] == ["requests>=2", 'tomli; python_version < "3.11"']
    assert str(meta.requires_python) == ">=3.9" and meta.license_files == ["LICENSE"]
    assert "Root-Is-Purelib: true" in wheel and "Tag: py3-none-any" in wheel
    assert "[console_scripts]\nDemo = demo_pkg:main" in eps and "[gui_scripts]" in eps


def test_wheel_is_deterministic(tmp_path: Path) -> None:
    kwargs = dict(
        files={"a/__init__.py": "x = 1\n", "a/b.py": b"y = 2\n"},
        entry_points={"console_scripts": {"a": "a:m"}},
    )
    one = build_wheel(tmp_path / "one", "a", "1.0", **kwargs)
    two = build_wheel(tmp_path / "two", "a", "1.0", **kwargs)
    assert one.read_bytes() == two.read_bytes()


def test_binary_wheel_tags(make_wheel) -> None:
    tag = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
    whl = make_wheel("native", "0.1", tag=tag, build_tag="7", files={"native/_ext.so": b"\x7fELF", "native/tool": b"x"},
                     executable=["native/tool"], metadata_fields=[("License-Expression", "MIT")])
    name, version, build, tags = parse_wheel_filename(whl.name)
    assert build == (7, "") and len(tags) == 2
    with zipfile.ZipFile(whl) as zf:
        wheel = zf.read("native-0.1.dist-info/WHEEL").decode().splitlines()
        assert zf.getinfo("native/tool").external_attr >> 16 == 0o100755
        assert Metadata.from_email(zf.read("native-0.1.dist-info/METADATA")).metadata_version == "2.4"
        _check_record(zf)
    assert "Root-Is-Purelib: false" in wheel and "Build: 7" in wheel
    assert sorted(line for line in wheel if line.startswith("Tag: ")) == [
        "Tag: cp312-cp312-manylinux2014_x86_64",
        "Tag: cp312-cp312-manylinux_2_17_x86_64",
    ]


def test_bad_wheel_helpers(make_wheel, tmp_path: Path) -> None:
    good = make_wheel("evil", "1.0", files={"evil/__init__.py": "x = 1\n" * 50}, record=True)
    stale = rewrite_wheel(good, tmp_path / "stale.whl", replace={"evil/__init__.py": b"changed\n"},
                          add=[("../evil.py", b"up"), ("/abs.py", b"abs"), ("evil/__init__.py", b"dup")])
    with zipfile.ZipFile(stale) as zf:
        names = zf.namelist()
        assert names.count("evil/__init__.py") == 2 and "../evil.py" in names and "/abs.py" in names
        assert zf.read("evil-1.0.dist-info/RECORD") == wheel_members(good)["evil-1.0.dist-info/RECORD"]

    fixed = rewrite_wheel(good, tmp_path / "fixed.whl", drop={"evil-1.0.dist-info/WHEEL"}, keep_record=False)
    with zipfile.ZipFile(fixed) as zf:
        assert "evil-1.0.dist-info/WHEEL" not in zf.namelist()
        _check_record(zf)

    plain = make_wheel("plain", "1.0")
    assert Metadata.from_email(wheel_members(plain)["plain-1.0.dist-info/METADATA"]).metadata_version == "2.1"
    no_record = make_wheel("norec", "1.0", record=False, filename="renamed-9-py3-none-any.whl")
    assert no_record.name == "renamed-9-py3-none-any.whl"
    assert not any(n.endswith("RECORD") for n in zipfile.ZipFile(no_record).namelist())

    bad_crc = corrupt_crc(good, tmp_path / "crc.whl", "evil/__init__.py")
    with zipfile.ZipFile(bad_crc) as zf:  # still opens and lists
        assert zf.namelist() == zipfile.ZipFile(good).namelist()
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            zf.read("evil/__init__.py")

    cut = truncate(rewrite_wheel(good, tmp_path / "cut.whl"), -30)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(cut)


# --------------------------------------------------------------------------- conda side


@pytest.mark.e2e
def test_install_runnable_python(base_channel: Path, prefix_factory) -> None:
    prefix = prefix_factory()
    records = install([base_channel], ["python"], prefix)
    assert [(r.name.normalized, str(r.version)) for r in records] == [("python", f"{HOST_PY}.0")]
    assert prefix_python(prefix).is_file()
    proc = run_in_prefix(prefix, "python", "-c", "import sys; print(sys.prefix)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(prefix)


@pytest.mark.parametrize("platform", ["win-64", "osx-arm64"])
def test_solve_other_platforms(base_channel: Path, platform: str) -> None:
    records = solve([base_channel], ["python 3.12.*", "python_abi 3.12.* *_cp312"], platform=platform)
    assert sorted((r.name.normalized, str(r.version), str(r.build), r.subdir) for r in records) == [
        ("python", "3.12.0", "0", platform),
        ("python_abi", "3.12", "0_cp312", platform),
    ]


def test_abi3_support_solves(base_channel: Path) -> None:
    records = solve([base_channel], ["python >=3.11", "cpython >=3.11", "_python_abi3_support 1.*"])
    assert {r.name.normalized for r in records} == {"python", "cpython", "_python_abi3_support"}


@pytest.mark.parametrize(
    "specs",
    [["python 3.99.*"], ["python 3.12.*", "python_abi 3.12.* *_cp311"], ["no-such-package"], ["python >>3"]],
)
def test_unsolvable_raises(base_channel: Path, specs: list[str]) -> None:
    with pytest.raises(SolveError, match="cannot solve"):
        solve([base_channel], specs)


def test_virtual_packages(tmp_path: Path) -> None:
    channel = tmp_path / "vp"
    build_base_channel(channel, pythons=[HOST_PY], subdirs=[HOST_SUBDIR])
    _hand_build(channel / HOST_SUBDIR, {"name": "gpu", "version": "1.0", "build": "0", "subdir": HOST_SUBDIR,
                                        "depends": ["__glibc >=2.34", "__cuda >=12"]}, {})
    index_channel(channel)
    with pytest.raises(SolveError, match="__glibc"):
        solve([channel], ["gpu"], virtual_packages=["__cuda=12.4"])
    records = solve([channel], ["gpu"], virtual_packages=["__glibc=2.35", "__cuda=12.4"])
    assert [r.name.normalized for r in records] == ["gpu"]


def _hand_build(out: Path, index: dict, files: dict[str, bytes], link: dict | None = None) -> Path:
    """Minimal .conda written directly with conda_builder (index, paths, optional link.json)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [{"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(), "size_in_bytes": len(d)}
             for p, d in sorted(files.items())]
    members = {"info/index.json": json.dumps({"build_number": 0, "depends": [], **index}).encode(),
               "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}).encode(), **files}
    if link is not None:
        members["info/link.json"] = json.dumps(link).encode()
    stem = f"{index['name']}-{index['version']}-{index['build']}"
    with conda_builder(stem, out, compression_level=3) as tar:
        for name, data in members.items():
            info = anonymize(tarfile.TarInfo(name))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out / f"{stem}.conda"


@pytest.fixture
def hello_channel(tmp_path: Path) -> Path:
    """A second channel holding one noarch python package with a ``hello`` entry point."""
    channel = tmp_path / "second"
    _hand_build(
        channel / "noarch",
        {"name": "hello", "version": "1.0", "build": "pyh0_0", "subdir": "noarch", "noarch": "python",
         "depends": ["python >=3.8"]},
        {"site-packages/hello/__init__.py": b"import sys\n\ndef main():\n    print('hello', sys.prefix)\n"},
        link={"noarch": {"type": "python", "entry_points": ["hello = hello:main"]}, "package_metadata_version": 1},
    )
    index_channel(channel)
    return channel


@pytest.mark.e2e
def test_multi_channel_entry_point(base_channel: Path, hello_channel: Path, prefix_factory) -> None:
    prefix = prefix_factory()
    records = install([hello_channel, base_channel], ["hello"], prefix)
    urls = {r.name.normalized: r.url for r in records}
    assert urls.keys() == {"hello", "python"}
    assert urls["hello"].startswith(hello_channel.resolve().as_uri() + "/noarch/")
    assert urls["python"].startswith(base_channel.resolve().as_uri() + f"/{HOST_SUBDIR}/")
    assert (prefix / "lib" / f"python{HOST_PY}" / "site-packages" / "hello" / "__init__.py").is_file()
    proc = run_in_prefix(prefix, "hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"hello {prefix}"
    proc = run_in_prefix(prefix, "python", "-c", "import hello; print(hello.__file__)")
    assert proc.stdout.startswith(str(prefix)), proc


@pytest.mark.e2e
@pytest.mark.parametrize("platform", ["win-64", "osx-arm64"])
def test_cross_platform_install_layout(
    base_channel: Path, hello_channel: Path, prefix_factory, platform: str
) -> None:
    prefix = prefix_factory()
    install([hello_channel, base_channel], ["hello", "python 3.12.*"], prefix, platform=platform)
    if platform.startswith("win-"):
        assert (prefix / "Lib/site-packages/hello/__init__.py").is_file()
        assert (prefix / "Scripts/hello-script.py").is_file() and (prefix / "Scripts/hello.exe").is_file()
    else:
        assert (prefix / "lib/python3.12/site-packages/hello/__init__.py").is_file()
        assert (prefix / "bin/hello").read_text().startswith(f"#!{prefix}/bin/python3.12\n")
    meta = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    assert meta == ["hello-1.0-pyh0_0.json", "python-3.12.0-0.json"]
