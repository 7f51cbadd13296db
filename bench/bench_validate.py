"""Read and validate ~1,000,000 long-format rows (``collect.import_files`` on one CSV): rows/s and seconds.

Builds a synthetic long CSV with the demo generator (institution observations only, the columns of the
demo's returns: entity_kind, entity, period, variable, value, unit, source), then times
``import_files([csv], framework, institutions=...)``: the median of 3 runs when one run is fast enough
(< 20 s), else the single run; then the read and the validation apart (as many runs).

    python bench/bench_validate.py [--institutions 2800] [--years 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import fintech_eval as fe
from _load import load_note
from fintech_eval.collect import import_files, read_file, validate
from fintech_eval.demo import generate


def build(folder: str, n_institutions: int, years: int) -> tuple[str, object, int]:
    fw = fe.load_framework("jrt0201-2020")
    data = generate(n_institutions=n_institutions, years=range(2025 - years, 2025), framework=fw)
    obs = data.observations
    obs = obs[obs["entity_kind"] == "institution"].rename(columns={"entity_id": "entity"})
    cols = ["entity_kind", "entity", "period", "variable", "value", "unit", "source"]
    path = os.path.join(folder, "returns_long.csv")
    obs[cols].to_csv(path, index=False, na_rep="N/A")  # missing values declared, as returns do
    inst = data.institutions.rename(columns={"entity_id": "id"})[["id", "name_zh", "name_en", "sector"]]
    return path, (fw, inst), len(obs)


def phases(path: str, fw: object, inst: object, runs: int) -> tuple[float, float]:
    """Median seconds of reading the file and of validating what was read, timed apart."""
    reads, checks = [], []
    for _ in range(runs):
        t = time.perf_counter()
        frame = read_file(path, framework=fw).frame
        reads.append(time.perf_counter() - t)
        t = time.perf_counter()
        validate(frame, fw, inst)
        checks.append(time.perf_counter() - t)
    return statistics.median(reads), statistics.median(checks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--institutions", type=int, default=2800, help="demo institutions (2800 x 5 years ≈ 1M rows)"
    )
    ap.add_argument("--years", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path, (fw, inst), n = build(tmp, args.institutions, args.years)
        print(f"built {n:,} rows ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        times = []
        for _ in range(3):
            t = time.perf_counter()
            res = import_files([path], fw, institutions=inst)
            times.append(time.perf_counter() - t)
            if times[0] > 20:
                break
        sec = statistics.median(times)
        print(
            f"read + validate {n:,} rows: {sec:.2f} s ({'median of 3' if len(times) == 3 else 'one run'}), "
            f"{n / sec:,.0f} rows/s; clean {len(res.clean):,}, problems {len(res.problems):,}"
        )
        read_s, validate_s = phases(path, fw, inst, runs=len(times))
        print(f"  of which read {read_s:.2f} s, validate {validate_s:.2f} s (medians of separate runs)")
        if note := load_note():
            print(note)


if __name__ == "__main__":
    main()
