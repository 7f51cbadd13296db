"""What correctly rounded sums cost: methods/_exact.py against numpy's plain sums, and the two stages that use
them (z-scores, arithmetic-mean aggregation) on COINr's synthetic case.

    python bench/bench_exact_sums.py [--units 5000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_coinr_synthetic import synthetic_frames  # noqa: E402
from fintech_eval.engine.coinr import read_coinr  # noqa: E402
from fintech_eval.methods import aggregate, normalise  # noqa: E402
from fintech_eval.methods._exact import dot_rows, sum_cols, sum_rows  # noqa: E402


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=15)
    a = ap.parse_args()
    coin = read_coinr(*synthetic_frames(a.units))
    data, tree = coin.data, coin.tree
    data = data.fillna(data.mean())
    x = data.to_numpy()
    w = np.random.default_rng(2).random(x.shape[1])
    rows = [
        ("row sums", lambda: sum_rows(x), lambda: x.sum(axis=1)),
        ("column sums", lambda: sum_cols(x), lambda: x.sum(axis=0)),
        ("weighted row sums", lambda: dot_rows(x, w), lambda: x @ w),
    ]
    print(f"{a.units} units x {x.shape[1]} indicators, median of {a.repeat} runs (ms): correctly rounded vs plain numpy")
    for name, exact, plain in rows:
        print(f"  {name}: {median_ms(exact, a.repeat):.2f} vs {median_ms(plain, a.repeat):.2f}")
    print(f"  normalise zscore (whole stage): {median_ms(lambda: normalise(data, tree.directions, 'zscore'), a.repeat):.2f} ms")
    print(f"  aggregate amean (whole stage): {median_ms(lambda: aggregate(data, tree), a.repeat):.2f} ms")


if __name__ == "__main__":
    main()
