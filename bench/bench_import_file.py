"""The whole import of a 1,000,000-row long-format CSV, as ``fintech-eval import FILE`` runs it:
read, validate against the framework and the institution register, then store (one transaction,
payload kept) into a fresh SQLite database. Prints each phase and the total.

The CSV is the demo generator's institution returns (real JR/T 0201 variables; 2,800 institutions
× 5 years ≈ 1,013,000 rows), as ``bench/bench_validate.py`` builds it. The institutions are
registered first (not timed), as a statistics team's register would be.

    python bench/bench_import_file.py [--institutions 2800] [--years 5] [--db URL]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from _load import load_note
from bench_validate import build
from fintech_eval.app import Workspace
from fintech_eval.app.intake import import_files as import_into
from fintech_eval.collect import import_files
from fintech_eval.store import init_db, session_factory, upsert_institutions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--institutions", type=int, default=2800)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--db", default=None, help="database URL (default: a SQLite file in a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, (fw, inst), n = build(tmp, args.institutions, args.years)
        db = args.db or os.path.join(tmp, "bench.sqlite")
        sessions = session_factory(init_db(db))
        with sessions() as s, s.begin():
            upsert_institutions(s, inst)
        t = time.perf_counter()
        res = import_files([path], fw, institutions=inst)
        t_read = time.perf_counter() - t
        assert not res.errors, res.errors[:3]
        t, c = time.perf_counter(), time.process_time()
        with Workspace(db) as ws:
            report = import_into(ws, [path], fw, user="bench")
        total, cpu = time.perf_counter() - t, time.process_time() - c
        print(f"{n:,} rows ({os.path.getsize(path) / 1e6:.0f} MB CSV), {report.stored_rows:,} stored")
        print(f"read + validate alone: {t_read:.2f} s")
        print(f"whole import (read, validate, store, commit): {total:.2f} s wall, {cpu:.2f} s CPU")
        if note := load_note():
            print(note)


if __name__ == "__main__":
    main()
