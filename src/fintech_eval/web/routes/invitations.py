"""``/api/v1/invitations``: one-time links that create a submitter's account (staff create, list and revoke
them; the invited person accepts with the link's secret and chooses a password, and is then signed in)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from ...app.invitations import (
    InvitationInfo,
    accept_invitation,
    create_invitation,
    get_invitation,
    list_invitations,
    revoke_invitation,
)
from .. import csrf
from ..auth import Principal, SettingsDep, WorkspaceDep, client_ip, require
from ..paging import PagingDep
from ..problems import error_responses, not_found
from ..schemas import InvitationAccept, InvitationCreate, InvitationCreated, InvitationOut, Page, SignedIn
from .account import start_session
from .common import ERRORS, Id, entity_pairs, user_out

router = APIRouter(prefix="/invitations", tags=["invitations"], responses=ERRORS)
Staff = Annotated[Principal, Depends(require("invitations.manage"))]


def invitation_out(i: InvitationInfo) -> dict[str, Any]:
    return {"id": i.id, "email": i.email, "role": i.role, "entities": [{"kind": k, "id": e} for k, e in i.entities],
            "created_by": i.created_by, "created_at": i.created_at, "expires_at": i.expires_at, "used_at": i.used_at,
            "revoked_at": i.revoked_at, "user_id": i.user_id, "campaign_id": i.campaign_id, "state": i.state()}


def created_out(i: InvitationInfo, secret: str) -> dict[str, Any]:
    """A new invitation with its secret (shown this once) and the link to send."""
    return {**invitation_out(i), "token": secret, "accept_path": f"/invitations/accept?token={secret}"}


@router.get("", response_model=Page[InvitationOut], operation_id="list_invitations")
def list_(p: Staff, ws: WorkspaceDep, paging: PagingDep) -> dict:
    items, total = list_invitations(ws, limit=paging.limit, offset=paging.offset, campaigns=p.campaign_ids(ws))
    return paging.page([invitation_out(i) for i in items], total)


@router.post("", response_model=InvitationCreated, status_code=201, operation_id="create_invitation",
             responses=error_responses(409))
def create(body: InvitationCreate, p: Staff, request: Request, ws: WorkspaceDep) -> dict:
    """Invite a submitter for these entities; send the person the secret ``token`` (shown once)."""
    info, secret = create_invitation(ws, email=body.email, entities=entity_pairs(body.entities) or [], days=body.days,
                                     who=p.email, actor_id=p.id, ip=client_ip(request))
    return created_out(info, secret)


@router.delete("/{invitation_id}", status_code=204, operation_id="revoke_invitation")
def revoke(invitation_id: Id, p: Staff, request: Request, ws: WorkspaceDep) -> Response:
    inv = get_invitation(ws, invitation_id)
    if inv is None or (inv.campaign_id is not None and not p.may_see_campaign(ws, inv.campaign_id)):
        raise not_found(f"invitation {invitation_id}")
    revoke_invitation(ws, invitation_id, who=p.email, actor_id=p.id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/accept", response_model=SignedIn, status_code=201, operation_id="accept_invitation",
             dependencies=[Depends(csrf.require_json)], responses={415: {"description": "Not a JSON body"}})
def accept(body: InvitationAccept, request: Request, response: Response, ws: WorkspaceDep, settings: SettingsDep) -> dict:
    """Accept an invitation (public: the secret is the credential): creates the account with this password and
    signs it in."""
    acc = accept_invitation(ws, body.token, password=body.password, name=body.name, ip=client_ip(request))
    token = start_session(request, response, ws, settings, acc)
    return {"user": user_out(acc), "csrf_token": token}
