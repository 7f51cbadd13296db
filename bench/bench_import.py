"""Import 1,000,000 long-format observations into a fresh database (SQLite by default), then read them back.

The issue's goal is ≤ 3 s for the import. Prints wall and CPU seconds (and a note when other
processes compete for the CPUs: the figures are then inflated, compare runs made under the same load).

    python bench/bench_import.py [--runs 3]          # SQLite (the embedded default)
    python bench/bench_import.py postgresql://…       # a fresh PostgreSQL database
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import pandas as pd

from _load import load_note
from fintech_eval.service import DERIVATION_COLUMNS
from fintech_eval.store import import_observations, init_db, observations_frame, session_factory


def frame(n_entities: int = 5000, years: int = 10, variables: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ents = [f"91110000{i:010d}" for i in range(n_entities)]
    df = pd.MultiIndex.from_product(
        [ents, [str(y) for y in range(2015, 2015 + years)], [f"var_{j:02d}" for j in range(variables)]],
        names=["entity_id", "period", "variable"],
    ).to_frame(index=False)
    df.insert(0, "entity_kind", "institution")
    df["value"] = rng.random(len(df))
    df.loc[::50, "value"] = np.nan
    df["unit"] = "万元"
    df["source"] = "synthetic"
    return df


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", nargs="?", default=None, help="a PostgreSQL URL (a fresh database); default: SQLite")
    ap.add_argument("--runs", type=int, default=3, help="SQLite: imports into fresh files; the median is printed")
    ap.add_argument("--entities", type=int, default=5000, help="× 10 years × 20 variables observations")
    args = ap.parse_args()
    df = frame(n_entities=args.entities)
    if args.url:
        run(df, args.url, read_back=True)
        return
    walls = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:  # each run a fresh SQLite file (~60 MB), removed after
            walls.append(run(df, os.path.join(tmp, "bench.sqlite"), read_back=i == args.runs - 1))
    print(f"median of {len(walls)} imports: {statistics.median(walls):.2f} s (goal ≤ 3 s); "
          f"all: {', '.join(f'{w:.2f}' for w in walls)} s")
    if note := load_note():
        print(note)


def run(df: pd.DataFrame, url: str, *, read_back: bool) -> float:
    engine = init_db(url)
    sessions = session_factory(engine)
    t, c = time.perf_counter(), time.process_time()
    with sessions() as s:
        import_observations(s, b"synthetic payload", df, file_name="bench.csv", fmt="csv", submitted_by="bench")
    wall = time.perf_counter() - t
    print(f"import {len(df):,} observations into {engine.dialect.name}: {wall:.2f} s wall, "
          f"{time.process_time() - c:.2f} s CPU (goal ≤ 3 s)")
    if read_back:
        with sessions() as s:
            t = time.perf_counter()
            out = observations_frame(s)
            print(f"read back {len(out):,} rows, all {out.shape[1]} columns: {time.perf_counter() - t:.2f} s; "
                  f"missing kept as NaN: {int(out['value'].isna().sum()):,}")
            t = time.perf_counter()
            out = observations_frame(s, columns=DERIVATION_COLUMNS)
            print(f"read back {len(out):,} rows, the {len(DERIVATION_COLUMNS)} columns derivation reads: "
                  f"{time.perf_counter() - t:.2f} s")
    engine.dispose()
    return wall


if __name__ == "__main__":
    main()
