"""Derived observations go into the data layer as one submission whose payload keeps the provenance."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from fintech_eval.app import Workspace
from fintech_eval.app.derived import derived_panel
from fintech_eval.app.registers import register_file
from fintech_eval.errors import DataError
from fintech_eval.records import derive_records
from fintech_eval.records.generate import generate_records
from fintech_eval.records.submit import import_derived, write_observations
from fintech_eval.store import (
    init_db,
    institutions_frame,
    observations_frame,
    session_factory,
    submissions_frame,
)


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    gen = generate_records(tmp_path_factory.mktemp("sub") / "recs", rows=40_000, seed=9)
    return gen, derive_records(gen.out, "2024")


def _db(tmp_path):
    return f"sqlite:///{tmp_path / 'x.sqlite'}"


def _import(d, db, **kw):
    with Workspace(db) as ws:
        return import_derived(d, ws, **kw)


def test_import_stores_the_values_and_the_provenance(derived, tmp_path):
    gen, d = derived
    db = _db(tmp_path)
    rep = _import(d, db, institutions=gen.out / "institutions.csv")
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
    with Workspace(db, create=False) as ws:
        panel = derived_panel(ws, period="2024").panel
    j = panel[(panel["code"].astype(str) == "J-A3B1-C6")].set_index("entity_id")["value"]
    e = want.xs("SYN-REC-BANK-0001")
    assert j["SYN-REC-BANK-0001"] == pytest.approx(e["off_counter_transactions"] / e["total_transactions"], rel=1e-12)


def test_the_same_derivation_again_changes_nothing(derived, tmp_path):
    gen, d = derived
    db = _db(tmp_path)
    _import(d, db, institutions=gen.out / "institutions.csv")
    again = _import(derive_records(gen.out, "2024"), db)
    assert (again.new_submissions, again.unchanged_submissions) == (0, 1)


def test_institutions_missing_from_the_register_store_nothing(derived, tmp_path):
    """(An empty register accepts no id either, as every import; a register that lacks them refuses.)"""
    _, d = derived
    db = _db(tmp_path)
    (tmp_path / "reg.csv").write_text("id,name_zh,sector\nB1,某银行,bank\n", encoding="utf-8")
    with Workspace(db) as ws:
        register_file(ws, tmp_path / "reg.csv")
    with pytest.raises(DataError) as exc:
        _import(d, db)
    assert {p.rule for p in exc.value.problems} == {"entity.unknown"}
    with session_factory(init_db(db))() as s:
        assert observations_frame(s).empty and submissions_frame(s).empty


def test_institutions_given_with_a_failing_import_are_not_registered(derived, tmp_path):
    """``records derive --institutions``: the register rows and the observations are one transaction."""
    gen, d = derived
    db = _db(tmp_path)
    inst = pd.read_csv(gen.out / "institutions.csv", dtype=str, keep_default_na=False)
    bad = d.observations.copy()
    bad.loc[bad.index[0], "value"] = -5.0  # a negative count: the import is refused
    with pytest.raises(DataError) as exc:
        _import(dataclasses.replace(d, observations=bad), db, institutions=inst)
    assert "entity.unknown" not in {p.rule for p in exc.value.problems}  # the given register counts
    with session_factory(init_db(db))() as s:
        assert institutions_frame(s).empty and observations_frame(s).empty
    # a bad register row refuses the import too, with the register's own rule
    wrong = inst.assign(sector=inst["sector"].where(inst.index > 0, "bnak"))
    with pytest.raises(DataError) as exc:
        _import(d, db, institutions=wrong)
    assert "register.sector" in {p.rule for p in exc.value.problems}
    with session_factory(init_db(db))() as s:
        assert institutions_frame(s).empty and observations_frame(s).empty
    assert _import(d, db, institutions=inst).new_submissions == 1
    with session_factory(init_db(db))() as s:
        assert len(institutions_frame(s)) == len(inst)


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
