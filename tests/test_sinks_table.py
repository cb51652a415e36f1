"""The writer table: one sink per output format, one settings object; an unknown format is refused.
And the one staging path into a channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.core.errors import BadInput
from bridge.pipelines.convert import convert_into_channel
from bridge.sinks.settings import WriteSettings
from bridge.sinks.write import SINKS, sink_for


def test_every_package_format_has_a_sink() -> None:
    assert set(SINKS) == {"conda", "tar.bz2", "tree"}
    assert sink_for(WriteSettings("tar.bz2"), "x.whl") is SINKS["tar.bz2"]


def test_unknown_format_is_refused_with_bad_input() -> None:
    with pytest.raises(BadInput) as err:
        sink_for(WriteSettings("zip"), "x.whl")  # type: ignore[arg-type]
    assert "no writer for the output format 'zip'" in err.value.reason
    assert err.value.exit_code == 2


def test_convert_into_channel_stages_inside_and_cleans_up(tmp_path: Path) -> None:
    """One staging path for `convert --channel` and `recipes build`: inside the channel, removed on exit;
    a channel made for nothing is removed again, one that existed stays."""
    fresh = tmp_path / "fresh"
    with convert_into_channel(fresh) as stage:
        assert stage.parent == fresh and stage.is_dir()
    assert not fresh.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with convert_into_channel(existing) as stage:
        (stage / "x.conda").write_bytes(b"")
    assert existing.is_dir() and not any(existing.iterdir())
