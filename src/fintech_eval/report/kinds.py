"""The report kinds, registered by name: each builds a :class:`~fintech_eval.report.document.Report` (one
language, any format) from a result. Adding a kind is writing one function and decorating it::

    @REPORT_KINDS.register("industry", needs_entity=False)
    def industry(ctx: Context) -> Report: ...

* ``scorecard``: one entity: total and level-1 scores with ranks overall and within its group, radar
  against the group median, score distributions, strengths and weaknesses (COINr's ``get_str_weak``),
  year-on-year change for a panel, rank interval when the result has one (a sentence and a key figure), the
  improvement plan and each indicator's gain when given (``plan``, ``gains``), data completeness over the
  indicators that apply to it (imputed, missing, left out by a step, not applicable with the rule), and notes
  (the run's warnings that concern its groups or indicators, and why a reported indicator has no score);
* ``ranking``: the overall ranking, charts of the leaders (and of their rank intervals when the result has an
  uncertainty analysis) and of the score distributions, group comparisons, data availability;
* ``region``: results by province on a China choropleth, for results whose units are provinces (or
  institutions with a province group column), every unresolved name reported;
* ``industry`` (:mod:`.industry`): one sector of a JR/T 0201 block-H result, with the sector's institutions
  from the block-J result (``institutions=``) and the Plan-task view;
* ``method``: the method appendix alone (written once beside a batch of scorecards that point to it);
* ``vendor`` (:mod:`.vendor`): a capability rating (``input="rating"``: built from ``rate_both(...)``, not
  from a result), both models side by side.

Every report ends with the method appendix (:func:`appendix`): framework, spec, weights, treatment and
imputation logs, other stage records, data sources, software version, so a reader can reproduce it.
"""

from __future__ import annotations

import copy
import datetime as dt
import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..engine.result import Result, with_unit_column
from ..errors import DataError
from ..geo import provinces, resolve_many
from ..registry import Registry
from . import tables as tb
from .document import Chart, Code, Figures, KeyFigure, Paragraph, Report, Section, Table
from .i18n import LANGS, fmt_int, fmt_number, fmt_pct, fmt_rank, fmt_signed, label_or, t
from .localise import (
    entity_notes,
    evaluation_name,
    group_label,
    group_value,
    localise_impute_log,
    localise_values,
    localised_tree,
    warning_note,
)

REPORT_KINDS = Registry("report kind")


@dataclass
class Context:
    """What a kind builds from: the result, one period of it (:class:`tables.View`), the language."""

    result: Result
    view: tb.View
    lang: str
    entity: str | None = None
    level: int | None = None
    generated: str = ""
    institutions: Result | None = None  # the block-J result of the same period (industry report)
    min_n: int = 3  # region report: provinces with fewer institutions are shown, flagged and not ranked
    intervals: pd.DataFrame | None = None  # the rank intervals of an uncertainty analysis of this result
    plan: Any = None  # scorecard: the entity's improvement plan (analysis.plan_improvement), shown when given
    gains: pd.DataFrame | None = None  # scorecard: its marginal gains (analysis.marginal_gains)

    def t(self, key: str, **kw: Any) -> str:
        return t(key, self.lang, **kw)

    @property
    def tree(self):
        return self.result.tree

    @cached_property
    def levels(self) -> dict[str, int]:
        """Node code → tree level (one lookup table: ``Tree.level_of`` filters the whole tree per call)."""
        return {str(c): int(lv) for c, lv in zip(self.tree.meta["code"], self.tree.meta["level"], strict=True)}

    @cached_property
    def names(self) -> dict[str, str]:
        return tb.node_names(self.tree)

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def short(self, code: str, n: int = 22) -> str:
        """A node's name cut to ``n`` characters, with its code when another node's name cuts to the same text
        (charts key their axes by label: two equal labels would become one axis)."""
        text = _short(self.name(code), n)
        clash = any(_short(name, n) == text for c, name in self.names.items() if c != code)
        return f"{text} ({code})" if clash else text

    @cached_property
    def rank_intervals(self) -> pd.DataFrame | None:
        """Per unit: rank, low, high, median, level of its rank interval (:func:`tables.rank_intervals`)."""
        return tb.rank_intervals(self.view, self.intervals)

    def interval_of(self, unit: str) -> pd.Series | None:
        iv = self.rank_intervals
        return iv.loc[unit] if iv is not None and unit in iv.index else None

    def pct(self, level: float) -> str:
        """``0.9`` → ``90%`` (the share of plausible choices an interval holds)."""
        return f"{float(level) * 100:g}%"

    def heads(self) -> list[str]:
        return [c for c in tb.headline_codes(self.tree, self.level) if c in self.view.scores.columns]

    @property
    def evaluation(self) -> str:
        """The evaluation's name in the report's language (see :func:`localise.evaluation_name`)."""
        return evaluation_name(self.result.spec.name, self.tree, self.lang)

    def group_label(self, column: str) -> str:
        """A group column's name in the report's language (``sector`` → 行业 / Sector)."""
        return group_label(column, self.lang)

    def group_value(self, column: str, value: Any) -> str:
        """A group's name in the report's language (``bank`` → 银行业 / Banking, ``44`` → 广东省 / Guangdong)."""
        return group_value(column, value, self.lang)

    def group_of(self, column: str, value: Any) -> str:
        """``行业：银行业`` / ``Sector: Banking``."""
        return self.t("group_is", group=self.group_label(column), value=self.group_value(column, value))


