"""The results of a run, as the dashboards and the API show them: the ranking with filters (sector, province,
size band), the anonymised distribution of peers' scores, one entity's scorecard, the province map, the
industry view with the FinTech Development Plan's task progress, and every report the CLI writes for the run.

Everything is read from the run's result folders (``<out_dir>/<block>-<period>``, hash-checked against the
run record) through :mod:`fintech_eval.report`: the same views, tables and report builders as
``fintech-eval report``, so a dashboard shows the numbers of the CLI's reports.

Size bands: the register's size attribute ``operating_revenue`` of the run's period (else the same period's
returned value, :func:`fintech_eval.app.sizes.sampling_sizes`), cut into three equal-count bands (small,
medium, large) over the run's institutions that have one (:func:`fintech_eval.analysis.peers.size_bands`);
an institution without a size has no band.

Peer distributions are anonymised: quartiles, mean and a histogram of a group's scores, never a name, and
only for groups of at least :data:`MIN_PEERS` units (fewer would let a reader guess who is who).
"""

from __future__ import annotations

import copy
import functools
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine.result import Result
from ..engine.sources import sha256_file
from ..errors import DataError
from .runs import run_info
from .workspace import Workspace

#: The fewest units a group needs for its score distribution to be shown anonymised.
MIN_PEERS = 5
#: The histogram's bins of a 0-100 score (scores outside 0-100, e.g. z-scores: ten equal bins over their range).
HISTOGRAM_EDGES = tuple(float(x) for x in range(0, 101, 10))
SIZE_ATTRIBUTE = "operating_revenue"
SIZE_BANDS = ("small", "medium", "large")
FORMATS = ("html", "pdf", "xlsx")


@dataclass
class RunResults:
    """A run's record and its results by block (J institutions, H industries, Q regions)."""

    info: dict[str, Any]
    results: dict[str, Result]

    @property
    def period(self) -> str:
        return str(self.info["period"])

    def block(self, block: str) -> Result:
        if block not in self.results:
            raise DataError(f"run {self.info['id']} has no block {block} (it has {', '.join(self.results) or 'none'})",
                            rule="results.block", field="block")
        return self.results[block]

    def folder(self, block: str) -> Path:
        return Path(self.info["out_dir"]) / f"{block}-{self.period}"


@functools.lru_cache(maxsize=8)
def _load(folder: str, sha: str) -> Result:
    from ..report import load_result

    return load_result(folder)


def run_results(ws: Workspace, run_id: int) -> RunResults:
    """The run and its results, each checked against the SHA-256 the run recorded (an edited or missing result
    is an error: score again)."""
    info = run_info(ws, run_id)
    out: dict[str, Result] = {}
    for b in info["blocks"]:
        folder = Path(info["out_dir"]) / f"{b}-{info['period']}"
        sha = info["scores_sha256"].get(b, "")
        scores = folder / "scores.csv"
        if not scores.is_file() or sha256_file(scores) != sha:
            raise DataError(f"the results of run {run_id} ({folder}) are missing or were edited after the run: score again",
                            rule="run.changed", file=str(folder))
        out[b] = _load(str(folder), sha)
    return RunResults(info, out)


# --- ranking ----------------------------------------------------------------------------------------------
def size_bands_of(ws: Workspace, period: str, ids: list[str]) -> pd.Series:
    """Institution id → its size band (module doc); missing where it has no size."""
    from ..analysis.peers import size_bands
    from .sizes import sampling_sizes

    sizes = sampling_sizes(ws, str(period))
    s = sizes[sizes["attribute"] == SIZE_ATTRIBUTE].drop_duplicates("entity_id", keep="first").set_index("entity_id")["value"]
    s = s[s.index.isin(ids)].astype(float)
    out = pd.Series(pd.NA, index=pd.Index(ids, dtype=object), dtype="string")
    if len(s) >= len(SIZE_BANDS):  # equal counts by rank: ties and few distinct values still give three bands
        out.loc[s.index] = size_bands(s.rank(method="first"), SIZE_BANDS).to_numpy()
    return out


