"""Every report kind in both languages and all three formats, checked as a reader gets them: HTML in Debian's
chromium (Playwright), PDF through poppler (pdftoppm, pdftotext, pdffonts), Excel through openpyxl."""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from fintech_eval.report import FORMATS, build_report, load_result, write
from fintech_eval.report.i18n import LANGS, fmt_number, fmt_rank

from . import ENTITY, asem, h_result, j_result, provinces_result, vendor_ratings

KINDS = {"scorecard": ("asem", ENTITY), "ranking": ("asem", None), "region": ("provinces", None), "industry": ("h", "bank"),
         "vendor": ("vendor", None)}
CASES = [(k, lang) for k in KINDS for lang in LANGS]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed (.ci/run must apt-get install it)")
        pytest.skip(f"{tool} is not installed")
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Each (kind, language) built once and written in each format; the ASEM result goes through save/load.

    WeasyPrint is the slow part (seconds a PDF): the PDFs are written by two worker processes while this one
    writes the HTML and Excel files (forked before any browser starts)."""
    out = tmp_path_factory.mktemp("reports")
    asem().save(out / "asem-result")
    results = {"asem": load_result(out / "asem-result"), "provinces": provinces_result(), "h": h_result(), "j": j_result(),
               "vendor": vendor_ratings()}
    reports, files = {}, {}
    for kind, lang in CASES:
        source, entity = KINDS[kind]
        extra = {"institutions": results["j"]} if kind == "industry" else {}
        reports[kind, lang] = build_report(results[source], kind, entity=entity, lang=lang, generated="2025-01-01", **extra)
    _warm_up()
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        pdfs = {(k, lang): pool.submit(write, rep, "pdf", out / f"{k}.{lang}.pdf") for (k, lang), rep in reports.items()}
        for (kind, lang), rep in reports.items():
            for fmt in FORMATS:
                if fmt != "pdf":
                    files[kind, lang, fmt] = write(rep, fmt, out / f"{kind}.{lang}.{fmt}")
        for (kind, lang), fut in pdfs.items():
            files[kind, lang, "pdf"] = fut.result()
    return {"results": results, "reports": reports, "files": files}


def _warm_up() -> None:
    """Import WeasyPrint and matplotlib and load the CJK font once, before forking: the workers inherit it."""
    import weasyprint  # noqa: F401

    from fintech_eval.report.charts import mpl_png
    from fintech_eval.report.document import Chart

    mpl_png(Chart("bar", "预热 warm-up", {"labels": ["甲"], "values": [1.0]}), dpi=20)


def _key_numbers(rendered, kind, lang) -> list[str]:
    """Numbers a reader must find in the report, computed here from the result tables."""
    results = rendered["results"]
    if kind == "scorecard":
        r = results["asem"]
        total = r.final.at[ENTITY, "Index"]
        return [fmt_number(total, lang), fmt_rank(int(r.ranks.at[ENTITY, "Index"]), len(r.final), lang)]
    if kind == "ranking":
        r = results["asem"]
        top = r.final["Index"].idxmax()
        return [top, fmt_number(r.final.at[top, "Index"], lang)]
    if kind == "industry":  # the sector's H total and rank, its best institution by J and its J score
        h, j = results["h"], results["j"]
        banks = j.final.loc[[u for u in j.final.index if int(u.split("-")[1]) % 4 == 0], "J"]
        return [fmt_number(h.final.at["bank", "H"], lang), fmt_rank(int(h.ranks.at["bank", "H"]), 4, lang), banks.idxmax(),
                fmt_number(banks.max(), lang)]
    if kind == "vendor":  # each model's total and level
        from fintech_eval.capability.report import LABELS

        return [x for r in results["vendor"].values()
                for x in (fmt_number(r.total, lang), LABELS[lang]["level_n"].format(n=r.level), r.level_name(lang))]
    r = results["provinces"]
    best = r.final.drop("Atlantis")["Index"].idxmax()
    return [best, fmt_number(r.final.at[best, "Index"], lang), "Atlantis"]


# --- HTML in chromium ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(rendered):  # after the files exist: their PDF workers fork before the browser's threads start
    pytest.importorskip("playwright")
    exe = _need("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_html_is_one_offline_file_with_plotly_once(rendered):
    for kind, lang in CASES:
        text = rendered["files"][kind, lang, "html"].read_text(encoding="utf-8")
        assert len(re.findall(r"\* plotly\.js v\d", text)) == 1, "plotly.js embedded exactly once"
        assert not re.search(r"<script[^>]+src=", text) and not re.search(r"<link[^>]+href=\"?https?:", text)


@pytest.mark.parametrize("kind, lang", CASES)
def test_html_in_chromium(browser, rendered, kind, lang):
    rep = rendered["reports"][kind, lang]
    path: Path = rendered["files"][kind, lang, "html"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function(
            "() => { const d = [...document.querySelectorAll('.js-plotly-plot')];"
            " return d.length > 0 && d.every(x => x.querySelector('svg.main-svg g.trace')); }",
            timeout=30_000,
        )
        plots = page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].map(d => ({
                 id: d.id, traces: d.querySelectorAll('svg.main-svg g.trace').length,
                 marks: d.querySelectorAll('svg.main-svg g.trace path, svg.main-svg g.trace rect').length,
                 choropleth: [...d.querySelectorAll('g.choroplethlayer g.trace')].map(t => t.querySelectorAll('path.choroplethlocation').length),
                 z: d.data && d.data[0].type === 'choropleth' ? Object.fromEntries(d.data[0].locations.map((l, i) => [l, d.data[0].z[i]])) : null }))"""
        )
        assert outside == [], f"the report fetched {outside}"
        assert len(plots) == len(rep.charts())
        for p in plots:
            assert p["traces"] > 0 and p["marks"] > 0, p["id"]
        if kind == "region":
            (m,) = [p for p in plots if p["choropleth"]]
            assert m["choropleth"] == [31, 3]  # 31 provinces with data; Taiwan, Hong Kong, Macao in grey
            r = rendered["results"]["provinces"]
            assert m["z"] == pytest.approx({c: r.final.at[c, "Index"] for c in m["z"]})
        text = page.inner_text("body")
        for number in _key_numbers(rendered, kind, lang):
            assert number in text, number
        if kind == "scorecard":
            assert page.inner_text("[data-key=total_score] .kf-value") == _key_numbers(rendered, kind, lang)[0]
        if kind == "ranking":
            first = page.inner_text("table[data-key=ranking] tbody tr:first-child td:nth-child(2)")
            assert first == rendered["results"]["asem"].final["Index"].idxmax()
        if lang == "zh":
            _assert_cjk_glyphs(page)
    finally:
        page.close()


