"""``fintech-eval import / indicators / template``: the data layer from the shell."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError
from .output import console, emit, err_console, safe

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
AcceptUnitOpt = Annotated[list[str] | None, typer.Option("--accept-unit", help="Accept a unit.factor check, with the reason (audited): [ENTITY/[PERIOD/]]VARIABLE:REASON, e.g. B001/2024/operating_revenue:'revenue grew after a merger' (repeatable).")]
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
) -> None:
    """Import files all-or-nothing: every problem of every file is listed and nothing is stored if any is an error (exit 2).
    Rows of an institution that is not registered are an error: register first, or give the register file with --register."""
    from ..collect.texts import user_problems
    from ..service import import_paths, import_public_banks

    set_wait(wait)
    bad_user = user_problems(user)  # checked before anything is read or stored
    if bad_user:
        raise DataError(bad_user)
    if not files and not public_banks and register is None:
        raise typer.BadParameter("give FILES, --register FILE or --public-banks")
    if public_banks:
        pb, r = import_public_banks(db, framework, user=user)
        n_diff = int((pb.ratios["status"] == "differs").sum()) if "status" in pb.ratios else 0
        console.print(f"public bank disclosures: {len(pb.observations)} observations, {'stored' if r.is_new else 'already stored (unchanged)'}; "
                      f"{len(pb.conflicts)} CONFLICT rows surfaced, {n_diff} disclosed ratios differ from the recomputed ones")
    if files or register is not None:
        with console.status(f"reading, validating and storing {len(files or [])} file(s)…"):
            rep = import_paths(db, files or [], framework, user=user, encoding=encoding, register=register,
                               mandatory=mandatory.value, optional=optional or (), accept_units=accept_unit or ())
        if register is not None:
            console.print(f"registered from {safe(register)}: {rep.registered} institution(s) created or changed")
        console.print(f"[green]imported[/] {len(rep.files)} file(s): {rep.stored_rows:,} observations stored, "
                      f"{rep.new_submissions} new submission(s), {rep.unchanged_submissions} unchanged (same bytes as before)")
        for w in rep.warnings[:WARNINGS_SHOWN]:
            console.print(f"  [yellow]warning[/]: {safe(str(w).removeprefix('warning: '))}", soft_wrap=True)
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
) -> None:
    """The derived J/H/Q indicator values (long format: block, entity, period, code, value, status, reason)."""
    if stored:
        from ..app import Workspace
        from ..app.derived import stored_values

        if period is None:
            raise typer.BadParameter("--stored needs --period")
        with Workspace(db, create=False) as ws:
            values = stored_values(ws, period=period, block=block, framework=framework)
        n_stale = int(values["stale"].sum()) if len(values) else 0
        if n_stale:
            err_console.print(f"[yellow]{n_stale:,} of {len(values):,} stored value(s) are stale[/]: their inputs changed since "
                              "they were derived; run `fintech-eval derive` again")
        cols = ["block", "entity_id", "period", "code", "value", "status", "reason", "stale", "framework_version", "computed_at"]
        _write_frame(values[cols].rename(columns={"entity_id": "entity"}), fmt, out, "values")
        return
    from ..service import derive_from_db

    panel = derive_from_db(db, framework, period=period)
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
    from ..service import open_existing_db
    from ..store import observations_frame, session_factory

    engine = open_existing_db(db)
    try:
        with session_factory(engine)() as s:
            obs = observations_frame(s, period=period, entity_kind=entity_kind, variables=variable, entity_ids=entity)
    finally:
        engine.dispose()
    _write_frame(obs, fmt, out, "observations")


def template_cmd(
    period: Annotated[str, typer.Option("--period", help="Reporting period, e.g. 2024.")],
    entity: Annotated[list[str] | None, typer.Option("--entity", "-e", help="Institution id (repeatable); default: every institution in the database.")] = None,
    framework: FwOpt = "jrt0201-2020",
    db: DbOpt = None,
    sample: Annotated[Path | None, typer.Option("--sample", help="A sample CSV (from `fintech-eval sample`): one questionnaire per sampled institution.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("questionnaires"),
) -> None:
    """Write questionnaire workbooks: exactly the variables that apply to each institution's sector."""
    from ..catalog import load_framework
    from ..collect import write_templates
    from ..service import open_existing_db
    from ..store import institutions_frame, session_factory

    fw = load_framework(framework)
    engine = open_existing_db(db)
    try:
        with session_factory(engine)() as s:
            inst = institutions_frame(s)
    finally:
        engine.dispose()
    ids = list(entity or [])
    if sample is not None:
        import pandas as pd

        ids += pd.read_csv(sample, dtype=str)["entity_id"].tolist()
    chosen = inst if not ids else inst[inst["id"].isin(ids)]
    unknown = sorted(set(ids) - set(inst["id"]))
    if unknown:
        raise DataError(f"unknown institution(s): {', '.join(unknown)} (import or register them first)", rule="entity.unknown")
    if chosen.empty:
        raise DataError("no institutions in the database: import some first", rule="entity.none")
    out.mkdir(parents=True, exist_ok=True)
    paths = write_templates(fw, chosen, period, out)
    console.print(f"wrote {len(paths)} questionnaire(s) to {safe(out)}")
    emit([{"file": str(p)} for p in paths[:20]], "table")


