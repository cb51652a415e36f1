"""PyPI distribution names ↔ conda package names, from one data-driven map used both ways."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.utils import canonicalize_name

from ..data import load

NameMode = Literal["pypi", "conda-forge"]


@dataclass(frozen=True)
class CondaName:
    """A conda name plus specs that must accompany any dependency on it."""

    name: str
    with_specs: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameMap:
    """PyPI → conda names (and back) for one conversion run."""

    mode: NameMode = "pypi"
    entries: Mapping[str, CondaName] = field(default_factory=dict)

    @classmethod
    def create(cls, mode: NameMode = "pypi", overrides: str | Path | None = None) -> "NameMap":
        """The built-in map for ``mode`` with a user's YAML overrides (same format) on top."""
        entries: dict[str, CondaName] = {}
        if mode == "conda-forge":
            entries.update(_parse(load("names").get("conda-forge") or {}))
        if overrides is not None:
            data = yaml.safe_load(Path(overrides).read_text(encoding="utf-8")) or {}
            entries.update(_parse(data.get("names", data) if isinstance(data, dict) else {}))
        return cls(mode, entries)

    def to_conda(self, pypi_name: str) -> CondaName:
        key = canonicalize_name(pypi_name)
        return self.entries.get(key) or CondaName(str(key))

    def to_pypi(self, conda_name: str) -> str:
        for pypi, mapped in self.entries.items():
            if mapped.name == conda_name:
                return pypi
        return conda_name


def _parse(raw: Mapping[str, Any]) -> dict[str, CondaName]:
    result: dict[str, CondaName] = {}
    for pypi, value in raw.items():
        if isinstance(value, str):
            result[canonicalize_name(pypi)] = CondaName(value)
        else:
            result[canonicalize_name(pypi)] = CondaName(str(value["name"]), tuple(value.get("with", ())))
    return result
