"""Reports for a whole round: every entity's scorecard (or a sector's, or a province's) rendered in parallel
processes, named so that nothing overwrites anything silently, with one shared plotly.js, one shared method
appendix and an index page that finds any report by name, code, sector or province.

    from fintech_eval.report import load_result
    from fintech_eval.report.batch import render_batch, select_units
    r = load_result("results/J-2024")
    out = render_batch(r, select_units(r, sector="bank"), lang="zh", fmt="html", out="reports/J-2024", workers=2)

File names carry the result's block and period and the entity (:func:`report_name`):
``J-2024_scorecard_SYN-BANK-0001.zh.html``; an existing file is replaced only with ``force=True``.
The batch folder holds ``index.{lang}.html``, ``J-2024_method.{lang}.{fmt}`` (the method appendix every
scorecard points to) and, for HTML, ``assets/plotly-<version>.min.js`` loaded by every page (offline).
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.result import Result
from ..errors import DataError
from . import tables as tb

_PERIOD_IN_NAME = re.compile(r"(?<![\d])((?:19|20)\d{2}(?:[-_]?(?:Q[1-4]|H[12]|\d{2}))?)(?![\d])")


def result_tag(result: Result, period: Any = None) -> str:
    """``BLOCK-PERIOD`` of a result for file names: the tree's top code (``J``) and the period shown (a panel's
    period, else the spec's ``data.period``, else a year in the evaluation's name); the block alone when no
    period is known."""
    top = str(tb.top_code(result.tree))
    p = tb.resolve_period(result, period)
    if p is None:
        p = getattr(result.spec.data, "period", None)
    if p is None:  # the last year in the name: "jrt0201-2020 block J, 2024" is the 2024 run of the 2020 standard
        found = _PERIOD_IN_NAME.findall(str(result.spec.name))
        p = found[-1] if found else None
    return safe_name(top if p is None else f"{top}-{p}")


def safe_name(text: str) -> str:
    """``text`` usable as (part of) a file name on every system: letters, digits, CJK, ``-_.``; others as ``_``."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text)).strip(".") or "_"


def report_name(tag: str, kind: str, entity: str | None, lang: str, fmt: str) -> str:
    """``{tag}_{kind}[_{entity}].{lang}.{fmt}``, e.g. ``J-2024_scorecard_SYN-BANK-0001.zh.pdf``."""
    middle = kind if entity is None else f"{kind}_{safe_name(entity)}"
    return f"{tag}_{middle}.{lang}.{fmt}"


def check_free(paths: Iterable[Path], force: bool) -> None:
    """Raise :class:`DataError` naming the files that exist (unless ``force``): reports never overwrite silently."""
    if force:
        return
    taken = [p for p in paths if p.exists()]
    if taken:
        more = f" and {len(taken) - 5} more" if len(taken) > 5 else ""
        raise DataError(f"{len(taken)} report file(s) exist: {', '.join(map(str, taken[:5]))}{more}; "
                        "pass --force (force=True) to replace them", rule="report.exists", file=str(taken[0]))


def select_units(result: Result, *, sector: str | None = None, province: str | None = None, period: Any = None) -> list[str]:
    """The units of ``result`` (best first), optionally of one ``sector`` (its code, e.g. ``bank``) and/or one
    ``province`` (code or name, e.g. ``44``, ``440000``, ``广东``, ``Guangdong``); an unknown value is an error
    listing the known ones."""
    v = tb.view(result, period)
    units = tb.ranking_table(v)["uCode"].astype(str)
    info = v.info.reindex(units)
    keep = pd.Series(True, index=units.to_numpy())
    if sector is not None:
        if "sector" not in info.columns:
            raise DataError("the result has no sector column: --sector needs one", rule="report.select")
        known = sorted(info["sector"].dropna().astype(str).unique())
        if sector not in known:
            raise DataError(f"no sector {sector!r} in the result; sectors are {', '.join(known)}", rule="report.select")
        keep &= (info["sector"].astype(str) == sector).to_numpy()
    if province is not None:
        from ..geo import resolve_many

        col = next((c for c in ("region_code", "province", "region") if c in info.columns), None)
        if col is None:
            raise DataError("the result has no province column (region_code): --province needs one", rule="report.select")
        want, _ = resolve_many([province], in_scope_only=False)
        code = want.get(province)
        values = info[col].astype(object)
        mapping, _ = resolve_many(values.dropna().unique().tolist(), in_scope_only=False)
        resolved = values.map(lambda x: mapping.get(x))
        if code is None or not (resolved == code).any():
            raise DataError(f"no institution of province {province!r} in the result", rule="report.select")
        keep &= (resolved == code).to_numpy()
    return units[keep.to_numpy()].tolist()


