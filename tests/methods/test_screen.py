"""Unit screening against COINr 1.1.14 (A_screen_summary, A_data_Screened) and hand-checked cases."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError, SpecError
from fintech_eval.methods import SCREENERS, screen

from ..coinr_ref import assert_frame_close, read, read_plain

SUMMARY_COLS = ["N_missing", "N_zero", "N_miss_or_zero", "Dat_Avail", "Non_Zero"]
FLAG_COLS = ["LowData", "LowNonZero", "LowDatOrZeroFlag", "Included"]


@pytest.mark.parametrize("pipe", ["A", "B"])
def test_screen_matches_coinr(pipe):
    res = screen(read(f"{pipe}_data_Imputed.csv"), by="byNA", dat_thresh=0.9)
    ref = read_plain(f"{pipe}_screen_summary.csv").set_index("uCode")
    assert list(res.summary.index) == list(ref.index)
    np.testing.assert_allclose(res.summary[SUMMARY_COLS].to_numpy(float), ref[SUMMARY_COLS].to_numpy(float), rtol=1e-12)
    for c in FLAG_COLS:
        assert res.summary[c].tolist() == ref[c].tolist(), c
    assert_frame_close(res.data, read(f"{pipe}_data_Screened.csv"))
    assert res.removed == []


def _toy():
    return pd.DataFrame(
        {
            "a": [1.0, np.nan, 0.0, 0.0, 5.0],
            "b": [2.0, np.nan, 0.0, 0.0, np.nan],
            "c": [3.0, 1.0, 0.0, 2.0, np.nan],
            "d": [4.0, np.nan, 1.0, 0.0, 1.0],
        },
        index=["u1", "u2", "u3", "u4", "u5"],
    )


def test_summary_by_hand():
    s = screen(_toy(), by="none").summary
    assert s["N_missing"].tolist() == [0, 3, 0, 0, 2]
    assert s["N_zero"].tolist() == [0, 0, 3, 3, 0]
    assert s["Dat_Avail"].tolist() == [1.0, 0.25, 1.0, 1.0, 0.5]
    np.testing.assert_allclose(s["Non_Zero"], [1.0, 1.0, 0.25, 0.25, 1.0])  # zeros as a share of available values
    assert s["Included"].all()


@pytest.mark.parametrize(
    ("by", "kept"),
    [
        ("byNA", ["u1", "u3", "u4"]),
        ("byzeros", ["u1", "u2", "u5"]),
        ("byNAandzeros", ["u1"]),
        ("none", ["u1", "u2", "u3", "u4", "u5"]),
    ],
)
def test_rules(by, kept):
    res = screen(_toy(), by=by, dat_thresh=0.66, nonzero_thresh=0.5)
    assert list(res.data.index) == kept
    assert res.removed == [u for u in _toy().index if u not in kept]


def test_force_overrides_the_rule():
    res = screen(_toy(), by="byNA", force={"u2": True, "u1": False})
    assert list(res.data.index) == ["u2", "u3", "u4"]
    table = pd.DataFrame({"uCode": ["u5"], "Include": [True]})
    assert "u5" in screen(_toy(), force=table).data.index
    assert {w["unit"] for w in res.warnings} == {"u1", "u2"}


def test_errors():
    with pytest.raises(SpecError) as e:
        screen(_toy(), force={"zz": True})
    assert "zz" in str(e.value)
    with pytest.raises(SpecError):
        screen(_toy(), dat_thresh=1.5)
    with pytest.raises(SpecError):
        screen(_toy(), by="byNaN")
    with pytest.raises(DataError):
        screen(_toy().assign(e=["x"] * 5))


def test_screen_raw_asem_with_missing_data():
    raw = read("A_data_Raw.csv")
    res = screen(raw, by="byNA", dat_thresh=0.9)
    avail = 1 - raw.isna().sum(axis=1) / raw.shape[1]
    assert list(res.data.index) == list(raw.index[avail >= 0.9])
    assert res.removed and all(avail[u] < 0.9 for u in res.removed)


def test_panel_force_applies_to_every_period():
    idx = pd.MultiIndex.from_product([["u1", "u2"], [2020, 2021]], names=["uCode", "Time"])
    df = pd.DataFrame({"a": [np.nan, 1.0, 2.0, 3.0], "b": [np.nan, 1.0, 2.0, 3.0]}, index=idx)
    res = screen(df, force={"u1": True})
    assert len(res.data) == 4
    assert len(screen(df).data) == 3


def test_all_screeners_documented():
    assert SCREENERS.names() == ["byNA", "byNAandzeros", "byzeros", "none"]
    assert all(e.doc for e in SCREENERS)
