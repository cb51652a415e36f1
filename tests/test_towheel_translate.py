"""Table-driven tests of the conda → PyPI translation (bridge.translate.reverse) and the
round-trip manifests (bridge.model.roundtrip); pure functions, no I/O."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.version import Version

from bridge.model import EntryPoint, Scheme
from bridge.model.conda import CondaRecord
from bridge.model.roundtrip import format_links, parse_links, resolve_links
from bridge.sinks.wheel import zstd_refusal
from bridge.translate.layout import CondaLayout
from bridge.translate.names import CondaName, NameMap
from bridge.translate.reverse import (
    PythonPins,
    ReverseError,
    ReverseLayout,
    launcher_paths,
    local_label,
    pep440_specifier,
    platform_tag,
    pypi_version,
    python_pins,
    scheme_exceptions,
    synthesize_metadata,
    translate_depends,
    variant_label,
    variant_parts,
    wheel_tags,
)
from bridge.translate.shebang import restore_installed_shebang, restore_shebang, rewrite_shebang
from bridge.translate.tags import targets_for_tags
from bridge.translate.wheelvariant import properties_from_build

P = "/opt/anaconda1anaconda2anaconda3"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1.2.*", "==1.2.*"),
        ("==1.2", "==1.2"),
        (">=1.21,<2.0a0", "<2.0,>=1.21"),
        (">=3.12,<3.13.0a0", "<3.13.0,>=3.12"),
        ("<2.0rc1", "<2.0rc1"),
        ("!=1.5", "!=1.5"),
        ("~=1.2", "~=1.2"),
        ("==1.0dev1", "==1.0.dev1"),
        (">1.0", ">1.0"),
    ],
)
def test_pep440_specifier(spec: str, expected: str) -> None:
    text, notes = pep440_specifier(spec)
    assert text == expected and notes == []


@pytest.mark.parametrize("spec", [">=1.1|>=3", "==1.1.1w"])
def test_pep440_specifier_left_open(spec: str) -> None:
    text, notes = pep440_specifier(spec)
    assert text == "" and notes


@pytest.mark.parametrize(
    ("spec", "action", "requirement"),
    [
        ("numpy >=1.21,<2.0a0", "kept", "numpy<2.0,>=1.21"),
        ("requests", "kept", "requests"),
        ("rocm-sdk-core 7.11.*", "kept", "rocm-sdk-core==7.11.*"),
        ("pytorch 2.5.1 *cuda*", "kept", "torch==2.5.1"),
        ("python >=3.9", "python", ">=3.9"),
        ("python_abi 3.12.* *_cp312", "tag", None),
        ("__glibc >=2.17", "tag", None),
        ("__cuda", "tag", None),
        ("libgcc-ng >=12", "dropped", None),
        ("_openmp_mutex >=4.5", "dropped", None),
        ("foo >=1,<", "dropped", None),
    ],
)
def test_translate_depends(spec: str, action: str, requirement: str | None) -> None:
    names = NameMap("conda-forge", {"torch": CondaName("pytorch")})
    decision = translate_depends(spec, names)
    assert decision.action == action
    assert decision.requirement == requirement
    if "*cuda*" in spec:
        assert "build constraint" in decision.reason


@pytest.mark.parametrize(
    ("index", "site", "pins"),
    [
        ({"noarch": "python", "depends": ["python >=3.9"]}, None, PythonPins("noarch", (3, 9))),
        ({"noarch": "python", "depends": ["python >=3.9", "cpython >=3.9", "_python_abi3_support 1.*"]}, None, PythonPins("abi3", (3, 9), "abi3")),
        ({"depends": ["python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312"]}, None, PythonPins("exact", (3, 12), "cp312")),
        ({"depends": ["python_abi 3.13.* *_cp313t"]}, None, PythonPins("exact", (3, 13), "cp313t")),
        ({"depends": ["python_abi 3.10.* *_pypy310_pp73"]}, None, PythonPins("exact", (3, 10), "pypy310_pp73")),
        ({"depends": ["python >=3.11,<3.12.0a0"]}, None, PythonPins("exact", (3, 11), "cp311")),
        ({"depends": ["python 3.11.*"]}, None, PythonPins("exact", (3, 11), "cp311")),
        ({"depends": []}, (3, 10), PythonPins("exact", (3, 10), "cp310")),
        ({"depends": ["libzlib"]}, None, PythonPins("none")),
    ],
)
def test_python_pins(index: dict, site: tuple[int, int] | None, pins: PythonPins) -> None:
    assert python_pins(index, site) == pins


@pytest.mark.parametrize(
    ("subdir", "depends", "glibc", "tag"),
    [
        ("noarch", [], None, "any"),
        ("linux-64", ["__glibc >=2.17,<3.0.a0"], None, "manylinux_2_17_x86_64"),
        ("linux-aarch64", ["__glibc >=2.28"], None, "manylinux_2_28_aarch64"),
        ("linux-64", [], None, "linux_x86_64"),
        ("linux-64", [], (2, 28), "manylinux_2_28_x86_64"),
        ("osx-arm64", ["__osx >=11.0"], None, "macosx_11_0_arm64"),
        ("osx-arm64", [], None, "macosx_11_0_arm64"),
        ("osx-64", ["__osx >=10.13"], None, "macosx_10_13_x86_64"),
        ("osx-64", ["__osx >=12.3"], None, "macosx_12_0_x86_64"),
        ("win-64", [], None, "win_amd64"),
        ("win-arm64", [], None, "win_arm64"),
    ],
)
def test_platform_tag(subdir: str, depends: list[str], glibc: tuple[int, int] | None, tag: str) -> None:
    assert platform_tag(subdir, depends, glibc)[0] == tag


def test_platform_tag_notes_and_refusal() -> None:
    assert "linux_x86_64" in platform_tag("linux-64")[1][0]
    with pytest.raises(ReverseError):
        platform_tag("zos-z")


@pytest.mark.parametrize(
    ("pins", "platform", "tag"),
    [
        (PythonPins("exact", (3, 12), "cp312"), "manylinux_2_17_x86_64", "cp312-cp312-manylinux_2_17_x86_64"),
        (PythonPins("exact", (3, 10), "pypy310_pp73"), "linux_x86_64", "pp310-pypy310_pp73-linux_x86_64"),
        (PythonPins("abi3", (3, 9), "abi3"), "win_amd64", "cp39-abi3-win_amd64"),
        (PythonPins("noarch", (3, 9)), "any", "py3-none-any"),
        (PythonPins("none"), "linux_x86_64", "py3-none-linux_x86_64"),
    ],
)
def test_wheel_tags(pins: PythonPins, platform: str, tag: str) -> None:
    assert {str(t) for t in wheel_tags(pins, platform)} == {tag}


@pytest.mark.parametrize(
    ("build", "number", "label"),
    [
        ("py312_rocm7.11_gfx103X_0", 0, "rocm7.11.gfx103x"),
        ("cuda126_py312h1a2b3c4_303", 303, "cuda126"),
        ("py312h1a2b3c4_0", 0, None),
        ("pyhd8ed1ab_0", 0, None),
        ("py_0", 0, None),
        ("py311_abi3_cu124_2", 2, "cu124"),
        ("cpu_mkl_py312h0123456_100", 100, "cpu.mkl"),
        ("h1234567_0", 0, None),
    ],
)
def test_local_label(build: str, number: int, label: str | None) -> None:
    assert local_label(build, number) == label


def test_pypi_version() -> None:
    assert pypi_version("2.9.1", "rocm7.11.gfx103x") == Version("2.9.1+rocm7.11.gfx103x")
    assert pypi_version("1.0dev1", None) == Version("1.0.dev1")
    with pytest.raises(ReverseError):
        pypi_version("1.1.1w", None)


def test_variant_properties_and_label() -> None:
    props, unmatched = properties_from_build(variant_parts("py312_rocm7.11_gfx1030_cu126_mkl_0", 0))
    assert [str(p) for p in props] == [
        "amd :: gfx_arch :: gfx1030",
        "amd :: rocm_version :: 7.11",
        "nvidia :: cuda_version_lower_bound :: 12.6",
        "nvidia :: cuda_version_upper_bound :: 13",
    ]
    assert unmatched == ["mkl"]
    assert variant_label(variant_parts("py312_rocm7.11_gfx103X_0", 0)) == "rocm7.11_gfx103x"
    with pytest.raises(ReverseError):
        variant_label([])


@pytest.mark.parametrize(
    ("wheel_tag", "site"),
    [
        ("py3-none-any", "site-packages"),
        ("cp312-cp312-manylinux_2_17_x86_64", "lib/python3.12/site-packages"),
        ("cp313-cp313t-manylinux_2_17_x86_64", "lib/python3.13t/site-packages"),
        ("cp312-cp312-win_amd64", "Lib/site-packages"),
        ("cp39-abi3-macosx_11_0_arm64", "site-packages"),
    ],
)
@pytest.mark.parametrize("scheme", [Scheme.PURELIB, Scheme.SCRIPTS, Scheme.HEADERS, Scheme.DATA])
def test_reverse_layout_inverts_forward(wheel_tag: str, site: str, scheme: Scheme) -> None:
    (target,) = targets_for_tags({Tag(*wheel_tag.split("-"))})
    forward = CondaLayout(target, "demo-pkg")
    assert forward.site_packages == site
    reverse = ReverseLayout.create(site, target.noarch_python, target.windows, "Demo.Pkg", True)
    rel = "x/y.h" if scheme is Scheme.HEADERS else "tool"
    archive = forward.path_for(scheme, rel if scheme is not Scheme.DATA else "share/x.txt")
    python_script = scheme is Scheme.SCRIPTS  # a #!python script gets a placeholder shebang
    assert reverse.scheme_for(archive, python_script) == (scheme, rel if scheme is not Scheme.DATA else "share/x.txt")


def test_reverse_layout_overrides_and_exceptions() -> None:
    layout = ReverseLayout.create("lib/python3.12/site-packages", False, False, "demo", True)
    assert layout.scheme_for("bin/run.sh", False) == (Scheme.DATA, "bin/run.sh")
    assert layout.scheme_for("bin/run.sh", False, Scheme.SCRIPTS) == (Scheme.SCRIPTS, "run.sh")
    assert layout.scheme_for("lib/python3.12/site-packages/x.so", False, Scheme.PLATLIB) == (Scheme.PLATLIB, "x.so")
    with pytest.raises(ReverseError):
        layout.scheme_for("share/x", False, Scheme.SCRIPTS)
    files = [("bin/run.sh", Scheme.SCRIPTS, False), ("bin/py", Scheme.SCRIPTS, True), ("bin/data", Scheme.DATA, False), ("lib/python3.12/site-packages/a.py", Scheme.PURELIB, False)]
    assert scheme_exceptions(layout, files) == {"bin/run.sh": "scripts"}


@pytest.mark.parametrize(
    ("content", "wheel", "token"),
    [
        (f"#!{P}/bin/python\nprint()\n", "#!python\nprint()\n", f"#!{P}/bin/python"),
        (f"#!{P}/bin/python3.12 -E\nx\n", "#!python -E\nx\n", f"#!{P}/bin/python3.12"),
        (f"#!{P}/python.exe\nx", "#!python\nx", f"#!{P}/python.exe"),
        (f"#!{P}/pythonw.exe\nx", "#!pythonw\nx", f"#!{P}/pythonw.exe"),
    ],
)
def test_restore_shebang(content: str, wheel: str, token: str) -> None:
    assert restore_shebang(content.encode(), P) == (wheel.encode(), token.encode())


@pytest.mark.parametrize("content", ["#!/bin/sh\n", f"#!{P}/bin/perl\n", f"#!{P}/bin/pythonista\n", "no shebang"])
def test_restore_shebang_none(content: str) -> None:
    assert restore_shebang(content.encode(), P) is None


def test_restore_shebang_inverts_rewrite() -> None:
    for python in (f"{P}/bin/python", f"{P}/python.exe"):
        for wheel in (b"#!python\nimport x\n", b"#!python -u\n"):
            rewritten = rewrite_shebang(wheel, python)
            assert rewritten is not None and restore_shebang(rewritten, P)[0] == wheel  # type: ignore[index]


@pytest.mark.parametrize(
    ("installed", "wheel"),
    [
        (b"#!/env/bin/python3\nx\n", b"#!python\nx\n"),
        (b"#!/env/bin/python3.12 -E\r\nx", b"#!python -E\nx"),
        (b"#!C:\\env\\pythonw.exe\nx", b"#!pythonw\nx"),
        (b"#!python\nx", None),  # not rewritten by an installer: left as it is
        (b"#!/bin/sh\nx", None),
    ],
)
def test_restore_installed_shebang(installed: bytes, wheel: bytes | None) -> None:
    assert restore_installed_shebang(installed) == wheel


def test_launcher_paths() -> None:
    eps = [EntryPoint("demo", "m", "f"), EntryPoint("gui", "m", "g", gui=True)]
    assert launcher_paths(eps, "bin", False) == {"bin/demo", "bin/gui"}
    assert "Scripts/gui-script.pyw" in launcher_paths(eps, "Scripts", True)
    assert launcher_paths(eps, None, False) == set()


def test_synthesize_metadata() -> None:
    index = {"name": "rocm-sdk-core", "version": "7.11", "depends": ["python >=3.10", "numpy >=1.21", "__glibc >=2.28", "libgcc-ng"]}
    about = {"summary": "ROCm\n core", "home": "https://rocm.docs.amd.com", "license": "MIT", "dev_url": "https://github.com/ROCm/TheRock", "description": "Long"}
    meta = synthesize_metadata("rocm-sdk-core", Version("7.11+gfx103x"), about, index, NameMap())
    text = meta.text.decode()
    assert "Name: rocm-sdk-core\nVersion: 7.11+gfx103x\nSummary: ROCm core\n" in text
    assert "Requires-Python: >=3.10\nRequires-Dist: numpy>=1.21\n" in text
    assert "Project-URL: Source, https://github.com/ROCm/TheRock\n" in text and text.endswith("\n\nLong\n")
    assert [d.action for d in meta.decisions] == ["python", "kept", "tag", "dropped"]


# --------------------------------------------------------------------------- roundtrip helpers


def test_links_manifest_round_trip() -> None:
    rows = [("pkg/libz.so", "libz.so.1"), ("demo-1.0.data/data/lib/a,b", "../x")]
    assert parse_links(format_links(rows)) == sorted(rows)
    with pytest.raises(ValueError):
        parse_links(b"only-one-column\n")


@pytest.mark.parametrize(
    ("links", "problem"),
    [
        ({"lib/a": "../../etc/passwd"}, "outside the package"),
        ({"lib/a": "/etc/passwd"}, "absolute"),
        ({"lib/a": "b", "lib/b": "a"}, "link loop"),
        ({"lib/a": "missing.so"}, "not in the package"),
        ({"lib/inc": "../include"}, "directory"),
    ],
)
def test_resolve_links_refusals(links: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        resolve_links(links, {"lib/libz.so.1", "include/z.h"})


def test_resolve_links_chains() -> None:
    links = {"lib/libz.so": "libz.so.1", "lib/libz.so.1": "libz.so.1.3", "bin/z": "../lib/libz.so"}
    assert resolve_links(links, {"lib/libz.so.1.3"}) == {link: "lib/libz.so.1.3" for link in links}


def test_resolve_links_walks_as_the_kernel_and_the_planner_do() -> None:
    """``..`` after a parent directory that is a link climbs from where that link points (not
    lexically): the same walk as :func:`bridge.model.paths.resolve_link_path`, absolute origins too."""
    from bridge.model.paths import resolve_link_path

    links = {"lib/llvm": "../opt/llvm", "bin/tool": "../lib/llvm/../tool"}
    files = {"opt/tool", "lib/tool", "opt/llvm/f"}
    assert resolve_links(links, files, directories=True)["bin/tool"] == "opt/tool" == resolve_link_path("bin/tool", links["bin/tool"], links)
    installed = {f"/site/{k}": v for k, v in links.items()}
    assert resolve_links(installed, {f"/site/{f}" for f in files}, directories=True)["/site/bin/tool"] == "/site/opt/tool"


def test_conda_record_round_trip() -> None:
    record = CondaRecord("x-1-0.conda", {"name": "x", "version": "1", "build": "0", "subdir": "noarch"}, {"summary": "s"}, None, "synthesized", {"bin/x": {"prefix_placeholder": P}})
    assert CondaRecord.from_bytes(record.to_bytes()) == record
    with pytest.raises(ValueError):
        CondaRecord.from_bytes(b'{"format": 2}')


@pytest.mark.parametrize(
    ("tag", "requires_python", "allowed"),
    [
        ("cp314-cp314-manylinux_2_17_x86_64", None, True),
        ("cp314-abi3-win_amd64", None, True),
        ("cp315-cp315t-linux_x86_64", None, True),
        ("cp313-cp313-manylinux_2_17_x86_64", None, False),
        ("py3-none-any", None, False),
        ("py3-none-any", ">=3.14", True),
        ("py3-none-any", ">=3.13", False),
    ],
)
def test_zstd_refusal(tag: str, requires_python: str | None, allowed: bool) -> None:
    spec = SpecifierSet(requires_python) if requires_python else None
    assert (zstd_refusal({Tag(*tag.split("-"))}, spec) is None) is allowed
