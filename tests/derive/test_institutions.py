"""J indicators: every one of the 51 formulas on hand-computed numbers, sector variants, statuses."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from fintech_eval.derive import (
    FLAGGED,
    MISSING,
    NOT_APPLICABLE,
    OK,
    UNDEFINED,
    derive_institutions,
    resolve_params,
)
from fintech_eval.errors import DataError, SpecError

from . import FULL, SECTOR, framework, full_institutions, institutions_table, long_obs, value_of

# The bank B1 (tests/derive/__init__.py) reports every variable; each J value worked out by hand.
BANK_EXPECTED: dict[str, float] = {
    "J-A1B1-C1": 1,  # fintech_strategy_plan = 1
    "J-A1B2-C1": 80,  # fintech_units_score
    "J-A1B2-C2": 1,  # flexible_org_forms
    "J-A1B3-C1": 10,  # 3 universities + 2 institutes + 4 enterprises + 1 organisation
    "J-A2B1-C1": 0.05,  # 500 / 10,000
    "J-A2B2-C1": 0.1,  # 100 / 1,000
    "J-A2B2-C2": 2.5,  # 2,500 / 1,000
    "J-A2B2-C3": 0.1,  # 9 / ((80 + 100) / 2) = 9 / 90
    "J-A3B1-C1": 0.5,  # 0.5 × 400/1,000 + 0.5 × 60/100 = 0.2 + 0.3
    "J-A3B1-C2": 0.25,  # 500 / 2,000
    "J-A3B1-C3": 0.55,  # 0.5 × 800/1,000 + 0.5 × 30/100 = 0.4 + 0.15
    "J-A3B1-C4": 0.6,  # 1,200 / 2,000
    "J-A3B1-C5": 3,  # 300 devices / 100 outlets
    "J-A3B1-C6": 0.9,  # 900 / 1,000
    "J-A3B2-C1": 0.1,  # 20 / 200
    "J-A3B2-C2": 0.05,  # 50 / 1,000
    "J-A3B2-C3": 40,  # app_financial_scenarios
    "J-A3B2-C4": 25,  # app_livelihood_scenarios
    "J-A3B2-C5": 0.5,  # bank variant: (150 + 50) / (300 + 100)
    "J-A3B2-C6": 6,  # bank variant: 0.5 × 2 h + 0.5 × 10 h
    "J-A3B2-C7": 100,  # 11 (CNY 10k) × 10,000 / (1,000 + 100) users = 110,000 / 1,100
    "J-A3B3-C1": 0.05,  # 50 / 1,000
    "J-A3B3-C2": 85,  # pc_function_score
    "J-A3B3-C3": 90,  # app_function_score
    "J-A3B3-C4": 0.6,  # 600 / 1,000
    "J-A3B3-C5": 0.8,  # 400 / 500
    "J-A3B3-C6": 70,  # pc_ux_score
    "J-A3B3-C7": 75,  # app_ux_score
    "J-A3B3-C8": 2,  # 2,000 reached / 1,000 personal users
    "J-A4B1-C1": 88,  # pc_security_score
    "J-A4B1-C2": 92,  # app_security_score
    "J-A4B2-C1": 0.03,  # 150 / 5,000
    "J-A4B2-C2": 0.9,  # 90 / (90 + 10)
    "J-A4B3-C1": 4,  # dc_maturity_level
    "J-A4B3-C2": 5,  # cloud_dr_level
    "J-A4B3-C3": 6,  # dr_level
    "J-A5B1-C1": 42,  # 30 applications + 12 granted
    "J-A5B1-C2": 15,  # software_copyrights
    "J-A5B2-C1": 0.25,  # 200 / 800
    "J-A6B1-C1": 5,  # bigdata_projects
    "J-A6B1-C2": 6,  # cloud_projects
    "J-A6B1-C3": 0.25,  # 50 / 200
    "J-A6B1-C4": 2,  # blockchain_projects
    "J-A6B1-C5": 7,  # ai_projects
    "J-A6B1-C6": 3,  # infosec_projects
    "J-A6B1-C7": 1,  # iot_5g_projects
    "J-A6B2-C1": 6,  # 10 standards in all − 4 group standards
    "J-A6B2-C2": 4,  # standards_group
    "J-A6B2-C3": 120,  # open_apis_sdks
    "J-A6B2-C4": 50_000,  # open_api_daily_calls
    "J-A6B2-C5": 8,  # external_it_projects
}

BANK_ONLY_CODES = [
    "J-A3B3-C2", "J-A3B3-C3", "J-A3B3-C6", "J-A3B3-C7", "J-A4B1-C1", "J-A4B1-C2",
]


@pytest.fixture(scope="module")
def j() -> pd.DataFrame:
    obs, inst = full_institutions()
    return derive_institutions(obs, inst, framework(), with_inputs=True)


def test_helper_reports_exactly_the_variables_of_each_sector():
    fw = framework()
    for e, vals in FULL.items():
        asked = {
            v.name for v in fw.variables
            if v.entity == "institution" and (not v.sectors or SECTOR[e] in v.sectors)
        }
        assert set(vals) == asked, e


def test_the_bank_expectations_cover_all_51_indicators():
    codes = [i.code for i in framework().indicators(block="J")]
    assert len(codes) == 51
    assert sorted(BANK_EXPECTED) == sorted(codes)


@pytest.mark.parametrize("code", sorted(BANK_EXPECTED))
def test_every_j_indicator_for_the_bank(j, code):
    row = value_of(j, "B1", code)
    assert row["status"] == OK, row["reason"]
    assert row["value"] == pytest.approx(BANK_EXPECTED[code], rel=1e-12)
    assert row["reason"] == ""


def test_output_shape_and_provenance(j):
    assert list(j.columns) == [
        "entity_id", "period", "code", "value", "status", "reason", "inputs", "formula", "framework_version"
    ]
    assert len(j) == 4 * 51  # every institution × every J indicator, none dropped
    assert set(j["framework_version"]) == {"jrt0201-2020@2020"}
    row = value_of(j, "B1", "J-A2B1-C1")
    assert row["formula"] == "fintech_investment / operating_revenue"
    assert json.loads(row["inputs"]) == {"fintech_investment": 500, "operating_revenue": 10_000}
    weighted = json.loads(value_of(j, "B1", "J-A3B1-C1")["inputs"])
    assert weighted["w_users_personal"] == 0.5 and weighted["corporate_pc_users"] == 60
    # rows in entity, period, framework order
    assert list(j["entity_id"].drop_duplicates()) == ["B1", "I1", "P1", "S1"]
    assert list(j.loc[j["entity_id"] == "B1", "code"]) == [i.code for i in framework().indicators(block="J")]


def test_inputs_are_left_empty_by_default():
    obs, inst = full_institutions()
    j = derive_institutions(obs, inst, framework())
    assert j["inputs"].isna().all()
    assert len(j) == 4 * 51


# --------------------------------------------------------------------------------------------------
# sector variants and applicability
# --------------------------------------------------------------------------------------------------
def test_j_a3b2_c5_variants(j):
    # bank: (150 + 50) / (300 + 100) = 0.5
    bank = value_of(j, "B1", "J-A3B2-C5")
    assert bank["value"] == pytest.approx(0.5)
    assert bank["formula"].startswith("(personal_loans_auto_approved")
    # insurer: 150 / 200 claims = 0.75
    ins = value_of(j, "I1", "J-A3B2-C5")
    assert ins["value"] == pytest.approx(0.75) and ins["status"] == OK
    assert ins["formula"] == "claims_auto_approved / claims"
    # securities and payment: no definition
    for e, sector in (("S1", "securities"), ("P1", "payment")):
        row = value_of(j, e, "J-A3B2-C5")
        assert row["status"] == NOT_APPLICABLE and math.isnan(row["value"])
        assert "bank, insurance only" in row["reason"] and sector in row["reason"]
        assert pd.isna(row["formula"])


def test_j_a3b2_c6_three_variants_default_weights(j):
    # bank: 0.5 × 2 h + 0.5 × 10 h = 6 h
    assert value_of(j, "B1", "J-A3B2-C6")["value"] == pytest.approx(6)
    # insurer: claim_approval_hours = 48 h
    assert value_of(j, "I1", "J-A3B2-C6")["value"] == pytest.approx(48)
    # securities: 50,000 ms / 1,000 orders = 50 ms
    s = value_of(j, "S1", "J-A3B2-C6")
    assert s["value"] == pytest.approx(50) and s["formula"] == "core_order_latency_total_ms / core_channel_orders"
    p = value_of(j, "P1", "J-A3B2-C6")
    assert p["status"] == NOT_APPLICABLE and "bank, insurance, securities only" in p["reason"]


def test_j_a3b2_c6_with_overridden_weights():
    obs, inst = full_institutions()
    j = derive_institutions(obs, inst, framework(), {"w_loans_personal": 0.8, "w_loans_small_micro": 0.2})
    # bank: 0.8 × 2 h + 0.2 × 10 h = 1.6 + 2 = 3.6 h; insurer and securities do not read the weights
    assert value_of(j, "B1", "J-A3B2-C6")["value"] == pytest.approx(3.6)
    assert value_of(j, "I1", "J-A3B2-C6")["value"] == pytest.approx(48)
    assert value_of(j, "S1", "J-A3B2-C6")["value"] == pytest.approx(50)


def test_j_a3b2_c5_does_not_read_parameters_and_c1_weights_override():
    obs, inst = full_institutions()
    j = derive_institutions(obs, inst, framework(), {"w_users_personal": 1.0, "w_users_corporate": 0.0})
    # J-A3B1-C1: 1 × 400/1,000 + 0 × 60/100 = 0.4; J-A3B1-C3: 1 × 800/1,000 + 0 = 0.8
    assert value_of(j, "B1", "J-A3B1-C1")["value"] == pytest.approx(0.4)
    assert value_of(j, "B1", "J-A3B1-C3")["value"] == pytest.approx(0.8)
    assert value_of(j, "I1", "J-A3B2-C5")["value"] == pytest.approx(0.75)


@pytest.mark.parametrize("entity", ["S1", "I1", "P1"])
def test_bank_only_indicators_are_not_applicable_elsewhere(j, entity):
    for code in BANK_ONLY_CODES:
        row = value_of(j, entity, code)
        assert row["status"] == NOT_APPLICABLE
        assert math.isnan(row["value"])
        assert row["reason"] == f"{code} applies to bank only; this institution is {SECTOR[entity]}"


def test_robo_advisory_not_applicable_to_payment(j):
    for code in ("J-A3B2-C1", "J-A3B2-C2"):
        assert value_of(j, "P1", code)["status"] == NOT_APPLICABLE
        assert value_of(j, "I1", code)["status"] == OK  # 20 / 200 and 50 / 1,000 as for the bank


def test_other_sector_gets_the_unrestricted_indicators_only():
    obs = long_obs({"O1": {"fintech_investment": 10, "operating_revenue": 200, "risk_assets": 100, "risk_provisions": 1}})
    j = derive_institutions(obs, institutions_table({"O1": "other"}), framework())
    assert value_of(j, "O1", "J-A2B1-C1")["value"] == pytest.approx(0.05)  # 10 / 200
    assert value_of(j, "O1", "J-A4B2-C1")["status"] == NOT_APPLICABLE  # bank, securities, insurance, payment
    assert (j["status"] == NOT_APPLICABLE).sum() == 6 + 2 + 2 + 1  # bank-only, robo, C5/C6, risk ratio


def test_payment_institution_counts(j):
    statuses = j.loc[j["entity_id"] == "P1", "status"].value_counts()
    # bank-only 6, robo-advisory 2, J-A3B2-C5, J-A3B2-C6: 10 not applicable; the other 41 ok
    assert statuses[NOT_APPLICABLE] == 10 and statuses[OK] == 41


# --------------------------------------------------------------------------------------------------
# missing, undefined, flagged
# --------------------------------------------------------------------------------------------------
def test_missing_input_is_missing_never_zero():
    vals = dict(FULL["B1"])
    del vals["industry_orgs_joined"]  # not reported at all
    vals["operating_revenue"] = None  # reported as missing (NaN)
    obs = long_obs({"B1": vals})
    j = derive_institutions(obs, institutions_table({"B1": "bank"}), framework())
    coop = value_of(j, "B1", "J-A1B3-C1")
    # a sum with one missing term is missing (reading it as 0 would give 3 + 2 + 4 = 9)
    assert coop["status"] == MISSING and math.isnan(coop["value"])
    assert coop["reason"] == "missing input: industry_orgs_joined"
    inv = value_of(j, "B1", "J-A2B1-C1")
    assert inv["status"] == MISSING and math.isnan(inv["value"])
    assert inv["reason"] == "missing input: operating_revenue"
    assert value_of(j, "B1", "J-A2B2-C1")["status"] == OK  # unaffected


def test_several_missing_inputs_are_all_named():
    vals = {k: v for k, v in FULL["B1"].items() if k not in ("personal_users", "corporate_pc_users")}
    j = derive_institutions(long_obs({"B1": vals}), institutions_table({"B1": "bank"}), framework())
    assert value_of(j, "B1", "J-A3B1-C1")["reason"] == "missing inputs: corporate_pc_users, personal_users"
    assert value_of(j, "B1", "J-A3B1-C3")["reason"] == "missing input: personal_users"
    # J-A3B2-C7 and J-A3B3-C8 read personal_users too
    assert value_of(j, "B1", "J-A3B2-C7")["status"] == MISSING
    assert value_of(j, "B1", "J-A3B3-C8")["status"] == MISSING


def test_missing_differs_by_institution_in_one_pass():
    a = dict(FULL["B1"])
    b = dict(FULL["B1"], employees=None)
    c = dict(FULL["B1"], fintech_staff=None, employees=None)
    j = derive_institutions(
        long_obs({"A": a, "B": b, "C": c}), institutions_table({"A": "bank", "B": "bank", "C": "bank"}), framework()
    )
    assert value_of(j, "A", "J-A2B2-C1")["value"] == pytest.approx(0.1)
    assert value_of(j, "B", "J-A2B2-C1")["reason"] == "missing input: employees"
    assert value_of(j, "C", "J-A2B2-C1")["reason"] == "missing inputs: employees, fintech_staff"


def test_division_by_zero_is_undefined_with_the_denominator_named():
    vals = dict(
        FULL["B1"], outlets=0, personal_loans=0, small_micro_loans=0, fraud_rejected_amount=0, fraud_loss_amount=0,
        fintech_staff=0, fintech_staff_prev_end=0, fintech_staff_leavers=0,
    )
    j = derive_institutions(long_obs({"B1": vals}), institutions_table({"B1": "bank"}), framework())
    r = value_of(j, "B1", "J-A3B1-C5")
    assert r["status"] == UNDEFINED and math.isnan(r["value"]) and r["reason"] == "division by zero: outlets = 0"
    assert value_of(j, "B1", "J-A3B2-C5")["reason"] == "division by zero: personal_loans + small_micro_loans = 0"
    assert value_of(j, "B1", "J-A4B2-C2")["reason"] == "division by zero: fraud_rejected_amount + fraud_loss_amount = 0"
    assert value_of(j, "B1", "J-A2B2-C3")["reason"] == "division by zero: (fintech_staff_prev_end + fintech_staff) / 2 = 0"
    # a zero numerator is a value, not undefined: 0 staff / 1,000 employees
    assert value_of(j, "B1", "J-A2B2-C1")["value"] == 0 and value_of(j, "B1", "J-A2B2-C1")["status"] == OK


def test_missing_wins_over_zero_denominator():
    vals = dict(FULL["B1"], outlets=0)
    del vals["self_service_devices"]
    j = derive_institutions(long_obs({"B1": vals}), institutions_table({"B1": "bank"}), framework())
    assert value_of(j, "B1", "J-A3B1-C5")["status"] == MISSING


def test_out_of_range_values_are_flagged_and_kept():
    # part > whole: 1,200 PC users of 1,000 personal users; 6 DR level is fine but 7 is not
    vals = dict(FULL["B1"], personal_pc_users=1_200, dr_level=7, pc_transaction_amount=3_000)
    j = derive_institutions(long_obs({"B1": vals}), institutions_table({"B1": "bank"}), framework())
    r = value_of(j, "B1", "J-A3B1-C1")  # 0.5 × 1.2 + 0.5 × 0.6 = 0.9: inside [0, 1], ok
    assert r["status"] == OK and r["value"] == pytest.approx(0.9)
    r = value_of(j, "B1", "J-A3B1-C2")  # 3,000 / 2,000 = 1.5 > 1
    assert r["status"] == FLAGGED and r["value"] == pytest.approx(1.5)
    assert r["reason"] == "value 1.5 outside the declared range [0, 1]"
    r = value_of(j, "B1", "J-A4B3-C3")
    assert r["status"] == FLAGGED and r["value"] == 7 and "[1, 6]" in r["reason"]


def test_range_tolerance_does_not_flag_rounding():
    vals = dict(FULL["B1"], transaction_amount=0.3, pc_transaction_amount=0.1 + 0.2)  # 0.30000000000000004 / 0.3
    j = derive_institutions(long_obs({"B1": vals}), institutions_table({"B1": "bank"}), framework())
    assert value_of(j, "B1", "J-A3B1-C2")["status"] == OK


def test_negative_count_gives_flagged_value():
    vals = dict(FULL["B1"], ai_projects=-1)
    j = derive_institutions(long_obs({"B1": vals}), institutions_table({"B1": "bank"}), framework())
    r = value_of(j, "B1", "J-A6B1-C5")
    assert r["status"] == FLAGGED and r["value"] == -1 and r["reason"] == "value -1 outside the declared range [0, inf)"


# --------------------------------------------------------------------------------------------------
# several periods, data checks
# --------------------------------------------------------------------------------------------------
def test_several_periods_are_independent():
    obs = pd.concat(
        [long_obs({"B1": FULL["B1"]}, period=2020), long_obs({"B1": dict(FULL["B1"], fintech_investment=1_000)}, period=2021)],
        ignore_index=True,
    )
    j = derive_institutions(obs, institutions_table({"B1": "bank"}), framework())
    assert value_of(j, "B1", "J-A2B1-C1", 2020)["value"] == pytest.approx(0.05)  # 500 / 10,000
    assert value_of(j, "B1", "J-A2B1-C1", 2021)["value"] == pytest.approx(0.1)  # 1,000 / 10,000
    assert len(j) == 2 * 51


def test_region_rows_are_ignored():
    obs, inst = full_institutions()
    obs = pd.concat([obs, long_obs({"110000": {"q_payment_amount": 1}}, kind="region")], ignore_index=True)
    j = derive_institutions(obs, inst, framework())
    assert set(j["entity_id"]) == {"B1", "S1", "I1", "P1"}


def test_duplicate_observations_are_rejected():
    obs = long_obs({"B1": {"employees": 10}})
    obs = pd.concat([obs, obs], ignore_index=True)
    with pytest.raises(DataError, match=r"1 duplicate observation\(s\).*B1 / 2020 / employees"):
        derive_institutions(obs, institutions_table({"B1": "bank"}), framework())


def test_unknown_institution_and_sector_are_rejected():
    obs = long_obs({"B1": {"employees": 10}, "X9": {"employees": 5}})
    with pytest.raises(DataError, match="missing from the institutions table: X9"):
        derive_institutions(obs, institutions_table({"B1": "bank"}), framework())
    with pytest.raises(DataError, match="unknown sector.*fund"):
        derive_institutions(obs, institutions_table({"B1": "bank", "X9": "fund"}), framework())


def test_text_in_values_is_rejected():
    obs = long_obs({"B1": {"employees": 10}})
    obs["value"] = obs["value"].astype(object)
    obs.loc[0, "value"] = "ten"
    with pytest.raises(DataError, match="value must be a number.*'ten'"):
        derive_institutions(obs, institutions_table({"B1": "bank"}), framework())


def test_missing_columns_are_rejected():
    with pytest.raises(DataError, match="lack column.*value"):
        derive_institutions(pd.DataFrame({"entity_id": [], "period": [], "variable": []}), institutions_table({}), framework())


def test_empty_observations_give_an_empty_frame():
    obs = long_obs({})
    j = derive_institutions(obs, institutions_table({}), framework())
    assert len(j) == 0 and "status" in j.columns


def test_framework_by_id_and_string_periods():
    obs = long_obs({"B1": {"fintech_investment": 1, "operating_revenue": 4}}, period="2020Q4")
    j = derive_institutions(obs, institutions_table({"B1": "bank"}), "jrt0201-2020")
    assert value_of(j, "B1", "J-A2B1-C1", "2020Q4")["value"] == 0.25


# --------------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------------
def test_parameter_defaults_and_override():
    fw = framework()
    assert resolve_params(fw) == {
        "w_users_personal": 0.5, "w_users_corporate": 0.5, "w_loans_personal": 0.5, "w_loans_small_micro": 0.5,
        "share_reporting_only": 0.0,
    }
    p = resolve_params(fw, {"w_loans_personal": 1, "w_loans_small_micro": 0})
    assert (p["w_loans_personal"], p["w_loans_small_micro"], p["w_users_personal"]) == (1.0, 0.0, 0.5)


def test_unknown_parameters_are_named():
    obs, inst = full_institutions()
    with pytest.raises(SpecError) as exc:
        derive_institutions(obs, inst, framework(), {"w_loan_personal": 0.7, "bogus": 1})
    msg = str(exc.value)
    assert "unknown parameter(s) bogus, w_loan_personal" in msg
    assert "w_loans_personal" in msg  # the declared names are listed
    assert exc.value.problems[0].rule == "params.unknown"


@pytest.mark.parametrize(
    ("params", "rule"),
    [({"w_users_personal": 1.5}, "params.range"), ({"w_users_personal": -0.1}, "params.range"),
     ({"w_users_personal": "0.5"}, "params.type"), ({"w_users_personal": float("nan")}, "params.range"),
     ({"w_users_personal": True}, "params.type")],
)
def test_bad_parameter_values(params, rule):
    with pytest.raises(SpecError) as exc:
        resolve_params(framework(), params)
    assert exc.value.problems[0].rule == rule
    assert "w_users_personal" in str(exc.value)


def test_numpy_parameter_values_are_accepted():
    p = resolve_params(framework(), {"w_users_personal": np.float64(0.25), "w_users_corporate": np.float32(0.75)})
    assert (p["w_users_personal"], p["w_users_corporate"]) == (0.25, 0.75)


# the weight pairs of J-A3B1-C1/C3 and J-A3B2-C6 are declared (constraints: in the YAML) to sum to 1
def test_overriding_one_weight_of_a_pair_alone_is_an_error():
    with pytest.raises(SpecError) as exc:
        resolve_params(framework(), {"w_users_personal": 0.7})
    (pr,) = exc.value.problems
    assert pr.rule == "params.sum" and pr.where["parameter"] == "w_users_personal, w_users_corporate"
    assert pr.message == (
        "parameters w_users_personal + w_users_corporate must sum to 1 (constraint user_weights); "
        "only w_users_personal was given: give w_users_corporate too (e.g. w_users_corporate = 0.3), "
        "the others of a group are never adjusted silently"
    )


def test_one_weight_alone_is_an_error_even_when_the_default_would_fit():
    with pytest.raises(SpecError, match=r"only w_loans_small_micro was given: give w_loans_personal too"):
        resolve_params(framework(), {"w_loans_small_micro": 0.5})


def test_a_pair_that_does_not_sum_to_1_is_an_error():
    obs, inst = full_institutions()
    with pytest.raises(SpecError) as exc:
        derive_institutions(obs, inst, framework(), {"w_users_personal": 0.7, "w_users_corporate": 0.2})
    (pr,) = exc.value.problems
    assert pr.rule == "params.sum" and pr.where["step"] == "derive"
    assert pr.message == (
        "parameters w_users_personal + w_users_corporate must sum to 1 (constraint user_weights), "
        "got 0.7 + 0.2 = 0.9"
    )


def test_a_pair_that_sums_to_1_up_to_rounding_is_accepted():
    p = resolve_params(framework(), {"w_users_personal": 0.1 + 0.2, "w_users_corporate": 0.7})
    assert p["w_users_personal"] + p["w_users_corporate"] == pytest.approx(1)


def test_range_errors_come_before_the_sum():
    with pytest.raises(SpecError) as exc:
        resolve_params(framework(), {"w_users_personal": 1.5, "w_users_corporate": -0.5})
    assert exc.value.problems[0].rule == "params.range"
