"""validate(): conversion to declared units, every rule, severities, outliers flagged and kept."""

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.collect import carry_over_pairs, errors_in, previous_period, validate

from .malformed.generators import institutions, share_framework


@pytest.fixture(scope="module")
def fw():
    return fe.load_framework("jrt0201-2020")


def frame(rows, file="f.csv"):
    out = []
    for i, r in enumerate(rows, start=2):
        out.append({"entity_id": r[0], "period": r[1], "variable": r[2], "value": r[3],
                    "unit": r[4] if len(r) > 4 else None, "file": file, "row": i, "column": "value",
                    **(r[5] if len(r) > 5 else {})})
    return pd.DataFrame(out)


def test_values_are_converted_to_the_declared_unit(fw):
    clean, probs = validate(frame([
        ("B001", "2024", "fintech_investment", 163.74, "CNY 100m (亿元)"),
        ("B001", "2024", "operating_revenue", 2e12, "元"),
        ("B001", "2024", "fintech_staff", 3.48, "万人"),
        ("B001", "2024", "employees", 43.4089, "万人"),
        ("B001", "2024", "personal_loan_approval_hours", 90, "min"),
        ("B001", "2024", "outlets", np.nan, None),
    ]), fw, institutions())
    assert probs == []
    c = clean.set_index("variable")
    assert c.loc["fintech_investment", "value_norm"] == pytest.approx(1_637_400)
    assert c.loc["operating_revenue", "value_norm"] == pytest.approx(2e8)
    assert c.loc["fintech_staff", "value_norm"] == 34800.0  # snapped to a whole number
    assert c.loc["employees", "value_norm"] == 434089.0
    assert c.loc["personal_loan_approval_hours", "value_norm"] == 1.5
    assert np.isnan(c.loc["outlets", "value_norm"]) and np.isnan(c.loc["outlets", "value"])
    assert c.loc["fintech_investment", "unit"] == "CNY 100m (亿元)" and c.loc["fintech_investment", "unit_norm"] == "CNY 10k"
    assert set(clean["status"]) == {"ok"} and set(clean["entity_kind"]) == {"institution"}


def test_percent_to_share(fw, tmp_path):
    fw2 = share_framework(fw, tmp_path)
    clean, probs = validate(frame([("B001", "2024", "online_sales_share", 45, "%")]), fw2, institutions())
    assert probs == [] and clean.loc[0, "value_norm"] == pytest.approx(0.45)


def test_regions_and_names_are_resolved(fw):
    clean, probs = validate(frame([
        ("广东", "2024", "q_payment_amount", 10, "亿元"),
        ("Guangdong Province", "2023", "q_payment_amount", 9, "亿元"),
        ("440000", "2022", "q_payment_amount", 8, "亿元"),
        ("测试银行", "2024", "employees", 10),
    ]), fw, institutions())
    assert probs == []
    assert clean["entity_id"].tolist() == ["44", "44", "44", "B001"]
    assert clean["entity_kind"].tolist() == ["region"] * 3 + ["institution"]


def test_without_institutions_the_entity_checks_are_skipped(fw):
    clean, probs = validate(frame([("Anyone", "2024", "employees", 10), ("Anyone", "2024", "claims", 3)]), fw)
    assert probs == [] and len(clean) == 2


def test_industry_entities(fw):
    df = frame([("bank", "2024", "employees", 10, None, {"entity_kind": "industry"}),
                ("banks", "2024", "employees", 10, None, {"entity_kind": "industry"})])
    _, probs = validate(df, fw)
    rules = [p.rule for p in probs]
    assert "entity.unknown" in rules and "entity.kind" in rules  # 'banks' unknown; industry ≠ institution


def test_outliers_are_flagged_and_kept(fw):
    inst = pd.DataFrame([{"id": f"B{i:03d}", "name_zh": f"银行{i}", "sector": "bank"} for i in range(12)])
    rows = [(f"B{i:03d}", "2024", "outlets", 100 + 5 * i) for i in range(11)] + [("B011", "2024", "outlets", 1e9)]
    clean, probs = validate(frame(rows), fw, inst)
    assert not errors_in(probs)
    assert [p.rule for p in probs] == ["outlier"] and probs[0].severity == "warning"
    assert probs[0].where["entity"] == "B011" and probs[0].where["row"] == 13
    assert len(clean) == 12
    flagged = clean[clean.status == "flagged"]
    assert flagged["entity_id"].tolist() == ["B011"] and "robust z-score" in flagged["flag_reason"].iloc[0]
    # the same figure alone in a small group is not judged
    clean, probs = validate(frame(rows[-3:]), fw, inst)
    assert probs == []


