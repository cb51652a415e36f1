"""The zstd window chosen per package (bridge.sinks.compression.choose_window_log).

Synthetic payloads pin the rule: payloads up to 8 MiB get a window that just holds them, without
a trial; larger payloads get the 8 MiB window unless the trial shows the long window saves >= 3 %
(here: a file that repeats, slightly changed, more than 8 MiB after its first copy).  The frame
header of every written component never asks for more window than the rule allows, and a
long-window package still installs and imports with py-rattler.
"""

from __future__ import annotations

import hashlib
import random
import zipfile
from pathlib import Path

import pytest
import zstandard

from bridge.cli import main
from bridge.sinks.compression import (
    JOB_SIZE,
    MAX_WINDOW_LOG,
    OWN_JOB_LEVEL,
    SHORT_WINDOW_LOG,
    ZstdSettings,
    choose_window_log,
    fitted_window_log,
)
from tests.support.conda_env import install, run_in_prefix
from tests.support.wheels import build_wheel

MiB = 1 << 20


def noise(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def chunked(data: bytes, size: int = MiB) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def component_window_sizes(package: Path) -> dict[str, int]:
    """Window size each ``.tar.zst`` component's frame header asks for."""
    with zipfile.ZipFile(package) as zf:
        return {
            name.split("-", 1)[0]: zstandard.get_frame_parameters(zf.open(name).read(32)).window_size
            for name in zf.namelist()
            if name.endswith(".tar.zst")
        }


def test_small_payload_gets_a_window_that_holds_it_without_a_trial() -> None:
    def no_trial() -> list[bytes]:
        raise AssertionError("a payload within the short window needs no trial")

    assert choose_window_log(ZstdSettings(), 5 * MiB, no_trial) == 23  # 5 MiB -> 2**23
    assert choose_window_log(ZstdSettings(), 8 * MiB, no_trial) == SHORT_WINDOW_LOG
    assert choose_window_log(ZstdSettings(), 3000, no_trial) == 12
    assert choose_window_log(ZstdSettings(), 10, no_trial) == 10  # never below zstd's minimum


def test_forced_window_skips_the_trial_and_still_fits_the_payload() -> None:
    def no_trial() -> list[bytes]:
        raise AssertionError("a forced window needs no trial")

    assert choose_window_log(ZstdSettings(window_log=27), 200 * MiB, no_trial) == 27
    assert choose_window_log(ZstdSettings(window_log=27), 20 * MiB, no_trial) == 25
    assert choose_window_log(ZstdSettings(window_log=20), 200 * MiB, no_trial) == 20


def test_payload_without_long_repeats_gets_the_short_window() -> None:
    payload = noise(12 * MiB, 1) + noise(12 * MiB, 2)  # nothing repeats
    assert choose_window_log(ZstdSettings(), len(payload), lambda: chunked(payload)) == SHORT_WINDOW_LOG


def test_repeats_within_the_short_window_do_not_need_a_long_one() -> None:
    block = noise(2 * MiB, 3)
    payload = b"".join(block + noise(2 * MiB, 10 + i) for i in range(6))  # repeats 4 MiB apart
    assert choose_window_log(ZstdSettings(), len(payload), lambda: chunked(payload)) == SHORT_WINDOW_LOG


def test_a_copy_beyond_the_short_window_gets_the_long_window_fitted_to_the_payload() -> None:
    first = noise(12 * MiB, 4)
    changed = bytearray(first)
    for i in range(0, len(changed), 64 * 1024):  # a near copy, like libnvrtc.alt.so
        changed[i] ^= 0xFF
    payload = first + bytes(changed)  # 24 MiB: the copy starts 12 MiB after the original
    decided = choose_window_log(ZstdSettings(), len(payload), lambda: chunked(payload))
    assert decided == fitted_window_log(MAX_WINDOW_LOG, len(payload)) == 25


def test_a_small_long_distance_share_is_not_worth_the_window() -> None:
    repeated = noise(256 * 1024, 5)  # 0.25 MiB copy among 24 MiB of noise: ~1 %
    payload = repeated + noise(12 * MiB, 6) + repeated + noise(12 * MiB, 7)
    assert choose_window_log(ZstdSettings(), len(payload), lambda: chunked(payload)) == SHORT_WINDOW_LOG


def test_each_doubling_of_the_window_must_save_three_percent() -> None:
    first = noise(12 * MiB, 13)
    # ~4 % of the payload repeats 12 MiB later: worth it for a flat 3 %, not for a window 4x the
    # short one (log 25 for this 24 MiB payload: two doublings, 6 %)
    payload = first + first[: MiB] + noise(11 * MiB, 14)
    assert choose_window_log(ZstdSettings(), len(payload), lambda: chunked(payload)) == SHORT_WINDOW_LOG
    payload = first + first[: 3 * MiB] + noise(9 * MiB, 15)  # ~12 %: pays for two doublings
    assert choose_window_log(ZstdSettings(), len(payload), lambda: chunked(payload)) == 25


def test_decision_does_not_depend_on_threads() -> None:
    first = noise(10 * MiB, 8)
    payload = first + noise(1 * MiB, 9) + first
    windows = {choose_window_log(ZstdSettings(threads=t), len(payload), lambda: chunked(payload)) for t in (1, 2, 4)}
    assert windows == {fitted_window_log(MAX_WINDOW_LOG, len(payload))}


def _words(n: int, seed: int) -> bytes:
    """Compressible text: random words from a small vocabulary."""
    rng = random.Random(seed)
    vocabulary = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(4000)]
    out = bytearray()
    while len(out) < n:
        out += b" ".join(rng.choices(vocabulary, k=64)) + b"\n"
    return bytes(out[:n])


