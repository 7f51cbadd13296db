"""In a real browser: an invitation link sets a password and signs the person in; a page behind sign-in
sends an anonymous visitor to the sign-in page and back; the language switch and the browser's language."""

from __future__ import annotations

import re

from fintech_eval.app.invitations import create_invitation

from ..conftest import PASSWORD
from .conftest import shot


def test_invited_submitter_sets_a_password_and_is_signed_in(live, new_page):
    w, url = live
    _, secret = create_invitation(w.ws, email="new.submitter@example.org", entities=[("institution", "B001")],
                                  who="evaluator@example.org")
    page = new_page("zh-CN")
    page.goto(f"{url}/invitations/accept?token={secret}")
    assert "B001" in page.content()
    page.fill("input[name=password]", "a long new password")
    page.fill("input[name=repeat]", "a different password")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text() == "两次输入的密码不一致"
    page.fill("input[name=password]", "a long new password")
    page.fill("input[name=repeat]", "a long new password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    assert "new.submitter@example.org" in page.content()
    assert page.get_by_role("navigation", name="main").get_by_role("link", name="首页").is_visible()
    shot(page, "invitation-accepted-zh")


def test_anonymous_visitor_signs_in_and_comes_back(live, new_page):
    w, url = live
    page = new_page("en-GB")
    page.goto(f"{url}/account")
    page.wait_for_url(re.compile(r"/sign-in"))
    assert page.get_by_role("heading").inner_text() == "Sign in"
    page.fill("input[name=email]", w.email("evaluator"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/account")
    page.goto(f"{url}/?lang=zh")
    assert page.get_by_role("navigation", name="main").get_by_role("link", name="我的账户").is_visible()
    page.goto(f"{url}/account")  # the choice is remembered
    assert page.get_by_role("heading", level=1).inner_text() == "我的账户"
    shot(page, "account-zh")
