"""``/api/v1/returns`` on SQLite and PostgreSQL: a return submitted as JSON or as a file goes through the import's
validation (the same problems as the application function), is kept verbatim, is listed and shown with its
history; idempotency keys store a retried request once; a submitter reaches only its own entities' returns."""

from __future__ import annotations

import hashlib
import json

import pytest

from fintech_eval.app.audit import audit_entries
from fintech_eval.app.submissions import accept, return_detail, submit

VALUES = {"fintech_staff": 120, "fintech_investment": {"value": 1.5, "unit": "亿元"}}


def _post(c, entity="B001", values=None, key=None, **extra):
    body = {"entity": entity, "campaign": 1, "values": VALUES if values is None else values, **extra}
    return c.post("/api/v1/returns", json=body, headers={"Idempotency-Key": key} if key else {})


def test_a_json_return_is_submitted_kept_verbatim_and_shown_with_its_history(any_world):
    c = any_world.client("submitter")
    r = _post(c)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["state"] == "submitted" and out["submitted"] and out["valid"] and not out["replayed"]
    assert r.headers["location"] == f"/api/v1/returns/{out['return_id']}"
    by_var = {f["variable"]: f for f in out["fields"]}
    assert by_var["fintech_investment"]["value_norm"] == 15000.0  # 1.5 亿元 in the variable's 万元, as imports convert
    assert by_var["fintech_staff"]["value"] == 120

    rid = out["return_id"]
    d = c.get(f"/api/v1/returns/{rid}")
    assert d.status_code == 200, d.text
    doc = d.json()
    assert doc["summary"]["entity_id"] == "B001" and doc["summary"]["state"] == "submitted"
    assert [(e["action"], e["from_state"], e["to_state"], e["who"]) for e in doc["history"]] == [
        ("submit", None, "submitted", "submitter@example.org")]
    assert [v["number"] for v in doc["versions"]] == [1]
    assert "return" in doc["allowed"] and "accept" in doc["allowed"]

    raw = c.get(f"/api/v1/returns/{rid}/payload")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/json")
    assert json.loads(raw.content) == {"values": VALUES}  # the values as sent, integers kept integers
    assert hashlib.sha256(raw.content).hexdigest() == doc["versions"][0]["sha256"]

    listed = c.get("/api/v1/returns", params={"campaign": 1, "state": "submitted"}).json()
    assert [x["id"] for x in listed["items"]] == [rid] and listed["total"] == 1
    assert c.get("/api/v1/returns", params={"state": "accepted"}).json()["total"] == 0
    actions = [e["action"] for e in audit_entries(any_world.ws, actor="submitter@example.org")[0]]
    assert "submission.submit" in actions


def test_a_second_version_records_what_changed(any_world):
    c = any_world.client("submitter")
    rid = _post(c).json()["return_id"]
    r = _post(c, values={**VALUES, "fintech_staff": 125})
    assert r.status_code == 201 and r.json()["return_id"] == rid and r.json()["version"] == 2
    hist = c.get(f"/api/v1/returns/{rid}").json()["history"]
    assert hist[-1]["changes"] == {"fintech_staff": {"old": "120", "new": "125"}}
    first = c.get(f"/api/v1/returns/{rid}/payload", params={"version": 1})
    assert json.loads(first.content)["values"]["fintech_staff"] == 120


def test_a_return_with_errors_is_kept_as_a_draft_with_the_import_s_problems(any_world):
    c = any_world.client("submitter")
    bad = {"fintech_staff": -5, "no_such_variable": 3}
    r = _post(c, values=bad)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["rule"] == "return.invalid" and doc["state"] == "draft" and doc["return_id"]
    # the same problems (rule, variable, message) the application function stored for that draft
    detail = return_detail(any_world.ws, doc["return_id"])
    stored = sorted((p.rule, p.where.get("variable"), p.message) for p in detail.problems)
    assert sorted((p["rule"], p.get("variable"), p["message"]) for p in doc["problems"]) == stored
    assert {p.get("variable") for p in doc["problems"] if p.get("severity") == "error"} >= {"fintech_staff", "no_such_variable"}
    shown = {f["variable"]: f for f in c.get(f"/api/v1/returns/{doc['return_id']}").json()["fields"]}
    assert shown["fintech_staff"]["problems"] and shown["fintech_staff"]["raw"] == "-5"  # kept as typed
    # and exactly what the application function says of the same values for another institution
    app = submit(any_world.ws, "B002", 1, bad, actor="test")
    assert sorted((p.rule, p.where.get("variable")) for p in app.problems) == sorted((s[0], s[1]) for s in stored)
    # a draft saved on purpose is 201
    saved = _post(c, values=bad, final=False)
    assert saved.status_code == 201 and saved.json()["state"] == "draft" and not saved.json()["submitted"]


