"""Storage of returns and their review (:mod:`fintech_eval.app.submissions` is the workflow on top).

Every function works in the caller's session and transaction, like the other repositories of this package; the
write functions start it as a write transaction (:func:`~.db.begin_write`). What makes concurrent callers
safe is the database's own unique keys, never a check followed by an insert:

* :func:`claim_key`: ``INSERT … ON CONFLICT DO NOTHING`` on the idempotency key's primary key. The caller
  that inserts owns the key; a concurrent one waits for it (PostgreSQL blocks on the uncommitted key,
  SQLite's ``BEGIN IMMEDIATE`` serialises writers) and then reads the owner's result.
* :func:`return_for_update`: the return of (scope, entity) created the same way on its unique key, then
  read with ``SELECT … FOR UPDATE`` (PostgreSQL), so versions are numbered one after another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from .audit import _write_audit
from .bulk import _dialect_insert
from .db import begin_write
from .keys import _enc, _jsonable, row_key
from .models import DataReturn, IdempotencyKey, ReturnEvent, ReturnVersion, utcnow

RETURN_COLUMNS = ["id", "campaign_id", "framework", "period", "entity_kind", "entity_id", "state", "version",
                  "reviewed_version", "submitted_at", "created_by", "created_at", "updated_by", "updated_at",
                  "submission_id"]
COUNT_COLUMNS = ["answered", "errors", "warnings", "flagged"]


def claim_key(session: Session, actor: str, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Claim the idempotency ``key`` of ``actor`` for a request with ``fingerprint``: ``None`` when this
    transaction now owns it (record the result with :func:`settle_key`), else the stored key (the first
    request's fingerprint and result), read after its owner committed."""
    begin_write(session)
    stmt = (_dialect_insert(session, IdempotencyKey.__table__)
            .values(actor=actor, key=key, fingerprint=fingerprint, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["actor", "key"])
            .returning(IdempotencyKey.__table__.c.key))
    if session.execute(stmt).scalar() is not None:
        return None
    found = session.get(IdempotencyKey, (actor, key), populate_existing=True)
    assert found is not None
    return found


def find_key(session: Session, actor: str, key: str) -> IdempotencyKey | None:
    """The stored idempotency key, if any (a read: retries are answered before validating again)."""
    return session.get(IdempotencyKey, (actor, key))


def settle_key(session: Session, actor: str, key: str, return_id: int, version: int) -> None:
    row = session.get(IdempotencyKey, (actor, key))
    assert row is not None
    row.return_id, row.version = return_id, version


def return_for_update(
    session: Session, *, scope: str, campaign_id: int | None, framework: str, period: str, entity_kind: str,
    entity_id: str, who: str,
) -> tuple[DataReturn, bool]:
    """The return of ``entity`` in ``scope``, locked for this transaction; created (state ``draft``, version
    0) when there is none. Returns ``(return, created)``."""
    begin_write(session)
    now = utcnow()
    stmt = (_dialect_insert(session, DataReturn.__table__)
            .values(scope=scope, campaign_id=campaign_id, framework=framework, period=period, entity_kind=entity_kind,
                    entity_id=entity_id, state="draft", version=0, created_by=who, created_at=now, updated_by=who,
                    updated_at=now)
            .on_conflict_do_nothing(index_elements=["scope", "entity_kind", "entity_id"])
            .returning(DataReturn.__table__.c.id))
    new_id = session.execute(stmt).scalar()
    q = select(DataReturn).where(DataReturn.scope == scope, DataReturn.entity_kind == entity_kind,
                                 DataReturn.entity_id == entity_id).with_for_update()
    ret = session.execute(q.execution_options(populate_existing=True)).scalar_one()
    return ret, new_id is not None


def lock_return(session: Session, return_id: int) -> DataReturn | None:
    """The return ``return_id`` locked for this write transaction (None when there is none)."""
    begin_write(session)
    q = select(DataReturn).where(DataReturn.id == return_id).with_for_update()
    return session.execute(q.execution_options(populate_existing=True)).scalar_one_or_none()


def add_version(session: Session, ret: DataReturn, **values: Any) -> ReturnVersion:
    """The next version of ``ret`` (its number is ``ret.version + 1``; the return's counter moves with it)."""
    number = ret.version + 1
    fields, problems = _jsonable(values.pop("fields")), _jsonable(values.pop("problems"))
    v = ReturnVersion(return_id=ret.id, number=number, size=len(values["payload"]), fields=fields, problems=problems,
                      answered=sum(f.get("value") is not None for f in fields),
                      errors=sum(p.get("severity", "error") == "error" for p in problems),
                      warnings=sum(p.get("severity", "error") != "error" for p in problems),
                      flagged=sum(f.get("status") == "flagged" for f in fields), **values)
    session.add(v)
    ret.version = number
    session.flush()
    return v


