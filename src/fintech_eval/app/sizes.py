"""Size attributes for JR/T 0201 §4 sampling: operating revenue, market share, total financing, market value
(营业收入、市场占有量、融资总额、上市市值) of registered institutions and key-technology enterprises.

* :func:`import_sizes` reads a CSV or xlsx file, long (``id, attribute, value, unit[, period][, kind]``) or
  wide (``id`` and one column per attribute, the unit in a ``unit`` column or in the header:
  ``营业收入(亿元)``, ``market_share (%)``), with explicit units converted as observations are
  (:mod:`fintech_eval.collect.units`: 元/万元/亿元 → 元; %, ‰ → fraction). A money value without a unit is
  an error (10,000× mistakes are what a size attribute must not hide); a market share without one is a
  fraction and must lie in [0, 1]. Every problem is located (file, row, field, rule, did-you-mean); the file
  is stored all-or-nothing and every change audited.
* :func:`sampling_sizes` gives the sizes a sample draws on for a period: the stored size attributes, and
  where one is not stored, the same period's imported observation of the variable that measures it
  (:data:`OBSERVED_SIZES`, e.g. ``operating_revenue``), in the stored unit; ``source`` says which.
* :func:`draw_sample`: the §4 sample of the institutions or of the key-technology enterprises from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..collect.numbers import parse_number
from ..collect.sample import SampleResult, sample
from ..collect.units import UnitError, conversion_factor
from ..collect.validate import normalise_period
from ..errors import DataError, Problem, closest
from ..periods import period_kind
from ..store import institutions_frame, key_tech_frame, observations_frame, size_frame, upsert_size_attributes
from ..vocab import SIZE_ATTRIBUTES, SIZE_UNITS
from .registers import canonical_kind, read_table
from .workspace import Workspace

ATTRIBUTE_WORDS = {
    "operating_revenue": ("operating_revenue", "revenue", "营业收入", "营收"),
    "market_share": ("market_share", "share", "市场占有量", "市场占有率", "市场份额"),
    "total_financing": ("total_financing", "financing", "融资总额", "融资额", "融资"),
    "market_value": ("market_value", "market_cap", "market_capitalisation", "market_capitalization", "上市市值", "市值"),
}
COLUMN_WORDS = {
    "id": ("id", "entity_id", "entity", "institution_id", "enterprise_id", "code", "代码", "机构代码", "企业代码",
           "统一社会信用代码", "机构", "企业", "名称"),
    "attribute": ("attribute", "size_attribute", "指标", "属性", "规模指标"),
    "value": ("value", "数值", "值"),
    "unit": ("unit", "单位"),
    "period": ("period", "year", "报告期", "年度", "期间"),
    "kind": ("kind", "entity_kind", "register", "类型", "主体类型"),
}
KIND_WORDS = {"institution": "institution", "institutions": "institution", "机构": "institution",
              "金融机构": "institution", "enterprise": "enterprise", "key-tech": "enterprise", "key_tech": "enterprise",
              "企业": "enterprise", "关键技术企业": "enterprise"}
#: The register each kind of sized entity lives in.
REGISTER_OF = {"institution": "institutions", "enterprise": "key-tech"}
#: Size attributes that an imported observation of the same period measures (attribute → variable).
OBSERVED_SIZES = {"operating_revenue": "operating_revenue"}


class Why(NamedTuple):
    """Why a row's id names no registered entity: the rule and the message in English and in Chinese."""

    rule: str
    message: str
    message_zh: str


@dataclass
class SizeReport:
    file: str
    rows: int
    periods: list[str]
    inserted: int
    updated: int
    unchanged: int


def _norm(text: Any) -> str:
    return str(text).strip().lower().replace(" ", "_")


def _attribute(word: str) -> str | None:
    w = _norm(word)
    return next((a for a, words in ATTRIBUTE_WORDS.items() if w in words), None)


def _header(col: str) -> tuple[str, str | None]:
    """``营业收入(亿元)`` → (``营业收入``, ``亿元``); ``market_share [%]`` → (``market_share``, ``%``)."""
    m = re.fullmatch(r"\s*(.+?)\s*[(（\[]\s*(.+?)\s*[)）\]]\s*", str(col))
    return (m.group(1), m.group(2)) if m else (str(col), None)