def sample_cmd(
    period: Annotated[str, typer.Option("--period", help="Period whose size attributes are used (annual, §4).")],
    method: Annotated[str, typer.Option("--method", "-m", help="top_n, coverage, stratified or all.")] = "coverage",
    by: Annotated[str, typer.Option("--by", help="Size attribute: operating_revenue, market_share, total_financing, market_value.")] = "operating_revenue",
    n: Annotated[int | None, typer.Option("--n", help="top_n / stratified: institutions per sector (stratum).")] = None,
    share: Annotated[float | None, typer.Option("--share", help="coverage: share of the sector total to cover, e.g. 0.8.")] = None,
    fraction: Annotated[float | None, typer.Option("--fraction", help="stratified: fraction per stratum.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="stratified: random seed (same seed, same sample).")] = None,
    sector: Annotated[list[str] | None, typer.Option("--sector", help="Only these sectors (repeatable).")] = None,
    db: DbOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Writes OUT.csv (the sample) and OUT_coverage.csv.")] = Path("sample"),
) -> None:
    """Choose institutions by sector and size (JR/T 0201 §4): top-N, revenue coverage, stratified random, census."""
    from ..collect.sample import sample
    from ..service import open_existing_db
    from ..store import institutions_frame, session_factory, size_frame

    engine = open_existing_db(db)
    try:
        with session_factory(engine)() as s:
            inst = institutions_frame(s)
            sizes = size_frame(s, period=period)
    finally:
        engine.dispose()
    params = {k: v for k, v in {"n": n, "share": share, "fraction": fraction, "seed": seed}.items() if v is not None}
    res = sample(inst, sizes, period, method=method, by=by, sectors=sector, **params)
    out.parent.mkdir(parents=True, exist_ok=True)
    res.sample.to_csv(out.with_suffix(".csv"), index=False)
    res.coverage.to_csv(out.with_name(out.stem + "_coverage.csv"), index=False)
    console.print(f"sampled {len(res.sample)} institution(s) → {safe(out.with_suffix('.csv'))}")
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
    """The main job on the embedded default: synthetic national sample → SQLite → validate → derive J/H/Q → scores → reports."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..demo.run import check_demo_folder, run_demo, summary_table

    check_demo_folder(out, force)  # before the progress bar: a refusal is one line
    steps = 10
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("demo", total=steps)

        def progress(text: str) -> None:
            bar.update(task, description=text, advance=1)

        summary = run_demo(out, seed=seed, n_institutions=institutions, reports=not no_reports, lang=lang, progress=progress,
                           force=force)
        bar.update(task, completed=steps, description="done")
    console.print("[bold yellow]SYNTHETIC DATA (合成数据)[/]: the institutions are generated, not real; the bank disclosures are real.")
    console.print(f"the return with deliberately bad rows was rejected whole, {len(summary.rejected_problems)} problem(s):")
    for p in summary.rejected_problems:
        console.print(f"  - {p}", soft_wrap=True, markup=False, highlight=False)
    emit(summary_table(summary).astype(str).to_dict("records"), "table", title="demo")
    console.print(f"results: {', '.join(str(p) for p in summary.results.values())}")
    if summary.reports:
        console.print("reports: " + ", ".join(str(p) for p in summary.reports[:8]) + (" …" if len(summary.reports) > 8 else ""))
    console.print(f"database: {summary.db}")
