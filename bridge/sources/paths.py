"""Path safety rules shared by every reader: archive member names are untrusted.

The rules live in :mod:`bridge.model.paths` (the bottom layer, so writers use the same ones).
"""

from __future__ import annotations

from ..model.paths import check_link_target, check_package_paths, check_relative_path, contained_join

__all__ = ["check_link_target", "check_package_paths", "check_relative_path", "contained_join"]
