"""The account page of a signed-in browser: who I am, my password, my API tokens (create: the secret is shown
once; revoke). The same application functions as ``/api/v1/auth/password`` and ``/api/v1/tokens``; every form
carries the session's CSRF token. Without a session: a redirect to the sign-in page (GET) or 401 (POST)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...app.accounts import change_password
from ...app.tokens import ROLE_SCOPES, create_token, get_token, list_tokens, revoke_token
from ...errors import DataError
from .. import csrf
from ..auth import Principal, client_ip, identify, workspace
from ..problems import ApiProblem
from ..sessions import end_sessions
from .common import Id
from .pages import TEXT, language, render

router = APIRouter(include_in_schema=False)


def _signed_in(request: Request) -> Principal | None:
    p = identify(request)
    return p if p is not None and p.session is not None else None


def _page(request: Request, p: Principal, status: int = 200, **ctx) -> HTMLResponse:
    return render(request, "account.html.j2", status, user=p.account, tokens=list_tokens(workspace(request), p.id),
                  scopes=ROLE_SCOPES[p.role], csrf_token=p.session.csrf_token, **ctx)


def _form_session(request: Request, csrf_token: str) -> Principal:
    """The signed-in session a form came from, its CSRF token checked (401 / 403 pages otherwise)."""
    p = _signed_in(request)
    if p is None:
        raise ApiProblem(401, "auth.required", TEXT[language(request)]["not_signed_in"])
    csrf.check(p.session.csrf_token, csrf_token)
    return p


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    p = _signed_in(request)
    if p is None:
        return RedirectResponse("/sign-in?next=/account", status_code=303)
    return _page(request, p)


@router.post("/account/password", response_class=HTMLResponse)
def password_form(request: Request, current_password: Annotated[str, Form(max_length=1024)] = "",
                  new_password: Annotated[str, Form(max_length=1024)] = "",
                  repeat: Annotated[str, Form(max_length=1024)] = "",
                  csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    p = _form_session(request, csrf_token)
    t = TEXT[language(request)]
    if new_password != repeat:
        return _page(request, p, 422, error=t["mismatch"])
    try:
        change_password(workspace(request), p.id, current_password, new_password, ip=client_ip(request))
    except DataError as exc:
        return _page(request, p, 403 if exc.problems[0].rule == "password.wrong" else 422, error=exc.problems[0].message)
    end_sessions(workspace(request), p.id, keep=p.session.id)
    return _page(request, p, notice=t["password_changed"])


@router.post("/account/tokens", response_class=HTMLResponse)
def token_form(request: Request, name: Annotated[str, Form(max_length=100)] = "",
               scopes: Annotated[list[str] | None, Form()] = None,
               csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    p = _form_session(request, csrf_token)
    try:
        info, secret = create_token(workspace(request), p.id, name=name, scopes=scopes or [], ip=client_ip(request))
    except DataError as exc:
        return _page(request, p, 422, error=exc.problems[0].message)
    return _page(request, p, new_token=secret, new_token_name=info.name)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_form(request: Request, token_id: Id, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    p = _form_session(request, csrf_token)
    t = get_token(workspace(request), token_id)
    if t is None or t.user_id != p.id:
        return render(request, "message.html.j2", 404, message=TEXT[language(request)]["not_found"])
    revoke_token(workspace(request), token_id, who=p.email, actor_id=p.id, ip=client_ip(request))
    return RedirectResponse("/account", status_code=303)
