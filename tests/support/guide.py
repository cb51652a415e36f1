"""Run ``docs/guide.md`` and compare (or rewrite) the output it shows.

The guide is markdown.  What this module acts on:

* ```` ```console ```` blocks: each ``$ wheel2conda …`` line is run in-process
  (``bridge.cli.main``, stdout and stderr interleaved as a terminal shows them) and the lines up
  to the next ``$`` line are its expected output.  ``$ cmd …; echo "exit $?"`` also prints the
  exit status.  ``$ cat FILE`` and ``$ ls DIR`` are the only other commands.  Arguments with
  ``*`` that match files are expanded, as a shell does.  A line ``...`` stands for any number
  of output lines.
* ``<!-- guide: ACTION ARGS -->`` comments (invisible when rendered) prepare what the commands
  need: ``inputs SET DIR`` (test-made wheels mimicking a real set, see :data:`INPUT_SETS`),
  ``conda-forge DIR`` (the stand-in python channel of :mod:`bridge.check.standin`), ``env PREFIX
  CHANNEL... -- SPEC...`` (install with py-rattler), and ``write PATH`` (the next fenced block's
  text becomes that file).
* Other fenced blocks (``sh``, ``yaml``, ``json``) are shown, never run.

Everything runs top to bottom in one empty working directory.  Before comparing, both sides
are normalised (:func:`normalize`): sizes, durations, sha256 digests and the JSON fields
``size``/``bytes``/``source_size``/``seconds``/``downloaded`` are masked; the working
directory is written ``/home/user/work``; and in the actual output this machine's Python
``3.M`` is written ``3.12`` (``cp3M`` → ``cp312``, ``<3.(M+1).0a0`` → ``<3.13.0a0``), so the
guide reads the same whichever Python runs the tests.

``python -m tests.support.guide [--write] [docs/guide.md]`` checks the guide, or with
``--write`` rewrites every block with the output of this run (keeping ``...`` where the
block still matches), so the guide only ever shows real output.
"""

from __future__ import annotations

import contextlib
import glob
import io
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tests.support.gpu_wheels as gw
from bridge.check.standin import HOST_PY
from bridge.cli import main
from tests.support.wheels import build_wheel, truncate

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"
SHOWN_CWD = "/home/user/work"
ELLIPSIS = "..."


# -- inputs: test-made wheel sets shaped like the real ones -------------------------------------


def _rocm_windows(out: Path) -> None:
    """TheRock's Windows nightly for gfx103X-dgpu: the five files a user downloads."""
    tag = "py3-none-win_amd64"
    gw.rocm_sdist(out, families=["gfx103X-dgpu"])  # the family's CI job lists only its family
    gw.rocm_core(out, tag=tag, family="gfx103X-dgpu")
    gw.rocm_devel(out, tag=tag, family="gfx103X-dgpu")
    gw.rocm_libraries(out, "gfx103X-dgpu", tag=tag)
    gw.torch_rocm(out, "gfx103X-dgpu", tag="cp312-cp312-win_amd64")
    gw.filelock(out)  # the index also serves torch's pure-Python dependencies


def _rocm_linux(out: Path) -> None:
    """The Linux nightly for gfx103X-dgpu, for this machine's Python (installable and runnable here)."""
    gw.rocm_sdist(out, families=["gfx103X-dgpu"])
    gw.rocm_core(out, family="gfx103X-dgpu")
    gw.rocm_libraries(out, "gfx103X-dgpu")
    gw.torch_rocm(out, "gfx103X-dgpu")
    gw.triton_rocm(out)
    gw.filelock(out)


def _cuda(out: Path) -> None:
    """download.pytorch.org/whl/cu124: torch+cu124 and the nvidia-*-cu12 wheels it requires."""
    gw.torch_cuda(out)
    for name, (version, library) in gw.CU124_COMPONENTS.items():
        gw.nvidia_component(out, name, version, library)
    gw.filelock(out)


def _cpu(out: Path) -> None:
    gw.torch_cpu(out)
    gw.filelock(out)


def _broken(out: Path) -> None:
    """What goes wrong in practice: a truncated download and a musllinux wheel."""
    good = build_wheel(out / "tmp", "demo", "1.0", files={"demo/__init__.py": "X = 1\n" * 100})
    good.rename(out / good.name)
    truncate(out / good.name, -300)
    (out / "tmp").rmdir()
    build_wheel(out, "fastcodec", "2.1", tag="cp312-cp312-musllinux_1_2_x86_64", files={"fastcodec/__init__.py": ""})


