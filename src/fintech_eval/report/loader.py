"""Read back a result saved by :meth:`Result.save` (``fintech-eval evaluate --out DIR``) for reporting.

The directory holds ``stages/{i}_{name}.parquet`` (and ``.csv``), ``scores.csv``, ``ranks.csv``,
``ranks_by_{group}.csv``, one CSV per stage record, ``weights.csv``, ``results.xlsx`` (whose ``Tree`` sheet is
the framework tree with the weights used), ``spec.yaml`` and ``manifest.json``. :func:`load_result` rebuilds a
:class:`Result` with the same data sets, ranks, group ranks, records, weights, tree, spec, warnings and input
hashes, and checks the rebuilt scores against the SHA-256 in the manifest. Unit names and groups are not
saved by :meth:`Result.save`: they come from a ``units.csv`` in the directory (uCode, uName, group columns)
when there is one, else from the COINr input files when they are still where the manifest says, unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import yaml

from ..errors import DataError
from ..result import Result
from ..spec import Spec
from ..tree import Tree

# records saved with their index (Result.save writes the index when it has a name)
INDEXED_RECORDS = {"screen_summary": "uCode", "treat_details": "iCode", "treat_points": "uCode"}
_NOT_RECORDS = {"scores.csv", "ranks.csv", "weights.csv", "units.csv"}
_STAGE = re.compile(r"^(\d+)_(.+)$")


def _unit_index(df: pd.DataFrame, tree_codes: set[str]) -> pd.DataFrame:
    if "uCode" not in df.columns:
        raise DataError("no uCode column", rule="report.load")
    df = df.copy()
    df["uCode"] = df["uCode"].astype(str)
    keys = ["uCode", "Time"] if "Time" in df.columns and "Time" not in tree_codes else ["uCode"]
    out = df.set_index(keys)
    return out


def _rank_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype.kind == "f" and ((col.dropna() % 1) == 0).all():
            out[c] = col.astype("Int64")
        elif col.dtype.kind == "i":
            out[c] = col.astype("Int64")
    return out


def _read_stage(path: Path) -> pd.DataFrame:
    pq = path.with_suffix(".parquet")
    if pq.is_file():
        return pd.read_parquet(pq)
    return pd.read_csv(path.with_suffix(".csv"))


def load_result(directory: str | Path) -> Result:
    """The :class:`Result` saved in ``directory`` (see the module doc); a missing or unreadable file raises
    :class:`DataError` naming it."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"no result directory {d}", rule="report.load", file=str(d))
    for need in ("spec.yaml", "manifest.json"):
        if not (d / need).is_file():
            raise DataError(f"{need} not found: is {d} a directory written by `fintech-eval evaluate --out`?", rule="report.load", file=str(d / need))
    try:
        doc = yaml.safe_load((d / "spec.yaml").read_text(encoding="utf-8"))
        spec = Spec.model_validate({**doc, "base_dir": str(d)})
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as exc:
        raise DataError(f"cannot read the result's spec or manifest: {exc}", rule="report.load", file=str(d)) from None
    tree = _read_tree(d)
    codes = set(tree.meta["code"])
    stems: dict[int, tuple[str, Path]] = {}
    for p in sorted((d / "stages").glob("*.*")):
        m = _STAGE.match(p.stem)
        if m and p.suffix in (".parquet", ".csv"):
            stems[int(m.group(1))] = (m.group(2), p)
    if not stems:
        raise DataError("no stage data sets in stages/", rule="report.load", file=str(d / "stages"))
    datasets = {name: _unit_index(_read_stage(p), codes) for _, (name, p) in sorted(stems.items())}
    for name, df in datasets.items():
        datasets[name] = df.astype(float) if all(df[c].dtype.kind in "fi" for c in df.columns) else df
    ranks = _rank_frame(_unit_index(pd.read_csv(d / "ranks.csv", dtype={"uCode": str}), codes)) if (d / "ranks.csv").is_file() else None
    group_ranks = {
        p.stem.removeprefix("ranks_by_"): _rank_frame(_unit_index(pd.read_csv(p, dtype={"uCode": str}), codes))
        for p in sorted(d.glob("ranks_by_*.csv"))
    }
    records: dict[str, pd.DataFrame] = {}
    for p in sorted(d.glob("*.csv")):
        if p.name in _NOT_RECORDS or p.name.startswith("ranks_by_"):
            continue
        df = pd.read_csv(p, dtype={"uCode": str, "iCode": str})
        idx = INDEXED_RECORDS.get(p.stem)
        if idx and idx in df.columns and df.columns[0] == idx:
            df = df.set_index(idx)
        records[p.stem] = df
    weights = None
    if (d / "weights.csv").is_file():
        w = pd.read_csv(d / "weights.csv", dtype={"code": str})
        weights = pd.Series(w["weight"].to_numpy(float), index=w["code"].to_numpy(), name="weight")
    kw: dict = {
        "spec": spec, "tree": tree, "datasets": datasets, "records": records, "weights": weights,
        "warnings": list(manifest.get("warnings", [])), "inputs": dict(manifest.get("inputs", {})),
    }
    from .tables import units_from_inputs

    units = _read_units_file(d)
    if units is None:  # group membership is not saved: re-read it from the inputs when they are still there
        units = units_from_inputs(spec, kw["inputs"])
    fields = {f.name for f in dataclasses.fields(Result)}
    if "groups" in fields:
        kw["groups"] = units.drop(columns="name") if units is not None else None
        kw["rank_groups"] = [g for g in spec.ranks.groups if units is not None and g in units.columns]
    result = Result(**kw)
    if units is not None:
        result.units = units  # names and groups for the reports (see report.tables.unit_info)
    # the saved ranks are the result's ranks (a field, or a cached property: set either way)
    if ranks is not None:
        result.ranks = ranks
    if group_ranks:
        result.group_ranks = group_ranks
    want = manifest.get("scores_sha256")
    got = hashlib.sha256(result.scores.to_csv(index=False).encode()).hexdigest()
    if want and want != got:
        result.warnings.append(f"report: the scores read from {d} do not match the manifest's SHA-256 (files edited after the run?)")
    return result


def _read_units_file(d: Path) -> pd.DataFrame | None:
    """``units.csv`` (uCode, uName or name, group columns) when the result directory has one."""
    p = d / "units.csv"
    if not p.is_file():
        return None
    f = pd.read_csv(p, dtype=str).set_index("uCode")
    f = f.rename(columns={"uName": "name"})
    if "name" not in f.columns:
        f.insert(0, "name", f.index.to_numpy())
    return f[~f.index.duplicated(keep="last")]


def _read_tree(d: Path) -> Tree:
    xlsx = d / "results.xlsx"
    if not xlsx.is_file():
        raise DataError("results.xlsx not found: the framework tree is read from its Tree sheet", rule="report.load", file=str(xlsx))
    try:
        meta = pd.read_excel(xlsx, sheet_name="Tree", engine="openpyxl", dtype={"code": str, "parent": str, "name": str})
    except (ValueError, KeyError) as exc:
        raise DataError(f"cannot read the Tree sheet: {exc}", rule="report.load", file=str(xlsx)) from None
    return Tree.from_rows(meta.to_dict("records"))
