"""PEP 825 wheel variants checked with variantlib 0.2.2, the reference implementation (issue 19, item 6).

Every variant wheel ``to-wheel --variant`` writes is read back with variantlib's own code (its
file-name pattern, ``VariantDistInfo``, ``analyze-wheel``), and variant wheels that variantlib's
``make-variant`` writes convert to the build string of the conda package they stand for.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.cli import main
from bridge.core.errors import BadInput
from bridge.model.variant import VariantError, VariantProperty, WheelVariant, split_variant_filename, variant_hash
from bridge.pipelines.convert import ConversionOptions, convert_wheel
from bridge.pipelines.to_wheel import ToWheelOptions, convert_to_wheel, to_wheel
from bridge.translate.variants import family_for_targets, family_targets, known_families, resolve_family
from bridge.translate.wheelvariant import properties_from_build
from tests.support.wheels import build_wheel, wheel_members
from tests.test_towheel import CP, gpulib

variantlib = pytest.importorskip("variantlib")
from variantlib.commands.analyze_wheel import analyze_wheel  # noqa: E402
from variantlib.commands.make_variant import _make_variant as variantlib_make_variant  # noqa: E402
from variantlib.constants import VALIDATION_WHEEL_NAME_REGEX  # noqa: E402
from variantlib.models.variant import VariantDescription  # noqa: E402
from variantlib.models.variant import VariantProperty as VLProperty  # noqa: E402
from variantlib.pyproject_toml import VariantPyProjectToml  # noqa: E402
from variantlib.variant_dist_info import VariantDistInfo  # noqa: E402

PY = CP[2:]
GFX103X = ["gfx1030", "gfx1031", "gfx1032", "gfx1034"]  # TheRock gfx103X-dgpu

# A project's [variant] table as WheelNext's provider READMEs tell projects to write it.
PYPROJECT = {
    "variant": {
        "default-priorities": {"namespace": ["amd", "nvidia"]},
        "providers": {
            "amd": {"requires": ["amd-variant-provider>=0.0.2,<1.0.0"], "plugin-api": "amd_variant_provider.plugin:AMDVariantPlugin"},
            "nvidia": {"requires": ["nvidia-variant-provider>=0.0.1,<1.0.0"], "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin"},
        },
    }
}


def variant_json(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/variant.json")]
        return zf.read(name)


def check_with_variantlib(wheel: Path) -> VariantDistInfo:
    """What an installer implementing the draft does with the file: parse the name, validate variant.json."""
    m = VALIDATION_WHEEL_NAME_REGEX.fullmatch(wheel.name)
    assert m is not None and m.group("variant_label"), wheel.name
    data = variant_json(wheel)
    info = VariantDistInfo(data, m.group("variant_label"))  # raises ValidationError on anything off
    assert info.to_str().encode() == data  # byte for byte what variantlib writes
    analyze_wheel(["-i", str(wheel)])
    return info


@pytest.mark.parametrize(
    ("build", "label", "properties"),
    [
        (f"py{PY}_rocm7.11_gfx103X_0", "rocm7.11_gfx103x", [*(f"amd :: gfx_arch :: {c}" for c in GFX103X), "amd :: rocm_version :: 7.11"]),
        (f"py{PY}_rocm6.4_gfx1100_0", "rocm6.4_gfx1100", ["amd :: gfx_arch :: gfx1100", "amd :: rocm_version :: 6.4"]),
        (f"py{PY}_rocm7.11_gfx120X_0", "rocm7.11_gfx120x", ["amd :: gfx_arch :: gfx1200", "amd :: gfx_arch :: gfx1201", "amd :: rocm_version :: 7.11"]),
        (f"py{PY}_cu126_0", "cu126", ["nvidia :: cuda_version_lower_bound :: 12.6", "nvidia :: cuda_version_upper_bound :: 13"]),
        (f"cuda118_py{PY}h1a2b3c4_303", "cuda118", ["nvidia :: cuda_version_lower_bound :: 11.8", "nvidia :: cuda_version_upper_bound :: 12"]),
        (f"py{PY}_cu12_0", "cu12", ["nvidia :: cuda_version_lower_bound :: 12", "nvidia :: cuda_version_upper_bound :: 13"]),
    ],
)
def test_every_variant_wheel_validates_with_variantlib(tmp_path: Path, build: str, label: str, properties: list[str]) -> None:
    done = to_wheel(gpulib(tmp_path / "ch", build=build, extra_depends=()), tmp_path / "out", ToWheelOptions(variant=True))
    info = check_with_variantlib(done.outputs[0])
    assert info.variant_label == label and done.outputs[0].name.endswith(f"-{label}.whl")
    assert [p.to_str() for p in info.variant_desc.properties] == properties
    namespace = properties[0].split(" ")[0]
    assert info.namespace_priorities == [namespace] and list(info.providers) == [namespace]
    assert info.providers[namespace].plugin_api == {"amd": "amd_variant_provider.plugin:AMDVariantPlugin", "nvidia": "nvidia_variant_provider.plugin:NvidiaVariantPlugin"}[namespace]
    assert not done.warnings  # the family became chips: nothing left unmatched


def test_properties_only_from_the_user_get_variantlibs_hash_label(tmp_path: Path) -> None:
    """No variant in the build string: the label is what variantlib would pick, the properties' hash."""
    given_props = ("nvidia :: sm_arch :: 90_real", "nvidia :: cuda_version_lower_bound :: 12.8")
    done = to_wheel(gpulib(tmp_path / "ch", build=f"py{PY}_0", extra_depends=()), tmp_path / "out", ToWheelOptions(variant=True, variant_properties=given_props))
    info = check_with_variantlib(done.outputs[0])
    expected = VariantDescription([VLProperty.from_str(p) for p in given_props]).hexdigest
    assert info.variant_label == expected and len(expected) == 8