INPUT_SETS: dict[str, Callable[[Path], None]] = {
    "rocm-windows": _rocm_windows,
    "rocm-linux": _rocm_linux,
    "cuda": _cuda,
    "cpu": _cpu,
    "broken": _broken,
}


# -- the document ----------------------------------------------------------------------------


@dataclass
class Command:
    argv: str  # as written after "$ "
    expected: list[str]
    actual: list[str] = field(default_factory=list)


@dataclass
class Step:
    kind: str  # "console", "directive", "write"
    start: int  # first line (the fence or the comment)
    end: int  # one past the last line
    args: list[str] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    text: str = ""  # "write": the file content


_DIRECTIVE = re.compile(r"^<!--\s*guide:\s*(.*?)\s*-->$")


def parse(lines: Sequence[str]) -> list[Step]:
    steps: list[Step] = []
    pending_write: list[str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _DIRECTIVE.match(line.strip())
        if m:
            args = shlex.split(m.group(1))
            if args[0] == "write":
                pending_write = args[1:]
            else:
                steps.append(Step("directive", i, i + 1, args))
            i += 1
            continue
        if line.startswith("```"):
            info = line[3:].strip()
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            body = lines[i + 1 : end]
            if pending_write is not None:
                steps.append(Step("write", i, end + 1, pending_write, text="\n".join(body) + "\n"))
                pending_write = None
            elif info == "console":
                steps.append(Step("console", i, end + 1, commands=_commands(body, i)))
            i = end + 1
            continue
        i += 1
    return steps


def _commands(body: Sequence[str], at: int) -> list[Command]:
    commands: list[Command] = []
    for line in body:
        if line.startswith("$ "):
            commands.append(Command(line[2:], []))
        elif commands:
            commands[-1].expected.append(line)
        else:
            raise ValueError(f"guide line {at + 2}: console output before any '$ ' command")
    return commands


# -- running ---------------------------------------------------------------------------------


def run_steps(steps: Sequence[Step], workdir: Path) -> None:
    """Run every step in ``workdir`` (the process's working directory meanwhile)."""
    with _chdir(workdir):
        for step in steps:
            if step.kind == "directive":
                _directive(step.args)
            elif step.kind == "write":
                target = Path(step.args[0])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(step.text)
            else:
                for command in step.commands:
                    command.actual = run_command(command.argv)


@contextlib.contextmanager
def _chdir(path: Path):  # contextlib.chdir is Python 3.11+
    import os

    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _directive(args: list[str]) -> None:
    action, rest = args[0], args[1:]
    if action == "inputs":
        name, folder = rest
        Path(folder).mkdir(parents=True, exist_ok=True)
        INPUT_SETS[name](Path(folder))
    elif action == "conda-forge":
        from bridge.check.standin import build_base_channel

        build_base_channel(Path(rest[0]))
    elif action == "env":
        from bridge.check.client import install

        prefix, rest = rest[0], rest[1:]
        split = rest.index("--")
        install([Path(c) for c in rest[:split]], rest[split + 1 :], Path(prefix))
    else:
        raise ValueError(f"unknown guide directive {action!r}")


def run_command(text: str) -> list[str]:
    """Run one ``$`` line; its output as a terminal shows it (stdout and stderr interleaved)."""
    show_status = False
    if text.endswith('; echo "exit $?"'):
        text, show_status = text[: -len('; echo "exit $?"')], True
    argv = [expanded for arg in shlex.split(text) for expanded in (sorted(glob.glob(arg)) or [arg])]  # as a shell would
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        if argv[0] == "wheel2conda":
            try:
                code = main(argv[1:])
            except SystemExit as exc:
                code = int(exc.code or 0)
        elif argv[0] == "cat":
            code = 0
            print(Path(argv[1]).read_text(), end="")
        elif argv[0] == "ls":
            code = 0
            print("\n".join(sorted(p.name for p in Path(argv[1]).iterdir())))
        else:
            raise ValueError(f"the guide may only run wheel2conda, cat and ls, not {argv[0]!r}")
    output = buffer.getvalue().splitlines()
    if show_status:
        output.append(f"exit {code}")
    return output


# -- comparing -------------------------------------------------------------------------------

_SIZE = re.compile(r"\b\d+(?:\.\d+)? (?:B|KB|MB|GB)\b")
_SECONDS = re.compile(r"\b\d+\.\d+ s\b")
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")
_JSON_NUMBER = re.compile(r'("(?:size|bytes|source_size|seconds|downloaded)": )\d+(?:\.\d+)?')


def host_python(text: str, host: str = HOST_PY) -> str:
    """Write this machine's Python ``3.M`` as ``3.12`` (and ``3.(M+1).0a0`` as ``3.13.0a0``)."""
    major, minor = (int(x) for x in host.split("."))
    if (major, minor) == (3, 12):
        return text
    digits, dotted, upper = f"{major}{minor}", f"{major}.{minor}", f"{major}.{minor + 1}.0a0"
    table = {upper: "3.13.0a0", f"{dotted}.0a0": f"{dotted}.0a0", dotted: "3.12", digits: "312"}
    pattern = rf"(?<![\d.])(?:{re.escape(upper)}|{re.escape(dotted)}\.0a0|{re.escape(dotted)}(?![\d])|(?<=cp|py|pp){digits}(?!\d))"
    return re.sub(pattern, lambda m: table[m.group(0)], text)


def shown(line: str, workdir: Path) -> str:
    """What the guide shows for an actual output line (before masking numbers)."""
    return host_python(line.replace(str(workdir), SHOWN_CWD))


def masked(line: str) -> str:
    line = _JSON_NUMBER.sub(r"\1<n>", line)
    line = _SHA256.sub("<sha256>", line)
    line = _SIZE.sub("<size>", line)
    return _SECONDS.sub("<time>", line).rstrip()


def align(expected: Sequence[str], actual: Sequence[str]) -> list[int | tuple[int, int]] | None:
    """For each expected line, the actual line it matches (or the span a ``...`` covers); None: no match."""

    memo: dict[tuple[int, int], list | None] = {}

    def go(i: int, j: int) -> list | None:
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(expected):
            result = [] if j == len(actual) else None
        elif expected[i].strip() == ELLIPSIS:
            result = None
            for k in range(j, len(actual) + 1):
                rest = go(i + 1, k)
                if rest is not None:
                    result = [(j, k), *rest]
                    break
        elif j < len(actual) and masked(expected[i]) == masked(actual[j]):
            rest = go(i + 1, j + 1)
            result = None if rest is None else [j, *rest]
        else:
            result = None
        memo[(i, j)] = result
        return result

    return go(0, 0)


def mismatches(steps: Sequence[Step], workdir: Path) -> list[str]:
    """A unified-diff-like report per command whose output differs from the guide."""
    import difflib

    problems = []
    for step in steps:
        for command in step.commands:
            actual = [shown(line, workdir) for line in command.actual]
            if align(command.expected, actual) is None:
                diff = difflib.unified_diff(command.expected, actual, "guide", "actual", lineterm="", n=2)
                problems.append(f"$ {command.argv}\n" + "\n".join(diff))
    return problems


def rewrite(lines: list[str], steps: Sequence[Step], workdir: Path) -> list[str]:
    """The guide with every console block showing this run's output (``...`` kept where it still fits)."""
    result = list(lines)
    for step in reversed([s for s in steps if s.kind == "console"]):
        body: list[str] = []
        for command in step.commands:
            actual = [shown(line, workdir) for line in command.actual]
            alignment = align(command.expected, actual)
            body.append(f"$ {command.argv}")
            if alignment is None:
                body += actual
            else:
                body += [ELLIPSIS if isinstance(a, tuple) else actual[a] for a in alignment]
        result[step.start + 1 : step.end - 1] = body
    return result


def main_(argv: Sequence[str] = ()) -> int:
    import tempfile

    args = list(argv)
    write = "--write" in args
    paths = [a for a in args if a != "--write"]
    guide = Path(paths[0]) if paths else GUIDE
    lines = guide.read_text().splitlines()
    steps = parse(lines)
    with tempfile.TemporaryDirectory(prefix="w2c-guide-") as tmp:
        workdir = Path(tmp).resolve()
        run_steps(steps, workdir)
        if write:
            guide.write_text("\n".join(rewrite(lines, steps, workdir)) + "\n")
            print(f"rewrote {guide}")
            return 0
        problems = mismatches(steps, workdir)
    for problem in problems:
        print(problem, end="\n\n")
    print(f"{len(problems)} command(s) differ from {guide}" if problems else f"{guide}: every command's output matches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main_(sys.argv[1:]))
