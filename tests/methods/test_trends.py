"""Trends over a panel: CAGR and percentage change on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError
from fintech_eval.methods import trends


def panel():
    idx = pd.MultiIndex.from_tuples(
        [(u, t) for u in ("a", "b", "c") for t in (2018, 2019, 2020, 2021, 2022)], names=["uCode", "Time"]
    )
    x = [
        100, 110, 121, 133.1, 146.41,  # a: +10 % a year
        50, np.nan, 60, np.nan, 72,  # b: gaps; 50 → 72 over 4 years
        np.nan, np.nan, np.nan, np.nan, 5,  # c: one point only
    ]
    return pd.DataFrame({"Index": x}, index=idx)


def test_cagr_by_hand():
    t = trends(panel(), ["Index"], "cagr").set_index("unit")
    assert t.loc["a", "trend"] == pytest.approx(0.10)
    assert t.loc["b", "trend"] == pytest.approx((72 / 50) ** (1 / 4) - 1)  # 9.544 %
    assert t.loc["b", "n_points"] == 3 and t.loc["b", "t_first"] == 2018
    assert np.isnan(t.loc["c", "trend"]) and "fewer than two" in t.loc["c", "reason"]


def test_use_latest_and_prc_change():
    t = trends(panel(), ["Index"], "prc_change", use_latest=2).set_index("unit")
    assert t.loc["a", "trend"] == pytest.approx((146.41 - 133.1) / 133.1)  # 2021 → 2022
    assert t.loc["b", "trend"] == pytest.approx((72 - 60) / 60 / 2)  # 2020 → 2022, two years


def test_needs_a_panel():
    with pytest.raises(DataError, match="panel"):
        trends(pd.DataFrame({"x": [1.0]}), ["x"])
