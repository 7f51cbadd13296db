"""The guard of signed-in pages: anonymous → sign-in (and back), no permission → 403 page, a form without the
session's CSRF token → 403 page, a token is not a browser session; sign-in goes back only to a local path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fintech_eval.web.auth import Principal
from fintech_eval.web.pagekit import page_guard

from .conftest import PASSWORD


def _with_page(world):
    router = APIRouter(include_in_schema=False)

    @router.get("/guarded", response_class=HTMLResponse)
    @router.post("/guarded", response_class=HTMLResponse)
    def guarded(request: Request, p: Annotated[Principal, Depends(page_guard("users.manage"))]) -> str:
        return f"<p>{p.email}</p>"

    world.app.include_router(router)
    return world


def _browser(world, role):
    c = world.anonymous()
    c.get("/sign-in")
    r = c.post("/sign-in", data={"email": world.email(role), "password": PASSWORD,
                                 "csrf_token": c.cookies.get("fe_csrf")}, follow_redirects=False)
    assert r.status_code == 303
    return c


def test_anonymous_is_sent_to_sign_in_and_back(world):
    w = _with_page(world)
    c = w.anonymous()
    r = c.get("/guarded", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=/guarded"
    c.get("/sign-in?next=/guarded")
    r = c.post("/sign-in", data={"email": w.email("administrator"), "password": PASSWORD, "next": "/guarded",
                                 "csrf_token": c.cookies.get("fe_csrf")}, follow_redirects=False)
    assert r.headers["location"] == "/guarded"
    assert c.get("/guarded").text == "<p>administrator@example.org</p>"


def test_sign_in_never_sends_to_another_site(world):
    c = world.anonymous()
    page = c.get("/sign-in?next=//evil.example/x").text
    assert 'name="next" value="/"' in page
    r = c.post("/sign-in", data={"email": world.email("viewer"), "password": PASSWORD, "next": "https://evil.example",
                                 "csrf_token": c.cookies.get("fe_csrf")}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_role_without_permission_gets_a_403_page(world):
    w = _with_page(world)
    r = _browser(w, "evaluator").get("/guarded")
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]


def test_form_without_the_session_csrf_token_is_refused(world):
    w = _with_page(world)
    c = _browser(w, "administrator")
    assert c.post("/guarded", data={"csrf_token": "forged"}).status_code == 403
    token = c.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert c.post("/guarded", data={"csrf_token": token}).status_code == 200


def test_an_api_token_is_not_a_page_session(world):
    w = _with_page(world)
    token = w.token("administrator", scopes=("read", "admin"))
    r = w.anonymous().get("/guarded", headers={"Authorization": f"Bearer {token}"}, follow_redirects=False)
    assert r.status_code == 303
