"""Raw transaction records → raw variables: a scaling curve on DuckDB (and Spark in local mode).

    python bench/bench_records.py 1e6 1e7 1e8                      # DuckDB, 2 threads
    python bench/bench_records.py 1e6 1e7 --engines duckdb spark   # and Spark local[2]

For each size: generate that many SYNTHETIC transaction records (seeded, partitioned Parquet, in
``--dir``, reused when already there), then derive the five transaction variables for 2024 in a fresh
process per engine and print the wall time, records per second, and for DuckDB (which runs in that
process) its peak resident memory and CPU time (user + system, the whole process; on a machine other
jobs share, it is the figure that does not depend on them: divided by the cores it bounds the wall time
on idle cores from below). Spark's work runs in its JVM,
whose memory is set by ``spark.driver.memory``. Input fingerprints are the Parquet footers
(``--fingerprints footer``); the full SHA-256 of the files is timed on its own line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load_note  # noqa: E402


def _child(args: argparse.Namespace) -> None:
    """Run one derivation and print its figures as JSON (the parent measures this process's memory)."""
    from fintech_eval.records import derive_records

    t0 = time.perf_counter()
    if args.engine == "spark":
        from fintech_eval.records.backends.spark import SparkBackend, spark_session

        session = spark_session(f"local[{args.threads}]", conf={"spark.ui.enabled": "false", "spark.driver.memory": args.spark_memory,
                                                                 "spark.sql.shuffle.partitions": str(2 * args.threads)})
        session.sparkContext.setLogLevel("ERROR")
        engine = SparkBackend(session=session)
    else:
        from fintech_eval.records.backends.duckdb import DuckDBBackend

        engine = DuckDBBackend(threads=args.threads)
    started = time.perf_counter() - t0
    t1 = time.perf_counter()
    d = derive_records(args.input, "2024", engine=engine, fingerprints="footer", examples=3)
    seconds = time.perf_counter() - t1
    engine.close()
    src = d.sources[0]
    print(json.dumps({"seconds": seconds, "start": started, "records": src.n_records, "bad": src.n_bad,
                      "observations": len(d.observations), "version": d.engine}))


def _run_child(engine: str, folder: Path, args: argparse.Namespace) -> tuple[dict, float, float]:
    """Figures of one derivation in a fresh process, that process's peak resident memory (MB) and its
    CPU time (user + system, s: what the derivation costs whatever else the machine runs)."""
    cmd = [sys.executable, __file__, "--child", "--engine", engine, "--input", str(folder), "--threads", str(args.threads),
           "--spark-memory", args.spark_memory]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage: its peak RSS
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{engine} failed:\n{err.read()[-3000:]}")
        line = [x for x in out.read().splitlines() if x.startswith("{")][-1]
    return json.loads(line), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _generate(folder: Path, rows: int, seed: int) -> float:
    from fintech_eval.records.generate import generate_records

    if (folder / "manifest.json").exists():
        return float("nan")
    t0 = time.perf_counter()
    generate_records(folder, rows=rows, seed=seed, sources=["transactions"])
    return time.perf_counter() - t0


def _sha256_seconds(folder: Path) -> tuple[float, int]:
    from fintech_eval.records.derive import fingerprint
    from fintech_eval.records.inputs import open_inputs

    inputs = open_inputs(folder)
    files = inputs.files("transactions") or []
    t0 = time.perf_counter()
    for f in files:
        fingerprint(inputs, f, "sha256")
    return time.perf_counter() - t0, sum(inputs.size(f) for f in files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=float, default=[1e6], help="numbers of transaction records (1e6 1e7 1e8)")
    ap.add_argument("--engines", nargs="+", default=["duckdb"], choices=["duckdb", "spark"])
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads / Spark local cores")
    ap.add_argument("--dir", type=Path, default=None, help="where the records are generated (kept and reused); default: a temporary folder")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--spark-memory", default="4g")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="duckdb", help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-records-")
        args.dir = Path(tmp.name)
    note = load_note()
    print(f"raw records → raw variables; {os.cpu_count()} CPUs, {args.threads} threads per engine")
    if note:
        print(note)
    try:
        for size in args.sizes:
            rows = int(size)
            folder = args.dir / f"transactions-{rows}-seed{args.seed}"
            gen = _generate(folder, rows, args.seed)
            sha, nbytes = _sha256_seconds(folder)
            made = "reused" if gen != gen else f"generated in {gen:.1f} s"
            print(f"{rows:,} transaction records: {nbytes / 1e6:,.0f} MB of Parquet ({made}); SHA-256 of the files {sha:.2f} s")
            for engine in args.engines:
                fig, peak, cpu = _run_child(engine, folder, args)
                rate = fig["records"] / fig["seconds"] / 1e6
                mem = (f", peak RSS {peak:,.0f} MB, process CPU {cpu:.1f} s" if engine == "duckdb"
                       else f" (session start {fig['start']:.1f} s not included)")
                print(f"  {engine:<6} {fig['records']:>13,} records in {fig['seconds']:.2f} s = {rate:.1f} M records/s{mem} "
                      f"[{fig['version']}; {fig['observations']} observations, {fig['bad']:,} bad records reported]")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
