"""The campaign pages without a browser: a refused form keeps what was typed and says why; invitations are all
or nothing from the page too; an invitation of another campaign cannot be revoked through this one; the list to
chase downloads as CSV; the pages exist in both languages."""

from __future__ import annotations

import csv
import html
import io
import re

from fintech_eval.app.campaign_invitations import invite_sample
from fintech_eval.app.campaigns import campaigns_frame
from fintech_eval.app.invitations import get_invitation, list_invitations
from fintech_eval.web.i18n import TEXT

from .conftest import PASSWORD, World


def browser(w: World, role: str):
    """A client signed in through the sign-in page, sending forms with the page's CSRF field."""
    c = w.anonymous()
    c.get("/sign-in")
    r = c.post("/sign-in", data={"email": w.email(role), "password": PASSWORD, "csrf_token": c.cookies.get("fe_csrf")},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    c.csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account").text).group(1)
    return c


def test_a_refused_new_campaign_keeps_what_was_typed(world):
    c = browser(world, "evaluator")
    n = len(campaigns_frame(world.ws))
    r = c.post("/campaigns/new", data={"csrf_token": c.csrf, "name": "第二轮", "period": "2025", "mode": "list",
                                       "codes": "B001\nB0O2", "deadline": "2026-03-31"})
    assert r.status_code == 422
    assert "B0O2 is not in the institution register (did you mean 'B002'?)" in html.unescape(r.text)
    assert 'value="第二轮"' in r.text and "B0O2</textarea>" in r.text and 'value="2026-03-31"' in r.text
    assert len(campaigns_frame(world.ws)) == n  # nothing created
    r = c.post("/campaigns/new", data={"csrf_token": c.csrf, "period": "2025", "mode": "list", "codes": " \n"})
    assert r.status_code == 422 and "no institution listed" in r.text
    r = c.post("/campaigns/new", data={"csrf_token": c.csrf, "period": "2025", "mode": "draw", "size_period": "2024",
                                       "share": "half"})
    assert r.status_code == 422 and "not a number" in r.text
    r = c.post("/campaigns/new", data={"csrf_token": c.csrf, "period": "2025", "mode": "register", "provinces": ["44"]},
               follow_redirects=False)
    assert r.status_code == 303
    created = campaigns_frame(world.ws).iloc[-1]
    assert created["n_entities"] == 1 and r.headers["location"] == f"/campaigns/{created['id']}"


def test_invitations_from_the_page(world):
    c = browser(world, "evaluator")
    r = c.post("/campaigns/1/invitations", data={"csrf_token": c.csrf, "email:B001": "a@example.org",
                                                 "bulk": "B009, z@example.org\n"})
    assert r.status_code == 422 and "B009 不在评估项目 1 的样本中" in html.unescape(r.text)  # the page's language
    r = c.post("/campaigns/1/invitations?lang=en", data={"csrf_token": c.csrf, "bulk": "B009, z@example.org\n"})
    assert r.status_code == 422 and "B009 is not in campaign 1's sample" in html.unescape(r.text)
    assert list_invitations(world.ws, campaign_id=1)[1] == 0  # all or nothing
    r = c.post("/campaigns/1/invitations", data={"csrf_token": c.csrf, "email:B001": "a@example.org",
                                                 "bulk": "B002\tb@example.org\n\nB001; b@example.org"})
    assert r.status_code == 200
    links = re.findall(r'class="invitation-link">http://testserver/invitations/accept\?token=([^<]+)<', r.text)
    assert len(links) == 2
    invs = {i.email: i for i in list_invitations(world.ws, campaign_id=1)[0]}
    assert [e for _, e in invs["b@example.org"].entities] == ["B001", "B002"]
    # revoke through this campaign; one of campaign 2 is not this campaign's (404)
    (other, _), = invite_sample(world.ws, 2, [("B002", "c@example.org")], who="test")
    admin = browser(world, "administrator")
    assert admin.post(f"/campaigns/1/invitations/{other.id}/revoke", data={"csrf_token": admin.csrf}).status_code == 404
    r = c.post(f"/campaigns/1/invitations/{invs['a@example.org'].id}/revoke", data={"csrf_token": c.csrf},
               follow_redirects=False)
    assert r.status_code == 303 and get_invitation(world.ws, invs["a@example.org"].id).state() == "revoked"
    assert get_invitation(world.ws, other.id).state() == "pending"


def test_the_list_to_chase_as_csv_and_both_languages(world):
    c = browser(world, "evaluator")
    r = c.get("/campaigns/1/missing.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "campaign-1-missing.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(x["entity_id"], x["name_zh"]) for x in rows] == [("B001", "甲银行"), ("B002", "乙银行")]
    zh, en = c.get("/campaigns/1?lang=zh").text, c.get("/campaigns/1?lang=en").text
    assert TEXT["zh"]["cmp_chase"] in zh and TEXT["en"]["cmp_chase"] in en and "北京" in zh and "Beijing" in en
    assert {k for k in TEXT["zh"] if k.startswith("cmp_")} == {k for k in TEXT["en"] if k.startswith("cmp_")}


def test_a_submitter_sees_its_own_row_without_rates(world):
    c = browser(world, "submitter")
    page = c.get("/campaigns/1").text
    assert 'data-entity="B001"' in page and 'data-entity="B002"' not in page
    assert 'id="reporting-rate"' not in page and "invite-form" not in page and "missing.csv" not in page
    listing = c.get("/campaigns").text
    assert "/campaigns/1" in listing and "/campaigns/2" not in listing and "/campaigns/new" not in listing
