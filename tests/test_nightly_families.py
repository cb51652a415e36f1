"""The nightly job over TheRock-shaped per-family indexes (issue 18): three families, two nights.

Each family's index holds what that family's CI job publishes (TheRock per-family era): its own
``rocm`` sdist (listing only its family), ``rocm-sdk-core`` and ``rocm-sdk-devel`` (same names and
versions in every family, different bytes), its libraries, torch and triton — served on 127.0.0.1
as ``…/v2-staging/<family>/`` pages written like TheRock's ``manage.py`` (``tests/support/index_server.py``).
``make nightly`` runs both nights and exits 0; the second publishes only the second night's
packages; py-rattler then installs each family's torch with devel and checks the stack.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bridge.check.standin import HOST_PY
from bridge.cli import main
from bridge.recipes.build import build, read_state
from bridge.recipes.config import load_config
from bridge.recipes.http import Http
from bridge.recipes.regenerate import regenerate
from tests.support import gpu_wheels as gw
from tests.support.conda_env import HOST_SUBDIR, install, run_in_prefix
from tests.support.index_server import IndexServer, write_simple_index
from tests.support.wheels import build_wheel

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not HOST_SUBDIR.startswith("linux-"), reason="the ROCm sets are Linux wheels run on this host"),
]

FAMILIES = ("gfx103X-dgpu", "gfx110X-all", "gfx94X-dcgpu")
TAGS = {"gfx103X-dgpu": "gfx103X", "gfx110X-all": "gfx110X", "gfx94X-dcgpu": "gfx94X"}
NIGHTS = ("7.11.0a20260104", "7.11.0a20260105")
REPO = Path(__file__).resolve().parent.parent
DANGLING = (
    "import pathlib, sysconfig\n"
    "site = pathlib.Path(sysconfig.get_paths()['purelib'])\n"
    "links = [p for p in (site / '_rocm_sdk_devel').rglob('*') if p.is_symlink()]\n"
    "print(len(links), sorted(str(p.relative_to(site)) for p in links if not p.exists()))\n"
)


def publish_night(www: Path, wheels: Path, version: str, families: tuple[str, ...] = FAMILIES) -> None:
    """Every family's CI job uploads its own set into its own index."""
    for family in families:
        out = wheels / version / family
        win = "py3-none-win_amd64"
        files = [
            gw.rocm_sdist(out, version, families=[family]),
            gw.rocm_core(out, version, family=family),
            gw.rocm_core(out, version, family=family, tag=win),
            gw.rocm_devel(out, version, family=family),
            gw.rocm_devel(out, version, family=family, tag=win),
            gw.rocm_libraries(out, family, version),
            gw.rocm_libraries(out, family, version, tag=win),
            gw.torch_rocm(out, family, rocm=version),  # requires triton (Linux builds only)
            gw.torch_rocm(out, family, rocm=version, tag=f"cp{gw.PY}-cp{gw.PY}-win_amd64"),
            gw.triton_rocm(out, rocm=version),
        ]
        write_simple_index(www / "v2-staging" / family, files)
    write_simple_index(www / "pypi", [gw.filelock(wheels / "pypi")])


def write_config(recipes: Path, url: str, families: tuple[str, ...] = FAMILIES) -> Path:
    recipes.mkdir(parents=True, exist_ok=True)
    path = recipes / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        families:
          aliases: {{gfx103X-dgpu: gfx103X-all}}
        sources:
          - name: rocm-nightly
            index: {url}/v2-staging/{{family}}/
            families: [{", ".join(families)}]
            platforms: [linux-64, win-64]
            python: ["{HOST_PY}"]
            versions: {{policy: nightly, keep: 2}}
            packages:
              - rocm-sdk-core
              - rocm-sdk-devel
              - rocm-sdk-libraries-{{family}}
              - torch
              - triton
              - name: rocm
                meta:
                  requires: ["rocm-sdk-core=={{version}}", "rocm-sdk-libraries-{{family}}=={{version}}"]
          - name: pypi
            index: {url}/pypi/
            platforms: [linux-64]
            versions: {{policy: release, keep: 1}}
            packages: [filelock]
        """))
    return path


def make_nightly(config: Path, channel: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """``make nightly`` of this checkout, with the running interpreter's environment as VENV."""
    venv = Path(sys.prefix)
    if shutil.which("make") is None or not (venv / "bin" / "wheel2conda").exists():
        pytest.skip("needs make and the wheel2conda console script in the running environment")
    return subprocess.run(
        ["make", "-s", "-C", str(REPO), "-o", f"{venv}/.installed", "nightly", f"VENV={venv}",
         f"SOURCES={config}", f"CHANNEL={channel}", f"CACHE={cache}"],
        capture_output=True, text=True, timeout=900,
    )


