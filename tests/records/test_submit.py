"""Derived observations go into the data layer as one submission whose payload keeps the provenance."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fintech_eval.errors import DataError
from fintech_eval.records import derive_records
from fintech_eval.records.generate import generate_records
from fintech_eval.records.submit import import_derived, write_observations
from fintech_eval.service import derive_from_db
from fintech_eval.store import init_db, observations_frame, session_factory, submissions_frame


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    gen = generate_records(tmp_path_factory.mktemp("sub") / "recs", rows=40_000, seed=9)
    return gen, derive_records(gen.out, "2024")


def _db(tmp_path):
    return f"sqlite:///{tmp_path / 'x.sqlite'}"


def test_import_stores_the_values_and_the_provenance(derived, tmp_path):
    gen, d = derived
    db = _db(tmp_path)
    rep = import_derived(d, db, institutions=gen.out / "institutions.csv")
    assert rep.new_submissions == 1 and rep.stored_rows == len(d.observations)
    with session_factory(init_db(db))() as s:
        obs = observations_frame(s, period="2024")
        subs = submissions_frame(s)
        payload = s.execute(__import__("sqlalchemy").text("SELECT payload FROM submission")).scalar_one()
    got = obs.set_index(["entity_id", "variable"])["value"].sort_index()
    want = gen.expected.set_index(["entity_id", "variable"])["value"].sort_index()
    assert got.index.equals(want.index) and (got == want).all()
    assert len(subs) == 1 and subs["file_name"].iloc[0] == "records-jrt0201-records-1.0-2024.json"
    prov = json.loads(payload)["provenance"]
    assert prov["derivation"] == "jrt0201-records@1.0" and prov["engine"].startswith("duckdb")
    assert prov["sources"]["transactions"]["records"] == 40_000 + sum(gen.bad["transactions"].values())
    assert prov["sources"]["transactions"]["bad_by_rule"] == gen.bad["transactions"]
    assert all(len(f["sha256"]) == 64 for f in prov["sources"]["transactions"]["files"])
    # the indicators now come from the stored values, e.g. the off-counter rate of the largest bank
    panel = derive_from_db(db, period="2024")
    j = panel[(panel["code"].astype(str) == "J-A3B1-C6")].set_index("entity_id")["value"]
    e = want.xs("SYN-REC-BANK-0001")
    assert j["SYN-REC-BANK-0001"] == pytest.approx(e["off_counter_transactions"] / e["total_transactions"], rel=1e-12)


def test_the_same_derivation_again_changes_nothing(derived, tmp_path):
    gen, d = derived
    db = _db(tmp_path)
    import_derived(d, db, institutions=gen.out / "institutions.csv")
    again = import_derived(derive_records(gen.out, "2024"), db)
    assert (again.new_submissions, again.unchanged_submissions) == (0, 1)


def test_institutions_missing_from_the_register_store_nothing(derived, tmp_path):
    """(An empty register accepts any id, as every import does; a register that lacks them refuses.)"""
    from fintech_eval.records.submit import register_institutions

    _, d = derived
    db = _db(tmp_path)
    register_institutions(db, pd.DataFrame({"id": ["B1"], "name_zh": ["某银行"], "sector": ["bank"]}), user="t", why="test")
    with pytest.raises(DataError) as exc:
        import_derived(d, db)
    assert {p.rule for p in exc.value.problems} == {"entity.unknown"}
    with session_factory(init_db(db))() as s:
        assert observations_frame(s).empty and submissions_frame(s).empty


@pytest.mark.parametrize("suffix", [".json", ".csv", ".parquet"])
def test_files_out(derived, tmp_path, suffix):
    _, d = derived
    path = write_observations(d, tmp_path / f"obs{suffix}")
    if suffix == ".json":
        doc = json.loads(path.read_text())
        assert len(doc["records"]) == len(d.observations) and doc["provenance"]["period"] == "2024"
        return
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(back["value"]) == list(d.observations["value"])  # exactly, through text too
    assert json.loads((tmp_path / f"obs{suffix}.provenance.json").read_text())["derivation"] == "jrt0201-records@1.0"
