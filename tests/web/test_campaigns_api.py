"""Campaigns through the API, on SQLite and PostgreSQL: an evaluator creates one (its sample from the register's
sectors and provinces, a list, or a §4 draw), sees only the campaigns it is assigned to, changes the deadline
(audited), assigns a colleague, invites the sample's submitters (one invitation per e-mail, all or nothing) who
accept; and the same assignment from the shell."""

from __future__ import annotations

from fintech_eval.app.accounts import create_user
from fintech_eval.app.audit import audit_entries
from fintech_eval.app.campaign_staff import campaign_staff
from fintech_eval.app.invitations import list_invitations
from fintech_eval.app.sizes import import_sizes
from tests.clirun import run_cli

from .conftest import PASSWORD


def _ids(client) -> list[int]:
    return [c["id"] for c in client.get("/api/v1/campaigns").json()["items"]]


def test_evaluator_creates_a_campaign_and_sees_only_its_own(any_world):
    w = any_world
    ev, admin = w.client("evaluator"), w.client("administrator")
    assert _ids(ev) == [1] and _ids(admin) == [1, 2]
    assert ev.get("/api/v1/campaigns/2").status_code == 404  # not assigned: as if it did not exist
    assert ev.get("/api/v1/campaigns/2/status").status_code == 404
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "sectors": ["bank"], "provinces": ["44"],
                                           "deadline": "2026-03-31", "name": "广东银行 2025"})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["n_entities"] == 1 and c["name"] == "广东银行 2025" and c["created_by"] == w.email("evaluator")
    assert c["deadline"].startswith("2026-03-31T15:59:59")  # the end of that day in UTC+8
    assert _ids(ev) == [1, c["id"]] and [m.email for m in campaign_staff(w.ws, c["id"])] == [w.email("evaluator")]
    st = ev.get(f"/api/v1/campaigns/{c['id']}/status").json()
    assert [e["entity_id"] for e in st["entities"]] == ["B002"]
    overall = next(r for r in st["rates"] if r["level"] == "all")
    assert overall["asked"] == 1 and overall["reporting_rate"] == 0.0
    created = audit_entries(w.ws, action="campaign.create")[0][0]
    assert created["object"] == f"campaign:{c['id']}" and created["actor"] == w.email("evaluator")
    # the submitter of B001 is not asked by it; another evaluator does not see it
    assert c["id"] not in _ids(w.client("submitter"))
    create_user(w.ws, email="ev2@example.org", role="evaluator", password=PASSWORD)
    other = w.anonymous()
    tok = other.post("/api/v1/auth/sign-in", json={"email": "ev2@example.org", "password": PASSWORD}).json()["csrf_token"]
    other.headers["X-CSRF-Token"] = tok
    assert _ids(other) == [] and other.get(f"/api/v1/campaigns/{c['id']}").status_code == 404
    assert other.patch(f"/api/v1/campaigns/{c['id']}", json={"name": "x"}).status_code == 404


def test_the_sample_is_chosen_one_way_and_every_code_named(world, tmp_path):
    ev = world.client("evaluator")
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "entities": ["B001"], "sectors": ["bank"]})
    assert r.status_code == 422 and r.json()["rule"] == "campaign.sample_choice"
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "provinces": ["99", "11"]})
    assert r.status_code == 422 and r.json()["rule"] == "campaign.province" and r.json()["field"] == "provinces"
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "entities": ["B001", "B0O2"]})
    assert r.status_code == 422 and r.json()["problems"][0]["entity"] == "B0O2" and "B002" in r.json()["detail"]
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "sectors": ["banks"]})
    assert r.status_code == 422  # not a sector (the request model lists them)
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "deadline": "31/03/2026"})
    assert r.status_code == 422 and r.json()["rule"] == "campaign.deadline"
    (tmp_path / "sizes.csv").write_text("id,营业收入(亿元)\nB001,100\nB002,50\n", encoding="utf-8")
    import_sizes(world.ws, tmp_path / "sizes.csv", period="2024")
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "draw": {"period": "2024", "share": 0.5}})
    assert r.status_code == 201, r.text
    st = ev.get(f"/api/v1/campaigns/{r.json()['id']}/status").json()
    assert [e["entity_id"] for e in st["entities"]] == ["B001"]  # §4 coverage: the largest making half the revenue
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "draw": {"period": "2024", "method": "all"}, "provinces": ["11"]})
    assert r.status_code == 422 and r.json()["field"] == "provinces"
    r = ev.post("/api/v1/campaigns", json={"period": "2025", "sectors": ["insurance"]})
    assert r.status_code == 422 and r.json()["rule"] == "campaign.sample"