def _province_codes(values: list[Any]) -> list[str | None]:
    """Each value's province code (a code of any length or a name), resolved once per distinct value."""
    from ..geo import resolve_many

    known = [v for v in dict.fromkeys(values) if isinstance(v, str | int) and str(v) != ""]
    mapping, _ = resolve_many(known, in_scope_only=False) if known else ({}, [])
    return [mapping.get(v) if isinstance(v, str | int) else None for v in values]


def _province_code(value: Any) -> str | None:
    return _province_codes([value])[0]


def register_names(ws: Workspace, ids: list[str], lang: str) -> dict[str, str]:
    """Institutions' names in ``lang`` from the register (those it has): a run scored with Chinese names still
    reads in English."""
    from ..store import institutions_frame

    with ws.sessions() as s:
        reg = institutions_frame(s, ids=ids).set_index("id")
    col = reg[f"name_{lang}"] if f"name_{lang}" in reg.columns else reg["name_zh"]
    return col[col.notna() & (col.astype(str) != "")].astype(str).to_dict()


def _names(ws: Workspace, table: pd.DataFrame, lang: str) -> list[str]:
    named = register_names(ws, table["uCode"].astype(str).tolist(), lang)
    return [named.get(str(u), str(n)) for u, n in zip(table["uCode"], table["name"], strict=True)]


def _units(ws: Workspace, rr: RunResults, block: str, lang: str) -> pd.DataFrame | None:
    """The ``units`` a report of block J is built with: the institutions' names in ``lang`` from the register."""
    if block != "J":
        return None
    ids = [str(u) for u in rr.results["J"].final.index.get_level_values(0)]
    names = register_names(ws, ids, lang)
    return pd.DataFrame({"name": pd.Series(names, dtype=object)}).rename_axis("uCode") if names else None


def _named(result, units: pd.DataFrame | None):
    """``result`` (a copy) with its units' names from ``units`` (the register's, in the report's language)."""
    if units is None:
        return result
    out = copy.copy(result)
    out.names = units["name"] if result.names is None else units["name"].combine_first(result.names)
    if isinstance(result.units, pd.DataFrame) and "name" in result.units.columns:  # the store's names win in unit_info
        out.units = result.units.assign(name=units["name"].reindex(result.units.index).fillna(result.units["name"]))
    return out


def ranking(ws: Workspace, run_id: int, *, block: str = "J", sector: str | None = None, province: str | None = None,
            size_band: str | None = None, lang: str = "zh") -> pd.DataFrame:
    """One row per unit of ``block``, best first: ``rank``, ``entity``, ``name``, ``sector``, ``province``
    (code), ``province_name``, ``size_band``, ``score``, ``rank_in_sector``, and the headline (level-1) scores
    as ``scores`` (code → score); filtered by sector, province (code or name) and size band."""
    from ..geo import provinces
    from ..report import tables as tb

    rr = run_results(ws, run_id)
    v = tb.view(rr.block(block))
    table = tb.ranking_table(v)
    heads = [c for c in tb.headline_codes(v.tree) if c in v.scores.columns]
    ids = table["uCode"].astype(str).tolist()
    prov = provinces(include_out_of_scope=True).set_index("code")[f"name_{'zh' if lang == 'zh' else 'en'}"]
    sector_col = table["sector"] if "sector" in table.columns else pd.Series([None] * len(table))
    region_col = table["region_code"] if "region_code" in table.columns else pd.Series([None] * len(table))
    codes = _province_codes(region_col.tolist())
    out = pd.DataFrame({
        "rank": table["rank"].astype(float), "entity": ids, "name": _names(ws, table, lang) if block == "J" else table["name"].astype(str),
        "sector": [None if pd.isna(x) else str(x) for x in sector_col], "province": codes,
        "province_name": [prov.get(c) if c else None for c in codes],
        "size_band": size_bands_of(ws, rr.period, ids).reindex(ids).to_numpy() if block == "J" else pd.NA,
        "score": table["total"].astype(float),
    })
    sr = v.group_ranks("sector")
    out["rank_in_sector"] = (sr[v.top].reindex(ids).astype(float).to_numpy() if sr is not None
                             else np.full(len(ids), np.nan))
    out["scores"] = [{c: (None if pd.isna(x) else float(x)) for c, x in zip(heads, row, strict=True)}
                     for row in table[heads].itertuples(index=False, name=None)]
    return filter_ranking(out, sector=sector, province=province, size_band=size_band)


