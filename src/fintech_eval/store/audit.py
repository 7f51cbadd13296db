"""Audited writes: every change of a stored row is an :class:`~.models.AuditEntry` (table, key, field,
old → new, who, UTC time, why, submission); :func:`history` reads one row's trail back, oldest first.
:class:`StoreStats` says what a write did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from .bulk import _IN_CHUNK, _bulk_insert, _chunks
from .checks import _Problems
from .db import begin_write
from .keys import ObsKey, _dec, _enc, row_key
from .models import AuditEntry, utcnow

__all__ = ["StoreStats", "history", "log_row"]


def log_row(at: Any, actor: str, action: str, object: str | None = None, detail: dict[str, Any] | None = None, *,
            actor_id: int | None = None, ip: str | None = None) -> dict[str, Any]:
    """The columns of one platform audit-log entry (:class:`~.models.AuditLog`), its texts cut to their columns:
    the one shape for :func:`fintech_eval.app.audit.audit` and the writes that log inside their own batch."""
    return {"at": at, "actor": str(actor)[:254], "actor_id": actor_id, "action": action,
            "object": None if object is None else str(object)[:200], "detail": detail or None,
            "ip": None if ip is None else str(ip)[:64]}


@dataclass(frozen=True)
class StoreStats:
    """What a write did: rows inserted, rows updated, rows already identical, audit entries written."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    audited: int = 0


def _write_audit(session: Session, audits: list[dict[str, Any]]) -> None:
    """Write audit entries given as dicts (``table`` names the audited table)."""
    if not audits:
        return
    names = ("table", "key", "field", "old", "new", "who", "at", "why", "submission_id")
    cols = {("table_name" if c == "table" else c): [a[c] for a in audits] for c in names}
    _bulk_insert(session, AuditEntry.__table__, cols, len(audits))


def history(
    session: Session, key: ObsKey | Sequence[str] | str, *, table: str = "observation"
) -> pd.DataFrame:
    """The audit trail of one row, oldest first: ``at, field, old, new, who, why, submission_id``
    (``old``/``new`` decoded: floats, strings or None)."""
    key_s = key if isinstance(key, str) else row_key(*key)
    t = AuditEntry.__table__
    stmt = (
        select(t.c.at, t.c.field, t.c.old, t.c.new, t.c.who, t.c.why, t.c.submission_id)
        .where(t.c.table_name == table, t.c.key == key_s)
        .order_by(t.c.at, t.c.id)
    )
    rows = [
        (r.at, r.field, _dec(r.old), _dec(r.new), r.who, r.why, r.submission_id)
        for r in session.execute(stmt)
    ]
    cols = ["at", "field", "old", "new", "who", "why", "submission_id"]
    data = list(zip(*rows, strict=True)) if rows else [()] * len(cols)
    out = pd.DataFrame({c: pd.Series(list(v), dtype=object) for c, v in zip(cols, data, strict=True)})
    for c in ("field", "who", "why"):
        out[c] = out[c].astype("str")
    out["submission_id"] = out["submission_id"].astype("Int64")
    return out


def _upsert_audited(
    session: Session,
    model: Any,
    keys: tuple[str, ...],
    records: list[dict[str, Any]],
    required_new: tuple[str, ...],
    who: str,
    why: str,
) -> StoreStats:
    """Insert new rows, update changed fields of existing ones (auditing each change), by ``keys``."""
    if not records:
        return StoreStats()
    table = model.__table__
    begin_write(session)
    existing: dict[tuple, dict[str, Any]] = {}
    firsts = sorted({r[keys[0]] for r in records})
    for chunk in _chunks(firsts, _IN_CHUNK):
        stmt = select(table).where(table.c[keys[0]].in_(chunk)).with_for_update()
        for row in session.execute(stmt).mappings():
            existing[tuple(row[k] for k in keys)] = dict(row)
    inserts: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    updated = unchanged = 0
    by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    p = _Problems()
    at = utcnow()
    for r in records:
        k = tuple(r[c] for c in keys)
        old = existing.get(k)
        if old is None:
            missing = [c for c in required_new if r.get(c) is None]
            if missing:
                p.add("store.missing", f"new {table.name} {'/'.join(map(str, k))}: {', '.join(missing)} missing",
                      **dict(zip(keys, k, strict=True)))  # fmt: skip
            inserts.append(r)
            continue
        changed = {f: v for f, v in r.items() if f not in keys and old.get(f) != v}
        if not changed:
            unchanged += 1
            continue
        updated += 1
        by_fields.setdefault(tuple(sorted(changed)), []).append(
            {**{f"k_{c}": v for c, v in zip(keys, k, strict=True)}, **{f"v_{f}": v for f, v in changed.items()}})
        key_s = row_key(*k)
        audits.extend(
            {"table": table.name, "key": key_s, "field": f, "old": _enc(old.get(f)), "new": _enc(v),
             "who": who, "at": at, "why": why, "submission_id": None}
            for f, v in changed.items()
        )  # fmt: skip
    p.raise_if_any()
    for fields, params in by_fields.items():  # one executemany per set of changed fields, not a statement a row
        session.execute(update(table).where(*(table.c[c] == bindparam(f"k_{c}") for c in keys))
                        .values({f: bindparam(f"v_{f}") for f in fields}), params)
    if inserts:
        cols = sorted({c for r in inserts for c in r})
        session.execute(insert(table), [{c: r.get(c, table.c[c].default.arg if table.c[c].default else None)
                                         for c in cols} for r in inserts])  # fmt: skip
    _write_audit(session, audits)
    return StoreStats(inserted=len(inserts), updated=updated, unchanged=unchanged, audited=len(audits))
