"""Start-up of the command line: ``amurlink --version`` and ``amurlink --help`` (target < 0.5 s).

Each is run as the installed console script in a fresh process, ``AMURLINK_BENCH_REPEAT``
times (default 7); the table gives the best and the median wall time. As a baseline in the
same run, ``python -c "import numpy, pandas"`` shows what importing the two libraries alone
costs (what every command paid before the command modules were imported lazily), and
``python -c pass`` the interpreter's own start.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.5


def _time(cmd: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    repeat = int(os.environ.get("AMURLINK_BENCH_REPEAT", "7"))
    exe = shutil.which("amurlink", path=str(Path(sys.executable).parent)) or "amurlink"
    rows = [
        ("amurlink --version", [exe, "--version"]),
        ("amurlink --help", [exe, "--help"]),
        ("baseline: python -c 'import numpy, pandas'",
         [sys.executable, "-c", "import numpy, pandas"]),
        ("baseline: python -c pass", [sys.executable, "-c", "pass"]),
    ]
    print(f"load average: {os.getloadavg()[0]:.1f}; {repeat} runs each")
    print(f"| command | best s | median s | target {TARGET_S} s |")
    print("|---|---:|---:|---|")
    for name, cmd in rows:
        t = _time(cmd, repeat)
        ok = "" if name.startswith("baseline") else ("met" if min(t) < TARGET_S else "MISSED")
        print(f"| {name} | {min(t):.3f} | {statistics.median(t):.3f} | {ok} |")


if __name__ == "__main__":
    main()
