"""In a real browser: a certification centre's evaluator opens an assessment of vendor V001, rates a few
indicators on the rubric, uploads one evidence file, sees the level, why not the next one and the improvement
plan (recomputed live when a step changes), and publishes; the vendor's submitter then sees the published
rating, and another vendor's rating answers it 404. Then a self-assessment: the vendor's submitter fills two
indicators and submits, the evaluator reviews and publishes. Screenshots in Chinese and English."""

from __future__ import annotations

import re

from fintech_eval.app.vendor_assessments import current_rating

from ..vendor_helpers import assessment, self_assessment
from .conftest import SHOTS, shot, sign_in


def overview(page) -> None:
    """Fold the rubric's capabilities, so that a screenshot shows the rating, the rubric's outline and the history."""
    page.evaluate("document.querySelectorAll('details.cap').forEach(d => d.open = false)")


def indicator(page, code: str):
    return page.locator(f'fieldset[data-indicator="{code}"]')


def test_evaluator_rates_and_publishes_then_the_vendor_sees_it(live, new_page, tmp_path):
    w, url = live
    page = new_page("zh-CN")
    sign_in(page, url, w.email("evaluator"), "/vendors")
    v001 = page.locator("section.vendor", has=page.locator("#v-V001"))
    v001.locator("select[name=model]").select_option("comprehensive")
    v001.locator("input[name=round]").fill("2026")
    v001.get_by_role("button", name="新建评价").click()
    page.wait_for_url(re.compile(r"/vendors/V001/assessments/\d+$"))
    aid = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#level").inner_text().startswith("未达第1级")

    # a few indicators on the rubric, then one evidence file
    indicator(page, "C1.1.1").locator('input[value="3"]').check()
    indicator(page, "C1.2.1").locator('input[value="2"]').check()
    indicator(page, "C1.2.1").locator('input[name="ref:C1.2.1"]').fill("制度汇编 2026-17")
    indicator(page, "C5.4.1").locator('input[name="value:C5.4.1"]').fill("0")
    page.get_by_role("button", name="保存评分").first.click()
    page.wait_for_url(re.compile(r"\?saved=1$"))
    evidence = tmp_path / "合规记录.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% three years without a regulatory penalty\n")
    indicator(page, "C5.4.1").locator("input[type=file]").set_input_files(str(evidence))
    indicator(page, "C5.4.1").get_by_role("button", name="上传证据", exact=True).click()
    page.wait_for_url(re.compile(r"#C5\.4\.1$"))
    assert "合规记录.pdf" in indicator(page, "C5.4.1").inner_text()

    # the level, why not the next one, the plan: what the rating function says for these answers
    expected = current_rating(w.ws, aid)
    assert expected["level"] == 1 and expected["next_level"] == 2
    assert page.locator("#level").inner_text().startswith("第1级 · 起始级")
    why = page.locator("#why").inner_text()
    assert "为何未达第2级" in why and "最小改进方案" in why
    plan_rows = page.locator("#plan tr").count() - 1
    assert plan_rows == len(expected["plan"]["items"]) > 0
    assert "C1.1.1" in indicator(page, "C1.1.1").inner_text() and "C1.1.1" in expected["capped"]  # no evidence

    # live: a changed step (of an indicator with evidence) is saved and the level panel redrawn
    before = page.locator("#level").inner_text()
    indicator(page, "C1.2.1").locator('input[value="4"]').check()
    page.wait_for_function("b => document.querySelector('#level').innerText !== b", arg=before)
    assert page.locator("#live-status").inner_text() == "已保存"
    assert current_rating(w.ws, aid)["total"] > expected["total"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    indicator(page, "C5.4.1").screenshot(path=str(SHOTS / "vendor-rating-rubric-zh.png"))
    overview(page)
    shot(page, "vendor-rating-evaluator-zh")

    page.once("dialog", lambda d: d.accept())
    page.locator("#publish").click()
    page.wait_for_function("() => document.querySelector('#status').innerText === '已发布'")
    assert page.locator("#publish").count() == 0 and page.locator("form#answers").count() == 0
    page.goto(f"{url}/vendors/V001/assessments/{aid}?lang=en")
    assert page.locator("#level").inner_text().startswith("Level 1 · Initial")
    overview(page)
    shot(page, "vendor-rating-published-en")
    page.goto(f"{url}/vendors")
    row = page.locator("#v-V001 ~ table tr", has=page.get_by_role("link", name=re.compile(r"V001 · 2026")))
    assert "published" in row.inner_text() and "Level 1 Initial" in row.inner_text()
    shot(page, "vendor-list-en")

    # the vendor's submitter sees the published rating, and nothing of another vendor's
    other = assessment(w, "V002", published=True)
    sub = new_page("en-GB")
    sign_in(sub, url, w.email("submitter"), "/vendors")
    assert sub.locator("#v-V002").count() == 0
    sub.get_by_role("link", name=re.compile(r"V001 · 2026")).click()
    sub.wait_for_url(f"{url}/vendors/V001/assessments/{aid}")
    assert sub.locator("#level").inner_text().startswith("Level 1 · Initial")
    assert "Why not Level 2" in sub.locator("#why").inner_text()
    assert sub.locator("#steps").is_visible() and sub.locator("fieldset.ind").count() == 0
    shot(sub, "vendor-rating-submitter-en")
    for path in (f"/vendors/V002/assessments/{other}", f"/vendors/V001/assessments/{other}"):
        r = sub.goto(url + path)
        assert r.status == 404 and "Not found" in sub.content()


def test_the_vendor_fills_its_self_assessment_and_the_evaluator_publishes_it(live, new_page, tmp_path):
    """The evaluator opens V001's self-assessment; V001's submitter rates two indicators (the level redrawn as it
    goes), uploads one evidence file and submits; the evaluator sees the submission, lowers one step (recorded
    in the history) and publishes; the vendor reads the published rating. Another vendor's self-assessment is
    404 to it."""
    w, url = live
    page = new_page("zh-CN")
    sign_in(page, url, w.email("evaluator"), "/vendors")
    v001 = page.locator("section.vendor", has=page.locator("#v-V001"))
    v001.locator("input[name=round]").fill("2027")
    v001.locator("input[name=self_assessment]").check()
    v001.get_by_role("button", name="新建评价").click()
    page.wait_for_url(re.compile(r"/vendors/V001/assessments/\d+$"))
    aid = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#status").inner_text() == "服务商自评中" and page.locator("#with-vendor").is_visible()
    assert page.locator("#publish").count() == 0  # the vendor has not submitted yet

    # the vendor's submitter (in English) fills two indicators and one evidence file, then submits
    sub = new_page("en-GB")
    sign_in(sub, url, w.email("submitter"), "/vendors")
    row = sub.locator("#v-V001 ~ table tr", has=sub.get_by_role("link", name=re.compile(r"V001 · 2027")))
    assert "self-assessment" in row.inner_text()
    sub.get_by_role("link", name=re.compile(r"V001 · 2027")).click()
    sub.wait_for_url(f"{url}/vendors/V001/assessments/{aid}")
    assert sub.locator("#self-hint").is_visible() and sub.locator("#level").inner_text().startswith("Below level 1")
    before = sub.locator("#level").inner_text()
    indicator(sub, "C1.2.1").locator('input[name="ref:C1.2.1"]').fill("Policy handbook 2026-17")
    indicator(sub, "C1.2.1").locator('input[value="3"]').check()
    sub.wait_for_function("b => document.querySelector('#level').innerText !== b", arg=before)
    assert sub.locator("#live-status").inner_text() == "Saved"
    indicator(sub, "C5.4.1").locator('input[name="value:C5.4.1"]').fill("0")
    sub.get_by_role("button", name="Save the rating").first.click()
    sub.wait_for_url(re.compile(r"\?saved=1$"))
    evidence = tmp_path / "penalty-record.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% no regulatory penalty in three years\n")
    indicator(sub, "C5.4.1").locator("input[type=file]").set_input_files(str(evidence))
    indicator(sub, "C5.4.1").get_by_role("button", name="Upload evidence", exact=True).click()
    sub.wait_for_url(re.compile(r"#C5\.4\.1$"))
    assert "penalty-record.pdf" in indicator(sub, "C5.4.1").inner_text()
    live_rating = current_rating(w.ws, aid)
    assert live_rating["status"] == "draft" and live_rating["level"] == 1
    assert sub.locator("#level").inner_text().startswith("Level 1 · Initial")
    overview(sub)
    shot(sub, "vendor-self-assessment-filling-en")
    sub.once("dialog", lambda d: d.accept())
    sub.locator("#submit").click()
    sub.wait_for_function("() => document.querySelector('#status').innerText.startsWith('submitted')")
    assert sub.locator("#submitted").is_visible() and sub.locator("form#answers").count() == 0
    assert sub.locator("#submit").count() == 0 and sub.locator("fieldset.ind input[type=radio]:not([disabled])").count() == 0

    # the evaluator reviews: lowers C1.2.1 to step 2 (recorded) and publishes
    page.reload()
    assert page.locator("#status").inner_text() == "服务商已提交，待审核" and page.locator("#submitted").is_visible()
    before = page.locator("#level").inner_text()
    indicator(page, "C1.2.1").locator('input[value="2"]').check()
    page.wait_for_function("() => document.querySelector('#live-status').innerText === '已保存'")
    page.reload()
    history = page.locator("table.history").inner_text()
    assert "服务商提交自评" in history and "step: 3 → 2" in history and w.email("evaluator") in history
    overview(page)
    shot(page, "vendor-self-assessment-review-zh")
    page.once("dialog", lambda d: d.accept())
    page.locator("#publish").click()
    page.wait_for_function("() => document.querySelector('#status').innerText === '已发布'")
    published = current_rating(w.ws, aid)
    assert published["status"] == "published" and published["published_by"] == w.email("evaluator")

    # the vendor reads the published rating; another vendor's self-assessment is not there for it
    sub.reload()
    assert sub.locator("#status").inner_text() == "published"
    assert sub.locator("#level").inner_text().startswith(f"Level {published['level']}")
    assert "step: 3 → 2" in sub.locator("table.history").inner_text()
    other = self_assessment(w, "V002")
    r = sub.goto(f"{url}/vendors/V002/assessments/{other}")
    assert r.status == 404 and "Not found" in sub.content()
