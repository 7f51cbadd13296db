"""The account page of a signed-in browser: who I am, my password, my API tokens (create: the secret is shown
once; revoke). The same application functions as ``/api/v1/auth/password`` and ``/api/v1/tokens``, behind
the same guard as every page (:func:`..pagekit.page_guard` with ``account.manage``, the permission of those API
routes): without a session, a redirect to the sign-in page and back (GET) or the 401 page (POST); every form
carries the session's CSRF token (the 403 page otherwise); another account's token is the 404 page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...app.accounts import change_password
from ...app.tokens import ROLE_SCOPES, create_token, get_token, list_tokens, revoke_token
from ...errors import DataError
from ..auth import Principal, client_ip, workspace
from ..pagekit import page_guard, page_not_found
from ..sessions import end_sessions
from .common import Id
from .pages import TEXT, language, render

router = APIRouter(include_in_schema=False)
Owner = Annotated[Principal, Depends(page_guard("account.manage"))]


def _page(request: Request, p: Principal, status: int = 200, **ctx) -> HTMLResponse:
    return render(request, "account.html.j2", status, tokens=list_tokens(workspace(request), p.id),
                  scopes=ROLE_SCOPES[p.role], **ctx)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, p: Owner) -> Response:
    return _page(request, p)


@router.post("/account/password", response_class=HTMLResponse)
def password_form(request: Request, p: Owner, current_password: Annotated[str, Form(max_length=1024)] = "",
                  new_password: Annotated[str, Form(max_length=1024)] = "",
                  repeat: Annotated[str, Form(max_length=1024)] = "") -> Response:
    t = TEXT[language(request)]
    if new_password != repeat:
        return _page(request, p, 422, error=t["mismatch"])
    try:
        change_password(workspace(request), p.id, current_password, new_password, ip=client_ip(request))
    except DataError as exc:
        return _page(request, p, 403 if exc.problems[0].rule == "password.wrong" else 422, error=exc.problems[0].text(language(request)))
    end_sessions(workspace(request), p.id, keep=p.session.id)
    return _page(request, p, notice=t["password_changed"])


@router.post("/account/tokens", response_class=HTMLResponse)
def token_form(request: Request, p: Owner, name: Annotated[str, Form(max_length=100)] = "",
               scopes: Annotated[list[str] | None, Form()] = None) -> Response:
    try:
        info, secret = create_token(workspace(request), p.id, name=name, scopes=scopes or [], ip=client_ip(request))
    except DataError as exc:
        return _page(request, p, 422, error=exc.problems[0].text(language(request)))
    return _page(request, p, new_token=secret, new_token_name=info.name)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_form(request: Request, token_id: Id, p: Owner) -> Response:
    t = get_token(workspace(request), token_id)
    if t is None or t.user_id != p.id:
        raise page_not_found()
    revoke_token(workspace(request), token_id, who=p.email, actor_id=p.id, ip=client_ip(request))
    return RedirectResponse("/account", status_code=303)
