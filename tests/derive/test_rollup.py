"""H (industry) and Q (region) indicators on hand-computed numbers."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import yaml

from fintech_eval.catalog import load_extension
from fintech_eval.derive import (
    FLAGGED,
    MISSING,
    NOT_APPLICABLE,
    OK,
    UNDEFINED,
    derive_industry,
    derive_institutions,
    derive_regions,
)
from fintech_eval.errors import DataError, SpecError

from . import FULL, framework, institutions_table, long_obs, value_of

# A banking industry of three: B1 (the full bank of the helper), B2, and B3 with gaps and bad values.
B2 = {
    "fintech_investment": 300, "operating_revenue": 5_000,
    "fintech_staff": 20, "employees": 500,
    "transaction_amount": 1_000, "pc_transaction_amount": 100, "app_transaction_amount": 500,
    "self_service_devices": 50, "outlets": 50,
    "payment_amount": 1_000, "barcode_payment_amount": 200,
    "wealth_mgmt_txn": 100, "robo_advisory_txn": 0,
    "app_financial_scenarios": 20,
    "it_om_cost": 40, "personal_users": 1_900, "corporate_users": 100,
    "smart_rec_impressions": 1_000, "smart_rec_clicks": 30,
    "customer_services": 1_000, "chatbot_services": 200,
    "chatbot_questions": 500, "chatbot_questions_resolved": 450,
    "consumer_education_reach": 950,
    "risk_assets": 2_000, "risk_provisions": 100,
    "fraud_rejected_amount": 45, "fraud_loss_amount": 5,
    "fintech_patent_applications": 10, "fintech_patents_granted": 5,
    "software_copyrights": 5,
    "standards_total": 3,
    "open_apis_sdks": 0,
}
B3 = {
    "fintech_investment": 200, "operating_revenue": None,  # revenue reported missing
    "fintech_staff": 30, "employees": 500,
    "transaction_amount": 1_000, "app_transaction_amount": 300,  # no PC amount
    "self_service_devices": 0, "outlets": 50,
    # no payment amounts, no robo-advisory, no scenarios, no IT cost
    "personal_users": 1_000, "corporate_users": 0,
    "smart_rec_impressions": 100, "smart_rec_clicks": 10,
    "customer_services": 0, "chatbot_services": 5,  # J-A3B3-C4 undefined (0 services)
    "chatbot_questions": 100, "chatbot_questions_resolved": 120,  # J-A3B3-C5 = 1.2: flagged
    "risk_assets": 1_000, "risk_provisions": 40,
    "fraud_rejected_amount": 0, "fraud_loss_amount": 0,
    "fintech_patent_applications": 3,  # grants missing: J-A5B1-C1 missing
    "software_copyrights": 0,
    "open_apis_sdks": 5,
}
SECTORS = {"B1": "bank", "B2": "bank", "B3": "bank", "S1": "securities", "P1": "payment", "O1": "other"}
REGIONS = {"B1": "110000", "B2": "110000", "B3": "310000", "S1": "310000", "P1": "440000", "O1": "110000"}


def industry_obs() -> pd.DataFrame:
    return long_obs(
        {"B1": FULL["B1"], "B2": B2, "B3": B3, "S1": FULL["S1"], "P1": FULL["P1"], "O1": {"open_apis_sdks": 9}}
    )


@pytest.fixture(scope="module")
def h() -> pd.DataFrame:
    obs, inst = industry_obs(), institutions_table(SECTORS, REGIONS)
    j = derive_institutions(obs, inst, framework())
    return derive_industry(obs, inst, j, framework())


# code: (value, n_institutions, reason) for the banking industry
BANK_INDUSTRY = {
    # Σ fintech_investment / Σ operating_revenue over B1, B2 (B3 has no revenue): 800 / 15,000
    "H-A1B1-C1": (800 / 15_000, 2, "2 of 3 institutions used; excluded: B3 (missing input: operating_revenue)"),
    # Σ fintech_staff / Σ employees: (100 + 20 + 30) / (1,000 + 500 + 500) = 150 / 2,000
    # (the mean of the ratios would be (0.1 + 0.04 + 0.06) / 3 = 0.0667)
    "H-A1B2-C1": (0.075, 3, ""),
    # Σ pc / Σ transactions over B1, B2: (500 + 100) / (2,000 + 1,000)
    "H-A2B1-C1": (0.2, 2, "2 of 3 institutions used; excluded: B3 (missing input: pc_transaction_amount)"),
    # Σ app / Σ transactions: (1,200 + 500 + 300) / (2,000 + 1,000 + 1,000)
    "H-A2B1-C2": (0.5, 3, ""),
    # Σ devices / Σ outlets: (300 + 50 + 0) / (100 + 50 + 50) = 350 / 200
    "H-A2B1-C3": (1.75, 3, ""),
    # Σ bar-code / Σ payments over B1, B2: (1,000 + 200) / (4,000 + 1,000)
    "H-A2B1-C4": (0.24, 2, "2 of 3 institutions used; excluded: B3 (missing inputs: barcode_payment_amount, payment_amount)"),
    # institutions with robo_advisory_txn > 0 / ALL the banks (占该行业机构总数): B1 (20) yes, B2 (0) no, B3 not
    # reporting counts as no: 1 / 3 (share_reporting_only=1 gives 1 / 2, below)
    "H-A2B2-C1": (1 / 3, 3, "share of all 3 institutions in the round; 1 reported no robo_advisory_txn (B3): "
                  "counted as not meeting robo_advisory_txn > 0 (share_reporting_only=1 divides by the 2 reporting)"),
    # mean of J-A3B2-C3: (40 + 20) / 2
    "H-A2B2-C2": (30, 2, "2 of 3 institutions used; excluded: B3 (J-A3B2-C3 missing)"),
    # mean of J-A3B2-C7: B1 100; B2 40 × 10,000 / (1,900 + 100) = 200; (100 + 200) / 2
    "H-A2B2-C3": (150, 2, "2 of 3 institutions used; excluded: B3 (J-A3B2-C7 missing)"),
    # mean of J-A3B3-C1: (50/1,000 + 30/1,000 + 10/100) / 3 = (0.05 + 0.03 + 0.1) / 3
    "H-A2B3-C1": (0.06, 3, ""),
    # mean of J-A3B3-C4: (0.6 + 0.2) / 2; B3 has 0 services (undefined)
    "H-A2B3-C2": (0.4, 2, "2 of 3 institutions used; excluded: B3 (J-A3B3-C4 undefined)"),
    # mean of J-A3B3-C5: (400/500 + 450/500) / 2 = (0.8 + 0.9) / 2; B3's 120/100 is flagged, left out
    "H-A2B3-C3": (0.85, 2, "2 of 3 institutions used; excluded: B3 (J-A3B3-C5 flagged)"),
    # mean of J-A3B3-C8: (2,000/1,000 + 950/1,900) / 2 = (2 + 0.5) / 2
    "H-A2B3-C4": (1.25, 2, "2 of 3 institutions used; excluded: B3 (J-A3B3-C8 missing)"),
    # mean of J-A4B2-C1: (150/5,000 + 100/2,000 + 40/1,000) / 3 = (0.03 + 0.05 + 0.04) / 3
    "H-A3B1-C1": (0.04, 3, ""),
    # Σ rejected / Σ (rejected + loss): (90 + 45 + 0) / (100 + 50 + 0); B3 (0/0 on its own) counts
    "H-A3B1-C2": (0.9, 3, ""),
    # Σ J-A5B1-C1: (30 + 12) + (10 + 5); B3's grants are missing
    "H-A4B1-C1": (57, 2, "2 of 3 institutions used; excluded: B3 (J-A5B1-C1 missing)"),
    # Σ J-A5B1-C2: 15 + 5 + 0
    "H-A4B1-C2": (20, 3, ""),
    # Σ standards_total: 10 + 3; B3 does not report it
    "H-A4B2-C1": (13, 2, "2 of 3 institutions used; excluded: B3 (missing input: standards_total)"),
    # institutions with open_apis_sdks > 0: B1 (120), B3 (5) of 3
    "H-A4B2-C2": (2 / 3, 3, ""),
}


def test_bank_industry_covers_all_19():
    assert sorted(BANK_INDUSTRY) == sorted(i.code for i in framework().indicators(block="H"))


@pytest.mark.parametrize("code", sorted(BANK_INDUSTRY))
def test_every_h_indicator_for_the_banking_industry(h, code):
    value, n, reason = BANK_INDUSTRY[code]
    row = value_of(h, "bank", code)
    assert row["status"] == OK, row["reason"]
    assert row["value"] == pytest.approx(value, rel=1e-12)
    assert row["n_institutions"] == n
    assert row["reason"] == reason


def test_industries_present_and_columns(h):
    assert list(h.columns) == [
        "entity_id", "period", "code", "value", "status", "reason", "n_institutions", "inputs", "formula",
        "framework_version",
    ]
    # the 'other' institution belongs to no industry; no insurer in the sample: no insurance rows
    assert sorted(h["entity_id"].unique()) == ["bank", "payment", "securities"]
    assert len(h) == 3 * 19


def test_rollup_provenance(h):
    row = value_of(h, "bank", "H-A1B1-C1")
    assert row["formula"] == "ratio_of_sums: Σ(fintech_investment) / Σ(operating_revenue) by sector"
    assert json.loads(row["inputs"]) == {
        "method": "ratio_of_sums", "n_institutions": 2, "n_excluded": 1,
        "sum_numerator": 800.0, "sum_denominator": 15_000.0,
    }
    assert row["framework_version"] == "jrt0201-2020@2020"


def test_sector_restricted_indicator_is_not_applicable(h):
    # H-A2B1-C4 (bar-code payments) is for the bank and payment industries
    row = value_of(h, "securities", "H-A2B1-C4")
    assert row["status"] == NOT_APPLICABLE and math.isnan(row["value"]) and row["n_institutions"] == 0
    assert "bank, payment industries only" in row["reason"]
    # payment: P1 alone, 1,000 / 4,000
    assert value_of(h, "payment", "H-A2B1-C4")["value"] == pytest.approx(0.25)


def test_input_asked_of_other_sectors_makes_it_not_applicable(h):
    # robo_advisory_txn is asked of banks, securities firms and insurers: H-A2B2-C1 for payment is n/a
    row = value_of(h, "payment", "H-A2B2-C1")
    assert row["status"] == NOT_APPLICABLE
    assert "robo_advisory_txn" in row["reason"] and "bank, securities, insurance" in row["reason"]
    # the securities firm S1 reports 20 robo-advisory transactions: 1 / 1
    assert value_of(h, "securities", "H-A2B2-C1")["value"] == 1


def test_single_institution_industries(h):
    # securities = S1 alone: its own ratios
    assert value_of(h, "securities", "H-A1B1-C1")["value"] == pytest.approx(0.05)  # 500 / 10,000
    assert value_of(h, "securities", "H-A3B1-C1")["value"] == pytest.approx(0.03)  # 150 / 5,000
    assert value_of(h, "payment", "H-A4B1-C1")["value"] == 42  # 30 + 12


def test_no_institution_with_inputs_gives_missing():
    obs = long_obs({"B1": {"employees": 10}, "B2": {"fintech_investment": 3}})
    inst = institutions_table({"B1": "bank", "B2": "bank"})
    h = derive_industry(obs, inst, None, framework())
    row = value_of(h, "bank", "H-A1B1-C1")
    assert row["status"] == MISSING and math.isnan(row["value"]) and row["n_institutions"] == 0
    assert row["reason"] == (
        "no institution reports the inputs (0 of 2 institutions used; excluded: "
        "B1 (missing inputs: fintech_investment, operating_revenue), B2 (missing input: operating_revenue))"
    )
    # missing values are never summed as zeros: no standards reported → missing, not 0
    assert value_of(h, "bank", "H-A4B2-C1")["status"] == MISSING


def test_zero_denominator_sum_is_undefined():
    obs = long_obs({"B1": {"self_service_devices": 5, "outlets": 0}, "B2": {"self_service_devices": 0, "outlets": 0}})
    h = derive_industry(obs, institutions_table({"B1": "bank", "B2": "bank"}), None, framework())
    row = value_of(h, "bank", "H-A2B1-C3")
    assert row["status"] == UNDEFINED and math.isnan(row["value"])
    assert row["reason"] == "division by zero: Σ(outlets) = 0"
    assert row["n_institutions"] == 2


def test_flagged_industry_value():
    # part > whole in the industry total: 300 PC amount of 200 in all
    obs = long_obs({"B1": {"pc_transaction_amount": 300, "transaction_amount": 200}})
    h = derive_industry(obs, institutions_table({"B1": "bank"}), None, framework())
    row = value_of(h, "bank", "H-A2B1-C1")
    assert row["status"] == FLAGGED and row["value"] == pytest.approx(1.5)
    assert row["reason"] == "value 1.5 outside the declared range [0, 1]"


def test_j_values_are_computed_when_not_given(h):
    obs, inst = industry_obs(), institutions_table(SECTORS, REGIONS)
    h2 = derive_industry(obs, inst, None, framework())
    pd.testing.assert_frame_equal(h, h2)


def test_periods_roll_up_separately():
    obs = pd.concat(
        [long_obs({"B1": {"fintech_staff": 10, "employees": 100}}, period=2020),
         long_obs({"B1": {"fintech_staff": 30, "employees": 100}, "B2": {"fintech_staff": 10, "employees": 100}},
                  period=2021)],
        ignore_index=True,
    )
    h = derive_industry(obs, institutions_table({"B1": "bank", "B2": "bank"}), None, framework())
    assert value_of(h, "bank", "H-A1B2-C1", 2020)["value"] == pytest.approx(0.1)  # 10 / 100
    assert value_of(h, "bank", "H-A1B2-C1", 2021)["value"] == pytest.approx(0.2)  # (30 + 10) / 200
    assert value_of(h, "bank", "H-A1B2-C1", 2021)["n_institutions"] == 2


def test_many_exclusions_are_summarised():
    data = {f"B{i}": {"fintech_staff": 1} for i in range(8)}
    data["B0"]["employees"] = 10
    h = derive_industry(long_obs(data), institutions_table(dict.fromkeys(data, "bank")), None, framework())
    reason = value_of(h, "bank", "H-A1B2-C1")["reason"]
    assert reason.startswith("1 of 8 institutions used; excluded: B1 (missing input: employees), ")
    assert reason.endswith("B5 (missing input: employees) and 2 more")


def test_bad_parameter_name_in_rollup():
    with pytest.raises(SpecError, match="unknown parameter"):
        derive_industry(industry_obs(), institutions_table(SECTORS), None, framework(), {"nope": 1})


# --------------------------------------------------------------------------------------------------
# Q: region formulas
# --------------------------------------------------------------------------------------------------
BEIJING = {
    "q_licensed_institutions": 900,
    "q_payment_amount": 10_000, "q_internet_payment_amount": 2_000, "q_mobile_payment_amount": 6_000,
    "q_barcode_payment_amount": 3_000,
    "q_loan_amount": 5_000, "q_online_loan_amount": 1_000,
    "q_fund_sales": 800, "q_internet_fund_sales": 200,
    "q_property_premium": 400, "q_property_online_tele_premium": 100,
    "q_life_premium": 1_000, "q_life_online_tele_premium": 50,
    "q_consumer_finance_amount": 2_000, "q_online_consumer_finance_amount": 700,
    "q_fintech_key_enterprises": 120,
    "q_fintech_key_financing": 35_000,
    "q_fintech_key_listed_market_cap": 900_000,
}
Q_EXPECTED = {
    "Q-A1B1-C1": 900,  # q_licensed_institutions
    "Q-A1B1-C2": 0.2,  # 2,000 / 10,000
    "Q-A1B1-C3": 0.6,  # 6,000 / 10,000
    "Q-A1B1-C4": 0.3,  # 3,000 / 10,000
    "Q-A1B1-C5": 0.2,  # 1,000 / 5,000
    "Q-A1B1-C6": 0.25,  # 200 / 800
    "Q-A1B1-C7": 0.25,  # 100 / 400
    "Q-A1B1-C8": 0.05,  # 50 / 1,000
    "Q-A1B1-C9": 0.35,  # 700 / 2,000
    "Q-A1B2-C1": 120,  # q_fintech_key_enterprises
    "Q-A1B2-C2": 35_000,  # q_fintech_key_financing
    "Q-A1B2-C3": 900_000,  # q_fintech_key_listed_market_cap
}


@pytest.fixture(scope="module")
def q() -> pd.DataFrame:
    shanghai = dict(BEIJING, q_payment_amount=0, q_licensed_institutions=None, q_life_online_tele_premium=1_500)
    del shanghai["q_fund_sales"]
    obs = pd.concat(
        [long_obs({"110000": BEIJING, "310000": shanghai}, kind="region"), long_obs({"B1": {"employees": 1}})],
        ignore_index=True,
    )
    return derive_regions(obs, framework())


def test_q_expectations_cover_the_12_known_indicators():
    assert sorted(Q_EXPECTED) == sorted(i.code for i in framework().indicators(block="Q"))


@pytest.mark.parametrize("code", sorted(Q_EXPECTED))
def test_every_q_indicator(q, code):
    row = value_of(q, "110000", code)
    assert row["status"] == OK, row["reason"]
    assert row["value"] == pytest.approx(Q_EXPECTED[code], rel=1e-12)
    assert pd.isna(row["n_institutions"])


def test_q_statuses(q):
    assert sorted(q["entity_id"].unique()) == ["110000", "310000"]  # institution rows ignored
    assert len(q) == 2 * 12  # the incomplete placeholder Q-A2B1-C1 is not derived
    row = value_of(q, "310000", "Q-A1B1-C1")
    assert row["status"] == MISSING and row["reason"] == "missing input: q_licensed_institutions"
    for code in ("Q-A1B1-C2", "Q-A1B1-C3", "Q-A1B1-C4"):
        row = value_of(q, "310000", code)
        assert row["status"] == UNDEFINED and row["reason"] == "division by zero: q_payment_amount = 0"
    assert value_of(q, "310000", "Q-A1B1-C6")["reason"] == "missing input: q_fund_sales"
    row = value_of(q, "310000", "Q-A1B1-C8")  # 1,500 / 1,000 = 1.5
    assert row["status"] == FLAGGED and row["value"] == pytest.approx(1.5)
    assert json.loads(value_of(q, "110000", "Q-A1B1-C5")["inputs"]) == {"q_loan_amount": 5000, "q_online_loan_amount": 1000}


def test_q_without_region_data_is_empty():
    q = derive_regions(long_obs({"B1": {"employees": 1}}), framework())
    assert len(q) == 0 and "n_institutions" in q.columns


# --------------------------------------------------------------------------------------------------
# roll-ups by region and count (extension indicators: none of the shipped ones use them)
# --------------------------------------------------------------------------------------------------
EXT = {
    "extends": "jrt0201-2020",
    "id": "test-rollups",
    "namespace": "t",
    "add": [
        {
            "parent": "Q-A1B1",
            "indicators": [
                {"code": f"t:Q-A1B1-C{n}", "name": {"zh": f"测试{n}", "en": f"test {n}"},
                 "definition": {"zh": "测试", "en": "test"}, "unit": "x", "type": t, "collection": ["S"],
                 "rollup": rollup, **extra}
                for n, t, rollup, extra in [
                    (91, "ratio", {"method": "mean", "of": "J-A2B1-C1", "group_by": "region"}, {}),
                    (92, "ratio", {"method": "ratio_of_sums", "numerator": "fintech_investment",
                                   "denominator": "operating_revenue", "group_by": "region"}, {}),
                    (93, "count", {"method": "count", "condition": "open_apis_sdks > 0", "group_by": "region"}, {}),
                    (94, "count", {"method": "count", "group_by": "region"}, {}),
                    (95, "score", {"method": "mean", "of": "J-A3B3-C2", "group_by": "region"}, {}),
                    (96, "ratio", {"method": "ratio_of_sums", "numerator": "barcode_payment_amount",
                                   "denominator": "payment_amount", "group_by": "region"},
                     {"sectors": ["bank", "payment"]}),
                    (97, "count", {"method": "count", "group_by": "region"}, {"sectors": ["bank"]}),
                ]
            ],
        },
        {
            "parent": "H-A4B2",
            "indicators": [
                {"code": "t:H-A4B2-C9", "name": {"zh": "开放机构数", "en": "open institutions"},
                 "definition": {"zh": "测试", "en": "test"}, "unit": "count", "type": "count", "collection": ["S"],
                 "rollup": {"method": "count", "condition": "open_apis_sdks > 0", "group_by": "sector"}},
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def ext_fw(tmp_path_factory):
    p = tmp_path_factory.mktemp("ext") / "ext.yaml"
    p.write_text(yaml.safe_dump(EXT, allow_unicode=True), encoding="utf-8")
    return load_extension(p, base=framework())


def test_region_rollups(ext_fw):
    obs, inst = industry_obs(), institutions_table(SECTORS, REGIONS)
    q = derive_regions(obs, ext_fw, institutions=inst)
    # region 110000: B1, B2, O1. J-A2B1-C1: B1 500/10,000 = 0.05, B2 300/5,000 = 0.06, O1 missing
    row = value_of(q, "110000", "t:Q-A1B1-C91")
    assert row["value"] == pytest.approx(0.055) and row["n_institutions"] == 2  # (0.05 + 0.06) / 2
    assert row["reason"] == "2 of 3 institutions used; excluded: O1 (J-A2B1-C1 missing)"
    # Σ fintech_investment / Σ operating_revenue: (500 + 300) / (10,000 + 5,000)
    assert value_of(q, "110000", "t:Q-A1B1-C92")["value"] == pytest.approx(800 / 15_000)
    # open_apis_sdks > 0: B1 (120) yes, B2 (0) no, O1 (9) yes → 2
    assert value_of(q, "110000", "t:Q-A1B1-C93")["value"] == 2
    assert value_of(q, "110000", "t:Q-A1B1-C94")["value"] == 3  # all three institutions
    # region 310000: B3 (no revenue) and S1 (500 / 10,000)
    assert value_of(q, "310000", "t:Q-A1B1-C91")["value"] == pytest.approx(0.05)
    assert value_of(q, "310000", "t:Q-A1B1-C93")["value"] == 2  # B3 (5) and S1 (120)
    # a bank-only J: S1 is left out as not applicable, not as an exclusion
    row = value_of(q, "310000", "t:Q-A1B1-C95")
    assert row["status"] == MISSING
    assert "1 institution(s) to which J-A3B3-C2 does not apply left out" in row["reason"]
    assert value_of(q, "110000", "t:Q-A1B1-C95")["value"] == 85  # B1 only (B2 reports no score)
    assert set(q["entity_id"]) == {"110000", "310000", "440000"}
    # bar-code share over the banks and payment institutions of each region
    # 110000: B1 1,000 / 4,000 and B2 200 / 1,000 → 1,200 / 5,000 (O1, sector other, is not rolled up)
    row = value_of(q, "110000", "t:Q-A1B1-C96")
    assert row["value"] == pytest.approx(0.24) and row["n_institutions"] == 2 and row["reason"] == ""
    assert value_of(q, "440000", "t:Q-A1B1-C96")["value"] == pytest.approx(0.25)  # P1: 1,000 / 4,000
    # 310000: B3 reports no payments; S1 is not a bank or payment institution
    assert value_of(q, "310000", "t:Q-A1B1-C96")["status"] == MISSING
    assert value_of(q, "110000", "t:Q-A1B1-C97")["value"] == 2  # banks B1, B2 (not O1)
    row = value_of(q, "440000", "t:Q-A1B1-C97")  # no bank in 440000
    assert row["status"] == MISSING and row["reason"] == "no institution of bank in 440000 has observations in period 2020"


def test_count_by_sector(ext_fw):
    obs, inst = industry_obs(), institutions_table(SECTORS, REGIONS)
    h = derive_industry(obs, inst, None, ext_fw)
    row = value_of(h, "bank", "t:H-A4B2-C9")  # B1 and B3 have open APIs, B2 has none
    assert row["value"] == 2 and row["n_institutions"] == 3 and row["status"] == OK
    assert list(h.loc[h["entity_id"] == "bank", "code"])[-1] == "t:H-A4B2-C9"


def test_region_rollups_need_the_institutions(ext_fw):
    with pytest.raises(DataError, match="t:Q-A1B1-C91.*pass the institutions table"):
        derive_regions(industry_obs(), ext_fw)


def test_region_rollups_skip_institutions_without_region(ext_fw):
    obs = long_obs({"B1": {"open_apis_sdks": 1}, "B2": {"open_apis_sdks": 2}, "B3": {"open_apis_sdks": 3}})
    inst = pd.DataFrame({"entity_id": ["B1", "B2", "B3"], "sector": "bank", "region_code": [110000.0, None, 110000.0]})
    q = derive_regions(obs, ext_fw, institutions=inst)
    assert set(q["entity_id"]) == {"110000"}  # 110000.0 read as the code 110000; B2 has no region
    assert value_of(q, "110000", "t:Q-A1B1-C94")["value"] == 2


def test_j_values_read_back_with_text_periods():
    obs = long_obs({"B1": FULL["B1"]})
    inst = institutions_table({"B1": "bank"})
    j = derive_institutions(obs, inst, framework())
    j_text = j.assign(period=j["period"].astype(str))  # e.g. read back from a CSV as text
    h = derive_industry(obs, inst, j_text, framework())
    assert value_of(h, "bank", "H-A2B2-C2")["value"] == 40  # mean of J-A3B2-C3 over B1 alone


def test_standardisation_is_the_sum_of_both_standard_counts():
    """H-A4B2-C1 (表23): "该行业各机构参与…国际、国家、行业标准以及团体标准制修订项目总数" — per institution the
    total of all four kinds, i.e. J-A6B2-C1 (international, national, industry) + J-A6B2-C2 (group),
    summed over the industry. The questionnaire asks that total (standards_total) and, of which, group
    standards (J-A6B2-C1 = total - group), so the roll-up is Σ standards_total: the same number as
    Σ (J-A6B2-C1 + J-A6B2-C2) wherever both are known, and an institution that gives its total without the
    split still counts (the industry figure needs only the total)."""
    obs = long_obs({
        "B1": {"standards_total": 10, "standards_group": 4},  # C1 = 6, C2 = 4
        "B2": {"standards_total": 3},  # split not given: C1, C2 missing; the total is known
        "B3": {"standards_total": 7, "standards_group": 7},  # C1 = 0, C2 = 7
        "B4": {"standards_group": 2},  # no total: C1 missing, C2 = 2, left out of the industry total
    })
    inst = institutions_table(dict.fromkeys(("B1", "B2", "B3", "B4"), "bank"))
    j = derive_institutions(obs, inst, framework())
    c1 = {b: value_of(j, b, "J-A6B2-C1")["value"] for b in ("B1", "B2", "B3", "B4")}
    c2 = {b: value_of(j, b, "J-A6B2-C2")["value"] for b in ("B1", "B2", "B3", "B4")}
    assert (c1["B1"], c2["B1"], c1["B3"], c2["B3"], c2["B4"]) == (6, 4, 0, 7, 2)
    assert math.isnan(c1["B2"]) and math.isnan(c2["B2"]) and math.isnan(c1["B4"])
    row = value_of(derive_industry(obs, inst, j, framework()), "bank", "H-A4B2-C1")
    # (6 + 4) + 3 + (0 + 7) = 20; B4's group count alone is not its total
    assert (row["value"], row["n_institutions"]) == (20, 3)
    assert row["reason"] == "3 of 4 institutions used; excluded: B4 (missing input: standards_total)"
    both = [b for b in c1 if not (math.isnan(c1[b]) or math.isnan(c2[b]))]
    assert sum(c1[b] + c2[b] for b in both) + 3 == row["value"]  # Σ (C1 + C2) where known, + B2's total
