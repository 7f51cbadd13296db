"""A self-contained HTML rating report, in plain Chinese or English.

:func:`render_html` takes one rating or several (e.g. ``rate_both(...)``: the models side by side) and returns
one HTML document with no external resources (inline CSS, no scripts): the framework and its disclaimer,
the vendor, then per model the level and its explanation, the capability scores, the mandatory
requirements met and missing, why the vendor is not at the next level, the improvement plan, the notes
(exclusions, evidence caps, missing entries) and the indicator details; and how the level is determined.
Every text comes from the rating (:func:`fintech_eval.capability.rating.explain`) or the framework, so the
report says what the rating did, in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .rating import Rating

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "report": "金融科技服务能力评级报告", "vendor": "服务商", "ptype": "服务商类型", "framework": "评价框架",
        "generated": "生成日期", "summary": "评级结论（各模型并列）", "model": "评价模型", "level": "能力等级",
        "total": "总分", "no_level": "未达第1级", "band": "分数区间", "explanation": "评级说明",
        "capabilities": "各能力得分", "capability": "能力", "score": "得分", "weight": "权重（AHP）",
        "eff_weight": "有效权重", "na": "不适用", "requirements": "必备要求", "req_level": "所属等级",
        "indicator": "指标", "required": "要求档位", "current": "当前档位", "status": "状态", "met": "已满足",
        "missing": "未满足", "why_not": "为何未达下一级", "plan": "改进方案（达到下一级的最少档位提升）",
        "from_to": "档位变化", "target": "目标档位说明", "reason": "原因", "gain": "总分增量",
        "r_requirement": "必备要求", "r_score": "提高分数", "evidence_only": "已申报，补充证据即可",
        "notes": "注意事项", "details": "指标明细", "step": "档位", "evidence": "证据编号", "reviewer": "评审人",
        "date": "日期", "applicable": "适用", "yes": "是", "no": "否", "capped": "无证据封顶",
        "method": "定级方法", "top": "已是最高等级，无需改进方案。", "no_plan": "当前无法达到下一级。",
        "plan_total": "共需提升 {n} 个档位，总分将由 {a:.1f} 升至 {b:.1f}。", "level_n": "第{n}级",
        "no_reqs": "该模型对本服务商无适用的必备要求。", "plan_method": "方法：{m}",
        "lowest": "未提供证据的指标只能按最低档计分。", "step_ge": "≥ 第{n}档", "step_n": "第{n}档",
    },
    "en": {
        "report": "FinTech Service Capability Rating Report", "vendor": "Vendor", "ptype": "Provider type",
        "framework": "Framework", "generated": "Generated", "summary": "Rating summary (models side by side)",
        "model": "Model", "level": "Capability level", "total": "Total score", "no_level": "below Level 1",
        "band": "Score band", "explanation": "Why this level", "capabilities": "Capability scores",
        "capability": "Capability", "score": "Score", "weight": "Weight (AHP)", "eff_weight": "Effective weight",
        "na": "not applicable", "requirements": "Mandatory requirements", "req_level": "Level",
        "indicator": "Indicator", "required": "Required step", "current": "Current step", "status": "Status",
        "met": "met", "missing": "missing", "why_not": "Why not the next level",
        "plan": "Improvement plan (fewest step increases to reach the next level)", "from_to": "Step",
        "target": "Target step", "reason": "Why", "gain": "Score gain", "r_requirement": "mandatory requirement",
        "r_score": "score", "evidence_only": "already claimed: supply the evidence", "notes": "Notes",
        "details": "Indicator details", "step": "Step", "evidence": "Evidence ref", "reviewer": "Reviewer",
        "date": "Date", "applicable": "Applies", "yes": "yes", "no": "no", "capped": "capped: no evidence",
        "method": "How the level is determined", "top": "This is the top level: no plan needed.",
        "no_plan": "The next level cannot be reached.",
        "plan_total": "{n} step increase(s) in all; the total goes from {a:.1f} to {b:.1f}.", "level_n": "Level {n}",
        "no_reqs": "No mandatory requirement of this model applies to this vendor.", "plan_method": "Method: {m}",
        "lowest": "An indicator without evidence is scored at its lowest step.", "step_ge": "step ≥ {n}",
        "step_n": "step {n}",
    },
}

CSS = """
body{font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid #c9d3de;padding-bottom:.3rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
.disclaimer{background:#fff6e0;border-left:4px solid #e0a100;padding:.6rem .9rem;margin:.8rem 0;font-size:.92rem}
.meta{color:#52606d;font-size:.92rem}.meta span{margin-right:1.4rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px}
.card{background:#fff;border:1px solid #d9e1ea;border-radius:8px;padding:14px 16px}
.badge{display:inline-block;font-size:1.5rem;font-weight:700;color:#fff;background:#2f6fb3;border-radius:6px;padding:.2rem .7rem;margin:.3rem 0}
.badge.none{background:#8a96a3}.total{font-size:1.1rem;margin-left:.6rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem;margin:.3rem 0}
th,td{border:1px solid #d9e1ea;padding:4px 7px;text-align:left;vertical-align:top}th{background:#eef2f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#e6ebf1;border-radius:3px;height:10px;min-width:90px}.bar>div{background:#3c8dde;height:10px;border-radius:3px}
.ok{color:#1a7f37;font-weight:600}.ko{color:#c62828;font-weight:600}.muted{color:#8a96a3}
ul.expl li{margin:.25rem 0}details{margin:.5rem 0}summary{cursor:pointer;font-weight:600}
.model{background:#fff;border:1px solid #d9e1ea;border-radius:8px;padding:4px 18px 14px;margin-top:18px}
"""


def _e(x: object) -> str:
    return html.escape("" if x is None else str(x))


def _fmt(x: float, nd: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def _ratings(ratings: Rating | Sequence[Rating] | Mapping[str, Rating]) -> list[Rating]:
    if isinstance(ratings, Rating):
        return [ratings]
    if isinstance(ratings, Mapping):
        return list(ratings.values())
    return list(ratings)


def render_html(ratings: Rating | Sequence[Rating] | Mapping[str, Rating], lang: str = "zh",
                generated: dt.date | None = None) -> str:
    """The report of one vendor's rating(s) in ``lang`` ("zh" or "en"); several ratings sit side by side."""
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {', '.join(LABELS)}, got {lang!r}")
    rs = _ratings(ratings)
    if not rs:
        raise ValueError("no rating to report")
    L = LABELS[lang]
    fw = rs[0].framework
    assert fw is not None
    v = rs[0].vendor
    ptype = fw.provider_type(v.provider_type).name.get(lang)
    out: list[str] = []
    w = out.append
    w(f"<!DOCTYPE html><html lang=\"{'zh-CN' if lang == 'zh' else 'en'}\"><head><meta charset=\"utf-8\">")
    w(f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_e(L['report'])} — {_e(v.name or v.id)}</title>")
    w(f"<style>{CSS}</style></head><body><main>")
    w(f"<h1>{_e(L['report'])}</h1>")
    w(f"<div class=\"meta\"><span>{_e(L['vendor'])}: <b>{_e(v.name or v.id)}</b>{'' if not v.name else ' (' + _e(v.id) + ')'}</span>"
      f"<span>{_e(L['ptype'])}: {_e(ptype)}</span>"
      f"<span>{_e(L['framework'])}: {_e(fw.title.get(lang))} ({_e(fw.id)}@{_e(fw.version)})</span>"
      f"<span>{_e(L['generated'])}: {_e((generated or dt.date.today()).isoformat())}</span></div>")
    if fw.disclaimer is not None:
        w(f"<div class=\"disclaimer\" id=\"disclaimer\">{_e(fw.disclaimer.get(lang))}</div>")

    # summary: models side by side
    w(f"<h2>{_e(L['summary'])}</h2><div class=\"grid\">")
    for r in rs:
        w(f"<section class=\"card\" id=\"summary-{_e(r.model_id)}\"><div>{_e(L['model'])}: <b>{_e(r.model_name(lang))}</b></div>")
        w(_badge(r, lang))
        w(f"<p>{_e(r.explanation[lang][0])}</p>")
        if len(r.explanation[lang]) > 1:
            w("<ul class=\"expl\">" + "".join(f"<li>{_e(s)}</li>" for s in r.explanation[lang][1:4]) + "</ul>")
        w(_cap_table(r, lang, compact=True))
        w("</section>")
    w("</div>")

    for r in rs:
        w(f"<section class=\"model\" id=\"model-{_e(r.model_id)}\"><h2>{_e(L['model'])}: {_e(r.model_name(lang))}</h2>")
        w(_badge(r, lang))
        w(f"<h3>{_e(L['explanation'])}</h3><ul class=\"expl\">" + "".join(f"<li>{_e(s)}</li>" for s in r.explanation[lang]) + "</ul>")
        w(f"<h3>{_e(L['capabilities'])}</h3>" + _cap_table(r, lang))
        w(f"<h3>{_e(L['requirements'])}</h3>" + _req_table(r, lang))
        w(f"<h3>{_e(L['why_not'])}</h3>" + _why_not(r, lang))
        w(f"<h3>{_e(L['plan'])}</h3>" + _plan_table(r, lang))
        if r.notes:
            w(f"<h3>{_e(L['notes'])}</h3><ul>" + "".join(f"<li>{_e(n.get(lang))}</li>" for n in r.notes) + "</ul>")
        w(f"<details><summary>{_e(L['details'])}</summary>{_details(r, lang)}</details>")
        w("</section>")
    w(f"<h2>{_e(L['method'])}</h2>" + _method(rs, lang))
    w("</main></body></html>")
    return "\n".join(out)


def write_html(ratings: Rating | Sequence[Rating] | Mapping[str, Rating], path: str | Path, lang: str = "zh") -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(ratings, lang), encoding="utf-8")
    return p


# --- parts ----------------------------------------------------------------------------------------------
def level_text(r: Rating, lang: str) -> str:
    """The level as the reports print it: ``Level n · name``, or ``below Level 1``."""
    L = LABELS[lang]
    if r.level is None:
        return L["no_level"]
    return f"{L['level_n'].format(n=r.level)} · {r.level_name(lang)}"


def _badge(r: Rating, lang: str) -> str:
    L = LABELS[lang]
    cls = "badge none" if r.level is None else "badge"
    return (f"<div><span class=\"{cls}\" data-level=\"{'' if r.level is None else r.level}\">{_e(level_text(r, lang))}</span>"
            f"<span class=\"total\">{_e(L['total'])}: <b>{_fmt(r.total)}</b> / 100</span></div>")


def _cap_table(r: Rating, lang: str, compact: bool = False) -> str:
    L = LABELS[lang]
    rows = []
    for code, c in r.capabilities.iterrows():
        name = c["name_en"] if lang == "en" else c["name_zh"]
        if not c["applicable"]:
            score = f"<td class=\"num muted\" colspan=\"2\">{_e(L['na'])}</td>"
        else:
            pct = max(0.0, min(100.0, float(c["score"])))
            score = (f"<td class=\"num\">{_fmt(float(c['score']))}</td>"
                     f"<td><div class=\"bar\"><div style=\"width:{pct:.1f}%\"></div></div></td>")
        extra = "" if compact else (f"<td class=\"num\">{float(c['weight']):.3f}</td>"
                                    f"<td class=\"num\">{float(c['effective_weight']):.3f}</td>")
        rows.append(f"<tr><td>{_e(code)} {_e(name)}</td>{score}{extra}</tr>")
    head = (f"<tr><th>{_e(L['capability'])}</th><th colspan=\"2\">{_e(L['score'])}</th>"
            + ("" if compact else f"<th>{_e(L['weight'])}</th><th>{_e(L['eff_weight'])}</th>") + "</tr>")
    return f"<table class=\"caps\">{head}{''.join(rows)}</table>"


def step_desc(r: Rating, code: str, step: int, lang: str) -> str:
    """The descriptor of indicator ``code``'s step ``step`` ("" when it has none)."""
    fw = r.framework
    assert fw is not None
    for s in fw.steps(code):
        if s.step == step:
            return s.descriptor.get(lang)
    return ""


def requirement_rows(r: Rating, lang: str) -> list[dict[str, Any]]:
    """The mandatory requirements by level, as both reports show them: code, level, indicator (``code name``),
    required and current step (``step ≥ n: descriptor``), met, capped."""
    L = LABELS[lang]
    fw = r.framework
    assert fw is not None
    rows = []
    for code, q in r.requirements.sort_values(["level"], kind="stable").iterrows():
        ind = fw.indicator(q["indicator"])
        rows.append({"code": code, "level": int(q["level"]), "indicator": f"{ind.code} {ind.name.get(lang)}",
                     "required": f"{L['step_ge'].format(n=int(q['min_step']))}: {step_desc(r, ind.code, int(q['min_step']), lang)}",
                     "current": f"{L['step_n'].format(n=int(q['step']))}: {step_desc(r, ind.code, int(q['step']), lang)}",
                     "met": bool(q["met"]), "capped": bool(q["capped"])})
    return rows


def _req_table(r: Rating, lang: str) -> str:
    L = LABELS[lang]
    if r.requirements.empty:
        return f"<p class=\"muted\">{_e(L['no_reqs'])}</p>"
    rows = []
    for q in requirement_rows(r, lang):
        status = (f"<span class=\"ok\">✓ {_e(L['met'])}</span>" if q["met"]
                  else f"<span class=\"ko\">✗ {_e(L['missing'])}</span>")
        if q["capped"]:
            status += f" <span class=\"muted\">({_e(L['capped'])})</span>"
        rows.append(
            f"<tr data-requirement=\"{_e(q['code'])}\"><td>{_e(L['level_n'].format(n=q['level']))}</td>"
            f"<td>{_e(q['indicator'])}</td><td>{_e(q['required'])}</td><td>{_e(q['current'])}</td><td>{status}</td></tr>")
    head = (f"<tr><th>{_e(L['req_level'])}</th><th>{_e(L['indicator'])}</th><th>{_e(L['required'])}</th>"
            f"<th>{_e(L['current'])}</th><th>{_e(L['status'])}</th></tr>")
    return f"<table class=\"reqs\">{head}{''.join(rows)}</table>"


def why_not_lines(r: Rating, lang: str) -> list[str]:
    """Why the vendor is not at the next level: the explanation's sentences saying so (or that it is the top)."""
    if r.next_level is None:
        return [LABELS[lang]["top"] if r.level is not None else r.reason]
    return [s for s in r.explanation[lang] if s.startswith(("Why not", "为何未达", "The score alone", "仅看分数"))]


def _why_not(r: Rating, lang: str) -> str:
    if r.next_level is None:
        return f"<p>{_e(why_not_lines(r, lang)[0])}</p>"
    return "<ul>" + "".join(f"<li>{_e(s)}</li>" for s in why_not_lines(r, lang)) + "</ul>"


def _plan_table(r: Rating, lang: str) -> str:
    L = LABELS[lang]
    p = r.plan
    if p.target_level is None:
        return f"<p>{_e(L['top'])}</p>" if r.level is not None else ""
    if not p.feasible:
        return f"<p class=\"ko\">{_e(L['no_plan'])}</p>"
    rows = [f"<tr data-plan=\"{_e(i['code'])}\"><td>{_e(i['indicator'])}</td><td>{_e(i['steps'])}</td><td>{_e(i['target'])}</td>"
            f"<td>{_e(i['reason'])}</td><td class=\"num\">+{i['gain']:.2f}</td></tr>" for i in plan_rows(r, lang)]
    head = (f"<tr><th>{_e(L['indicator'])}</th><th>{_e(L['from_to'])}</th><th>{_e(L['target'])}</th>"
            f"<th>{_e(L['reason'])}</th><th>{_e(L['gain'])}</th></tr>")
    summary = L["plan_total"].format(n=p.total_steps, a=p.score_before, b=p.score_after)
    return (f"<p>{_e(L['level_n'].format(n=p.target_level))}: {_e(summary)}</p><table class=\"plan\">{head}{''.join(rows)}</table>"
            f"<p class=\"muted\">{_e(L['plan_method'].format(m=p.method))}</p>")


def plan_rows(r: Rating, lang: str) -> list[dict[str, Any]]:
    """The improvement plan's step increases, as both reports show them: code, indicator (``code name``), steps
    (``from → to``), target (the descriptor of the step to reach), reason, gain."""
    L = LABELS[lang]
    fw = r.framework
    assert fw is not None
    rows = []
    for i in r.plan.items:
        why = L["r_requirement"] + (" " + ", ".join(i.requirements) if i.requirements else "") if i.reason == "requirement" else L["r_score"]
        if i.evidence_only:
            why += f" — {L['evidence_only']}"
        rows.append({"code": i.indicator, "indicator": f"{i.indicator} {fw.indicator(i.indicator).name.get(lang)}",
                     "steps": f"{i.from_step} → {i.to_step}", "target": step_desc(r, i.indicator, i.to_step, lang),
                     "reason": why, "gain": i.gain})
    return rows


def _details(r: Rating, lang: str) -> str:
    L = LABELS[lang]
    d = r.indicators[r.indicators["in_model"]]
    rows = []
    for code, x in d.iterrows():
        name = x["name_en"] if lang == "en" else x["name_zh"]
        if not x["applicable"]:
            rows.append(f"<tr class=\"muted\"><td>{_e(code)}</td><td>{_e(name)}</td><td colspan=\"6\">{_e(L['na'])}</td></tr>")
            continue
        step = str(int(x["step"])) + (f" ({L['capped']}, {int(x['claimed_step'])})" if x["capped"] else "")
        rows.append(f"<tr><td>{_e(code)}</td><td>{_e(name)}</td><td>{_e(step)}</td><td class=\"num\">{_fmt(float(x['score']))}</td>"
                    f"<td class=\"num\">{float(x['effective_weight']):.4f}</td><td>{_e(x['evidence_ref'] or '')}</td>"
                    f"<td>{_e(x['reviewer'] or '')}</td><td>{_e(x['date'] or '')}</td></tr>")
    head = (f"<tr><th>{_e(L['indicator'])}</th><th></th><th>{_e(L['step'])}</th><th>{_e(L['score'])}</th>"
            f"<th>{_e(L['eff_weight'])}</th><th>{_e(L['evidence'])}</th><th>{_e(L['reviewer'])}</th><th>{_e(L['date'])}</th></tr>")
    return f"<table class=\"details\">{head}{''.join(rows)}</table>"


def _method(rs: list[Rating], lang: str) -> str:
    return "<ul>" + "".join(f"<li>{_e(s)}</li>" for s in method_lines(rs, lang)) + "</ul>"


def method_lines(rs: list[Rating], lang: str) -> list[str]:
    """How the level is determined, one sentence per model, then the scoring and evidence rules."""
    fw = rs[0].framework
    assert fw is not None
    L = LABELS[lang]
    items = []
    for r in rs:
        m = fw.model(r.model_id)
        bands = m.rule.bands or {}
        lv = []
        for level in fw.levels:
            b = bands.get(level.level)
            band = ("" if b is None else (f" ≥ {b:g}" if lang == "en" else f"（≥ {b:g} 分）"))
            lv.append(f"{L['level_n'].format(n=level.level)} {level.name.get(lang)}{band}")
        if lang == "en":
            rule = ("a level needs its score band and every mandatory requirement of the levels up to it (staged)"
                    if bands and m.rule.staged else "score bands only" if bands else "staged mandatory requirements only")
            items.append(f"{m.name.get(lang)}: {'; '.join(lv)}. Rule: {rule}.")
        else:
            rule = ("既要分数落入该级区间，也要满足该级及以下各级全部必备要求（逐级累进）" if bands and m.rule.staged
                    else "仅按分数区间" if bands else "仅按逐级必备要求")
            items.append(f"{m.name.get(lang)}：{'；'.join(lv)}。规则：{rule}。")
    if lang == "en":
        items.append("Scores: each indicator's step is scored 0-100; indicator, element and capability scores are "
                     "weighted arithmetic means with AHP weights (consistency ratio < 0.1). Indicators that do not apply "
                     "to the provider type are excluded and their siblings' weights renormalised.")
    else:
        items.append("计分：各指标按档位折算为0～100分，指标→要素→能力→总分逐层按AHP权重（一致性比率<0.1）加权平均；"
                     "不适用于该服务商类型的指标被排除，同级其余指标按比例重新归一化权重。")
    items.append(L["lowest"])
    return items
