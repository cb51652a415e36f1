"""Run the CLI in-process with ``--json`` and validate its document against the shipped JSON Schemas."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from bridge.cli import main
from bridge.cli.output import SCHEMA_DIR, schema_file


@cache
def registry() -> Registry:
    """Every schema file under its file name, so relative ``$ref``s resolve as they do on disk."""
    return Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text()))) for path in sorted(SCHEMA_DIR.glob("*.schema.json"))
    )


def validate(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``doc`` follows its command's schema."""
    schema = json.loads(schema_file(doc["command"]).read_text())
    Draft202012Validator(schema, registry=registry()).validate(doc)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """``wheel2conda <argv> --json``: exit code and the validated document (stdout holds only it)."""
    capsys.readouterr()
    try:
        code = main([*argv, "--json"])
    except SystemExit as exc:  # usage errors exit as argparse does, after printing the document
        code = int(exc.code or 0)
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert doc["exit_code"] == code and doc["ok"] == (code == 0)
    return code, doc