def build_report(
    result: Result,
    kind: str,
    *,
    entity: str | None = None,
    lang: str = "zh",
    period: Any = None,
    units: pd.DataFrame | None = None,
    level: int | None = None,
    generated: str | None = None,
    institutions: Result | None = None,
    min_n: int = 3,
    appendix_file: str | None = None,
    intervals: pd.DataFrame | None = None,
    plan: Any = None,
    gains: pd.DataFrame | None = None,
) -> Report:
    """Build report ``kind`` of ``result`` in ``lang`` (``zh`` or ``en``).

    ``entity`` (code or name) is required by ``scorecard``; ``period`` picks a panel's period (default the
    latest); ``units`` gives unit names and groups (index uCode) when the result does not carry them;
    ``level`` the tree level of the radar and summary columns (default: the first below the top with at
    least three nodes); ``generated`` the date printed (default today); ``institutions`` the block-J result
    of the same period (``industry``: the distribution and leaders of the sector's institutions); ``min_n`` the
    fewest institutions a province needs to be ranked in the ``region`` report of institutions (fewer: shown,
    flagged and left unranked; a mean of one or two institutions is no province's score); ``appendix_file``
    the name of a method appendix written once beside a batch of reports (kind ``method``): the report then
    ends with a pointer to it and the scores' SHA-256 instead of its own copy; ``intervals`` the rank intervals
    of an uncertainty analysis of this result (:func:`fintech_eval.analysis.load_rank_intervals`), shown in the
    scorecard and the ranking (a :class:`DataError` when they were computed for other ranks); ``plan`` and
    ``gains`` the scorecard entity's improvement plan and marginal gains (:func:`fintech_eval.analysis.
    plan_improvement`, :func:`~fintech_eval.analysis.marginal_gains`), shown in its section "improvement plan".

    Kinds registered with ``input="rating"`` (``vendor``) take a capability rating instead of a result: one
    :class:`~fintech_eval.capability.Rating`, a list of them or ``rate_both(...)``'s dict.
    """
    if lang not in LANGS:
        raise DataError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}", rule="report.lang")
    entry = REPORT_KINDS.entry(kind)
    if entry.meta.get("input", "result") != "result":
        return entry.func(result, lang=lang, generated=generated or dt.date.today().isoformat())
    if not isinstance(result, Result):
        raise DataError(f"report kind {kind!r} needs an evaluation result, got {type(result).__name__}", rule="report.input")
    source = result
    result, v = _prepared(result, lang, period, units)
    institutions = _localised(institutions, lang) if isinstance(institutions, Result) else institutions
    ent = None
    if entry.meta.get("needs_entity"):
        if not entity:
            raise DataError(f"report kind {kind!r} needs an entity (--entity CODE)", rule="report.entity")
        ent = tb.find_unit(entity, v.info)
        if ent not in v.scores.index:
            raise DataError(f"unit {entity!r} has no scores in period {v.period}", rule="report.entity", unit=entity)
    if min_n < 1:
        raise DataError(f"min_n must be at least 1, got {min_n}", rule="report.min_n")
    ctx = Context(result, v, lang, ent, level, generated or dt.date.today().isoformat(), institutions, min_n, intervals, plan, gains)
    ctx.rank_intervals  # noqa: B018 - intervals of another result fail here, before anything is built
    rep: Report = entry.func(ctx)
    if appendix_file is not None and kind != "method":
        rep.sections.append(Section("appendix", ctx.t("sec.appendix"), appendix=True).add(
            Paragraph(ctx.t("explain.shared_appendix", file=appendix_file)),
            Paragraph(f"{ctx.t('scores_sha256')}{ctx.t('colon')}{result.manifest()['scores_sha256']}", "note")))
    else:
        key = (id(source), lang, ctx.generated, str(v.period))
        cached = _APPENDIX.get(key)
        if cached is None or cached[0]() is not source:
            cached = (weakref.ref(source), appendix(ctx))
            _APPENDIX[key] = cached
        rep.sections += cached[1]
    rep.workbook = workbook_sheets(ctx)
    rep.meta.setdefault("evaluation", result.spec.name)
    rep.meta.setdefault("period", v.period)
    return rep


def report_view(result: Result, lang: str = "zh", period: Any = None) -> tuple[Result, tb.View]:
    """The result with its names in ``lang`` and its view of one period, as every report reads it (the web's
    dashboards read the same)."""
    return _prepared(result, lang, period, None)


def report_context(result: Result, lang: str = "zh", *, entity: str | None = None,
                   institutions: Result | None = None) -> Context:
    """The :class:`Context` a report kind builds from (``entity`` resolved by code or name), for callers that
    want one of a report's tables without the whole report (the web's Plan-task progress)."""
    loc, v = _prepared(result, lang, None, None)
    ent = tb.find_unit(entity, v.info) if entity is not None else None
    inst = _localised(institutions, lang) if isinstance(institutions, Result) else None
    return Context(loc, v, lang, ent, None, dt.date.today().isoformat(), inst)


# --- helpers ----------------------------------------------------------------------------------------------


_PREPARED: dict[tuple, tuple] = {}
_APPENDIX: dict[tuple, tuple] = {}


def _prepared(result: Result, lang: str, period: Any, units: pd.DataFrame | None) -> tuple[Result, tb.View]:
    """The result with localised names and its view for one period, made once per result, language and period
    (a batch of scorecards builds them from the same result: each would otherwise redo the same work)."""
    key = (id(result), lang, str(period))
    hit = _PREPARED.get(key) if units is None else None
    if hit is not None and hit[0]() is result:
        return hit[1], hit[2]
    loc = _localised(result, lang)
    v = tb.view(loc, period, units)
    _province_names(v, lang)
    _sector_names(v, lang)
    if units is None:
        if len(_PREPARED) > 16:
            _PREPARED.clear()
            _APPENDIX.clear()
        _PREPARED[key] = (weakref.ref(result), loc, v)
    return loc, v


def _localised(result: Result, lang: str) -> Result:
    """The result with its tree's names in ``lang`` (from its framework); the same data, ranks and records."""
    out = copy.copy(result)
    out.tree = localised_tree(result.tree, lang)
    return out


def _sector_names(v: tb.View, lang: str) -> None:
    """Units that are sectors (block H: bank, securities, …) named in the report's language."""
    from .i18n import has

    names = v.info["name"].astype(object).copy()
    changed = False
    for u in v.info.index:
        if has(f"sector.{u}"):
            names[u] = t(f"sector.{u}", lang)
            changed = True
    if changed:
        v.info = v.info.assign(name=names)


def _province_names(v: tb.View, lang: str) -> None:
    """Units named only by a code that is a province code (110000, 44), or by the province's name in the other
    language (the register's 北京市 in an English report), get the province's name in ``lang``."""
    other = provinces(include_out_of_scope=True)["name_en" if lang == "zh" else "name_zh"]
    bare = [u for u in v.info.index if str(v.info.at[u, "name"]) in (str(u), *other)]
    if not bare:
        return
    mapping, _ = resolve_many(bare, in_scope_only=False)
    if not mapping:
        return
    table = provinces(include_out_of_scope=True).set_index("code")["name_zh" if lang == "zh" else "name_en"]
    names = v.info["name"].astype(object).copy()
    for u, code in mapping.items():
        names[u] = table.get(code, u)
    v.info = v.info.assign(name=names)


def _subtitle(ctx: Context) -> str:
    from .. import __version__

    s = ctx.t("subtitle", name=ctx.evaluation, date=ctx.generated, version=__version__)
    if ctx.view.period is not None:
        s += ctx.t("sep") + ctx.t("period_label", period=ctx.view.period)
    return s