def index_json(path: Path) -> dict:
    from conda_package_streaming.package_streaming import stream_conda_info

    for tar, member in stream_conda_info(str(path)):
        if member.name == "info/index.json":
            return json.load(tar.extractfile(member))
    raise AssertionError(f"{path}: no info/index.json")


def packages(channel: Path) -> dict[str, int]:
    return {p.relative_to(channel).as_posix(): p.stat().st_mtime_ns for p in channel.glob("*/*.conda")}


def check_stack(channel: Path, base_channel: Path, prefix: Path, family: str, night: str) -> None:
    """A family's torch + devel: one family throughout, its targets, no dangling link, it runs."""
    tag = TAGS[family]
    records = install([channel, base_channel], [f"torch[build=*{tag}*]", "rocm-sdk-devel"], prefix)
    builds = {r.name.normalized: (str(r.version), str(r.build)) for r in records}
    family_packages = {n: b for n, (_, b) in builds.items() if n.startswith(("rocm", "torch", "triton"))}
    assert family_packages and all(tag in b for b in family_packages.values()), family_packages
    assert builds["rocm-sdk-core"][0] == builds["rocm-sdk-devel"][0] == builds["rocm"][0] == night
    assert f"rocm-sdk-libraries-{family.lower()}" in builds
    assert not [n for n in builds if n.startswith("rocm-sdk-libraries-") and n != f"rocm-sdk-libraries-{family.lower()}"]
    targets = run_in_prefix(prefix, "rocm-sdk", "targets")
    assert (targets.returncode, targets.stdout.strip()) == (0, gw.FAMILY_TARGETS[family]), targets.stderr
    version = run_in_prefix(prefix, "rocm-sdk", "version")
    assert version.stdout.strip() == night, version.stderr
    links = run_in_prefix(prefix, "python", "-c", DANGLING)
    assert links.stdout.split(" ", 1) == ["5", "[]\n"], links.stderr
    torch = run_in_prefix(prefix, "python", "-c", "import torch; print(torch.VARIANT, torch.BUILT_FOR)")
    assert torch.returncode == 0, torch.stderr
    assert torch.stdout.splitlines()[-1].split() == ["rocm", family, family]


PLATFORM_SPECS = ("python", "python_abi", "__glibc", "__unix", "__win", "__linux", "__osx")  # rattler-build derives these itself


def _name(spec: str) -> str:
    return spec.split(" ", 1)[0].split("[", 1)[0]


def assert_recipes_agree_with_the_channel(recipes: Path, channel: Path) -> int:
    """Render every generated ``recipe.yaml`` with rattler-build (py-rattler-build) for each of its
    platforms and Pythons, and compare what it would build with the converted package's index.json:
    build string and number, run requirements, constraints and track_features.  Returns how many
    rendered outputs were compared."""
    rb = pytest.importorskip("rattler_build")
    from bridge.recipes.model import Recipe

    records: dict[tuple[str, str, str, str], dict] = {}
    for repodata in channel.glob("*/repodata.json"):
        for record in json.loads(repodata.read_text())["packages.conda"].values():
            records[(repodata.parent.name, record["name"], record["version"], record["build"])] = record
    compared = 0
    for path in sorted(recipes.rglob("recipe.yaml")):
        recipe = Recipe.load(path.parent / "wheel2conda.yaml")
        stage0 = rb.Stage0Recipe.from_file(str(path))
        variants = rb.VariantConfig.from_file(str(path.parent / "variants.yaml")) if (path.parent / "variants.yaml").exists() else rb.VariantConfig()
        for platform in recipe.subdirs:
            for output in stage0.render(variants, rb.RenderConfig(platform=rb.PlatformConfig(target_platform=platform))):
                built = output.recipe
                build = built.build.to_dict()
                if not built.sources:  # no wheel for this platform/Python: the recipe's `skip` rules drop it
                    continue
                subdir = "noarch" if built.build.noarch else platform
                key = (subdir, built.package.name, built.package.version, str(built.build.string))
                if key not in records:  # a pure wheel: rattler-build hashes its own build string
                    same = [r for (d, n, v, _b), r in records.items() if (d, n, v) == key[:3] and r["build_number"] == built.build.number]
                    assert len(same) == 1, (path, key)
                    record = same[0]
                else:
                    record = records[key]
                assert (record["version"], record["build_number"]) == (built.package.version, built.build.number), path
                requirements = built.requirements.to_dict()
                run = {str(s) for s in requirements.get("run", ()) if _name(str(s)) not in PLATFORM_SPECS}
                assert run == {d for d in record["depends"] if _name(d) not in PLATFORM_SPECS}, (path, platform)
                assert {str(s) for s in requirements.get("run_constraints", ())} == set(record.get("constrains", ())), (path, platform)
                features = len((record.get("track_features") or "").split())
                assert (build.get("variant") or {}).get("down_prioritize_variant", 0) == features, (path, platform)
                compared += 1
    return compared


