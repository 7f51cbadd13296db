"""``fintech-eval import / indicators / template``: the data layer from the shell."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError, Problem
from .output import Lang, console, emit, err_console, problems_in, safe

DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite file (default $FINTECH_EVAL_DB, else ./fintech-eval.sqlite); postgresql+psycopg://… works the same.")]
FwOpt = Annotated[str, typer.Option("--framework", "-f", help="Framework id or YAML path.")]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help="Encoding of the CSV/JSON files that are not UTF-8, e.g. gb18030 (default: each file's own, detected: UTF-8 with or without BOM, else GB18030/GBK).")]
RegisterOpt = Annotated[Path | None, typer.Option("--register", help="An institution register file (CSV/xlsx, as for `register institutions`) registered in the same all-or-nothing step.")]
class Mandatory(StrEnum):
    applicable = "applicable"
    strict = "strict"
    none = "none"


MandatoryOpt = Annotated[Mandatory, typer.Option("--mandatory", help="Which blank values are errors: applicable (an empty cell of a variable the framework asks of the institution's sector; a declared N/A is an answer), strict (N/A too) or none.")]
OptionalOpt = Annotated[list[str] | None, typer.Option("--optional", help="A variable never mandatory (repeatable).")]
AcceptUnitOpt = Annotated[list[str] | None, typer.Option("--accept-unit", help="Accept a unit.factor check, with the reason (audited): [ENTITY/[PERIOD/]]VARIABLE:REASON, e.g. B001/2024/operating_revenue:'revenue grew after a merger' (repeatable). A return may give the reason itself in an accept_reason (接受理由) column beside the value.")]
MsgLangOpt = Annotated[Lang, typer.Option("--lang", help="Language of the problems' messages: en (default) or zh.")]
WaitOpt = Annotated[float | None, typer.Option("--wait", min=0, help="Seconds to wait while another import or correction writes to a SQLite database (default $FINTECH_EVAL_DB_WAIT, else 30).")]


def set_wait(seconds: float | None) -> None:
    """``--wait``: how long a SQLite writer waits for another one (read by the store's engines)."""
    if seconds is not None:
        import os

        from ..store.db import WAIT_ENV

        os.environ[WAIT_ENV] = str(seconds)


class OutFmt(StrEnum):
    csv = "csv"
    json = "json"


WARNINGS_SHOWN = 20  # warnings printed after an import; `validate` lists them all


def import_cmd(
    files: Annotated[list[Path] | None, typer.Argument(help="Questionnaire workbooks, long/wide CSV, JSON.")] = None,
    db: DbOpt = None,
    framework: FwOpt = "jrt0201-2020",
    public_banks: Annotated[bool, typer.Option("--public-banks", help="Import the shipped bank disclosures (banks_disclosed.csv).")] = False,
    user: Annotated[str, typer.Option("--user", help="Who submits (recorded with every change).")] = "cli",
    encoding: EncodingOpt = None,
    register: RegisterOpt = None,
    mandatory: MandatoryOpt = Mandatory.applicable,
    optional: OptionalOpt = None,
    accept_unit: AcceptUnitOpt = None,
    wait: WaitOpt = None,
    received: Annotated[str | None, typer.Option("--received", help="When the returns arrived if not now (YYYY-MM-DD, start of that day UTC+8, or an ISO date and time): a campaign's on-time rate compares it with the deadline.")] = None,
    lang: MsgLangOpt = Lang.en,
) -> None:
    """Import files all-or-nothing: every problem of every file is listed and nothing is stored if any is an error (exit 2).
    Rows of an institution that is not registered are an error: register first, or give the register file with --register."""
    from ..app import Workspace
    from ..app.campaigns import received_time
    from ..app.intake import import_files, import_public_banks
    from ..collect.texts import user_problems

    with problems_in(lang.value):  # an error's problems in --lang (exit 2, nothing stored)
        set_wait(wait)
        bad_user = user_problems(user)  # checked before anything is read or stored
        if bad_user:
            raise DataError(bad_user)
        if not files and not public_banks and register is None:
            raise typer.BadParameter("give FILES, --register FILE or --public-banks")
        received_at = received_time(received)
        with Workspace(db) as ws:
            if public_banks:
                pb, r = import_public_banks(ws, framework, user=user)
                n_diff = int((pb.ratios["status"] == "differs").sum()) if "status" in pb.ratios else 0
                console.print(f"public bank disclosures: {len(pb.observations)} observations, {'stored' if r.is_new else 'already stored (unchanged)'}; "
                              f"{len(pb.conflicts)} CONFLICT rows surfaced, {n_diff} disclosed ratios differ from the recomputed ones")
            if not files and register is None:
                return
            with console.status(f"reading, validating and storing {len(files or [])} file(s)…"):
                rep = import_files(ws, files or [], framework, user=user, encoding=encoding, register=register,
                                   mandatory=mandatory.value, optional=optional or (), accept_units=accept_unit or (),
                                   received_at=received_at)
        if register is not None:
            console.print(f"registered from {safe(register)}: {rep.registered} institution(s) created or changed")
        console.print(f"[green]imported[/] {len(rep.files)} file(s): {rep.stored_rows:,} observations stored, "
                      f"{rep.new_submissions} new submission(s), {rep.unchanged_submissions} unchanged (same bytes as before)")
        for w in rep.warnings[:WARNINGS_SHOWN]:
            line = Problem.line(w, lang.value) if isinstance(w, Problem) else str(w).removeprefix("warning: ")
            console.print(f"  [yellow]{'警告' if lang is Lang.zh else 'warning'}[/]: {safe(line)}", soft_wrap=True)
        if len(rep.warnings) > WARNINGS_SHOWN:
            console.print(f"  … and {len(rep.warnings) - WARNINGS_SHOWN:,} more warning(s) (values kept and flagged for "
                          "review); `fintech-eval validate FILE… --format csv --out problems.csv` lists them all")


def indicators_cmd(
    db: DbOpt = None,
    framework: FwOpt = "jrt0201-2020",
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    block: Annotated[str | None, typer.Option("--block", "-b", help="J, H or Q.")] = None,
    fmt: Annotated[OutFmt, typer.Option("--format")] = OutFmt.csv,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
    stored: Annotated[bool, typer.Option("--stored", help="The values `fintech-eval derive` stored, with a stale column (inputs changed since).")] = False,
    campaign: Annotated[int | None, typer.Option("--campaign", help="Derive for this campaign's sample and period (its parameters): the round the H shares divide by.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="An open parameter, e.g. --param share_reporting_only=1.")] = None,
) -> None:
    """The derived J/H/Q indicator values (long format: block, entity, period, code, value, status, reason).
    Computed now for the round: a campaign's sample (--campaign), else the institutions that reported in the
    period (the H shares H-A2B2-C1/H-A4B2-C2 divide by it; never by the whole register); --stored reads what
    `fintech-eval derive` stored."""
    from ..app import Workspace

    if stored:
        from ..app.derived import stored_values

        if period is None:
            raise typer.BadParameter("--stored needs --period")
        if campaign is not None or param:
            raise typer.BadParameter("--stored reads the values `fintech-eval derive` stored (with their campaign and "
                                     "parameters): --campaign and --param go to `derive`")
        with Workspace(db, create=False) as ws:
            values = stored_values(ws, period=period, block=block, framework=framework)
        n_stale = int(values["stale"].sum()) if len(values) else 0
        if n_stale:
            err_console.print(f"[yellow]{n_stale:,} of {len(values):,} stored value(s) are stale[/]: their inputs changed since "
                              "they were derived; run `fintech-eval derive` again")
        cols = ["block", "entity_id", "period", "code", "value", "status", "reason", "stale", "framework_version", "computed_at"]
        _write_frame(values[cols].rename(columns={"entity_id": "entity"}), fmt, out, "values")
        return
    from ..app.derived import derived_panel
    from .rounds import _params

    with Workspace(db, create=False) as ws:
        res = derived_panel(ws, period=period, framework=framework, campaign_id=campaign, params=_params(param))
    err_console.print(f"derived now for {res.round} (the H shares' denominator); `fintech-eval derive` stores them")
    panel = res.panel
    if block:
        panel = panel[panel["block"].astype(str) == block]
    panel = panel.rename(columns={"entity_id": "entity"})
    for c in ("block", "code", "status", "reason"):
        panel[c] = panel[c].astype(str)
    _write_frame(panel, fmt, out, "values")


def _write_frame(frame: Any, fmt: OutFmt, out: Path | None, what: str) -> None:
    """A long table as CSV or JSON records, to ``out`` or stdout."""
    if fmt is OutFmt.json:
        text = json.dumps(json.loads(frame.to_json(orient="records", force_ascii=False)), ensure_ascii=False, indent=1)
    else:
        text = frame.to_csv(index=False)
    if out:
        write_text(out, text)
        console.print(f"wrote {len(frame):,} {what} to {safe(out)}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def write_text(out: Path, text: str) -> None:
    """Write an output file; a missing folder, a directory, a full disk or no permission is one line."""
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write --out {out}: {exc.strerror or exc}", rule="io.error", file=str(out)) from None


def observations_cmd(
    db: DbOpt = None,
    period: Annotated[list[str] | None, typer.Option("--period", help="Only this period (repeatable).")] = None,
    entity: Annotated[list[str] | None, typer.Option("--entity", "-e", help="Only this entity id (repeatable).")] = None,
    variable: Annotated[list[str] | None, typer.Option("--variable", "-v", help="Only this raw variable (repeatable).")] = None,
    entity_kind: Annotated[str | None, typer.Option("--entity-kind", help="institution, region or industry.")] = None,
    fmt: Annotated[OutFmt, typer.Option("--format")] = OutFmt.csv,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """The stored raw values as received (long format: entity, period, variable, value, unit, the canonical
    value_norm/unit_norm, source, status, flag_reason, submission_id); missing values stay empty."""
    from ..app import Workspace
    from ..app.observations import stored_observations

    with Workspace(db, create=False) as ws:
        obs = stored_observations(ws, period=period, entity_kind=entity_kind, variables=variable, entities=entity)
    _write_frame(obs, fmt, out, "observations")


def template_cmd(
    period: Annotated[str, typer.Option("--period", help="Reporting period, e.g. 2024.")],
    entity: Annotated[list[str] | None, typer.Option("--entity", "-e", help="Institution id (repeatable); default: every registered institution.")] = None,
    framework: FwOpt = "jrt0201-2020",
    db: DbOpt = None,
    sample: Annotated[Path | None, typer.Option("--sample", help="A sample CSV (from `fintech-eval sample`): one questionnaire per sampled institution.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (gets index.csv too).")] = Path("questionnaires"),
    force: Annotated[bool, typer.Option("--force", help="Replace questionnaires already in --out (they may hold answers).")] = False,
) -> None:
    """Write questionnaire workbooks: exactly the variables that apply to each institution's sector
    (for a campaign's sample: `fintech-eval campaign templates`)."""
    from ..app import Workspace
    from ..app.templates import period_templates

    with Workspace(db, create=False) as ws, template_bar() as progress:
        batch = period_templates(ws, period=period, framework=framework, entities=entity, sample=sample, out=out, force=force,
                                 progress=progress)
    _templates_written(batch)


@contextlib.contextmanager
def template_bar() -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar for writing questionnaires: yields ``progress(done, total)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("questionnaires"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("questionnaires", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _templates_written(batch: Any) -> None:
    console.print(f"wrote {len(batch.index):,} questionnaire(s) for {safe(batch.period)} to {safe(batch.folder)}; "
                  f"index: {safe(batch.index_file)}")
    emit(batch.index[["entity_id", "sector", "n_variables", "file"]].head(20).astype(str).to_dict("records"), "table")
    if len(batch.index) > 20:
        console.print(f"… and {len(batch.index) - 20:,} more (see the index)")


def sample_cmd(
    period: Annotated[str, typer.Option("--period", help="Period whose size attributes are used (annual, §4).")],
    method: Annotated[str, typer.Option("--method", "-m", help="top_n, coverage, stratified or all.")] = "coverage",
    by: Annotated[str, typer.Option("--by", help="Size attribute: operating_revenue, market_share, total_financing, market_value.")] = "operating_revenue",
    n: Annotated[int | None, typer.Option("--n", help="top_n / stratified: institutions per sector (stratum).")] = None,
    share: Annotated[float | None, typer.Option("--share", help="coverage: share of the sector total to cover, e.g. 0.8.")] = None,
    fraction: Annotated[float | None, typer.Option("--fraction", help="stratified: fraction per stratum.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="stratified: random seed (same seed, same sample).")] = None,
    sector: Annotated[list[str] | None, typer.Option("--sector", help="Only these sectors (repeatable).")] = None,
    register: Annotated[str, typer.Option("--register", help="Sample the institutions or the key-tech enterprises (both §4 populations).")] = "institutions",
    framework: FwOpt = "jrt0201-2020",
    db: DbOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Writes OUT.csv (the sample) and OUT_coverage.csv.")] = Path("sample"),
) -> None:
    """Choose institutions by sector and size (JR/T 0201 §4): top-N, revenue coverage, stratified random, census.
    Sizes: the stored size attributes of the period (`fintech-eval register sizes`), else the institution's own
    return of the period (operating_revenue)."""
    from ..app import Workspace
    from ..app.sizes import draw_sample

    params = {k: v for k, v in {"n": n, "share": share, "fraction": fraction, "seed": seed}.items() if v is not None}
    with Workspace(db, create=False) as ws:
        draw = draw_sample(ws, period, register=register, method=method, by=by, sectors=sector, framework=framework,
                           **params)
    sample_file, _ = draw.write(out)
    res = draw.result
    who = "institution(s)" if register == "institutions" else "enterprise(s)"
    console.print(f"sampled {len(res.sample)} {who} → {safe(sample_file)}")
    for attr, k in draw.from_returns.items():
        console.print(f"{attr} of {k:,} institution(s) read from their {safe(period)} returns (not in the register)")
    emit(res.coverage.astype(str).to_dict("records"), "table", title="coverage")
    if len(res.missing):
        console.print(f"[yellow]{len(res.missing)} institution(s) lack {by} for {period}[/] (listed in the sample file's report)")


def demo_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (a previous demo output or an empty folder is replaced; any other needs --force).")] = Path("fintech-eval-demo"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic sample.")] = 2024,
    institutions: Annotated[int, typer.Option("--institutions", help="Synthetic institutions.")] = 600,
    lang: Annotated[str, typer.Option("--lang", help="Report language: zh or en.")] = "zh",
    no_reports: Annotated[bool, typer.Option("--no-reports", help="Skip the reports.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace --out even when it holds files that are not a previous demo output.")] = False,
) -> None:
    """One evaluation round on a synthetic national sample, through the commands' own functions: register →
    §4 sample → campaign → questionnaires → returns (one late, one missing) → status → derive → score → publish."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..demo.run import DEMO_STEPS, check_demo_folder, run_demo, summary_table

    check_demo_folder(out, force)  # before the progress bar: a refusal is one line
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("demo", total=DEMO_STEPS)

        def progress(text: str) -> None:
            bar.update(task, description=text, advance=1)

        s = run_demo(out, seed=seed, n_institutions=institutions, reports=not no_reports, lang=lang, progress=progress,
                     force=force)
        bar.update(task, completed=DEMO_STEPS, description="done")
    console.print("[bold yellow]SYNTHETIC DATA (合成数据)[/]: the institutions are generated, not real; the bank disclosures are real.")
    console.print(f"the return with deliberately bad rows was rejected whole, {len(s.rejected_problems)} problem(s):")
    for p in s.rejected_problems:
        console.print(f"  - {p}", soft_wrap=True, markup=False, highlight=False)
    emit(summary_table(s).astype(str).to_dict("records"), "table", title="demo")
    console.print(f"campaign {s.campaign}: {s.n_sampled} institution(s) asked; reporting rate {s.reporting_rate:.1%}, "
                  f"on time {s.on_time_rate:.1%}; late: {safe(', '.join(s.late) or 'none')}; "
                  f"missing (to chase): {safe(', '.join(s.missing) or 'none')}", highlight=False)
    console.print(f"run {s.run} published; results: {', '.join(safe(p) for p in s.results.values())}", highlight=False)
    if s.reports:
        console.print(f"report: {safe(s.report_dir)} ({len(s.reports)} files; start with "
                      f"{safe(next((p.name for p in s.reports if '_ranking.' in p.name), s.reports[0].name))})", highlight=False)
    console.print(f"database: {safe(s.db)} (try `fintech-eval campaign status --db {safe(s.db)}`)", highlight=False)
