"""One language per report: the names a report takes from elsewhere, in the report's language.

* node names come from the framework the result was computed with (a shipped framework whose indicator
  codes cover the result's tree: JR/T 0201 has every heading and indicator in Chinese and English); a tree
  of the user's own (COINr iMeta, a DataFrame) keeps the names it was given;
* group columns (``sector``, ``region_code``) and their values (``bank`` → 银行业 / Banking, ``44`` → 广东省 /
  Guangdong) are translated through :data:`GROUPS`, a registry of one function per group column;
* the run's warnings (strings today, structured problems with ``rule``/``message``/``step``/``indicator``/
  ``group`` tomorrow) are translated through :data:`WARNINGS`, one pattern per kind of warning; one this
  module does not know is shown by its stage, codes and rule in the report's language, with the original
  text left to ``manifest.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from ..engine.tree import Tree
from ..errors import Problem
from .i18n import t

# --- framework names --------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _framework_for(codes: frozenset[str]) -> Any:
    from ..catalog import load_framework
    from ..catalog.loader import shipped_files

    for ref in shipped_files():
        if "@" in ref:
            continue
        fw = load_framework(ref)
        known = {i.code for i in fw.indicators(include_incomplete=True)}
        if codes <= known:
            return fw
    return None


def framework_of(tree: Tree) -> Any:
    """The shipped framework whose indicators include every indicator of ``tree`` (None: the user's own)."""
    codes = frozenset(map(str, tree.indicators))
    return _framework_for(codes) if codes else None


def framework_names(tree: Tree, lang: str) -> dict[str, str]:
    """Code → name in ``lang`` for every node of ``tree`` the framework names; the tree's own names else."""
    names = {str(c): str(n) if isinstance(n, str) and n else str(c) for c, n in zip(tree.meta["code"], tree.meta["name"], strict=True)}
    fw = framework_of(tree)
    if fw is None:
        return names
    for code in names:
        try:
            node = fw.node(code)
        except Exception:  # noqa: BLE001 - a node the framework does not have (e.g. the block itself)
            blk = next((b for b in fw.blocks if b.code == code), None)
            node = blk
        name = getattr(node, "name", None)
        if name is not None and hasattr(name, "get"):
            names[code] = name.get(lang)
    return names


def localised_tree(tree: Tree, lang: str) -> Tree:
    """``tree`` with every node's name in ``lang`` (weights, directions and levels unchanged)."""
    names = framework_names(tree, lang)
    meta = tree.meta.copy()
    meta["name"] = meta["code"].map(lambda c: names.get(str(c), str(c)))
    out = Tree.from_rows(meta.to_dict("records"))
    return out


def applicability(tree: Tree, sector: Any) -> dict[str, list[str]]:
    """Indicator → the sectors it applies to, for the indicators of ``tree`` that do not apply to ``sector``
    (from the framework; empty when the framework or the sector is unknown)."""
    fw = framework_of(tree)
    if fw is None or not isinstance(sector, str) or not sector:
        return {}
    out: dict[str, list[str]] = {}
    for code in tree.indicators:
        try:
            ind = fw.indicator(str(code))
        except Exception:  # noqa: BLE001
            continue
        if not ind.applies_to(sector):
            out[str(code)] = list(ind.sectors)
    return out


# --- groups and their values ------------------------------------------------------------------------------


def _sector_value(value: Any, lang: str) -> str:
    key = f"sector.{value}"
    from .i18n import has

    return t(key, lang) if has(key) else str(value)


def _province_value(value: Any, lang: str) -> str:
    from ..geo import provinces, resolve_many

    mapping, _ = resolve_many([value], in_scope_only=False)
    code = mapping.get(value)
    if code is None:
        return str(value)
    table = provinces(include_out_of_scope=True).set_index("code")
    return str(table.at[code, "name_zh" if lang == "zh" else "name_en"]) if code in table.index else str(value)


@dataclass(frozen=True)
class GroupKind:
    label: str  # i18n key of the column's name
    value: Callable[[Any, str], str]  # (value, lang) → the value's name


#: group column → how to name it and its values; a column not listed keeps its name and values
GROUPS: dict[str, GroupKind] = {
    "sector": GroupKind("group.sector", _sector_value),
    "region_code": GroupKind("group.province", _province_value),
    "province": GroupKind("group.province", _province_value),
    "region": GroupKind("group.province", _province_value),
}


def group_label(column: str, lang: str) -> str:
    g = GROUPS.get(str(column))
    if g is not None:
        return t(g.label, lang)
    return str(column).removesuffix("_group").removesuffix("_Group")


def group_value(column: str, value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    g = GROUPS.get(str(column))
    return g.value(value, lang) if g is not None else str(value)


def group_values(column: str, values: pd.Series, lang: str) -> pd.Series:
    """A column of group values, each named in ``lang`` (missing stays missing)."""
    if str(column) not in GROUPS:
        return values
    uniq = {v: group_value(column, v, lang) for v in pd.unique(values.dropna())}
    return values.map(uniq).astype(object)


# --- warnings ---------------------------------------------------------------------------------------------

_JRT_CODE = re.compile(r"\b(?:[a-z]+:)?[JHQ]-A\d+B\d+-C\d+\b")


@dataclass
class Note:
    """One warning of the run as a report shows it: its text in the report's language and what it concerns."""

    text: str
    rule: str = ""
    step: str = ""
    indicators: tuple[str, ...] = ()
    group: str | None = None  # the group value it concerns (None: every unit)
    column: str | None = None  # the group column (e.g. sector)


@dataclass(frozen=True)
class WarningKind:
    pattern: re.Pattern[str]  # matches a string warning; named groups are the fields
    zh: str
    en: str
    rule: str


#: known warnings: rule → pattern and texts. Structured problems are looked up by ``rule``; strings by pattern.
WARNINGS: dict[str, WarningKind] = {
    k.rule: k
    for k in (
        WarningKind(
            re.compile(r"^treat: (?P<n>\d+) indicator\(s\) with fewer than (?P<min>\d+) values(?: in (?P<column>\w+) (?P<group>\S+))? left untreated: (?P<codes>.+)$"),
            "异常值处理：{where}指标 {codes} 的有效值过少（少于 4 个），未做处理",
            "Outlier treatment: too few values (fewer than 4) for {codes}{where_en}: left untreated",
            "treat.sparse",
        ),
        WarningKind(
            re.compile(r"^(?P<codes>\S+) has no spread.*$"),
            "标准化：{where}指标 {codes} 各单位取值相同（无差异）：{applied_zh}",
            "Normalisation: {codes} has no spread{where_en}: {applied_en}",
            "normalise.no_spread",
        ),
        WarningKind(
            re.compile(r"^(?P<node>\S+) left missing for (?P<n>\d+) unit\(s\): too few of its children.*$"),
            "聚合：{node} 的下级指标中有数据的比例低于阈值，{n} 个单位的该项得分缺失",
            "Aggregation: {node} left missing for {n} unit(s): too few of its children have data",
            "aggregate.dat_thresh",
        ),
        WarningKind(
            re.compile(r"^(?P<stage>\w+): the range of x is 0.*$"),
            "标准化：{where}指标 {codes} 各单位取值相同（无差异），无法标准化，未计入得分",
            "Normalisation: indicator {codes} has the same value for every unit{where_en}: it cannot be normalised and is left out of the scores",
            "normalise.constant",
        ),
        WarningKind(
            re.compile(r"^(?P<stage>\w+): after imputation there are still (?P<n>\d+) missing values.*$"),
            "插补：插补后仍有 {n} 个缺失值",
            "Imputation: {n} values are still missing after imputation",
            "impute.remaining",
        ),
        WarningKind(
            re.compile(r"^(?P<stage>\w+): denominator (?P<den>\S+) is zero.*$"),
            "分母化：指标 {codes} 的分母 {den} 为零",
            "Denomination: the denominator {den} of indicator {codes} is zero",
            "denominate.zero",
        ),
        WarningKind(
            re.compile(r"^report: the scores read from .* do not match the manifest's SHA-256.*$"),
            "读取的得分与 manifest.json 中的 SHA-256 不一致（结果文件在运行后被修改？）",
            "The scores read do not match the SHA-256 in manifest.json (files edited after the run?)",
            "report.sha256",
        ),
    )
}

_STEP_ZH = {"treat": "异常值处理", "normalise": "标准化", "impute": "插补", "denominate": "分母化", "screen": "筛选",
            "aggregate": "聚合", "weight": "加权", "rate": "定级", "report": "报告"}


#: how a group without spread was scored (the normalise step's ``no_spread`` rule)
_APPLIED = {
    "pooled": ("按全部分组的取值范围计分", "scored on the range over all groups"),
    "exclude": ("不计入该组的汇总得分（权重重新分配）", "left out of the group's aggregates (weights renormalised)"),
}

_DICT_STRING = re.compile(r"^(?P<stage>\w+): (?P<body>\{.*\})$")


def _as_problem(w: Any) -> Any:
    """A :class:`~fintech_eval.errors.Problem` as its dict; a string that is ``"Stage: {'step': ..., 'message': ...}"``
    (a problem printed into a string by older versions) as the dict."""
    if isinstance(w, Problem):
        return w.as_dict()
    if isinstance(w, str):
        m = _DICT_STRING.match(w)
        if m:
            import ast

            try:
                d = ast.literal_eval(m.group("body"))
            except (ValueError, SyntaxError):
                return w
            if isinstance(d, dict):
                return {"stage": m.group("stage"), **d}
    return w


def _fields_of(w: Any) -> tuple[WarningKind | None, dict[str, Any]]:
    w = _as_problem(w)
    if isinstance(w, dict):
        fields = {k: v for k, v in w.items() if v is not None}
        if "indicator" in fields and "codes" not in fields:
            ind = fields["indicator"]
            fields["codes"] = ", ".join(map(str, ind)) if isinstance(ind, list | tuple) else str(ind)
        grp = fields.get("group")
        if isinstance(grp, str) and "=" in grp and "column" not in fields:
            fields["column"], fields["group"] = (x.strip() for x in grp.split("=", 1))
        kind = WARNINGS.get(str(w.get("rule") or ""))
        if kind is None:  # a rule we do not know (or none): match its message
            text = f"{w.get('step') or w.get('stage') or 'x'}: {w.get('message', '')}"
            for k in WARNINGS.values():
                m = k.pattern.match(text)
                if m:
                    return k, {**{a: b for a, b in m.groupdict().items() if b is not None}, **fields}
        return kind, fields
    text = str(w)
    for k in WARNINGS.values():
        m = k.pattern.match(text)
        if m:
            return k, {a: b for a, b in m.groupdict().items() if b is not None}
    return None, {"message": text}


def warning_note(w: Any, lang: str) -> Note:
    """One warning (a string or a dict with rule/message/step/indicator/group) as a :class:`Note` in ``lang``."""
    kind, f = _fields_of(w)
    codes_text = str(f.get("codes", ""))
    codes = tuple(dict.fromkeys(_JRT_CODE.findall(codes_text) or _JRT_CODE.findall(str(f.get("message", ""))) or
                                ([c.strip() for c in codes_text.split(",") if c.strip()] if codes_text else [])))
    column = f.get("column") or ("sector" if f.get("group") is not None and not f.get("column") else None)
    group = f.get("group")
    step = str(f.get("step") or f.get("stage") or (kind.rule.split(".")[0] if kind else ""))
    if kind is not None:
        gname = group_value(column or "", group, lang) if group is not None else ""
        where = (f"{group_label(column or '', 'zh')}“{gname}”中" if group is not None else "") if lang == "zh" else ""
        where_en = f" in {group_label(column or '', 'en').lower()} {gname}" if group is not None else ""
        fmt = {k: v for k, v in f.items() if isinstance(k, str)}
        fmt.update(where=where, where_en=where_en, codes=", ".join(codes) if codes else codes_text)
        fmt.setdefault("n", len(f["units"]) if isinstance(f.get("units"), list) else len(codes))
        applied = str(f.get("rule_applied", ""))
        fmt.setdefault("applied_zh", _APPLIED[applied][0] if applied in _APPLIED else "")
        fmt.setdefault("applied_en", _APPLIED[applied][1] if applied in _APPLIED else "")
        fmt.setdefault("node", "")
        for key in ("min", "den"):
            fmt.setdefault(key, "")
        text = (kind.zh if lang == "zh" else kind.en).format(**fmt)
        return Note(text, kind.rule, step, codes, None if group is None else str(group), column)
    # unknown: its stage, codes and rule in the report's language; the original text is in manifest.json
    rule = str(f.get("rule", ""))
    if lang == "en":
        text = f"{step}: {f['message']}" if step and "message" in f and not str(f["message"]).startswith(step) else str(f.get("message", w))
    else:
        stage = _STEP_ZH.get(step, "运行")
        text = f"{stage}阶段警告" + (f"（指标 {', '.join(codes)}）" if codes else "") + (f"，规则 {rule}" if rule else "") + "；原文见结果目录中的 manifest.json。"
    return Note(text, rule, step, codes, None if group is None else str(group), column)


def entity_notes(warnings: Iterable[Any], lang: str, *, groups: dict[str, Any] | None = None,
                 indicators: Iterable[str] | None = None) -> list[Note]:
    """The run's warnings that concern one entity, in ``lang``: those about one of its groups (``groups``:
    column → the entity's value) or about no group, and (when ``indicators`` is given) naming one of them or
    none. Accepts strings and dicts with keys rule/message/step/indicator/group."""
    mine = {str(v) for v in (groups or {}).values() if v is not None}
    wanted = set(map(str, indicators)) if indicators is not None else None
    out: list[Note] = []
    for w in warnings:
        n = warning_note(w, lang)
        if n.group is not None and n.group not in mine:
            continue
        if wanted is not None and n.indicators:
            kept = tuple(c for c in n.indicators if c in wanted)
            if not kept:
                continue
        out.append(n)
    return out


# --- values of the engine's records (imputation and treatment logs) ----------------------------------------

#: tokens the engine writes into its records (English, as stored) → (zh, en) for the reports
VALUE_TEXT: dict[str, tuple[str, str]] = {
    "imputed": ("插补", "imputed"),
    "not imputed": ("未插补", "not imputed"),
    "mean": ("均值", "mean"),
    "median": ("中位数", "median"),
    "mean_group": ("组均值", "group mean"),
    "median_group": ("组中位数", "group median"),
    "row_mean": ("本单位同组指标均值", "row mean"),
    "row_median": ("本单位同组指标中位数", "row median"),
    "latest": ("最近一期值", "latest earlier period"),
    "column mean": ("全体均值", "column mean"),
    "column median": ("全体中位数", "column median"),
    "group mean": ("组均值", "group mean"),
    "group median": ("组中位数", "group median"),
    "row mean": ("本单位同组指标均值", "row mean"),
    "row median": ("本单位同组指标中位数", "row median"),
    "latest earlier period": ("最近一期数据", "latest earlier period"),
    "winhi": ("高端缩尾", "winsorised (high)"),
    "winlo": ("低端缩尾", "winsorised (low)"),
    "log_CT": ("对数变换", "log transform"),
    "log": ("对数变换", "log transform"),
    "coinr": ("COINr 方法", "COINr method"),
    "winsorise": ("缩尾", "winsorised"),
}
_GROUP_SOURCE = re.compile(r"^(?P<what>group mean|group median) \((?P<col>[^=]+?) = (?P<val>.+)\)$")
_PERIOD_SOURCE = re.compile(r"^period (?P<p>\S+)$")


def value_text(value: Any, lang: str) -> Any:
    """One record value (``imputed``, ``column median``, ``winhi+log_CT``, ``group mean (sector = bank)``,
    ``period 2021``) in ``lang``; anything else as it is."""
    if not isinstance(value, str) or not value:
        return value
    i = 0 if lang == "zh" else 1
    if value in VALUE_TEXT:
        return VALUE_TEXT[value][i]
    m = _GROUP_SOURCE.match(value)
    if m:
        col, val = m.group("col").strip(), m.group("val").strip()
        return f"{VALUE_TEXT[m.group('what')][i]}（{group_label(col, lang)}：{group_value(col, val, lang)}）" if lang == "zh" else \
            f"{VALUE_TEXT[m.group('what')][i]} ({group_label(col, lang)}: {group_value(col, val, lang)})"
    m = _PERIOD_SOURCE.match(value)
    if m:
        return f"{m.group('p')} 期数据" if lang == "zh" else value
    for sep in (", ", "+"):
        if sep in value:
            parts = [p for p in value.split(sep) if p]
            if all(p in VALUE_TEXT for p in parts):
                return ("、" if lang == "zh" else " + " if sep == "+" else ", ").join(VALUE_TEXT[p][i] for p in parts)
    return value


def localise_values(frame: pd.DataFrame, lang: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``frame`` with every text cell (of ``columns``, default all) through :func:`value_text`; codes and
    numbers unchanged."""
    out = frame.copy()
    for c in out.columns if columns is None else [c for c in columns if c in out.columns]:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(lambda x: value_text(x, lang)).astype(object)
    return out


def localise_impute_log(log: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The imputation record's status, method and source in ``lang``."""
    return localise_values(log, lang, ("status", "method", "source"))


_BLOCK_RUN = re.compile(r"^(?P<fw>[\w.@-]+) block (?P<block>[A-Za-z]+), (?P<period>[\w-]+)$")


def evaluation_name(name: str, tree: Tree, lang: str) -> str:
    """The evaluation's name as a report shows it: the name ``fintech-eval`` gives a block's run
    (``jrt0201-2020 block J, 2024``) in ``lang`` from its framework (``金融科技发展指标 J 机构指标（2024）``);
    a name the user gave, as given."""
    m = _BLOCK_RUN.match(str(name))
    fw = framework_of(tree)
    if not m or fw is None or m.group("fw") != fw.id:
        return str(name)
    blk = next((b for b in fw.blocks if b.code == m.group("block")), None)
    if blk is None:
        return str(name)
    if lang == "zh":
        return f"{fw.title.get('zh')} {blk.code} {blk.name.get('zh')}（{m.group('period')}）"
    return f"{fw.title.get('en')}, {blk.code} {blk.name.get('en')} ({m.group('period')})"