def _table(ctx: Context, title: str, df: pd.DataFrame, cols: list[tuple[str, str, str]], key: str, **kw: Any) -> Table:
    """A :class:`Table` of ``df``'s columns ``(internal name, label key or text, kind)``, headers localised."""
    present = [(c, lab, k) for c, lab, k in cols if c in df.columns]
    headers = [label_or(lab, ctx.lang, lab) for _, lab, _ in present]
    seen: set[str] = set()
    for i, (h, (c, _, _)) in enumerate(zip(list(headers), present, strict=True)):
        if h in seen:  # two long names cut to the same text: say which column is which
            headers[i] = f"{h} ({c})"
        seen.add(headers[i])
    frame = df[[c for c, _, _ in present]].copy()
    frame.columns = headers
    return Table(title=title, frame=frame.reset_index(drop=True), kinds=dict(zip(headers, [k for _, _, k in present], strict=True)), key=key, **kw)


def ctx_values(ctx: Context, column: str, values: pd.Series) -> pd.Series:
    """A column of group values named in the report's language."""
    from .localise import group_values

    return group_values(column, values, ctx.lang)


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _median(values: pd.Series | pd.DataFrame) -> Any:
    return values.median(skipna=True)


def trend_section(ctx: Context, trend: pd.DataFrame, heads: list[str], *, title: str = "sec.trend",
                  count: bool = True) -> Section:
    """The unit over a panel's periods (``trend``: :func:`tables.trend_table` of the top and ``heads``): total,
    change, rank (and, with ``count``, how many were ranked) and ``heads``, as a table and a chart; a note when
    there is one period or none. ``title`` is the section's label key."""
    top = ctx.view.top
    sec = Section("trend", ctx.t(title))
    if len(trend) <= 1:
        return sec.add(Paragraph(ctx.t("explain.no_panel"), "note"))
    trend = trend.copy()
    trend["change"] = trend[top].diff()
    return sec.add(
        _table(ctx, ctx.t(title), trend,
               [("period", "col.period", "text"), (top, ctx.t("total_score"), "score"), ("change", "col.change", "signed"),
                ("rank", "col.rank", "rank"), *([("n", "col.of", "int")] if count else []),
                *[(c, ctx.short(c, 20), "score") for c in heads]], key="trend"),
        Chart("trend", ctx.t(title), {
            "x": trend["period"].tolist(),
            "series": [{"name": ctx.t("total_score"), "values": trend[top].tolist()},
                       *[{"name": ctx.short(c, 20), "values": trend[c].tolist()} for c in heads]],
            "x_label": ctx.t("chart.period"), "y_label": ctx.t("chart.score"),
        }, key="trend"),
    )


# --- scorecard --------------------------------------------------------------------------------------------


