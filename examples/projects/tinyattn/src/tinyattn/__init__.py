"""Report which backend build of tinyattn the solver installed."""

import importlib.metadata


def main() -> int:
    version = importlib.metadata.version("tinyattn")
    print(f"tinyattn {version}: the {version.partition('+')[2]} build")
    return 0
