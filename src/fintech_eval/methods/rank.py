"""Ranks as COINr: higher score = rank 1, ties share the minimum rank, NaN stays NaN.

COINr ranks with ``rank(-x, ties.method = "min", na.last = "keep")`` on the full-precision scores (since
1.1.9 it ranks before rounding); :func:`rank` does the same per column, :func:`group_rank` within groups
(COINr ``get_results(use = "groupranks", use_group = ...)``). Ranks come back as nullable integers
(``Int64``; ``ties="average"`` gives ``Float64``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError

TIES = ("min", "max", "average", "first", "dense")


def _check(data: pd.DataFrame | pd.Series, ties: str) -> None:
    if ties not in TIES:
        raise SpecError(f"ties must be one of {', '.join(TIES)}, got {ties!r}", step="rank", parameter="ties")
    if not isinstance(data, pd.DataFrame | pd.Series):
        raise DataError("rank: data must be a DataFrame or Series of scores", rule="rank.data", step="rank")


def _as_int(r: pd.DataFrame | pd.Series, ties: str) -> pd.DataFrame | pd.Series:
    return r.astype("Float64" if ties == "average" else "Int64")


def _int_frame(values: np.ndarray, like: pd.DataFrame | pd.Series, ties: str) -> pd.DataFrame | pd.Series:
    """Float ranks with NaN → nullable integer columns, built from the arrays directly (no per-cell checks)."""
    mask = np.isnan(values)
    if ties == "average":
        cols = [pd.arrays.FloatingArray(np.where(mask[:, j], 0.0, values[:, j]), mask[:, j]) for j in range(values.shape[1])]
    else:
        ints = np.where(mask, 0, values).astype(np.int64)
        cols = [pd.arrays.IntegerArray(ints[:, j], mask[:, j]) for j in range(values.shape[1])]
    if isinstance(like, pd.Series):
        return pd.Series(cols[0], index=like.index, name=like.name)
    return pd.DataFrame(dict(zip(range(len(cols)), cols, strict=True)), index=like.index).set_axis(like.columns, axis=1)


def rank(data: pd.DataFrame | pd.Series, ties: str = "min", higher_is_better: bool = True) -> pd.DataFrame | pd.Series:
    """Rank units (rows) within each column: the highest value gets 1 (``higher_is_better=False``: the lowest),
    ties share the minimum rank (``ties``), NaN stays NaN.

    >>> rank(pd.Series([3.0, 5.0, 5.0, None, 1.0])).tolist()
    [3, 1, 1, <NA>, 4]
    """
    _check(data, ties)
    x = np.asarray(data, dtype=float)
    x2 = x.reshape(len(x), -1)
    xt = np.ascontiguousarray((-x2 if higher_is_better else x2).T)  # one contiguous row per column: fast sorts
    if ties == "min":
        r = _min_ranks(xt)
    else:
        from scipy.stats import rankdata  # here, not at import: scipy.stats takes ~1 s to import

        r = rankdata(xt, method="ordinal" if ties == "first" else ties, axis=1, nan_policy="omit")
    return _int_frame(np.asarray(r, dtype=float).T, data, ties)


def min_ranks(x: np.ndarray) -> np.ndarray:
    """:func:`rank` on a plain (units × columns) float array: highest = 1, ties = min, NaN kept (float ranks);
    for loops over many variants, where building frames would cost more than ranking."""
    return _min_ranks(np.ascontiguousarray(-np.asarray(x, dtype=float).T)).T


def _min_ranks(xt: np.ndarray) -> np.ndarray:
    """Ranks with ties = min along each row, NaN kept: sort once, then every value in a run of equal
    values takes the position of the run's first element (vectorised over all rows)."""
    n = xt.shape[1]
    order = np.argsort(xt, axis=1)  # NaN sort last
    s = np.take_along_axis(xt, order, axis=1)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0), axis=1)
    out = np.empty(xt.shape, dtype=float)
    np.put_along_axis(out, order, first + 1.0, axis=1)
    out[np.isnan(xt)] = np.nan
    return out


def group_rank(
    data: pd.DataFrame | pd.Series,
    groups: pd.Series,
    ties: str = "min",
    higher_is_better: bool = True,
) -> pd.DataFrame | pd.Series:
    """Ranks within groups: ``groups`` maps each unit (the data's index) to its group (e.g. a ``*_group`` column
    of COINr's iData). Units without a group get NaN ranks."""
    _check(data, ties)
    if not isinstance(groups, pd.Series):
        raise DataError("group_rank: groups must be a Series unit → group", rule="rank.groups", step="rank")
    missing = data.index.difference(groups.index)
    if len(missing):
        raise DataError(f"group_rank: no group entry for units {', '.join(map(str, missing[:10]))}",
                        rule="rank.groups", step="rank")
    g = groups.reindex(data.index)
    r = data.astype(float).groupby(g, dropna=True).rank(method=ties, ascending=not higher_is_better, na_option="keep")
    r = r.reindex(data.index)
    return _as_int(r, ties)
