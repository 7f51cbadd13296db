"""The synthetic national sample: determinism, coverage, framework-driven variables, rules, magnitudes."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from fintech_eval.catalog.formula import parse
from fintech_eval.catalog.loader import load_framework
from fintech_eval.catalog.models import Framework
from fintech_eval.demo import DEMO_SECTORS, generate, sector_variables
from fintech_eval.geo.regions import provinces

FW = load_framework("jrt0201-2020")
VARS = {v.name: v for v in FW.variables}
KEY = ["entity_kind", "entity_id", "period", "variable"]


@pytest.fixture(scope="module")
def demo():
    return generate(framework=FW)


@pytest.fixture(scope="module")
def wide(demo):
    """Institution observations wide: one row per institution and period, one column per variable."""
    o = demo.observations
    o = o[o["entity_kind"] == "institution"]
    w = o.pivot(index=["entity_id", "period"], columns="variable", values="value").reset_index()
    return w.merge(demo.institutions[["entity_id", "sector", "subtype"]], on="entity_id")


# ---- determinism -------------------------------------------------------------------------------------
def test_same_seed_same_frames_different_seed_different():
    a = generate(seed=11, n_institutions=120, years=range(2022, 2025), framework=FW)
    b = generate(seed=11, n_institutions=120, years=range(2022, 2025), framework=FW)
    for name in ("institutions", "sizes", "observations", "regions", "bad_rows"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.notes == b.notes
    c = generate(seed=12, n_institutions=120, years=range(2022, 2025), framework=FW)
    assert len(c.observations) == len(a.observations)  # same structure ...
    assert not np.allclose(c.observations["value"].fillna(-1), a.observations["value"].fillna(-1))  # ... other values
    assert not a.institutions["region_code"].equals(c.institutions["region_code"])


def test_default_is_fast():
    generate(framework=FW)  # warm-up (imports, caches)
    best = min(_timed(lambda: generate(framework=FW)) for _ in range(2))
    assert best < 2.0, f"generate() took {best:.2f} s"


def _timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


# ---- institutions and provinces -------------------------------------------------------------------------
def test_counts_per_sector_and_subtype(demo):
    inst = demo.institutions
    assert len(inst) == 600 and inst["entity_id"].is_unique
    assert inst["sector"].value_counts().to_dict() == {"bank": 240, "insurance": 140, "securities": 120, "payment": 100}
    sub = inst.groupby(["sector", "subtype"]).size()
    assert sub["bank", "large_state_owned"] == 6 and sub["bank", "joint_stock"] == 12
    assert {"city_commercial", "rural_commercial", "foreign"} <= set(sub["bank"].index)
    assert set(sub["insurance"].index) == {"property", "life"}
    assert inst.loc[inst["subtype"] == "large_state_owned", "region_code"].isin(["110000", "310000"]).all()
    assert inst.loc[inst["subtype"] == "large_state_owned", "listed"].all()
    assert not inst.loc[inst["subtype"] == "foreign", "listed"].any()
    assert inst["entity_id"].str.fullmatch(r"SYN-(BANK|SEC|INS|PAY)-\d{4}").all()
    assert inst.loc[inst["sector"] == "bank", "entity_id"].iloc[0] == "SYN-BANK-0001"


def test_other_sizes_keep_proportions():
    d = generate(seed=3, n_institutions=1000, years=[2024], framework=FW)
    assert d.institutions["sector"].value_counts().to_dict() == {"bank": 400, "insurance": 233, "securities": 200,
                                                                  "payment": 167}  # fmt: skip
    small = generate(seed=3, n_institutions=12, years=[2024], framework=FW)
    assert len(small.institutions) == 12 and set(small.institutions["sector"]) == set(DEMO_SECTORS)


def test_every_province_has_institutions_and_region_rows(demo):
    codes = set(provinces()["code"])
    assert len(codes) == 31
    assert set(demo.institutions["region_code"]) == codes
    reg = demo.observations[demo.observations["entity_kind"] == "region"]
    assert set(reg["entity_id"]) == codes
    assert (demo.regions["n_institutions"] >= 1).all() and demo.regions["n_institutions"].sum() == 600


def test_labelled_synthetic_everywhere(demo):
    inst = demo.institutions
    assert inst["synthetic"].all()
    assert inst["name_zh"].str.contains("合成").all() and inst["name_en"].str.startswith("Synthetic").all()
    assert (demo.observations["source"] == "synthetic").all()
    assert (demo.sizes["source"] == "synthetic").all()
    assert (demo.bad_rows["source"] == "synthetic").all() and demo.bad_rows["synthetic"].all()
    assert demo.regions["synthetic"].all()
    assert "SYNTHETIC" in demo.notes[0]


# ---- variables come from the framework -----------------------------------------------------------------
def _expected_by_hand(sector: str) -> set[str]:
    """Independent reading of the rule: variables read by the applicable J formula or the sector's variant,
    or by an applicable H roll-up, whose own sectors allow the sector."""
    names: set[str] = set()
    for ind in FW.indicators(block="J"):
        f = ind.formula_for(sector)
        if f:
            names |= parse(f).names
    for ind in FW.indicators(block="H"):
        if ind.applies_to(sector) and ind.rollup:
            for text in (ind.rollup.numerator, ind.rollup.denominator, ind.rollup.condition):
                if text:
                    names |= parse(text).names
            if ind.rollup.of in VARS:
                names.add(ind.rollup.of)
    return {n for n in names if n in VARS and VARS[n].entity == "institution"
            and (not VARS[n].sectors or sector in VARS[n].sectors)}  # fmt: skip


def test_every_applicable_variable_and_no_other(demo):
    inst = demo.institutions.set_index("entity_id")["sector"]
    o = demo.observations[demo.observations["entity_kind"] == "institution"]
    sec = o["entity_id"].map(inst)
    for sector in DEMO_SECTORS:
        got = set(o.loc[sec == sector, "variable"])
        assert got == _expected_by_hand(sector), sector
        assert got == set(demo.variables[sector])
    # sector-restricted examples of the catalog
    assert "claims" in demo.variables["insurance"] and "claims" not in demo.variables["bank"]
    assert "personal_loans" in demo.variables["bank"] and "personal_loans" not in demo.variables["insurance"]
    assert "core_channel_orders" in demo.variables["securities"]
    assert "robo_advisory_txn" not in demo.variables["payment"] and "barcode_payment_amount" in demo.variables["payment"]
    assert "pc_ux_score" in demo.variables["bank"] and "pc_ux_score" not in demo.variables["securities"]
    # every institution answers its full list every year (a gap is a NaN value, not a missing row)
    n_per = o.groupby(["entity_id", "period"]).size()
    expected = sec.groupby(o["entity_id"]).first().map(lambda s: len(demo.variables[s]))
    assert (n_per.droplevel("period") == expected.reindex(n_per.index.get_level_values(0)).to_numpy()).all()
    # region variables: exactly those the Q formulas read
    reg = demo.observations[demo.observations["entity_kind"] == "region"]
    q_reads = set().union(*(parse(i.formula).names for i in FW.indicators(block="Q") if i.formula))
    assert set(reg["variable"]) == q_reads == set(demo.variables["region"])
    assert not o.duplicated(KEY).any() and not reg.duplicated(KEY).any()


def test_same_rule_as_validation():
    from fintech_eval.collect.validate import applicable_variables

    ours = sector_variables(FW)
    for s in DEMO_SECTORS:
        assert ours[s] == [v.name for v, _ in applicable_variables(FW, s)]


def test_a_changed_framework_changes_the_data():
    """Nothing is hard-coded: restrict a variable to banks and rename another (no recipe: generic one)."""
    data = FW.model_dump()
    for v in data["variables"]:
        if v["name"] == "coop_universities":
            v["sectors"] = ["bank"]
        if v["name"] == "ai_projects":
            v["name"] = "ml_projects"

    def rename(node):
        for ind in node.get("indicators", []):
            if ind.get("formula") == "ai_projects":
                ind["formula"] = "ml_projects"
        for c in node.get("children", []):
            rename(c)

    for b in data["blocks"]:
        rename(b)
    fw2 = Framework.model_validate(data)
    d = generate(seed=5, n_institutions=80, years=[2023, 2024], framework=fw2)
    assert "coop_universities" in d.variables["bank"] and "coop_universities" not in d.variables["securities"]
    assert "ml_projects" in d.variables["payment"] and "ai_projects" not in set(d.observations["variable"])
    ml = d.observations.loc[d.observations["variable"] == "ml_projects", "value"].dropna()
    assert len(ml) and (ml >= 0).all() and (ml == ml.round()).all()
    assert any("ml_projects" in n for n in d.notes)


# ---- rules the good rows keep ----------------------------------------------------------------------------
def test_units_types_and_ranges(demo):
    o = demo.observations
    assert (o["unit"] == o["variable"].map({n: v.unit for n, v in VARS.items()})).all()
    assert o["period"].isin([str(y) for y in range(2020, 2025)]).all()
    x = o.dropna(subset=["value"])
    typ = x["variable"].map({n: v.type for n, v in VARS.items()})
    vmin = x["variable"].map({n: v.min for n, v in VARS.items()}).astype(float)
    vmax = x["variable"].map({n: v.max for n, v in VARS.items()}).astype(float)
    assert (x["value"] >= vmin.fillna(-np.inf)).all() and (x["value"] <= vmax.fillna(np.inf)).all()
    assert (x["value"] >= 0).all()
    whole = typ.isin(["count", "level", "binary"])
    assert (x.loc[whole, "value"] == x.loc[whole, "value"].round()).all()
    assert x.loc[typ == "binary", "value"].isin([0, 1]).all()
    lv = x[typ == "level"]
    scale = lv["variable"].map({n: (v.min, v.max) for n, v in VARS.items()})
    assert set(scale) == {(1.0, 5.0), (1.0, 6.0)}
    assert lv["value"].between(1, 6).all()
    assert lv.loc[lv["variable"] == "dc_maturity_level", "value"].between(1, 5).all()
    # every level of the scale occurs somewhere (the data are not all at one end)
    assert set(lv.loc[lv["variable"] == "dr_level", "value"]) == {1, 2, 3, 4, 5, 6}


def test_part_of_holds(demo):
    o = demo.observations
    w = o.pivot(index=["entity_kind", "entity_id", "period"], columns="variable", values="value")
    checked = 0
    for v in FW.variables:
        if v.part_of and v.name in w.columns:
            both = w[[v.name, v.part_of]].dropna()
            assert (both[v.name] <= both[v.part_of]).all(), v.name
            checked += len(both)
    assert checked > 10_000
    both = w[["pc_transaction_amount", "app_transaction_amount", "transaction_amount"]].dropna()
    assert (both.iloc[:, 0] + both.iloc[:, 1] <= both.iloc[:, 2]).all()


def test_turnover_inputs_consistent_across_years(wide):
    w = wide.sort_values(["entity_id", "period"])
    prev = w.groupby("entity_id")["fintech_staff"].shift(1)
    m = w["fintech_staff_prev_end"].notna() & prev.notna()
    assert m.sum() > 1500
    assert (w.loc[m, "fintech_staff_prev_end"] == prev[m]).all()
    assert (w["fintech_staff_leavers"].dropna() >= 0).all()
    ok = w[["fintech_staff_leavers", "fintech_staff_prev_end"]].dropna()
    assert (ok["fintech_staff_leavers"] <= ok["fintech_staff_prev_end"]).all()
    # also for the first year: the carried value exists (the year before is simulated)
    assert w.loc[w["period"] == "2020", "fintech_staff_prev_end"].notna().mean() > 0.9


def test_missing_share_about_three_percent(demo):
    inst = demo.observations[demo.observations["entity_kind"] == "institution"]
    share = inst["value"].isna().mean()
    assert 0.02 <= share <= 0.04, share
    assert 0.015 <= demo.observations["value"].isna().mean() <= 0.04


# ---- magnitudes (CNY 10k) --------------------------------------------------------------------------------
def test_bank_magnitudes_calibrated(wide):
    large = wide[wide["subtype"] == "large_state_owned"]
    js = wide[wide["subtype"] == "joint_stock"]
    assert 1e7 <= large["operating_revenue"].median() <= 1e8
    assert 5e6 <= js["operating_revenue"].median() <= 4e7
    assert large["operating_revenue"].max() < 1.5e8
    ratio = large["fintech_investment"] / large["operating_revenue"]
    # banks_disclosed.csv: 2.0-2.6 % in 2019/2020, 3.2-3.8 % in 2023/2024
    assert 0.015 <= ratio[large["period"] == "2020"].median() <= 0.03
    assert 0.028 <= ratio[large["period"] == "2024"].median() <= 0.045
    js_ratio = (js["fintech_investment"] / js["operating_revenue"]).median()
    assert 0.03 <= js_ratio <= 0.06
    staff = (large["fintech_staff"] / large["employees"]).median()
    assert 0.015 <= staff <= 0.10
    per_employee = (large["operating_revenue"] / large["employees"]).median()
    assert 100 <= per_employee <= 300  # CNY 1-3 m per employee
    assert 1e8 <= large["personal_users"].median() <= 1e9
    off = (wide["off_counter_transactions"] / wide["total_transactions"])[wide["sector"] == "bank"].median()
    assert 0.85 <= off <= 0.99


def test_correlated_and_growing(wide):
    banks = wide[wide["sector"] == "bank"].dropna(subset=["fintech_investment", "operating_revenue"])
    rho = np.log(banks["fintech_investment"]).corr(np.log(banks["operating_revenue"]), method="spearman")
    assert rho > 0.9  # bigger institutions invest more
    w = wide.copy()
    w["app"] = w["app_transaction_amount"] / w["transaction_amount"]
    w["cloud"] = w["it_applications_on_cloud"] / w["it_applications"]
    w["auto"] = w["personal_loans_auto_approved"] / w["personal_loans"]
    assert w["app"].corr(w["cloud"], method="spearman") > 0.2  # one latent digital maturity drives both
    med = w.groupby("period")[["app", "cloud", "auto"]].median()
    assert (med.loc["2024"] > med.loc["2020"]).all()  # maturity grows
    plan = w.groupby("period")["fintech_strategy_plan"].mean()
    assert plan.is_monotonic_increasing


def test_sizes(demo, wide):
    s = demo.sizes
    assert set(s["attribute"]) == {"operating_revenue", "market_share", "total_financing", "market_value"}
    piv = s.pivot(index=["entity_id", "period"], columns="attribute", values="value").reset_index()
    piv = piv.merge(demo.institutions[["entity_id", "sector", "listed"]], on="entity_id")
    sums = piv.groupby(["sector", "period"])["market_share"].sum()
    assert np.allclose(sums, 1.0, atol=1e-5)
    assert piv.loc[piv["listed"], "market_value"].notna().all() and piv.loc[~piv["listed"], "market_value"].isna().all()
    m = piv.merge(wide[["entity_id", "period", "operating_revenue"]], on=["entity_id", "period"], suffixes=("", "_obs"))
    ok = m["operating_revenue_obs"].notna()
    assert (m.loc[ok, "operating_revenue"] == m.loc[ok, "operating_revenue_obs"]).all()
    assert (s["value"] > 0).all()
    assert set(s["unit"]) == {"CNY 10k", "fraction"}


def test_region_rows(demo):
    reg = demo.observations[demo.observations["entity_kind"] == "region"]
    w = reg.pivot(index=["entity_id", "period"], columns="variable", values="value")
    n_inst = demo.regions.set_index("code")["n_institutions"]
    lic = w["q_licensed_institutions"].dropna()
    assert (lic.to_numpy() >= n_inst.reindex(lic.index.get_level_values(0)).to_numpy()).all()
    gd = w.xs("2024", level="period")["q_payment_amount"].dropna()
    assert gd.idxmax() == "440000"  # Guangdong, the largest economy, pays the most


# ---- bad rows ---------------------------------------------------------------------------------------
def _rules_broken(row, demo, obs_index, sector_of) -> set[str]:
    """The validation rules a bad row breaks, checked independently of the validator."""
    from fintech_eval.collect.units import UnitError, conversion_factor

    broken = set()
    v = VARS[row.variable]
    sector = sector_of[row.entity_id]
    if row.variable not in demo.variables[sector]:
        broken.add("variable.not_applicable")
    try:
        conversion_factor(row.unit, v.unit, variable=v.name)
    except UnitError as e:
        broken.add(e.problems[0].rule)
    x = row.value
    if v.type in ("count", "level") and x != round(x):
        broken.add("type.not_whole")
    if v.type == "binary" and x not in (0, 1):
        broken.add("type.binary")
    if v.type == "level" and not v.min <= x <= v.max:
        broken.add("range.level")
    if v.type in ("count", "money", "time", "number") and x < 0:
        broken.add("range.negative")
    if v.part_of:
        whole = obs_index.get((row.entity_kind, row.entity_id, row.period, v.part_of))
        if whole is not None and not np.isnan(whole) and x > whole:
            broken.add("part_of.exceeds")
    if row.variable.endswith("_prev_end"):
        src = obs_index.get((row.entity_kind, row.entity_id, str(int(row.period) - 1), row.variable[:-9]))
        if src is not None and not np.isnan(src) and x != src:
            broken.add("turnover.inconsistent")
    return broken


def test_bad_rows_break_exactly_their_rule(demo):
    bad = demo.bad_rows
    assert 8 <= len(bad) <= 12
    assert {"part_of.exceeds", "range.negative", "unit.unknown", "unit.incompatible", "type.binary",
            "range.level", "turnover.inconsistent", "variable.not_applicable", "type.not_whole"} <= set(bad["rule"])  # fmt: skip
    obs_index = demo.observations.set_index(KEY)["value"].to_dict()
    sector_of = demo.institutions.set_index("entity_id")["sector"].to_dict()
    for row in bad.itertuples():
        assert _rules_broken(row, demo, obs_index, sector_of) == {row.rule}, row
        assert row.reason
        if row.rule != "variable.not_applicable":  # the good value it replaces is a real value
            assert not np.isnan(obs_index[(row.entity_kind, row.entity_id, row.period, row.variable)])
    # a "share above 1": the off-counter part exceeds all transactions
    assert (bad["variable"] == "off_counter_transactions").any()
    assert bad["unit"].str.contains("CYN").any()
    # the good rows themselves break none of these rules
    sample_rows = demo.observations.dropna(subset=["value"]).sample(2000, random_state=0)
    for row in sample_rows[sample_rows["entity_kind"] == "institution"].itertuples():
        assert _rules_broken(row, demo, obs_index, sector_of) == set(), row


def test_with_bad_rows_replaces_the_good_values(demo):
    ret = demo.with_bad_rows()
    assert not ret.duplicated(KEY).any()
    added = (demo.bad_rows["rule"] == "variable.not_applicable").sum()
    assert len(ret) == len(demo.observations) + added
    got = ret.set_index(KEY)["value"]
    for row in demo.bad_rows.itertuples():
        assert got[(row.entity_kind, row.entity_id, row.period, row.variable)] == row.value


def test_validation_rejects_exactly_the_bad_rows():
    """End to end with fintech_eval.collect.validate: the good return passes, the bad rows are each rejected
    with their rule and nothing else is."""
    from fintech_eval.collect.validate import validate

    d = generate(seed=8, n_institutions=120, years=range(2022, 2025), framework=FW)
    inst = d.institutions.rename(columns={"entity_id": "id"})[["id", "name_zh", "name_en", "sector"]]
    _, problems = validate(d.observations, FW, inst)
    assert [p for p in problems if p.severity == "error"] == []
    _, problems = validate(d.with_bad_rows(), FW, inst)
    got = {(p.rule, p.where["entity"], p.where["period"], p.where["variable"]) for p in problems if p.severity == "error"}
    expected = {(r.rule, r.entity_id, r.period, r.variable) for r in d.bad_rows.itertuples()}
    assert got == expected
