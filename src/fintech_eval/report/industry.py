"""The ``industry`` report kind: one sector (bank, securities, insurance, payment) of a JR/T 0201 block-H
result: its H indicators and their level-1 aggregates, its rank among the industries, the indicators over
time when the result is a panel, the distribution and the leaders of the sector's institutions when the block-J
result of the same period is given (``build_report(..., institutions=j_result)``, CLI ``--with DIR``), and
the Plan-task view: for each of the 27 tasks of the FinTech Development Plan (2019-2021) the mean normalised
score of its linked indicators that the results have.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError
from . import tables as tb
from .document import Chart, Figures, KeyFigure, Paragraph, Report, Section
from .i18n import fmt_int, fmt_number, fmt_rank, t
from .kinds import REPORT_KINDS, Context, _median, _short, _subtitle, _table, trend_section

PLAN_FRAMEWORK = "plan-2019-2021"
LEADERS = 10


def sector_institutions(ctx: Context, sector: str) -> tuple[tb.View, str, pd.Index] | None:
    """The J view, the group column naming sectors and the sector's institutions (None without a J result)."""
    inst = ctx.institutions
    if inst is None:
        return None
    jv = tb.view(inst, ctx.view.period if tb.is_panel(inst) else None)
    cols = (["sector"] if "sector" in jv.info.columns else []) + [g for g in jv.groups if g != "sector"]
    for col in cols:
        members = jv.group_members(col, sector)
        if len(members):
            return jv, col, members
    raise DataError(
        f"industry report: no institution of the J result has sector {sector!r} in a group column "
        f"({', '.join(cols) or 'none'})", rule="report.industry", unit=sector,
    )


def plan_task_table(ctx: Context, sector: str, inst: tuple[tb.View, str, pd.Index] | None) -> pd.DataFrame:
    """One row per Plan task: linked indicators, those with data, their mean normalised score (H: the sector's
    value; J: the mean over the sector's institutions), and a note for tasks with no linked indicator or no data."""
    from ..catalog import load_framework

    tasks = load_framework(PLAN_FRAMEWORK).tasks()
    h = ctx.view.scores.loc[ctx.entity] if ctx.entity in ctx.view.scores.index else pd.Series(dtype=float)
    j = inst[0].scores.loc[inst[2]].mean(numeric_only=True) if inst is not None else pd.Series(dtype=float)
    rows = []
    for task in tasks:
        codes = list(dict.fromkeys(link.code for link in task.indicators))
        hv = {c: float(h[c]) for c in codes if c in h.index and pd.notna(h[c])}
        jv = {c: float(j[c]) for c in codes if c in j.index and pd.notna(j[c])}
        vals = [*hv.values(), *jv.values()]
        note = "" if vals else ctx.t("task.no_link") if not codes else ctx.t("task.not_present")
        rows.append({
            "number": task.number, "task": task.name.get(ctx.lang) or task.name.zh, "clause": clause_text(task.clause or "", ctx.lang),
            "n_linked": len(codes), "n_present": len(vals),
            "score": float(np.mean(vals)) if vals else np.nan,
            "h_part": float(np.mean(list(hv.values()))) if hv else np.nan,
            "j_part": float(np.mean(list(jv.values()))) if jv else np.nan,
            "used": ", ".join([*hv, *jv]), "note": note, "code": task.code,
        })
    return pd.DataFrame(rows)


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _cn_number(text: str) -> str:
    if text.isdigit():
        return text
    if len(text) == 2 and text[0] == "十":
        return str(10 + _CN_DIGITS.get(text[1], 0))
    if len(text) == 2 and text[1] == "十":
        return str(10 * _CN_DIGITS.get(text[0], 0))
    if len(text) == 3 and text[1] == "十":
        return str(10 * _CN_DIGITS.get(text[0], 0) + _CN_DIGITS.get(text[2], 0))
    return str(_CN_DIGITS.get(text, text))


def clause_text(clause: str, lang: str) -> str:
    """A Plan clause (``第三章第一节``) in ``lang`` (``Chapter 3, Section 1``)."""
    if lang == "zh" or not clause:
        return clause
    parts = [(_cn_number(n), unit) for n, unit in re.findall(r"第([一二三四五六七八九十\d]+)([章节条款])", clause)]
    words = {"章": "Chapter", "节": "Section", "条": "Article", "款": "Paragraph"}
    return ", ".join(f"{words[u]} {n}" for n, u in parts) if parts else clause


