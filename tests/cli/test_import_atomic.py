"""Every malformed input of tests/collect is rejected by the real import into a database, which stays unchanged."""


import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.errors import DataError
from fintech_eval.store import (
    init_db,
    session_factory,
    upsert_institutions,
)
from tests.collect.malformed.generators import CASES, Ctx, institutions
from tests.dbstate import fingerprint, import_into


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    """A database with the two test institutions and one accepted return already in it."""
    db = str(tmp_path_factory.mktemp("db") / "fe.sqlite")
    inst = institutions().rename(columns={"entity_id": "id"})
    inst = inst[[c for c in ("id", "name_zh", "name_en", "sector", "subtype", "region_code", "listed") if c in inst]]
    with session_factory(init_db(db))() as s, s.begin():
        upsert_institutions(s, inst)
    first = tmp_path_factory.mktemp("ok") / "ok.csv"
    bank = inst["id"].iloc[0]
    first.write_text(f"entity,period,variable,value,unit\n{bank},2023,fintech_staff,100,person\n", encoding="utf-8")
    import_into(db, [first], fe.load_framework("jrt0201-2020"), user="test")
    return db


# the turnover case brings its own previous-period frame; against the database it is the test below
DB_CASES = sorted(n for n in CASES if n != "csv_turnover_vs_previous")


@pytest.mark.parametrize("name", DB_CASES)
def test_malformed_input_changes_nothing(name, seeded_db, tmp_path):
    make, rule, _ = CASES[name]
    ctx = Ctx(fw=fe.load_framework("jrt0201-2020"), institutions=institutions())
    inp = make(tmp_path, ctx)
    assert inp.previous is None, name
    before = fingerprint(seeded_db)
    with pytest.raises(DataError) as ei:
        import_into(seeded_db, inp.paths, inp.framework or ctx.fw, user="test", **inp.read_kw)
    assert rule in {p.rule for p in ei.value.problems}
    assert fingerprint(seeded_db) == before


def test_turnover_is_checked_against_the_stored_previous_year(seeded_db, tmp_path):
    bank = institutions()["id"].iloc[0]
    f = tmp_path / "next.csv"
    f.write_text(f"entity,period,variable,value,unit\n{bank},2024,fintech_staff_prev_end,120,person\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        import_into(seeded_db, [f], "jrt0201-2020")
    assert "turnover.inconsistent" in {p.rule for p in ei.value.problems}
    f.write_text(f"entity,period,variable,value,unit\n{bank},2024,fintech_staff_prev_end,100,person\n", encoding="utf-8")
    assert import_into(seeded_db, [f], "jrt0201-2020").stored_rows == 1
    assert pd.notna(fingerprint(seeded_db)[0])
