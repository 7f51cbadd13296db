"""The questionnaire and review pages (server-rendered, without a browser): the form of the entity's sector in
both languages, a refused submission keeping everything typed with the messages beside the fields, a blank
the framework asks marked like the workbook's, the evaluator's comment beside its field, accepting many from
the list (all-or-nothing), and the 404 page for another entity's return."""

from __future__ import annotations

import re
from html import unescape

from fintech_eval.app.submissions import return_form, returns_list, submit

from .conftest import World


def _complete(w: World, entity: str = "B001", campaign: int = 1) -> dict[str, str]:
    """A form with every field answered N/A (declared unavailable), then a few real values."""
    data = {f"v.{f['variable']}": "N/A" for f in return_form(w.ws, entity, campaign)["fields"]}
    data.update({"campaign": str(campaign), "entity": entity, "v.fintech_staff": "12", "v.employees": "50",
                 "v.fintech_investment": "1.5", "u.fintech_investment": "亿元", "v.fintech_strategy_plan": "1"})
    return data


def _messages(html: str, variable: str) -> list[str]:
    cell = re.search(rf'<td id="msg-{variable}" class="msgs">(.*?)</td>', html, re.S)
    assert cell, variable
    return [unescape(re.sub(r"<[^>]+>", "", m).strip()) for m in re.findall(r'class="(?:field-error|comment)"[^>]*>(.*?)</p>', cell.group(1), re.S)]


def test_the_form_is_the_sectors_questionnaire_in_both_languages(world):
    s = world.client("submitter")
    zh = s.get("/returns/new?campaign=1&entity=B001&lang=zh").text
    en = s.get("/returns/new?campaign=1&entity=B001&lang=en").text
    asked = [f["variable"] for f in return_form(world.ws, "B001", 1)["fields"]]
    assert re.findall(r'name="v\.([a-z0-9_]+)"', zh) == asked  # the workbook's variables, in its order
    assert "报告期内,本机构金融科技投入(万元)" in zh and "FinTech investment in the period (CNY 10k)" in en
    assert "提交" in zh and "Submit" in en and "保存草稿" in zh and "Save draft" in en
    money = re.search(r'<select name="u.fintech_investment"[^>]*>(.*?)</select>', zh, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)"', money) == ["元", "万元", "亿元"]
    assert '<option value="万元" selected>' in money  # the variable's own unit by default
    assert 'name="u.employees"' not in zh  # a count has one unit, in the page's language
    assert re.search(r'id="row-employees".*?<td>人</td>', zh, re.S) and re.search(r'id="row-employees".*?<td>person</td>', en, re.S)
    assert "/api/v1/campaigns/1/forms/B001/workbook" in zh and "/api/v1/campaigns/1/forms/" in zh  # workbook, autosave


def test_the_messages_beside_the_fields_are_in_the_page_language(world):
    """The same refused value: Chinese beside the field on a Chinese page (and on top, a message of the whole
    return), English on an English one; the review page (the evaluator's view of the same return) too."""
    s = world.client("submitter")
    data = {**_complete(world), "v.employees": "-4", "csrf_token": s.headers["X-CSRF-Token"]}
    zh = s.post("/returns/submit?lang=zh", data=data)
    assert zh.status_code == 422
    assert _messages(zh.text, "employees") == ["range.negative: employees（计数）不能为负数，实际为 '-4'"]
    en = s.post("/returns/submit?lang=en", data=data)
    assert _messages(en.text, "employees") == ["range.negative: employees (count) cannot be negative, got '-4'"]
    rid = int(returns_list(world.ws, 1, entity="B001").iloc[0]["id"])
    for who in (s, world.client("evaluator")):
        page = who.get(f"/returns/{rid}?lang=zh").text
        assert _messages(page, "employees") == ["range.negative: employees（计数）不能为负数，实际为 '-4'"]


