"""The result of an evaluation: every stage's data set, the records of what each stage did, the spec.

Like COINr's coin it remembers how it was built: ``result.rerun("normalise.method", "zscore")`` re-runs
the same spec with one parameter changed (addressed by meaning and checked, never silently ignored).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .spec import Spec
from .tree import Tree


@dataclass(eq=False)
class Result:
    spec: Spec
    tree: Tree
    datasets: dict[str, pd.DataFrame]  # stage name → wide data (index = unit), in pipeline order
    records: dict[str, pd.DataFrame] = field(default_factory=dict)  # e.g. treat_details, screen_summary
    weights: pd.Series | None = None
    groups: pd.DataFrame | None = None  # unit → group columns (for group ranks)
    names: pd.Series | None = None  # unit → display name
    rank_groups: list[str] = field(default_factory=list)  # the group columns to rank within (spec.ranks.groups)
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # input file → sha256

    @cached_property
    def ranks(self) -> pd.DataFrame:
        """Ranks of every column of the final data set (higher = 1, ties = min, NaN kept); within each
        period for a panel. Computed on first use (COINr's ``get_results``), not on every rebuild."""
        from .methods import group_rank, rank

        final = self.final
        if isinstance(final.index, pd.MultiIndex) and "Time" in final.index.names:
            return group_rank(final, pd.Series(final.index.get_level_values("Time"), index=final.index))
        return rank(final)

    @cached_property
    def group_ranks(self) -> dict[str, pd.DataFrame]:
        """Ranks within each group column named in the spec (e.g. sector), unit → rank."""
        from .methods import group_rank

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
        from .methods import trends

        return trends(self.final, codes or self.tree.codes(self.tree.n_levels), method, use_latest)

    def rerun(self, address: str, value: Any) -> Result:
        from .pipeline import evaluate

        return evaluate(self.spec.with_change(address, value))

    # --- output ------------------------------------------------------------------------------------
    def save(self, out: str | Path) -> list[Path]:
        """Write every stage (CSV + Parquet), scores.csv, ranks.csv, records, results.xlsx, manifest.json."""
        out = Path(out)
        (out / "stages").mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for i, (name, df) in enumerate(self.datasets.items()):
            stem = out / "stages" / f"{i}_{name}"
            frame = with_unit_column(df)
            frame.to_csv(stem.with_suffix(".csv"), index=False)
            frame.to_parquet(stem.with_suffix(".parquet"), index=False)
            written += [stem.with_suffix(".csv"), stem.with_suffix(".parquet")]
        self.scores.to_csv(out / "scores.csv", index=False)
        written.append(out / "scores.csv")
        self.units().to_csv(out / "units.csv", index=False)
        written.append(out / "units.csv")
        self.rank_table().to_csv(out / "ranks.csv", index=False)
        written.append(out / "ranks.csv")
        for g, df in self.group_ranks.items():
            with_unit_column(df).to_csv(out / f"ranks_by_{g}.csv", index=False)
            written.append(out / f"ranks_by_{g}.csv")
        for name, df in self.records.items():
            df.to_csv(out / f"{name}.csv", index=any(n is not None for n in df.index.names))
            written.append(out / f"{name}.csv")
        if self.weights is not None:
            self.weights.rename("weight").to_frame().rename_axis("code").to_csv(out / "weights.csv")
            written.append(out / "weights.csv")
        written.append(self._write_xlsx(out / "results.xlsx"))
        (out / "spec.yaml").write_text(
            yaml.safe_dump(self.spec.model_dump(mode="json", exclude={"base_dir"}), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        written.append(out / "spec.yaml")
        (out / "manifest.json").write_text(json.dumps(self.manifest(), ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(out / "manifest.json")
        return written

    def units(self) -> pd.DataFrame:
        """``uCode``, ``uName`` and the group columns of every unit of the final data set."""
        idx = self.final.index
        out = pd.DataFrame(index=idx)
        out["uName"] = self.names.reindex(idx) if self.names is not None else pd.Series(idx.astype(str), index=idx)
        if self.groups is not None and len(self.groups.columns):
            out = out.join(self.groups.reindex(idx))
        return with_unit_column(out)

    def manifest(self) -> dict[str, Any]:
        from . import __version__

        return {
            "name": self.spec.name,
            "software": {"fintech-eval": __version__, "python": platform.python_version(), "pandas": pd.__version__},
            "inputs": self.inputs,
            "datasets": {k: list(v.shape) for k, v in self.datasets.items()},
            "warnings": self.warnings,
            "scores_sha256": hashlib.sha256(self.scores.to_csv(index=False).encode()).hexdigest(),
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
