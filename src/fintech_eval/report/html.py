"""A report as one self-contained HTML file: interactive plotly charts, plotly.js inline once (from the
plotly package, so the file opens offline), Jinja2 templates in ``report/templates/``.

The first chart carries plotly.js (``include_plotlyjs=True``, about 4.7 MB); the others reuse it. Nothing is
fetched at view time: the map's boundaries are the package's GeoJSON, embedded in the figure, and the geo
base layers plotly would fetch (world topojson) are switched off.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from .charts import WEB_FONTS, plotly_html
from .document import Chart, Code, Figures, Paragraph, Report, Table
from .i18n import fmt_value, t

# the topojson plotly.js would fetch for a geo subplot of scope "world" at resolution 110 (its defaults)
TOPOJSON_NAME = "world_110m"
NUMERIC_KINDS = {"score", "rank", "int", "pct", "signed", "rank_change", "amount", "float3", "float4"}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("fintech_eval.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=False,
        lstrip_blocks=False,
    )


def _anchor(key: str, i: int) -> str:
    return f"s{i}-" + re.sub(r"[^0-9A-Za-z_-]+", "-", key).strip("-")


def prepare_table(tbl: Table, lang: str, max_rows: int | None = None) -> dict[str, Any]:
    frame = tbl.frame if max_rows is None else tbl.frame.head(max_rows)
    kinds = [tbl.kind(c) for c in tbl.frame.columns]
    rows = [[fmt_value(v, k, lang) for v, k in zip(row, kinds, strict=True)] for row in frame.itertuples(index=False, name=None)]
    classes = []
    for c, k in zip(tbl.frame.columns, kinds, strict=True):
        numeric = k in NUMERIC_KINDS or (k == "auto" and tbl.frame[c].dtype.kind in "if")
        classes.append("num" if numeric else "text")
    note = tbl.note
    if max_rows is not None and len(tbl.frame) > max_rows:
        more = len(tbl.frame) - max_rows
        note = (note + " " if note else "") + (f"（另有 {more} 行见 Excel 版）" if lang == "zh" else f"({more} more rows in the Excel version)")
    headers = [str(c) for c in tbl.frame.columns]
    return {"type": "table", "title": tbl.title, "key": tbl.key, "headers": headers, "rows": rows,
            "classes": classes, "highlight": set(tbl.highlight), "note": note}


def prepare_sections(
    report: Report, chart_html: Callable[[Chart, int], str], *, max_table_rows: Callable[[Table], int | None] = lambda _: None
) -> list[dict[str, Any]]:
    """Sections as plain dicts for the templates; ``chart_html(chart, n)`` renders the n-th chart."""
    out: list[dict[str, Any]] = []
    n_chart = 0
    first_app = True
    for i, s in enumerate(report.sections):
        blocks: list[dict[str, Any]] = []
        for b in s.blocks:
            if isinstance(b, Figures):
                blocks.append({"type": "figures", "figs": b.items})
            elif isinstance(b, Paragraph):
                blocks.append({"type": "paragraph", "text": b.text, "style": b.style})
            elif isinstance(b, Table):
                blocks.append(prepare_table(b, report.lang, max_table_rows(b)))
            elif isinstance(b, Chart):
                shown = replace(b, title="") if b.title == s.title else b  # no second heading under the section's
                blocks.append({"type": "chart", "key": b.key, "kind": b.kind, "note": b.note, "html": Markup(chart_html(shown, n_chart))})
                n_chart += 1
            elif isinstance(b, Code):
                blocks.append({"type": "code", "text": b.text, "key": s.key})
        out.append({"key": s.key, "title": s.title, "anchor": _anchor(s.key, i), "appendix": s.appendix,
                    "first_appendix": s.appendix and first_app, "blocks": blocks})
        first_app = first_app and not s.appendix
    return out


def render_html(report: Report, plotly_src: str | None = None) -> str:
    """The report as one HTML document (a string): plotly.js inline, or loaded from ``plotly_src`` (a path
    relative to the page: one copy beside a batch of reports, still offline)."""
    from .. import __version__

    def chart(c: Chart, n: int) -> str:
        inline = n == 0 and plotly_src is None
        return plotly_html(c, include_plotlyjs=inline, div_id=f"chart-{n}-{c.key or c.kind}".replace(":", "-"))

    sections = prepare_sections(report, chart)
    return environment().get_template("report.html.j2").render(
        report=report, sections=sections, fonts=Markup(WEB_FONTS), version=__version__,
        html_lang="zh-CN" if report.lang == "zh" else "en", toc_title=t("toc", report.lang), topojson_name=TOPOJSON_NAME,
        plotly_src=plotly_src,
    )


def write_html(report: Report, path: str | Path, plotly_src: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, plotly_src), encoding="utf-8")
    return path


def write_plotly_js(directory: str | Path) -> str:
    """plotly.js (from the plotly package) written once into ``directory``/assets; its path relative to
    ``directory``, for :func:`render_html`'s ``plotly_src``."""
    import plotly
    from plotly.offline import get_plotlyjs

    rel = f"assets/plotly-{plotly.__version__}.min.js"
    target = Path(directory) / rel
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(get_plotlyjs(), encoding="utf-8")
    return rel
