"""``fintech-eval audit list``: read the platform's audit log (table ``audit_log``: sign-ins, accounts, tokens,
invitations, campaigns, submissions, review steps, runs, vendor assessments), newest first, filtered by who,
what, on what and when. The same application function as ``GET /api/v1/audit``
(:func:`fintech_eval.app.audit.audit_entries`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from .data import DbOpt
from .output import RowFmt, console, emit

audit_app = typer.Typer(help="The platform's audit log (sign-ins, accounts, tokens, invitations, campaigns, "
                             "submissions, review steps, runs): read it, newest first.", no_args_is_help=True)

#: the columns printed, in order
AUDIT_COLUMNS = ("id", "at", "actor", "actor_id", "action", "object", "detail", "ip")


def _row(entry: dict[str, Any], fmt: str) -> dict[str, Any]:
    """One entry for ``emit``: the time as ISO 8601 (UTC, with its offset; to the second in a table); the detail as
    compact JSON text in a table or CSV, as an object in JSON."""
    at = entry["at"]
    detail = entry["detail"]
    if fmt != "json":
        detail = "" if detail is None else json.dumps(detail, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                                                      default=str)
    when = None if at is None else at.isoformat(timespec="seconds" if fmt == "table" else "auto")
    return {**entry, "at": when, "detail": detail}


@audit_app.command("list")
def audit_list_cmd(
    db: DbOpt = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor: an account's e-mail, or cli, anonymous, invitation:ID.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only actions starting with this: review (every review.*), sign_in.failure, user.")] = None,
    obj: Annotated[str | None, typer.Option("--object", help="Only this object, exactly: user:3, return:7, campaign:1, token:2.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this date (YYYY-MM-DD, from the start of the day) or date and time; without a zone, China Standard Time (UTC+8).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this date (YYYY-MM-DD, through the end of the day) or date and time; without a zone, UTC+8.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many entries (the newest).")] = 100,
    fmt: Annotated[RowFmt, typer.Option("--format", help="table, csv or json (one row per entry; times in UTC).")] = RowFmt.table,
) -> None:
    """The audit log, newest first: id, when (UTC), who (and the account id), the action, its object, the detail (JSON) and the client
    address. Filters combine; the table's title says how many entries match in all."""
    from ..app import Workspace
    from ..app.audit import audit_entries, audit_window

    start, end = audit_window(since, until)
    with Workspace(db, create=False) as ws:
        entries, total = audit_entries(ws, actor=actor or None, action_prefix=action or None, object=obj or None,
                                       since=start, until=end, limit=limit)
    rows = [_row(e, fmt.value) for e in entries]
    if fmt is RowFmt.table:
        if not rows:
            console.print("no audit entry matches")
            return
        more = f", the newest {len(rows)} shown (--limit)" if total > len(rows) else ""
        emit(rows, "table", columns=AUDIT_COLUMNS, title=f"audit log: {total} entr{'y' if total == 1 else 'ies'}{more}")
    else:
        emit(rows, fmt.value, columns=AUDIT_COLUMNS, safe_csv=True)
