"""`make demo` end to end (pip-built wheels → convert → channel → py-rattler → run), twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.e2e
def test_demo_runs_and_runs_again(tmp_path: Path) -> None:
    env = {**os.environ, "WHEEL2CONDA_DEMO_WORK": str(tmp_path / "work"), "WHEEL2CONDA_DEMO_CHANNEL": str(tmp_path / "channel")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for run in ("first", "second"):  # the second run republishes identical packages: a no-op
        done = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py")], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{run} run:\n{done.stdout}\n{done.stderr}"
        assert "demo OK" in done.stdout
        assert "tinyattn 0.4.0+cpu: the cpu build" in done.stdout
        assert "tinyattn 0.4.0+cu124: the cu124 build" in done.stdout
    assert "unchanged noarch/greet-1.2.0-py_0.conda" in done.stdout
