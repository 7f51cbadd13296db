"""Reviews of flagged values: which stored values are flagged (an outlier, a public-data conflict, …), whether an
evaluator has accepted the flag they carry now, and the acceptances themselves (``flag_review``, audited).

An acceptance names the flag it accepted (the value's ``flag_reason`` then): when a correction gives the
value another flag, the old acceptance no longer covers it. Every acceptance is also an audit entry of the
value (field ``review``: old = the flag, new = ``accepted``), so ``fintech-eval history`` shows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from .audit import _write_audit
from .db import begin_write
from .keys import _enc, row_key
from .models import FlagReview, Observation, ObservedEntity, ObservedVariable, utcnow

__all__ = ["FLAG_COLUMNS", "accept_flags", "audit_entries", "flag_sha256", "flagged_frame"]

FLAG_COLUMNS = ["entity_kind", "entity_id", "period", "variable", "value", "unit", "flag_reason",
                "accepted", "accepted_by", "accepted_at", "accepted_why"]


def flag_sha256(reason: str | None) -> str:
    return hashlib.sha256((reason or "").encode("utf-8")).hexdigest()


def _filter(column: Any, values: str | Iterable[str] | None) -> list[Any]:
    if values is None:
        return []
    return [column == values] if isinstance(values, str) else [column.in_(list(values))]


def flagged_frame(
    session: Session, *, entity_kind: str = "institution", entity_ids: str | Iterable[str] | None = None,
    periods: str | Iterable[str] | None = None, variables: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The stored values whose status is ``flagged`` (columns :data:`FLAG_COLUMNS`), each with the acceptance
    of its current flag if there is one (``accepted`` True, by whom, when, why)."""
    o, e, v = Observation.__table__, ObservedEntity.__table__, ObservedVariable.__table__
    stmt = (
        select(e.c.entity_kind, e.c.entity_id, o.c.period, v.c.name, o.c.value, o.c.unit, o.c.flag_reason)
        .select_from(o).join(e, e.c.id == o.c.entity_ref).join(v, v.c.id == o.c.variable_ref)
        .where(and_(o.c.status == "flagged", e.c.entity_kind == entity_kind, *_filter(e.c.entity_id, entity_ids),
                    *_filter(o.c.period, periods), *_filter(v.c.name, variables)))
        .order_by(e.c.entity_id, o.c.period, v.c.name)
    )
    flags = pd.DataFrame([tuple(r) for r in session.execute(stmt)],
                         columns=["entity_kind", "entity_id", "period", "variable", "value", "unit", "flag_reason"])
    r = FlagReview.__table__
    rstmt = select(r.c.entity_kind, r.c.entity_id, r.c.period, r.c.variable, r.c.flag_sha256, r.c.who, r.c.at, r.c.why).where(
        and_(r.c.entity_kind == entity_kind, *_filter(r.c.entity_id, entity_ids), *_filter(r.c.period, periods),
             *_filter(r.c.variable, variables)))
    reviews = pd.DataFrame([tuple(x) for x in session.execute(rstmt)],
                           columns=["entity_kind", "entity_id", "period", "variable", "flag_sha256", "accepted_by",
                                    "accepted_at", "accepted_why"])
    # object dtype even with no flagged value (an empty list would make a float column that cannot be merged)
    flags["flag_sha256"] = pd.Series([flag_sha256(x) for x in flags["flag_reason"]], index=flags.index, dtype=object)
    key = ["entity_kind", "entity_id", "period", "variable", "flag_sha256"]
    out = flags.merge(reviews.drop_duplicates(key, keep="last"), on=key, how="left")
    out["accepted"] = out["accepted_by"].notna()
    return out[FLAG_COLUMNS].reset_index(drop=True)


def accept_flags(session: Session, flags: pd.DataFrame, *, who: str, why: str, campaign_id: int | None = None) -> int:
    """Record that ``who`` checked each flagged value of ``flags`` (rows of :func:`flagged_frame`), for the flag
    it carries now; values whose flag is accepted already are left alone. Audited. Returns the number
    accepted now."""
    todo = flags[~flags["accepted"]]
    if todo.empty:
        return 0
    begin_write(session)
    at = utcnow()
    session.add_all([
        FlagReview(entity_kind=r.entity_kind, entity_id=r.entity_id, period=r.period, variable=r.variable,
                   flag_reason=r.flag_reason or "", flag_sha256=flag_sha256(r.flag_reason), campaign_id=campaign_id,
                   who=who, at=at, why=why)
        for r in todo.itertuples()
    ])
    audit_entries(session, [(r.entity_kind, r.entity_id, r.period, r.variable, r.flag_reason) for r in todo.itertuples()],
                  field="review", new="accepted", who=who, why=why, at=at)
    session.flush()
    return len(todo)


def audit_entries(session: Session, keys: list[tuple[str, str, str, str, Any]], *, field: str, new: Any, who: str,
                  why: str, at: Any = None, submission_id: int | None = None) -> None:
    """One audit entry per observation key ``(kind, entity, period, variable, old)``: ``field`` went from ``old``
    to ``new`` (a review, an accepted check), by ``who``, ``why``."""
    at = at or utcnow()
    _write_audit(session, [
        {"table": "observation", "key": row_key(k, e, p, v), "field": field, "old": _enc(old), "new": _enc(new),
         "who": who, "at": at, "why": why, "submission_id": submission_id}
        for k, e, p, v, old in keys
    ])
