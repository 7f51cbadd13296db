"""Spark (local mode) and DuckDB on the same records give identical observations and bad-record counts."""

from __future__ import annotations

import pytest

from fintech_eval.records import derive_records, load_records_spec
from fintech_eval.records.backends.spark import SparkBackend
from fintech_eval.records.generate import generate_records

from .handmade import EXPECTED, write_all

pytestmark = [pytest.mark.spark, pytest.mark.slow]
SPEC = load_records_spec()


def _same(a, b):
    assert a.observations.equals(b.observations)  # bit for bit, not approximately
    assert [(s.source, s.n_records, s.n_valid, s.entities, s.bad) for s in a.sources] == \
           [(s.source, s.n_records, s.n_valid, s.entities, s.bad) for s in b.sources]
    pa, pb = a.provenance, b.provenance
    assert pa.pop("engine").startswith("duckdb") and pb.pop("engine").startswith("spark")
    assert pa == pb


def test_both_engines_give_identical_results_on_generated_records(spark, tmp_path):
    gen = generate_records(tmp_path / "recs", rows=30_000, seed=5, batch=12_000, rows_per_file=20_000, bad_rate=0.004)
    duck = derive_records(gen.out, "2024", engine="duckdb")
    sp = derive_records(gen.out, "2024", engine=SparkBackend(session=spark))
    _same(duck, sp)
    want = gen.expected.set_index(["entity_id", "variable"])["value"]
    assert (sp.observations.set_index(["entity_id", "variable"])["value"].loc[want.index] == want).all()
    for s in sp.sources:
        for rule, examples in s.examples.items():
            assert examples and all(e["_file"] for e in examples), (s.source, rule)


def test_both_engines_give_identical_results_on_handmade_csv_records(spark, tmp_path):
    """Text input: types read by each engine's own cast, bad text counted alike (Parquet: the test above)."""
    write_all(tmp_path, SPEC, fmt="csv")
    duck = derive_records(tmp_path, "2024", engine="duckdb")
    sp = derive_records(tmp_path, "2024", engine=SparkBackend(session=spark))
    _same(duck, sp)
    got = {(r.entity_id, r.variable): r.value for r in sp.observations.itertuples()}
    assert got == pytest.approx({(e, v): x for e, vals in EXPECTED.items() for v, x in vals.items()}, rel=1e-12)
