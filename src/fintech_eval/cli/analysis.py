"""``fintech-eval analyse``, ``plan-improvement``, ``peers`` and ``plan-progress``: robustness, diagnostics, the
improvement planner, peer groups and Plan-task progress from the shell (thin over :mod:`fintech_eval.analysis`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import SpecError
from .output import Lang, RowFmt, console, emit


def load_evaluated(path: Path, spec=None):
    """A spec evaluated, or a result folder evaluated again from its hash-checked inputs
    (:func:`fintech_eval.analysis.source.evaluate_source`)."""
    from ..analysis.source import evaluate_source

    return evaluate_source(path, spec)


def _declarations(uncertainty: list[str] | None, assumptions_file: Path | None) -> list:
    import yaml

    decl: list = list(uncertainty or [])
    if assumptions_file is not None:
        try:
            doc = yaml.safe_load(assumptions_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"cannot read assumptions: {exc}", rule="uncertainty.file", file=str(assumptions_file)) from None
        items = doc.get("assumptions") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise SpecError("an assumptions file is a list of declarations (or {assumptions: [...]})", rule="uncertainty.file", file=str(assumptions_file))
        decl += items
    return decl


def analyse_cmd(
    source: Annotated[Path, typer.Argument(metavar="RESULT_OR_SPEC", help="An evaluation spec (YAML) or a result folder written by `fintech-eval evaluate`.")],
    uncertainty: Annotated[list[str] | None, typer.Option("--uncertainty", "-u", help="An uncertain assumption (repeatable): weights=0.25, weights=0.25@2,3, weights=dirichlet:50, normalise.method=minmax,zscore, treat.winmax=1..5, aggregate.dat_thresh=0.5..0.9, param.w_users_personal=0.3..0.7, exclude=Flights,Ship, exclude=level:2, 'normalise=[{method: minmax, range: [1, 100]}, {method: zscore, m_sd: [10, 2]}]'.")] = None,
    assumptions_file: Annotated[Path | None, typer.Option("--assumptions", help="YAML list of assumption declarations (the mappings of docs/analysis.md).")] = None,
    sensitivity: Annotated[str | None, typer.Option("--sensitivity", help="Also run a sensitivity analysis of the same assumptions: sobol or morris (default: the spec's uncertainty.sensitivity.method when it has one).")] = None,
    n: Annotated[int | None, typer.Option("--n", help="Uncertainty: replications (default: the spec's uncertainty.replications, else 100). Sensitivity: base samples (Sobol: n(d+2) runs; Morris: n trajectories).")] = None,
    sa_n: Annotated[int | None, typer.Option("--sa-n", help="Sensitivity base samples, if not --n (default: the spec's uncertainty.sensitivity.n).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed: same seed, same replications (default: the spec's uncertainty.seed).")] = None,
    design: Annotated[str | None, typer.Option("--design", help="Uncertainty sampling: random (COINr), lhs or sobol (default: the spec's uncertainty.design, else random).")] = None,
    target: Annotated[list[str] | None, typer.Option("--target", help="Nodes whose ranks are summarised (repeatable; default the index).")] = None,
    entity: Annotated[list[str] | None, typer.Option("--entity", help="Sensitivity: also the rank of this unit as an output; diagnostics: its strengths, weaknesses and summary (repeatable).")] = None,
    level: Annotated[float | None, typer.Option("--level", help="Central interval of ranks and scores (0.9 = 5-95 %; default: the spec's uncertainty.level, else 0.9).")] = None,
    leave_one_out: Annotated[list[int] | None, typer.Option("--leave-one-out", help="Remove each node of this level in turn (COINr remove_elements; repeatable).")] = None,
    diagnostics: Annotated[bool, typer.Option("--diagnostics", help="Write COINr's analysis tables (statistics, correlations, Cronbach, availability, ...).")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="Processes (default: the engine decides, up to one per CPU).")] = None,
    skip_failed: Annotated[bool, typer.Option("--skip-failed", help="Leave out replications the engine cannot run (e.g. a geometric mean meeting a zero) instead of stopping.")] = False,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write the PNG plots.")] = True,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: RESULT/analysis for a result folder, else ./analysis).")] = None,
    spec_uncertainty: Annotated[bool, typer.Option("--spec-uncertainty/--no-spec-uncertainty", help="Use the assumptions of the spec's uncertainty: section (default); --uncertainty and --assumptions add to them, and replace one that varies the same thing.")] = True,
) -> None:
    """Robustness of a result: uncertainty analysis (rank and score intervals per unit), Sobol or Morris
    sensitivity of the declared assumptions, leave-one-out, and COINr's diagnostics tables.

    The assumptions are the spec's uncertainty: section (by meaning: weights, normalise, aggregate, impute,
    treat, exclude, params, ...) plus --uncertainty and --assumptions, which add to it and replace a spec
    assumption that varies the same thing; --n, --seed, --design, --level override the section's settings.
    Every assumption is checked against the spec before anything runs: a misspelt address or an impossible
    value is an error naming it (and its path in the spec). Writes rank_stats.csv (nominal, mean, median, Q5, Q95 rank and score per
    unit), rank_intervals.csv, replications.csv, sensitivity_indices.csv, plots and a JSON summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import analysis as an
    from ..analysis.assumptions import resolve
    from ..analysis.section import combine, sensitivity_settings, settings
    from ..analysis.source import source_spec

    spec = source_spec(source)  # the spec and its uncertainty: section checked before anything runs
    decl = combine(spec, _declarations(uncertainty, assumptions_file), use_spec=spec_uncertainty)
    s = settings(spec.uncertainty if spec_uncertainty else None, replications=n, seed=seed, design=design, level=level)
    n, seed, design, level = s["replications"], s["seed"], s["design"], s["level"]
    if sensitivity is not None and sensitivity not in ("sobol", "morris"):
        raise SpecError(f"--sensitivity must be sobol or morris, got {sensitivity!r}", rule="sensitivity.method", parameter="--sensitivity")
    sens = sensitivity_settings(spec.uncertainty if spec_uncertainty else None, method=sensitivity, n=sa_n, entities=entity)
    sensitivity, sa_n = (sens["method"], sens["n"]) if sens else (None, sa_n)
    sa_entities = sens["entities"] if sens else (entity or [])
    if sensitivity and not decl:
        raise SpecError("--sensitivity needs assumptions (the spec's uncertainty: section, --uncertainty or --assumptions)", rule="uncertainty.none")
    if not (decl or leave_one_out or diagnostics):
        raise SpecError("nothing to do: give the spec an uncertainty: section, or --uncertainty, --assumptions, --leave-one-out or --diagnostics",
                        rule="analysis.none")
    out = out or (source / "analysis" if source.is_dir() else Path("analysis"))
    with console.status(f"evaluating {source}…"):
        result = load_evaluated(source, spec)
    on_error = "skip" if skip_failed else "raise"
    written: list[Path] = []
    if decl:
        a = resolve(result, decl, n=max(n, sa_n or 0), seed=seed)  # every assumption checked before any run
        origin = ["the spec" if isinstance(d, dict) and d.get("path") else "the command line" for d in decl]
        console.print("assumptions: " + "; ".join(f"{f.name} (from {o})" for f, o in zip(a.factors, origin, strict=True)))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("uncertainty", total=n)
            ua = an.uncertainty_analysis(result, a, n=n, seed=seed, design=design, target=target, level=level, workers=workers,
                                on_error=on_error, progress=lambda k: bar.advance(task, k))
            sa = None
            if sensitivity:
                m = sa_n or n
                runs = m * (len(a.factors) + 2) if sensitivity == "sobol" else m * (len(a.factors) + 1)
                task2 = bar.add_task(f"sensitivity ({sensitivity})", total=runs)
                sa = an.sensitivity_analysis(result, a, method=sensitivity, n=m, seed=seed, entities=sa_entities,
                                    target=(target or [None])[0], level=level, workers=workers, on_error=on_error,
                                    nboot=sens["nboot"] if sens else 200, progress=lambda k: bar.advance(task2, k))
        written += ua.save(out, plots=plots)
        iv = ua.rank_intervals()  # the whole ranks the reports show (rank_intervals.csv)
        wide = iv.assign(width=iv["rank_high"] - iv["rank_low"]).sort_values("width", ascending=False, kind="stable").head(5)
        console.print(f"[green]uncertainty[/]: {n} replications in {ua.seconds:.2f} s ({len(ua.errors)} failed); widest {ua.level * 100:g} % rank intervals: "
                      + ", ".join(f"{r.uCode} {r.rank_low:g}-{r.rank_high:g}" for r in wide.itertuples()))
        if sa is not None:
            written += sa.save(out, plots=plots)
            console.print(f"[green]sensitivity[/] ({sensitivity}): {len(sa.outputs)} runs in {sa.seconds:.2f} s")
            cols = ["output", "factor", "Si", "STi"] if sensitivity == "sobol" else ["output", "factor", "mu_star", "sigma"]
            emit(sa.indices[cols].round(3).to_dict("records"), "table")
    for lv in leave_one_out or []:
        loo = an.remove_elements(result, level=lv, target=(target or [None])[0], workers=workers)
        p = Path(out) / f"leave_one_out_L{lv}.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        loo.to_csv(p, index=False)
        written.append(p)
        console.print(f"[green]leave-one-out[/] level {lv}: " + ", ".join(f"{r.Removed} {r.MeanAbsRankDiff:.2f}" for r in loo.itertuples()))
    if diagnostics:
        from ..analysis.diagnostics import write_diagnostics

        written += write_diagnostics(result, Path(out) / "diagnostics", units=entity or ())
    console.print(f"{len(written)} files in {out}")


