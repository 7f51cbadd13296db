"""Who works on a campaign: the evaluators assigned to it (table ``campaign_staff``). An evaluator sees and
manages only the campaigns it is assigned to (one who creates a campaign in the web platform is assigned to it);
administrators see every campaign. Every assignment and removal is written to the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import DataError
from ..store.models import Campaign, CampaignStaff, UserAccount
from .accounts import normalise_email
from .audit import audit
from .tx import writing
from .workspace import Workspace

#: The roles that can be assigned to a campaign (a submitter or viewer never manages one).
STAFF_ROLES = ("administrator", "evaluator")


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    email: str
    name: str | None
    role: str
    added_by: str
    added_at: dt.datetime


def campaign_row(s: Session, campaign_id: int) -> Campaign:
    c = s.get(Campaign, campaign_id)
    if c is None:
        raise DataError(f"no campaign {campaign_id}", rule="campaign.which", zh=f"评估项目 {campaign_id} 不存在")
    return c


def _user(s: Session, user: int | str) -> UserAccount:
    if isinstance(user, int):
        u = s.get(UserAccount, user)
    else:
        u = s.execute(select(UserAccount).where(UserAccount.email == normalise_email(user))).scalar_one_or_none()
    if u is None:
        raise DataError(f"no user {user}", rule="user.not_found", field="user", zh=f"用户 {user} 不存在")
    return u


def add_staff(s: Session, campaign_id: int, user: int | str, *, who: str, actor_id: int | None = None,
              ip: str | None = None) -> bool:
    """Assign ``user`` (an id or an e-mail) inside the caller's transaction; False when it was assigned already."""
    campaign_row(s, campaign_id)
    u = _user(s, user)
    if u.role not in STAFF_ROLES:
        raise DataError(f"{u.email} is a {u.role}: only evaluators and administrators work on a campaign",
                        rule="campaign.staff_role", field="user",
                        zh=f"{u.email} 的角色是 {u.role}：只有评估人员（evaluator）和管理员（administrator）参与评估项目")
    if s.get(CampaignStaff, (campaign_id, u.id)) is not None:
        return False
    s.add(CampaignStaff(campaign_id=campaign_id, user_id=u.id, added_by=who, added_at=dt.datetime.now(dt.UTC)))
    s.flush()
    audit(None, who, "campaign.staff_add", f"campaign:{campaign_id}", {"user": u.id, "email": u.email},
          actor_id=actor_id, ip=ip, session=s)
    return True


def assign_staff(ws: Workspace, campaign_id: int, user: int | str, *, who: str, actor_id: int | None = None,
                 ip: str | None = None) -> bool:
    """Assign an evaluator to a campaign (idempotent: False when it was assigned already, nothing audited)."""
    with writing(ws) as s:
        return add_staff(s, campaign_id, user, who=who, actor_id=actor_id, ip=ip)


def unassign_staff(ws: Workspace, campaign_id: int, user: int | str, *, who: str, actor_id: int | None = None,
                   ip: str | None = None) -> None:
    """Remove an evaluator from a campaign (it no longer sees it); one who is not assigned is an error."""
    with writing(ws) as s:
        campaign_row(s, campaign_id)
        u = _user(s, user)
        row = s.get(CampaignStaff, (campaign_id, u.id))
        if row is None:
            raise DataError(f"{u.email} is not assigned to campaign {campaign_id}", rule="campaign.not_staff",
                            field="user", zh=f"{u.email} 未分配到评估项目 {campaign_id}")
        s.delete(row)
        audit(None, who, "campaign.staff_remove", f"campaign:{campaign_id}", {"user": u.id, "email": u.email},
              actor_id=actor_id, ip=ip, session=s)


def campaign_staff(ws: Workspace, campaign_id: int) -> list[StaffMember]:
    """The people assigned to a campaign, by e-mail."""
    with ws.sessions() as s:
        campaign_row(s, campaign_id)
        rows = s.execute(select(UserAccount, CampaignStaff).join(CampaignStaff, CampaignStaff.user_id == UserAccount.id)
                         .where(CampaignStaff.campaign_id == campaign_id).order_by(UserAccount.email)).all()
        return [StaffMember(u.id, u.email, u.name, u.role, cs.added_by, cs.added_at) for u, cs in rows]


def campaigns_of(ws: Workspace, user_id: int) -> set[int]:
    """The ids of the campaigns ``user_id`` is assigned to."""
    with ws.sessions() as s:
        return set(s.execute(select(CampaignStaff.campaign_id).where(CampaignStaff.user_id == user_id)).scalars())
