"""Outlier treatment against COINr 1.1.14 (A/B/C pipelines) and against a line-by-line R transliteration."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import MethodError, SpecError
from fintech_eval.methods import TREATERS, check_skew_kurt, skew_kurt, treat
from fintech_eval.methods.treat import COINR_COLUMNS

from ..coinr_ref import assert_frame_close, read, read_plain

# ------------------------------------------------------------------------------------------------
# COINr reference files
# ------------------------------------------------------------------------------------------------
PIPELINES = [("A", "A_data_Screened.csv"), ("B", "B_data_Screened.csv"), ("C", "C_data_Imputed.csv")]


@pytest.fixture(scope="module", params=PIPELINES, ids=[p for p, _ in PIPELINES])
def treated(request):
    pipe, source = request.param
    return pipe, treat(read(source))


def test_treated_data_matches_coinr(treated):
    pipe, res = treated
    assert_frame_close(res.data, read(f"{pipe}_data_Treated.csv"))


def test_treatment_details_match_coinr(treated):
    pipe, res = treated
    ref = read_plain(f"{pipe}_treat_details.csv").set_index("iCode")
    det = res.details
    assert list(det.index) == list(ref.index)
    for col in ref.columns:
        assert col in det.columns, col
        if col.endswith(".Pass"):
            expected = ref[col].astype("boolean")
            assert det[col].astype("boolean").equals(expected), col
        elif col == "winsorise.nwin":
            assert det[col].astype("Int64").equals(ref[col].astype("Int64")), col
        else:
            a, e = det[col].to_numpy(float), ref[col].to_numpy(float)
            assert np.array_equal(np.isnan(a), np.isnan(e)), col
            np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=col)


def test_treated_points_match_coinr(treated):
    pipe, res = treated
    ref = read_plain(f"{pipe}_treat_points.csv", keep_default_na=False, dtype=str)
    assert list(ref.columns) == list(res.points.columns)
    assert ref.to_numpy(dtype=object).tolist() == res.points.to_numpy(dtype=object).tolist()


def test_asem_counts_as_documented():
    """coinr.md: 15 of 49 ASEM indicators fail; all pass after 1-4 winsorised points."""
    res = treat(read("A_data_Screened.csv"))
    failed = res.details["check_SkewKurt0.Pass"] == False  # noqa: E712
    assert int(failed.sum()) == 15
    assert res.details.loc[failed, "check_SkewKurt1.Pass"].all()
    assert res.details.loc[failed, "winsorise.nwin"].between(1, 4).all()


def test_skew_kurt_equal_pandas():
    """Parity detail 1: COINr's skew/kurt are pandas' bias-corrected .skew()/.kurt()."""
    x = read("A_data_Denominated.csv")
    sk, kt, n = skew_kurt(x.to_numpy())
    np.testing.assert_allclose(sk, x.skew().to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(kt, x.kurt().to_numpy(), rtol=1e-10)
    assert (n == x.notna().sum().to_numpy()).all()


def test_pass_rule_needs_both_skew_and_kurtosis():
    """Parity detail 2: fail only when |skew| >= 2 AND kurt >= 3.5 (both at the threshold fail)."""
    x = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    p, s, k = check_skew_kurt(x)
    assert p[0] == 0 and s[0] >= 2 and k[0] >= 3.5
    p, s, k = check_skew_kurt(x, skew_thresh=float(s[0]), kurt_thresh=float(k[0]))
    assert p[0] == 0  # equal to the thresholds still fails (>=)
    p, _, _ = check_skew_kurt(x, kurt_thresh=float(k[0]) + 1e-9)
    assert p[0] == 1


# ------------------------------------------------------------------------------------------------
# an R transliteration of COINr's Treat.numeric / winsorise / check_SkewKurt, one column at a time
# ------------------------------------------------------------------------------------------------
def _r_skew(x):
    x = x[~np.isnan(x)]
    n = len(x)
    x = x - x.mean()
    y = np.sqrt(n) * np.sum(x**3) / (np.sum(x**2) ** 1.5)
    return y * np.sqrt(n * (n - 1)) / (n - 2)


def _r_kurt(x):
    x = x[~np.isnan(x)]
    n = len(x)
    x = x - x.mean()
    r = n * np.sum(x**4) / (np.sum(x**2) ** 2)
    return ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))


def _r_check(x, st=2, kt=3.5):
    return (abs(_r_skew(x)) < st) or (_r_kurt(x) < kt)


def _r_winsorise(x, winmax, force=False):
    x = x.copy()
    passing = _r_check(x)
    nwin = 0
    imax = imin = np.array([], dtype=int)
    while ((not passing) or force) and nwin < winmax:
        if _r_skew(x) >= 0:
            imax = np.flatnonzero(x == np.nanmax(x))
            x[imax] = np.nanmax(np.delete(x, imax))
        else:
            imin = np.flatnonzero(x == np.nanmin(x))
            x[imin] = np.nanmin(np.delete(x, imin))
        nwin = len(imax) + len(imin)
        passing = _r_check(x)
    treated = np.full(len(x), "", dtype=object)
    treated[imax] = "winhi"
    treated[imin] = "winlo"
    return x, nwin, treated


def _r_treat(x, winmax=5, force=False):
    if _r_check(x) and not force:
        return x, np.full(len(x), "", dtype=object), None
    x1, nwin, t1 = _r_winsorise(x, winmax, force)
    if _r_check(x1):
        return x1, t1, nwin
    mn, mx = np.nanmin(x), np.nanmax(x)
    x2 = np.log(x - mn + 0.01 * (mx - mn))
    pts = np.array([f"{a}+log_CT" for a in t1], dtype=object)
    return x2, pts, nwin


def _random_frame(seed, n=60, m=12):
    rng = np.random.default_rng(seed)
    cols = {}
    for j in range(m):
        kind = j % 4
        if kind == 0:
            v = rng.lognormal(0, 1.5, n)  # needs log_CT
        elif kind == 1:
            v = -rng.lognormal(0, 0.8, n)  # negative skew: winlo
        elif kind == 2:
            v = np.round(rng.lognormal(0, 1.0, n), 1)  # ties
        else:
            v = rng.normal(size=n)
            v[:2] = [15, 15]  # a tied pair of outliers
        v[rng.random(n) < 0.1] = np.nan
        cols[f"i{j}"] = v
    return pd.DataFrame(cols, index=[f"u{i:03d}" for i in range(n)])


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_equals_r_transliteration(seed):
    df = _random_frame(seed)
    res = treat(df)
    for c in df.columns:
        x, pts, nwin = _r_treat(df[c].to_numpy())
        np.testing.assert_allclose(res.data[c].to_numpy(), x, rtol=1e-12, atol=0, equal_nan=True, err_msg=c)
        assert res.points[c].tolist() == pts.tolist(), c
        got = res.details.loc[c, "winsorise.nwin"]
        assert (pd.isna(got) and nwin is None) or got == nwin, c


def test_log_ct_fallback_on_lognormal():
    """coinr.md: synthetic lognormal data — all indicators fail and all need log_CT (on the original values)."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.lognormal(0, 1.5, (400, 6)), columns=list("abcdef"))
    res = treat(df)
    assert (res.details["check_SkewKurt1.Pass"] == False).all()  # noqa: E712
    assert res.details["check_SkewKurt2.Pass"].notna().all()
    for c in df.columns:
        x = df[c].to_numpy()
        expected = np.log(x - x.min() + 0.01 * (x.max() - x.min()))
        np.testing.assert_allclose(res.data[c].to_numpy(), expected, rtol=1e-15)
        pts = set(res.points[c])
        assert pts <= {"+log_CT", "winhi+log_CT"} and "winhi+log_CT" in pts


