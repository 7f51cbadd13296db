"""A seeded generator of SYNTHETIC raw records (合成数据), at any size, streamed to partitioned Parquet.

    res = generate_records("recs/", rows=10_000_000, seed=7, period="2024")
    res.expected      # entity_id, variable, value: what a correct derivation must give
    res.bad           # source → rule → number of deliberately bad records written

**Entities.** ``entities`` institutions (default: one per 50,000 transactions, between 20 and 2,000),
``SYN-REC-BANK-0001`` …, sized by a Zipf law (weight ∝ rank^-1.1): a few giants hold most records, the
long tail holds few, as in a real national sample. The five largest are banks; the others are banks,
securities firms, insurers and payment institutions (45:20:25:10). ``institutions.csv`` is their
register (the columns :func:`~fintech_eval.store.upsert_institutions` takes).

**Records.** ``rows`` is the number of transactions; every source's volume follows it, per entity:
loans (banks) 1/40, claims (insurers) 1/40, customer-service sessions 1/20, recommendation impressions
1/10, risk events 1/100, staff (employment spells, hired over the ten years to the period end) 1/200 of
the entity's transactions (rounded down). Each entity draws its own channel
mix, approval and auto-approval rates, chatbot share, click-through rate, fraud-loss share; amounts are
log-normal in fen (exact decimals), times uniform in the period.

**Bad records.** ``bad_rate`` of each source's records (default 0.1 %) are written on top, spread
over the batches (among the good records, as in a real extract), each breaking exactly one record rule (an unknown code, a time outside the period, a negative amount, a
timestamp before its predecessor, a part above its whole, an empty required column); ``bad`` counts them.

**Streaming.** Records are made ``batch`` rows at a time (default 1,000,000) and appended to
``<source>/period=<P>/part-NNNNN.parquet`` files (``staff/part-NNNNN.parquet``: a register, not one
period's events) of at most ``rows_per_file`` rows, so memory stays flat
whatever ``rows`` is. ``expected.csv`` holds the values the records were built to give (tallied while
writing, in exact integers), ``manifest.json`` the seed, sizes and bad-record counts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import DataError
from .compile import MS_PER_HOUR
from .derive import period_bounds

GENERATOR_VERSION = "1"
#: records of each source per transaction of the entity (module doc), and the sectors that have them
VOLUMES: dict[str, tuple[float, tuple[str, ...] | None]] = {
    "transactions": (1.0, None),
    "loans": (1 / 40, ("bank",)),
    "claims": (1 / 40, ("insurance",)),
    "service_sessions": (1 / 20, None),
    "rec_impressions": (1 / 10, None),
    "risk_events": (1 / 100, None),
    "staff": (1 / 200, None),
}
#: sources without period partitions (a register of spells, not events of one period)
STOCKS = ("staff",)
SECTOR_MIX = {"bank": 0.45, "securities": 0.20, "insurance": 0.25, "payment": 0.10}
_PREFIX = {"bank": "BANK", "securities": "SEC", "insurance": "INS", "payment": "PAY"}
_PROVINCES = ["110000", "310000", "440000", "330000", "320000", "370000", "510000", "420000", "350000", "120000"]
DEC = pa.decimal128(18, 2)
TS = pa.timestamp("ms")


@dataclass
class GenerateResult:
    out: Path
    institutions: pd.DataFrame
    expected: pd.DataFrame
    rows: dict[str, int] = field(default_factory=dict)
    bad: dict[str, dict[str, int]] = field(default_factory=dict)
    files: int = 0


def _decimal(fen: np.ndarray) -> pa.Array:
    """Exact DECIMAL(18,2) from integer fen (the unscaled value) without any float."""
    fen = np.asarray(fen, dtype=np.int64)
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = np.where(fen < 0, -1, 0)
    return pa.Array.from_buffers(DEC, len(fen), [None, pa.py_buffer(words.tobytes())])


def _entity(eid: str, n: int) -> pa.Array:
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

def _bad_transform(source: str, rule: str, cols: dict[str, pa.Array], n: int) -> dict[str, pa.Array]:
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


# --- files -----------------------------------------------------------------------------------------------

class _Sink:
    """Appends batches to ``part-NNNNN.parquet`` files of at most ``rows_per_file`` rows."""

    def __init__(self, folder: Path, schema: pa.Schema, rows_per_file: int):
        self.folder, self.schema, self.limit = folder, schema, rows_per_file
        self.writer: pq.ParquetWriter | None = None
        self.in_file = 0
        self.files = 0
        # dictionary pages for the text columns only (ids, times and amounts are nearly all distinct)
        self.dictionary = [f.name for f in schema if pa.types.is_dictionary(f.type)]

    def write(self, table: pa.Table) -> None:
        table = table.cast(self.schema)
        start = 0
        while start < table.num_rows:
            if self.writer is None or self.in_file >= self.limit:
                self.close()
                self.folder.mkdir(parents=True, exist_ok=True)
                self.writer = pq.ParquetWriter(self.folder / f"part-{self.files:05d}.parquet", self.schema, compression="zstd",
                                               use_dictionary=self.dictionary)
                self.files += 1
                self.in_file = 0
            take = min(self.limit - self.in_file, table.num_rows - start)
            self.writer.write_table(table.slice(start, take), row_group_size=1 << 20)
            self.in_file += take
            start += take

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _schema(spec, source: str) -> pa.Schema:
    types = {"integer": pa.int64(), "decimal": DEC, "boolean": pa.bool_(), "timestamp": TS,
             "string": pa.dictionary(pa.int32(), pa.string()), "code": pa.dictionary(pa.int32(), pa.string())}
    return pa.schema([(c.name, types[c.type]) for c in spec.sources[source].columns])


def institutions_frame(n: int, seed: int) -> pd.DataFrame:
    """The synthetic register: Zipf-sized, the five largest banks (module doc)."""
    rng = np.random.default_rng([seed, 0])
    sectors = rng.choice(list(SECTOR_MIX), size=n, p=list(SECTOR_MIX.values()))
    sectors[: min(5, n)] = "bank"
    numbers: dict[str, int] = {}
    ids = []
    for s in sectors:
        numbers[s] = numbers.get(s, 0) + 1
        ids.append(f"SYN-REC-{_PREFIX[s]}-{numbers[s]:04d}")
    return pd.DataFrame({
        "id": ids, "name_zh": [f"合成机构 {i}" for i in ids], "name_en": [f"Synthetic institution {i}" for i in ids],
        "sector": sectors, "region_code": [_PROVINCES[k % len(_PROVINCES)] for k in range(n)],
        "weight": 1.0 / np.arange(1, n + 1) ** 1.1,
    })


def _batches(n: int, size: int) -> Iterator[int]:
    while n > 0:
        yield min(n, size)
        n -= size


def generate_records(
    out: str | Path,
    *,
    rows: int,
    seed: int = 0,
    period: str = "2024",
    entities: int | None = None,
    sources: list[str] | None = None,
    bad_rate: float = 0.001,
    batch: int = 1_000_000,
    rows_per_file: int = 8_000_000,
    spec: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    """Write the records (module doc); ``progress(done, total)`` after every batch."""
    from .loader import load_records_spec

    spec = spec or load_records_spec()
    sources = list(sources or VOLUMES)
    unknown = [s for s in sources if s not in VOLUMES]
    if unknown:
        raise DataError(f"unknown source(s) {', '.join(unknown)}; sources: {', '.join(VOLUMES)}", rule="records.source")
    if rows < 1 or not 0 <= bad_rate < 1:
        raise DataError("rows must be at least 1 and bad_rate in [0, 1)", rule="records.generate")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out} is not empty: give a new folder", rule="records.out_not_empty", file=str(out))
    n_ent = entities or int(min(2000, max(20, rows // 50_000)))
    inst = institutions_frame(n_ent, seed)
    txn = np.random.default_rng([seed, 1]).multinomial(rows, inst["weight"] / inst["weight"].sum())
    start, end = (int(t.replace(tzinfo=dt.UTC).timestamp() * 1000) for t in period_bounds(period))
    plan = {s: np.where(inst["sector"].isin(VOLUMES[s][1]) if VOLUMES[s][1] else True, np.floor(txn * VOLUMES[s][0]), 0).astype(np.int64)
            for s in sources}
    total = sum(int(p.sum()) for p in plan.values())
    done = 0
    res = GenerateResult(out, inst.drop(columns="weight"), pd.DataFrame())
    tallies: dict[str, Tally] = {}
    for si, source in enumerate(sources):
        folder = out / source if source in STOCKS else out / source / f"period={period}"
        sink = _Sink(folder, _schema(spec, source), rows_per_file)
        tally = Tally()
        bad = _BadPlan(source, int(plan[source].sum()), bad_rate)
        key = spec.sources[source].key
        next_id = 1
        written = 0
        try:
            for ei, (eid, n) in enumerate(zip(inst["id"], plan[source], strict=True)):
                if n == 0:
                    continue
                p = PARAMS[source](np.random.default_rng([seed, 2, si, ei]))
                rng = np.random.default_rng([seed, 3, si, ei])
                for b in _batches(int(n), batch):
                    parts = [MAKERS[source](rng, eid, b, start, end, p, tally)]
                    written += b
                    for rule, k in bad.take(written):  # bad records among the good ones, not tallied
                        parts.append(_bad_transform(source, rule, MAKERS[source](rng, eid, k, start, end, p, Tally()), k))
                    rows_out = sum(len(next(iter(c.values()))) for c in parts)
                    table = pa.concat_tables([pa.table(c) for c in parts]) if len(parts) > 1 else pa.table(parts[0])
                    table = table.add_column(0, "entity_id", _entity(eid, rows_out)).add_column(
                        0, key, pa.array(np.arange(next_id, next_id + rows_out, dtype=np.int64)))
                    sink.write(table)
                    next_id += rows_out
                    done += b
                    if progress:
                        progress(done, total)
        finally:
            sink.close()
        res.rows[source] = int(plan[source].sum())
        res.bad[source] = {r: k for r, k in bad.counts.items() if k}
        res.files += sink.files
        tallies[source] = tally
    res.expected = expected_values(tallies, inst["id"].tolist(), plan)
    _write_side_files(res, seed, period, rows, bad_rate)
    return res


class _BadPlan:
    """``bad_rate`` of a source's records, spread evenly over its batches and over its rules in turn."""

    def __init__(self, source: str, good: int, bad_rate: float):
        self.rules = BAD_RULES[source]
        self.good = good
        self.total = int(round(good * bad_rate))
        self.done = 0
        self.counts = dict.fromkeys(self.rules, 0)

    def take(self, written: int) -> list[tuple[str, int]]:
        """(rule, n) for the bad records due once ``written`` good records are out."""
        due = (self.total * written) // self.good if self.good else 0
        out: dict[str, int] = {}
        while self.done < due:
            rule = self.rules[self.done % len(self.rules)]
            out[rule] = out.get(rule, 0) + 1
            self.counts[rule] += 1
            self.done += 1
        return list(out.items())