def _assert_cjk_glyphs(page) -> None:
    """Chinese is drawn with a CJK font (WenQuanYi on these machines), not as boxes."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "header.top h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    assert any("WenQuanYi" in f["familyName"] and f["glyphCount"] > 0 for f in fonts), fonts
    # and drawn: in the page's font, two Chinese characters give two different, non-empty pictures, neither of
    # which is the box drawn for a code point no font has (tofu boxes all look alike)
    pics = page.evaluate(
        """() => { const font = getComputedStyle(document.querySelector('header.top h1')).fontFamily;
                   const draw = ch => { const c = document.createElement('canvas'); c.width = c.height = 40;
                     const g = c.getContext('2d'); g.font = '32px ' + font; g.fillStyle = '#000'; g.fillText(ch, 2, 34);
                     return Array.from(g.getImageData(0, 0, 40, 40).data.filter((_, i) => i % 4 === 3)); };
                   return [draw('金'), draw('融'), draw('\\u{10FFFD}')]; }"""
    )
    jin, rong, tofu = (np.array(p) for p in pics)
    assert (jin > 0).sum() > 40 and (rong > 0).sum() > 40
    assert not np.array_equal(jin, rong) and not np.array_equal(jin, tofu) and not np.array_equal(rong, tofu)


# --- PDF through poppler ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, lang", CASES)
def test_pdf_pages_fonts_and_numbers(rendered, tmp_path, kind, lang):
    from PIL import Image

    pdf: Path = rendered["files"][kind, lang, "pdf"]
    subprocess.run([_need("pdftoppm"), "-r", "40", "-png", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == 2
    for png in pngs:
        px = np.asarray(Image.open(png).convert("RGB"), dtype=int)
        assert (px.sum(axis=2) < 720).mean() > 0.02, f"{png.name} is blank"
    if kind == "region":  # the map (page 1): many blue pixels
        px = np.asarray(Image.open(pngs[0]).convert("RGB"), dtype=int)
        blue = (px[..., 2] > px[..., 0] + 40) & (px[..., 2] > 100)
        assert blue.mean() > 0.05
    fonts = subprocess.run([_need("pdffonts"), str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "WenQuanYi" in fonts
    text = subprocess.run([_need("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    flat = re.sub(r"\s+", "", text)  # pdftotext drops the spaces around CJK text (第 4 名 → 第4名)
    for number in _key_numbers(rendered, kind, lang):
        assert number in text or re.sub(r"\s+", "", number) in flat, number
    if lang == "zh":
        assert "方法附录" in text and "\ufffd" not in text


# --- Excel ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, lang", CASES)
def test_xlsx_tables_formats_and_charts(rendered, kind, lang):
    import openpyxl

    path: Path = rendered["files"][kind, lang, "xlsx"]
    rep = rendered["reports"][kind, lang]
    source = rendered["results"][KINDS[kind][0]]
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    if kind == "vendor":  # a rating, not an evaluation result: a sheet per model's indicator details instead of stages
        assert len([n for n in names if n.startswith(tuple(source))]) == len(source)
    else:
        assert len([n for n in names if re.match(r"S\d+ ", n)]) == len(source.datasets)  # a sheet per stage
    for ws in wb.worksheets[1:]:
        if ws.max_row == 1:  # the map: a picture
            continue
        assert ws.freeze_panes in ("A2", "B2"), ws.title
        assert ws.cell(1, 1).font.bold
    with zipfile.ZipFile(path) as z:
        members = z.namelist()
    assert any(m.startswith("xl/charts/chart") for m in members)  # native Excel charts
    if kind == "region":
        assert any(m.startswith("xl/media/") for m in members)  # the map as a picture
    if kind == "scorecard":
        table = next(t for t in rep.tables() if t.key == "scores")
        ws = _sheet_with(wb, table.frame.columns[0], "Index")
        total = source.final.at[ENTITY, "Index"]
        row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "Index")
        score = row[3]
        assert score.value == pytest.approx(total) and score.number_format == "#,##0.00"
    if kind == "industry":  # the sector's H total in the indicators sheet, as a number with its format
        table = next(t for t in rep.tables() if t.key == "h_indicators")
        ws = _sheet_with(wb, table.frame.columns[0], "H")
        assert ws.cell(2, 5).value == pytest.approx(source.final.at["bank", "H"]) and ws.cell(2, 5).number_format == "#,##0.00"
    if kind == "vendor":
        table = next(t for t in rep.tables() if t.key == "models")
        ws = _sheet_with(wb, table.frame.columns[0], table.frame.iloc[0, 0])
        assert [ws.cell(i + 2, 4).value for i in range(len(source))] == pytest.approx([r.total for r in source.values()])
        assert [ws.cell(i + 2, 2).value for i in range(len(source))] == [r.level for r in source.values()]
        return
    stage = wb[next(n for n in names if n.startswith("S0 "))]
    assert stage.max_row == len(source.datasets["Raw"]) + 1


def _sheet_with(wb, header: str, first: str):
    for ws in wb.worksheets:
        if ws.cell(1, 1).value == header and ws.cell(2, 1).value == first:
            return ws
    raise AssertionError(f"no sheet starting {header}/{first}")


# --- layout: wide tables scroll in their box, PDF headings never end a page ---------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["scorecard", "ranking", "region", "industry"])
def test_nothing_is_cut_off_at_1400_px(browser, rendered, kind):
    """The page itself never scrolls sideways; a table wider than its box scrolls inside the box."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(rendered["files"][kind, "en", "html"].as_uri(), wait_until="load")
        state = page.evaluate(
            """() => ({ page: [document.documentElement.scrollWidth, window.innerWidth],
                 tables: [...document.querySelectorAll('.table-wrap')].map(w => ({
                    key: w.querySelector('table').dataset.key, wide: w.scrollWidth > w.clientWidth + 1,
                    overflow: getComputedStyle(w).overflowX,
                    right: w.getBoundingClientRect().right })) })"""
        )
        assert state["page"][0] <= state["page"][1], state["page"]
        for t in state["tables"]:
            assert t["right"] <= 1400, t
            if t["wide"]:
                assert t["overflow"] in ("auto", "scroll"), t
    finally:
        page.close()


