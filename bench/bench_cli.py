"""The whole CLI process, as a user runs it: ``fintech-eval --help`` and ``fintech-eval evaluate`` of the
synthetic COINr case (N units × 50 indicators from iData/iMeta CSVs; every stage written as CSV and Parquet,
scores, ranks, records, tree, manifest; the workbook skipped at this size, as by default).

Goals (issue 10): ``--help`` <= 1 s; evaluate of 5,000 × 50 <= 2 s (COINr's whole Rscript process, R
start-up included: about 8 s on these machines). Prints the median wall time of several runs and the machine
load (2 shared CPUs: compare figures taken under similar load).

    python bench/bench_cli.py [--units 5000 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from _load import load_note
from bench_coinr_synthetic import write_synthetic

COINR_SECONDS = {5000: 8.0}
CLI = [sys.executable, "-m", "fintech_eval"]


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wall(args: list[str], repeat: int) -> tuple[float, float, str]:
    """Median wall and CPU (user + system) seconds of running ``args`` (after one warm-up run), and the last
    run's output. CPU time is what the process itself used: under load it varies less than wall time."""
    out = ""
    times, cpus = [], []
    for i in range(repeat + 1):
        t, c = time.perf_counter(), cpu_children()
        done = subprocess.run(args, capture_output=True, text=True)
        dt, dc = time.perf_counter() - t, cpu_children() - c
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
        out = done.stdout
        if i:
            times.append(dt)
            cpus.append(dc)
    return statistics.median(times), statistics.median(cpus), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    med, cpu, _ = wall([*CLI, "--help"], args.repeat)
    print(f"fintech-eval --help: median {med:.2f} s wall ({cpu:.2f} s CPU) over {args.repeat} runs (goal <= 1 s)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for n in args.units:
            spec = write_synthetic(d, n)
            spec.pop("base_dir")
            path = d / f"spec_{n}.yaml"
            path.write_text(yaml.safe_dump(spec), encoding="utf-8")
            out = d / f"out_{n}"
            med, cpu, text = wall([*CLI, "evaluate", str(path), "--out", str(out)], args.repeat)
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
            stages = len(list((out / "stages").glob("*.parquet")))
            coinr = COINR_SECONDS.get(n)
            goal = f" (goal <= 2 s; COINr's Rscript: about {coinr:.0f} s)" if coinr else ""
            note = " workbook skipped" if "results.xlsx not written" in text else ""
            print(f"fintech-eval evaluate {n} units x 50 indicators, {stages} stages as CSV + Parquet ({size:.0f} MB){note}: "
                  f"median {med:.2f} s wall ({cpu:.2f} s CPU) over {args.repeat} runs{goal}")
            shutil.rmtree(out)
    note = load_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
