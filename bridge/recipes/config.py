"""The sources config (``recipes/sources.yaml``): which indexes, packages, families and versions.

See ``docs/recipes.md`` for the format.  Loading validates every key and refuses unknown ones
with one line naming the entry (``sources[1].packages[2]: unknown key 'metta'``).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..core.errors import BadInput
from ..core.limits import read_small_file
from ..plan.types import ExtrasChoice

Policy = Literal["nightly", "release", "any"]
POLICIES: tuple[str, ...] = ("nightly", "release", "any")
NAME_MODES = ("pypi", "conda-forge")

#: A GPU family as it appears in an index path: gfx103X-dgpu, gfx94X-dcgpu, gfx1151, gfx120X-all.
FAMILY = re.compile(r"^gfx[0-9][0-9a-zA-Z]*(-[a-z]+)?$")
_SAFE_VARIANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass(frozen=True)
class VersionPolicy:
    """Which versions of a package become recipes."""

    policy: Policy = "nightly"  # nightly: X.Y.ZaYYYYMMDD-style builds only; release: no pre/dev; any
    keep: int = 2  # the newest N versions
    match: SpecifierSet | None = None  # optional PEP 440 filter (">=12.8,<13")


@dataclass(frozen=True)
class PackageRule:
    """One ``packages:`` entry: a name, a ``{family}`` template or a glob, and its options."""

    pattern: str
    versions: VersionPolicy
    python: tuple[str, ...] = ()  # only these Pythons for version-specific wheels ("3.12")
    platforms: tuple[str, ...] = ()  # only these conda subdirs (noarch always passes)
    meta_requires: tuple[str, ...] | None = None  # an sdist meta package: its requirements (templates)

    def expand(self, family: str | None) -> str:
        return self.pattern.replace("{family}", family or "")

    @property
    def is_glob(self) -> bool:
        return any(c in self.pattern for c in "*?[")


@dataclass(frozen=True)
class IndexTarget:
    """One concrete index URL of a source, with the family it serves."""

    url: str
    index_family: str | None  # as named by the index (gfx103X-dgpu)
    family: str | None  # canonical, after aliases (gfx103X-all)


@dataclass(frozen=True)
class Source:
    name: str
    index: str  # URL, file:// URL or path; may contain {family}
    packages: tuple[PackageRule, ...]
    families: tuple[str, ...] = ()
    variant: str | None = None  # recipe folder for non-family sources (default: the source name)
    build_number: int = 0
    names: str = "pypi"
    name_overrides: str | None = None  # path relative to the config file
    extras: str | None = None  # ``--extras`` for its recipes (all, none, NAME,...); None: the default

    def targets(self, aliases: dict[str, str]) -> list[IndexTarget]:
        """Concrete indexes: one per family for a ``{family}`` template, else the index itself."""
        if "{family}" in self.index:
            return [IndexTarget(self.index.replace("{family}", f), f, aliases.get(f, f)) for f in self.families]
        found = detect_family(self.index)
        return [IndexTarget(self.index, found, aliases.get(found, found) if found else None)]


@dataclass(frozen=True)
class SourcesConfig:
    path: Path
    sources: tuple[Source, ...]
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """Where recipes go: the config's folder."""
        return self.path.parent


def detect_family(index: str) -> str | None:
    """The GPU family named by the last path segment of an index (``…/v2-staging/gfx103X-dgpu/``)."""
    path = urllib.parse.urlsplit(index).path if "://" in index else index.replace("\\", "/")
    segments = [s for s in path.split("/") if s]
    return segments[-1] if segments and FAMILY.match(segments[-1]) else None


def load_config(path: str | Path) -> SourcesConfig:
    path = Path(path)
    try:
        if not path.exists():
            raise FileNotFoundError(path)
        raw = yaml.safe_load(read_small_file(path, "sources config").decode("utf-8"))
    except FileNotFoundError:
        raise BadInput(path, "sources config not found", hint="create recipes/sources.yaml (see docs/recipes.md)") from None
    except UnicodeDecodeError as exc:
        raise BadInput(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})", hint="save the file as UTF-8") from None
    except yaml.YAMLError as exc:
        raise BadInput(path, f"not valid YAML ({' '.join(str(exc).split())})", hint="fix the YAML syntax at the position shown") from None
    return parse_config(raw, path)


