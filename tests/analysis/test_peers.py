"""Peer ranks, change over time, comparison of two runs (COINr compare_coins) and Plan-task progress."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.analysis.peers import changes_over_time, compare_results, peer_ranks, size_bands
from fintech_eval.analysis.progress import plan_progress
from fintech_eval.errors import SpecError
from tests import coinr_ref

from .conftest import EXAMPLES


def test_compare_two_runs_as_coinr(asem_a):
    b = fe.evaluate(EXAMPLES / "asem-pipeline-b.yaml")
    ours = compare_results(asem_a, b)
    ref = coinr_ref.read_plain("compare_A_vs_B_index.csv")
    m = ref.merge(ours, on="uCode", suffixes=("", "_ours"))
    assert len(m) == 51
    for col in ("coin.1", "coin.2", "Diff", "Abs.diff"):
        assert (m[col] == m[f"{col}_ours"]).all(), col


def test_drivers_add_up_to_the_score_change_for_an_arithmetic_mean(asem_c):
    other = fe.regen(asem_c, {"aggregate.weights": {"Physical": 3.0}})
    ours = compare_results(asem_c, fe.regen(asem_c, {"treat.winmax": 1}), drivers=49).set_index("uCode")
    row = ours.loc["GBR"]
    total = sum(float(part.rsplit(" ", 1)[1]) for part in row["drivers"].split("; ")) if row["drivers"] else 0.0
    assert total == pytest.approx(row["score.2"] - row["score.1"], abs=0.01 * 49)  # drivers are printed to 2 decimals
    assert compare_results(asem_c, other)["Abs.diff"].sum() > 0


def test_peer_ranks_agree_with_the_results_group_ranks(asem_c):
    p = peer_ranks(asem_c, "EurAsia_group").set_index("uCode")
    expected = asem_c.group_ranks["EurAsia_group"]["Index"].astype(float)
    np.testing.assert_array_equal(p.loc[expected.index.astype(str), "rank_in_EurAsia_group"].to_numpy(), expected.to_numpy())
    assert p["percentile_in_EurAsia_group"].between(0, 1, inclusive="right").all()
    bands = size_bands(asem_c.final["Index"], ("low", "mid", "high")).rename("band")
    pb = peer_ranks(asem_c, "band", groups=bands.to_frame())
    assert pb.groupby("band")["size_of_band"].first().sum() == 51
    with pytest.raises(SpecError, match="no group column sector"):
        peer_ranks(asem_c, "sector")


def _frame_result(values, period):
    tree = fe.Tree.from_rows([{"code": "x", "parent": "I", "level": 1}, {"code": "y", "parent": "I", "level": 1}, {"code": "I", "level": 2}])
    data = pd.DataFrame(values, index=["A", "B", "C"], columns=["x", "y"])
    spec = {"data": {"source": "frame"}, "steps": [{"normalise": {"method": "minmax", "range": [1, 100]}}, {"aggregate": {"method": "amean"}}]}
    return fe.evaluate(spec, frames={"data": data, "tree": tree})


def test_changes_over_time_and_cagr():
    r1 = _frame_result([[1, 2], [2, 1], [3, 3]], 2022)
    r2 = _frame_result([[3, 2], [2, 1], [1, 3]], 2024)
    ch = changes_over_time({2022: r1, 2024: r2}).set_index(["uCode", "period"])
    a0, a1 = r1.final.loc["A", "I"], r2.final.loc["A", "I"]
    assert ch.loc[("A", 2024), "score_change"] == pytest.approx(a1 - a0)
    assert ch.loc[("A", 2024), "cagr"] == pytest.approx((a1 / a0) ** 0.5 - 1)
    assert ch.loc[("A", 2024), "rank_change"] == r1.ranks.loc["A", "I"] - r2.ranks.loc["A", "I"]


def test_plan_progress_per_task():
    codes = ["J-A1B1-C1", "J-A2B1-C1", "J-A1B2-C1"]  # tasks 1 (two of them) and 2 (one of three)
    tree = fe.Tree.from_rows([{"code": c, "parent": "J", "level": 1} for c in codes] + [{"code": "J", "level": 2}])
    groups = pd.DataFrame({"sector": ["bank", "bank", "securities"]}, index=["B1", "B2", "S1"])
    spec = {"data": {"source": "frame"}, "steps": [{"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {"method": "amean"}}]}
    runs = {}
    for year, shift in ((2023, 0.0), (2024, 1.0)):
        data = pd.DataFrame([[1.0, 0.0, 2.0], [0.0, 1.0 + shift, 4.0], [2.0, 3.0, 5.0 - 4 * shift]], index=groups.index, columns=codes)
        runs[year] = fe.evaluate(spec, frames={"data": data, "tree": tree, "groups": groups})
    pp = plan_progress(runs, "sector=bank")
    t1 = pp[(pp["task"] == 1) & (pp["period"] == 2023)].iloc[0]
    norm = runs[2023].datasets["Normalised"].loc[["B1", "B2"], ["J-A1B1-C1", "J-A2B1-C1"]]
    assert t1["n_linked"] == 3 and t1["n_present"] == 2 and t1["units"] == 2
    assert t1["score"] == pytest.approx(norm.to_numpy().mean())
    t4 = pp[pp["task"] == 4].iloc[0]
    assert t4["n_present"] == 0 and np.isnan(t4["score"])
    assert len(pp) == 2 * 27
    one = plan_progress(runs, "S1")
    assert one.loc[(one["task"] == 2) & (one["period"] == 2024), "change"].iloc[0] < 0  # S1 fell behind on J-A1B2-C1
    with pytest.raises(SpecError, match="no unit matches"):
        plan_progress(runs, "X9")
