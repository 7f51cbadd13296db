"""Storage of returns and their review (:mod:`fintech_eval.app.submissions` is the workflow on top).

Every function works in the caller's session and transaction, like the other repositories of this package; the
write functions start it as a write transaction (:func:`~.db.begin_write`). What makes concurrent callers
safe is the database's own unique keys, never a check followed by an insert:

* :func:`store_versions` claims idempotency keys with ``INSERT … ON CONFLICT DO NOTHING`` on their primary
  key: the transaction that inserts owns the key; a concurrent one waits for it (PostgreSQL blocks on the
  uncommitted key, SQLite's ``BEGIN IMMEDIATE`` serialises writers) and then reads the owner's result.
* It creates returns the same way on their unique key (scope, entity), then reads them with ``SELECT … FOR
  UPDATE`` in id order (PostgreSQL), so versions are numbered one after another and two writers lock alike.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, bindparam, delete, event, func, select, tuple_
from sqlalchemy.orm import Session

from .audit import _write_audit, log_row
from .bulk import _dialect_insert
from .db import begin_write, json_prepared
from .keys import _enc, _jsonable, row_key
from .models import AuditLog, DataReturn, IdempotencyKey, ReturnEvent, ReturnVersion, utcnow
from .periods import ensure_periods

RETURN_COLUMNS = ["id", "campaign_id", "framework", "period", "entity_kind", "entity_id", "state", "version",
                  "reviewed_version", "submitted_at", "created_by", "created_at", "updated_by", "updated_at",
                  "submission_id"]
COUNT_COLUMNS = ["answered", "errors", "warnings", "flagged"]


def campaign_members(session: Session, keys: Iterable[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """The ``(campaign_id, entity_kind, entity_id)`` among ``keys`` that are in their campaign's sample."""
    from .models import CampaignMember

    t = CampaignMember.__table__
    out: set[tuple[int, str, str]] = set()
    for chunk in _chunks(sorted(set(keys)), 300):
        q = select(t.c.campaign_id, t.c.entity_kind, t.c.entity_id).where(
            tuple_(t.c.campaign_id, t.c.entity_kind, t.c.entity_id).in_(chunk))
        out.update((int(c), k, e) for c, k, e in session.execute(q))
    return out


def find_keys(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IdempotencyKey]:
    """The stored idempotency keys among ``(actor, key)`` pairs (a read: retries are answered before
    validating again)."""
    out: dict[tuple[str, str], IdempotencyKey] = {}
    for chunk in _chunks(sorted(set(keys)), 300):
        q = select(IdempotencyKey).where(tuple_(IdempotencyKey.actor, IdempotencyKey.key).in_(chunk))
        out.update({(k.actor, k.key): k for k in session.execute(q).scalars()})
    return out


def lock_return(session: Session, return_id: int) -> DataReturn | None:
    """The return ``return_id`` locked for this write transaction (None when there is none)."""
    begin_write(session)
    q = select(DataReturn).where(DataReturn.id == return_id).with_for_update()
    return session.execute(q.execution_options(populate_existing=True)).scalar_one_or_none()


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
        _write_audit(session, [_state_change(ret.id, from_state, to_state, who, at, note or action, ret.submission_id)])
    session.flush()
    return ev


def _state_change(return_id: int, old: str | None, new: str, who: str, at: dt.datetime, why: str,
                  submission_id: int | None) -> dict[str, Any]:
    """The data audit trail's entry (table ``data_return``) of a return's state change."""
    return {"table": "data_return", "key": row_key(return_id), "field": "state", "old": _enc(old), "new": _enc(new),
            "who": who, "at": at, "why": why, "submission_id": submission_id}


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
    conn = session.connection()
    sectors = dict(conn.execute(select(inst.c.id, inst.c.sector).where(inst.c.id.in_(ids))).all())
    stored: dict[str, list[tuple[str, str, Any]]] = {}
    q = (select(et.c.entity_id, t.c.period, vt.c.name, func.coalesce(t.c.value_norm, t.c.value))
         .join(et, et.c.id == t.c.entity_ref).join(vt, vt.c.id == t.c.variable_ref).where(et.c.entity_id.in_(ids)))
    for e, p, v, x in conn.execute(q):
        stored.setdefault(e, []).append((p, v, x))
    sizes: dict[str, list[tuple[str, str, Any]]] = {}
    q = select(sz.c.entity_id, sz.c.period, sz.c.attribute, sz.c.value).where(
        sz.c.entity_kind == "institution", sz.c.entity_id.in_(ids))
    for e, p, a, x in conn.execute(q):
        sizes.setdefault(e, []).append((p, a, x))
    return sectors, stored, sizes


