"""Registers beside the institutions: FinTech key-technology enterprises, regions, and the size attributes of
both populations JR/T 0201 §4 samples. Plain functions over a session that never commit (the caller owns the
transaction); every change to an existing row is audited (who, when, old, new, why), like the institutions."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import Session

from ..periods import period_kind
from ..vocab import ENTITY_STATUSES, SIZE_ATTRIBUTES, SIZED_KINDS
from .audit import StoreStats, _upsert_audited
from .bulk import _IN_CHUNK, _chunks
from .checks import _as_frame, _Problems
from .entities import _entity_records, _region_and_listed
from .keys import _dec, row_key
from .models import AuditEntry, Institution, KeyTechEnterprise, Region, SizeAttribute, province_code
from .periods import ensure_periods
from .reads import _in_filter


def audit_trail(session: Session, table: str, key: Sequence[str]) -> pd.DataFrame:
    """Every audited change of the rows of ``table`` whose key starts with ``key`` (a register entry, or all the
    size attributes of one entity), oldest first: ``row, at, field, old, new, who, why``."""
    t = AuditEntry.__table__
    exact = row_key(*key)
    prefix = exact[:-1] + ","
    stmt = (select(t.c.key, t.c.at, t.c.field, t.c.old, t.c.new, t.c.who, t.c.why)
            .where(t.c.table_name == table, or_(t.c.key == exact, t.c.key.startswith(prefix, autoescape=True)))
            .order_by(t.c.at, t.c.id))
    rows = [(json.loads(r.key), r.at, r.field, _dec(r.old), _dec(r.new), r.who, r.why) for r in session.execute(stmt)]
    return pd.DataFrame(rows, columns=["row", "at", "field", "old", "new", "who", "why"])


#: The register table of each kind of sized entity (size attributes must name a registered entity).
SIZED_TABLES = {"institution": Institution, "enterprise": KeyTechEnterprise}


def upsert_key_tech(session: Session, records: pd.DataFrame | Iterable[Mapping[str, Any]], *, who: str = "system",
                    why: str = "key-technology enterprise register") -> StoreStats:
    """Create or update key-technology enterprises (``id, name_zh, name_en, region_code, technologies, listed,
    status``; ``id`` and, for a new one, ``name_zh`` required); audited."""
    allowed = ("id", "name_zh", "name_en", "region_code", "technologies", "listed", "status")
    recs = _entity_records(records, "key-technology enterprises", "id", allowed, {"status": ENTITY_STATUSES})
    _region_and_listed(recs)
    for r in recs:
        if "status" in r and r["status"] is None:
            del r["status"]  # not given: keep the stored status (new rows: active)
    return _upsert_audited(session, KeyTechEnterprise, ("id",), recs, ("name_zh",), who, why)


def key_tech_frame(session: Session, *, ids: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The key-technology enterprise register (ordered by id); only ``ids`` when given."""
    t = KeyTechEnterprise.__table__
    cols = ["id", "name_zh", "name_en", "region_code", "technologies", "listed", "status"]
    stmt = select(*(t.c[c] for c in cols)).where(and_(true(), *_in_filter(t.c.id, ids))).order_by(t.c.id)
    out = pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=cols)
    for c in cols:
        out[c] = out[c].astype(bool) if c == "listed" else out[c].astype("str")
    return out


def upsert_regions(session: Session, records: pd.DataFrame | Iterable[Mapping[str, Any]], *, who: str = "system",
                   why: str = "region register") -> StoreStats:
    """Create or update regions (``code`` a GB/T 2260 province code, two or six digits, stored as two;
    ``name_zh``, ``name_en``); audited."""
    recs = _entity_records(records, "regions", "code", ("code", "name_zh", "name_en"), {})
    p = _Problems()
    for i, r in enumerate(recs):
        code = province_code(r["code"])
        if code is None:
            p.add("store.code", f"code {r['code']!r} is not a GB/T 2260 province code", row=i, code=r["code"])
        r["code"] = code
    p.raise_if_any()
    return _upsert_audited(session, Region, ("code",), recs, ("name_zh",), who, why)


