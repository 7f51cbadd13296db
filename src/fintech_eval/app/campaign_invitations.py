"""Inviting the submitters of a campaign's sample: one invitation per e-mail address, bound to the sampled
institutions given with it (a person answering for two banks gets one link for both), recorded with the
campaign (``invitation.campaign_id``). All or nothing: every row is checked first (the entity in the sample,
the address valid, without an account and without a pending invitation) and every problem is named with its
row; then the invitations are created in one transaction. Accepting and revoking are those of
:mod:`.invitations`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select, true

from ..errors import DataError, Problem
from ..store.models import CampaignMember, Invitation, UserAccount, UserEntity
from .accounts import normalise_email
from .campaign_staff import campaign_row
from .invitations import DEFAULT_DAYS, InvitationInfo, _info, new_invitation
from .tx import writing
from .workspace import Workspace


def _members(s, campaign_id: int) -> list[str]:
    return list(s.execute(select(CampaignMember.entity_id).where(CampaignMember.campaign_id == campaign_id,
                                                                 CampaignMember.entity_kind == "institution")
                          .order_by(CampaignMember.entity_id)).scalars())


def _pending(s, now: dt.datetime) -> list[Invitation]:
    return list(s.execute(select(Invitation).where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
                                                   Invitation.expires_at > now)).scalars())


def invite_sample(ws: Workspace, campaign_id: int, rows: Iterable[tuple[str, str]], *, days: int = DEFAULT_DAYS,
                  who: str, actor_id: int | None = None, ip: str | None = None) -> list[tuple[InvitationInfo, str]]:
    """Invitations for ``rows`` of (entity id, e-mail): one per address, with its secret (shown once)."""
    rows = [(str(e).strip(), str(m).strip()) for e, m in rows]
    if not rows:
        raise DataError("no entity and e-mail address to invite", rule="campaign.invite_empty",
                        zh="没有要邀请的主体和电子邮箱地址")
    now = dt.datetime.now(dt.UTC)
    with writing(ws) as s:
        campaign_row(s, campaign_id)
        sample = set(_members(s, campaign_id))
        problems: list[Problem] = []
        by_email: dict[str, list[str]] = {}
        for n, (entity, email) in enumerate(rows, start=1):
            where = {"row": n, "entity": entity, "field": "email"}
            if entity not in sample:
                problems.append(Problem("campaign.invite_entity", f"{entity} is not in campaign {campaign_id}'s sample",
                                        {**where, "field": "entity_id"},
                                        message_zh=f"{entity} 不在评估项目 {campaign_id} 的样本中"))
            try:
                address = normalise_email(email)
            except DataError as exc:
                problems.append(Problem("user.email", exc.problems[0].message, where,
                                        message_zh=exc.problems[0].message_zh))
                continue
            ents = by_email.setdefault(address, [])
            if entity not in ents:
                ents.append(entity)
        if by_email:
            have = set(s.execute(select(UserAccount.email).where(UserAccount.email.in_(list(by_email)))).scalars())
            waiting = {i.email: i.id for i in _pending(s, now) if i.email in by_email}
            for address in by_email:
                if address in have:
                    problems.append(Problem("user.exists", f"an account for {address} exists already",
                                            {"field": "email", "email": address}, message_zh=f"{address} 的账户已存在"))
                elif address in waiting:
                    problems.append(Problem("invitation.pending", f"{address} has a pending invitation "
                                            f"({waiting[address]}): revoke it first to send a new one",
                                            {"field": "email", "email": address},
                                            message_zh=f"{address} 已有待接受的邀请（{waiting[address]}）："
                                                       "请先撤销它再发送新的邀请"))
        if problems:
            raise DataError(problems)
        return [new_invitation(s, email=address, entities=[("institution", e) for e in ents], days=days, who=who,
                               actor_id=actor_id, ip=ip, campaign_id=campaign_id)
                for address, ents in by_email.items()]


def sample_access(ws: Workspace, campaign_id: int) -> pd.DataFrame:
    """Per sampled institution: the active accounts answering for it (``accounts``: e-mails) and the pending
    invitations naming it (``invited``: e-mails), so that the campaign page shows whom to invite still."""
    now = dt.datetime.now(dt.UTC)
    with ws.sessions() as s:
        campaign_row(s, campaign_id)
        members = _members(s, campaign_id)
        bound = s.execute(select(UserEntity.entity_id, UserAccount.email).join(UserAccount, UserAccount.id == UserEntity.user_id)
                          .where(UserEntity.entity_kind == "institution", UserAccount.active == true(),
                                 UserEntity.entity_id.in_(members)).order_by(UserAccount.email)).all()
        pending = [_info(i) for i in _pending(s, now)]
    accounts: dict[str, list[str]] = {}
    for entity, email in bound:
        accounts.setdefault(entity, []).append(email)
    invited: dict[str, list[str]] = {}
    for inv in pending:
        for kind, entity in inv.entities:
            if kind == "institution":
                invited.setdefault(entity, []).append(inv.email)
    return pd.DataFrame({"entity_id": members, "accounts": [accounts.get(m, []) for m in members],
                         "invited": [sorted(invited.get(m, [])) for m in members]})
