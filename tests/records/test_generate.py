"""The generator: the records it writes derive to exactly the values it was built to produce, bad records
are counted by the rule each breaks, output is streamed to partitioned Parquet, seeded and skewed."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fintech_eval.errors import DataError
from fintech_eval.records import derive_records
from fintech_eval.records.generate import generate_records


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "recs"
    return generate_records(out, rows=120_000, seed=11, batch=20_000, rows_per_file=30_000, bad_rate=0.002)


def test_derived_values_equal_what_the_generator_built(generated):
    d = derive_records(generated.out, "2024", engine="duckdb")
    got = d.observations.set_index(["entity_id", "variable"])["value"]
    want = generated.expected.set_index(["entity_id", "variable"])["value"]
    assert len(want) > 100 and got.index.sort_values().equals(want.index.sort_values())
    assert (got.loc[want.index] == want).all()  # exactly: amounts are decimals, times integers
    assert {s.source: s.bad for s in d.sources if s.bad} == {k: v for k, v in generated.bad.items() if v}
    assert sum(generated.bad["transactions"].values()) == 240


def test_files_are_streamed_in_period_partitions(generated):
    files = sorted((generated.out / "transactions" / "period=2024").glob("*.parquet"))
    rows = [pq.ParquetFile(f).metadata.num_rows for f in files]
    assert len(files) == 5 and max(rows) == 30_000 and sum(rows) == 120_000 + 240
    manifest = json.loads((generated.out / "manifest.json").read_text())
    assert manifest["synthetic"] and manifest["records"]["transactions"] == 120_000 and manifest["seed"] == 11
    inst = pd.read_csv(generated.out / "institutions.csv")
    assert inst["id"].str.startswith("SYN-REC-").all() and set(inst["sector"]) <= {"bank", "securities", "insurance", "payment"}


def test_a_few_giants_hold_most_records(generated):
    n = generated.expected[generated.expected["variable"] == "total_transactions"]["value"].sort_values(ascending=False)
    assert len(n) == 20
    assert n.iloc[:3].sum() / n.sum() > 0.4 and n.iloc[-1] < n.iloc[0] / 20


def test_loans_only_for_banks_and_claims_only_for_insurers(generated):
    sector = pd.read_csv(generated.out / "institutions.csv").set_index("id")["sector"]
    e = generated.expected
    assert set(sector[e[e["variable"] == "personal_loans"]["entity_id"]]) == {"bank"}
    assert set(sector[e[e["variable"] == "claims"]["entity_id"]]) <= {"insurance"}


def test_same_seed_same_records(tmp_path):
    a = generate_records(tmp_path / "a", rows=5_000, seed=2, sources=["transactions"])
    b = generate_records(tmp_path / "b", rows=5_000, seed=2, sources=["transactions"])
    c = generate_records(tmp_path / "c", rows=5_000, seed=3, sources=["transactions"])
    ta = pq.read_table(tmp_path / "a" / "transactions")
    assert ta.equals(pq.read_table(tmp_path / "b" / "transactions"))
    assert a.expected.equals(b.expected) and not a.expected.equals(c.expected)


def test_refuses_a_folder_that_is_not_empty_and_unknown_sources(tmp_path):
    (tmp_path / "x.txt").write_text("keep me")
    with pytest.raises(DataError, match="not empty"):
        generate_records(tmp_path, rows=10)
    with pytest.raises(DataError, match="unknown source"):
        generate_records(tmp_path / "new", rows=10, sources=["ledgers"])
    assert (tmp_path / "x.txt").read_text() == "keep me"