def test_numbers_are_strict(any_world):
    c = any_world.client("submitter")
    for v in (False, True, [1], {"value": False, "unit": "万元"}):
        r = _post(c, values={"fintech_staff": v})
        assert r.status_code == 422 and r.json()["rule"].startswith("request."), (v, r.text)
    assert c.get("/api/v1/returns").json()["total"] == 0  # nothing stored


def test_an_idempotency_key_stores_a_retried_request_once(any_world):
    c = any_world.client("submitter")
    first = _post(c, key="retry-1")
    again = _post(c, key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json()["replayed"]
    assert {k: v for k, v in again.json().items() if k != "replayed"} == {k: v for k, v in first.json().items() if k != "replayed"}
    rid = first.json()["return_id"]
    assert len(c.get(f"/api/v1/returns/{rid}").json()["versions"]) == 1
    other = _post(c, key="retry-1", values={"fintech_staff": 7})
    assert other.status_code == 409 and other.json()["rule"] == "idempotency.conflict"
    # a retried invalid submission gets its first answer too
    bad1, bad2 = (_post(c, key="bad-1", values={"fintech_staff": -1}) for _ in range(2))
    assert bad1.status_code == bad2.status_code == 422 and bad1.json()["version"] == bad2.json()["version"]


def test_a_file_upload_is_validated_and_kept_byte_for_byte(any_world):
    c = any_world.client("submitter")
    csv = b"entity_id,period,variable,value\nB001,2024,fintech_staff,88\n"
    r = c.post("/api/v1/returns/upload", data={"entity": "B001", "campaign": "1"},
               files={"file": ("我的回报.csv", csv, "text/csv")}, headers={"Idempotency-Key": "up-1"})
    assert r.status_code == 201, r.text
    rid = r.json()["return_id"]
    raw = c.get(f"/api/v1/returns/{rid}/payload")
    assert raw.content == csv and raw.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''%E6%88%91" in raw.headers["content-disposition"]
    again = c.post("/api/v1/returns/upload", data={"entity": "B001", "campaign": "1"},
                   files={"file": ("我的回报.csv", csv, "text/csv")}, headers={"Idempotency-Key": "up-1"})
    assert again.json()["replayed"] and again.json()["version"] == r.json()["version"]


def test_a_state_that_allows_no_submission_is_a_conflict(any_world):
    a = any_world.client("administrator")
    rid = _post(a).json()["return_id"]
    accept(any_world.ws, [rid], actor="evaluator@example.org")
    r = _post(a)
    assert r.status_code == 409 and r.json()["rule"] == "review.transition", r.text


@pytest.mark.parametrize("how", ["entity", "campaign", "read"])
def test_a_submitter_reaches_only_its_own_entities(any_world, how):
    s = any_world.client("submitter")
    if how == "entity":  # another institution, and one not registered: the same 404
        assert _post(s, entity="B002").status_code == 404
        assert _post(s, entity="NOPE").status_code == 404
    elif how == "campaign":  # campaign 2 asks only B002
        r = _post(s, campaign=2)
        assert r.status_code == 404 and r.json()["rule"] == "route.not_found"
        r = s.post("/api/v1/returns", json={"entity": "B001", "values": {"fintech_staff": 3}})  # no campaign: which?
        assert r.status_code == 404 and r.json()["rule"] == "campaign.which"
    else:
        other = submit(any_world.ws, "B002", 1, {"fintech_staff": 9}, actor="test").return_id
        assert s.get(f"/api/v1/returns/{other}").status_code == 404
        assert s.get(f"/api/v1/returns/{other}/payload").status_code == 404
        assert s.get("/api/v1/returns").json()["total"] == 0
        assert s.get("/api/v1/returns", params={"entity": "B002"}).json()["total"] == 0
        assert any_world.client("evaluator").get(f"/api/v1/returns/{other}").status_code == 200
    assert any_world.client("viewer").get("/api/v1/returns").status_code == 403


def test_a_token_submits_with_the_submit_scope_only(world):
    c = world.anonymous()
    c.headers["Authorization"] = f"Bearer {world.token('submitter', scopes=['read'])}"
    r = _post(c)
    assert r.status_code == 403 and r.json()["rule"] == "auth.scope"
    c.headers["Authorization"] = f"Bearer {world.token('submitter', scopes=['read', 'submit'])}"
    assert _post(c, key="tok-1").status_code == 201


def test_the_server_validates_returns_of_an_extended_framework_it_is_given(world, tmp_path):
    """``serve --extension FILE`` ($FINTECH_EVAL_WEB_EXTENSIONS): the framework it extends is used with the extension
    applied, so returns answering the extension's variables validate (not ``variable.unknown``)."""
    import yaml

    from fintech_eval.web.app import create_app
    from fintech_eval.web.settings import WebSettings

    ext = {"extends": "jrt0201-2020", "id": "web-ext", "namespace": "webx",
           "variables": [{"name": "webx_robots", "unit": "count", "type": "count", "help": {"zh": "机器人", "en": "robots"}}],
           "add": [{"parent": "J-A1B1", "indicators": [
               {"code": "webx:J-A1B1-C99", "name": {"zh": "机器人", "en": "robots"}, "definition": {"zh": "机器人", "en": "robots"},
                "unit": "count", "type": "count", "collection": ["S"], "formula": "webx_robots"}]}]}
    path = tmp_path / "ext.yaml"
    path.write_text(yaml.safe_dump(ext, allow_unicode=True), encoding="utf-8")
    before = _post(world.client("submitter"), values={"webx_robots": 12, "fintech_staff": 30})
    assert before.status_code == 422 and "variable.unknown" in {p["rule"] for p in before.json()["problems"]}
    app = create_app(WebSettings(extensions=str(path)), workspace=world.ws)
    fw = app.state.workspace.framework("jrt0201-2020")  # the framework it extends, now with the extension applied
    assert "webx_robots" in {v.name for v in fw.variables}
    world.app = app
    r = _post(world.client("submitter"), values={"webx_robots": 12, "fintech_staff": 30})
    assert r.status_code == 201, r.text
    assert {f["variable"] for f in r.json()["fields"]} == {"webx_robots", "fintech_staff"}


def test_problems_come_in_the_language_of_the_request(any_world):
    """``Accept-Language: zh`` (or ``?lang=zh``): each problem's ``message`` and the ``detail`` in Chinese, the
    English beside it (``message_en``); without one, English as the CLI prints it, the Chinese in ``message_zh``."""
    c = any_world.client("submitter")
    bad = {"fintech_staff": -5}
    zh = c.post("/api/v1/returns", json={"entity": "B001", "campaign": 1, "values": bad},
                headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert zh.status_code == 422, zh.text
    [p] = [p for p in zh.json()["problems"] if p["rule"] == "range.negative"]
    assert p["message"] == p["message_zh"] == "fintech_staff（计数）不能为负数，实际为 '-5'"
    assert p["message_en"] == "fintech_staff (count) cannot be negative, got '-5'"
    assert zh.json()["detail"].startswith("报表 ") and "不能为负数" in zh.json()["detail"]
    rid = zh.json()["return_id"]
    en = c.post("/api/v1/returns", json={"entity": "B001", "campaign": 1, "values": bad})
    [q] = [p for p in en.json()["problems"] if p["rule"] == "range.negative"]
    assert q["message"] == q["message_en"] == p["message_en"] and q["message_zh"] == p["message_zh"]
    # the return's page in the API and an error answer follow the same choice
    shown = c.get(f"/api/v1/returns/{rid}?lang=zh").json()
    assert shown["problems"][0]["message"] == shown["problems"][0]["message_zh"]
    assert any("不能为负数" in m for f in shown["fields"] for m in f["problems"])
    assert all("cannot be negative" not in m for f in shown["fields"] for m in f["problems"])
    units = c.post("/api/v1/returns/upload", data={"entity": "B001", "campaign": "1"},
                   files={"file": ("r.csv", b"entity,period,variable,value,unit\nB001,2024,fintech_staff,-5,person\n",
                                   "text/csv")}, headers={"Accept-Language": "zh"})
    assert units.status_code == 422 and "不能为负数" in units.json()["detail"]
