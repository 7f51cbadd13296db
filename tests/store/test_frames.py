"""Long frames round-trip: NULL comes back as NaN (missing is never zero); derived values keep
their status, reason, inputs and formula."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError
from fintech_eval.store import (
    DERIVED_COLUMNS,
    OBSERVATION_COLUMNS,
    derived_frame,
    import_observations,
    observations_frame,
    save_derived,
)

from .helpers import counts, csv_bytes, frame


def test_observations_round_trip_preserves_missing_as_nan(session):
    df = frame(3, kind="region", unit="%")
    df["entity_id"] = df["entity_id"].map({"E0000": "11", "E0001": "44", "E0002": "65"})
    df.loc[[0, 5, 7], "value"] = np.nan
    df.loc[1, "value"] = 0.0  # a real zero stays zero
    df.loc[2, "value"] = -1.2345678901234567e-300
    df.loc[3, "value"] = 1.7976931348623157e308
    import_observations(session, csv_bytes(df), df, file_name="q.csv", fmt="csv", submitted_by="me")
    out = observations_frame(session, entity_kind="region")
    assert list(out.columns) == list(OBSERVATION_COLUMNS)
    assert out["value"].dtype == "float64" and out["value_norm"].dtype == "float64"
    assert out["entity_id"].dtype == "str" and out["submission_id"].dtype == "Int64"
    key = ["entity_id", "period", "variable"]
    merged = df.merge(out, on=key, suffixes=("_in", "_out"))
    assert len(merged) == len(df) == len(out)
    np.testing.assert_array_equal(
        merged["value_in"].to_numpy(), merged["value_out"].to_numpy()
    )  # NaN == NaN, bitwise
    assert out["value"].isna().sum() == 3 and (out["value"] == 0.0).sum() == 1
    assert out["value_norm"].isna().sum() == 3  # a missing value has no normalised value either
    # ordered by key, and filters work
    assert out[["entity_id", "period", "variable"]].equals(out[key].sort_values(key).reset_index(drop=True))
    only = observations_frame(session, period="2024", variables=["staff"], columns=["entity_id", "value"])
    assert list(only.columns) == ["entity_id", "value"] and len(only) == 3
    assert observations_frame(session, entity_kind="institution").empty


def test_empty_frames_have_the_columns(session):
    assert list(observations_frame(session).columns) == list(OBSERVATION_COLUMNS)
    assert list(derived_frame(session).columns) == list(DERIVED_COLUMNS)


def _derived():
    return pd.DataFrame(
        {
            "entity_kind": ["institution"] * 4,
            "entity_id": ["B1", "B1", "B2", "B2"],
            "period": ["2024"] * 4,
            "code": ["J-A2B1-C1", "J-A3B2-C5", "J-A2B1-C1", "J-A3B2-C5"],
            "value": [0.031, np.nan, 0.0, np.nan],
            "status": ["ok", "missing", "ok", "not_applicable"],
            "reason": [None, "missing input: it_investment", None, "sector payment has no variant"],
            "inputs": [
                {"it_investment": 3.1e9, "revenue": 1.0e11},
                {"it_investment": None},
                {"x": 0.0},
                None,
            ],
            "formula": ["it_investment / revenue", "it_investment / revenue", "x", None],
        }
    )


def test_derived_values_round_trip_and_upsert(session):
    with session.begin():
        assert save_derived(session, _derived(), framework="jrt0201-2020", framework_version="1.0") == 4
    out = derived_frame(session, framework="jrt0201-2020")
    assert list(out.columns) == list(DERIVED_COLUMNS)
    assert out["status"].tolist() == ["ok", "missing", "ok", "not_applicable"]
    assert out["value"].isna().tolist() == [False, True, False, True] and out["value"][2] == 0.0
    assert out["inputs"][0] == {"it_investment": 3.1e9, "revenue": 1.0e11}
    assert out["inputs"][1] == {"it_investment": None} and out["inputs"][3] is None
    assert out["reason"][1] == "missing input: it_investment" and set(out["framework_version"]) == {"1.0"}
    # saving again replaces by key; another framework version is kept beside it
    again = _derived().iloc[[1]].assign(value=0.5, status="ok", reason=None)
    save_derived(session, again, framework="jrt0201-2020", framework_version="1.0")
    save_derived(session, _derived(), framework="jrt0201-2020", framework_version="2.0")
    session.commit()
    v1 = derived_frame(session, framework_version="1.0")
    assert (
        len(v1) == 4
        and v1.loc[1, "value"] == 0.5
        and v1.loc[1, "status"] == "ok"
        and pd.isna(v1.loc[1, "reason"])
    )
    assert len(derived_frame(session)) == 8 and len(derived_frame(session, codes=["J-A3B2-C5"])) == 4


def test_derived_missing_is_never_zero(session):
    bad = _derived()
    bad.loc[0, "status"] = "missing"  # a value with status missing
    bad.loc[1, "status"] = "ok"  # ok without a value
    bad.loc[2, "status"] = "great"
    with pytest.raises(DataError) as ei:
        save_derived(session, bad)
    assert sorted((p.rule, p.where["row"]) for p in ei.value.problems) == [
        ("store.derived_status", 0), ("store.derived_status", 1), ("store.status", 2),
    ]  # fmt: skip
    dup = pd.concat([_derived(), _derived().iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError) as ei:
        save_derived(session, dup)
    assert ei.value.problems[0].rule == "store.duplicate_key"
    no_status = _derived().drop(columns=["status"])
    save_derived(session, no_status)
    session.commit()
    assert derived_frame(session)["status"].tolist() == ["ok", "missing", "ok", "missing"]
    assert counts(session)["derived_value"] == 4


def test_text_survives_the_bulk_paths_exactly(session):
    """Quotes, commas, tabs, newlines, backslashes, CJK and an empty string (not NULL) come back as
    stored, on SQLite (multi-row INSERT) and PostgreSQL (COPY of Arrow-written CSV)."""
    tricky = ['say "hi", then', "tab\there", "two\nlines", "back\\slash \\N", "万元", "", None, "  ", "a,b;c"]
    df = frame(len(tricky), periods=("2024",), variables=("staff",))
    df["entity_id"] = [f'E"{i},\n\\N' for i in range(len(tricky))]  # the key text too
    df["source"] = tricky
    df["value"] = [1.0, np.nan, 0.1 + 0.2, 1e-310, -0.0, 3.0, 2.5, 7.0, 123456789.123456789]
    import_observations(session, csv_bytes(df), df, file_name="t.csv", fmt="csv", submitted_by="me")
    out = observations_frame(session).set_index("entity_id").loc[df["entity_id"]]
    assert out["source"].tolist()[:6] == tricky[:6]
    assert out["source"].iloc[6] is np.nan or pd.isna(out["source"].iloc[6])  # NULL stays missing
    assert out["source"].tolist()[7:] == tricky[7:]
    np.testing.assert_array_equal(out["value"].to_numpy(), df["value"].to_numpy())  # every digit
