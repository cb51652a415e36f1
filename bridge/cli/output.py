"""How commands report: human lines, or one JSON document with ``--json``.

JSON documents share one envelope (documented in ``docs/json.md``, JSON Schemas in
``bridge/data/schemas/<command>.schema.json``)::

    {"command": "convert", "schema_version": 1, "ok": true, "exit_code": 0,
     "items": [...],            # one object per thing processed (command-specific schema)
     "errors": [{"path": "...", "reason": "...", "hint": "...", "kind": "BadInput"}],
     "warnings": ["..."],
     ...}                       # command-specific extras (summary, published, verified, dry_run)

Human output goes to stdout; warnings and errors go to stderr as
``wheel2conda: warning: …`` / ``wheel2conda: error: <file>: <reason>; <hint>``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..core.errors import EXIT_OK, EXIT_PARTIAL, BridgeError

#: Raised only when a document changes incompatibly (a field removed, renamed or retyped).
SCHEMA_VERSION = 1
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "schemas"


def schema_file(command: str) -> Path:
    """The JSON Schema of ``command``'s document (``"channel list"`` → ``channel-list.schema.json``)."""
    return SCHEMA_DIR / f"{command.replace(' ', '-')}.schema.json"


class Output:
    def __init__(self, command: str, *, quiet: bool = False, verbose: bool = False, json: bool = False):
        self.command = command
        self.quiet = quiet
        self.verbose = verbose
        self.json = json
        self.items: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.extra: dict[str, Any] = {}

    # -- text -------------------------------------------------------------------------
    def info(self, text: str) -> None:
        """A normal progress/result line (suppressed by -q and --json)."""
        if not self.quiet and not self.json:
            print(text, flush=True)

    def detail(self, text: str) -> None:
        """Only with -v."""
        if self.verbose and not self.quiet and not self.json:
            print(text, flush=True)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        if not self.json and not self.quiet:
            print(f"wheel2conda: warning: {text}", file=sys.stderr, flush=True)

    def fail(self, error: BridgeError) -> None:
        """Record a failed item; always printed (stderr), also in JSON."""
        self.errors.append(
            {"path": error.path, "reason": error.reason, "hint": error.hint, "kind": type(error).__name__}
        )
        if not self.json:
            print(f"wheel2conda: error: {error.one_line()}", file=sys.stderr, flush=True)

    # -- structured -------------------------------------------------------------------
    def item(self, data: dict[str, Any], key: str | None = None) -> None:
        """One processed thing, for the JSON document: in ``items``, or in the list ``key``.

        ``key`` keeps one shape per list where a command also does another command's work
        (``convert --channel`` → ``published``, ``--verify`` → ``verified``).
        """
        if key is None:
            self.items.append(data)
        else:
            self.extra.setdefault(key, []).append(data)

    def finish(self, exit_code: int) -> None:
        if self.json:
            doc = {
                "command": self.command,
                "schema_version": SCHEMA_VERSION,
                "ok": exit_code == 0,
                "exit_code": exit_code,
                "items": self.items,
                "errors": self.errors,
                "warnings": self.warnings,
                **self.extra,
            }
            json.dump(doc, sys.stdout, indent=2, sort_keys=False, default=str)
            sys.stdout.write("\n")
            sys.stdout.flush()


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def exit_code_for(errors: list[BridgeError | None]) -> int:
    """0 all ok; the errors' own code when every item failed; 1 when only some did."""
    failed = [e for e in errors if e is not None]
    if not failed:
        return EXIT_OK
    if len(failed) == len(errors):
        return max(e.exit_code for e in failed)
    return EXIT_PARTIAL