@REPORT_KINDS.register("scorecard", needs_entity=True)
def scorecard(ctx: Context) -> Report:
    v, u, top = ctx.view, ctx.entity, ctx.view.top
    assert u is not None
    uname = str(v.info.at[u, "name"])
    who = uname if uname == u else f"{uname} ({u})"
    total = float(v.scores.at[u, top])
    rank_now = v.ranks.at[u, top]
    n = int(v.scores[top].notna().sum())
    # the group the unit is compared with: the first group column it has a value in
    group, gval, granks = None, None, None
    for g in v.groups:
        val = v.group_of(u, g)
        if val is not None and not (isinstance(val, float) and np.isnan(val)):
            group, gval, granks = g, val, v.group_ranks(g)
            break
    members = v.group_members(group, gval) if group else pd.Index([])
    ref_scores = v.scores.loc[members] if len(members) else v.scores
    ref_name = ctx.t("group_median_of", group=ctx.group_value(group, gval)) if len(members) else ctx.t("overall_median")

    # key figures
    items = [
        KeyFigure(ctx.t("total_score"), fmt_number(total, ctx.lang), key="total_score"),
        KeyFigure(ctx.t("overall_rank"), fmt_rank(rank_now, n, ctx.lang), key="overall_rank"),
    ]
    for g in v.groups:
        gv = v.group_of(u, g)
        gr = v.group_ranks(g)
        if gr is not None and u in gr.index and pd.notna(gr.at[u, top]):
            gn = len(v.group_members(g, gv)) if g in v.info.columns else None
            items.append(
                KeyFigure(ctx.t("group_rank", group=ctx.group_label(g) if gv is None else ctx.group_of(g, gv)),
                          fmt_rank(gr.at[u, top], gn, ctx.lang) if gn else fmt_int(gr.at[u, top]), key=f"group_rank:{g}")
            )
    interval = ctx.interval_of(u)
    if interval is not None:
        pct = ctx.pct(interval["level"])
        items.append(KeyFigure(ctx.t("rank_interval", pct=pct), f"{fmt_int(interval['low'])}–{fmt_int(interval['high'])}",
                               key="rank_interval"))
    trend = tb.trend_table(ctx.result, u, [top, *ctx.heads()]) if tb.is_panel(ctx.result) else pd.DataFrame()
    if len(trend) > 1:
        cur = trend.index[trend["period"] == v.period]
        if len(cur) and cur[0] > 0:
            delta = trend.at[cur[0], top] - trend.at[cur[0] - 1, top]
            items.append(KeyFigure(ctx.t("change_prev"), fmt_signed(delta, ctx.lang), key="change_prev"))
    status = tb.unit_data_status(v, u)
    counts = status["status"].value_counts()
    n_app = int(len(status) - counts.get("not_applicable", 0))
    coverage = tb.coverage_of(status)
    items.append(KeyFigure(ctx.t("data_coverage"), fmt_pct(coverage, ctx.lang), key="data_coverage",
                           note=ctx.t("coverage_note", present=fmt_int(counts.get("present", 0) + counts.get("dropped", 0)), n=fmt_int(n_app))))
    items.append(KeyFigure(ctx.t("imputed_cells"), fmt_int(int(counts.get("imputed", 0))), key="imputed_cells"))
    summary = Section("summary", ctx.t("sec.summary")).add(Figures(items), Paragraph(ctx.t("explain.scores")))
    if interval is not None:
        summary.add(Paragraph(ctx.t("interval_sentence", rank=fmt_int(interval["rank"]), pct=pct, lo=fmt_int(interval["low"]),
                                    hi=fmt_int(interval["high"])) + ctx.t("full_stop")),
                    Paragraph(ctx.t("explain.interval", pct=pct), "note"))

    # every aggregate's score and ranks
    aggs = [c for c in tb.tree_order(ctx.tree) if ctx.levels[c] > 1 and c in v.scores.columns]
    rows = pd.DataFrame(
        {
            "code": aggs,
            "name": [ctx.name(c) for c in aggs],
            "level": [ctx.levels[c] for c in aggs],
            "score": [v.scores.at[u, c] for c in aggs],
            "rank": [v.ranks.at[u, c] for c in aggs],
            "of": [int(v.scores[c].notna().sum()) for c in aggs],
            "median": [_median(v.scores[c]) for c in aggs],
        }
    )
    if granks is not None:
        rows["group_rank"] = [granks.at[u, c] if u in granks.index else np.nan for c in aggs]
    if len(members):
        rows["group_median"] = [_median(ref_scores[c]) for c in aggs]
    rows["diff"] = rows["score"] - rows["median"]
    scores_sec = Section("scores", ctx.t("sec.scores")).add(
        _table(
            ctx, ctx.t("sec.scores"), rows,
            [("code", "col.code", "text"), ("name", "col.name", "text"), ("level", "col.level", "int"),
             ("score", "col.score", "score"), ("rank", "col.rank", "rank"), ("of", "col.of", "int"),
             ("group_rank", "col.group_rank", "rank"), ("median", "col.median", "score"),
             ("group_median", "col.group_median", "score"), ("diff", "col.diff_median", "signed")],
            key="scores", highlight=[0],
        )
    )

    heads = ctx.heads()
    axes = [ctx.short(c, 24) for c in heads]
    series = [{"name": who, "values": [v.scores.at[u, c] for c in heads]},
              {"name": ref_name, "values": [_median(ref_scores[c]) for c in heads]}]
    if len(members):
        series.append({"name": ctx.t("overall_median"), "values": [_median(v.scores[c]) for c in heads]})
    lo = float(np.nanmin(v.scores[heads].to_numpy(float))) if heads else 0.0
    hi = float(np.nanmax(v.scores[heads].to_numpy(float))) if heads else 1.0
    rng = [min(0.0, lo), max(100.0, hi)] if lo >= 0 and hi <= 100 else [lo, hi]
    radar = Section("radar", ctx.t("sec.radar", ref=ref_name)).add(
        Chart("radar", ctx.t("sec.radar", ref=ref_name), {"axes": axes, "series": series, "range": rng}, key="radar", height=460),
        Paragraph(ctx.t("explain.radar", ref=ref_name), "note"),
    )
    if not len(members) and v.groups == [] and ctx.result.group_ranks:
        radar.add(Paragraph(ctx.t("explain.group_unknown"), "note"))
    dist = Section("distribution", ctx.t("sec.distribution")).add(
        Chart("dist", ctx.t("sec.distribution"), {
            "groups": [{"label": ctx.short(c, 18), "values": v.scores[c].tolist()} for c in [top, *heads]],
            "marker": {"name": who, "values": [v.scores.at[u, c] for c in [top, *heads]]},
            "value_label": ctx.t("chart.score"),
        }, key="distribution", height=420)
    )

    best, worst = tb.strengths_weaknesses(v, u)
    sw_cols = [("iCode", "col.code", "text"), ("name", "col.indicator", "text"), ("parent", "col.parent", "text"),
               ("rank", "col.rank", "rank"), ("n", "col.of", "int"), ("raw", "col.raw_value", "auto"),
               ("score", "col.score", "score"), ("flag", "col.flag", "text")]
    for frame in (best, worst):
        frame["flag"] = np.where(frame["imputed"], ctx.t("flag.imputed"), "")
    sw = Section("strengths", ctx.t("sec.strengths")).add(
        Paragraph(ctx.t("explain.strengths", n=5), "note"),
        _table(ctx, ctx.t("strength"), best, sw_cols, key="strengths"),
        _table(ctx, ctx.t("weakness"), worst, sw_cols, key="weaknesses"),
    )

    trend_sec = trend_section(ctx, trend, heads)

    gaps_sec = gaps_section(ctx, status)
    notes_sec = notes_section(ctx, u, v.groups, status.loc[status["status"] != "not_applicable", "iCode"].tolist(),
                              status.loc[status["status"] == "dropped", "iCode"].tolist())

    return Report(
        kind="scorecard", lang=ctx.lang, title=ctx.t("title.scorecard", entity=who), subtitle=_subtitle(ctx),
        sections=[summary, scores_sec, radar, dist, sw, *plan_sections(ctx, u), trend_sec, gaps_sec, notes_sec],
        meta={"entity": u, "entity_name": uname, "total": total, "rank": None if pd.isna(rank_now) else int(rank_now), "n": n,
              "group": group, "group_value": gval},
    )


def _target_text(ctx: Context, target: Any, unit: str) -> str:
    if target.kind == "score":
        return ctx.t("target.score", x=fmt_number(target.value, ctx.lang))
    if target.kind == "group_rank":
        g = str(target.group)
        return ctx.t("target.group_rank", n=fmt_int(target.value), group=ctx.group_label(g), value=ctx.group_value(g, ctx.view.group_of(unit, g)))
    return ctx.t("target.rank", n=fmt_int(target.value))


def plan_sections(ctx: Context, unit: str) -> list[Section]:
    """The entity's improvement plan (the fewest feasible indicator changes reaching the target, with the new
    score and rank) and what each indicator would add, when the report was given them; nothing otherwise."""
    out: list[Section] = []
    cols = [("iCode", "col.code", "text"), ("name", "col.indicator", "text")]
    p = ctx.plan
    if p is not None:
        if str(p.entity) != str(unit):
            raise DataError(f"the improvement plan is for {p.entity}, not {unit}", rule="report.plan", unit=unit)
        target = _target_text(ctx, p.target, unit)
        sec = Section("plan", ctx.t("sec.plan"))
        if p.changes is not None and len(p.changes):
            ch = p.changes.assign(name=[ctx.name(str(c)) for c in p.changes["iCode"]])
            sec.add(Paragraph(ctx.t("explain.plan", n=len(ch), score=fmt_number(p.new_score, ctx.lang), rank=fmt_int(p.new_rank),
                                    target=target)),
                    _table(ctx, ctx.t("sec.plan"), ch, [*cols, ("from", "col.now", "auto"), ("to", "col.to", "auto"),
                                                        ("bound", "col.bound", "auto"), ("share_of_room", "col.share_of_room", "pct")],
                           key="plan"))
        elif p.reached:
            sec.add(Paragraph(ctx.t("explain.plan_met", target=target)))
        else:
            sec.add(Paragraph(ctx.t("explain.plan_none", k=p.max_changes, target=target), "warn"))
        out.append(sec.add(Paragraph(ctx.t("explain.plan_bounds"), "note")))
    if ctx.gains is not None and len(ctx.gains):
        g = ctx.gains.head(10).assign(name=[ctx.name(str(c)) for c in ctx.gains.head(10)["iCode"]])
        out.append(Section("gains", ctx.t("sec.gains")).add(
            Paragraph(ctx.t("explain.gains"), "note"),
            _table(ctx, ctx.t("sec.gains"), g, [*cols, ("value", "col.now", "auto"), ("bound", "col.bound", "auto"),
                                                ("gain_to_bound", "col.gain_to_bound", "signed"), ("gain_per_unit", "col.gain_per_unit", "float4")],
                   key="gains")))
    return out


