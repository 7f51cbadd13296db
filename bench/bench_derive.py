"""Benchmark: derivation of the J indicators for 5,000 institutions × 10 years (goal <= 1 s).

    /work/venv/bin/python bench/bench_derive.py [--institutions 5000] [--years 10] [--runs 7] [--seed 20201022]

Builds a SYNTHETIC sample in process (seeded; no file read): institutions in the five sectors, every
raw variable the framework asks of the institution's sector (about 3.3 million long observations),
magnitudes drawn log-normally, parts drawn as a fraction of their whole (0.2 % larger than it), 0.2 %
of counts and amounts zero, 2 % of values NaN and 2 % of rows absent. Times ``derive_institutions`` end to end (long → wide pivot, 51 formulas, statuses,
reasons, range checks, the long result frame) and prints the median of several runs; then, for
information, the industry roll-up (19 H indicators), the whole panel, and ``with_inputs=True``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

import fintech_eval as fe
from fintech_eval.derive import derive_all, derive_industry, derive_institutions, to_engine_panel

SECTOR_MIX = {"bank": 0.40, "securities": 0.20, "insurance": 0.20, "payment": 0.15, "other": 0.05}


def synthetic(n_institutions: int = 5000, n_years: int = 10, seed: int = 20201022, fw=None):
    """(observations, institutions): a synthetic sample with the framework's institution variables."""
    fw = fw or fe.load_framework("jrt0201-2020")
    rng = np.random.default_rng(seed)
    ids = np.array([f"SYN{i:05d}" for i in range(n_institutions)])
    sectors = rng.choice(list(SECTOR_MIX), size=n_institutions, p=list(SECTOR_MIX.values()))
    regions = rng.choice([f"{c}0000" for c in (11, 12, 13, 31, 32, 33, 44, 50, 51, 61)], size=n_institutions)
    institutions = pd.DataFrame({"entity_id": ids, "sector": sectors, "region_code": regions})
    years = np.arange(2024 - n_years + 1, 2025)
    variables = [v for v in fw.variables if v.entity == "institution"]
    order = {v.name: i for i, v in enumerate(variables)}
    # wholes before their parts
    variables.sort(key=lambda v: (v.part_of is not None, order[v.name]))
    frames = []
    for sector in SECTOR_MIX:
        who = ids[sectors == sector]
        if not len(who):
            continue
        n = len(who) * n_years
        vals: dict[str, np.ndarray] = {}
        for v in variables:
            if v.sectors and sector not in v.sectors:
                continue
            if v.part_of is not None and v.part_of in vals:
                x = np.floor(vals[v.part_of] * rng.uniform(0.05, 0.95, n))
                bad = rng.random(n) < 0.002  # a few parts larger than their whole: flagged values
                x[bad] = vals[v.part_of][bad] * 1.5
            elif v.type == "level":
                x = rng.integers(int(v.min or 1), int(v.max or 5) + 1, n).astype(float)
            elif v.type == "binary":
                x = rng.integers(0, 2, n).astype(float)
            elif v.type == "score":
                x = np.round(rng.uniform(40, 100, n), 1)
            elif v.type == "count":
                x = np.floor(rng.lognormal(6, 1.5, n)) + 1
            else:
                x = np.round(rng.lognormal(8, 1.5, n), 2)
            if v.part_of is None and v.type in ("count", "money"):
                x[rng.random(n) < 0.002] = 0  # a few zero wholes: undefined ratios
            vals[v.name] = x
        names = list(vals)
        block = np.stack([vals[k] for k in names], axis=1)  # (n, n_vars)
        block[rng.random(block.shape) < 0.02] = np.nan
        keep = rng.random(block.shape) >= 0.02
        r, c = np.nonzero(keep)
        frames.append(
            pd.DataFrame(
                {
                    "entity_kind": "institution",
                    "entity_id": np.repeat(who, n_years)[r],
                    "period": np.tile(years, len(who))[r],
                    "variable": np.array(names)[c],
                    "value": block[r, c],
                }
            )
        )
    obs = pd.concat(frames, ignore_index=True)
    obs["entity_kind"] = obs["entity_kind"].astype("str")
    obs["entity_id"] = obs["entity_id"].astype("str")
    obs["variable"] = obs["variable"].astype("str")
    return obs, institutions


def _times(fn, runs: int, cpu: list[float] | None = None) -> tuple[list[float], object]:
    """Wall-clock times of ``runs`` calls (and their CPU times appended to ``cpu``)."""
    times, out = [], None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
    return times, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--institutions", type=int, default=5000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--seed", type=int, default=20201022)
    a = ap.parse_args()

    fw = fe.load_framework("jrt0201-2020")
    t = time.perf_counter()
    obs, inst = synthetic(a.institutions, a.years, a.seed, fw)
    print(f"synthetic sample: {a.institutions} institutions × {a.years} years, {len(obs):,} observations "
          f"(built in {time.perf_counter() - t:.2f} s, seed {a.seed})")
    derive_institutions(obs, inst, fw)  # warm-up: formula parsing caches, pyarrow kernels

    cpu: list[float] = []
    times, j = _times(lambda: derive_institutions(obs, inst, fw), a.runs, cpu)
    t_j = statistics.median(times)
    n_rows = j[["entity_id", "period"]].drop_duplicates().shape[0]
    print(f"derive_institutions: {n_rows:,} institution-years × 51 J indicators = {len(j):,} values: "
          f"median {t_j:.3f} s over {a.runs} runs (min {min(times):.3f} s, max {max(times):.3f} s; "
          f"CPU median {statistics.median(cpu):.3f} s)  goal <= 1 s: {'met' if t_j <= 1 else 'NOT met'}")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"  note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: other processes compete, "
              "wall times are inflated")
    print("  statuses:", ", ".join(f"{k} {v:,}" for k, v in j["status"].value_counts().items()))
    times, h = _times(lambda: derive_industry(obs, inst, j, fw), a.runs)
    print(f"derive_industry (19 H roll-ups, from obs + the J frame): median {statistics.median(times):.3f} s, "
          f"{len(h)} values")
    times, panel = _times(lambda: derive_all(obs, inst, fw), max(1, a.runs // 2))
    print(f"derive_all (J + H + Q panel, pivoted once): median {statistics.median(times):.3f} s, {len(panel):,} rows")
    times, _ = _times(lambda: to_engine_panel(panel, "J"), max(1, a.runs // 2))
    print(f"to_engine_panel(panel, 'J'): median {statistics.median(times):.3f} s")
    times, _ = _times(lambda: derive_institutions(obs, inst, fw, with_inputs=True), 1)
    print(f"derive_institutions(with_inputs=True): {times[0]:.3f} s (one run; a JSON record of the inputs per value)")


if __name__ == "__main__":
    main()
