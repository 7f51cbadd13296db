"""The authorization matrix, generated from the application's route table: every route (``app.routes``: the
API, the pages, the OpenAPI document) × every role (and anonymous) × an object of the caller's own tenant and
one of another tenant is requested, and the answer must be the one written below: ``ok`` (2xx/3xx), 401, 403
or 404. A route missing from :data:`EXPECT` fails the test, so a new route cannot escape the matrix; an entry
for a route that no longer exists fails too.

Expectations are written here by hand from docs/web.md (not derived from ``fintech_eval.web.policy``, which
they check). Roles: A administrator, E evaluator, S submitter (bound to institution B001 and vendor V001),
V viewer, - anonymous. "own" objects: B001, V001, campaign 1 (asks B001; the evaluator is assigned to it), the
published run, the caller's own token; "other": B002, V002, campaign 2 (asks only B002; the evaluator is not
assigned), the draft run, another user's token.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fintech_eval.app.accounts import create_user
from fintech_eval.app.campaign_invitations import invite_sample
from fintech_eval.app.campaign_staff import assign_staff
from fintech_eval.app.campaigns import create_campaign
from fintech_eval.app.invitations import create_invitation
from fintech_eval.app.submissions import accept, return_form, returns_list, submit
from fintech_eval.app.tokens import create_token
from fintech_eval.web.app import route_table

from . import vendor_helpers as vh
from .conftest import PASSWORD, World
from .results_data import scored_runs

ROLE_KEYS = {"A": "administrator", "E": "evaluator", "S": "submitter", "V": "viewer", "-": None}
_counter = itertools.count(1)


def grid(text: str) -> dict[str | None, tuple[str, str]]:
    """``"A:ok/ok E:ok/ok S:ok/404 V:403/403 -:401/401"`` → role → (own, other)."""
    out = {}
    for part in text.split():
        key, _, pair = part.partition(":")
        own, _, other = pair.partition("/")
        out[ROLE_KEYS[key]] = (own, other or own)
    assert set(out) == set(ROLE_KEYS.values()), text
    return out


PUBLIC = "A:ok E:ok S:ok V:ok -:ok"
EVERYONE = "A:ok E:ok S:ok V:ok -:401"
SESSION = EVERYONE
ADMIN = "A:ok E:403 S:403 V:403 -:401"
STAFF = "A:ok E:ok S:403 V:403 -:401"
TENANT = "A:ok/ok E:ok/ok S:ok/404 V:403/403 -:401/401"
RUNS = "A:ok/ok E:ok/ok S:ok/404 V:ok/404 -:401/401"
#: the named results of a run (ranking of others, map, industry, files): a submitter only when the publisher
#: chose the named ranking (the scored run is published with the default, the anonymised distribution)
NAMED = "A:ok/ok E:ok/ok S:404/404 V:ok/404 -:401/401"
RUN_PAGES = RUNS.replace("-:401/401", "-:ok/ok")  # an anonymous GET of a page is sent to the sign-in page


def scored(w: World, role: str | None, tenancy: str, **more: Any) -> dict[str, Any]:
    """A run with results: own = the published one, other = a draft."""
    return {"run_id": scored_runs(w)["published" if tenancy == "own" else "draft"], **more}


def score_page(w: World, client, role, tenancy) -> Any:
    return client.post("/results", data={"campaign": scored_runs(w)["round"].campaign, "csrf_token": _csrf(client)},
                       follow_redirects=False)


def job_of(w: World, role: str | None, tenancy: str) -> dict[str, Any]:
    """A queued scoring job of campaign 1 (own) or 2 (other): nothing runs it here (no job runner in the tests'
    clients), so each cell gets a job of its own to cancel."""
    from fintech_eval.app.jobs import enqueue

    cid = 1 if tenancy == "own" else 2
    job = enqueue(w.ws, "score", {"out": "runs", "campaign": cid}, who="matrix", campaign_id=cid)
    return {"job_id": job["id"]}


def publish_page(w: World, client, role, tenancy) -> Any:  # the published run again: the draft stays a draft
    return client.post(f"/results/{scored_runs(w)['published']}/publish",
                       data={"peer_visibility": "distribution", "csrf_token": _csrf(client)}, follow_redirects=False)


#: A campaign: administrators see every one, the evaluator campaign 1 (assigned), the submitter campaign 1 (asks B001).
CAMPAIGN_READ = "A:ok/ok E:ok/404 S:ok/404 V:403/403 -:401/401"
CAMPAIGN_STAFF = "A:ok/ok E:ok/404 S:403/403 V:403/403 -:401/401"


#: A campaign's page: as the API, but anonymous visitors are sent to the sign-in page (a redirect).
CAMPAIGN_PAGE = "A:ok/ok E:ok/404 S:ok/404 V:403/403 -:ok/ok"


def campaign_invitation(w: World, role: str | None, tenancy: str) -> dict[str, Any]:
    ids = campaign(w, role, tenancy)
    (info, _), = invite_sample(w.ws, ids["campaign_id"], [("B002", f"r{next(_counter)}@example.org")], who="test")
    return {**ids, "invitation_id": info.id}


def campaign(w: World, role: str | None, tenancy: str) -> dict[str, Any]:
    return {"campaign_id": 1 if tenancy == "own" else 2}


def new_evaluator(w: World) -> tuple[int, str]:
    email = f"ev{next(_counter)}@example.org"
    return create_user(w.ws, email=email, role="evaluator", who="test").id, email


def assigned_evaluator(w: World, role: str | None, tenancy: str) -> dict[str, Any]:
    """A fresh evaluator assigned to the campaign (so removing it changes nobody else's view)."""
    uid, email = new_evaluator(w)
    ids = campaign(w, role, tenancy)
    assign_staff(w.ws, ids["campaign_id"], email, who="test")
    return {**ids, "user_id": uid}


def _other_role(role: str | None) -> str:
    return "evaluator" if role == "administrator" else "administrator"


def token_id(w: World, role: str | None, tenancy: str) -> int:
    owner = role if (tenancy == "own" and role) else _other_role(role)
    info, _ = create_token(w.ws, w.users[owner], name="matrix", scopes=["read"])
    return info.id


def invitation_id(w: World, role: str | None, tenancy: str) -> int:
    info, _ = create_invitation(w.ws, email=f"inv{next(_counter)}@example.org", entities=[("institution", "B001")],
                                who="test")
    return info.id


def accept_body(w: World, role: str | None, tenancy: str) -> dict[str, Any]:
    _, secret = create_invitation(w.ws, email=f"acc{next(_counter)}@example.org", entities=[("institution", "B002")],
                                  who="test")
    return {"token": secret, "password": PASSWORD}


def sign_in_form(w: World, client, role, tenancy) -> Any:
    client.get("/sign-in")  # the double-submit cookie
    token = client.cookies.get("fe_csrf")
    return client.post("/sign-in", data={"email": w.email("viewer"), "password": PASSWORD, "csrf_token": token},
                       follow_redirects=False)


def invitation_page(w: World, client, role, tenancy) -> Any:
    return client.get("/invitations/accept?token=" + accept_body(w, role, tenancy)["token"])


def invitation_form(w: World, client, role, tenancy) -> Any:
    secret = accept_body(w, role, tenancy)["token"]
    client.get("/invitations/accept?token=" + secret)  # the double-submit cookie
    return client.post("/invitations/accept", data={"token": secret, "password": PASSWORD, "repeat": PASSWORD,
                                                    "csrf_token": client.cookies.get("fe_csrf")}, follow_redirects=False)


def _csrf(client) -> str:
    return client.headers.get("X-CSRF-Token", "")


def account_password_and_back(w: World, client, role, tenancy) -> Any:
    new = PASSWORD + " 3"
    r = client.post("/account/password", data={"current_password": PASSWORD, "new_password": new, "repeat": new,
                                               "csrf_token": _csrf(client)}, follow_redirects=False)
    if r.status_code == 200:
        back = client.post("/account/password", data={"current_password": new, "new_password": PASSWORD,
                                                      "repeat": PASSWORD, "csrf_token": _csrf(client)})
        assert back.status_code == 200, back.text
    return r


def sign_out_form(w: World, client, role, tenancy) -> Any:
    return client.post("/sign-out", data={"csrf_token": client.headers.get("X-CSRF-Token", "")}, follow_redirects=False)


def change_password_and_back(w: World, client, role, tenancy) -> Any:
    new = PASSWORD + " 2"
    r = client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": new})
    if r.status_code == 204:  # the other cells sign in with PASSWORD
        back = client.post("/api/v1/auth/password", json={"current_password": new, "new_password": PASSWORD})
        assert back.status_code == 204, back.text
    return r


# --- returns: "own" is B001's, "other" B002's; a review step gets a return of its own in the state it needs ---
ANSWERS = {"fintech_staff": "3", "employees": "5"}
PAGE = "A:ok/ok E:ok/404 S:ok/404 V:403/403 -:ok/ok"  # a page: anonymous GET → the sign-in page
PAGE_POST = "A:ok/ok E:ok/404 S:ok/404 V:403/403 -:401/401"
FORMS = "A:ok/ok E:ok/404 S:ok/404 V:403/403 -:401/401"  # a campaign's questionnaires
REVIEW = "A:ok E:ok/404 S:403 V:403 -:401"  # an evaluator: its campaigns' returns


def _entity(tenancy: str) -> str:
    return "B001" if tenancy == "own" else "B002"


def campaign_of(w: World, tenancy: str) -> int:
    return 1 if tenancy == "own" else 2


def form_of(w: World, role: str | None, tenancy: str) -> dict[str, Any]:
    return {"campaign_id": campaign_of(w, tenancy), "entity_id": _entity(tenancy)}


def campaign_return(w: World, role: str | None, tenancy: str) -> int:
    """The return of campaign 1 (B001) or 2 (B002), submitted once."""
    cid, ent = campaign_of(w, tenancy), _entity(tenancy)
    df = returns_list(w.ws, cid, entity=ent)
    if len(df):
        return int(df["id"].iloc[0])
    return submit(w.ws, ent, cid, ANSWERS, actor="matrix").return_id


def fresh_return(w: World, role: str | None, tenancy: str, state: str = "submitted") -> int:
    """A new return (in a campaign of its own, the evaluator's for an own return) of B001 or B002 in ``state``
    (submitted or accepted)."""
    cid = create_campaign(w.ws, period="2024", sample=["B001", "B002"], name=f"matrix {next(_counter)}")
    if tenancy == "own":
        assign_staff(w.ws, cid, w.users["evaluator"], who="test")
    rid = submit(w.ws, _entity(tenancy), cid, ANSWERS, actor="matrix").return_id
    if state == "accepted":
        accept(w.ws, [rid], actor="matrix")
    return rid


def form_post(path: str, extra: dict[str, Any] | None = None, multipart: bool = False):
    def call(w: World, c, role, tenancy):
        cid, ent = campaign_of(w, tenancy), _entity(tenancy)
        every = {f"v.{f['variable']}": "N/A" for f in return_form(w.ws, ent, cid)["fields"]}  # a complete form
        data = {**every, "csrf_token": _csrf(c), "campaign": str(cid), "entity": ent,
                "v.fintech_staff": "3", "v.employees": "5", **(extra or {})}
        files = {"file": ("return.json", b'{"fintech_staff": 3, "employees": 5}', "application/json")} if multipart else None
        return c.post(path, data=data, files=files, follow_redirects=False)
    return call


def review_post(action: str, state: str = "submitted", **form):
    def call(w: World, c, role, tenancy):
        rid = fresh_return(w, role, tenancy, state)
        return c.post(f"/returns/{rid}/review", data={"csrf_token": _csrf(c), "action": action, **form},
                      follow_redirects=False)
    return call


def accept_selected(w: World, c, role, tenancy):
    return c.post("/returns/accept", data={"csrf_token": _csrf(c), "ids": [str(fresh_return(w, role, tenancy))]},
                  follow_redirects=False)
def return_body(entity: str) -> dict[str, Any]:
    """A valid return of ``entity`` for campaign 1 (which asks B001 and B002)."""
    return {"entity": entity, "campaign": 1, "values": {"fintech_staff": 30 + next(_counter)}}


def return_of(w: World, tenancy: str) -> int:
    """A return of B001 (own) or B002 (other), made through the application function."""
    from fintech_eval.app.submissions import submit

    return submit(w.ws, "B001" if tenancy == "own" else "B002", 1, {"fintech_staff": 30}, actor="matrix").return_id


def upload_return(w: World, client, role, tenancy) -> Any:
    entity = "B001" if tenancy == "own" else "B002"
    csv = (f"entity_id,period,variable,value\n{entity},2024,fintech_staff,{40 + next(_counter)}\n"  # a part of
           f"{entity},2024,employees,100000\n").encode()  # employees (others' forms stored employees 5)
    return client.post("/api/v1/returns/upload", data={"entity": entity, "campaign": "1"},
                       files={"file": ("return.csv", csv, "text/csv")}, follow_redirects=False)


@dataclass
class Case:
    expect: str
    params: Callable[[World, str | None, str], dict[str, Any]] | None = None
    body: Callable[[World, str | None, str], Any] | None = None
    query: str = ""
    call: Callable[..., Any] | None = None  # a request of its own (forms)
    fresh: bool = False  # the request ends or changes the session: use a client of its own


EXPECT: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/health"): Case(PUBLIC),
    ("POST", "/api/v1/auth/sign-in"): Case(PUBLIC, body=lambda w, r, t: {"email": w.email("viewer"), "password": PASSWORD},
                                           fresh=True),
    ("POST", "/api/v1/auth/sign-out"): Case(SESSION, fresh=True),
    ("POST", "/api/v1/auth/password"): Case(SESSION, call=change_password_and_back, fresh=True),
    ("GET", "/api/v1/me"): Case(EVERYONE),
    ("GET", "/api/v1/users"): Case(ADMIN),
    ("POST", "/api/v1/users"): Case(ADMIN, body=lambda w, r, t: {"email": f"u{next(_counter)}@example.org", "role": "viewer"}),
    ("GET", "/api/v1/users/{user_id}"): Case(ADMIN, params=lambda w, r, t: {"user_id": w.users["viewer"]}),
    ("PATCH", "/api/v1/users/{user_id}"): Case(ADMIN, params=lambda w, r, t: {"user_id": w.users["viewer"]},
                                               body=lambda w, r, t: {"name": "Viewer"}),
    ("GET", "/api/v1/tokens"): Case(SESSION),
    ("POST", "/api/v1/tokens"): Case(SESSION, body=lambda w, r, t: {"name": "t", "scopes": ["read"]}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Case("A:ok/404 E:ok/404 S:ok/404 V:ok/404 -:401/401",
                                                  params=lambda w, r, t: {"token_id": token_id(w, r, t)}),
    ("GET", "/api/v1/invitations"): Case(STAFF),
    ("POST", "/api/v1/invitations"): Case(STAFF, body=lambda w, r, t: {"email": f"i{next(_counter)}@example.org",
                                                                       "entities": [{"kind": "institution", "id": "B001"}]}),
    ("DELETE", "/api/v1/invitations/{invitation_id}"): Case(STAFF, params=lambda w, r, t: {"invitation_id": invitation_id(w, r, t)}),
    ("POST", "/api/v1/invitations/accept"): Case(PUBLIC, body=accept_body, fresh=True),
    ("GET", "/api/v1/audit"): Case(ADMIN),
    ("GET", "/api/v1/registers/institutions"): Case(TENANT.replace("S:ok/404", "S:ok/ok")),
    ("GET", "/api/v1/registers/institutions/{entity_id}"): Case(TENANT, params=lambda w, r, t: {"entity_id": "B001" if t == "own" else "B002"}),
    ("GET", "/api/v1/registers/vendors"): Case(TENANT.replace("S:ok/404", "S:ok/ok")),
    ("GET", "/api/v1/registers/vendors/{entity_id}"): Case(TENANT, params=lambda w, r, t: {"entity_id": "V001" if t == "own" else "V002"}),
    ("GET", "/api/v1/campaigns"): Case(TENANT.replace("S:ok/404", "S:ok/ok")),
    ("POST", "/api/v1/campaigns"): Case(STAFF, body=lambda w, r, t: {"period": "2024", "entities": ["B002"],
                                                                     "deadline": "2025-06-30"}),
    ("GET", "/api/v1/campaigns/{campaign_id}"): Case(CAMPAIGN_READ, params=campaign),
    ("PATCH", "/api/v1/campaigns/{campaign_id}"): Case(CAMPAIGN_STAFF, params=campaign, body=lambda w, r, t: {"name": "renamed"}),
    ("GET", "/api/v1/campaigns/{campaign_id}/status"): Case(CAMPAIGN_READ, params=campaign),
    ("GET", "/api/v1/campaigns/{campaign_id}/missing"): Case(CAMPAIGN_STAFF, params=campaign),
    ("GET", "/api/v1/campaigns/{campaign_id}/staff"): Case(CAMPAIGN_STAFF, params=campaign),
    ("POST", "/api/v1/campaigns/{campaign_id}/staff"): Case(CAMPAIGN_STAFF, params=campaign,
                                                            body=lambda w, r, t: {"email": new_evaluator(w)[1]}),
    ("DELETE", "/api/v1/campaigns/{campaign_id}/staff/{user_id}"): Case(CAMPAIGN_STAFF, params=assigned_evaluator),
    ("GET", "/api/v1/campaigns/{campaign_id}/invitations"): Case(CAMPAIGN_STAFF, params=campaign),
    ("POST", "/api/v1/campaigns/{campaign_id}/invitations"): Case(CAMPAIGN_STAFF, params=campaign, body=lambda w, r, t: {
        "invitations": [{"entity_id": "B002", "email": f"c{next(_counter)}@example.org"}]}),
    ("POST", "/api/v1/returns"): Case(TENANT, body=lambda w, r, t: return_body("B001" if t == "own" else "B002")),
    ("POST", "/api/v1/returns/upload"): Case(TENANT, call=upload_return),
    ("GET", "/api/v1/returns"): Case(TENANT.replace("S:ok/404", "S:ok/ok")),
    ("GET", "/api/v1/returns/{return_id}"): Case(TENANT, params=lambda w, r, t: {"return_id": return_of(w, t)}),
    ("GET", "/api/v1/returns/{return_id}/payload"): Case(TENANT, params=lambda w, r, t: {"return_id": return_of(w, t)}),
    ("GET", "/api/v1/runs"): Case(RUNS.replace("/404", "/ok")),
    ("GET", "/api/v1/runs/{run_id}"): Case(RUNS, params=lambda w, r, t: {"run_id": w.runs["published" if t == "own" else "draft"]}),
    ("POST", "/api/v1/runs"): Case(STAFF, body=lambda w, r, t: {"campaign": scored_runs(w)["round"].campaign}),
    ("POST", "/api/v1/runs/{run_id}/publish"): Case(STAFF, params=lambda w, r, t: scored(w, r, "own"),
                                                   body=lambda w, r, t: {"reports": False}),
    ("GET", "/api/v1/runs/{run_id}/ranking"): Case(RUNS, params=scored, query="?sector=bank"),
    ("GET", "/api/v1/runs/{run_id}/peers/{entity}"): Case(RUNS, params=lambda w, r, t: scored(w, r, t, entity="B001")),
    ("GET", "/api/v1/runs/{run_id}/entities/{entity}"): Case(RUNS, params=lambda w, r, t: scored(w, r, t, entity="B001")),
    ("GET", "/api/v1/runs/{run_id}/provinces"): Case(NAMED, params=scored),
    ("GET", "/api/v1/runs/{run_id}/industries"): Case(NAMED, params=scored),
    ("GET", "/api/v1/runs/{run_id}/industries/{sector}/plan"): Case(NAMED, params=lambda w, r, t: scored(w, r, t, sector="bank")),
    ("GET", "/api/v1/runs/{run_id}/files"): Case(NAMED, params=scored),
    ("GET", "/api/v1/runs/{run_id}/files/{name}"): Case(NAMED, params=lambda w, r, t: scored(w, r, t, name="J-2024_scores.csv")),
    ("GET", "/api/v1/jobs"): Case(STAFF),
    ("GET", "/api/v1/jobs/{job_id}"): Case(CAMPAIGN_STAFF, params=job_of),
    ("POST", "/api/v1/jobs/{job_id}/cancel"): Case(CAMPAIGN_STAFF, params=job_of),
    ("GET", "/jobs/{job_id}"): Case("A:ok/ok E:ok/404 S:403/403 V:403/403 -:ok/ok", params=job_of),
    ("GET", "/api/v1/catalog/frameworks"): Case(EVERYONE),
    ("GET", "/api/v1/catalog/frameworks/{framework_id}/indicators"): Case(EVERYONE, params=lambda w, r, t: {"framework_id": "jrt0201-2020"},
                                                                          query="?sector=bank"),
    ("GET", "/api/v1/catalog/frameworks/{framework_id}/variables"): Case(EVERYONE, params=lambda w, r, t: {"framework_id": "jrt0201-2020"},
                                                                         query="?sector=insurance"),
    ("GET", "/api/v1/vendors"): Case("A:ok E:ok S:ok V:403 -:401"),
    ("GET", "/api/v1/vendors/{vendor_id}/assessments"): Case(TENANT, params=lambda w, r, t: {"vendor_id": vh.vendor_of(t)}),
    ("POST", "/api/v1/vendors/{vendor_id}/assessments"): Case(
        STAFF, params=lambda w, r, t: {"vendor_id": vh.vendor_of(t)},
        body=lambda w, r, t: {"model": "innovation", "round": f"M{next(_counter)}"}),
    ("GET", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}"): Case(TENANT, params=vh.assessment_params("published")),
    # the vendor's submitter answers, uploads and withdraws its own files in its own vendor's self-assessment
    ("PUT", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/answers"): Case(
        TENANT, params=vh.self_params(), body=lambda w, r, t: {"answers": [{"indicator": "C1.2.1", "step": 1}]}),
    ("POST", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/evidence"): Case(TENANT, call=vh.self_upload_api),
    ("GET", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/evidence/{evidence_id}"): Case(
        "A:ok/ok E:ok/ok S:404/404 V:403/403 -:401/401", params=vh.assessment_params("published", evidence=True)),
    ("DELETE", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/evidence/{evidence_id}"): Case(
        TENANT, params=vh.self_params(evidence=True)),
    ("GET", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/rating"): Case(TENANT, params=vh.assessment_params("published")),
    ("POST", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/publish"): Case(STAFF, params=vh.assessment_params("draft")),
    ("POST", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/submit"): Case(
        "A:403/403 E:403/403 S:ok/404 V:403/403 -:401/401", params=vh.self_params(answered=True)),
    ("POST", "/api/v1/vendors/{vendor_id}/assessments/{assessment_id}/return"): Case(
        STAFF, params=vh.self_params(submitted=True), body=lambda w, r, t: {"note": "more evidence for C1.2.1"}),
    ("GET", "/vendors"): Case("A:ok E:ok S:ok V:403 -:ok"),
    ("POST", "/vendors/{vendor_id}/assessments"): Case(STAFF, call=vh.open_page_form),
    ("GET", "/vendors/{vendor_id}/assessments/{assessment_id}"): Case(
        "A:ok/ok E:ok/ok S:ok/404 V:403/403 -:ok/ok", params=vh.assessment_params("published")),
    ("POST", "/vendors/{vendor_id}/assessments/{assessment_id}/answers"): Case(TENANT, call=vh.self_answers_page_form),
    ("POST", "/vendors/{vendor_id}/assessments/{assessment_id}/evidence"): Case(TENANT, call=vh.self_upload_page_form),
    ("POST", "/vendors/{vendor_id}/assessments/{assessment_id}/evidence/{evidence_id}/withdraw"): Case(
        TENANT, call=vh.self_withdraw_page_form),
    ("POST", "/vendors/{vendor_id}/assessments/{assessment_id}/publish"): Case(STAFF, call=vh.publish_page_form),
    ("POST", "/vendors/{vendor_id}/assessments/{assessment_id}/submit"): Case(
        "A:403/403 E:403/403 S:ok/404 V:403/403 -:401/401", call=vh.submit_page_form),
    ("POST", "/vendors/{vendor_id}/assessments/{assessment_id}/return"): Case(STAFF, call=vh.return_page_form),
    ("GET", "/"): Case(PUBLIC),
    ("GET", "/sign-in"): Case(PUBLIC),
    ("POST", "/sign-in"): Case(PUBLIC, call=sign_in_form, fresh=True),
    ("POST", "/sign-out"): Case(PUBLIC, call=sign_out_form, fresh=True),
    ("GET", "/invitations/accept"): Case(PUBLIC, call=invitation_page),
    ("POST", "/invitations/accept"): Case(PUBLIC, call=invitation_form, fresh=True),
    ("GET", "/account"): Case(PUBLIC),
    ("POST", "/account/password"): Case(EVERYONE, call=account_password_and_back, fresh=True),
    ("POST", "/account/tokens"): Case(EVERYONE, call=lambda w, c, r, t: c.post(
        "/account/tokens", data={"name": "page", "scopes": ["read"], "csrf_token": _csrf(c)}, follow_redirects=False)),
    ("POST", "/account/tokens/{token_id}/revoke"): Case(
        "A:ok/404 E:ok/404 S:ok/404 V:ok/404 -:401/401",
        call=lambda w, c, r, t: c.post(f"/account/tokens/{token_id(w, r, t)}/revoke", data={"csrf_token": _csrf(c)},
                                       follow_redirects=False)),
    ("GET", "/results"): Case(PUBLIC),
    ("POST", "/results"): Case("A:ok E:ok S:403 V:403 -:401", call=score_page),
    ("POST", "/results/{run_id}/publish"): Case("A:ok E:ok S:403 V:403 -:401", call=publish_page),
    ("GET", "/results/{run_id}"): Case(RUN_PAGES, params=scored, query="?sector=bank&size_band=large"),
    ("GET", "/results/{run_id}/entities/{entity}"): Case(RUN_PAGES, params=lambda w, r, t: scored(w, r, t, entity="B001")),
    ("GET", "/results/{run_id}/map"): Case(NAMED.replace("-:401/401", "-:ok/ok"), params=scored),
    ("GET", "/results/{run_id}/industry"): Case(NAMED.replace("-:401/401", "-:ok/ok"), params=scored, query="?sector=bank"),
    ("GET", "/assets/plotly.min.js"): Case(PUBLIC),
    ("GET", "/campaigns"): Case("A:ok E:ok S:ok V:403 -:ok"),
    ("GET", "/campaigns/new"): Case("A:ok E:ok S:403 V:403 -:ok"),
    ("POST", "/campaigns/new"): Case(STAFF, call=lambda w, c, r, t: c.post(
        "/campaigns/new", data={"period": "2025", "mode": "list", "codes": "B002", "csrf_token": _csrf(c)},
        follow_redirects=False)),
    ("GET", "/campaigns/{campaign_id}"): Case(CAMPAIGN_PAGE, params=campaign),
    ("GET", "/campaigns/{campaign_id}/missing.csv"): Case(CAMPAIGN_PAGE.replace("S:ok/404", "S:403/403"), params=campaign),
    ("POST", "/campaigns/{campaign_id}"): Case(CAMPAIGN_STAFF, call=lambda w, c, r, t: c.post(
        f"/campaigns/{campaign(w, r, t)['campaign_id']}", data={"name": "renamed", "deadline": "2025-06-30",
                                                               "csrf_token": _csrf(c)}, follow_redirects=False)),
    ("POST", "/campaigns/{campaign_id}/invitations"): Case(CAMPAIGN_STAFF, call=lambda w, c, r, t: c.post(
        f"/campaigns/{campaign(w, r, t)['campaign_id']}/invitations",
        data={"email:B002": f"p{next(_counter)}@example.org", "csrf_token": _csrf(c)}, follow_redirects=False)),
    ("POST", "/campaigns/{campaign_id}/invitations/{invitation_id}/revoke"): Case(CAMPAIGN_STAFF, call=lambda w, c, r, t: c.post(
        "/campaigns/{campaign_id}/invitations/{invitation_id}/revoke".format(**campaign_invitation(w, r, t)),
        data={"csrf_token": _csrf(c)}, follow_redirects=False)),
    ("POST", "/campaigns/{campaign_id}/staff"): Case(CAMPAIGN_STAFF, call=lambda w, c, r, t: c.post(
        f"/campaigns/{campaign(w, r, t)['campaign_id']}/staff", data={"email": new_evaluator(w)[1], "csrf_token": _csrf(c)},
        follow_redirects=False)),
    ("POST", "/campaigns/{campaign_id}/staff/{user_id}/remove"): Case(CAMPAIGN_STAFF, call=lambda w, c, r, t: c.post(
        "/campaigns/{campaign_id}/staff/{user_id}/remove".format(**assigned_evaluator(w, r, t)),
        data={"csrf_token": _csrf(c)}, follow_redirects=False)),
    ("GET", "/api/v1/campaigns/{campaign_id}/forms/{entity_id}"): Case(FORMS, params=form_of),
    ("GET", "/api/v1/campaigns/{campaign_id}/forms/{entity_id}/workbook"): Case(FORMS, params=form_of),
    ("PUT", "/api/v1/campaigns/{campaign_id}/forms/{entity_id}/draft"): Case(
        FORMS, params=form_of, body=lambda w, r, t: {"values": {"fintech_staff": "3", "employees": 5}, "units": {}}),
    ("POST", "/api/v1/returns/accept"): Case(REVIEW, body=lambda w, r, t: {"ids": [fresh_return(w, r, t)]}),
    ("POST", "/api/v1/returns/{return_id}/return"): Case(REVIEW, params=lambda w, r, t: {"return_id": fresh_return(w, r, t)},
                                                         body=lambda w, r, t: {"comments": {"fintech_staff": "formal staff only?"}}),
    ("POST", "/api/v1/returns/{return_id}/accept"): Case(REVIEW, params=lambda w, r, t: {"return_id": fresh_return(w, r, t)}),
    ("POST", "/api/v1/returns/{return_id}/reject"): Case(REVIEW, params=lambda w, r, t: {"return_id": fresh_return(w, r, t)},
                                                         body=lambda w, r, t: {"note": "another bank's figures"}),
    ("POST", "/api/v1/returns/{return_id}/reopen"): Case(REVIEW, params=lambda w, r, t: {"return_id": fresh_return(w, r, t, "accepted")},
                                                         body=lambda w, r, t: {"note": "restated figures"}),
    ("GET", "/returns"): Case("A:ok E:ok S:ok V:403 -:ok"),
    ("GET", "/returns/new"): Case(PAGE, call=lambda w, c, r, t: c.get(
        f"/returns/new?campaign={campaign_of(w, t)}&entity={_entity(t)}", follow_redirects=False)),
    ("POST", "/returns/draft"): Case(PAGE_POST, call=form_post("/returns/draft")),
    ("POST", "/returns/submit"): Case(PAGE_POST, call=form_post("/returns/submit")),
    ("POST", "/returns/upload"): Case(PAGE_POST, call=form_post("/returns/upload", multipart=True)),
    ("POST", "/returns/accept"): Case(REVIEW, call=accept_selected),
    ("GET", "/returns/{return_id}"): Case(PAGE, params=lambda w, r, t: {"return_id": campaign_return(w, r, t)}),
    ("GET", "/returns/{return_id}/versions/{number}"): Case(
        PAGE, params=lambda w, r, t: {"return_id": campaign_return(w, r, t), "number": 1}),
    ("POST", "/returns/{return_id}/review"): Case(REVIEW, call=review_post("return", **{"c.fintech_staff": "formal staff only?"})),
    ("GET", "/openapi.json"): Case(PUBLIC),
    ("GET", "/docs"): Case(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Case(PUBLIC),
    ("GET", "/assets/swagger/{name}"): Case(PUBLIC, params=lambda w, r, t: {"name": "swagger-ui.css"}),
}


def route_keys(app) -> set[tuple[str, str]]:
    return {(m, p) for m, p, _ in route_table(app)}


def test_every_route_has_an_expectation(world):
    keys = route_keys(world.app)
    missing = sorted(keys - set(EXPECT))
    stale = sorted(set(EXPECT) - keys)
    assert not missing, f"routes without an authorization expectation (add them to EXPECT): {missing}"
    assert not stale, f"expectations for routes that do not exist: {stale}"
    assert len(keys) > 30


def _matches(expect: str, status: int) -> bool:
    return 200 <= status < 400 if expect == "ok" else status == int(expect)


def run_matrix(w: World) -> list[str]:
    clients: dict[str | None, Any] = {}

    def client(role: str | None, fresh: bool):
        if fresh or role not in clients:
            c = w.client(role) if role else w.anonymous()
            if fresh:
                return c
            clients[role] = c
        return clients[role]

    failures = []
    for (method, path), case in sorted(EXPECT.items()):
        if (method, path) not in route_keys(w.app):
            continue
        for role, (own, other) in grid(case.expect).items():
            for tenancy, expect in (("own", own), ("other", other)):
                c = client(role, case.fresh)
                if case.call is not None:
                    r = case.call(w, c, role, tenancy)
                else:
                    url = path.format(**(case.params(w, role, tenancy) if case.params else {})) + case.query
                    body = case.body(w, role, tenancy) if case.body else None
                    r = c.request(method, url, json=body, follow_redirects=False)
                if case.fresh:  # e.g. a password change ends the user's other sessions
                    clients.clear()
                if not _matches(expect, r.status_code):
                    failures.append(f"{method} {path} as {role or 'anonymous'} ({tenancy}): expected {expect}, "
                                    f"got {r.status_code} {r.text[:160]}")
    return failures


def test_authorization_matrix(any_world):
    failures = run_matrix(any_world)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("scope_needed", ["read"])
def test_a_read_token_reads_but_cannot_manage(world, scope_needed):
    """Tokens: the same matrix for GETs is covered by the session; here the token rules (scopes, session-only)."""
    tok = world.token("administrator", scopes=[scope_needed])
    c = world.anonymous()
    c.headers["Authorization"] = f"Bearer {tok}"
    assert c.get("/api/v1/registers/institutions").status_code == 200
    r = c.get("/api/v1/users")
    assert r.status_code == 403 and r.json()["rule"] == "auth.scope"
    r = c.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]})
    assert r.status_code == 403 and r.json()["rule"] == "auth.scope"  # a token never mints tokens
