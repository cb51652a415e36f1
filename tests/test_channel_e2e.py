"""Real clients read our channel: py-rattler solves and installs from it; yanks and removals hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.channel.manage import remove, yank
from bridge.check.audit import audit_channel
from bridge.cli import main
from tests.support.conda_env import SolveError, install, run_in_prefix, solve

pytestmark = pytest.mark.e2e


def hello_wheel(make_wheel, version: str) -> Path:
    return make_wheel(
        "hello-chan",
        version,
        files={"hello_chan/__init__.py": f"VERSION = {version!r}\ndef main():\n    print('hello from', VERSION)\n"},
        entry_points={"console_scripts": {"hello-chan": "hello_chan:main"}},
    )


def test_convert_publish_install_run(make_wheel, base_channel: Path, tmp_path: Path, prefix_factory) -> None:
    channel = tmp_path / "channel"
    assert main(["convert", str(hello_wheel(make_wheel, "1.0")), "--channel", str(channel), "-q"]) == 0
    assert main(["convert", str(hello_wheel(make_wheel, "2.0")), "--channel", str(channel), "-q"]) == 0
    assert audit_channel(channel).ok
    assert not any(p.name.startswith(".w2c-stage") for p in channel.iterdir())

    prefix = prefix_factory()
    records = install([channel, base_channel], ["hello-chan"], prefix)
    assert {r.name.normalized: str(r.version) for r in records}["hello-chan"] == "2.0"
    result = run_in_prefix(prefix, "hello-chan")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello from 2.0"

    # yanked: hidden from the solver, the file stays
    yank(channel, ["hello-chan 2.0"])
    assert [str(r.version) for r in solve([channel, base_channel], ["hello-chan"]) if r.name.normalized == "hello-chan"] == ["1.0"]
    with pytest.raises(SolveError):
        solve([channel, base_channel], ["hello-chan ==2.0"])
    prefix = prefix_factory()
    install([channel, base_channel], ["hello-chan"], prefix)
    assert run_in_prefix(prefix, "hello-chan").stdout.strip() == "hello from 1.0"

    # removed: gone for good; the channel still verifies and solves
    remove(channel, ["hello-chan"])
    assert audit_channel(channel).ok
    with pytest.raises(SolveError):
        solve([channel, base_channel], ["hello-chan"])


def test_tar_bz2_packages_are_listed_and_installable(make_wheel, base_channel: Path, tmp_path: Path, prefix_factory) -> None:
    channel = tmp_path / "channel"
    wheel = hello_wheel(make_wheel, "3.0")
    assert main(["convert", str(wheel), "--format", "tar.bz2", "--channel", str(channel), "-q"]) == 0
    data = json.loads((channel / "noarch" / "repodata.json").read_bytes())
    assert list(data["packages"]) == ["hello-chan-3.0-py_0.tar.bz2"] and data["packages.conda"] == {}
    prefix = prefix_factory()
    install([channel, base_channel], ["hello-chan"], prefix)
    assert run_in_prefix(prefix, "hello-chan").stdout.strip() == "hello from 3.0"
