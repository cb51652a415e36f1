"""Report where the package and its native payload were installed."""

import platform
from importlib.resources import files


def main() -> int:
    lib = files(__name__) / "lib" / "libhostinfo.so.1"
    print(f"hostinfo on {platform.system()} {platform.machine()}: payload at {lib}")
    return 0
