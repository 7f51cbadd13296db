"""The public bank disclosures: items mapped to variables with units, disclosed ratios beside recomputed ones."""

import re

import pytest

import fintech_eval as fe
from fintech_eval.collect import read_file, validate
from fintech_eval.collect.public_banks import ITEM_VARIABLES, default_path, read_public_banks

pytestmark = pytest.mark.skipif(not default_path().exists(), reason=f"{default_path()} not present")


@pytest.fixture(scope="module")
def fw():
    return fe.load_framework("jrt0201-2020")


@pytest.fixture(scope="module")
def pb(fw):
    return read_public_banks(framework=fw)


# the README: "Recomputing the ratio matches the disclosed ratio exactly for some bank-years"
MATCH = [("CITIC", 2020), ("CITIC", 2023), ("CITIC", 2024), ("CIB", 2021), ("CIB", 2023), ("CIB", 2024),
         ("ICBC", 2023), ("ABC", 2023), ("BOC", 2023), ("BOC", 2024), ("CCB", 2019), ("CCB", 2024)]
# ... "and not for others, because banks use different denominators"
DIFFERS = [("CMB", 2023), ("CMB", 2024), ("BOCOM", 2024)]


@pytest.mark.parametrize(("bank", "year"), MATCH)
def test_investment_ratio_matches_where_the_readme_says(pb, bank, year):
    r = pb.ratio(bank, year, "J-A2B1-C1")
    assert len(r) == 1
    row = r.iloc[0]
    assert row.status == "match", row.reason
    assert abs(row.recomputed * 100 - row.disclosed * 100) <= row.tolerance_pp
    assert row.disclosed == pytest.approx(float(row.disclosed_text.rstrip("%")) / 100)


@pytest.mark.parametrize(("bank", "year"), DIFFERS)
def test_investment_ratio_is_flagged_where_denominators_differ(pb, bank, year):
    row = pb.ratio(bank, year, "J-A2B1-C1").iloc[0]
    assert row.status == "differs"
    assert abs(row.difference_pp) > 0.4
    hits = [p for p in pb.problems if p.rule == "public.ratio_mismatch" and p.where["entity"] == bank
            and p.where["period"] == str(year) and p.where["indicator"] == "J-A2B1-C1"]
    assert hits and hits[0].severity == "warning" and hits[0].where["row"] == row.disclosed_row


def test_bocom_2024_numbers(pb):
    row = pb.ratio("BOCOM", 2024).iloc[0]
    assert row.disclosed_text == "5.41%" and row.recomputed == pytest.approx(114.33 / 2598.3)
    assert f"{row.recomputed * 100:.2f}" == "4.40"


def test_staff_ratio_ccb_2024(pb):
    row = pb.ratio("CCB", 2024, "J-A2B2-C1").iloc[0]
    assert row.status == "match" and row.recomputed == pytest.approx(16365 / 376847)
    assert (row.numerator_value, row.denominator_value) == (16365, 376847)


def test_tolerance_follows_the_rounding_of_the_disclosed_figure(pb):
    r = pb.ratios.set_index(["entity_id", "period", "code"])
    # 2.5 % (one decimal) allows 0.05 pp; 3.26 % allows 0.005 pp; plus the inputs' rounding
    assert 0.05 < r.loc[("CCB", "2019", "J-A2B1-C1"), "tolerance_pp"] < 0.0502
    assert 0.005 < r.loc[("CCB", "2024", "J-A2B1-C1"), "tolerance_pp"] < 0.0052
    # PSBC 2024: 122.96 / 3491.33 = 3.5219 %, disclosed 3.53 %: beyond rounding, flagged
    assert r.loc[("PSBC", "2024", "J-A2B1-C1"), "status"] == "differs"


