"""Unit tests of the recipes layer: version/file selection, config, index parsing, HTTP, model, emitter."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from bridge.core.errors import BadInput
from bridge.recipes.config import VersionPolicy, detect_family, load_config, parse_config
from bridge.recipes.http import FetchError, Http, Response
from bridge.recipes.index import Index, IndexFile, parse_html_page, parse_html_root, parse_json_page, parse_json_root
from bridge.recipes.model import Recipe, SourceFile
from bridge.recipes.rattler import emit
from bridge.recipes.regenerate import regenerate
from bridge.recipes.select import accepts, nightly_date, select_files, select_versions
from bridge.translate.names import NameMap
from tests.support.index_server import IndexServer, write_simple_index
from tests.support.wheels import build_wheel

SHA = "ab" * 32


# -- select: versions -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("version", "date"),
    [
        ("7.11.0a20260104", 20260104),
        ("2.12.0.dev20260407", 20260407),
        ("2.9.1+rocm7.11.0a20260104", 20260104),
        ("2.10.0a0+rocm7.11.0a20251209", 20251209),
        ("10.1.0a20260811+bkc.20260813", 20260811),
        ("7.10.0", None),
        ("7.10.0rc1", None),
        ("1.0a1", None),
        ("2.9.1+rocm7.10.0", None),
    ],
)
def test_nightly_date(version: str, date: int | None) -> None:
    assert nightly_date(Version(version)) == date


@pytest.mark.parametrize(
    ("versions", "policy", "expected"),
    [
        (["7.11.0a20260104", "7.11.0a20260106", "7.11.0a20260105", "7.10.0"], VersionPolicy("nightly", 2), ["7.11.0a20260105", "7.11.0a20260106"]),
        # PEP 440 sorts +rocm10 below +rocm7 (text); the nightly date decides (TheRock#7183)
        (["2.9.1+rocm7.11.0a20260104", "2.9.1+rocm10.0.0a20260105"], VersionPolicy("nightly", 1), ["2.9.1+rocm10.0.0a20260105"]),
        (["12.8.90", "12.9.79", "13.0.1", "12.9.80rc1"], VersionPolicy("release", 1, SpecifierSet("<13")), ["12.9.79"]),
        (["1.0", "1.1rc1"], VersionPolicy("any", 5), ["1.0", "1.1rc1"]),
        (["1.0", "1.1"], VersionPolicy("nightly", 2), []),
    ],
)
def test_select_versions(versions: list[str], policy: VersionPolicy, expected: list[str]) -> None:
    assert [str(v) for v in select_versions(map(Version, versions), policy)] == expected


def test_accepts_release_allows_local_labels() -> None:
    assert accepts(Version("2.6.0+cu124"), VersionPolicy("release"))
    assert not accepts(Version("2.6.0.dev20250101+cu124"), VersionPolicy("release"))


# -- select: files ----------------------------------------------------------------------------

def _f(name: str, yanked: bool = False) -> IndexFile:
    return IndexFile(name, f"https://x/{name}", {"sha256": SHA}, yanked=yanked)


def test_select_files_filters_and_dedupes() -> None:
    files = [
        _f("torch-2.9.1-cp312-cp312-manylinux_2_28_x86_64.whl"),
        _f("torch-2.9.1-3-cp312-cp312-manylinux_2_28_x86_64.whl"),  # build tag 3 wins
        _f("torch-2.9.1-cp313-cp313-manylinux_2_28_x86_64.whl"),  # python not wanted
        _f("torch-2.9.1-cp312-cp312-win_amd64.whl"),
        _f("torch-2.9.1-cp312-cp312-macosx_11_0_arm64.whl"),  # platform not wanted
        _f("torch-2.9.1-cp312-cp312-musllinux_1_2_x86_64.whl"),  # no conda target
        _f("torch-2.9.1-cp312-cp312-manylinux2014_x86_64.whl", yanked=True),
        _f("torch-2.9.1.tar.gz"),
    ]
    chosen, notes = select_files(files, pythons=("3.12",), platforms=("linux-64", "win-64"))
    assert [c.file.filename for c in chosen] == ["torch-2.9.1-3-cp312-cp312-manylinux_2_28_x86_64.whl", "torch-2.9.1-cp312-cp312-win_amd64.whl"]
    text = "\n".join(notes)
    assert "musllinux" in text and "yanked" in text and "same conda target as torch-2.9.1-3-cp312" in text


def test_select_files_same_target_different_glibc_keeps_one() -> None:
    files = [_f("n-1.0-py3-none-manylinux2014_x86_64.whl"), _f("n-1.0-py3-none-manylinux_2_28_x86_64.whl"), _f("n-1.0-py3-none-any.whl")]
    chosen, notes = select_files(files, platforms=("linux-64",))
    assert [c.file.filename for c in chosen] == ["n-1.0-py3-none-any.whl", "n-1.0-py3-none-manylinux2014_x86_64.whl"]
    assert any("same conda target" in n for n in notes)


# -- config -----------------------------------------------------------------------------------

CONFIG = """
families: {aliases: {gfx103X-dgpu: gfx103X-all}}
defaults: {versions: {policy: nightly, keep: 3}, platforms: [linux-64]}
sources:
  - name: rocm
    index: https://example.invalid/v2/{family}/
    families: [gfx103X-dgpu, gfx1151]
    packages:
      - rocm-sdk-core
      - {name: torch, python: "3.12", versions: {keep: 1}}
      - {name: rocm, meta: {requires: ["rocm-sdk-core=={version}"]}}
  - name: fixed
    index: https://example.invalid/v2-staging/gfx110X-dgpu/
    packages: [rocm-sdk-libraries-*]
  - name: pypi
    index: ../wheels
    variant: cu12
    names: conda-forge
    build_number: 2
    versions: {policy: release, match: ">=12,<13"}
    packages: [nvidia-nvtx-cu12]
