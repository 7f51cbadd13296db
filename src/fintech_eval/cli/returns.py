"""``fintech-eval returns``: submit an entity's return for a campaign, list and show returns with their history,
and review them (return with comments per field, accept, reject, reopen).

Thin commands over :mod:`fintech_eval.app.submissions` (the functions the web platform calls too).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .data import MsgLangOpt
from .output import Lang, RowFmt, console, emit, err_console, print_problems, problems_in, safe
from .rounds import DbOpt, _rows, _ws

app = typer.Typer(help="Returns: an entity's answers for a campaign, submitted, reviewed (returned with comments, "
                       "accepted, rejected) with their history.", no_args_is_help=True)

UserOpt = Annotated[str, typer.Option("--user", help="Who does this (recorded in the history and the audit trail).")]
CampaignOpt = Annotated[int | None, typer.Option("--campaign", help="Campaign id (may be omitted when there is one).")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="A note for the history (the reason, for reject and reopen).")]

LIST_COLUMNS = ["id", "campaign_id", "period", "entity_id", "state", "version", "reviewed_version", "submitted_at",
                "updated_by", "updated_at", "answered", "errors", "warnings", "flagged"]
#: the narrower table a terminal shows (csv and json have every column)
TABLE_COLUMNS = ["id", "entity_id", "state", "version", "submitted_at", "updated_by", "answered", "errors", "flagged"]
TABLE_FIELDS = ["variable", "raw", "unit", "value_norm", "unit_norm", "status", "notes"]
FIELD_COLUMNS = ["variable", "raw", "value", "unit", "value_norm", "unit_norm", "status", "flag_reason", "problems"]
HISTORY_COLUMNS = ["at", "who", "action", "from_state", "to_state", "version", "comments", "note", "changes"]


@app.command("submit")
def submit_cmd(
    file: Annotated[Path, typer.Argument(help="The return: the questionnaire workbook of `fintech-eval template`, a CSV, or JSON (a mapping variable → value or → {value, unit}, or the import's records).")],
    entity: Annotated[str, typer.Option("--entity", help="The entity whose return this is (its code in the register).")],
    campaign: CampaignOpt = None,
    period: Annotated[str | None, typer.Option("--period", help="Without a campaign: the period (with --framework).")] = None,
    framework: Annotated[str | None, typer.Option("--framework", help="Without a campaign: the framework.")] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Save as a draft only (not for review).")] = False,
    key: Annotated[str | None, typer.Option("--idempotency-key", help="A key of yours for this request: a retry with the same key stores once.")] = None,
    db: DbOpt = None, user: UserOpt = "cli",
    fmt: Annotated[RowFmt, typer.Option("--format", help="table (a summary and the problems) or json (the whole result).")] = RowFmt.table,
    lang: MsgLangOpt = Lang.en,
) -> None:
    """Submit a return. A valid one goes to review; one with errors is kept as a draft (everything as sent) and its
    problems are listed with file, row, field and rule (exit 2); `--lang zh`: the messages in Chinese."""
    from ..app.submissions import submit
    from ..errors import DataError

    with problems_in(lang.value):
        if not file.is_file():
            raise DataError(f"file {str(file)!r} does not exist", rule="file.missing", file=str(file),
                            zh=f"文件 {str(file)!r} 不存在")
        with _ws(db, create=False) as ws:
            r = submit(ws, entity, campaign, file.read_bytes(), actor=user, idempotency_key=key, file_name=file.name,
                       final=not draft, framework=framework, period=period)
    if fmt is RowFmt.json:
        sys.stdout.write(json.dumps(r.as_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        what = ("submitted for review" if r.submitted else "kept as a draft") + (" (a retry: the first result)" if r.replayed else "")
        console.print(f"[{'green' if r.submitted else 'yellow'}]return {r.return_id}[/] version {r.version}: {what}; "
                      f"state {r.state}; {len(r.errors)} error(s), {len(r.warnings)} warning(s), {len(r.flagged)} flagged value(s)")
        for f in r.flagged:
            console.print(f"[yellow]flagged[/] {safe(f['variable'])}: {safe(f['reason'])}", highlight=False)
        if r.problems:
            err_console.print(f"共 {len(r.problems)} 个问题：" if lang is Lang.zh else f"{len(r.problems)} problem(s):")
            print_problems(r.problems, lang.value)
    if not r.valid and not draft:
        raise typer.Exit(2)


@app.command("list")
def list_cmd(
    campaign: Annotated[int | None, typer.Option("--campaign", help="Only this campaign's returns.")] = None,
    state: Annotated[list[str] | None, typer.Option("--state", help="Only returns in this state (repeatable): draft, submitted, returned, resubmitted, accepted, rejected.")] = None,
    entity: Annotated[list[str] | None, typer.Option("--entity", help="Only this entity's returns (repeatable).")] = None,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """List the returns: state, versions, when submitted, who changed them last, errors, warnings, flagged values."""
    from ..app.submissions import returns_list

    with _ws(db, create=False) as ws:
        df = returns_list(ws, campaign, state=state, entity=entity)
    if fmt is RowFmt.table:
        emit(_rows(_short_times(df[TABLE_COLUMNS])), "table", title=f"returns ({len(df):,})")
        return
    emit(_rows(df[LIST_COLUMNS]), fmt.value, title=f"returns ({len(df):,})")


def _short_times(df: Any) -> Any:
    """Times to the second, in UTC, for a table."""
    import pandas as pd

    out = df.copy()
    for c in out.columns:
        if c.endswith("_at") or c == "at":
            out[c] = pd.to_datetime(out[c], utc=True).dt.strftime("%Y-%m-%d %H:%M:%S")
    return out


@app.command("show")
def show_cmd(
    return_id: Annotated[int, typer.Argument(help="Return id (see `fintech-eval returns list`).")],
    version: Annotated[int | None, typer.Option("--version", help="Show this version's fields (default: the one under review, else the newest).")] = None,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format", help="table or json (csv: the fields).")] = RowFmt.table,
    lang: MsgLangOpt = Lang.en,
) -> None:
    """Show a return: its state, the fields with their problems and flags, the open comments, its versions and
    its whole history (who, when, from and to which state, comments, the values changed); `--lang zh`: the
    problems' messages in Chinese (json has both: message, message_zh)."""
    from ..app.submissions import return_detail

    with _ws(db, create=False) as ws:
        d = return_detail(ws, return_id, version=version, lang=lang.value)
    if fmt is RowFmt.json:
        sys.stdout.write(json.dumps({"return": d.summary, "allowed": d.allowed, "comments": d.comments, "flagged": d.flagged,
                                     "problems": [p.as_dict() for p in d.problems], "fields": _rows(d.fields[FIELD_COLUMNS]),
                                     "versions": _rows(d.versions), "history": _rows(d.history[HISTORY_COLUMNS])},
                                    ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if fmt is RowFmt.csv:
        emit(_rows(d.fields[FIELD_COLUMNS]), "csv", safe_csv=True)
        return
    s = d.summary
    emit([{"field": k, "value": str(s[k])[:19] if k.endswith("_at") and s[k] is not None else s[k]}
          for k in ("id", "campaign_id", "period", "entity_id", "state", "version",
                                                "reviewed_version", "submitted_at", "updated_by", "updated_at")]
         + [{"field": "next", "value": ", ".join(d.allowed) or "-"}], "table", title=f"return {return_id}")
    fields = d.fields.assign(notes=[
        "; ".join([*([f"flagged: {r}"] if isinstance(r, str) and r else []), *p])
        for r, p in zip(d.fields["flag_reason"], d.fields["problems"], strict=True)])
    emit(_rows(fields[TABLE_FIELDS]), "table", title=f"fields of version {s['reviewed_version'] or s['version']}")
    if d.comments:
        emit([{"field": k, "comment": v} for k, v in d.comments.items()], "table", title="evaluator's comments")
    emit(_rows(_short_times(d.versions.drop(columns=["sha256"]))), "table", title="versions")
    emit([{**r, "comments": _text(r["comments"]), "changes": _text(r["changes"])}
          for r in _rows(_short_times(d.history[HISTORY_COLUMNS]))], "table", title="history")


def _text(d: Any) -> str | None:
    if not d:
        return None
    return "; ".join(f"{k}: {v['old']} → {v['new']}" if isinstance(v, dict) else f"{k}: {v}" for k, v in d.items())


@app.command("payload")
def payload_cmd(
    return_id: Annotated[int, typer.Argument(help="Return id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the payload to this file (an existing file only with --force).")],
    version: Annotated[int | None, typer.Option("--version", help="That version (default: the newest).")] = None,
    force: Annotated[bool, typer.Option("--force")] = False,
    db: DbOpt = None,
) -> None:
    """Write a version of a return byte for byte as it was received."""
    from ..app.submissions import return_payload
    from ..errors import DataError

    with _ws(db, create=False) as ws:
        data, media_type, name = return_payload(ws, return_id, version)
    if out.exists() and not force:
        raise DataError(f"{out} exists: give --force to replace it", rule="output.exists", file=str(out))
    out.write_bytes(data)
    console.print(f"wrote {safe(out)}: {len(data):,} bytes ({safe(media_type)}, received as {safe(name)})")


def _comments(items: list[str] | None) -> dict[str, str]:
    from ..errors import DataError, Problem

    out: dict[str, str] = {}
    bad = []
    for item in items or []:
        k, sep, v = item.partition("=")
        if not sep:
            bad.append(Problem("review.comment", f"--comment {item!r}: expected FIELD=TEXT (FIELD * for the whole return)",
                               {"field": item}))
        out[k.strip()] = v
    if bad:
        raise DataError(bad)
    return out


def _done(results: list[Any], verb: str) -> None:
    for r in results:
        extra = f", {r.stored_rows:,} value(s) stored" if verb == "accepted" else (f" ({verb})" if verb.startswith("would") else "")
        console.print(f"[green]return {r.return_id}[/] ({safe(r.entity_id)}): {r.from_state} → {r.state}{extra}")
        for p in r.warnings:
            console.print(f"[yellow]warning[/]: {safe(p)}", highlight=False)


@app.command("return")
def return_cmd(
    return_id: Annotated[int, typer.Argument(help="Return id.")],
    comment: Annotated[list[str] | None, typer.Option("--comment", help="FIELD=TEXT: what to change in that field (repeatable; FIELD * for the whole return).")] = None,
    note: NoteOpt = None, db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Send a submitted return back to its submitter with comments per field."""
    from ..app.submissions import return_for_changes

    with _ws(db, create=False) as ws:
        r = return_for_changes(ws, return_id, _comments(comment), actor=user, note=note)
    _done([r], "returned")


@app.command("accept")
def accept_cmd(
    return_ids: Annotated[list[int] | None, typer.Argument(help="Return ids.")] = None,
    all_submitted: Annotated[bool, typer.Option("--all-submitted", help="Every return of the campaign waiting for review.")] = False,
    campaign: CampaignOpt = None, note: NoteOpt = None, db: DbOpt = None, user: UserOpt = "cli",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate them together and list the flagged values (outliers among them) and any error; store nothing.")] = False,
) -> None:
    """Accept returns (all-or-nothing): their values are validated again together (outliers among them flagged
    with the reason) and stored as observations through the import path, audited, so that `derive` and `score` read them."""
    from ..app.submissions import accept, accept_submitted

    if bool(return_ids) == all_submitted:
        raise typer.BadParameter("give return ids or --all-submitted (not both)", param_hint="RETURN_IDS")
    with _ws(db, create=False) as ws:
        done = (accept_submitted(ws, campaign, actor=user, note=note, dry_run=dry_run) if all_submitted
                else accept(ws, return_ids or [], actor=user, note=note, dry_run=dry_run))
    if not done:
        console.print("no return is waiting for review")
    if dry_run:
        console.print(f"[yellow]dry run[/]: {len(done)} return(s) would be accepted; nothing stored")
    _done(done, "would be accepted" if dry_run else "accepted")


def _noted(action: str, return_id: int, note: str, db: str | None, user: str) -> None:
    from ..app import submissions

    with _ws(db, create=False) as ws:
        r = getattr(submissions, action)(ws, return_id, actor=user, note=note)
    _done([r], action)


@app.command("reject")
def reject_cmd(
    return_id: Annotated[int, typer.Argument(help="Return id.")],
    note: Annotated[str, typer.Option("--note", help="Why the return is refused as a whole.")],
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Refuse a submitted return as a whole (e.g. another institution's data), with the reason."""
    _noted("reject", return_id, note, db, user)


@app.command("reopen")
def reopen_cmd(
    return_id: Annotated[int, typer.Argument(help="Return id.")],
    note: Annotated[str, typer.Option("--note", help="Why the return goes back for changes.")],
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Send an accepted or rejected return back for changes (its accepted values stay stored until a new version is accepted)."""
    _noted("reopen", return_id, note, db, user)
