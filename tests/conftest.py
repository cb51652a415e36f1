"""Shared fixtures: a session-wide base channel, a wheel factory and fresh prefixes."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.conda_env import build_base_channel
from tests.support.wheels import build_wheel


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: installs packages with py-rattler into a fresh prefix")


@pytest.fixture(scope="session")
def base_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """conda-forge stand-in (python/python_abi for HOST_PY and 3.12 on all subdirs); do not modify it."""
    return build_base_channel(tmp_path_factory.mktemp("base-channel"))


@pytest.fixture
def make_wheel(tmp_path: Path) -> Callable[..., Path]:
    """``build_wheel`` with ``out_dir`` bound to ``tmp_path / "wheels"``."""
    return functools.partial(build_wheel, tmp_path / "wheels")


@pytest.fixture
def prefix_factory(tmp_path: Path) -> Callable[[str], Path]:
    """Return a callable giving a fresh, not yet existing prefix path under ``tmp_path`` on each call."""
    counter = itertools.count()

    def new_prefix(name: str = "prefix") -> Path:
        while True:
            path = tmp_path / f"{name}-{next(counter)}"
            if not path.exists():
                return path

    return new_prefix
