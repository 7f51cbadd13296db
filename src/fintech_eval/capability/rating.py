"""Rate a vendor: evidence-checked steps → indicator, capability and total scores → level, reason, plan.

:func:`rate_vendor` (one model) and :func:`rate_both` (every model of the framework, on the same evidence):

1. **Entries.** ``scores`` has one row per indicator: ``indicator``, ``step`` (rubric step) or ``value``
   (quantitative: mapped to a step by the thresholds), ``evidence_ref``, ``reviewer``, ``date``, ``comment``.
   Malformed rows raise one :class:`~fintech_eval.errors.DataError` naming every bad row, column and
   indicator.
2. **Evidence rule.** An indicator without an evidence reference cannot be scored above its lowest step:
   its step is capped there, and the cap is reported (``indicators.capped``, a note).
3. **Applicability.** Indicators that do not apply to the vendor's provider type are left out (not
   missing) and the weights of their siblings renormalised at every level of the tree
   (:func:`fintech_eval.methods.aggregate` with ``not_applicable``); the result lists them and the weight
   they carried. Applicable indicators that were not entered count at their lowest step (reported).
4. **Scores.** Step → 0-100 (:meth:`CapabilityFramework.step_scores`), then the weighted arithmetic mean
   up the model's tree (indicator → element → capability → total), weights from the AHP matrices.
5. **Level.** The highest L whose score band holds the total AND whose mandatory requirements for
   1..L are all met (:func:`fintech_eval.methods.levels.rate`); requirements on indicators that do not
   apply to the provider type are dropped. The reason names the requirements blocking the next level and
   how far the score is from its band.
6. **Improvement plan.** The smallest set of rubric step increases that reaches the next level: the
   blocking requirements must be met (their indicators raised to the required step), then the remaining
   score gap is closed with the fewest further one-step increases. Because the total is linear in the
   indicator scores (with fixed effective weights), this is a multiple-choice knapsack over step counts,
   solved **exactly** by dynamic programming over the number of steps (see :func:`min_step_plan`); ties
   are broken by the larger score gain.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..collect.numbers import parse_number
from ..errors import DataError, Problem
from ..methods.aggregate import aggregate
from ..methods.levels import LevelRule, rate
from .loader import load_capability_framework
from .models import CapabilityFramework, Requirement

SCORE_COLUMNS = ["indicator", "step", "value", "evidence_ref", "reviewer", "date", "comment"]


@dataclass(frozen=True)
class Vendor:
    """The vendor rated: its id, provider type (a code of the framework's ``provider_types``), name (and its
    English name, which the English explanation uses when there is one)."""

    id: str
    provider_type: str
    name: str | None = None
    name_en: str | None = None


@dataclass(frozen=True)
class Note:
    """Something the reader of a rating must know (an exclusion, a cap, a missing entry), in zh and en."""

    kind: str
    zh: str
    en: str
    codes: tuple[str, ...] = ()

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class PlanItem:
    indicator: str
    from_step: int
    to_step: int
    reason: Literal["requirement", "score"]
    gain: float  # points of the total score
    requirements: tuple[str, ...] = ()
    evidence_only: bool = False  # the entry already claims to_step: supplying the evidence is enough

    @property
    def steps(self) -> int:
        return self.to_step - self.from_step


@dataclass(frozen=True)
class ImprovementPlan:
    """The smallest set of step increases reaching ``target_level`` (None: already at the top level)."""

    target_level: int | None
    feasible: bool
    items: tuple[PlanItem, ...] = ()
    score_before: float = math.nan
    score_after: float = math.nan
    band_bound: float | None = None
    method: str = "exact (dynamic programming over step counts)"

    @property
    def total_steps(self) -> int:
        return sum(i.steps for i in self.items)


@dataclass
class Rating:
    """A vendor's rating under one model, with everything needed to explain it."""

    framework_id: str
    framework_version: str
    model_id: str
    vendor: Vendor
    total: float
    level: int | None
    band_level: int | None
    requirement_level: int | None
    next_level: int | None
    score_gap: float
    blocking: tuple[str, ...]
    reason: str
    capabilities: pd.DataFrame
    elements: pd.DataFrame
    indicators: pd.DataFrame
    requirements: pd.DataFrame
    plan: ImprovementPlan
    notes: list[Note] = field(default_factory=list)
    explanation: dict[str, list[str]] = field(default_factory=dict)
    framework: CapabilityFramework | None = field(default=None, repr=False)

    # ---- convenience ------------------------------------------------------------------------------
    def level_name(self, lang: str = "zh") -> str | None:
        if self.level is None or self.framework is None:
            return None
        return self.framework.level(self.level).name.get(lang)

    def model_name(self, lang: str = "zh") -> str:
        return self.framework.model(self.model_id).name.get(lang) if self.framework else self.model_id

    @property
    def excluded(self) -> list[str]:
        """Indicators of the model that do not apply to the vendor's provider type."""
        ind = self.indicators
        return ind.index[ind["in_model"] & ~ind["applicable"]].tolist()

    @property
    def capped(self) -> list[str]:
        return self.indicators.index[self.indicators["capped"]].tolist()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (capability scores, requirements, plan, notes, explanation)."""

        def num(x: Any) -> Any:
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else x

        return {
            "framework": f"{self.framework_id}@{self.framework_version}",
            "model": self.model_id,
            "vendor": self.vendor.id,
            "provider_type": self.vendor.provider_type,
            "total": num(round(self.total, 4)) if not math.isnan(self.total) else None,
            "level": self.level,
            "level_name_zh": self.level_name("zh"),
            "level_name_en": self.level_name("en"),
            "band_level": self.band_level,
            "requirement_level": self.requirement_level,
            "next_level": self.next_level,
            "score_gap": num(round(self.score_gap, 4)) if not math.isnan(self.score_gap) else None,
            "blocking": list(self.blocking),
            "reason": self.reason,
            "capabilities": [
                {"code": c, "name_zh": r["name_zh"], "name_en": r["name_en"],
                 "score": num(None if pd.isna(r["score"]) else round(float(r["score"]), 4)),
                 "weight": round(float(r["weight"]), 6), "effective_weight": round(float(r["effective_weight"]), 6)}
                for c, r in self.capabilities.iterrows()
            ],
            "requirements": [
                {"code": c, "indicator": r["indicator"], "level": int(r["level"]), "min_step": int(r["min_step"]),
                 "step": int(r["step"]), "met": bool(r["met"])}
                for c, r in self.requirements.iterrows()
            ],
            "excluded": self.excluded,
            "capped": self.capped,
            "plan": {
                "target_level": self.plan.target_level,
                "feasible": self.plan.feasible,
                "total_steps": self.plan.total_steps,
                "score_after": num(round(self.plan.score_after, 4)) if not math.isnan(self.plan.score_after) else None,
                "items": [{"indicator": i.indicator, "from_step": i.from_step, "to_step": i.to_step, "reason": i.reason,
                           "gain": round(i.gain, 4), "requirements": list(i.requirements),
                           "evidence_only": i.evidence_only} for i in self.plan.items],
                "method": self.plan.method,
            },
            "notes": [{"kind": n.kind, "zh": n.zh, "en": n.en, "codes": list(n.codes)} for n in self.notes],
            "explanation": self.explanation,
        }


# --------------------------------------------------------------------------------------------------------
# entries
# --------------------------------------------------------------------------------------------------------
def _blank(x: Any) -> bool:
    if x is None:
        return True
    try:
        if pd.isna(x):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(x, str) and not x.strip()


def _text(x: Any) -> str | None:
    return None if _blank(x) else str(x).strip()


def _int_step(x: Any) -> int | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | np.integer):
        return int(x)
    try:
        f = float(str(x).strip())
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


def _date(x: Any) -> dt.date | None | str:
    """A date, None for blank, or the string 'bad'."""
    if _blank(x):
        return None
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    if isinstance(x, pd.Timestamp):
        return x.date()
    try:
        return dt.date.fromisoformat(str(x).strip()[:10])
    except ValueError:
        return "bad"


@dataclass
class _Entry:
    indicator: str
    row: Any
    claimed: int | None
    value: float | None
    evidence: str | None
    reviewer: str | None
    date: dt.date | None
    comment: str | None


def read_entries(fw: CapabilityFramework, scores: pd.DataFrame, *, source: str | None = None) -> dict[str, _Entry]:
    """Validate the score entries; raise one DataError naming every bad row, column and indicator."""
    if not isinstance(scores, pd.DataFrame):
        raise DataError("scores must be a DataFrame with columns indicator, step or value, evidence_ref, "
                        "reviewer, date, comment", rule="scores.type",
                        zh="评分须为数据表（DataFrame），列为 indicator、step 或 value、evidence_ref、reviewer、date、comment")
    cols = [str(c) for c in scores.columns]
    base: dict[str, Any] = {"file": source} if source else {}
    if "indicator" not in cols or not ({"step", "value"} & set(cols)):
        raise DataError(f"scores need an 'indicator' column and a 'step' or 'value' column; got {cols}",
                        rule="scores.columns", **base,
                        zh=f"评分需要 'indicator' 列以及 'step' 或 'value' 列；实际列为 {cols}")
    known = {i.code for i in fw.indicators()}
    rows = scores["row"].tolist() if "row" in cols else list(range(1, len(scores) + 1))
    sheet = scores["sheet"].tolist() if "sheet" in cols else [None] * len(scores)
    get = {c: (scores[c].tolist() if c in cols else [None] * len(scores)) for c in SCORE_COLUMNS}
    problems: list[Problem] = []
    out: dict[str, _Entry] = {}

    def bad(rule: str, msg: str, zh: str, i: int, column: str, code: str | None) -> None:
        w = {**base, "sheet": sheet[i], "row": rows[i], "column": column, "indicator": code}
        problems.append(Problem(rule, msg, {k: v for k, v in w.items() if v is not None}, message_zh=zh))

    for i in range(len(scores)):
        code = _text(get["indicator"][i])
        if code is None:
            if all(_blank(get[c][i]) for c in SCORE_COLUMNS):
                continue  # an empty row
            bad("scores.indicator", "row has no indicator code", "该行没有指标代码", i, "indicator", None)
            continue
        if code not in known:
            bad("scores.indicator", f"unknown indicator {code!r} (not in {fw.id})",
                f"未知指标 {code!r}（不在 {fw.id} 中）", i, "indicator", code)
            continue
        if code in out:
            bad("scores.duplicate", f"indicator {code} is entered twice (first in row {out[code].row})",
                f"指标 {code} 填写了两次（首次在第 {out[code].row} 行）", i, "indicator", code)
            continue
        sc = fw.indicator(code).scoring
        steps = fw.step_numbers(code)
        raw_step, raw_value = get["step"][i], get["value"][i]
        claimed: int | None = None
        value: float | None = None
        if not _blank(raw_step):
            s = _int_step(raw_step)
            if s is None or s not in steps:
                bad("scores.step", f"step {raw_step!r} is not one of the steps of {code}: {steps}",
                    f"档位 {raw_step!r} 不是 {code} 的档位之一：{steps}", i, "step", code)
                continue
            claimed = s
        if not _blank(raw_value):
            if sc.type != "quantitative":
                bad("scores.value", f"{code} is scored by a rubric: enter a step, not a value",
                    f"{code} 按档位评分：请填写档位，而不是数值", i, "value", code)
                continue
            value, hint, rule = parse_number(raw_value)  # the one number parser of every intake (1,234; 65%; ６５)
            unit_en = (sc.unit.en if sc.unit else "") or ""
            if hint == "%" and unit_en.strip() != "%":
                bad("scores.value", f"value {raw_value!r} is written as a percentage but {code} is measured in "
                    f"{unit_en or 'plain numbers'}", f"数值 {raw_value!r} 写成了百分比，但 {code} 的计量单位是"
                    f"{(sc.unit.zh if sc.unit else '') or unit_en or '纯数值'}", i, "value", code)
                continue
            if rule or hint == "yes/no" or not math.isfinite(value):
                bad("scores.value", f"value {raw_value!r} is not a number", f"数值 {raw_value!r} 不是数字", i, "value",
                    code)
                continue
            from_value = fw.value_to_step(code, value)
            if claimed is not None and claimed != from_value:
                bad("scores.value", f"step {claimed} contradicts value {value:g} {sc.unit.en if sc.unit else ''} (which is step "
                    f"{from_value}); give one of them",
                    f"档位 {claimed} 与数值 {value:g} {(sc.unit.zh or sc.unit.en or '') if sc.unit else ''}（对应档位 "
                    f"{from_value}）矛盾；请只填写其中之一", i, "step", code)
                continue
            claimed = from_value
        d = _date(get["date"][i])
        if d == "bad":
            bad("scores.date", f"date {get['date'][i]!r} is not a date (YYYY-MM-DD)",
                f"日期 {get['date'][i]!r} 不是日期（YYYY-MM-DD）", i, "date", code)
            continue
        out[code] = _Entry(code, rows[i], claimed, value, _text(get["evidence_ref"][i]), _text(get["reviewer"][i]),
                           d if isinstance(d, dt.date) else None, _text(get["comment"][i]))
    if problems:
        raise DataError(problems)
    return out


# --------------------------------------------------------------------------------------------------------
# the improvement plan
# --------------------------------------------------------------------------------------------------------
def min_step_plan(
    current: Mapping[str, int],
    steps: Mapping[str, list[int]],
    step_scores: Mapping[str, Mapping[int, float]],
    weights: Mapping[str, float],
    gap: float,
    forced: Mapping[str, int] | None = None,
) -> tuple[dict[str, int], bool]:
    """The fewest one-step increases that add at least ``gap`` points to ``Σ weights[i] · score_i``, after
    raising each ``forced`` indicator to its step. Returns (indicator → new step, for those raised; feasible).

    Exact: a multiple-choice knapsack (one choice per indicator: how many steps up) minimising the number of
    steps, by dynamic programming over the step count (``best[c]`` = largest gain with exactly ``c`` steps),
    O(indicators × total steps × steps per indicator). Among plans with the fewest steps the one with the
    largest gain is returned (so ties favour the higher score). The levers and the search are the index
    planner's too (:mod:`fintech_eval.methods.improve`: :class:`Lever`, :func:`fewest_steps`)."""
    from ..methods.improve import Lever, feasible, fewest_steps

    forced = dict(forced or {})
    cur = {k: max(int(current[k]), int(forced.get(k, current[k]))) for k in current}
    raised = {k: cur[k] for k in forced if cur[k] > current[k]}
    gain0 = sum(weights.get(k, 0.0) * (step_scores[k][cur[k]] - step_scores[k][current[k]]) for k in raised)
    levers = feasible(Lever(k, cur[k], steps[k][-1], steps=tuple(s for s in steps[k] if s >= cur[k]))
                      for k in cur if weights.get(k, 0.0) > 0)
    more, ok = fewest_steps(levers, lambda lv, s: weights[lv.code] * (step_scores[lv.code][s] - step_scores[lv.code][int(lv.now)]),
                            gap - gain0)
    return ({**raised, **more}, True) if ok else (raised, False)


