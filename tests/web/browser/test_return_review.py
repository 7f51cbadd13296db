"""In a real browser: a submitter fills the questionnaire of its bank (one field invalid), the draft saves
itself, the submission is refused with the message beside the field and everything typed kept; corrected, it
is submitted; the evaluator returns it with a comment on one field; the submitter sees the comment beside that
field, fixes it and resubmits; the evaluator accepts it from the list. Chinese for the submitter, English for
the evaluator; screenshots of each step."""

from __future__ import annotations

import re

from fintech_eval.app.submissions import return_detail, returns_list

from .conftest import SHOTS, shot, sign_in


def view(page, name: str) -> None:
    """What the person sees (the viewport), beside the full-page shot: the pictures the README shows."""
    page.screenshot(path=str(SHOTS / f"{name}.view.png"))


def test_fill_submit_return_resubmit_accept(live, new_page):
    w, url = live
    sub = new_page("zh-CN")
    sign_in(sub, url, w.email("submitter"), "/returns")
    sub.get_by_role("table", name="评估项目").get_by_role("link", name="填写").click()
    sub.wait_for_url(re.compile(r"/returns/new\?campaign=1&entity=B001"))
    assert sub.get_by_role("heading", level=1).inner_text().startswith("B001 甲银行")
    # every figure declared unavailable, then the real ones typed (one of them not a number)
    sub.evaluate("""() => document.querySelectorAll('#ret-form [name^="v."]').forEach(
        el => { el.value = 'N/A'; })""")
    sub.fill("[name='v.fintech_investment']", "1.5")
    sub.select_option("[name='u.fintech_investment']", "亿元")
    sub.select_option("[name='v.fintech_strategy_plan']", "1")
    sub.fill("[name='v.fintech_staff']", "12")
    sub.fill("[name='v.employees']", "五十")
    sub.locator("#autosave").filter(has_text="草稿已保存").wait_for()  # the draft saved itself
    assert returns_list(w.ws, 1, entity="B001").iloc[0]["state"] == "draft"
    sub.click("#submit-return")
    sub.wait_for_load_state()
    assert "有错误，已保存为草稿" in sub.get_by_role("alert").inner_text()
    assert "数值 '五十' 不是数字" in sub.locator("#err-employees").inner_text()  # the page's language
    assert sub.locator("#err-fintech_staff").count() == 0
    assert sub.input_value("[name='v.employees']") == "五十" and sub.input_value("[name='v.fintech_staff']") == "12"
    assert sub.input_value("[name='u.fintech_investment']") == "亿元"
    shot(sub, "return-refused-zh")
    sub.locator("#row-fintech_investment").scroll_into_view_if_needed()
    view(sub, "return-refused-zh")

    sub.fill("[name='v.employees']", "50")
    sub.click("#submit-return")
    sub.wait_for_url(re.compile(r"/returns/\d+\?notice=submitted"))
    assert "已提交，等待评审" in sub.get_by_role("status").first.inner_text()
    rid = int(re.search(r"/returns/(\d+)", sub.url).group(1))

    ev = new_page("en-GB")
    sign_in(ev, url, w.email("evaluator"), "/returns")
    ev.get_by_role("link", name=str(rid), exact=True).click()
    ev.fill("[name='c.fintech_staff']", "Does this include contractors? Count formal employees only.")
    shot(ev, "return-review-en")
    ev.locator("#row-employees").scroll_into_view_if_needed()
    view(ev, "return-review-en")
    ev.get_by_role("button", name="Return for changes").click()
    ev.wait_for_url(re.compile(rf"/returns/{rid}\?notice=reviewed"))
    assert ev.locator("#ret-state").inner_text() == "returned"

    sub.goto(f"{url}/returns/{rid}")
    assert "Count formal employees only." in sub.locator("#comment-fintech_staff").inner_text()
    assert sub.locator("#ret-state").inner_text() == "已退回"
    shot(sub, "return-comment-zh")
    sub.fill("[name='v.fintech_staff']", "10")
    sub.click("#submit-return")
    sub.wait_for_url(re.compile(r"notice=submitted"))
    assert sub.locator("#ret-state").inner_text() == "已重新提交"

    ev.goto(f"{url}/returns?state=resubmitted")
    ev.check(f"input[name=ids][value='{rid}']")
    ev.get_by_role("button", name="Accept selected").click()
    ev.wait_for_url(re.compile(r"/returns\?notice="))
    assert "Returns accepted: 1" in ev.get_by_role("status").inner_text()
    ev.goto(f"{url}/returns/{rid}")
    assert ev.locator("#ret-state").inner_text() == "accepted"
    history = ev.locator("#history").inner_text()
    assert "fintech_staff: 12 → 10" in history and "Count formal employees only." in history
    shot(ev, "return-accepted-en")
    actions = list(return_detail(w.ws, rid).history["action"])
    assert [a for a in actions if a != "save"] == ["submit", "return", "submit", "accept"], actions
    assert actions[0] == "save"  # the autosaved draft came first (more drafts are saved as the person types)