def filter_ranking(out: pd.DataFrame, *, sector: str | None = None, province: str | None = None,
                   size_band: str | None = None) -> pd.DataFrame:
    """The rows of a :func:`ranking` of one sector, province (code or name) and size band."""
    keep = pd.Series(True, index=out.index)
    if sector:
        keep &= out["sector"] == sector
    if province:
        code = _province_code(province)
        if code is None:
            raise DataError(f"{province!r} is not a province (give its code, e.g. 44, or its name)",
                            rule="results.province", field="province")
        keep &= out["province"] == code
    if size_band:
        if size_band not in SIZE_BANDS:
            raise DataError(f"size band {size_band!r} is not one of {', '.join(SIZE_BANDS)}", rule="results.size_band",
                            field="size_band")
        keep &= out["size_band"].astype(object) == size_band
    return out[keep.to_numpy()].reset_index(drop=True)


def filter_choices(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """The values the ranking's filters can take (sectors, provinces with their names, size bands)."""
    provs = frame.dropna(subset=["province"]).drop_duplicates("province").sort_values("province")
    return {"sector": sorted(frame["sector"].dropna().unique().tolist()),
            "province": list(zip(provs["province"], provs["province_name"], strict=True)),
            "size_band": [b for b in SIZE_BANDS if (frame["size_band"].astype(object) == b).any()]}


# --- anonymised peers -------------------------------------------------------------------------------------
def distribution(scores: pd.Series | np.ndarray, *, own: float | None = None) -> dict[str, Any]:
    """Quartiles, mean and a histogram (:data:`HISTOGRAM_EDGES`) of ``scores``, no names; ``shown`` False (and
    no figures) for fewer than :data:`MIN_PEERS` scores. ``own``: where that score falls (its percentile: the
    share of the group scoring at most as much)."""
    x = np.asarray(pd.to_numeric(pd.Series(scores), errors="coerce").dropna(), dtype=float)
    out: dict[str, Any] = {"n": int(len(x)), "shown": len(x) >= MIN_PEERS, "min_peers": MIN_PEERS}
    if not out["shown"]:
        return out
    q1, med, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
    inside = x.min() >= HISTOGRAM_EDGES[0] and x.max() <= HISTOGRAM_EDGES[-1]
    edges = np.asarray(HISTOGRAM_EDGES) if inside else np.histogram_bin_edges(x, bins=len(HISTOGRAM_EDGES) - 1)
    counts, _ = np.histogram(x, bins=edges)
    out.update({"q1": q1, "median": med, "q3": q3, "mean": float(x.mean()),
                "histogram": [{"from": float(lo), "to": float(hi), "count": int(c)}
                              for lo, hi, c in zip(edges, edges[1:], counts, strict=False)]})
    if own is not None and not np.isnan(own):
        out["own_percentile"] = float((x <= own).mean())
    return out


def peers(ws: Workspace, run_id: int, entity: str, *, lang: str = "zh") -> dict[str, Any]:
    """What an institution sees of its peers when the publisher chose the anonymised distribution: its own
    score and rank, and the distributions of all institutions and of its sector (module doc)."""
    frame = ranking(ws, run_id, lang=lang)
    me = frame[frame["entity"] == entity]
    if me.empty:
        raise DataError(f"{entity} has no score in run {run_id}", rule="results.entity", entity=entity)
    row = me.iloc[0]
    own = float(row["score"]) if pd.notna(row["score"]) else None
    sector = frame[frame["sector"] == row["sector"]]
    return {"entity": entity, "name": row["name"], "sector": row["sector"], "score": own,
            "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
            "rank_in_sector": None if pd.isna(row["rank_in_sector"]) else int(row["rank_in_sector"]),
            "overall": distribution(frame["score"], own=own), "in_sector": distribution(sector["score"], own=own)}


# --- one entity -------------------------------------------------------------------------------------------
def scorecard(ws: Workspace, run_id: int, entity: str, *, block: str = "J", lang: str = "zh") -> dict[str, Any]:
    """One unit's scorecard as data (what the CLI's scorecard report shows): total score and rank, its rank in
    each group, every aggregate's (level-1, level-2 …) score, rank and median, its strengths and weaknesses."""
    from ..report import tables as tb
    from ..report.kinds import report_view

    rr = run_results(ws, run_id)
    res, v = report_view(rr.block(block), lang)
    if entity not in v.scores.index:
        raise DataError(f"{entity} has no score in run {run_id}", rule="results.entity", entity=entity)
    top = v.top
    names = tb.node_names(v.tree)
    levels = dict(zip(v.tree.meta["code"].astype(str), v.tree.meta["level"].astype(int), strict=True))

    def num(x: Any) -> float | None:
        return None if pd.isna(x) else float(x)

    groups = {}
    for g in v.groups:
        gr = v.group_ranks(g)
        if gr is not None and entity in gr.index:
            gv = v.group_of(entity, g)
            groups[g] = {"group": None if pd.isna(gv) else str(gv), "rank": num(gr.at[entity, top]),
                         "of": int(v.scores.loc[v.group_members(g, gv), top].notna().sum())}
    aggs = [c for c in tb.tree_order(v.tree) if 1 < levels.get(c, 0) < levels[top] and c in v.scores.columns]
    best, worst = tb.strengths_weaknesses(v, entity)

    def sw(df: pd.DataFrame) -> list[dict[str, Any]]:
        return [{"code": r.iCode, "name": r.name, "parent": r.parent, "rank": num(r.rank), "of": int(r.n),
                 "raw": num(r.raw) if isinstance(r.raw, (int, float, np.number)) else None, "score": num(r.score),
                 "imputed": bool(r.imputed)} for r in df.itertuples()]

    return {
        "run": run_id, "block": block, "entity": entity, "name": str(v.info.at[entity, "name"]),
        "groups": {g: (None if pd.isna(v.group_of(entity, g)) else str(v.group_of(entity, g))) for g in v.groups},
        "score": num(v.scores.at[entity, top]), "rank": num(v.ranks.at[entity, top]),
        "of": int(v.scores[top].notna().sum()), "group_ranks": groups,
        "aggregates": [{"code": c, "name": names.get(c, c), "level": levels[c], "score": num(v.scores.at[entity, c]),
                        "rank": num(v.ranks.at[entity, c]), "of": int(v.scores[c].notna().sum()),
                        "median": num(v.scores[c].median())} for c in aggs],
        "strengths": sw(best), "weaknesses": sw(worst),
    }


# --- reports built for the dashboards ---------------------------------------------------------------------
def map_block(rr: RunResults, block: str | None = None) -> str:
    """The block a province map shows: ``block`` if given, else Q (regions) when the run has it, else J
    (institutions aggregated by province)."""
    if block is not None:
        rr.block(block)
        return block
    return "Q" if "Q" in rr.results else "J"


def run_report(ws: Workspace, run_id: int, kind: str, *, block: str | None = None, entity: str | None = None,
               lang: str = "zh"):
    """A report of the run as :func:`fintech_eval.report.build_report` builds it for ``fintech-eval report``:
    ``scorecard`` (J, ``entity``), ``ranking``, ``region`` (the province map: Q, else J aggregated by
    province) or ``industry`` (H, ``entity`` = a sector, with the run's J institutions and the Plan tasks)."""
    from ..report import build_report

    rr = run_results(ws, run_id)
    b = map_block(rr, block) if kind == "region" else "H" if kind == "industry" else block or "J"
    kw: dict[str, Any] = {"units": _units(ws, rr, b, lang)}
    if kind == "industry" and "J" in rr.results:
        kw["institutions"] = _named(rr.results["J"], _units(ws, rr, "J", lang))
    return build_report(rr.block(b), kind, entity=entity, lang=lang, **kw)


def province_values(ws: Workspace, run_id: int, *, block: str | None = None, lang: str = "zh") -> dict[str, Any]:
    """The province map's data: per province code its value (Q: the region's score; J: the mean of its
    institutions, with their count; a province with fewer than the region report's ``min_n`` (3) is shown but
    not ranked), rank and name, from the region report."""
    from ..geo import provinces

    rr = run_results(ws, run_id)
    b = map_block(rr, block)
    rep = run_report(ws, run_id, "region", block=b, lang=lang)
    names = provinces(include_out_of_scope=True).set_index("code")[f"name_{'zh' if lang == 'zh' else 'en'}"]
    counts = rep.meta["counts"]
    return {"block": b, "mode": rep.meta["mode"], "column": rep.meta["column"],
            "provinces": [{"code": c, "name": names.get(c, c), "value": None if pd.isna(x) else float(x),
                           "rank": rep.meta["ranks"].get(c), "institutions": counts.get(c)}
                          for c, x in rep.meta["values"].items()],
            "unresolved": rep.meta["unresolved"]}


def industries(ws: Workspace, run_id: int) -> list[str]:
    """The sectors the run's block H scored (the industry view's choices)."""
    rr = run_results(ws, run_id)
    return [str(u) for u in rr.results["H"].final.index] if "H" in rr.results else []


def plan_progress(ws: Workspace, run_id: int, sector: str, *, lang: str = "zh") -> list[dict[str, Any]]:
    """Per task of the FinTech Development Plan (2019-2021): its linked indicators, those with data and their
    mean normalised score for ``sector`` (its H values and its institutions' J values), as the industry report."""
    from ..report.industry import plan_task_table, sector_institutions
    from ..report.kinds import report_context

    rr = run_results(ws, run_id)
    ctx = report_context(rr.block("H"), lang, entity=sector, institutions=rr.results.get("J"))
    tasks = plan_task_table(ctx, ctx.entity, sector_institutions(ctx, ctx.entity))
    return [{k: (None if isinstance(x, float) and np.isnan(x) else x) for k, x in r.items()}
            for r in tasks.to_dict(orient="records")]


# --- downloads ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportFile:
    """A file of the run a reader can download: a report the CLI renders (``kind``, ``entity``) or a table of
    the result folder (``kind`` = ``table``)."""

    name: str
    block: str
    kind: str
    fmt: str
    lang: str | None = None
    entity: str | None = None


def report_files(ws: Workspace, run_id: int, *, lang: str = "zh", scorecards: bool = True) -> list[ReportFile]:
    """Every report ``fintech-eval report`` makes of the run's results (ranking; region where the units map to
    provinces; each sector's industry report; each unit's scorecard with ``scorecards``) in html, pdf and xlsx,
    named as the CLI names them, and the result folders' CSV tables."""
    from ..report import tables as tb
    from ..report.batch import report_name, result_tag
    from ..report.kinds import region_map

    rr = run_results(ws, run_id)
    out: list[ReportFile] = []
    for b, res in rr.results.items():
        tag = result_tag(res)
        kinds: list[tuple[str, str | None]] = [("ranking", None)]
        try:
            region_map(tb.view(res))
            kinds.append(("region", None))
        except DataError:
            pass
        if b == "H":
            kinds += [("industry", str(u)) for u in res.final.index]
        if scorecards:
            kinds += [("scorecard", str(u)) for u in tb.ranking_table(tb.view(res))["uCode"]]
        for kind, ent in kinds:
            out += [ReportFile(report_name(tag, kind, ent, lang, f), b, kind, f, lang, ent) for f in FORMATS]
        out += [ReportFile(f"{b}-{rr.period}_{p.name}", b, "table", "csv") for p in sorted(rr.folder(b).glob("*.csv"))]
    return out


def report_file(ws: Workspace, run_id: int, name: str) -> Path:
    """The file ``name`` of :func:`report_files`, rendered on first request into ``<run folder>/reports/web``
    (a published run's results never change, so a rendered report is kept)."""
    from ..report import write

    lang = next((lg for lg in ("zh", "en") if f".{lg}." in name), "zh")
    found = next((f for f in report_files(ws, run_id, lang=lang) if f.name == name), None)
    if found is None:
        raise DataError(f"run {run_id} has no file {name!r}", rule="results.file", field="name")
    rr = run_results(ws, run_id)
    if found.kind == "table":
        return rr.folder(found.block) / name.split("_", 1)[1]
    target = Path(rr.info["out_dir"]) / "reports" / "web" / name
    if not target.is_file():
        rep = run_report(ws, run_id, found.kind, block=found.block, entity=found.entity, lang=lang)
        tmp = target.with_name(f".part-{uuid.uuid4().hex}-{target.name}")  # same extension: the writers go by it
        write(rep, found.fmt, tmp)
        tmp.replace(target)
    return target
