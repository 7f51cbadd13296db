"""The result of an evaluation: every stage's data set, the records of what each stage did, the spec;
saved to a folder by :meth:`Result.save` and read back by :func:`load_result`, side by side here.

Like COINr's coin it remembers how it was built: the inputs it read and the state before each step, so
``result.rerun("normalise.method", "zscore")`` (or :func:`fintech_eval.engine.regen`) re-runs from the
first step a change touches, without reading or hashing the inputs again (addressed by meaning and
checked, never silently ignored).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import DataError, Problem, SpecError
from .csvfile import arrow_table, csv_bytes, write_csv, write_parquet
from .sources import Inputs, units_from_inputs
from .spec import Spec
from .tree import Tree

#: results.xlsx is written by default only up to this many cells (``Result.save(xlsx=True)`` or
#: ``fintech-eval evaluate --xlsx`` writes it whatever the size): about 2 s of writing.
XLSX_MAX_CELLS = 200_000


@dataclass(eq=False)
class Result:
    spec: Spec
    tree: Tree
    datasets: dict[str, pd.DataFrame]  # stage name → wide data (index = unit), in pipeline order
    records: MutableMapping[str, pd.DataFrame] = field(default_factory=dict)  # e.g. treat_details (Records: some computed when read)
    weights: pd.Series | None = None
    groups: pd.DataFrame | None = None  # unit → group columns (for group ranks)
    names: pd.Series | None = None  # unit → display name
    rank_groups: list[str] = field(default_factory=list)  # the group columns to rank within (spec.ranks.groups)
    warnings: list[Problem] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # input → SHA-256 (files) or value hash (frames, store)
    not_applicable: pd.DataFrame | None = None  # cells the inputs mark not applicable (units × indicators)
    # how it was built (not saved): the inputs read and the state before each step, for regen
    source: Inputs | None = field(default=None, repr=False)
    states: list[Any] = field(default_factory=list, repr=False)
    runner: Any = field(default=None, repr=False)

    @cached_property
    def ranks(self) -> pd.DataFrame:
        """Ranks of every column of the final data set (higher = 1, ties = min, NaN kept); within each
        period for a panel. Computed on first use (COINr's ``get_results``), not on every rebuild."""
        from ..methods import group_rank, rank

        final = self.final
        if isinstance(final.index, pd.MultiIndex) and "Time" in final.index.names:
            return group_rank(final, pd.Series(final.index.get_level_values("Time"), index=final.index))
        return rank(final)

    @cached_property
    def group_ranks(self) -> dict[str, pd.DataFrame]:
        """Ranks within each group column named in the spec (e.g. sector), unit → rank."""
        from ..methods import group_rank

        if self.groups is None:
            return {}
        return {g: group_rank(self.final, self.groups[g]) for g in self.rank_groups}

    @property
    def final(self) -> pd.DataFrame:
        return next(reversed(self.datasets.values()))

    @property
    def scores(self) -> pd.DataFrame:
        """One row per unit: ``uCode``, each indicator's normalised value, each aggregate's score."""
        return with_unit_column(self.final)

    def rank_table(self) -> pd.DataFrame:
        return with_unit_column(self.ranks)

    def trends(self, codes: list[str] | None = None, method: str = "cagr", use_latest: int = 5) -> pd.DataFrame:
        """Trend per unit of the final scores of a panel (default: the top-level index), as COINr ``get_trends``."""
        from ..methods import trends

        return trends(self.final, codes or self.tree.codes(self.tree.n_levels), method, use_latest)

    def rerun(self, address: str, value: Any) -> Result:
        """The same evaluation with one parameter changed, re-run from the first step it touches."""
        return self.regen({address: value})

    def regen(self, changes: dict[str, Any] | None = None, *, from_stage: str | int | None = None) -> Result:
        """Re-run with ``changes`` (address → value) from the first step they touch (or ``from_stage``);
        the inputs are not read again (see :func:`fintech_eval.engine.regen`)."""
        if self.runner is None:
            raise SpecError(
                "this result was loaded from a folder: evaluate its spec again to re-run it", rule="result.rerun"
            )
        return self.runner(self, changes or {}, from_stage)

    # --- output ------------------------------------------------------------------------------------
    def save(self, out: str | Path, *, xlsx: bool | None = None, xlsx_max_cells: int | None = None) -> list[Path]:
        """Write every stage (CSV + Parquet), scores.csv, ranks.csv, the records, weights.csv, tree.csv,
        units.csv, spec.yaml, manifest.json and, when asked (``xlsx=True``) or by default when it holds at
        most ``xlsx_max_cells`` cells (:data:`XLSX_MAX_CELLS`), results.xlsx with every table on a sheet.

        Tables are written with pyarrow (CSV and Parquet from one Arrow table), several at a time: 20,000
        units × 50 indicators take seconds, where the workbook alone would take minutes. A workbook left from an
        earlier run in ``out`` is removed when none is written, so that it cannot be mistaken for this one."""
        out = Path(out)
        (out / "stages").mkdir(parents=True, exist_ok=True)
        final = len(self.datasets) - 1
        scores: dict[str, bytes] = {}

        def stage(i: int, name: str, df: pd.DataFrame) -> list[Path]:
            stem = out / "stages" / f"{i}_{name}"
            frame = with_unit_column(df)
            table = arrow_table(frame)
            text = csv_bytes(table if table is not None else frame)
            stem.with_suffix(".csv").write_bytes(text)
            if i == final:  # scores.csv is the final data set: the same bytes
                (out / "scores.csv").write_bytes(text)
                scores["csv"] = text
            return [stem.with_suffix(".csv"), write_parquet(table if table is not None else frame, stem.with_suffix(".parquet"))]

        def record(name: str, df: pd.DataFrame) -> list[Path]:
            path = out / f"{name}.csv"
            if any(n is not None for n in df.index.names):
                df = df.reset_index()
            if any(pd.api.types.is_bool_dtype(t) for t in df.dtypes):  # True/False as pandas writes them
                df.to_csv(path, index=False)
            else:
                write_csv(df, path)
            return [path]

        # the tables are written in threads: pyarrow formats and compresses without the GIL
        jobs = [(stage, i, name, df) for i, (name, df) in enumerate(self.datasets.items())]
        jobs += [(lambda: [write_csv(self.units(), out / "units.csv")],), (lambda: [write_csv(self.rank_table(), out / "ranks.csv")],)]
        jobs += [(lambda g=g, df=df: [write_csv(with_unit_column(df), out / f"ranks_by_{g}.csv")],) for g, df in self.group_ranks.items()]
        jobs += [(record, name, df) for name, df in self.records.items()]
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            futures = [pool.submit(*job) for job in jobs]
            written: list[Path] = []
            for i, f in enumerate(futures):
                written += f.result()
                if i == final:
                    written.append(out / "scores.csv")
        if self.weights is not None:
            self.weights.rename("weight").to_frame().rename_axis("code").to_csv(out / "weights.csv")
            written.append(out / "weights.csv")
        self.tree.meta.to_csv(out / "tree.csv", index=False)
        written.append(out / "tree.csv")
        limit = XLSX_MAX_CELLS if xlsx_max_cells is None else xlsx_max_cells
        if xlsx or (xlsx is None and self.workbook_cells() <= limit):
            written.append(self._write_xlsx(out / "results.xlsx"))
        else:
            (out / "results.xlsx").unlink(missing_ok=True)
        doc = self.spec.document()
        doc["data"] = {k: v for k, v in doc["data"].items() if v is not None}  # only the fields the source uses
        (out / "spec.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        written.append(out / "spec.yaml")
        manifest = self.manifest(scores_sha256=hashlib.sha256(scores["csv"]).hexdigest())
        (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(out / "manifest.json")
        return written

    def workbook_cells(self) -> int:
        """Cells of results.xlsx: every table it would hold (scores, ranks, each stage, records, weights, tree)."""
        tables = [self.final, self.final, *self.datasets.values(), *self.records.values(), self.tree.meta]
        cells = sum(len(t) * (len(t.columns) + t.index.nlevels) for t in tables)
        return cells + (2 * len(self.weights) if self.weights is not None else 0)

    def units(self) -> pd.DataFrame:
        """``uCode``, ``uName`` and the group columns of every unit of the final data set."""
        idx = self.final.index
        out = pd.DataFrame(index=idx)
        out["uName"] = self.names.reindex(idx) if self.names is not None else pd.Series(idx.astype(str), index=idx)
        if self.groups is not None and len(self.groups.columns):
            out = out.join(self.groups.reindex(idx))
        return with_unit_column(out)

    def manifest(self, *, scores_sha256: str | None = None) -> dict[str, Any]:
        """What was run on what: software, inputs' fingerprints, data set shapes, warnings, and the SHA-256 of
        scores.csv as saved (``sha256sum scores.csv`` gives the same)."""
        from .._version import __version__

        return {
            "name": self.spec.name,
            "software": {"fintech-eval": __version__, "python": platform.python_version(), "pandas": pd.__version__},
            "inputs": self.inputs,
            "datasets": {k: list(v.shape) for k, v in self.datasets.items()},
            "warnings": [w.as_dict() if isinstance(w, Problem) else w for w in self.warnings],
            "scores_sha256": scores_sha256 or hashlib.sha256(csv_bytes(self.scores)).hexdigest(),
        }

    def _write_xlsx(self, path: Path) -> Path:
        """Every table on its own sheet: frozen header and first column, 3-decimal numbers.

        Written column by column with XlsxWriter directly (pandas' cell-by-cell ``to_excel`` was
        ten times slower on a 600-institution result); NaN cells are left blank."""
        import numpy as np
        import xlsxwriter

        sheets: list[tuple[str, pd.DataFrame]] = [("Scores", self.scores)]
        sheets.append(("Ranks", self.rank_table()))
        sheets += [(f"{i}_{n}"[:31], with_unit_column(d)) for i, (n, d) in enumerate(self.datasets.items())]
        sheets += [(n[:31], d.reset_index()) for n, d in self.records.items()]
        if self.weights is not None:
            sheets.append(("Weights", self.weights.rename("weight").rename_axis("code").reset_index()))
        sheets.append(("Tree", self.tree.meta))
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": False})
        head = wb.add_format({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF"})
        num = wb.add_format({"num_format": "0.000"})
        for name, df in sheets:
            ws = wb.add_worksheet(name)
            ws.write_row(0, 0, [str(c) for c in df.columns], head)
            for j, col in enumerate(df.columns):
                values = df[col]
                if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                    arr = values.to_numpy(dtype=float, na_value=np.nan)
                    ok = np.isfinite(arr)
                    for i in np.flatnonzero(ok):
                        ws.write_number(i + 1, j, float(arr[i]))
                    ws.set_column(j, j, 11, num)
                else:
                    for i, v in enumerate(values.tolist()):
                        if v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NA:
                            ws.write(i + 1, j, v if isinstance(v, int | float | str | bool) else str(v))
                    ws.set_column(j, j, 14)
            ws.freeze_panes(1, 1)
        wb.close()
        return path


def with_unit_column(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with its units as a leading ``uCode`` column (a panel: ``uCode`` and ``Time``), as saved."""
    if isinstance(df.index, pd.MultiIndex):
        return df.reset_index()
    out = df.copy()
    out.insert(0, "uCode", df.index.astype(str))
    return out.reset_index(drop=True)


# --- loading: the inverse of Result.save ---------------------------------------------------------------

# records saved with their index (Result.save writes the index when it has a name)
INDEXED_RECORDS = {"screen_summary": "uCode", "treat_details": "iCode", "treat_points": "uCode"}
_NOT_RECORDS = {"scores.csv", "ranks.csv", "weights.csv", "units.csv", "tree.csv"}
_STAGE = re.compile(r"^(\d+)_(.+)$")


def _unit_index(df: pd.DataFrame, tree_codes: set[str]) -> pd.DataFrame:
    if "uCode" not in df.columns:
        raise DataError("no uCode column", rule="result.load")
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
        raise DataError(f"no result directory {d}", rule="result.load", file=str(d))
    for need in ("spec.yaml", "manifest.json"):
        if not (d / need).is_file():
            raise DataError(f"{need} not found: is {d} a directory written by `fintech-eval evaluate --out`?", rule="result.load", file=str(d / need))
    try:
        doc = yaml.safe_load((d / "spec.yaml").read_text(encoding="utf-8"))
        spec = Spec.model_validate({**doc, "base_dir": str(d)})
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as exc:
        raise DataError(f"cannot read the result's spec or manifest: {exc}", rule="result.load", file=str(d)) from None
    tree = _read_tree(d)
    codes = set(tree.meta["code"])
    stems: dict[int, tuple[str, Path]] = {}
    for p in sorted((d / "stages").glob("*.*")):
        m = _STAGE.match(p.stem)
        if m and p.suffix in (".parquet", ".csv"):
            stems[int(m.group(1))] = (m.group(2), p)
    if not stems:
        raise DataError("no stage data sets in stages/", rule="result.load", file=str(d / "stages"))
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
        try:
            df = pd.read_csv(p, dtype={"uCode": str, "iCode": str})
        except pd.errors.EmptyDataError:  # a record with nothing in it (e.g. no indicator treated)
            df = pd.DataFrame()
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
        "warnings": [Problem.from_dict(w) for w in manifest.get("warnings", [])], "inputs": dict(manifest.get("inputs", {})),
    }
    units = _read_units_file(d)
    if units is None:  # group membership is not saved: re-read it from the inputs when they are still there
        units = units_from_inputs(spec, kw["inputs"])
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
    got = hashlib.sha256(csv_bytes(result.scores)).hexdigest()
    # results saved before scores.csv was written by pyarrow hold the SHA-256 of pandas' CSV text
    if want and want != got and want != hashlib.sha256(result.scores.to_csv(index=False).encode()).hexdigest():
        result.warnings.append(Problem(
            "result.sha256", f"the scores read from {d} do not match the manifest's SHA-256 (files edited after the run?)",
            {"step": "load"},
        ))
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
    """The tree from tree.csv; a folder saved before tree.csv existed has it on results.xlsx's Tree sheet."""
    csv_path, xlsx = d / "tree.csv", d / "results.xlsx"
    if csv_path.is_file():
        try:
            meta = pd.read_csv(csv_path, dtype={"code": str, "parent": str, "name": str}, keep_default_na=False)
        except (ValueError, pd.errors.ParserError) as exc:
            raise DataError(f"cannot read the tree: {exc}", rule="result.load", file=str(csv_path)) from None
        return Tree.from_rows(meta.to_dict("records"))
    if not xlsx.is_file():
        raise DataError("neither tree.csv nor results.xlsx (its Tree sheet) found: the tree cannot be read", rule="result.load", file=str(csv_path))
    try:
        meta = pd.read_excel(xlsx, sheet_name="Tree", engine="openpyxl", dtype={"code": str, "parent": str, "name": str})
    except (ValueError, KeyError) as exc:
        raise DataError(f"cannot read the Tree sheet: {exc}", rule="result.load", file=str(xlsx)) from None
    return Tree.from_rows(meta.to_dict("records"))
