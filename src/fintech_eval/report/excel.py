"""A report as an Excel workbook (XlsxWriter): a contents sheet with the key figures, one sheet per report
table (numbers stay numbers, with number formats), native Excel charts for the bar, radar and trend charts,
the map as a picture, then every intermediate table of the evaluation: one sheet per stage, the ranks, group
ranks and every stage record. Every sheet has a bold, frozen header row and an autofilter.
"""

from __future__ import annotations

import math
import re
from numbers import Real
from pathlib import Path
from typing import Any

import pandas as pd

from .document import Chart, Code, Figures, Paragraph, Report, Table
from .i18n import EXCEL_FORMATS, t

_BAD = re.compile(r"[\[\]:*?/\\]")


class _Names:
    """Unique, valid sheet names (31 characters, no []:*?/\\)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, name: str) -> str:
        base = _BAD.sub("_", str(name)).strip().strip("'")[:31] or "Sheet"
        cand, i = base, 2
        while cand.casefold() in self.used:
            suffix = f" ({i})"
            cand = base[: 31 - len(suffix)] + suffix
            i += 1
        self.used.add(cand.casefold())
        return cand


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, Real) and not isinstance(v, bool) and math.isnan(float(v))


class _Writer:
    def __init__(self, path: Path, lang: str) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": False, "strings_to_numbers": False, "strings_to_urls": False})
        self.lang = lang
        self.names = _Names()
        self.head = self.wb.add_format({"bold": True, "bg_color": "#EEF2F7", "bottom": 1, "text_wrap": True, "valign": "top"})
        self.title = self.wb.add_format({"bold": True, "font_size": 14, "font_color": "#12365F"})
        self.bold = self.wb.add_format({"bold": True})
        self.wrap = self.wb.add_format({"text_wrap": True, "valign": "top"})
        self.hl = self.wb.add_format({"bg_color": "#FDF1EF", "bold": True})
        self.fmts: dict[str, Any] = {k: self.wb.add_format({"num_format": v}) for k, v in EXCEL_FORMATS.items()}
        self.float_fmt = self.wb.add_format({"num_format": "#,##0.000"})

    def frame(self, name: str, df: pd.DataFrame, kinds: dict[str, str] | None = None, highlight: list[int] | None = None) -> tuple[str, Any]:
        """Write ``df`` to a new sheet: header row frozen, formats by column kind (or dtype)."""
        sheet = self.names(name)
        ws = self.wb.add_worksheet(sheet)
        kinds = kinds or {}
        cols = list(df.columns)
        for j, c in enumerate(cols):
            ws.write_string(0, j, str(c), self.head)
        for j, c in enumerate(cols):
            kind = kinds.get(c)
            col = df[c]
            fmt = self.fmts.get(kind) if kind else (self.float_fmt if col.dtype.kind == "f" else None)
            values = col.tolist()
            for i, v in enumerate(values, start=1):
                if _is_missing(v):
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, Real) and kind != "text":
                    ws.write_number(i, j, float(v), fmt)
                else:
                    ws.write_string(i, j, str(v))
            width = max([len(str(c))] + [len(str(x)) for x in values[:200]]) if values else len(str(c))
            ws.set_column(j, j, min(max(8, width * 1.1 + 2), 48))
        for r in highlight or []:
            ws.set_row(r + 1, None, self.hl)
        ws.freeze_panes(1, 1 if len(cols) > 3 else 0)
        if len(cols):
            ws.autofilter(0, 0, max(1, len(df)), len(cols) - 1)
        return sheet, ws

    def chart_sheet(self, c: Chart) -> str | None:
        """A sheet with the chart's data and a native Excel chart (bar, radar, trend) or a picture (map)."""
        d = c.data
        if c.kind == "bar":
            df = pd.DataFrame({t("col.name", self.lang): d["labels"], d.get("value_label") or t("chart.score", self.lang): d["values"]})
            ctype: dict[str, Any] = {"type": "bar"}
        elif c.kind == "radar":
            df = pd.DataFrame({t("col.indicator", self.lang): d["axes"], **{s["name"]: s["values"] for s in d["series"]}})
            ctype = {"type": "radar", "subtype": "with_markers"}
        elif c.kind == "trend":
            df = pd.DataFrame({t("col.period", self.lang): [str(x) for x in d["x"]], **{s["name"]: s["values"] for s in d["series"]}})
            ctype = {"type": "line"}
        elif c.kind == "map":
            import io

            from .charts import mpl_png

            sheet = self.names(c.title)
            ws = self.wb.add_worksheet(sheet)
            ws.write_string(0, 0, c.title, self.title)
            ws.insert_image(2, 0, "map.png", {"image_data": io.BytesIO(mpl_png(c, dpi=110)), "x_scale": 0.9, "y_scale": 0.9})
            return sheet
        else:
            return None
        sheet, ws = self.frame(c.title, df)
        n = len(df)
        chart = self.wb.add_chart(ctype)
        for j in range(1, len(df.columns)):
            chart.add_series({
                "name": [sheet, 0, j], "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, j, n, j],
                **({"marker": {"type": "circle"}} if c.kind == "trend" else {}),
            })
        chart.set_title({"name": c.title})
        chart.set_legend({"position": "bottom"} if len(df.columns) > 2 else {"none": True})
        if c.kind == "bar":
            chart.set_y_axis({"reverse": True})
            chart.set_size({"width": 640, "height": max(320, 18 * n + 80)})
        else:
            chart.set_size({"width": 640, "height": 420})
        ws.insert_chart(1, len(df.columns) + 1, chart)
        return sheet

    def close(self) -> None:
        self.wb.close()


def write_xlsx(report: Report, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w = _Writer(path, report.lang)
    lang = report.lang
    # contents first: title, key figures, then the list of sheets (filled in as they are written)
    contents = w.names(t("excel.contents", lang))
    ws = w.wb.add_worksheet(contents)
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 60)
    ws.write_string(0, 0, report.title, w.title)
    ws.write_string(1, 0, report.subtitle)
    ws.write_string(2, 0, t("explain.excel", lang))
    row = 4
    for s in report.sections:
        for b in s.blocks:
            if isinstance(b, Figures):
                for f in b.items:
                    ws.write_string(row, 0, f.label, w.bold)
                    ws.write_string(row, 1, f.value)
                    row += 1
    row += 1
    ws.write_string(row, 0, t("excel.sheet", lang), w.head)
    ws.write_string(row, 1, t("excel.contents", lang), w.head)
    row += 1
    listing: list[tuple[str, str]] = []
    for s in report.sections:
        for b in s.blocks:
            if isinstance(b, Table):
                sheet, _ = w.frame(b.title, b.frame, b.kinds, b.highlight)
                listing.append((sheet, f"{s.title}: {b.title}"))
            elif isinstance(b, Chart):
                sheet = w.chart_sheet(b)
                if sheet:
                    listing.append((sheet, f"{s.title}: {b.title}"))
            elif isinstance(b, Code):
                sheet, _ = w.frame(b.title, pd.DataFrame({b.title: b.text.splitlines()}), {b.title: "text"})
                listing.append((sheet, b.title))
            elif isinstance(b, Paragraph):
                continue
    for name, df in report.workbook.items():
        sheet, _ = w.frame(name, df)
        listing.append((sheet, name))
    for sheet, what in listing:
        ws.write_url(row, 0, f"internal:'{sheet}'!A1", string=sheet)
        ws.write_string(row, 1, what)
        row += 1
    ws.freeze_panes(1, 0)
    w.close()
    return path
