"""Hostile input files (issue 14 item 4): special files, size caps, installed distributions, recipes files.

Every case runs one command through :class:`tests.support.hostile.Sandbox`, which asserts the
exit status, one line on stderr, no traceback, nothing touched outside the work directory and
no unsafe member in anything written.  Cases are generated: every special-file kind is tried
against every command that reads a file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bridge.check.standin import build_conda_package
from bridge.core.limits import METADATA_CAP
from tests.support.bigfiles import conda_with_big_licence, peak_rss_mib, wheel_with_big_script
from tests.support.hostile import Sandbox
from tests.support.wheels import build_wheel, record_hash

pytestmark = pytest.mark.skipif(os.name == "nt", reason="FIFOs, sockets and device nodes are POSIX")

WHEEL = "evil-1.0-py3-none-any.whl"
CONDA = "evil-1.0-py_0.conda"
BIG = METADATA_CAP + 1


# --------------------------------------------------------------------------- special files

def _special(box: Sandbox, kind: str, name: str) -> Path:
    if kind == "fifo":
        return box.fifo(name)
    if kind == "socket":
        return box.socket(name)
    if kind == "devzero-link":
        return box.link(name, "/dev/zero")
    if kind == "chardev":
        made = box.char_device(name)
        if made is None:
            pytest.skip("mknod needs root")
        return made
    if kind == "fifo-link":
        box.fifo(".hidden-fifo")
        return box.link(name, box.work / ".hidden-fifo")
    raise AssertionError(kind)


KINDS = ["fifo", "socket", "devzero-link", "chardev", "fifo-link"]

#: command line for an input file ``{f}`` (the file's name is the second item)
COMMANDS: dict[str, tuple[str, list[str]]] = {
    "convert": (WHEEL, ["convert", "-q", "{f}", "-o", "out"]),
    "convert-channel": (WHEEL, ["convert", "-q", "{f}", "--channel", "chan"]),
    "inspect-wheel": (WHEEL, ["inspect", "{f}"]),
    "inspect-conda": (CONDA, ["inspect", "{f}"]),
    "to-wheel": (CONDA, ["to-wheel", "{f}", "-o", "out"]),
    "publish": (CONDA, ["publish", "{f}", "--channel", "chan"]),
    "verify": (CONDA, ["verify", "{f}"]),
    "recipes-sources": ("sources.yaml", ["recipes", "regenerate", "--config", "{f}"]),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_special_file_input_is_refused_before_it_is_opened(tmp_path, kind, command):
    box = Sandbox(tmp_path)
    name, argv = COMMANDS[command]
    special = _special(box, kind, name)
    box.run(*[a.format(f=special.name) for a in argv])
    box.assert_absent("out")
    box.assert_absent("recipes")


@pytest.mark.parametrize("kind", KINDS)
def test_special_recipe_file_is_refused(tmp_path, kind):
    box = Sandbox(tmp_path)
    _special(box, kind, "recipes/demo/pypi/1.0/wheel2conda.yaml")
    box.run("recipes", "build", "--recipes", "recipes", "--channel", "chan", "--cache", "cache")
    box.assert_absent("chan")
    box.assert_absent("cache")


DIRECTORY_COMMANDS: dict[str, tuple[str, list[str], int]] = {
    "convert": (WHEEL, ["convert", "-q", "in", "-o", "out"], 2),
    "to-wheel": (CONDA, ["to-wheel", "-q", "in", "-o", "out"], 2),
    "publish": (CONDA, ["publish", "-q", "in", "--channel", "out"], 2),
}


@pytest.mark.parametrize("kind", ["fifo", "socket", "devzero-link"])
@pytest.mark.parametrize("command", sorted(DIRECTORY_COMMANDS))
def test_special_file_inside_an_input_directory_is_refused(tmp_path, kind, command):
    box = Sandbox(tmp_path)
    name, argv, expect = DIRECTORY_COMMANDS[command]
    _special(box, kind, f"in/{name}")
    box.run(*argv, expect=expect)
    box.assert_absent("out")


def test_special_file_in_a_directory_of_wheels_is_refused(tmp_path, ):
    box = Sandbox(tmp_path)
    build_wheel(box.work / "in", "good", "1.0")
    box.fifo(f"in/{WHEEL}")
    outcome = box.run("convert", "in", "-o", "out", expect=1, stderr_lines=None)
    assert sum("error" in line for line in outcome.lines) == 1  # the good one converts, the FIFO is refused
    assert (box.work / "out" / "noarch").is_dir()


# --------------------------------------------------------------------------- size caps

def _wheel_with(out: Path, name: str, **kw) -> Path:
    return build_wheel(out, name, "1.0", **kw)


def _big_zip_member_wheel(out: Path, member: str) -> Path:
    """A wheel whose dist-info ``member`` is METADATA_CAP+1 bytes (deflated: a few KiB on disk)."""
    import zipfile

    path = build_wheel(out, "capped", "1.0")
    big = b"#" * BIG
    with zipfile.ZipFile(path) as zf:
        items = [(i, zf.read(i)) for i in zf.infolist()]
    dist_info = "capped-1.0.dist-info"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        record = []
        for info, data in items:
            if info.filename.endswith("/RECORD"):
                continue
            if info.filename == f"{dist_info}/{member}":
                data = big
            zf.writestr(info.filename, data)
            record.append(f"{info.filename},{record_hash(data)},{len(data)}")
        if member == "RECORD":
            record.append("\n" * BIG)  # blank lines: a RECORD over the cap
        elif f"{dist_info}/{member}" not in [i.filename for i, _ in items]:
            zf.writestr(f"{dist_info}/{member}", big)
            record.append(f"{dist_info}/{member},{record_hash(big)},{len(big)}")
        zf.writestr(f"{dist_info}/RECORD", "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n")
    return path


@pytest.mark.parametrize("member", ["METADATA", "WHEEL", "entry_points.txt", "licenses/LICENSE", "RECORD"])
@pytest.mark.parametrize("command", ["convert", "inspect"])
def test_oversized_wheel_metadata_is_refused(tmp_path, member, command):
    box = Sandbox(tmp_path)
    wheel = _big_zip_member_wheel(box.work / "in", member)
    argv = ["convert", "-q", wheel, "-o", "out"] if command == "convert" else ["inspect", wheel]
    if member == "licenses/LICENSE":  # a wheel's licence is a payload member: streamed, any size
        box.run(*argv, expect=0)
        return
    box.run(*argv, contains="limit for metadata files")
    box.assert_absent("out")


def _big_conda(out: Path, where: str) -> Path:
    """A noarch package whose ``where`` (an info/ file or a dist-info file) is over the cap."""
    site = "site-packages"
    files = {f"{site}/capped/__init__.py": "", f"{site}/capped-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: capped\nVersion: 1.0\n"}
    if not where.startswith("info/"):
        files[f"{site}/capped-1.0.dist-info/{where}"] = b"x" * BIG
    path = build_conda_package(
        out / "noarch", {"name": "capped", "version": "1.0", "build": "py_0", "noarch": "python"}, files,
        link_json={"noarch": {"type": "python"}, "package_metadata_version": 1},
        about={"summary": "x" * BIG} if where == "info/about.json" else None,
        compression_level=1,
    )
    return path


@pytest.mark.parametrize("where", ["info/about.json", "licenses/LICENSE", "entry_points.txt", "WHEEL"])
@pytest.mark.parametrize("command", ["to-wheel", "inspect", "publish"])
def test_oversized_conda_metadata_is_refused(tmp_path, where, command):
    box = Sandbox(tmp_path)
    package = _big_conda(box.work / "in", where)
    argv = {"to-wheel": ["to-wheel", package, "-o", "out"], "inspect": ["inspect", package], "publish": ["publish", package, "--channel", "chan"]}[command]
    if command == "publish" and where != "info/about.json":
        box.run(*argv, expect=0)  # publishing reads only info/: payload files of any size are fine
        return
    box.run(*argv, contains="limit for metadata files")
    box.assert_absent("out")
    box.assert_absent("chan")


def test_oversized_recipes_file_is_refused(tmp_path):
    box = Sandbox(tmp_path)
    sources = box.path("sources.yaml")
    with sources.open("wb") as fh:
        fh.truncate(BIG)  # sparse
    box.run("recipes", "regenerate", "--config", "sources.yaml", contains="limit for metadata files")
    box.assert_absent("recipes")


# --------------------------------------------------------------------------- memory: members of any size stream

def _rss_case(tmp_path: Path, size: int, limit_mib: float, window: list[str]) -> dict[str, float]:
    wheel = wheel_with_big_script(tmp_path, size)
    code, wheel_mib, err = peak_rss_mib(["convert", str(wheel), "-o", str(tmp_path / "out"), "-q", *window], tmp_path)
    assert code == 0, err
    conda = conda_with_big_licence(tmp_path, size)
    code2, conda_mib, err2 = peak_rss_mib(["to-wheel", str(conda), "-o", str(tmp_path / "wout")], tmp_path)
    assert code2 == 2 and "limit for metadata files" in err2, err2
    print(f"peak RSS: convert {size >> 20} MiB script {wheel_mib:.0f} MiB; to-wheel {size >> 20} MiB licence {conda_mib:.0f} MiB")
    assert wheel_mib <= limit_mib and conda_mib <= limit_mib, (wheel_mib, conda_mib)
    return {"convert": wheel_mib, "to-wheel": conda_mib}


def test_big_script_streams_and_big_licence_is_refused_in_bounded_memory(tmp_path):
    """A 192 MiB script member: reading it whole (the old way, twice) needs > 400 MiB; streaming
    with a small zstd window stays far below that."""
    _rss_case(tmp_path, 192 << 20, 160, ["--zstd-window-log", "20"])


@pytest.mark.skipif(not os.environ.get("W2C_BIG_TESTS"), reason="2 GiB inputs take minutes: set W2C_BIG_TESTS=1")
def test_2gib_script_and_licence_stay_under_256_mib(tmp_path):
    _rss_case(tmp_path, 2 << 30, 256, [])


# --------------------------------------------------------------------------- installed distributions (repack)

def _site(box: Sandbox) -> Path:
    site = box.work / "env" / "lib" / "python3.12" / "site-packages"
    (site / "demo").mkdir(parents=True)
    (box.work / "env" / "bin").mkdir(parents=True)
    return site


def _installed(box: Sandbox, extra_rows: list[str], setup: Callable[[Path], None] | None = None) -> Path:
    site = _site(box)
    dist_info = site / "demo-1.0.dist-info"
    dist_info.mkdir()
    files = {
        "demo/__init__.py": b"x = 1\n",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    rows = []
    for rel, data in files.items():
        (site / rel).write_bytes(data)
        rows.append(f"{rel},{record_hash(data)},{len(data)}")
    if setup is not None:
        setup(site)
    (dist_info / "RECORD").write_text("\n".join([*rows, *extra_rows, "demo-1.0.dist-info/RECORD,,"]) + "\n")
    return site


def _record_special(kind: str) -> Callable[[Path], None]:
    def setup(site: Path) -> None:
        target = site / "demo" / "evil"
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "devzero-link":
            target.symlink_to("/dev/zero")
        elif kind == "outside-link":
            target.symlink_to(site.parents[3] / ".." / "canary" / "PWN")
        elif kind == "outside-dir-link":
            target.symlink_to(site.parents[3] / ".." / "canary" / "x")
        elif kind == "socket":
            import socket

            s, cwd = socket.socket(socket.AF_UNIX), os.getcwd()
            os.chdir(target.parent)
            try:
                s.bind(target.name)
            finally:
                os.chdir(cwd)
                s.close()
        elif kind == "chardev":
            os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        elif kind == "directory":
            target.mkdir()
        elif kind == "script-fifo":
            os.mkfifo(site.parents[2] / "bin" / "evil")
    return setup


RECORD_KINDS = ["fifo", "devzero-link", "outside-link", "outside-dir-link", "socket", "chardev", "directory", "script-fifo"]


@pytest.mark.parametrize("to", ["wheel", "conda"])
@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_repack_refuses_special_record_entries(tmp_path, kind, to):
    if kind == "chardev" and os.geteuid() != 0:
        pytest.skip("mknod needs root")
    box = Sandbox(tmp_path)
    row = "../../../bin/evil,," if kind == "script-fifo" else "demo/evil,,"
    site = _installed(box, [row], _record_special(kind))
    box.run("repack", "demo", "--path", site.relative_to(box.work), "--to", to, "-o", "out")
    box.assert_absent("out")


@pytest.mark.parametrize("name", ["METADATA", "RECORD", "entry_points.txt", "WHEEL"])
def test_repack_refuses_special_or_oversized_dist_info_files(tmp_path, name):
    box = Sandbox(tmp_path)
    site = _installed(box, [])
    path = site / "demo-1.0.dist-info" / name
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    box.run("repack", "demo", "--path", site.relative_to(box.work), "-o", "out")
    box.assert_absent("out")
    path.unlink()
    with path.open("wb") as fh:
        fh.truncate(BIG)
    box.run("repack", "demo", "--path", site.relative_to(box.work), "-o", "out", contains="limit for metadata files")
    box.assert_absent("out")


def test_repack_streams_installed_scripts(tmp_path):
    """A restored ``#!python`` script is packed from a stream, byte for byte as the wheel had it."""
    box = Sandbox(tmp_path)
    body = b"#!" + str(box.work / "env" / "bin" / "python3").encode() + b"\nprint('hi')\n" + b"# pad\n" * 50000

    def setup(site: Path) -> None:
        (site.parents[2] / "bin" / "hello").write_bytes(body)

    site = _installed(box, [f"../../../bin/hello,{record_hash(body)},{len(body)}"], setup)
    box.run("repack", "demo", "--path", site.relative_to(box.work), "-o", "out", expect=0)
    import zipfile

    with zipfile.ZipFile(box.work / "out" / "demo-1.0-py3-none-any.whl") as zf:
        script = zf.read("demo-1.0.data/scripts/hello")
    assert script == b"#!python\nprint('hi')\n" + b"# pad\n" * 50000


