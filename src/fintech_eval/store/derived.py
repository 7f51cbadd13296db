"""Derived indicator values: stored with status and reason (upsert on entity, period, code and framework
version) and read back in long format. A value is present exactly when its status has one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session

from ..errors import DataError
from ..vocab import WITH_VALUE
from .bulk import _bulk_insert, _column, _Const, _db_message, _integrity_errors
from .checks import (
    _as_frame,
    _choice,
    _duplicates,
    _missing_columns,
    _num_col,
    _periods,
    _Problems,
    _required_text,
    _str_col,
)
from .db import begin_write
from .keys import _jsonable, _py
from .models import DERIVED_STATUSES, ENTITY_KINDS, DerivedValue, utcnow
from .periods import ensure_periods
from .reads import _in_filter

__all__ = ["DERIVED_COLUMNS", "derived_frame", "save_derived"]


#: Columns of :func:`derived_frame` (and of :func:`save_derived`'s input, most of them optional).
DERIVED_COLUMNS: tuple[str, ...] = (
    "entity_kind", "entity_id", "period", "code", "value", "status", "reason", "inputs", "formula",
    "framework", "framework_version", "computed_at",
)  # fmt: skip


_DERIVED_KEY: tuple[str, ...] = (
    "entity_kind",
    "entity_id",
    "period",
    "code",
    "framework",
    "framework_version",
)


def save_derived(
    session: Session,
    frame: pd.DataFrame,
    *,
    framework: str | None = None,
    framework_version: str | None = None,
) -> int:
    """Store derived indicator values (upsert on entity/period/code/framework/version); returns the
    number of rows written. Columns: ``entity_kind, entity_id, period, code, value`` and optionally
    ``status`` (default: ``ok`` when the value is present, else ``missing``), ``reason``, ``inputs``
    (dicts), ``formula``, ``framework``, ``framework_version`` (or the keyword arguments).

    A value must be present exactly when the status is ``ok``: a missing input gives a missing value,
    never 0."""
    df = _as_frame(frame, "derived values")
    _missing_columns(df, ("entity_kind", "entity_id", "period", "code", "value"), "derived values")
    p = _Problems()
    out: dict[str, Any] = {
        c: _required_text(df, c, p) for c in ("entity_kind", "entity_id", "period", "code")
    }
    _choice(out["entity_kind"], ENTITY_KINDS, df, "entity_kind", p)
    _periods(out["period"], df, p)
    value = _num_col(df["value"], p, df, "value")
    if "status" in df.columns:
        status = _str_col(df["status"])
        _choice(status, DERIVED_STATUSES, df, "status", p)
    else:
        status = pd.Series(np.where(np.isnan(value), "missing", "ok"), index=df.index, dtype="str")
    is_ok = status.isin(WITH_VALUE).to_numpy(dtype=bool, na_value=False)
    p.rows(is_ok & np.isnan(value), df, "store.derived_status",
           lambda lbl, i: f"status {status.iloc[i]} without a value", column="value")  # fmt: skip
    p.rows(
        ~is_ok & status.isin(DERIVED_STATUSES).to_numpy() & ~np.isnan(value), df, "store.derived_status",
        lambda lbl, i: f"a value with status {status.iloc[i]!r} (only ok and flagged values have one)", column="value",
    )  # fmt: skip
    for c, given in (("framework", framework), ("framework_version", framework_version)):
        if given is not None:
            out[c] = pd.Series(str(given), index=df.index, dtype="str")
        elif c in df.columns:
            out[c] = _str_col(df[c]).fillna("")
        else:
            out[c] = pd.Series("", index=df.index, dtype="str")
    p.raise_if_any()
    key_df = pd.DataFrame(out, index=df.index)
    _duplicates(key_df, _DERIVED_KEY, "derived value")
    n = len(df)
    if n == 0:
        return 0
    begin_write(session)
    ensure_periods(session, out["period"].unique().tolist())
    cols: dict[str, Any] = {c: _column(out[c]) for c in _DERIVED_KEY}
    cols["value"] = _column(value)
    cols["status"] = _column(status)
    for c in ("reason", "formula"):
        cols[c] = _column(_str_col(df[c])) if c in df.columns else _Const(None)
    if "inputs" in df.columns:
        memo: dict[int, Any] = {}  # one conversion per distinct object (many rows share their entity's document)
        cols["inputs"] = [None if _py(v) is None else memo[id(v)] if id(v) in memo else memo.setdefault(id(v), _jsonable(v))
                          for v in df["inputs"].tolist()]
    else:
        cols["inputs"] = _Const(None)
    cols["computed_at"] = _Const(utcnow())
    upd = [c for c in cols if c not in _DERIVED_KEY]
    try:
        _bulk_insert(session, DerivedValue.__table__, cols, n, on_conflict=(_DERIVED_KEY, upd))
    except _integrity_errors(session) as exc:
        raise DataError(_db_message(exc), rule="store.integrity") from exc
    return n


def derived_frame(
    session: Session,
    period: str | Iterable[str] | None = None,
    entity_kind: str | Iterable[str] | None = None,
    *,
    codes: Iterable[str] | None = None,
    framework: str | None = None,
    framework_version: str | None = None,
) -> pd.DataFrame:
    """Stored derived values in long format, columns :data:`DERIVED_COLUMNS` (missing value: NaN)."""
    t = DerivedValue.__table__
    where = (
        _in_filter(t.c.period, period)
        + _in_filter(t.c.entity_kind, entity_kind)
        + _in_filter(t.c.code, codes)
        + _in_filter(t.c.framework, framework)
        + _in_filter(t.c.framework_version, framework_version)
    )
    stmt = (
        select(*(t.c[c] for c in DERIVED_COLUMNS))
        .where(and_(true(), *where))
        .order_by(t.c.framework, t.c.framework_version, t.c.entity_kind, t.c.entity_id, t.c.period, t.c.code)
    )
    rows = session.execute(stmt).all()
    out = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(DERIVED_COLUMNS))
    out["value"] = out["value"].astype("float64")
    for c in (
        "entity_kind",
        "entity_id",
        "period",
        "code",
        "status",
        "reason",
        "formula",
        "framework",
        "framework_version",
    ):
        out[c] = out[c].astype("str")
    out["inputs"] = out["inputs"].astype(object)
    return out
