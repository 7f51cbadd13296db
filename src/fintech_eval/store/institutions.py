"""The institution register: create or update institutions (audited) and read them back. The register carries the city code, the unified social credit code, the financial licence number
and a status (a closed institution stays registered, keeps its history, and is not sampled)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session

from ..identifiers import city_code_problem, credit_code_problem, normalise_credit_code
from ..vocab import ENTITY_STATUSES, SECTORS
from .audit import StoreStats, _upsert_audited
from .bulk import _IN_CHUNK, _chunks
from .checks import _Problems
from .entities import _entity_records, _region_and_listed
from .models import PROVINCE_CODES, Institution
from .reads import _in_filter

#: the columns :func:`upsert_institutions` takes and :func:`institutions_frame` returns (``listed`` last)
INSTITUTION_COLUMNS = ("id", "name_zh", "name_en", "sector", "subtype", "region_code", "city_code", "credit_code",
                       "licence_no", "status", "listed")


def upsert_institutions(
    session: Session,
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    who: str = "system",
    why: str = "institution register",
) -> StoreStats:
    """Create or update institutions (columns :data:`INSTITUTION_COLUMNS`; only ``id`` is required for an
    update, ``name_zh`` and ``sector`` for a new one). ``region_code`` takes a GB/T 2260 province code, two- or
    six-digit, stored as two digits (blank: the province of ``city_code``); ``city_code`` must lie in it;
    ``credit_code`` must pass the GB 32100-2015 check and belong to no other institution; a blank ``status``
    keeps the stored one (new institutions: active). Changes to existing institutions are audited."""
    recs = _entity_records(records, "institutions", "id", INSTITUTION_COLUMNS,
                           {"sector": SECTORS, "status": ENTITY_STATUSES})
    _region_and_listed(recs)
    p = _Problems()
    provinces = set(PROVINCE_CODES)
    for i, r in enumerate(recs):
        if r.get("status", "") is None:
            del r["status"]  # not given: keep the stored status (new rows: active)
        city = r.get("city_code")
        if city is not None:
            r["city_code"] = city = str(city).strip()
            why_not = city_code_problem(city, provinces)
            if why_not is None and r.get("region_code") not in (None, city[:2]):
                why_not = f"city_code {city} is in province {city[:2]}, not in region_code {r['region_code']}"
            if why_not:
                p.add("store.city_code", why_not, row=i, id=r["id"])
            elif r.get("region_code") is None:
                r["region_code"] = city[:2]
        if r.get("credit_code") is not None:
            r["credit_code"] = code = normalise_credit_code(r["credit_code"])
            why_not = credit_code_problem(code)
            if why_not:
                p.add("store.credit_code", why_not, row=i, id=r["id"])
    p.raise_if_any()
    _credit_codes_free(session, recs)
    return _upsert_audited(session, Institution, ("id",), recs, ("name_zh", "sector"), who, why)


def _credit_codes_free(session: Session, recs: list[dict[str, Any]]) -> None:
    """A credit code identifies one institution: one given twice, or held by another registered institution,
    is an error naming both."""
    p = _Problems()
    owner: dict[str, str] = {}
    for i, r in enumerate(recs):
        code = r.get("credit_code")
        if code is None:
            continue
        if code in owner and owner[code] != r["id"]:
            p.add("store.duplicate", f"credit_code {code} is given for both {owner[code]} and {r['id']}", row=i, id=r["id"],
                  zh=f"credit_code {code} 同时给了 {owner[code]} 和 {r['id']}")
        owner.setdefault(code, r["id"])
    for chunk in _chunks(sorted(owner), _IN_CHUNK):
        stmt = select(Institution.credit_code, Institution.id).where(Institution.credit_code.in_(chunk))
        for code, holder in session.execute(stmt):
            if holder != owner[code]:
                p.add("store.duplicate", f"credit_code {code} is already registered for {holder}, not {owner[code]}",
                      id=owner[code], zh=f"credit_code {code} 已登记给 {holder}，不能再给 {owner[code]}")
    p.raise_if_any()


def institutions_frame(session: Session, sector: str | Iterable[str] | None = None, *,
                       ids: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The institution register (ordered by id): :data:`INSTITUTION_COLUMNS`; only ``ids`` when given."""
    t = Institution.__table__
    cols = list(INSTITUTION_COLUMNS)
    stmt = select(*(t.c[c] for c in cols)).where(and_(true(), *_in_filter(t.c.sector, sector), *_in_filter(t.c.id, ids))).order_by(t.c.id)
    out = pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=cols)
    for c in cols[:-1]:
        out[c] = out[c].astype("str")
    out["listed"] = out["listed"].astype(bool)
    return out
