"""End to end: a nightly index of ROCm-like wheels (two families, three nights) served on
127.0.0.1 → regenerate → build → publish → py-rattler installs the newest; then the index
disappears in the middle of a build, and the run resumes when it is back."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.core.fsutil import TEMP_MARK
from bridge.recipes.build import build
from bridge.recipes.config import load_config
from bridge.recipes.http import Http
from bridge.recipes.model import Recipe
from bridge.recipes.regenerate import regenerate
from tests.support.conda_env import install, run_in_prefix
from tests.support.index_server import IndexServer, build_sdist, write_simple_index
from tests.support.wheels import build_wheel

FAMILIES = {"gfx103X-dgpu": "gfx103X-all", "gfx110X-all": "gfx110X-all"}  # index name → canonical
NIGHTS = ["7.11.0a20260104", "7.11.0a20260105", "7.11.0a20260106"]
TAG = "py3-none-linux_x86_64"


def publish_night(www: Path, wheels: Path, version: str) -> None:
    """Upload one night's files into both family indexes (rocm-sdk-core is the same file in both)."""
    core = build_wheel(
        wheels, "rocm-sdk-core", version, tag=TAG,
        files={"rocm_sdk_core/__init__.py": f"VERSION = {version!r}\n", "_rocm_sdk_core/lib/libamdhip64.so.7": b"\x7fELF core " + version.encode()},
    )
    rocm = build_sdist(wheels, "rocm", version)
    for family in FAMILIES:
        libs = build_wheel(
            wheels, f"rocm-sdk-libraries-{family}", version, tag=TAG,
            files={f"_rocm_sdk_libraries_{family.replace('-', '_')}/__init__.py": f"FAMILY = {family!r}\nVERSION = {version!r}\n"},
            requires_dist=[f"rocm-sdk-core=={version}"],
        )
        write_simple_index(www / "v2-staging" / family, [core, libs, rocm])


def write_config(recipes: Path, url: str) -> Path:
    recipes.mkdir(parents=True, exist_ok=True)
    path = recipes / "sources.yaml"
    path.write_text(textwrap.dedent(f"""\
        families:
          aliases: {{gfx103X-dgpu: gfx103X-all}}
        sources:
          - name: rocm-nightly
            index: {url}/v2-staging/{{family}}/
            families: [gfx103X-dgpu, gfx110X-all]
            platforms: [linux-64]
            versions: {{policy: nightly, keep: 2}}
            packages:
              - rocm-sdk-core
              - rocm-sdk-libraries-{{family}}
              - name: rocm
                meta:
                  requires: ["rocm-sdk-core=={{version}}", "rocm-sdk-libraries-{{family}}=={{version}}"]
        """))
    return path


def ids(version: str) -> list[str]:
    return sorted(
        [f"rocm-sdk-core/{c}/{version}" for c in sorted(set(FAMILIES.values()))]
        + [f"rocm-sdk-libraries-{f.lower()}/{c}/{version}" for f, c in FAMILIES.items()]
        + [f"rocm/{c}/{version}" for c in sorted(set(FAMILIES.values()))]
    )


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def packages(channel: Path) -> dict[str, int]:
    """Channel package files → mtime_ns."""
    return {p.relative_to(channel).as_posix(): p.stat().st_mtime_ns for p in channel.glob("*/*.conda")}


def installed_version(prefix: Path, family: str) -> str:
    module = f"_rocm_sdk_libraries_{family.replace('-', '_')}"
    proc = run_in_prefix(prefix, "python", "-c", f"import {module} as m, rocm_sdk_core as c; print(m.FAMILY, m.VERSION, c.VERSION)")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def assert_channel_intact(channel: Path) -> None:
    for repodata in channel.glob("*/repodata.json"):
        data = json.loads(repodata.read_text())
        for name in data["packages.conda"]:
            assert (repodata.parent / name).is_file(), name
    leftovers = [p for p in channel.rglob("*") if TEMP_MARK in p.name or p.name.startswith(".w2c-stage-")]
    assert not leftovers


