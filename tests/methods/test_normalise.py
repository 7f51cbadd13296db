"""Normalisation against COINr 1.1.14 (norm_*.csv, A/B/C Normalised, panel global/per-year) and known cases."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import MethodError, SpecError
from fintech_eval.methods import NORMALISERS, efficacy_coefficient, impute, normalise, normalise_output

from ..coinr_ref import assert_frame_close, coin_input, directions, imeta, read, targets

TREATED = "A_data_Treated.csv"

CASES = [
    ("norm_minmax_0_100.csv", "minmax", {"l_u": (0, 100)}),
    ("norm_zscore_0_1.csv", "zscore", {"m_sd": (0, 1)}),
    ("norm_zscore_100_10.csv", "zscore", {"m_sd": (100, 10)}),
    ("norm_scaled_0_100.csv", "scaled", {"npara": (0, 100)}),
    ("norm_dist2max.csv", "dist2max", {}),
    ("norm_dist2ref_1.csv", "dist2ref", {"iref": 1}),
    ("norm_dist2ref_1.csv", "dist2ref", {"iref": "AUS"}),
    ("norm_fracmax.csv", "fracmax", {}),
]


@pytest.mark.parametrize(("ref", "method", "params"), CASES, ids=[f"{m}-{r}" for r, m, _ in CASES])
def test_coinr_normalisers(ref, method, params):
    out = normalise(read(TREATED), directions(), method, **params)
    assert_frame_close(out, read(ref))


def test_dist2targ_with_imeta_targets():
    """COINr use_iMeta: targets from iMeta's Target column, flipped with the direction (targ · direction)."""
    out = normalise(read(TREATED), directions(), "dist2targ", targ="use_iMeta", imeta=imeta())
    assert_frame_close(out, read("norm_dist2targ_iMeta.csv"))
    # the same targets given in the spec in own units
    assert_frame_close(normalise(read(TREATED), directions(), "dist2targ", targ=targets(), bounds="own"),
                       read("norm_dist2targ_iMeta.csv"))


def test_dist2ref_infinities_where_the_reference_is_the_minimum():
    out = normalise(read(TREATED), directions(), "dist2ref", iref=1)
    ref = read("norm_dist2ref_1.csv")
    assert np.isinf(ref.to_numpy()).sum() > 0
    assert np.array_equal(np.isposinf(out.to_numpy()), np.isposinf(ref.to_numpy()))
    assert np.array_equal(np.isneginf(out.to_numpy()), np.isneginf(ref.to_numpy()))


@pytest.mark.parametrize(("ref", "method"), [("norm_rank.csv", "rank"), ("norm_borda.csv", "borda"), ("norm_prank.csv", "prank")])
def test_rank_normalisers(ref, method):
    """Ranks match exactly except inside ties that only exist because the CSVs keep 15 significant digits.

    In R, e.g. TolMin of GRC differs from CZE/BGR in the 16th digit (all print as 5.1), so R breaks the tie;
    from the CSV input the three are tied. There the COINr rank must lie within the tied block.
    """
    data = read(TREATED)
    out = normalise(data, directions(), method)
    exp = read(ref)
    shift = 1.0 if method == "borda" else 0.0
    xd = data * directions()
    for c in data.columns:
        col = xd[c]
        tied = col.duplicated(keep=False) & col.notna()
        a, e = out[c].to_numpy(), exp[c].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(e)), c
        np.testing.assert_allclose(a[~tied.to_numpy()], e[~tied.to_numpy()], rtol=1e-12, err_msg=c)
        n_avail = col.notna().sum()
        for _, block in col[tied].groupby(col[tied]):
            lo = out.loc[block.index, c].iloc[0]
            size = len(block)
            step = 1.0 / (n_avail - 1) if method == "prank" else 1.0
            got = exp.loc[block.index, c]
            assert (out.loc[block.index, c] == lo).all()
            assert ((got >= lo - 1e-12) & (got <= lo + (size - 1) * step + 1e-12)).all(), (c, shift)


@pytest.mark.parametrize(
    ("pipe", "source", "method", "params"),
    [
        ("A", "A_data_Treated.csv", "minmax", {}),
        ("B", "B_data_Treated.csv", "zscore", {"m_sd": (100, 10)}),
        ("C", "C_data_Treated.csv", "minmax", {"l_u": (0, 100)}),
    ],
)
def test_pipeline_normalised(pipe, source, method, params):
    assert_frame_close(normalise(read(source), directions(), method, **params), read(f"{pipe}_data_Normalised.csv"))


