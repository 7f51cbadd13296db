"""The platform's audit log: every sign-in (success and failure), permission change, token created or
revoked, and (as those features land) every submission, review action and publication.

``audit(ws, actor, action, object, detail)`` is the one way to write it; pass ``session=`` to write inside a
transaction of your own (the entry then commits or rolls back with your change)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import DataError
from ..store.audit import log_row
from ..store.models import AuditLog
from .tx import writing
from .workspace import Workspace

#: The actions written so far (others may be added by the features that write them; keep this list in step).
ACTIONS: tuple[str, ...] = (
    "sign_in.success", "sign_in.failure", "sign_out", "password.change", "password.set",
    "user.create", "user.role", "user.entities", "user.active", "user.unlock",
    "token.create", "token.revoke", "invitation.create", "invitation.revoke", "invitation.accept",
    "vendor_assessment.create", "vendor_assessment.answer", "vendor_assessment.evidence",
    "vendor_assessment.evidence_withdraw", "vendor_assessment.publish",
    "vendor_assessment.open_to_vendor", "vendor_assessment.submit", "vendor_assessment.return",
    "run.score", "run.publish", "job.queue", "job.start", "job.finish",
    "campaign.create", "campaign.update", "campaign.staff_add", "campaign.staff_remove",
    "submission.submit", "submission.save", "review.return", "review.accept", "review.reject", "review.reopen",
    "review.flag_accept",
)  # fmt: skip


def audit(ws: Workspace | None, actor: str, action: str, object: str | None = None, detail: dict[str, Any] | None = None,
          *, actor_id: int | None = None, ip: str | None = None, session: Session | None = None) -> None:
    """Record that ``actor`` did ``action`` on ``object`` (e.g. ``user:3``), with a JSON ``detail``."""
    entry = AuditLog(**log_row(dt.datetime.now(dt.UTC), actor, action, object, detail, actor_id=actor_id, ip=ip))
    if session is not None:
        session.add(entry)
        session.flush()
        return
    assert ws is not None, "audit needs a workspace or a session"
    with writing(ws) as s:
        s.add(entry)


def audit_entries(ws: Workspace, *, action: str | None = None, actor: str | None = None, limit: int = 100,
                  offset: int = 0, action_prefix: str | None = None, object: str | None = None,
                  since: dt.datetime | None = None, until: dt.datetime | None = None) -> tuple[list[dict[str, Any]], int]:
    """Entries newest first (with the total count for paging): the API's ``GET /api/v1/audit`` and
    ``fintech-eval audit list``. Filters (all optional, combined): ``action`` (exactly), ``action_prefix``
    (``review`` → every ``review.*``; ``%`` and ``_`` are plain characters), ``actor`` (the e-mail, or ``cli``),
    ``object`` (exactly, e.g. ``return:7``), ``since`` (at or after) and ``until`` (before): aware datetimes,
    see :func:`audit_window`."""
    stmt = select(AuditLog)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if action_prefix:
        stmt = stmt.where(AuditLog.action.startswith(action_prefix, autoescape=True))
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if object:
        stmt = stmt.where(AuditLog.object == object)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= since)
    if until is not None:
        stmt = stmt.where(AuditLog.at < until)
    with ws.sessions() as s:
        total = s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = s.execute(stmt.order_by(AuditLog.id.desc()).limit(limit).offset(offset)).scalars().all()
        return [{"id": r.id, "at": r.at, "actor": r.actor, "actor_id": r.actor_id, "action": r.action,
                 "object": r.object, "detail": r.detail, "ip": r.ip} for r in rows], int(total)


def count_since(s: Session, action: str, since: dt.datetime, *, ip: str | None = None, object: str | None = None) -> int:
    """How many ``action`` entries since ``since`` for a client address or an object (sign-in throttling)."""
    stmt = select(func.count()).select_from(AuditLog).where(AuditLog.action == action, AuditLog.at >= since)
    if ip is not None:
        stmt = stmt.where(AuditLog.ip == ip)
    if object is not None:
        stmt = stmt.where(AuditLog.object == object)
    return int(s.execute(stmt).scalar_one())


def audit_window(since: str | dt.date | dt.datetime | None = None, until: str | dt.date | dt.datetime | None = None
                 ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The bounds of :func:`audit_entries` from what a person types: ``since`` a date (YYYY-MM-DD: from the start of
    that day) or an ISO date and time; ``until`` a date (through the end of that day) or a date and time (up to and
    including it). A date or a time without a zone is China Standard Time (UTC+8), as campaign deadlines are.
    Returns ``(at or after, before)``; a text that is not a date, or ``since`` after ``until``, is a
    :class:`DataError` (``audit.since``, ``audit.until``, ``audit.window``)."""
    from .campaigns import CST

    def parse(value: str | dt.date | dt.datetime | None, what: str) -> dt.datetime | dt.date | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            text = value.strip()
            try:
                value = dt.datetime.fromisoformat(text) if ("T" in text or ":" in text) else dt.date.fromisoformat(text)
            except ValueError:
                raise DataError(f"--{what} {value!r} is not a date (YYYY-MM-DD) or a date and time "
                                "(YYYY-MM-DDTHH:MM[:SS][+08:00])", rule=f"audit.{what}", field=what,
                                zh=f"--{what} {value!r} 不是日期（YYYY-MM-DD）或日期时间（YYYY-MM-DDTHH:MM[:SS][+08:00]）") from None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=CST)
        return value

    start, end = parse(since, "since"), parse(until, "until")
    if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time(0, 0), tzinfo=CST)
    if isinstance(end, dt.datetime):
        end = end + dt.timedelta(microseconds=1)  # a time: up to and including it
    elif isinstance(end, dt.date):
        end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0), tzinfo=CST)  # a day: through its end
    if start is not None and end is not None and start >= end:
        raise DataError(f"--since {since} is after --until {until}: no entry can match", rule="audit.window",
                        field="since", zh=f"--since {since} 晚于 --until {until}：没有记录可以匹配")
    return start, end
