"""The README's first command, timed as a user runs it: the whole ``fintech-eval demo`` process (one evaluation
round on the synthetic national sample: register, sample, campaign, questionnaires, returns, status, derive,
score, publish), with the reports and with ``--no-reports``. Output is discarded (quiet); prints wall and CPU
seconds (every process of the run: the report workers too) and the machine load.

    python bench/bench_demo.py [--institutions 600] [--repeat 1] [--skip-reports]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _load import load_note


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeat`` runs of ``fintech-eval demo ARGS`` into a fresh folder."""
    walls, cpus = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "fintech_eval", "demo", "--out", str(Path(tmp) / "demo"), *args]
            t, c = time.perf_counter(), cpu_children()
            done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            walls.append(time.perf_counter() - t)
            cpus.append(cpu_children() - c)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--institutions", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-reports", action="store_true", help="only the run with --no-reports")
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    variants = [("without reports", ["--no-reports"])] + ([] if a.skip_reports else [("with reports", [])])
    for label, extra in variants:
        w, c = run(["--institutions", str(a.institutions), *extra], a.repeat)
        print(f"fintech-eval demo, {a.institutions} institutions, {label}: {w:.1f} s wall, {c:.1f} s CPU")
    note = load_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
