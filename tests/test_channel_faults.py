"""Fault tests: publishers killed with SIGKILL at random points, and eight concurrent publishers.

Invariants checked after every kill, before anything repairs the channel:

* every ``repodata.json`` parses, ``noarch/repodata.json`` exists, and a ``.zst`` next to it
  decompresses to the same bytes;
* every listed package exists with the listed size and sha256 (files present but not yet
  listed are allowed: the next publish picks them up);
* every publish (and removal) that reported success is visible.

Then an index repairs the channel and a full ``verify`` must pass with no leftovers.

The kill points are counted, not timed: the publisher kills itself with SIGKILL just before its
N-th I/O call (an ``os``/``posix`` function, a file-object method or an sqlite call), with N drawn
from a seeded generator.  The test therefore kills as often, and at the same points, on a fast or
a slow machine, alone or under load (a full run of 300 packages makes about 68,000 such calls).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from bridge.channel.index import index_channel
from bridge.check.audit import audit_channel
from tests.support.conda_env import build_conda_package, solve

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL and fork-heavy tests are POSIX-only")

ROOT = Path(__file__).resolve().parent.parent

#: Publishes the packages listed in argv[2] (a JSON file) into argv[1], in batches of three,
#: removing an earlier package every fourth batch; prints one line per reported success
#: ("P names", "R name") and one before each removal starts ("r name").  With argv[3] = N > 0
#: it SIGKILLs itself just before its N-th I/O call (module docstring); 0 runs to the end.
DRIVER = r"""
import io, json, os, signal, sqlite3, sys
from pathlib import Path
from bridge.channel.manage import remove
from bridge.channel.publish import publish
channel, todo, kill_at = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), int(sys.argv[3])
calls = 0
def count_io_calls(frame, event, arg):
    global calls
    if event != "c_call":
        return
    owner = getattr(arg, "__self__", None)
    if getattr(arg, "__module__", None) in ("posix", "nt") or isinstance(owner, (io.IOBase, sqlite3.Connection, sqlite3.Cursor)):
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
print("READY", flush=True)
if kill_at > 0:
    sys.setprofile(count_io_calls)
done = []
for n, start in enumerate(range(0, len(todo), 3)):
    batch = [Path(p) for p in todo[start:start + 3]]
    publish(channel, batch)
    print("P", *(p.name for p in batch), flush=True)
    done += [p.name for p in batch]
    if n % 4 == 3:
        victim = done.pop(0)
        print("r", victim, flush=True)
        remove(channel, [victim])
        print("R", victim, flush=True)
"""


def build_packages(out: Path, prefix: str, count: int, subdirs=("noarch", "linux-64")) -> list[Path]:
    return [
        build_conda_package(
            out / subdirs[i % len(subdirs)],
            {"name": f"{prefix}{i}", "version": "1.0", "build": "0", **({"noarch": "generic"} if subdirs[i % len(subdirs)] == "noarch" else {})},
            {f"share/{prefix}{i}.txt": f"{prefix} {i}\n" * (1 + i % 7)},
            compression_level=1,
        )
        for i in range(count)
    ]


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def check_invariants(channel: Path, expected: set[str], removed: set[str]) -> None:
    """What any reader may see at any time (module docstring); nothing is repaired here."""
    listed: set[str] = set()
    for folder in [p for p in channel.iterdir() if p.is_dir() and not p.name.startswith(".")]:
        raw = (folder / "repodata.json").read_bytes()
        data = json.loads(raw)
        assert data["info"]["subdir"] == folder.name
        zst = folder / "repodata.json.zst"
        if zst.exists():
            assert zstandard.ZstdDecompressor().decompress(zst.read_bytes()) == raw, f"stale {zst}"
        listed |= set(data["packages.conda"])
    assert (channel / "noarch" / "repodata.json").is_file()
    problems = [p for p in audit_channel(channel).problems if p.reason != "package file not listed in repodata.json"]
    assert not problems, problems
    missing = expected - listed
    assert not missing, f"reported as published but not listed: {sorted(missing)}"
    assert not removed & listed, f"reported as removed but listed: {sorted(removed & listed)}"


def test_kill_9_at_random_points(tmp_path: Path) -> None:
    rng = random.Random(6)
    channel = tmp_path / "channel"
    packages = build_packages(tmp_path / "stage", "pkg", 300)
    expected: set[str] = set()  # reported published and not reported removed
    removed: set[str] = set()  # reported removed
    limbo: set[str] = set()  # a removal was under way when the publisher died: either state is fine
    kills = 0
    remaining = list(packages)
    for round_ in range(40):
        # about 680 I/O calls per batch of three: a kill lands within the first ~6 batches of a run
        kill_at = rng.randint(1, 4000) if kills < 15 else 0  # then one run to the end
        todo = tmp_path / f"todo-{round_}.json"
        todo.write_text(json.dumps([str(p) for p in remaining]))
        proc = spawn(DRIVER, str(channel), str(todo), str(kill_at))
        out, err = proc.communicate(timeout=300)
        assert out.startswith("READY\n"), err
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        else:
            assert proc.returncode == 0, err
        for line in out.splitlines()[1:]:  # a line is printed only after its operation returned
            kind, *names = line.split()
            if kind == "P":
                expected |= set(names)
                removed -= set(names)
            elif kind == "r":
                expected -= set(names)
                limbo |= set(names)
            elif kind == "R":
                limbo -= set(names)
                removed |= set(names)
        if channel.exists():
            check_invariants(channel, expected, removed)
        remaining = [p for p in packages if p.name not in expected | removed | limbo]
        if not remaining or kill_at == 0:
            break
    assert kills == 15, f"{kills} kills: the publisher ran out of work before it was killed 15 times"
    assert not remaining, "the last, unkilled publisher did not finish the work"

    # repair: the next index lists stragglers and sweeps temporary files of the dead publishers
    index_channel(channel)
    report = audit_channel(channel)
    assert report.ok and not report.notes, (report.problems, report.notes)
    assert not list(channel.rglob("*.w2c-tmp-*"))
    listed = {p.name for p in channel.glob("*/*.conda")}
    assert expected <= listed
    # a real client reads the result
    records = solve([channel], sorted(name.rsplit("-", 2)[0] for name in expected)[:5], platform="linux-64")
    assert len(records) == 5


def test_eight_concurrent_publishers(tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    shared = build_packages(tmp_path / "shared", "shared", 1)[0]
    batches = [build_packages(tmp_path / f"w{w}", f"w{w}x", 12) for w in range(8)]
    code = r"""
import json, sys
from pathlib import Path
from bridge.channel.publish import publish
channel, pkgs = Path(sys.argv[1]), [Path(p) for p in json.loads(sys.argv[2])]
statuses = [publish(channel, [p])[0].status for p in pkgs]
print(json.dumps(statuses))
"""
    procs = [spawn(code, str(channel), json.dumps([str(shared), *map(str, pkgs)])) for pkgs in batches]
    statuses = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        statuses += json.loads(out)
    assert statuses.count("added") == 8 * 12 + 1 and statuses.count("unchanged") == 7  # the shared one landed once
    report = audit_channel(channel)
    assert report.ok and not report.notes, (report.problems, report.notes)
    listed = set()
    for subdir in ("noarch", "linux-64"):
        data = json.loads((channel / subdir / "repodata.json").read_bytes())
        listed |= set(data["packages.conda"])
    assert listed == {p.name for p in [shared, *(p for b in batches for p in b)]}
    assert index_channel(channel).written == []  # the cache agrees with what the last publisher wrote
