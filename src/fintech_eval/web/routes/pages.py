"""Server-rendered pages (Jinja2): sign in, the signed-in home page, sign out, accepting an invitation (the
account page is in :mod:`.account_pages`); in Chinese or English (``?lang=``,
remembered in a cookie, else the browser's Accept-Language, else the default). The forms use the same account
functions as the API and the CSRF rules of :mod:`fintech_eval.web.csrf`."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...app.accounts import SignInRefused, sign_in
from ...app.invitations import accept_invitation, pending_invitation
from ...errors import DataError
from .. import csrf
from ..auth import client_ip, identify, settings, workspace
from ..i18n import LANG_COOKIE, LANGS, TEXT, negotiate
from ..problems import ApiProblem
from ..sessions import COOKIE, sign_out
from .account import start_session

router = APIRouter(include_in_schema=False)


@functools.cache
def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                       autoescape=select_autoescape(["html", "j2"]))


def language(request: Request) -> str:
    """The page's language: ``?lang=``, the language cookie, ``Accept-Language``, else the site's default."""
    return negotiate(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE),
                     request.headers.get("accept-language"), settings(request).default_language)


def render(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
    """A page in the caller's language; a signed-in page (one behind :func:`..pagekit.page_guard`) also gets
    ``user``, its ``csrf_token`` and the header's links."""
    from ..pagekit import nav_links

    lang = language(request)
    p = getattr(request.state, "principal", None)
    if p is not None and p.session is not None:
        ctx.setdefault("user", p.account)
        ctx.setdefault("csrf_token", p.session.csrf_token)
    user = ctx.get("user")
    html = _env().get_template(name).render(t=TEXT[lang], lang=lang, path=request.url.path,
                                            nav=nav_links(user.role if user is not None else None), **ctx)
    resp = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _anonymous_form(request: Request, status: int = 200, template: str = "sign_in.html.j2", **ctx) -> HTMLResponse:
    """A form for someone not signed in, with the double-submit CSRF cookie."""
    token = request.cookies.get(csrf.COOKIE) or csrf.new_token()
    resp = render(request, template, status, csrf_token=token, **ctx)
    resp.set_cookie(csrf.COOKIE, token, httponly=True, samesite="strict", path="/")
    return resp


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    p = identify(request)
    if p is None:
        return RedirectResponse("/sign-in", status_code=303)
    return render(request, "home.html.j2", user=p.account, csrf_token=p.session.csrf_token if p.session else "")


def _local(next_: str) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    return next_ if next_.startswith("/") and not next_.startswith("//") and "\\" not in next_ else "/"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query parameter's name
    return _anonymous_form(request, next=_local(next[:500]))


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, email: Annotated[str, Form(max_length=254)] = "",
                 password: Annotated[str, Form(max_length=1024)] = "",
                 csrf_token: Annotated[str, Form(max_length=200)] = "",
                 next: Annotated[str, Form(max_length=500)] = "/") -> Response:  # noqa: A002
    t = TEXT[language(request)]
    next = _local(next)  # noqa: A001
    try:
        csrf.check(request.cookies.get(csrf.COOKIE), csrf_token)
    except ApiProblem:
        return _anonymous_form(request, 403, error=t["csrf"], email=email, next=next)
    ws, st = workspace(request), settings(request)
    try:
        account = sign_in(ws, email, password, limits=st.sign_in_limits(), ip=client_ip(request))
    except SignInRefused as exc:
        status = 401 if exc.problems[0].rule == "sign_in.invalid" else 429
        return _anonymous_form(request, status, error=t["invalid"] if status == 401 else t["locked"], email=email,
                               next=next)
    resp = RedirectResponse(next, status_code=303)
    start_session(request, resp, ws, st, account)
    return resp


@router.post("/sign-out")
def sign_out_form(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    p = identify(request)
    if p is not None and p.session is not None:
        csrf.check(p.session.csrf_token, csrf_token)
        sign_out(workspace(request), p.session.id, user_id=p.id, email=p.email, ip=client_ip(request))
    resp = RedirectResponse("/sign-in", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/invitations/accept", response_class=HTMLResponse)
def invitation_page(request: Request, token: str = "") -> Response:
    """The page an invitation link opens: who is invited, for which entities; the password to set."""
    inv = pending_invitation(workspace(request), token[:200]) if token else None
    if inv is None:
        return render(request, "message.html.j2", 404, message=TEXT[language(request)]["invalid_link"])
    return _anonymous_form(request, template="invitation.html.j2", invitation=inv, token=token)


@router.post("/invitations/accept", response_class=HTMLResponse)
def invitation_form(request: Request, token: Annotated[str, Form(max_length=200)] = "",
                    password: Annotated[str, Form(max_length=1024)] = "",
                    repeat: Annotated[str, Form(max_length=1024)] = "",
                    csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    t = TEXT[language(request)]
    ws = workspace(request)
    inv = pending_invitation(ws, token)
    if inv is None:
        return render(request, "message.html.j2", 404, message=t["invalid_link"])
    again = {"template": "invitation.html.j2", "invitation": inv, "token": token}
    try:
        csrf.check(request.cookies.get(csrf.COOKIE), csrf_token)
    except ApiProblem:
        return _anonymous_form(request, 403, error=t["csrf"], **again)
    if password != repeat:
        return _anonymous_form(request, 422, error=t["mismatch"], **again)
    try:
        account = accept_invitation(ws, token, password=password, ip=client_ip(request))
    except DataError as exc:
        return _anonymous_form(request, 422, error=exc.problems[0].text(language(request)), **again)
    resp = RedirectResponse("/", status_code=303)
    start_session(request, resp, ws, settings(request), account)
    return resp
