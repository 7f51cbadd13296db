"""Validation of collected raw values against a framework: every problem, each with a place and a rule.

:func:`validate` takes the long frame the readers produce (one row per entity, period and variable, see
:mod:`fintech_eval.collect.readers`) and returns ``(clean, problems)``:

* ``clean``: the rows that broke no *error* rule, with the value converted to the variable's declared
  unit (``value_norm``/``unit_norm``; ``value``/``unit`` stay as received), a ``status`` (``ok`` or
  ``flagged``) and a ``flag_reason``. Missing values stay missing (NaN), never 0.
* ``problems``: a list of :class:`CollectProblem` (a :class:`fintech_eval.errors.Problem` with a
  ``severity``): ``error`` rejects the import (all-or-nothing), ``warning`` is stored with a flag.

Rules (``rule`` → severity):

=========================  ========  =========================================================================
variable.unknown           error     not a variable of the framework (with the closest name, if any)
entity.kind                error     entity kind unknown, or not the kind the variable is measured on
entity.unknown             error     institution not in the institutions table / not a province / sector
period.invalid             error     period is not ``2024``, ``2024Q1`` or ``2024-03``
unit.unknown               error     unit not in the registry (:mod:`~fintech_eval.collect.units`)
unit.incompatible          error     unit of another kind than the declared one (person for money)
value.not_finite           error     infinite value
type.not_whole             error     a count or level that is not a whole number
type.binary                error     a yes/no variable that is neither 0 nor 1
range.negative             error     a negative count, amount or time
range.min / range.max      error     below the variable's ``min`` / above its ``max``
range.level                error     a level outside its scale (1..5, 1..6)
range.share                error     a share outside [0, 1] (the message says when it looks like a %)
duplicate                  error     same entity, period and variable more than once (every row named)
variable.not_applicable    error     the variable is not asked of the institution's sector
value.blank_mandatory      error     a blank value the framework asks of the sector (``MANDATORY_POLICIES``)
unit.factor                error     10^4 or 10^8 × (or ÷) the previous period or the registered size
unit.accept_unused         warning   an ``accept_reason`` beside a value no unit-factor check stopped
part_of.exceeds            error     a part larger than its whole (``part_of``), same entity and period
turnover.inconsistent      error     ``X_prev_end`` differs from the previous period's ``X``
outlier                    warning   robust z-score above the threshold within variable, sector, period
=========================  ========  =========================================================================

Which variables apply to a sector is computed from the framework (:func:`applicable_variables`): the
variable's own ``sectors`` must include the sector (or be empty) *and* some indicator applicable to that
sector must read it (formula, sector variant or roll-up). The questionnaire template uses the same rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray

from ..catalog.formula import parse as parse_formula
from ..catalog.models import SECTORS, Framework, Indicator, Variable
from ..errors import Problem, closest, first_of
from ..geo.regions import resolve_many
from ..periods import period_kind
from .numbers import ascii_digits
from .unitcheck import ACCEPT_COLUMN, by_distinct, unit_factor_problems
from .units import UnitError, conversion_factor

__all__ = [
    "LONG_COLUMNS",
    "CLEAN_COLUMNS",
    "CollectProblem",
    "applicable_variables",
    "carry_over_pairs",
    "errors_in",
    "period_kind",
    "previous_period",
    "validate",
    "variable_feeds",
]

Severity = Literal["error", "warning"]

#: the columns of the long frame every reader returns (``raw`` keeps the cell text as received)
LONG_COLUMNS = [
    "entity_kind", "entity_id", "period", "variable", "value", "unit", "source",
    "file", "sheet", "row", "column", "raw",
]  # fmt: skip
CLEAN_COLUMNS = [
    "entity_kind", "entity_id", "period", "variable", "value", "unit", "value_norm", "unit_norm",
    "source", "status", "flag_reason", "file", "sheet", "row", "column", "raw",
]  # fmt: skip
ENTITY_KINDS = ("institution", "region", "industry")
WHERE_KEYS = ("file", "sheet", "row", "rows", "column", "entity", "period", "variable", "indicator")
#: Which blank values of an institution are errors (``value.blank_mandatory``). The catalog has no
#: 'mandatory' flag, so mandatory is derived: a variable is mandatory for a sector when it applies to that
#: sector (:func:`applicable_variables`: some indicator applicable to the sector reads it), since a blank
#: one leaves that indicator missing.
#: ``applicable`` (default): an empty cell of such a variable is an error; a declared N/A (``N/A``, ``不适用``,
#: ``无``, ``-``) is an answer, stored as missing (a frame built in code, without the readers' ``raw`` cell
#: texts, has no empty cells: its NaN values are missing values). ``strict``: a declared N/A is an error too. ``none``: no
#: check (blank values are stored as missing). Variables may be exempted by name (``optional=``,
#: ``--optional VAR``).
MANDATORY_POLICIES = ("applicable", "strict", "none")
#: what to do when a register is empty or lacks an institution (named in every entity.unknown message)
REGISTER_HINT = ("register it first: `fintech-eval register institutions FILE`, or register and import in one step "
                 "with `fintech-eval import --register FILE …`")
REGISTER_HINT_ZH = ("请先登记：`fintech-eval register institutions FILE`，或用 `fintech-eval import --register FILE …` "
                    "一步完成登记和导入")
#: words of the Chinese messages: entity kinds, variable types, where a value came from
KIND_ZH = {"institution": "机构", "region": "地区", "industry": "行业"}
TYPE_ZH = {"count": "计数", "money": "金额", "ratio": "比率", "share": "占比", "time": "时长", "level": "等级",
           "binary": "是/否", "score": "得分", "number": "数值"}
ORIGIN_ZH = {"this import": "本次导入", "previous data": "此前数据"}


@dataclass(frozen=True)
class CollectProblem(Problem):
    """A :class:`Problem` with a severity: ``error`` rejects the import, ``warning`` is stored flagged."""

    severity: Severity = "error"

    def line(self, lang: str = "en") -> str:
        return f"{SEVERITY_WORDS[lang if lang in SEVERITY_WORDS else 'en'][self.severity]}: {super().line(lang)}"

    def __str__(self) -> str:
        return self.line("en")

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, **super().as_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | str) -> CollectProblem:
        """The inverse of :meth:`as_dict`; a problem stored before ``message_zh`` existed loads with English only."""
        p = Problem.from_dict(d)
        rest = {k: v for k, v in p.where.items() if k != "severity"}
        severity = d.get("severity", "error") if isinstance(d, dict) else "warning"
        return cls(p.rule, p.message, rest, severity, message_zh=p.message_zh)


#: how a severity starts a printed problem, per language
SEVERITY_WORDS = {"en": {"error": "error", "warning": "warning"}, "zh": {"error": "错误", "warning": "警告"}}


def problem(rule: str, message: str, severity: Severity = "error", *, zh: str | None = None,
            **where: Any) -> CollectProblem:
    """A problem whose ``where`` holds the conventional keys (absent ones are None). ``message`` is the English
    text, ``zh`` the Chinese one, written at the call site from the same values (every call in
    :mod:`fintech_eval.collect` gives both: ``tests/collect/test_messages_zh.py`` checks it)."""
    w: dict[str, Any] = {k: None for k in WHERE_KEYS}
    for k, v in where.items():
        w[k] = None if _isna(v) else v
    return CollectProblem(rule=rule, message=message, where=w, severity=severity, message_zh=zh)


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that reject an import (severity error; a plain Problem counts as an error)."""
    return [p for p in problems if getattr(p, "severity", "error") == "error"]