@pytest.mark.parametrize(("scope", "ref"), [("global", "panel_global_minmax_scores.csv"), ("period", "panel_peryear_minmax_scores.csv")])
def test_panel_global_and_per_period(scope, ref):
    """ASEM panel: per-year mean imputation, then min-max 0-100 over all years (global) or within each year."""
    panel = coin_input(panel=True)
    imputed = impute(panel.data, "mean").data
    out = normalise(imputed, panel.tree.directions, "minmax", scope=scope)
    exp = read(ref)
    assert_frame_close(out.loc[exp.index], exp)


def test_global_and_period_scopes_differ_and_global_is_one_minmax():
    panel = impute(coin_input(panel=True).data, "mean").data
    g = normalise(panel, None, "minmax")
    p = normalise(panel, None, "minmax", scope="period")
    assert not np.allclose(g.to_numpy(), p.to_numpy())
    assert np.allclose(g.min(), 0) and np.allclose(g.max(), 100)
    for _, part in p.groupby(level="Time"):
        assert np.allclose(part.min(), 0) and np.allclose(part.max(), 100)


def test_goalposts_coinr_examples():
    """COINr docs: n_goalposts(1, c(0, 10, 1)) = 0.1; with direction -1, 0.9 (goalposts in own units, as
    COINr's use_iMeta route gives them, or ``bounds="own"``)."""
    df = pd.DataFrame({"a": [1.0, -5.0, 12.0]})
    up = normalise(df, {"a": 1}, "goalposts", gposts=(0, 10, 1))
    down = normalise(df, {"a": -1}, "goalposts", gposts=(0, 10, 1), bounds="own")
    assert up["a"].tolist() == pytest.approx([0.1, 0.0, 1.0])
    assert down["a"].tolist() == pytest.approx([0.9, 1.0, 0.0])
    # COINr's Normalise with explicit gposts: they apply to x · direction = (-1, 5, -12)
    coinr = normalise(df, {"a": -1}, "goalposts", gposts=(0, 10, 1))
    assert coinr["a"].tolist() == pytest.approx([0.0, 0.5, 0.0])
    # the same goalposts given on x · direction
    assert normalise(df, {"a": -1}, "goalposts", gposts=(-10, 0, 1))["a"].tolist() == pytest.approx([0.9, 1.0, 0.0])
    raw = normalise(df, {"a": 1}, "goalposts", gposts=(0, 10, 100), trunc2posts=False)
    assert raw["a"].tolist() == pytest.approx([10.0, -50.0, 120.0])


def test_dist2targ_coinr_examples():
    """COINr tests: x = (-1, 1, 10), target 0, negative direction -> (1.1, 0.9, 0); capped -> (1, 0.9, 0)."""
    df = pd.DataFrame({"a": [-1.0, 1.0, 10.0]})
    assert normalise(df, {"a": -1}, "dist2targ", targ=0)["a"].tolist() == pytest.approx([1.1, 0.9, 0.0])
    assert normalise(df, {"a": -1}, "dist2targ", targ=0, cap_max=True)["a"].tolist() == pytest.approx([1.0, 0.9, 0.0])
    pos = pd.DataFrame({"a": [0.0, 5.0, 12.0]})
    assert normalise(pos, None, "dist2targ", targ=10, cap_max=True)["a"].tolist() == pytest.approx([0, 0.5, 1])


def test_constant_column_gives_nan_with_a_warning():
    df = pd.DataFrame({"a": [3.0, 3.0, 3.0], "b": [1.0, 2.0, 3.0]}, index=["x", "y", "z"])
    out = normalise(df, None, "minmax")
    assert out["a"].isna().all() and out["b"].tolist() == [0, 50, 100]
    (w,) = normalise_output(df, None, "minmax").warnings
    assert w["indicator"] == "a" and w["method"] == "minmax" and "range" in w["message"]
    z = normalise(df, None, "zscore")
    assert z["a"].isna().all() and normalise_output(df, None, "zscore").warnings[0]["indicator"] == "a"


