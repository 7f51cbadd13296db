"""Robustness analyses at the sizes the issue sets, beside COINr's published figures.

1. Uncertainty analysis on ASEM (pipeline C), 100 replications of the issue's example assumptions
   (weights ±25 %, min-max or z-score). COINr's 100-run uncertainty analysis: 13-15 s (35 s under load).
   Goal ≤ 0.15 s.
2. Sobol sensitivity on ASEM (pipeline A), N = 256 base samples and COINr's 4 factors (winmax 1-5, min-max
   1-100 or z-score 10/2, weights ±25 % at levels 2-3, arithmetic or geometric mean): 256 × 6 = 1,536 runs.
   COINr's N = 50 (300 runs) takes about 64 s. Goal ≤ 1 s.
3. 1,000 replications on 5,000 units × 50 indicators (bench_coinr_synthetic's files and steps), weights ±25 %
   and min-max or z-score, on ``--workers`` processes. Goal ≤ 20 s.

    python bench/bench_analysis.py [--ua-n 100] [--sa-n 256] [--units 5000] [--big-n 1000] [--workers 2] [--repeat 5]

Timings are wall-clock seconds of the library calls (assumptions checked, runs, statistics), after the
nominal evaluation; each printed with the goal and COINr's figure. The ASEM analyses are run ``--repeat``
times and the median and best are printed, with the first call's time apart (it includes importing SALib
and scipy.stats once per process, about 0.5 s idle, several seconds under load). The time (UTC) and the
machine's load average are printed first: the machine is shared, compare figures taken under similar load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fintech_eval as fe  # noqa: E402
from _load import load_note  # noqa: E402
from bench_coinr_synthetic import write_synthetic  # noqa: E402
from fintech_eval.analysis import sensitivity_analysis, uncertainty_analysis  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COINR_SA = ["treat.winmax=1..5", "normalise=[{method: minmax, range: [1, 100]}, {method: zscore, m_sd: [10, 2]}]",
            "weights=0.25@2,3", "aggregate.method=amean,gmean"]
EXAMPLE_UA = ["weights=0.25", "normalise.method=minmax,zscore"]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def repeated(fn, repeat: int):
    """(last value, first call's seconds, median and best wall seconds and median CPU seconds of ``repeat``
    further calls; CPU time varies far less than wall time under load)."""
    out, first = timed(fn)
    times, cpus = [], []
    for _ in range(repeat):
        c = time.process_time()
        out, t = timed(fn)
        times.append(t)
        cpus.append(time.process_time() - c)
    return out, first, statistics.median(times), min(times), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ua-n", type=int, default=100)
    ap.add_argument("--sa-n", type=int, default=256)
    ap.add_argument("--units", type=int, default=5000)
    ap.add_argument("--big-n", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--repeat", type=int, default=5, help="runs of each ASEM analysis after the first")
    args = ap.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    note = load_note()
    if note:
        print(note)

    c = fe.evaluate(EXAMPLES / "asem-pipeline-c.yaml")
    ua, first, med, best, cpu = repeated(lambda: uncertainty_analysis(c, EXAMPLE_UA, n=args.ua_n, seed=1), args.repeat)
    print(f"uncertainty analysis, ASEM, {args.ua_n} replications: median {med:.3f} s, best {best:.3f} s, CPU {cpu:.3f} s over {args.repeat} runs "
          f"(first call {first:.3f} s) (goal <= 0.15 s for 100; COINr 13-15 s)")

    a = fe.evaluate(EXAMPLES / "asem-pipeline-a.yaml")
    sa, first, med, best, cpu = repeated(lambda: sensitivity_analysis(a, COINR_SA, n=args.sa_n, seed=1), args.repeat)
    print(f"Sobol sensitivity, ASEM, N={args.sa_n}, 4 factors ({len(sa.outputs)} runs): median {med:.3f} s, best {best:.3f} s, CPU {cpu:.3f} s "
          f"over {args.repeat} runs (first call, importing SALib and scipy.stats: {first:.3f} s) "
          f"(goal <= 1 s for N=256; COINr about 64 s for N=50)")

    with tempfile.TemporaryDirectory() as tmp:
        big = fe.evaluate(write_synthetic(Path(tmp), args.units))
    ua, t = timed(lambda: uncertainty_analysis(big, EXAMPLE_UA, n=args.big_n, seed=1, workers=args.workers))
    print(f"uncertainty analysis, {args.units} units x 50 indicators, {args.big_n} replications, "
          f"{args.workers} workers: {t:.3f} s (goal <= 20 s for 1,000 on 5,000 x 50)")


if __name__ == "__main__":
    main()