# --------------------------------------------------------------------------------------------------------
# rating
# --------------------------------------------------------------------------------------------------------
def _framework(framework: CapabilityFramework | str | Path) -> CapabilityFramework:
    return framework if isinstance(framework, CapabilityFramework) else load_capability_framework(framework)


def _vendor(fw: CapabilityFramework, vendor: Vendor | str, provider_type: str | None) -> Vendor:
    if isinstance(vendor, Vendor):
        if provider_type is not None and provider_type != vendor.provider_type:
            raise DataError(f"provider type {provider_type!r} contradicts the vendor's {vendor.provider_type!r}",
                            rule="vendor.provider_type", vendor=vendor.id)
        v = vendor
    else:
        if provider_type is None:
            raise DataError(f"give the provider type of vendor {vendor!r} (one of "
                            f"{', '.join(p.code for p in fw.provider_types)})", rule="vendor.provider_type", vendor=vendor)
        v = Vendor(str(vendor), provider_type)
    codes = [p.code for p in fw.provider_types]
    if v.provider_type not in codes:
        raise DataError(f"unknown provider type {v.provider_type!r}; {fw.id} knows {', '.join(codes)}",
                        rule="vendor.provider_type", vendor=v.id)
    return v


def rate_vendor(
    framework: CapabilityFramework | str | Path,
    model: str,
    vendor: Vendor | str,
    scores: pd.DataFrame,
    *,
    provider_type: str | None = None,
    source: str | None = None,
) -> Rating:
    """Rate ``vendor`` under ``model`` from its score entries (see the module doc for every rule)."""
    fw = _framework(framework)
    try:
        m = fw.model(model)
    except KeyError:
        raise DataError(f"unknown model {model!r}; {fw.id} has {', '.join(x.id for x in fw.models)}",
                        rule="model.unknown") from None
    v = _vendor(fw, vendor, provider_type)
    entries = read_entries(fw, scores, source=source)
    return _rate(fw, m.id, v, entries)


