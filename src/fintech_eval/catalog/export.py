"""A readable Excel workbook of a whole framework: one sheet per kind of thing, bilingual, filterable."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from .models import Framework, Heading, Indicator, Task


def _sheet(wb: xlsxwriter.Workbook, name: str, header: list[str], rows: list[list], widths: list[int]) -> None:
    ws = wb.add_worksheet(name)
    hfmt = wb.add_format({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF", "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws.write_row(0, 0, header, hfmt)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, ["" if v is None else v for v in row], wrap)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(1, 1)
    if rows:
        ws.autofilter(0, 0, len(rows), len(header) - 1)


def export_xlsx(fw: Framework, path: str | Path) -> Path:
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": f"{fw.title.zh} / {fw.title.en}", "subject": f"{fw.id} v{fw.version}"})
    about = [
        ["id", fw.id], ["version", fw.version], ["kind", fw.kind], ["title (zh)", fw.title.zh], ["title (en)", fw.title.en],
        ["issuer", f"{fw.issuer.zh} / {fw.issuer.en}"], ["issued", str(fw.issued or "")], ["status", fw.status],
        ["source", fw.source], ["extensions", ", ".join(fw.extensions)], *[["note", n] for n in fw.notes],
    ]
    _sheet(wb, "About", ["field", "value"], about, [18, 100])
    headings: list[list] = []
    indicators: list[list] = []
    variants: list[list] = []
    tasks: list[list] = []
    for path_, n in fw.walk():
        if isinstance(n, Heading):
            headings.append([n.code, " > ".join(path_), n.name.zh, n.name.en, n.clause, n.table, "yes" if n.complete else "no", "; ".join(n.notes)])
        elif isinstance(n, Indicator):
            indicators.append([
                n.code, path_[0] if path_ else "", " > ".join(path_), n.name.zh, n.name.en, n.definition.zh, n.definition.en,
                n.type, n.unit, n.direction, ", ".join(n.collection), ", ".join(n.sectors) or "all",
                n.formula or ("(per sector)" if n.variants else ""),
                str(n.rollup.model_dump(exclude_none=True)) if n.rollup else "",
                "" if n.range is None else f"[{n.range[0]}, {n.range[1]}]", n.clause, n.table,
                "yes" if n.complete else "no", "; ".join(n.notes),
            ])
            for v in n.variants:
                variants.append([n.code, ", ".join(v.sectors), v.definition.zh, v.definition.en, v.formula, v.unit or n.unit])
        elif isinstance(n, Task):
            tasks.append([n.code, n.number, path_[-1] if path_ else "", n.name.zh, n.name.en, n.summary.en,
                          "\n".join(f"{x.code}: {x.reason.en}" for x in n.indicators)])
    _sheet(wb, "Headings", ["code", "path", "name_zh", "name_en", "clause", "table", "complete", "notes"], headings, [12, 20, 24, 34, 8, 8, 8, 50])
    if indicators:
        _sheet(
            wb, "Indicators",
            ["code", "block", "path", "name_zh", "name_en", "definition_zh", "definition_en", "type", "unit", "direction",
             "collection", "sectors", "formula", "rollup", "range", "clause", "table", "complete", "notes"],
            indicators, [13, 6, 22, 24, 30, 60, 60, 8, 10, 8, 10, 18, 40, 30, 10, 8, 8, 8, 40],
        )
    if variants:
        _sheet(wb, "Sector variants", ["code", "sectors", "definition_zh", "definition_en", "formula", "unit"], variants, [13, 14, 60, 60, 40, 10])
    if fw.variables:
        _sheet(
            wb, "Variables", ["name", "entity", "unit", "type", "min", "max", "part_of", "sectors", "help_zh", "help_en"],
            [[v.name, v.entity, v.unit, v.type, v.min, v.max, v.part_of, ", ".join(v.sectors) or "all", v.help.zh, v.help.en] for v in fw.variables],
            [28, 10, 10, 8, 6, 6, 20, 14, 60, 60],
        )
    if fw.parameters:
        _sheet(wb, "Parameters", ["name", "default", "min", "max", "description_zh", "description_en"],
               [[p.name, p.default, p.min, p.max, p.description.zh, p.description.en] for p in fw.parameters], [28, 8, 6, 6, 60, 60])
    if fw.constraints:
        _sheet(wb, "Parameter sums", ["name", "parameters", "sum", "description_zh", "description_en"],
               [[c.name, " + ".join(c.parameters), c.sum, c.description.zh if c.description else "",
                 c.description.en if c.description else ""] for c in fw.constraints], [20, 50, 6, 60, 60])
    if tasks:
        _sheet(wb, "Plan tasks", ["code", "number", "area", "name_zh", "name_en", "summary_en", "indicators"], tasks, [10, 6, 10, 24, 40, 60, 60])
    wb.close()
    return path