def test_zscore_uses_the_sample_sd():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan]})
    out = normalise(df, None, "zscore")
    assert out["a"].tolist()[:3] == pytest.approx([-1.0, 0.0, 1.0])
    assert np.isnan(out["a"].iloc[3])


def test_efficacy_toy_case():
    """method-cases.md: actual 0.90, upper-band standard 1.00, this band's standard 0.80 -> coefficient 0.5."""
    assert efficacy_coefficient(0.90, 0.80, 1.00) == pytest.approx(0.5)
    df = pd.DataFrame({"roe": [0.90]})
    out = normalise(df, None, "efficacy_linear", lower=0.80, upper=1.00, scale=1)
    assert out["roe"].iloc[0] == pytest.approx(0.5)
    classic = normalise(df, None, "efficacy_linear", lower=0.80, upper=1.00, scale=40, offset=60)
    assert classic["roe"].iloc[0] == pytest.approx(80.0)


def _panel():
    idx = pd.MultiIndex.from_product([["A", "B", "C"], [2011, 2012, 2013]], names=["uCode", "Time"])
    x = np.array([1.0, 2.0, 4.0, 2.0, 3.0, 6.0, 4.0, 8.0, 16.0])
    return pd.DataFrame({"pay": x, "cost": x[::-1].copy()}, index=idx)


def test_efficacy_goalposts_frozen_on_the_base_period():
    df = _panel()
    dirs = {"pay": 1, "cost": -1}
    out = normalise(df, dirs, "efficacy_linear", base=2011)
    base = df.xs(2011, level="Time")
    lo, hi = base.min(), base.max()
    exp_pay = (df["pay"] - lo["pay"]) / (hi["pay"] - lo["pay"]) * 100
    exp_cost = (hi["cost"] - df["cost"]) / (hi["cost"] - lo["cost"]) * 100
    np.testing.assert_allclose(out["pay"], exp_pay)
    np.testing.assert_allclose(out["cost"], exp_cost)
    assert out["pay"].max() > 100  # later years may exceed the frozen top goalpost
    # the same goalposts applied year by year give the same scores (comparable over time)
    for t in (2012, 2013):
        year = normalise(df.xs(t, level="Time"), dirs, "efficacy_linear", base=base)
        np.testing.assert_allclose(year["pay"], out.xs(t, level="Time")["pay"])
    # in the base year itself the linear form is min-max
    np.testing.assert_allclose(out.xs(2011, level="Time"), normalise(base, dirs, "minmax"))


def test_efficacy_log_form_and_quantile_goalposts():
    df = _panel()
    out = normalise(df, {"pay": 1, "cost": -1}, "efficacy_log", base=2011, base_quantiles=(0.05, 0.95))
    base = df.xs(2011, level="Time")
    lo, hi = base.quantile(0.05), base.quantile(0.95)
    exp = (np.log(df["pay"]) - np.log(lo["pay"])) / (np.log(hi["pay"]) - np.log(lo["pay"])) * 100
    np.testing.assert_allclose(out["pay"], exp)
    exp_c = (np.log(df["cost"]) - np.log(hi["cost"])) / (np.log(lo["cost"]) - np.log(hi["cost"])) * 100
    np.testing.assert_allclose(out["cost"], exp_c)
    given = normalise(df, None, "efficacy_log", lower={"pay": 1, "cost": 1}, upper={"pay": 16, "cost": 16})
    np.testing.assert_allclose(given["pay"], np.log(df["pay"]) / np.log(16) * 100)


def test_efficacy_errors():
    df = _panel()
    with pytest.raises(SpecError) as e:
        normalise(df, None, "efficacy_linear")
    assert "base" in str(e.value)
    with pytest.raises(SpecError):
        normalise(df, None, "efficacy_linear", base=1999)
    bad = df.copy()
    bad.iloc[0, 0] = -1.0
    with pytest.raises(MethodError) as e:
        normalise(bad, None, "efficacy_log", lower=1, upper=2)
    assert "indicator pay" in str(e.value)


