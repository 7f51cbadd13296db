"""The API's contract beyond access: the OpenAPI document, problem+json errors carrying the application's
problems, strict request fields, pagination, and the data each role gets from the application layer."""

from __future__ import annotations

from fintech_eval.app.campaigns import campaign_status
from fintech_eval.app.registers import register_frame


def test_openapi_document_is_served_and_errors_are_problem_json(world):
    c = world.anonymous()
    doc = c.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/api/v1/registers/institutions" in doc["paths"]
    get = doc["paths"]["/api/v1/registers/institutions"]["get"]
    assert set(get["responses"]["404"]["content"]) == {"application/problem+json"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    r = c.get("/api/v1/me")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert set(body) == {"type", "title", "status", "detail", "rule", "field", "problems"}
    assert body["type"] == "urn:fintech-eval:problem:auth.required" and body["status"] == 401
    assert c.get("/api/v1/nothing-here").json()["rule"] == "route.not_found"


def test_application_problems_reach_the_client_with_rule_and_field(world):
    admin = world.client("administrator")
    r = admin.post("/api/v1/users", json={"email": "s9@example.org", "role": "submitter",
                                          "entities": [{"kind": "institution", "id": "NOPE"}, {"kind": "vendor", "id": "V001"}]})
    assert r.status_code == 422
    body = r.json()
    assert body["rule"] == "user.entities" and body["field"] == "entities"
    assert body["problems"] == [{"rule": "user.entities", "message": "institution 'NOPE' is not in the register",
                                 "field": "entities", "message_en": "institution 'NOPE' is not in the register",
                                 "message_zh": "institution 'NOPE' 不在名录中"}]


def test_request_fields_are_strict(world):
    c = world.client("administrator")
    for bad in (True, "30", 30.5):
        r = c.post("/api/v1/tokens", json={"name": "t", "scopes": ["read"], "expires_days": bad})
        assert r.status_code == 422, bad
        assert r.json()["problems"][0]["field"] == "expires_days"
    r = c.patch(f"/api/v1/users/{world.users['viewer']}", json={"active": 0})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "active"
    r = c.patch(f"/api/v1/users/{world.users['viewer']}", json={"role": "viewer", "colour": "red"})
    assert r.status_code == 422 and r.json()["problems"][0]["rule"] == "request.extra_forbidden"
    assert c.post("/api/v1/tokens", json={"name": "t", "scopes": ["read"], "expires_days": 30}).status_code == 201
    r = c.get("/api/v1/audit?action=token.create&action=sign_in.success")
    assert r.status_code == 422 and r.json()["rule"] == "request.repeated_parameter" and r.json()["field"] == "action"


def test_pagination_envelope(world):
    c = world.client("administrator")
    first = c.get("/api/v1/catalog/frameworks/jrt0201-2020/indicators?limit=5").json()
    assert first["limit"] == 5 and first["offset"] == 0 and len(first["items"]) == 5 and first["total"] > 60
    rest, offset = [], 0
    while offset < first["total"]:
        page = c.get(f"/api/v1/catalog/frameworks/jrt0201-2020/indicators?limit=20&offset={offset}").json()
        rest += page["items"]
        offset += page["limit"]
    assert len(rest) == first["total"] and len({i["code"] for i in rest}) == first["total"]
    assert rest[:5] == first["items"]
    assert c.get("/api/v1/registers/institutions?limit=0").status_code == 422
    assert c.get("/api/v1/registers/institutions?limit=501").status_code == 422


def test_registers_and_campaigns_come_from_the_application_layer(any_world):
    w = any_world
    admin, sub = w.client("administrator"), w.client("submitter")
    assert [i["id"] for i in admin.get("/api/v1/registers/institutions").json()["items"]] == list(register_frame(w.ws)["id"])
    st = campaign_status(w.ws, 1)
    r = admin.get("/api/v1/campaigns/1/status").json()
    assert [e["entity_id"] for e in r["entities"]] == list(st.entities["entity_id"])
    assert r["rates"][0]["level"] == "all" and r["rates"][0]["asked"] == 2
    mine = sub.get("/api/v1/campaigns/1/status").json()
    assert [e["entity_id"] for e in mine["entities"]] == ["B001"] and mine["rates"] is None
    assert [c["id"] for c in sub.get("/api/v1/campaigns").json()["items"]] == [1]
    missing = admin.get("/api/v1/campaigns/1/missing").json()
    assert {m["entity_id"] for m in missing["items"]} == {"B001", "B002"}  # nobody has sent anything


def test_runs_show_drafts_and_server_paths_to_staff_only(any_world):
    w = any_world
    staff, viewer = w.client("evaluator"), w.client("viewer")
    assert [r["status"] for r in staff.get("/api/v1/runs").json()["items"]] == ["published", "draft"]
    assert [r["status"] for r in viewer.get("/api/v1/runs").json()["items"]] == ["published"]
    full = staff.get(f"/api/v1/runs/{w.runs['published']}").json()
    seen = viewer.get(f"/api/v1/runs/{w.runs['published']}").json()
    assert full["out_dir"] == "/srv/runs/x" and full["specs"] is not None
    assert seen["out_dir"] is None and seen["specs"] is None
    assert seen["warnings"]["J"][0]["rule"] == "no_spread" and seen["n_warnings"] == 1


def test_catalog_variables_for_a_sector(world):
    c = world.client("submitter")
    bank = c.get("/api/v1/catalog/frameworks/jrt0201-2020/variables?sector=bank&limit=500").json()
    pay = c.get("/api/v1/catalog/frameworks/jrt0201-2020/variables?sector=payment&limit=500").json()
    assert bank["total"] > 0 and {v["name"] for v in bank["items"]} != {v["name"] for v in pay["items"]}
    assert all(v["indicators"] for v in bank["items"])
    r = c.get("/api/v1/catalog/frameworks/nope/variables?sector=bank")
    assert r.status_code == 404 and r.json()["rule"] == "catalog.unknown"
    assert c.get("/api/v1/catalog/frameworks/jrt0201-2020/variables?sector=banks").status_code == 422


def test_health_is_public(world):
    r = world.anonymous().get("/api/v1/health").json()
    from fintech_eval.store import head_revision

    assert r["status"] == "ok" and r["schema_revision"] == head_revision()


def test_a_database_that_stays_busy_is_503_not_a_crash(world, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from fintech_eval.web.routes import registers

    def locked(*_a, **_k):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(registers, "register_frame", locked)
    r = world.client("administrator").get("/api/v1/registers/institutions")
    assert r.status_code == 503 and r.json()["rule"] == "db.busy" and r.headers["Retry-After"] == "5"


def test_security_headers(world):
    c = world.anonymous()
    page = c.get("/sign-in")
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Cache-Control"] == "no-store"
    api = c.get("/api/v1/health")
    assert api.headers["Cache-Control"] == "no-store" and api.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_names_each_operations_permission(world):
    doc = world.anonymous().get("/openapi.json").json()
    assert set(doc["components"]["securitySchemes"]) == {"token", "session"}
    users = doc["paths"]["/api/v1/users"]["get"]
    assert users["x-permission"] == "users.manage" and users["x-token-scope"] == "admin"
    tokens = doc["paths"]["/api/v1/tokens"]["post"]
    assert tokens["x-permission"] == "account.manage" and tokens["security"] == [{"session": []}]
    assert "x-permission" not in doc["paths"]["/api/v1/auth/sign-in"]["post"]


def test_access_log_hides_invitation_secrets(world):
    import logging

    from fintech_eval.web.app import RedactSecrets

    rec = logging.LogRecord("uvicorn.access", logging.INFO, "x", 1, '%s - "%s %s HTTP/%s" %d',
                            ("127.0.0.1:5", "GET", "/invitations/accept?token=SECRETVALUE&lang=en", "1.1", 200), None)
    assert RedactSecrets().filter(rec)
    assert "SECRETVALUE" not in rec.getMessage() and "token=…&lang=en" in rec.getMessage()
    assert any(isinstance(f, RedactSecrets) for f in logging.getLogger("uvicorn.access").filters)
