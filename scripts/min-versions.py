"""Check that the dependency floors in pyproject.toml are true.

Creates ``.work/min-venv`` with every runtime dependency pinned to the lower bound it declares
(``name>=X`` becomes ``name==X``; with an upper bound only, the newest allowed), installs this
project into it without dependencies, and runs the conversion, to-wheel, channel and streaming
tests there.  Run by ``make test`` (so by CI); needs PyPI for the first set-up only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".work" / "min-venv"
TESTS = ["tests/test_convert.py", "tests/test_towheel.py", "tests/test_channel.py", "tests/test_streaming.py"]


def floors(pyproject: Path) -> list[str]:
    """``name==floor`` for each runtime dependency with a ``>=`` bound."""
    pins = []
    for requirement in tomllib.loads(pyproject.read_text())["project"]["dependencies"]:
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([^,;\s]+)", requirement)
        if not match:
            raise SystemExit(f"min-versions: {requirement!r} declares no lower bound")
        pins.append(f"{match[1]}=={match[2]}")
    return pins


def main() -> int:
    pyproject = ROOT / "pyproject.toml"
    pins = floors(pyproject)
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != "\n".join(pins):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *pins, "pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6.100", "jsonschema>=4.20"], check=True)
        subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
        stamp.write_text("\n".join(pins))
    print("min-versions:", " ".join(pins), flush=True)
    return subprocess.run([str(python), "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", *TESTS], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
