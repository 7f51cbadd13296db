"""Trends over a panel (COINr ``get_trends``): compound annual growth rate or percentage change per unit.

``trends(data, codes, method="cagr", use_latest=5)`` takes a panel (index (unit, Time)) and, per unit and
code, looks at a window of the latest ``use_latest`` **periods** of the panel ending at the unit's latest
period with data (as COINr: a gap inside the window is a missing point, not a reason to reach further back),
and computes the trend from the points with data in it:

* ``cagr`` (COINr ``CAGR``): ``(y_last / y_first)^(1 / (t_last − t_first)) − 1`` from the first and last
  points, 0 when they are equal; NaN unless y_first > 0 and y_last >= 0.
* ``prc_change`` (COINr ``prc_change``, a **percent** per unit of time): with two points
  ``(y_last − y_first)·100 / y_first / (t_last − t_first)``; with three or more, from the least-squares line
  ``y = a + b·t`` through them, ``100·b / (a + b·t_first)`` (the slope relative to the fitted first value);
  0 when every point is equal.

Fewer than two points in the window give NaN with the reason. Where we differ from COINr 1.1.14: COINr
gives NA when the window reaches the first period of the panel (``use_latest`` equal to the number of
periods: its test is ``i_first > 1`` where ``>= 1`` is meant; COINr's own reference output for the ASEM
panel is all NA for that reason), and when it would reach back before it; we use the periods the panel has
(``n_points`` and ``t_first`` say which).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError
from ..registry import Registry

TRENDS = Registry("trends")

# Every trend function: f(y, t, m) -> (n,) with y, t (n, w) float arrays (values, times of the window) and
# m (n, w) bool (the points with data); rows with fewer than two points are set NaN by the caller.


def _first_last(y: np.ndarray, t: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, ...]:
    rows = np.arange(len(y))
    i_first = np.argmax(m, axis=1)
    i_last = m.shape[1] - 1 - np.argmax(m[:, ::-1], axis=1)
    return y[rows, i_first], y[rows, i_last], t[rows, i_first], t[rows, i_last]


@TRENDS.register("cagr", aliases=["CAGR"])
def cagr(y: np.ndarray, t: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(y_last / y_first)^(1 / (t_last − t_first)) − 1; 0 when the end points are equal (COINr ``CAGR``)."""
    y0, y1, t0, t1 = _first_last(y, t, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.power(y1 / y0, 1.0 / (t1 - t0)) - 1.0
    out = np.where((y0 > 0) & (y1 >= 0) & (t1 > t0), out, np.nan)
    return np.where(y1 == y0, 0.0, out)


@TRENDS.register("prc_change", aliases=["percent_change"])
def prc_change(y: np.ndarray, t: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Percent change per unit of time: end points if two, least-squares line if three or more (COINr)."""
    n = m.sum(axis=1)
    y0, y1, t0, t1 = _first_last(y, t, m)
    yz, tz = np.where(m, y, 0.0), np.where(m, t, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        two = (y1 - y0) * 100.0 / y0 / (t1 - t0)
        tbar = tz.sum(axis=1) / n
        ybar = yz.sum(axis=1) / n
        dt = np.where(m, t - tbar[:, None], 0.0)
        slope = (dt * np.where(m, y - ybar[:, None], 0.0)).sum(axis=1) / (dt * dt).sum(axis=1)
        fitted_first = ybar + slope * (t0 - tbar)
        line = 100.0 * slope / fitted_first
    out = np.where(n >= 3, line, two)
    out = np.where(np.isfinite(out), out, np.nan)
    same = np.nanmax(np.where(m, y, -np.inf), axis=1) == np.nanmin(np.where(m, y, np.inf), axis=1)
    return np.where(same, 0.0, out)


def trends(data: pd.DataFrame, codes: list[str] | None = None, method: str = "cagr", use_latest: int = 5) -> pd.DataFrame:
    """One row per (unit, code): the trend, the points used, the first and last period, and a reason if NaN."""
    if not isinstance(data.index, pd.MultiIndex) or "Time" not in data.index.names:
        raise DataError("trends need a panel: an index (unit, Time)", rule="trends.panel", step="trends")
    if isinstance(use_latest, bool) or not isinstance(use_latest, (int, np.integer)) or use_latest < 2:
        raise SpecError(f"use_latest must be an integer >= 2, got {use_latest!r}", step="trends", parameter="use_latest")
    entry = TRENDS.entry(method)
    if data.index.has_duplicates:
        dup = data.index[data.index.duplicated()][0]
        raise DataError(f"trends: unit and period {dup} appear twice", rule="trends.duplicate", step="trends")
    codes = list(codes or data.columns)
    for code in codes:
        if code not in data:
            raise DataError(f"trends: no column {code!r}", rule="trends.column", step="trends", indicator=code)
    unit_level = [n for n in data.index.names if n != "Time"][0]
    t_idx = data.index.get_level_values("Time")
    u_codes, units = pd.factorize(data.index.get_level_values(unit_level), sort=True)
    p_codes, times = pd.factorize(t_idx, sort=True)
    times = np.asarray(times, dtype=float)
    n_u, n_p = len(units), len(times)
    col = np.arange(n_p)
    rows = []
    for code in codes:
        y = np.full((n_u, n_p), np.nan)
        y[u_codes, p_codes] = data[code].to_numpy(dtype=float, na_value=np.nan)
        have = ~np.isnan(y)
        last = n_p - 1 - np.argmax(have[:, ::-1], axis=1)  # latest period with data (any row without: masked below)
        window = (col[None, :] <= last[:, None]) & (col[None, :] > (last - use_latest)[:, None])
        m = have & window
        n = m.sum(axis=1)
        tt = np.broadcast_to(times, (n_u, n_p))
        val = np.full(n_u, np.nan)
        ok = n >= 2
        if ok.any():
            val[ok] = entry.func(y[ok], tt[ok], m[ok])
        t_first = np.where(n > 0, times[np.argmax(m, axis=1)], np.nan)
        t_last = np.where(n > 0, times[last], np.nan)
        reason = np.where(
            ~ok, f"fewer than two periods with data in the latest {use_latest}",
            np.where(np.isnan(val), f"{entry.name} undefined (first value <= 0, or zero)", ""),
        )
        rows.append(pd.DataFrame({
            "unit": units, "code": code, "trend": val, "n_points": n, "t_first": t_first, "t_last": t_last, "reason": reason,
        }))
    out = pd.concat(rows, ignore_index=True)
    out["method"] = entry.name
    return out
