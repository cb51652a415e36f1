"""translate/entry_points.py: the one reader and writer of ``entry_points.txt``."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from bridge.core.errors import BadInput
from bridge.model import EntryPoint
from bridge.translate.entry_points import entry_points_txt, parse_entry_points

SCRIPTS = (EntryPoint("tool", "pkg.cli", "main"), EntryPoint("Tool-GUI", "pkg.gui", "App.run", gui=True))


def test_written_as_configparser_writes_it() -> None:
    assert entry_points_txt(SCRIPTS) == b"[console_scripts]\ntool = pkg.cli:main\n\n[gui_scripts]\nTool-GUI = pkg.gui:App.run\n\n"


def test_round_trip_and_importlib_metadata_agree(tmp_path: Path) -> None:
    text = entry_points_txt(SCRIPTS)
    assert parse_entry_points("x", text) == SCRIPTS
    dist_info = tmp_path / "pkg-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "entry_points.txt").write_bytes(text)
    found = {(ep.group, ep.name, ep.value) for ep in importlib.metadata.PathDistribution(dist_info).entry_points}
    assert found == {("console_scripts", "tool", "pkg.cli:main"), ("gui_scripts", "Tool-GUI", "pkg.gui:App.run")}


def test_reader_drops_extras_and_other_groups() -> None:
    text = b"[console_scripts]\nblackd = blackd:patched_main [d]\n[pytest11]\nplugin = pkg.plugin\n"
    assert parse_entry_points("x", text) == (EntryPoint("blackd", "blackd", "patched_main"),)


@pytest.mark.parametrize("text", [b"[console_scripts\n", b"[console_scripts]\nbad = :main\n", b"\xff"])
def test_malformed_is_bad_input(text: bytes) -> None:
    with pytest.raises(BadInput):
        parse_entry_points("x", text)
