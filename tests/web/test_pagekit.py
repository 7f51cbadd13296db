"""The guard of signed-in pages: anonymous → sign-in (and back), no permission → 403 page, a form without the
session's CSRF token → 403 page, a token is not a browser session; sign-in goes back only to a local path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fintech_eval.app.tokens import create_token, list_tokens
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


def test_a_mistyped_page_address_gets_the_404_page_and_the_api_its_problem(world):
    c = world.anonymous()
    page = c.get("/campagins?lang=zh", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"] and "未找到" in page.text
    api = c.get("/api/v1/campagins", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["rule"] == "route.not_found"
    assert c.get("/campagins").json()["rule"] == "route.not_found"  # a client that does not ask for HTML


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


#: The pages anyone may open or post (signing in and out, accepting an invitation, the home page that sends to
#: sign-in, a static asset); every other page is behind :func:`page_guard`.
PUBLIC_PAGES = {"GET /", "GET /sign-in", "POST /sign-in", "POST /sign-out", "GET /invitations/accept",
                "POST /invitations/accept", "GET /assets/plotly.min.js", "GET /assets/swagger/{name}"}


def test_every_signed_in_page_is_behind_the_page_guard(world):
    """A page cannot keep its own session and CSRF check: the route table's pages (not the API, not the OpenAPI
    document and its viewer) name a permission through ``page_guard``, except the public ones above."""
    from fintech_eval.web.app import route_table
    from fintech_eval.web.auth import permission_of

    pages = {f"{m} {p}": permission_of(d) for m, p, d in route_table(world.app)
             if d is not None and not p.startswith(("/api/", "/docs", "/openapi"))}
    assert {k for k, perm in pages.items() if perm is None} == PUBLIC_PAGES
    assert {k: perm for k, perm in pages.items() if k.split(" ")[1].startswith("/account")} == {
        "GET /account": "account.manage", "POST /account/password": "account.manage",
        "POST /account/tokens": "account.manage", "POST /account/tokens/{token_id}/revoke": "account.manage"}


def test_the_account_pages_answer_as_every_guarded_page(world):
    """/account: anonymous → sign-in and back; a form without a session → the 401 page, without the session's CSRF
    token → the 403 page, in the visitor's language; another account's token → the 404 page, nothing revoked."""
    c = world.anonymous()
    r = c.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=/account"
    r = c.post("/account/tokens?lang=en", data={"name": "x", "scopes": ["read"]}, follow_redirects=False)
    assert r.status_code == 401 and "text/html" in r.headers["content-type"] and "Please sign in first" in r.text
    c.get("/sign-in?next=/account")
    r = c.post("/sign-in", data={"email": world.email("viewer"), "password": PASSWORD, "next": "/account",
                                 "csrf_token": c.cookies.get("fe_csrf")}, follow_redirects=False)
    assert r.headers["location"] == "/account"
    page = c.get("/account?lang=en")
    assert page.status_code == 200 and world.email("viewer") in page.text
    r = c.post("/account/password?lang=en", data={"current_password": PASSWORD, "new_password": "x" * 12,
                                                  "repeat": "x" * 12})
    assert r.status_code == 403 and "The form expired" in r.text
    assert world.anonymous().post("/api/v1/auth/sign-in", json={"email": world.email("viewer"),
                                                               "password": PASSWORD}).status_code == 200  # unchanged
    others, _ = create_token(world.ws, world.users["evaluator"], name="theirs", scopes=["read"])
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post(f"/account/tokens/{others.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert [t.revoked_at for t in list_tokens(world.ws, world.users["evaluator"]) if t.id == others.id] == [None]
