"""GPU and backend variants carried by local version labels.  Pure functions.

``+cu124`` → build part ``cu124``; other labels are kept whole (sanitised).  The full label is
always recorded in ``about.json`` so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from .buildstring import sanitize


@dataclass(frozen=True)
class Variant:
    label: str | None  # the original local label
    build_parts: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()


def variant_for(local: str | None) -> Variant:
    """The variant a local version label stands for."""
    if not local:
        return Variant(None)
    return Variant(local, (sanitize(local),))


def build_glob_for_local(local: str) -> str | None:
    """Build-string glob that selects the variant a ``==V+local`` pin asks for."""
    parts = variant_for(local).build_parts
    return f"*{'_'.join(parts)}*" if parts else None