def gaps_section(ctx: Context, status: pd.DataFrame) -> Section:
    """What the evaluation had of the unit's data: imputed values (named, with method and source), applicable
    indicators left missing, reported indicators a step left out of the scores, and not-applicable indicators
    with the rule that excludes them. Each sentence appears only when its list is not empty."""
    sec = Section("gaps", ctx.t("sec.gaps"))
    cols = [("iCode", "col.code", "text"), ("name", "col.indicator", "text")]
    imputed = localise_impute_log(status[status["status"] == "imputed"], ctx.lang)
    if len(imputed):
        sec.add(Paragraph(ctx.t("explain.imputed", n=len(imputed))),
                _table(ctx, ctx.t("flag.imputed_title"), imputed,
                       [*cols, ("value", "col.value", "auto"), ("method", "col.method", "text"), ("source", "col.source", "text")],
                       key="imputed"))
    missing = status[status["status"] == "missing"]
    if len(missing):
        sec.add(Paragraph(ctx.t("explain.missing", n=len(missing))), _table(ctx, ctx.t("flag.missing_title"), missing, cols, key="missing"))
    dropped = status[status["status"] == "dropped"]
    if len(dropped):
        sec.add(Paragraph(ctx.t("explain.dropped", n=len(dropped)), "warn"),
                _table(ctx, ctx.t("flag.dropped_title"), dropped, [*cols, ("raw", "col.raw_value", "auto")], key="dropped"))
    na = status[status["status"] == "not_applicable"].copy()
    if len(na):
        na["rule"] = [ctx.t("rule.sectors", sectors="、".join(ctx.group_value("sector", s) for s in secs) if ctx.lang == "zh"
                            else ", ".join(ctx.group_value("sector", s) for s in secs)) if len(secs) else ctx.t("rule.not_applicable")
                      for secs in na["sectors"]]
        sec.add(Paragraph(ctx.t("explain.not_applicable", n=len(na))),
                _table(ctx, ctx.t("flag.na_title"), na, [*cols, ("rule", "col.rule", "text")], key="not_applicable"))
    if not len(imputed) and not len(missing) and not len(dropped):
        sec.add(Paragraph(ctx.t("explain.no_gaps")))
    return sec


def notes_section(ctx: Context, unit: str, groups: list[str], indicators: list[str], dropped: list[str]) -> Section:
    """The run's warnings that concern this unit (one of its groups or none, one of its applicable
    ``indicators`` or none), in the report's language, and why each ``dropped`` indicator (reported, yet
    without a score) was left out, as the data show it."""
    v = ctx.view
    mine = {g: v.group_of(unit, g) for g in groups}
    texts = [n.text for n in entity_notes(ctx.result.warnings, ctx.lang, groups=mine, indicators=indicators)]
    for code in dropped:  # what the data show, whether or not the run warned
        why, column, value = tb.dropped_reason(v, unit, code)
        where = ctx.group_of(column, value) if column is not None else ctx.t("all_units")
        texts.append(ctx.t(f"note.dropped_{why}", code=code, name=ctx.name(code), where=where))
    sec = Section("notes", ctx.t("sec.notes"))
    if texts:
        sec.add(Paragraph(ctx.t("explain.notes")), *[Paragraph(x, "warn") for x in texts])
    else:
        sec.add(Paragraph(ctx.t("explain.no_notes")))
    return sec


# --- ranking ----------------------------------------------------------------------------------------------


@REPORT_KINDS.register("ranking", needs_entity=False)
def ranking(ctx: Context) -> Report:
    v, top = ctx.view, ctx.view.top
    heads = ctx.heads()
    table = tb.ranking_table(v, ctx.level)
    for g in v.groups:
        table[g] = ctx_values(ctx, g, table[g])
    change = tb.rank_change(ctx.result, v.period)
    if change is not None:
        table["rank_change"] = change.reindex(table["uCode"]).to_numpy()
    iv = ctx.rank_intervals
    if iv is not None:
        table["rank_lo"] = iv["low"].reindex(table["uCode"].astype(str)).to_numpy()
        table["rank_hi"] = iv["high"].reindex(table["uCode"].astype(str)).to_numpy()
    n = int(v.scores[top].notna().sum())
    first = table.iloc[0]
    figs = Figures([
        KeyFigure(ctx.t("n_units"), fmt_int(n), key="n_units"),
        KeyFigure(ctx.t("n_indicators"), fmt_int(len(ctx.tree.indicators)), key="n_indicators"),
        KeyFigure(ctx.t("median_score"), fmt_number(_median(v.scores[top]), ctx.lang), key="median_score"),
        KeyFigure(ctx.t("top_unit"), f"{first['name']} ({fmt_number(first['total'], ctx.lang)})", key="top_unit"),
    ])
    cols = [("rank", "col.rank", "rank"), ("uCode", "col.code", "text"), ("name", "col.name", "text"),
            *[(g, ctx.group_label(g), "text") for g in v.groups],
            ("total", "total_score", "score"), *[(c, ctx.short(c, 22), "score") for c in heads],
            ("rank_change", "col.rank_change", "rank_change"), ("rank_lo", "col.rank_lo", "rank"), ("rank_hi", "col.rank_hi", "rank")]
    top_n = min(30, len(table))
    shown = table.head(top_n)
    labels = [str(nm) if str(nm) == str(c) else f"{nm} ({c})" for c, nm in zip(shown["uCode"], shown["name"], strict=True)]
    sections = [
        Section("summary", ctx.t("sec.summary")).add(figs, Paragraph(ctx.t("explain.scores"))),
        Section("ranking", ctx.t("sec.ranking")).add(
            Paragraph(ctx.t("explain.ranking")),
            Chart("bar", ctx.t("explain.ranking_chart", n=top_n), {
                "labels": labels, "values": shown["total"].tolist(), "value_label": ctx.t("chart.total"),
            }, key="ranking_bar", height=max(360, 18 * top_n + 80)),
            *_interval_blocks(ctx, shown, labels),
            _table(ctx, ctx.t("sec.ranking"), table, cols, key="ranking", max_rows_pdf=100),
        ),
        Section("distribution", ctx.t("sec.distribution")).add(
            Chart("dist", ctx.t("sec.distribution"), {
                "groups": [{"label": ctx.short(c, 18), "values": v.scores[c].tolist()} for c in [top, *heads]],
                "value_label": ctx.t("chart.score"),
            }, key="distribution")
        ),
    ]
    grp = Section("groups", ctx.t("sec.groups"))
    for g in v.groups:
        sub = table.dropna(subset=[g])
        if not len(sub):
            continue
        agg = sub.groupby(g, sort=True).agg(count=("total", "size"), mean=("total", "mean"), median=("total", "median"),
                                            best=("total", "max")).reset_index()
        leaders = sub.sort_values("total", ascending=False).drop_duplicates(g).set_index(g)["name"]
        agg["leader"] = agg[g].map(leaders)
        grp.add(_table(ctx, f"{ctx.t('col.group')}: {ctx.group_label(g)}", agg,
                       [(g, ctx.group_label(g), "text"), ("count", "col.count", "int"), ("mean", "col.mean", "score"),
                        ("median", "col.group_median", "score"), ("best", "col.best", "score"), ("leader", "top_unit", "text")],
                       key=f"group:{g}"))
    if grp.blocks:
        sections.append(grp)
    sections.append(_availability_section(ctx))
    return Report(
        kind="ranking", lang=ctx.lang, title=ctx.t("title.ranking", name=ctx.evaluation), subtitle=_subtitle(ctx),
        sections=sections, meta={"n": n, "top": str(first["uCode"]), "top_total": float(first["total"])},
    )