# --------------------------------------------------------------------------- recipes files

SOURCES_CASES: dict[str, bytes] = {
    "not-yaml": b"sources: [\n",
    "a-list": b"- a\n- b\n",
    "binary": b"\xff\xfe\x00garbage",
    "sources-not-a-list": b"sources: 3\n",
    "source-without-index": b"sources:\n  - name: x\n    packages: [a]\n",
    "unknown-key": b"surprise: 1\n",
    "name-with-slash": b"sources:\n  - name: ../../x\n    index: file:///nonexistent/simple/\n    packages: [a]\n",
    "variant-absolute": b"sources:\n  - name: x\n    variant: /tmp/x\n    index: file:///nonexistent/simple/\n    packages: [a]\n",
    "package-dotdot": b"sources:\n  - name: x\n    index: file:///nonexistent/simple/\n    packages: [../../x]\n",
}


@pytest.mark.parametrize("case", sorted(SOURCES_CASES))
def test_malformed_sources_yaml_is_refused(tmp_path, case):
    box = Sandbox(tmp_path)
    box.path("sources.yaml").write_bytes(SOURCES_CASES[case])
    box.run("recipes", "regenerate", "--config", "sources.yaml", "--timeout", "1", "--retries", "0")
    box.assert_absent("recipes")


def _recipe(**override) -> dict:
    data = {
        "format": 1,
        "package": {"name": "demo", "version": "1.0", "kind": "wheel"},
        "variant": "pypi",
        "origin": {"source": "pypi", "index": "file:///nonexistent/simple/"},
        "files": [{"name": WHEEL, "url": "file:///nonexistent/" + WHEEL, "sha256": "0" * 64}],
        "conversion": {"build_number": 0, "names": "pypi"},
    }
    for key, value in override.items():
        target = data
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return data


