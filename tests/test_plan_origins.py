"""The plan records where each dependency, constraint and build-string part came from, and is immutable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bridge.pipelines.inputs import open_distribution
from bridge.plan.types import ConversionOptions, PlannedFile
from bridge.plan.wheel_to_conda import plan_packages
from bridge.translate.specs import Origin
from tests.support.wheels import build_wheel


def _plans(wheel: Path, options: ConversionOptions = ConversionOptions()) -> list:  # noqa: B008
    with open_distribution(wheel, hash_source=False) as dist:
        return plan_packages(dist, options)


def test_a_dependency_of_a_marker_split_region_names_its_requires_dist_line(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "fancy", "1.0", requires_dist=['tomli; python_version < "3.11"', 'rich; extra == "color"'], requires_python=">=3.8",
                        metadata_fields=[("Provides-Extra", "color")])
    plans = {(p.name, p.build): p for p in _plans(wheel)}
    old = plans["fancy", "py_lt3.11_0"]
    assert Origin("tomli", "Requires-Dist: tomli; python_version < \"3.11\"") in old.dependencies
    python = next(d for d in old.dependencies if d.value.startswith("python "))
    assert "Requires-Python >=3.8" in python.origin and "per-Python build for" in python.origin
    region = next(p for p in old.build_parts if p.value == "lt3.11")
    assert region.origin.startswith("per-Python build for") and "tomli" in region.origin
    assert old.build_parts[-1] == Origin("0", "build number (default 0)")
    newer = plans["fancy", "py_ge3.11_1"]
    assert "plus 1 for the Python region" in newer.build_parts[-1].origin
    extra = plans["fancy-with-color", "py_ge3.11_1"]
    assert Origin("rich", "Requires-Dist: rich; extra == \"color\"") in extra.dependencies
    assert Origin("fancy ==1.0 py_ge3.11_1", "the package whose extra 'color' this is") in extra.dependencies


def test_build_number_and_depends_options_are_their_own_origins(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "plain", "1.0", tag="cp312-cp312-manylinux_2_17_x86_64")
    (pkg,) = _plans(wheel, ConversionOptions(build_number=4, extra_depends=("zlib >=1.3",)))
    assert pkg.build == "py312_4"
    assert pkg.build_parts == (Origin("py312", "wheel tag cp312-cp312"), Origin("4", "--build-number"))
    assert Origin("zlib >=1.3", "--depends") in pkg.dependencies
    assert pkg.depends == [d.value for d in pkg.dependencies]  # index.json's depends are the recorded values


def test_a_plan_is_frozen(tmp_path: Path) -> None:
    (pkg,) = _plans(build_wheel(tmp_path, "plain", "1.0"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        pkg.build = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pkg.files[0].path = "elsewhere"  # type: ignore[misc]
    assert isinstance(pkg.files, tuple) and isinstance(pkg.dependencies, tuple) and isinstance(pkg.decisions, tuple)
    assert all(isinstance(f, PlannedFile) for f in pkg.files)


def test_recipe_yaml_renders_the_plan_of_each_target() -> None:
    """``emit`` plans each wheel from the index's METADATA and writes what the plan holds, per platform."""
    import yaml
    from packaging.requirements import Requirement
    from packaging.utils import parse_wheel_filename
    from packaging.version import Version

    from bridge.plan.wheel_to_conda import PYTHON_NAMES, plan_requirements
    from bridge.recipes.model import Recipe, SourceFile
    from bridge.recipes.rattler import IndexMetadata, emit
    from bridge.translate.names import NameMap
    from bridge.translate.tags import targets_for_tags

    sha = "0" * 64
    names = ("torch-2.9.1+rocm7.11.0a20260104-cp312-cp312-linux_x86_64.whl", "torch-2.9.1+rocm7.11.0a20260104-cp312-cp312-win_amd64.whl")
    requires = ("rocm-sdk-core==7.11.0a20260104", "triton==3.5.1; platform_system == 'Linux'")
    recipe = Recipe(name="torch", version="2.9.1+rocm7.11.0a20260104", variant="gfx103X-all", source="rocm", index="https://i/",
                    files=[SourceFile(n, f"https://i/{i}.whl", sha) for i, n in enumerate(names)], gpu_family="gfx103X-all", index_family="gfx103X-dgpu",
                    metadata={"requires_dist": list(requires)})
    doc = yaml.safe_load(emit(recipe, NameMap()).recipe_yaml)
    options = ConversionOptions(build_number=0, gpu_family="gfx103X-dgpu")
    for filename, platform in zip(names, ("linux-64", "win-64")):
        tags = parse_wheel_filename(filename)[3]
        (target,) = targets_for_tags(tags)
        plan = plan_requirements(IndexMetadata("torch", Version(recipe.version), tags, tuple(map(Requirement, requires)), None), target, options, "x")
        run = [e if isinstance(e, str) else e["then"] for e in doc["requirements"]["run"] if isinstance(e, str) or f'"{platform}"' in e["if"]]
        run_constraints = [e if isinstance(e, str) else e["then"] for e in doc["requirements"].get("run_constraints", ()) if isinstance(e, str) or f'"{platform}"' in e["if"]]
        wanted = [s for s in plan.depends if s.split(" ", 1)[0] not in PYTHON_NAMES and s not in target.platform.virtual]
        assert run == ["python", *wanted], platform
        assert run_constraints == plan.constrains, platform
        assert doc["build"]["number"] == plan.build_number and doc["build"]["string"].endswith("_".join(p.value for p in plan.build_parts[1:]))
        assert ("triton ==3.5.1" in run) == (platform == "linux-64")


def test_a_multi_arch_selector_records_where_each_part_came_from(tmp_path: Path) -> None:
    from tests.support import multiarch_wheels as mw

    plans = _plans(mw.torch_host(tmp_path))
    host = next(p for p in plans if p.name == "torch")
    selector_dep = next(d for d in host.dependencies if d.value.startswith("torch-device "))
    assert selector_dep.origin.startswith("multi-arch host")
    selectors = [p for p in plans if p.name == "torch-device"]
    assert {p.build.split("_")[-2] for p in selectors} >= {"gfx1100", "none", "all"}
    for selector in selectors:
        assert selector.build == "_".join(p.value for p in selector.build_parts)  # the parts are the build string
        assert selector.build_parts[-1].value == str(selector.build_number)
        assert all(d.origin != "name map" or not d.value.startswith("__") for d in selector.dependencies)
    gfx1100 = next(p for p in selectors if "gfx1100" in p.build)
    mutex = next(d for d in gfx1100.dependencies if d.value.startswith("rocm-device "))
    assert mutex.origin.startswith("multi-arch selector for gfx1100")
    assert gfx1100.build_parts[-2] == Origin("gfx1100", "device target of the extra torch[device-gfx1100]")