def _zstd(payload: bytes, level: int, job_size: int) -> bytes:
    params = zstandard.ZstdCompressionParameters.from_level(level, window_log=23, enable_ldm=True, threads=2, job_size=job_size)
    return zstandard.ZstdCompressor(compression_params=params).compress(payload)


def test_optimal_parser_levels_compress_in_zstds_own_jobs() -> None:
    """From OWN_JOB_LEVEL (``--release``) zstd sizes the jobs: a 5 MiB payload is one job, not two.

    Small jobs make the optimal parser re-index each job's overlap (``docs/performance.md``:
    1.35x the CPU at level 19); below that level the fixed 4 MiB jobs bound memory.
    """
    payload = _words(5 * MiB, 3)
    release = ZstdSettings(level=OWN_JOB_LEVEL, threads=2).compressor(window_log=23).compress(payload)
    assert release == _zstd(payload, OWN_JOB_LEVEL, 0)
    assert release != _zstd(payload, OWN_JOB_LEVEL, JOB_SIZE)
    default = ZstdSettings(threads=2).compressor(window_log=23).compress(payload)
    assert default == _zstd(payload, ZstdSettings().level, JOB_SIZE)


def _wheel(tmp_path: Path, name: str, second: bytes, first: bytes) -> Path:
    return build_wheel(
        tmp_path / "wheels",
        name,
        "1.0",
        files={f"{name}/__init__.py": "VALUE = 'ok'\n", f"{name}/a.bin": first, f"{name}/b.bin": second},
    )


@pytest.mark.e2e
def test_packages_ask_for_no_more_window_than_the_rule_and_install(tmp_path: Path, base_channel: Path, prefix_factory) -> None:
    first = noise(10 * MiB, 11)
    near_copy = bytearray(first)
    near_copy[::4096] = bytes(len(near_copy[::4096]))
    wheels = [
        _wheel(tmp_path, "farcopy", bytes(near_copy), first),  # b.bin repeats a.bin 10 MiB later
        _wheel(tmp_path, "nocopy", noise(10 * MiB, 12), first),
    ]
    out = tmp_path / "out"
    assert main(["convert", *map(str, wheels), "-o", str(out)]) == 0
    (far,) = (out / "noarch").glob("farcopy-*.conda")
    (near,) = (out / "noarch").glob("nocopy-*.conda")
    assert component_window_sizes(far)["pkg"] == 1 << 25  # ~20 MiB payload: the long window fitted to it
    assert component_window_sizes(near)["pkg"] == 1 << SHORT_WINDOW_LOG
    assert all(size <= 1 << 16 for name, size in component_window_sizes(far).items() if name == "info")

    forced = tmp_path / "forced"
    assert main(["convert", str(wheels[1]), "-o", str(forced), "--zstd-window-log", "27"]) == 0
    (forced_pkg,) = (forced / "noarch").glob("nocopy-*.conda")
    assert component_window_sizes(forced_pkg)["pkg"] == 1 << 25  # forced, but never beyond the payload

    channel = tmp_path / "channel"
    assert main(["publish", *map(str, (far, near)), "--channel", str(channel)]) == 0
    prefix = prefix_factory()
    install([channel, base_channel], ["farcopy", "nocopy"], prefix)
    result = run_in_prefix(prefix, "python", "-c", "import farcopy, nocopy; print(farcopy.VALUE, nocopy.VALUE)")
    assert result.returncode == 0 and result.stdout.split() == ["ok", "ok"], result.stderr


@pytest.mark.e2e
def test_a_release_package_installs_and_runs(tmp_path: Path, base_channel: Path, prefix_factory) -> None:
    """``--release`` (level 19, zstd's own job size): py-rattler installs it and the files are intact."""
    data = _words(3 * MiB, 5)
    wheel = build_wheel(
        tmp_path / "wheels",
        "relpkg",
        "1.0",
        files={"relpkg/__init__.py": "import pathlib\nDATA = (pathlib.Path(__file__).parent / 'words.txt').read_bytes()\n", "relpkg/words.txt": data},
    )
    channel = tmp_path / "channel"
    assert main(["convert", str(wheel), "--release", "--channel", str(channel), "-q"]) == 0
    (pkg,) = (channel / "noarch").glob("relpkg-*.conda")
    assert component_window_sizes(pkg)["pkg"] == 1 << 22  # the short window, fitted to the ~3 MiB payload
    prefix = prefix_factory()
    install([channel, base_channel], ["relpkg"], prefix)
    digest = hashlib.sha256(data).hexdigest()
    result = run_in_prefix(prefix, "python", "-c", "import hashlib, relpkg; print(hashlib.sha256(relpkg.DATA).hexdigest())")
    assert result.returncode == 0 and result.stdout.strip() == digest, result.stderr