def rate_both(
    framework: CapabilityFramework | str | Path,
    vendor: Vendor | str,
    scores: pd.DataFrame,
    *,
    provider_type: str | None = None,
    source: str | None = None,
) -> dict[str, Rating]:
    """Every model of the framework (comprehensive and innovation for the default) on the same evidence."""
    fw = _framework(framework)
    v = _vendor(fw, vendor, provider_type)
    entries = read_entries(fw, scores, source=source)
    return {m.id: _rate(fw, m.id, v, entries) for m in fw.models}


def _rate(fw: CapabilityFramework, model_id: str, v: Vendor, entries: dict[str, _Entry]) -> Rating:
    m = fw.model(model_id)
    tree = fw.compile(model_id)
    in_model = set(tree.indicators)
    ptype = fw.provider_type(v.provider_type)
    notes: list[Note] = []

    # ---- indicator table -------------------------------------------------------------------------
    recs = []
    for ind in fw.indicators():
        c = ind.code
        steps = fw.step_numbers(c)
        sscore = fw.step_scores(c)
        e = entries.get(c)
        applicable = fw.applies(c, v.provider_type)
        claimed = e.claimed if e else None
        has_ev = bool(e and e.evidence)
        step = steps[0] if claimed is None else claimed
        capped = applicable and claimed is not None and claimed > steps[0] and not has_ev
        if capped:
            step = steps[0]
        path = fw.path_of(c)
        recs.append({
            "code": c, "capability": path[0], "element": path[1] if len(path) > 1 else None,
            "name_zh": ind.name.zh, "name_en": ind.name.en or ind.name.zh,
            "in_model": c in in_model, "applicable": applicable,
            "entered": e is not None and claimed is not None, "claimed_step": claimed,
            "value": e.value if e else None, "step": step, "min_step": steps[0], "max_step": steps[-1],
            "score": sscore[step], "has_evidence": has_ev, "capped": capped,
            "evidence_ref": e.evidence if e else None, "reviewer": e.reviewer if e else None,
            "date": e.date if e else None, "comment": e.comment if e else None,
        })
    ind_df = pd.DataFrame(recs).set_index("code")
    ind_df["claimed_step"] = ind_df["claimed_step"].astype("Int64")
    ind_df["step"] = ind_df["step"].astype(int)

    used = ind_df[ind_df["in_model"]]
    app_codes = set(used.index[used["applicable"]])
    nominal = tree.effective_weights()
    effective = tree.effective_weights(app_codes)
    ind_df["nominal_weight"] = nominal.reindex(ind_df.index).fillna(0.0)
    ind_df["effective_weight"] = effective.reindex(ind_df.index).fillna(0.0)

    # ---- scores through the engine's aggregate ---------------------------------------------------
    codes = tree.indicators
    data = pd.DataFrame([ind_df.loc[codes, "score"].astype(float).to_numpy()], index=[v.id], columns=codes)
    na = pd.DataFrame([[c not in app_codes for c in codes]], index=[v.id], columns=codes)
    agg = aggregate(data, tree.tree(), method="amean", not_applicable=na if na.to_numpy().any() else None,
                    order="tree")
    total = float(agg.loc[v.id, tree.root]) if app_codes else math.nan

    local = tree.local_weights
    parent = tree.parent_of

    def node_table(level_codes: list[str], names: dict[str, Any]) -> pd.DataFrame:
        rows = []
        for code in level_codes:
            leaves = [i for i in codes if _under(i, code, parent)]
            rows.append({
                "code": code, "name_zh": names[code].name.zh, "name_en": names[code].name.en or names[code].name.zh,
                "score": float(agg.loc[v.id, code]) if any(i in app_codes for i in leaves) else math.nan,
                "weight": local[code],
                "effective_weight": float(sum(effective.get(i, 0.0) for i in leaves)),
                "nominal_weight": float(sum(nominal.get(i, 0.0) for i in leaves)),
                "applicable": any(i in app_codes for i in leaves),
                "indicators": len(leaves), "applicable_indicators": sum(i in app_codes for i in leaves),
            })
        return pd.DataFrame(rows).set_index("code") if rows else pd.DataFrame(
            columns=["name_zh", "name_en", "score", "weight", "effective_weight", "nominal_weight", "applicable"])

    cap_codes = [c for c in m.capabilities]
    el_codes = [r["code"] for r in tree.rows if r["parent"] in set(cap_codes) and r["level"] > 1]
    cap_df = node_table(cap_codes, {c: fw.node(c) for c in cap_codes})
    el_df = node_table(el_codes, {c: fw.node(c) for c in el_codes})

    # ---- requirements and level --------------------------------------------------------------------
    reqs_all = fw.requirements(model_id) if m.rule.staged else []  # a score-only rule uses none
    reqs = [r for r in reqs_all if fw.applies(r.indicator, v.provider_type)]
    dropped = [r for r in reqs_all if r not in reqs]
    req_df = pd.DataFrame([
        {"code": r.code, "indicator": r.indicator, "level": r.level, "min_step": r.min_step,
         "step": int(ind_df.loc[r.indicator, "step"]), "claimed_step": ind_df.loc[r.indicator, "claimed_step"],
         "met": bool(ind_df.loc[r.indicator, "step"] >= r.min_step),
         "capped": bool(ind_df.loc[r.indicator, "capped"])}
        for r in reqs
    ], columns=["code", "indicator", "level", "min_step", "step", "claimed_step", "met", "capped"]).set_index("code")
    levels = fw.level_numbers()
    bands = {int(k): float(b) for k, b in (m.rule.bands or {}).items()}
    req_map = {r.code: r.level for r in reqs}
    names = {lv.level: lv.name.zh for lv in fw.levels}
    if math.isnan(total):
        level = band_level = req_level = next_level = None
        gap = math.nan
        blocking: tuple[str, ...] = ()
        reason = "no applicable indicator: cannot rate"
    elif not bands and not req_map:
        level = band_level = req_level = levels[-1]
        next_level = None
        gap = math.nan
        blocking = ()
        reason = f"level {levels[-1]}: the top level (staged rule with no requirement applicable to this provider type)"
    else:
        rule = LevelRule(tuple(levels), bands, req_map, names)
        met = (pd.DataFrame([[bool(req_df.loc[c, "met"]) for c in req_map]], index=[v.id], columns=list(req_map))
               if req_map else None)
        out = rate(pd.Series({v.id: total}), met, rule).iloc[0]

        def opt(x: Any) -> int | None:
            return None if pd.isna(x) else int(x)

        level, band_level, req_level = opt(out["level"]), opt(out["band_level"]), opt(out["requirement_level"])
        if not bands:
            band_level = None
        if not req_map:
            req_level = None
        next_level = opt(out["next_level"])
        gap = float(out["score_gap"]) if bands and next_level is not None else math.nan
        blocking = tuple(out["blocking"])
        reason = str(out["reason"])

    # ---- plan -------------------------------------------------------------------------------------
    plan = _plan(fw, ind_df, reqs, bands, total, level, next_level, effective, app_codes)

    # ---- notes ------------------------------------------------------------------------------------
    excluded = [c for c in codes if c not in app_codes]
    if excluded:
        share = float(sum(nominal.get(c, 0.0) for c in excluded))
        notes.append(Note(
            "not_applicable",
            f"{len(excluded)} 项指标不适用于{ptype.name.zh}，已排除（不计为缺失）；其余指标在各层级按原权重比例重新归一化"
            f"（被排除指标原占模型名义权重 {share:.1%}）。",
            f"{len(excluded)} indicator(s) do not apply to a {ptype.name.en or ptype.name.zh} and were excluded (not "
            f"counted as missing); the weights of the others were renormalised at every level of the tree (the "
            f"excluded ones carried {share:.1%} of the model's nominal weight).",
            tuple(excluded)))
    if dropped:
        notes.append(Note(
            "requirement_not_applicable",
            "以下必备要求所依据的指标不适用于该服务商类型，不参与定级：" + "、".join(r.code for r in dropped) + "。",
            "These mandatory requirements rest on indicators that do not apply to this provider type and were "
            "dropped from the level rule: " + ", ".join(r.code for r in dropped) + ".",
            tuple(r.code for r in dropped)))
    relevant = ind_df[(ind_df["in_model"] & ind_df["applicable"]) | ind_df.index.isin([r.indicator for r in reqs])]
    capped = relevant.index[relevant["capped"]].tolist()
    if capped:
        notes.append(Note(
            "evidence_cap",
            f"{len(capped)} 项指标未提供证据，按规则只能按最低档计分：" + "、".join(
                f"{c}（申报第{int(ind_df.loc[c, 'claimed_step'])}档）" for c in capped) + "。",
            f"{len(capped)} indicator(s) have no evidence and, by rule, were scored at their lowest step: " + ", ".join(
                f"{c} (claimed step {int(ind_df.loc[c, 'claimed_step'])})" for c in capped) + ".",
            tuple(capped)))
    missing = relevant.index[~relevant["entered"]].tolist()
    if missing:
        notes.append(Note(
            "missing",
            f"{len(missing)} 项适用指标未填报，按最低档计分：" + "、".join(missing) + "。",
            f"{len(missing)} applicable indicator(s) were not entered and count at their lowest step: "
            + ", ".join(missing) + ".",
            tuple(missing)))
    ignored = [c for c, e in entries.items() if not fw.applies(c, v.provider_type) and e.claimed is not None]
    if ignored:
        notes.append(Note(
            "ignored",
            "以下指标不适用于该服务商类型，其填报已忽略：" + "、".join(ignored) + "。",
            "These entries are for indicators that do not apply to this provider type and were ignored: "
            + ", ".join(ignored) + ".",
            tuple(ignored)))
    no_reviewer = [c for c in relevant.index if entries.get(c) and entries[c].evidence and not entries[c].reviewer]
    if no_reviewer:
        notes.append(Note(
            "no_reviewer",
            "以下指标有证据但未填写评审人：" + "、".join(no_reviewer) + "。",
            "These indicators have evidence but no reviewer: " + ", ".join(no_reviewer) + ".",
            tuple(no_reviewer)))

    rating = Rating(
        framework_id=fw.id, framework_version=fw.version, model_id=model_id, vendor=v, total=total,
        level=level, band_level=band_level, requirement_level=req_level, next_level=next_level, score_gap=gap,
        blocking=blocking, reason=reason, capabilities=cap_df, elements=el_df, indicators=ind_df,
        requirements=req_df, plan=plan, notes=notes, framework=fw,
    )
    rating.explanation = {"zh": explain(rating, "zh"), "en": explain(rating, "en")}
    return rating


