"""Benchmark: a provincial round's scorecards, every entity's, in HTML and in PDF (goal: 200 in HTML <= 30 s and
in PDF <= 3 min on 2 cores), and the size of the folder they fill.

    python bench/bench_reports.py [--institutions 200] [--workers 2] [--formats html,pdf] [--lang zh] [--seed 7]

Builds a SYNTHETIC block-J result in process (seeded): institutions in four sectors over ten provinces, bank-only
indicators not applicable to the others, values drawn log-normally; the default evaluation (COINr outlier
treatment and min-max within each sector, equal weights, arithmetic mean). Saves it, loads it back as
``fintech-eval report`` does, then times ``render_batch`` (the code behind ``--entity all``) per format: every
scorecard, the shared method appendix, plotly.js and the index page, in ``--workers`` processes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fintech_eval as fe  # noqa: E402
from fintech_eval.report import load_result  # noqa: E402
from fintech_eval.report.batch import render_batch, select_units  # noqa: E402
from fintech_eval.service import DEFAULT_BLOCK_STEPS  # noqa: E402

SECTOR_MIX = {"bank": 0.4, "securities": 0.2, "insurance": 0.2, "payment": 0.2}
PROVINCES = ["11", "12", "31", "32", "33", "37", "44", "50", "51", "61"]


def synthetic_result(n: int, seed: int) -> fe.Result:
    """A block-J result of ``n`` synthetic institutions (see the module doc)."""
    fw = fe.load_framework("jrt0201-2020")
    tree = fe.Tree.from_framework(fw, "J")
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"SYN-{i:04d}" for i in range(n)], name="uCode")
    sectors = rng.choice(list(SECTOR_MIX), size=n, p=list(SECTOR_MIX.values()))
    data = pd.DataFrame(rng.lognormal(1.0, 0.6, (n, len(tree.indicators))), columns=tree.indicators, index=idx)
    mask = pd.DataFrame({c: [not fw.indicator(c).applies_to(s) for s in sectors] for c in tree.indicators}, index=idx)
    data = data.mask(mask)
    groups = pd.DataFrame({"sector": sectors, "region_code": rng.choice(PROVINCES, size=n)}, index=idx)
    names = pd.Series([f"合成机构{i:04d}" for i in range(n)], index=idx)
    spec = {"name": f"jrt0201-2020 block J, 2024 (synthetic, {n} institutions)", "data": {"format": "frame"},
            "steps": DEFAULT_BLOCK_STEPS, "ranks": {"groups": ["sector", "region_code"]}}
    return fe.evaluate(spec, frames={"data": data, "tree": tree, "groups": groups, "not_applicable": mask, "names": names})


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--institutions", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--formats", default="html,pdf")
    ap.add_argument("--lang", default="zh", choices=["zh", "en"])
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    from _load import load_note

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        synthetic_result(a.institutions, a.seed).save(root / "J-2024")
        result = load_result(root / "J-2024")
        units = select_units(result)
        print(f"synthetic result of {len(units)} institutions built, saved and loaded: {time.perf_counter() - t0:.1f} s")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {a.workers} worker process(es)")
        for fmt in a.formats.split(","):
            out = root / f"reports-{fmt}"
            t, c = time.perf_counter(), os.times()
            batch = render_batch(result, units, lang=a.lang, fmt=fmt, out=out, workers=a.workers)
            took, c1 = time.perf_counter() - t, os.times()
            # CPU seconds of this process and of the worker processes (reaped when the pool closes): what the
            # batch costs whatever else runs on the machine; wall time / CPU shows how much of it waited
            cpu = (c1.user - c.user) + (c1.system - c.system) + (c1.children_user - c.children_user) + (c1.children_system - c.children_system)
            size = folder_size(out)
            per = sorted(p.stat().st_size for p in batch.files)
            print(f"{len(batch.files)} scorecards in {fmt.upper()} ({a.lang}): {took:.1f} s wall, {cpu:.1f} s CPU "
                  f"({cpu / len(batch.files):.2f} s CPU per report: {cpu / a.workers:.1f} s on {a.workers} idle cores); "
                  f"folder {size / 1e6:.1f} MB (median report {per[len(per) // 2] / 1e3:.0f} kB, plus the shared files)")
    note = load_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