def test_combine_treat_logs_the_winsorised_values():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.lognormal(0, 1.5, 300)})
    r0 = treat(df)
    r1 = treat(df, combine_treat=True)
    x1, _, _ = _r_winsorise(df["a"].to_numpy(), 5)
    np.testing.assert_allclose(r1.data["a"], np.log(x1 - x1.min() + 0.01 * (x1.max() - x1.min())), rtol=1e-15)
    assert not np.allclose(r0.data["a"], r1.data["a"])


def test_force_win_winsorises_even_a_passing_indicator():
    df = pd.DataFrame({"a": np.arange(1.0, 21.0), "b": np.arange(1.0, 21.0)})
    res = treat(df, force_win=["a"], winmax=3)
    assert res.details.loc["a", "winsorise.nwin"] == 3
    assert pd.isna(res.details.loc["b", "winsorise.nwin"])
    x, nwin, _ = _r_winsorise(df["a"].to_numpy(), 3, force=True)
    np.testing.assert_array_equal(res.data["a"], x)
    assert (res.data["b"] == df["b"]).all()


def test_individual_specs():
    df = read("A_data_Screened.csv")
    res = treat(df, indiv={"Gas": "none", "Bord": {"winmax": 0}, "Goods": {"method": "boxcox", "lmbda": 0.5}})
    ref = read("A_data_Treated.csv")
    assert (res.data["Gas"] == df["Gas"]).all()
    b = df["Bord"].to_numpy()  # fails the test; winmax 0 sends it straight to log_CT
    np.testing.assert_allclose(res.data["Bord"], np.log(b - b.min() + 0.01 * (b.max() - b.min())), rtol=1e-15)
    assert res.details.loc["Bord", "winsorise.nwin"] == 0
    assert set(res.points["Bord"]) == {"+log_CT"}
    g = df["Goods"].to_numpy() - df["Goods"].min() + 1
    np.testing.assert_allclose(res.data["Goods"], (g**0.5 - 1) / 0.5)
    others = [c for c in df.columns if c not in ("Gas", "Bord", "Goods")]
    assert_frame_close(res.data[others], ref[others])
    assert res.details.loc["Goods", "boxcox.lambda"] == 0.5