def _under(code: str, node: str, parent: Mapping[str, str | None]) -> bool:
    cur: str | None = code
    while cur is not None:
        if cur == node:
            return True
        cur = parent.get(cur)
    return False


def _plan(fw: CapabilityFramework, ind: pd.DataFrame, reqs: list[Requirement], bands: dict[int, float], total: float,
          level: int | None, next_level: int | None, weights: pd.Series, app_codes: set[str]) -> ImprovementPlan:
    if math.isnan(total):
        return ImprovementPlan(None, False)
    if next_level is None:
        return ImprovementPlan(None, True, (), total, total)
    forced: dict[str, int] = {}
    why: dict[str, list[str]] = {}
    for r in reqs:
        if r.level <= next_level and int(ind.loc[r.indicator, "step"]) < r.min_step:
            forced[r.indicator] = max(forced.get(r.indicator, r.min_step), r.min_step)
            why.setdefault(r.indicator, []).append(r.code)
    movable = set(app_codes) | set(forced)
    current = {c: int(ind.loc[c, "step"]) for c in movable}
    steps = {c: fw.step_numbers(c) for c in movable}
    sscores = {c: fw.step_scores(c) for c in movable}
    w = {c: float(weights.get(c, 0.0)) for c in movable}
    bound = bands.get(next_level) if bands else None
    gap = max(0.0, bound - total) if bound is not None else 0.0
    raised, feasible = min_step_plan(current, steps, sscores, w, gap, forced)
    items = []
    for c in [x for x in ind.index if x in raised]:
        frm, to = current[c], raised[c]
        claimed = ind.loc[c, "claimed_step"]
        items.append(PlanItem(
            indicator=c, from_step=frm, to_step=to, reason="requirement" if c in forced else "score",
            gain=w[c] * (sscores[c][to] - sscores[c][frm]), requirements=tuple(why.get(c, ())),
            evidence_only=bool(ind.loc[c, "capped"]) and not pd.isna(claimed) and int(claimed) >= to,
        ))
    after = total + sum(i.gain for i in items)
    return ImprovementPlan(next_level, feasible, tuple(items), total, after, bound)