def test_individual_specs_override_the_global_method():
    data = read(TREATED)
    out = normalise(
        data, directions(), "minmax", indiv={"LPI": {"method": "zscore", "m_sd": (100, 10)}, "Gas": "rank", "CO2": {"l_u": (1, 10)}}
    )
    assert_frame_close(out[["LPI"]], read("norm_zscore_100_10.csv")[["LPI"]])
    assert out["Gas"].tolist() == normalise(data[["Gas"]], directions(), "rank")["Gas"].tolist()
    assert out["CO2"].min() == pytest.approx(1) and out["CO2"].max() == pytest.approx(10)
    rest = [c for c in data.columns if c not in ("LPI", "Gas", "CO2")]
    assert_frame_close(out[rest], read("norm_minmax_0_100.csv")[rest])


def test_per_indicator_parameters_and_errors():
    df = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [0.0, 5.0, 10.0]})
    out = normalise(df, None, "minmax", l_u={"a": (0, 1), "b": (0, 10)})
    assert out["a"].tolist() == [0, 0.5, 1] and out["b"].tolist() == [0, 5, 10]
    with pytest.raises(SpecError) as e:
        normalise(df, None, "dist2targ", targ={"a": 1.0})
    assert "indicator b" in str(e.value)
    with pytest.raises(SpecError) as e:
        normalise(df, None, "minmax", lu=(0, 1))
    assert "parameter lu" in str(e.value)
    with pytest.raises(SpecError):
        normalise(df, {"a": 1}, "minmax")
    with pytest.raises(SpecError):
        normalise(df, {"a": 2, "b": 1}, "minmax")
    with pytest.raises(SpecError):
        normalise(df, None, "dist2ref", iref="nobody")
    with pytest.raises(SpecError):
        normalise(df, None, "minmax", scope="yearly")


def test_every_normaliser_applies_the_direction_first():
    df = pd.DataFrame({"a": [1.0, 2.0, 4.0, 8.0]})
    for name in NORMALISERS.names():
        if name in ("goalposts", "dist2targ", "dist2ref", "efficacy_linear", "efficacy_log", "scaled", "none", "fracmax"):
            continue
        up = normalise(df, {"a": 1}, name)["a"].to_numpy()
        down = normalise(df, {"a": -1}, name)["a"].to_numpy()
        assert up[0] < up[-1] and down[0] > down[-1], name


def test_fracmax_on_a_reverse_indicator_keeps_coinr_behaviour():
    """COINr quirk kept for parity: x/max on -x gives larger scores to *worse* units (norm_fracmax.csv shows it)."""
    df = pd.DataFrame({"a": [1.0, 2.0, 4.0, 8.0]})
    assert normalise(df, {"a": -1}, "fracmax")["a"].tolist() == [1.0, 2.0, 4.0, 8.0]
    ref = read("norm_fracmax.csv")["CO2"]  # CO2 has direction -1
    data = read(TREATED)["CO2"]
    assert ref.idxmax() == data.idxmax()


def test_pipelines_end_to_end_from_the_raw_input():
    """A: Raw -> Denominate -> Impute(mean by EurAsia_group) -> Screen(byNA 0.9) -> Treat -> minmax, each stage
    fed with our own previous output; B: zscore 100/10 on A's treated data; C: Raw -> mean -> Treat -> minmax."""
    from fintech_eval.methods import denominate, mapping_from_imeta, screen, treat

    from ..coinr_ref import imeta, sorted_units

    ci = coin_input()
    raw = sorted_units(ci.data)
    den = denominate(raw, ci.denominators, mapping_from_imeta(imeta()))
    assert_frame_close(den, read("A_data_Denominated.csv"))
    imp = impute(den, "mean_group", groups=ci.groups, group="EurAsia_group").data
    assert_frame_close(imp, read("A_data_Imputed.csv"))
    scr = screen(imp, by="byNA", dat_thresh=0.9).data
    assert_frame_close(scr, read("A_data_Screened.csv"))
    trt = treat(scr).data
    assert_frame_close(trt, read("A_data_Treated.csv"))
    assert_frame_close(normalise(trt, ci.tree.directions, "minmax"), read("A_data_Normalised.csv"))
    assert_frame_close(normalise(trt, ci.tree.directions, "zscore", m_sd=(100, 10)), read("B_data_Normalised.csv"))
    c = treat(impute(raw, "mean").data).data
    assert_frame_close(c, read("C_data_Treated.csv"))
    assert_frame_close(normalise(c, ci.tree.directions), read("C_data_Normalised.csv"))
