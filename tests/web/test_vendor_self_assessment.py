"""A vendor's self-assessment through ``/api/v1/vendors`` on SQLite and PostgreSQL: the evaluator opens it for
vendor V001; V001's submitter answers, uploads evidence, reads its draft and the live level, submits it; the
evaluator changes an answer (recorded: who, when, old → new), returns it with a note, the vendor changes and
submits again, the evaluator publishes. The submitter never sees the evaluator's own drafts nor anything of
another vendor (404), and changes nothing once it has submitted (409)."""

from __future__ import annotations

from fintech_eval.app.audit import audit_entries

from .vendor_helpers import EVALUATOR, SUBMITTER, assessment, self_assessment

BASE = "/api/v1/vendors"
PDF = b"%PDF-1.4\n% ISO 27001 certificate, valid to 2027\n"


def test_the_vendor_fills_submits_and_the_evaluator_reviews_and_publishes(any_world):
    w = any_world
    ev, sub = w.client("evaluator"), w.client("submitter")
    r = ev.post(f"{BASE}/V001/assessments", json={"model": "comprehensive", "round": "2026", "self_assessment": True})
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["status"], a["stage"]) == ("draft", "self_assessment")
    url = f"{BASE}/V001/assessments/{a['id']}"
    private = assessment(w, "V001")  # the evaluator's own draft of the same vendor
    theirs = self_assessment(w, "V002")  # another vendor's self-assessment

    # the vendor sees its self-assessment (not the evaluator's draft), and nothing of V002
    listed = sub.get(BASE).json()["items"]
    assert [v["id"] for v in listed] == ["V001"]
    assert [(x["id"], x["stage"]) for x in listed[0]["assessments"]] == [(a["id"], "self_assessment")]
    assert [x["id"] for x in sub.get(f"{BASE}/V001/assessments").json()["items"]] == [a["id"]]
    for path in (f"{BASE}/V001/assessments/{private}", f"{BASE}/V002/assessments/{theirs}",
                 f"{BASE}/V001/assessments/{theirs}", f"{BASE}/V002/assessments/{theirs}/rating"):
        assert sub.get(path).status_code == 404, path
    for vid, aid in (("V001", private), ("V002", theirs)):
        put = sub.put(f"{BASE}/{vid}/assessments/{aid}/answers", json={"answers": [{"indicator": "C1.2.1", "step": 1}]})
        assert put.status_code == 404 and put.json()["rule"] == "route.not_found", put.text
    assert sub.get(f"{BASE}/V002/assessments").status_code == 404

    # the vendor answers and uploads evidence; it reads its draft and the level its answers give now
    saved = sub.put(f"{url}/answers", json={"answers": [
        {"indicator": "C1.2.1", "step": 2, "evidence_ref": "制度汇编 2026-17"}, {"indicator": "C1.1.1", "step": 3}]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["changed"] == 2 and saved.json()["rating"]["status"] == "draft"
    assert "C1.1.1" in saved.json()["rating"]["capped"]  # no evidence yet
    up = sub.post(f"{url}/evidence", data={"indicator": "C1.1.1"}, files={"file": ("证书.pdf", PDF, "application/pdf")})
    assert up.status_code == 201, up.text
    got = sub.get(f"{url}/evidence/{up.json()['id']}")
    assert got.status_code == 200 and got.content == PDF
    detail = sub.get(url).json()
    assert {x["indicator"]: (x["step"], x["updated_by"]) for x in detail["answers"]} == {
        "C1.1.1": (3, SUBMITTER), "C1.2.1": (2, SUBMITTER)}
    live = sub.get(f"{url}/rating").json()
    assert live["status"] == "draft" and "C1.1.1" not in live["capped"]

    # what only the other side may do
    assert sub.post(f"{url}/publish").status_code == 403
    assert sub.post(f"{url}/return", json={}).status_code == 403
    assert ev.post(f"{url}/submit").status_code == 403
    early = ev.post(f"{url}/publish")
    assert early.status_code == 409 and early.json()["rule"] == "assessment.with_vendor"
    assert ev.post(f"{url}/return", json={}).json()["rule"] == "assessment.stage"  # not submitted yet

    # the vendor submits: then it reads but changes nothing
    done = sub.post(f"{url}/submit")
    assert done.status_code == 200 and done.json()["stage"] == "submitted", done.text
    late = sub.put(f"{url}/answers", json={"answers": [{"indicator": "C1.2.1", "step": 4}]})
    assert late.status_code == 409 and late.json()["rule"] == "assessment.submitted"
    late = sub.post(f"{url}/evidence", data={"indicator": "C1.2.1"}, files={"file": ("x.txt", b"policy", "text/plain")})
    assert late.status_code == 409 and late.json()["rule"] == "assessment.submitted"
    assert sub.delete(f"{url}/evidence/{up.json()['id']}").json()["rule"] == "assessment.submitted"
    assert sub.post(f"{url}/submit").json()["rule"] == "assessment.stage"
    assert sub.get(f"{url}/rating").status_code == 200

    # the evaluator reviews: a changed answer is recorded (who, when, what), and the vendor reads it
    fix = ev.put(f"{url}/answers", json={"answers": [{"indicator": "C1.1.1", "step": 2}]})
    assert fix.status_code == 200 and fix.json()["changed"] == 1
    history = sub.get(url).json()["history"]
    change = [h for h in history if h["action"] == "answer" and h["indicator"] == "C1.1.1"][-1]
    assert (change["who"], change["old"]["step"], change["new"]["step"]) == (EVALUATOR, 3, 2) and change["at"]
    submitted = next(h for h in history if h["action"] == "vendor.submit")
    assert submitted["who"] == SUBMITTER and submitted["new"]["answered"] == 2 and submitted["new"]["evidence"] == 1

    # returned with a note, changed and submitted again, then published
    back = ev.post(f"{url}/return", json={"note": "C1.2.1：请上传制度批准页"})
    assert back.status_code == 200 and back.json()["stage"] == "self_assessment"
    assert sub.get(url).json()["history"][-1]["new"]["note"] == "C1.2.1：请上传制度批准页"
    pdf2 = b"%PDF-1.4\n% approval page of the policy\n"
    assert sub.post(f"{url}/evidence", data={"indicator": "C1.2.1"},
                    files={"file": ("批准页.pdf", pdf2, "application/pdf")}).status_code == 201
    assert sub.post(f"{url}/submit").status_code == 200
    pub = ev.post(f"{url}/publish")
    assert pub.status_code == 200 and pub.json()["status"] == "published", pub.text
    final = sub.get(url).json()
    assert (final["status"], final["stage"], final["level"]) == ("published", "submitted", pub.json()["level"])
    assert sub.get(f"{url}/rating").json()["published_by"] == w.email("evaluator")
    assert sub.put(f"{url}/answers", json={"answers": [{"indicator": "C1.2.1", "step": 1}]}).json()["rule"] == \
        "assessment.published"

    # the audit log: each hand-over, by whom
    got = {e["action"]: e["actor"] for e in audit_entries(w.ws, limit=500)[0]
           if e["object"] == f"vendor_assessment:{a['id']}"}
    assert got["vendor_assessment.open_to_vendor"] == w.email("evaluator")
    assert got["vendor_assessment.submit"] == SUBMITTER
    assert got["vendor_assessment.return"] == w.email("evaluator")
    assert got["vendor_assessment.answer"] in (SUBMITTER, w.email("evaluator"))


def test_an_empty_self_assessment_cannot_be_submitted_and_the_vendor_withdraws_only_its_own_files(world):
    w = world
    sub = w.client("submitter")
    aid = self_assessment(w, "V001")
    url = f"{BASE}/V001/assessments/{aid}"
    empty = sub.post(f"{url}/submit")
    assert empty.status_code == 409 and empty.json()["rule"] == "assessment.empty"
    ev = w.client("evaluator")
    theirs = ev.post(f"{url}/evidence", data={"indicator": "C1.2.1"}, files={"file": ("e.pdf", PDF, "application/pdf")})
    mine = sub.post(f"{url}/evidence", data={"indicator": "C1.2.1"},
                    files={"file": ("m.txt", b"our policy", "text/plain")})
    assert theirs.status_code == mine.status_code == 201
    refused = sub.delete(f"{url}/evidence/{theirs.json()['id']}")
    assert refused.status_code == 409 and refused.json()["rule"] == "evidence.not_yours"
    ok = sub.delete(f"{url}/evidence/{mine.json()['id']}")
    assert ok.status_code == 200 and ok.json()["withdrawn_by"] == SUBMITTER


def test_the_evaluators_own_drafts_stay_hidden_and_their_files_too(world):
    """A draft the evaluator did not hand to the vendor, and the files of a published one that was not a
    self-assessment, answer the vendor 404 as before."""
    w = world
    sub = w.client("submitter")
    aid = assessment(w, "V001", published=True, answers=[{"indicator": "C1.2.1", "step": 2, "evidence_ref": "x"}])
    detail = sub.get(f"{BASE}/V001/assessments/{aid}").json()
    assert detail["stage"] == "evaluator" and detail["answers"] is None and detail["history"] is None
    draft = assessment(w, "V001")
    assert sub.get(f"{BASE}/V001/assessments/{draft}").status_code == 404
    assert sub.post(f"{BASE}/V001/assessments/{draft}/submit").status_code == 404
