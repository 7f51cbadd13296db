"""The whole round in a real browser, person by person (issue 13's "done when"): an invited submitter sets a
password and fills its bank's questionnaire with one invalid field, sees the message beside it, corrects it
and submits; the evaluator returns it with a comment; the submitter fixes and resubmits; the evaluator accepts
it, scores the campaign and publishes the run; a viewer sees the ranking, the bank's scorecard and the
province map; another institution's submitter cannot see the first's return (page and API). The other
members' data come in by file, as in a round where most institutions send workbooks."""

from __future__ import annotations

import re

import pandas as pd

from fintech_eval.app.accounts import create_user
from fintech_eval.app.campaign_invitations import invite_sample

from ..conftest import PASSWORD
from ..results_data import load_round
from .conftest import shot, sign_in


def fill_questionnaire(page, figures: pd.Series) -> None:
    """Every figure the bank has typed in (the unit offered first, 万元, is the figures' unit); what it does not
    have is declared not applicable (N/A)."""
    values = {k: (str(int(v)) if float(v).is_integer() else repr(float(v))) for k, v in figures.dropna().items()}
    page.evaluate("""(values) => document.querySelectorAll('#ret-form [name^="v."]').forEach(el => {
        const v = values[el.name.slice(2)];
        el.value = v === undefined ? 'N/A' : v;
        el.dispatchEvent(new Event('change', {bubbles: true}));
    })""", values)


def test_a_round_from_invitation_to_published_results(live, new_page, tmp_path):
    w, url = live
    rnd = load_round(w.ws, tmp_path, left_out=("B001",), deadline="2030-12-31")
    cid, figures, members = rnd.campaign, rnd.figures["B001"], rnd.members
    (_, secret), = invite_sample(w.ws, cid, [("B001", "zhang.san@bank-a.example")], who="evaluator@example.org")

    # the invited submitter sets a password and is signed in
    sub = new_page("zh-CN")
    sub.goto(f"{url}/invitations/accept?token={secret}")
    sub.fill("input[name=password]", "bank A submitter 2024")
    sub.fill("input[name=repeat]", "bank A submitter 2024")
    sub.click("button[type=submit]")
    sub.wait_for_url(f"{url}/")
    sub.goto(f"{url}/returns/new?campaign={cid}&entity=B001")
    fill_questionnaire(sub, figures)
    sub.fill("[name='v.employees']", "六千")  # not a number
    sub.click("#submit-return")
    sub.wait_for_load_state()
    assert "数值 '六千' 不是数字" in sub.locator("#err-employees").inner_text()  # in the page's language
    assert sub.input_value("[name='v.fintech_staff']") == str(int(figures["fintech_staff"]))  # nothing typed lost
    shot(sub, "round-1-refused-zh")
    sub.fill("[name='v.employees']", str(int(figures["employees"])))
    sub.click("#submit-return")
    sub.wait_for_url(re.compile(r"/returns/\d+\?notice=submitted"))
    rid = int(re.search(r"/returns/(\d+)", sub.url).group(1))

    # the evaluator returns it with a comment; the submitter fixes and resubmits
    ev = new_page("en-GB")
    sign_in(ev, url, w.email("evaluator"), f"/returns/{rid}")
    ev.fill("[name='c.fintech_staff']", "Count formal employees only, not contractors.")
    ev.get_by_role("button", name="Return for changes").click()
    ev.wait_for_url(re.compile(rf"/returns/{rid}\?notice=reviewed"))
    sub.goto(f"{url}/returns/{rid}")
    assert "not contractors" in sub.locator("#comment-fintech_staff").inner_text()
    shot(sub, "round-2-returned-zh")
    sub.fill("[name='v.fintech_staff']", str(int(figures["fintech_staff"]) - 4))
    sub.click("#submit-return")
    sub.wait_for_url(re.compile(r"notice=submitted"))
    assert sub.locator("#ret-state").inner_text() == "已重新提交"

    # another institution's submitter sees nothing of it
    create_user(w.ws, email="li.si@bank-b.example", role="submitter", password=PASSWORD,
                entities=[("institution", "B002")])
    other = new_page("zh-CN")
    sign_in(other, url, "li.si@bank-b.example", "/returns")
    assert other.goto(f"{url}/returns/{rid}").status == 404
    assert other.request.get(f"{url}/api/v1/returns/{rid}").status == 404
    assert "B001" not in other.goto(f"{url}/returns").text()

    # the evaluator accepts, scores the campaign and publishes
    ev.goto(f"{url}/returns/{rid}")
    ev.get_by_role("button", name="Accept").click()
    ev.wait_for_url(re.compile(rf"/returns/{rid}\?notice="))
    assert ev.locator("#ret-state").inner_text() == "accepted"
    ev.goto(f"{url}/results")
    ev.select_option("select[name=campaign]", str(cid))
    ev.get_by_role("button", name="Score").click()
    ev.wait_for_url(re.compile(r"/jobs/\d+$"))
    ev.locator("#job-result").click(timeout=120_000)  # once the job runner has scored it
    ev.wait_for_url(re.compile(r"/results/\d+$"))
    run_url = ev.url
    ev.get_by_role("button", name="Publish").click()
    ev.wait_for_url(run_url)
    shot(ev, "round-3-published-en")

    # a viewer: the ranking (B001 in it, with its accepted figures), its scorecard, the map
    vw = new_page("zh-CN")
    sign_in(vw, url, w.email("viewer"), "/results")
    vw.goto(run_url)
    ranking = vw.locator("table[data-key=ranking]")
    assert ranking.locator("tr").count() == len(members) + 1  # everyone of the sample, B001 with its return
    assert "甲银行" in ranking.inner_text()
    shot(vw, "round-4-ranking-zh")
    vw.goto(f"{run_url}/entities/B001")
    assert "甲银行" in vw.get_by_role("heading", level=1).inner_text()
    assert vw.locator("[data-key=total_score] .kf-value").inner_text()
    shot(vw, "round-5-scorecard-zh")
    vw.goto(f"{run_url}/map?block=J")
    vw.wait_for_selector("figure[data-key=map] path.choroplethlocation")
    shot(vw, "round-6-map-zh")
