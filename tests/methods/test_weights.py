"""Weights: COINr's PCA / effective / optimised weights on ASEM, and the objective methods against direct formulas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fintech_eval.coinr import read_coinr
from fintech_eval.errors import DataError, MethodError, SpecError
from fintech_eval.methods.aggregate import aggregate
from fintech_eval.methods.weights import (
    WEIGHTS,
    WeightSets,
    combine_weights,
    effective_weights,
    minmax_standardise,
    nelder_mead_r,
    opt_weights,
    pca,
    pca_weight_set,
)
from fintech_eval.tree import Tree

REF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "coinr"
RTOL = 1e-9


def ref(name: str, index: str = "uCode") -> pd.DataFrame:
    return pd.read_csv(REF / name, index_col=index)


@pytest.fixture(scope="module")
def tree() -> Tree:
    return read_coinr(REF / "input_ASEM_iData.csv", REF / "input_ASEM_iMeta.csv").tree


@pytest.fixture
def sample() -> pd.DataFrame:
    """Five regions × four indicators; NPL is a reverse (cost) indicator; one cell of 'acct' is 0."""
    return pd.DataFrame(
        {
            "pay": [12.0, 30.0, 18.0, 25.0, 40.0],
            "credit": [3.1, 2.2, 5.0, 4.4, 3.9],
            "acct": [0.0, 55.0, 61.0, 70.0, 58.0],
            "NPL": [1.8, 1.1, 2.5, 0.9, 1.4],
        },
        index=["R1", "R2", "R3", "R4", "R5"],
    )


# ---------------------------------------------------------------------------------------------------------
# direct formulas, written independently of the implementation
# ---------------------------------------------------------------------------------------------------------
def ref_minmax(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    lo, hi = x.min(axis=0), x.max(axis=0)
    return np.where(d > 0, (x - lo) / (hi - lo), (hi - x) / (hi - lo))


def ref_entropy(z: np.ndarray) -> np.ndarray:
    n = z.shape[0]
    p = z / z.sum(axis=0)
    e = np.zeros(z.shape[1])
    for j in range(z.shape[1]):
        e[j] = -sum(pi * np.log(pi) for pi in p[:, j] if pi > 0) / np.log(n)
    d = 1 - e
    return d / d.sum()


DIRS = {"NPL": -1}
D = np.array([1, 1, 1, -1])


def test_entropy_standardised(sample):
    w = WEIGHTS.get("entropy")(sample, directions=DIRS)
    np.testing.assert_allclose(w.to_numpy(), ref_entropy(ref_minmax(sample.to_numpy(), D)), rtol=RTOL)
    assert w.sum() == pytest.approx(1.0)
    assert list(w.index) == list(sample.columns)


def test_entropy_shift_and_rescale(sample):
    z = ref_minmax(sample.to_numpy(), D)
    w = WEIGHTS.get("entropy")(sample, directions=DIRS, shift=0.0001)
    np.testing.assert_allclose(w.to_numpy(), ref_entropy(z + 0.0001), rtol=RTOL)
    w2 = WEIGHTS.get("熵权法")(sample, directions=DIRS, rescale=(0.002, 1))
    np.testing.assert_allclose(w2.to_numpy(), ref_entropy(0.002 + 0.998 * z), rtol=RTOL)
    with pytest.raises(SpecError):
        WEIGHTS.get("entropy")(sample, shift=0.1, rescale=(0.002, 1))


def test_entropy_raw_sum_variant(sample):
    w = WEIGHTS.get("entropy")(sample, convention="raw")
    np.testing.assert_allclose(w.to_numpy(), ref_entropy(sample.to_numpy()), rtol=RTOL)
    with pytest.raises(MethodError, match="negative"):
        WEIGHTS.get("entropy")(sample.assign(pay=-sample["pay"]), convention="raw")


def test_entropy_zero_log_zero_and_directions_matter(sample):
    # the min-max standardised data contain zeros (0·ln0 := 0, no NaN)
    w = WEIGHTS.get("entropy")(sample, directions=DIRS)
    assert np.isfinite(w).all()
    w_flip = WEIGHTS.get("entropy")(sample)
    assert not np.allclose(w.to_numpy(), w_flip.to_numpy())


def test_entropy_constant_column_gets_zero_weight(sample):
    w = WEIGHTS.get("entropy")(sample.assign(const=5.0), directions=DIRS)
    assert w["const"] == 0.0
    np.testing.assert_allclose(w.drop("const").to_numpy(), ref_entropy(ref_minmax(sample.to_numpy(), D)), rtol=RTOL)


def test_entropy_panel_uses_whole_panel(sample):
    y2 = sample * 1.3 + 2
    panel = pd.concat({2021: sample, 2022: y2}, names=["year", "region"]).swaplevel().sort_index()
    w = WEIGHTS.get("时空极差熵权法")(panel, directions=DIRS)
    stacked = panel.to_numpy()
    np.testing.assert_allclose(w.loc[list(sample.columns)].to_numpy(), ref_entropy(ref_minmax(stacked, D)), rtol=RTOL)
    # differs from averaging two per-year entropy weightings (each year standardised on its own)
    per_year = (WEIGHTS.get("entropy")(sample, directions=DIRS) + WEIGHTS.get("entropy")(y2, directions=DIRS)) / 2
    assert not np.allclose(w.to_numpy(), per_year.to_numpy())


def test_cv_and_std(sample):
    x = sample.to_numpy()
    cv = x.std(axis=0, ddof=1) / np.abs(x.mean(axis=0))
    np.testing.assert_allclose(WEIGHTS.get("cv")(sample).to_numpy(), cv / cv.sum(), rtol=RTOL)
    z = ref_minmax(x, np.ones(4))
    sd = z.std(axis=0, ddof=1)
    np.testing.assert_allclose(WEIGHTS.get("std")(sample).to_numpy(), sd / sd.sum(), rtol=RTOL)
    raw = x.std(axis=0, ddof=1)
    np.testing.assert_allclose(WEIGHTS.get("std")(sample, standardise=None).to_numpy(), raw / raw.sum(), rtol=RTOL)
    with pytest.raises(MethodError):
        WEIGHTS.get("cv")(sample.assign(zero=[-1.0, 1.0, 0.0, 0.0, 0.0]))


def test_critic(sample):
    z = ref_minmax(sample.to_numpy(), D)
    sd = z.std(axis=0, ddof=1)
    r = np.corrcoef(z, rowvar=False)
    c = sd * (1 - r).sum(axis=1)
    w = WEIGHTS.get("critic")(sample, directions=DIRS)
    np.testing.assert_allclose(w.to_numpy(), c / c.sum(), rtol=RTOL)
    # the reverse indicator's correlations change sign when flipped
    assert not np.allclose(w.to_numpy(), WEIGHTS.get("CRITIC")(sample).to_numpy())


def test_equal_manual_named(sample):
    assert WEIGHTS.get("equal")(sample).tolist() == [0.25] * 4
    w = WEIGHTS.get("manual")(sample, weights={"pay": 2, "credit": 1, "acct": 1, "NPL": 4})
    assert w.tolist() == [0.25, 0.125, 0.125, 0.5]
    with pytest.raises(SpecError, match="NPL"):
        WEIGHTS.get("manual")(sample, weights={"pay": 2, "credit": 1, "acct": 1})
    sets = WeightSets({"expert": {"pay": 1, "credit": 1, "acct": 1, "NPL": 1, "extra": 5}})
    assert WEIGHTS.get("named")(sample, name="expert", sets=sets).tolist() == [0.25] * 4
    with pytest.raises(SpecError, match="expert"):
        WEIGHTS.get("named")(sample, name="nope", sets=sets)


def test_combined(sample):
    a = WEIGHTS.get("entropy")(sample, directions=DIRS)
    b = WEIGHTS.get("critic")(sample, directions=DIRS)
    prod = WEIGHTS.get("combined")(sample, schemes=["entropy", "critic"], directions=DIRS)
    np.testing.assert_allclose(prod.to_numpy(), (a * b / (a * b).sum()).to_numpy(), rtol=RTOL)
    mean = WEIGHTS.get("combined")(sample, schemes=[("entropy", {"shift": 0.0}), b], directions=DIRS,
                                        how="mean", alpha=0.3)
    np.testing.assert_allclose(mean.to_numpy(), (0.3 * a + 0.7 * b).to_numpy(), rtol=RTOL)
    with pytest.raises(SpecError):
        combine_weights(a, b.drop("pay"))


@pytest.mark.parametrize("name", ["equal", "entropy", "entropy_panel", "cv", "std", "critic", "pca"])
def test_every_data_method_returns_weights_summing_to_one(sample, name):
    before = sample.copy()
    w = WEIGHTS.get(name)(sample.assign(acct=sample["acct"] + 1))
    assert isinstance(w, pd.Series)
    assert list(w.index) == list(sample.columns)
    assert w.sum() == pytest.approx(1.0, rel=1e-12)
    pd.testing.assert_frame_equal(sample, before)
    assert np.array_equal(w.to_numpy(), WEIGHTS.get(name)(sample.assign(acct=sample["acct"] + 1)).to_numpy())


def test_bad_directions(sample):
    with pytest.raises(DataError):
        WEIGHTS.get("entropy")(sample, directions={"nope": -1})
    with pytest.raises(DataError):
        minmax_standardise(sample, {"NPL": 2})


# ---------------------------------------------------------------------------------------------------------
# COINr: PCA weights (get_PCA weights_to), effective weights, optimised weights
# ---------------------------------------------------------------------------------------------------------
def test_pca_reproduces_coinr_level2(tree):
    agg = ref("A_data_Aggregated.csv").astype(float)
    ws = pca_weight_set(agg, tree, level=2, by_groups=False)
    expected = ref("analysis_pca_weights_L2.csv", "iCode")
    np.testing.assert_allclose(ws.weights.loc[expected.index].to_numpy(), expected["Weight"].to_numpy(), rtol=RTOL)
    res = ws.results["All"]
    loadings = ref("analysis_pca_loadings_L2.csv", "iCode")
    got = res.loadings.loc[loadings.index, loadings.columns].to_numpy()
    # signs are LAPACK's (dgesdd), as in R; compare up to a sign per component to stay library-independent,
    # and exactly for PC1 (the weights)
    signs = np.sign((got * loadings.to_numpy()).sum(axis=0))
    np.testing.assert_allclose(got * signs, loadings.to_numpy(), rtol=1e-7, atol=1e-12)
    assert signs[0] == 1
    imp = ref("analysis_pca_importance_L2.csv", "Stat")
    np.testing.assert_allclose(res.importance.loc[imp.index, imp.columns].to_numpy(), imp.to_numpy(), rtol=RTOL)
    # COINr's caveat: two negative weights at level 2
    assert (ws.weights.loc[tree.codes(2)] < 0).sum() == 2


def test_pca_sign_option_and_normalised_weights(tree):
    agg = ref("A_data_Aggregated.csv").astype(float)[tree.codes(2)]
    flipped = pca(-agg, sign="lapack").loadings["PC1"]
    stable = pca(-agg, sign="positive").loadings["PC1"]
    assert stable.sum() > 0
    np.testing.assert_allclose(np.abs(flipped), np.abs(stable), rtol=1e-12)
    w = WEIGHTS.get("pca")(agg)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w.to_numpy(), (stable / stable.sum()).to_numpy(), rtol=1e-12)


def test_pca_by_groups(tree):
    agg = ref("A_data_Aggregated.csv").astype(float)
    ws = pca_weight_set(agg, tree, level=2, by_groups=True)
    assert set(ws.results) == {"Conn", "Sust"}
    assert list(ws.results["Sust"].loadings.index) == ["Environ", "Social", "SusEcFin"]


def test_effective_weights_reproduce_coinr(tree):
    expected = ref("analysis_effective_weights.csv", "iCode")
    eff = effective_weights(tree)
    np.testing.assert_allclose(eff.loc[expected.index].to_numpy(), expected["EffWeight"].to_numpy(), rtol=RTOL)
    # indicators' effective weights sum to 1 and reproduce the index linearly
    assert eff.loc[tree.indicators].sum() == pytest.approx(1.0)
    norm = ref("A_data_Normalised.csv").astype(float)
    agg = ref("A_data_Aggregated.csv").astype(float)
    np.testing.assert_allclose(norm[tree.indicators] @ eff.loc[tree.indicators], agg["Index"], rtol=RTOL)


def test_nelder_mead_port_matches_r_optim_documentation():
    # R's ?optim example: optim(c(-1.2, 1), fr) → par 1.000260 1.000506, value 8.825241e-08, 195 evaluations
    def fr(x):
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    r = nelder_mead_r(fr, [-1.2, 1.0])
    np.testing.assert_allclose(r.x, [1.000260, 1.000506], atol=5e-7)
    assert r.fun == pytest.approx(8.825241e-08, rel=1e-6)
    assert r.fncount == 195 and r.fail == 0


def test_opt_weights_reproduce_coinr_level3(tree):
    norm = ref("A_data_Normalised.csv").astype(float)
    res = opt_weights(norm, tree, level=3, itarg="equal", optype="balance")
    expected_w = ref("analysis_opt_weights_L3.csv", "iCode")
    np.testing.assert_allclose(res.weights.loc[expected_w.index].to_numpy(), expected_w["Weight"].to_numpy(), rtol=RTOL)
    expected = pd.read_csv(REF / "analysis_opt_corr_L3.csv")
    # same optimiser path → same weights (16/41, 25/41) and COINr's reported table, number for number
    np.testing.assert_allclose(res.coinr_table.to_numpy(), expected.to_numpy(), rtol=RTOL)
    assert res.converged
    # COINr's "Obtained" is from the last point it evaluated; at the optimum the correlations are at least as balanced
    coinr_gap = np.abs(expected["Obtained"] - expected["Desired"]).max()
    assert np.abs(res.table["Obtained"] - res.table["Desired"]).max() <= coinr_gap
    # and they are what rebuilding the index with those weights gives
    agg = aggregate(norm, tree, weights=res.weights)
    crs = [np.corrcoef(agg[c], agg["Index"])[0, 1] for c in ("Conn", "Sust")]
    np.testing.assert_allclose(res.table["Obtained"], np.array(crs) / sum(crs), rtol=RTOL)


def test_opt_weights_tighter_tolerance_balances_further(tree):
    norm = ref("A_data_Normalised.csv").astype(float)
    res = opt_weights(norm, tree, level=3, toler=1e-8)
    assert np.abs(res.table["Obtained"] - 0.5).max() < 1e-4
    info = opt_weights(norm, tree, level=3, optype="infomax", toler=1e-8)
    assert info.table["Desired"].isna().all()
    assert info.correlations.sum() >= opt_weights(norm, tree, level=3).correlations.sum() - 1e-12
    with pytest.raises(SpecError):
        opt_weights(norm, tree, level=3, itarg=[1, 2, 3])
    with pytest.raises(SpecError):
        opt_weights(norm, tree, level=4)
