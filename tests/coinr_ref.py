"""Reference outputs of COINr 1.1.14 (R 4.2.2) on its ASEM example, as written to ``shared/data/coinr``.

COINr sorts units by uCode when it builds a coin, so every reference data set is in uCode order; the
helpers here return frames indexed by uCode (or (uCode, Time) for the panel files) in file order, with
only the indicator columns unless asked otherwise. ``assert_frame_close`` is the parity check: same
units in the same order, every indicator column, equal NaN (and ±inf) positions, and values within
1e-9 relative (1e-12 absolute for values near zero).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from fintech_eval.coinr import CoinInput, read_coinr

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coinr"
RTOL = 1e-9
ATOL = 1e-12


def path(name: str) -> Path:
    p = SHARED / name
    if not p.exists():
        raise FileNotFoundError(f"COINr reference file {p} is missing (shared/data/coinr must sit beside the repo)")
    return p


@cache
def imeta() -> pd.DataFrame:
    return pd.read_csv(path("input_ASEM_iMeta.csv"))


@cache
def indicators() -> tuple[str, ...]:
    m = imeta()
    return tuple(m.loc[m["Type"] == "Indicator", "iCode"])


def directions() -> pd.Series:
    m = imeta()
    ind = m[m["Type"] == "Indicator"]
    return pd.Series(ind["Direction"].astype(int).to_numpy(), index=ind["iCode"].to_numpy())


def targets() -> pd.Series:
    m = imeta()
    ind = m[m["Type"] == "Indicator"]
    return pd.Series(ind["Target"].astype(float).to_numpy(), index=ind["iCode"].to_numpy())


def read(name: str, *, all_columns: bool = False) -> pd.DataFrame:
    """A reference CSV indexed by uCode (or uCode, Time), in file order; indicator columns only by default."""
    df = pd.read_csv(path(name))
    key = ["uCode", "Time"] if "Time" in df.columns else ["uCode"]
    df["uCode"] = df["uCode"].astype(str)
    df = df.set_index(key)
    if all_columns:
        return df
    cols = [c for c in df.columns if c in set(indicators())]
    return df[cols].astype(float)


def read_plain(name: str, **kw) -> pd.DataFrame:
    return pd.read_csv(path(name), **kw)


@cache
def _coin(panel: bool) -> CoinInput:
    f = "input_ASEM_iData_p_panel.csv" if panel else "input_ASEM_iData.csv"
    return read_coinr(path(f), path("input_ASEM_iMeta.csv"))


def coin_input(panel: bool = False) -> CoinInput:
    """The ASEM input as ``read_coinr`` gives it (use ``sorted_units`` for COINr's row order)."""
    return _coin(panel)


def sorted_units(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in COINr's order (uCode sorted; for a panel, Time then uCode as in the panel reference files)."""
    if isinstance(frame.index, pd.MultiIndex):
        return frame.sort_index(level=["Time", "uCode"])
    return frame.loc[sorted(frame.index)]


def assert_frame_close(actual: pd.DataFrame, expected: pd.DataFrame, *, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Every column of ``expected`` is in ``actual`` with the same rows and values (NaN/inf positions equal)."""
    assert list(actual.index) == list(expected.index), "units differ or are in another order"
    missing = [c for c in expected.columns if c not in actual.columns]
    assert not missing, f"columns missing from result: {missing}"
    a = actual[list(expected.columns)].to_numpy(dtype=float)
    e = expected.to_numpy(dtype=float)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if not np.array_equal(nan_a, nan_e):
        r, c = np.argwhere(nan_a != nan_e)[0]
        raise AssertionError(f"NaN positions differ, first at {expected.index[r]} / {expected.columns[c]}: {a[r, c]} vs {e[r, c]}")
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
