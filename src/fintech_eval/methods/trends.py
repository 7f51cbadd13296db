"""Trends over a panel (COINr ``get_trends``): compound annual growth rate or percentage change per unit.

``trends(data, codes, method="cagr", use_latest=5)`` takes a panel (index (unit, Time)) and, per unit and
code, uses the latest ``use_latest`` available points: CAGR = (x_last / x_first)^(1 / (t_last − t_first)) − 1;
``prc_change`` = (x_last − x_first) / x_first / (t_last − t_first) (mean yearly percentage change, as
COINr's ``prc_change``). Fewer than two points, or x_first <= 0 for CAGR, give NaN with the reason.
(COINr's own reference output for the ASEM panel is all NA, so these are tested on hand-computed cases.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError
from ..registry import Registry

TRENDS = Registry("trends")


@TRENDS.register("cagr", aliases=["CAGR"])
def cagr(x_first: np.ndarray, x_last: np.ndarray, years: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.power(x_last / x_first, 1.0 / years) - 1.0
    return np.where((x_first > 0) & (x_last >= 0) & (years > 0), out, np.nan)


@TRENDS.register("prc_change", aliases=["percent_change"])
def prc_change(x_first: np.ndarray, x_last: np.ndarray, years: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (x_last - x_first) / x_first / years
    return np.where((x_first != 0) & (years > 0), out, np.nan)


def trends(data: pd.DataFrame, codes: list[str] | None = None, method: str = "cagr", use_latest: int = 5) -> pd.DataFrame:
    """One row per (unit, code): the trend, the points used, the first and last period, and a reason if NaN."""
    if not isinstance(data.index, pd.MultiIndex) or "Time" not in data.index.names:
        raise DataError("trends need a panel: an index (unit, Time)", rule="trends.panel", step="trends")
    if use_latest < 2:
        raise SpecError("use_latest must be >= 2", step="trends", parameter="use_latest")
    fn = TRENDS.get(method)
    codes = list(codes or data.columns)
    unit_level = [n for n in data.index.names if n != "Time"][0]
    rows = []
    for code in codes:
        if code not in data:
            raise DataError(f"trends: no column {code!r}", rule="trends.column", step="trends", indicator=code)
        s = data[code].dropna()
        s = s.sort_index()  # by unit, then time: heads and tails come out in the same unit order
        g = s.groupby(level=unit_level, sort=True)
        latest = g.tail(use_latest)
        lg = latest.groupby(level=unit_level, sort=True)
        first = lg.head(1)
        last = lg.tail(1)
        t_first = first.index.get_level_values("Time").to_numpy(float)
        t_last = last.index.get_level_values("Time").to_numpy(float)
        n = lg.size().to_numpy()
        val = fn(first.to_numpy(float), last.to_numpy(float), t_last - t_first)
        reason = np.where(n < 2, "fewer than two periods with data", np.where(np.isnan(val), f"{method} undefined (first value <= 0 or no time span)", ""))
        rows.append(pd.DataFrame({
            "unit": first.index.get_level_values(unit_level), "code": code, "trend": val, "n_points": n,
            "t_first": t_first, "t_last": t_last, "reason": reason,
        }))
    out = pd.concat(rows, ignore_index=True)
    out["method"] = TRENDS.entry(method).name
    return out