def test_user_properties_and_label_join_the_derived_ones(tmp_path: Path) -> None:
    options = ToWheelOptions(variant=True, variant_label="gfx103x", variant_properties=("nvidia :: sm_arch :: 90_real",))
    done = to_wheel(gpulib(tmp_path / "ch", extra_depends=()), tmp_path / "out", options)
    info = check_with_variantlib(done.outputs[0])
    assert info.variant_label == "gfx103x" and info.namespace_priorities == ["amd", "nvidia"]
    assert "nvidia :: sm_arch :: 90_real" in [p.to_str() for p in info.variant_desc.properties]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ToWheelOptions(variant=True, variant_properties=("x86_64 :: level :: v3",)), "no variant provider is known for namespace 'x86_64'"),
        (ToWheelOptions(variant=True, variant_properties=("AMD :: gfx_arch :: gfx1030",)), "is not 'namespace :: feature :: value'"),
        (ToWheelOptions(variant=True, variant_label="null"), "'null' is reserved"),
        (ToWheelOptions(variant=True, variant_label="ROCm"), "must match"),
    ],
)
def test_variant_refusals_write_nothing(tmp_path: Path, options: ToWheelOptions, message: str) -> None:
    result = convert_to_wheel(gpulib(tmp_path / "ch", extra_depends=()), tmp_path / "out", options)
    assert result.error is not None and message in result.error.reason
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_cli_unknown_namespace_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = gpulib(tmp_path / "ch", extra_depends=())
    assert main(["to-wheel", str(pkg), "-o", str(tmp_path / "out"), "--variant", "--variant-property", "foo :: bar :: baz"]) == 2
    assert "no variant provider is known for namespace 'foo'" in capsys.readouterr().err


@given(
    st.lists(
        st.tuples(st.sampled_from(["amd", "nvidia", "x86_64"]), st.sampled_from(["gfx_arch", "level", "sm_arch"]), st.from_regex(r"[a-z0-9_.]{1,8}", fullmatch=True)),
        min_size=1,
        max_size=6,
        unique=True,
    )
)
@settings(max_examples=60, deadline=None)
def test_variant_hash_is_variantlibs(triples: list[tuple[str, str, str]]) -> None:
    ours = variant_hash(VariantProperty(*t) for t in triples)
    assert ours == VariantDescription([VLProperty(*t) for t in triples]).hexdigest


# --------------------------------------------------------------------------- the reverse


def _plain_gpu_wheel(out: Path, version: str) -> Path:
    return build_wheel(out, "gpulib", version, tag=f"{CP}-{CP}-manylinux_2_28_x86_64", files={"gpulib/__init__.py": "X = 1\n", "gpulib/_k.so": b"\x7fELF-not-really"})