"""


def test_config_parses_families_rules_and_defaults(tmp_path: Path) -> None:
    config = parse_config(yaml.safe_load(CONFIG), tmp_path / "sources.yaml")
    rocm, fixed, pypi = config.sources
    assert [(t.url, t.index_family, t.family) for t in rocm.targets(config.aliases)] == [
        ("https://example.invalid/v2/gfx103X-dgpu/", "gfx103X-dgpu", "gfx103X-all"),
        ("https://example.invalid/v2/gfx1151/", "gfx1151", "gfx1151"),
    ]
    assert [t.family for t in fixed.targets({"gfx110X-dgpu": "gfx110X-all"})] == ["gfx110X-all"]
    core, torch, meta = rocm.packages
    assert core.versions == VersionPolicy("nightly", 3) and core.platforms == ("linux-64",)
    assert torch.python == ("3.12",) and torch.versions.keep == 1 and torch.versions.policy == "nightly"
    assert meta.meta_requires == ("rocm-sdk-core=={version}",) and core.meta_requires is None
    assert fixed.packages[0].is_glob
    assert (pypi.variant, pypi.names, pypi.build_number, pypi.packages[0].versions.policy) == ("cu12", "conda-forge", 2, "release")
    assert pypi.targets({})[0].family is None


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"sources": [{"name": "a", "index": "x", "packages": ["p"], "extra": 1}]}, "sources[0]: unknown key 'extra'"),
        ({"sources": [{"name": "a", "index": "x/{family}/", "packages": ["p"]}]}, "no families are listed"),
        ({"sources": [{"name": "a", "index": "x", "packages": ["p"], "versions": {"policy": "weekly"}}]}, "policy must be one of"),
        ({"sources": [{"name": "a", "index": "x", "packages": ["p"], "versions": {"keep": 0}}]}, "keep must be a positive integer"),
        ({"sources": [{"name": "a", "index": "x", "packages": ["p"], "versions": {"match": "~~1"}}]}, "not a PEP 440 specifier set"),
        ({"sources": [{"name": "a", "index": "x", "packages": ["p"]}, {"name": "a", "index": "y", "packages": ["q"]}]}, "duplicate source name 'a'"),
        ({"sources": [{"name": "a", "index": "x", "packages": []}]}, "lists no packages"),
        ({"sources": [{"name": "a", "index": "x", "packages": [{"name": "p", "metta": {}}]}]}, "sources[0].packages[0]: unknown key 'metta'"),
        ({"sources": []}, "no sources configured"),
    ],
)
def test_config_errors_name_the_entry(tmp_path: Path, patch: dict, message: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_config(patch, tmp_path / "sources.yaml")
    assert message in str(info.value) and "sources.yaml" in str(info.value)


def test_config_missing_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="sources config not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [\n")
    with pytest.raises(BadInput, match="not valid YAML"):
        load_config(bad)


@pytest.mark.parametrize(
    ("index", "family"),
    [
        ("https://rocm.nightlies.amd.com/v2-staging/gfx103X-dgpu/", "gfx103X-dgpu"),
        ("https://rocm.nightlies.amd.com/v2/gfx1151", "gfx1151"),
        ("https://repo.amd.com/rocm/whl/gfx94X-dcgpu/", "gfx94X-dcgpu"),
        ("https://download.pytorch.org/whl/cu124/", None),
        ("/srv/wheels/gfx120X-all", "gfx120X-all"),
    ],
)
def test_detect_family(index: str, family: str | None) -> None:
    assert detect_family(index) == family


# -- index parsing ----------------------------------------------------------------------------

HTML = """<!DOCTYPE html><html><head><base href="https://files.example/base/"></head><body>
<a href="../rocm_sdk_core-7.11.0a20260104-py3-none-linux_x86_64.whl#sha256=AA11" data-requires-python="&gt;=3.9"
   data-dist-info-metadata="sha256=bb22" data-core-metadata="sha256=cc33">rocm_sdk_core-7.11.0a20260104-py3-none-linux_x86_64.whl</a>
