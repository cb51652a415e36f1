import sys
from pathlib import Path


def main() -> int:
    share = Path(sys.prefix) / "share" / "greet" / "greeting.txt"
    print(share.read_text().strip(), "from", sys.prefix)
    return 0