def make_variant(wheel: Path, out: Path, properties: list[str], label: str | None) -> Path:
    """variantlib make-variant (the library call; provider plugins are not installed, so their check is skipped)."""
    out.mkdir(parents=True, exist_ok=True)
    variantlib_make_variant(
        wheel,
        out,
        is_null_variant=False,
        properties=[VLProperty.from_str(p) for p in properties],
        validate_properties=False,
        variant_info=VariantPyProjectToml(PYPROJECT),
        variant_label=label,
    )
    (made,) = out.glob("*.whl")
    return made


@pytest.mark.parametrize(
    ("version", "family", "properties", "label", "build"),
    [
        ("2.9.1+rocm7.11.0a20260104", "gfx103X", [*(f"amd :: gfx_arch :: {c}" for c in GFX103X), "amd :: rocm_version :: 7.11"], "gfx103x", f"py{PY}_rocm7.11_gfx103X_20260104000"),
        ("2.9.1+rocm7.11.0a20260104", "gfx110X-all", ["amd :: gfx_arch :: gfx1100", "amd :: gfx_arch :: gfx1101", "amd :: gfx_arch :: gfx1102", "amd :: gfx_arch :: gfx1103", "amd :: rocm_version :: 7.11"], None, f"py{PY}_rocm7.11_gfx110X_20260104000"),
        ("2.9.1+cu126", None, ["nvidia :: cuda_version_lower_bound :: 12.6", "nvidia :: cuda_version_upper_bound :: 13"], "cu126", f"py{PY}_cu126_100"),
    ],
)
def test_variantlib_made_wheel_converts_to_the_build_it_stands_for(tmp_path: Path, version: str, family: str | None, properties: list[str], label: str | None, build: str) -> None:
    plain = _plain_gpu_wheel(tmp_path / "plain", version)
    expected = convert_wheel(plain, tmp_path / "c1", ConversionOptions(gpu_family=family)).outputs[0].name
    assert expected.endswith(f"-{build}.conda")
    variant = make_variant(plain, tmp_path / "variant", properties, label)
    assert split_variant_filename(variant.name) == (plain.name, label or variant.name[:-4].rsplit("-", 1)[1])
    got = convert_wheel(variant, tmp_path / "c2", ConversionOptions())
    assert [p.name for p in got.outputs] == [expected]


@pytest.mark.parametrize("build", [f"py{PY}_rocm7.11_gfx103X_0", f"py{PY}_rocm7.11_gfx1151_0", f"py{PY}_cu126_0"])
def test_conda_variant_wheel_conda_keeps_the_build_string(tmp_path: Path, build: str) -> None:
    done = to_wheel(gpulib(tmp_path / "ch", build=build, extra_depends=()), tmp_path / "out", ToWheelOptions(variant=True))
    back = convert_wheel(done.outputs[0], tmp_path / "back", ConversionOptions()).outputs[0]
    assert back.name == f"gpulib-2.9.1-{build}.conda"


def test_about_json_family_name_picks_its_chips() -> None:
    props, unmatched = properties_from_build(["rocm7.11", "gfx103X"], about_family="gfx103X-all")
    assert [p.value for p in props if p.feature == "gfx_arch"] == [f"gfx103{i}" for i in range(7)] and not unmatched
    props, unmatched = properties_from_build(["rocm7.11", "gfx103X", "mkl"])
    assert [p.value for p in props if p.feature == "gfx_arch"] == GFX103X and unmatched == ["mkl"]


def test_every_family_has_chips_and_reads_back() -> None:
    for name, tag in known_families().items():
        if name in {"gfx90X-all"}:  # not in TheRock's target list any more
            continue
        family = resolve_family(name)
        chips = family_targets(family)
        assert chips, name
        back = family_for_targets(chips)
        assert back is not None and back.tag == tag, (name, chips, back)
    assert family_for_targets(["gfx1030", "gfx1100"]) is None


# --------------------------------------------------------------------------- hostile variant wheels