<a href="https://other.example/p/rocm-7.11.0a20260104.tar.gz#sha256=dd44" data-yanked="">rocm-7.11.0a20260104.tar.gz</a>
<a href="x-1.0-py3-none-any.whl" data-core-metadata="true">x-1.0-py3-none-any.whl</a>
<a href="y-1.0-py3-none-any.whl#md5=00">y</a>
</body></html>"""


def test_parse_html_page() -> None:
    files = parse_html_page(HTML, "https://index.example/simple/rocm-sdk-core/")
    assert [f.url for f in files] == [
        "https://files.example/rocm_sdk_core-7.11.0a20260104-py3-none-linux_x86_64.whl",
        "https://other.example/p/rocm-7.11.0a20260104.tar.gz",
        "https://files.example/base/x-1.0-py3-none-any.whl",
        "https://files.example/base/y-1.0-py3-none-any.whl",
    ]
    core, sdist, x, y = files
    assert core.sha256 == "aa11" and core.requires_python == ">=3.9" and core.metadata_hashes == {"sha256": "cc33"}  # PEP 714 name wins
    assert sdist.yanked and sdist.metadata_hashes is None
    assert x.sha256 is None and x.metadata_hashes == {}
    assert y.hashes == {"md5": "00"} and y.sha256 is None


def test_parse_html_root_and_json_pages() -> None:
    root = parse_html_root('<a href="/simple/Rocm_SDK.Core/">Rocm_SDK.Core</a><a href="torch/">torch</a>', "https://i.example/simple/")
    assert root == {"rocm-sdk-core": "https://i.example/simple/Rocm_SDK.Core/", "torch": "https://i.example/simple/torch/"}
    page = {
        "meta": {"api-version": "1.1"},
        "files": [
            {"filename": "t-1.0-py3-none-any.whl", "url": "../../files/t-1.0-py3-none-any.whl", "hashes": {"sha256": "EE"}, "requires-python": ">=3.10", "core-metadata": {"sha256": "ff"}, "size": 12, "yanked": "broken"},
            {"filename": "t-1.1-py3-none-any.whl", "url": "https://f.example/t-1.1-py3-none-any.whl", "hashes": {}, "dist-info-metadata": True},
        ],
    }
    first, second = parse_json_page(page, "https://i.example/simple/t/")
    assert (first.url, first.sha256, first.size, first.yanked, first.metadata_hashes) == ("https://i.example/files/t-1.0-py3-none-any.whl", "ee", 12, True, {"sha256": "ff"})
    assert second.metadata_hashes == {} and not second.yanked
    assert parse_json_root({"projects": [{"name": "Torch_Vision"}]}, "https://i.example/simple/") == {"torch-vision": "https://i.example/simple/torch-vision/"}


class FakeHttp(Http):
    """Serves canned responses by URL."""

    def __init__(self, pages: dict[str, Response]):
        super().__init__()
        self.pages = pages

    def get(self, url: str, accept: str | None = None) -> Response:
        if url not in self.pages:
            raise FetchError(url, "HTTP 404 Not Found", status=404)
        return self.pages[url]


def test_index_reads_pep691_json_when_served() -> None:
    body = json.dumps({"meta": {"api-version": "1.0"}, "files": [{"filename": "t-1.0-py3-none-any.whl", "url": "t-1.0-py3-none-any.whl", "hashes": {"sha256": SHA}}]}).encode()
    http = FakeHttp({"https://i.example/simple/t/": Response("https://i.example/simple/t/", "application/vnd.pypi.simple.v1+json", body)})
    files = Index("https://i.example/simple", http).files("T")
    assert [(f.filename, f.url, f.sha256) for f in files] == [("t-1.0-py3-none-any.whl", "https://i.example/simple/t/t-1.0-py3-none-any.whl", SHA)]


def test_local_indexes_flat_folder_and_file_url_tree(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "flat", "demo-pkg", "1.0")
    flat = Index(str(tmp_path / "flat"), Http())
    assert list(flat.projects()) == ["demo-pkg"]
    [f] = flat.files("demo_pkg")
    assert f.filename == wheel.name and f.url.startswith("file://") and len(f.sha256 or "") == 64
    with pytest.raises(FetchError, match="no files for this project"):
        flat.files("other")
    tree = write_simple_index(tmp_path / "tree", [wheel])
    index = Index(tree.as_uri(), Http())
    [g] = index.files("demo-pkg")
    assert g.sha256 == f.sha256 and g.metadata_hashes
    assert index.metadata(g).name == "demo-pkg"
    with pytest.raises(FetchError, match="no such file"):
        index.files("missing")
    with pytest.raises(FetchError, match="does not exist"):
        Index(str(tmp_path / "nowhere"), Http()).files("x")


# -- HTTP -------------------------------------------------------------------------------------

def test_http_retries_5xx_then_succeeds_and_never_retries_404(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("hello")
    pauses: list[float] = []
    with IndexServer(tmp_path) as server:
        http = Http(timeout=5, retries=3, backoff=0.5, sleep=pauses.append)
        server.fail("/ok.txt", 503, times=2)
        assert http.get(f"{server.url}/ok.txt").body == b"hello"
        assert server.requests["/ok.txt"] == 3 and pauses == [0.5, 1.0]
        with pytest.raises(FetchError, match="HTTP 404") as info:
            http.get(f"{server.url}/missing.txt")
        assert server.requests["/missing.txt"] == 1 and info.value.status == 404
        server.fail("/ok.txt", 500, times=10)
        with pytest.raises(FetchError, match=r"HTTP 500 .*gave up after 4 attempts"):
            http.get(f"{server.url}/ok.txt")
        url = server.url
    with pytest.raises(FetchError, match="unreachable") as info:
        Http(timeout=2, retries=0).get(f"{url}/ok.txt")
    assert "\n" not in info.value.one_line()


def test_download_verifies_sha256_and_leaves_nothing_on_mismatch(tmp_path: Path) -> None:
    (tmp_path / "w.whl").write_bytes(b"wheel bytes")
    good = hashlib.sha256(b"wheel bytes").hexdigest()
    with IndexServer(tmp_path) as server:
        http = Http(timeout=5)
        dest = tmp_path / "cache" / "w.whl"
        with pytest.raises(FetchError, match="sha256 mismatch"):
            http.download(f"{server.url}/w.whl", dest, SHA)
        assert not dest.exists() and not (tmp_path / "cache").exists()  # not even the folders made for it
        assert http.download(f"{server.url}/w.whl", dest, good).read_bytes() == b"wheel bytes"
    assert Http().download((tmp_path / "w.whl").as_uri(), tmp_path / "copy.whl", good).exists()


# -- model and rattler-build recipes ----------------------------------------------------------

def _recipe(**kw) -> Recipe:
    base = dict(name="torch", version="2.9.1+rocm7.11.0a20260104", variant="gfx103X-all", source="rocm", index="https://i/", files=[], gpu_family="gfx103X-all", index_family="gfx103X-dgpu")
    base.update(kw)
    return Recipe(**base)


def test_recipe_yaml_round_trips_and_is_deterministic() -> None:
    recipe = _recipe(
        files=[SourceFile("b.whl", "https://i/b.whl", SHA), SourceFile("a.whl", "https://i/a.whl", SHA, 10)],
        pythons=("3.12",), subdirs=("win-64", "linux-64"), metadata={"from": "a.whl", "summary": "x", "requires_dist": ["rocm[libraries]==7.11.0a20260104"]},
        notes=["z: yanked", "a: musllinux"],
    )
    text = recipe.to_yaml()
    assert text == _recipe(**{**recipe.__dict__, "files": list(reversed(recipe.files)), "notes": list(reversed(recipe.notes))}).to_yaml()
    again = Recipe.from_dict(yaml.safe_load(text), "x")
    assert again.to_yaml() == text
    assert text.index("a.whl") < text.index("b.whl") and "2026" not in text.split("format:")[0]
    with pytest.raises(BadInput, match="unsupported recipe format"):
        Recipe.from_dict({"format": 99}, "x")


def test_emit_per_python_wheels_uses_variants_and_selectors() -> None:
    files = [
        SourceFile("torch-2.9.1+rocm7.11.0a20260104-cp312-cp312-linux_x86_64.whl", "https://i/t312.whl", SHA),
        SourceFile("torch-2.9.1+rocm7.11.0a20260104-cp313-cp313-linux_x86_64.whl", "https://i/t313.whl", SHA),
        SourceFile("torch-2.9.1+rocm7.11.0a20260104-cp312-cp312-win_amd64.whl", "https://i/tw.whl", SHA),
    ]
    metadata = {"requires_dist": ["rocm-sdk-core==7.11.0a20260104", "triton==3.5.1; platform_system == 'Linux'"]}
    out = emit(_recipe(files=files, metadata=metadata), NameMap())
    doc = yaml.safe_load(out.recipe_yaml)
    assert doc["package"] == {"name": "torch", "version": "2.9.1"}
    assert [s["if"] for s in doc["source"]] == [
        'target_platform == "linux-64" and match(python, "3.12.*")',
        'target_platform == "linux-64" and match(python, "3.13.*")',
        'target_platform == "win-64" and match(python, "3.12.*")',
    ]
    assert doc["build"]["string"] == '${{ "py" ~ (python | version_to_buildstring) }}_rocm7.11_gfx103X_20260104000'
    assert 'target_platform == "win-64" and match(python, "3.13.*")' in doc["build"]["skip"]
    run = doc["requirements"]["run"]
    assert run[:2] == ["python", "rocm-sdk-core ==7.11.0a20260104 *gfx103X*"]
    assert run[2]["then"] == "triton ==3.5.1" and "linux-64" in run[2]["if"] and "win-64" not in run[2]["if"]
    assert yaml.safe_load(out.variants_yaml) == {"python": ["3.12.*", "3.13.*"]}


def test_emit_pure_and_meta_and_mixed() -> None:
    pure = emit(_recipe(name="greet", version="1.0", files=[SourceFile("greet-1.0-py3-none-any.whl", "https://i/g.whl", SHA)], gpu_family=None), NameMap())
    doc = yaml.safe_load(pure.recipe_yaml)
    assert doc["build"]["noarch"] == "python" and "skip" not in doc["build"] and "if" not in doc["source"][0]
    meta = emit(_recipe(name="rocm", version="7.11.0a20260104", kind="meta", meta_requires=("rocm-sdk-core==7.11.0a20260104", "rocm-sdk-libraries-gfx103x-dgpu==7.11.0a20260104")), NameMap())
    doc = yaml.safe_load(meta.recipe_yaml)
    # as the converter builds it: noarch python, rocm_sdk inside, TheRock's setup.py told the family
    assert {k: doc["build"][k] for k in ("number", "string", "noarch")} == {"number": 0, "string": "py_gfx103X_0", "noarch": "python"}
    assert doc["build"]["script"]["env"] == {"ROCM_SDK_TARGET_FAMILY": "gfx103X-dgpu"}
    assert doc["requirements"]["run"] == ["python", "rocm-sdk-core ==7.11.0a20260104 *gfx103X*", "rocm-sdk-libraries-gfx103x-dgpu ==7.11.0a20260104"]
    mixed = emit(_recipe(files=[SourceFile("t-1-cp312-cp312-linux_x86_64.whl", "u", SHA), SourceFile("t-1-cp39-abi3-win_amd64.whl", "u", SHA)]), NameMap())
    assert mixed.recipe_yaml is None and "mixes" in mixed.reason


def test_emitted_recipes_render_with_rattler_build(tmp_path: Path) -> None:
    rattler_build = pytest.importorskip("rattler_build")  # py-rattler-build: a test dependency
    files = [SourceFile("n-1.0-py3-none-manylinux2014_x86_64.whl", "https://i/n.whl", SHA), SourceFile("n-1.0-py3-none-win_amd64.whl", "https://i/nw.whl", SHA)]
    (tmp_path / "recipe.yaml").write_text(emit(_recipe(name="n", version="1.0", files=files), NameMap()).recipe_yaml)
    recipe = rattler_build.Stage0Recipe.from_file(str(tmp_path / "recipe.yaml"))
    rendered = recipe.render(rattler_build.VariantConfig(), rattler_build.RenderConfig(platform=rattler_build.PlatformConfig(target_platform="linux-64")))
    assert rendered[0].recipe.package.name == "n" and len(rendered[0].recipe.sources) == 1


# -- regenerate details -----------------------------------------------------------------------

def _config(tmp_path: Path, index: Path, packages: str = "[demo-pkg, absent]") -> Path:
    path = tmp_path / "recipes" / "sources.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(f"""\
        sources:
          - name: local
            index: {index.as_uri()}
            versions: {{policy: release, keep: 1}}
            packages: {packages}
        """))
    return path


def test_regenerate_bumps_build_number_when_bytes_change_and_keeps_recipes_of_missing_packages(tmp_path: Path) -> None:
    index = tmp_path / "index"
    write_simple_index(index, [build_wheel(tmp_path / "w1", "demo-pkg", "1.0", summary="first")])
    config = load_config(_config(tmp_path, index, "[demo-pkg]"))
    assert regenerate(config, Http()).added == ["demo-pkg/local/1.0"]
    recipe_file = config.root / "demo-pkg" / "local" / "1.0" / "wheel2conda.yaml"
    assert Recipe.load(recipe_file).build_number == 0

    # same version re-uploaded with different bytes → build number 1; a now-missing package is an
    # error that keeps its recipe
    (index / "demo_pkg-1.0-py3-none-any.whl").unlink()
    write_simple_index(index, [build_wheel(tmp_path / "w2", "demo-pkg", "1.0", summary="second")])
    config = load_config(_config(tmp_path, index, "[demo-pkg, absent]"))
    check = regenerate(config, Http(), check=True)
    assert check.updated == ["demo-pkg/local/1.0"] and not check.written
    report = regenerate(config, Http())
    assert report.updated == ["demo-pkg/local/1.0"] and [e.status for e in report.errors] == [404]
    recipe = Recipe.load(recipe_file)
    assert recipe.build_number == 1 and recipe.metadata["summary"] == "second"
    assert regenerate(config, Http()).updated == []  # stable afterwards


# -- build from a local folder ----------------------------------------------------------------

@pytest.mark.e2e
def test_build_from_a_local_folder_publishes_pure_and_platform_wheels(tmp_path: Path, base_channel: Path, prefix_factory, capsys) -> None:
    from bridge.cli import main
    from tests.support.conda_env import install, run_in_prefix

    wheels = tmp_path / "wheels"
    build_wheel(wheels, "greet", "1.2.0", files={"greet/__init__.py": "MESSAGE = 'hi from a recipe'\n"})
    build_wheel(wheels, "hostlib", "0.3.0", tag="py3-none-manylinux_2_17_x86_64", files={"hostlib/__init__.py": ""})
    config = tmp_path / "recipes" / "sources.yaml"
    config.parent.mkdir()
    config.write_text("sources:\n  - name: local\n    index: ../wheels\n    platforms: [linux-64]\n    versions: {policy: release, keep: 1}\n    packages: [greet, hostlib]\n")
    channel = tmp_path / "channel"
    assert main(["recipes", "regenerate", "--config", str(config), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "recipes regenerate" and doc["summary"]["added"] == 2
    assert main(["recipes", "build", "--recipes", str(config.parent), "--channel", str(channel), "--cache", str(tmp_path / "cache"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {i["recipe"]: i["packages"] for i in doc["items"]} == {
        "greet/local/1.2.0": ["noarch/greet-1.2.0-py_0.conda"],
        "hostlib/local/0.3.0": ["linux-64/hostlib-0.3.0-0.conda"],
    }
    prefix = prefix_factory()
    install([channel, base_channel], ["python", "greet"], prefix)
    assert run_in_prefix(prefix, "python", "-c", "import greet; print(greet.MESSAGE)").stdout.strip() == "hi from a recipe"


def test_build_refuses_a_missing_recipes_folder(tmp_path, capsys):
    from bridge.cli import main

    assert main(["recipes", "build", "--recipes", str(tmp_path / "absent"), "--channel", str(tmp_path / "ch")]) == 2
    assert "no such recipes folder" in capsys.readouterr().err
    assert not (tmp_path / "ch").exists()


@pytest.mark.e2e
def test_nightlies_dated_only_in_the_label_get_distinct_build_numbers(tmp_path: Path, base_channel: Path, prefix_factory, capsys) -> None:
    """torch 2.9.1+rocm7.11.0a20260104 and …0105 share conda version 2.9.1: the date keeps them apart."""
    from bridge.cli import main
    from tests.support.conda_env import install, run_in_prefix

    wheels = tmp_path / "wheels"
    for date in ("20260104", "20260105"):
        build_wheel(
            wheels, "torch", f"2.9.1+rocm7.11.0a{date}", tag="py3-none-linux_x86_64",
            files={"torch/__init__.py": f"NIGHTLY = '{date}'\n"},
        )
    config = tmp_path / "recipes" / "sources.yaml"
    config.parent.mkdir()
    config.write_text(
        "sources:\n  - name: nightly\n    index: ../wheels\n    platforms: [linux-64]\n"
        "    versions: {policy: nightly, keep: 2}\n    packages: [torch]\n"
    )
    assert main(["recipes", "regenerate", "-q", "--config", str(config)]) == 0
    numbers = sorted(Recipe.load(p).build_number for p in config.parent.rglob("wheel2conda.yaml"))
    assert numbers == [0, 0]  # the recipe counts rebuilds; the date is added by the converter's rule
    assert main(["recipes", "regenerate", "-q", "--config", str(config)]) == 0  # stable on the next run
    assert sorted(Recipe.load(p).build_number for p in config.parent.rglob("wheel2conda.yaml")) == numbers
    rattler = sorted((p.parent / "recipe.yaml").read_text() for p in config.parent.rglob("wheel2conda.yaml"))
    assert "number: 20260104000" in rattler[0] and "number: 20260105000" in rattler[1]

    channel = tmp_path / "channel"
    assert main(["recipes", "build", "-q", "--recipes", str(config.parent), "--channel", str(channel), "--cache", str(tmp_path / "cache")]) == 0
    assert sorted(p.name for p in (channel / "linux-64").glob("*.conda")) == [
        "torch-2.9.1-rocm7.11_20260104000.conda",
        "torch-2.9.1-rocm7.11_20260105000.conda",
    ]
    prefix = prefix_factory()
    install([channel, base_channel], ["python", "torch"], prefix)  # the newest nightly wins among equal versions
    assert run_in_prefix(prefix, "python", "-c", "import torch; print(torch.NIGHTLY)").stdout.strip() == "20260105"

    # convert gives the same wheel the same package: one rule for both (issue 18)
    out = tmp_path / "converted"
    assert main(["convert", "-q", "-o", str(out), *map(str, sorted(wheels.glob("*.whl")))]) == 0
    assert sorted(p.name for p in (out / "linux-64").glob("*.conda")) == sorted(p.name for p in (channel / "linux-64").glob("*.conda"))
