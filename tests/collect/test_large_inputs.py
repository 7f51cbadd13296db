"""Large inputs take faster paths (work per distinct text, columns built from flagged rows only): they must
give exactly what the row-by-row paths give on small inputs."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.collect import LONG_COLUMNS, read_long_csv
from fintech_eval.collect.validate import _few_values, _prepare, _status_columns, normalise_periods

HEADER = "entity_kind,entity,period,variable,value,unit,source\n"
TRICKY = [  # padded keys, blank kinds and units, every kind of value cell
    "institution,B001,2024,outlets, 1,234 ,,survey",
    " institution , B002 , 2024 , outlets ,12.5%,,",
    ",B003,2024.0,fintech_staff,是,,survey",
    "institution,B004,2024q1,fintech_staff,否 no,person,",
    "institution,B005,2024,outlets,N/A,,",
    "institution,B006,2024,outlets,,,",
    "institution,B007,2024,outlets,abc,,",
    "institution,B008,2024,outlets,=1+1,,",
    "institution,=HYPERLINK(1),2024,outlets,3,,",
    "institution,B009,2024,outlets,-5,,",
    "institution,B010,2024,outlets,１，２３４,,",
    "institution,B011,2024,outlets,12%,person,",
    "institution,B012,2024,outlets,#N/A,,",
    "institution,B013,2024,outlets,1e6,,",
    "institution,B014,2024,outlets,  ,,",
    ",,2024,,,,",
    "region,11,2024,outlets,7, 个 ,",
]


def _key(p, offset=0):
    w = p.where
    return (p.rule, p.message, None if w["row"] is None else w["row"] + offset, w["column"], w["entity"], w["variable"])


def test_a_large_csv_reads_like_its_rows_in_a_small_one(tmp_path):
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_text(HEADER + "\n".join(TRICKY) + "\n", encoding="utf-8")
    times = 10_000 // len(TRICKY) + 1
    big.write_text(HEADER + "\n".join(TRICKY * times) + "\n", encoding="utf-8")
    s, b = read_long_csv(small), read_long_csv(big)
    assert len(TRICKY) * times >= 10_000
    expected = pd.concat([s.frame.assign(row=s.frame["row"] + j * len(TRICKY)) for j in range(times)],
                         ignore_index=True).assign(file=str(big))
    pd.testing.assert_frame_equal(b.frame, expected)
    assert list(b.frame.columns) == LONG_COLUMNS
    assert [_key(p) for p in b.problems] == [_key(p, j * len(TRICKY)) for j in range(times) for p in s.problems]


def _prepare_reference(long_df):
    """What validate's _prepare did row by row (before it worked per distinct value)."""
    df = long_df.copy().reset_index(drop=True)
    for c in LONG_COLUMNS:
        if c not in df.columns:
            df[c] = np.nan
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    for c in ("entity_kind", "entity_id", "variable", "unit"):
        t = df[c].astype("str").str.strip()
        df[c] = t.where(t != "")
    for c in ("source", "file", "sheet", "column", "raw"):
        df[c] = df[c].astype("str")
    df["period"] = normalise_periods(df["period"])
    df["row"] = pd.to_numeric(df["row"], errors="coerce").astype("Int64")
    return df


@pytest.mark.parametrize("times", [1, 1200])
def test_prepare_matches_the_row_by_row_reference(times):
    rows = pd.DataFrame({
        "entity_kind": [" institution", None, "", "region ", "institution", "institution", None, "x", "y", " "],
        "entity_id": ["B1", " B1 ", None, "11", 7, "", "B2", "B3", "B4", "B5"],
        "period": ["2024", 2024.0, " 2024q1 ", None, "2024-03", "x", "2024", "2024", "2024", ""],
        "variable": ["a", " a", "b ", None, "", "c", "a", "a", "a", "a"],
        "value": [1, "2", None, "x", 3.5, np.nan, 1, 1, 1, 1],
        "unit": [None, " %", "", "元", "%", None, "", "", "", ""],
        "sheet": [None] * 10,
        "row": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        "status": ["ok"] * 10,
    }, dtype=object)
    df = pd.concat([rows] * times, ignore_index=True)
    pd.testing.assert_frame_equal(_prepare(df), _prepare_reference(df))


@pytest.mark.parametrize("flagged", [[], [3, 17, 10_500]])
def test_status_columns_from_flagged_rows_match_the_per_row_arrays(flagged):
    n = 12_000
    fi = np.asarray(flagged, dtype=np.intp)
    reasons = [f"reason {i}" for i in flagged]
    fast = _status_columns(n, fi, reasons, None, None)
    status = np.full(n, "ok", dtype=object)
    status[fi] = "flagged"
    reason = np.full(n, None, dtype=object)
    reason[fi] = reasons
    got = pd.DataFrame({"status": fast[0], "flag_reason": fast[1]})
    want = pd.DataFrame({"status": _few_values(status), "flag_reason": _few_values(reason)})
    pd.testing.assert_frame_equal(got, want)