def test_percentile_caps_and_boxcox_fit():
    from scipy import stats

    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.lognormal(0, 1, (200, 3)), columns=["a", "b", "c"])
    res = treat(df, "percentile", lower=0.1, upper=0.9)
    q = df.quantile([0.1, 0.9])
    np.testing.assert_allclose(res.data, df.clip(q.loc[0.1], q.loc[0.9], axis=1))
    assert (res.points.to_numpy() == "winhi").sum() == (df > q.loc[0.9]).to_numpy().sum()
    bc = treat(df, "boxcox")
    for c in df.columns:
        y, lam = stats.boxcox(df[c] - df[c].min() + 1)
        np.testing.assert_allclose(bc.data[c], y, rtol=1e-9)
        assert bc.details.loc[c, "boxcox.lambda"] == pytest.approx(lam)


def test_treatment_per_period_on_a_panel():
    rng = np.random.default_rng(4)
    idx = pd.MultiIndex.from_product([[f"u{i}" for i in range(40)], [2020, 2021]], names=["uCode", "Time"])
    df = pd.DataFrame({"a": rng.lognormal(0, 1.2, 80)}, index=idx)
    res = treat(df)
    for t in (2020, 2021):
        one = treat(df.xs(t, level="Time"))
        np.testing.assert_array_equal(res.data.xs(t, level="Time")["a"], one.data["a"])
    assert list(res.details.index.names) == ["Time", "iCode"]


def test_errors_name_method_parameter_and_indicator():
    df = pd.DataFrame({"a": [1.0, 2.0, np.nan, np.nan, np.nan], "b": [1.0, 2, 3, 4, 5]})
    with pytest.raises(MethodError) as e:
        treat(df)
    assert "indicator a" in str(e.value) and "4 available values" in str(e.value)
    with pytest.raises(SpecError) as e:
        treat(df[["b"]], winmx=3)
    assert "winmx" in str(e.value)
    with pytest.raises(SpecError):
        treat(df[["b"]], indiv={"zz": "none"})
    with pytest.raises(SpecError):
        treat(df[["b"]], "percentile", force_win=["b"])
    with pytest.raises(SpecError):
        treat(df[["b"]], "nope")


def test_constant_column_is_left_untreated_with_a_warning():
    df = pd.DataFrame({"a": np.ones(10), "b": np.r_[np.arange(9.0), 100.0]})
    res = treat(df)
    assert (res.data["a"] == 1).all()
    assert pd.isna(res.details.loc["a", "check_SkewKurt0.Pass"])
    assert any(w["indicator"] == "a" for w in res.warnings)


