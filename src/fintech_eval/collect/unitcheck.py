"""The unit-factor check (``unit.factor``): a value off by a unit factor from what is known of the institution.

A money or count value that is 10,000× or 100,000,000× (or 1/10,000, 1/100,000,000) of

* the same institution's value of the same variable in the previous period (from the same import or
  stored), or
* the institution's registered size attribute of the same period (:data:`SIZE_VARIABLES`: a register's
  ``operating_revenue`` in 元 against the return's ``operating_revenue`` in 万元),

within a factor of :attr:`UnitChecks.tolerance` (default 3: a ratio between 3,333 and 30,000 counts as
10,000×), is an error: the likely cause is a unit slip (元 entered where 万元 is expected: 10,000×; 元 where
亿元 is expected: 10^8×; 万元 where 亿元 is expected: 10,000×), and the message says which. Growth by such
factors is possible (a new business line, a merger): the value is then accepted with a reason, either by the
evaluator (:class:`Acceptance`, ``--accept-unit B001/2024/operating_revenue:merger with X``) or in the return
itself, in an :data:`ACCEPT_COLUMN` (``accept_reason``, 接受理由) beside the value; the check becomes a warning
naming the reason, and the import records the acceptance in the value's audit trail.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .units import UnitError, conversion_factor

__all__ = ["ACCEPT_COLUMN", "Acceptance", "Hit", "SIZE_VARIABLES", "UnitChecks", "parse_acceptance",
           "unit_factor_problems"]

#: the column of a return that accepts its value's unit-factor check with a reason (readers: ``accept_reason``,
#: ``接受理由``; the questionnaire's column beside the value)
ACCEPT_COLUMN = "accept_reason"

#: framework variable → the register's size attribute that measures the same thing (same period)
SIZE_VARIABLES: dict[str, str] = {"operating_revenue": "operating_revenue"}
#: the factors a unit slip produces (万 = 10^4, 亿 = 10^8)
FACTORS: tuple[float, ...] = (1e4, 1e8)
#: money units by their size in 元, for naming the likely cause
MONEY_NAMES: dict[float, str] = {1.0: "元", 1e3: "千元", 1e4: "万元", 1e6: "百万元", 1e8: "亿元", 1e12: "万亿元"}
#: below these reference sizes (in the variable's unit) a ratio says nothing about units (5 users → 50,000)
MIN_REFERENCE = {"money": 1.0, "count": 100.0}


@dataclass(frozen=True)
class Acceptance:
    """An evaluator's acceptance of ``unit.factor`` for the values it selects (``None`` = any), with a reason."""

    variable: str
    reason: str
    entity: str | None = None
    period: str | None = None

    def covers(self, entity: str, period: str, variable: str) -> bool:
        return (self.variable == variable and self.entity in (None, entity) and self.period in (None, period))

    def __str__(self) -> str:
        return "/".join(x for x in (self.entity, self.period, self.variable) if x) + f": {self.reason}"


def parse_acceptance(text: str) -> Acceptance:
    """``[ENTITY/[PERIOD/]]VARIABLE:REASON`` → :class:`Acceptance` (the reason is required)."""
    sel, sep, reason = str(text).partition(":")
    parts = [p.strip() for p in sel.split("/")]
    if not sep or not reason.strip() or not all(parts) or len(parts) > 3:
        raise DataError(f"--accept-unit {text!r}: give [ENTITY/[PERIOD/]]VARIABLE:REASON, e.g. "
                        "B001/2024/operating_revenue:revenue grew after a merger", rule="unit.accept",
                        zh=f"--accept-unit {text!r}：请写作 [机构/[期间/]]变量:理由，例如 "
                        "B001/2024/operating_revenue:合并后营业收入增长")
    if len(parts) == 1:
        return Acceptance(parts[0], reason.strip())
    if len(parts) == 2:
        return Acceptance(parts[1], reason.strip(), entity=parts[0])
    return Acceptance(parts[2], reason.strip(), entity=parts[0], period=parts[1])