def _interval_blocks(ctx: Context, shown: pd.DataFrame, labels: list[str]) -> list[Any]:
    """The ranking chart's rank intervals (each shown unit's rank, median and interval as a bar) and how to read
    them, when the result has an uncertainty analysis; nothing otherwise."""
    iv = ctx.rank_intervals
    if iv is None:
        return []
    codes = shown["uCode"].astype(str)
    keep = codes.isin(iv.index).to_numpy()
    if not keep.any():
        return []
    sub = iv.reindex(codes[keep])
    pct = ctx.pct(sub["level"].iloc[0])
    return [
        Chart("intervals", ctx.t("chart.rank_intervals", n=int(keep.sum()), pct=pct), {
            "labels": [lab for lab, k in zip(labels, keep, strict=True) if k], "rank": sub["rank"].tolist(),
            "low": sub["low"].tolist(), "high": sub["high"].tolist(), "median": sub["median"].tolist(),
            "rank_label": ctx.t("chart.rank"), "names": {"rank": ctx.t("chart.rank_now"), "median": ctx.t("chart.rank_median"),
                                                          "band": ctx.t("chart.rank_band", pct=pct)},
        }, key="rank_intervals", height=max(360, 18 * int(keep.sum()) + 80)),
        Paragraph(ctx.t("explain.ranking_intervals", pct=pct), "note"),
    ]


def _availability_section(ctx: Context) -> Section:
    av = tb.availability(ctx.view)
    return Section("availability", ctx.t("sec.availability")).add(
        Paragraph(ctx.t("explain.availability"), "note"),
        _table(ctx, ctx.t("sec.availability"), av,
               [("uCode", "col.code", "text"), ("name", "col.name", "text"), ("coverage", "col.coverage", "pct"),
                ("applicable", "col.n_applicable", "int"), ("not_applicable", "col.n_not_applicable", "int"),
                ("imputed", "col.n_imputed", "int")], key="availability", max_rows_pdf=20),
    )


# --- region -----------------------------------------------------------------------------------------------


@dataclass
class RegionMap:
    """How a result's units map to provinces: directly (units are provinces) or through a group column."""

    mode: str  # "units" | "group"
    column: str | None
    codes: pd.Series  # uCode → province code (resolved units only)
    unresolved: list[Any]


