"""Signing in and out, the caller's own account and password: ``/api/v1/auth/*`` and ``/api/v1/me``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ...app.accounts import Account, change_password, sign_in
from ...app.tokens import digest
from .. import csrf
from ..auth import Principal, SettingsDep, WorkspaceDep, client_ip, require
from ..policy import PERMISSIONS
from ..schemas import Me, PasswordChange, SignedIn, SignIn
from ..sessions import COOKIE, create_session, end_session, end_sessions
from ..sessions import sign_out as sign_out_session
from ..settings import WebSettings
from .common import ERRORS, user_out

router = APIRouter(tags=["account"], responses=ERRORS)


def start_session(request: Request, response: Response, ws, settings: WebSettings, account: Account) -> str:
    """Sign ``account`` in: a new session (never the one the browser brought: no session fixation; that one
    ends), its cookie set on ``response``; returns the CSRF token."""
    previous = request.cookies.get(COOKIE)
    if previous:
        end_session(ws, digest(previous))
    secret, sess = create_session(ws, account.id, settings, ip=client_ip(request),
                                  user_agent=request.headers.get("user-agent"))
    secure = settings.cookie_secure if settings.cookie_secure is not None else request.url.scheme == "https"
    response.set_cookie(COOKIE, secret, max_age=int(settings.session_hours * 3600), httponly=True, samesite="lax",
                        secure=secure, path="/")
    return sess.csrf_token


@router.post("/auth/sign-in", response_model=SignedIn, operation_id="sign_in", dependencies=[Depends(csrf.require_json)],
             responses={429: ERRORS[401] | {"description": "Too many failed sign-ins (locked or throttled)"},
                        415: {"description": "Not a JSON body"}})
def sign_in_route(body: SignIn, request: Request, response: Response, ws: WorkspaceDep, settings: SettingsDep) -> dict:
    """Sign in with e-mail and password: sets the session cookie (HttpOnly, SameSite=Lax, Secure over https) and
    returns the CSRF token to send as ``X-CSRF-Token`` with every state-changing request of the session."""
    account = sign_in(ws, body.email, body.password, limits=settings.sign_in_limits(), ip=client_ip(request))
    token = start_session(request, response, ws, settings, account)
    return {"user": user_out(account), "csrf_token": token}


@router.post("/auth/sign-out", status_code=204, operation_id="sign_out")
def sign_out(p: Annotated[Principal, Depends(require("account.manage"))], request: Request, ws: WorkspaceDep) -> Response:
    """End this session (the cookie is cleared)."""
    assert p.session is not None  # account.manage is session-only
    sign_out_session(ws, p.session.id, user_id=p.id, email=p.email, ip=client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/auth/password", status_code=204, operation_id="change_password")
def password(body: PasswordChange, p: Annotated[Principal, Depends(require("account.manage"))], request: Request,
             ws: WorkspaceDep) -> Response:
    """Change my password (the current one is required); my other sessions end."""
    change_password(ws, p.id, body.current_password, body.new_password, ip=client_ip(request))
    end_sessions(ws, p.id, keep=p.session.id if p.session else None)
    return Response(status_code=204)


@router.get("/me", response_model=Me, operation_id="me")
def me(p: Annotated[Principal, Depends(require("account.read"))]) -> dict:
    """Who am I: my account, how I am signed in, what I may do."""
    return {"user": user_out(p.account), "via": p.via, "scopes": sorted(p.scopes),
            "permissions": sorted(n for n, perm in PERMISSIONS.items() if p.role in perm.roles),
            "csrf_token": p.session.csrf_token if p.session else None}