def _long(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """The file as long rows ``row, id, attribute, value, unit, period, kind`` (``row`` as a spreadsheet shows it)."""
    found: dict[str, str] = {}
    wide: dict[str, tuple[str, str | None]] = {}
    problems: list[Problem] = []
    for col in df.columns:
        key = _norm(col)
        target = next((k for k, words in COLUMN_WORDS.items() if key in words), None)
        name, unit = _header(col)
        attr = _attribute(name)
        if target is not None and target not in found:
            found[target] = col
        elif attr is not None and attr not in wide:
            wide[attr] = (col, unit)
        else:
            hint = closest(key, [w for ws in (*COLUMN_WORDS.values(), *ATTRIBUTE_WORDS.values()) for w in ws])
            problems.append(Problem("size.column", f"unknown or repeated column {col!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                                    + f"; columns: id, attribute, value, unit, period, kind, or one per attribute ({', '.join(SIZE_ATTRIBUTES)})",
                                    {"file": file, "column": str(col)},
                                    message_zh=f"未知或重复的列 {col!r}" + (f"（是否应为 {hint!r}？）" if hint else "")
                                    + f"；可用的列：id、attribute、value、unit、period、kind，或每个属性一列（{', '.join(SIZE_ATTRIBUTES)}）"))
    if "id" not in found:
        problems.append(Problem("size.column", "no id column", {"file": file, "column": "id"}, message_zh="缺少 id 列"))
    if wide and "attribute" in found:
        problems.append(Problem("size.column", "give either an attribute column (long) or one column per attribute (wide), "
                                "not both", {"file": file},
                                message_zh="请给出 attribute 列（长表）或每个属性一列（宽表），不能两者都有"))
    if not wide and not ("attribute" in found and "value" in found):
        problems.append(Problem("size.column", "no attribute and value columns, and no column per attribute "
                                f"({', '.join(SIZE_ATTRIBUTES)})", {"file": file},
                                message_zh=f"既没有 attribute 和 value 列，也没有每个属性一列（{', '.join(SIZE_ATTRIBUTES)}）"))
    if problems:
        raise DataError(problems)
    base = pd.DataFrame({"row": np.arange(len(df)) + 2})
    for k in ("id", "unit", "period", "kind"):
        base[k] = df[found[k]].astype(str).str.strip().to_numpy() if k in found else ""
    if not wide:
        out = base.assign(attribute=df[found["attribute"]].astype(str).str.strip().to_numpy(),
                          value=df[found["value"]].to_numpy(), field=found["value"])
        out["attribute_col"] = found["attribute"]
        return out
    parts = []
    for attr, (col, unit) in wide.items():
        part = base.assign(attribute=attr, value=df[col].to_numpy(), field=str(col), attribute_col=None)
        if unit:
            part["unit"] = np.where(part["unit"] != "", part["unit"], unit) if "unit" in found else unit
        parts.append(part[part["value"].astype(str).str.strip() != ""])
    return pd.concat(parts, ignore_index=True)


def read_sizes(ws: Workspace, path: str | Path, *, period: str | None = None) -> pd.DataFrame:
    """The file's size attributes, checked against the registers and converted to the stored units:
    ``entity_kind, entity_id, period, attribute, value``; every problem located in one :class:`DataError`."""
    path = Path(path)
    file = str(path)
    rows = _long(read_table(path, "size.read"), file)
    with ws.sessions() as s:
        inst, ent = institutions_frame(s), key_tech_frame(s)
    ids = {"institution": set(inst["id"]), "enterprise": set(ent["id"])}
    names = {**{n: ("institution", i) for i, n in zip(inst["id"], inst["name_zh"], strict=True)},
             **{n: ("enterprise", i) for i, n in zip(ent["id"], ent["name_zh"], strict=True)}}
    problems: list[Problem] = []
    given_period = normalise_period(period) if period else ""
    if period and period_kind(given_period) is None:
        raise DataError(f"--period {period!r} is not a reporting period (use 2024, 2024Q1 or 2024-03)", rule="size.period",
                        zh=f"--period {period!r} 不是报告期（请用 2024、2024Q1 或 2024-03）")
    attr_of = {a: _attribute(a) for a in rows["attribute"].unique()}
    kind_of = {k: KIND_WORDS.get(_norm(k).replace("_", "-")) for k in rows["kind"].unique() if k}
    all_words = [w for ws in ATTRIBUTE_WORDS.values() for w in ws]
    homes_of: dict[tuple[str, str | None], tuple[str, str] | Why] = {}  # (id, kind) → (kind, id), or why not
    period_of: dict[str, str | None] = {}  # as given → normalised, None: not a period
    factor_of: dict[tuple[str, str], float | UnitError] = {}

    def home(entity: str, kind: str | None) -> tuple[str, str] | Why:
        homes = [k for k in ("institution", "enterprise") if entity in ids[k]]
        if not homes and entity in names:  # a registered name
            kind_of_name, entity = names[entity]
            homes = [kind_of_name]
        if kind is not None and kind not in homes:
            homes = []
        if not homes:
            hint = closest(entity, [*ids["institution"], *ids["enterprise"], *names])
            named = [REGISTER_OF[k] for k in ([kind] if kind else REGISTER_OF)]
            return Why("size.unknown_entity", f"{entity} is not in the {' or '.join(named)} register"
                       + (f" (did you mean {hint!r}?)" if hint else "")
                       + ": register it first (`fintech-eval register institutions|key-tech FILE`)",
                       f"{entity} 不在 {' 或 '.join(named)} 名录中" + (f"（是否应为 {hint!r}？）" if hint else "")
                       + "：请先登记（`fintech-eval register institutions|key-tech FILE`）")
        if len(homes) > 1:
            return Why("size.ambiguous", f"{entity} is both an institution and a key-technology enterprise: give a kind column",
                       f"{entity} 既是机构又是金融科技关键技术企业：请给出 kind 列")
        return homes[0], entity

    out = []
    for row, entity, raw_attr, raw, unit_given, raw_period, raw_kind, field in zip(
        rows["row"].tolist(), rows["id"].tolist(), rows["attribute"].tolist(), rows["value"].tolist(),
        rows["unit"].tolist(), rows["period"].tolist(), rows["kind"].tolist(), rows["field"].tolist(), strict=True,
    ):
        def bad(field: str, rule: str, msg: str, zh: str | None, row: int = row, entity: str = entity) -> None:
            problems.append(Problem(rule, msg, {"file": file, "row": int(row), "id": entity or None, "field": field},
                                    message_zh=zh))

        attr = attr_of[raw_attr]
        if attr is None:
            hint = closest(_norm(raw_attr), all_words)
            bad("attribute", "size.attribute", f"attribute {raw_attr!r} is not one of {', '.join(SIZE_ATTRIBUTES)}"
                + (f" (did you mean {hint!r}?)" if hint else ""),
                f"属性 {raw_attr!r} 不是 {', '.join(SIZE_ATTRIBUTES)} 之一" + (f"（是否应为 {hint!r}？）" if hint else ""))
        kind = kind_of.get(raw_kind) if raw_kind else None
        if raw_kind and kind is None:
            bad("kind", "size.kind", f"kind {raw_kind!r} is not institution or enterprise (key-tech)",
                f"kind {raw_kind!r} 不是 institution（机构）或 enterprise（key-tech，关键技术企业）")
        if not entity:
            bad("id", "size.required", "id is blank", "id 为空")
            continue
        found = homes_of.get((entity, kind))
        if found is None:
            found = homes_of[(entity, kind)] = home(entity, kind)
        if isinstance(found, Why):
            bad("id", found.rule, found.message, found.message_zh)
            continue
        if raw_period not in period_of:
            norm = normalise_period(raw_period) if raw_period else given_period
            period_of[raw_period] = norm if norm and period_kind(norm) is not None else (None if norm else "")
        p = period_of[raw_period]
        if p == "":
            bad("period", "size.period", "no period: give --period or a period column", "缺少期间：请给出 --period 或 period 列")
        elif p is None:
            bad("period", "size.period", f"period {raw_period!r} is not a reporting period (use 2024, 2024Q1 or 2024-03)",
                f"期间 {raw_period!r} 不是报告期（请用 2024、2024Q1 或 2024-03）")
        if isinstance(raw, float):
            number, hint_unit, rule = raw, None, None
        else:
            number, hint_unit, rule = parse_number(raw)
        if rule:
            bad(field, "size.not_a_number", f"{attr or raw_attr} {raw!r} is not a number", f"{attr or raw_attr} {raw!r} 不是数字")
            continue
        if attr is None or np.isnan(number):
            continue
        unit = unit_given or hint_unit or ""
        target = SIZE_UNITS[attr]
        if not unit and target != "fraction":
            bad(field, "size.unit", f"{attr} has no unit: give it (元, 万元 or 亿元) in a unit column or in the header, "
                f"e.g. {ATTRIBUTE_WORDS[attr][2]}(亿元)",
                f"{attr} 没有单位：请在 unit 列或表头中给出（元、万元或亿元），如 {ATTRIBUTE_WORDS[attr][2]}(亿元)")
            continue
        factor = factor_of.get((attr, unit))
        if factor is None:
            try:
                factor = conversion_factor(unit or target, target, variable=attr)
            except UnitError as exc:
                factor = exc
            factor_of[(attr, unit)] = factor
        if isinstance(factor, UnitError):
            bad("unit", factor.problems[0].rule, factor.problems[0].message, factor.problems[0].message_zh)
            continue
        value = number * factor
        if value < 0 or (target == "fraction" and value > 1):
            rng = "[0, 1] (a percentage needs the unit %)" if target == "fraction" else ">= 0"
            rng_zh = "[0, 1]（百分数须用单位 %）" if target == "fraction" else ">= 0"
            bad(field, "size.range", f"{attr} {raw!r} {unit} is outside {rng}", f"{attr} {raw!r} {unit} 超出范围 {rng_zh}")
            continue
        out.append((found[0], found[1], p, attr, value, int(row)))
    if problems:
        raise DataError(problems)
    df = pd.DataFrame(out, columns=["entity_kind", "entity_id", "period", "attribute", "value", "row"])
    dup = df.duplicated(["entity_kind", "entity_id", "period", "attribute"], keep=False)
    if dup.any():
        raise DataError([Problem("size.duplicate", f"{r.attribute} of {r.entity_id} for {r.period} is given more than once",
                                 {"file": file, "row": int(r.row), "id": r.entity_id},
                                 message_zh=f"{r.entity_id} 在 {r.period} 的 {r.attribute} 给出了不止一次")
                         for r in df[dup].itertuples()])
    return df.drop(columns="row")


def import_sizes(ws: Workspace, path: str | Path, *, period: str | None = None, who: str = "cli",
                 why: str | None = None) -> SizeReport:
    """Store the file's size attributes (:func:`read_sizes`), all-or-nothing; every change audited."""
    df = read_sizes(ws, path, period=period)
    with ws.sessions() as s, s.begin():
        st = upsert_size_attributes(s, df, who=who, why=why or f"size file {Path(path).name}")
    return SizeReport(str(path), len(df), sorted(set(df["period"])), st.inserted, st.updated, st.unchanged)


def sizes_frame(ws: Workspace, *, period: str | None = None, kind: str | None = None) -> pd.DataFrame:
    """The stored size attributes (of ``kind`` institution | enterprise, or both)."""
    with ws.sessions() as s:
        return size_frame(s, period=period, kind=kind)


def entity_sizes(ws: Workspace, register: str, entity_id: str) -> pd.DataFrame:
    """The stored size attributes of one registered institution or key-technology enterprise (empty for the
    registers without sizes)."""
    kind = {v: k for k, v in REGISTER_OF.items()}.get(canonical_kind(register))
    if kind is None:
        return pd.DataFrame(columns=["period", "attribute", "value"])
    df = sizes_frame(ws, kind=kind)
    return df.loc[df["entity_id"] == entity_id, ["period", "attribute", "value"]].reset_index(drop=True)


def sampling_sizes(ws: Workspace, period: str, *, kind: str = "institution", framework: str = "jrt0201-2020") -> pd.DataFrame:
    """The sizes a §4 sample of ``period`` draws on: ``entity_id, period, attribute, value, source``; the stored
    size attributes (source ``register``), and where an institution has none of an attribute that an
    observation measures (:data:`OBSERVED_SIZES`), that observation of the same period converted to the
    stored unit (source ``observations``)."""
    period = str(period)
    with ws.sessions() as s:
        stored = size_frame(s, period=period, kind=kind)
        obs = (observations_frame(s, period=period, entity_kind="institution", variables=list(OBSERVED_SIZES.values()),
                                  columns=["entity_id", "period", "variable", "value_norm"])
               if kind == "institution" else None)
    out = stored.drop(columns="entity_kind").assign(source="register")
    if obs is not None and len(obs):
        fw = ws.framework(framework)
        parts = []
        for attr, var in OBSERVED_SIZES.items():
            o = obs[(obs["variable"] == var) & obs["value_norm"].notna()]
            have = set(out.loc[out["attribute"] == attr, "entity_id"])
            o = o[~o["entity_id"].isin(have)]
            factor = conversion_factor(fw.variable(var).unit, SIZE_UNITS[attr], variable=var)
            parts.append(pd.DataFrame({"entity_id": o["entity_id"].astype(str).to_numpy(), "period": period,
                                       "attribute": attr, "value": o["value_norm"].to_numpy(dtype=float) * factor,
                                       "source": "observations"}))
        out = pd.concat([out, *parts], ignore_index=True)
    return out.sort_values(["entity_id", "attribute"], ignore_index=True)


@dataclass
class SampleDraw:
    """A drawn §4 sample, the period it was drawn on, and how many sizes came from returns (attribute → count)."""

    result: SampleResult
    period: str
    from_returns: dict[str, int]

    def write(self, out: str | Path) -> tuple[Path, Path]:
        """``OUT.csv`` (the sample: `campaign create --sample` reads it) and ``OUT_coverage.csv``."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        paths = out.with_suffix(".csv"), out.with_name(out.stem + "_coverage.csv")
        self.result.sample.to_csv(paths[0], index=False)
        self.result.coverage.to_csv(paths[1], index=False)
        return paths


def draw_sample(ws: Workspace, period: str, *, register: str = "institutions", method: str = "coverage",
                by: str = "operating_revenue", sectors: list[str] | None = None, framework: str = "jrt0201-2020",
                **params: Any) -> SampleDraw:
    """JR/T 0201 §4: a sample of the active registered institutions (by sector) or of the active key-technology
    enterprises (one stratum ``key-tech``, or by region with ``strata``), by a size attribute of ``period``
    (:func:`sampling_sizes`)."""
    reg = canonical_kind(register)
    kind = {v: k for k, v in REGISTER_OF.items()}.get(reg)
    if kind is None:
        raise DataError(f"only institutions and key-tech are sampled (§4), not {reg}", rule="sample.register",
                        zh=f"§4 抽样只针对机构（institutions）和关键技术企业（key-tech），不针对 {reg}")
    with ws.sessions() as s:
        pop = institutions_frame(s) if kind == "institution" else key_tech_frame(s)
    pop = pop[pop["status"] == "active"]  # a closed institution or enterprise is not in the population
    if kind == "enterprise":
        pop = pop.assign(sector="key-tech")
    if pop.empty:
        raise DataError(f"the {reg} register is empty: run `fintech-eval register {reg} FILE` first", rule="sample.empty",
                        zh=f"{reg} 名录为空：请先运行 `fintech-eval register {reg} FILE`")
    sizes = sampling_sizes(ws, str(period), kind=kind, framework=framework)
    taken = sizes.loc[sizes["source"] == "observations", "attribute"].value_counts().sort_index()
    result = sample(pop, sizes, period, method=method, by=by, sectors=sectors, **params)
    return SampleDraw(result, str(period), {str(a): int(k) for a, k in taken.items()})
