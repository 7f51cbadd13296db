"""In a real browser: the import's message beside a refused field is in the page's language, Chinese for a
zh-CN browser and English for an en-GB one (the same rule, value and variable)."""

from __future__ import annotations

import pytest

from .conftest import shot, sign_in


@pytest.mark.parametrize(("locale", "expect", "unexpected"), [
    ("zh-CN", "fintech_staff（计数）不能为负数，实际为 '-5'", "cannot be negative"),
    ("en-GB", "fintech_staff (count) cannot be negative, got '-5'", "不能为负数"),
])
def test_a_refused_field_shows_the_message_in_the_page_language(live, new_page, locale, expect, unexpected):
    w, url = live
    page = new_page(locale)
    sign_in(page, url, w.email("submitter"), "/returns")
    page.goto(f"{url}/returns/new?campaign=1&entity=B001")
    page.evaluate("""() => document.querySelectorAll('#ret-form [name^="v."]').forEach(
        el => { el.value = 'N/A'; })""")
    page.select_option("[name='v.fintech_strategy_plan']", "1")
    page.fill("[name='v.fintech_staff']", "-5")
    page.click("#submit-return")
    page.wait_for_load_state()
    msg = page.locator("#err-fintech_staff").inner_text()
    assert expect in msg and unexpected not in msg and "range.negative" in msg
    assert page.input_value("[name='v.fintech_staff']") == "-5"  # kept as typed
    shot(page, f"return-message-{locale}")
