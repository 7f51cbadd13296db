"""Imputation of missing values, as COINr's ``Impute()`` and ``impute_panel()``, with every cell logged.

Four kinds of method, one registry (``IMPUTERS``); the kind says what the method looks at:

* **column** — ``mean``, ``median`` (COINr ``i_mean``, ``i_median``): a NaN gets its column's statistic.
* **group** — ``mean_group``, ``median_group`` (``i_mean_grp``, ``i_median_grp``): the statistic of the
  unit's group (``group="EurAsia_group"`` picks a column of ``groups``). Units without a group are left alone.
* **row** — ``row_mean``, ``row_median`` (COINr ``impute_by = "row"``): the mean (median) of the unit's
  other indicators in the same aggregation group at tree ``level`` (whole row if ``level`` is None).
  As COINr does by default, each column is first min-max scaled to [0, 1] after applying its direction,
  the row statistic is taken on that scale, and the result is mapped back:
  ``x = (s·(max − min) + min) · direction`` with min/max of ``direction · x``.
* **panel** — ``latest``, ``constant``, ``linear``, ``linear_constant`` (``impute_panel``): the data has a
  (uCode, Time) index and each unit's time series fills its own gaps. ``latest``: the most recent earlier
  observation, at most ``max_time`` periods back (nothing before the first observation). ``constant``:
  ``stats::approx(method = "constant", rule = 2)`` — the last observation, or the first one before the
  series starts. ``linear``: straight line between the neighbouring observations in time,
  ``y_i + (y_j − y_i)·(t − t_i)/(t_j − t_i)``, nearest observation outside the observed range; a series
  with one observation cannot be interpolated (error). ``linear_constant``: ``linear``, but such a series
  is filled with its one value.

Column, group and row methods on a panel work period by period, as COINr imputes each coin of a purse.
Values that were present are never changed (COINr's safety check). ``ImputeResult.log`` has one row per
missing cell — imputed or not — with the value and where it came from, so no imputation is silent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..engine.tree import Tree
from ..errors import Problem, SpecError
from ..registry import Registry
from ._frame import (
    Param,
    as_matrix,
    is_panel,
    like,
    method_error,
    periods,
    problem,
    resolve_params,
    time_level,
    unit_level,
)

STEP = "impute"
IMPUTERS = Registry(STEP)

_LEVEL = Param(default=None, kind="int", nullable=True, check=lambda v: None if v >= 2 else f"must be >= 2, got {v}", stage=True)
_MAX_TIME = Param(default=None, kind="int", nullable=True, check=lambda v: None if v >= 1 else f"must be >= 1, got {v}")
_ROW_PARAMS = {"level": _LEVEL, "normalise_first": Param(default=True, kind="bool")}
_GROUP_PARAMS = {"group": Param(default=None, kind="any", nullable=True, stage=True, doc="column of `groups` to use")}


@dataclass(frozen=True, eq=False)
class ImputeResult:
    """The imputed ``data``, ``warnings`` (e.g. cells left missing) and the cell ``log``.

    ``log`` has one row per cell that was missing: uCode, [Time], iCode, status ("imputed" or
    "not imputed"), value, method, source (e.g. "group mean (EurAsia_group = Asia)", "period 2021").
    It is assembled on first access from what the imputation recorded.
    """

    data: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    build_log: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)

    @cached_property
    def log(self) -> pd.DataFrame:
        if self.build_log is None:
            return pd.DataFrame(columns=["uCode", "iCode", "status", "value", "method", "source"])
        return self.build_log()


# --------------------------------------------------------------------------------------------------
# column methods: f(x) -> filled x
# --------------------------------------------------------------------------------------------------
def _fill(x: np.ndarray, values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    return np.where(np.isnan(x) if missing is None else missing, values, x)


@IMPUTERS.register("none", kind="column")
def no_impute(x: np.ndarray) -> np.ndarray:
    """Leave missing values missing (they are still listed in the log)."""
    return x.copy()


@IMPUTERS.register("mean", aliases=["i_mean"], kind="column", source="column mean")
def col_mean(x: np.ndarray) -> np.ndarray:
    """NaN → mean of the column's available values (COINr ``i_mean``)."""
    missing = np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.add.reduce(x, axis=0, where=~missing) / (x.shape[0] - missing.sum(axis=0))
    return _fill(x, means[None, :], missing)


