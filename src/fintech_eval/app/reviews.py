"""Review of flagged values: list them, and record that an evaluator checked them (``fintech-eval review``).

A value is flagged at intake (an outlier within its variable, sector and period; a public-data conflict;
…) and stored with the reason. An evaluator who has checked it accepts it with a reason
(:func:`accept_flagged`): the acceptance is stored and audited (each value in its audit trail, the step in the
platform's audit log as ``review.flag_accept``), and :func:`~fintech_eval.app.campaigns.campaign_status`
no longer counts the value as blocking the return's acceptance. The acceptance covers the flag the value
carries then: a correction that changes the flag (``fintech-eval correct`` re-evaluates it) needs a new check.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select

from ..collect.texts import text_rule, user_problems
from ..errors import DataError, Problem
from ..store.models import CampaignMember
from ..store.reviews import accept_flags, flagged_frame
from .audit import audit
from .campaigns import resolve_campaign
from .workspace import Workspace


def _scope(ws: Workspace, campaign_id: int | None, entities: Iterable[str] | None, period: str | None
           ) -> tuple[list[str] | None, str | None, int | None]:
    """The entities and period a campaign (if given) and the filters select."""
    ents = list(entities) if entities else None
    if campaign_id is None:
        return ents, period, None
    c = resolve_campaign(ws, campaign_id)
    with ws.sessions() as s:
        members = s.execute(select(CampaignMember.entity_id).where(CampaignMember.campaign_id == c.id)).scalars().all()
    if period is not None and str(period) != c.period:
        raise DataError(f"campaign {c.id} is for {c.period}, not {period}", rule="review.scope",
                        zh=f"评估项目 {c.id} 的期间是 {c.period}，不是 {period}")
    chosen = [e for e in members if ents is None or e in set(ents)]
    return chosen, c.period, int(c.id)


def list_flagged(ws: Workspace, *, campaign_id: int | None = None, entities: Iterable[str] | None = None,
                 variables: Iterable[str] | None = None, period: str | None = None, open_only: bool = False) -> pd.DataFrame:
    """The flagged values (of a campaign's sample and period, or as filtered), with whether their flag is accepted."""
    ents, per, _ = _scope(ws, campaign_id, entities, period)
    with ws.sessions() as s:
        out = flagged_frame(s, entity_ids=ents, periods=per, variables=list(variables) if variables else None)
    return out[~out["accepted"]].reset_index(drop=True) if open_only else out


def accept_flagged(ws: Workspace, *, why: str, who: str = "cli", campaign_id: int | None = None,
                   entities: Iterable[str] | None = None, variables: Iterable[str] | None = None,
                   period: str | None = None, every: bool = False, actor_id: int | None = None,
                   ip: str | None = None) -> tuple[int, pd.DataFrame]:
    """Accept the flagged values selected (by entity, variable, period, or every one of a campaign with
    ``every``), with a reason; returns how many were accepted now and the values selected. Selecting
    nothing at all is refused (``every=True`` says it is meant). Accepting any is one ``review.flag_accept``
    entry in the audit log (the selection, how many, the reason), in the same transaction."""
    entities, variables = (list(entities) if entities else None), (list(variables) if variables else None)
    problems = list(user_problems(who))
    hit = text_rule(why or "", None)
    if not (why or "").strip():
        problems.append(Problem("review.reason", "a review needs a reason (--why)", {"column": "--why"},
                                message_zh="审核需要填写理由（--why）"))
    elif hit:
        problems.append(Problem(hit[0], f"the reason {hit[1]}", {"column": "--why"}, message_zh=f"理由{hit[2]}"))
    if not every and not (entities or variables or period):
        problems.append(Problem("review.scope", "name the flagged values to accept (--entity, --variable, --period) "
                                "or accept every flagged value of the campaign with --all", {},
                                message_zh="请指定要接受的标记值（--entity、--variable、--period），"
                                           "或用 --all 接受评估项目的全部标记值"))
    if problems:
        raise DataError(problems)
    ents, per, cid = _scope(ws, campaign_id, entities, period)
    with ws.sessions() as s, s.begin():
        flags = flagged_frame(s, entity_ids=ents, periods=per, variables=list(variables) if variables else None)
        if flags.empty:
            raise DataError("no flagged value matches: nothing to accept (`fintech-eval review list` shows them)",
                            rule="review.none",
                            zh="没有匹配的标记值，无可接受（`fintech-eval review list` 列出标记值）")
        n = accept_flags(s, flags, who=who, why=why, campaign_id=cid)
        if n:
            audit(None, who, "review.flag_accept", f"campaign:{cid}" if cid is not None else None,
                  {"accepted": n, "selected": len(flags), "why": why, "period": per, "every": every,
                   "entities": sorted(set(entities)) if entities else None,
                   "variables": sorted(set(variables)) if variables else None},
                  actor_id=actor_id, ip=ip, session=s)
    return n, flags
