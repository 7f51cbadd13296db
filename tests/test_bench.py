"""Every benchmark runs and prints its figures (at a tiny size: the timings themselves are the
benchmarks' business, not the tests')."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

CASES = {
    "bench_analysis.py": (["--ua-n", "4", "--sa-n", "4", "--units", "60", "--big-n", "4", "--repeat", "1"], r"60 units x 50 indicators, 4 replications, \d+ workers: \d+\.\d+ s"),
    "bench_exact_sums.py": (["--units", "60", "--repeat", "1"], r"aggregate amean \(whole stage\): \d+\.\d+ ms"),
    "bench_coinr_synthetic.py": (
        ["--units", "60", "--repeat", "1", "--variants", "3"],
        r"60 units x 50 indicators from CSV: median \d+\.\d+ ms(.|\n)*regen(.|\n)*evaluate_many of 3 weight variants",
    ),
    "bench_cli.py": (["--units", "60", "--repeat", "1"], r"--help: median \d+\.\d+ s(.|\n)*evaluate 60 units x 50 indicators.*median \d+\.\d+ s"),
    "bench_derive.py": (["--institutions", "40", "--years", "2", "--runs", "1"], r"\d+\.\d+ s"),
    "bench_import.py": (["--entities", "30", "--runs", "1"], r"import 6,000 observations into sqlite: \d+\.\d+ s"),
    "bench_validate.py": (["--institutions", "30", "--years", "2"], r"read \+ validate [\d,]+ rows: \d+\.\d+ s"),
    "bench_import_file.py": (["--institutions", "30", "--years", "2"], r"whole import .*: \d+\.\d+ s wall"),
    "bench_rounds.py": (["--institutions", "50", "--status-entities", "20", "--derive-institutions", "20", "--years", "2"],
                        r"campaign status on 20 entities .*: \d+\.\d+ s"),
    "bench_records.py": (["20000"], r"duckdb +20,020 records in \d+\.\d+ s = [\d.]+ M records/s, peak RSS [\d,]+ MB"),
    "bench_reports.py": (["--institutions", "12", "--workers", "1", "--formats", "html"],
                         r"12 scorecards in HTML \(zh\): \d+\.\d+ s wall, \d+\.\d+ s CPU .* folder \d+\.\d+ MB"),
    "bench_demo.py": (["--institutions", "40", "--skip-reports"], r"demo, 40 institutions, without reports: \d+\.\d+ s wall, \d+\.\d+ s CPU"),
    "bench_registers.py": (["--entities", "40"], r"register sizes of 40 institutions \(160 values, units converted\): \d+\.\d+ s"),
    "bench_returns.py": (["--submissions", "6", "--institutions", "3", "--threads", "2", "--retry-every", "3"],
                         r"verified: 8 acknowledged, 6 stored exactly once(.|\n)*returns on sqlite: 8 submissions \(100 variables each.*\d+\.\d+ submissions/s; latency p50"),
    "bench_web.py": (["--institutions", "30", "--sign-ins", "2", "--requests", "20", "--clients", "2"],
                     r"sign-in .*: p50 \d+\.\d+ ms(.|\n)*20 requests in \d+\.\d+ s = \d+ req/s, p50 \d+\.\d+ ms"),
    "bench_vendor_rating.py": (["--repeat", "2", "--files", "2"],
                               r"save one step \+ rating: median \d+\.\d+ ms(.|\n)*assessment page .*: median \d+\.\d+ ms"),
    "bench_results.py": (["--institutions", "24", "--repeat", "1"],
                         r"score 24 institutions \(J, H, Q\): the request \d+ ms \(202, queued\), the job \d+\.\d+ s"
                         r"(.|\n)*scorecard PDF: first \d+\.\d+ s"),
    "bench_forms.py": (["--institutions", "2"], r"render the form: p50 \d+\.\d+ ms(.|\n)*accept 2 returns at once from the list: \d+\.\d+ s"),
    "bench_web_load.py": (["--submissions", "12", "--clients", "2", "--institutions", "4", "--workers", "1",
                           "--retry-every", "4", "--seconds", "120"],
                          r"steady: 15 of 15 submissions answered .* submissions/s; latency p50 \d+\.\d+ ms, p99 \d+\.\d+ ms"
                          r"(.|\n)*steady verified: 15 acknowledged \(3 as replays\), 12 distinct submissions stored exactly once"
                          r"(.|\n)*kill: 15 of 15 .*server killed \(SIGKILL\) after 7 answers"
                          r"(.|\n)*kill verified: 15 acknowledged .*12 distinct submissions stored exactly once"),
}
#: benchmarks that need what the slow and PostgreSQL tests need (a throwaway PostgreSQL cluster)
MARKS = {"bench_web_load.py": (pytest.mark.pg, pytest.mark.slow)}


def test_every_benchmark_is_covered():
    assert {p.name for p in BENCH.glob("bench_*.py")} == set(CASES)


@pytest.mark.parametrize("name", [pytest.param(n, marks=MARKS.get(n, ())) for n in sorted(CASES)])
def test_benchmark_runs_and_prints_figures(name):
    args, expected = CASES[name]
    done = subprocess.run(
        [sys.executable, str(BENCH / name), *args], capture_output=True, text=True, timeout=600, cwd=BENCH.parent
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(expected, done.stdout), done.stdout
