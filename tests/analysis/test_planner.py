"""The improvement planner against brute force on small cases (every subset of indicators, exact re-runs)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.analysis.planner import marginal_gains, plan_improvement
from fintech_eval.errors import SpecError

UNITS = [f"U{i}" for i in range(8)]
TREE = fe.Tree.from_rows(
    [{"code": c, "parent": "P1", "level": 1} for c in ("a", "b")]
    + [{"code": "c", "parent": "P2", "level": 1}, {"code": "d", "parent": "P2", "level": 1, "direction": -1}]
    + [{"code": "P1", "parent": "I", "level": 2, "weight": 2}, {"code": "P2", "parent": "I", "level": 2}, {"code": "I", "level": 3}]
)
SPEC = {"data": {"source": "frame"}, "steps": [{"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {"method": "amean"}}],
        "ranks": {"groups": ["sector"]}}


def _frames(seed=0):
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(rng.uniform(0, 10, (8, 4)).round(2), index=UNITS, columns=list("abcd"))
    groups = pd.DataFrame({"sector": ["bank"] * 4 + ["insurer"] * 4}, index=UNITS)
    return {"data": data, "tree": TREE, "groups": groups}


def _standing(frames, data, unit):
    r = fe.evaluate(SPEC, frames={**frames, "data": data})
    s = r.final["I"]
    return float(s[unit]), int((s > s[unit]).sum() + 1)


def _best(data):
    return {"a": data["a"].max(), "b": data["b"].max(), "c": data["c"].max(), "d": data["d"].min()}


def _brute_force(frames, unit, want_rank):
    """Smallest k such that some k indicators at their best observed values reach ``want_rank``; the
    reaching sets of that size."""
    data = frames["data"]
    best = _best(data)
    for k in range(1, 5):
        hits = []
        for combo in itertools.combinations("abcd", k):
            d = data.copy()
            for c in combo:
                d.loc[unit, c] = best[c]
            if _standing(frames, d, unit)[1] <= want_rank:
                hits.append(combo)
        if hits:
            return k, hits
    return None, []


@pytest.mark.parametrize("seed, unit, want", [(0, "U5", 1), (1, "U2", 2), (2, "U7", 3), (3, "U0", 1), (4, "U6", 2)])
def test_the_plan_is_as_small_as_brute_force_finds_and_its_rank_is_exact(seed, unit, want):
    frames = _frames(seed)
    r = fe.evaluate(SPEC, frames=frames)
    rank0 = int(r.ranks.loc[unit, "I"])
    k, hits = _brute_force(frames, unit, want)
    plan = plan_improvement(r, unit, f"rank:{want}", max_changes=4)
    if rank0 <= want:
        assert plan.reached and plan.changes is None
        return
    assert (plan.changes is not None) == (k is not None)
    if k is None:
        return
    combo = tuple(plan.changes["iCode"])
    assert len(combo) == k and tuple(sorted(combo)) in {tuple(sorted(h)) for h in hits}
    # the exact new standing: a fresh evaluation of the changed data
    d = frames["data"].copy()
    for row in plan.changes.itertuples():
        d.loc[unit, row.iCode] = row.to
        assert (row.to - row._2) * row.direction >= 0  # only ever improved ("from" is _2)
    score, rank = _standing(frames, d, unit)
    assert rank == plan.new_rank <= want and score == pytest.approx(plan.new_score, rel=1e-12)
    # and minimal: a visibly smaller move of the same set does not reach the target
    t = plan.changes["share_of_room"].iloc[0]
    d2 = frames["data"].copy()
    for row in plan.changes.itertuples():
        d2.loc[unit, row.iCode] = row._2 + (t - 0.01) * (row.bound - row._2)
    assert _standing(frames, d2, unit)[1] > want


def test_group_target_score_target_and_unreachable():
    frames = _frames(0)
    r = fe.evaluate(SPEC, frames=frames)
    g = r.group_ranks["sector"]["I"]
    unit = g[g == g.max()].index[0]  # last of its sector
    plan = plan_improvement(r, unit, "top:1:sector")
    assert plan.new_group_rank == 1 and plan.group_rank > 1
    s0 = float(r.final.loc[unit, "I"])
    plan = plan_improvement(r, unit, f"score:{s0 + 5}")
    assert plan.new_score >= s0 + 5
    plan = plan_improvement(r, unit, "score:1000")
    assert not plan.reached and "no set of up to 3" in plan.note


def test_bounds_limit_the_plan():
    frames = _frames(0)
    r = fe.evaluate(SPEC, frames=frames)
    now = frames["data"].loc["U5"]
    tight = {c: {"lower": np.nan, "upper": now[c] + 0.01} for c in "abc"} | {"d": {"lower": now["d"] - 0.01, "upper": np.nan}}
    plan = plan_improvement(r, "U5", "rank:1", bounds=tight, max_changes=4)
    assert not plan.reached


def test_marginal_gains_match_a_finite_difference():
    frames = _frames(1)
    r = fe.evaluate(SPEC, frames=frames)
    g = marginal_gains(r, "U2").set_index("iCode")
    data = frames["data"]
    for c in "abcd":
        if np.isnan(g.loc[c, "gain_per_unit"]):
            continue
        h = 0.01 * (data[c].max() - data[c].min()) * (1 if c != "d" else -1)
        d = data.copy()
        d.loc["U2", c] += h
        expected = (_standing(frames, d, "U2")[0] - float(r.final.loc["U2", "I"])) / h
        assert g.loc[c, "gain_per_unit"] == pytest.approx(expected, rel=1e-9)
    assert g.loc["d", "direction"] == -1


def test_bad_targets_and_entities_are_named():
    r = fe.evaluate(SPEC, frames=_frames(0))
    with pytest.raises(SpecError, match="use next, rank:N"):
        plan_improvement(r, "U5", "best")
    with pytest.raises(SpecError, match="no entity 'U9'"):
        plan_improvement(r, "U9", "next")
    with pytest.raises(SpecError, match="no group column 'province'"):
        plan_improvement(r, "U5", "top:1:province")