# --------------------------------------------------------------------------------------------------------
# plain-language explanation
# --------------------------------------------------------------------------------------------------------
def _req_text(r: Rating, code: str, lang: str) -> str:
    fw = r.framework
    assert fw is not None
    row = r.requirements.loc[code]
    ind = fw.indicator(row["indicator"])
    desc = {s.step: s.descriptor.get(lang) for s in fw.steps(ind.code)}
    if lang == "en":
        txt = (f"{ind.code} {ind.name.get('en')}: step ≥ {row['min_step']} (\"{desc[row['min_step']]}\"), "
               f"now step {row['step']}")
        if row["capped"]:
            txt += f" (claimed step {row['claimed_step']} without evidence)"
        return txt
    txt = f"{ind.code} {ind.name.zh}：须达第{row['min_step']}档（“{desc[row['min_step']]}”），当前第{row['step']}档"
    if row["capped"]:
        txt += f"（申报第{row['claimed_step']}档但无证据）"
    return txt


def explain(r: Rating, lang: str = "zh") -> list[str]:
    """The level and why, in plain Chinese (``zh``) or English (``en``), one sentence per item."""
    fw = r.framework
    assert fw is not None
    en = lang == "en"
    model = fw.model(r.model_id)
    mname = model.name.get(lang)
    ptype = fw.provider_type(r.vendor.provider_type).name.get(lang)
    who = (r.vendor.name_en if en else None) or r.vendor.name or r.vendor.id
    bands = {int(k): float(b) for k, b in (model.rule.bands or {}).items()}
    out: list[str] = []

    def lvname(n: int) -> str:
        return fw.level(n).name.get(lang)

    def band_text(n: int) -> str:
        lo = bands[n]
        hi = bands.get(n + 1)
        return (f"{lo:g}–{hi:g}" if hi is not None else f"≥ {lo:g}") if en else (f"{lo:g}～{hi:g}分" if hi is not None else f"{lo:g}分及以上")

    if math.isnan(r.total):
        out.append(f"Under the {mname} model no indicator applies to {who} ({ptype}), so it cannot be rated." if en
                   else f"在{mname}模型下，没有适用于{who}（{ptype}）的指标，无法评级。")
        return out
    if r.level is not None:
        out.append(f"Under the {mname} model, {who} ({ptype}) is rated Level {r.level} ({lvname(r.level)}), with a total "
                   f"score of {r.total:.1f} out of 100." if en else
                   f"在{mname}模型下，{who}（{ptype}）的评级为第{r.level}级（{lvname(r.level)}），总分 {r.total:.1f} 分（满分100）。")
    else:
        out.append(f"Under the {mname} model, {who} ({ptype}) does not reach Level 1: total score {r.total:.1f} out of 100."
                   if en else f"在{mname}模型下，{who}（{ptype}）未达到第1级，总分 {r.total:.1f} 分（满分100）。")
    if bands and r.band_level is not None:
        out.append(f"The score lies in the band of Level {r.band_level} ({band_text(r.band_level)})." if en else
                   f"该分数位于第{r.band_level}级的分数区间（{band_text(r.band_level)}）。")
    if bands and r.band_level is not None and r.level is not None and r.band_level > r.level:
        cap_reqs = [c for c in r.requirements.index if not r.requirements.loc[c, "met"]
                    and int(r.requirements.loc[c, "level"]) <= r.band_level]
        lv_blocked = min(int(r.requirements.loc[c, "level"]) for c in cap_reqs) if cap_reqs else r.level + 1
        items = "; ".join(_req_text(r, c, lang) for c in cap_reqs if int(r.requirements.loc[c, "level"]) == lv_blocked)
        out.append(f"The score alone would allow Level {r.band_level}, but a mandatory requirement of Level {lv_blocked} "
                   f"is not met ({items}), so the level is capped at Level {r.level}: a level needs both its score "
                   f"band and every mandatory requirement of the levels up to it." if en else
                   f"仅看分数可达第{r.band_level}级，但第{lv_blocked}级的必备要求未满足（{items}），因此评级封顶于第{r.level}级："
                   f"达到某一级既要分数落入该级区间，也要满足该级及以下各级的全部必备要求。")
    if r.next_level is None:
        out.append(f"Level {r.level} is the top level." if en else f"第{r.level}级已是最高等级。")
    else:
        nxt = r.next_level
        parts = []
        if r.blocking:
            reqs = "; ".join(_req_text(r, c, lang) for c in r.blocking)
            parts.append(f"meet the mandatory requirement(s) {reqs}" if en else f"满足必备要求：{reqs}")
        if bands and not math.isnan(r.score_gap) and r.score_gap > 0:
            parts.append(f"raise the score by {r.score_gap:.1f} points to at least {bands[nxt]:g}" if en else
                         f"总分还需提高 {r.score_gap:.1f} 分，达到 {bands[nxt]:g} 分")
        elif bands:
            parts.append(f"the score already reaches its band ({band_text(nxt)})" if en else
                         f"分数已达到该级区间（{band_text(nxt)}）")
        out.append((f"Why not Level {nxt} ({lvname(nxt)}): to reach it, " + "; and ".join(parts) + ".") if en else
                   (f"为何未达第{nxt}级（{lvname(nxt)}）：需" + "；并且".join(parts) + "。"))
        p = r.plan
        if p.items and p.feasible:
            steps = ", ".join(f"{i.indicator} step {i.from_step}→{i.to_step}" + (" (supply the evidence)" if i.evidence_only else "")
                              for i in p.items) if en else "、".join(
                f"{i.indicator} 第{i.from_step}档→第{i.to_step}档" + ("（补充证据即可）" if i.evidence_only else "") for i in p.items)
            out.append(f"Smallest improvement plan: {p.total_steps} step increase(s) — {steps} — would bring the score to "
                       f"{p.score_after:.1f} and reach Level {nxt}." if en else
                       f"最小改进方案：共提升 {p.total_steps} 个档位（{steps}），总分将达到 {p.score_after:.1f} 分，可达第{nxt}级。")
        elif not p.feasible:
            out.append(f"Level {nxt} cannot be reached even with every applicable indicator at its highest step." if en else
                       f"即使全部适用指标达到最高档，也无法达到第{nxt}级。")
    for n in r.notes:
        if n.kind in ("not_applicable", "evidence_cap", "missing"):
            out.append(n.get(lang))
    return out
