"""The index page of a batch of reports: one row per entity (rank, name, code, sector, province, total score)
linking its report, with a search box (name or code) and sector and province filters. One HTML file, no
third-party script (a few lines of our own JavaScript filter the rows), in the batch's language."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from ..engine.result import Result
from . import tables as tb
from .html import environment
from .i18n import fmt_number, t
from .localise import evaluation_name, group_label, group_value


def index_rows(result: Result, units: list[str], paths: dict[str, Path], base: Path, lang: str) -> pd.DataFrame:
    """One row per unit: rank, code, name, sector, province (named in ``lang``), total, link (relative to ``base``)."""
    v = tb.view(result)
    top = v.top
    info = v.info.reindex(units)
    rows = pd.DataFrame({"uCode": units, "name": info["name"].astype(str).to_numpy()})
    rows["rank"] = v.ranks[top].reindex(units).to_numpy()
    rows["total"] = v.scores[top].reindex(units).to_numpy(float)
    for col, out in (("sector", "sector"), ("region_code", "province")):
        rows[out] = [group_value(col, x, lang) for x in info[col]] if col in info.columns else ""
    rows["href"] = [os.path.relpath(paths[u], base).replace(os.sep, "/") for u in units]
    return rows


def write_index(result: Result, units: list[str], paths: dict[str, Path], target: str | Path, *, lang: str,
                appendix: Path | None = None) -> Path:
    """Write the index page of a batch to ``target``."""
    from .. import __version__

    target = Path(target)
    rows = index_rows(result, units, paths, target.parent, lang)
    name = evaluation_name(result.spec.name, result.tree, lang)
    html = environment().get_template("index.html.j2").render(
        lang=lang, html_lang="zh-CN" if lang == "zh" else "en", title=t("title.index", lang, name=name),
        subtitle=t("subtitle", lang, name=name, date=dt.date.today().isoformat(), version=__version__),
        rows=[{**r, "rank": "—" if pd.isna(r["rank"]) else int(r["rank"]), "total": fmt_number(r["total"], lang)}
              for r in rows.to_dict("records")],
        sectors=sorted({r for r in rows["sector"] if r}), provinces=sorted({r for r in rows["province"] if r}),
        L={k: t(k, lang) for k in ("col.rank", "col.name", "col.code", "total_score", "index.search", "index.all",
                                   "index.shown", "index.appendix", "index.report")},
        sector_label=group_label("sector", lang), province_label=group_label("region_code", lang),
        appendix=os.path.relpath(appendix, target.parent).replace(os.sep, "/") if appendix else None,
        version=__version__,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