@IMPUTERS.register("median", aliases=["i_median"], kind="column", source="column median")
def col_median(x: np.ndarray) -> np.ndarray:
    """NaN → median of the column's available values (COINr ``i_median``)."""
    return _fill(x, _nanstat(np.nanmedian, x, axis=0)[None, :])


def _nanstat(f, x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:
        return np.full(x.shape[1 - axis], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return f(x, axis=axis)


# --------------------------------------------------------------------------------------------------
# group methods: f(x, codes, n_groups) -> filled x; codes[i] = group of row i, -1 = no group
# --------------------------------------------------------------------------------------------------
@IMPUTERS.register("mean_group", aliases=["i_mean_grp", "mean_grp"], kind="group", params=_GROUP_PARAMS, source="group mean")
def group_mean(x: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """NaN → mean of the column within the unit's group (COINr ``i_mean_grp``)."""
    has = codes >= 0
    g = np.zeros((n_groups, x.shape[0]))
    g[codes[has], np.flatnonzero(has)] = 1.0
    valid = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (g @ np.where(valid, x, 0.0)) / (g @ valid)
    fill = np.full_like(x, np.nan)
    fill[has] = means[codes[has]]
    return _fill(x, fill)


@IMPUTERS.register(
    "median_group", aliases=["i_median_grp", "median_grp"], kind="group", params=_GROUP_PARAMS, source="group median"
)
def group_median(x: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """NaN → median of the column within the unit's group (COINr ``i_median_grp``)."""
    fill = np.full_like(x, np.nan)
    for k in range(n_groups):
        rows = codes == k
        fill[rows] = _nanstat(np.nanmedian, x[rows], axis=0)[None, :]
    return _fill(x, fill)


# --------------------------------------------------------------------------------------------------
# row methods: f(x, blocks, directions, normalise_first) -> filled x
# --------------------------------------------------------------------------------------------------
def _row_impute(stat, x: np.ndarray, blocks: list[np.ndarray], directions: np.ndarray, normalise_first: bool) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalise_first:
            xd = x * directions[None, :]
            mn = _nanstat(np.nanmin, xd, axis=0)
            mx = _nanstat(np.nanmax, xd, axis=0)
            xn = (xd - mn) / (mx - mn)
        else:
            xn = x
        filled = xn.copy()
        for cols in blocks:
            sub = xn[:, cols]
            s = _nanstat(stat, sub, axis=1)
            filled[:, cols] = np.where(np.isnan(sub), s[:, None], sub)
        if normalise_first:
            filled = (filled * (mx - mn) + mn) * directions[None, :]
    return _fill(x, filled)


@IMPUTERS.register("row_mean", kind="row", params=_ROW_PARAMS, source="row mean")
def row_mean(x: np.ndarray, blocks: list[np.ndarray], directions: np.ndarray, normalise_first: bool = True) -> np.ndarray:
    """NaN → mean of the unit's other indicators in its group (COINr ``impute_by = "row"``, ``i_mean``)."""
    return _row_impute(np.nanmean, x, blocks, directions, normalise_first)


@IMPUTERS.register("row_median", kind="row", params=_ROW_PARAMS, source="row median")
def row_median(x: np.ndarray, blocks: list[np.ndarray], directions: np.ndarray, normalise_first: bool = True) -> np.ndarray:
    """NaN → median of the unit's other indicators in its group (COINr ``impute_by = "row"``, ``i_median``)."""
    return _row_impute(np.nanmedian, x, blocks, directions, normalise_first)


# --------------------------------------------------------------------------------------------------
# panel methods: f(cube[unit, time, indicator], times) -> (filled cube, source time cube)
# --------------------------------------------------------------------------------------------------
def _neighbours(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of the last valid time <= t and of the first valid time >= t (-1 / T when none)."""
    t = valid.shape[1]
    pos = np.arange(t)[None, :, None]
    prev = np.maximum.accumulate(np.where(valid, pos, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(valid, pos, t)[:, ::-1], axis=1)[:, ::-1]
    return prev, nxt


def _take(cube: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.take_along_axis(cube, np.clip(idx, 0, cube.shape[1] - 1), axis=1)


@IMPUTERS.register("latest", kind="panel", params={"max_time": _MAX_TIME}, source="latest earlier period")
def latest(cube: np.ndarray, times: np.ndarray, max_time: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """NaN at t → the most recent observation before t, at most ``max_time`` periods back."""
    valid = ~np.isnan(cube)
    prev, _ = _neighbours(valid)
    ok = ~valid & (prev >= 0)
    if max_time is not None:
        ok &= (np.arange(cube.shape[1])[None, :, None] - prev) <= max_time
    src = np.where(ok, times[np.clip(prev, 0, None)], np.nan)
    return np.where(ok, _take(cube, prev), cube), src


@IMPUTERS.register("constant", kind="panel", source="nearest earlier (else later) period")
def constant(cube: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NaN → last earlier observation, or the first observation if the series starts later (approx, rule 2)."""
    valid = ~np.isnan(cube)
    prev, nxt = _neighbours(valid)
    use = np.where(prev >= 0, prev, nxt)
    ok = ~valid & (use < cube.shape[1])
    src = np.where(ok, times[np.clip(use, 0, cube.shape[1] - 1)], np.nan)
    return np.where(ok, _take(cube, use), cube), src


def _linear(cube: np.ndarray, times: np.ndarray, present: np.ndarray, fallback: bool, index_info) -> tuple[np.ndarray, np.ndarray]:
    valid = ~np.isnan(cube)
    n_valid = valid.sum(axis=1)
    need = ~valid & present
    single = (n_valid == 1)[:, None, :] & need
    if single.any() and not fallback:
        u, _, j = np.argwhere(single)[0]
        unit, ind = index_info(u, j)
        raise method_error(
            STEP, "linear", "needs at least two observations in time to interpolate (use 'linear_constant')",
            unit=unit, indicator=ind,
        )
    prev, nxt = _neighbours(valid)
    t_last = cube.shape[1]
    has_p, has_n = prev >= 0, nxt < t_last
    yp, yn = _take(cube, prev), _take(cube, nxt)
    tt = times[None, :, None]
    tp, tn = times[np.clip(prev, 0, t_last - 1)], times[np.clip(nxt, 0, t_last - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        inner = yp + (yn - yp) * ((tt - tp) / (tn - tp))
    val = np.where(has_p & has_n, inner, np.where(has_p, yp, yn))
    ok = ~valid & (has_p | has_n)
    src = np.where(ok & has_p & has_n, np.inf, np.where(ok, np.where(has_p, tp, tn), np.nan))
    return np.where(ok, val, cube), src


@IMPUTERS.register("linear", kind="panel", source="linear interpolation in time")
def linear(cube: np.ndarray, times: np.ndarray, *, present: np.ndarray, index_info) -> tuple[np.ndarray, np.ndarray]:
    """NaN → linear interpolation between neighbouring observations; nearest observation at the ends."""
    return _linear(cube, times, present, False, index_info)


@IMPUTERS.register("linear_constant", aliases=["linear-constant"], kind="panel", source="linear interpolation in time")
def linear_constant(cube: np.ndarray, times: np.ndarray, *, present: np.ndarray, index_info) -> tuple[np.ndarray, np.ndarray]:
    """As ``linear``; a series with a single observation is filled with that value."""
    return _linear(cube, times, present, True, index_info)


# --------------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------------
def impute(
    data: pd.DataFrame,
    method: str = "mean",
    groups: pd.DataFrame | pd.Series | None = None,
    tree: Tree | None = None,
    *,
    directions: pd.Series | dict[str, int] | None = None,
    **params: Any,
) -> ImputeResult:
    """Impute the NaNs of ``data`` with ``method`` (see the module doc); returns the data and the cell log.

    ``groups``: the ``*_group`` columns (same index as ``data``) for the group methods, with
    ``group="EurAsia_group"`` naming the column. ``tree`` (and ``level``) define the indicator groups of the
    row methods; their directions come from the tree unless ``directions`` is given.
    """
    entry = IMPUTERS.entry(method)
    kind = entry.meta["kind"]
    p = resolve_params(entry, params, STEP)
    x = as_matrix(data, STEP, copy=False)  # read only: the methods return new arrays
    nan_in = np.isnan(x)
    warnings: list[Problem] = []
    src_detail: np.ndarray | None = None
    if kind == "panel":
        if not is_panel(data):
            raise SpecError(
                f"impute: method {entry.name!r} needs panel data indexed by (uCode, Time)", step=STEP, method=entry.name
            )
        out, src_detail = _impute_panel(entry, data, x, p)
    elif not nan_in.any():
        _prepare(entry, kind, data, groups, tree, directions, p)  # still check the spec
        out = x.copy()
    else:
        fn = _prepare(entry, kind, data, groups, tree, directions, p)
        chunks = periods(data)
        if len(chunks) == 1:
            out = np.asarray(fn(x, chunks[0][1]), dtype=np.float64)
        else:
            out = x.copy()
            for _, rows in chunks:
                out[rows] = fn(x[rows], rows)
    # COINr's safety check: values that were present must come back unchanged. (out != x) holds in every
    # missing cell (NaN != anything), so a present value changed when it holds in more cells than those.
    r, c = np.nonzero(nan_in)
    with np.errstate(invalid="ignore"):
        if np.count_nonzero(out != x) > len(r):
            r, c = np.argwhere((out != x) & ~nan_in)[0]
            raise method_error(
                STEP, entry.name, "changed a value that was not missing", unit=data.index[r], indicator=data.columns[c]
            )
    if np.may_share_memory(out, x):  # a method handed back its input: never alias the caller's frame
        out = out.copy()
    vals = out[r, c]
    left = int(np.isnan(vals).sum())
    if left:
        warnings.append(problem(STEP, entry.name, f"after imputation there are still {left} missing values"))
    return ImputeResult(
        data=like(data, out),
        warnings=warnings,
        build_log=lambda: _log(data, entry, vals, r, c, groups, p, src_detail),
    )


def _prepare(entry, kind, data, groups, tree, directions, p):
    if kind == "column":
        return lambda xs, rows: entry.func(xs)
    if kind == "group":
        labels = _group_labels(data, groups, p.get("group"), entry.name)
        codes_all, uniques = pd.factorize(labels, sort=True)

        def run(xs, rows):
            return entry.func(xs, codes_all[rows], len(uniques))

        return run
    # row
    blocks = _blocks(data, tree, p["level"], entry.name)
    dirs = _directions(data, tree, directions, entry.name, required=p["normalise_first"])
    return lambda xs, rows: entry.func(xs, blocks, dirs, p["normalise_first"])


def _group_labels(data: pd.DataFrame, groups, group: str | None, method: str) -> np.ndarray:
    if groups is None:
        raise SpecError(f"impute: method {method!r} needs `groups`", step=STEP, method=method, parameter="groups")
    if isinstance(groups, pd.DataFrame):
        if group is None:
            if groups.shape[1] != 1:
                raise SpecError(
                    f"impute: method {method!r} needs `group` = one of {', '.join(map(str, groups.columns))}",
                    step=STEP, method=method, parameter="group",
                )
            group = groups.columns[0]
        if group not in groups.columns:
            raise SpecError(
                f"impute: group column {group!r} not found (have {', '.join(map(str, groups.columns))})",
                step=STEP, method=method, parameter="group",
            )
        series = groups[group]
    else:
        series = groups
    missing = data.index.difference(series.index)
    if len(missing):
        raise SpecError(
            f"impute: unit {missing[0]!r} has no row in `groups`", step=STEP, method=method, parameter="groups", unit=missing[0]
        )
    return series.reindex(data.index).to_numpy(dtype=object)


def _blocks(data: pd.DataFrame, tree: Tree | None, level: int | None, method: str) -> list[np.ndarray]:
    if level is None:
        return [np.arange(data.shape[1])]
    if tree is None:
        raise SpecError(f"impute: method {method!r} with `level` needs the `tree`", step=STEP, method=method, parameter="tree")
    if level > tree.n_levels:
        raise SpecError(
            f"impute: level {level} is above the top level {tree.n_levels}", step=STEP, method=method, parameter="level"
        )
    pos = {c: i for i, c in enumerate(data.columns)}
    blocks, seen = [], set()
    for code in tree.codes(level):
        cols = [pos[c] for c in tree.leaves_under(code) if c in pos]
        seen.update(cols)
        if cols:
            blocks.append(np.asarray(cols))
    rest = [i for i in range(data.shape[1]) if i not in seen]
    if rest:
        raise SpecError(
            f"impute: indicator {data.columns[rest[0]]!r} is not in the tree", step=STEP, method=method,
            indicator=data.columns[rest[0]],
        )
    return blocks


def _directions(data, tree, directions, method, required: bool) -> np.ndarray:
    if directions is None and tree is not None:
        directions = tree.directions
    if directions is None:
        if required:
            raise SpecError(
                f"impute: method {method!r} scales each column first and needs `directions` (or the `tree`)",
                step=STEP, method=method, parameter="directions",
            )
        return np.ones(data.shape[1])
    d = pd.Series(directions)
    missing = [c for c in data.columns if c not in d.index]
    if missing:
        raise SpecError(
            f"impute: no direction for indicator {missing[0]!r}", step=STEP, method=method, parameter="directions",
            indicator=missing[0],
        )
    d = d.reindex(data.columns).to_numpy(dtype=float)
    if not np.isin(d, (-1, 1)).all():
        raise SpecError("impute: directions must be 1 or -1", step=STEP, method=method, parameter="directions")
    return d


def _impute_panel(entry, data: pd.DataFrame, x: np.ndarray, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    ul, tl = unit_level(data), time_level(data)
    u_codes, u_labels = pd.factorize(data.index.get_level_values(ul))
    t_codes, t_labels = pd.factorize(data.index.get_level_values(tl), sort=True)
    try:
        times = np.asarray(t_labels, dtype=float)
    except (TypeError, ValueError):
        raise SpecError("impute: panel periods must be numbers (years)", step=STEP, method=entry.name) from None
    cube = np.full((len(u_labels), len(t_labels), x.shape[1]), np.nan)
    cube[u_codes, t_codes] = x
    kwargs = dict(p)
    if entry.name in ("linear", "linear_constant"):
        present = np.zeros(cube.shape, dtype=bool)
        present[u_codes, t_codes] = True
        kwargs["present"] = present

        def index_info(u, j):
            return u_labels[u], data.columns[j]

        kwargs["index_info"] = index_info
    filled, src = entry.func(cube, times, **kwargs)
    return filled[u_codes, t_codes], src[u_codes, t_codes]


def _log(data, entry, vals, r, c, groups, p, src_detail) -> pd.DataFrame:
    missing = np.isnan(vals)
    status = _text(["imputed", "not imputed"], missing.astype(np.int64))
    base = entry.meta.get("source", entry.name)
    kind = entry.meta["kind"]
    if kind == "group" and len(r):
        codes, uniq = pd.factorize(_group_labels(data, groups, p.get("group"), entry.name)[r])
        name = p.get("group") or (groups.columns[0] if isinstance(groups, pd.DataFrame) else groups.name)
        labels = [f"{base} ({name} = {g})" for g in uniq]
    elif kind == "panel" and src_detail is not None and len(r):
        codes, uniq = pd.factorize(src_detail[r, c], use_na_sentinel=False)
        labels = [base if np.isinf(v) else (f"period {v:g}" if np.isfinite(v) else "") for v in uniq]
    else:
        codes, labels = np.zeros(len(r), dtype=np.int64), [base]
    source = _text([*labels, ""], np.where(missing, len(labels), codes))  # a cell left missing has no source
    cols: dict[str, Any] = {}
    if is_panel(data):
        cols["uCode"] = data.index.get_level_values(unit_level(data))[r]
        cols["Time"] = data.index.get_level_values(time_level(data))[r]
    else:
        cols["uCode"] = data.index[r]
    cols.update(iCode=data.columns[c], status=status, value=vals, method=_text([entry.name], np.zeros(len(r), dtype=np.int64)), source=source)
    return pd.DataFrame(cols)


def _text(labels: list[str], codes: np.ndarray) -> np.ndarray:
    """``labels[codes]`` as a pandas text array, built by pyarrow (a log can have a row per cell of the data)."""
    import pyarrow as pa

    return pa.array(labels, type=pa.string()).take(pa.array(codes, type=pa.int64())).to_pandas().array
