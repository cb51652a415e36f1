"""Markers that differ by Python: per-Python builds of multi-Python packages, end to end.

Wheels mimic opencv-python-headless 4.14.0.94 (cp37-abi3, ``numpy<2.0; python_version < "3.9"``
and ``numpy>=2; python_version >= "3.9"``) and a pure package with the usual backports
(``tomli``/``exceptiongroup; python_version < "3.11"``).  They are converted through the CLI
into one channel next to numpy-1-like and numpy-2-like packages, then solved and installed with
py-rattler against stand-in Pythons 3.8, 3.10, this interpreter's (runnable) and 3.12.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bridge.cli import main
from tests.support.conda_env import HOST_PY, HOST_SUBDIR, SolveError, build_base_channel, install, run_in_prefix, solve
from tests.support.jsondoc import run_json
from tests.support.wheels import build_wheel

HOST = tuple(int(p) for p in HOST_PY.split("."))
needs_new_host = pytest.mark.skipif(HOST < (3, 11), reason="the runnable stand-in Python must be 3.11 or newer")
PLATFORM_TAG = {"linux-64": "manylinux_2_17_x86_64", "linux-aarch64": "manylinux_2_17_aarch64", "osx-arm64": "macosx_11_0_arm64", "osx-64": "macosx_10_9_x86_64"}

OPENCV = ("opencv-python-headless", "4.14.0.94")
OPENCV_REQUIRES = ['numpy<2.0; python_version < "3.9"', 'numpy>=2; python_version >= "3.9"']
GREET_REQUIRES = ['tomli; python_version < "3.11"', 'exceptiongroup; python_version < "3.11"', "colorama; sys_platform == 'win32'"]


def _wheels(out: Path) -> Path:
    tag = f"cp37-abi3-{PLATFORM_TAG.get(HOST_SUBDIR, 'manylinux_2_17_x86_64')}"
    build_wheel(out, *OPENCV, tag=tag, requires_dist=OPENCV_REQUIRES, requires_python=">=3.7",
                files={"cv2/__init__.py": "import numpy\nNUMPY = numpy.__version__\n"})
    build_wheel(out, "greet", "1.0", requires_dist=GREET_REQUIRES, requires_python=">=3.8",
                files={"greet/__init__.py": "import importlib.util as u\nBACKPORTS = [m for m in ('tomli', 'exceptiongroup') if u.find_spec(m)]\n"})
    for version in ("1.26.4", "2.1.0"):
        build_wheel(out, "numpy", version, requires_python=">=3.8", files={"numpy/__init__.py": f"__version__ = {version!r}\n"})
    build_wheel(out, "tomli", "2.0.1", requires_python=">=3.7", files={"tomli/__init__.py": ""})
    build_wheel(out, "exceptiongroup", "1.2.0", requires_python=">=3.7", files={"exceptiongroup/__init__.py": ""})
    build_wheel(out, "colorama", "0.4.6", files={"colorama/__init__.py": ""})
    return out


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("markers")
    base = build_base_channel(root / "base", pythons=("3.8", "3.10", HOST_PY, "3.12"), subdirs=(HOST_SUBDIR,))
    channel = root / "channel"
    assert main(["convert", "-q", "--zstd-level", "1", "--channel", str(channel), str(_wheels(root / "wheels"))]) == 0
    return base, channel


def picked(records: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {r.name.normalized: f"{r.version} {r.build}" for r in records}


pytestmark = pytest.mark.e2e


@needs_new_host
def test_pure_package_on_a_new_python_installs_without_backports_and_runs(channels: tuple[Path, Path], prefix_factory) -> None:  # type: ignore[no-untyped-def]
    prefix = prefix_factory()
    chosen = picked(install(list(channels), ["greet", f"python {HOST_PY}.*"], prefix))
    assert chosen["greet"] == "1.0 py_ge3.11_unix_1"
    assert "tomli" not in chosen and "exceptiongroup" not in chosen
    result = run_in_prefix(prefix, "python", "-c", "import greet; print(greet.BACKPORTS)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("python", ["3.8", "3.10"])
def test_pure_package_on_an_old_python_pulls_the_backports(channels: tuple[Path, Path], prefix_factory, python: str) -> None:  # type: ignore[no-untyped-def]
    chosen = picked(install(list(channels), ["greet", f"python {python}.*"], prefix_factory()))
    assert chosen["greet"] == "1.0 py_lt3.11_unix_0"
    assert chosen["python"].startswith(python) and {"tomli", "exceptiongroup"} <= set(chosen)


def test_unpinned_python_prefers_the_newest_region(channels: tuple[Path, Path]) -> None:
    chosen = picked(solve(list(channels), ["greet"]))
    assert chosen["greet"] == "1.0 py_ge3.11_unix_1" and "tomli" not in chosen


@needs_new_host
def test_abi3_package_installs_next_to_numpy_2_on_a_new_python_and_runs(channels: tuple[Path, Path], prefix_factory) -> None:  # type: ignore[no-untyped-def]
    prefix = prefix_factory()
    chosen = picked(install(list(channels), ["opencv-python-headless", "numpy >=2", f"python {HOST_PY}.*"], prefix))
    assert chosen["opencv-python-headless"] == "4.14.0.94 py37_abi3_ge3.9_1" and chosen["numpy"].startswith("2.1.0")
    result = run_in_prefix(prefix, "python", "-c", "import cv2; print(cv2.NUMPY)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2.1.0"
    with pytest.raises(SolveError):  # numpy 1 is for Pythons below 3.9 only
        solve(list(channels), ["opencv-python-headless", "numpy <2", f"python {HOST_PY}.*"])


def test_abi3_package_on_python_3_8_takes_numpy_1(channels: tuple[Path, Path], prefix_factory) -> None:  # type: ignore[no-untyped-def]
    chosen = picked(install(list(channels), ["opencv-python-headless", "python 3.8.*"], prefix_factory()))
    assert chosen["opencv-python-headless"] == "4.14.0.94 py37_abi3_lt3.9_0" and chosen["numpy"].startswith("1.26.4")


def test_inspect_shows_the_split_and_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheels = _wheels(tmp_path / "wheels")
    (opencv,) = wheels.glob("opencv_python_headless-*.whl")
    code, doc = run_json(capsys, "inspect", str(opencv))
    assert code == 0
    old, new = doc["items"]
    assert [old["build"], new["build"]] == ["py37_abi3_lt3.9_0", "py37_abi3_ge3.9_1"]
    assert old["python_region"] == {"python": "<3.9", "implementation": None, "rank": 0, "reason": "; ".join(OPENCV_REQUIRES)}
    assert new["python_region"]["python"] == ">=3.9" and new["python_region"]["rank"] == 1
    parts = {p["value"]: p["origin"] for p in new["build_parts"]}
    assert parts["ge3.9"].startswith("per-Python build for Python >=3.9: the dependencies differ by Python")
    assert "plus 1 for the Python region Python >=3.9" in parts["1"]
    depends = {d["value"]: d["origin"] for d in old["depends"]}
    assert "python >=3.7,<3.9a0" in depends and "per-Python build for Python <3.9" in depends["python >=3.7,<3.9a0"]
    assert depends["numpy <2a0"] == 'Requires-Dist: numpy<2.0; python_version < "3.9"'
    assert main(["inspect", str(opencv)]) == 0
    text = capsys.readouterr().out
    assert "pythons" in text and "Python <3.9 (one build per Python region; split by: numpy<2.0" in text


def test_extras_packages_follow_the_regions(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "fancy", "1.0", requires_dist=['tomli; python_version < "3.11"', 'rich; extra == "color"'], requires_python=">=3.8",
                        metadata_fields=[("Provides-Extra", "color")])
    out = tmp_path / "out"
    assert main(["convert", "-q", "-o", str(out), str(wheel)]) == 0
    assert sorted(p.name for p in (out / "noarch").iterdir()) == [
        "fancy-1.0-py_ge3.11_1.conda",
        "fancy-1.0-py_lt3.11_0.conda",
        "fancy-with-color-1.0-py_ge3.11_1.conda",
        "fancy-with-color-1.0-py_lt3.11_0.conda",
    ]


def test_an_extra_with_its_own_python_markers_gets_finer_regions(tmp_path: Path) -> None:
    from bridge.pipelines.inputs import open_distribution
    from bridge.plan.types import ConversionOptions
    from bridge.plan.wheel_to_conda import plan_packages

    wheel = build_wheel(tmp_path, "fancy", "1.0", requires_dist=['tomli; python_version < "3.11"', 'rich; extra == "color" and python_version >= "3.12"'],
                        requires_python=">=3.8", metadata_fields=[("Provides-Extra", "color")])
    with open_distribution(wheel, hash_source=False) as dist:
        plans = [(p.name, p.build, p.depends) for p in plan_packages(dist, ConversionOptions())]
    assert plans == [  # the base splits only where its own dependencies differ; the extra refines within
        ("fancy", "py_lt3.11_0", ["python >=3.8,<3.11a0", "tomli"]),
        ("fancy-with-color", "py_lt3.11_0", ["python >=3.8,<3.11a0", "fancy ==1.0 py_lt3.11_0"]),
        ("fancy", "py_ge3.11_1", ["python >=3.11"]),
        ("fancy-with-color", "py_ge3.11lt3.12_1", ["python >=3.11,<3.12a0", "fancy ==1.0 py_ge3.11_1"]),
        ("fancy-with-color", "py_ge3.12_2", ["python >=3.12", "fancy ==1.0 py_ge3.11_1", "rich"]),
    ]


# Outputs of wheels without Python markers, recorded with the converter before Python regions
# existed (commit 1681f7b): a package that needs no split must not change by a byte.
UNCHANGED = {
    "linux-64/abi3pkg-2.0-py39_abi3_0.conda": "ab0f6c69d8c46e932e4d61c387dac0ec6fe3b0564bd5ea64be3089c80c2e1cd1",
    "linux-64/exactpkg-3.0-py311_0.conda": "433ea43abdaccc7952d89fb4e2214f780bb48a25c8ee9dd0945de6e43a70c15b",
    "noarch/plainpkg-1.0-py_unix_0.conda": "a65f7bbbc01bd6369bbe71055417d45727f12e02263ad5663f9b004c1f2256c8",
    "noarch/plainpkg-1.0-py_win_0.conda": "d76e438887163d7ff095a2d1d0e98aa4db974daf728160afebb9f5db8515df8c",
    "noarch/plainpkg-with-x-1.0-py_unix_0.conda": "34a350bb1e60b87a1b68ae7ad4a954c719c7c2c582e36e3df5900da79cee389a",
    "noarch/plainpkg-with-x-1.0-py_win_0.conda": "66edaf9d5f91e1d9d447810cd32f1e60c93e9f90362a10f22cc277a76c1cb9b2",
}


def test_packages_without_python_markers_are_byte_identical_to_before(tmp_path: Path) -> None:
    w = tmp_path / "w"
    build_wheel(w, "plainpkg", "1.0", requires_dist=["foo>=1", "bar; sys_platform == 'win32'", "baz; extra == 'x'"], metadata_fields=[("Provides-Extra", "x")],
                requires_python=">=3.8", files={"plainpkg/__init__.py": "X = 1\n"})
    build_wheel(w, "abi3pkg", "2.0", tag="cp39-abi3-manylinux_2_28_x86_64", requires_dist=["numpy>=1.20"], files={"abi3pkg/__init__.py": "Y = 2\n"})
    build_wheel(w, "exactpkg", "3.0", tag="cp311-cp311-manylinux_2_28_x86_64", requires_dist=["tomli; python_version < '3.11'"], files={"exactpkg/__init__.py": "Z = 3\n"})
    out = tmp_path / "out"
    assert main(["convert", "-q", "-o", str(out), str(w)]) == 0
    made = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.conda"))}
    assert made == UNCHANGED


def _recipe(name: str, version: str, filename: str, requires_dist: list[str], requires_python: str):  # type: ignore[no-untyped-def]
    from bridge.recipes.model import Recipe, SourceFile

    return Recipe(name=name, version=version, variant="", source="s", index="https://i/", files=[SourceFile(filename, f"https://i/{filename}", "0" * 64)],
                  metadata={"requires_dist": requires_dist, "requires_python": requires_python})


RECIPES = [
    (*OPENCV, "opencv_python_headless-4.14.0.94-cp37-abi3-manylinux_2_17_x86_64.whl", OPENCV_REQUIRES, ">=3.7", "linux-64"),
    ("greet", "1.0", "greet-1.0-py3-none-any.whl", GREET_REQUIRES[:2], ">=3.8", "noarch"),
]


@pytest.mark.parametrize(("name", "version", "filename", "requires", "requires_python", "subdir"), RECIPES)
def test_recipe_yaml_renders_the_converters_regions(tmp_path: Path, name: str, version: str, filename: str, requires: list[str], requires_python: str, subdir: str) -> None:
    import yaml

    from bridge.pipelines.inputs import open_distribution
    from bridge.plan.types import ConversionOptions
    from bridge.plan.wheel_to_conda import plan_packages
    from bridge.recipes.rattler import emit
    from bridge.translate.names import NameMap

    tag = filename.removesuffix(".whl").split("-", 2)[2]
    wheel = build_wheel(tmp_path, name, version, tag=tag, requires_dist=requires, requires_python=requires_python, files={"m/__init__.py": ""})
    with open_distribution(wheel, hash_source=False) as dist:
        plans = plan_packages(dist, ConversionOptions())
    out = emit(_recipe(name, version, filename, requires, requires_python), NameMap())
    doc = yaml.safe_load(out.recipe_yaml)
    regions = yaml.safe_load(out.variants_yaml)["python_region"]
    assert regions == [p.target.region.tag for p in plans]
    # build string and number per region, as the converter writes them
    assert "${{ python_region }}" in doc["build"]["string"]
    for plan in plans:
        tag = plan.target.region.tag
        string = doc["build"]["string"].replace("${{ python_region }}", tag)
        assert string[: string.rindex('_${{ "')] == plan.build.rsplit("_", 1)[0]
        assert f'"{plan.build_number}"' in doc["build"]["number"] and f'python_region == "{regions[0]}"' in doc["build"]["number"]
        run = [e["then"] for e in doc["requirements"]["run"] if isinstance(e, dict) and e["if"] == f'python_region == "{tag}"']
        kept = [s for d in plan.decisions if d.action == "kept" for s in d.specs]
        assert run[1:] == kept and run[0].startswith("python ")


@pytest.mark.parametrize(("name", "version", "filename", "requires", "requires_python", "subdir"), RECIPES)
def test_region_recipes_render_with_rattler_build(tmp_path: Path, name: str, version: str, filename: str, requires: list[str], requires_python: str, subdir: str) -> None:
    rattler_build = pytest.importorskip("rattler_build")  # optional: not a project dependency
    from bridge.recipes.rattler import emit
    from bridge.translate.names import NameMap

    out = emit(_recipe(name, version, filename, requires, requires_python), NameMap())
    (tmp_path / "recipe.yaml").write_text(out.recipe_yaml)
    (tmp_path / "variants.yaml").write_text(out.variants_yaml)
    recipe = rattler_build.Stage0Recipe.from_file(str(tmp_path / "recipe.yaml"))
    variants = rattler_build.VariantConfig.from_file(str(tmp_path / "variants.yaml"))
    rendered = recipe.render(variants, rattler_build.RenderConfig(platform=rattler_build.PlatformConfig(target_platform="linux-64")))
    builds = sorted((r.recipe.build.string, r.recipe.build.number, [str(d) for d in r.recipe.requirements.run]) for r in rendered)
    if name == "greet":
        assert builds == [("py_ge3.11_1", 1, ["python >=3.11"]), ("py_lt3.11_0", 0, ["python >=3.8,<3.11a0", "tomli", "exceptiongroup"])]
    else:
        assert builds == [("py37_abi3_ge3.9_1", 1, ["python >=3.9", "numpy >=2"]), ("py37_abi3_lt3.9_0", 0, ["python >=3.7,<3.9a0", "numpy <2a0"])]
