"""How SYNTHETIC records of each source are drawn (one maker per source, registered by name), and how a
bad record breaks exactly one rule. Used by :mod:`fintech_eval.records.generate`.

A maker takes ``(rng, entity id, n, period start and end in epoch ms, the entity's parameters, tally)``,
returns the columns of ``n`` records (all but the key and ``entity_id``) and adds to the tally, in exact
integers, what a correct derivation must find in them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEC = pa.decimal128(18, 2)
TS = pa.timestamp("ms")


def _decimal(fen: np.ndarray) -> pa.Array:
    """Exact DECIMAL(18,2) from integer fen (the unscaled value) without any float."""
    fen = np.asarray(fen, dtype=np.int64)
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = np.where(fen < 0, -1, 0)
    return pa.Array.from_buffers(DEC, len(fen), [None, pa.py_buffer(words.tobytes())])


def entity_column(eid: str, n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([eid]))


def _codes(values: list[str], idx: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32)), pa.array(values))


def _times(rng: np.random.Generator, n: int, start_ms: int, end_ms: int) -> np.ndarray:
    return start_ms + rng.integers(0, (end_ms - start_ms) // 1000, size=n) * 1000


def _fen(rng: np.random.Generator, n: int, median_cny: float, sigma: float = 1.0) -> np.ndarray:
    return np.maximum(1, np.round(np.exp(rng.normal(np.log(median_cny * 100), sigma, size=n)))).astype(np.int64)


class Tally:
    """Exact per-entity sums and counts of what was written (Python ints: no overflow, no rounding)."""

    def __init__(self):
        self.sums: dict[tuple[str, str], int] = {}

    def add(self, eid: str, key: str, value: Any) -> None:
        self.sums[(eid, key)] = self.sums.get((eid, key), 0) + int(value)

    def get(self, eid: str, key: str) -> int:
        return self.sums.get((eid, key), 0)


# --- one maker per source: (rng, entity id, n, period in ms, entity parameters, tally) → columns ---------

Maker = Callable[[np.random.Generator, str, int, int, int, dict[str, float], Tally], dict[str, pa.Array]]
MAKERS: dict[str, Maker] = {}
PARAMS: dict[str, Callable[[np.random.Generator], dict[str, float]]] = {}


def maker(source: str, params: Callable[[np.random.Generator], dict[str, float]]):
    def deco(fn: Maker) -> Maker:
        MAKERS[source], PARAMS[source] = fn, params
        return fn
    return deco


CHANNELS = ["counter", "pc", "app", "self_service", "other"]
_CHANNEL_MEDIAN = np.array([3000.0, 2000.0, 300.0, 800.0, 200.0])


def _channel_params(rng: np.random.Generator) -> dict[str, float]:
    p = rng.dirichlet(np.array([0.12, 0.15, 0.58, 0.10, 0.05]) * 40)
    return {f"p_{c}": float(x) for c, x in zip(CHANNELS, p, strict=True)}


@maker("transactions", _channel_params)
def _transactions(rng, eid, n, start, end, p, tally):
    probs = np.array([p[f"p_{c}"] for c in CHANNELS])
    ch = rng.choice(len(CHANNELS), size=n, p=probs / probs.sum())
    fen = np.round(np.exp(rng.normal(np.log(_CHANNEL_MEDIAN[ch] * 100), 1.1))).astype(np.int64) + 1
    counts = np.bincount(ch, minlength=len(CHANNELS))
    tally.add(eid, "n", n)
    tally.add(eid, "n_counter", counts[0])
    tally.add(eid, "amount", int(fen.sum()))
    tally.add(eid, "amount_pc", int(fen[ch == 1].sum()))
    tally.add(eid, "amount_app", int(fen[ch == 2].sum()))
    return {"ts": pa.array(_times(rng, n, start, end), TS), "channel": _codes(CHANNELS, ch),
            "customer": _codes(["personal", "corporate"], (rng.random(n) < 0.1).astype(np.int8)), "amount": _decimal(fen)}


@maker("loans", lambda r: {"personal": r.uniform(0.6, 0.9), "approve": r.uniform(0.6, 0.9), "auto": r.uniform(0.2, 0.9),
                          "hours_personal": r.uniform(2, 48), "hours_small": r.uniform(24, 240)})
def _loans(rng, eid, n, start, end, p, tally):
    decided = _times(rng, n, start, end)
    personal = rng.random(n) < p["personal"]
    approved = rng.random(n) < p["approve"]
    auto = rng.random(n) < p["auto"]
    applied = decided - rng.integers(60, 3 * 86400, size=n) * 1000
    hours = np.where(personal, p["hours_personal"], p["hours_small"])
    dur = np.maximum(1, np.round(rng.exponential(hours * 3600))).astype(np.int64) * 1000
    disbursed_mask = approved & (rng.random(n) < 0.95)
    disbursed = applied + dur
    for tag, m in (("personal", personal), ("small", ~personal)):
        tally.add(eid, f"{tag}", m.sum())
        tally.add(eid, f"{tag}_auto", (m & approved & auto).sum())
        tally.add(eid, f"{tag}_disbursed", (m & disbursed_mask).sum())
        tally.add(eid, f"{tag}_ms", dur[m & disbursed_mask].sum())
    return {"loan_type": _codes(["personal", "small_micro"], (~personal).astype(np.int8)),
            "applied_at": pa.array(applied, TS), "decided_at": pa.array(decided, TS),
            "decision": _codes(["approved", "rejected"], (~approved).astype(np.int8)),
            "auto_approved": pa.array(auto), "disbursed_at": pa.array(disbursed, TS, mask=~disbursed_mask)}


@maker("claims", lambda r: {"auto": r.uniform(0.1, 0.8), "hours": r.uniform(4, 120)})
def _claims(rng, eid, n, start, end, p, tally):
    settled = _times(rng, n, start, end)
    dur = np.maximum(1, np.round(rng.exponential(p["hours"] * 3600, size=n))).astype(np.int64) * 1000
    auto = rng.random(n) < p["auto"]
    tally.add(eid, "n", n)
    tally.add(eid, "auto", auto.sum())
    tally.add(eid, "ms", dur.sum())
    return {"reported_at": pa.array(settled - dur, TS), "settled_at": pa.array(settled, TS), "auto_approved": pa.array(auto),
            "paid_amount": _decimal(_fen(rng, n, 5000.0, 1.5))}


@maker("service_sessions", lambda r: {"chatbot": r.uniform(0.4, 0.9), "solve_bot": r.uniform(0.6, 0.95)})
def _sessions(rng, eid, n, start, end, p, tally):
    bot = rng.random(n) < p["chatbot"]
    questions = 1 + rng.poisson(1.5, size=n)
    resolved = rng.binomial(questions, np.where(bot, p["solve_bot"], 0.97))
    tally.add(eid, "n", n)
    tally.add(eid, "bot", bot.sum())
    tally.add(eid, "bot_q", questions[bot].sum())
    tally.add(eid, "bot_r", resolved[bot].sum())
    return {"started_at": pa.array(_times(rng, n, start, end), TS), "handler": _codes(["chatbot", "human"], (~bot).astype(np.int8)),
            "questions": pa.array(questions.astype(np.int64)), "resolved": pa.array(resolved.astype(np.int64))}


@maker("rec_impressions", lambda r: {"ctr": r.uniform(0.01, 0.08), "app": r.uniform(0.6, 0.95)})
def _recs(rng, eid, n, start, end, p, tally):
    clicked = rng.random(n) < p["ctr"]
    tally.add(eid, "n", n)
    tally.add(eid, "clicks", clicked.sum())
    return {"shown_at": pa.array(_times(rng, n, start, end), TS),
            "channel": _codes(["pc", "app"], (rng.random(n) < p["app"]).astype(np.int8)), "clicked": pa.array(clicked)}


@maker("risk_events", lambda r: {"loss": r.uniform(0.002, 0.03)})
def _risk(rng, eid, n, start, end, p, tally):
    loss = rng.random(n) < p["loss"]
    fen = np.where(loss, _fen(rng, n, 3000.0, 1.2), _fen(rng, n, 10000.0, 1.5))
    tally.add(eid, "n", n)
    tally.add(eid, "rejected", fen[~loss].sum())
    tally.add(eid, "loss", fen[loss].sum())
    return {"occurred_at": pa.array(_times(rng, n, start, end), TS), "kind": _codes(["rejected_attempt", "fraud_loss"], loss.astype(np.int8)),
            "amount": _decimal(fen)}


YEAR_MS = 366 * 86400 * 1000


@maker("staff", lambda r: {"fintech": r.uniform(0.03, 0.15), "leave": r.uniform(0.1, 0.4)})
def _staff(rng, eid, n, start, end, p, tally):
    """Employment spells hired over the ten years before the period end; some left since (a leaving date
    after the period end is not known yet: empty)."""
    hired = _times(rng, n, start - 9 * YEAR_MS, end)
    left = hired + np.round(rng.exponential(3 * YEAR_MS, size=n)).astype(np.int64)
    gone = (rng.random(n) < p["leave"]) & (left < end)
    fintech = rng.random(n) < p["fintech"]
    tally.add(eid, "employees", (~gone).sum())
    tally.add(eid, "fintech", (fintech & ~gone).sum())
    tally.add(eid, "fintech_prev", (fintech & (hired < start) & (~gone | (left >= start))).sum())
    tally.add(eid, "fintech_left", (fintech & gone & (left >= start)).sum())
    return {"hired_on": pa.array(hired, TS), "left_on": pa.array(left, TS, mask=~gone), "fintech": pa.array(fintech)}


# --- bad records: each breaks exactly one rule ------------------------------------------------------------

def break_rule(source: str, rule: str, cols: dict[str, pa.Array], n: int) -> dict[str, pa.Array]:
    c = dict(cols)
    if rule == "record.out_of_period":
        time_col = {"transactions": "ts", "loans": "decided_at", "rec_impressions": "shown_at"}[source]
        shifted = {k: pc.subtract(v.cast(pa.int64()), YEAR_MS).cast(TS) for k, v in c.items() if pa.types.is_timestamp(v.type)}
        if source == "loans":
            c.update(shifted)  # the whole loan a year earlier: its order is kept
        else:
            c[time_col] = shifted[time_col]
    elif rule == "record.unknown_code":
        col, value = {"transactions": ("channel", "teller_window"), "loans": ("loan_type", "mortgage"),
                      "rec_impressions": ("channel", "tv"), "risk_events": ("kind", "chargeback")}[source]
        c[col] = _codes([value], np.zeros(n, dtype=np.int8))
    elif rule == "record.below_min":
        col = {"transactions": "amount", "claims": "paid_amount", "risk_events": "amount"}[source]
        c[col] = pc.negate(c[col]).cast(DEC)  # amounts are at least 0.01: negated, below the minimum 0
    elif rule == "record.order":
        if source == "service_sessions":
            q = np.asarray(c["questions"])
            c["resolved"] = pa.array(q + 1)
        elif source == "staff":  # left the day before being hired
            c["left_on"] = pc.subtract(c["hired_on"].cast(pa.int64()), 86400_000).cast(TS)
        elif source == "loans":  # disbursed an hour before the application (the decision stays in the period)
            c["disbursed_at"] = pc.subtract(c["applied_at"].cast(pa.int64()), 3600_000).cast(TS)
        else:  # reported an hour after the settlement (which stays in the period)
            c["reported_at"] = pc.add(c["settled_at"].cast(pa.int64()), 3600_000).cast(TS)
    elif rule == "record.missing":
        col = {"transactions": "amount", "service_sessions": "handler", "staff": "hired_on"}[source]
        c[col] = pa.nulls(n, c[col].type)
    return c


BAD_RULES: dict[str, list[str]] = {
    "transactions": ["record.unknown_code", "record.out_of_period", "record.below_min", "record.missing"],
    "loans": ["record.order", "record.out_of_period", "record.unknown_code"],
    "claims": ["record.order", "record.below_min"],
    "service_sessions": ["record.order", "record.missing"],
    "rec_impressions": ["record.unknown_code", "record.out_of_period"],
    "risk_events": ["record.unknown_code", "record.below_min"],
    "staff": ["record.order", "record.missing"],
}
