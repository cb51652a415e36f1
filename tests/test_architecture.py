"""The house keeps its shape: ``scripts/imports.py`` finds no import cycle and at most 10 floors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_import_cycles_and_at_most_ten_floors() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "imports.py"), "--max-floors", "10"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cycle" not in result.stdout


def test_imports_script_fails_on_too_many_floors() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "imports.py"), "--max-floors", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "more than --max-floors 1" in result.stdout


def test_writers_read_the_plan_but_import_no_planner() -> None:
    """``bridge/sinks`` imports only the plan's data (``plan/types.py``), never a planner module."""
    import ast

    offending = []
    for path in sorted((ROOT / "bridge" / "sinks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and (node.module or "").split(".")[0] == "plan":
                if node.module != "plan.types":
                    offending.append(f"{path.name}: from ..{node.module}")
    assert not offending, offending


def test_only_the_conda_model_reads_the_raw_provenance_record() -> None:
    """``about.json`` ``extra.wheel2conda`` is parsed once, into ``model.conda.ProvenanceRecord``.

    Everything else reads the typed record (``AboutJson.provenance``, ``CondaPackage.provenance``,
    ``WheelPlan.provenance``), never the raw document's keys (issue 16, item 1).
    """
    import re

    raw_access = re.compile(r"""\[\s*["']wheel2conda["']\s*\]|\.get\(\s*["']wheel2conda["']""")
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "bridge").rglob("*.py")
        if raw_access.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["bridge/model/conda.py"]
