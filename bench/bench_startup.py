"""Start-up time of the command line, next to the interpreter's own.

Each command runs ``STARTUP_RUNS`` times (default 20) as a fresh process: ``python -c pass``
(the floor: interpreter and site start-up), then ``wheel2conda --version``, ``--help`` and
``COMMAND --help`` through the installed console script.  Reported per line: wall-clock
seconds, fastest and median run, and the CPU seconds (user + system) of the fastest run.  On
a machine shared with other jobs the wall clock measures the queue as much as the code; CPU
time does not, so the target (issue 15: 0.15 s for every wheel2conda line) is checked on the
fastest run's wall clock *or* CPU time, whichever is lower, and both are printed.  Bytecode is
compiled first and ``PYTHONDONTWRITEBYTECODE`` dropped for the runs, as for an installed tool (pip
compiles it at install time): compiling the sources on every start would be measured otherwise.
``tests/test_cli_startup.py`` checks what each line imports; timing lives only here.
"""

from __future__ import annotations

import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.15
RUNS = int(os.environ.get("STARTUP_RUNS", "20"))
LINES = [
    ["--version"],
    ["--help"],
    ["convert", "--help"],
    ["inspect", "--help"],
    ["to-wheel", "--help"],
    ["channel", "list", "--help"],
    ["verify", "--help"],
    ["recipes", "build", "--help"],
]


def console_script() -> str:
    here = Path(sys.executable).parent / "wheel2conda"
    return str(here) if here.exists() else (shutil.which("wheel2conda") or "wheel2conda")


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str]) -> tuple[float, float, float]:
    """Fastest and median wall-clock seconds, and the least CPU seconds of a run."""
    wall, cpu = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(wall), statistics.median(wall), min(cpu)


def main() -> int:
    script = console_script()
    import bridge

    compileall.compile_dir(Path(bridge.__file__).parent, quiet=1)  # the package the console script runs
    print(f"{RUNS} runs each, fresh processes, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; target {TARGET_S:.2f} s")
    print(f"{'seconds':34} {'fastest':>8} {'median':>8} {'cpu':>8}")
    floor = timed([sys.executable, "-c", "pass"])
    print(f"{'python -c pass':34} {floor[0]:8.3f} {floor[1]:8.3f} {floor[2]:8.3f}")
    over = []
    for line in LINES:
        fastest, median, cpu = timed([script, *line])
        label = "wheel2conda " + " ".join(line)
        late = min(fastest, cpu) > TARGET_S
        print(f"{label:34} {fastest:8.3f} {median:8.3f} {cpu:8.3f}" + ("  OVER TARGET" if late else ""))
        if late:
            over.append(label)
    if over:
        print(f"over {TARGET_S} s: {', '.join(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
