"""COINr's synthetic benchmark, in process: impute (mean) → treat (COINr rule) → min-max → arithmetic mean.

5,000 units × 50 lognormal indicators, 2 % missing, every 7th indicator reversed, 10 pillars → 2 sub-indices
→ index. COINr 1.1.14 takes 4.2 s for this on these machines (18.1 s for 20,000 units): the goal is 50×
faster, i.e. ≤ 84 ms. Prints the median of several runs per stage and in total.

    python bench/bench_coinr_synthetic.py [--units 5000 20000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

import fintech_eval as fe
from fintech_eval.tree import Tree

COINR_SECONDS = {5000: 4.2, 20000: 18.1}


def synthetic(n_units: int, n_ind: int = 50, seed: int = 1) -> tuple[pd.DataFrame, Tree]:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(mean=0.0, sigma=1.0, size=(n_units, n_ind))
    x[rng.random(x.shape) < 0.02] = np.nan
    codes = [f"i{j + 1:02d}" for j in range(n_ind)]
    data = pd.DataFrame(x, index=pd.Index([f"u{i:05d}" for i in range(n_units)], name="uCode"), columns=codes)
    rows = [
        {"code": c, "parent": f"P{j % 10 + 1:02d}", "level": 1, "direction": -1 if (j + 1) % 7 == 0 else 1}
        for j, c in enumerate(codes)
    ]
    rows += [{"code": f"P{p:02d}", "parent": "S1" if p <= 5 else "S2", "level": 2} for p in range(1, 11)]
    rows += [{"code": "S1", "parent": "Index", "level": 3}, {"code": "S2", "parent": "Index", "level": 3}]
    rows += [{"code": "Index", "level": 4}]
    return data, Tree.from_rows(rows)


SPEC = {
    "name": "COINr synthetic benchmark",
    "data": {"format": "frame"},
    "steps": [
        {"impute": {"method": "mean"}},
        {"treat": {"method": "coinr"}},
        {"normalise": {"method": "minmax", "range": [0, 100]}},
        {"aggregate": {"method": "amean"}},
    ],
}


def run_once(data: pd.DataFrame, tree: Tree) -> float:
    t0 = time.perf_counter()
    fe.evaluate(SPEC, frames={"data": data, "tree": tree})
    return time.perf_counter() - t0


def stage_times(data: pd.DataFrame, tree: Tree) -> dict[str, float]:
    from fintech_eval.methods import aggregate, impute, normalise, treat

    out: dict[str, float] = {}
    t = time.perf_counter()
    d = impute(data, "mean").data
    out["impute"] = time.perf_counter() - t
    t = time.perf_counter()
    d = treat(d, "coinr").data
    out["treat"] = time.perf_counter() - t
    t = time.perf_counter()
    d = normalise(d, tree.directions, "minmax", l_u=(0, 100))
    out["normalise"] = time.perf_counter() - t
    t = time.perf_counter()
    aggregate(d, tree)
    out["aggregate"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    for n in args.units:
        data, tree = synthetic(n)
        run_once(data, tree)  # warm-up
        totals = [run_once(data, tree) for _ in range(args.repeat)]
        stages = [stage_times(data, tree) for _ in range(args.repeat)]
        med = statistics.median(totals)
        per = {k: statistics.median(s[k] for s in stages) for k in stages[0]}
        coinr = COINR_SECONDS.get(n)
        speed = f", {coinr / med:.0f}x faster than COINr's {coinr} s" if coinr else ""
        print(f"{n} units x 50 indicators: median {med * 1000:.1f} ms over {args.repeat} runs{speed}")
        print("  stages (median ms): " + ", ".join(f"{k} {v * 1000:.1f}" for k, v in per.items()))


if __name__ == "__main__":
    main()
