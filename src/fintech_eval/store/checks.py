"""Checks of the frames the repositories are given: text and float64 columns, allowed values, periods,
required columns, duplicate keys. Every problem is collected (:class:`_Problems`, at most
:data:`MAX_PROBLEMS` listed) and raised together as one :class:`~fintech_eval.errors.DataError` whose rows
are the frame's index labels; nothing is written before the checks pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import DataError, Problem
from ..periods import period_kind
from .keys import _py

MAX_PROBLEMS = 1000  # a report lists at most this many problems, then says how many more there were


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.more = 0

    def add(self, rule: str, message: str, *, zh: str | None = None, **where: Any) -> None:
        """One problem; ``zh``: its Chinese text (a check a register or an account reaches gives one)."""
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(
                Problem(rule=rule, message=message, where={k: _py(v) for k, v in where.items()}, message_zh=zh)
            )
        else:
            self.more += 1

    def rows(self, mask: Any, frame: pd.DataFrame, rule: str, message: Any, **where: Any) -> None:
        """One problem per row of ``frame`` where ``mask`` holds; ``message(label, i)`` or a string."""
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            label = frame.index[i]
            msg = message(label, i) if callable(message) else message
            self.add(rule, msg, row=label, **where)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        items = list(self.items)
        if self.more:
            items.append(Problem(rule="store.too_many_problems", message=f"… and {self.more} more problems",
                                 message_zh=f"……另有 {self.more} 个问题"))
        raise DataError(items)


def _as_frame(records: pd.DataFrame | Iterable[Mapping[str, Any]], what: str) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        return records
    try:
        return pd.DataFrame(list(records))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: expected a DataFrame or records ({exc})", rule="store.frame") from exc


def _str_col(s: pd.Series) -> pd.Series:
    """A column as pandas ``str`` dtype (missing stays missing)."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is np.nan:
        return s
    return s.astype("str")


def _num_col(s: pd.Series, problems: _Problems, frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing; text that is not a number and ±inf are problems."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        out = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        out = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isnan(out) & ~s.isna().to_numpy()
        if bad.any():
            values = s.to_numpy()
            problems.rows(
                bad, frame, "store.not_a_number",
                lambda _lbl, i: f"{column} {values[i]!r} is not a number", column=column,
            )  # fmt: skip
    inf = np.isinf(out)
    if inf.any():
        problems.rows(inf, frame, "store.not_finite", f"{column} is not finite", column=column)
        out = np.where(inf, np.nan, out)
    return out


class _Codes(NamedTuple):
    """A text column factorized: ``uniques[codes]`` is the column (code -1: missing)."""

    codes: np.ndarray
    uniques: np.ndarray


def _required_text(
    df: pd.DataFrame, column: str, problems: _Problems, codes: dict[str, _Codes] | None = None
) -> pd.Series:
    """The column as ``str``; a missing or blank value is a problem. The blank check runs once per
    distinct value; the factorization is kept in ``codes[column]`` for later use when given."""
    s = _str_col(df[column])
    k, u = pd.factorize(s)
    blank = np.append((pd.Series(u, dtype="str").str.strip() == "").to_numpy(dtype=bool), True)
    empty = blank[k]
    if empty.any():
        problems.rows(empty, df, "store.missing", f"{column} is missing", column=column)
    if codes is not None:
        codes[column] = _Codes(k, np.asarray(u, dtype=object))
    return s


def _choice(
    s: pd.Series, allowed: tuple[str, ...], df: pd.DataFrame, column: str, problems: _Problems
) -> None:
    bad = (~s.isin(allowed) & s.notna()).to_numpy(dtype=bool)
    if bad.any():
        values = s.to_numpy()
        problems.rows(
            bad, df, f"store.{column}",
            lambda _lbl, i: f"{column} {values[i]!r} is not one of {', '.join(allowed)}", column=column,
        )  # fmt: skip


def _periods(s: pd.Series, df: pd.DataFrame, problems: _Problems) -> None:
    codes = s.dropna().unique()
    bad_codes = [c for c in codes if period_kind(c) is None]
    if bad_codes:
        bad = s.isin(bad_codes).to_numpy(dtype=bool)
        values = s.to_numpy()
        problems.rows(
            bad, df, "store.period",
            lambda _lbl, i: f"period {values[i]!r} is not YYYY, YYYYQn or YYYY-MM", column="period",
        )  # fmt: skip


def _missing_columns(df: pd.DataFrame, required: Sequence[str], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {', '.join(missing)} (have: {', '.join(map(str, df.columns))})",
            rule="store.columns",
        )


def _where(mask: np.ndarray, a: pd.Series, b: pd.Series) -> pd.Series:
    """``a`` where ``mask`` holds, else ``b``; without a pass over the rows when the mask is uniform
    (the usual case: every row converted, or none)."""
    if mask.all():
        return a
    if not mask.any():
        return b
    return a.where(mask, b)


def _same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    eq = (a == b).to_numpy(dtype=bool, na_value=False)
    return eq | (a.isna().to_numpy() & b.isna().to_numpy())


def _same_float(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _duplicates(df: pd.DataFrame, key: Sequence[str], what: str) -> None:
    dup = df.duplicated(subset=list(key), keep=False).to_numpy()
    if not dup.any():
        return
    p = _Problems()
    keys = df[list(key)].to_numpy()
    first: dict[tuple, Any] = {}
    for i in np.flatnonzero(dup):
        k = tuple(keys[i])
        if k in first:
            p.add(
                "store.duplicate_key",
                f"duplicate {what} {'/'.join(map(str, k))} (also at row {first[k]})",
                row=df.index[i], **dict(zip(key, k, strict=True)),
            )  # fmt: skip
        else:
            first[k] = df.index[i]
    p.raise_if_any()