@dataclass
class UnitChecks:
    """What the check compares with: ``stored(entity_ids, periods, variables)`` → stored values (columns
    entity_kind, entity_id, period, variable, value_norm); ``sizes(entity_ids, periods)`` → registered size
    attributes (entity_id, period, attribute, value in 元); accepted overrides; the tolerance."""

    stored: Callable[[list[str], list[str], list[str]], pd.DataFrame] | None = None
    sizes: Callable[[list[str], list[str]], pd.DataFrame] | None = None
    accept: list[Acceptance] = field(default_factory=list)
    tolerance: float = 3.0

    @classmethod
    def of(cls, accept: Iterable[str | Acceptance] = (), **kw: Any) -> UnitChecks:
        return cls(accept=[a if isinstance(a, Acceptance) else parse_acceptance(a) for a in accept], **kw)

    def accepted(self, entity: str, period: str, variable: str) -> Acceptance | None:
        return next((a for a in self.accept if a.covers(entity, period, variable)), None)


def _factor_hit(ratio: np.ndarray, tolerance: float) -> np.ndarray:
    """The signed factor (10^4, 10^8, -10^4 = 1/10^4, …) each ratio is within ``tolerance`` of, else 0."""
    out = np.zeros(len(ratio))
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log10(ratio)
    band = math.log10(tolerance)
    for f in FACTORS:
        lf = math.log10(f)
        out = np.where(np.abs(lr - lf) <= band, f, out)
        out = np.where(np.abs(lr + lf) <= band, -f, out)
    return out


def _cause(factor: float, given_unit: str | None, declared: str, vtype: str) -> tuple[str, str]:
    """'looks like 元 entered where 万元 is expected' for money; a generic unit slip otherwise (English, Chinese)."""
    size = abs(factor)
    if vtype == "money":
        try:
            per = conversion_factor(given_unit or declared, "元")  # 元 per unit the value is labelled in
        except UnitError:
            per = None
        if per is not None:
            entered = per / size if factor > 0 else per * size
            have, want = MONEY_NAMES.get(entered), MONEY_NAMES.get(per)
            if have and want:
                return f"looks like {have} entered where {want} is expected", f"疑似按{have}填写，而此处应以{want}填报"
    label = given_unit or declared
    return ((f"looks like a unit {size:,.0f} times smaller than {label} was used",
             f"疑似使用了比 {label} 小 {size:,.0f} 倍的单位") if factor > 0 else
            (f"looks like a unit {size:,.0f} times larger than {label} was used",
             f"疑似使用了比 {label} 大 {size:,.0f} 倍的单位"))


def by_distinct(col: pd.Series, fn: Callable[[Any], Any], dtype: Any = None) -> pd.Series:
    """``col.map(fn)`` computed once per distinct value and taken back to the rows by code (mapping a column
    of Arrow strings row by row iterates them in Python)."""
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    table = np.array([fn(u) for u in uniq] + [None], dtype=object)
    return pd.Series(table[np.where(codes >= 0, codes, len(uniq))], index=col.index, dtype=dtype)


def _number(v: float) -> str:
    """1200000.0 → '1,200,000'; 5.25 → '5.25' (two decimals at most, no exponent)."""
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def _label(unit: str, vtype: str) -> str:
    """A money unit by its Chinese name (CNY 10k → 万元); any other unit as declared."""
    if vtype == "money":
        try:
            return MONEY_NAMES.get(conversion_factor(unit, "元"), unit)
        except UnitError:
            return unit
    return unit


@dataclass(frozen=True)
class Hit:
    """One value the check stops (``severity`` error) or lets through as accepted (warning, ``accepted``)."""

    index: Any  # the row's label in the frame checked
    severity: str
    message: str
    accepted: str | None = None
    message_zh: str | None = None