# --- parallel rendering -------------------------------------------------------------------------------------

_WORK: dict[str, Any] = {}  # what the worker processes render from (set before they fork)


@dataclass
class Batch:
    """What :func:`render_batch` wrote."""

    files: list[Path] = field(default_factory=list)  # one per entity, in the order given
    index: Path | None = None
    appendix: Path | None = None
    assets: list[Path] = field(default_factory=list)


def _render_chunk(units: list[str]) -> list[str]:
    from . import build_report
    from .html import write_html
    from .pdf import write_pdf

    w = _WORK
    out = []
    for u in units:
        rep = build_report(w["result"], "scorecard", entity=u, lang=w["lang"], generated=w["generated"],
                           appendix_file=w["appendix_name"], min_n=w["min_n"], intervals=w["intervals"])
        path = w["paths"][u]
        if w["fmt"] == "html":
            write_html(rep, path, plotly_src=w["plotly_src"])
        elif w["fmt"] == "pdf":
            write_pdf(rep, path)
        else:
            from .excel import write_xlsx

            write_xlsx(rep, path)
        out.append(u)
    return out


def render_batch(
    result: Result,
    units: list[str],
    *,
    lang: str = "zh",
    fmt: str = "html",
    out: str | Path,
    force: bool = False,
    workers: int | None = None,
    generated: str | None = None,
    min_n: int = 3,
    intervals: pd.DataFrame | None = None,
    progress: Callable[[int], None] | None = None,
) -> Batch:
    """Every unit's scorecard as ``fmt`` in ``out``, rendered by ``workers`` processes (default: the CPUs),
    plus the shared method appendix, plotly.js (HTML) and the index page. ``progress(n)`` is called as each
    chunk of ``n`` reports is written; ``intervals``: the rank intervals of an uncertainty analysis of the result
    (each scorecard shows its unit's). Nothing is written when a target file exists and not ``force``."""
    import datetime as dt

    from . import build_report, write
    from .html import write_plotly_js

    if not units:
        raise DataError("no entity selected: nothing to render", rule="report.select")
    out = Path(out)
    tag = result_tag(result)
    paths = {u: out / report_name(tag, "scorecard", u, lang, fmt) for u in units}
    appendix_path = out / report_name(tag, "method", None, lang, "pdf" if fmt == "pdf" else "html")
    index_path = out / f"index.{lang}.html"
    check_free([*paths.values(), appendix_path, index_path], force)
    out.mkdir(parents=True, exist_ok=True)
    generated = generated or dt.date.today().isoformat()
    batch = Batch()
    plotly_src = write_plotly_js(out) if fmt == "html" else None
    if plotly_src is not None:
        batch.assets.append(out / plotly_src)
    appendix = build_report(result, "method", lang=lang, generated=generated, intervals=intervals)  # checks them too
    if appendix_path.suffix == ".pdf":
        batch.appendix = write(appendix, "pdf", appendix_path)
    else:
        from .html import write_html

        batch.appendix = write_html(appendix, appendix_path, plotly_src=plotly_src)
    _WORK.clear()
    _WORK.update(result=result, lang=lang, fmt=fmt, generated=generated, appendix_name=appendix_path.name,
                 plotly_src=plotly_src, paths=paths, min_n=min_n, intervals=intervals)
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(units)))
    size = max(1, min(8, len(units) // (n_workers * 4) or 1))
    chunks = [units[i:i + size] for i in range(0, len(units), size)]
    if n_workers == 1:
        for c in chunks:
            _render_chunk(c)
            if progress:
                progress(len(c))
    else:
        _warm_up(fmt)
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
            futures = [pool.submit(_render_chunk, c) for c in chunks]
            for f in as_completed(futures):
                done = f.result()
                if progress:
                    progress(len(done))
    _WORK.clear()
    batch.files = [paths[u] for u in units]
    from .index import write_index

    batch.index = write_index(result, units, paths, index_path, lang=lang, appendix=batch.appendix)
    return batch


def _warm_up(fmt: str) -> None:
    """Load what every worker needs once, before forking: the workers inherit it instead of each loading it."""
    import plotly.graph_objects  # noqa: F401

    if fmt == "pdf":
        import weasyprint  # noqa: F401

        from .charts import mpl_png
        from .document import Chart

        mpl_png(Chart("bar", "预热 warm-up", {"labels": ["甲"], "values": [1.0]}), dpi=20)
