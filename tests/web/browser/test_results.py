"""In a real browser: an evaluator scores a campaign with data (a background job: its page follows the scoring
to the run) and publishes it (peers anonymised); a viewer
filters the ranking by sector, opens a scorecard and the province map; the submitter of B001 sees its own
scorecard and the anonymised distribution of its peers, and no peer's name. Screenshots in Chinese and English."""

from __future__ import annotations

import re

from ..results_data import load_round, synthetic
from .conftest import shot, sign_in


def test_score_publish_and_read_the_results(live, new_page, tmp_path):
    w, url = live
    rnd = load_round(w.ws, tmp_path)

    # the evaluator scores the round's campaign and publishes it with the default peer visibility
    ev = new_page("zh-CN")
    sign_in(ev, url, w.email("evaluator"))
    ev.get_by_role("navigation", name="main").get_by_role("link", name="评估结果").click()
    ev.wait_for_url(f"{url}/results")
    ev.select_option("select[name=campaign]", str(rnd.campaign))
    ev.get_by_role("button", name="开始评分").click()
    ev.wait_for_url(re.compile(r"/jobs/\d+$"))  # scoring is a background job: its page refreshes until it ends
    assert "后台任务" in ev.get_by_role("heading", level=1).inner_text()
    ev.locator("#job-result").click(timeout=120_000)
    ev.wait_for_url(re.compile(r"/results/\d+$"))
    run_url = ev.url
    assert "草稿" in ev.get_by_role("heading", level=1).inner_text()
    ev.locator("details summary").click()  # the run's warnings
    assert ev.locator("ul.warnings li").count() > 0
    assert ev.locator("select[name=peer_visibility]").input_value() == "distribution"
    shot(ev, "results-draft-zh")
    ev.get_by_role("button", name="发布").click()
    ev.wait_for_url(run_url)
    assert "已发布" in ev.get_by_role("heading", level=1).inner_text()

    # a viewer: the ranking filtered by sector, a scorecard, the map
    inst = synthetic().institutions
    names = {*inst["name_zh"], *inst["name_en"]}
    vw = new_page("en-GB")
    elsewhere: list[str] = []  # nothing is fetched from another host (plotly.js and the map come from the server)
    vw.on("request", lambda r: None if r.url.startswith(url) or r.url.startswith("data:") else elsewhere.append(r.url))
    sign_in(vw, url, w.email("viewer"))
    vw.goto(run_url)
    ranking = vw.locator("table[data-key=ranking] tr")
    assert ranking.count() == len(rnd.members) + 1
    vw.select_option("select[name=sector]", "insurance")
    vw.get_by_role("button", name="Filter").click()
    vw.wait_for_url(re.compile(r"sector=insurance"))
    insurers = [e for e, s in rnd.sectors.items() if s == "insurance"]
    assert ranking.count() == len(insurers) + 1
    shown = vw.locator("table[data-key=ranking]").inner_text()
    assert "Insurance" in shown and "Synthetic" in shown  # English names from the register
    shot(vw, "results-ranking-insurance-en")
    vw.locator("table[data-key=ranking] a").first.click()
    vw.wait_for_url(re.compile(r"/entities/SYN-INS-"))
    assert vw.locator("[data-key=total_score] .kf-value").inner_text()
    assert vw.locator("table[data-key=strengths] tr").count() > 1
    vw.wait_for_selector("figure[data-key=radar] .main-svg")  # plotly.js, served by the server, drew the radar
    shot(vw, "results-scorecard-en")
    vw.goto(run_url + "/map")
    vw.wait_for_selector("figure[data-key=map] path.choroplethlocation")
    assert vw.locator("figure[data-key=map] path.choroplethlocation").count() >= 31  # every province drawn
    assert vw.locator("table[data-key=region] tr").count() > 30
    shot(vw, "results-map-en")
    vw.goto(run_url + "/map?block=J&lang=zh")
    vw.wait_for_selector("figure[data-key=map] path.choroplethlocation")
    shot(vw, "results-map-institutions-zh")
    vw.goto(run_url + "/industry?sector=bank&lang=en")
    assert vw.locator("table[data-key=plan_tasks] tr").count() == 28
    shot(vw, "results-industry-bank-en")
    vw.goto(run_url)
    with vw.expect_download() as dl:
        vw.locator("table[data-key=downloads] a", has_text="xlsx").first.click()
    assert dl.value.suggested_filename.endswith(".en.xlsx")
    assert not elsewhere, elsewhere

    # the submitter of B001: its scorecard and the anonymised peers, no other institution's name
    sub = new_page("zh-CN")
    sign_in(sub, url, w.email("submitter"))
    sub.goto(run_url)
    assert sub.locator("table[data-key=ranking]").count() == 0
    own = sub.locator("table[data-key=own]").inner_text()
    assert "甲银行" in own
    peers = sub.locator("[data-key=peers-B001]")
    assert peers.locator(".hist").count() == 2 and "中位数" in peers.inner_text()
    text = sub.content()
    assert not any(n and n in text for n in names) and "乙银行" not in text
    assert not any(e in text for e in rnd.members if e != "B001")
    shot(sub, "results-submitter-peers-zh")
    sub.locator("table[data-key=own] a").click()
    sub.wait_for_url(re.compile(r"/entities/B001$"))
    assert "甲银行" in sub.get_by_role("heading", level=1).inner_text()
    text = sub.content()  # its scorecard compares it with medians and distributions, never with a named peer
    assert not any(n and n in text for n in names) and not any(e in text for e in rnd.members if e != "B001")
    shot(sub, "results-submitter-scorecard-zh")
    assert sub.goto(run_url + "/entities/B002").status == 404
    assert sub.goto(run_url + "/map").status == 404
