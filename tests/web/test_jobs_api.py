"""Scoring as a background job over the API and the pages, on SQLite and PostgreSQL: ``POST /api/v1/runs``
answers 202 with the job's ``Location``; the server's own job runner (started by the app's lifespan) scores it and
the job links the run; a failing job says its rule and message; a job of another campaign is 404 to an evaluator;
the page that starts scoring follows the job to the run; a campaign's run keeps to its sample unless asked."""

from __future__ import annotations

import re
import time

import pandas as pd
from fastapi.testclient import TestClient

from fintech_eval.app.audit import audit_entries
from fintech_eval.app.campaign_staff import assign_staff
from fintech_eval.app.campaigns import create_campaign
from fintech_eval.app.jobs import drain

from .conftest import PASSWORD
from .results_data import load_round, score_via_api


def _signed_in(c: TestClient, email: str) -> TestClient:
    r = c.post("/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def test_the_servers_job_runner_scores_and_the_job_links_the_run(any_world, tmp_path):
    w = any_world
    rnd = load_round(w.ws, tmp_path)
    with TestClient(w.app) as c:  # the lifespan starts this process's job runner
        assert w.app.state.job_runner is not None and w.app.state.job_runner.alive
        ev = _signed_in(c, w.email("evaluator"))
        r = ev.post("/api/v1/runs", json={"campaign": rnd.campaign})
        assert r.status_code == 202, r.text
        where = r.headers["location"]
        deadline = time.monotonic() + 180
        while (job := ev.get(where).json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["state"] == "succeeded" and job["progress"] == 1.0 and job["problem"] is None, job
        assert job["result"]["ref"].startswith("run:") and job["result"]["page"].startswith("/results/")
        run = ev.get(job["result"]["href"]).json()
        assert run["blocks"] == ["H", "J", "Q"] and run["campaign"] == rnd.campaign and run["created_by"] == w.email("evaluator")
        assert [j["id"] for j in ev.get("/api/v1/jobs").json()["items"]] == [job["id"]]
        runner = w.app.state.job_runner
    assert w.app.state.job_runner is None and not runner.alive  # stopped with the server
    actions = {a: [e["object"] for e in audit_entries(w.ws, action=a)[0]] for a in ("job.queue", "job.start", "job.finish")}
    assert actions == {a: [f"job:{job['id']}"] for a in actions}
    finish = audit_entries(w.ws, action="job.finish")[0][0]
    assert (finish["actor"], finish["detail"]["state"], finish["detail"]["result"]) == (
        w.email("evaluator"), "succeeded", job["result"]["ref"])
    assert audit_entries(w.ws, action="job.queue")[0][0]["ip"]  # who asked, from where


def test_a_failing_job_reports_its_rule_and_message(any_world):
    """Campaign 2 has no data: the job fails with the rule and message of ``fintech-eval score``'s error; the
    evaluator, not assigned to campaign 2, does not see the job at all."""
    w = any_world
    admin, ev = w.client("administrator"), w.client("evaluator")
    r = admin.post("/api/v1/runs", json={"campaign": 2})
    assert r.status_code == 202, r.text
    drain(w.ws)
    job = admin.get(r.headers["location"]).json()
    assert job["state"] == "failed" and job["result"] is None
    assert job["problem"]["rule"] == "run.no_data" and "nothing to score" in job["problem"]["message"], job
    assert ev.get(r.headers["location"]).status_code == 404
    assert ev.post(f"{r.headers['location']}/cancel").status_code == 404
    assert ev.get("/api/v1/jobs").json()["items"] == []
    assert admin.get("/api/v1/jobs?state=failed").json()["total"] == 1
    c = admin.post(f"{r.headers['location']}/cancel")  # it has ended
    assert c.status_code == 422 and c.json()["rule"] == "job.ended"
    assert {x["id"] for x in admin.get("/api/v1/runs").json()["items"]} == set(w.runs.values())  # no half run left


def test_cancel_a_queued_job(world):
    ev = world.client("evaluator")
    create_campaign(world.ws, period="2024", sample=["B001"], name="to cancel")
    assign_staff(world.ws, 3, world.email("evaluator"), who="test")
    r = ev.post("/api/v1/runs", json={"campaign": 3})
    assert r.status_code == 202
    c = ev.post(f"{r.headers['location']}/cancel")
    assert c.status_code == 200 and c.json()["state"] == "cancelled"
    assert drain(world.ws) == []  # nothing left to run
    assert world.client("submitter").get(r.headers["location"]).status_code == 403  # staff only


def test_the_score_page_follows_the_job_to_the_run(world, tmp_path):
    rnd = load_round(world.ws, tmp_path)
    ev = world.client("evaluator")
    page = ev.get("/results")
    assert 'name="outside_sample"' in page.text and "后台" in page.text
    r = ev.post("/results", data={"campaign": str(rnd.campaign), "csrf_token": ev.headers["X-CSRF-Token"]},
                follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/jobs/\d+", r.headers["location"])
    queued = ev.get(r.headers["location"])
    assert queued.status_code == 200 and 'http-equiv="refresh"' in queued.text and "排队中" in queued.text
    assert "评分（新建运行）" in queued.text  # the kind, in the page's language
    assert 'data-key="jobs"' in ev.get("/results").text  # the recent jobs, on the results page
    drain(world.ws)
    done = ev.get(r.headers["location"] + "?lang=en")
    assert 'http-equiv="refresh"' not in done.text and "succeeded" in done.text
    link = re.search(r'id="job-result" href="(/results/\d+)"', done.text)
    assert link and ev.get(link.group(1)).status_code == 200
    assert world.client("viewer").get(r.headers["location"]).status_code == 403


def test_a_failed_job_page_shows_the_rule(world):
    ev = world.client("administrator")
    r = ev.post("/results", data={"campaign": "2", "csrf_token": ev.headers["X-CSRF-Token"]}, follow_redirects=False)
    drain(world.ws)
    page = ev.get(r.headers["location"])
    assert "run.no_data" in page.text and 'id="job-problem"' in page.text and "失败" in page.text


def test_scoring_a_campaign_keeps_to_its_sample_unless_asked(world, tmp_path):
    """A campaign asking part of the institutions with data: its run ranks its sample only; ``outside_sample``
    ranks every institution with data in the period, and the run's spec says so (it reruns the same)."""
    rnd = load_round(world.ws, tmp_path)
    sample = [m for m in rnd.members if not m.startswith("SYN-INS")]  # the insurers are left out of this round
    cid = create_campaign(world.ws, period="2024", sample=sample, name="no insurers")
    ev = world.client("administrator")
    inside = score_via_api(world, ev, campaign=cid, blocks=["J"])
    every = score_via_api(world, ev, campaign=cid, blocks=["J"], outside_sample=True)
    units = {k: set(pd.read_csv(f"{run['out_dir']}/J-2024/scores.csv")["uCode"]) for k, run in
             (("inside", inside), ("every", every))}
    assert units["inside"] == set(sample) and units["every"] == set(rnd.members) > units["inside"]
    assert inside["specs"]["J"]["data"].get("outside_sample") is None and every["specs"]["J"]["data"]["outside_sample"] is True
    scored = audit_entries(world.ws, action="run.score")[0]
    assert [e["detail"]["outside_sample"] for e in scored] == [True, False]