def test_make_nightly_three_families_two_nights(tmp_path: Path, base_channel: Path, prefix_factory) -> None:  # type: ignore[no-untyped-def]
    www, wheels, recipes, channel, cache = (tmp_path / n for n in ("www", "wheels", "recipes", "channel", "cache"))
    publish_night(www, wheels, NIGHTS[0])
    with IndexServer(www) as server:
        config = write_config(recipes, server.url)

        first = make_nightly(config, channel, cache)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "0 failed" in first.stdout and "0 errors" in first.stdout, first.stdout
        night1 = packages(channel)
        # every family's complete stack side by side: core and devel once per family
        for name in ("rocm-sdk-core", "rocm-sdk-devel"):
            assert sorted(p for p in night1 if p.startswith(f"linux-64/{name}-7")) == [
                f"linux-64/{name}-{NIGHTS[0]}-{tag}_0.conda" for tag in sorted(TAGS.values())
            ]
        assert len([p for p in night1 if p.startswith("noarch/rocm-7")]) == 3
        check_stack(channel, base_channel, prefix_factory(), "gfx103X-dgpu", NIGHTS[0])
        # recipe.yaml builds what the converter built: rendered with rattler-build, per platform
        assert assert_recipes_agree_with_the_channel(recipes, channel) == 34
        win_torch = [p for p in night1 if p.startswith("win-64/torch-2.9.1")]
        assert win_torch and all("triton" not in d for p in win_torch for d in index_json(channel / p)["depends"])

        publish_night(www, wheels, NIGHTS[1])
        second = make_nightly(config, channel, cache)
        assert second.returncode == 0, second.stdout + second.stderr
        night2 = packages(channel)
        assert {k: night2[k] for k in night1} == night1  # night 1 untouched
        added = set(night2) - set(night1)
        assert added and all(NIGHTS[1] in p or NIGHTS[1].replace(".", "").split("a")[1] in p for p in added), sorted(added)
        built = [line for line in second.stdout.splitlines() if line.startswith("built ")]
        assert built and all(NIGHTS[1] in line for line in built)  # only what changed
        for family in FAMILIES:
            check_stack(channel, base_channel, prefix_factory(), family, NIGHTS[1])
        assert assert_recipes_agree_with_the_channel(recipes, channel) == 2 * 34 - 1  # filelock: one recipe

        again = make_nightly(config, channel, cache)  # a quiet night: nothing to do, still 0
        assert again.returncode == 0 and not [line for line in again.stdout.splitlines() if line.startswith("built ")]
        assert packages(channel) == night2


