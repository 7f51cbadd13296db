"""Accounts through the API, on SQLite and PostgreSQL: sign-in, lockout and throttling, CSRF, password change,
tokens (shown once, hashed, scoped, revoked), invitations, user administration, and the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from fintech_eval.app.audit import audit_entries
from fintech_eval.store.models import ApiToken, UserAccount, WebSession
from fintech_eval.web.settings import WebSettings

from .conftest import PASSWORD


def _actions(w, action):
    return [e for e in audit_entries(w.ws, action=action, limit=500)[0]]


def test_sign_in_sets_a_safe_cookie_and_audits(any_world):
    w = any_world
    c = w.anonymous()
    r = c.post("/api/v1/auth/sign-in", json={"email": "Viewer@Example.org ", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "fe_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http here; over https the cookie is Secure (test below)
    secret = c.cookies.get("fe_session")
    with w.ws.sessions() as s:  # only the hash is stored
        assert s.get(WebSession, secret) is None and len(s.execute(select(WebSession.id)).all()) == 1
    me = c.get("/api/v1/me").json()
    assert me["user"]["email"] == "viewer@example.org" and me["via"] == "session" and me["csrf_token"] == r.json()["csrf_token"]
    assert [e["object"] for e in _actions(w, "sign_in.success")] == [f"user:{w.users['viewer']}"]


def test_cookie_is_secure_over_https(world):
    c = world.anonymous()
    c.base_url = "https://testserver"
    r = c.post("https://testserver/api/v1/auth/sign-in", json={"email": world.email("viewer"), "password": PASSWORD})
    assert r.status_code == 200 and "Secure" in r.headers["set-cookie"]


def test_wrong_password_and_unknown_email_answer_alike(world):
    c = world.anonymous()
    a = c.post("/api/v1/auth/sign-in", json={"email": world.email("viewer"), "password": "wrong password!"})
    b = c.post("/api/v1/auth/sign-in", json={"email": "nobody@example.org", "password": "wrong password!"})
    assert a.status_code == b.status_code == 401
    assert a.headers["content-type"].startswith("application/problem+json")
    assert a.json()["detail"] == b.json()["detail"] and a.json()["rule"] == b.json()["rule"] == "sign_in.invalid"
    reasons = sorted(e["detail"]["reason"] for e in _actions(world, "sign_in.failure"))
    assert reasons == ["password", "unknown"]


def test_lockout_after_n_failures_even_with_the_right_password_then_unlock(world_factory):
    w = world_factory(settings=WebSettings(max_failures=3, lockout_minutes=10))
    c = w.anonymous()
    for _ in range(3):
        assert c.post("/api/v1/auth/sign-in", json={"email": w.email("viewer"), "password": "wrong password!"}).status_code == 401
    r = c.post("/api/v1/auth/sign-in", json={"email": w.email("viewer"), "password": PASSWORD})
    assert r.status_code == 429 and r.json()["rule"] == "sign_in.locked" and 0 < int(r.headers["Retry-After"]) <= 600
    # an unknown address is "locked" after as many failures too: a lockout does not reveal that an account exists
    for _ in range(3):
        c.post("/api/v1/auth/sign-in", json={"email": "ghost@example.org", "password": "wrong password!"})
    assert c.post("/api/v1/auth/sign-in", json={"email": "ghost@example.org", "password": "x"}).json()["rule"] == "sign_in.locked"
    admin = w.client("administrator")
    u = admin.get(f"/api/v1/users/{w.users['viewer']}").json()
    assert u["locked_until"] is not None
    assert admin.patch(f"/api/v1/users/{w.users['viewer']}", json={"unlock": True}).json()["locked_until"] is None
    assert c.post("/api/v1/auth/sign-in", json={"email": w.email("viewer"), "password": PASSWORD}).status_code == 200
    assert _actions(w, "user.unlock")


def test_lockout_ends_by_itself(world_factory):
    w = world_factory(settings=WebSettings(max_failures=2, lockout_minutes=5))
    c = w.anonymous()
    for _ in range(2):
        c.post("/api/v1/auth/sign-in", json={"email": w.email("viewer"), "password": "wrong password!"})
    assert c.post("/api/v1/auth/sign-in", json={"email": w.email("viewer"), "password": PASSWORD}).status_code == 429
    with w.ws.sessions() as s, s.begin():  # time passes
        s.execute(update(UserAccount).where(UserAccount.id == w.users["viewer"])
                  .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert c.post("/api/v1/auth/sign-in", json={"email": w.email("viewer"), "password": PASSWORD}).status_code == 200


def test_a_client_address_is_throttled_across_accounts(world_factory):
    w = world_factory(settings=WebSettings(ip_max_failures=4, max_failures=100))
    c = w.anonymous()
    for i in range(4):
        assert c.post("/api/v1/auth/sign-in", json={"email": f"x{i}@example.org", "password": "wrong password!"}).status_code == 401
    r = c.post("/api/v1/auth/sign-in", json={"email": w.email("viewer"), "password": PASSWORD})
    assert r.status_code == 429 and r.json()["rule"] == "sign_in.throttled" and "Retry-After" in r.headers


def test_csrf_is_required_for_state_changes_of_a_session(world):
    c = world.client("administrator")
    token = c.headers.pop("X-CSRF-Token")
    body = {"name": "t", "scopes": ["read"]}
    r = c.post("/api/v1/tokens", json=body)
    assert r.status_code == 403 and r.json()["rule"] == "csrf.missing"
    r = c.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403 and r.json()["rule"] == "csrf.invalid"
    other = world.client("evaluator").headers["X-CSRF-Token"]  # another session's token does not do either
    assert c.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": other}).json()["rule"] == "csrf.invalid"
    assert c.get("/api/v1/tokens").json()["total"] == 0  # nothing was created; reading needs no token
    assert c.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_anonymous_json_calls_refuse_a_form_body(world):
    c = world.anonymous()
    r = c.post("/api/v1/auth/sign-in", data={"email": world.email("viewer"), "password": PASSWORD})
    assert r.status_code == 415 and r.json()["rule"] == "request.media_type"


def test_sign_in_page_form_needs_its_double_submit_cookie(world):
    c = world.anonymous()
    r = c.post("/sign-in", data={"email": world.email("viewer"), "password": PASSWORD, "csrf_token": "x"},
               follow_redirects=False)
    assert r.status_code == 403 and "fe_session" not in c.cookies
    page = c.get("/sign-in?lang=en")
    assert "Sign in" in page.text and 'lang="en"' in page.text
    token = c.cookies.get("fe_csrf")
    r = c.post("/sign-in", data={"email": world.email("viewer"), "password": PASSWORD, "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303 and c.cookies.get("fe_session")
    home = c.get("/")
    assert "viewer@example.org" in home.text
    assert "登录" in c.get("/sign-in?lang=zh").text


def test_password_change_ends_the_other_sessions(any_world):
    w = any_world
    a, b = w.client("evaluator"), w.client("evaluator")
    new = "a much better passphrase"
    r = a.post("/api/v1/auth/password", json={"current_password": "wrong one!!", "new_password": new})
    assert r.status_code == 403 and r.json()["rule"] == "password.wrong" and r.json()["field"] == "current_password"
    r = a.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and r.json()["rule"] == "password.weak"
    assert a.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": new}).status_code == 204
    assert a.get("/api/v1/me").status_code == 200 and b.get("/api/v1/me").status_code == 401
    c = w.anonymous()
    assert c.post("/api/v1/auth/sign-in", json={"email": w.email("evaluator"), "password": PASSWORD}).status_code == 401
    assert c.post("/api/v1/auth/sign-in", json={"email": w.email("evaluator"), "password": new}).status_code == 200
    assert _actions(w, "password.change")


def test_sign_out_ends_the_session(world):
    c = world.client("viewer")
    assert c.post("/api/v1/auth/sign-out").status_code == 204
    assert c.get("/api/v1/me").status_code == 401
    assert _actions(world, "sign_out")


def test_signing_out_from_the_page_or_the_api_is_one_audit_entry_each(world):
    """The page's form and the API end the session and write ``sign_out`` the same way (one function, one
    transaction); a form without the session's CSRF token ends nothing and writes nothing."""
    page = world.client("evaluator")
    csrf = page.headers.pop("X-CSRF-Token")
    assert page.post("/sign-out", data={"csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert page.get("/api/v1/me").status_code == 200 and _actions(world, "sign_out") == []
    assert page.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert page.get("/api/v1/me").status_code == 401
    assert world.client("evaluator").post("/api/v1/auth/sign-out").status_code == 204
    uid = world.users["evaluator"]
    assert [(e["actor"], e["actor_id"], e["object"], e["ip"]) for e in _actions(world, "sign_out")] == [
        (world.email("evaluator"), uid, f"user:{uid}", "testclient")] * 2


def test_tokens_are_shown_once_stored_hashed_scoped_and_revocable(any_world):
    w = any_world
    c = w.client("submitter")
    r = c.post("/api/v1/tokens", json={"name": "erp", "scopes": ["read", "submit"], "expires_days": 30})
    assert r.status_code == 201, r.text
    tok = r.json()
    secret = tok["token"]
    assert secret.startswith("fe_") and tok["prefix"] == secret[:10] and tok["scopes"] == ["read", "submit"]
    with w.ws.sessions() as s:
        stored = s.execute(select(ApiToken)).scalar_one()
        assert secret not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    listed = c.get("/api/v1/tokens").json()["items"]
    assert [t["id"] for t in listed] == [tok["id"]] and "token" not in listed[0]
    # a submitter cannot give a token the admin scope
    r = c.post("/api/v1/tokens", json={"name": "x", "scopes": ["admin"]})
    assert r.status_code == 422 and r.json()["rule"] == "token.scope"
    api = w.anonymous()
    api.headers["Authorization"] = f"Bearer {secret}"
    me = api.get("/api/v1/me").json()
    assert me["via"] == "token" and me["scopes"] == ["read", "submit"] and me["csrf_token"] is None
    assert api.get("/api/v1/registers/institutions").json()["total"] == 1  # the submitter's own institution only
    assert c.get("/api/v1/tokens").json()["items"][0]["last_used_at"] is not None
    # another user cannot revoke it (404: not theirs), its owner can, and then it is refused at once
    assert w.client("administrator").delete(f"/api/v1/tokens/{tok['id']}").status_code == 404
    assert c.delete(f"/api/v1/tokens/{tok['id']}").status_code == 204
    r = api.get("/api/v1/me")
    assert r.status_code == 401 and r.json()["rule"] == "auth.required"
    assert c.get("/api/v1/tokens").json()["items"][0]["revoked_at"] is not None
    assert [e["object"] for e in _actions(w, "token.revoke")] == [f"token:{tok['id']}"]
    assert _actions(w, "token.create")


def test_an_expired_or_unknown_token_is_refused(world):
    secret = world.token("viewer")
    api = world.anonymous()
    api.headers["Authorization"] = f"Bearer {secret}"
    assert api.get("/api/v1/me").status_code == 200
    with world.ws.sessions() as s, s.begin():
        s.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert api.get("/api/v1/me").status_code == 401
    api.headers["Authorization"] = "Bearer fe_not-a-token"
    assert api.get("/api/v1/me").status_code == 401


def test_invitation_creates_a_submitter_once(any_world):
    w = any_world
    ev = w.client("evaluator")
    r = ev.post("/api/v1/invitations", json={"email": "new@bank-b.cn", "entities": [{"kind": "institution", "id": "B002"}]})
    assert r.status_code == 201, r.text
    secret = r.json()["token"]
    bad = ev.post("/api/v1/invitations", json={"email": "x@y.cn", "entities": [{"kind": "institution", "id": "NOPE"}]})
    assert bad.status_code == 422 and bad.json()["rule"] == "user.entities" and bad.json()["field"] == "entities"
    newcomer = w.anonymous()
    r = newcomer.post("/api/v1/invitations/accept", json={"token": secret, "password": "short"})
    assert r.status_code == 422 and r.json()["rule"] == "password.weak"
    r = newcomer.post("/api/v1/invitations/accept", json={"token": secret, "password": "a long enough secret"})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["role"] == "submitter" and r.json()["user"]["entities"] == [{"kind": "institution", "id": "B002"}]
    newcomer.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert [i["id"] for i in newcomer.get("/api/v1/registers/institutions").json()["items"]] == ["B002"]
    again = w.anonymous().post("/api/v1/invitations/accept", json={"token": secret, "password": "a long enough secret"})
    assert again.status_code == 422 and again.json()["rule"] == "invitation.invalid"
    listed = ev.get("/api/v1/invitations").json()["items"]
    assert listed[0]["used_at"] is not None and listed[0]["user_id"] == r.json()["user"]["id"]
    assert _actions(w, "invitation.accept") and _actions(w, "invitation.create")


def test_users_admin_role_entities_disable_and_last_admin(any_world):
    w = any_world
    admin = w.client("administrator")
    r = admin.post("/api/v1/users", json={"email": "s2@example.org", "role": "submitter", "password": "long password 1",
                                          "entities": [{"kind": "vendor", "id": "V002"}]})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    dup = admin.post("/api/v1/users", json={"email": "S2@example.org", "role": "viewer"})
    assert dup.status_code == 409 and dup.json()["rule"] == "user.exists"
    nobind = admin.post("/api/v1/users", json={"email": "s3@example.org", "role": "submitter"})
    assert nobind.status_code == 422 and nobind.json()["rule"] == "user.entities"
    s2 = w.anonymous()
    csrf = s2.post("/api/v1/auth/sign-in", json={"email": "s2@example.org", "password": "long password 1"}).json()["csrf_token"]
    s2.headers["X-CSRF-Token"] = csrf
    assert s2.get("/api/v1/registers/vendors/V002").status_code == 200
    assert s2.get("/api/v1/registers/vendors/V001").status_code == 404
    # rebinding takes effect at once (the account is read on every request)
    r = admin.patch(f"/api/v1/users/{uid}", json={"entities": [{"kind": "vendor", "id": "V001"}]})
    assert r.status_code == 200 and r.json()["entities"] == [{"kind": "vendor", "id": "V001"}]
    assert s2.get("/api/v1/registers/vendors/V002").status_code == 404
    assert admin.patch(f"/api/v1/users/{uid}", json={"role": "viewer", "entities": []}).json()["role"] == "viewer"
    assert s2.get("/api/v1/registers/vendors").status_code == 403
    assert admin.patch(f"/api/v1/users/{uid}", json={"active": False}).json()["active"] is False
    assert s2.get("/api/v1/me").status_code == 401
    last = admin.patch(f"/api/v1/users/{w.users['administrator']}", json={"role": "viewer"})
    assert last.status_code == 409 and last.json()["rule"] == "user.last_admin"
    assert admin.get("/api/v1/users/999999").status_code == 404
    acts = {e["action"] for e in audit_entries(w.ws, limit=500)[0]}
    assert {"user.create", "user.entities", "user.role", "user.active"} <= acts
    page = admin.get("/api/v1/audit?action=user.role").json()
    assert page["total"] == 1 and page["items"][0]["detail"] == {"old": "submitter", "new": "viewer"}


def test_invitation_link_page_sets_the_password_and_signs_in(world):
    staff = world.client("administrator")
    created = staff.post("/api/v1/invitations", json={"email": "page@bank-b.cn",
                                                      "entities": [{"kind": "institution", "id": "B002"}]}).json()
    link = created["accept_path"]
    assert link.startswith("/invitations/accept?token=")
    c = world.anonymous()
    page = c.get(link + "&lang=en")
    assert page.status_code == 200 and "page@bank-b.cn" in page.text and "B002" in page.text
    token = link.split("token=")[1]
    form = {"token": token, "password": "a fine new secret", "repeat": "a different one!", "csrf_token": c.cookies.get("fe_csrf")}
    r = c.post("/invitations/accept", data=form, follow_redirects=False)
    assert r.status_code == 422 and "differ" in r.text
    r = c.post("/invitations/accept", data={**form, "repeat": form["password"], "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/invitations/accept", data={**form, "repeat": form["password"]}, follow_redirects=False)
    assert r.status_code == 303 and c.get("/").text.count("page@bank-b.cn") == 1
    gone = world.anonymous().get(link)
    assert gone.status_code == 404 and "not valid" in gone.text.replace("无效", "not valid")


def test_sessions_end_when_idle_or_old_and_tokens_stop_with_a_disabled_account(world):
    c = world.client("viewer")
    with world.ws.sessions() as s, s.begin():  # two hours and a minute without a request (idle limit 120 minutes)
        s.execute(update(WebSession).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=121)))
    assert c.get("/api/v1/me").status_code == 401
    c = world.client("viewer")
    with world.ws.sessions() as s, s.begin():  # past its absolute end
        s.execute(update(WebSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert c.get("/api/v1/me").status_code == 401
    secret = world.token("evaluator")
    api = world.anonymous()
    api.headers["Authorization"] = f"Bearer {secret}"
    assert api.get("/api/v1/me").status_code == 200
    world.client("administrator").patch(f"/api/v1/users/{world.users['evaluator']}", json={"active": False})
    assert api.get("/api/v1/me").status_code == 401


def test_signing_in_again_replaces_the_session(world):
    c = world.client("viewer")
    old = c.cookies.get("fe_session")
    r = c.post("/api/v1/auth/sign-in", json={"email": world.email("viewer"), "password": PASSWORD})
    assert r.status_code == 200 and c.cookies.get("fe_session") != old
    stale = world.anonymous()
    stale.cookies.set("fe_session", old)
    assert stale.get("/api/v1/me").status_code == 401
    with world.ws.sessions() as s:
        assert len(s.execute(select(WebSession.id)).all()) == 1


def test_account_page_creates_shows_once_and_revokes_a_token_and_changes_the_password(world):
    c = world.client("submitter")
    csrf = c.headers.pop("X-CSRF-Token")  # a browser sends the form field, not the header
    page = c.get("/account?lang=en")
    assert page.status_code == 200 and "submitter@example.org" in page.text and 'value="admin"' not in page.text
    assert c.post("/account/tokens", data={"name": "erp", "scopes": ["read"], "csrf_token": "forged"}).status_code == 403
    r = c.post("/account/tokens", data={"name": "erp", "scopes": ["read", "submit"], "csrf_token": csrf})
    assert r.status_code == 200
    secret = r.text.split('<code id="new-token">')[1].split("</code>")[0]
    assert secret.startswith("fe_") and secret not in c.get("/account").text  # shown once
    api = world.anonymous()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["scopes"] == ["read", "submit"]
    tid = c.get("/api/v1/tokens").json()["items"][0]["id"]
    assert c.post(f"/account/tokens/{tid}/revoke", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    bad = c.post("/account/password", data={"current_password": PASSWORD, "new_password": "a new passphrase",
                                            "repeat": "another one!!", "csrf_token": csrf})
    assert bad.status_code == 422 and "differ" in bad.text
    ok = c.post("/account/password", data={"current_password": PASSWORD, "new_password": "a new passphrase",
                                           "repeat": "a new passphrase", "csrf_token": csrf})
    assert ok.status_code == 200 and "Password changed" in ok.text
    assert world.anonymous().post("/api/v1/auth/sign-in", json={"email": world.email("submitter"),
                                                               "password": "a new passphrase"}).status_code == 200
    assert world.anonymous().get("/account", follow_redirects=False).status_code == 303
