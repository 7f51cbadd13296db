"""``fintech-eval report``: reports people read (scorecard, ranking, region, industry) from a saved result.

File names carry the result's block and period (and the entity): ``J-2024_scorecard_SYN-BANK-0001.zh.pdf``; an
existing file is replaced only with ``--force``. ``--entity all`` renders every entity's scorecard (or a sector's
with ``--sector``, a province's with ``--province``) in parallel processes, with one shared plotly.js, one shared
method appendix and an index page (``index.LANG.html``) that finds any report by name, code, sector or province.

When the result folder holds an uncertainty analysis (``fintech-eval analyse RESULT``, which writes
``RESULT/analysis/rank_intervals.csv``), the scorecards and the ranking show each unit's rank interval ("rank 12,
90% of plausible choices put it between 9 and 17") and the ranking chart the intervals as bars.

The industry report of a block-H result shows the sector's institutions too when the block-J result of the same
period is given with ``--with DIR``. (The vendor report renders a capability rating: ``fintech-eval rate --out x.pdf``.)
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import DataError
from .output import Lang, console


class Fmt(StrEnum):
    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"


def report_cmd(
    result_dir: Annotated[Path, typer.Argument(help="A result directory written by `fintech-eval evaluate --out DIR`.")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="scorecard, ranking, region, industry, or all (every kind that applies).")] = "all",
    entity: Annotated[str | None, typer.Option("--entity", "-e", help="The unit of a scorecard: its code or name; `all` for every unit's scorecard.")] = None,
    sector: Annotated[str | None, typer.Option("--sector", help="With --entity all: only the units of this sector (e.g. bank).")] = None,
    province: Annotated[str | None, typer.Option("--province", help="With --entity all: only the units of this province (code or name, e.g. 44 or 广东).")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of labels, titles and explanations.")] = Lang.zh,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="html (interactive), pdf or xlsx.")] = Fmt.html,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the report files to.")] = Path("reports"),
    force: Annotated[bool, typer.Option("--force", help="Replace report files that exist (otherwise an error lists them).")] = False,
    workers: Annotated[int | None, typer.Option("--workers", "-j", min=1, help="Processes rendering a batch (default: the CPUs).")] = None,
    min_n: Annotated[int, typer.Option("--min-n", min=1, help="Region report of institutions: fewest institutions a province needs to be ranked.")] = 3,
    with_dir: Annotated[Path | None, typer.Option("--with", help="The block-J result of the same period (industry report: the sector's institutions).")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Scorecard of one --entity: add its improvement plan to TARGET (next, rank:N, top:N, top:N:GROUP, score:X) and what each indicator would add; the result's spec is evaluated again from its hash-checked inputs.")] = None,
) -> None:
    """Render reports of a saved evaluation result: one file per kind, named BLOCK-PERIOD_KIND[_ENTITY].LANG.FORMAT
    (an existing file is replaced only with --force). --entity all renders every unit's scorecard (or those of
    --sector / --province) in parallel processes, with a shared method appendix, one plotly.js and index.LANG.html."""
    from ..report import build_report, load_result, write
    from ..report.batch import check_free, report_name, result_tag
    from ..report.kinds import REPORT_KINDS

    lang_s, fmt_s = Lang(lang).value, Fmt(fmt).value
    result = load_result(result_dir)
    intervals = _intervals(result, result_dir)
    if entity is not None and entity.casefold() == "all":
        if kind not in ("all", "scorecard"):
            raise DataError(f"--entity all renders scorecards; got --kind {kind}", rule="report.entity")
        _batch(result, sector, province, lang_s, fmt_s, out, force, workers, min_n, intervals)
        return
    if sector is not None or province is not None:
        raise DataError("--sector and --province select the scorecards of --entity all", rule="report.entity")
    institutions = load_result(with_dir) if with_dir is not None else None
    plan_kw = _plan(result, result_dir, entity, plan, kind) if plan is not None else {}
    if kind == "all":
        kinds = [k.name for k in REPORT_KINDS
                 if k.meta.get("input", "result") == "result" and k.name != "method" and (not k.meta.get("needs_entity") or entity)]
    else:
        REPORT_KINDS.entry(kind)  # unknown kind: a SpecError listing the choices
        kinds = [kind]
    tag = result_tag(result)
    reports = []
    skipped: list[str] = []
    with console.status(f"rendering {', '.join(kinds)} ({lang_s}, {fmt_s})…"):
        for k in kinds:
            try:
                report = build_report(result, k, entity=entity, lang=lang_s, institutions=institutions, min_n=min_n,
                                      intervals=intervals, **(plan_kw if k == "scorecard" else {}))
            except DataError as exc:
                if kind != "all" or not any(p.rule in ("report.region", "report.industry") for p in exc.problems):
                    raise
                skipped.append(f"{k}: {exc.problems[0].message}")  # e.g. region for a result whose units are not provinces
                continue
            ent = report.meta.get("entity")
            reports.append((report, out / report_name(tag, k, None if ent is None else str(ent), lang_s, fmt_s)))
        check_free([p for _, p in reports], force)
        written = [write(rep, fmt_s, p) for rep, p in reports]
    for p in written:
        console.print(f"[green]wrote[/] {p}")
    for s in skipped:
        console.print(f"[yellow]skipped[/] {s}")
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")


def _plan(result, result_dir: Path, entity: str | None, target: str, kind: str) -> dict:
    """The entity's improvement plan and marginal gains, on the result's spec evaluated again (checked to give
    the saved ranks: a plan of another result is refused)."""
    from ..analysis.planner import marginal_gains, plan_improvement
    from ..analysis.source import evaluate_source
    from ..report import tables as tb

    if entity is None or entity.casefold() == "all" or kind not in ("scorecard", "all"):
        raise DataError("--plan goes with the scorecard of one --entity", rule="report.plan")
    v = tb.view(result)
    unit = tb.find_unit(entity, v.info)
    with console.status(f"planning the improvement of {unit} ({target})…"):
        again = evaluate_source(result_dir)
        p = plan_improvement(again, unit, target)
        if p.rank != int(v.ranks.at[unit, v.top]):
            raise DataError(f"evaluated again, {unit} ranks {p.rank}, not {int(v.ranks.at[unit, v.top])} as saved: the inputs or the "
                            f"engine changed since the result was written; evaluate it again first", rule="report.plan", unit=unit)
        gains = marginal_gains(again, unit)
    return {"plan": p, "gains": gains}


def _intervals(result, result_dir: Path):
    """The rank intervals saved beside the result by ``fintech-eval analyse``, if they describe it (else a
    warning says why they are not shown)."""
    from ..analysis import load_rank_intervals
    from ..report import tables as tb

    iv = load_rank_intervals(result_dir)
    if iv is None:
        return None
    try:
        tb.rank_intervals(tb.view(result), iv)
    except DataError as exc:
        console.print(f"[yellow]warning[/]: rank intervals not shown: {exc.problems[0].message}")
        return None
    return iv


def _batch(result, sector, province, lang: str, fmt: str, out: Path, force: bool, workers: int | None, min_n: int,
           intervals=None) -> None:
    """Every selected unit's scorecard, in parallel, with a progress bar; then the index page."""
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ..report.batch import render_batch, select_units

    units = select_units(result, sector=sector, province=province)
    start = time.perf_counter()
    with Progress(TextColumn("[bold]scorecards[/] ({task.fields[fmt]}, {task.fields[lang]})"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("render", total=len(units), fmt=fmt, lang=lang)
        batch = render_batch(result, units, lang=lang, fmt=fmt, out=out, force=force, workers=workers, min_n=min_n,
                             intervals=intervals, progress=lambda n: bar.advance(task, n))
    took = time.perf_counter() - start
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    console.print(f"[green]wrote[/] {len(batch.files)} scorecards in {took:.1f} s to {out} ({size / 1e6:.1f} MB in the folder)")
    console.print(f"[green]index[/] {batch.index}")
    console.print(f"[green]method appendix[/] {batch.appendix}")