def test_outliers_are_judged_within_sector(fw):
    inst = pd.DataFrame([{"id": f"I{i}", "name_zh": f"机构{i}", "sector": "bank" if i < 6 else "payment"}
                         for i in range(12)])
    rows = [(f"I{i}", "2024", "employees", 100_000 + i if i < 6 else 50 + i) for i in range(12)]
    _, probs = validate(frame(rows), fw, inst)
    assert probs == []  # large banks next to small payment firms: not outliers within their sectors


def test_turnover_consistent_passes_and_inconsistent_fails(fw):
    prev = pd.DataFrame([{"entity_id": "B001", "period": "2023", "variable": "fintech_staff", "value": 2800.0}])
    ok, probs = validate(frame([("B001", "2024", "fintech_staff_prev_end", 2800)]), fw, institutions(), prev)
    assert probs == []
    _, probs = validate(frame([("B001", "2024Q1", "fintech_staff_prev_end", 2800)]), fw, institutions(),
                        pd.DataFrame([{"entity_id": "B001", "period": "2023Q4", "variable": "fintech_staff",
                                       "value": 2900.0}]))
    assert [p.rule for p in probs] == ["turnover.inconsistent"] and "2023Q4 was 2900" in probs[0].message


def test_duplicates_across_files(fw):
    a = frame([("B001", "2024", "employees", 10)], file="a.csv")
    b = frame([("B001", "2024", "employees", 11)], file="b.xlsx").assign(sheet="Questionnaire", row=25)
    clean, probs = validate(pd.concat([a, b]), fw, institutions())
    assert [p.rule for p in probs] == ["duplicate"]
    assert "a.csv row 2" in probs[0].message and "b.xlsx sheet Questionnaire row 25" in probs[0].message
    assert clean.empty


def test_incoming_flags_are_kept(fw):
    df = frame([("B001", "2024", "employees", 10)]).assign(status="flagged", flag_reason="CONFLICT in the file")
    clean, probs = validate(df, fw, institutions())
    assert probs == [] and clean.loc[0, "status"] == "flagged" and clean.loc[0, "flag_reason"] == "CONFLICT in the file"


def test_level_and_binary_edges(fw):
    clean, probs = validate(frame([
        ("B001", "2024", "dc_maturity_level", 5), ("B001", "2024", "cloud_dr_level", 6),
        ("B001", "2024", "fintech_strategy_plan", 0), ("B001", "2024", "flexible_org_forms", 1, "yes/no"),
        ("B001", "2024", "dr_level", 2.5),
    ]), fw, institutions())
    assert [p.rule for p in probs] == ["type.not_whole"] and len(clean) == 4


def test_problem_carries_severity_and_place(fw):
    _, probs = validate(frame([("B001", "2024", "employees", -1)]), fw, institutions())
    d = probs[0].as_dict()
    assert d["severity"] == "error" and d["rule"] == "range.negative"
    assert (d["file"], d["row"], d["column"], d["entity"], d["period"], d["variable"]) == (
        "f.csv", 2, "value", "B001", "2024", "employees")
    assert d["indicator"] == "J-A2B2-C1, J-A2B2-C2, H-A1B2-C1"


def test_helpers(fw):
    assert carry_over_pairs(fw) == [("fintech_staff_prev_end", "fintech_staff")]
    assert [previous_period(p) for p in ("2024", "2024Q1", "2024Q3", "2024-01", "2024-10", "x")] == [
        "2023", "2023Q4", "2024Q2", "2023-12", "2024-09", None]


def test_a_duplicate_group_of_three_names_every_row_in_order(fw):
    df = frame([("B001", "2024", "outlets", 5), ("B001", "2024", "outlets", "7", "个"),
                ("B002", "2024", "outlets", 1), ("B001", "2024", "outlets", np.nan)])
    df.loc[1, ["file", "sheet"]] = ["b.xlsx", "S1"]
    df["raw"] = [None, "7", "1", None]
    _, probs = validate(df, fw)
    dups = [p for p in probs if p.rule == "duplicate"]
    assert [p.where["row"] for p in dups] == [3, 5]
    assert {p.message for p in dups} == {
        "outlets for B001 in 2024 is given 3 times: f.csv row 2 (value 5 nan); b.xlsx sheet S1 row 3 (value '7'); "
        "f.csv row 5 (value (missing))"}
    assert all(p.where["also"] == "f.csv row 2" for p in dups)