def test_disclosed_ratio_is_kept_beside_not_overwritten(pb):
    r = pb.ratios
    assert {"disclosed", "recomputed", "difference_pp", "status"} <= set(r.columns)
    both = r[(r.entity_id == "ICBC") & (r.period == "2019") & (r.code == "J-A2B1-C1")]
    assert sorted(both["disclosed_text"]) == ["1.91%", "2.2%"] and both["conflict"].all()
    assert (both["status"] == "not_recomputable").all()  # no 2019 revenue in the file
    # no ratio becomes an observation
    assert not pb.observations["variable"].str.contains("ratio").any()


def test_growth_is_checked_too(pb):
    r = pb.ratios[(pb.ratios.entity_id == "CCB") & (pb.ratios.period == "2021") & (pb.ratios.code == "fintech_investment_yoy")]
    assert dict(zip(r.disclosed_text, r.status, strict=True)) == {"2.86%": "differs", "6.63%": "match"}


def test_conflicts_are_surfaced(pb):
    c = pb.conflicts
    with open(default_path(), encoding="utf-8") as fh:
        n_conflict_rows = sum("CONFLICT" in line for line in fh)
    marked = c[c["note"].str.contains("CONFLICT", na=False)]
    assert len(marked) == n_conflict_rows
    # an undeclared conflict: CCB 2024 revenue twice; the value that reproduces the disclosed ratio is chosen
    ccb = c[(c.entity_id == "CCB") & (c.period == "2024") & (c.variable == "operating_revenue")]
    assert sorted(ccb["value"]) == [7285.7, 7501.5]
    assert ccb.set_index("value").loc[7501.5, "chosen"] == True  # noqa: E712
    obs = pb.observations.set_index(["entity_id", "period", "variable"])
    assert obs.loc[("CCB", "2024", "operating_revenue"), "value"] == 7501.5
    assert obs.loc[("CCB", "2024", "operating_revenue"), "status"] == "flagged"
    assert "7285.7" in obs.loc[("CCB", "2024", "operating_revenue"), "flag_reason"]
    rules = {p.rule for p in pb.problems}
    assert {"public.conflict", "public.ratio_mismatch", "public.uncertain"} <= rules
    assert all(p.severity == "warning" for p in pb.problems)


def test_items_map_to_variables_with_units(pb):
    obs = pb.observations.set_index(["entity_id", "period", "variable"])
    icbc = obs.loc[("ICBC", "2019", "fintech_investment")]
    assert (icbc.value, icbc.unit, icbc.value_norm, icbc.unit_norm) == (163.74, "CNY 100m (亿元)", pytest.approx(1_637_400), "CNY 10k")
    assert obs.loc[("CCB", "2024", "employees"), "value_norm"] == 376847
    assert obs.loc[("PAB", "2024", "personal_app_users"), "value_norm"] == pytest.approx(174_000_000)
    assert set(pb.observations["variable"]) <= set(ITEM_VARIABLES.values())
    # aggregates and items without a variable are listed, not imported
    assert (pb.unmapped["reason"].str.startswith("sector or group aggregate")).sum() >= 20
    assert "mobile_banking_mau" in set(pb.unmapped["item"])
    assert not pb.observations["entity_id"].str.contains("aggregate").any()


def test_the_file_imports_cleanly(pb, fw):
    clean, problems = validate(pb.observations, fw, pb.institutions)
    assert [p for p in problems if p.severity == "error"] == []
    assert len(clean) == len(pb.observations)
    assert (clean["status"] == "flagged").sum() >= 4
    res = read_file(default_path())
    assert res.format == "public_banks" and res.ok and len(res.frame) == len(pb.observations)


def test_item_map_agrees_with_the_catalog_help(fw):
    # the catalog's help names the public-file item of a variable: "(Public file item: X ...)"
    named = {}
    for v in fw.variables:
        m = re.search(r"Public file item(?: for banks)?: (\w+)", v.help.en)
        if m:
            named[m.group(1)] = v.name
    assert named == {k: v for k, v in ITEM_VARIABLES.items() if k in named}
    assert set(named) == set(ITEM_VARIABLES)
