"""``/api/v1/users``: accounts (administrators): create, list, show, set role and entities, disable, unlock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ...app.accounts import create_user, get_user, list_users, update_user
from ..auth import Principal, WorkspaceDep, client_ip, require
from ..paging import PagingDep
from ..problems import error_responses, not_found
from ..schemas import Page, UserCreate, UserOut, UserUpdate
from ..sessions import end_sessions
from .common import ERRORS, Id, entity_pairs, user_out

router = APIRouter(prefix="/users", tags=["users"], responses=ERRORS)
Admin = Annotated[Principal, Depends(require("users.manage"))]


@router.get("", response_model=Page[UserOut], operation_id="list_users")
def list_(p: Admin, ws: WorkspaceDep, paging: PagingDep) -> dict:
    users, total = list_users(ws, limit=paging.limit, offset=paging.offset)
    return paging.page([user_out(u) for u in users], total)


@router.post("", response_model=UserOut, status_code=201, operation_id="create_user", responses=error_responses(409))
def create(body: UserCreate, p: Admin, request: Request, ws: WorkspaceDep) -> dict:
    """A new account; a submitter is bound to at least one registered institution or vendor."""
    acc = create_user(ws, email=body.email, role=body.role, password=body.password, name=body.name,
                      entities=entity_pairs(body.entities) or [], who=p.email, actor_id=p.id, ip=client_ip(request))
    return user_out(acc)


@router.get("/{user_id}", response_model=UserOut, operation_id="get_user")
def show(user_id: Id, p: Admin, ws: WorkspaceDep) -> dict:
    acc = get_user(ws, user_id)
    if acc is None:
        raise not_found(f"user {user_id}")
    return user_out(acc)


@router.patch("/{user_id}", response_model=UserOut, operation_id="update_user", responses=error_responses(409))
def update(user_id: Id, body: UserUpdate, p: Admin, request: Request, ws: WorkspaceDep) -> dict:
    """Set the role, entities, active flag or name, or lift a lockout (each change audited). Disabling an
    account ends its sessions and stops its tokens."""
    if get_user(ws, user_id) is None:
        raise not_found(f"user {user_id}")
    acc = update_user(ws, user_id, role=body.role, entities=entity_pairs(body.entities), active=body.active, name=body.name,
                      unlock=body.unlock, who=p.email, actor_id=p.id, ip=client_ip(request))
    if not acc.active:
        end_sessions(ws, acc.id)
    return user_out(acc)
