"""Explicit unit conversion to a variable's declared unit, with a registry of zh/en unit aliases.

Every raw variable of a framework declares one unit (``CNY 10k``, ``person``, ``hour``, ``ms``, ...).
Data may arrive in another unit of the same *dimension* (亿元, 元, 万人, %, 分钟, ...); it is converted
explicitly, never guessed:

* money: 元 / CNY / RMB / yuan, with a scale (千元, 万元 = CNY 10k, 百万元 = CNY m, 亿元 = CNY 100m,
  十亿元 = CNY bn, 万亿元); ``CNY 100m`` → ``CNY 10k`` multiplies by 10,000, ``元`` → ``CNY 10k``
  divides by 10,000;
* counts: each thing counted is its own dimension (person, user, device, outlet, transaction, ...),
  with a scale (万人 = 10k persons → ×10,000; 亿笔 = 100m transactions → ×100,000,000). Generic count
  words (``count``, ``units``, ``items``, 个, 件, 项) fit any counted thing; a Chinese measure word
  fits the things it measures (笔: transactions, loans, claims, orders);
* fractions: ``fraction`` / ``share`` / ``ratio`` (0..1), ``%`` (÷100), ``‰`` (÷1000), ``bp`` (÷10,000);
  ``pp`` (percentage points) is a *difference*, not a share, and converts to nothing;
* time: ms, s, min, hour, day (毫秒, 秒, 分钟, 小时, 天);
* levels (级), scores (分), yes/no (是/否, 0/1) and rates (calls per day, 次/日): identity only.

A text such as ``CNY 100m (亿元)`` or ``10k users (万户)`` is read as both halves, which must agree.
An unknown unit raises :class:`UnitError` with rule ``unit.unknown``; a known unit of another dimension
(person given for money) raises rule ``unit.incompatible``. Both messages name both units.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..errors import DataError

__all__ = [
    "COUNT_DIMENSIONS",
    "Unit",
    "UnitError",
    "convert",
    "conversion_factor",
    "describe",
    "parse_unit",
]


class UnitError(DataError):
    """A unit is unknown, or cannot be converted to the unit a variable declares."""


@dataclass(frozen=True)
class Unit:
    """A parsed unit: the dimensions it may measure and its factor to the dimension's base unit."""

    text: str
    dims: frozenset[str]
    factor: float  # value_in_base = value * factor

    @property
    def dim(self) -> str:
        return next(iter(self.dims)) if len(self.dims) == 1 else "|".join(sorted(self.dims))


# ---- registry ------------------------------------------------------------------------------------
#: counted things (each its own dimension); a generic count word fits every one of them
COUNT_DIMENSIONS: frozenset[str] = frozenset({
    "person", "person_time", "user", "device", "outlet", "transaction", "loan", "claim", "order",
    "service", "question", "scenario", "patent", "registration", "project", "application",
    "interface", "institution", "enterprise", "impression", "count",
})  # fmt: skip

# alias -> (dims, factor, scalable). English aliases are matched case-insensitively; plurals added.
_ALIASES: dict[str, tuple[frozenset[str], float, bool]] = {}


def _add(dims: str | set[str] | frozenset[str], factor: float, *names: str, scalable: bool = False,
         plural: bool = False) -> None:
    ds = frozenset({dims} if isinstance(dims, str) else dims)
    for n in names:
        key = _norm(n)
        _ALIASES[key] = (ds, factor, scalable)
        if plural and re.fullmatch(r"[a-z][a-z -]*[a-z]", key) and not key.endswith("s"):
            _ALIASES[key + "s"] = (ds, factor, scalable)


def _norm(text: str) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    s = re.sub(r"\s+", " ", s)
    return s.replace("（", "(").replace("）", ")")


_ANY_COUNT = COUNT_DIMENSIONS

