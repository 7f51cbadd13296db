"""Imputation against COINr 1.1.14 (impute_*.csv, A/C Imputed, panel_impute_*.csv) and COINr's own test cases."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import MethodError, SpecError
from fintech_eval.methods import impute

from ..coinr_ref import assert_frame_close, coin_input, read, sorted_units

DENOMINATED = "A_data_Denominated.csv"


def _groups():
    return sorted_units(coin_input().groups)


@pytest.mark.parametrize(
    ("ref", "method", "params"),
    [
        ("impute_mean.csv", "mean", {}),
        ("impute_median.csv", "median", {}),
        ("impute_mean_grp_EurAsia.csv", "mean_group", {"group": "EurAsia_group"}),
        ("impute_median_grp_GDP.csv", "median_group", {"group": "GDP_group"}),
        ("A_data_Imputed.csv", "i_mean_grp", {"group": "EurAsia_group"}),
        ("B_data_Imputed.csv", "i_mean_grp", {"group": "EurAsia_group"}),
    ],
)
def test_column_and_group_imputation(ref, method, params):
    source = "B_data_Denominated.csv" if ref.startswith("B_") else DENOMINATED
    res = impute(read(source), method, groups=_groups(), **params)
    assert_frame_close(res.data, read(ref))


def test_row_mean_within_pillar():
    """COINr impute_by = "row", group_level = 2: min-max (after directions) first, row mean, mapped back."""
    ci = coin_input()
    res = impute(read(DENOMINATED), "row_mean", tree=ci.tree, level=2)
    assert_frame_close(res.data, read("impute_row_mean_by_pillar.csv"))
    assert res.log["source"].eq("row mean").all()


def test_c_pipeline_mean_on_raw():
    res = impute(read("C_data_Raw.csv"), "mean")
    assert_frame_close(res.data, read("C_data_Imputed.csv"))


def test_log_lists_every_missing_cell():
    data = read(DENOMINATED)
    res = impute(data, "mean_group", groups=_groups(), group="EurAsia_group")
    log = res.log
    assert len(log) == int(data.isna().sum().sum())
    assert (log["status"] == "imputed").all()
    for row in log.itertuples():
        assert np.isnan(data.loc[row.uCode, row.iCode])
        assert res.data.loc[row.uCode, row.iCode] == row.value
    assert log["source"].str.startswith("group mean (EurAsia_group = ").all()
    assert not res.warnings


def test_unimputable_cells_are_logged_and_warned():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0, np.nan], "b": [np.nan, np.nan, 1.0, 2.0]}, index=list("wxyz"))
    groups = pd.Series(["g1", "g1", "g2", "g2"], index=df.index, name="grp")
    res = impute(df, "mean_group", groups=groups)
    assert res.data.loc["x", "a"] == 1.0 and res.data.loc["z", "a"] == 3.0
    assert np.isnan(res.data.loc["w", "b"])  # group g1 has no b at all
    st = res.log.set_index(["uCode", "iCode"])["status"]
    assert st[("w", "b")] == "not imputed" and st[("x", "a")] == "imputed"
    assert res.warnings and "still 2 missing" in res.warnings[0]["message"]


def test_present_values_never_change_and_input_is_not_mutated():
    data = read(DENOMINATED)
    before = data.copy()
    for method, kw in (("mean", {}), ("row_median", {"tree": coin_input().tree, "level": 3})):
        out = impute(data, method, **kw).data
        mask = data.notna().to_numpy()
        assert (out.to_numpy()[mask] == data.to_numpy()[mask]).all()
    pd.testing.assert_frame_equal(data, before)


def test_row_methods_need_directions_or_tree():
    df = pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, 3.0]})
    with pytest.raises(SpecError) as e:
        impute(df, "row_mean")
    assert "directions" in str(e.value)
    out = impute(df, "row_mean", normalise_first=False).data
    assert out.loc[1, "a"] == 3.0
    with pytest.raises(SpecError):
        impute(df, "row_mean", level=2)


def test_group_methods_need_groups():
    df = pd.DataFrame({"a": [1.0, np.nan]})
    with pytest.raises(SpecError):
        impute(df, "mean_group")
    with pytest.raises(SpecError) as e:
        impute(df, "mean_group", groups=_groups().iloc[:2], group="nope")
    assert "nope" in str(e.value)
    with pytest.raises(SpecError):
        impute(df, "mean", grop="x")


# ------------------------------------------------------------------------------------------------
# panel imputation
# ------------------------------------------------------------------------------------------------
PANEL_COLS = ["LPI", "Flights", "Ship", "Bord"]


@pytest.mark.parametrize(
    ("ref", "method"), [("panel_impute_latest.csv", "latest"), ("panel_impute_linear_constant.csv", "linear-constant")]
)
def test_panel_reference_files(ref, method):
    """The reference runs impute_panel on LPI, Flights, Ship and Bord (which have no gaps in ASEM's panel)."""
    panel = coin_input(panel=True).data[PANEL_COLS]
    res = impute(panel, method)
    assert_frame_close(res.data, read(ref))
    assert res.log.empty


def _one_unit():
    """COINr's tests/testthat/test-impute_panel.R frame."""
    idx = pd.MultiIndex.from_product([["A"], [2020, 2021, 2022]], names=["uCode", "Time"])
    return pd.DataFrame(
        {"i1": [1.0, 2, 3], "i2": [3, np.nan, 5], "i3": [np.nan, 5, 6], "i4": [7, 8, np.nan]}, index=idx
    )


def test_panel_linear_coinr_case():
    out = impute(_one_unit(), "linear").data
    assert out["i1"].tolist() == [1, 2, 3]
    assert out["i2"].tolist() == [3, 4, 5]
    assert out["i3"].tolist() == [5, 5, 6]
    assert out["i4"].tolist() == [7, 8, 8]


def test_panel_constant_coinr_case():
    out = impute(_one_unit(), "constant").data
    assert out["i2"].tolist() == [3, 3, 5]
    assert out["i3"].tolist() == [5, 5, 6]
    assert out["i4"].tolist() == [7, 8, 8]


def test_panel_latest_coinr_case():
    """COINr test: a NaN in 2022 takes the unit's 2021 value; nothing before the first observation."""
    panel = coin_input(panel=True).data
    p = panel.copy()
    p.loc[("NZL", 2022), "LPI"] = np.nan
    p.loc[("AUT", 2022), "Flights"] = np.nan
    res = impute(p, "latest")
    assert res.data.loc[("NZL", 2022), "LPI"] == panel.loc[("NZL", 2021), "LPI"]
    assert res.data.loc[("AUT", 2022), "Flights"] == panel.loc[("AUT", 2021), "Flights"]
    out = impute(_one_unit(), "latest").data
    assert np.isnan(out["i3"].iloc[0]) and out["i2"].tolist() == [3, 3, 5]
    log = res.log.set_index(["uCode", "Time", "iCode"])
    assert log.loc[("NZL", 2022, "LPI"), "source"] == "period 2021"


def test_panel_methods_on_the_real_gaps_match_independent_computations():
    panel = coin_input(panel=True).data
    latest = impute(panel, "latest").data
    ffill = panel.sort_index(level=["uCode", "Time"]).groupby(level="uCode").ffill().loc[panel.index]
    assert_frame_close(latest, ffill)
    two = impute(panel, "latest", max_time=1).data
    ff1 = panel.sort_index(level=["uCode", "Time"]).groupby(level="uCode").ffill(limit=1).loc[panel.index]
    assert_frame_close(two, ff1)
    lin = impute(panel, "linear_constant").data
    for (u, c), _ in panel.stack().groupby(level=["uCode", 2]).size().items():
        s = panel[c].xs(u, level="uCode").sort_index()
        ok = s.notna().to_numpy()
        if ok.sum() == 0:
            assert lin[c].xs(u, level="uCode").isna().all()
            continue
        t = s.index.to_numpy(dtype=float)
        expected = np.interp(t, t[ok], s.to_numpy()[ok])  # clamps at the ends = approx(rule = 2)
        got = lin[c].xs(u, level="uCode").sort_index().to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_linear_needs_two_points_linear_constant_does_not():
    idx = pd.MultiIndex.from_product([["A", "B"], [2020, 2021, 2022]], names=["uCode", "Time"])
    df = pd.DataFrame({"x": [np.nan, 4.0, np.nan, 1.0, np.nan, 3.0]}, index=idx)
    with pytest.raises(MethodError) as e:
        impute(df, "linear")
    assert "unit A" in str(e.value) and "indicator x" in str(e.value)
    out = impute(df, "linear_constant").data["x"].tolist()
    assert out == [4.0, 4.0, 4.0, 1.0, 2.0, 3.0]


def test_panel_rows_in_any_order_and_missing_rows():
    df = _one_unit().iloc[[2, 0, 1]]
    out = impute(df, "linear").data
    assert out.loc[("A", 2021), "i2"] == 4.0
    gap = _one_unit().drop(index=("A", 2021))  # no 2021 row at all: only 2020 and 2022 exist
    out = impute(gap, "linear_constant").data
    assert out.loc[("A", 2020), "i3"] == 6.0 and out.loc[("A", 2022), "i4"] == 7.0
    assert len(out) == 2
    uneven = pd.DataFrame({"x": [0.0, np.nan, 10.0]}, index=pd.MultiIndex.from_tuples(
        [("A", 2000), ("A", 2001), ("A", 2010)], names=["uCode", "Time"]))
    assert impute(uneven, "linear").data.loc[("A", 2001), "x"] == pytest.approx(1.0)  # by time, not by position


def test_cross_section_methods_run_per_period_on_a_panel():
    panel = coin_input(panel=True).data
    res = impute(panel, "mean").data
    for t, part in panel.groupby(level="Time"):
        np.testing.assert_allclose(res.xs(t, level="Time"), part.fillna(part.mean()).droplevel("Time"), rtol=1e-12)


def test_panel_method_needs_a_panel():
    with pytest.raises(SpecError):
        impute(read(DENOMINATED), "latest")


def test_a_method_that_changes_a_present_value_is_stopped(monkeypatch):
    """COINr's safety check: the error names the unit and indicator of the first present value changed, also
    when the method also fills (or leaves) missing cells."""
    from fintech_eval.methods.impute import IMPUTERS

    def sloppy(x):
        y = np.where(np.isnan(x), 0.0, x)
        y[2, 1] += 1.0
        return y

    monkeypatch.setitem(IMPUTERS._entries, "sloppy", IMPUTERS._entries["mean"].__class__(**{**vars(IMPUTERS._entries["mean"]), "name": "sloppy", "func": sloppy}))
    monkeypatch.setitem(IMPUTERS._alias, "sloppy", "sloppy")
    data = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [np.nan, 5.0, 6.0]}, index=["u1", "u2", "u3"])
    with pytest.raises(MethodError, match="changed a value that was not missing") as e:
        impute(data, "sloppy")
    assert e.value.problems[0]["unit"] == "u3" and e.value.problems[0]["indicator"] == "b"
    assert impute(data, "mean").data.notna().all().all()