@dataclass
class NewVersion:
    """One submission to store with :func:`store_versions`: the return it belongs to (created in state
    ``draft`` when there is none), the version's bytes and what validation made of them, the history step
    (``action`` submit or save), the idempotency key it claims, and the platform's audit entry."""

    scope: str
    campaign_id: int | None
    framework: str
    period: str
    entity_kind: str
    entity_id: str
    actor: str
    action: str
    final: bool
    file_name: str
    media_type: str
    sha256: str
    payload: bytes
    valid: bool
    fields: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    note: str | None = None
    key: str | None = None
    fingerprint: str | None = None
    audit: dict[str, Any] | None = None  # audit_log columns but object (set to return:<id>): action, detail, actor_id, ip


@dataclass(frozen=True)
class Stored:
    return_id: int
    number: int
    state: str


#: A version's values as a reader sees them (``variable → shown``), what the next version's "what changed" compares.
Shown = dict[str, Any]


class _RecentShown:
    """The shown values of the newest version of the returns this process stored last, per database: a
    resubmission is compared with them without reading the previous version's fields back (a version never
    changes once stored; an entry is used only for the very version the locked return names, by its number and
    time, so another process's newer version, or a rolled-back one, is read as before)."""

    SIZE = 2048  # returns (about 10 KB each for 100 variables)

    def __init__(self) -> None:
        self._per: weakref.WeakKeyDictionary[Any, OrderedDict[int, tuple[tuple[int, Any], Shown]]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, engine: Any, return_id: int, stamp: tuple[int, Any]) -> Shown | None:
        with self._lock:
            hit = self._per.get(engine, {}).get(return_id)
        return hit[1] if hit is not None and hit[0] == stamp else None

    def put(self, engine: Any, entries: dict[int, tuple[tuple[int, Any], Shown]]) -> None:
        with self._lock:
            lru = self._per.setdefault(engine, OrderedDict())
            for rid, e in entries.items():
                lru[rid] = e
                lru.move_to_end(rid)
            while len(lru) > self.SIZE:
                lru.popitem(last=False)


RECENT = _RecentShown()


def _stamp(number: int, at: Any) -> tuple[int, Any]:
    """A version's identity for :class:`_RecentShown`: its number and time (as UTC without zone: SQLite gives the
    time back without one)."""
    if isinstance(at, dt.datetime) and at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return number, at