def _variant_doc(label: str = "gfx103x", **changes: object) -> dict:
    doc = json.loads(WheelVariant(label, tuple(VariantProperty("amd", "gfx_arch", c) for c in GFX103X), ()).to_json())
    doc["default-priorities"] = {"namespace": ["amd"]}
    doc["providers"] = {"amd": {"requires": ["amd-variant-provider>=0.0.2,<1.0.0"], "plugin-api": "amd_variant_provider.plugin:AMDVariantPlugin"}}
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "has no gpulib-2.9.1.dist-info/variant.json"),
        (b"{", "not JSON"),
        (json.dumps(_variant_doc(providers={})).encode(), "must list each provider namespace once"),
        (json.dumps(_variant_doc(label="other")).encode(), "is for label 'other', the file name says 'gfx103x'"),
        (json.dumps(_variant_doc(variants={"gfx103x": {"amd": {"gfx_arch": ["GFX1030"]}}})).encode(), "must match"),
        (json.dumps(_variant_doc(variants={"gfx103x": {}, "b": {}})).encode(), "exactly one"),
        (json.dumps(_variant_doc(extra=1)).encode(), "unexpected keys"),
        (json.dumps(_variant_doc(providers={"amd": {"requires": ["not a requirement!"]}})).encode(), "requires"),
    ],
)
def test_bad_variant_json_is_bad_input(tmp_path: Path, content: bytes | None, message: str) -> None:
    extra = {} if content is None else {"variant.json": content}
    wheel = build_wheel(tmp_path, "gpulib", "2.9.1", extra_dist_info=extra, files={"gpulib/__init__.py": ""})
    named = wheel.with_name(wheel.name[: -len(".whl")] + "-gfx103x.whl")
    wheel.rename(named)
    result = convert_wheel(named, tmp_path / "out", ConversionOptions())
    assert isinstance(result.error, BadInput) and message in result.error.reason, result.error
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_split_variant_filename() -> None:
    assert split_variant_filename("a-1-py3-none-any.whl") == ("a-1-py3-none-any.whl", None)
    assert split_variant_filename("a-1-2-py3-none-any.whl") == ("a-1-2-py3-none-any.whl", None)  # a build tag
    assert split_variant_filename("a-1-py3-none-any-cu126.whl") == ("a-1-py3-none-any.whl", "cu126")
    assert split_variant_filename("a-1-2-py3-none-any-0a1b2c3d.whl") == ("a-1-2-py3-none-any.whl", "0a1b2c3d")
    assert split_variant_filename("a-1-py3-none-any-CU126.whl") == ("a-1-py3-none-any-CU126.whl", None)
    with pytest.raises(VariantError):
        VariantProperty.parse("amd :: gfx arch :: x")


def test_inspect_says_the_family_came_from_the_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = _plain_gpu_wheel(tmp_path / "plain", "2.9.1+rocm7.11.0a20260104")
    variant = make_variant(plain, tmp_path / "variant", [*(f"amd :: gfx_arch :: {c}" for c in GFX103X), "amd :: rocm_version :: 7.11"], "gfx103x")
    assert main(["inspect", str(variant)]) == 0
    out = capsys.readouterr().out
    assert f"build py{PY}_rocm7.11_gfx103X_20260104000" in out
    assert "GPU family gfx103X (wheel variant gfx103x: amd :: gfx_arch :: gfx1030, gfx1031, gfx1032, gfx1034)" in out


def test_variant_wheel_conda_wheel_closes(tmp_path: Path) -> None:
    """A variant wheel made by variantlib → conda → wheel: the same file name and members; with
    --variant, one variant.json (ours replaces the kept copy) that variantlib accepts."""
    plain = _plain_gpu_wheel(tmp_path / "plain", "2.9.1+rocm7.11.0a20260104")
    variant = make_variant(plain, tmp_path / "variant", [*(f"amd :: gfx_arch :: {c}" for c in GFX103X), "amd :: rocm_version :: 7.11"], "gfx103x")
    (pkg,) = convert_wheel(variant, tmp_path / "c", ConversionOptions()).outputs
    back = to_wheel(pkg, tmp_path / "back").outputs[0]
    assert back.name == variant.name
    dist_info = "gpulib-2.9.1+rocm7.11.0a20260104.dist-info"
    regenerated = {f"{dist_info}/RECORD", f"{dist_info}/conda-package.json"}  # the round-trip record rides along (docs/to-wheel.md)
    assert {k: v for k, v in wheel_members(back).items() if k not in regenerated} == {k: v for k, v in wheel_members(variant).items() if k not in regenerated}
    check_with_variantlib(back)
    relabelled = to_wheel(pkg, tmp_path / "relabelled", ToWheelOptions(variant=True)).outputs[0]
    assert relabelled.name.endswith("-rocm7.11_gfx103x.whl")
    with zipfile.ZipFile(relabelled) as zf:
        assert sum(n.endswith("/variant.json") for n in zf.namelist()) == 1
    check_with_variantlib(relabelled)
