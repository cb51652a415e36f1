"""Record conda's plugin API from its source, for ``tests/data/conda_plugin_api.json``.

    python scripts/conda_plugin_api.py SRC_CONDA COMMIT > tests/data/conda_plugin_api.json

``SRC_CONDA`` is an exported tree of github.com/conda/conda (see
``/work/shared/docs/real-clients.md``; ``fetch github:conda/conda`` gives the repository).  The
source is read with :mod:`ast`, never imported: what ``conda.plugins`` exports (``__all__``),
every class of ``conda.plugins.types`` with the keyword arguments it takes (its own
``__init__``, else its dataclass fields, inherited ones included), and the hook names
(``CondaSpecs`` methods marked ``@_hookspec`` in ``conda/plugins/hookspec.py``).
``tests/test_conda_plugin.py`` holds ``bridge/conda_plugin.py`` to these names.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path


def exported(init: Path) -> list[str]:
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return sorted(ast.literal_eval(node.value))
    raise SystemExit(f"{init}: no __all__")


def _decorator_names(node: ast.FunctionDef | ast.ClassDef) -> set[str]:
    names = set()
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def types_and_arguments(types_py: Path) -> dict[str, list[str] | None]:
    """Each class of the module: the keyword arguments its constructor takes (None: not a dataclass, no ``__init__``)."""
    classes = {n.name: n for n in ast.parse(types_py.read_text()).body if isinstance(n, ast.ClassDef)}

    def arguments(name: str) -> list[str] | None:
        node = classes[name]
        inits = [f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__" and "overload" not in _decorator_names(f)]
        if inits:
            a = inits[-1].args
            return [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs] if p.arg != "self"]
        if "dataclass" not in _decorator_names(node):
            return None
        inherited: list[str] = []
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes:
                inherited += arguments(base.id) or []
        own = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and "ClassVar" not in ast.unparse(s.annotation)]
        return list(dict.fromkeys([*inherited, *own]))

    return {name: arguments(name) for name in sorted(classes)}


def hooks(hookspec_py: Path) -> list[str]:
    tree = ast.parse(hookspec_py.read_text())
    (specs,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CondaSpecs"]
    return sorted(f.name for f in specs.body if isinstance(f, ast.FunctionDef) and "_hookspec" in _decorator_names(f))


def main(src: Path, commit: str) -> dict:
    plugins = src / "conda" / "plugins"
    version = re.search(r"^## (\S+)", (src / "CHANGELOG.md").read_text(), re.M)
    return {
        "source": "https://github.com/conda/conda",
        "commit": commit,
        "version": version.group(1) if version else None,
        "read_from": ["conda/plugins/__init__.py", "conda/plugins/types.py", "conda/plugins/hookspec.py"],
        "made_by": "scripts/conda_plugin_api.py (ast, nothing imported)",
        "modules": {
            "conda.plugins": {name: None for name in exported(plugins / "__init__.py")},
            "conda.plugins.types": types_and_arguments(plugins / "types.py"),
        },
        "hooks": hooks(plugins / "hookspec.py"),
    }


if __name__ == "__main__":
    json.dump(main(Path(sys.argv[1]), sys.argv[2]), sys.stdout, indent=1)
    sys.stdout.write("\n")