def parse_config(raw: Any, path: Path) -> SourcesConfig:
    where = _Where(path)
    data = where.mapping(raw, "", {"families", "defaults", "sources"})
    families = where.mapping(data.get("families") or {}, "families", {"aliases"})
    aliases = {str(k): str(v) for k, v in where.mapping(families.get("aliases") or {}, "families.aliases", None).items()}
    defaults = where.mapping(data.get("defaults") or {}, "defaults", {"versions", "python", "platforms", "build_number", "names", "name_overrides", "extras"})
    base_rule = PackageRule("", _versions(where, defaults.get("versions"), "defaults.versions", VersionPolicy()), _strings(where, defaults.get("python"), "defaults.python"), _strings(where, defaults.get("platforms"), "defaults.platforms"))
    sources: list[Source] = []
    seen: set[str] = set()
    for i, entry in enumerate(where.sequence(data.get("sources"), "sources")):
        at = f"sources[{i}]"
        src = where.mapping(entry, at, {"name", "index", "families", "variant", "packages", "versions", "python", "platforms", "build_number", "names", "name_overrides", "extras"})
        name = where.required_str(src, "name", at)
        if src.get("variant") is None and not _SAFE_VARIANT.match(name):
            raise where.error(at, f"source name {name!r} names the recipes' variant folder: it must be a simple folder name")
        if name in seen:
            raise where.error(at, f"duplicate source name {name!r}")
        seen.add(name)
        index = where.required_str(src, "index", at)
        if "://" not in index:  # a local folder: relative to the config file
            index = os.path.normpath(path.parent / index)
        fams = _strings(where, src.get("families"), f"{at}.families")
        if "{family}" in index and not fams:
            raise where.error(at, "index has {family} but no families are listed")
        rule = replace(
            base_rule,
            versions=_versions(where, src.get("versions"), f"{at}.versions", base_rule.versions),
            python=_strings(where, src.get("python"), f"{at}.python") or base_rule.python,
            platforms=_strings(where, src.get("platforms"), f"{at}.platforms") or base_rule.platforms,
        )
        rules = tuple(_package(where, p, f"{at}.packages[{j}]", rule) for j, p in enumerate(where.sequence(src.get("packages"), f"{at}.packages")))
        if not rules:
            raise where.error(at, "lists no packages")
        variant = src.get("variant")
        if variant is not None and not _SAFE_VARIANT.match(str(variant)):
            raise where.error(at, f"variant {variant!r} must be a simple folder name")
        names = str(src.get("names", defaults.get("names", "pypi")))
        if names not in NAME_MODES:
            raise where.error(at, f"names must be one of {', '.join(NAME_MODES)}, not {names!r}")
        build_number = src.get("build_number", defaults.get("build_number", 0))
        if not isinstance(build_number, int) or build_number < 0:
            raise where.error(at, "build_number must be a non-negative integer")
        overrides = src.get("name_overrides", defaults.get("name_overrides"))
        extras = src.get("extras", defaults.get("extras"))
        if extras is not None:
            extras = ",".join(map(str, extras)) if isinstance(extras, list) else str(extras)
            try:
                ExtrasChoice.parse(extras)
            except ValueError as exc:
                raise where.error(at, f"extras: {exc}") from None
        sources.append(
            Source(
                name=name,
                index=index,
                packages=rules,
                families=fams,
                variant=str(variant) if variant is not None else None,
                build_number=build_number,
                names=names,
                name_overrides=str(overrides) if overrides else None,
                extras=extras,
            )
        )
    if not sources:
        raise where.error("sources", "no sources configured")
    return SourcesConfig(path, tuple(sources), aliases)


_SAFE_PATTERN = re.compile(r"^[A-Za-z0-9*?\[{][A-Za-z0-9_.+*?\[\]{}-]*$")  # a project name, {family} template or glob


def _package(where: _Where, raw: Any, at: str, base: PackageRule) -> PackageRule:
    if isinstance(raw, str):
        if not _SAFE_PATTERN.match(raw):
            raise where.error(at, f"{raw!r} is not a project name, {{family}} template or glob")
        return replace(base, pattern=raw)
    entry = where.mapping(raw, at, {"name", "versions", "python", "platforms", "meta"})
    rule = replace(
        base,
        pattern=where.required_str(entry, "name", at),
        versions=_versions(where, entry.get("versions"), f"{at}.versions", base.versions),
        python=_strings(where, entry.get("python"), f"{at}.python") or base.python,
        platforms=_strings(where, entry.get("platforms"), f"{at}.platforms") or base.platforms,
    )
    if "meta" in entry:
        meta = where.mapping(entry["meta"], f"{at}.meta", {"requires"})
        rule = replace(rule, meta_requires=_strings(where, meta.get("requires"), f"{at}.meta.requires"))
    return rule


def _versions(where: _Where, raw: Any, at: str, base: VersionPolicy) -> VersionPolicy:
    if raw is None:
        return base
    data = where.mapping(raw, at, {"policy", "keep", "match"})
    policy = data.get("policy", base.policy)
    if policy not in POLICIES:
        raise where.error(at, f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    keep = data.get("keep", base.keep)
    if not isinstance(keep, int) or keep < 1:
        raise where.error(at, "keep must be a positive integer")
    match = base.match
    if "match" in data:
        try:
            match = SpecifierSet(str(data["match"])) if data["match"] else None
        except InvalidSpecifier:
            raise where.error(at, f"match {data['match']!r} is not a PEP 440 specifier set") from None
    return VersionPolicy(policy, keep, match)


def _strings(where: _Where, raw: Any, at: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, (str, int, float)):
        raw = [raw]
    return tuple(str(x) for x in where.sequence(raw, at))


@dataclass(frozen=True)
class _Where:
    path: Path

    def error(self, at: str, reason: str) -> BadInput:
        return BadInput(self.path, f"{at}: {reason}" if at else reason)

    def mapping(self, raw: Any, at: str, allowed: set[str] | None) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.error(at, "expected a mapping")
        if allowed is not None:
            unknown = sorted(set(map(str, raw)) - allowed)
            if unknown:
                raise self.error(at, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
        return raw

    def sequence(self, raw: Any, at: str) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.error(at, "expected a list")
        return raw

    def required_str(self, data: dict[str, Any], key: str, at: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise self.error(at, f"{key} is required (a string)")
        return value