def unit_factor_problems(rows: pd.DataFrame, checks: UnitChecks, types: dict[str, str], units: dict[str, str]) -> list[Hit]:
    """The ``unit.factor`` findings of ``rows`` (institution rows of money and count variables with a value:
    columns entity_id, period, variable, value_norm, unit, prev_period, and the return's own reason in
    :data:`ACCEPT_COLUMN` when the file has one), each naming its row by label."""
    if rows.empty:
        return []
    ids = sorted(rows["entity_id"].unique())
    variables = sorted(rows["variable"].unique())
    # the previous period's value: from the rows themselves, else stored
    own = rows[["entity_id", "period", "variable", "value_norm"]]
    prev_periods = sorted({p for p in rows["prev_period"].unique() if isinstance(p, str)})
    pools = [own]
    if checks.stored is not None and prev_periods:
        st = checks.stored(ids, prev_periods, variables)
        if st is not None and len(st):
            st = st[st["entity_kind"].fillna("institution") == "institution"]
            pools.append(st[["entity_id", "period", "variable", "value_norm"]].astype(
                {"entity_id": "str", "period": "str", "variable": "str"}))
    ref = pd.concat(pools, ignore_index=True).dropna(subset=["value_norm"])
    ref = ref.drop_duplicates(["entity_id", "period", "variable"], keep="first")
    ref = ref.rename(columns={"period": "prev_period", "value_norm": "ref"})
    cand = rows.reset_index(names="label")
    by_prev = cand.merge(ref, on=["entity_id", "prev_period", "variable"], how="inner")
    by_prev["what"] = "previous"
    frames = [by_prev]
    sized = cand[cand["variable"].isin(list(SIZE_VARIABLES))]
    if checks.sizes is not None and len(sized):
        sz = checks.sizes(sorted(sized["entity_id"].unique()), sorted(sized["period"].unique()))
        if sz is not None and len(sz):
            sz = sz.rename(columns={"institution_id": "entity_id", "value": "size"})
            m = sized.assign(attribute=sized["variable"].map(SIZE_VARIABLES)).merge(
                sz[["entity_id", "period", "attribute", "size"]], on=["entity_id", "period", "attribute"])
            if len(m):
                to_unit = m["variable"].map({v: conversion_factor("元", units[v]) for v in m["variable"].unique()})
                m["ref"] = m["size"].to_numpy(dtype=float) * to_unit.to_numpy(dtype=float)
                m["what"] = "size"
                frames.append(m.drop(columns=["attribute", "size"]))
    both = pd.concat(frames, ignore_index=True)
    if both.empty:
        return []
    floor = by_distinct(both["variable"], lambda v: MIN_REFERENCE.get(types[v], math.inf), float)
    x, r = both["value_norm"].to_numpy(dtype=float), both["ref"].to_numpy(dtype=float)
    usable = (r > 0) & (x > 0) & (np.minimum(x, r) >= floor.to_numpy(dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(usable, _factor_hit(x / r, checks.tolerance), 0.0)
    both["factor"] = hit
    both = both[hit != 0].drop_duplicates("label", keep="first")  # one reference is enough to name the cause
    out = []
    for h in both.itertuples():
        declared = units[h.variable]
        given = h.unit if isinstance(h.unit, str) and h.unit else None
        label = _label(declared, types[h.variable])
        times = f"{abs(h.factor):,.0f}×" if h.factor > 0 else f"1/{abs(h.factor):,.0f} of"
        times_zh = f"{abs(h.factor):,.0f} 倍" if h.factor > 0 else f"1/{abs(h.factor):,.0f}"
        what = (f"the {h.prev_period} value" if h.what == "previous" else
                f"the registered {SIZE_VARIABLES[h.variable]} of {h.period}")
        what_zh = (f"{h.prev_period} 的数值" if h.what == "previous" else
                   f"{h.period} 登记的 {SIZE_VARIABLES[h.variable]}")
        cause, cause_zh = _cause(h.factor, given, declared, types[h.variable])
        value, ref = f"{_number(h.value_norm)} {label}", f"{_number(h.ref)} {label}"
        msg = f"{h.variable} = {value} for {h.entity_id} in {h.period} {cause}: {times} {what} ({ref})"
        zh = f"{h.entity_id} 在 {h.period} 的 {h.variable} = {value}，{cause_zh}：为 {what_zh}（{ref}）的 {times_zh}"
        acc = checks.accepted(h.entity_id, h.period, h.variable)
        own = getattr(h, ACCEPT_COLUMN, None)
        own = own.strip() if isinstance(own, str) and own.strip() else None
        if acc is not None:
            out.append(Hit(h.label, "warning", f"{msg}; accepted: {acc.reason}", acc.reason,
                           f"{zh}；已接受：{acc.reason}"))
        elif own is not None:
            out.append(Hit(h.label, "warning", f"{msg}; accepted in the return's {ACCEPT_COLUMN} column: {own}", own,
                           f"{zh}；已按报表 {ACCEPT_COLUMN}（接受理由）列接受：{own}"))
        else:
            out.append(Hit(h.label, "error", msg + "; correct the unit, or accept the value with a reason: "
                           f"--accept-unit {h.entity_id}/{h.period}/{h.variable}:REASON, or in the return's "
                           f"{ACCEPT_COLUMN} (接受理由) column beside the value",
                           message_zh=zh + "；请更正单位，或注明理由接受该值："
                           f"--accept-unit {h.entity_id}/{h.period}/{h.variable}:理由，或在报表中该值旁的 "
                           f"{ACCEPT_COLUMN}（接受理由）列填写"))
    return out