def test_failed_recipe_is_remembered_until_its_inputs_change(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    www, wheels, recipes, channel, cache = (tmp_path / n for n in ("www", "wheels", "recipes", "channel", "cache"))
    publish_night(www, wheels, NIGHTS[0], families=("gfx110X-all",))
    broken = build_wheel(wheels / "bad", "rocm-sdk-devel", NIGHTS[0], tag="py3-none-linux_x86_64",
                         files={"rocm_sdk_devel/_devel.tar": b"not a tar", "rocm_sdk_devel/__init__.py": ""})
    (www / "v2-staging" / "gfx110X-all" / broken.name).unlink()
    write_simple_index(www / "v2-staging" / "gfx110X-all", [broken])
    http = Http(timeout=5, retries=0, backoff=0, sleep=lambda _s: None)
    with IndexServer(www) as server:
        config = load_config(write_config(recipes, server.url, ("gfx110X-all",)))
        assert not regenerate(config, http).errors
        devel = f"rocm-sdk-devel/gfx110X-all/{NIGHTS[0]}"

        args = ["recipes", "build", "--recipes", str(recipes), "--channel", str(channel), "--cache", str(cache)]
        capsys.readouterr()
        assert main(args) == 1  # the broken wheel failed; everything else was built
        out, err = capsys.readouterr()
        assert f"failed    {devel}" in out and "_devel.tar" in err
        assert "failed" in read_state(channel)[devel]

        requests = server.wheel_downloads
        assert main(args) == 0  # remembered: reported with its reason, not retried
        out, err = capsys.readouterr()
        assert f"skipped {devel}: {devel}: failed before with the same inputs" in err and "_devel.tar" in err
        assert "--retry-failed" in err and "0 built" in out and "1 skipped" in out
        assert server.wheel_downloads == requests

        assert main([*args, "--retry-failed"]) == 1  # asked to: tried again (from the cache)
        capsys.readouterr()

        # the index republishes a good wheel: the recipe changes and is built
        (www / "v2-staging" / "gfx110X-all" / broken.name).unlink()
        write_simple_index(www / "v2-staging" / "gfx110X-all", [gw.rocm_devel(wheels / "good", NIGHTS[0], family="gfx110X-all")])
        assert regenerate(config, http).updated == [devel]
        report = build(recipes, channel, http, cache_dir=cache)
        assert {i.input: i.detail.status for i in report}[devel] == "built"
        assert "failed" not in read_state(channel)[devel]
        assert json.loads((channel / ".wheel2conda" / "recipes-state.json").read_text())["recipes"][devel]["packages"]


def test_regenerate_hashes_files_the_index_gives_no_hash_for(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A plain listing (no ``#sha256=``): the chosen files are fetched, hashed and pinned; one that
    cannot be fetched is counted as skipped with its reason — never a silent '0 added'."""
    www, wheels, recipes = tmp_path / "www", tmp_path / "wheels", tmp_path / "recipes"
    out = wheels / NIGHTS[0]
    files = [gw.rocm_core(out, NIGHTS[0], family="gfx110X-all"), gw.rocm_libraries(out, "gfx110X-all", NIGHTS[0])]
    write_simple_index(www / "v2-staging" / "gfx110X-all", files, metadata=False, hashes=False)
    with IndexServer(www) as server:
        config = recipes / "sources.yaml"
        recipes.mkdir()
        config.write_text(textwrap.dedent(f"""\
            sources:
              - name: rocm-nightly
                index: {server.url}/v2-staging/gfx110X-all/
                platforms: [linux-64]
                packages: [rocm-sdk-core, rocm-sdk-libraries-gfx110X-all]
            """))
        args = ["recipes", "regenerate", "--config", str(config), "--retries", "0"]
        capsys.readouterr()
        assert main(args) == 0
        text = capsys.readouterr().out
        assert "regenerate: 2 added, 0 updated, 0 removed, 0 unchanged, 0 errors, 2 files hashed here (the index gives no sha256)" in text
        import hashlib

        from bridge.recipes.model import Recipe

        core = Recipe.load(recipes / "rocm-sdk-core" / "gfx110X-all" / NIGHTS[0] / "wheel2conda.yaml")
        assert core.files[0].sha256 == hashlib.sha256(files[0].read_bytes()).hexdigest()
        assert core.files[0].size == files[0].stat().st_size
        downloads = server.wheel_downloads
        assert main(args) == 0  # pinned: the next run reuses the recipe's sha256 without fetching
        assert "2 unchanged, 0 errors\n" in capsys.readouterr().out and server.wheel_downloads == downloads

        # a new night whose wheel cannot be fetched: counted and explained, the other one still pinned
        night2 = [gw.rocm_core(wheels / NIGHTS[1], NIGHTS[1], family="gfx110X-all"), gw.rocm_libraries(wheels / NIGHTS[1], "gfx110X-all", NIGHTS[1])]
        write_simple_index(www / "v2-staging" / "gfx110X-all", night2, metadata=False, hashes=False)
        server.fail(f"/v2-staging/gfx110X-all/{night2[0].name}", 403, times=5)
        assert main(args) == 0
        captured = capsys.readouterr()
        assert "1 added" in captured.out and "1 file skipped (no sha256 and not fetchable)" in captured.out
        assert f"skipped {night2[0].name}: the index gives no sha256 and fetching it to compute one failed (HTTP 403" in captured.err
