"""Builders of small, hand-checkable inputs for the derivation tests.

``full_institutions()`` is one bank (B1), one securities firm (S1), one insurer (I1) and one payment
institution (P1), each reporting every raw variable the framework asks of its sector, in round
numbers so that every J value can be worked out by hand (the tests write the arithmetic out).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

import fintech_eval as fe
from fintech_eval.catalog.models import Framework

FW_ID = "jrt0201-2020"
PERIOD = 2020


@cache
def framework() -> Framework:
    return fe.load_framework(FW_ID)


# variables asked of every sector (values of the bank B1)
GENERIC: dict[str, float] = {
    "fintech_strategy_plan": 1,
    "fintech_units_score": 80,
    "flexible_org_forms": 1,
    "coop_universities": 3,
    "coop_research_institutes": 2,
    "coop_enterprises": 4,
    "industry_orgs_joined": 1,
    "fintech_investment": 500,
    "operating_revenue": 10_000,
    "employees": 1_000,
    "fintech_staff": 100,
    "fintech_training_person_times": 2_500,
    "fintech_staff_prev_end": 80,
    "fintech_staff_leavers": 9,
    "personal_users": 1_000,
    "corporate_users": 100,
    "personal_pc_users": 400,
    "corporate_pc_users": 60,
    "personal_app_users": 800,
    "corporate_app_users": 30,
    "transaction_amount": 2_000,
    "pc_transaction_amount": 500,
    "app_transaction_amount": 1_200,
    "self_service_devices": 300,
    "outlets": 100,
    "total_transactions": 1_000,
    "off_counter_transactions": 900,
    "app_financial_scenarios": 40,
    "app_livelihood_scenarios": 25,
    "it_om_cost": 11,
    "smart_rec_impressions": 1_000,
    "smart_rec_clicks": 50,
    "customer_services": 1_000,
    "chatbot_services": 600,
    "chatbot_questions": 500,
    "chatbot_questions_resolved": 400,
    "consumer_education_reach": 2_000,
    "fraud_rejected_amount": 90,
    "fraud_loss_amount": 10,
    "dc_maturity_level": 4,
    "cloud_dr_level": 5,
    "dr_level": 6,
    "fintech_patent_applications": 30,
    "fintech_patents_granted": 12,
    "software_copyrights": 15,
    "systems_investment": 800,
    "inhouse_systems_investment": 200,
    "bigdata_projects": 5,
    "cloud_projects": 6,
    "it_applications": 200,
    "it_applications_on_cloud": 50,
    "blockchain_projects": 2,
    "ai_projects": 7,
    "infosec_projects": 3,
    "iot_5g_projects": 1,
    "standards_total": 10,
    "standards_group": 4,
    "open_apis_sdks": 120,
    "open_api_daily_calls": 50_000,
    "external_it_projects": 8,
}

BANK_ONLY = {
    "pc_function_score": 85,
    "app_function_score": 90,
    "pc_ux_score": 70,
    "app_ux_score": 75,
    "pc_security_score": 88,
    "app_security_score": 92,
    "personal_loans": 300,
    "personal_loans_auto_approved": 150,
    "small_micro_loans": 100,
    "small_micro_loans_auto_approved": 50,
    "personal_loan_approval_hours": 2,
    "small_micro_loan_approval_hours": 10,
}
WEALTH = {"wealth_mgmt_txn": 200, "robo_advisory_txn": 20, "wealth_mgmt_amount": 1_000, "robo_advisory_amount": 50}
RISK = {"risk_assets": 5_000, "risk_provisions": 150}
PAYMENTS = {"payment_amount": 4_000, "barcode_payment_amount": 1_000}

FULL: dict[str, dict[str, float]] = {
    "B1": {**GENERIC, **BANK_ONLY, **WEALTH, **RISK, **PAYMENTS},
    "S1": {**GENERIC, **WEALTH, **RISK, "core_order_latency_total_ms": 50_000, "core_channel_orders": 1_000},
    "I1": {**GENERIC, **WEALTH, **RISK, "claims": 200, "claims_auto_approved": 150, "claim_approval_hours": 48},
    "P1": {**GENERIC, **RISK, **PAYMENTS},
}
SECTOR = {"B1": "bank", "S1": "securities", "I1": "insurance", "P1": "payment"}
REGION = {"B1": "110000", "S1": "310000", "I1": "310000", "P1": "440000"}


def long_obs(data: dict[str, dict[str, float]], period=PERIOD, kind: str = "institution") -> pd.DataFrame:
    """Long observations from {entity: {variable: value}} (NaN values kept as explicit missing rows)."""
    rows = [
        (kind, e, period, v, float(x) if x is not None else np.nan)
        for e, vals in data.items()
        for v, x in vals.items()
    ]
    return pd.DataFrame(rows, columns=["entity_kind", "entity_id", "period", "variable", "value"])


def institutions_table(sectors: dict[str, str], regions: dict[str, str] | None = None) -> pd.DataFrame:
    regions = regions or {}
    return pd.DataFrame(
        {
            "entity_id": list(sectors),
            "sector": list(sectors.values()),
            "region_code": [regions.get(e) for e in sectors],
        }
    )


def full_institutions() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations, institutions) for B1, S1, I1, P1 in 2020, every variable of their sectors."""
    return long_obs(FULL), institutions_table(SECTOR, REGION)


def value_of(df: pd.DataFrame, entity: str, code: str, period=PERIOD) -> pd.Series:
    """The one row of ``df`` for (entity, period, code)."""
    rows = df[(df["entity_id"] == entity) & (df["period"] == period) & (df["code"] == code)]
    assert len(rows) == 1, f"{len(rows)} rows for {entity} / {period} / {code}"
    return rows.iloc[0]
