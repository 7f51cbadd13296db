"""Small record sets written by hand, with the values a person computes from them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

T = dt.datetime
D = Decimal

TYPES = {
    "integer": pa.int64(), "string": pa.string(), "code": pa.string(), "decimal": pa.decimal128(18, 2),
    "boolean": pa.bool_(), "timestamp": pa.timestamp("ms"),
}


def write(root: Path, spec, source: str, rows: list[dict], *, part: str = "period=2024", fmt: str = "parquet") -> Path:
    """Write ``rows`` (dicts of column → value, missing keys = empty) as one file of ``source``."""
    cols = spec.sources[source].columns
    folder = root / source / part if part else root / source
    folder.mkdir(parents=True, exist_ok=True)
    n = len(list(folder.glob(f"*.{fmt}")))
    path = folder / f"part-{n}.{fmt}"
    if fmt == "parquet":
        table = pa.table({c.name: pa.array([r.get(c.name) for r in rows], type=TYPES[c.type]) for c in cols})
        pq.write_table(table, path)
    else:
        lines = [",".join(c.name for c in cols)]
        lines += [",".join("" if r.get(c.name) is None else str(r.get(c.name)) for c in cols) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def txn(i, entity, channel, amount, ts=T(2024, 3, 1, 10), customer="personal"):
    return {"txn_id": i, "entity_id": entity, "ts": ts, "channel": channel, "customer": customer, "amount": D(amount)}


# B1: 6 transactions in 2024: counter 2 (100.00 + 300.50), pc 1 (1000.00), app 2 (2500.25 + 99.75),
# self_service 1 (50.00); total 4050.50 CNY. Plus one out-of-period (2023-12-31 23:59:59) and one with an
# unknown channel: both bad, neither counted.
B1_TXNS = [
    txn(1, "B1", "counter", "100.00"), txn(2, "B1", "counter", "300.50"), txn(3, "B1", "pc", "1000.00"),
    txn(4, "B1", "app", "2500.25"), txn(5, "B1", "app", "99.75"), txn(6, "B1", "self_service", "50.00"),
    txn(7, "B1", "app", "7777.00", ts=T(2023, 12, 31, 23, 59, 59)),
    txn(8, "B1", "teller", "5.00"),
]
# J-A3B1-C6 off-counter rate = 4 / 6; J-A3B1-C4 mobile share = (2500.25 + 99.75) / 4050.50 = 2600 / 4050.5
B1_EXPECTED = {
    "total_transactions": 6.0, "off_counter_transactions": 4.0,
    "transaction_amount": 0.40505, "pc_transaction_amount": 0.1, "app_transaction_amount": 0.26,
}


def loan(i, entity, loan_type, applied, decided, decision="approved", auto=False, disbursed=None):
    return {"loan_id": i, "entity_id": entity, "loan_type": loan_type, "applied_at": applied, "decided_at": decided,
            "decision": decision, "auto_approved": auto, "disbursed_at": disbursed}


# B1 loans decided in 2024: personal 4 (auto-approved 2, one of them rejected-by-rule? no: 1 auto and
# rejected, which is not an auto-approval), small/micro 2 (1 auto). Personal disbursed after 2 h and 6 h,
# small/micro after 30 h; the rejected ones are not disbursed.
B1_LOANS = [
    loan(1, "B1", "personal", T(2024, 5, 1, 9), T(2024, 5, 1, 9, 5), auto=True, disbursed=T(2024, 5, 1, 11)),
    loan(2, "B1", "personal", T(2024, 5, 2, 9), T(2024, 5, 2, 12), auto=True, disbursed=T(2024, 5, 2, 15)),
    loan(3, "B1", "personal", T(2024, 5, 3, 9), T(2024, 5, 3, 10), decision="rejected", auto=True),
    loan(4, "B1", "personal", T(2024, 5, 4, 9), T(2024, 5, 5, 9), decision="rejected"),
    loan(5, "B1", "small_micro", T(2024, 6, 1, 9), T(2024, 6, 1, 10), auto=True, disbursed=T(2024, 6, 2, 15)),
    loan(6, "B1", "small_micro", T(2024, 6, 3, 9), T(2024, 6, 4, 9), decision="rejected"),
    # bad: disbursed before applied (record.order); decided in 2025 (out of period)
    loan(7, "B1", "personal", T(2024, 7, 1, 9), T(2024, 7, 1, 10), disbursed=T(2024, 6, 30)),
    loan(8, "B1", "personal", T(2024, 12, 31, 9), T(2025, 1, 2, 10), disbursed=T(2025, 1, 3)),
]
# J-A3B2-C5 (bank) = (2 + 1) / (4 + 2) = 0.5; J-A3B2-C6 (bank, weights 0.5/0.5) = 0.5 * 4 + 0.5 * 30 = 17
B1_LOAN_EXPECTED = {
    "personal_loans": 4.0, "personal_loans_auto_approved": 2.0, "small_micro_loans": 2.0,
    "small_micro_loans_auto_approved": 1.0, "personal_loan_approval_hours": 4.0, "small_micro_loan_approval_hours": 30.0,
}

# I1 (an insurer) claims settled in 2024: 3, 2 auto-approved, 1 h, 2 h and 45 min → mean 77/60 * ... h
I1_CLAIMS = [
    {"claim_id": 1, "entity_id": "I1", "reported_at": T(2024, 2, 1, 8), "settled_at": T(2024, 2, 1, 9), "auto_approved": True, "paid_amount": D("800.00")},
    {"claim_id": 2, "entity_id": "I1", "reported_at": T(2024, 2, 1, 8), "settled_at": T(2024, 2, 1, 10), "auto_approved": True, "paid_amount": D("0.00")},
    {"claim_id": 3, "entity_id": "I1", "reported_at": T(2024, 2, 1, 8), "settled_at": T(2024, 2, 1, 8, 45), "auto_approved": False, "paid_amount": D("10.00")},
    # bad: negative payment (record.below_min)
    {"claim_id": 4, "entity_id": "I1", "reported_at": T(2024, 2, 1, 8), "settled_at": T(2024, 2, 1, 8, 45), "auto_approved": True, "paid_amount": D("-1.00")},
]
I1_CLAIM_EXPECTED = {"claims": 3.0, "claims_auto_approved": 2.0, "claim_approval_hours": (1 + 2 + 0.75) / 3}


def session(i, entity, handler, q, r):
    return {"session_id": i, "entity_id": entity, "started_at": T(2024, 8, 1), "handler": handler, "questions": q, "resolved": r}


# B1 service: 5 sessions, 3 by the chatbot (questions 2, 1, 4; resolved 2, 0, 3), 2 human; plus one whose
# resolved exceeds its questions (record.order) and one with no handler (record.missing)
B1_SESSIONS = [
    session(1, "B1", "chatbot", 2, 2), session(2, "B1", "chatbot", 1, 0), session(3, "B1", "chatbot", 4, 3),
    session(4, "B1", "human", 3, 3), session(5, "B1", "human", 1, 1),
    session(6, "B1", "chatbot", 1, 2), session(7, "B1", None, 1, 1),
]
# J-A3B3-C4 chatbot substitution = 3 / 5; J-A3B3-C5 = 5 / 7
B1_SESSION_EXPECTED = {"customer_services": 5.0, "chatbot_services": 3.0, "chatbot_questions": 7.0, "chatbot_questions_resolved": 5.0}

# B1 risk events: rejected attempts 12,000.00 + 8,000.00 CNY; fraud losses 500.00 CNY
B1_RISK = [
    {"event_id": 1, "entity_id": "B1", "occurred_at": T(2024, 9, 1), "kind": "rejected_attempt", "amount": D("12000.00")},
    {"event_id": 2, "entity_id": "B1", "occurred_at": T(2024, 9, 2), "kind": "rejected_attempt", "amount": D("8000.00")},
    {"event_id": 3, "entity_id": "B1", "occurred_at": T(2024, 9, 3), "kind": "fraud_loss", "amount": D("500.00")},
]
# J-A4B2-C2 anti-fraud ratio = 2 / (2 + 0.05) = 20000 / 20500
B1_RISK_EXPECTED = {"fraud_rejected_amount": 2.0, "fraud_loss_amount": 0.05}

# B1 recommendations: 4 impressions, 1 click → J-A3B3-C1 = 0.25
B1_RECS = [{"impression_id": i, "entity_id": "B1", "shown_at": T(2024, 10, 1), "channel": "app", "clicked": i == 1} for i in range(1, 5)]
B1_REC_EXPECTED = {"smart_rec_impressions": 4.0, "smart_rec_clicks": 1.0}


def staff(i, entity, hired, left=None, fintech=True):
    return {"employee_id": i, "entity_id": entity, "hired_on": hired, "left_on": left, "fintech": fintech}


# B1 staff in 2024 (a stock: no period partition): at the end of 2024 employed: 1, 3, 5, 6 (4 people, of
# whom FinTech 1 and 3); at the end of 2023 (the previous end) FinTech: 1 and 2; FinTech leavers in 2024: 2.
# Spell 4 left in 2023; spell 7 leaves before it was hired (record.order).
B1_STAFF = [
    staff(1, "B1", T(2020, 1, 1)), staff(2, "B1", T(2023, 6, 1), T(2024, 5, 1)), staff(3, "B1", T(2024, 3, 1)),
    staff(4, "B1", T(2019, 1, 1), T(2023, 12, 31, 23)), staff(5, "B1", T(2021, 1, 1), fintech=False),
    staff(6, "B1", T(2024, 12, 31, 23, 59, 59), fintech=False), staff(7, "B1", T(2022, 1, 1), T(2021, 1, 1)),
]
# J-A2B2-C1 FinTech staff share = 2 / 4; J-A2B2-C3 FinTech staff turnover = 1 / ((2 + 2) / 2)
B1_STAFF_EXPECTED = {"employees": 4.0, "fintech_staff": 2.0, "fintech_staff_prev_end": 2.0, "fintech_staff_leavers": 1.0}


def write_all(root: Path, spec, fmt: str = "parquet") -> None:
    write(root, spec, "staff", B1_STAFF, part="", fmt=fmt)
    for source, rows in (("transactions", B1_TXNS), ("loans", B1_LOANS), ("claims", I1_CLAIMS),
                         ("service_sessions", B1_SESSIONS), ("risk_events", B1_RISK), ("rec_impressions", B1_RECS)):
        write(root, spec, source, rows, fmt=fmt)


EXPECTED = {
    "B1": {**B1_EXPECTED, **B1_LOAN_EXPECTED, **B1_SESSION_EXPECTED, **B1_RISK_EXPECTED, **B1_REC_EXPECTED, **B1_STAFF_EXPECTED},
    "I1": I1_CLAIM_EXPECTED,
}
# the indicators a person computes from them (catalog formulas, default parameters)
EXPECTED_INDICATORS = {
    ("B1", "J-A3B1-C6"): 4 / 6,
    ("B1", "J-A3B1-C4"): 2600 / 4050.5,
    ("B1", "J-A3B2-C5"): 0.5,
    ("B1", "J-A3B2-C6"): 17.0,
    ("B1", "J-A3B3-C4"): 3 / 5,
    ("B1", "J-A3B3-C5"): 5 / 7,
    ("B1", "J-A3B3-C1"): 0.25,
    ("B1", "J-A4B2-C2"): 20000 / 20500,
    ("B1", "J-A2B2-C1"): 0.5,
    ("B1", "J-A2B2-C3"): 0.5,
    ("I1", "J-A3B2-C5"): 2 / 3,
    ("I1", "J-A3B2-C6"): 1.25,
}
EXPECTED_BAD = {
    "transactions": {"record.out_of_period": 1, "record.unknown_code": 1},
    "loans": {"record.order": 1, "record.out_of_period": 1},
    "claims": {"record.below_min": 1},
    "service_sessions": {"record.order": 1, "record.missing": 1},
    "staff": {"record.order": 1},
}