# money: base CNY (yuan); the scale is parsed separately (万元, CNY 100m, ...)
_add("money", 1.0, "元", "人民币元", "人民币", "cny", "rmb", "yuan", "¥", "￥", scalable=True)
# fixed spellings the scale grammar would not catch
_add("money", 1e4, "cny 10k", "10k cny", "cny 10 thousand", "ten thousand yuan", "10,000 yuan", "万元")
_add("money", 1e8, "cny 100m", "100m cny", "cny 100 million", "hundred million yuan", "亿元")

# counts
_add(_ANY_COUNT, 1.0, "count", "number", "units", "unit", "items", "item", "no.", "pcs", "个", "件", "项",
     "数量", "数", scalable=True)
_add("person", 1.0, "person", "persons", "people", "人", "名", "位", "headcount", "employee",
     "employees", "staff", scalable=True, plural=True)
_add("person_time", 1.0, "person-time", "person-times", "person time", "person times", "人次",
     "person-visit", scalable=True, plural=True)
_add("user", 1.0, "user", "户", "account", "客户", "用户", scalable=True, plural=True)
_add("device", 1.0, "device", "machine", "terminal", "台", "部", "atm", scalable=True, plural=True)
_add("outlet", 1.0, "outlet", "branch", "branches", "网点", "营业网点", scalable=True, plural=True)
_add({"transaction", "loan", "claim", "order"}, 1.0, "笔", scalable=True)
_add("transaction", 1.0, "transaction", "txn", "trade", scalable=True, plural=True)
_add("loan", 1.0, "loan", scalable=True, plural=True)
_add("claim", 1.0, "claim", "赔案", scalable=True, plural=True)
_add("order", 1.0, "order", "委托", scalable=True, plural=True)
_add({"service", "person_time"}, 1.0, "次", scalable=True)
_add("service", 1.0, "service", "contact", "session", "服务次数", scalable=True, plural=True)
_add("question", 1.0, "question", "issue", "问题", "条", scalable=True, plural=True)
_add("scenario", 1.0, "scenario", "场景", scalable=True, plural=True)
_add("patent", 1.0, "patent", "专利", scalable=True, plural=True)
_add("registration", 1.0, "registration", "登记", scalable=True, plural=True)
_add("project", 1.0, "project", "项目", scalable=True, plural=True)
_add("application", 1.0, "application", "app", "system", "套", "应用", scalable=True, plural=True)
_add("interface", 1.0, "interface", "api", "sdk", "接口", scalable=True, plural=True)
_add("institution", 1.0, "institution", "家", "机构", scalable=True, plural=True)
_add({"enterprise", "institution"}, 1.0, "家", scalable=True)
_add("enterprise", 1.0, "enterprise", "company", "firm", "企业", scalable=True, plural=True)
_add("impression", 1.0, "impression", "exposure", "click", "曝光", scalable=True, plural=True)

# fractions
_add("fraction", 1.0, "fraction", "share", "ratio", "proportion", "0-1", "0..1", "1", "比例", "比率", "占比")
_add("fraction", 0.01, "%", "percent", "per cent", "pct", "百分比", "百分数")
_add("fraction", 0.001, "‰", "permille", "per mille", "千分比")
_add("fraction", 1e-4, "bp", "bps", "basis point", "basis points", "基点")
_add("pp", 1.0, "pp", "ppt", "percentage point", "percentage points", "百分点", "个百分点")

# time: base second
_add("time", 1e-3, "ms", "millisecond", "milliseconds", "msec", "毫秒")
_add("time", 1.0, "s", "sec", "secs", "second", "seconds", "秒")
_add("time", 60.0, "min", "mins", "minute", "minutes", "分钟")
_add("time", 3600.0, "h", "hr", "hrs", "hour", "hours", "小时", "时")
_add("time", 86400.0, "d", "day", "days", "天", "日", "工作日")

# identities
_add("level", 1.0, "level", "levels", "grade", "级", "等级", "级别")
_add("binary", 1.0, "yes/no", "yes / no", "0/1", "1/0", "bool", "boolean", "binary", "是/否", "是否", "flag")
_add("score", 1.0, "score", "scores", "point", "points", "pt", "pts", "得分", "分值", "分")
_add("rate_per_day", 1.0, "call per day", "calls per day", "calls/day", "call/day", "per day", "/day",
     "次/日", "次/天", "次每日", "日均次数")
