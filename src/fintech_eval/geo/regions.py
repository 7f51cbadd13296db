"""China's provincial-level divisions: the reference table and name/code resolution.

The table (``geo/data/provinces.csv``) lists the 31 mainland provinces, autonomous regions and
municipalities that JR/T 0201-2020 regional statistics cover (``in_scope`` true), plus Taiwan, Hong Kong
and Macao (``in_scope`` false), which the China map also draws. Codes are GB/T 2260 six-digit codes
(``110000``); ``prefix`` is their first two digits (``11``); ``macro_region`` is the NBS four-way split
(east/central/west/northeast = 东部/中部/西部/东北), empty outside the 31.

:func:`resolve_province` turns what a data file says about a province into its code. It accepts the full
Chinese name (新疆维吾尔自治区), the short name (新疆), the English name in any case (xinjiang), the listed
variants (Xinjiang Uyghur Autonomous Region, Nei Mongol, 内蒙, Tibet, Macau, 臺灣...), a 2- or 6-digit code
(as text or integer), full-width characters, and English names followed by Province / Municipality /
City / SAR or Chinese names followed by 省 / 市 / 自治区. Single-character abbreviations (京, 沪, 粤)
are deliberately not accepted: a lone character is too easily a truncated cell.
"""

from __future__ import annotations

import csv
import math
import numbers
import re
import unicodedata
from collections.abc import Hashable, Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

from fintech_eval.errors import DataError, Problem

COLUMNS = [
    "code",
    "prefix",
    "name_zh",
    "short_zh",
    "name_en",
    "kind",
    "macro_region",
    "macro_region_zh",
    "in_scope",
    "aliases",
]
KINDS = {"municipality", "province", "autonomous region", "special administrative region"}
MACRO_REGIONS = {"east": "东部", "central": "中部", "west": "西部", "northeast": "东北"}

_DROP = re.compile(r"[\s\-_.,'’·•()（）]+")
_EN_SUFFIXES = (
    "specialadministrativeregion",
    "autonomousregion",
    "municipality",
    "province",
    "city",
    "sar",
)
_ZH_SUFFIXES = (
    "特别行政区",
    "特別行政區",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治區",
    "省",
    "市",
)


def _read_table() -> list[dict[str, str]]:
    text = resources.files("fintech_eval.geo").joinpath("data/provinces.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    rows = _read_table()
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype="str")
    frame["in_scope"] = frame["in_scope"].map({"true": True, "false": False}).astype(bool)
    for column in ("macro_region", "macro_region_zh", "aliases"):
        frame[column] = frame[column].fillna("")
    return frame


def provinces(*, include_out_of_scope: bool = False) -> pd.DataFrame:
    """The province table as a DataFrame (one row per division, ordered by code).

    By default only the 31 mainland divisions in scope for JR/T 0201 regional statistics; with
    ``include_out_of_scope=True`` also Taiwan, Hong Kong and Macao (``in_scope`` False). ``aliases`` is
    a ``|``-separated string of the extra names :func:`resolve_province` accepts.
    """
    frame = _table()
    if not include_out_of_scope:
        frame = frame[frame["in_scope"]]
    return frame.reset_index(drop=True).copy()


def _normalise(text: str) -> str:
    """NFKC (full-width to ASCII), case-folded, without spaces, hyphens and punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text)).casefold()


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Normalised name or code -> code. Raises if two divisions would share a key."""
    index: dict[str, str] = {}
    for row in _read_table():
        code = row["code"]
        names = [code, row["prefix"], row["name_zh"], row["short_zh"], row["name_en"]]
        names += [a for a in row["aliases"].split("|") if a]
        for name in names:
            key = _normalise(name)
            if index.get(key, code) != code:
                raise RuntimeError(f"provinces.csv: {name!r} names both {index[key]} and {code}")
            index[key] = code
    return index


def _strip_suffix(key: str) -> str | None:
    for suffix in _EN_SUFFIXES + _ZH_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return None


def _lookup(value: Any) -> str | None:
    """The code ``value`` names, or ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, numbers.Integral):
        text = str(int(value))
    elif isinstance(value, numbers.Real):
        if not math.isfinite(value) or value != int(value):
            return None
        text = str(int(value))
    elif isinstance(value, str):
        text = value
    else:
        return None
    key = _normalise(text)
    if not key:
        return None
    index = _index()
    code = index.get(key)
    if code is None:
        stripped = _strip_suffix(key)
        code = index.get(stripped) if stripped else None
    return code


def _in_scope_codes() -> frozenset[str]:
    frame = _table()
    return frozenset(frame.loc[frame["in_scope"], "code"])


def _problem(value: Any, code: str | None = None) -> Problem:
    if code is not None:  # resolved, but outside the 31
        return Problem(
            rule="region.out_of_scope",
            message=f"{value!r} ({code}) is not one of the 31 mainland provincial-level divisions "
            "covered by JR/T 0201 regional statistics",
            where={"value": value},
        )
    return Problem(
        rule="region.unknown",
        message=f"{value!r} is not a known Chinese province-level name or code "
        "(full or short Chinese name, English name, or 2-/6-digit GB/T 2260 code)",
        where={"value": value},
    )


def resolve_province(name_or_code: Any, *, in_scope_only: bool = False) -> str:
    """The 6-digit GB/T 2260 code of a province named any accepted way (see module doc).

    Taiwan, Hong Kong and Macao resolve too (710000, 810000, 820000) unless ``in_scope_only`` is set,
    in which case they raise :class:`DataError` with rule ``region.out_of_scope``. Anything that names
    no province raises :class:`DataError` with rule ``region.unknown`` and the value in its message.
    """
    code = _lookup(name_or_code)
    if code is None or (in_scope_only and code not in _in_scope_codes()):
        raise DataError(_problem(name_or_code, code))
    return code


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def resolve_many(
    values: Iterable[Any], *, in_scope_only: bool = False, strict: bool = False
) -> tuple[dict[Hashable, str], list[Any]]:
    """Resolve many names at once: ``(mapping value -> code, unresolved values)``.

    Every distinct value is tried once; the unresolved list keeps first-seen order without repeats
    (missing values such as ``None`` or NaN count as unresolved, once). With ``strict=True`` any
    unresolved value raises one :class:`DataError` carrying one problem per value, so a caller can report
    every bad name in one go.
    """
    mapping: dict[Hashable, str] = {}
    unresolved: list[Any] = []
    problems: list[Problem] = []
    seen: set[Any] = set()
    missing_seen = False
    in_scope = _in_scope_codes()
    for value in values:
        if _is_missing(value):
            if not missing_seen:
                missing_seen = True
                unresolved.append(value)
                problems.append(_problem(value))
            continue
        try:
            if value in seen:
                continue
            seen.add(value)
        except TypeError:  # unhashable: cannot be a name
            unresolved.append(value)
            problems.append(_problem(value))
            continue
        code = _lookup(value)
        if code is None or (in_scope_only and code not in in_scope):
            unresolved.append(value)
            problems.append(_problem(value, code))
        else:
            mapping[value] = code
    if strict and problems:
        raise DataError(problems)
    return mapping, unresolved
