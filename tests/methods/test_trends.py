"""Trends over a panel: COINr's CAGR and prc_change definitions on hand-computed cases, windows over gaps."""

from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError, SpecError
from fintech_eval.methods import trends

from ..coinr_ref import path


def panel():
    rows = {
        "a": [100, 110, 121, 133.1, 146.41],  # +10 % a year
        "b": [50, np.nan, 60, np.nan, 72],  # gaps
        "c": [np.nan, np.nan, np.nan, np.nan, 5],  # one point only
        "d": [10, 12, 17, np.nan, np.nan],  # latest data in 2020
    }
    idx = pd.MultiIndex.from_tuples([(u, t) for u in rows for t in range(2018, 2023)], names=["uCode", "Time"])
    df = pd.DataFrame({"Index": [v for vs in rows.values() for v in vs]}, index=idx)
    # unit e has no rows at all for 2019 and 2021: absent periods are gaps too
    e = pd.DataFrame({"Index": [50.0, 60.0, 72.0]},
                     index=pd.MultiIndex.from_tuples([("e", 2018), ("e", 2020), ("e", 2022)], names=["uCode", "Time"]))
    return pd.concat([df, e])


def ols_percent(ts, ys):
    """COINr prc_change with three or more points, in exact arithmetic: 100·b / (a + b·t_first)."""
    ts, ys = [F(t) for t in ts], [F(y) for y in ys]
    tb, yb = sum(ts) / len(ts), sum(ys) / len(ys)
    b = sum((t - tb) * (y - yb) for t, y in zip(ts, ys, strict=True)) / sum((t - tb) ** 2 for t in ts)
    return float(100 * b / (yb - b * tb + b * ts[0]))


def test_cagr_by_hand():
    t = trends(panel(), ["Index"], "cagr").set_index("unit")
    assert t.loc["a", "trend"] == pytest.approx(0.10)
    assert t.loc["b", "trend"] == pytest.approx((72 / 50) ** (1 / 4) - 1)  # 9.544 %
    assert t.loc["b", "n_points"] == 3 and t.loc["b", "t_first"] == 2018
    assert t.loc["d", "trend"] == pytest.approx((17 / 10) ** (1 / 2) - 1) and t.loc["d", "t_last"] == 2020
    assert np.isnan(t.loc["c", "trend"]) and "fewer than two" in t.loc["c", "reason"]


def test_prc_change_is_coinr_percent_from_a_regression():
    t = trends(panel(), ["Index"], "prc_change").set_index("unit")
    # d: 10, 12, 17 in 2018..2020: slope 3.5, fitted first value 13 - 3.5 = 9.5 -> 350 / 9.5 = 700/19 %
    assert t.loc["d", "trend"] == pytest.approx(700 / 19, rel=1e-14)
    assert t.loc["d", "trend"] == pytest.approx(ols_percent([2018, 2019, 2020], [10, 12, 17]), rel=1e-14)
    # b: 50, 60, 72 at 2018, 2020, 2022: slope 5.5, fitted first 182/3 - 11 -> 1650/149 %
    assert t.loc["b", "trend"] == pytest.approx(1650 / 149, rel=1e-14)
    assert t.loc["a", "trend"] == pytest.approx(ols_percent(range(2018, 2023), [100, 110, 121, "133.1", "146.41"]), rel=1e-13)


def test_prc_change_two_points_and_constant():
    t = trends(panel(), ["Index"], "prc_change", use_latest=2).set_index("unit")
    assert t.loc["a", "trend"] == pytest.approx((146.41 - 133.1) * 100 / 133.1)  # 2021 -> 2022, percent
    flat = pd.DataFrame({"x": [3.0, 3.0, 3.0]}, index=pd.MultiIndex.from_product([["u"], [2020, 2021, 2022]], names=["uCode", "Time"]))
    assert trends(flat, ["x"], "prc_change")["trend"].tolist() == [0.0]  # all equal: 0 (COINr), not a fitted NaN
    assert trends(flat, ["x"], "cagr")["trend"].tolist() == [0.0]


def test_window_is_the_latest_periods_not_the_latest_observations():
    two = trends(panel(), ["Index"], "prc_change", use_latest=2).set_index("unit")
    # b has data in 2022 only among {2021, 2022}: not enough, although it has three observations in all
    for u in ("b", "e"):
        assert np.isnan(two.loc[u, "trend"]) and two.loc[u, "n_points"] == 1 and "latest 2" in two.loc[u, "reason"]
    three = trends(panel(), ["Index"], "prc_change", use_latest=3).set_index("unit")
    for u in ("b", "e"):  # {2020, 2021, 2022}: 60 and 72, two years apart
        assert three.loc[u, "trend"] == pytest.approx(12 * 100 / 60 / 2) and three.loc[u, "t_first"] == 2020
    # d's window ends at its latest period with data (2020), as COINr's
    assert three.loc["d", "t_first"] == 2018 and three.loc["d", "n_points"] == 3


def test_window_equal_to_the_panel_length_is_not_na():
    """COINr 1.1.14 gives NA when use_latest equals the number of periods (its reference output for the ASEM
    panel is all NA); we compute the trend over every period."""
    ref = pd.read_csv(path("panel_trends_index_cagr.csv"))
    assert ref["Trends.CAGR"].isna().all() and (ref["Trends.Avail"] == 1).all()
    t = trends(panel(), ["Index"], "cagr", use_latest=5).set_index("unit")
    assert t.loc["a", "trend"] == pytest.approx(0.10) and t.loc["a", "n_points"] == 5


def test_errors():
    with pytest.raises(DataError, match="panel"):
        trends(pd.DataFrame({"x": [1.0]}), ["x"])
    with pytest.raises(SpecError, match="use_latest"):
        trends(panel(), ["Index"], use_latest=1)
    dup = pd.concat([panel(), panel().iloc[:1]])
    with pytest.raises(DataError, match="twice"):
        trends(dup, ["Index"])
