"""Loading the YAML data files shipped in ``bridge/data`` (cached, read-only)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load(name: str) -> Any:
    """Parsed content of ``bridge/data/<name>.yaml``."""
    text = resources.files("bridge").joinpath("data").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