def store_versions(
    session: Session, items: Sequence[NewVersion], next_state: Callable[[str, str | None, int], str],
    shown: Callable[[list[dict[str, Any]]], Shown],
) -> list[Stored | IdempotencyKey | Exception]:
    """Store the versions of ``items`` in the caller's write transaction with a fixed number of statements
    (not a few per version): the returns created or locked (``FOR UPDATE``, in id order), the idempotency keys
    claimed (``INSERT … ON CONFLICT DO NOTHING``), the versions, history steps, state changes and audit
    entries inserted, the returns and keys updated. Per item, in order: :class:`Stored`; the stored
    :class:`IdempotencyKey` when another request (earlier, concurrent or earlier in ``items``) holds its key
    (its answer is that request's); or the exception ``next_state(action, state, return_id)`` raised (a state
    that allows no submission: nothing of that item is stored, its key is released). Versions of one return
    are numbered in the order of ``items``; each step records what changed: the variables whose ``shown(fields)``
    differs from the previous version's (old → new)."""
    begin_write(session)
    now = utcnow()
    ensure_periods(session, [it.period for it in items])
    conn = session.connection()  # Core statements on the connection: no ORM bookkeeping per statement
    rt, vt, et, kt, lt = (DataReturn.__table__, ReturnVersion.__table__, ReturnEvent.__table__,
                          IdempotencyKey.__table__, AuditLog.__table__)
    keys = sorted({(it.scope, it.entity_kind, it.entity_id) for it in items})
    first = {}
    for it in items:
        first.setdefault((it.scope, it.entity_kind, it.entity_id), it)
    conn.execute(_dialect_insert(session, rt).on_conflict_do_nothing(index_elements=["scope", "entity_kind", "entity_id"]),
                    [{"scope": s, "campaign_id": first[k].campaign_id, "framework": first[k].framework,
                      "period": first[k].period, "entity_kind": ek, "entity_id": e, "state": "draft", "version": 0,
                      "created_by": first[k].actor, "created_at": now, "updated_by": first[k].actor, "updated_at": now}
                     for k in keys for s, ek, e in [k]])
    cols = (rt.c.id, rt.c.scope, rt.c.entity_kind, rt.c.entity_id, rt.c.state, rt.c.version, rt.c.reviewed_version,
            rt.c.submitted_at, rt.c.submission_id, vt.c.submitted_at.label("newest_at"))
    rets: dict[tuple[str, str, str], dict[str, Any]] = {}
    for chunk in _chunks(keys, 300):
        q = (select(*cols).outerjoin(vt, and_(vt.c.return_id == rt.c.id, vt.c.number == rt.c.version))
             .where(tuple_(rt.c.scope, rt.c.entity_kind, rt.c.entity_id).in_(chunk)).order_by(rt.c.id))
        for r in conn.execute(q.with_for_update(of=rt)):
            rets[(r.scope, r.entity_kind, r.entity_id)] = dict(r._mapping)
    # the newest stored version's shown values of each return (the first step's "what changed")
    engine = session.get_bind()
    prev_shown: dict[int, Shown] = {}
    missing = []
    for r in rets.values():
        if r["version"]:
            hit = RECENT.get(engine, r["id"], _stamp(r["version"], r["newest_at"]))
            if hit is not None:
                prev_shown[r["id"]] = hit
            else:
                missing.append((r["id"], r["version"]))
    for chunk in _chunks(missing, 300):
        q = select(vt.c.return_id, vt.c.fields).where(tuple_(vt.c.return_id, vt.c.number).in_(chunk))
        prev_shown.update({rid: shown(f) for rid, f in conn.execute(q)})
    recent: dict[int, tuple[tuple[int, Any], Shown]] = {}
    # idempotency keys: the first item with a key owns it if nobody holds it yet
    keyed = sorted({(it.actor, it.key) for it in items if it.key is not None})
    owned: set[tuple[str, str]] = set()
    fp = {(it.actor, it.key): it.fingerprint for it in reversed(items) if it.key is not None}  # the first item's
    if keyed:  # one statement whatever the batch's size (compiled once: executemany with RETURNING)
        stmt = (_dialect_insert(session, kt).on_conflict_do_nothing(index_elements=["actor", "key"])
                .returning(kt.c.actor, kt.c.key))
        owned.update((a, k) for a, k in conn.execute(stmt, [{"actor": a, "key": k, "fingerprint": fp[(a, k)],
                                                              "created_at": now} for a, k in keyed]))
    out: list[Stored | IdempotencyKey | Exception | None] = [None] * len(items)
    held: dict[int, tuple[str, str]] = {}
    released: list[tuple[str, str]] = []
    failed: dict[tuple[str, str], Exception] = {}
    settle: list[dict[str, Any]] = []
    versions, events, entries, logs, touched = [], [], [], [], {}
    for i, it in enumerate(items):
        if it.key is not None:
            if (it.actor, it.key) not in owned:
                held[i] = (it.actor, it.key)
                continue
            owned.discard((it.actor, it.key))  # a second item with the same key gets the first one's answer
        r = rets[(it.scope, it.entity_kind, it.entity_id)]
        before = None if r["version"] == 0 else r["state"]
        try:
            to = next_state(it.action, before, r["id"])
        except Exception as exc:  # noqa: BLE001 - the caller's rule; this item stores nothing
            out[i] = exc
            if it.key is not None:
                released.append((it.actor, it.key))
                failed[(it.actor, it.key)] = exc  # a later item with the key gets this answer too
            continue
        at = utcnow()
        number = r["version"] + 1
        (fields_json, fields), (problems_json, problems) = json_prepared(it.fields), json_prepared(it.problems)
        previous, now_shown = prev_shown.get(r["id"]), shown(fields)
        versions.append({"return_id": r["id"], "number": number, "file_name": it.file_name, "media_type": it.media_type,
                         "sha256": it.sha256, "payload": it.payload, "size": len(it.payload), "final": it.final,
                         "valid": it.valid, "fields": fields_json, "problems": problems_json,
                         "answered": sum(f.get("value") is not None for f in fields),
                         "errors": sum(p.get("severity", "error") == "error" for p in problems),
                         "warnings": sum(p.get("severity", "error") != "error" for p in problems),
                         "flagged": sum(f.get("status") == "flagged" for f in fields),
                         "submitted_by": it.actor, "submitted_at": at})
        diff = _diff(previous, now_shown) if previous is not None else None
        events.append({"return_id": r["id"], "version": number, "action": it.action, "from_state": before, "to_state": to,
                       "who": it.actor, "at": at, "comments": None, "note": it.note,
                       "changes": _jsonable(diff) if diff else None})
        if before != to:
            entries.append(_state_change(r["id"], before, to, it.actor, at, it.note or it.action, r["submission_id"]))
        r.update(version=number, state=to, updated_by=it.actor, updated_at=at)
        if it.action == "submit":
            r["reviewed_version"] = number
            r["submitted_at"] = r["submitted_at"] or at
        prev_shown[r["id"]] = now_shown
        recent[r["id"]] = (_stamp(number, at), now_shown)
        touched[r["id"]] = r
        if it.key is not None:
            settle.append({"a": it.actor, "k": it.key, "rid": r["id"], "num": number})
        if it.audit is not None:
            a = it.audit
            logs.append(log_row(at, it.actor, a["action"], f"return:{r['id']}",
                                _jsonable({**(a.get("detail") or {}), "version": number, "state": to}),
                                actor_id=a.get("actor_id"), ip=a.get("ip")))
        out[i] = Stored(int(r["id"]), number, to)
    if versions:
        conn.execute(vt.insert(), versions)
        conn.execute(et.insert(), events)
        _write_audit(session, entries)
        conn.execute(rt.update().where(rt.c.id == bindparam("rid")).values(
            state=bindparam("state"), version=bindparam("version"), reviewed_version=bindparam("reviewed_version"),
            submitted_at=bindparam("submitted_at"), updated_by=bindparam("updated_by"), updated_at=bindparam("updated_at")),
            [{"rid": r["id"], **{c: r[c] for c in ("state", "version", "reviewed_version", "submitted_at", "updated_by",
                                                     "updated_at")}} for r in touched.values()])
    if settle:
        conn.execute(kt.update().where(kt.c.actor == bindparam("a"), kt.c.key == bindparam("k"))
                        .values(return_id=bindparam("rid"), version=bindparam("num")), settle)
    if logs:
        conn.execute(lt.insert(), logs)
    if released:
        for chunk in _chunks(released, 300):
            conn.execute(delete(kt).where(tuple_(kt.c.actor, kt.c.key).in_(chunk)))
    if recent:  # after the commit (a version rolled back is never the one a return names)
        event.listen(session, "after_commit", lambda _s: RECENT.put(engine, recent), once=True)
    if held:
        for i, (a, k) in held.items():  # read after the owner committed (READ COMMITTED) or in this transaction
            found = session.get(IdempotencyKey, (a, k), populate_existing=True)
            out[i] = found if found is not None else failed[(a, k)]
    return out  # type: ignore[return-value]


def _diff(old: Shown, new: Shown) -> dict[str, dict[str, Any]]:
    """Per variable whose shown value differs between two versions: old → new."""
    return {v: {"old": old.get(v), "new": new.get(v)} for v in sorted(set(old) | set(new), key=str)
            if old.get(v) != new.get(v)}


def _chunks(seq: Sequence[Any], n: int) -> Iterator[list[Any]]:
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]
