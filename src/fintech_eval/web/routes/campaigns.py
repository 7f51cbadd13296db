"""``/api/v1/campaigns``: rounds of collection and who has answered (``fintech_eval.app.campaigns``); creating
them, changing their deadline, assigning evaluators (``app.campaign_staff``) and inviting the sample's
submitters (``app.campaign_invitations``). Which campaigns a caller sees is
:meth:`fintech_eval.web.auth.Principal.campaign_ids`: administrators every one, an evaluator those it is
assigned to, a submitter those that ask its entities (and only its own rows of their status: no rates, no
list to chase); any other campaign answers 404."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Request, Response

from ...app.campaign_invitations import invite_sample
from ...app.campaign_staff import StaffMember, assign_staff, campaign_staff, unassign_staff
from ...app.campaigns import CampaignStatus as CampaignStatusData
from ...app.campaigns import (
    campaign_status,
    campaigns_frame,
    choose_sample,
    create_campaign,
    missing_entities,
    update_campaign,
)
from ...app.invitations import list_invitations
from ...app.rows import records
from ..auth import Principal, WorkspaceDep, client_ip, require
from ..paging import PagingDep
from ..problems import error_responses, not_found
from ..schemas import (
    Campaign,
    CampaignChanged,
    CampaignCreate,
    CampaignInvite,
    CampaignStatus,
    CampaignUpdate,
    InvitationCreated,
    InvitationOut,
    MissingRow,
    Page,
    StaffAdd,
    StaffOut,
)
from .common import ERRORS, Id
from .invitations import created_out, invitation_out

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("campaigns.read"))]
Chaser = Annotated[Principal, Depends(require("campaigns.chase"))]
Manager = Annotated[Principal, Depends(require("campaigns.manage"))]


def visible_campaigns(p: Principal, ws) -> list[dict[str, Any]]:
    rows = records(campaigns_frame(ws))
    allowed = p.campaign_ids(ws)
    return rows if allowed is None else [r for r in rows if r["id"] in allowed]


def one(p: Principal, ws, campaign_id: int) -> dict[str, Any]:
    """The campaign if the caller may see it; 404 otherwise (the same answer as for one that does not exist)."""
    if p.may_see_campaign(ws, campaign_id):
        for r in records(campaigns_frame(ws)):
            if r["id"] == campaign_id:
                return r
    raise not_found(f"campaign {campaign_id}")


def status_view(p: Principal, ws, campaign_id: int) -> tuple[dict[str, Any], CampaignStatusData, pd.DataFrame]:
    """The campaign (404 if the caller may not see it), its status, and the rows of it the caller may see (a
    submitter: its own entities only; it gets no rates, warnings or list to chase)."""
    meta = one(p, ws, campaign_id)
    st = campaign_status(ws, campaign_id)
    own = p.entities("institution")
    ents = st.entities if own is None else st.entities[st.entities["entity_id"].isin(own)]
    return meta, st, ents


@router.get("", response_model=Page[Campaign], operation_id="list_campaigns")
def list_(p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    return paging.page(visible_campaigns(p, ws))


@router.post("", response_model=Campaign, status_code=201, operation_id="create_campaign")
def create(body: CampaignCreate, p: Manager, request: Request, ws: WorkspaceDep) -> dict:
    """Create a campaign (framework, period, sample, deadline, name); its creator is assigned to it."""
    sample = choose_sample(ws, entities=body.entities, sectors=body.sectors, provinces=body.provinces,
                           draw=body.draw.model_dump() if body.draw else None, framework=body.framework)
    cid = create_campaign(ws, period=body.period, framework=body.framework, sample=sample, deadline=body.deadline,
                          name=body.name, params=body.params, who=p.email, staff=[p.id], actor_id=p.id,
                          ip=client_ip(request))
    return one(p, ws, cid)


@router.get("/{campaign_id}", response_model=Campaign, operation_id="get_campaign")
def show(campaign_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    return one(p, ws, campaign_id)


@router.patch("/{campaign_id}", response_model=CampaignChanged, operation_id="update_campaign")
def update(campaign_id: Id, body: CampaignUpdate, p: Manager, request: Request, ws: WorkspaceDep) -> dict:
    """Change the deadline (null: none) and/or the name; audited with the old and new values."""
    one(p, ws, campaign_id)
    kw = {"deadline": body.deadline} if "deadline" in body.model_fields_set else {}
    changed = update_campaign(ws, campaign_id, name=body.name, who=p.email, actor_id=p.id, ip=client_ip(request), **kw)
    return {"campaign": one(p, ws, campaign_id), "changed": changed}


@router.get("/{campaign_id}/status", response_model=CampaignStatus, operation_id="campaign_status")
def status(campaign_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    """Per entity of the sample: returned, on time, complete, accepted; with the reporting and on-time rates
    overall, by sector and by province (staff)."""
    meta, st, ents = status_view(p, ws, campaign_id)
    staff = p.entities("institution") is None
    return {"campaign": meta, "entities": records(ents), "rates": records(st.rates) if staff else None,
            "warnings": [w.as_dict() for w in st.warnings] if staff else []}


@router.get("/{campaign_id}/missing", response_model=Page[MissingRow], operation_id="campaign_missing")
def missing(campaign_id: Id, p: Chaser, ws: WorkspaceDep, paging: PagingDep) -> dict:
    """Who to chase: the entities of the sample that have sent nothing."""
    one(p, ws, campaign_id)
    return paging.page(records(missing_entities(campaign_status(ws, campaign_id))))


def staff_out(m: StaffMember) -> dict[str, Any]:
    return {"user_id": m.user_id, "email": m.email, "name": m.name, "role": m.role, "added_by": m.added_by,
            "added_at": m.added_at}


@router.get("/{campaign_id}/staff", response_model=Page[StaffOut], operation_id="list_campaign_staff")
def staff(campaign_id: Id, p: Manager, ws: WorkspaceDep, paging: PagingDep) -> dict:
    """The evaluators assigned to the campaign."""
    one(p, ws, campaign_id)
    return paging.page([staff_out(m) for m in campaign_staff(ws, campaign_id)])


@router.post("/{campaign_id}/staff", response_model=Page[StaffOut], status_code=201, operation_id="assign_campaign_staff")
def assign(campaign_id: Id, body: StaffAdd, p: Manager, request: Request, ws: WorkspaceDep, paging: PagingDep) -> dict:
    """Assign an evaluator (by e-mail) to the campaign; answers the campaign's staff."""
    one(p, ws, campaign_id)
    assign_staff(ws, campaign_id, body.email, who=p.email, actor_id=p.id, ip=client_ip(request))
    return paging.page([staff_out(m) for m in campaign_staff(ws, campaign_id)])


