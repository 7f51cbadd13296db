"""A report as plain data, independent of its format: sections of blocks (key figures, paragraphs, tables,
charts, code). :mod:`.kinds` builds one per report kind in one language; :mod:`.html`, :mod:`.pdf` and
:mod:`.excel` each render any of them, so the three formats always carry the same numbers.

Tables keep raw values (floats, ints) plus a *kind* per column (``score``, ``rank``, ``pct``, … see
:func:`fintech_eval.report.i18n.fmt_value`): HTML and PDF format them per locale, Excel keeps them as numbers
with a number format. Charts are :class:`Chart` specs (a kind and its data); :mod:`.charts` draws each
with plotly (HTML) or matplotlib (PDF).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class KeyFigure:
    label: str
    value: str  # already formatted
    note: str = ""
    key: str = ""  # a stable name for tests and scripts (e.g. "total_score"); rendered as data-key


@dataclass
class Figures:
    items: list[KeyFigure]


@dataclass
class Paragraph:
    text: str
    style: str = "p"  # p | note | warn


@dataclass
class Table:
    title: str
    frame: pd.DataFrame  # display headers; raw values
    kinds: dict[str, str] = field(default_factory=dict)  # column → kind (default "auto")
    key: str = ""  # stable name: the HTML table's data-key, the Excel sheet's base name
    sheet: str = ""  # Excel sheet name (localised); defaults to the title
    highlight: list[int] = field(default_factory=list)  # row positions to emphasise (the entity)
    max_rows_pdf: int = 400  # longer tables are cut in the PDF (with a note); HTML and Excel keep all
    note: str = ""

    def kind(self, col: str) -> str:
        return self.kinds.get(col, "auto")


@dataclass
class Chart:
    kind: str  # radar | bar | dist | trend | map | intervals
    title: str
    data: dict[str, Any]
    key: str = ""
    height: int = 420
    note: str = ""


@dataclass
class Code:
    title: str
    text: str
    language: str = "yaml"


Block = Figures | Paragraph | Table | Chart | Code


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    appendix: bool = False

    def add(self, *blocks: Block | None) -> Section:
        self.blocks += [b for b in blocks if b is not None]
        return self


@dataclass
class Report:
    kind: str
    lang: str
    title: str
    subtitle: str
    sections: list[Section]
    meta: dict[str, Any] = field(default_factory=dict)  # entity, period, evaluation name, …
    # extra sheets for the workbook only (every stage's data set and record), name → frame
    workbook: dict[str, pd.DataFrame] = field(default_factory=dict)

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]

    def figures(self) -> dict[str, KeyFigure]:
        return {f.key: f for s in self.sections for b in s.blocks if isinstance(b, Figures) for f in b.items if f.key}
