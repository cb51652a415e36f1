"""Run the benchmarks: every ``bench/bench_<name>.py`` module's ``main()``, or only the names given.

Usage: ``python -m bench`` (all) or ``python -m bench convert index``.  Each module reads its own
settings from the environment (see its docstring) and prints its own report.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    available = discover()
    chosen = argv or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        print(f"bench: unknown benchmark {', '.join(unknown)} (available: {', '.join(available)})", file=sys.stderr)
        return 2
    status = 0
    for name in chosen:
        print(f"== bench_{name}", flush=True)
        result = importlib.import_module(f"bench.bench_{name}").main()
        status = max(status, result or 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
