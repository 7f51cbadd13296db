"""COINr's input format (iData / iMeta CSVs), so COINr users can bring their coins over.

``read_coinr(idata, imeta)`` returns a :class:`CoinInput`: the indicator data (wide, one row per unit,
or per unit and period for a panel), the ``*_group`` columns, the denominators, and the :class:`Tree`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from .tree import Tree

META_TYPES = {"Indicator", "Aggregate", "Group", "Denominator", "Other"}


@dataclass(frozen=True, eq=False)
class CoinInput:
    data: pd.DataFrame  # index uCode (or (uCode, Time) for a panel), columns = indicator codes, float
    groups: pd.DataFrame  # same index, the *_group columns (strings)
    denominators: pd.DataFrame  # same index, denominator columns (float)
    names: pd.Series  # uCode → uName
    tree: Tree
    imeta: pd.DataFrame  # as read, for per-indicator parameters (Target, Denominator, …)

    @property
    def is_panel(self) -> bool:
        return isinstance(self.data.index, pd.MultiIndex)


def read_coinr(idata: str | Path | pd.DataFrame, imeta: str | Path | pd.DataFrame) -> CoinInput:
    """Read COINr's iData and iMeta; errors name the file, column and rule (as COINr's checks do)."""
    idata_name = str(idata) if not isinstance(idata, pd.DataFrame) else "iData"
    imeta_name = str(imeta) if not isinstance(imeta, pd.DataFrame) else "iMeta"
    d = pd.read_csv(idata) if not isinstance(idata, pd.DataFrame) else idata.copy()
    m = pd.read_csv(imeta) if not isinstance(imeta, pd.DataFrame) else imeta.copy()
    for col in ("iCode", "Type"):
        if col not in m:
            raise DataError(f"iMeta has no {col!r} column", rule="imeta.columns", file=imeta_name)
    bad_types = sorted(set(m["Type"].dropna()) - META_TYPES)
    if bad_types:
        raise DataError(f"iMeta Type must be one of {sorted(META_TYPES)}, got {bad_types}", rule="imeta.type", file=imeta_name)
    if "uCode" not in d:
        raise DataError("iData has no 'uCode' column", rule="idata.columns", file=idata_name)
    ind = m.loc[m["Type"] == "Indicator", "iCode"].astype(str).tolist()
    missing = [c for c in ind if c not in d.columns]
    if missing:
        raise DataError(f"indicators in iMeta but not in iData: {', '.join(missing)}", rule="idata.columns", file=idata_name)
    aggs = [c for c in m.loc[m["Type"] == "Aggregate", "iCode"].astype(str) if c in d.columns]
    if aggs:
        raise DataError(f"aggregates must not appear in iData: {', '.join(aggs)}", rule="idata.aggregate", file=idata_name)
    key = ["uCode", "Time"] if "Time" in d and d["Time"].nunique() > 1 else ["uCode"]
    dup = d.duplicated(key, keep=False)
    if dup.any():
        rows = (d.index[dup] + 2).tolist()[:10]
        raise DataError(f"duplicate {'/'.join(key)} rows at lines {rows}", rule="idata.duplicate", file=idata_name)
    d["uCode"] = d["uCode"].astype(str)
    idx = pd.MultiIndex.from_frame(d[key]) if len(key) == 2 else pd.Index(d["uCode"], name="uCode")
    data = d[ind].apply(pd.to_numeric, errors="coerce").astype(float)
    nonnum = data.isna() & d[ind].notna()
    if nonnum.any().any():
        col = nonnum.any().idxmax()
        row = int(nonnum[col].to_numpy().argmax()) + 2
        raise DataError(f"non-numeric value {d[col].iloc[row - 2]!r}", rule="idata.numeric", file=idata_name, line=row, column=col)
    data.index = idx
    grp_cols = [c for c in m.loc[m["Type"] == "Group", "iCode"].astype(str) if c in d.columns]
    den_cols = [c for c in m.loc[m["Type"] == "Denominator", "iCode"].astype(str) if c in d.columns]
    groups = d[grp_cols].astype(object).set_axis(idx)
    dens = d[den_cols].astype(float).set_axis(idx)
    names = (d["uName"] if "uName" in d else d["uCode"]).astype(str).set_axis(idx)
    # COINr keeps a coin's data sets sorted by uCode; a panel keeps the file's order (as impute_panel does)
    order = np.arange(len(idx)) if len(key) == 2 else pd.Index(idx).argsort(kind="stable")
    return CoinInput(
        data=data.iloc[order], groups=groups.iloc[order], denominators=dens.iloc[order], names=names.iloc[order],
        tree=Tree.from_imeta(m), imeta=m,
    )
