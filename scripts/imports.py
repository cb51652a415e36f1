"""Import graph of ``bridge``: rooms, floors and cycles.

A *room* is a top-level module or sub-package of ``bridge`` (``bridge/channel/`` is one room).
Every ``import``/``from … import`` counts, including those inside functions and under
``TYPE_CHECKING``: a cycle hidden there is still a cycle for a reader.  Prints the rooms by
floor (floor 0 imports no other room; a room's floor is one above the highest it imports) and
any cycles, between rooms and between modules.  Exit status 1 when there is a cycle, or when
the rooms stand on more than ``--max-floors`` floors (``make lint`` passes 10).

    python scripts/imports.py [--modules] [--max-floors N]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bridge"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """Modules of ``bridge`` that ``path`` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("bridge"):
                found.add(target)
    return found


def room_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm; components of more than one node (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def build() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    module_graph = {module_name(p): imported_modules(p, modules) for p in paths}
    room_graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in module_graph.items():
        room_graph[room_of(module)]
        for target in targets:
            # a package's __init__ re-exporting its own modules is not an arrow between rooms
            if room_of(target) != room_of(module) and room_of(target) != "bridge":
                room_graph[room_of(module)].add(room_of(target))
    return module_graph, dict(room_graph)


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    memo: dict[str, int] = {}

    def floor(node: str, seen: frozenset[str]) -> int:
        if node in memo:
            return memo[node]
        below = [floor(t, seen | {node}) for t in graph.get(node, ()) if t not in seen]
        memo[node] = 1 + max(below) if below else 0
        return memo[node]

    for node in graph:
        floor(node, frozenset())
    return memo


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Rooms, floors and cycles of bridge's import graph.")
    parser.add_argument("--modules", action="store_true", help="also list every module's imports")
    parser.add_argument("--max-floors", type=int, default=None, help="fail when the rooms stand on more floors")
    args = parser.parse_args(argv)
    module_graph, room_graph = build()
    room_floors = floors(room_graph)
    arrows = sum(len(t) for t in room_graph.values())
    print(f"{len(room_graph)} rooms on {max(room_floors.values()) + 1} floors, {arrows} import arrows between rooms")
    for level in range(max(room_floors.values()) + 1):
        rooms = sorted(r.removeprefix("bridge.") for r, f in room_floors.items() if f == level)
        print(f"  floor {level:2}: {' '.join(rooms)}")
    room_cycles = strongly_connected(room_graph)
    module_cycles = strongly_connected(module_graph)
    for kind, cycles in (("rooms", room_cycles), ("modules", module_cycles)):
        for cycle in cycles:
            print(f"cycle between {kind}: {' <-> '.join(c.removeprefix('bridge.') for c in cycle)}")
    if args.modules:
        for module, targets in sorted(module_graph.items()):
            print(module, "->", " ".join(sorted(targets)))
    floor_count = max(room_floors.values()) + 1
    too_high = args.max_floors is not None and floor_count > args.max_floors
    if too_high:
        print(f"{floor_count} floors: more than --max-floors {args.max_floors}")
    return 1 if room_cycles or module_cycles or too_high else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
