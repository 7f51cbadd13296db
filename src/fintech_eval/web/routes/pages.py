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
from ...app.audit import audit
from ...app.invitations import accept_invitation, pending_invitation
from ...errors import DataError
from .. import csrf
from ..auth import client_ip, identify, settings, workspace
from ..problems import ApiProblem
from ..sessions import COOKIE, end_session
from .account import start_session

router = APIRouter(include_in_schema=False)
LANG_COOKIE = "fe_lang"
LANGS = ("zh", "en")
TEXT = {
    "zh": {"title": "金融科技评估平台", "sign_in": "登录", "email": "电子邮箱", "password": "密码", "sign_out": "退出登录",
           "signed_in_as": "当前用户", "role": "角色", "api": "接口文档", "invalid": "电子邮箱或密码错误",
           "locked": "登录失败次数过多，请稍后再试或联系管理员", "csrf": "表单已过期，请重新提交",
           "welcome": "设置密码以激活账户", "entities": "填报主体", "new_password": "新密码（至少 10 个字符）",
           "repeat": "再次输入新密码", "activate": "激活账户", "mismatch": "两次输入的密码不一致",
           "invalid_link": "邀请链接无效（不存在、已使用、已撤销或已过期），请联系评估人员重新发送",
           "account": "我的账户", "tokens": "接口令牌", "token_name": "名称", "scopes": "权限范围", "created": "创建时间",
           "last_used": "最近使用", "revoked": "已撤销", "revoke": "撤销", "create_token": "创建令牌",
           "token_once": "请立即复制此令牌：它只显示这一次", "change_password": "修改密码",
           "current_password": "当前密码", "password_changed": "密码已修改，其他会话已退出",
           "not_signed_in": "请先登录", "not_found": "未找到",
           "roles": {"administrator": "管理员", "evaluator": "评估人员", "submitter": "填报机构", "viewer": "查看者"}},
    "en": {"title": "FinTech evaluation platform", "sign_in": "Sign in", "email": "E-mail", "password": "Password",
           "sign_out": "Sign out", "signed_in_as": "Signed in as", "role": "Role", "api": "API documentation",
           "invalid": "Wrong e-mail or password", "locked": "Too many failed sign-ins: try again later or ask an administrator",
           "csrf": "The form expired: please submit it again",
           "welcome": "Set a password to activate your account", "entities": "Reporting for",
           "new_password": "New password (at least 10 characters)", "repeat": "The new password again",
           "activate": "Activate account", "mismatch": "The two passwords differ",
           "invalid_link": "This invitation link is not valid (unknown, used, revoked or expired): ask for a new one",
           "account": "My account", "tokens": "API tokens", "token_name": "Name", "scopes": "Scopes",
           "created": "Created", "last_used": "Last used", "revoked": "Revoked", "revoke": "Revoke",
           "create_token": "Create a token", "token_once": "Copy this token now: it is shown this once",
           "change_password": "Change password", "current_password": "Current password",
           "password_changed": "Password changed; your other sessions were signed out",
           "not_signed_in": "Please sign in first", "not_found": "Not found",
           "roles": {"administrator": "administrator", "evaluator": "evaluator", "submitter": "submitter", "viewer": "viewer"}},
}


@functools.cache
def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                       autoescape=select_autoescape(["html", "j2"]))


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return asked
    accept = request.headers.get("accept-language", "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in LANGS:
            return code
    return settings(request).default_language


def render(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
    lang = language(request)
    html = _env().get_template(name).render(t=TEXT[lang], lang=lang, path=request.url.path, **ctx)
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


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return _anonymous_form(request)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, email: Annotated[str, Form(max_length=254)] = "",
                 password: Annotated[str, Form(max_length=1024)] = "",
                 csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    t = TEXT[language(request)]
    try:
        csrf.check(request.cookies.get(csrf.COOKIE), csrf_token)
    except ApiProblem:
        return _anonymous_form(request, 403, error=t["csrf"], email=email)
    ws, st = workspace(request), settings(request)
    try:
        account = sign_in(ws, email, password, limits=st.sign_in_limits(), ip=client_ip(request))
    except SignInRefused as exc:
        status = 401 if exc.problems[0].rule == "sign_in.invalid" else 429
        return _anonymous_form(request, status, error=t["invalid"] if status == 401 else t["locked"], email=email)
    resp = RedirectResponse("/", status_code=303)
    start_session(request, resp, ws, st, account)
    return resp


@router.post("/sign-out")
def sign_out_form(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    p = identify(request)
    if p is not None and p.session is not None:
        csrf.check(p.session.csrf_token, csrf_token)
        end_session(workspace(request), p.session.id)
        audit(workspace(request), p.email, "sign_out", f"user:{p.id}", None, actor_id=p.id, ip=client_ip(request))
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
        return _anonymous_form(request, 422, error=exc.problems[0].message, **again)
    resp = RedirectResponse("/", status_code=303)
    start_session(request, resp, ws, settings(request), account)
    return resp