@REPORT_KINDS.register("industry", needs_entity=True)
def industry(ctx: Context) -> Report:
    v, u, top = ctx.view, ctx.entity, ctx.view.top
    assert u is not None
    if not str(top).upper().startswith("H"):
        raise DataError(t("explain.not_industry", "en") + f" This result's top is {top}.", rule="report.industry")
    sector_name = str(v.info.at[u, "name"])
    who = sector_name if sector_name == u or ctx.group_value("sector", u) == sector_name else f"{sector_name} ({u})"
    total = float(v.scores.at[u, top])
    n = int(v.scores[top].notna().sum())
    rank_now = v.ranks.at[u, top]
    heads = ctx.heads()
    inst = sector_institutions(ctx, u)
    tasks = plan_task_table(ctx, u, inst)

    items = [
        KeyFigure(ctx.t("total_score"), fmt_number(total, ctx.lang), key="total_score"),
        KeyFigure(ctx.t("industry_rank"), fmt_rank(rank_now, n, ctx.lang), key="industry_rank"),
        KeyFigure(ctx.t("tasks_measured"), f"{int(tasks['score'].notna().sum())} / {len(tasks)}", key="tasks_measured"),
    ]
    leaders = pd.DataFrame()
    if inst is not None:
        jv, col, members = inst
        jtop = jv.top
        js = jv.scores.loc[members, jtop]
        sranks = js.rank(ascending=False, method="min")
        leaders = pd.DataFrame({
            "sector_rank": sranks, "overall_rank": jv.ranks.loc[members, jtop], "uCode": members,
            "name": jv.info["name"].reindex(members).to_numpy(), "total": js,
            **{c: jv.scores.loc[members, c] for c in tb.headline_codes(jv.tree) if c in jv.scores.columns},
        }).rename_axis(None).dropna(subset=["total"]).sort_values(["total", "uCode"], ascending=[False, True]).head(LEADERS).reset_index(drop=True)
        items += [
            KeyFigure(ctx.t("n_institutions"), fmt_int(len(members)), key="n_institutions"),
            KeyFigure(ctx.t("inst_median"), fmt_number(_median(js), ctx.lang), key="inst_median"),
        ]
        if len(leaders):
            items.append(KeyFigure(ctx.t("inst_leader"), f"{leaders.at[0, 'name']} ({fmt_number(leaders.at[0, 'total'], ctx.lang)})",
                                   key="inst_leader"))
    summary = Section("summary", ctx.t("sec.summary")).add(Figures(items), Paragraph(ctx.t("explain.industry")))

    # the H indicators and their aggregates, against the other industries
    codes = [c for c in tb.tree_order(ctx.tree) if c in v.scores.columns]
    raw = tb.raw_data(ctx.result, v.period)
    best = {c: v.scores[c].idxmax() if v.scores[c].notna().any() else None for c in codes}
    rows = pd.DataFrame({
        "code": codes, "name": [ctx.name(c) for c in codes], "level": [ctx.levels[c] for c in codes],
        "raw": [raw.at[u, c] if c in ctx.tree.indicators and c in raw.columns and u in raw.index else np.nan for c in codes],
        "score": [v.scores.at[u, c] for c in codes], "rank": [v.ranks.at[u, c] for c in codes],
        "of": [int(v.scores[c].notna().sum()) for c in codes], "median": [_median(v.scores[c]) for c in codes],
        "best": [str(v.info.at[best[c], "name"]) if best[c] is not None else "" for c in codes],
    })
    h_sec = Section("h_indicators", ctx.t("sec.h_indicators")).add(
        Paragraph(ctx.t("explain.h_indicators"), "note"),
        _table(ctx, ctx.t("sec.h_indicators"), rows,
               [("code", "col.code", "text"), ("name", "col.name", "text"), ("level", "col.level", "int"),
                ("raw", "col.raw_value", "auto"), ("score", "col.sector_value", "score"), ("rank", "col.rank", "rank"),
                ("of", "col.of", "int"), ("median", "col.industry_median", "score"), ("best", "col.best_industry", "text")],
               key="h_indicators", highlight=[0]),
    )
    lvl = pd.DataFrame({"code": heads, "name": [ctx.name(c) for c in heads], "score": [v.scores.at[u, c] for c in heads],
                        "rank": [v.ranks.at[u, c] for c in heads], "median": [_median(v.scores[c]) for c in heads]})
    l1_sec = Section("h_level1", ctx.t("sec.h_level1")).add(
        Chart("bar", ctx.t("sec.h_level1"), {"labels": [ctx.short(c, 24) for c in heads], "values": lvl["score"].tolist(),
                                              "value_label": ctx.t("chart.score")}, key="h_level1", height=max(320, 40 * len(heads) + 120)),
        _table(ctx, ctx.t("sec.h_level1"), lvl, [("code", "col.code", "text"), ("name", "col.name", "text"),
                                                 ("score", "col.sector_value", "score"), ("rank", "col.rank", "rank"),
                                                 ("median", "col.industry_median", "score")], key="h_level1"),
    )

    trend = tb.trend_table(ctx.result, u, [top, *heads]) if tb.is_panel(ctx.result) else pd.DataFrame()
    trend_sec = trend_section(ctx, trend, heads, title="sec.industry_trend", count=False)

    inst_sec = Section("institutions", ctx.t("sec.institutions"))
    if inst is None:
        inst_sec.add(Paragraph(ctx.t("explain.no_institutions"), "note"))
    else:
        jv, col, members = inst
        jheads = [c for c in tb.headline_codes(jv.tree) if c in jv.scores.columns]
        jcodes = [jv.top, *jheads]
        jnames = tb.node_names(jv.tree)
        sub = jv.scores.loc[members, jcodes]
        stats = pd.DataFrame({
            "code": jcodes, "name": [jnames.get(c, c) for c in jcodes], "count": sub.notna().sum().to_numpy(int),
            "mean": sub.mean().to_numpy(), "median": sub.median().to_numpy(), "p25": sub.quantile(0.25).to_numpy(),
            "p75": sub.quantile(0.75).to_numpy(), "min": sub.min().to_numpy(), "best": sub.max().to_numpy(),
        })
        inst_sec.add(
            Paragraph(ctx.t("explain.institutions", col=ctx.group_label(col), sector=ctx.group_value(col, u)), "note"),
            Chart("dist", ctx.t("sec.institutions"), {
                "groups": [{"label": _short(jnames.get(c, c), 16), "values": sub[c].tolist()} for c in jcodes],
                "value_label": ctx.t("chart.score"),
            }, key="institutions_dist"),
            _table(ctx, ctx.t("sec.institutions"), stats,
                   [("code", "col.code", "text"), ("name", "col.name", "text"), ("count", "col.count", "int"),
                    ("mean", "col.mean", "score"), ("median", "col.median", "score"), ("p25", "col.p25", "score"),
                    ("p75", "col.p75", "score"), ("min", "col.min", "score"), ("best", "col.best", "score")], key="institutions"),
        )
        lead_sec = Section("leaders", ctx.t("sec.leaders")).add(
            Chart("bar", ctx.t("sec.leaders"), {
                "labels": [str(nm) if str(nm) == str(c) else f"{nm} ({c})" for c, nm in zip(leaders["uCode"], leaders["name"], strict=True)],
                "values": leaders["total"].tolist(), "value_label": ctx.t("chart.total")}, key="leaders_bar",
                height=max(320, 26 * len(leaders) + 100)),
            _table(ctx, ctx.t("sec.leaders"), leaders,
                   [("sector_rank", "col.sector_rank", "rank"), ("overall_rank", "col.overall_rank", "rank"),
                    ("uCode", "col.code", "text"), ("name", "col.name", "text"), ("total", "total_score", "score"),
                    *[(c, _short(jnames.get(c, c), 16), "score") for c in jheads]], key="leaders"),
        )

    shown = tasks.dropna(subset=["score"])
    plan_sec = Section("plan_tasks", ctx.t("sec.plan_tasks")).add(
        Paragraph(ctx.t("explain.plan_tasks"), "note"),
        Chart("bar", ctx.t("sec.plan_tasks"), {
            "labels": [f"{no}. {_short(nm, 18)}" for no, nm in zip(shown["number"], shown["task"], strict=True)],
            "values": shown["score"].tolist(), "value_label": ctx.t("col.task_score")},
            key="plan_tasks_bar", height=max(360, 22 * len(shown) + 100)),
        _table(ctx, ctx.t("sec.plan_tasks"), tasks,
               [("number", "col.task_no", "int"), ("task", "col.task", "text"), ("clause", "col.clause", "text"),
                ("n_linked", "col.n_linked", "int"), ("n_present", "col.n_present", "int"), ("score", "col.task_score", "score"),
                ("h_part", "col.h_part", "score"), ("j_part", "col.j_part", "score"), ("used", "col.indicators_used", "text"),
                ("note", "col.note", "text")], key="plan_tasks"),
    )

    sections = [summary, h_sec, l1_sec, trend_sec, inst_sec]
    if inst is not None:
        sections.append(lead_sec)
    sections.append(plan_sec)
    return Report(
        kind="industry", lang=ctx.lang, title=ctx.t("title.industry", sector=who), subtitle=_subtitle(ctx), sections=sections,
        meta={"entity": u, "entity_name": sector_name, "total": total, "rank": None if pd.isna(rank_now) else int(rank_now),
              "n": n, "tasks": tasks["code"].tolist(), "leaders": leaders["uCode"].tolist() if len(leaders) else []},
    )
