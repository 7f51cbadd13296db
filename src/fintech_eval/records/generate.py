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
import pyarrow.parquet as pq

from ..errors import DataError
from .compile import MS_PER_HOUR
from .derive import period_bounds
from .makers import BAD_RULES, DEC, MAKERS, PARAMS, TS, Tally, break_rule, entity_column

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


@dataclass
class GenerateResult:
    out: Path
    institutions: pd.DataFrame
    expected: pd.DataFrame
    rows: dict[str, int] = field(default_factory=dict)
    bad: dict[str, dict[str, int]] = field(default_factory=dict)
    files: int = 0


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
                        parts.append(break_rule(source, rule, MAKERS[source](rng, eid, k, start, end, p, Tally()), k))
                    rows_out = sum(len(next(iter(c.values()))) for c in parts)
                    table = pa.concat_tables([pa.table(c) for c in parts]) if len(parts) > 1 else pa.table(parts[0])
                    table = table.add_column(0, "entity_id", entity_column(eid, rows_out)).add_column(
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
