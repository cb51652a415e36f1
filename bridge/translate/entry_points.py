"""``entry_points.txt``: the console and gui scripts of a distribution, read and written.

The file is INI as ``importlib.metadata`` and pip read it (``configparser`` with ``=`` as the
only delimiter, keys case-sensitive, no interpolation; PyPA "Entry points specification").
Other groups are not modelled: a file that has them is carried as it is.
"""

from __future__ import annotations

import configparser
import io
from collections.abc import Iterable

from ..core.errors import BadInput
from ..model.wheel import EntryPoint

#: The script groups, with whether each is a gui script.
SCRIPT_GROUPS = (("console_scripts", False), ("gui_scripts", True))


def _parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    return parser


def parse_entry_points(where: str, text: bytes, hint: str | None = None) -> tuple[EntryPoint, ...]:
    """Console and gui scripts from an ``entry_points.txt``; a malformed file is :class:`BadInput`."""
    parser = _parser()
    try:
        parser.read_string(text.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise BadInput(where, f"entry_points.txt cannot be parsed ({exc})", hint=hint) from None
    result: list[EntryPoint] = []
    for group, gui in SCRIPT_GROUPS:
        if not parser.has_section(group):
            continue
        for script, value in parser.items(group):
            target = value.split("[", 1)[0].strip()  # drop deprecated [extras]
            module, _, attr = target.partition(":")
            if not module.strip() or not script.strip():
                raise BadInput(where, f"entry_points.txt: invalid entry point {script} = {value}", hint=hint)
            result.append(EntryPoint(script.strip(), module.strip(), attr.strip(), gui))
    return tuple(result)


def entry_points_txt(entry_points: Iterable[EntryPoint]) -> bytes:
    """The ``entry_points.txt`` of these scripts, as ``configparser`` writes it (groups in spec order)."""
    chosen = list(entry_points)
    parser = _parser()
    for group, gui in SCRIPT_GROUPS:
        scripts = {ep.name: ep.value for ep in chosen if ep.gui == gui}
        if scripts:
            parser[group] = scripts
    buf = io.StringIO()
    parser.write(buf)
    return buf.getvalue().encode("utf-8")
