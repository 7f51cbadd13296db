"""Evaluators see their campaigns (issue 13): the returns and the runs of a campaign an evaluator is not
assigned to answer 404 and are left out of its listings; an administrator sees them; a return or run of no
campaign is every staff member's. On SQLite and PostgreSQL."""

from __future__ import annotations

from fintech_eval.app.submissions import submit
from fintech_eval.store.models import EvaluationRun


def _run_of_campaign(w, campaign_id: int) -> int:
    with w.ws.sessions() as s, s.begin():
        run = EvaluationRun(campaign_id=campaign_id, name="campaign 2 run", framework="jrt0201-2020",
                            framework_version="2020", period="2024", specs={}, out_dir="/srv/runs/y", software="test",
                            created_by="cli", status="draft")
        s.add(run)
        s.flush()
        return run.id


def test_an_evaluator_sees_only_its_campaigns_returns_and_runs(any_world):
    w = any_world
    mine = submit(w.ws, "B001", 1, {"fintech_staff": "3", "employees": "5"}, actor="t").return_id
    theirs = submit(w.ws, "B002", 2, {"fintech_staff": "3", "employees": "5"}, actor="t").return_id
    run2 = _run_of_campaign(w, 2)
    ev, ad = w.client("evaluator"), w.client("administrator")

    assert ev.get(f"/api/v1/returns/{mine}").status_code == 200
    assert ev.get(f"/api/v1/returns/{theirs}").status_code == 404
    assert ev.get(f"/api/v1/returns/{theirs}/payload").status_code == 404
    assert [r["id"] for r in ev.get("/api/v1/returns").json()["items"]] == [mine]
    assert ev.post(f"/api/v1/returns/{theirs}/return", json={"comments": {"*": "no"}}).status_code == 404
    assert ev.post("/api/v1/returns/accept", json={"ids": [mine, theirs]}).status_code == 404
    assert ev.post("/api/v1/returns/accept", json={"campaign_id": 2}).status_code == 404
    assert ev.get(f"/returns/{theirs}").status_code == 404

    assert ev.get(f"/api/v1/runs/{run2}").status_code == 404
    assert run2 not in [r["id"] for r in ev.get("/api/v1/runs").json()["items"]]
    assert ev.post("/api/v1/runs", json={"campaign": 2}).status_code == 404
    assert ev.get(f"/results/{run2}").status_code == 404

    assert ad.get(f"/api/v1/returns/{theirs}").status_code == 200
    assert {mine, theirs} <= {r["id"] for r in ad.get("/api/v1/returns").json()["items"]}
    assert ad.get(f"/api/v1/runs/{run2}").status_code == 200
