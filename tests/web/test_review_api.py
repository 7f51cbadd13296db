"""The review API and the questionnaire form's API on SQLite and PostgreSQL: a draft keeps what was typed
(units included) whatever its problems; return with comments per field, resubmit, accept (one or many,
all-or-nothing), reject, reopen; problems as problem+json with the application's rule, field and message;
tenancy (another entity's questionnaire is 404) and token scopes."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from fintech_eval.app.audit import audit_entries
from fintech_eval.app.submissions import return_detail, returns_list, submit

from .conftest import World

PROBLEM = "application/problem+json"
GOOD = {"fintech_staff": "3", "employees": "5"}


def _submitted(w: World, entity: str = "B001", campaign: int = 1, values=None) -> int:
    res = submit(w.ws, entity, campaign, values or GOOD, actor=w.email("submitter"))
    assert res.submitted, res.problems
    return res.return_id


def test_a_draft_keeps_what_was_typed_and_its_problems(any_world):
    s = any_world.client("submitter")
    r = s.put("/api/v1/campaigns/1/forms/B001/draft",
              json={"values": {"fintech_investment": "1.5", "employees": "abc", "fintech_staff": 3},
                    "units": {"fintech_investment": "亿元"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "draft" and body["valid"] is False
    [p] = body["problems"]
    assert p["rule"] == "cell.not_number" and p["variable"] == "employees" and "'abc' is not a number" in p["message"]
    form = s.get("/api/v1/campaigns/1/forms/B001?lang=en").json()
    fields = {f["variable"]: f for f in form["fields"]}
    assert form["return_id"] == body["return_id"] and form["sector"] == "bank"
    assert fields["employees"]["raw"] == "abc" and fields["employees"]["problems"][0].startswith("cell.not_number")
    assert fields["fintech_investment"]["raw"] == "1.5" and fields["fintech_investment"]["entered_unit"] == "亿元"
    assert fields["fintech_investment"]["units"] == ["CNY 10k", "元", "万元", "亿元"]
    assert fields["fintech_strategy_plan"]["help_zh"] and fields["fintech_strategy_plan"]["help_en"]
    assert fields["fintech_strategy_plan"]["label"] == fields["fintech_strategy_plan"]["help_en"]
    # 1.5 亿元 is read exactly as an import reads it: 15,000 万元 (the variable's unit)
    stored = {f["variable"]: f for f in return_detail(any_world.ws, body["return_id"], version=1).fields.to_dict("records")}
    assert stored["fintech_investment"]["value_norm"] == 15000.0 and stored["fintech_investment"]["unit_norm"] == "CNY 10k"
    [entry], _ = audit_entries(any_world.ws, action="submission.save")
    assert entry["object"] == f"return:{body['return_id']}" and entry["detail"]["errors"] == 1


def test_return_resubmit_accept(any_world):
    w = any_world
    rid = _submitted(w, values={"fintech_staff": "12", "employees": "50"})
    e = w.client("evaluator")
    r = e.post(f"/api/v1/returns/{rid}/return", json={"comments": {"fintech_staff": "formal employees only?"},
                                                      "note": "one question"})
    assert r.status_code == 200, r.text
    assert r.json()["from_state"] == "submitted" and r.json()["state"] == "returned"
    form = w.client("submitter").get("/api/v1/campaigns/1/forms/B001").json()
    assert form["state"] == "returned" and "submit" in form["allowed"]
    assert {f["variable"]: f["comment"] for f in form["fields"]}["fintech_staff"] == "formal employees only?"
    submit(w.ws, "B001", 1, {"fintech_staff": "10", "employees": "50"}, actor=w.email("submitter"))
    r = e.post(f"/api/v1/returns/{rid}/accept", json={"note": "checked by phone"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["from_state"], out["state"], out["stored_rows"]) == ("resubmitted", "accepted", 2)
    assert out["submission_id"] is not None
    actions = [x["action"] for x in audit_entries(w.ws, actor=w.email("evaluator"))[0]]
    assert "review.return" in actions and "review.accept" in actions
    hist = return_detail(w.ws, rid).history
    assert list(hist["action"]) == ["submit", "return", "submit", "accept"]
    assert hist.iloc[2]["changes"] == {"fintech_staff": {"old": "12", "new": "10"}}


def test_review_problems_carry_rule_field_and_message(any_world):
    w = any_world
    rid = _submitted(w)
    e = w.client("evaluator")
    r = e.post(f"/api/v1/returns/{rid}/return", json={"comments": {}})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["rule"] == "review.comment"
    r = e.post(f"/api/v1/returns/{rid}/return", json={"comments": {"fintech_staf": "?"}})
    body = r.json()
    assert r.status_code == 422 and body["rule"] == "review.comment_field" and body["field"] == "fintech_staf"
    assert "did you mean 'fintech_staff'" in body["detail"]
    r = e.post(f"/api/v1/returns/{rid}/reopen", json={"note": "why not"})
    assert r.status_code == 409 and r.json()["rule"] == "review.transition"
    assert "reopen is allowed only from accepted, rejected" in r.json()["detail"]
    r = e.post(f"/api/v1/returns/{rid}/reject", json={})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "note"
    assert e.post("/api/v1/returns/999999/accept").status_code == 404
    r = e.post(f"/api/v1/returns/{rid}/reject", json={"note": "another bank's figures"})
    assert r.json()["state"] == "rejected"
    r = e.post(f"/api/v1/returns/{rid}/reopen", json={"note": "they sent the right file"})
    assert r.json()["state"] == "returned"


def test_accept_many_is_all_or_nothing(any_world):
    w = any_world
    a = _submitted(w, "B001")
    b = _submitted(w, "B002")
    e = w.client("evaluator")
    e.post(f"/api/v1/returns/{b}/return", json={"comments": {"*": "the whole return, please"}})
    r = e.post("/api/v1/returns/accept", json={"ids": [a, b]})
    assert r.status_code == 409 and r.json()["rule"] == "review.transition"
    assert dict(zip(returns_list(w.ws)["id"], returns_list(w.ws)["state"], strict=True)) == {a: "submitted", b: "returned"}
    submit(w.ws, "B002", 1, GOOD, actor=w.email("submitter"))
    r = e.post("/api/v1/returns/accept", json={"campaign_id": 1, "dry_run": True})
    assert r.status_code == 200 and r.json()["total"] == 2 and r.json()["dry_run"] is True
    assert set(returns_list(w.ws)["state"]) == {"submitted", "resubmitted"}
    r = e.post("/api/v1/returns/accept", json={"campaign_id": 1})
    assert r.status_code == 200 and {x["state"] for x in r.json()["items"]} == {"accepted"}
    assert e.post("/api/v1/returns/accept", json={"ids": [a], "campaign_id": 1}).status_code == 422
    assert e.post("/api/v1/returns/accept", json={"ids": [True]}).status_code == 422  # strict: no bool as an id


def test_tenancy_and_token_scopes(any_world):
    w = any_world
    s = w.client("submitter")
    assert s.get("/api/v1/campaigns/2/forms/B002").status_code == 404  # another entity
    assert s.get("/api/v1/campaigns/2/forms/B001").status_code == 404  # a campaign that does not ask B001
    assert s.put("/api/v1/campaigns/1/forms/B002/draft", json={"values": {}}).status_code == 404
    assert s.get("/api/v1/campaigns/1/forms/NOPE").status_code == 404
    rid = _submitted(w)
    assert s.post(f"/api/v1/returns/{rid}/accept").status_code == 403
    c = w.anonymous()
    c.headers["Authorization"] = f"Bearer {w.token('evaluator', ['read'])}"
    r = c.post(f"/api/v1/returns/{rid}/accept")
    assert r.status_code == 403 and r.json()["rule"] == "auth.scope"
    c.headers["Authorization"] = f"Bearer {w.token('evaluator', ['read', 'admin'])}"
    assert c.post(f"/api/v1/returns/{rid}/accept").json()["state"] == "accepted"
    r = s.put("/api/v1/campaigns/1/forms/B001/draft", json={"values": {"employees": "6"}})
    assert r.status_code == 409 and r.json()["rule"] == "review.transition"  # accepted: reopen first


def test_the_workbook_is_the_cli_template_prefilled_and_uploads_back(world):
    w = world
    s = w.client("submitter")
    every = {f["variable"]: "N/A" for f in s.get("/api/v1/campaigns/1/forms/B001").json()["fields"]}
    s.put("/api/v1/campaigns/1/forms/B001/draft", json={"values": {**every, "fintech_investment": "1.5", "fintech_staff": "3",
                                                                   "employees": "5", "fintech_strategy_plan": "1"},
                                                        "units": {"fintech_investment": "亿元"}})
    r = s.get("/api/v1/campaigns/1/forms/B001/workbook")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "questionnaire_B001_2024.xlsx" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    meta = {str(x[0]): x[1] for x in wb["_meta"].iter_rows(values_only=True) if x[0] is not None}
    sheet = wb[meta["sheet"]]
    names = str(meta["variables"]).split(",")
    cells = {n: sheet[f"{meta['value_column']}{int(meta['first_row']) + i}"].value for i, n in enumerate(names)}
    assert cells["fintech_investment"] == 15000 and cells["employees"] == 5 and cells["fintech_strategy_plan"] == "是 yes"
    assert cells["coop_universities"] == "N/A"
    up = s.post("/returns/upload", data={"csrf_token": s.headers["X-CSRF-Token"], "campaign": "1", "entity": "B001"},
                files={"file": ("questionnaire_B001_2024.xlsx", r.content, "application/octet-stream")},
                follow_redirects=False)
    assert up.status_code == 303, up.text
    row = returns_list(w.ws, 1, entity="B001").iloc[0]
    assert row["state"] == "submitted" and row["errors"] == 0
    fields = {f["variable"]: f for f in return_detail(w.ws, int(row["id"])).fields.to_dict("records")}
    assert fields["fintech_investment"]["value_norm"] == 15000.0 and fields["fintech_strategy_plan"]["value_norm"] == 1
