"""Wheel tags → conda targets, and the layout each target gets (pure functions)."""

from __future__ import annotations

import pytest
from packaging.tags import parse_tag

from bridge.model import EntryPoint, Scheme
from bridge.translate.buildstring import build_string, sanitize
from bridge.translate.layout import PLACEHOLDER, CondaLayout, launcher_script, windows_launcher_script
from bridge.translate.shebang import rewrite_shebang
from bridge.translate.tags import TagError, marker_environment, targets_for_tags


def targets(tag: str):
    return targets_for_tags(parse_tag(tag))


def summary(tag: str) -> list[tuple[str, bool, str, list[str], tuple[str, ...]]]:
    return [(t.subdir, t.noarch_python, t.python.build_prefix, t.python.depends(), t.platform.virtual) for t in targets(tag)]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("py3-none-any", [("noarch", True, "py", ["python"], ())]),
        ("py2.py3-none-any", [("noarch", True, "py", ["python"], ())]),
        ("py38-none-any", [("noarch", True, "py", ["python >=3.8"], ())]),
        (
            "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
            [("linux-64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__glibc >=2.17",))],
        ),
        ("cp312-cp312-manylinux1_x86_64", [("linux-64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__glibc >=2.5",))]),
        ("cp311-cp311-manylinux2010_x86_64", [("linux-64", False, "py311", ["python >=3.11,<3.12.0a0", "python_abi 3.11.* *_cp311"], ("__glibc >=2.12",))]),
        ("cp312-cp312-manylinux_2_28_aarch64", [("linux-aarch64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__glibc >=2.28",))]),
        ("cp312-cp312-manylinux_2_17_ppc64le", [("linux-ppc64le", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__glibc >=2.17",))]),
        ("cp312-cp312-linux_x86_64", [("linux-64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ())]),
        ("cp312-cp312-win_amd64", [("win-64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ())]),
        ("cp312-cp312-win_arm64", [("win-arm64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ())]),
        ("cp312-cp312-macosx_10_13_x86_64", [("osx-64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__osx >=10.13",))]),
        ("cp312-cp312-macosx_11_0_arm64", [("osx-arm64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__osx >=11.0",))]),
        (
            "cp312-cp312-macosx_10_9_universal2",
            [
                ("osx-64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__osx >=10.9",)),
                ("osx-arm64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__osx >=11.0",)),
            ],
        ),
        ("cp313-cp313t-manylinux_2_17_x86_64", [("linux-64", False, "py313t", ["python >=3.13,<3.14.0a0", "python_abi 3.13.* *_cp313t"], ("__glibc >=2.17",))]),
        ("pp310-pypy310_pp73-manylinux_2_17_x86_64", [("linux-64", False, "pp310", ["python >=3.10,<3.11.0a0", "python_abi 3.10.* *_pypy310_pp73"], ("__glibc >=2.17",))]),
        (
            "cp38-abi3-manylinux_2_17_x86_64",
            [("linux-64", True, "py38_abi3", ["python >=3.8", "cpython >=3.8", "_python_abi3_support 1.*"], ("__glibc >=2.17",))],
        ),
        ("cp39-abi3-win_amd64", [("win-64", True, "py39_abi3", ["python >=3.9", "cpython >=3.9", "_python_abi3_support 1.*"], ())]),
        ("py3-none-manylinux_2_17_x86_64", [("linux-64", True, "py", ["python"], ("__glibc >=2.17",))]),
        ("py3-none-linux_x86_64", [("linux-64", True, "py", ["python"], ())]),
        ("py3-none-win_amd64", [("win-64", True, "py", ["python"], ())]),
        # a manylinux tag next to a musllinux one: the manylinux one wins
        ("cp312-cp312-manylinux_2_17_x86_64.musllinux_1_1_x86_64", [("linux-64", False, "py312", ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"], ("__glibc >=2.17",))]),
        ("cp312-none-any", [("noarch", True, "py312", ["python >=3.12,<3.13.0a0"], ())]),
    ],
)
def test_targets_for_tags(tag: str, expected: list) -> None:
    assert summary(tag) == expected


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("cp312-cp312-musllinux_1_2_x86_64", "musllinux wheels have no conda virtual package"),
        ("cp312-cp312-android_21_arm64_v8a", "Android"),
        ("py2-none-any", "only Python 2"),
        ("cp312-cp312-manylinux_2_17_riscv64", "unknown Linux architecture"),
        ("ab12-cd-any", "no conda equivalent"),
    ],
)
def test_unsupported_tags_are_refused_with_a_reason(tag: str, message: str) -> None:
    with pytest.raises(TagError, match=message):
        targets(tag)


def test_marker_environment_per_target() -> None:
    (win,) = targets("cp312-cp312-win_amd64")
    assert marker_environment(win) == {
        "sys_platform": "win32",
        "platform_system": "Windows",
        "os_name": "nt",
        "platform_machine": "AMD64",
        "python_version": "3.12",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    (pure,) = targets("py3-none-any")
    assert marker_environment(pure) == {}


@pytest.mark.parametrize(
    ("tag", "site", "scripts", "headers"),
    [
        ("py3-none-any", "site-packages", "python-scripts", "include/demo"),
        ("py3-none-manylinux_2_17_x86_64", "site-packages", "python-scripts", "include/demo"),
        ("cp312-cp312-manylinux_2_17_x86_64", "lib/python3.12/site-packages", "bin", "include/python3.12/demo"),
        ("cp313-cp313t-manylinux_2_17_x86_64", "lib/python3.13t/site-packages", "bin", "include/python3.13t/demo"),
        ("cp312-cp312-win_amd64", "Lib/site-packages", "Scripts", "Include/demo"),
        ("cp312-cp312-macosx_11_0_arm64", "lib/python3.12/site-packages", "bin", "include/python3.12/demo"),
    ],
)
def test_layout(tag: str, site: str, scripts: str, headers: str) -> None:
    layout = CondaLayout(targets(tag)[0], "demo")
    assert layout.path_for(Scheme.PURELIB, "demo/__init__.py") == f"{site}/demo/__init__.py"
    assert layout.path_for(Scheme.PLATLIB, "demo/_x.so") == f"{site}/demo/_x.so"
    assert layout.path_for(Scheme.SCRIPTS, "tool") == f"{scripts}/tool"
    assert layout.path_for(Scheme.HEADERS, "demo.h") == f"{headers}/demo.h"
    assert layout.path_for(Scheme.DATA, "share/demo/x") == "share/demo/x"


def test_record_paths_are_relative_to_installed_site_packages() -> None:
    noarch = CondaLayout(targets("py3-none-any")[0], "demo")
    assert noarch.record_path("site-packages/demo/__init__.py") == "demo/__init__.py"
    assert noarch.record_path("python-scripts/tool") == "../../../bin/tool"
    assert noarch.record_path("share/demo/x") == "../../../share/demo/x"
    unix = CondaLayout(targets("cp312-cp312-manylinux_2_17_x86_64")[0], "demo")
    assert unix.record_path("bin/tool") == "../../../bin/tool"
    win = CondaLayout(targets("cp312-cp312-win_amd64")[0], "demo")
    assert win.record_path("Scripts/tool.exe") == "../../Scripts/tool.exe"
    assert win.record_path("Lib/site-packages/demo/x.py") == "demo/x.py"


@pytest.mark.parametrize(
    ("content", "python", "expected"),
    [
        (b"#!python\nprint(1)\n", f"{PLACEHOLDER}/bin/python", f"#!{PLACEHOLDER}/bin/python\nprint(1)\n".encode()),
        (b"#!python -u\nx\n", f"{PLACEHOLDER}/bin/python", f"#!{PLACEHOLDER}/bin/python -u\nx\n".encode()),
        (b"#!pythonw\nx\n", f"{PLACEHOLDER}/python.exe", f"#!{PLACEHOLDER}/pythonw.exe\nx\n".encode()),
        (b"#!/usr/bin/env python\nx\n", f"{PLACEHOLDER}/bin/python", None),
        (b"#!python3\nx\n", f"{PLACEHOLDER}/bin/python", None),  # only exactly #!python(w) is rewritten (PEP 427)
        (b"echo hi\n", f"{PLACEHOLDER}/bin/python", None),
    ],
)
def test_rewrite_shebang(content: bytes, python: str, expected: bytes | None) -> None:
    assert rewrite_shebang(content, python) == expected


def test_launchers() -> None:
    ep = EntryPoint("tool", "pkg.cli", "app.main")
    body = launcher_script(ep)
    assert "from pkg.cli import app\n" in body and "sys.exit(app.main())" in body
    compile(body, "tool", "exec")
    name, content = windows_launcher_script(EntryPoint("tool-gui", "pkg", "main", gui=True))
    assert name == "tool-gui-script.pyw" and content.startswith(b"#!pythonw.exe\n")
    name, content = windows_launcher_script(ep)
    assert name == "tool-script.py" and not content.startswith(b"#!")


@pytest.mark.parametrize(
    ("parts", "number", "expected"),
    [
        (["py312"], 0, "py312_0"),
        (["py"], 3, "py_3"),
        (["", "cu124"], 0, "cu124_0"),
        ([], 0, "0"),
        (["py312", "rocm7.11", "gfx103X-dgpu"], 1, "py312_rocm7.11_gfx103X_dgpu_1"),
    ],
)
def test_build_string(parts: list[str], number: int, expected: str) -> None:
    assert build_string(parts, number) == expected
    assert "-" not in build_string(parts, number)


def test_build_string_limits() -> None:
    assert sanitize("a-b c/d") == "a_b_c_d"
    with pytest.raises(ValueError):
        build_string(["x" * 70], 0)