def test_deadline_and_name_change_audited(any_world):
    w = any_world
    ev = w.client("evaluator")
    r = ev.patch("/api/v1/campaigns/1", json={"deadline": "2025-04-15"})
    assert r.status_code == 200, r.text
    assert r.json()["changed"]["deadline"][0].startswith("2025-03-31") and r.json()["campaign"]["deadline"].startswith("2025-04-15")
    assert ev.patch("/api/v1/campaigns/1", json={"name": "2024 round"}).json()["changed"] == {"name": ["jrt0201-2020 2024", "2024 round"]}
    assert ev.patch("/api/v1/campaigns/1", json={"name": "2024 round"}).json()["changed"] == {}
    assert ev.patch("/api/v1/campaigns/1", json={"deadline": None}).json()["campaign"]["deadline"] is None
    entries = audit_entries(w.ws, action="campaign.update")[0]
    assert len(entries) == 3 and entries[-1]["detail"]["deadline"][1] == "2025-04-15T15:59:59+00:00"
    assert ev.patch("/api/v1/campaigns/1", json={"name": ""}).status_code == 422


def test_staff_assignment(any_world):
    w = any_world
    admin = w.client("administrator")
    create_user(w.ws, email="ev2@example.org", role="evaluator", password=PASSWORD)
    r = admin.post("/api/v1/campaigns/2/staff", json={"email": "EV2@example.org"})
    assert r.status_code == 201 and [m["email"] for m in r.json()["items"]] == ["ev2@example.org"]
    ev2 = w.anonymous()
    ev2.headers["X-CSRF-Token"] = ev2.post("/api/v1/auth/sign-in", json={"email": "ev2@example.org",
                                                                        "password": PASSWORD}).json()["csrf_token"]
    assert _ids(ev2) == [2]
    # an assigned evaluator may assign a colleague and remove one
    r = ev2.post("/api/v1/campaigns/2/staff", json={"email": w.email("evaluator")})
    assert r.status_code == 201 and len(r.json()["items"]) == 2
    assert _ids(w.client("evaluator")) == [1, 2]
    uid = next(m["user_id"] for m in r.json()["items"] if m["email"] == "ev2@example.org")
    assert ev2.delete(f"/api/v1/campaigns/2/staff/{uid}").status_code == 204
    assert _ids(ev2) == [] and ev2.get("/api/v1/campaigns/2/staff").status_code == 404
    r = admin.delete(f"/api/v1/campaigns/2/staff/{uid}")
    assert r.status_code == 404 and r.json()["rule"] == "campaign.not_staff"
    r = admin.post("/api/v1/campaigns/2/staff", json={"email": w.email("viewer")})
    assert r.status_code == 422 and r.json()["rule"] == "campaign.staff_role"
    r = admin.post("/api/v1/campaigns/2/staff", json={"email": "nobody@example.org"})
    assert r.status_code == 404 and r.json()["rule"] == "user.not_found"
    actions = [e["action"] for e in audit_entries(w.ws, actor="ev2@example.org")[0]]
    assert "campaign.staff_add" in actions and "campaign.staff_remove" in actions


def test_invitations_for_the_sample_all_or_nothing(any_world):
    w = any_world
    ev = w.client("evaluator")
    # one address for two banks: one invitation bound to both
    r = ev.post("/api/v1/campaigns/1/invitations", json={"invitations": [
        {"entity_id": "B001", "email": "Group@Example.org"}, {"entity_id": "B002", "email": "group@example.org"},
        {"entity_id": "B002", "email": "b2@example.org"}]})
    assert r.status_code == 201, r.text
    made = r.json()
    assert [(i["email"], [e["id"] for e in i["entities"]]) for i in made] == [
        ("group@example.org", ["B001", "B002"]), ("b2@example.org", ["B002"])]
    assert all(i["campaign_id"] == 1 and i["state"] == "pending" and i["accept_path"].endswith(i["token"]) for i in made)
    # every problem named by row; nothing stored
    before = list_invitations(w.ws)[1]
    r = ev.post("/api/v1/campaigns/1/invitations", json={"invitations": [
        {"entity_id": "B009", "email": "new@example.org"}, {"entity_id": "B001", "email": "not-an-address"},
        {"entity_id": "B001", "email": "b2@example.org"}, {"entity_id": "B001", "email": w.email("submitter")}]})
    assert r.status_code == 422
    rules = [(p["rule"], p.get("row")) for p in r.json()["problems"]]
    assert rules == [("campaign.invite_entity", 1), ("user.email", 2), ("invitation.pending", None), ("user.exists", None)]
    assert list_invitations(w.ws)[1] == before
    r = ev.post("/api/v1/campaigns/1/invitations", json={"invitations": [{"entity_id": "B001", "email": "b2@example.org"}]})
    assert r.status_code == 409 and r.json()["rule"] == "invitation.pending"
    # accepted and revoked, as the campaign lists them
    accept = w.anonymous().post("/api/v1/invitations/accept", json={"token": made[0]["token"], "password": PASSWORD})
    assert accept.status_code == 201 and [e["id"] for e in accept.json()["user"]["entities"]] == ["B001", "B002"]
    assert ev.delete(f"/api/v1/invitations/{made[1]['id']}").status_code == 204
    states = {i["email"]: i["state"] for i in ev.get("/api/v1/campaigns/1/invitations").json()["items"]}
    assert states == {"group@example.org": "accepted", "b2@example.org": "revoked"}
    assert ev.get("/api/v1/campaigns/2/invitations").status_code == 404


