"""COINr's input format (iData / iMeta CSVs), so COINr users can bring their coins over.

``read_coinr(idata, imeta)`` returns a :class:`CoinInput`: the indicator data (wide, one row per unit,
or per unit and period for a panel), the ``*_group`` columns, the denominators, the :class:`Tree`, and
the SHA-256 of each file read.

Files are parsed by pyarrow's CSV reader (:mod:`.csvfile`) with the indicator and denominator columns
typed as numbers and the codes, names and groups as text; the data set is assembled column by column into
one float matrix (no Python loop over units), sorted by ``uCode`` as COINr keeps a coin's data sets.
Errors name the file, line, column and rule, as COINr's checks do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from .csvfile import read_csv, record_lines
from .tree import Tree

META_TYPES = {"Indicator", "Aggregate", "Group", "Denominator", "Other"}
#: iMeta columns COINr requires (``Weight`` and ``Direction`` of an aggregate may be empty).
IMETA_COLUMNS = ("iCode", "Type", "Level", "Parent", "Weight", "Direction")


@dataclass(frozen=True, eq=False)
class CoinInput:
    data: pd.DataFrame  # index uCode (or (uCode, Time) for a panel), columns = indicator codes, float
    groups: pd.DataFrame  # same index, the *_group columns (strings)
    denominators: pd.DataFrame  # same index, denominator columns (float)
    names: pd.Series  # uCode → uName
    tree: Tree
    imeta: pd.DataFrame  # as read, for per-indicator parameters (Target, Denominator, …)
    fingerprints: dict[str, str] = field(default_factory=dict)  # file path → SHA-256 of the bytes read

    @property
    def is_panel(self) -> bool:
        return isinstance(self.data.index, pd.MultiIndex)


def read_coinr(idata: str | Path | pd.DataFrame, imeta: str | Path | pd.DataFrame) -> CoinInput:
    """Read COINr's iData and iMeta; errors name the file, line, column and rule (as COINr's checks do)."""
    fps: dict[str, str] = {}
    # iMeta is parsed first (its Type column says how to type iData's columns); iData then parses on a pool
    # thread while this one hashes it, turns iMeta into a frame and builds the tree.
    meta, imeta_name = _read_imeta(imeta, fps)
    types = _column(meta, "Type").to_numpy(object)  # (numpy object arrays: each mask below costs µs, not a Series op)
    codes = _column(meta, "iCode").astype(str).to_numpy(object)
    ind = codes[types == "Indicator"].tolist()
    aggs = set(codes[types == "Aggregate"])
    grp = codes[types == "Group"].tolist()
    den = codes[types == "Denominator"].tolist()
    built: list[pd.DataFrame | Tree | DataError] = []

    def meta_and_tree() -> None:
        m = meta if isinstance(meta, pd.DataFrame) else meta.to_pandas()
        built.extend([m, _tree(m)])

    if isinstance(idata, pd.DataFrame):
        t, idata_name, src = _table_from_frame(idata, floats=ind + den), "iData", None
        meta_and_tree()
    else:  # pyarrow parses (without the GIL) while this thread hashes the file and builds the tree
        csv = read_csv(
            idata, floats=ind + den, strings=["uCode", "uName", *grp], sha256=True, rules="idata",
            meanwhile=meta_and_tree,
        )
        t, idata_name, src = csv.table, csv.name, idata
        fps[csv.name] = csv.sha256 or ""
    m, tree = built
    have = set(t.column_names)
    if "uCode" not in have:
        raise DataError("iData has no 'uCode' column", rule="idata.columns", file=idata_name)
    missing = [c for c in ind if c not in have]
    if missing:
        raise DataError(f"indicators in iMeta but not in iData: {', '.join(missing)}", rule="idata.columns", file=idata_name)
    bad = [c for c in t.column_names if c in aggs]
    if bad:
        raise DataError(f"aggregates must not appear in iData: {', '.join(bad)}", rule="idata.aggregate", file=idata_name)
    ucode = _text(t.column("uCode"))
    if ucode.null_count:
        rows = record_lines(src, np.flatnonzero(pc.is_null(ucode).to_numpy(zero_copy_only=False))[:10])
        raise DataError(f"missing uCode at lines {rows}", rule="idata.ucode", file=idata_name)
    panel = "Time" in have and pc.count_distinct(t.column("Time")).as_py() > 1
    if panel:  # a panel keeps the file's order (as impute_panel does)
        time = t.column("Time").to_pandas()
        idx = pd.MultiIndex.from_arrays([ucode.to_pandas(), time], names=["uCode", "Time"])
        dup = np.flatnonzero(idx.duplicated(keep=False))
        order = None
    else:  # COINr keeps a coin's data sets sorted by uCode
        order = pc.sort_indices(ucode).to_numpy()  # stable
        srt = ucode.take(order)
        same = pc.equal(srt[1:], srt[:-1]).to_numpy(zero_copy_only=False) if len(srt) > 1 else np.zeros(0, bool)
        at = np.zeros(len(srt), bool)
        at[1:] |= same
        at[:-1] |= same
        dup = np.sort(order[at])
        idx = pd.Index(srt.to_pandas(), name="uCode")
    if len(dup):
        key = "uCode/Time" if panel else "uCode"
        raise DataError(f"duplicate {key} rows at lines {record_lines(src, dup[:10])}", rule="idata.duplicate", file=idata_name)
    den = [c for c in den if c in have]
    names = _text(t.column("uName")) if "uName" in have else ucode
    names = pc.coalesce(names, ucode)
    if order is not None:
        names = names.take(order)
    groups = pd.DataFrame(
        {c: _text(t.column(c)).to_pandas().to_numpy(object) for c in grp if c in have}, index=idx, columns=pd.Index([c for c in grp if c in have], dtype="str"),
    ).astype(object)
    if order is not None:
        groups = groups.iloc[order].set_axis(idx)
    if isinstance(tree, DataError):  # (iData's errors first, as when the tree was built after reading it)
        raise tree
    return CoinInput(
        data=_matrix(t, ind, order, idx), groups=groups, denominators=_matrix(t, den, order, idx),
        names=_series(names, idx, "uName" if "uName" in have else "uCode"), tree=tree, imeta=m,
        fingerprints=fps,
    )


def _tree(m: pd.DataFrame) -> Tree | DataError:
    """iMeta's tree (or the error saying why there is none, raised once iData has been checked), with the
    lookups every build makes computed already."""
    try:
        tree = Tree.from_imeta(m)
    except DataError as exc:
        return exc
    tree.directions, tree.weights, tree.indicators  # noqa: B018 - cached properties, filled while iData parses
    return tree


def _read_imeta(imeta: str | Path | pd.DataFrame, fps: dict[str, str]) -> tuple[pd.DataFrame | pa.Table, str]:
    """iMeta as given (a frame) or as parsed (an Arrow table: turned into a frame while iData parses), its
    columns and types checked."""
    if isinstance(imeta, pd.DataFrame):
        meta, name = imeta.copy(), "iMeta"
        have = set(meta.columns)
    else:
        csv = read_csv(imeta, strings=["iCode", "iName", "Parent", "Type"], sha256=True, rules="imeta")
        meta, name = csv.table, csv.name
        have = set(meta.column_names)
        fps[csv.name] = csv.sha256 or ""
    missing = [c for c in IMETA_COLUMNS if c not in have]
    if missing:
        raise DataError(f"iMeta has no {', '.join(map(repr, missing))} column", rule="imeta.columns", file=name)
    bad_types = sorted({t for t in pd.unique(_column(meta, "Type").to_numpy(object)) if not pd.isna(t)} - META_TYPES)
    if bad_types:
        raise DataError(f"iMeta Type must be one of {sorted(META_TYPES)}, got {bad_types}", rule="imeta.type", file=name)
    return meta, name


def _column(meta: pd.DataFrame | pa.Table, name: str) -> pd.Series:
    """A column of iMeta (from a table: as the frame made from it will hold it)."""
    return meta[name] if isinstance(meta, pd.DataFrame) else meta.column(name).to_pandas()


def _series(col: pa.ChunkedArray, idx: pd.Index, name: str) -> pd.Series:
    """Text from pyarrow as a pandas ``str`` series on ``idx`` (no round trip through Python strings)."""
    s = col.to_pandas()
    s.index = idx
    return s.rename(name)


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    return col if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else col.cast(pa.string())


def _matrix(t: pa.Table, cols: list[str], order: np.ndarray | None, idx: pd.Index) -> pd.DataFrame:
    """The float columns ``cols`` as one frame backed by a single (columns × units) matrix, rows in ``order``
    (not applied when the file is sorted already). Each column is converted whole by Arrow (its parse
    blocks joined, nulls as NaN: one call a column, not a Python step per block)."""
    x = np.empty((len(cols), len(idx)))
    if order is not None and (len(order) < 2 or bool((order[1:] > order[:-1]).all())):
        order = None
    for i, c in enumerate(cols):
        col = t.column(c)
        x[i] = (col if col.type == pa.float64() else col.cast(pa.float64())).to_numpy()
    if order is not None:
        x = np.take(x, order, axis=1)
    return pd.DataFrame(x.T, index=idx, columns=pd.Index(cols, dtype="str"), copy=False)


def _table_from_frame(d: pd.DataFrame, floats: list[str]) -> pa.Table:
    """An in-memory iData as a table: numeric columns coerced (non-numeric cells are errors, as in files),
    the rest as text."""
    cols: dict[str, pa.Array] = {}
    for c in d.columns:
        s = d[c]
        if c in floats:
            v = pd.to_numeric(s, errors="coerce").astype(float)
            bad = v.isna().to_numpy() & s.notna().to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError(f"non-numeric value {s.iloc[i]!r}", rule="idata.numeric", file="iData", line=i + 2, column=str(c))
            cols[str(c)] = pa.array(v.to_numpy(), from_pandas=True)
        elif c == "Time" and pd.api.types.is_numeric_dtype(s):
            cols[str(c)] = pa.array(s.to_numpy(), from_pandas=True)
        else:
            cols[str(c)] = pa.Array.from_pandas(s.astype("str"), type=pa.string())
    return pa.table(cols)
