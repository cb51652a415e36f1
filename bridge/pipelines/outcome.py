"""What every converting command gets back: one :class:`Outcome` per input.

``convert``, ``to-wheel``, ``repack`` and ``recipes build`` return the same type: the input (a
file, or a name: an installed distribution, a recipe id), the files written, the error (captured,
never raised: on error nothing of that input remains), warnings for the user and the seconds it
took.  What only one command knows is its typed ``detail``: ``pipelines.convert.ConvertDetail``,
``pipelines.to_wheel.WheelDetail``, ``pipelines.repack.RepackDetail``, ``recipes.build.BuildDetail``.
``cli.report.Reporter`` prints them all (human lines, ``--json`` items, the exit status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from ..core.errors import BridgeError

D = TypeVar("D")


@dataclass
class Outcome(Generic[D]):
    """The result of one input of a command; ``detail`` holds what only that command reports."""

    input: Path | str  # a file converted, or a name (repack's distribution, a recipe id)
    detail: D
    outputs: list[Path] = field(default_factory=list)  # what was written (recipes build: its packages in the channel)
    error: BridgeError | None = None
    warnings: list[str] = field(default_factory=list)  # for the user, about this input (convert: per package, in its detail)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        """How reports name the input: a file by its name, a name as given."""
        return self.input.name if isinstance(self.input, Path) else self.input
