"""Imports are all-or-nothing, idempotent on the same bytes, and keep the payload byte for byte."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError
from fintech_eval.store import (
    Submission,
    import_observations,
    observations_frame,
    store_observations,
    store_submission,
    submissions_frame,
)
from fintech_eval.store import observations as observations_mod

from .helpers import counts, csv_bytes, frame


def _import(session, df, payload=None, name="a.csv", who="alice"):
    return import_observations(
        session,
        payload if payload is not None else csv_bytes(df),
        df,
        file_name=name,
        fmt="csv",
        submitted_by=who,
    )


def test_import_then_read_back(session):
    df = frame(4)
    df.loc[3, "value"] = np.nan
    r = _import(session, df)
    assert r.is_new and r.stats.inserted == len(df) and r.submission.n_rows == len(df)
    out = observations_frame(session)
    assert len(out) == len(df)
    got = out.set_index(["entity_id", "period", "variable"])["value"]
    want = df.set_index(["entity_id", "period", "variable"])["value"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
    assert out["submission_id"].unique().tolist() == [r.submission.id]
    assert (out["status"] == "ok").all() and (out["unit"] == "人").all()
    assert counts(session)["period"] == 2


def test_reimporting_the_same_bytes_changes_nothing(session):
    df = frame(3)
    first = _import(session, df)
    before = counts(session)
    snapshot = observations_frame(session)
    again = _import(session, df, who="bob", name="renamed.csv")
    assert not again.is_new and again.submission.id == first.submission.id
    assert again.stats.inserted == again.stats.updated == again.stats.audited == 0
    assert counts(session) == before
    pd.testing.assert_frame_equal(observations_frame(session), snapshot)
    # the stored submission is the first one, unchanged
    assert again.submission.file_name == "a.csv" and again.submission.submitted_by == "alice"


def test_duplicate_key_in_the_middle_stores_nothing(session):
    df = frame(20)
    dup = df.iloc[[5]].copy()
    dup["value"] = 99.0
    bad = pd.concat([df.iloc[:30], dup, df.iloc[30:]], ignore_index=True)
    with pytest.raises(DataError) as ei:
        _import(session, bad)
    probs = ei.value.problems
    assert {p.rule for p in probs} == {"store.duplicate_key"}
    assert probs[0].where["row"] == 30 and "also at row 5" in probs[0].message
    assert all(v == 0 for v in counts(session).values())


def test_bad_row_in_the_middle_stores_nothing(session):
    df = frame(10).astype({"value": object})
    df.loc[7, "value"] = "十二"
    df.loc[8, "period"] = "2024-13"
    df.loc[9, "entity_kind"] = "planet"
    with pytest.raises(DataError) as ei:
        _import(session, df)
    rules = {(p.rule, p.where.get("row")) for p in ei.value.problems}
    assert rules == {("store.not_a_number", 7), ("store.period", 8), ("store.entity_kind", 9)}
    assert all(v == 0 for v in counts(session).values())


def test_database_constraint_failure_rolls_back_everything(session, monkeypatch):
    """A duplicate that only the database notices (our own check disabled): the unique constraint
    fails mid-insert and the whole import, submission row included, is rolled back."""
    monkeypatch.setattr(observations_mod, "_duplicates", lambda *a, **k: None)
    df = frame(200)
    bad = pd.concat([df.iloc[:500], df.iloc[[3]], df.iloc[500:]], ignore_index=True)
    with pytest.raises(DataError) as ei:
        _import(session, bad)
    assert ei.value.problems[0].rule == "store.integrity"
    assert all(v == 0 for v in counts(session).values())


def test_failure_while_updating_keeps_the_previous_state(session, monkeypatch):
    first = frame(5)
    _import(session, first)
    before_counts = counts(session)
    before = observations_frame(session)
    changed = first.copy()
    changed["value"] = changed["value"] + 1
    changed = pd.concat([changed, frame(2, start=100)], ignore_index=True)  # new rows too

    real_update = observations_mod._bulk_update

    def boom(*a, **k):  # fail after the new rows are inserted and the changed ones updated
        real_update(*a, **k)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(observations_mod, "_bulk_update", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _import(session, changed, name="b.csv")
    assert counts(session) == before_counts
    pd.testing.assert_frame_equal(observations_frame(session), before)
    monkeypatch.undo()
    r = _import(session, changed, name="b.csv")  # and it goes through once the fault is gone
    assert r.is_new and r.stats.updated == len(first) and r.stats.inserted == 8


def test_store_functions_share_the_callers_transaction(session):
    df = frame(2)
    with pytest.raises(DataError):
        with session.begin():
            sub, is_new = store_submission(session, b"x", "x.csv", "csv", "me")
            assert is_new
            store_observations(session, sub, df)
            store_observations(session, sub, pd.concat([df, df]))  # duplicate keys
    assert all(v == 0 for v in counts(session).values())


def test_import_inside_a_transaction_uses_a_savepoint(session):
    with session.begin():
        store_submission(session, b"other", "other.csv", "csv", "me")
        with pytest.raises(DataError):
            _import(session, pd.concat([frame(1), frame(1)]))
        assert counts(session)["submission"] == 1  # only the failed import was undone
        r = _import(session, frame(1))
        assert r.is_new
    assert counts(session)["submission"] == 2 and counts(session)["observation"] == 4


PAYLOAD = (
    b"\xef\xbb\xbfentity,period,variable,value\r\n"  # UTF-8 BOM, CRLF
    + b"91110000100000000X,2024,staff,1\n"
    + "机构,2024,员工,二\n".encode("gbk")  # GBK, not UTF-8
    + "机构,2024,科技人员,3\n".encode()  # UTF-8 Chinese
    + bytes(range(256))  # every byte value, NUL included
    + b"\x00\xff\xfe\r\r\n"
)


def test_raw_payload_is_kept_byte_for_byte(session, Sessions):
    sub, is_new = store_submission(session, PAYLOAD, "问卷 2024.csv", "csv", "张三")
    session.commit()
    assert is_new
    with Sessions() as fresh:  # a new session: read from the database, not the identity map
        got = fresh.get(Submission, sub.id)
        assert isinstance(got.payload, bytes) and got.payload == PAYLOAD
        assert got.size == len(PAYLOAD) and got.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
        assert got.file_name == "问卷 2024.csv" and got.submitted_by == "张三"
        assert got.received_at.tzinfo is not None and got.received_at.utcoffset().total_seconds() == 0
        again, again_new = store_submission(fresh, bytearray(PAYLOAD), "other.csv", "csv", "李四")
        assert not again_new and again.id == sub.id
    listing = submissions_frame(session)
    assert listing["file_name"].tolist() == ["问卷 2024.csv"] and "payload" not in listing.columns


def test_rejected_submission_with_problems(session):
    sub, _ = store_submission(
        session, b"bad", "bad.csv", "csv", "me", status="rejected", problems=[{"rule": "x", "message": "坏"}]
    )
    session.commit()
    session.expire_all()
    assert sub.status == "rejected" and sub.problems == [{"rule": "x", "message": "坏"}]


def test_normalised_values_are_kept_beside_the_received_ones(session):
    df = frame(1, periods=("2024",), variables=("revenue", "staff"))
    df["unit"] = ["亿元", "人"]
    df["value"] = [1.5, 10.0]
    df["value_norm"] = [1.5e8, np.nan]
    df["unit_norm"] = ["元", None]
    _import(session, df)
    out = observations_frame(session).set_index("variable")
    assert out.loc["revenue", ["value", "value_norm"]].tolist() == [1.5, 1.5e8]
    assert out.loc["revenue", ["unit", "unit_norm"]].tolist() == ["亿元", "元"]
    assert out.loc["staff", ["value_norm", "unit_norm"]].tolist() == [10.0, "人"]  # no conversion: same


def test_flagged_rows_are_stored_not_dropped(session):
    df = frame(1, periods=("2024",))
    df["status"] = ["ok", "flagged"]
    df["flag_reason"] = [None, "outlier: 12 sd above the sector mean"]
    _import(session, df)
    out = observations_frame(session, columns=["variable", "status", "flag_reason"]).set_index("variable")
    assert out.loc["staff", "status"] == "ok" and pd.isna(out.loc["staff", "flag_reason"])
    assert out.loc["it_staff", "status"] == "flagged" and out.loc["it_staff", "flag_reason"].startswith(
        "outlier"
    )


def test_rows_in_any_order_with_a_few_flagged_come_back_row_for_row(session):
    """The store writes in key order and the flagged rows apart: what comes back is what went in."""
    df = frame(40, periods=("2022", "2023", "2024"), variables=("staff", "it_staff", "revenue"))
    df = df.sample(frac=1, random_state=7).reset_index(drop=True)  # period-major, entity-major, … any order
    df["status"] = "ok"
    df["flag_reason"] = None
    df.loc[[3, 50, 51, 200], "status"] = "flagged"
    df.loc[[3, 50, 51, 200], "flag_reason"] = [f"outlier {i}" for i in (3, 50, 51, 200)]
    df.loc[[7, 9], "value"] = np.nan
    _import(session, df)
    key = ["entity_kind", "entity_id", "period", "variable"]
    out = observations_frame(session)
    assert out[key].equals(out[key].sort_values(key, ignore_index=True))  # returned in key order
    both = df.merge(out, on=key, suffixes=("_in", "_out"), validate="one_to_one")
    assert len(both) == len(df) == len(out)
    np.testing.assert_array_equal(both["value_in"].to_numpy(), both["value_out"].to_numpy())
    assert (both["status_in"] == both["status_out"]).all()
    assert both["flag_reason_in"].fillna("").tolist() == both["flag_reason_out"].fillna("").tolist()


def test_references_of_the_bulk_tables_stay_valid(session):
    """observation/derived_value have no foreign keys (bulk speed): the repositories keep them valid."""
    from sqlalchemy import select

    from fintech_eval.store import Observation, Period, save_derived

    _import(session, frame(2, periods=("2023", "2024Q1", "2024-03")))
    save_derived(session, frame(1, periods=("2025",)).rename(columns={"variable": "code"})[
        ["entity_kind", "entity_id", "period", "code", "value"]
    ])  # fmt: skip
    session.commit()
    periods = set(session.scalars(select(Period.code)))
    assert periods == {"2023", "2024Q1", "2024-03", "2025"}
    assert set(session.scalars(select(Observation.period).distinct())) <= periods
    subs = set(session.scalars(select(Submission.id)))
    assert set(session.scalars(select(Observation.submission_id).distinct())) <= subs