def test_every_method_is_documented():
    for entry in TREATERS:
        assert entry.doc, entry.name
    assert COINR_COLUMNS[:7] == list(read_plain("A_treat_details.csv").columns[1:])


@pytest.mark.parametrize("seed", range(5))
def test_heavy_ties_and_side_switching_equal_r_transliteration(seed):
    """Count data (big tie groups) and outliers on both sides (the winsorised side follows the skew sign)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "pois": rng.poisson(0.5, 60).astype(float),
            "both": np.r_[rng.normal(0, 1, 57), [30, -25, 30]],
            "t": np.round(rng.standard_t(1.5, 60), 0),
        }
    )
    res = treat(df)
    assert not res.warnings
    both_sides = False
    for c in df.columns:
        x, pts, nwin = _r_treat(df[c].to_numpy())
        np.testing.assert_array_equal(res.data[c].to_numpy(), x)
        assert res.points[c].tolist() == pts.tolist(), c
        got = res.details.loc[c, "winsorise.nwin"]
        assert (pd.isna(got) and nwin is None) or got == nwin, c
        both_sides |= {"winhi", "winlo"} <= set(pts) | {p.split("+")[0] for p in pts}
    assert both_sides


# ------------------------------------------------------------------------------------------------
# the estimated re-test decides exactly as the two-pass re-test at every step
# ------------------------------------------------------------------------------------------------
def _hostile_frame(seed, n=80):
    """Columns that put the estimate's error bound to work: huge outliers (the clip removes nearly all of the
    fourth-power sum), a column that becomes constant, one whose skew after a step sits on the threshold."""
    rng = np.random.default_rng(seed)
    cols = {
        "heavy": rng.lognormal(0, 2.0, n),
        "huge": np.r_[rng.normal(size=n - 3), [1e12, 3e11, -1e10]],
        "flat": np.r_[np.zeros(n - 4), [1.0, 2.0, 50.0, 400.0]],
        "neg": -rng.lognormal(0, 1.2, n),
        "ties": np.round(rng.lognormal(0, 1.0, n), 0),
        "tiny": 1e-300 * rng.lognormal(0, 1.5, n),
        "offset": 1e9 + rng.lognormal(0, 1.5, n),
    }
    df = pd.DataFrame(cols)
    df.iloc[rng.choice(n, 6, replace=False), 0] = np.nan
    # a column whose skew after two winsorised points is the skew threshold itself: the estimate must defer
    x = rng.lognormal(0, 1.0, n)
    srt = np.sort(x)
    clipped = np.clip(x, -np.inf, srt[-3])
    s, _, _ = skew_kurt(clipped[:, None])
    df["edge"] = x
    return df, float(s[0])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("params", [{}, {"winmax": None, "f2": None}, {"winmax": 12, "combine_treat": True}, {"force_win": ["neg", "flat"]}])
def test_estimated_retest_equals_two_pass_retest(monkeypatch, seed, params):
    import importlib

    T = importlib.import_module("fintech_eval.methods.treat")  # the module (the package exports the function)
    monkeypatch.setattr(T, "_ESTIMATE_FROM", 0)  # estimate every step, however small the frame
    df, edge_skew = _hostile_frame(seed)
    params = dict(params)
    force = params.pop("force_win", None)
    runs = [treat(df, force_win=force, **params), treat(df, force_win=force, skew_thresh=edge_skew, **params)]
    real = T._clipped_estimate
    doubts = []

    def never_sure(*a, **k):  # the step-by-step two-pass re-test at every step
        s, kt, sure = real(*a, **k)
        doubts.append(~sure)
        return s, kt, np.zeros_like(sure)

    monkeypatch.setattr(T, "_clipped_estimate", never_sure)
    refs = [treat(df, force_win=force, **params), treat(df, force_win=force, skew_thresh=edge_skew, **params)]
    for got, ref in zip(runs, refs, strict=True):
        pd.testing.assert_frame_equal(got.data, ref.data, check_exact=True)
        pd.testing.assert_frame_equal(got.details, ref.details, check_exact=True)
        pd.testing.assert_frame_equal(got.points, ref.points)
        assert [p.message for p in got.warnings] == [p.message for p in ref.warnings]
    assert any(d.any() for d in doubts)  # some steps were in doubt and went to the data