def test_a_refused_submission_keeps_everything_typed(world):
    s = world.client("submitter")
    data = {**_complete(world), "v.employees": "abc", "v.coop_universities": "", "v.coop_enterprises": "",
            "csrf_token": s.headers["X-CSRF-Token"]}
    r = s.post("/returns/submit?lang=en", data=data)
    assert r.status_code == 422
    assert _messages(r.text, "employees")[0].startswith("cell.not_number: value 'abc' is not a number")
    for blank in ("coop_universities", "coop_enterprises"):  # one problem names both: each field is marked
        assert _messages(r.text, blank) == ["Required: give the value, or N/A (不适用) when it is not available [value.blank_mandatory]"]
    assert "left blank for B001 in 2024" in r.text  # the import's own message, on top
    assert _messages(r.text, "fintech_staff") == []
    assert 'value="abc"' in r.text and 'value="12"' in r.text and '<option value="亿元" selected>' in r.text
    assert 'role="alert">There are errors; kept as a draft' in r.text
    assert returns_list(world.ws, 1, entity="B001").iloc[0]["state"] == "draft"
    data.update({"v.employees": "50", "v.coop_universities": "3", "v.coop_enterprises": "N/A"})
    r = s.post("/returns/submit", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?notice=submitted")
    page = s.get(r.headers["location"] + "&lang=zh").text
    assert "已提交，等待评审" in page and 'id="ret-state">已提交' in page
    assert 'name="v.employees"' in page  # not reviewed yet: a new version may replace it


def test_return_with_comments_then_accept_from_the_list(world):
    s, e = world.client("submitter"), world.client("evaluator")
    s.post("/returns/submit", data={**_complete(world), "csrf_token": s.headers["X-CSRF-Token"]})
    rid = int(returns_list(world.ws, 1, entity="B001").iloc[0]["id"])
    page = e.get(f"/returns/{rid}?lang=en").text
    assert 'name="c.fintech_staff"' in page and 'value="return"' in page and 'value="accept"' in page
    r = e.post(f"/returns/{rid}/review", data={"csrf_token": e.headers["X-CSRF-Token"], "action": "return"})
    assert r.status_code == 422 and "say what to change" in r.text  # the application's message
    r = e.post(f"/returns/{rid}/review", data={"csrf_token": e.headers["X-CSRF-Token"], "action": "return",
                                               "c.fintech_staff": "包括外包人员吗？", "general": "请核对人员数"},
               follow_redirects=False)
    assert r.status_code == 303
    mine = s.get(f"/returns/{rid}?lang=zh").text
    assert _messages(mine, "fintech_staff") == ["评估人员意见: 包括外包人员吗？"]
    assert "请核对人员数" in mine and 'name="v.fintech_staff"' in mine  # returned: editable again
    s.post("/returns/submit", data={**_complete(world), "v.fintech_staff": "10", "csrf_token": s.headers["X-CSRF-Token"]})
    submit(world.ws, "B002", 1, {"fintech_staff": "1", "employees": "2"}, actor="other@example.org")
    listing = e.get("/returns?state=resubmitted&lang=en").text
    assert f'href="/returns/{rid}"' in listing and "<code>B002</code>" not in listing
    ids = [str(i) for i in returns_list(world.ws, 1)["id"]]
    r = e.post("/returns/accept", data={"csrf_token": e.headers["X-CSRF-Token"], "ids": ids}, follow_redirects=False)
    assert r.status_code == 303
    assert set(returns_list(world.ws, 1)["state"]) == {"accepted"}
    history = s.get(f"/returns/{rid}?lang=en").text
    assert "fintech_staff</code>: 12 → 10" in history and "包括外包人员吗？" in history
    assert 'name="v.fintech_staff"' not in history and "it cannot be changed" in history  # accepted: read-only


def test_another_entitys_return_is_not_found(world):
    rid = submit(world.ws, "B002", 2, {"fintech_staff": "1", "employees": "2"}, actor="other@example.org").return_id
    s = world.client("submitter")
    assert s.get(f"/returns/{rid}").status_code == 404
    assert s.get(f"/returns/{rid}/versions/1").status_code == 404
    assert "B002" not in s.get("/returns").text
    assert world.client("administrator").get(f"/returns/{rid}/versions/1").content == b'{"values":{"fintech_staff":"1","employees":"2"}}'
    assert world.client("evaluator").get(f"/returns/{rid}").status_code == 404  # campaign 2 is not the evaluator's


def test_check_selected_shows_the_flags_of_accepting_them_together_and_stores_nothing(world):
    """Outliers are judged among the returns accepted at once: the list's dry run shows them first."""
    ids = []
    for i, ent in enumerate(["B001", "B002"]):
        ids.append(submit(world.ws, ent, 1, {"fintech_staff": "3", "employees": str(50 + i)}, actor="s").return_id)
    e = world.client("evaluator")
    r = e.post("/returns/accept?lang=en", data={"csrf_token": e.headers["X-CSRF-Token"], "action": "check",
                                                "ids": [str(i) for i in ids]})
    assert r.status_code == 200 and 'id="checked"' in r.text and "Accepted together" in r.text
    assert set(returns_list(world.ws, 1)["state"]) == {"submitted"}  # nothing stored