@router.delete("/{campaign_id}/staff/{user_id}", status_code=204, operation_id="unassign_campaign_staff")
def unassign(campaign_id: Id, user_id: Id, p: Manager, request: Request, ws: WorkspaceDep) -> Response:
    """Remove an evaluator from the campaign (it no longer sees it)."""
    one(p, ws, campaign_id)
    unassign_staff(ws, campaign_id, user_id, who=p.email, actor_id=p.id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/{campaign_id}/invitations", response_model=Page[InvitationOut], operation_id="list_campaign_invitations")
def invitations(campaign_id: Id, p: Manager, ws: WorkspaceDep, paging: PagingDep) -> dict:
    """The invitations sent for this campaign, newest first, with their state (pending, accepted, revoked,
    expired); revoke one with ``DELETE /api/v1/invitations/{id}``."""
    one(p, ws, campaign_id)
    items, total = list_invitations(ws, limit=paging.limit, offset=paging.offset, campaign_id=campaign_id)
    return paging.page([invitation_out(i) for i in items], total)


@router.post("/{campaign_id}/invitations", response_model=list[InvitationCreated], status_code=201,
             operation_id="invite_campaign_submitters", responses=error_responses(409))
def invite(campaign_id: Id, body: CampaignInvite, p: Manager, request: Request, ws: WorkspaceDep) -> list[dict]:
    """Invite the submitters of sampled institutions: one invitation per e-mail address (bound to the
    institutions given with it), all or nothing; each answer carries its link's secret once."""
    one(p, ws, campaign_id)
    made = invite_sample(ws, campaign_id, [(r.entity_id, r.email) for r in body.invitations], days=body.days,
                         who=p.email, actor_id=p.id, ip=client_ip(request))
    return [created_out(i, secret) for i, secret in made]
