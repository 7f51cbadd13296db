"""The platform's audit log: every sign-in (success and failure), permission change, token created or
revoked, and (as those features land) every submission, review action and publication.

``audit(ws, actor, action, object, detail)`` is the one way to write it; pass ``session=`` to write inside a
transaction of your own (the entry then commits or rolls back with your change)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
    "run.score", "run.publish",
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
                  offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Entries newest first (with the total count for paging)."""
    stmt = select(AuditLog)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
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
