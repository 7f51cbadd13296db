"""The ``vendor`` report kind: a FinTech service-capability rating (:mod:`fintech_eval.capability`) as a
:class:`~fintech_eval.report.document.Report`, so it renders in HTML, PDF and Excel like the other kinds.

    ratings = rate_both(fw, Vendor("V001", "product"), scores)
    render(ratings, "vendor", lang="en", fmt="pdf", out="V001.pdf")

It shows what :func:`fintech_eval.capability.render_html` shows, with the same texts (the rating's own
explanation, :data:`fintech_eval.capability.report.LABELS`): the level and total of every model side by
side, the capability scores, the mandatory requirements met and missing, why not the next level, the
improvement plan, the notes and the indicator details; the method appendix says how the level is determined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .document import Chart, Figures, KeyFigure, Paragraph, Report, Section, Table
from .i18n import fmt_number, label_or, t
from .kinds import REPORT_KINDS


def _ratings(ratings: Any) -> list[Any]:
    from ..capability.rating import Rating

    if isinstance(ratings, Rating):
        rs = [ratings]
    elif isinstance(ratings, Mapping):
        rs = list(ratings.values())
    elif isinstance(ratings, Sequence) and not isinstance(ratings, str):
        rs = list(ratings)
    else:
        rs = []
    if not rs or not all(isinstance(r, Rating) for r in rs):
        raise DataError("the vendor report takes a capability rating: rate_vendor(...), rate_both(...) or a list of ratings",
                        rule="report.input")
    if len({r.vendor.id for r in rs}) > 1:
        raise DataError("the ratings are of different vendors: " + ", ".join(sorted({r.vendor.id for r in rs})), rule="report.input")
    return rs


def _tab(title: str, df: pd.DataFrame, cols: list[tuple[str, str, str]], key: str, lang: str, **kw: Any) -> Table:
    present = [(c, lab, k) for c, lab, k in cols if c in df.columns]
    headers = [label_or(lab, lang, lab) for _, lab, _ in present]
    frame = df[[c for c, _, _ in present]].copy()
    frame.columns = headers
    return Table(title=title, frame=frame.reset_index(drop=True), kinds=dict(zip(headers, [k for _, _, k in present], strict=True)),
                 key=key, **kw)


@REPORT_KINDS.register("vendor", needs_entity=False, input="rating")
def vendor(ratings: Any, *, lang: str, generated: str) -> Report:
    from .. import __version__
    from ..capability.report import LABELS, level_text, method_lines

    rs = _ratings(ratings)
    L = LABELS[lang]
    fw = rs[0].framework
    assert fw is not None
    v = rs[0].vendor
    who = v.name or v.id
    ptype = fw.provider_type(v.provider_type).name.get(lang)

    # summary: the models side by side
    items = [KeyFigure(L["vendor"], who if not v.name else f"{v.name} ({v.id})", key="vendor"),
             KeyFigure(L["ptype"], ptype, key="provider_type")]
    for r in rs:
        items += [KeyFigure(f"{r.model_name(lang)}: {L['level']}", level_text(r, lang), key=f"level:{r.model_id}"),
                  KeyFigure(f"{r.model_name(lang)}: {L['total']}", fmt_number(r.total, lang), note="/ 100", key=f"total:{r.model_id}")]
    models = pd.DataFrame([{
        "model": r.model_name(lang), "level": r.level, "level_name": r.level_name(lang) or L["no_level"], "total": r.total,
        "band_level": r.band_level, "req_level": r.requirement_level, "next_level": r.next_level,
        "score_gap": r.score_gap, "met": f"{int(r.requirements['met'].astype(bool).sum())} / {len(r.requirements)}",
        "missing": ", ".join(r.requirements.index[~r.requirements["met"].astype(bool)]),
    } for r in rs])
    summary = Section("summary", L["summary"]).add(Figures(items))
    if fw.disclaimer is not None:
        summary.add(Paragraph(fw.disclaimer.get(lang), "warn"))
    summary.add(*[Paragraph(r.explanation[lang][0]) for r in rs if r.explanation.get(lang)])
    summary.add(_tab(L["summary"], models,
                     [("model", "col.model", "text"), ("level", "col.cap_level", "int"), ("level_name", "col.level_name", "text"),
                      ("total", "total_score", "score"), ("band_level", "col.band_level", "int"), ("req_level", "col.req_level", "int"),
                      ("next_level", "col.next_level", "int"), ("score_gap", "col.score_gap", "score"),
                      ("met", "col.reqs_met", "text"), ("missing", "col.reqs_missing", "text")], "models", lang))

    # capability scores of every model in one table and one chart
    codes: list[str] = list(dict.fromkeys(c for r in rs for c in r.capabilities.index))
    names = {}
    for r in rs:
        for c, row in r.capabilities.iterrows():
            names.setdefault(c, row["name_en"] if lang == "en" else row["name_zh"])
    caps = pd.DataFrame({"code": codes, "name": [names[c] for c in codes]})
    cols = [("code", "col.code", "text"), ("name", L["capability"], "text")]
    for r in rs:
        sc = r.capabilities["score"].where(r.capabilities["applicable"].astype(bool))
        caps[f"score:{r.model_id}"] = [float(sc[c]) if c in sc.index and pd.notna(sc[c]) else np.nan for c in codes]
        caps[f"weight:{r.model_id}"] = [float(r.capabilities.at[c, "effective_weight"]) if c in r.capabilities.index else np.nan
                                        for c in codes]
        cols += [(f"score:{r.model_id}", f"{r.model_name(lang)}: {L['score']}", "score"),
                 (f"weight:{r.model_id}", f"{r.model_name(lang)}: {L['eff_weight']}", "float3")]
    labels = [f"{c} {names[c]}" for c in codes]
    series = [{"name": r.model_name(lang), "values": caps[f"score:{r.model_id}"].tolist()} for r in rs]
    chart = (Chart("radar", L["capabilities"], {"axes": labels, "series": series, "range": [0, 100]}, key="capabilities_chart", height=460)
             if len(codes) >= 3 else
             Chart("bar", L["capabilities"], {"labels": [f"{r.model_name(lang)}: {lab}" for r in rs for lab in labels],
                                               "values": [x for s in series for x in s["values"]], "value_label": L["score"]},
                   key="capabilities_chart"))
    cap_sec = Section("capabilities", L["capabilities"]).add(chart, _tab(L["capabilities"], caps, cols, "capabilities", lang))

    sections = [summary, cap_sec]
    for r in rs:
        sections.append(_model_section(r, lang))
    method = Section("appendix", t("sec.appendix", lang), appendix=True).add(
        Paragraph(L["method"] + ":"), *[Paragraph(s) for s in method_lines(rs, lang)])
    about = pd.DataFrame([
        {"item": L["framework"], "value": f"{fw.title.get(lang)} ({fw.id}@{fw.version})"},
        {"item": L["vendor"], "value": v.id}, {"item": L["ptype"], "value": ptype},
        {"item": t("software", lang), "value": f"fintech-eval {__version__}"}, {"item": t("generated", lang), "value": generated},
    ])
    soft = Section("software", t("sec.software", lang), appendix=True).add(
        _tab(t("sec.software", lang), about, [("item", "col.item", "text"), ("value", "col.value_text", "text")], "software", lang))
    sections += [method, soft]
    subtitle = f"{L['framework']}: {fw.title.get(lang)} ({fw.id}@{fw.version}){t('sep', lang)}{L['generated']}: {generated}{t('sep', lang)}fintech-eval {__version__}"
    workbook = {f"{r.model_id} {L['details']}"[:31]: _indicator_sheet(r) for r in rs}
    return Report(
        kind="vendor", lang=lang, title=f"{L['report']}：{who}" if lang == "zh" else f"{L['report']}: {who}", subtitle=subtitle,
        sections=sections, workbook=workbook,
        meta={"entity": v.id, "vendor": v.id, "provider_type": v.provider_type, "framework": f"{fw.id}@{fw.version}",
              "evaluation": fw.id, "period": None,
              "levels": {r.model_id: r.level for r in rs}, "totals": {r.model_id: r.total for r in rs}},
    )


def _model_section(r: Any, lang: str) -> Section:
    from ..capability.report import LABELS, level_text, plan_rows, requirement_rows, why_not_lines

    L = LABELS[lang]
    m = r.model_id
    name = r.model_name(lang)
    sec = Section(f"model:{m}", f"{L['model']}: {name}")
    sec.add(Figures([KeyFigure(L["level"], level_text(r, lang), key=f"model_level:{m}"),
                     KeyFigure(L["total"], fmt_number(r.total, lang), note="/ 100", key=f"model_total:{m}")]))
    sec.add(Paragraph(L["explanation"] + ":", "p"), *[Paragraph(s, "note") for s in r.explanation[lang]])
    # mandatory requirements, met and missing
    if r.requirements.empty:
        sec.add(Paragraph(L["no_reqs"], "note"))
    else:
        req = pd.DataFrame(requirement_rows(r, lang))
        req["status"] = [(("✓ " + L["met"]) if met else ("✗ " + L["missing"])) + (f" ({L['capped']})" if capped else "")
                         for met, capped in zip(req["met"], req["capped"], strict=True)]
        sec.add(_tab(f"{L['requirements']}（{name}）" if lang == "zh" else f"{L['requirements']} ({name})", req,
                     [("code", "col.code", "text"), ("level", L["req_level"], "int"), ("indicator", L["indicator"], "text"),
                      ("required", L["required"], "text"), ("current", L["current"], "text"), ("status", L["status"], "text")],
                     f"requirements:{m}", lang, highlight=[i for i, ok in enumerate(req["met"]) if not ok]))
    sec.add(Paragraph(L["why_not"] + ":", "p"), *[Paragraph(s, "warn" if r.next_level is not None else "note") for s in why_not_lines(r, lang)])
    # improvement plan
    p = r.plan
    sec.add(Paragraph(L["plan"] + ":", "p"))
    if p.target_level is None:
        if r.level is not None:
            sec.add(Paragraph(L["top"], "note"))
    elif not p.feasible:
        sec.add(Paragraph(L["no_plan"], "warn"))
    else:
        sec.add(Paragraph(f"{L['level_n'].format(n=p.target_level)}: "
                          + L["plan_total"].format(n=p.total_steps, a=p.score_before, b=p.score_after)))
        plan = pd.DataFrame(plan_rows(r, lang), columns=["indicator", "steps", "target", "reason", "gain"])
        sec.add(_tab(f"{L['plan']}（{name}）" if lang == "zh" else f"{L['plan']} ({name})", plan,
                     [("indicator", L["indicator"], "text"), ("steps", L["from_to"], "text"), ("target", L["target"], "text"),
                      ("reason", L["reason"], "text"), ("gain", L["gain"], "signed")], f"plan:{m}", lang),
                Paragraph(L["plan_method"].format(m=plan_method(p.method, lang)), "note"))
    if r.notes:
        sec.add(Paragraph(L["notes"] + ":", "p"), *[Paragraph(n.get(lang), "warn") for n in r.notes])
    d = r.indicators[r.indicators["in_model"]]
    det = pd.DataFrame({
        "code": d.index, "name": d["name_en" if lang == "en" else "name_zh"].to_numpy(),
        "applicable": [L["yes"] if a else L["na"] for a in d["applicable"]],
        "step": [int(s) if a else np.nan for s, a in zip(d["step"], d["applicable"], strict=True)],
        "capped": [L["capped"] if c else "" for c in d["capped"]],
        "score": [float(s) if a else np.nan for s, a in zip(d["score"], d["applicable"], strict=True)],
        "effective_weight": d["effective_weight"].astype(float).to_numpy(),
        "evidence": [e or "" for e in d["evidence_ref"]], "reviewer": [x or "" for x in d["reviewer"]],
        "date": ["" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x) for x in d["date"]],
    })
    sec.add(_tab(f"{L['details']}（{name}）" if lang == "zh" else f"{L['details']} ({name})", det,
                 [("code", "col.code", "text"), ("name", L["indicator"], "text"), ("applicable", L["applicable"], "text"),
                  ("step", L["step"], "int"), ("capped", "col.flag", "text"), ("score", L["score"], "score"),
                  ("effective_weight", L["eff_weight"], "float4"), ("evidence", L["evidence"], "text"),
                  ("reviewer", L["reviewer"], "text"), ("date", L["date"], "text")], f"indicators:{m}", lang, max_rows_pdf=200))
    return sec


def _indicator_sheet(r: Any) -> pd.DataFrame:
    d = r.indicators.reset_index()
    for c in d.columns:
        if d[c].dtype == object:
            d[c] = d[c].map(lambda x: "" if x is None else str(x) if not isinstance(x, int | float | bool) else x)
    return d


def plan_method(method: str, lang: str) -> str:
    """How the improvement plan was found, in ``lang`` (the rating records it in English)."""
    if lang == "zh" and method.startswith("exact"):
        return "精确求解（按档位数动态规划）"
    if lang == "zh" and method.startswith("greedy"):
        return "贪心近似"
    return method
