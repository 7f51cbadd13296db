"""A whole round's scorecards: ``fintech-eval report RESULT --entity all`` (and per sector or province) renders every
entity's scorecard in parallel, names files by block, period and entity, refuses to overwrite without ``--force``,
writes plotly.js once beside the pages and an index that finds any report by name, sector or province."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from fintech_eval.errors import FintechEvalError
from fintech_eval.report.batch import report_name, result_tag, select_units

from . import ROUND_SECTORS, round_result
from .test_cli import app


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("round") / "J-2024"
    round_result().save(d)
    return d


@pytest.fixture(scope="module")
def batch_html(saved, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    res = CliRunner().invoke(app, [str(saved), "--entity", "all", "--format", "html", "--out", str(out), "--workers", "2"])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_names_carry_block_period_and_entity():
    r = round_result()
    assert result_tag(r) == "J-2024"
    assert report_name("J-2024", "scorecard", "SYN-BAN-01", "zh", "pdf") == "J-2024_scorecard_SYN-BAN-01.zh.pdf"
    assert report_name("J-2024", "ranking", None, "en", "html") == "J-2024_ranking.en.html"
    assert report_name("J-2024", "scorecard", "A/B C", "en", "html") == "J-2024_scorecard_A_B_C.en.html"


def test_every_entity_gets_its_scorecard_with_one_shared_plotly(batch_html):
    out, output = batch_html
    pages = sorted(out.glob("J-2024_scorecard_*.zh.html"))
    assert len(pages) == sum(ROUND_SECTORS.values()) == len(round_result().final)
    assets = list((out / "assets").glob("plotly-*.min.js"))
    assert len(assets) == 1 and assets[0].stat().st_size > 1_000_000
    for p in pages[:5]:
        text = p.read_text(encoding="utf-8")
        assert f'<script src="assets/{assets[0].name}"></script>' in text
        assert not re.search(r"\* plotly\.js v\d", text)  # not inline: each page is small
        assert p.stat().st_size < 600_000
        assert "J-2024_method.zh.html" in text  # the shared method appendix
    assert (out / "J-2024_method.zh.html").is_file() and (out / "index.zh.html").is_file()
    assert "32 scorecards" in output


def test_index_lists_every_report_with_sector_and_province(batch_html):
    out, _ = batch_html
    index = (out / "index.zh.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-name="([^"]*)" data-code="([^"]*)" data-sector="([^"]*)" data-province="([^"]*)">', index)
    assert len(rows) == 32
    by_code = {code: (name, sector, province) for name, code, sector, province in rows}
    assert by_code["SYN-PAY-00"] == ("合成机构PAY-00", "非银行支付行业", "新疆维吾尔自治区")
    for code in by_code:
        assert f'href="J-2024_scorecard_{code}.zh.html"' in index


def test_existing_files_are_replaced_only_with_force(saved, tmp_path):
    out = tmp_path
    res = CliRunner().invoke(app, [str(saved), "--entity", "all", "--sector", "bank", "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    page = out / "J-2024_scorecard_SYN-BAN-01.zh.html"
    page.write_text("mine", encoding="utf-8")
    res = CliRunner().invoke(app, [str(saved), "--entity", "all", "--out", str(out), "--workers", "1"])
    assert isinstance(res.exception, FintechEvalError) and "--force" in str(res.exception)
    assert page.read_text(encoding="utf-8") == "mine"  # nothing written
    res = CliRunner().invoke(app, [str(saved), "--kind", "ranking", "--out", str(out)])
    assert res.exit_code == 0 and (out / "J-2024_ranking.zh.html").is_file()
    res = CliRunner().invoke(app, [str(saved), "--kind", "ranking", "--out", str(out)])
    assert isinstance(res.exception, FintechEvalError) and "J-2024_ranking.zh.html" in str(res.exception)
    res = CliRunner().invoke(app, [str(saved), "--entity", "all", "--sector", "bank", "--out", str(out), "--force", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert page.read_text(encoding="utf-8") != "mine"


def test_sector_and_province_select_their_entities(saved, tmp_path):
    r = round_result()
    assert len(select_units(r, sector="payment")) == ROUND_SECTORS["payment"]
    assert select_units(r, province="新疆") == select_units(r, province="650000") == ["SYN-PAY-00"]
    with pytest.raises(FintechEvalError, match="sectors are"):
        select_units(r, sector="banks")
    res = CliRunner().invoke(app, [str(saved), "--entity", "all", "--province", "Xinjiang", "--lang", "en", "--out", str(tmp_path),
                                   "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert [p.name for p in tmp_path.glob("*scorecard*")] == ["J-2024_scorecard_SYN-PAY-00.en.html"]


@pytest.mark.browser
def test_index_search_and_filters_in_chromium(batch_html):
    """Typing a name or choosing a sector or a province shows just those rows; a batch page draws its charts
    from the shared plotly.js, fetching nothing."""
    import shutil

    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    from .test_render import CHROMIUM_ARGS

    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed")
    out, _ = batch_html
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        outside: list[str] = []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else (outside.append(r.request.url), r.abort()))
        page.goto((out / "index.zh.html").as_uri(), wait_until="load")
        visible = "() => [...document.querySelectorAll('#reports tbody tr')].filter(r => !r.hidden).map(r => r.dataset.code)"
        assert len(page.evaluate(visible)) == 32
        page.fill("#q", "PAY-0")
        assert sorted(page.evaluate(visible)) == [f"SYN-PAY-0{i}" for i in range(10)]
        page.fill("#q", "")
        page.select_option("#sector", "保险业")
        assert sorted(page.evaluate(visible)) == [f"SYN-INS-0{i}" for i in range(8)]
        page.select_option("#sector", "")
        page.select_option("#province", "新疆维吾尔自治区")
        assert page.evaluate(visible) == ["SYN-PAY-00"]
        assert page.inner_text("#shown") == "1"
        page.click("#reports tbody tr:not([hidden]) td:nth-child(2) a")
        page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].length > 0 && "
                               "[...document.querySelectorAll('.js-plotly-plot')].every(d => d.querySelector('svg.main-svg g.trace'))",
                               timeout=30_000)
        assert page.url.endswith("J-2024_scorecard_SYN-PAY-00.zh.html")
        assert outside == []
        browser.close()
