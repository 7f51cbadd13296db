"""Invitations: a one-time link that creates a submitter's account, bound to its institutions or vendors, and
lets the person set the password. Only the SHA-256 of the link's secret is stored; a link works once, until
it expires (default 14 days) or is revoked; accepting it signs nobody else in and is audited."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..errors import DataError
from ..store.models import Invitation, UserAccount
from .accounts import Account, check_entities, check_role, create_user, normalise_email
from .audit import audit
from .passwords import check_new_password
from .tokens import digest
from .tx import writing
from .workspace import Workspace

DEFAULT_DAYS = 14


@dataclass(frozen=True)
class InvitationInfo:
    id: int
    email: str
    role: str
    entities: tuple[tuple[str, str], ...]
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    user_id: int | None
    campaign_id: int | None = None

    def state(self, now: dt.datetime | None = None) -> str:
        """``accepted``, ``revoked``, ``expired`` or ``pending``."""
        if self.used_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (now or dt.datetime.now(dt.UTC)) else "pending"


def _info(i: Invitation) -> InvitationInfo:
    return InvitationInfo(i.id, i.email, i.role, tuple((e["kind"], e["id"]) for e in i.entities or []), i.created_by,
                          i.created_at, i.expires_at, i.used_at, i.revoked_at, i.user_id, i.campaign_id)


def create_invitation(ws: Workspace, *, email: str, entities: Iterable[tuple[str, str]], role: str = "submitter",
                      days: int = DEFAULT_DAYS, who: str, actor_id: int | None = None,
                      ip: str | None = None) -> tuple[InvitationInfo, str]:
    """An invitation for ``email`` and its secret (put it in the link; shown once)."""
    with writing(ws) as s:
        return new_invitation(s, email=email, entities=entities, role=role, days=days, who=who, actor_id=actor_id,
                              ip=ip)


def new_invitation(s: Session, *, email: str, entities: Iterable[tuple[str, str]], role: str = "submitter",
                   days: int = DEFAULT_DAYS, who: str, actor_id: int | None = None, ip: str | None = None,
                   campaign_id: int | None = None) -> tuple[InvitationInfo, str]:
    """:func:`create_invitation` inside the caller's write transaction (many invitations all-or-nothing)."""
    email = normalise_email(email)
    check_role(role)
    if not 1 <= days <= 90:
        raise DataError("an invitation is valid for 1 to 90 days", rule="invitation.expiry", field="days",
                        zh="邀请的有效期为 1 到 90 天")
    secret = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    ents = check_entities(s, role, entities)
    if s.execute(select(UserAccount.id).where(UserAccount.email == email)).first() is not None:
        raise DataError(f"an account for {email} exists already", rule="user.exists", field="email",
                        zh=f"{email} 的账户已存在")
    inv = Invitation(token_hash=digest(secret), email=email, role=role, entities=[{"kind": k, "id": i} for k, i in ents],
                     created_by=who, created_at=now, expires_at=now + dt.timedelta(days=days), campaign_id=campaign_id)
    s.add(inv)
    s.flush()
    audit(None, who, "invitation.create", f"invitation:{inv.id}", {"email": email, "role": role,
                                                                 "entities": [list(e) for e in ents],
                                                                 **({"campaign": campaign_id} if campaign_id else {})},
          actor_id=actor_id, ip=ip, session=s)
    return _info(inv), secret


def list_invitations(ws: Workspace, *, limit: int = 100, offset: int = 0, campaign_id: int | None = None,
                     campaigns: set[int] | None = None) -> tuple[list[InvitationInfo], int]:
    """Invitations newest first, with the total for paging: only those sent for ``campaign_id`` when given; with
    ``campaigns``, only those sent outside a campaign or for one of them (what an evaluator sees)."""
    where = [] if campaign_id is None else [Invitation.campaign_id == campaign_id]
    if campaigns is not None:
        where.append(or_(Invitation.campaign_id.is_(None), Invitation.campaign_id.in_(sorted(campaigns))))
    with ws.sessions() as s:
        total = s.execute(select(func.count()).select_from(Invitation).where(*where)).scalar_one()
        rows = s.execute(select(Invitation).where(*where).order_by(Invitation.id.desc()).limit(limit)
                         .offset(offset)).scalars().all()
        return [_info(i) for i in rows], int(total)


def get_invitation(ws: Workspace, invitation_id: int) -> InvitationInfo | None:
    with ws.sessions() as s:
        inv = s.get(Invitation, invitation_id)
        return None if inv is None else _info(inv)


def revoke_invitation(ws: Workspace, invitation_id: int, *, who: str, actor_id: int | None = None,
                      ip: str | None = None) -> InvitationInfo:
    with writing(ws) as s:
        inv = s.get(Invitation, invitation_id)
        if inv is None:
            raise DataError(f"no invitation {invitation_id}", rule="invitation.not_found", zh=f"邀请 {invitation_id} 不存在")
        if inv.used_at is None and inv.revoked_at is None:
            inv.revoked_at = dt.datetime.now(dt.UTC)
            audit(None, who, "invitation.revoke", f"invitation:{inv.id}", {"email": inv.email}, actor_id=actor_id, ip=ip,
                  session=s)
        return _info(inv)


def _usable(inv: Invitation | None, now: dt.datetime) -> bool:
    return inv is not None and inv.used_at is None and inv.revoked_at is None and inv.expires_at > now


def pending_invitation(ws: Workspace, secret: str, *, now: dt.datetime | None = None) -> InvitationInfo | None:
    """The invitation of this link if it can still be accepted (None: unknown, used, revoked or expired)."""
    now = now or dt.datetime.now(dt.UTC)
    with ws.sessions() as s:
        inv = s.execute(select(Invitation).where(Invitation.token_hash == digest(str(secret)))).scalar_one_or_none()
        if not _usable(inv, now):
            return None
        return _info(inv)


def accept_invitation(ws: Workspace, secret: str, *, password: str, name: str | None = None,
                      ip: str | None = None, now: dt.datetime | None = None) -> Account:
    """Create the invited account with ``password``; the link is used up. An unknown, used, revoked or expired
    link is one answer (``invitation.invalid``), so a guess learns nothing."""
    now = now or dt.datetime.now(dt.UTC)
    invalid = DataError("this invitation link is not valid (unknown, used, revoked or expired): ask for a new one",
                        rule="invitation.invalid", field="token",
                        zh="邀请链接无效（不存在、已使用、已撤销或已过期），请联系评估人员重新发送")
    with writing(ws) as s:
        inv = s.execute(select(Invitation).where(Invitation.token_hash == digest(str(secret)))
                        .with_for_update()).scalar_one_or_none()
        if not _usable(inv, now):
            raise invalid
        check_new_password(password, email=inv.email)
        acc = create_user(ws, email=inv.email, role=inv.role, password=password, name=name,
                          entities=[(e["kind"], e["id"]) for e in inv.entities], who=f"invitation:{inv.id}", ip=ip,
                          session=s)
        inv.used_at, inv.user_id = now, acc.id
        audit(None, acc.email, "invitation.accept", f"invitation:{inv.id}", {"user": acc.id}, actor_id=acc.id, ip=ip,
              session=s)
        return acc