@pytest.mark.browser
def test_a_wide_table_scrolls_inside_its_box(browser, tmp_path):
    import pandas as pd

    from fintech_eval.report.document import Report, Section, Table

    frame = pd.DataFrame({f"column with a long header {i}": [f"value {i} of a long row"] for i in range(30)})
    rep = Report("ranking", "en", "Wide", "sub", [Section("s", "Wide table").add(Table("Wide", frame, key="wide"))])
    path = write(rep, "html", tmp_path / "wide.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(path.as_uri(), wait_until="load")
        sw, cw, doc = page.evaluate("""() => { const w = document.querySelector('.table-wrap');
            return [w.scrollWidth, w.clientWidth, document.documentElement.scrollWidth]; }""")
        assert sw > cw and doc <= 1400
        page.evaluate("() => { document.querySelector('.table-wrap').scrollLeft = 100000; }")
        last = page.evaluate("() => document.querySelector('table th:last-child').getBoundingClientRect().right")
        assert last <= 1400  # scrolled into view: the last column can be read
    finally:
        page.close()


def headings_ending_a_page(pdf: Path, titles: set[str], tmp: Path) -> list[tuple[int, str]]:
    """Pages whose last content is one of ``titles``: the last line of text (running header and page number
    aside) is a title and nothing is drawn below it (a chart is a picture: pdftotext does not see it, the
    page's pixels do)."""
    from PIL import Image

    layout = subprocess.run([_need("pdftotext"), "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    found = []
    for n, page in enumerate(re.findall(r"<page (.*?)</page>", layout, flags=re.S), start=1):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        lines = []
        for attrs, body in re.findall(r"<line (.*?)>(.*?)</line>", page, flags=re.S):
            y0, y1 = (float(re.search(rf'{k}="([\d.]+)"', attrs).group(1)) for k in ("yMin", "yMax"))
            text = "".join(re.findall(r">([^<]*)</word>", body))
            if 0.08 * height < y0 < 0.93 * height:  # not the running header, not the page number
                lines.append((y1, re.sub(r"\s+", "", text)))
        if not lines:
            continue
        y_last, last = max(lines)
        if last not in titles:
            continue
        subprocess.run([_need("pdftoppm"), "-r", "50", "-png", "-gray", "-f", str(n), "-l", str(n), str(pdf), str(tmp / "pg")], check=True)
        px = np.asarray(Image.open(sorted(tmp.glob("pg-*.png"))[-1]), dtype=int)
        rows = px.shape[0]
        below = px[int((y_last + 4) / height * rows): int(0.93 * rows)]
        if not (below < 200).any():
            found.append((n, last))
        for f in tmp.glob("pg-*.png"):
            f.unlink()
    return found


@pytest.mark.slow
@pytest.mark.parametrize("kind, lang", CASES)
def test_pdf_heading_never_ends_a_page(rendered, kind, lang, tmp_path):
    rep = rendered["reports"][kind, lang]
    titles = {re.sub(r"\s+", "", s.title) for s in rep.sections} | {re.sub(r"\s+", "", tb.title) for tb in rep.tables()}
    assert headings_ending_a_page(rendered["files"][kind, lang, "pdf"], titles, tmp_path) == []


def test_the_orphan_check_sees_a_heading_alone(tmp_path):
    """The check finds a heading left at the bottom of a page (here by a forced page break after it)."""
    from weasyprint import HTML

    page = ('<html><body style="margin:0"><div style="height:215mm"></div><h2 id="t">Lonely heading</h2>'
            '<div style="height:120mm;background:#000;break-before:page"></div></body></html>')
    pdf = tmp_path / "orphan.pdf"
    HTML(string=page).write_pdf(pdf)
    assert headings_ending_a_page(pdf, {"Lonelyheading"}, tmp_path) == [(1, "Lonelyheading")]
