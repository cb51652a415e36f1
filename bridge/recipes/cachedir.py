"""Where ``recipes build`` keeps downloads by default (light to import: the CLI's help shows it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def default_cache_dir() -> Path:
    """``$WHEEL2CONDA_CACHE``, else the platform's user cache folder."""
    if os.environ.get("WHEEL2CONDA_CACHE"):
        return Path(os.environ["WHEEL2CONDA_CACHE"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "wheel2conda" / "downloads"
