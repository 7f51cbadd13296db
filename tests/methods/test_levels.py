"""Levels from score bands and staged (CMM-style) requirements, with reasons (docs/reference/levels.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError, SpecError
from fintech_eval.methods.levels import LevelRule, rate

BANDS = [(1, 0.0), (2, 40.0), (3, 60.0), (4, 80.0)]
NAMES = {1: "初始级", 2: "受管理级", 3: "稳健级", 4: "量化管理级"}


@pytest.fixture
def scores() -> pd.Series:
    return pd.Series({"A": 95.0, "B": 72.0, "C": 50.0, "D": 30.0, "E": np.nan})


@pytest.fixture
def met() -> pd.DataFrame:
    return pd.DataFrame(
        {"R1": [True, True, True, False, True], "R2": [True, False, True, True, None],
         "R3": [False, True, True, True, True]},
        index=list("ABCDE"),
    )


def test_combined_rule(scores, met):
    r = rate(scores, met, bands=BANDS, requirements={"R1": 1, "R2": 2, "R3": 4}, names=NAMES)
    assert r["level"].tolist() == [3, 1, 2, pd.NA, pd.NA]
    assert r["band_level"].tolist() == [4, 3, 2, 1, pd.NA]
    assert r["requirement_level"].tolist()[:4] == [3, 1, 4, pd.NA]
    assert r.loc["A", "blocking"] == ("R3",) and r.loc["A", "score_gap"] == 0.0
    assert r.loc["B", "blocking"] == ("R2",)
    assert r.loc["C", "blocking"] == () and r.loc["C", "score_gap"] == pytest.approx(10.0)
    assert r.loc["C", "level_name"] == "受管理级"
    assert "R3" in r.loc["A", "reason"] and "10 below" in r.loc["C", "reason"]
    assert r.loc["D", "next_level"] == 1 and r.loc["D", "blocking"] == ("R1",)
    assert r.loc["E", "reason"] == "no score: cannot rate"


def test_score_only(scores):
    r = rate(scores, bands=BANDS)
    assert r["level"].tolist() == [4, 3, 2, 1, pd.NA]
    assert r.loc["A", "reason"] == "level 4: the top level"
    assert r.loc["B", "score_gap"] == pytest.approx(8.0)
    assert np.isnan(r.loc["A", "score_gap"])
    # lower bounds are inclusive
    assert rate(pd.Series({"x": 60.0}), bands=BANDS)["level"].tolist() == [3]


def test_requirements_only_is_staged(met):
    r = rate(met=met, requirements={"R1": 1, "R2": 2, "R3": 3})
    assert r["level"].tolist() == [2, 1, 3, pd.NA, 1]
    # D meets R2 and R3 but not R1: staged, so no level at all (CMM style)
    assert r.loc["D", "blocking"] == ("R1",)
    # unknown answers count as not met and are listed
    assert r.loc["E", "unknown"] == ("R2",) and "no answer" in r.loc["E", "reason"]


def test_staged_equals_min_over_elements():
    # GB/T 20988 style: rate each element, take the minimum; same as staged over all requirements
    rng = np.random.default_rng(3)
    reqs = {f"{el}{lv}": lv for el in "XYZ" for lv in (1, 2, 3)}
    met = pd.DataFrame(rng.random((40, 9)) > 0.25, columns=list(reqs))
    whole = rate(met=met, requirements=reqs)["level"]
    per_el = pd.concat(
        [
            rate(met=met[[c for c in reqs if c[0] == el]], requirements={c: reqs[c] for c in reqs if c[0] == el},
                 floor=0)["level"]
            for el in "XYZ"
        ],
        axis=1,
    ).min(axis=1)
    assert whole.fillna(0).astype(int).tolist() == per_el.astype(int).tolist()


def test_floor_and_rule_as_data(scores, met):
    rule = LevelRule.from_dict({"bands": {1: 0, 2: 40, 3: 60, 4: 80}, "requirements": {"R1": 1, "R2": 2},
                                "names": NAMES})
    assert LevelRule.from_dict(rule.to_dict()) == rule
    r = rate(scores, met, rule, floor=0)
    assert r.loc["D", "level"] == 0
    assert r["level"].tolist()[:3] == [4, 1, 2]


def test_rule_validation(scores, met):
    with pytest.raises(SpecError, match="increasing"):
        LevelRule.build(bands=[(1, 0), (2, 50), (3, 40)], levels=[1, 2, 3])
    with pytest.raises(SpecError, match="no score band"):
        LevelRule.build(bands=BANDS, requirements={"R9": 5})
    with pytest.raises(SpecError):
        LevelRule.build()
    with pytest.raises(DataError, match="R9"):
        rate(scores, met, bands=BANDS, requirements={"R9": 2})
    with pytest.raises(DataError, match="scores"):
        rate(met=met, bands=BANDS)
    with pytest.raises(DataError, match="true/false"):
        rate(met=met.assign(R1=["yes", True, True, True, True]), requirements={"R1": 1})


def test_string_levels():
    rule = LevelRule.build(bands=[("bronze", 0), ("silver", 50), ("gold", 80)])
    r = rate(pd.Series({"u": 65.0, "v": 85.0}), rule=rule)
    assert r["level"].tolist() == ["silver", "gold"]
    assert r.loc["u", "next_level"] == "gold" and r.loc["u", "score_gap"] == pytest.approx(15.0)


def test_many_units_fast():
    rng = np.random.default_rng(0)
    n = 5000
    s = pd.Series(rng.uniform(0, 100, n))
    met = pd.DataFrame(rng.random((n, 6)) > 0.1, columns=[f"R{i}" for i in range(6)])
    r = rate(s, met, bands=BANDS, requirements={f"R{i}": 1 + i % 4 for i in range(6)})
    assert len(r) == n and r["level"].notna().sum() > 0
