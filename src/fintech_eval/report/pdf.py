"""A report as PDF through WeasyPrint: A4 pages, static matplotlib charts (PNG), Chinese set in
WenQuanYi Micro Hei (CSS ``font-family``; ``apt-get install fonts-wqy-microhei``), page numbers, the same
blocks and numbers as the HTML version (long tables are cut with a pointer to the workbook).
"""

from __future__ import annotations

import base64
from pathlib import Path

from markupsafe import Markup, escape

from .charts import CJK_FONT, mpl_png
from .document import Chart, Report, Table
from .html import environment, prepare_sections

PNG_DPI = 130  # ~900 px across the text width: sharp in print, cheap for WeasyPrint to embed
PDF_FONTS = f'"{CJK_FONT}", sans-serif'  # WenQuanYi covers Latin too; one family keeps WeasyPrint's font lookups cheap


def _img(chart: Chart, n: int) -> str:
    del n
    data = base64.b64encode(mpl_png(chart, dpi=PNG_DPI)).decode("ascii")
    return f'<img alt="{escape(chart.title)}" src="data:image/png;base64,{data}">'


LONG_TABLE = 12  # rows: a longer table may start on the heading's page and go on over the next


def _lead(blocks: list[dict]) -> int:
    """How many of a section's first blocks stay on one page with its heading, so that no heading ends a page:
    the introducing paragraphs and key figures, and the chart or short table after them (a long table splits
    across pages, so it stays with its heading by CSS ``break-after: avoid`` instead)."""
    n = 0
    for b in blocks:
        if b["type"] in ("paragraph", "figures"):
            n += 1
            continue
        if b["type"] == "table" and len(b["rows"]) > LONG_TABLE:
            return n
        return n + 1
    return n


def render_pdf_html(report: Report) -> str:
    """The HTML WeasyPrint lays out (charts as embedded PNG)."""
    sections = prepare_sections(report, _img, max_table_rows=lambda tb: tb.max_rows_pdf if isinstance(tb, Table) else None)
    for sec in sections:
        sec["lead"] = _lead(sec["blocks"])
    running = report.title.replace("\\", "").replace('"', "'")
    return environment().get_template("report.pdf.html.j2").render(
        report=report, sections=sections, fonts=Markup(PDF_FONTS), running_title=Markup(escape(running)),
        html_lang="zh-CN" if report.lang == "zh" else "en",
    )


def write_pdf(report: Report, path: str | Path) -> Path:
    from weasyprint import HTML

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=render_pdf_html(report)).write_pdf(path)
    return path
