"""The one reporter of ``convert``, ``to-wheel``, ``repack`` and ``recipes build``.

Their pipelines return one :class:`bridge.pipelines.outcome.Outcome` per input.  A command gives
a *render* function for its detail: the human lines of one outcome (through :class:`Output`, which
handles ``-q``, ``-v`` and ``--json``) and the JSON items it adds to the document.  Everything else
is here: the loop over the outcomes, the error line of an input that failed (stderr, and the
document's ``errors``) and the exit status (:func:`bridge.cli.output.exit_code_for`: 0 when every
input went through, the errors' own code when all failed, 1 when some did).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .output import Output, exit_code_for

if TYPE_CHECKING:  # the pipelines load when a command runs, not for --help (start-up: issue 15)
    from ..core.errors import BridgeError
    from ..pipelines.outcome import Outcome

D = TypeVar("D")

#: The human lines of one outcome (printed through ``out``) and its JSON items.  Called for every
#: outcome, failed ones too (before their error line): a render says what it prints of those.
Render = Callable[[Output, "Outcome[D]"], Iterable[dict[str, Any]]]


def failed(outcome: Outcome[Any]) -> BridgeError | None:
    """The error that fails an input: by default, its error."""
    return outcome.error


class Reporter(Generic[D]):
    """Reports outcomes one at a time, as they finish, then gives the command's exit status.

    ``failure`` picks the error that counts as a failure (an error line, and the exit status);
    by default an outcome's error.  ``recipes build`` reports a recipe skipped for failing
    before without failing it again.
    """

    def __init__(self, out: Output, render: Render[D], *, failure: Callable[[Outcome[D]], BridgeError | None] = failed):
        self.out = out
        self.render = render
        self.failure = failure
        self.outcomes: list[Outcome[D]] = []

    def __call__(self, outcome: Outcome[D]) -> None:
        self.outcomes.append(outcome)
        items = list(self.render(self.out, outcome))
        error = self.failure(outcome)
        if error is not None:
            self.out.fail(error)
        for item in items:
            self.out.item(item)

    def exit_code(self) -> int:
        return exit_code_for([self.failure(o) for o in self.outcomes])


def report(out: Output, outcomes: Iterable[Outcome[D]], render: Render[D], *, failure: Callable[[Outcome[D]], BridgeError | None] = failed) -> int:
    """Report every outcome in order; the exit status."""
    reporter = Reporter(out, render, failure=failure)
    for outcome in outcomes:
        reporter(outcome)
    return reporter.exit_code()
