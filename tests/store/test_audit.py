"""Every change of a stored value is audited (who, when, old, new, why); corrections keep history."""

import datetime as dt

import numpy as np
import pytest

from fintech_eval.errors import DataError
from fintech_eval.store import (
    ObsKey,
    correct_value,
    history,
    import_observations,
    observations_frame,
    upsert_institutions,
)

from .helpers import counts, csv_bytes, frame

KEY = ObsKey("institution", "E0000", "2024", "staff")


def _import(session, df, name, who):
    return import_observations(
        session, csv_bytes(df) + name.encode(), df, file_name=name, fmt="csv", submitted_by=who
    )


def _value(session, key=KEY):
    out = observations_frame(session, entity_ids=[key.entity_id], period=key.period, variables=[key.variable])
    return out.iloc[0]


def test_reimport_with_changes_audits_each_changed_field(session):
    first = frame(2, periods=("2024",), variables=("staff", "it_staff"), value=10.0)
    first.loc[1, "value"] = np.nan  # E0000/2024/it_staff missing at first
    a = _import(session, first, "a.csv", "alice")
    second = first.copy()
    second.loc[0, "value"] = 12.0  # staff 10 → 12
    second.loc[1, "value"] = 3.0  # it_staff missing → 3
    second.loc[2, "unit"] = "人次"  # E0001 staff: unit changed
    t0 = dt.datetime.now(dt.UTC)
    b = _import(session, second, "b.csv", "bob")
    assert b.stats.updated == 3 and b.stats.unchanged == 1 and b.stats.inserted == 0 and b.stats.audited == 3
    h = history(session, KEY)
    assert h[["field", "old", "new", "who", "why"]].values.tolist() == [
        ["value", 10.0, 12.0, "bob", "import b.csv"]
    ]
    assert h["submission_id"].tolist() == [b.submission.id] and b.submission.id != a.submission.id
    assert h["at"][0].tzinfo is not None and h["at"][0] >= t0 - dt.timedelta(seconds=5)
    h2 = history(session, ("institution", "E0000", "2024", "it_staff"))
    assert h2[["field", "old", "new"]].values.tolist() == [["value", None, 3.0]]
    h3 = history(session, ("institution", "E0001", "2024", "staff"))
    assert h3[["field", "old", "new"]].values.tolist() == [["unit", "人", "人次"]]
    now = _value(session)
    assert now["value"] == 12.0 and now["submission_id"] == b.submission.id


def test_correct_value_keeps_the_full_history(session):
    df = frame(1, periods=("2024",), variables=("staff",), value=10.0)
    _import(session, df, "a.csv", "alice")
    _import(session, df.assign(value=11.0), "b.csv", "bob")
    with session.begin():
        assert correct_value(session, KEY, 12.5, who="evaluator", why="phone call: typo in row 3") == [
            "value"
        ]
    with session.begin():
        assert correct_value(session, KEY, None, who="evaluator", why="figure withdrawn") == ["value"]
    with session.begin():
        assert correct_value(session, KEY, None, who="evaluator", why="no-op") == []
    h = history(session, KEY)
    assert h[["old", "new", "who", "why"]].values.tolist() == [
        [10.0, 11.0, "bob", "import b.csv"],
        [11.0, 12.5, "evaluator", "phone call: typo in row 3"],
        [12.5, None, "evaluator", "figure withdrawn"],
    ]
    assert h["at"].is_monotonic_increasing
    assert np.isnan(_value(session)["value"])  # withdrawn: missing, not 0


def test_correction_of_a_converted_value_needs_the_normalised_value(session):
    df = frame(1, periods=("2024",), variables=("revenue",), value=1.5, unit="亿元")
    df["value_norm"], df["unit_norm"] = 1.5e8, "元"
    _import(session, df, "a.csv", "alice")
    key = ("institution", "E0000", "2024", "revenue")
    with pytest.raises(DataError) as ei:
        correct_value(session, key, 2.0, who="e", why="typo")
    assert ei.value.problems[0].rule == "store.correction_unit"
    session.rollback()
    with session.begin():
        changed = correct_value(session, key, 2.0, who="e", why="typo", value_norm=2.0e8, unit_norm="元")
    assert changed == ["value", "value_norm"]
    row = _value(session, ObsKey(*key))
    assert (row["value"], row["unit"], row["value_norm"], row["unit_norm"]) == (2.0, "亿元", 2.0e8, "元")


def test_bad_corrections_are_refused_and_change_nothing(session):
    _import(session, frame(1, periods=("2024",), variables=("staff",), value=10.0), "a.csv", "alice")
    before = counts(session)
    session.rollback()
    for key, value, why, rule in [
        (("institution", "NOPE", "2024", "staff"), 1.0, "x", "store.unknown_key"),
        (KEY, "many", "x", "store.not_a_number"),
        (KEY, float("inf"), "x", "store.not_finite"),
        (KEY, 1.0, "  ", "store.correction_reason"),
    ]:
        with pytest.raises(DataError) as ei:
            correct_value(session, key, value, who="e", why=why)
        assert ei.value.problems[0].rule == rule
        session.rollback()
    assert counts(session) == before and _value(session)["value"] == 10.0


def test_entity_changes_are_audited(session):
    with session.begin():
        upsert_institutions(
            session, [{"id": "B1", "name_zh": "某银行", "sector": "bank", "region_code": "110000"}]
        )
    with session.begin():
        stats = upsert_institutions(
            session,
            [{"id": "B1", "name_zh": "某银行股份有限公司", "region_code": "44"}],
            who="admin",
            why="renamed",
        )
    assert stats.updated == 1 and stats.audited == 2
    h = history(session, ("B1",), table="institution")
    assert sorted(h[["field", "old", "new"]].values.tolist()) == [
        ["name_zh", "某银行", "某银行股份有限公司"],
        ["region_code", "11", "44"],
    ]
    assert set(h["who"]) == {"admin"} and set(h["why"]) == {"renamed"}