def _hours(ms: int, n: int) -> float | None:
    return float(Decimal(ms) / n / MS_PER_HOUR) if n else None


def _cny10k(fen: int) -> float:
    return float(Decimal(fen) / Decimal(1_000_000))


def expected_values(tallies: dict[str, Tally], ids: list[str], plan: dict[str, np.ndarray]) -> pd.DataFrame:
    """The raw variables the records were built to give (every entity with records of a source)."""
    rows = []
    for source, t in tallies.items():
        for k, eid in enumerate(ids):
            if plan[source][k] == 0:
                continue
            g = t.get
            if source == "transactions":
                vals = {"total_transactions": g(eid, "n"), "off_counter_transactions": g(eid, "n") - g(eid, "n_counter"),
                        "transaction_amount": _cny10k(g(eid, "amount")), "pc_transaction_amount": _cny10k(g(eid, "amount_pc")),
                        "app_transaction_amount": _cny10k(g(eid, "amount_app"))}
            elif source == "loans":
                vals = {"personal_loans": g(eid, "personal"), "personal_loans_auto_approved": g(eid, "personal_auto"),
                        "small_micro_loans": g(eid, "small"), "small_micro_loans_auto_approved": g(eid, "small_auto"),
                        "personal_loan_approval_hours": _hours(g(eid, "personal_ms"), g(eid, "personal_disbursed")),
                        "small_micro_loan_approval_hours": _hours(g(eid, "small_ms"), g(eid, "small_disbursed"))}
            elif source == "claims":
                vals = {"claims": g(eid, "n"), "claims_auto_approved": g(eid, "auto"), "claim_approval_hours": _hours(g(eid, "ms"), g(eid, "n"))}
            elif source == "service_sessions":
                vals = {"customer_services": g(eid, "n"), "chatbot_services": g(eid, "bot"),
                        "chatbot_questions": g(eid, "bot_q"), "chatbot_questions_resolved": g(eid, "bot_r")}
            elif source == "rec_impressions":
                vals = {"smart_rec_impressions": g(eid, "n"), "smart_rec_clicks": g(eid, "clicks")}
            elif source == "risk_events":
                vals = {"fraud_rejected_amount": _cny10k(g(eid, "rejected")), "fraud_loss_amount": _cny10k(g(eid, "loss"))}
            else:
                vals = {"employees": g(eid, "employees"), "fintech_staff": g(eid, "fintech"),
                        "fintech_staff_prev_end": g(eid, "fintech_prev"), "fintech_staff_leavers": g(eid, "fintech_left")}
            rows += [(eid, v, float(x)) for v, x in vals.items() if x is not None]
    return pd.DataFrame(rows, columns=["entity_id", "variable", "value"]).sort_values(["entity_id", "variable"], ignore_index=True)


def _write_side_files(res: GenerateResult, seed: int, period: str, rows: int, bad_rate: float) -> None:
    res.out.mkdir(parents=True, exist_ok=True)
    res.institutions.to_csv(res.out / "institutions.csv", index=False)
    res.expected.to_csv(res.out / "expected.csv", index=False, float_format="%.17g")
    manifest = {"generator": GENERATOR_VERSION, "synthetic": True, "seed": seed, "period": period, "transactions": rows,
                "bad_rate": bad_rate, "entities": len(res.institutions), "records": res.rows, "bad_records": res.bad,
                "files": res.files}
    (res.out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