_add("rate_per_day", 24.0, "calls per hour", "calls/hour", "per hour", "次/小时")
_add("rate_per_day", 86400.0, "calls per second", "calls/s", "per second", "qps", "次/秒")

# scale words (zh prefixes, en tokens before or after the unit)
_ZH_SCALES = {"万亿": 1e12, "十亿": 1e9, "千万": 1e7, "百万": 1e6, "亿": 1e8, "万": 1e4, "千": 1e3, "百": 1e2}
_EN_SCALES = {
    "k": 1e3, "thousand": 1e3, "'000": 1e3,
    "10k": 1e4, "10 thousand": 1e4, "ten thousand": 1e4, "10,000": 1e4, "10000": 1e4,
    "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6, "millions": 1e6,
    "10m": 1e7, "10 million": 1e7, "ten million": 1e7,
    "100m": 1e8, "100 million": 1e8, "hundred million": 1e8, "100mn": 1e8,
    "bn": 1e9, "b": 1e9, "billion": 1e9, "billions": 1e9,
    "tn": 1e12, "trillion": 1e12,
}  # fmt: skip


def _lookup_plain(key: str) -> tuple[frozenset[str], float] | None:
    hit = _ALIASES.get(key)
    return (hit[0], hit[1]) if hit else None


def _lookup_scaled(key: str) -> tuple[frozenset[str], float] | None:
    hit = _lookup_plain(key)
    if hit:
        return hit
    for zh, scale in sorted(_ZH_SCALES.items(), key=lambda kv: -len(kv[0])):  # 万元, 亿笔, 万户, 百万元
        if key.startswith(zh) and len(key) > len(zh):
            base = _ALIASES.get(key[len(zh):])
            if base and base[2]:
                return base[0], base[1] * scale
    for en, scale in sorted(_EN_SCALES.items(), key=lambda kv: -len(kv[0])):  # CNY 100m, 10k users
        for rest in (key[len(en):] if key.startswith(en) else None,
                     key[: -len(en)] if key.endswith(en) else None):
            if rest is None:
                continue
            rest = rest.strip(" -_")
            if not rest or rest == key:
                continue
            base = _ALIASES.get(rest)
            if base and base[2]:
                return base[0], base[1] * scale
    return None


@lru_cache(maxsize=4096)
def _parse(text: str) -> Unit | None:
    key = _norm(text)
    if not key:
        return None
    hit = _lookup_scaled(key)
    if hit is None:
        m = re.fullmatch(r"(.+?)\s*\((.+)\)", key)  # "CNY 100m (亿元)": both halves must agree
        if m:
            a, b = _lookup_scaled(m.group(1).strip()), _lookup_scaled(m.group(2).strip())
            if a and b:
                dims = a[0] & b[0]
                if dims and abs(a[1] - b[1]) <= 1e-12 * max(abs(a[1]), abs(b[1])):
                    hit = (dims, a[1])
            elif a or b:
                hit = a or b
    return Unit(text=str(text), dims=hit[0], factor=hit[1]) if hit else None


def parse_unit(text: str) -> Unit:
    """Parse a unit text; :class:`UnitError` (``unit.unknown``) when the registry does not know it."""
    u = _parse(str(text))
    if u is None:
        raise UnitError(
            f"unknown unit {str(text)!r}: use one of the registered units (e.g. 元, 万元, 亿元, CNY 10k, "
            "CNY 100m, person, 万人, %, fraction, ms, s, min, hour)",
            rule="unit.unknown", unit=str(text),
            zh=f"未知单位 {str(text)!r}：请使用已登记的单位（如 元、万元、亿元、CNY 10k、CNY 100m、人、万人、%、比例、毫秒、秒、分钟、小时）",
        )
    return u


