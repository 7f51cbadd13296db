"""A CSV row with more or fewer fields than the header (issue 13): one error per such row naming the file, the row
and the rule (``csv.ragged``), the column names of the other rows unchanged, and nothing imported.

The case that escaped: when the *first* data row has one field more than the header, pandas takes the first
column as the index, so every column name shifted (the entity read as the period, the unit as the value) and the
import's messages named the wrong columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.collect import import_files, read_csv
from fintech_eval.errors import DataError
from fintech_eval.store import init_db, session_factory, upsert_institutions
from tests.collect.test_messages_zh import check_bilingual
from tests.dbstate import fingerprint, import_into

HEADER = "entity,period,variable,value,unit\n"
GOOD = "B001,2024,fintech_staff,3000,person\nB001,2024,employees,40000,person\n"


@pytest.fixture(scope="module")
def fw():
    return fe.load_framework("jrt0201-2020")


@pytest.fixture
def register():
    return pd.DataFrame({"id": ["B001"], "name_zh": ["甲银行"], "sector": ["bank"]})


def _file(tmp: Path, body: str, name: str = "q.csv") -> Path:
    f = tmp / name
    f.write_text(HEADER + body, encoding="utf-8")
    return f


@pytest.mark.parametrize(("body", "rows", "fields"), [
    ("B001,2024,employees,1,person,extra\n" + GOOD, [2], [6]),            # the first row one field longer
    ("B001,2024,employees,1,person,\n" + GOOD, [2], [6]),                 # … by a trailing delimiter
    ("B001,2024,employees,1,person,x\nB001,2024,outlets,5,outlet,y\n", [2, 3], [6, 6]),  # every row longer
    (GOOD + "B001,2024,outlets,5,outlet,x\n", [4], [6]),                  # a later row longer
    ("B001,2024,employees,1\n" + GOOD, [2], [4]),                         # the first row one field shorter
    (GOOD + "B001,2024,outlets,5\n", [4], [4]),                           # a later row shorter
    ("B001,2024,employees,1,person,x\n" + GOOD + "B001,2024,outlets\n", [2, 5], [6, 3]),  # both at once
])
def test_a_row_with_another_number_of_fields_is_an_error_naming_file_row_and_rule(body, rows, fields, tmp_path, fw,
                                                                                   register):
    f = _file(tmp_path, body)
    res = import_files([f], fw, register)
    assert not res.ok
    ragged = [p for p in res.problems if p.rule == "csv.ragged"]
    assert [p.where["row"] for p in ragged] == rows
    for p, n in zip(ragged, fields, strict=True):
        assert p.where["file"] == str(f) and p.message == f"the row has {n} fields, the header has 5"
        assert f"file {f}, row {p.where['row']}" in str(p) and "[csv.ragged]" in str(p)
        check_bilingual(p)
    # the other rows keep their column names: no problem reads a unit as a value or a period as an entity
    # (a file whose every row is ragged has no data left: file.no_data besides)
    assert {p.rule for p in res.problems} - {"file.no_data"} == {"csv.ragged"}, [str(p) for p in res.problems]
    assert set(res.clean["entity_id"]) <= {"B001"} and set(res.clean["period"]) <= {"2024"}


def test_the_reader_keeps_the_header_when_the_first_row_is_longer(tmp_path):
    f = _file(tmp_path, "B001,2024,employees,1,person,extra\n" + GOOD)
    r = read_csv(f)
    assert [p.rule for p in r.problems] == ["csv.ragged"]
    assert list(r.frame["entity_id"]) == ["B001", "B001"] and list(r.frame["variable"]) == ["fintech_staff", "employees"]
    assert list(r.frame["row"]) == [3, 4]


def test_nothing_is_imported(tmp_path, fw):
    db = str(tmp_path / "fe.sqlite")
    with session_factory(init_db(db))() as s, s.begin():
        upsert_institutions(s, pd.DataFrame({"id": ["B001"], "name_zh": ["甲银行"], "sector": ["bank"]}))
    before = fingerprint(db)
    with pytest.raises(DataError) as exc:
        import_into(db, [_file(tmp_path, "B001,2024,employees,1,person,extra\n" + GOOD)], fw, user="test")
    assert [(p.rule, p.where["row"]) for p in exc.value.problems] == [("csv.ragged", 2)]
    assert fingerprint(db) == before
