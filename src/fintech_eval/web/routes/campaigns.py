"""``/api/v1/campaigns``: rounds of collection and who has answered (``fintech_eval.app.campaigns``). A submitter
sees only the campaigns that ask its entities, and only its own rows of their status (no rates, no list to
chase); any other campaign answers 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ...app.campaigns import campaign_status, campaigns_asking, campaigns_frame, missing_entities
from ...app.rows import records
from ..auth import Principal, WorkspaceDep, require
from ..paging import PagingDep
from ..problems import not_found
from ..schemas import Campaign, CampaignStatus, MissingRow, Page
from .common import ERRORS, Id

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("campaigns.read"))]
Chaser = Annotated[Principal, Depends(require("campaigns.chase"))]


def visible_campaigns(p: Principal, ws) -> list[dict[str, Any]]:
    rows = records(campaigns_frame(ws))
    own = p.entities("institution")
    if own is not None:
        allowed = campaigns_asking(ws, own)
        rows = [r for r in rows if r["id"] in allowed]
    return rows


def one(p: Principal, ws, campaign_id: int) -> dict[str, Any]:
    for r in visible_campaigns(p, ws):
        if r["id"] == campaign_id:
            return r
    raise not_found(f"campaign {campaign_id}")


@router.get("", response_model=Page[Campaign], operation_id="list_campaigns")
def list_(p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    return paging.page(visible_campaigns(p, ws))


@router.get("/{campaign_id}", response_model=Campaign, operation_id="get_campaign")
def show(campaign_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    return one(p, ws, campaign_id)


@router.get("/{campaign_id}/status", response_model=CampaignStatus, operation_id="campaign_status")
def status(campaign_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    """Per entity of the sample: returned, on time, complete, accepted; with the reporting and on-time rates
    overall, by sector and by province (staff)."""
    meta = one(p, ws, campaign_id)
    st = campaign_status(ws, campaign_id)
    ents = records(st.entities)
    own = p.entities("institution")
    if own is not None:
        ents = [e for e in ents if e["entity_id"] in own]
    staff = own is None
    return {"campaign": meta, "entities": ents, "rates": records(st.rates) if staff else None,
            "warnings": [w.as_dict() for w in st.warnings] if staff else []}


@router.get("/{campaign_id}/missing", response_model=Page[MissingRow], operation_id="campaign_missing")
def missing(campaign_id: Id, p: Chaser, ws: WorkspaceDep, paging: PagingDep) -> dict:
    """Who to chase: the entities of the sample that have sent nothing."""
    one(p, ws, campaign_id)
    return paging.page(records(missing_entities(campaign_status(ws, campaign_id))))