RECIPE_CASES: dict[str, dict | bytes] = {
    "name-dotdot": _recipe(**{"package.name": "../../../canary/x"}),
    "name-absolute": _recipe(**{"package.name": "/tmp/x"}),
    "version-slash": _recipe(**{"package.version": "1/../../x"}),
    "variant-dotdot": _recipe(variant=".."),
    "file-name-slash": _recipe(files=[{"name": "../../../canary/PWN", "url": "file:///nonexistent/x.whl", "sha256": "0" * 64}]),
    "file-name-absolute": _recipe(files=[{"name": "/tmp/PWN.whl", "url": "file:///nonexistent/x.whl", "sha256": "0" * 64}]),
    "name-overrides-escape": _recipe(**{"conversion.name_overrides": "../../canary/PWN"}),
    "not-a-mapping": b"- 1\n",
    "not-yaml": b"format: [\n",
    "binary": b"\xff\xfe\x00",
    "files-not-a-list": _recipe(files="abc"),
    "build-number-text": _recipe(**{"conversion.build_number": "abc"}),
}


@pytest.mark.parametrize("case", sorted(RECIPE_CASES))
def test_malformed_recipe_is_refused_by_build(tmp_path, case):
    box = Sandbox(tmp_path)
    folder = box.path("recipes/demo/pypi/1.0")
    folder.mkdir(parents=True)
    value = RECIPE_CASES[case]
    (folder / "wheel2conda.yaml").write_bytes(value if isinstance(value, bytes) else yaml.safe_dump(value).encode())
    box.run("recipes", "build", "--channel", "chan", "--cache", "cache", "--timeout", "1", "--retries", "0")
    box.assert_absent("chan")


# --------------------------------------------------------------------------- the harness itself

@pytest.mark.parametrize("escape", ["write-canary", "new-file-beside-work", "hard-link-to-canary", "remove-canary-link-target", "touch-canary"])
def test_the_harness_notices_every_kind_of_escape(tmp_path, escape):
    box = Sandbox(tmp_path)
    if escape == "write-canary":
        box.canary_file.write_text("pwned\n")
    elif escape == "new-file-beside-work":
        (box.root / "PWN").write_text("x")
    elif escape == "hard-link-to-canary":
        os.link(box.canary_file, box.work / "stolen")
    elif escape == "remove-canary-link-target":
        (box.canary / "x" / "keep.txt").unlink()
    elif escape == "touch-canary":
        os.utime(box.canary_file, ns=(1, 1))
    with pytest.raises(AssertionError, match="outside the work dir"):
        box.assert_outside_untouched()


def test_the_harness_notices_an_unsafe_member_written(tmp_path):
    import zipfile

    box = Sandbox(tmp_path)
    before = box._work_files()
    with zipfile.ZipFile(box.work / "out.whl", "w") as zf:
        zf.writestr("../../PWN", b"x")
    with pytest.raises(AssertionError, match="unsafe member"):
        box.assert_written_safe(before)