def describe(text: str, lang: str = "en") -> str:
    """The dimension a unit text measures (for messages, in ``lang``: en or zh), or 'unknown'."""
    u = _parse(str(text))
    zh = lang == "zh"
    if u is None:
        return "未知" if zh else "unknown"
    if u.dims == COUNT_DIMENSIONS:
        return "计数" if zh else "a count"
    if zh:
        return "或".join(sorted(_KIND_ZH.get(d, f"{d.replace('_', '-')} 的计数") for d in u.dims))
    names = {"money": "money", "fraction": "a fraction", "time": "time", "pp": "percentage points",
             "rate_per_day": "a rate per day", "binary": "yes/no", "level": "a level", "score": "a score"}
    return " or ".join(sorted(names.get(d, f"count of {d.replace('_', '-')}") for d in u.dims))


#: what a unit measures, in Chinese (:func:`describe`)
_KIND_ZH = {"money": "金额", "fraction": "比例", "time": "时长", "pp": "百分点", "rate_per_day": "每日频次",
            "binary": "是/否", "level": "等级", "score": "得分", "person": "人数", "person_time": "人次",
            "user": "用户数", "device": "设备数", "outlet": "网点数", "transaction": "交易笔数", "loan": "贷款笔数",
            "claim": "赔案数", "order": "委托笔数", "service": "服务次数", "question": "问题数", "scenario": "场景数",
            "patent": "专利数", "registration": "登记数", "project": "项目数", "application": "应用数",
            "interface": "接口数", "institution": "机构数", "enterprise": "企业数", "impression": "曝光数",
            "count": "计数"}


def conversion_factor(from_unit: str | None, to_unit: str, *, variable: str | None = None) -> float:
    """The factor f with ``value_in(to_unit) = value_in(from_unit) * f``.

    A blank ``from_unit`` means "already in the declared unit" (factor 1). Raises :class:`UnitError`
    with rule ``unit.unknown`` or ``unit.incompatible`` naming the variable and both units.
    """
    if from_unit is None or str(from_unit).strip() == "" or str(from_unit).strip() == str(to_unit).strip():
        return 1.0
    return _factor(str(from_unit), str(to_unit), variable)


@lru_cache(maxsize=4096)
def _factor(from_unit: str, to_unit: str, variable: str | None) -> float:
    var = f" of variable {variable}" if variable else ""
    var_zh = f"变量 {variable} 的" if variable else ""
    src = _parse(from_unit)
    dst = _parse(to_unit)
    if dst is None:
        raise UnitError(f"the declared unit {to_unit!r}{var} is not in the unit registry",
                        rule="unit.unknown", unit=to_unit, variable=variable,
                        zh=f"{var_zh}规定单位 {to_unit!r} 不在单位登记表中")
    if src is None:
        raise UnitError(
            f"unknown unit {from_unit!r}{var} (declared unit {to_unit!r}); give the value in {to_unit!r} "
            "or in a registered unit of the same kind",
            rule="unit.unknown", unit=from_unit, variable=variable,
            zh=f"{var_zh}单位 {from_unit!r} 未知（规定单位 {to_unit!r}）；请以 {to_unit!r} 或同类已登记单位填报",
        )
    common = src.dims & dst.dims
    if not common:
        raise UnitError(
            f"unit {from_unit!r}{var} ({describe(from_unit)}) cannot be converted to the declared unit "
            f"{to_unit!r} ({describe(to_unit)})",
            rule="unit.incompatible", unit=from_unit, variable=variable,
            zh=f"{var_zh}单位 {from_unit!r}（{describe(from_unit, 'zh')}）无法换算为规定单位 "
               f"{to_unit!r}（{describe(to_unit, 'zh')}）",
        )
    return src.factor / dst.factor


def convert(value: float, from_unit: str | None, to_unit: str, *, variable: str | None = None) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (see :func:`conversion_factor`)."""
    return float(value) * conversion_factor(from_unit, to_unit, variable=variable)
