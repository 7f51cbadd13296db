"""Aggregation against COINr 1.1.14's outputs on ASEM (docs/reference/coinr.md) and the TOPSIS reference cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fintech_eval.coinr import read_coinr
from fintech_eval.errors import DataError, MethodError, SpecError
from fintech_eval.methods.aggregate import (
    AGGREGATORS,
    AggregationReport,
    aggregate,
    aggregate_output,
    copeland,
    outrank_matrix,
    topsis,
)
from fintech_eval.tree import Tree

REF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "coinr"
RTOL = 1e-9


def ref(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF / name, index_col="uCode")
    return df.astype(float)


@pytest.fixture(scope="module")
def tree() -> Tree:
    return read_coinr(REF / "input_ASEM_iData.csv", REF / "input_ASEM_iMeta.csv").tree


def assert_frame_close(out: pd.DataFrame, expected: pd.DataFrame, rtol: float = RTOL) -> None:
    assert list(out.columns) == list(expected.columns)
    assert list(map(str, out.index)) == list(map(str, expected.index))
    a, b = out.to_numpy(float), expected.to_numpy(float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


def small_tree() -> Tree:
    rows = [
        ("I", None, 3, 1.0), ("P1", "I", 2, 1.0), ("P2", "I", 2, 1.0),
        ("a", "P1", 1, 1.0), ("b", "P1", 1, 1.0), ("c", "P1", 1, 1.0), ("d", "P2", 1, 2.0), ("e", "P2", 1, 1.0),
    ]
    return Tree.from_rows([{"code": c, "parent": p, "level": lv, "weight": w} for c, p, lv, w in rows])


# ---------------------------------------------------------------------------------------------------------
# COINr reference outputs
# ---------------------------------------------------------------------------------------------------------
AGG_CASES = [
    ("agg_amean.csv", "amean", {}),
    ("agg_gmean.csv", "gmean", {}),
    ("agg_hmean.csv", "hmean", {}),
    ("agg_genmean_p2.csv", "genmean", {"params": {"p": 2}}),
    ("agg_genmean_p0.5.csv", "genmean", {"params": {"p": 0.5}}),
    ("agg_copeland.csv", "copeland", {}),
    ("agg_amean_datthresh_0.8.csv", "amean", {"dat_thresh": 0.8}),
    ("agg_mixed_amean_gmean_amean.csv", {2: "amean", 3: "gmean", 4: "amean"}, {}),
]


@pytest.mark.parametrize(("fname", "method", "kwargs"), AGG_CASES, ids=[c[0] for c in AGG_CASES])
def test_coinr_aggregators(tree, fname, method, kwargs):
    x = ref("agg_input_minmax_1_100.csv")
    assert_frame_close(aggregate(x, tree, method, **kwargs), ref(fname))


@pytest.mark.parametrize(
    ("fname", "kwargs"),
    [("aggNA_amean.csv", {}), ("aggNA_amean_datthresh_0.9.csv", {"dat_thresh": 0.9})],
)
def test_coinr_missing_data(tree, fname, kwargs):
    x = ref("aggNA_input_raw_minmax_1_100.csv")
    assert x.isna().to_numpy().sum() > 0
    out = aggregate(x, tree, **kwargs)
    assert_frame_close(out, ref(fname))


def test_dat_thresh_sets_rows_missing_as_coinr(tree):
    x = ref("aggNA_input_raw_minmax_1_100.csv")
    thr = aggregate(x, tree, dat_thresh=0.9)
    dropped = aggregate_output(x, tree, dat_thresh=0.9).report.below_threshold
    assert dropped  # the reference case does drop some units
    for node, units in dropped.items():
        kids = tree.children(node)
        for u in units:
            avail = thr.loc[u, kids].notna().sum() / len(kids)
            assert avail < 0.9
            assert np.isnan(thr.loc[u, node])
    # per-level thresholds: only level 2 thresholded
    assert set(aggregate_output(x, tree, dat_thresh={2: 0.9}).report.below_threshold) <= set(tree.codes(2))


@pytest.mark.parametrize(("pipe", "method"), [("A", "amean"), ("B", "gmean"), ("C", "amean")])
def test_coinr_pipelines(tree, pipe, method):
    x = ref(f"{pipe}_data_Normalised.csv")
    out = aggregate(x, tree, method)
    assert_frame_close(out, ref(f"{pipe}_data_Aggregated.csv"))
    assert_frame_close(out, ref(f"{pipe}_results_scores.csv"))


def test_layout_is_coinr_then_tree_order(tree):
    x = ref("A_data_Normalised.csv")
    out = aggregate(x, tree)
    assert list(out.columns[:49]) == list(x.columns)
    assert list(out.columns[49:57]) == sorted(tree.codes(2))
    assert list(out.columns[57:]) == ["Conn", "Sust", "Index"]
    out2 = aggregate(x, tree, order="tree")
    assert list(out2.columns[49:57]) == tree.codes(2)
    pd.testing.assert_frame_equal(out2[out.columns], out)


def test_inputs_not_mutated(tree):
    x = ref("aggNA_input_raw_minmax_1_100.csv")
    before = x.copy()
    na = pd.DataFrame(False, index=x.index, columns=x.columns)
    na.iloc[0, 0] = True
    aggregate(x, tree, "gmean", not_applicable=na, dat_thresh=0.5)
    pd.testing.assert_frame_equal(x, before)


# ---------------------------------------------------------------------------------------------------------
# Copeland: weights, ties and missing values as COINr's outrankMatrix / a_copeland
# ---------------------------------------------------------------------------------------------------------
def test_copeland_uses_weights_in_outranking_shares():
    x = np.array([[3.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    # unit 0 wins on criterion 0 only; equal weights → it loses the pair, weight 3 on criterion 0 → it wins
    assert copeland(x, np.ones(3)).tolist() == [-1.0, 1.0]
    assert copeland(x, np.array([3.0, 1.0, 1.0])).tolist() == [1.0, -1.0]
    orm = outrank_matrix(x, np.array([3.0, 1.0, 1.0]))
    np.testing.assert_allclose(orm, [[0.0, 0.6], [0.4, 0.0]])


def test_copeland_ties_count_half_and_exact_half_scores_zero():
    x = np.array([[2.0, 0.0, 5.0, 1.0], [1.0, 1.0, 5.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    orm = outrank_matrix(x, np.ones(4))
    assert orm[0, 1] == 0.5  # one win, one loss, two ties
    s = copeland(x, np.ones(4))
    assert s.tolist() == [1.0, 1.0, -2.0]
    # a weighted tie that is 0.5 only in exact arithmetic: 1/3 + (1/3)/2
    y = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0 + 1e-12]])
    assert outrank_matrix(y, np.ones(3))[0, 1] == 0.5
    assert copeland(y, np.ones(3)).tolist() == [0.0, 0.0]


def test_copeland_missing_values_compare_for_nobody():
    # upper triangle skips the NaN comparison; the lower one is 1 - upper (COINr)
    x = np.array([[1.0, np.nan, 1.0], [0.0, 5.0, 0.0]])
    orm = outrank_matrix(x, np.ones(3))
    np.testing.assert_allclose(orm, [[0.0, 2 / 3], [1 / 3, 0.0]])
    assert copeland(x, np.ones(3)).tolist() == [1.0, -1.0]


# ---------------------------------------------------------------------------------------------------------
# zero policy for gmean / hmean / genmean (COINr issue #47)
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def zero_data() -> pd.DataFrame:
    return pd.DataFrame(
        {"a": [0.0, 50.0, 100.0, 20.0], "b": [10.0, 0.0, 80.0, 30.0], "c": [5.0, 5.0, 5.0, 40.0],
         "d": [1.0, 2.0, 3.0, 4.0], "e": [4.0, 3.0, 2.0, 1.0]},
        index=["U1", "U2", "U3", "U4"],
    )


def test_gmean_zero_error_names_node_units_and_indicators(zero_data):
    with pytest.raises(MethodError) as ei:
        aggregate(zero_data, small_tree(), "gmean")
    msg = str(ei.value)
    assert "P1" in msg and "U1" in msg and "U2" in msg and "U3" not in msg
    assert "a" in msg and "b" in msg
    assert ei.value.problems[0].where["node"] == "P1"
    assert ei.value.problems[0].where["units"] == ["U1", "U2"]


def test_gmean_zero_shift_and_nan(zero_data):
    t = small_tree()
    shifted = aggregate(zero_data, t, "gmean", params={"zero_policy": "shift", "shift": 1.0})
    x = zero_data[["a", "b", "c"]].to_numpy() + 1.0
    np.testing.assert_allclose(shifted["P1"], np.exp(np.log(x).mean(axis=1)) - 1.0, rtol=RTOL)
    # every unit of the node is shifted, not only those with zeros
    w = np.array([2.0, 1.0])
    y = zero_data[["d", "e"]].to_numpy() + 1.0
    np.testing.assert_allclose(shifted["P2"], np.exp(np.log(y) @ (w / 3)) - 1.0, rtol=RTOL)

    nanned = aggregate(zero_data, t, "gmean", params={"zero_policy": "nan"})
    assert nanned["P1"].isna().tolist() == [True, True, False, False]
    assert aggregate_output(zero_data, t, "gmean", params={"zero_policy": "nan"}).report.set_missing == {"P1": ["U1", "U2"]}
    assert nanned["I"].isna().tolist() == [False, False, False, False]  # P1 missing → mean of the rest
    with pytest.raises(SpecError):
        aggregate(zero_data, t, "gmean", params={"zero_policy": "ignore"})


def test_shift_too_small_still_errors():
    d = pd.DataFrame({"a": [-5.0, 1.0], "b": [1.0, 1.0], "c": [1.0, 2.0], "d": [1.0, 1.0], "e": [1.0, 1.0]},
                     index=["U1", "U2"])
    with pytest.raises(MethodError, match="shift"):
        aggregate(d, small_tree(), "gmean", params={"zero_policy": "shift", "shift": 1.0})


def test_hmean_and_negative_p_genmean_zero(zero_data):
    t = small_tree()
    with pytest.raises(MethodError, match="P1"):
        aggregate(zero_data, t, "hmean")
    with pytest.raises(MethodError, match="p < 0"):
        aggregate(zero_data, t, "genmean", params={"p": -1})
    ok = aggregate(zero_data, t, "genmean", params={"p": 2})
    assert ok["P1"].notna().all()
    with pytest.raises(SpecError, match="gmean"):
        aggregate(zero_data, t, "genmean", params={"p": 0})


def test_genmean_na_rm_false_is_coinr():
    d = pd.DataFrame({"a": [1.0, 4.0], "b": [np.nan, 4.0], "c": [9.0, 4.0], "d": [1.0, 1.0], "e": [1.0, 1.0]},
                     index=["U1", "U2"])
    t = small_tree()
    skip = aggregate(d, t, "genmean", params={"p": 2})
    assert skip.loc["U1", "P1"] == pytest.approx(np.sqrt((1 + 81) / 2))
    coinr = aggregate(d, t, {2: {"method": "genmean", "p": 2, "na_rm": False}, 3: "amean"})
    assert np.isnan(coinr.loc["U1", "P1"]) and coinr.loc["U2", "P1"] == pytest.approx(4.0)


# ---------------------------------------------------------------------------------------------------------
# method per level and per node (COINr issue #35), params and errors
# ---------------------------------------------------------------------------------------------------------
def test_method_per_node(tree):
    x = ref("agg_input_minmax_1_100.csv")
    res = aggregate_output(x, tree, {"default": "amean", "Sust": "gmean", "Social": {"method": "genmean", "p": 2}})
    out = res.data
    am = ref("agg_amean.csv")
    gm = ref("agg_gmean.csv")
    p2 = ref("agg_genmean_p2.csv")
    np.testing.assert_allclose(out["Social"], p2["Social"], rtol=RTOL)
    np.testing.assert_allclose(out["Environ"], am["Environ"], rtol=RTOL)
    np.testing.assert_allclose(out["Conn"], am["Conn"], rtol=RTOL)
    s = out[["Environ", "Social", "SusEcFin"]].to_numpy()
    np.testing.assert_allclose(out["Sust"], np.exp(np.log(s).mean(axis=1)), rtol=RTOL)
    rep = res.report
    assert isinstance(rep, AggregationReport)
    assert rep.methods["Sust"] == "gmean" and rep.methods["Social"] == "genmean" and rep.methods["Conn"] == "amean"
    assert rep.params["Social"] == {"p": 2}
    # level keys and node keys together: node beats level
    out2 = aggregate(x, tree, {2: "gmean", "Social": "amean"})
    np.testing.assert_allclose(out2["Social"], am["Social"], rtol=RTOL)
    np.testing.assert_allclose(out2["Environ"], gm["Environ"], rtol=RTOL)


def test_params_by_method_level_and_node(tree):
    x = ref("agg_input_minmax_1_100.csv")
    p05 = ref("agg_genmean_p0.5.csv")
    p2 = ref("agg_genmean_p2.csv")
    out = aggregate(x, tree, "genmean", params={"genmean": {"p": 2}, "Social": {"p": 0.5}})
    np.testing.assert_allclose(out["Social"], p05["Social"], rtol=RTOL)
    np.testing.assert_allclose(out["Environ"], p2["Environ"], rtol=RTOL)
    with pytest.raises(SpecError, match="has no parameter 'p'"):
        aggregate(x, tree, "amean", params={"p": 2})  # amean has no p
    with pytest.raises(SpecError, match="needs parameter"):
        aggregate(x, tree, "genmean")
    with pytest.raises(SpecError, match="unknown aggregate method"):
        aggregate(x, tree, "median_of_medians")
    with pytest.raises(SpecError):
        aggregate(x, tree, {7: "amean"})
    with pytest.raises(SpecError):
        aggregate(x, tree, {"Nope": "amean"})


def test_weights_override(tree):
    x = ref("agg_input_minmax_1_100.csv")
    out = aggregate(x, tree, weights={"Conn": 1.0, "Sust": 3.0})
    am = ref("agg_amean.csv")
    np.testing.assert_allclose(out["Index"], (am["Conn"] + 3 * am["Sust"]) / 4, rtol=RTOL)
    with pytest.raises(DataError):
        aggregate(x, tree, weights={"Nope": 1.0})


def test_missing_indicator_column(tree):
    x = ref("agg_input_minmax_1_100.csv").drop(columns=["LPI"])
    with pytest.raises(DataError, match="LPI"):
        aggregate(x, tree)


def test_registry_names():
    for name in ("amean", "gmean", "hmean", "genmean", "copeland", "topsis", "a_amean", "a_copeland"):
        assert name in AGGREGATORS


# ---------------------------------------------------------------------------------------------------------
# TOPSIS (Opricovic & Tzeng 2004 reference case, docs/reference/method-cases.md)
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def topsis_case() -> pd.DataFrame:
    return pd.DataFrame({"cost": [1.0, 2.0, 5.0], "benefit": [3000.0, 3750.0, 4500.0]}, index=["A1", "A2", "A3"])


def test_topsis_minmax_case(topsis_case):
    c = topsis(topsis_case, weights={"cost": 0.5, "benefit": 0.5}, directions={"cost": -1}, normalisation="minmax")
    np.testing.assert_allclose(c.round(3), [0.500, 0.617, 0.500])


def test_topsis_vector_case(topsis_case):
    c = topsis(topsis_case, weights={"cost": 0.5, "benefit": 0.5}, directions={"cost": -1}, normalisation="vector")
    np.testing.assert_allclose(c.round(3), [0.762, 0.722, 0.238])


def test_topsis_as_tree_aggregator(topsis_case):
    t = Tree.from_rows([
        {"code": "I", "parent": None, "level": 2},
        {"code": "cost", "parent": "I", "level": 1},
        {"code": "benefit", "parent": "I", "level": 1},
    ])
    out = aggregate(topsis_case, t, {"I": {"method": "topsis", "normalisation": "vector", "directions": {"cost": -1}}})
    np.testing.assert_allclose(out["I"].round(3), [0.762, 0.722, 0.238])
    with pytest.raises(SpecError):
        aggregate(topsis_case, t, "topsis", params={"normalisation": "log"})


def test_topsis_missing_cell_renormalises_weights():
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, np.nan, 1.0], "c": [1.0, 1.0, 2.0]}, index=list("XYZ"))
    c = topsis(x, normalisation="minmax")
    assert c.notna().all()
    # unit Y: a = 0.5, c = 0 (min-max); weights 1/2 each over its two available criteria
    dp = np.sqrt((0.5 * 0.5) ** 2 + (0.5 * 1.0) ** 2)
    dm = np.sqrt((0.5 * 0.5) ** 2 + 0.0)
    assert c["Y"] == pytest.approx(dm / (dp + dm))


# ---------------------------------------------------------------------------------------------------------
# not applicable ≠ missing
# ---------------------------------------------------------------------------------------------------------
def test_not_applicable_left_out_and_reported():
    t = small_tree()
    d = pd.DataFrame(
        {"a": [10.0, 10.0, 10.0], "b": [20.0, 20.0, np.nan], "c": [60.0, 60.0, 60.0],
         "d": [1.0, 1.0, 1.0], "e": [4.0, 4.0, 4.0]},
        index=["bank", "insurer", "other"],
    )
    na = pd.DataFrame(False, index=d.index, columns=d.columns)
    na.loc["insurer", "c"] = True  # bank-only indicator
    res = aggregate_output(d, t, not_applicable=na)
    out = res.data
    assert out.loc["bank", "P1"] == pytest.approx(30.0)
    assert out.loc["insurer", "P1"] == pytest.approx(15.0)  # (10 + 20) / 2, c left out
    assert out.loc["other", "P1"] == pytest.approx(35.0)  # missing b skipped as COINr (amean)
    rep = res.report
    assert rep.not_applicable == {"P1": ["insurer"]}
    assert rep.affected_units() == ["insurer"]
    # the value under a not-applicable cell is ignored even when present
    assert out.loc["insurer", "P1"] == aggregate(d.assign(c=[60.0, 999.0, 60.0]), t, not_applicable=na).loc["insurer", "P1"]


def test_not_applicable_does_not_count_against_dat_thresh():
    t = small_tree()
    d = pd.DataFrame({"a": [10.0], "b": [np.nan], "c": [30.0], "d": [1.0], "e": [1.0]}, index=["U"])
    na = pd.DataFrame({"c": [True]}, index=["U"])
    # applicable a, b; b missing → availability 1/2
    assert np.isnan(aggregate(d, t, dat_thresh=0.6, not_applicable=na).loc["U", "P1"])
    assert aggregate(d, t, dat_thresh=0.5, not_applicable=na).loc["U", "P1"] == pytest.approx(10.0)
    # had c been merely missing, availability would be 1/3
    d2 = d.assign(c=np.nan)
    assert np.isnan(aggregate(d2, t, dat_thresh=0.4).loc["U", "P1"])


def test_node_wholly_not_applicable_propagates():
    t = small_tree()
    d = pd.DataFrame({"a": [10.0], "b": [20.0], "c": [30.0], "d": [1.0], "e": [4.0]}, index=["U"])
    na = pd.DataFrame({"d": [True], "e": [True]}, index=["U"])
    res = aggregate_output(d, t, not_applicable=na, dat_thresh=1.0)
    out = res.data
    assert np.isnan(out.loc["U", "P2"])
    assert out.loc["U", "I"] == pytest.approx(20.0)  # P2 not applicable, not missing: no dat_thresh hit
    rep = res.report
    assert rep.node_not_applicable == {"P2": ["U"]}
    assert rep.not_applicable == {"I": ["U"]}
    assert rep.below_threshold == {}


def test_not_applicable_validation():
    t = small_tree()
    d = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0], "d": [1.0], "e": [4.0]}, index=["U"])
    with pytest.raises(DataError):
        aggregate(d, t, not_applicable=pd.DataFrame({"zz": [True]}, index=["U"]))
    with pytest.raises(DataError):
        aggregate(d, t, not_applicable=pd.DataFrame({"a": [True]}, index=["V"]))


# ---------------------------------------------------------------------------------------------------------
# a large tree: 5,000 units × 50 indicators → 10 pillars → 2 → index, against numpy's nanmean level by
# level (the speed is bench/bench_coinr_synthetic.py's business, not a test's)
# ---------------------------------------------------------------------------------------------------------
def test_5000_units_amean_level_by_level():
    rows = [{"code": "Index", "parent": None, "level": 4}]
    rows += [{"code": f"S{s}", "parent": "Index", "level": 3} for s in range(2)]
    rows += [{"code": f"P{p}", "parent": f"S{p // 5}", "level": 2} for p in range(10)]
    rows += [{"code": f"I{i:02d}", "parent": f"P{i // 5}", "level": 1} for i in range(50)]
    t = Tree.from_rows(rows)
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.uniform(0, 100, (5000, 50)), columns=[f"I{i:02d}" for i in range(50)])
    x.iloc[::7, 3] = np.nan
    out = aggregate(x, t)
    pillars = np.column_stack([np.nanmean(x.to_numpy()[:, 5 * p:5 * p + 5], axis=1) for p in range(10)])
    subs = np.column_stack([pillars[:, 5 * s:5 * s + 5].mean(axis=1) for s in range(2)])
    np.testing.assert_allclose(out[[f"P{p}" for p in range(10)]].to_numpy(), pillars, rtol=1e-13)
    np.testing.assert_allclose(out["Index"].to_numpy(), subs.mean(axis=1), rtol=1e-13)