@pytest.mark.e2e
def test_nightly_regenerate_build_publish(tmp_path: Path, base_channel: Path, prefix_factory, capsys) -> None:
    www, wheels, recipes, channel, cache = (tmp_path / n for n in ("www", "wheels", "recipes", "channel", "cache"))
    http = Http(timeout=5, retries=1, backoff=0, sleep=lambda _s: None)
    publish_night(www, wheels, NIGHTS[0])
    server = IndexServer(www).start()
    try:
        config = load_config(write_config(recipes, server.url))

        # night 1: every recipe is new; a second scan changes nothing, byte for byte
        night1 = regenerate(config, http)
        assert not night1.errors
        assert night1.added == ids(NIGHTS[0])
        first = tree(recipes)
        again = regenerate(config, http)
        assert not again.changed and again.unchanged == ids(NIGHTS[0])
        assert tree(recipes) == first
        libs = Recipe.load(recipes / "rocm-sdk-libraries-gfx103x-dgpu" / "gfx103X-all" / NIGHTS[0] / "wheel2conda.yaml")
        assert libs.gpu_family == "gfx103X-all" and libs.index_family == "gfx103X-dgpu"
        assert libs.metadata and libs.metadata["requires_dist"] == [f"rocm-sdk-core=={NIGHTS[0]}"]  # PEP 658
        meta = Recipe.load(recipes / "rocm" / "gfx110X-all" / NIGHTS[0] / "wheel2conda.yaml")
        assert meta.kind == "meta" and meta.files[0].name == f"rocm-{NIGHTS[0]}.tar.gz"
        assert meta.meta_requires == (f"rocm-sdk-core=={NIGHTS[0]}", f"rocm-sdk-libraries-gfx110x-all=={NIGHTS[0]}")

        built1 = build(recipes, channel, http, cache_dir=cache)
        status1 = {i.input: i.detail.status for i in built1}
        assert all(status1[i] == "built" for i in ids(NIGHTS[0])), status1  # wheels and the rocm sdist's meta packages
        prefix = prefix_factory()
        records = install([channel, base_channel], ["python", "rocm[build=*gfx103X*]"], prefix)  # the family's meta package pulls the rest
        assert "rocm-sdk-libraries-gfx103x-dgpu" in {r.name.normalized for r in records}
        assert installed_version(prefix, "gfx103X-dgpu") == f"gfx103X-dgpu {NIGHTS[0]} {NIGHTS[0]}"
        assert not [i for i in build(recipes, channel, http, cache_dir=cache) if i.detail.status == "built"]  # safe to re-run

        # night 2: one new version; only its recipes change and only they are built
        before = packages(channel)
        publish_night(www, wheels, NIGHTS[1])
        night2 = regenerate(config, http)
        assert (night2.added, night2.updated, night2.removed, night2.errors) == (ids(NIGHTS[1]), [], [], [])
        assert {k: v for k, v in tree(recipes).items() if NIGHTS[0] in k} == {k: v for k, v in first.items() if NIGHTS[0] in k}
        built2 = build(recipes, channel, http, cache_dir=cache)
        rebuilt = sorted(i.input for i in built2 if i.detail.status == "built")
        assert rebuilt == ids(NIGHTS[1])
        after = packages(channel)
        assert {k: after[k] for k in before} == before  # night-1 packages untouched
        assert all(NIGHTS[1] in k for k in set(after) - set(before)) and set(after) > set(before)
        prefix = prefix_factory()
        install([channel, base_channel], ["python", "rocm-sdk-libraries-gfx110x-all"], prefix)
        assert installed_version(prefix, "gfx110X-all") == f"gfx110X-all {NIGHTS[1]} {NIGHTS[1]}"

        # night 3: keep 2 drops the oldest recipes; then the index disappears mid-build
        publish_night(www, wheels, NIGHTS[2])
        night3 = regenerate(config, http)
        assert night3.added == ids(NIGHTS[2]) and night3.removed == ids(NIGHTS[0])
        server.stop_after = server.wheel_downloads + 1  # one more wheel, then the server is gone
        capsys.readouterr()
        code = main(["recipes", "build", "--recipes", str(recipes), "--channel", str(channel), "--cache", str(cache), "--retries", "0", "--timeout", "5"])
        err = capsys.readouterr().err
        assert code == 1
        assert "unreachable" in err or "interrupted" in err, err
        assert "rocm_sdk_libraries_gfx110x_all-7.11.0a20260106-py3-none-linux_x86_64.whl" in err
        assert_channel_intact(channel)
        prefix = prefix_factory()  # what was published before still installs
        install([channel, base_channel], ["python", f"rocm-sdk-libraries-gfx110x-all =={NIGHTS[1]}"], prefix)
        assert installed_version(prefix, "gfx110X-all") == f"gfx110X-all {NIGHTS[1]} {NIGHTS[1]}"

        # with the index gone, regenerate fails clearly and keeps every recipe
        kept = tree(recipes)
        assert main(["recipes", "regenerate", "--config", str(config.path), "--retries", "0", "--timeout", "5"]) == 1
        err = capsys.readouterr().err
        assert f"{server.url}/v2-staging/gfx103X-dgpu/" in err and "unreachable" in err
        assert tree(recipes) == kept

        # the index is back: the next run builds only what is missing
        server = IndexServer(www, port=server.port).start()
        resumed = build(recipes, channel, http, cache_dir=cache)
        assert not [i for i in resumed if i.detail.status == "failed"]
        done = sorted(i.input for i in resumed if i.detail.status == "built")
        assert done and all(NIGHTS[2] in i for i in done) and len(done) < len(ids(NIGHTS[2]))
        assert_channel_intact(channel)
        prefix = prefix_factory()
        install([channel, base_channel], ["python", "rocm[build=*gfx110X*]"], prefix)
        assert installed_version(prefix, "gfx110X-all") == f"gfx110X-all {NIGHTS[2]} {NIGHTS[2]}"
    finally:
        server.stop()
