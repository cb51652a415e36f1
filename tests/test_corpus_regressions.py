"""Regression fixtures for failures the real-wheel corpus (``make corpus``, docs/corpus.md) found.

Each test rebuilds the shape of the real wheel locally (no network).
"""

from __future__ import annotations

from pathlib import Path

from bridge.pipelines.convert import convert_wheel
from bridge.pipelines.to_wheel import convert_to_wheel, to_wheel
from bridge.plan.types import ConversionOptions
from tests.support.wheels import build_wheel, wheel_members
from tests.test_towheel import raw_package

HEADER = "#pragma once\nnamespace pybind11 {}\n"


def test_headers_and_data_only_wheel_goes_back_without_data_only(tmp_path: Path) -> None:
    """pybind11-global 3.1.0: nothing in purelib but its .dist-info; headers in .data/headers and
    .data/data/include, cmake files in .data/data/share.  to-wheel refused its conda package
    ("nothing Python-importable … pass --data-only") although convert had made it from a wheel."""
    wheel = build_wheel(
        tmp_path / "w",
        "pybind11-global",
        "3.1.0",
        data={
            "headers": {"pybind11/attr.h": HEADER},
            "data": {"include/pybind11/attr.h": HEADER, "share/cmake/pybind11/pybind11Config.cmake": "set(pybind11_FOUND 1)\n"},
        },
    )
    (pkg,) = convert_wheel(wheel, tmp_path / "c", ConversionOptions()).outputs
    done = to_wheel(pkg, tmp_path / "out")
    assert done.outputs[0].name == wheel.name
    original, back = wheel_members(wheel), wheel_members(done.outputs[0])
    regenerated = {"pybind11_global-3.1.0.dist-info/RECORD", "pybind11_global-3.1.0.dist-info/conda-package.json"}  # RECORD, and the round-trip record
    assert {k: v for k, v in back.items() if k not in regenerated} == {k: v for k, v in original.items() if k not in regenerated}


def test_conda_package_with_nothing_for_python_still_needs_data_only(tmp_path: Path) -> None:
    """A conda package not made from a wheel, with nothing in site-packages, is still refused."""
    pkg = raw_package(tmp_path / "raw", {"name": "libfoo", "version": "1", "build": "0"}, [("include/foo.h", b"int foo;\n", None)])
    result = convert_to_wheel(pkg, tmp_path / "out")
    assert result.error is not None and "nothing Python-importable" in result.error.reason