def test_assign_and_unassign_from_the_shell(world, capsys, monkeypatch):
    db = world.ws.url
    create_user(world.ws, email="ev3@example.org", role="evaluator")
    r = run_cli(["campaign", "assign", "--campaign", "2", "--user", "ev3@example.org", "--db", db, "--by", "lead"],
                capsys, monkeypatch)
    assert r.code == 0, r.err
    r = run_cli(["campaign", "staff", "--campaign", "2", "--db", db, "--format", "csv"], capsys, monkeypatch)
    assert "ev3@example.org" in r.out and "lead" in r.out
    r = run_cli(["campaign", "unassign", "--campaign", "2", "--user", "ev3@example.org", "--db", db], capsys, monkeypatch)
    assert r.code == 0 and campaign_staff(world.ws, 2) == []
    r = run_cli(["campaign", "unassign", "--campaign", "2", "--user", "ev3@example.org", "--db", db], capsys, monkeypatch)
    assert r.code != 0 and "campaign.not_staff" in r.err
    assert [e["actor"] for e in audit_entries(world.ws, action="campaign.staff_remove")[0]] == ["cli"]


def test_invite_and_update_from_the_shell(world, tmp_path, capsys, monkeypatch):
    db = world.ws.url
    f = tmp_path / "invites.csv"
    f.write_text("entity_id,email\nB001,a@example.org\nB009,b@example.org\n", encoding="utf-8")
    r = run_cli(["campaign", "invite", "--campaign", "1", f, "--db", db], capsys, monkeypatch)
    assert r.code != 0 and "campaign.invite_entity" in r.err and "row 2" in r.err
    assert list_invitations(world.ws, campaign_id=1)[1] == 0
    f.write_text("entity_id,email\nB001,a@example.org\nB002,a@example.org\n", encoding="utf-8")
    r = run_cli(["campaign", "invite", "--campaign", "1", f, "--db", db, "--format", "csv"], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "a@example.org" in r.out and "B001 B002" in r.out and "/invitations/accept?token=" in r.out
    r = run_cli(["campaign", "update", "--campaign", "1", "--deadline", "2025-04-15", "--db", db], capsys, monkeypatch)
    assert r.code == 0 and "deadline" in r.out
    r = run_cli(["campaign", "update", "--campaign", "1", "--deadline", "none", "--db", db], capsys, monkeypatch)
    assert r.code == 0 and "→ None" in r.out
    assert audit_entries(world.ws, action="campaign.update")[1] == 2


def test_an_evaluator_sees_the_invitations_of_its_campaigns_only(any_world):
    w = any_world
    admin, ev = w.client("administrator"), w.client("evaluator")
    mine = admin.post("/api/v1/campaigns/1/invitations", json={"invitations": [{"entity_id": "B001", "email": "m@example.org"}]}).json()
    theirs = admin.post("/api/v1/campaigns/2/invitations", json={"invitations": [{"entity_id": "B002", "email": "t@example.org"}]}).json()
    loose = admin.post("/api/v1/invitations", json={"email": "l@example.org", "entities": [{"kind": "institution", "id": "B002"}]}).json()
    assert {i["email"] for i in ev.get("/api/v1/invitations").json()["items"]} == {"m@example.org", "l@example.org"}
    assert ev.get("/api/v1/invitations").json()["total"] == 2
    assert len(admin.get("/api/v1/invitations").json()["items"]) == 3
    assert ev.delete(f"/api/v1/invitations/{theirs[0]['id']}").status_code == 404
    assert ev.delete(f"/api/v1/invitations/{mine[0]['id']}").status_code == 204
    assert ev.delete(f"/api/v1/invitations/{loose['id']}").status_code == 204
