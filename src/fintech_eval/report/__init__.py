"""Reports people read: a scorecard of one entity, the overall ranking, results by province on a China map;
each as self-contained HTML (interactive plotly), PDF (WeasyPrint, static matplotlib) or Excel (XlsxWriter),
in Chinese or English, each ending with the method appendix that lets a reader reproduce the numbers.

    import fintech_eval as fe
    from fintech_eval.report import render
    result = fe.evaluate("examples/asem-pipeline-c.yaml")
    render(result, "scorecard", entity="CHN", lang="zh", fmt="html", out="out/CHN.html")
    render(load_result("out/run"), "ranking", lang="en", fmt="pdf", out="out/ranking.pdf")

    render(load_result("results/H-2024"), "industry", entity="bank", institutions=load_result("results/J-2024"),
           lang="zh", fmt="pdf", out="out/bank.pdf")
    render(rate_both(fw, Vendor("V001", "product"), scores), "vendor", lang="en", fmt="xlsx", out="out/V001.xlsx")

Kinds are registered in :data:`REPORT_KINDS` (:mod:`.kinds`, :mod:`.industry`, :mod:`.vendor`); formats in
:data:`FORMATS`. A report is in one language throughout (:mod:`.localise`: the framework's names, sectors,
provinces, group columns, the run's warnings). A whole round's scorecards, in parallel, with an index page:
:func:`.batch.render_batch` (``fintech-eval report RESULT --entity all``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine.result import Result
from ..errors import DataError
from . import industry, vendor  # noqa: F401 - they register the industry and vendor kinds
from .document import Report
from .kinds import REPORT_KINDS, build_report
from .loader import load_result


def _write(fmt: str) -> Callable[[Report, Path], Path]:
    if fmt == "html":
        from .html import write_html

        return write_html
    if fmt == "pdf":
        from .pdf import write_pdf

        return write_pdf
    if fmt == "xlsx":
        from .excel import write_xlsx

        return write_xlsx
    raise DataError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}", rule="report.format")


FORMATS: tuple[str, ...] = ("html", "pdf", "xlsx")


def render(result: Result, kind: str, *, fmt: str = "html", out: str | Path, lang: str = "zh",
           entity: str | None = None, **options: Any) -> Path:
    """Build report ``kind`` of ``result`` and write it to ``out`` as ``fmt`` (html, pdf or xlsx).

    ``options`` go to :func:`build_report` (``period``, ``units``, ``level``, ``generated``, ``institutions``).
    For ``vendor``, ``result`` is a capability rating (``rate_vendor``/``rate_both``).
    """
    writer = _write(fmt)
    report = build_report(result, kind, entity=entity, lang=lang, **options)
    return writer(report, Path(out))


def write(report: Report, fmt: str, out: str | Path) -> Path:
    """Write an already built :class:`Report` in ``fmt``."""
    return _write(fmt)(report, Path(out))


__all__ = ["FORMATS", "REPORT_KINDS", "Report", "build_report", "load_result", "render", "write"]