def plan_improvement_cmd(
    source: Annotated[Path, typer.Argument(metavar="RESULT_OR_SPEC", help="A result folder or an evaluation spec.")],
    entity: Annotated[str, typer.Option("--entity", help="The unit to plan for (uCode).")],
    target: Annotated[str, typer.Option("--target", help="rank:N (reach rank N), next (the next rank up), top:N (top N), top:N:GROUP (top N of its group in the column GROUP, e.g. top:10:sector) or score:X (index at least X).")] = "next",
    change: Annotated[list[str] | None, typer.Option("--changeable", help="Indicators that may change (repeatable; default all).")] = None,
    bounds: Annotated[Path | None, typer.Option("--bounds", help="CSV iCode,lower,upper of feasible raw values (default: no lower than today; shares <= 1 for indicators named as shares).")] = None,
    max_changes: Annotated[int, typer.Option("--max-changes", help="Largest number of indicators changed together.")] = 3,
    fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """The smallest set of feasible indicator changes that lifts ENTITY to the target, with the exact new rank
    (found by re-running the evaluation), and each indicator's marginal gain in the index per unit."""
    from ..analysis.planner import marginal_gains, plan_improvement, read_bounds

    result = load_evaluated(source)
    b = read_bounds(bounds) if bounds is not None else None
    plan = plan_improvement(result, entity, target, changeable=change, bounds=b, max_changes=max_changes)
    gains = marginal_gains(result, entity, changeable=change, bounds=b)
    if fmt == RowFmt.json:
        print(json.dumps({"plan": plan.to_dict(), "marginal_gains": gains.to_dict("records")}, ensure_ascii=False, indent=2, default=str))
        return
    console.print(plan.summary())
    if plan.changes is not None and len(plan.changes):
        emit(plan.changes.round(6).to_dict("records"), fmt.value, title="changes")
    emit(gains.head(15).round(6).to_dict("records"), fmt.value, title="marginal gain of the index per unit of each indicator")


def _rows(frame) -> list[dict]:
    """A frame as printable rows: floats rounded to 4 decimals, missing values as None."""
    import pandas as pd

    f = frame.copy()
    for c in f.columns:
        if f[c].dtype.kind == "f":
            f[c] = f[c].round(4)
    return [{k: (None if not isinstance(v, (list, tuple)) and pd.isna(v) else v) for k, v in r.items()} for r in f.to_dict("records")]


def _units_file(path: Path | None):
    """``--units FILE``: a CSV of unit columns (sizes, sub-types), keyed by uCode or id."""
    if path is None:
        return None
    import pandas as pd

    from ..errors import DataError

    try:
        df = pd.read_csv(path, dtype={"uCode": str, "id": str})
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the units file: {exc}", rule="analysis.units", file=str(path)) from None
    key = next((c for c in ("uCode", "id") if c in df.columns), None)
    if key is None:
        raise DataError("the units file needs a uCode or id column", rule="analysis.units", file=str(path))
    return df.set_index(key)


def peers_cmd(
    results: Annotated[list[Path], typer.Argument(metavar="RESULT...", help="Result folders (`fintech-eval evaluate --out`, `score`) or spec files (evaluated): one, or one per period (a panel result holds its periods).")],
    by: Annotated[str, typer.Option("--by", help="The peer group: sector, subtype, province, size (bands of --size-column), or any group column of the result by name (e.g. EurAsia_group).")] = "sector",
    entity: Annotated[str | None, typer.Option("--entity", help="Only this unit's rows (its code).")] = None,
    compare: Annotated[Path | None, typer.Option("--compare", help="Another run to compare with (last year's result folder, or a spec file: another method, evaluated): rank shifts overall and in the group, and the indicators that moved them.")] = None,
    size_column: Annotated[str | None, typer.Option("--size-column", help="--by size: the numeric unit column to band (e.g. total_assets; from the result's units or --units).")] = None,
    bands: Annotated[str, typer.Option("--bands", help="--by size: the band names, smallest first (equal counts).")] = "small,medium,large",
    units: Annotated[Path | None, typer.Option("--units", help="CSV of more unit columns keyed by uCode or id (e.g. `fintech-eval register list institutions --format csv`).")] = None,
    node: Annotated[str | None, typer.Option("--node", help="The score ranked (default: the index).")] = None,
    drivers: Annotated[int, typer.Option("--drivers", min=1, help="--compare: indicators named per unit.")] = 3,
    fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """Ranks inside peer groups: per unit (or --entity) and period, its group, score, overall rank, rank in the
    group, group size and percentile; with several periods the change on the previous one (score, rank, rank in
    the group; positive = moved up) and the CAGR of the score. --compare RUN: this run beside RUN (rank_shift =
    rank in RUN − rank now, the same in the group, and the indicators whose contribution changed most)."""
    from ..analysis.peers import compare_peers, peer_table
    from ..analysis.source import load_periods

    extra = _units_file(units)
    band_names = tuple(b.strip() for b in bands.split(",") if b.strip())
    periods = load_periods(results)
    if compare is not None:
        if len(periods) != 1:
            raise SpecError("--compare takes one RESULT (the run now) and one --compare RUN", rule="analysis.periods", parameter="--compare")
        (now,) = periods.values()
        (before,) = load_periods([compare]).values()
        frame = compare_peers(before, now, by, entity=entity, node=node, units=extra, size_column=size_column, drivers=drivers)
        title = f"{results[0]} against {compare} (within {by})"
    else:
        frame = peer_table(periods, by, entity=entity, node=node, units=extra, size_column=size_column, bands=band_names)
        title = f"ranks within {by}" + (f", {len(periods)} periods" if len(periods) > 1 else "")
    emit(_rows(frame), fmt.value, title=title)


def plan_progress_cmd(
    results: Annotated[list[Path], typer.Argument(metavar="RESULT...", help="Result folders of a JR/T 0201 block: one per period (or a panel result).")],
    entity: Annotated[str | None, typer.Option("--entity", help="One institution (its code).")] = None,
    industry: Annotated[str | None, typer.Option("--industry", help="One industry: its sector code (bank, securities, insurance, payment); the institutions of the sector, or the industry itself in a block-H result.")] = None,
    province: Annotated[str | None, typer.Option("--province", help="One province: code or name (44, 440000, 广东, Guangdong).")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the task names.")] = Lang.zh,
    fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """Progress on the 27 tasks of the FinTech Development Plan (2019-2021): per task and period, the mean
    normalised score of the task's linked indicators for one institution, industry or province, with the change
    on the previous period; tasks without a linked indicator in the result are listed with no score."""
    from ..analysis.progress import plan_progress, selection
    from ..analysis.source import load_periods

    periods = load_periods(results)
    who = selection(periods[max(periods)], entity=entity, industry=industry, province=province)
    frame = plan_progress(periods, who, lang=Lang(lang).value)
    if not frame["n_present"].any():
        raise SpecError("the result holds none of the indicators the Plan's tasks are linked to: give results of a JR/T 0201 "
                        "block (J, H or Q)", rule="analysis.plan_progress", parameter="RESULT")
    emit(_rows(frame), fmt.value, title=f"FinTech Development Plan (2019-2021): progress of {who}")