def regions_frame(session: Session, *, ids: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The region register (ordered by code); only the codes ``ids`` when given."""
    t = Region.__table__
    cols = ["code", "name_zh", "name_en"]
    stmt = select(*(t.c[c] for c in cols)).where(and_(true(), *_in_filter(t.c.code, ids))).order_by(t.c.code)
    out = pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=cols)
    return out.astype("str")


def upsert_size_attributes(
    session: Session,
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    who: str = "system",
    why: str = "size attributes",
) -> StoreStats:
    """Create or update size attributes (``entity_kind`` institution | enterprise, ``entity_id``, ``period``,
    ``attribute``, ``value`` in the stored unit of ``vocab.SIZE_UNITS``; ``institution_id`` is read as an
    institution's ``entity_id``); audited. The entities must be registered."""
    df = _as_frame(records, "size attributes")
    if "institution_id" in df.columns:
        df = df.rename(columns={"institution_id": "entity_id"})
    if "entity_kind" not in df.columns:
        df = df.assign(entity_kind="institution")
    allowed = ("entity_kind", "entity_id", "period", "attribute", "value")
    recs = _entity_records(df, "size attributes", "entity_id", allowed,
                           {"attribute": SIZE_ATTRIBUTES, "entity_kind": SIZED_KINDS},
                           unique=("entity_kind", "entity_id", "period", "attribute"))
    p = _Problems()
    for i, r in enumerate(recs):
        for c in ("period", "attribute"):
            if r.get(c) is None:
                p.add("store.missing", f"{c} is missing", row=i, column=c)
        if r.get("period") is not None and period_kind(r["period"]) is None:
            p.add("store.period", f"period {r['period']!r} is not YYYY, YYYYQn or YYYY-MM", row=i)
        v = r.get("value")
        if v is not None:
            try:
                r["value"] = float(v)
                if not math.isfinite(r["value"]):
                    raise ValueError
            except (TypeError, ValueError):
                p.add("store.not_a_number", f"value {v!r} is not a finite number", row=i, column="value")
    p.raise_if_any()
    for kind, model in SIZED_TABLES.items():
        ids = sorted({r["entity_id"] for r in recs if r["entity_kind"] == kind})
        known: set[str] = set()
        for chunk in _chunks(ids, _IN_CHUNK):
            known.update(session.scalars(select(model.id).where(model.id.in_(chunk))))
        for i, r in enumerate(recs):
            if r["entity_kind"] == kind and r["entity_id"] not in known:
                p.add("store.unknown_entity", f"unknown {kind} {r['entity_id']!r}", row=i)
    p.raise_if_any()
    ensure_periods(session, {r["period"] for r in recs})
    return _upsert_audited(session, SizeAttribute, ("entity_kind", "entity_id", "period", "attribute"), recs, (), who, why)


def size_frame(
    session: Session, period: str | Iterable[str] | None = None, attribute: str | Iterable[str] | None = None,
    kind: str | None = "institution", *, entity_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Size attributes in long format: ``entity_kind, entity_id, period, attribute, value`` (of the
    institutions by default; ``kind="enterprise"`` the key-technology enterprises, ``None`` both; only
    ``entity_ids`` when given)."""
    t = SizeAttribute.__table__
    cols = ["entity_kind", "entity_id", "period", "attribute", "value"]
    where = (_in_filter(t.c.period, period) + _in_filter(t.c.attribute, attribute) + _in_filter(t.c.entity_kind, kind)
             + _in_filter(t.c.entity_id, entity_ids))
    stmt = select(*(t.c[c] for c in cols)).where(and_(true(), *where)).order_by(*(t.c[c] for c in cols[:4]))
    out = pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=cols)
    for c in cols[:4]:
        out[c] = out[c].astype("str")
    out["value"] = out["value"].astype("float64")
    return out
