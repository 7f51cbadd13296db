"""In a real browser: an evaluator creates a campaign from the register (the banks), sees the reporting rate
0 %, invites the submitter of one bank (the link is the one the page shows, from the application's answer), the
submitter accepts it and sees the campaign with its own row only; the evaluator sees the invitation accepted.
Screenshots in Chinese and English."""

from __future__ import annotations

import re

from .conftest import shot, sign_in


def test_evaluator_creates_a_campaign_and_invites_a_submitter(live, new_page):
    w, url = live
    ev = new_page("zh-CN")
    sign_in(ev, url, w.email("evaluator"))
    ev.get_by_role("navigation", name="main").get_by_role("link", name="评估项目").click()
    ev.wait_for_url(f"{url}/campaigns")
    assert ev.locator("tbody tr").count() == 1  # campaign 1 only: the evaluator is not assigned to campaign 2
    ev.get_by_role("link", name="新建评估项目").click()
    ev.fill("input[name=name]", "2025 年银行业金融科技发展评估")
    ev.fill("input[name=period]", "2025")
    ev.fill("input[name=deadline]", "2030-03-31")
    ev.check("input[name=sectors][value=bank]")
    ev.click("button[type=submit]")
    ev.wait_for_url(re.compile(r"/campaigns/\d+$"))
    cid = int(ev.url.rsplit("/", 1)[1])
    assert ev.get_by_role("heading", level=1).inner_text() == "2025 年银行业金融科技发展评估"
    assert ev.locator("#reporting-rate strong").inner_text() == "0.0 %"
    assert ev.locator("#deadline").inner_text() == "2030-03-31 23:59"
    assert ev.locator("#sample tbody tr").count() == 2  # both registered banks

    ev.fill("input[name='email:B001']", "bank.a@example.org")
    ev.get_by_role("button", name="发送邀请").click()
    link = ev.locator("code.invitation-link")
    link.first.wait_for()  # the answer of the form's POST
    assert link.count() == 1
    accept_url = link.inner_text()
    assert accept_url.startswith(f"{url}/invitations/accept?token=")
    assert ev.locator("tr[data-invitation] .state-pending").count() == 1
    shot(ev, "campaign-invited-zh")

    sub = new_page("zh-CN")
    sub.goto(accept_url)
    assert "B001" in sub.content()
    sub.fill("input[name=password]", "bank a's own password")
    sub.fill("input[name=repeat]", "bank a's own password")
    sub.click("button[type=submit]")
    sub.wait_for_url(f"{url}/")
    sub.goto(f"{url}/campaigns")
    assert sub.get_by_role("link", name="2025 年银行业金融科技发展评估").is_visible()
    sub.get_by_role("link", name="2025 年银行业金融科技发展评估").click()
    sub.wait_for_url(f"{url}/campaigns/{cid}")
    assert [r.get_attribute("data-entity") for r in sub.locator("#sample tbody tr").all()] == ["B001"]
    assert sub.locator("#reporting-rate").count() == 0  # a submitter sees no rates
    assert sub.goto(f"{url}/campaigns/{cid}/missing.csv").status == 403

    ev.goto(f"{url}/campaigns/{cid}?lang=en")
    assert ev.locator("tr[data-invitation] .state-accepted").inner_text() == "accepted"
    assert "account: bank.a@example.org" in ev.locator("tr[data-entity=B001]").inner_text()
    assert ev.locator("#reporting-rate strong").inner_text() == "0.0 %"
    assert ev.get_by_role("img", name="Reporting and on-time rates · By sector").is_visible()
    shot(ev, "campaign-en")
    ev.goto(f"{url}/campaigns")
    shot(ev, "campaigns-en")
