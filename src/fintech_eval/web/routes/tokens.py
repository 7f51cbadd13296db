"""``/api/v1/tokens``: my API tokens: create (the secret is shown once), list, revoke. Managed from a signed-in
browser session only (a token cannot mint or revoke tokens); another user's token answers 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from ...app.tokens import TokenInfo, create_token, get_token, list_tokens, revoke_token
from ..auth import Principal, WorkspaceDep, client_ip, require
from ..paging import PagingDep
from ..problems import not_found
from ..schemas import Page, TokenCreate, TokenCreated, TokenOut
from .common import ERRORS, Id

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERRORS)
Owner = Annotated[Principal, Depends(require("account.manage"))]


def token_out(t: TokenInfo) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "prefix": t.prefix, "scopes": list(t.scopes), "created_at": t.created_at,
            "expires_at": t.expires_at, "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}


@router.get("", response_model=Page[TokenOut], operation_id="list_tokens")
def list_(p: Owner, ws: WorkspaceDep, paging: PagingDep) -> dict:
    return paging.page([token_out(t) for t in list_tokens(ws, p.id)])


@router.post("", response_model=TokenCreated, status_code=201, operation_id="create_token")
def create(body: TokenCreate, p: Owner, request: Request, ws: WorkspaceDep) -> dict:
    """A new token with these scopes (never more than my role allows); copy ``token`` now: it is not shown again."""
    info, secret = create_token(ws, p.id, name=body.name, scopes=body.scopes, expires_days=body.expires_days,
                                ip=client_ip(request))
    return {**token_out(info), "token": secret}


@router.delete("/{token_id}", status_code=204, operation_id="revoke_token")
def revoke(token_id: Id, p: Owner, request: Request, ws: WorkspaceDep) -> Response:
    """Revoke one of my tokens: the next request with it is refused (401)."""
    t = get_token(ws, token_id)
    if t is None or t.user_id != p.id:
        raise not_found(f"token {token_id}")
    revoke_token(ws, token_id, who=p.email, actor_id=p.id, ip=client_ip(request))
    return Response(status_code=204)
