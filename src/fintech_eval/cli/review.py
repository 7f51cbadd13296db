"""``fintech-eval validate / correct / history``: check returns before importing them, correct a stored
value with a reason, and show a value's audited changes."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import shown, visible
from .data import (
    AcceptUnitOpt,
    DbOpt,
    EncodingOpt,
    FwOpt,
    Mandatory,
    MandatoryOpt,
    MsgLangOpt,
    OptionalOpt,
    RegisterOpt,
    WaitOpt,
    set_wait,
    write_text,
)
from .output import Lang, RowFmt, console, emit, err_console, problems_in, safe


def problem_columns() -> tuple[str, ...]:
    """The columns of a problem list, in print order (``severity`` first, ``rule`` and ``message`` last)."""
    from ..collect.validate import WHERE_KEYS

    return ("severity", *WHERE_KEYS, "rule", "message")


HISTORY_COLUMNS = ("at", "field", "old", "new", "who", "why", "submission")
_MISSING = {"", "na", "n/a", "nan", "null", "none"}

KindOpt = Annotated[str, typer.Option("--entity-kind", help="institution, region or industry.")]


def validate_cmd(
    files: Annotated[list[Path] | None, typer.Argument(help="Questionnaire workbooks, long/wide CSV, JSON (as for `import`).")] = None,
    framework: FwOpt = "jrt0201-2020",
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    register: RegisterOpt = None,
    mandatory: MandatoryOpt = Mandatory.applicable,
    optional: OptionalOpt = None,
    accept_unit: AcceptUnitOpt = None,
    fmt: Annotated[RowFmt, typer.Option("--format", help="table, csv or json (one row per problem).")] = RowFmt.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the problems to this file (CSV, or JSON with --format json or a .json name).")] = None,
    rules: Annotated[bool, typer.Option("--rules", help="List every rule a problem can name (rule, severity, meaning) and exit.")] = False,
    lang: MsgLangOpt = Lang.en,
) -> None:
    """Check files exactly as `import` would (register and previous-year values from --db if it exists) and store nothing.
    Lists every error and warning with file, sheet, row, column, entity, variable, rule; exit 2 if any is an error.
    `--lang zh`: the messages in Chinese."""
    from ..app import Workspace
    from ..app.intake import validate_files
    from ..collect import RULES

    if rules:
        emit([{"rule": r, "severity": sev, "meaning": text} for r, (sev, text) in sorted(RULES.items())],
             fmt.value, columns=["rule", "severity", "meaning"], title="validation rules")
        return
    if not files:
        raise typer.BadParameter("give the files to check (or --rules)", param_hint="FILES")
    with problems_in(lang.value):
        ws = Workspace.existing(db)  # checked against the database if there is one; none is created
        try:
            res = validate_files(ws, files, framework, encoding=encoding, register=register, mandatory=mandatory.value,
                                 optional=optional or (), accept_units=accept_unit or ())
        finally:
            if ws is not None:
                ws.close()
    rows = [_problem_row(p, lang.value) for p in res.problems]
    n_rows = sum(len(r.frame) for r in res.files)  # rows the readers turned into values (a bad cell's row is not one)
    n_err, n_warn = len(res.errors), len(res.warnings)
    summary = (f"{len(files)} file(s), {n_rows} value row(s) read: {n_err} error(s), {n_warn} warning(s); "
               f"an import would be {'rejected' if n_err else 'accepted'} (nothing stored)")
    if out is not None:
        kind = "json" if fmt is RowFmt.json or (fmt is RowFmt.table and out.suffix.lower() == ".json") else "csv"
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            emit(rows, kind, columns=problem_columns(), safe_csv=True)
        if not out.parent.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, buf.getvalue())
        console.print(f"wrote {len(rows)} problem(s) to {safe(out)}")
        console.print(summary)
    elif fmt is RowFmt.table:
        if rows:  # the columns no problem fills (e.g. sheet for CSV files) are left out on screen
            cols = [c for c in problem_columns() if any(r[c] not in (None, "") for r in rows)]
            emit(rows, "table", columns=cols, title="problems")
        console.print(summary)
    else:  # machine-readable on stdout; the summary goes to stderr so that the output stays parseable
        emit(rows, fmt.value, columns=problem_columns(), safe_csv=True)
        err_console.print(summary)
    if n_err:
        raise typer.Exit(2)


def _problem_row(p: Any, lang: str = "en") -> dict[str, Any]:
    import numpy as np

    from ..collect.validate import WHERE_KEYS

    d = {k: v.item() if isinstance(v, np.generic) else v for k, v in p.as_dict().items()}  # JSON numbers, not "2"
    text = p.text(lang) if hasattr(p, "text") else p.message
    return {"severity": d.get("severity", "error"), **{k: d.get(k) for k in WHERE_KEYS}, "rule": p.rule, "message": text}


def correct_cmd(
    entity: Annotated[str, typer.Argument(help="Entity id, e.g. B001.")],
    period: Annotated[str, typer.Argument(help="Period, e.g. 2024 or 2024Q1.")],
    variable: Annotated[str, typer.Argument(help="Variable code, e.g. fintech_staff.")],
    value: Annotated[str, typer.Argument(help="New value; NA or '' for missing.")],
    why: Annotated[str, typer.Option("--why", help="Reason for the correction (required; kept in the audit trail).")],
    entity_kind: KindOpt = "institution",
    unit: Annotated[str | None, typer.Option("--unit", help="Unit of VALUE (default: the unit the value was received in).")] = None,
    user: Annotated[str, typer.Option("--user", help="Who corrects (recorded with the change).")] = "cli",
    db: DbOpt = None,
    wait: WaitOpt = None,
) -> None:
    """Correct one stored value with a reason, in one transaction; prints each changed field (old → new).
    A value stored converted to another unit is converted the same way. The outliers of its group (variable,
    sector, period) are judged again: a peer whose flag changes is re-flagged in the same transaction, audited."""
    from ..app import Workspace
    from ..app.intake import correct_value

    set_wait(wait)
    with Workspace(db, create=False) as ws:
        res = correct_value(ws, (entity_kind, entity, period, variable), value, why=why, user=user, unit=unit)
    key, changed, trail = res.key, res.changed, res.trail
    label = "/".join(key)
    if trail is None:
        console.print(f"{safe(label)}: unchanged (the stored value is already {safe(shown(value))})")
        return
    console.print(f"[green]corrected[/] {safe(label)} ({len(changed)} field(s)): {safe(shown(why, 200))}", soft_wrap=True)
    for r in trail.itertuples(index=False):
        console.print(visible(f"  {r.field}: {_show(r.old)} → {_show(r.new)}"), markup=False, highlight=False)
    for j in res.rejudged:  # peers of its outlier group whose flag changed with it
        console.print(visible(f"  {'/'.join(j.key)}: {j.old_status} → {j.new_status}"
                              + (f" ({shown(j.new_reason, 160)})" if j.new_reason else "")
                              + " (outlier group judged again)"), markup=False, highlight=False)


def _show(v: Any) -> str:
    return "NA" if v is None else str(v)


def history_cmd(
    entity: Annotated[str, typer.Argument(help="Entity id, e.g. B001.")],
    period: Annotated[str, typer.Argument(help="Period, e.g. 2024.")],
    variable: Annotated[str, typer.Argument(help="Variable code, e.g. fintech_staff.")],
    entity_kind: KindOpt = "institution",
    db: DbOpt = None,
    fmt: Annotated[RowFmt, typer.Option("--format", help="table, csv or json.")] = RowFmt.table,
) -> None:
    """Every recorded change of one stored value, oldest first: at, field, old, new, who, why, submission.
    A value imported once and never changed has no entries."""
    import pandas as pd

    from ..app import Workspace
    from ..app.observations import value_history

    with Workspace(db, create=False) as ws:
        key, trail = value_history(ws, entity_kind, entity, period, variable)
    rows = [
        {"at": r.at.isoformat(), "field": r.field, "old": r.old, "new": r.new, "who": r.who, "why": r.why,
         "submission": None if pd.isna(r.submission_id) else int(r.submission_id)}
        for r in trail.itertuples(index=False)
    ]  # fmt: skip
    if fmt is RowFmt.table:
        if rows:
            shown = [{**r, "at": r["at"][:19].replace("T", " "), "old": _show(r["old"]), "new": _show(r["new"])} for r in rows]
            emit(shown, "table", columns=HISTORY_COLUMNS, title=f"{'/'.join(key)} (times in UTC)")
        else:
            console.print(f"{safe('/'.join(key))}: no recorded change (imported once, never corrected)")
    else:
        emit(rows, fmt.value, columns=HISTORY_COLUMNS)


review_app = typer.Typer(help="Flagged values (outliers, public-data conflicts, …): list them, and record that an evaluator checked them.",
                         no_args_is_help=True)
ReviewCampaignOpt = Annotated[int | None, typer.Option("--campaign", help="Only the campaign's sample and period (its id; may be omitted with --all when the database holds one campaign).")]
ReviewEntityOpt = Annotated[list[str] | None, typer.Option("--entity", "-e", help="Entity id (repeatable).")]
ReviewVariableOpt = Annotated[list[str] | None, typer.Option("--variable", "-v", help="Variable code (repeatable).")]
ReviewPeriodOpt = Annotated[str | None, typer.Option("--period", help="Period, e.g. 2024.")]
FLAG_SHOWN = ("entity_id", "period", "variable", "value", "unit", "flag_reason", "accepted", "accepted_by", "accepted_why")


def _flag_rows(flags: Any) -> list[dict[str, Any]]:
    import pandas as pd

    return [{c: (None if (not isinstance(v, (list, dict)) and pd.isna(v)) else (v.isoformat() if hasattr(v, "isoformat") else v))
             for c, v in r.items()} for r in flags.to_dict("records")]


@review_app.command("list")
def review_list_cmd(
    campaign: ReviewCampaignOpt = None, entity: ReviewEntityOpt = None, variable: ReviewVariableOpt = None,
    period: ReviewPeriodOpt = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only the flags no evaluator has accepted yet.")] = False,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """The flagged values with their reason and whether an evaluator accepted the flag (by whom, why)."""
    from ..app import Workspace
    from ..app.reviews import list_flagged

    with Workspace(db, create=False) as ws:
        flags = list_flagged(ws, campaign_id=campaign, entities=entity, variables=variable, period=period, open_only=open_only)
    rows = _flag_rows(flags)
    if fmt is RowFmt.table:
        if not rows:
            console.print("no flagged value" + (" left to check" if open_only else ""))
            return
        emit(rows, "table", columns=FLAG_SHOWN, title=f"flagged values ({int(flags['accepted'].sum())} of {len(flags)} accepted)")
    else:
        emit(rows, fmt.value, columns=("entity_kind", *FLAG_SHOWN, "accepted_at"))


@review_app.command("accept")
def review_accept_cmd(
    why: Annotated[str, typer.Option("--why", help="What the evaluator checked (required; kept in the audit trail).")],
    campaign: ReviewCampaignOpt = None, entity: ReviewEntityOpt = None, variable: ReviewVariableOpt = None,
    period: ReviewPeriodOpt = None,
    every: Annotated[bool, typer.Option("--all", help="Every flagged value selected (with --campaign: of its sample and period).")] = False,
    user: Annotated[str, typer.Option("--user", help="Who checked (recorded).")] = "cli",
    db: DbOpt = None, wait: WaitOpt = None,
) -> None:
    """Record that an evaluator checked flagged values (audited): `campaign status` then no longer counts them as
    blocking. The acceptance covers the flag the value carries now; a correction that changes it needs a new check."""
    from ..app import Workspace
    from ..app.reviews import accept_flagged

    set_wait(wait)
    with Workspace(db, create=False) as ws:
        n, flags = accept_flagged(ws, why=why, who=user, campaign_id=campaign, entities=entity, variables=variable,
                                  period=period, every=every)
    console.print(f"[green]accepted[/] {n} flagged value(s) ({len(flags) - n} already accepted): {safe(shown(why, 200))}",
                  soft_wrap=True)
