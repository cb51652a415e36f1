"""PyPI distribution names ↔ conda package names, from one data-driven map used both ways.

The map is ``bridge/data/names.yaml`` (format documented there and in ``docs/gpu.md``): section
``common`` always applies, section ``conda-forge`` only in that mode, and a user's overrides
file goes on top.  Everything a dependency on a PyPI name turns into comes from here: the
conda name, specs that travel with it (``cuda-version 12.*``), a version rewrite, and what
its extras pull in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..core.data import load
from .multiarch import device_extra_target, selector_name

NameMode = Literal["pypi", "conda-forge"]
MODES: tuple[NameMode, ...] = ("pypi", "conda-forge")
SECTIONS = ("common", *MODES)

_CONDA_NAME = re.compile(r"^[a-z0-9_][a-z0-9_.-]*$")


class NameMapError(ValueError):
    """A malformed name map entry (the message names the entry)."""


@dataclass(frozen=True)
class CondaName:
    """A conda name plus what must accompany a dependency on it."""

    name: str
    with_specs: tuple[str, ...] = ()
    version: str | None = None  # template for the version of an ``==V`` dependency
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class NameMap:
    """PyPI → conda names (and back) for one conversion run."""

    mode: NameMode = "pypi"
    entries: Mapping[str, CondaName] = field(default_factory=lambda: _section("common"))

    @classmethod
    def create(cls, mode: NameMode = "pypi", overrides: str | Path | None = None) -> NameMap:
        """The built-in map for ``mode`` with a user's YAML overrides on top.

        Raises :class:`NameMapError` for a malformed overrides file (the caller names the file).
        """
        if mode not in MODES:
            raise NameMapError(f"unknown name map mode {mode!r} (choose {' or '.join(MODES)})")
        entries = dict(_section("common"))
        if mode != "pypi":
            entries.update(_section(mode))
        if overrides is not None:
            entries.update(parse_overrides(_read_yaml(Path(overrides)), mode))
        return cls(mode, entries)

    def to_conda(self, pypi_name: str) -> CondaName:
        """The conda name (and companions) for a PyPI name; unmapped names are PEP 503-normalised."""
        key = canonicalize_name(pypi_name)
        return self.entries.get(key) or CondaName(str(key))

    def to_pypi(self, conda_name: str, specs: Iterable[str] = ()) -> str:
        """The PyPI name for a conda name: the first entry whose ``with`` specs are all in ``specs``."""
        have = {" ".join(s.split()) for s in specs}
        for pypi, mapped in self.entries.items():
            if mapped.name == conda_name and all(" ".join(w.split()) in have for w in mapped.with_specs):
                return pypi
        for pypi, mapped in self.entries.items():
            if mapped.name == conda_name:
                return pypi
        return conda_name

    def extra_specs(self, pypi_name: str, extra: str, version: str, build: str | None = None) -> list[str]:
        """MatchSpecs a dependency ``pypi_name[extra] <version>`` pulls in besides the package.

        The default ``<name>-with-<extra>`` package shares the base package's build string, so
        it gets the same ``build`` glob; templates from the map get ``{version}`` only.
        """
        mapped = self.to_conda(pypi_name)
        extra = canonicalize_name(extra)
        if extra in mapped.extras:
            return [" ".join(t.replace("{version}", version).split()) for t in mapped.extras[extra]]
        target = device_extra_target(extra)
        if target is not None:  # multi-arch device extra: the host's selector build for that target
            return [f"{selector_name(mapped.name)} {version or '*'} *{target}*"]
        package = extras_package(mapped.name, extra)
        if build:
            return [f"{package} {version or '*'} {build}"]
        return [f"{package} {version}".strip()]

    def dependency_version(self, pypi_name: str, version_spec: str, pinned: str | None) -> str:
        """Version spec of a dependency after the entry's ``version`` template (if any)."""
        template = self.to_conda(pypi_name).version
        if template is None:
            return version_spec
        if pinned is None:
            return ""
        try:
            release = Version(pinned).release
        except InvalidVersion:
            return ""
        parts = {"major": release[0], "minor": _at(release, 1), "micro": _at(release, 2)}
        return template.format(**parts)


def extras_package(conda_name: str, extra: str) -> str:
    """Name of the metapackage standing for ``conda_name[extra]``."""
    return f"{conda_name}-with-{canonicalize_name(extra)}"


def _at(release: tuple[int, ...], index: int) -> int:
    return release[index] if len(release) > index else 0


def _section(name: str) -> dict[str, CondaName]:
    return parse_entries(load("names").get(name) or {}, f"names.yaml {name}")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NameMapError(f"cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise NameMapError(f"not valid YAML ({' '.join(str(exc).split())})") from None


def parse_overrides(data: Any, mode: NameMode) -> dict[str, CondaName]:
    """Entries of an overrides document: sectioned like names.yaml, or one flat mapping."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise NameMapError("overrides must be a mapping of PyPI name → conda name")
    if "names" in data and len(data) == 1:
        data = data["names"] or {}
    if isinstance(data, Mapping) and any(k in SECTIONS for k in data):
        unknown = sorted(k for k in data if k not in SECTIONS)
        if unknown:
            raise NameMapError(f"unknown section(s) {', '.join(map(str, unknown))} (expected {', '.join(SECTIONS)})")
        result = parse_entries(data.get("common") or {}, "common")
        if mode != "pypi":
            result.update(parse_entries(data.get(mode) or {}, mode))
        else:
            result.update(parse_entries(data.get("pypi") or {}, "pypi"))
        return result
    return parse_entries(data, "overrides")


def parse_entries(raw: Any, where: str) -> dict[str, CondaName]:
    """Validate and normalise one section of entries."""
    if not isinstance(raw, Mapping):
        raise NameMapError(f"{where}: expected a mapping of PyPI name → conda name")
    result: dict[str, CondaName] = {}
    for pypi, value in raw.items():
        key = canonicalize_name(str(pypi))
        result[key] = _entry(value, f"{where}: {pypi}")
    return result


def _entry(value: Any, where: str) -> CondaName:
    if isinstance(value, str):
        return CondaName(_conda_name(value, where))
    if not isinstance(value, Mapping) or "name" not in value:
        raise NameMapError(f"{where}: expected a conda name or a mapping with 'name'")
    unknown = sorted(set(value) - {"name", "with", "version", "extras"})
    if unknown:
        raise NameMapError(f"{where}: unknown key(s) {', '.join(unknown)}")
    extras_raw = value.get("extras") or {}
    if not isinstance(extras_raw, Mapping):
        raise NameMapError(f"{where}: 'extras' must map extra names to lists of MatchSpecs")
    extras = {str(canonicalize_name(str(e))): _spec_list(specs, f"{where} extra {e}") for e, specs in extras_raw.items()}
    version = value.get("version")
    return CondaName(
        _conda_name(str(value["name"]), where),
        _spec_list(value.get("with") or [], f"{where} with"),
        None if version is None else str(version),
        extras,
    )


def _spec_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise NameMapError(f"{where}: expected a list of MatchSpecs")
    return tuple(" ".join(v.split()) for v in value)


def _conda_name(name: str, where: str) -> str:
    if not _CONDA_NAME.match(name) or len(name) > 64:
        raise NameMapError(f"{where}: {name!r} is not a valid conda package name (lower case, [a-z0-9_.-])")
    return name
