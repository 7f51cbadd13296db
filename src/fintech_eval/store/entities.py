"""The institution and vendor registers: records checked (known columns, allowed choices, province codes,
yes/no), upserted with every change to an existing row audited, and listed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session

from ..errors import DataError
from .audit import StoreStats, _upsert_audited
from .checks import _as_frame, _choice, _duplicates, _missing_columns, _Problems, _required_text, _str_col
from .keys import _py
from .models import PROVIDER_TYPES, Vendor, province_code
from .reads import _in_filter

__all__ = ["upsert_vendors", "vendors_frame"]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _py(v) for k, v in r.items()} for r in frame.to_dict("records")]


_TRUE = {"true", "yes", "y", "1", "是", "t"}


_FALSE = {"false", "no", "n", "0", "否", "f", ""}


def _bool(value: Any) -> bool | None:
    v = _py(value)
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(v)


def _entity_records(
    frame: pd.DataFrame | Iterable[Mapping[str, Any]],
    what: str,
    key: str,
    allowed: tuple[str, ...],
    choices: dict[str, tuple[str, ...]],
    unique: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    df = _as_frame(frame, what)
    _missing_columns(df, (key,), what)
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise DataError(f"{what}: unknown column(s) {', '.join(map(str, extra))}", rule="store.columns")
    p = _Problems()
    _required_text(df, key, p)
    for c, options in choices.items():
        if c in df.columns:
            _choice(_str_col(df[c]), options, df, c, p)
    p.raise_if_any()
    _duplicates(df, unique or (key,), what)
    recs = _records(df)
    for r in recs:
        for c, v in r.items():
            if isinstance(v, str):
                r[c] = v.strip()
        for c in (key, "period"):
            if r.get(c) is not None:
                r[c] = str(r[c])
    return recs


def _region_and_listed(recs: list[dict[str, Any]]) -> None:
    """A register's ``region_code`` (a GB/T 2260 province code, two or six digits → two) and ``listed``
    (yes/no; blank keeps the stored value, new rows: not listed), in place; problems raised together."""
    p = _Problems()
    for i, r in enumerate(recs):
        if "region_code" in r and r["region_code"] is not None:
            code = province_code(r["region_code"])
            if code is None:
                p.add("store.region_code", f"region_code {r['region_code']!r} is not a GB/T 2260 province code",
                      row=i, id=r["id"])  # fmt: skip
            r["region_code"] = code
        if "listed" in r:
            try:
                listed = _bool(r["listed"])
            except ValueError:
                p.add("store.listed", f"listed {r['listed']!r} is not yes/no", row=i, id=r["id"])
            else:
                if listed is None:  # not given: keep the stored value (new rows: not listed)
                    del r["listed"]
                else:
                    r["listed"] = listed
    p.raise_if_any()


def upsert_vendors(
    session: Session,
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    who: str = "system",
    why: str = "vendor register",
) -> StoreStats:
    """Create or update technology vendors (``id, name_zh, name_en, provider_type``); audited."""
    allowed = ("id", "name_zh", "name_en", "provider_type")
    recs = _entity_records(records, "vendors", "id", allowed, {"provider_type": PROVIDER_TYPES})
    return _upsert_audited(session, Vendor, ("id",), recs, ("name_zh", "provider_type"), who, why)


def vendors_frame(session: Session, *, ids: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The vendor register (ordered by id); only ``ids`` when given."""
    t = Vendor.__table__
    cols = ["id", "name_zh", "name_en", "provider_type"]
    stmt = select(*(t.c[c] for c in cols)).where(and_(true(), *_in_filter(t.c.id, ids))).order_by(t.c.id)
    out = pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=cols)
    return out.astype("str")
