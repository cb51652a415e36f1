"""Property-based fuzzing (hypothesis) of the inputs wheel2conda trusts least.

For any generated round-trip record, ``paths.json``, ``index.json``, METADATA or RECORD, ``convert``
and ``to-wheel`` either succeed, writing only safe members inside their output folder, or refuse
with a :class:`BridgeError` — never another exception, never a write outside (a canary folder next
to the work directory is compared before and after every example).  Strategies mix valid values
with the characters and shapes that break naive code (``/``, ``..``, NUL, control characters,
wrong JSON types, huge numbers).  ``max_examples`` is kept small: the suite must stay fast.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.errors import BridgeError
from bridge.pipelines.convert import convert_wheel
from bridge.pipelines.to_wheel import convert_to_wheel
from bridge.plan.types import ConversionOptions
from bridge.sinks.settings import WriteSettings
from tests.support.hostile_inputs import Guard, TarMember, assert_outputs_safe, craft_conda, default_info, record_doc, roundtrip_wheel
from tests.support.wheels import build_wheel

FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

#: Text that is sometimes fine and often hostile as a name or a path.
_PIECES = st.sampled_from(["pkg", "a", "1.0", "0", "py_0", "..", ".", "/", "\\", "\x00", "\n", " ", "C:", "-", "_", "~", "..\\", "x/..", "CON", "é", "\udcff"])
hostile_text = st.one_of(st.text(max_size=12), st.lists(_PIECES, min_size=1, max_size=5).map("".join))
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**64), max_value=2**64), st.floats(allow_nan=False), hostile_text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)), max_leaves=6)
maybe_int = st.one_of(st.integers(min_value=0, max_value=10), json_scalar)


def _guarded(run: Callable[[Path], Any]) -> None:
    """Run ``run(work)`` next to a canary; refusals are fine, other exceptions and outside writes are not."""
    with tempfile.TemporaryDirectory(prefix="w2c-fuzz-") as tmp:
        guard = Guard(Path(tmp))
        try:
            result = run(guard.work)
        except BridgeError:
            result = None
        error = getattr(result, "error", None)
        assert error is None or isinstance(error, BridgeError), error
        guard.outside_unchanged()
        assert_outputs_safe(guard.work)
        out = guard.work / "out"
        if out.exists():
            for path in out.rglob("*"):
                assert path.resolve().is_relative_to(out.resolve()), path


# --------------------------------------------------------------------------- the round-trip record


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = record_doc()
    index = record["index"]
    for key in ("name", "version", "build", "subdir"):
        if draw(st.booleans()):
            index[key] = draw(hostile_text)
    for key in ("build_number", "timestamp"):
        if draw(st.booleans()):
            index[key] = draw(maybe_int)
    if draw(st.booleans()):
        record["dist_info_text"] = draw(st.dictionaries(hostile_text, st.one_of(hostile_text, json_scalar), max_size=2))
    if draw(st.booleans()):
        record["paths"] = draw(st.dictionaries(hostile_text, json_value, max_size=2))
    if draw(st.booleans()):
        record["dist_info_files"] = draw(st.one_of(st.lists(hostile_text, max_size=3), json_scalar))
    if draw(st.booleans()):
        record[draw(st.sampled_from(["about", "link", "package", "format", "dist_info"]))] = draw(json_value)
    return record


@FUZZ
@given(record=records(), fmt=st.sampled_from(["conda", "tree"]))
def test_fuzz_roundtrip_record_through_convert(record: dict[str, Any], fmt: str) -> None:
    def run(work: Path) -> Any:
        wheel = roundtrip_wheel(work / "in", json.dumps(record).encode("utf-8", "surrogatepass"))
        return convert_wheel(wheel, work / "out", ConversionOptions(), WriteSettings(fmt))  # type: ignore[arg-type]

    _guarded(run)


# --------------------------------------------------------------------------- index.json and paths.json


@st.composite
def conda_infos(draw: st.DrawFn) -> tuple[dict[str, Any], list[TarMember]]:
    names = draw(st.lists(st.one_of(st.just("site-packages/pkg/__init__.py"), hostile_text.map(lambda t: f"site-packages/pkg/{t}"), hostile_text), min_size=1, max_size=3, unique=True))
    members = [TarMember(n, b"x = 1\n") for n in names if "\x00" not in n]
    info: dict[str, Any] = default_info(files=members)
    info["info/index.json"]["noarch"] = "python"
    index = info["info/index.json"]
    for key in ("name", "version", "build", "subdir", "noarch"):
        if draw(st.booleans()):
            index[key] = draw(hostile_text)
    for key in ("build_number", "timestamp", "depends"):
        if draw(st.booleans()):
            index[key] = draw(json_value)
    entries = info["info/paths.json"]["paths"]
    for entry in entries:
        if draw(st.booleans()):
            entry[draw(st.sampled_from(["_path", "path_type", "size_in_bytes", "sha256", "prefix_placeholder", "file_mode", "no_link"]))] = draw(json_value)
    if draw(st.booleans()):
        info[draw(st.sampled_from(["info/about.json", "info/link.json", "info/paths.json"]))] = draw(json_value)
    return info, members


@FUZZ
@given(case=conda_infos(), fmt=st.sampled_from(["conda", "tar.bz2"]))
def test_fuzz_conda_info_through_to_wheel(case: tuple[dict[str, Any], list[TarMember]], fmt: str) -> None:
    info, members = case

    def run(work: Path) -> Any:
        try:
            pkg = craft_conda(work / "in" / "noarch", "pkg-1.0-0", info, members, fmt=fmt)
        except (ValueError, UnicodeError):  # tarfile itself cannot write some names: nothing to test
            return None
        return convert_to_wheel(pkg, work / "out")

    _guarded(run)


# --------------------------------------------------------------------------- METADATA and RECORD

_LINES = st.sampled_from(["Metadata-Version: 2.1", "Name: fuzz", "Version: 1.0", "Requires-Dist: requests>=2", "Requires-Python: >=3.8"])


@st.composite
def metadata_texts(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(_LINES, st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(["Name", "Version", "Requires-Dist", "Provides-Extra", "Requires-Python", "License-File"]), hostile_text)), max_size=6))
    return "\n".join(["Metadata-Version: 2.1", *lines]).encode("utf-8", "surrogateescape") + b"\n"


@FUZZ
@given(metadata=metadata_texts())
def test_fuzz_metadata_through_convert(metadata: bytes) -> None:
    def run(work: Path) -> Any:
        wheel = build_wheel(work / "in", "fuzz", "1.0", files={"fuzz/__init__.py": ""}, extra_dist_info={"METADATA": metadata})
        return convert_wheel(wheel, work / "out", ConversionOptions())

    _guarded(run)


@FUZZ
@given(metadata=metadata_texts())
def test_fuzz_metadata_through_to_wheel(metadata: bytes) -> None:
    def run(work: Path) -> Any:
        members = [TarMember("site-packages/fuzz/__init__.py", b""), TarMember("site-packages/fuzz-1.0.dist-info/METADATA", metadata)]
        info = default_info(name="fuzz", files=members)
        info["info/index.json"]["noarch"] = "python"
        pkg = craft_conda(work / "in" / "noarch", "fuzz-1.0-0", info, members)
        return convert_to_wheel(pkg, work / "out")

    _guarded(run)


_ROWS = st.one_of(
    st.just("fuzz/__init__.py,,"),
    st.builds(lambda p, h, s: f"{p},{h},{s}", hostile_text, st.sampled_from(["", "sha256=", "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", "md5=x"]), st.sampled_from(["", "0", "-1", "x", "99999999999999999999"])),
    hostile_text,
)


@FUZZ
@given(rows=st.lists(_ROWS, max_size=5))
def test_fuzz_record_through_convert(rows: list[str]) -> None:
    def run(work: Path) -> Any:
        text = "\n".join(rows).encode("utf-8", "surrogateescape")
        wheel = build_wheel(work / "in", "fuzz", "1.0", files={"fuzz/__init__.py": ""}, extra_dist_info={"RECORD": text}, record=False)
        return convert_wheel(wheel, work / "out", ConversionOptions())

    _guarded(run)