def _isna(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# ---- periods ----------------------------------------------------------------------------------------
def normalise_period(value: Any) -> str:
    """``2024``, ``2024.0``, `` 2024q1 ``, ``20２4`` → ``'2024'``, ``'2024Q1'`` (digits of any script are
    read as ASCII digits, as in values; anything else: its text). Texts are remembered (a column repeats them)."""
    if isinstance(value, str):
        return _normalise_period_text(value)
    return _normalise_period(value)


@lru_cache(maxsize=4096)
def _normalise_period_text(value: str) -> str:
    return _normalise_period(value)


def _normalise_period(value: Any) -> str:
    """``2024``, ``2024.0``, `` 2024q1 ``, ``20２4`` → ``'2024'``, ``'2024Q1'`` (digits of any script are
    read as ASCII digits, as in values; anything else: its text)."""
    if _isna(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = ascii_digits(str(value)).strip()
    if re.fullmatch(r"\d{4}\.0+", s):
        s = s.split(".")[0]
    return s.upper() if re.fullmatch(r"\d{4}q[1-4]", s, re.I) else s


def previous_period(code: str) -> str | None:
    """The period before ``code`` of the same kind (``2024`` → ``2023``, ``2024Q1`` → ``2023Q4``)."""
    kind = period_kind(code)
    if kind == "annual":
        return str(int(code) - 1)
    if kind == "quarterly":
        y, q = int(code[:4]), int(code[5])
        return f"{y - 1}Q4" if q == 1 else f"{y}Q{q - 1}"
    if kind == "monthly":
        y, m = int(code[:4]), int(code[5:])
        return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
    return None


@lru_cache(maxsize=4096)
def _previous_period_cached(code: str) -> str | None:
    """:func:`previous_period`, computed once per distinct period (it is mapped over many rows)."""
    return previous_period(code)


# ---- what the framework says about variables ---------------------------------------------------------
@lru_cache(maxsize=1024)
def _names(text: str) -> frozenset[str]:
    return parse_formula(text).names


def _indicator_names(fw: Framework, ind: Indicator, sector: str | None, depth: int = 0) -> set[str]:
    """Names (variables, parameters) an indicator reads for ``sector`` (None: any sector)."""
    out: set[str] = set()
    if ind.formula:
        out |= _names(ind.formula)
    for v in ind.variants:
        if sector is None or sector in v.sectors:
            out |= _names(v.formula)
    if ind.rollup is not None:
        r = ind.rollup
        for text in (r.numerator, r.denominator, r.condition):
            if text:
                out |= _names(text)
        if r.of:
            var_names = {v.name for v in fw.variables}
            if r.of in var_names:
                out.add(r.of)
            elif depth < 5:
                try:
                    out |= _indicator_names(fw, fw.indicator(r.of), sector, depth + 1)
                except KeyError:
                    pass
    return out


#: variable_feeds per (framework object, sector): a framework is frozen, and every validation asks for them
#: (six walks of the tree, about a third of validating a 100-value return)
_FEEDS: dict[tuple[int, str | None], tuple[Framework, dict[str, tuple[str, ...]]]] = {}


def variable_feeds(framework: Framework, sector: str | None = None) -> dict[str, list[str]]:
    """variable → codes of the indicators applicable to ``sector`` that read it (None: any sector)."""
    hit = _FEEDS.get((id(framework), sector))
    if hit is None or hit[0] is not framework:
        var_names = {v.name for v in framework.variables}
        feeds: dict[str, list[str]] = {}
        for ind in framework.indicators():
            if sector is not None and not ind.applies_to(sector):
                continue
            for name in sorted(_indicator_names(framework, ind, sector) & var_names):
                feeds.setdefault(name, []).append(ind.code)
        if len(_FEEDS) >= 256:
            _FEEDS.clear()
        hit = _FEEDS[(id(framework), sector)] = (framework, {k: tuple(v) for k, v in feeds.items()})
    return {k: list(v) for k, v in hit[1].items()}


def applicable_variables(
    framework: Framework, sector: str, *, entity_kind: str = "institution"
) -> list[tuple[Variable, list[str]]]:
    """The raw variables asked of an entity of ``sector``, in framework order, with the indicators each feeds.

    A variable applies when its ``sectors`` is empty or contains ``sector`` and some indicator applicable
    to ``sector`` reads it (its formula, its variant for the sector, or its roll-up).
    """
    feeds = variable_feeds(framework, sector)
    return [
        (v, feeds[v.name])
        for v in framework.variables
        if v.entity == entity_kind and (not v.sectors or sector in v.sectors) and v.name in feeds
    ]


def carry_over_pairs(framework: Framework) -> list[tuple[str, str]]:
    """``(X_prev_end, X)`` pairs: a variable that restates last period's value of another one, as the
    catalog declares it (``carry_over_of``: ``fintech_staff_prev_end`` → ``fintech_staff``, the turnover
    inputs of J-A2B2-C3), sorted by the first name. The catalog checks that ``X`` exists and matches.
    """
    return sorted((v.name, v.carry_over_of) for v in framework.variables if v.carry_over_of is not None)


suggest = closest  # the one did-you-mean look-up (fintech_eval.errors)


def _hints(choices: list[str]) -> Any:
    """``name → (english, chinese)`` did-you-mean texts (:func:`_did_you_mean`), computed once per distinct name
    (a misspelt name is often repeated on many rows, and each suggestion compares it with every choice)."""
    return lru_cache(maxsize=None)(lambda name: _did_you_mean(name, choices))


def _did_you_mean(name: str, choices: Iterable[str]) -> tuple[str, str]:
    s = suggest(name, choices)
    return (f"; did you mean {s!r}?", f"；是否应为 {s!r}？") if s else ("", "")


# ---- validation -------------------------------------------------------------------------------------
def _where(row: Any, feeds: dict[str, list[str]], **over: Any) -> dict[str, Any]:
    var = row.variable if isinstance(row.variable, str) else None
    w = {
        "file": row.file, "sheet": row.sheet, "row": row.row, "column": row.column,
        "entity": row.entity_id, "period": row.period, "variable": var,
        "indicator": ", ".join(feeds.get(var, [])) or None,
    }  # fmt: skip
    w.update(over)
    return w


_WHERE_COLUMNS = ["file", "sheet", "row", "column", "entity_id", "period", "variable"]  # what _where reads


def compact_rows(numbers: Iterable[Any]) -> str:
    """Row numbers as ranges, the first ten of them and the count: ``2-65, 70 (65 rows)``."""
    nums = sorted({int(n) for n in numbers if not _isna(n)})
    spans: list[list[int]] = []
    for n in nums:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    ranges = [str(a) if a == b else f"{a}-{b}" for a, b in spans]
    return f"{first_of(ranges, what='ranges')} ({len(nums)} rows)"


#: the places that may differ between the rows of one grouped problem (left blank when they do)
_VARYING = ("column", "entity", "period", "variable", "indicator")


def grouped_problems(rule: str, severity: Severity, records: Iterable[Any], make: Any, subject: Any,
                     feeds: dict[str, list[str]]) -> list[CollectProblem]:
    """One problem per file, sheet and ``subject(row)`` (one cause), not one per row: its messages are
    ``make(first row)`` (``(english, chinese, places)``), its ``row`` the first row and ``rows`` every row it
    covers, compactly; a place the rows do not share (variable, period, …) is left blank and the distinct
    variables are listed."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for r in records:
        key = (str(r.file), str(r.sheet), subject(r))
        groups.setdefault(key, []).append(r)
    out = []
    for members in groups.values():
        first = members[0]
        msg, zh, over = make(first)
        w = _where(first, feeds, **over)
        if len(members) > 1:
            places = [_where(m, feeds, **over) for m in members]
            variables = list(dict.fromkeys(p["variable"] for p in places if p["variable"]))
            for k in _VARYING:
                if any(p[k] != w[k] for p in places):
                    w[k] = None
            w["rows"] = compact_rows(p["row"] for p in places)
            if len(variables) > 1:
                msg += f" (variables: {first_of(variables, what='variables')})"
                zh += f"（涉及变量：{first_of(variables, what='个变量')}）"
        out.append(problem(rule, msg, severity, zh=zh, **w))
    return out


def _loc(row: Any, lang: str = "en") -> str:
    zh = lang == "zh"
    parts = [str(row.file)] if not _isna(row.file) and row.file else []
    if not _isna(row.sheet) and row.sheet:
        parts.append(f"工作表 {row.sheet}" if zh else f"sheet {row.sheet}")
    if not _isna(row.row):
        parts.append(f"第 {int(row.row)} 行" if zh else f"row {int(row.row)}")
    return " ".join(parts) or ("（无位置）" if zh else "(no location)")


def _prepare(long_df: pd.DataFrame) -> pd.DataFrame:
    """The long frame with every column of :data:`LONG_COLUMNS`: numbers as float64, key texts stripped
    (blank → missing), periods normalised, text columns as one-chunk strings."""
    return _prepare_coded(long_df)[0]


def _prepare_coded(long_df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """:func:`_prepare`, and the codes of the key columns (``_codes`` of each prepared column) got on the way:
    the text work is done once per distinct value, then taken back to the rows by code."""
    src = long_df.reset_index(drop=True)
    cols: dict[str, Any] = {c: src[c] for c in src.columns}
    for c in LONG_COLUMNS:
        if c not in cols:
            cols[c] = pd.Series(np.nan, index=src.index)
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    cols["value"] = pd.to_numeric(cols["value"], errors="coerce").astype("float64")
    for c in ("entity_kind", "entity_id", "variable", "unit"):
        cols[c], codes[c] = _by_distinct(cols[c], _strip_blank)
    for c in ("source", "file", "sheet", "column", "raw"):
        cols[c] = _as_str(cols[c])
    cols["period"], codes["period"] = _by_distinct(cols["period"], _normalise_distinct)
    cols["row"] = pd.to_numeric(cols["row"], errors="coerce").astype("Int64")
    return pd.DataFrame(cols, index=src.index), codes


def _strip_blank(uniq: pd.Series) -> pd.Series:
    """Distinct texts stripped, blank → missing (what ``_prepare`` does to a key column)."""
    t = uniq.str.strip()
    return t.where(t != "")


def _normalise_distinct(uniq: pd.Series) -> pd.Series:
    """Distinct texts through :func:`normalise_period`, as :func:`normalise_periods` does (missing → '')."""
    return pd.Series([normalise_period(u) for u in uniq], index=uniq.index, dtype="str")


def _as_str(col: pd.Series) -> pd.Series:
    """``col.astype("str")``; a column of other values is converted once per distinct value."""
    if col.dtype == "str" or len(col) < 10_000:
        return col.astype("str")
    return _by_distinct(col, lambda u: u)[0]


def _by_distinct(col: pd.Series, fn: Any) -> tuple[pd.Series, tuple[np.ndarray, np.ndarray]]:
    """``fn(col.astype("str"))`` for a vectorised text → text ``fn``, computed on the distinct values only.

    Returns the new column and its codes and distinct values (as :func:`_codes` of the new column gives
    them: -1 = missing; the order of the distinct values may differ, which no check depends on)."""
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    codes = np.asarray(codes)
    texts = pd.Series(uniq, dtype=object).astype("str")  # str(x) of each distinct value
    mapped = fn(texts)
    missing = fn(pd.Series([np.nan], dtype="str"))  # what fn makes of a missing value
    if col.dtype == "str" and mapped.equals(texts) and missing.isna().all():  # nothing changes
        return col, (codes, np.asarray(texts, dtype=object))
    table = pd.concat([mapped, missing], ignore_index=True).array
    pos = np.where(codes >= 0, codes, len(uniq))
    new = pd.Series(table.take(pos), index=col.index, name=col.name, copy=False)
    tcodes, tuniq = pd.factorize(table, use_na_sentinel=True)  # values that became equal share a code
    return new, (np.asarray(tcodes)[pos], np.asarray(tuniq, dtype=object))


class _Rows:
    """Selections of rows of a frame (by positions or a mask). Selecting rows of a text column read in many
    Arrow chunks costs more than of one in one chunk, and putting a column in one chunk costs a copy: after
    a few selections (many problems to report) the columns are put in one chunk each, in place."""

    def __init__(self, df: pd.DataFrame, compact_after: int = 2) -> None:
        self.df = df
        self.left = compact_after

    def __call__(self, sel: np.ndarray) -> pd.DataFrame:
        if self.left == 0:
            for c in self.df.columns:
                self.df[c] = _one_chunk(self.df[c])
        self.left -= 1
        return self.df[sel] if sel.dtype == bool else self.df.iloc[sel]


def _one_chunk(col: pd.Series) -> pd.Series:
    """The same column, its Arrow strings in one chunk: taking rows of a column read in many chunks
    concatenates them every time (O(n) per ``iloc``), which dominates on large imports."""
    arr = col.array
    data = getattr(arr, "_pa_array", None)
    if not isinstance(arr, ArrowStringArray) or not isinstance(data, pa.ChunkedArray) or data.num_chunks <= 1:
        return col
    one = ArrowStringArray(pa.chunked_array([data.combine_chunks()]), dtype=arr.dtype)
    return pd.Series(one, index=col.index, name=col.name, copy=False)


def normalise_periods(col: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_period` (missing → ''), computed once per distinct value."""
    t = col.astype("str")
    uniq = t.unique()
    mapping = {u: normalise_period(u) for u in uniq if isinstance(u, str)}
    if all(k == v for k, v in mapping.items()) and not t.isna().any():
        return t
    return t.map(mapping).fillna("").astype("str")


_TYPES = ("count", "money", "ratio", "share", "time", "level", "binary", "score", "number")
_T = {t: i for i, t in enumerate(_TYPES)}


def _combined_key(codes: list[np.ndarray]) -> np.ndarray | None:
    """One int64 per row that is equal exactly when every code is (codes -1 for missing included);
    None when the product of the code ranges would not fit."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    span = 1
    for c in codes:
        size = int(c.max()) + 2 if len(c) else 1
        span *= size
        if span >= 2**62:
            return None
        key *= size
        key += c
        key += 1
    return key


def _duplicated(codes: list[np.ndarray]) -> np.ndarray:
    """Rows whose codes all equal those of another row (every row of such a group)."""
    key = _combined_key(codes)
    if key is None:
        return pd.DataFrame(np.stack(codes, axis=1)).duplicated(keep=False).to_numpy()
    if _small_span(key):  # count rows per key value directly (no hashing)
        return np.bincount(key)[key] > 1
    return pd.Series(key).duplicated(keep=False).to_numpy()


def _small_span(key: np.ndarray) -> bool:
    """Whether the values of a non-negative key are few enough (≤ 4 per row) to count them in an array."""
    return len(key) > 0 and int(key.max()) <= 4 * len(key)


def _group_ids(key: np.ndarray) -> np.ndarray:
    """Group codes 0..k-1 of a non-negative key (equal codes exactly for equal keys; the order of the codes
    is not that of first appearance, which no statistic depends on)."""
    if not _small_span(key):
        return pd.factorize(key)[0]
    present = np.bincount(key) > 0
    return (np.cumsum(present) - 1)[key]


def _few_values(arr: np.ndarray) -> Any:
    """What ``df[col] = arr`` stores, for an object array of a few distinct texts ('ok' / 'flagged') or of
    None but at a few rows: the dtype is inferred from those values only (the same inference as on the whole
    array, which converts every row), then the rows are taken."""
    n = len(arr)
    if n < 10_000:
        return arr
    is_none = np.equal(arr, None)
    if is_none.all():
        return arr
    if is_none.any():  # keep the values at the rows that have one, None elsewhere
        nz = np.flatnonzero(~is_none)
        if len(nz) > n // 4:
            return arr
        small = np.empty(len(nz) + 1, dtype=object)
        small[:-1] = arr[nz]
        small[-1] = None
        pos = np.full(n, len(nz), dtype=np.intp)
        pos[nz] = np.arange(len(nz))
        return pd.Series(small).array.take(pos)
    rest = np.ones(n, dtype=bool)
    vals: list[str] = []
    pos = np.zeros(n, dtype=np.intp)
    while rest.any():
        v = arr[int(np.argmax(rest))]
        if not isinstance(v, str) or len(vals) == 4:
            return arr
        same = rest & (arr == v)
        pos[same] = len(vals)
        vals.append(v)
        rest &= ~same
    return pd.Series(np.array(vals, dtype=object)).array.take(pos)


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    return np.asarray(codes), np.asarray(uniq, dtype=object)


def validate(
    long_df: pd.DataFrame,
    framework: Framework,
    institutions: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    *,
    stored: Any = None,
    outlier_threshold: float = 5.0,
    outlier_min_group: int = 5,
    mandatory: str = "applicable",
    optional: Iterable[str] = (),
    unit_checks: Any = None,
) -> tuple[pd.DataFrame, list[CollectProblem]]:
    """Check every row of ``long_df`` against ``framework``; return ``(clean, problems)`` (module doc).

    ``mandatory`` (:data:`MANDATORY_POLICIES`): which blank values of an institution are errors
    (``value.blank_mandatory``); ``optional``: variables never mandatory. ``unit_checks``: a
    :class:`~fintech_eval.collect.unitcheck.UnitChecks` (references and accepted overrides) for the
    unit-factor check; None skips it.

    ``institutions`` (columns ``id``, ``sector``; optional ``name_zh``, ``name_en``) enables the entity and
    sector checks and the per-sector outlier groups; ``previous`` (a clean long frame of earlier periods)
    enables the cross-period turnover check. Without them those checks are skipped, not guessed.
    ``stored``: the values already in the database, as a frame or a function ``(entity_ids, periods,
    variables) -> frame`` (columns entity_kind, entity_id, period, variable, value_norm): a part is checked
    against a stored whole (and a whole against a stored part) that the input does not restate.
    """
    df, codes = _prepare_coded(long_df)
    rows = _Rows(df)
    incoming_status = long_df["status"].to_numpy(dtype=object) if "status" in long_df.columns else None
    incoming_reason = long_df["flag_reason"].to_numpy(dtype=object) if "flag_reason" in long_df.columns else None
    n = len(df)
    bad = np.zeros(n, dtype=bool)
    out: list[CollectProblem] = []
    vars_by_name = {v.name: v for v in framework.variables}
    feeds_all = variable_feeds(framework)

    def add(rule: str, mask: np.ndarray, make: Any, severity: Severity = "error", group: Any = None) -> None:
        """One problem per row of ``mask`` (``make(row)`` → ``(english, chinese, places)``); with ``group`` (row →
        the subject of the cause, e.g. the unknown entity), one problem per file, sheet and subject, listing the
        rows it covers."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        if group is None:
            for r in rows(idx).itertuples():
                msg, zh, over = make(r)
                out.append(problem(rule, msg, severity, zh=zh, **_where(r, feeds_all, **over)))
        else:
            out.extend(grouped_problems(rule, severity, rows(idx).itertuples(), make, group, feeds_all))
        if severity == "error":
            bad[idx] = True

    # per-variable attributes, looked up through the codes of the distinct variable names
    vcode, vuniq = codes["variable"]
    vobj = [vars_by_name.get(u) for u in vuniq]

    vrow = np.where(vcode >= 0, vcode, len(vobj))  # row -> index into per-variable tables

    def per_var(f: Any, default: Any, dtype: Any, then: Any = None) -> np.ndarray:
        """A per-variable table (``then`` applied to it, e.g. a bound's default) taken to the rows."""
        table = np.array([f(v) if v is not None else default for v in vobj] + [default], dtype=dtype)
        return (then(table) if then is not None else table)[vrow]

    known_var = per_var(lambda v: True, False, bool)
    vtype = per_var(lambda v: _T[v.type], -1, np.int64)
    vmin_or = {  # the variable's min, or a default where it has none
        d: per_var(lambda v: _num(v.min), np.nan, float, lambda t, d=d: np.nan_to_num(t, nan=d)) for d in (-np.inf, 0.0)}
    vmax_or = {
        d: per_var(lambda v: _num(v.max), np.nan, float, lambda t, d=d: np.nan_to_num(t, nan=d)) for d in (np.inf, 1.0)}
    # entity kinds as codes into one list of labels (-1: none), so that no per-row object array is needed
    labels = list(ENTITY_KINDS)
    for v in vobj:
        if v is not None and v.entity not in labels:
            labels.append(v.entity)
    declared = per_var(lambda v: labels.index(v.entity), -1, np.int64)

    # 1. variables
    var_hint = _hints(list(vars_by_name))
    fw_name = f"{framework.id}@{framework.version}"

    def unknown_variable(r: Any) -> tuple[str, str, dict]:
        en, zh = var_hint(r.variable if isinstance(r.variable, str) else "")
        return (f"unknown variable {r.variable!r} (not in {fw_name})" + en,
                f"未知变量 {r.variable!r}（{fw_name} 中没有此变量）" + zh, {})

    add("variable.unknown", ~known_var, unknown_variable, group=lambda r: r.variable)

    # 2. entity kinds
    kcode, kuniq = codes["entity_kind"]
    blank_kind = kcode < 0
    kind_ok = np.array([k in ENTITY_KINDS for k in kuniq] + [True], dtype=bool)[np.where(kcode >= 0, kcode, len(kuniq))]
    bad_kind = ~blank_kind & ~kind_ok
    add("entity.kind", bad_kind, lambda r: (
        f"unknown entity kind {r.entity_kind!r} (one of {', '.join(ENTITY_KINDS)})",
        f"未知主体类型 {r.entity_kind!r}（应为 {', '.join(ENTITY_KINDS)} 之一）", {}), group=lambda r: r.entity_kind)
    klab = np.array([labels.index(k) if k in labels else -2 for k in kuniq] + [-1], dtype=np.int64)
    kind = np.where(blank_kind, declared, klab[np.where(kcode >= 0, kcode, len(kuniq))])  # label code per row
    wrong_kind = known_var & ~bad_kind & ~blank_kind & (kind != declared)
    add("entity.kind", wrong_kind, lambda r: (
        f"variable {r.variable} is measured on a {vars_by_name[r.variable].entity}, "
        f"but the row gives entity kind {r.entity_kind!r} for {r.entity_id!r}",
        f"变量 {r.variable} 的填报主体为{KIND_ZH.get(vars_by_name[r.variable].entity, vars_by_name[r.variable].entity)}，"
        f"但该行为 {r.entity_id!r} 给出的主体类型是 {r.entity_kind!r}", {}),
        group=lambda r: (r.variable, r.entity_kind, r.entity_id))
    if blank_kind.any():
        ktab = pd.Series(np.array([*labels, None], dtype=object)).astype("str").array
        filled = pd.Series(ktab.take(np.where(declared >= 0, declared, len(labels))), index=df.index)
        df["entity_kind"] = df["entity_kind"].where(~blank_kind, filled)

    # 3. periods
    pcode, puniq = codes["period"]
    p_ok = np.array([period_kind(p) is not None for p in puniq] + [False], dtype=bool)
    bad_period = ~p_ok[np.where(pcode >= 0, pcode, len(puniq))]
    add("period.invalid", bad_period, lambda r: (
        f"period {r.period!r} is not a reporting period (use 2024, 2024Q1 or 2024-03)",
        f"期间 {r.period!r} 不是有效的报告期（请写作 2024、2024Q1 或 2024-03）", {}), group=lambda r: r.period)

    # 4. entities (resolved once per distinct id)
    ecode, euniq = codes["entity_id"]
    no_entity = ecode < 0
    add("entity.unknown", no_entity, lambda r: ("the entity is empty", "未填写填报主体", {}), group=lambda r: None)
    sector_of: dict[str, str] = {}
    is_region = (kind == labels.index("region")) & ~no_entity
    is_industry = (kind == labels.index("industry")) & ~no_entity
    is_inst = (kind == labels.index("institution")) & ~no_entity
    new_id = euniq.copy()  # corrected ids per distinct id (region prefix, institution name → id)
    changed = False
    if is_region.any():
        reg_u = np.unique(ecode[is_region])
        mapping, _ = resolve_many([euniq[c] for c in reg_u])
        unresolved_u = np.array([euniq[c] not in mapping for c in reg_u])
        unresolved = is_region & np.isin(ecode, reg_u[unresolved_u])
        inst_ids = set(institutions["id"].astype(str).str.strip()) if institutions is not None else set()
        inst_like = unresolved & np.isin(ecode, [c for c in reg_u[unresolved_u] if euniq[c] in inst_ids])
        add("entity.kind", inst_like, lambda r: (
            f"{r.entity_id!r} is an institution, but variable {r.variable} is measured on a region",
            f"{r.entity_id!r} 是机构，但变量 {r.variable} 的填报主体为地区", {}),
            group=lambda r: (r.entity_id, r.variable))
        add("entity.unknown", unresolved & ~inst_like, lambda r: (
            f"region {r.entity_id!r} is not a known Chinese province (name or GB/T 2260 code)",
            f"地区 {r.entity_id!r} 不是已知的省级行政区（请填名称或 GB/T 2260 代码）", {}),
            group=lambda r: r.entity_id)
        region_fix = {c: mapping[euniq[c]][:2] for c in reg_u if euniq[c] in mapping}
    else:
        region_fix = {}
    if is_industry.any():
        ind_bad_u = np.array([u not in SECTORS for u in euniq] + [False])
        add("entity.unknown", is_industry & ind_bad_u[np.where(ecode >= 0, ecode, len(euniq))], lambda r: (
            f"industry {r.entity_id!r} is not a sector ({', '.join(SECTORS)})",
            f"行业 {r.entity_id!r} 不是行业类别（{', '.join(SECTORS)}）", {}), group=lambda r: r.entity_id)
    inst_fix: dict[int, str] = {}
    if institutions is not None and is_inst.any():
        inst = institutions.copy()
        inst["id"] = inst["id"].astype(str).str.strip()
        sectors = inst["sector"] if "sector" in inst.columns else pd.Series([None] * len(inst))
        ids = inst["id"].tolist()  # (plain lists: iterating them is faster than iterating the columns)
        sector_of = {i: (s if isinstance(s, str) else None) for i, s in zip(ids, sectors.tolist(), strict=True)}
        alias: dict[str, str] = {}
        for col in ("name_zh", "name_en"):
            if col in inst.columns:
                for i, name in zip(ids, inst[col].tolist(), strict=False):
                    if isinstance(name, str) and name.strip():
                        alias.setdefault(name.strip(), i)
        inst_u = np.unique(ecode[is_inst])
        unknown_u = []
        for c in inst_u:
            u = euniq[c]
            if u in sector_of:
                continue
            if u in alias:
                inst_fix[c] = alias[u]
            else:
                unknown_u.append(c)
        if unknown_u:
            regions, _ = resolve_many([euniq[c] for c in unknown_u])
            inst_hint = _hints(list(sector_of) + list(alias))

            def unknown_msg(r: Any) -> tuple[str, str, dict]:
                if r.entity_id in regions:
                    return (f"{r.entity_id!r} names a region ({regions[r.entity_id]}), but variable "
                            f"{r.variable} is measured on an institution",
                            f"{r.entity_id!r} 是地区名（{regions[r.entity_id]}），但变量 {r.variable} 的填报主体为机构", {})
                if not sector_of:
                    return (f"unknown institution {r.entity_id!r}: the institution register is empty; {REGISTER_HINT}",
                            f"未知机构 {r.entity_id!r}：机构名录为空；{REGISTER_HINT_ZH}", {})
                en, zh = inst_hint(r.entity_id)
                return (f"unknown institution {r.entity_id!r} (not in the institution register)" + en + f"; {REGISTER_HINT}",
                        f"未知机构 {r.entity_id!r}（不在机构名录中）" + zh + f"；{REGISTER_HINT_ZH}", {})

            unknown = is_inst & np.isin(ecode, unknown_u)
            region_like = unknown & np.isin(ecode, [c for c in unknown_u if euniq[c] in regions])
            add("entity.kind", region_like, unknown_msg, group=lambda r: (r.entity_id, r.variable))
            add("entity.unknown", unknown & ~region_like, unknown_msg, group=lambda r: r.entity_id)
    for c, v in {**region_fix, **inst_fix}.items():
        new_id[c] = v
        changed = True
    if changed:
        fix_rows = (is_region & np.isin(ecode, list(region_fix))) | (is_inst & np.isin(ecode, list(inst_fix)))
        ids = df["entity_id"].to_numpy(dtype=object)
        ids[fix_rows] = new_id[ecode[fix_rows]]
        df["entity_id"] = pd.Series(ids, dtype="object").astype("str")
        ecode, euniq = _codes(df["entity_id"])

    # 5. units (one conversion per distinct variable and unit)
    usable = known_var & ~bad_kind & ~wrong_kind
    ucode, uuniq = codes["unit"]
    pair = vrow.astype(np.int64) * (len(uuniq) + 1) + np.where(ucode >= 0, ucode, len(uuniq))
    pcodes, pu = pd.factorize(pair)
    fac = np.full(len(pu), np.nan)
    for j, key in enumerate(pu):
        vi, ui = divmod(int(key), len(uuniq) + 1)
        if vi >= len(vuniq) or vobj[vi] is None:
            continue
        unit = uuniq[ui] if ui < len(uuniq) else None
        var = vobj[vi]
        try:
            fac[j] = conversion_factor(unit, var.unit, variable=var.name)
        except UnitError as exc:
            add(exc.problems[0].rule, usable & (pcodes == j),
                lambda r, e=exc.problems[0]: (e.message, e.message_zh, {}), group=lambda r: None)
    factor = np.where(usable, fac[pcodes], np.nan)
    df["value_norm"] = df["value"].to_numpy() * factor
    # the declared unit per distinct variable, converted to text once, then taken for every row
    unit_table = pd.Series([v.unit if v is not None else None for v in vobj] + [None], dtype="object").astype("str")
    df["unit_norm"] = pd.Series(unit_table.array.take(vrow), index=df.index)

    # 6. types and ranges (on the converted value)
    x = df["value_norm"].to_numpy()
    has = ~np.isnan(x) & ~bad
    with np.errstate(invalid="ignore"):
        infinite = has & ~np.isfinite(x)
        add("value.not_finite", infinite, lambda r: (f"value {r.value} is not a finite number",
                                                     f"数值 {r.value} 不是有限数", {}))
        has &= ~infinite
        whole_type = (vtype == _T["count"]) | (vtype == _T["level"])
        rounded = np.round(x)
        not_whole = has & whole_type & (np.abs(x - rounded) > 1e-9 * np.maximum(1.0, np.abs(x)))
        add("type.not_whole", not_whole, lambda r: (
            f"{r.variable} is a {vars_by_name[r.variable].type} and must be a whole number, got {r.value_norm:g}"
            f" {r.unit_norm}",
            f"{r.variable} 为{TYPE_ZH[vars_by_name[r.variable].type]}，须为整数，实际为 {r.value_norm:g} {r.unit_norm}", {}))
        snap = has & whole_type & ~not_whole
        x = np.where(snap, rounded, x)
        df["value_norm"] = x
        is_bin = has & (vtype == _T["binary"])
        add("type.binary", is_bin & ~np.isin(x, [0.0, 1.0]), lambda r: (
            f"{r.variable} is yes/no: give 1 (yes/是) or 0 (no/否), got {_show(r)}",
            f"{r.variable} 为是/否项：请填 1（是）或 0（否），实际为 {_show(r, 'zh')}", {}))
        is_level = has & (vtype == _T["level"]) & ~not_whole
        lvl_out = is_level & ((x < vmin_or[-np.inf]) | (x > vmax_or[np.inf]))
        add("range.level", lvl_out, lambda r: (
            f"{r.variable} is a level on the scale {_fmt(vars_by_name[r.variable].min)}.."
            f"{_fmt(vars_by_name[r.variable].max)}, got {r.value_norm:g}",
            f"{r.variable} 为等级，取值范围 {_fmt(vars_by_name[r.variable].min)}.."
            f"{_fmt(vars_by_name[r.variable].max)}，实际为 {r.value_norm:g}", {}))
        is_share = has & (vtype == _T["share"])
        lo = np.maximum(vmin_or[0.0], 0.0)
        hi = np.minimum(vmax_or[1.0], 1.0)
        share_out = is_share & ((x < lo) | (x > hi))
        add("range.share", share_out, lambda r: (
            f"{r.variable} is a share between 0 and 1, got {r.value_norm:g}"
            + ("; it looks like a percentage: give the unit '%' to have it divided by 100"
               if 1 < r.value_norm <= 100 else ""),
            f"{r.variable} 为占比，应在 0 到 1 之间，实际为 {r.value_norm:g}"
            + ("；看似为百分数：请将单位填为 '%'，系统会除以 100" if 1 < r.value_norm <= 100 else ""), {}))
        rest = has & ~is_bin & ~is_level & ~is_share & ~not_whole
        neg = rest & (x < 0) & (vmin_or[-np.inf] >= 0)
        add("range.negative", neg, lambda r: (
            f"{r.variable} ({vars_by_name[r.variable].type}) cannot be negative, got {_show(r)}",
            f"{r.variable}（{TYPE_ZH[vars_by_name[r.variable].type]}）不能为负数，实际为 {_show(r, 'zh')}", {}))
        below = rest & ~neg & (x < vmin_or[-np.inf])
        add("range.min", below, lambda r: (
            f"{r.variable} must be >= {_fmt(vars_by_name[r.variable].min)}, got {r.value_norm:g}",
            f"{r.variable} 须不小于 {_fmt(vars_by_name[r.variable].min)}，实际为 {r.value_norm:g}", {}))
        above = rest & (x > vmax_or[np.inf])
        add("range.max", above, lambda r: (
            f"{r.variable} must be <= {_fmt(vars_by_name[r.variable].max)}, got {r.value_norm:g}",
            f"{r.variable} 须不大于 {_fmt(vars_by_name[r.variable].max)}，实际为 {r.value_norm:g}", {}))

    # 7. duplicates (same entity, period and variable): every row of the group is named
    kcode2 = _codes(df["entity_kind"])[0] if blank_kind.any() else kcode  # kinds filled in: codes again
    keyed = known_var & ~no_entity
    dup = keyed & _duplicated([kcode2, ecode, pcode, vcode])
    if dup.any():
        key = ["entity_kind", "entity_id", "period", "variable"]
        dup_rows = rows(dup)
        records = list(dup_rows.itertuples())  # one pass over the rows of every group
        for (_, ent, per, var), pos in dup_rows.groupby(key, sort=False, dropna=False).indices.items():
            same = [records[i] for i in pos]
            others = "; ".join(f"{_loc(r)} (value {_show(r)})" for r in same)
            others_zh = "；".join(f"{_loc(r, 'zh')}（值 {_show(r, 'zh')}）" for r in same)
            for r in same[1:]:
                out.append(problem(
                    "duplicate",
                    f"{var} for {ent} in {per} is given {len(same)} times: {others}",
                    zh=f"{ent} 在 {per} 的 {var} 填报了 {len(same)} 次：{others_zh}",
                    **_where(r, feeds_all, also=f"{_loc(same[0])}"),
                ))
            bad[dup_rows.index[pos]] = True  # (labels are positions)

    # 8. sector applicability
    sec_u = np.array([sector_of.get(u) for u in euniq] + [None], dtype=object)  # sector per distinct id
    if sector_of:
        unknown_sector = is_inst & np.array([s is not None and s not in SECTORS for s in sec_u])[
            np.where(ecode >= 0, ecode, len(euniq))]
        add("entity.unknown", unknown_sector, lambda r: (
            f"institution {r.entity_id!r} has sector {sector_of.get(r.entity_id)!r}, not one of "
            f"{', '.join(SECTORS)}",
            f"机构 {r.entity_id!r} 的行业类别 {sector_of.get(r.entity_id)!r} 不在 {', '.join(SECTORS)} 之中", {}),
            group=lambda r: r.entity_id)
        applicable = {s: {v.name for v, _ in applicable_variables(framework, s)} for s in SECTORS}
        # table: (sector index, variable code) -> applicable
        sidx = {s: i for i, s in enumerate(SECTORS)}
        app_tab = np.zeros((len(SECTORS) + 1, len(vuniq) + 1), dtype=bool)
        for s, names in applicable.items():
            for j, u in enumerate(vuniq):
                app_tab[sidx[s], j] = u in names
        srow = np.array([sidx.get(s, len(SECTORS)) if isinstance(s, str) else len(SECTORS) for s in sec_u])[
            np.where(ecode >= 0, ecode, len(euniq))]
        in_sector = srow < len(SECTORS)
        not_app = is_inst & known_var & in_sector & ~app_tab[srow, vrow]
        add("variable.not_applicable", not_app, lambda r: (
            f"{r.variable} is not asked of a {sector_of[r.entity_id]} institution "
            f"(variable sectors: {', '.join(vars_by_name[r.variable].sectors) or 'all'}; no indicator for "
            f"{sector_of[r.entity_id]} reads it)",
            f"{r.variable} 不适用于 {sector_of[r.entity_id]} 行业机构，无需填报（变量适用行业："
            f"{', '.join(vars_by_name[r.variable].sectors) or '全部'}；{sector_of[r.entity_id]} 行业没有指标使用该变量）",
            {}), group=lambda r: (r.entity_id, r.variable))

    # 8b. blank mandatory values (module doc: MANDATORY_POLICIES)
    if mandatory not in MANDATORY_POLICIES:
        raise ValueError(f"mandatory={mandatory!r}: one of {', '.join(MANDATORY_POLICIES)}")
    if sector_of and mandatory != "none":
        blank = np.isnan(df["value"].to_numpy()) & ~bad
        if mandatory == "applicable":  # a declared N/A (不适用, 无, -) is an answer; an empty cell is not
            if "raw" in long_df.columns:  # read from a file (the readers keep every cell's text)
                at = np.flatnonzero(blank)  # the texts of the missing values only (a few in a hundred)
                raw = df["raw"].iloc[at]
                blank[at] = (raw.isna() | (raw.astype("str").str.strip() == "")).to_numpy()
            else:  # a frame built in code has no cells: its NaN is a missing value, not an empty cell
                blank[:] = False
        exempt = np.isin(vrow, [j for j, u in enumerate(vuniq) if u in set(optional)])
        blank_mand = blank & is_inst & known_var & in_sector & app_tab[srow, vrow] & ~exempt
        add("value.blank_mandatory", blank_mand, lambda r: (
            f"{r.variable} left blank for {r.entity_id} in {r.period}: the framework asks it of every "
            f"{sector_of[r.entity_id]} institution (an applicable indicator reads it); give the value"
            + (", or N/A (不适用) to declare it unavailable" if mandatory == "applicable" else ""),
            f"{r.entity_id} 在 {r.period} 的 {r.variable} 未填写：指标体系要求每家 {sector_of[r.entity_id]} 行业机构"
            f"填报此项（适用的指标使用该变量）；请填写数值"
            + ("，或填 N/A（不适用）声明无此数据" if mandatory == "applicable" else ""), {}),
            group=lambda r: (r.entity_id, r.period))

    # 8c. unit factor against the previous period and the registered size (collect/unitcheck.py)
    if unit_checks is not None:
        mt = (vtype == _T["money"]) | (vtype == _T["count"])
        cand_mask = is_inst & known_var & mt & ~bad & ~np.isnan(df["value_norm"].to_numpy())
        own = [ACCEPT_COLUMN] if ACCEPT_COLUMN in df.columns else []  # the return's own reasons
        hits = []
        if cand_mask.any():
            slim = df.loc[cand_mask, ["entity_id", "period", "variable", "value_norm", "unit", *own]]
            slim = slim.assign(prev_period=by_distinct(slim["period"], previous_period, "str"))
            hits = unit_factor_problems(slim, unit_checks, {v.name: v.type for v in framework.variables},
                                        {v.name: v.unit for v in framework.variables})
            if hits:
                at = np.array([h.index for h in hits], dtype=np.intp)  # row labels = positions
                for h, r in zip(hits, rows(at)[_WHERE_COLUMNS].itertuples(), strict=True):
                    extra = {"accepted": h.accepted} if h.accepted else {}
                    out.append(problem("unit.factor", h.message, h.severity, zh=h.message_zh, **_where(r, feeds_all),
                                       **extra))
                bad[at[[h.severity == "error" for h in hits]]] = True
        if own:  # a reason beside a value no check stopped accepts nothing: said, so that nobody relies on it
            given = df[ACCEPT_COLUMN].astype("str").str.strip()
            idle = (df[ACCEPT_COLUMN].notna() & (given != "") & (given != "nan")).to_numpy() & ~bad
            idle[[h.index for h in hits]] = False
            for r in rows(np.flatnonzero(idle))[_WHERE_COLUMNS].itertuples():
                out.append(problem("unit.accept_unused", f"{ACCEPT_COLUMN} given for {r.variable} of {r.entity_id} in "
                                   f"{r.period}, but no unit-factor check stopped this value: the reason accepts "
                                   "nothing (the file keeps it as received)", "warning",
                                   zh=f"{r.entity_id} 在 {r.period} 的 {r.variable} 填写了 {ACCEPT_COLUMN}（接受理由），"
                                   "但单位量级检查并未拦截该值：该理由不起作用（文件按原样保留）",
                                   **_where(r, feeds_all)))

    # 9. part <= whole (same entity, period)
    ok_rows = ~bad & ~np.isnan(df["value_norm"].to_numpy())
    ekey = ["entity_kind", "entity_id", "period"]
    vpos = {u: i for i, u in enumerate(vuniq)}
    xn = df["value_norm"].to_numpy()
    ep_key: np.ndarray | None = None  # one integer per (entity_kind, entity_id, period)
    for v in framework.variables:
        if not v.part_of or v.name not in vpos or v.part_of not in vpos:
            continue
        pi = np.flatnonzero(ok_rows & (vcode == vpos[v.name]))
        wi = np.flatnonzero(ok_rows & (vcode == vpos[v.part_of]))
        if not len(pi) or not len(wi):
            continue
        if ep_key is None:
            ep_key = _combined_key([kcode2, ecode, pcode])
        if ep_key is not None:  # match parts to wholes on the key; merge only the pairs that exceed
            kp, kw = pd.Index(ep_key[pi]), pd.Index(ep_key[wi])
            if kp.is_unique and kw.is_unique:
                j = kw.get_indexer(kp)
                matched = j >= 0
                vw = np.where(matched, xn[wi[j]], np.nan)
                exceeds = matched & (xn[pi] > vw * (1 + 1e-9) + 1e-12)
                if not exceeds.any():
                    continue
                pi, wi = pi[exceeds], wi[j[exceeds]]
        parts, wholes = rows(pi), rows(wi)
        m = parts.reset_index().merge(wholes.reset_index(), on=ekey, suffixes=("", "_w"))
        over = m[m["value_norm"] > m["value_norm_w"] * (1 + 1e-9) + 1e-12]
        for r in over.itertuples():
            wl = " ".join(x for x in (r.file_w if isinstance(r.file_w, str) else "",
                                      f"sheet {r.sheet_w}" if isinstance(r.sheet_w, str) else "",
                                      f"row {r.row_w}" if not _isna(r.row_w) else "") if x)
            wl_zh = " ".join(x for x in (r.file_w if isinstance(r.file_w, str) else "",
                                         f"工作表 {r.sheet_w}" if isinstance(r.sheet_w, str) else "",
                                         f"第 {r.row_w} 行" if not _isna(r.row_w) else "") if x)
            out.append(problem(
                "part_of.exceeds",
                f"{v.name} = {r.value_norm:g} exceeds its whole {v.part_of} = {r.value_norm_w:g} ({v.unit}) "
                f"for {r.entity_id} in {r.period} (whole at {wl or 'another row'})",
                zh=f"{r.entity_id} 在 {r.period} 的分项 {v.name} = {r.value_norm:g} 超过其总量 {v.part_of} = "
                   f"{r.value_norm_w:g}（{v.unit}）（总量位于 {wl_zh or '另一行'}）",
                **_where(r, feeds_all),
            ))
            bad[[r.index, r.index_w]] = True

    # 9b. part <= whole against the stored values the input does not restate
    if stored is not None:
        out += _part_whole_vs_stored(rows(~bad & ~np.isnan(df["value_norm"].to_numpy())), framework, stored,
                                     feeds_all, bad)

    # 10. carry-over (turnover) consistency across periods
    pairs_co = [(a, b) for a, b in carry_over_pairs(framework) if a in vpos]
    if pairs_co:
        # only the rows of the variables concerned (now: the carried ones; then: their sources)
        co_vars = [vpos[a] for a, _ in pairs_co] + [vpos[b] for _, b in pairs_co if b in vpos]
        cur = rows(~bad & ~np.isnan(df["value_norm"].to_numpy()) & np.isin(vcode, co_vars))
        pool = [cur.assign(origin="this import")]
        if previous is not None and len(previous):
            prev = _prepare(previous)
            if "value_norm" in previous.columns:
                prev["value_norm"] = pd.to_numeric(previous["value_norm"].to_numpy(), errors="coerce")
            else:
                prev["value_norm"] = prev["value"]
            prev["entity_kind"] = prev["entity_kind"].fillna("institution")
            pool.append(prev.assign(origin="previous data"))
        allv = pd.concat(pool, ignore_index=False)
        for carried, src in pairs_co:
            now = cur[cur["variable"] == carried].copy()
            if now.empty:
                continue
            now["prev_period"] = now["period"].map(_previous_period_cached)
            then = allv[allv["variable"] == src].drop_duplicates(["entity_kind", "entity_id", "period"])
            m = now.reset_index().merge(
                then, left_on=["entity_kind", "entity_id", "prev_period"], right_on=["entity_kind", "entity_id", "period"],
                suffixes=("", "_p"))
            diff = m[(m["value_norm"] - m["value_norm_p"]).abs() > 0.5 + 1e-9 * m["value_norm_p"].abs()]
            for r in diff.itertuples():
                ploc = (f"{r.file_p if isinstance(r.file_p, str) else r.origin} row {r.row_p}"
                        if not _isna(r.row_p) else str(r.origin))
                origin_zh = ORIGIN_ZH.get(str(r.origin), str(r.origin))
                ploc_zh = (f"{r.file_p if isinstance(r.file_p, str) else origin_zh} 第 {r.row_p} 行"
                           if not _isna(r.row_p) else origin_zh)
                out.append(problem(
                    "turnover.inconsistent",
                    f"{carried} = {r.value_norm:g} for {r.entity_id} in {r.period}, but {src} for "
                    f"{r.prev_period} was {r.value_norm_p:g} ({ploc}); they must be equal",
                    zh=f"{r.entity_id} 在 {r.period} 的 {carried} = {r.value_norm:g}，但 {r.prev_period} 的 {src} 为 "
                       f"{r.value_norm_p:g}（{ploc_zh}）；两者须相等",
                    **_where(r, feeds_all),
                ))
                bad[r.index] = True

    # 11. outliers: robust z within variable, sector and period (flag, keep)
    keep = ~bad
    log_t = np.isin(vtype, [_T["count"], _T["money"], _T["time"], _T["number"]])
    lin_t = np.isin(vtype, [_T["score"], _T["share"], _T["ratio"]])
    cand = keep & ~np.isnan(x) & (log_t | lin_t) & bool(np.isfinite(outlier_threshold))  # inf: none judged
    fi = np.zeros(0, dtype=np.intp)  # rows flagged as outliers, and why
    reasons: list[str] = []
    if cand.any():
        ci = np.flatnonzero(cand)
        xv = x[ci]
        lg = log_t[ci]
        xt = np.where(lg & (xv >= 0), np.log1p(np.clip(xv, 0, None)), xv)
        erow = np.where(ecode >= 0, ecode, len(euniq))
        scode = np.array([sidx_any(s) for s in sec_u])[erow[ci]]
        gcodes = [kcode2[ci], vcode[ci], scode, pcode[ci]]
        gflat = _combined_key(gcodes)
        if gflat is not None:
            gid = _group_ids(gflat)
        else:
            gkey = pd.DataFrame({"k": gcodes[0], "v": gcodes[1], "s": gcodes[2], "p": gcodes[3]})
            gid = gkey.groupby(["k", "v", "s", "p"], sort=False).ngroup().to_numpy()
        size, med, z = _robust_z(xt, gid)
        flag = (size >= outlier_min_group) & (np.abs(z) > outlier_threshold)
        if flag.any():
            medv = _group_median(xv, gid, flag)
            fi = ci[flag]
            fdf = rows(fi)
            facts = list(zip(z[flag], lg[flag], sec_u[erow[fi]], medv, size[flag], fdf["variable"], fdf["period"],
                             x[fi], strict=True))
            reasons = [
                f"{OUTLIER_REASON}{zi:+.1f} (|z| > {outlier_threshold:g}) within {var}, {sct or 'all sectors'}, "
                f"{per}: value {val:g} vs median {md:g} of {int(sz)} {'log-' if lgi else ''}values"
                for zi, lgi, sct, md, sz, var, per, val in facts
            ]
            reasons_zh = [
                f"稳健 z 分数 {zi:+.1f}（|z| > {outlier_threshold:g}），比较范围：{var}、{sct or '全部行业'}、{per}："
                f"数值 {val:g}，中位数 {md:g}（{int(sz)} 个{'取对数后的' if lgi else ''}值）"
                for zi, lgi, sct, md, sz, var, per, val in facts
            ]
            for rt, rs, rz in zip(fdf[_WHERE_COLUMNS].itertuples(), reasons, reasons_zh, strict=True):
                out.append(problem("outlier", rs + "; kept and flagged for review", "warning",
                                   zh=rz + "；已保留并标记待审核", **_where(rt, feeds_all)))
    df["status"], df["flag_reason"] = _status_columns(n, fi, reasons, incoming_status, incoming_reason)

    clean = (df.loc[~bad, CLEAN_COLUMNS] if bad.any() else df[CLEAN_COLUMNS]).reset_index(drop=True)
    out.sort(key=lambda p: (str(p.where.get("file") or ""), str(p.where.get("sheet") or ""),
                            _rownum(p.where.get("row"))))
    return clean, out


def _part_whole_vs_stored(cur: pd.DataFrame, framework: Framework, stored: Any, feeds: dict[str, list[str]],
                          bad: np.ndarray) -> list[CollectProblem]:
    """``part_of.exceeds`` for a part above its stored whole, or a whole below its stored part, same entity
    and period, where the input does not give the other value itself (then the input is checked alone)."""
    pairs = [(v.name, v.part_of) for v in framework.variables if v.part_of]
    names = {x for pair in pairs for x in pair}
    cur = cur[cur["variable"].isin(names)]
    if cur.empty:
        return []
    if callable(stored):
        stored = stored(sorted(set(cur["entity_id"])), sorted(set(cur["period"])), sorted(names))
    if stored is None or not len(stored):
        return []
    ekey = ["entity_kind", "entity_id", "period"]
    st = stored[[*ekey, "variable", "value_norm"]].astype({"entity_id": "str", "period": "str", "variable": "str"})
    st = st.assign(entity_kind=st["entity_kind"].fillna("institution").astype("str"))
    cur = cur.assign(entity_kind=cur["entity_kind"].fillna("institution").astype("str"))
    given = set(zip(cur["entity_kind"], cur["entity_id"], cur["period"], cur["variable"], strict=True))
    out = []
    for part, whole in pairs:
        for mine, other, is_part in ((part, whole, True), (whole, part, False)):
            a, b = cur[cur["variable"] == mine], st[st["variable"] == other]
            if a.empty or b.empty:
                continue
            m = a.reset_index().merge(b[[*ekey, "value_norm"]], on=ekey, suffixes=("", "_s"))
            # a boolean mask (an empty list would be read as a list of columns: every column dropped)
            m = m[np.array([(k, e, p, other) not in given for k, e, p in zip(m["entity_kind"], m["entity_id"],
                                                                              m["period"], strict=True)], dtype=bool)]
            p_val, w_val = (m["value_norm"], m["value_norm_s"]) if is_part else (m["value_norm_s"], m["value_norm"])
            for r in m[p_val > w_val * (1 + 1e-9) + 1e-12].itertuples():
                text = (f"{part} = {r.value_norm:g} exceeds its whole {whole} = {r.value_norm_s:g} stored already"
                        if is_part else
                        f"{whole} = {r.value_norm:g} is below its part {part} = {r.value_norm_s:g} stored already")
                text_zh = (f"分项 {part} = {r.value_norm:g} 超过已存储的总量 {whole} = {r.value_norm_s:g}"
                           if is_part else
                           f"总量 {whole} = {r.value_norm:g} 小于已存储的分项 {part} = {r.value_norm_s:g}")
                out.append(problem("part_of.exceeds", f"{text} for {r.entity_id} in {r.period} (from an earlier "
                                   f"import): correct the stored value first, or send both in one file",
                                   zh=f"{r.entity_id} 在 {r.period} 的{text_zh}（来自此前的导入）：请先更正已存储的值，"
                                   "或在同一文件中同时报送两项", **_where(r, feeds)))
                bad[r.index] = True
    return out


def _robust_z(xt: np.ndarray, gid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: its group's size and median, and its robust z-score ``(x - median) / scale`` within the
    group (``gid``: group codes 0..k-1), scale = MAD / 0.6745, or mean absolute deviation × 1.2533 where the
    MAD is 0. Per-group statistics are computed once per group and taken to the rows."""
    size_g = np.bincount(gid)
    med = _group_stat(xt, gid, "median")[gid]
    dev = np.abs(xt - med)
    mad_g = _group_stat(dev, gid, "median")
    zero = ~(mad_g > 0)  # only these groups need the mean deviation
    scale_g = mad_g / 0.6745
    if zero.any():
        sel = zero[gid]
        meanad = pd.Series(dev[sel]).groupby(gid[sel]).mean()
        scale_g[meanad.index.to_numpy()] = meanad.to_numpy() * 1.2533141373155
    scale = scale_g[gid]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (xt - med) / scale, 0.0)
    return size_g[gid], med, z


def _group_stat(x: np.ndarray, gid: np.ndarray, how: str) -> np.ndarray:
    """``how`` ('median', 'mean') of ``x`` per group code 0..k-1, one value per group."""
    return pd.Series(x).groupby(gid).agg(how).to_numpy()


def _group_median(x: np.ndarray, gid: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The median of ``x`` in the group of each of ``rows`` (a mask), from those groups' rows only."""
    groups = np.unique(gid[rows])
    sel = np.isin(gid, groups)
    med = pd.Series(x[sel]).groupby(gid[sel]).median()
    return med.reindex(gid[rows]).to_numpy()


#: how an outlier's flag reason starts (:func:`outlier_free_reason` finds it among a value's other reasons)
OUTLIER_REASON = "robust z-score "


def outlier_free_reason(reason: str | None) -> str | None:
    """A stored flag reason without its outlier part (reasons are joined with ``"; "``): the flags of other
    kinds (a public-data conflict) that stay when the outlier rule is run again; None when nothing is left."""
    if reason is None or _isna(reason) or not str(reason):
        return None
    kept = [part for part in str(reason).split("; ") if not part.startswith(OUTLIER_REASON)]
    return "; ".join(kept) or None


def _status_columns(n: int, fi: np.ndarray, reasons: list[str], incoming_status: np.ndarray | None,
                    incoming_reason: np.ndarray | None) -> tuple[Any, Any]:
    """The ``status`` ('ok' / 'flagged') and ``flag_reason`` columns. Rows a reader flagged keep their
    status and reason; an outlier's reason (rows ``fi``) is appended. Without reader flags the columns are
    built from the flagged rows only (no per-row object array), as :func:`_few_values` would store them."""
    if incoming_status is None and n >= 10_000 and len(fi) <= n // 4:
        pos = np.zeros(n, dtype=np.intp)
        pos[fi] = 1
        status = pd.Series(np.array(["ok", "flagged"], dtype=object)).array.take(pos)
        if not len(fi):
            return status, np.full(n, None, dtype=object)
        small = np.array([*reasons, None], dtype=object)
        pos = np.full(n, len(fi), dtype=np.intp)
        pos[fi] = np.arange(len(fi))
        return status, pd.Series(small).array.take(pos)
    status_arr = np.full(n, "ok", dtype=object)
    reason_arr = np.full(n, None, dtype=object)
    if incoming_status is not None:  # a reader may have flagged rows already (public data conflicts)
        flagged_in = np.array([s == "flagged" for s in incoming_status], dtype=bool)
        status_arr[flagged_in] = "flagged"
        if incoming_reason is not None:
            reason_arr[flagged_in] = incoming_reason[flagged_in]
    if len(fi):
        status_arr[fi] = "flagged"
        reason_arr[fi] = [rs if _isna(p) or not p else f"{p}; {rs}" for p, rs in zip(reason_arr[fi], reasons, strict=True)]
    return _few_values(status_arr), _few_values(reason_arr)


def sidx_any(s: Any) -> int:
    return SECTORS.index(s) if isinstance(s, str) and s in SECTORS else len(SECTORS)


def _rownum(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.inf


def _num(v: float | None) -> float:
    return np.nan if v is None else float(v)


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _show(r: Any, lang: str = "en") -> str:
    raw = getattr(r, "raw", None)
    if isinstance(raw, str) and raw.strip():
        return repr(raw)
    v = getattr(r, "value", None)
    u = getattr(r, "unit", None)
    if _isna(v):
        return "（缺失）" if lang == "zh" else "(missing)"
    return f"{v:g}" + (f" {u}" if u else "")
