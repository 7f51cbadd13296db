"""Sampling by size (JR/T 0201 §4): top-N, coverage, stratified random, census, on hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fintech_eval.collect.sample import SAMPLERS, sample
from fintech_eval.errors import DataError, SpecError

# Five banks (B5 has no revenue for 2024) and two securities firms.
INST = pd.DataFrame({
    "entity_id": ["B1", "B2", "B3", "B4", "B5", "S1", "S2"],
    "sector": ["bank"] * 5 + ["securities"] * 2,
    "region_code": ["110000", "310000", "110000", "440000", "440000", "310000", "310000"],
    "name_zh": ["甲", "乙", "丙", "丁", "戊", "己", "庚"],
})  # fmt: skip
SIZES_2024 = {
    "operating_revenue": {"B1": 50, "B2": 30, "B3": 15, "B4": 5, "S1": 60, "S2": 40},
    "total_financing": {"B1": 100, "B2": 100, "B3": 300, "B4": 500, "B5": 1000, "S1": 10, "S2": 90},
    "market_value": {"B1": 200, "B2": 100, "S1": 300},
}
SIZES_2023 = {"operating_revenue": {"B1": 1, "B2": 99, "B3": 1, "B4": 1, "B5": 1, "S1": 1, "S2": 1}}


def _long(by_period: dict[str, dict[str, dict[str, float]]]) -> pd.DataFrame:
    rows = [
        (e, p, a, v) for p, attrs in by_period.items() for a, vals in attrs.items() for e, v in vals.items()
    ]
    return pd.DataFrame(rows, columns=["entity_id", "period", "attribute", "value"])


SIZES = _long({"2024": SIZES_2024, "2023": SIZES_2023})


def ids(res) -> list[str]:
    return sorted(res.sample["entity_id"])


def cov(res, sector: str) -> dict:
    return res.coverage.set_index("sector").loc[sector].to_dict()


# ---- coverage ---------------------------------------------------------------------------------------
def test_coverage_80_percent_by_revenue():
    res = sample(INST, SIZES, 2024, "coverage", share=0.8)
    # banks 50 + 30 = 80 of 100 (B5 has no revenue); securities: 60 < 80, so S2 is needed too
    assert ids(res) == ["B1", "B2", "S1", "S2"]
    bank = cov(res, "bank")
    assert (bank["n_total"], bank["n_selected"], bank["n_share"]) == (5, 2, 0.4)
    assert (bank["operating_revenue_total"], bank["operating_revenue_covered"]) == (100, 80)
    assert bank["operating_revenue_share"] == pytest.approx(0.8)
    assert bank["operating_revenue_missing"] == 1
    # the other size attributes: financing 200 of 2000, market value 300 of 300 (three banks unlisted)
    assert (bank["total_financing_total"], bank["total_financing_covered"]) == (2000, 200)
    assert bank["total_financing_share"] == pytest.approx(0.1)
    assert (bank["market_value_total"], bank["market_value_covered"], bank["market_value_missing"]) == (300, 300, 3)
    every = cov(res, "all")
    assert (every["n_total"], every["n_selected"]) == (7, 4)
    assert every["operating_revenue_share"] == pytest.approx(180 / 200)
    assert every["total_financing_share"] == pytest.approx(300 / 2100)
    # rank, method and period on the sample rows
    b = res.sample.set_index("entity_id")
    assert b.loc["B1", "rank"] == 1 and b.loc["B2", "rank"] == 2 and b.loc["S2", "rank"] == 2
    assert set(res.sample["method"]) == {"coverage"} and set(res.sample["period"]) == {"2024"}
    assert b.loc["B1", "name_zh"] == "甲"  # institution columns are carried along
    assert res.sample["weight"].isna().all()  # not a probability sample


def test_coverage_boundaries():
    # exactly reaching the share stops; one more percent needs the next institution
    assert ids(sample(INST, SIZES, "2024", "coverage", share=0.5, sectors=["bank"])) == ["B1"]
    assert ids(sample(INST, SIZES, "2024", "coverage", share=0.81, sectors=["bank"])) == ["B1", "B2", "B3"]
    assert ids(sample(INST, SIZES, "2024", "coverage", share=1.0, sectors=["bank"])) == ["B1", "B2", "B3", "B4"]
    # per-sector shares
    res = sample(INST, SIZES, "2024", "coverage", share={"bank": 0.5, "securities": 0.6})
    assert ids(res) == ["B1", "S1"]


def test_missing_attribute_is_reported_not_dropped():
    res = sample(INST, SIZES, "2024", "coverage", share=0.8)
    assert list(res.missing["entity_id"]) == ["B5"]
    row = res.missing.iloc[0]
    assert row["sector"] == "bank" and row["attribute"] == "operating_revenue" and not row["selected"]
    assert "no operating_revenue for 2024" in row["reason"] and "left out" in row["reason"]
    # a census keeps it and says so
    cen = sample(INST, SIZES, "2024", "census")
    assert "B5" in ids(cen)
    assert bool(cen.missing.iloc[0]["selected"]) and "still eligible" in cen.missing.iloc[0]["reason"]
    # an empty value and a negative value are missing too, each with its reason
    sz = SIZES.copy()
    sz.loc[(sz["entity_id"] == "B4") & (sz["period"] == "2024") & (sz["attribute"] == "operating_revenue"), "value"] = -5
    sz.loc[(sz["entity_id"] == "B3") & (sz["period"] == "2024") & (sz["attribute"] == "operating_revenue"), "value"] = np.nan
    res = sample(INST, sz, "2024", "top_n", n=5)
    reasons = res.missing.set_index("entity_id")["reason"]
    assert "is negative" in reasons["B4"] and "is empty" in reasons["B3"] and "no operating_revenue" in reasons["B5"]
    assert ids(res) == ["B1", "B2", "S1", "S2"]


def test_period_selects_the_sizes():
    # 2023: B2 is the largest bank by far
    res = sample(INST, SIZES, 2023, "top_n", n=1)
    assert ids(res) == ["B2", "S1"]  # securities tie at 1: broken by id
    assert res.missing.empty


# ---- top-N ------------------------------------------------------------------------------------------
def test_top_n():
    assert ids(sample(INST, SIZES, "2024", "top_n", n=2)) == ["B1", "B2", "S1", "S2"]
    assert ids(sample(INST, SIZES, "2024", "top_n", n={"bank": 3, "securities": 1})) == ["B1", "B2", "B3", "S1"]
    # n larger than the sector: everyone with a value
    assert ids(sample(INST, SIZES, "2024", "top", n=10, sectors=["bank"])) == ["B1", "B2", "B3", "B4"]
    # by another attribute: financing; B5 (1000) and B4 (500) lead the banks
    res = sample(INST, SIZES, "2024", "top_n", by="total_financing", n=2)
    assert ids(res) == ["B4", "B5", "S1", "S2"]
    assert cov(res, "bank")["total_financing_share"] == pytest.approx(1500 / 2000)
    assert cov(res, "bank")["operating_revenue_share"] == pytest.approx(5 / 100)
    assert res.missing.empty


def test_top_n_by_market_value_reports_the_unlisted():
    res = sample(INST, SIZES, "2024", "top_n", by="market_value", n=1)
    assert ids(res) == ["B1", "S1"]
    assert sorted(res.missing["entity_id"]) == ["B3", "B4", "B5", "S2"]


# ---- stratified random ----------------------------------------------------------------------------------
def test_stratified_fraction_counts_and_weights():
    res = sample(INST, SIZES, "2024", "stratified", fraction=0.5, seed=1)
    per = res.sample.groupby("sector").size()
    assert per["bank"] == 3 and per["securities"] == 1  # round(2.5) -> 3 (half up), round(1.0) -> 1
    w = res.sample.groupby("sector")["weight"].first()
    assert w["bank"] == pytest.approx(5 / 3) and w["securities"] == pytest.approx(2.0)
    assert res.strata.set_index("stratum")[["N", "n"]].to_dict("index") == {
        "bank": {"N": 5, "n": 3}, "securities": {"N": 2, "n": 1}
    }
    # the design does not rank by revenue: B5 stays eligible
    assert "still eligible" in res.missing.iloc[0]["reason"]


def test_stratified_is_the_documented_draw():
    """One uniform number per institution in id order from default_rng(seed); the smallest k per stratum."""
    seed = 42
    res = sample(INST, SIZES, "2024", "stratified", n=2, seed=seed)
    u = dict(zip(sorted(INST["entity_id"]), np.random.default_rng(seed).random(len(INST)), strict=True))
    expect = []
    for _, g in INST.groupby("sector"):
        expect += sorted(g["entity_id"], key=u.get)[:2]
    assert ids(res) == sorted(expect)


def test_stratified_seeded_and_order_independent():
    a = sample(INST, SIZES, "2024", "stratified", n=2, seed=7)
    b = sample(INST.iloc[::-1].reset_index(drop=True), SIZES.sample(frac=1, random_state=3), "2024",
               "stratified", n=2, seed=7)  # fmt: skip
    assert ids(a) == ids(b)
    draws = {tuple(ids(sample(INST, SIZES, "2024", "stratified", n=2, seed=s))) for s in range(20)}
    assert len(draws) > 1  # different seeds give different samples


def test_stratified_by_region():
    res = sample(INST, SIZES, "2024", "stratified", n=1, strata=("sector", "region_code"), seed=3)
    st = res.strata.set_index("stratum")
    assert st.loc["bank/110000", "N"] == 2 and st.loc["bank/310000", "N"] == 1 and st.loc["bank/440000", "N"] == 2
    assert st.loc["securities/310000", "N"] == 2
    assert (st["n"] == 1).all()
    assert len(res.sample) == 4
    w = res.sample.set_index("stratum")["weight"]
    assert w["bank/110000"] == 2 and w["bank/310000"] == 1 and w["securities/310000"] == 2


def test_stratified_by_size_band():
    res = sample(INST, SIZES, "2024", "stratified", n=1, strata=("sector", "size_band"), bands=2, seed=0)
    st = res.strata.set_index("stratum")
    # banks with revenue ranked B1 > B2 > B3 > B4: band 1 = {B1, B2}, band 2 = {B3, B4}; B5 cannot be placed
    assert st.loc["bank/S1", "N"] == 2 and st.loc["bank/S2", "N"] == 2
    assert st.loc["securities/S1", "N"] == 1 and st.loc["securities/S2", "N"] == 1
    chosen = res.sample.set_index("entity_id")["stratum"]
    assert sorted(chosen[chosen.str.startswith("bank")]) == ["bank/S1", "bank/S2"]
    assert list(res.missing["entity_id"]) == ["B5"] and "cannot be ranked" in res.missing.iloc[0]["reason"]
    # explicit band edges in the attribute's unit: >= 20 band 1, [10, 20) band 2, < 10 band 3
    res = sample(INST, SIZES, "2024", "stratified", n=5, strata=("sector", "size_band"), bands=[10, 20], seed=0)
    band = res.sample.set_index("entity_id")["stratum"]
    assert band["B1"] == band["B2"] == "bank/S1" and band["B3"] == "bank/S2" and band["B4"] == "bank/S3"


# ---- census ---------------------------------------------------------------------------------------------
def test_census():
    res = sample(INST, SIZES, "2024", "all")
    assert len(res.sample) == 7 and (res.sample["weight"] == 1).all()
    assert cov(res, "all")["n_share"] == 1 and cov(res, "bank")["operating_revenue_share"] == 1
    assert res.method == "all" and sample(INST, SIZES, "2024", "census").method == "all"


# ---- inputs and errors ------------------------------------------------------------------------------------
def test_store_column_names_accepted():
    inst = INST.rename(columns={"entity_id": "id"})
    sz = SIZES.rename(columns={"entity_id": "institution_id"})
    assert ids(sample(inst, sz, "2024", "coverage", share=0.8)) == ["B1", "B2", "S1", "S2"]


def test_registry_and_errors():
    assert {"top_n", "coverage", "stratified", "all"} <= set(SAMPLERS.names())
    with pytest.raises(SpecError, match="unknown sample method 'best'"):
        sample(INST, SIZES, "2024", "best")
    with pytest.raises(DataError, match="no size attribute 'assets'") as e:
        sample(INST, SIZES, "2024", "top_n", by="assets")
    assert e.value.problems[0].rule == "sample.attribute"
    with pytest.raises(DataError, match="no size attribute"):
        sample(INST, SIZES, "2022", "top_n")
    with pytest.raises(SpecError, match="share must be in"):
        sample(INST, SIZES, "2024", "coverage", share=1.5)
    with pytest.raises(SpecError, match="exactly one of n"):
        sample(INST, SIZES, "2024", "stratified")
    with pytest.raises(SpecError, match="whole number"):
        sample(INST, SIZES, "2024", "top_n", n=-1)
    with pytest.raises(SpecError, match="no value for sector 'securities'"):
        sample(INST, SIZES, "2024", "top_n", n={"bank": 1})
    dup = pd.concat([SIZES, SIZES.iloc[[0]]])
    with pytest.raises(DataError, match="more than once"):
        sample(INST, dup, SIZES.iloc[0]["period"], "top_n")
    with pytest.raises(DataError, match="no column 'sector'"):
        sample(INST.drop(columns="sector"), SIZES, "2024")
    with pytest.raises(SpecError, match="no institution of sector"):
        sample(INST, SIZES, "2024", sectors=["payment"])


def test_on_the_demo_sample():
    """The synthetic national sample: 80 % coverage by revenue, and the unlisted reported by market value."""
    from fintech_eval.demo import generate

    demo = generate(seed=1, n_institutions=200, years=[2024])
    res = sample(demo.institutions, demo.sizes, 2024, "coverage", share=0.8)
    c = res.coverage.set_index("sector")
    assert (c.loc[["bank", "securities", "insurance", "payment"], "operating_revenue_share"] >= 0.8).all()
    # the largest institutions dominate: far fewer than all are needed
    assert c.loc["bank", "n_share"] < 0.5
    assert math.isclose(c.loc["bank", "market_share_total"], 1.0, rel_tol=1e-6)
    mv = sample(demo.institutions, demo.sizes, 2024, "top_n", by="market_value", n=3)
    assert set(mv.missing["entity_id"]) == set(demo.institutions.loc[~demo.institutions["listed"], "entity_id"])


def test_unknown_parameter_is_an_error():
    with pytest.raises(SpecError, match="takes no parameter 'fracton'"):
        sample(INST, SIZES, "2024", "stratified", fracton=0.5)
    with pytest.raises(SpecError, match="'coverage' takes no parameter 'n'"):
        sample(INST, SIZES, "2024", "coverage", n=3)
    # a single stratum name is accepted as a string
    res = sample(INST, SIZES, "2024", "stratified", n=1, strata="region_code", seed=0)
    assert set(res.strata["stratum"]) == {"bank/110000", "bank/310000", "bank/440000", "securities/310000"}


def test_period_written_as_a_number():
    sz = SIZES.assign(period=SIZES["period"].astype(float))  # 2024.0, as a CSV reader may give it
    assert ids(sample(INST, sz, 2024, "coverage", share=0.8)) == ["B1", "B2", "S1", "S2"]
    assert ids(sample(INST, sz, 2024.0, "coverage", share=0.8)) == ["B1", "B2", "S1", "S2"]