def region_map(v: tb.View) -> RegionMap:
    """Resolve the units (by code, then by name) to provinces; if most do not resolve, try each group
    column. Raises :class:`DataError` listing what did not resolve when nothing fits."""
    units = list(v.scores.index)
    m_code, _ = resolve_many(units, in_scope_only=True)
    names = v.info["name"].reindex(units)
    m_name, _ = resolve_many(names.tolist(), in_scope_only=True)
    codes = {u: m_code.get(u) or m_name.get(names[u]) for u in units}
    ok = {u: c for u, c in codes.items() if c}
    if len(ok) >= max(1, len(units) // 2):
        bad = [u if names[u] == u else f"{names[u]} ({u})" for u in units if u not in ok]
        return RegionMap("units", None, pd.Series(ok, dtype=object), bad)
    best: RegionMap | None = None
    for g in v.groups:
        vals = v.info[g].reindex(units)
        mapping, unresolved = resolve_many(vals.dropna().unique().tolist(), in_scope_only=True)
        if mapping and len(mapping) >= len(unresolved):
            ser = vals.map(mapping).dropna()
            cand = RegionMap("group", g, ser.astype(object), unresolved)
            if best is None or len(ser) > len(best.codes):
                best = cand
    if best is None:
        raise DataError(
            "region report: the units are not provinces and no group column names provinces; unresolved: "
            + ", ".join(map(str, [u for u in units if u not in ok][:20])),
            rule="report.region",
        )
    return best


@REPORT_KINDS.register("region", needs_entity=False)
def region(ctx: Context) -> Report:
    v, top = ctx.view, ctx.view.top
    rm = region_map(v)
    prov = provinces().set_index("code")
    pname_col = "name_zh" if ctx.lang == "zh" else "name_en"
    heads = ctx.heads()
    if rm.mode == "units":
        df = pd.DataFrame({"uCode": rm.codes.index, "code": rm.codes.to_numpy()})
        df["total"] = v.scores.loc[df["uCode"], top].to_numpy(float)
        for c in heads:
            df[c] = v.scores.loc[df["uCode"], c].to_numpy(float)
        df["rank"] = v.ranks.loc[df["uCode"], top].to_numpy()
        value_col = "total"
    else:
        inst = pd.DataFrame({"uCode": rm.codes.index, "code": rm.codes.to_numpy()})
        inst["total"] = v.scores.loc[inst["uCode"], top].to_numpy(float)
        inst["name"] = v.info["name"].reindex(inst["uCode"]).to_numpy()
        g = inst.groupby("code")
        df = g.agg(count=("total", "size"), total=("total", "mean"), median=("total", "median"), best=("total", "max")).reset_index()
        df["leader"] = df["code"].map(inst.sort_values("total", ascending=False).drop_duplicates("code").set_index("code")["name"])
        for c in heads:
            hv = pd.Series(v.scores.loc[inst["uCode"], c].to_numpy(float), index=inst.index)
            df[c] = df["code"].map(hv.groupby(inst["code"]).mean())
        small = df["count"] < ctx.min_n
        df["rank"] = df["total"].where(~small).rank(ascending=False, method="min").astype("Int64")
        df["flag"] = np.where(small, ctx.t("flag.small_n", n=ctx.min_n), "")
        value_col = "total"
    df["province"] = df["code"].map(prov[pname_col])
    df["macro"] = df["code"].map(prov["macro_region"]).map(lambda m: ctx.t(f"macro.{m}") if isinstance(m, str) and m else "")
    df = df.sort_values(["rank", value_col, "code"], ascending=[True, False, True], na_position="last").reset_index(drop=True)
    ranked = df[df["rank"].notna()]
    best = ranked.iloc[0] if len(ranked) else None
    n_small = int((df["rank"].isna()).sum()) if rm.mode == "group" else 0
    figs = Figures([
        KeyFigure(ctx.t("provinces_covered"), f"{len(df)} / 31", key="provinces_covered"),
        KeyFigure(ctx.t("best_province"), "—" if best is None else f"{best['province']} ({fmt_number(best[value_col], ctx.lang)})",
                  key="best_province"),
        KeyFigure(ctx.t("median_score"), fmt_number(df[value_col].median(), ctx.lang), key="median_score"),
    ])
    if rm.mode == "group":
        figs.items.append(KeyFigure(ctx.t("provinces_small"), fmt_int(n_small), key="provinces_small",
                                    note=ctx.t("provinces_small_note", n=ctx.min_n)))
    summary = Section("summary", ctx.t("sec.summary")).add(figs, Paragraph(ctx.t("explain.scores")))
    if rm.mode == "group":
        summary.add(Paragraph(ctx.t("explain.region_aggregated", col=ctx.group_label(str(rm.column))), "note"))
        if n_small:
            summary.add(Paragraph(ctx.t("explain.small_n", n=ctx.min_n, k=n_small), "warn"))
    map_sec = Section("map", ctx.t("sec.map")).add(
        Chart("map", ctx.t("sec.map"), {
            "values": dict(zip(df["code"], df[value_col].astype(float), strict=True)),
            "names": {c: n for c, n in zip(prov.index, prov[pname_col], strict=True)},
            "value_label": ctx.t("chart.total"), "no_data": ctx.t("no_data"),
            "flagged": {c: ctx.t("flag.small_n", n=ctx.min_n) for c in df.loc[df["rank"].isna(), "code"]} if rm.mode == "group" else {},
        }, key="map", height=560),
        Paragraph(ctx.t("explain.map"), "note"),
    )
    cols = [("rank", "col.rank", "rank"), ("province", "col.province", "text"), ("code", "col.province_code", "text"),
            ("macro", "col.macro_region", "text")]
    if rm.mode == "units":
        if (df["uCode"] != df["code"]).any():  # units named otherwise than by their code: show what the data said
            cols.append(("uCode", "col.unit", "text"))
        cols.append(("total", "total_score", "score"))
    else:
        cols += [("count", "col.n_institutions", "int"), ("flag", "col.flag", "text"), ("total", "col.mean", "score"),
                 ("median", "col.province_median", "score"), ("best", "col.best", "score"), ("leader", "top_unit", "text")]
    cols += [(c, ctx.short(c, 22), "score") for c in heads]
    table_sec = Section("region_table", ctx.t("sec.region_table")).add(
        Chart("bar", ctx.t("sec.region_table"), {"labels": df["province"].tolist(), "values": df[value_col].tolist(),
                                                 "value_label": ctx.t("chart.total")}, key="region_bar",
              height=max(380, 18 * len(df) + 80)),
        _table(ctx, ctx.t("sec.region_table"), df, cols, key="region"),
    )
    macro = df[df["macro"] != ""].groupby("macro", sort=False).agg(
        count=(value_col, "size"), mean=(value_col, "mean"), median=(value_col, "median"), best=(value_col, "max")).reset_index()
    macro_sec = Section("macro", ctx.t("sec.macro")).add(
        _table(ctx, ctx.t("sec.macro"), macro, [("macro", "col.macro_region", "text"), ("count", "col.count", "int"),
                                                 ("mean", "col.mean", "score"), ("median", "col.group_median", "score"),
                                                 ("best", "col.best", "score")], key="macro"))
    unres = Section("unresolved", ctx.t("sec.unresolved"))
    if rm.unresolved:
        unres.add(Paragraph(ctx.t("explain.unresolved"), "warn"),
                  _table(ctx, ctx.t("sec.unresolved"), pd.DataFrame({"name": [str(x) for x in rm.unresolved]}),
                         [("name", "col.name", "text")], key="unresolved"))
    else:
        unres.add(Paragraph(ctx.t("explain.all_resolved"), "note"))
    return Report(
        kind="region", lang=ctx.lang, title=ctx.t("title.region", name=ctx.evaluation), subtitle=_subtitle(ctx),
        sections=[summary, map_sec, table_sec, macro_sec, unres, _availability_section(ctx)],
        meta={"mode": rm.mode, "column": rm.column, "provinces": df["code"].tolist(), "unresolved": [str(x) for x in rm.unresolved],
              "values": dict(zip(df["code"], df[value_col].astype(float), strict=True)),
              "ranks": {c: (None if pd.isna(r) else int(r)) for c, r in zip(df["code"], df["rank"], strict=True)},
              "counts": dict(zip(df["code"], df["count"].astype(int), strict=True)) if "count" in df.columns else {}},
    )


# --- method appendix and workbook -------------------------------------------------------------------------


@REPORT_KINDS.register("method", needs_entity=False)
def method(ctx: Context) -> Report:
    """The method appendix alone: written once beside a batch of reports that point to it."""
    return Report(kind="method", lang=ctx.lang, title=ctx.t("title.method", name=ctx.evaluation), subtitle=_subtitle(ctx),
                  sections=[], meta={})


TREAT_LABELS = {"iCode": "col.indicator", "skew0": "col.skew_before", "kurt0": "col.kurt_before", "nwin": "col.nwin",
                "skew1": "col.skew_after", "kurt1": "col.kurt_after", "pass1": "col.pass_after", "points": "col.points",
                "treatment": "col.method"}


def appendix(ctx: Context) -> list[Section]:
    r = ctx.result
    man = r.manifest()
    tree_df = tb.tree_table(r.tree, r.weights)
    tree_df["direction"] = [ctx.t("direction.neg") if d == -1 else (ctx.t("direction.pos") if d == 1 else "") for d in tree_df["direction"]]
    secs = [
        Section("appendix", ctx.t("sec.appendix"), appendix=True).add(Paragraph(ctx.t("explain.appendix"))),
        Section("tree", ctx.t("sec.tree"), appendix=True).add(
            Paragraph(ctx.t("explain.eff_weight"), "note"),
            _table(ctx, ctx.t("sec.tree"), tree_df,
                   [("code", "col.code", "text"), ("name", "col.name", "text"), ("level", "col.level", "int"),
                    ("parent", "col.parent", "text"), ("direction", "col.direction", "text"),
                    ("weight", "col.weight", "float4"), ("effective_weight", "col.eff_weight", "float4")], key="tree")),
        Section("spec", ctx.t("sec.spec"), appendix=True).add(
            Code(ctx.t("sec.spec"), yaml.safe_dump(r.spec.document(), allow_unicode=True, sort_keys=False))),
    ]
    treat = Section("treatment", ctx.t("sec.treatment"), appendix=True)
    summary = tb.treatment_summary(r)
    details = r.records.get("treat_details")
    if summary is None or (not len(summary) and details is None):
        treat.add(Paragraph(ctx.t("explain.no_treatment")))
    else:
        treated = summary["iCode"].tolist() if len(summary) else []
        if details is not None and len(details):
            d = localise_values(tb.treatment_table(details, summary, treated), ctx.lang)
            treated = d.iloc[:, 0].astype(str).tolist()
            treat.add(Paragraph(ctx.t("explain.treatment", n=len(treated))),
                      _table(ctx, ctx.t("sec.treatment"), d, [(c, TREAT_LABELS.get(c, str(c)), "auto") for c in d.columns], key="treatment"))
        elif len(summary):
            treat.add(Paragraph(ctx.t("explain.treatment", n=len(treated))),
                      _table(ctx, ctx.t("sec.treatment"), localise_values(summary, ctx.lang), [("iCode", "col.code", "text"), ("points", "col.points", "int"),
                                                                     ("treatment", "col.method", "text")], key="treatment"))
        else:
            treat.add(Paragraph(ctx.t("explain.no_treatment")))
    secs.append(treat)
    imp = Section("imputation", ctx.t("sec.imputation"), appendix=True)
    log = localise_impute_log(tb.impute_log(r), ctx.lang)
    if len(log):
        imp.add(Paragraph(ctx.t("explain.imputation", n=int((log["status"] == "imputed").sum()) if "status" in log else len(log))),
                _table(ctx, ctx.t("sec.imputation"), log,
                       [("uCode", "col.unit", "text"), ("Time", "col.period", "text"), ("iCode", "col.indicator", "text"),
                        ("status", "col.status", "text"), ("value", "col.value", "auto"), ("method", "col.method", "text"),
                        ("source", "col.source", "text")], key="imputation", max_rows_pdf=25))
    else:
        imp.add(Paragraph(ctx.t("explain.no_imputation")))
    secs.append(imp)
    others = {k: d for k, d in r.records.items() if k not in ("impute_log", "treat_details", "treat_points", "weights", "aggregation_report")}
    if others:
        rec = Section("records", ctx.t("sec.records"), appendix=True)
        for k, d in others.items():
            f = d.reset_index() if d.index.name is not None else d
            rec.add(_table(ctx, label_or(f"record.{k}", ctx.lang, k), f, [(c, str(c), "auto") for c in f.columns], key=f"record:{k}",
                           max_rows_pdf=60))
        secs.append(rec)
    src = Section("sources", ctx.t("sec.sources"), appendix=True)
    data_rows = [{"item": ctx.t("evaluation_name"), "value": ctx.evaluation},
                 {"item": ctx.t("data_format"), "value": label_or(f"format.{r.spec.data.source}", ctx.lang, r.spec.data.source)}]
    for k in ("idata", "imeta", "db", "framework", "block", "period"):
        val = getattr(r.spec.data, k)
        if val is not None:
            data_rows.append({"item": ctx.t(f"data.{k}"), "value": str(val)})
    src.add(_table(ctx, ctx.t("sec.sources"), pd.DataFrame(data_rows), [("item", "col.item", "text"), ("value", "col.value_text", "text")], key="source_spec"))
    if man["inputs"]:
        src.add(_table(ctx, ctx.t("sec.sources"), pd.DataFrame({"file": list(man["inputs"]), "sha256": list(man["inputs"].values())}),
                       [("file", "col.file", "text"), ("sha256", "col.sha256", "text")], key="inputs"))
    elif r.spec.data.source == "frame":
        src.add(Paragraph(ctx.t("explain.sources_frame"), "note"))
    secs.append(src)
    sw_rows = [{"item": f"{ctx.t('software')}: {k}", "value": str(val)} for k, val in man["software"].items()]
    sw_rows += [{"item": ctx.t("scores_sha256"), "value": man["scores_sha256"]}, {"item": ctx.t("generated"), "value": ctx.generated}]
    sw_rows += [{"item": f"{ctx.t('datasets')}: {label_or('stage.' + k, ctx.lang, k)}", "value": ctx.t("rows_cols", rows=s[0], cols=s[1])}
                for k, s in man["datasets"].items()]
    soft = Section("software", ctx.t("sec.software"), appendix=True).add(
        _table(ctx, ctx.t("sec.software"), pd.DataFrame(sw_rows), [("item", "col.item", "text"), ("value", "col.value_text", "text")], key="software"))
    if r.warnings:
        soft.add(Paragraph(ctx.t("sec.warnings") + ctx.t("colon"), "warn"), *[Paragraph(warning_note(w, ctx.lang).text, "warn") for w in r.warnings])
    secs.append(soft)
    return secs


def workbook_sheets(ctx: Context) -> dict[str, pd.DataFrame]:
    """The workbook-only sheets: every stage's data set, the ranks, group ranks and every record."""
    r = ctx.result
    out: dict[str, pd.DataFrame] = {}
    for i, (name, df) in enumerate(r.datasets.items()):
        out[f"S{i} {label_or('stage.' + name, ctx.lang, name)}"] = with_unit_column(df)
    out[ctx.t("col.rank")] = with_unit_column(r.ranks)
    for g, df in r.group_ranks.items():
        out[f"{ctx.t('col.group_rank')} {ctx.group_label(g)}"] = with_unit_column(df)
    for k, df in r.records.items():
        out[label_or(f"record.{k}", ctx.lang, k)] = df.reset_index() if df.index.name is not None else df
    return out