def add_event(
    session: Session, ret: DataReturn, *, action: str, from_state: str | None, to_state: str, who: str,
    version: int | None = None, comments: dict[str, str] | None = None, note: str | None = None,
    changes: dict[str, Any] | None = None, at: dt.datetime | None = None,
) -> ReturnEvent:
    """Record one step of the return's history and move it to ``to_state``; the state change is audited
    like every change of stored data (``audit_entry``, table ``data_return``)."""
    at = at or utcnow()
    ev = ReturnEvent(return_id=ret.id, version=version, action=action, from_state=from_state, to_state=to_state,
                     who=who, at=at, comments=comments or None, note=note, changes=_jsonable(changes) if changes else None)
    session.add(ev)
    ret.state, ret.updated_by, ret.updated_at = to_state, who, at
    if from_state != to_state:
        _write_audit(session, [{"table": "data_return", "key": row_key(ret.id), "field": "state", "old": _enc(from_state),
                                "new": _enc(to_state), "who": who, "at": at, "why": note or action,
                                "submission_id": ret.submission_id}])
    session.flush()
    return ev


def get_version(session: Session, return_id: int, number: int | None = None) -> ReturnVersion | None:
    """Version ``number`` of a return (default: its newest)."""
    q = select(ReturnVersion).where(ReturnVersion.return_id == return_id)
    q = q.where(ReturnVersion.number == number) if number is not None else q.order_by(ReturnVersion.number.desc()).limit(1)
    return session.execute(q).scalar_one_or_none()


def returns_frame(
    session: Session, *, campaign_id: int | None = None, states: Iterable[str] | None = None,
    entity_ids: Iterable[str] | None = None, ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """The returns, oldest first, filtered by campaign, states, entities or ids, with the counts of their
    reviewed (else newest) version: values answered, errors, warnings, flagged values."""
    t, v = DataReturn.__table__, ReturnVersion.__table__
    q = (select(*(t.c[c] for c in RETURN_COLUMNS), *(v.c[c] for c in COUNT_COLUMNS))
         .outerjoin(v, and_(v.c.return_id == t.c.id, v.c.number == func.coalesce(t.c.reviewed_version, t.c.version)))
         .order_by(t.c.id))
    if campaign_id is not None:
        q = q.where(t.c.campaign_id == campaign_id)
    if states is not None:
        q = q.where(t.c.state.in_(list(states)))
    if entity_ids is not None:
        q = q.where(t.c.entity_id.in_(list(entity_ids)))
    if ids is not None:
        q = q.where(t.c.id.in_(list(ids)))
    rows = session.execute(q).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=RETURN_COLUMNS + COUNT_COLUMNS)
    for c in COUNT_COLUMNS:
        df[c] = df[c].fillna(0).astype("int64")
    return df


def versions_frame(session: Session, return_id: int) -> pd.DataFrame:
    """Every version of a return, without the payload, oldest first."""
    t = ReturnVersion.__table__
    cols = ["number", "file_name", "media_type", "sha256", "size", "final", "valid", "submitted_by", "submitted_at"]
    rows = session.execute(select(*(t.c[c] for c in cols)).where(t.c.return_id == return_id).order_by(t.c.number)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


def events_frame(session: Session, return_id: int) -> pd.DataFrame:
    """The history of a return, oldest first."""
    t = ReturnEvent.__table__
    cols = ["at", "who", "action", "from_state", "to_state", "version", "comments", "note", "changes"]
    rows = session.execute(select(*(t.c[c] for c in cols)).where(t.c.return_id == return_id).order_by(t.c.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


def version_events(session: Session, return_id: int, number: int) -> list[ReturnEvent]:
    return list(session.execute(select(ReturnEvent).where(ReturnEvent.return_id == return_id, ReturnEvent.version == number)
                                .order_by(ReturnEvent.id)).scalars())


def entity_facts(session: Session, entity_ids: Iterable[str]) -> tuple[
        dict[str, Any], dict[str, list[tuple[str, str, Any]]], dict[str, list[tuple[str, str, Any]]]]:
    """What validating a return of these institutions reads, as plain tuples (three small queries, no frames):
    their registered sectors ``{id: sector}``, their stored values ``{id: [(period, variable, value_norm)]}``
    (every entity kind: the compiled validation is only more careful for it) and their registered size
    attributes ``{id: [(period, attribute, value in 元)]}``."""
    from .models import Institution, Observation, ObservedEntity, ObservedVariable, SizeAttribute

    ids = sorted({str(e) for e in entity_ids})
    inst, t, et, vt, sz = (Institution.__table__, Observation.__table__, ObservedEntity.__table__,
                           ObservedVariable.__table__, SizeAttribute.__table__)
    sectors = dict(session.execute(select(inst.c.id, inst.c.sector).where(inst.c.id.in_(ids))).all())
    stored: dict[str, list[tuple[str, str, Any]]] = {}
    q = (select(et.c.entity_id, t.c.period, vt.c.name, func.coalesce(t.c.value_norm, t.c.value))
         .join(et, et.c.id == t.c.entity_ref).join(vt, vt.c.id == t.c.variable_ref).where(et.c.entity_id.in_(ids)))
    for e, p, v, x in session.execute(q):
        stored.setdefault(e, []).append((p, v, x))
    sizes: dict[str, list[tuple[str, str, Any]]] = {}
    q = select(sz.c.entity_id, sz.c.period, sz.c.attribute, sz.c.value).where(
        sz.c.entity_kind == "institution", sz.c.entity_id.in_(ids))
    for e, p, a, x in session.execute(q):
        sizes.setdefault(e, []).append((p, a, x))
    return sectors, stored, sizes
