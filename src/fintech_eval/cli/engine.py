"""``fintech-eval evaluate`` and ``fintech-eval weights``: the composite-indicator engine from the shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import DataError, SpecError
from .output import RowFmt, console, emit

#: the weighting methods of ``methods.WEIGHTS`` (listed here so that ``--help`` need not import the methods;
#: tests/cli/test_startup.py checks that the two agree)
WEIGHT_METHODS = ("combined", "critic", "cv", "entropy", "entropy_panel", "equal", "manual", "named", "pca", "std")
#: ``--xlsx-max-cells``: the default size up to which results.xlsx is written (= engine.result.XLSX_MAX_CELLS)
XLSX_MAX_CELLS = 200_000


def evaluate_cmd(
    spec: Annotated[Path, typer.Argument(help="Evaluation spec (YAML): data (source coinr | store | frame), steps, ranks.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for every stage (CSV + Parquet), scores.csv, ranks.csv, the records, tree.csv, manifest.json and (see --xlsx) results.xlsx.")] = Path("out"),
    change: Annotated[list[str] | None, typer.Option("--set", help="Change one parameter, e.g. --set normalise.method=zscore (repeatable).")] = None,
    xlsx: Annotated[bool | None, typer.Option("--xlsx/--no-xlsx", help="Write results.xlsx (every table on a sheet) whatever its size / never. Default: only when it has at most --xlsx-max-cells cells.")] = None,
    xlsx_max_cells: Annotated[int, typer.Option("--xlsx-max-cells", min=0, help="Without --xlsx/--no-xlsx, write results.xlsx only up to this many cells (a large workbook takes minutes).")] = XLSX_MAX_CELLS,
) -> None:
    """Run an evaluation spec and write every stage's table, the scores, the ranks and (when small enough, or with --xlsx) a workbook.

    The data come from COINr's iData/iMeta files (data.source: coinr) or from the database that `fintech-eval import` filled (data.source: store, with block and period). The spec is checked whole before anything is read; warnings name the step, the indicator and the group."""
    import yaml

    from ..engine.pipeline import evaluate
    from ..engine.spec import load_spec

    s = load_spec(spec)
    changes = {}
    for item in change or []:
        address, sep, raw = item.partition("=")
        if not sep:
            raise SpecError(f"--set {item!r}: expected stage.parameter=value", rule="spec.address")
        changes[address] = yaml.safe_load(raw)
    if changes:
        s = s.with_changes(changes)
    with console.status(f"evaluating {s.name}…"):
        result = evaluate(s)
        files = result.save(out, xlsx=xlsx, xlsx_max_cells=xlsx_max_cells)
    top = result.tree.codes(result.tree.n_levels)
    console.print(f"[green]done[/]: {s.name} — {len(result.scores)} units, {len(result.datasets)} data sets, {len(files)} files in {out}")
    if top and top[0] in result.final:
        best = result.final[top[0]].sort_values(ascending=False).head(5)
        console.print("top 5 by " + top[0] + ": " + ", ".join(f"{u} {v:.2f}" for u, v in best.items()))
    if xlsx is None and out / "results.xlsx" not in files:
        console.print(f"note: results.xlsx not written ({result.workbook_cells():,} cells > --xlsx-max-cells {xlsx_max_cells:,}); "
                      "pass --xlsx to write it (slow at this size)")
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")


def weights_cmd(
    method: Annotated[str, typer.Argument(help=f"ahp, or one of: {', '.join(WEIGHT_METHODS)}")],
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV: units × criteria (first column the unit); for ahp the pairwise matrix (first column the labels).")],  # noqa: A002
    directions: Annotated[str | None, typer.Option("--directions", help="Criterion directions, e.g. 'NPL=-1,ROA=1' (reverse criteria).")] = None,
    convention: Annotated[str | None, typer.Option("--convention", help="entropy: standardised (熵权法, default) or raw.")] = None,
    shift: Annotated[float | None, typer.Option("--shift", help="entropy (standardised): add this to the standardised values, e.g. 0.0001.")] = None,
    allow_inconsistent: Annotated[bool, typer.Option("--allow-inconsistent", help="ahp: accept CR >= 0.1.")] = False,
    fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """Compute weights from data (entropy, CRITIC, CV, …) or from an AHP pairwise matrix (exit code 3 if CR >= 0.1)."""
    import pandas as pd

    from ..methods import WEIGHTS, ahp

    try:
        df = pd.read_csv(input, index_col=0)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read CSV: {exc}", rule="weights.input", file=str(input)) from None
    if method == "ahp":
        res = ahp(df, allow_inconsistent=allow_inconsistent)
        w = res.weights
        extra = {"lambda_max": res.lambda_max, "CI": res.ci, "RI": res.ri, "CR": res.cr, "consistent": res.consistent}
    else:
        fn = WEIGHTS.get(method)
        kw: dict = {}
        if directions:
            kw["directions"] = {k.strip(): int(v) for k, v in (p.split("=") for p in directions.split(","))}
        if convention:
            kw["convention"] = convention
        if shift is not None:
            kw["shift"] = shift
        w = fn(df, **kw)
        extra = {}
    if fmt is RowFmt.json:
        payload = {"weights": {str(k): float(v) for k, v in w.items()}, **extra} if extra else {str(k): float(v) for k, v in w.items()}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        emit([{"criterion": k, "weight": f"{v:.6f}"} for k, v in w.items()], fmt.value, title=f"{method} weights")
        if extra and fmt is RowFmt.table:
            console.print(", ".join(f"{k} = {v:.4f}" if isinstance(v, float) else f"{k} = {v}" for k, v in extra.items()))
