"""The writer table: one sink per output format, one settings object; an unknown format is refused."""

from __future__ import annotations

import pytest

from bridge.core.errors import BadInput
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
