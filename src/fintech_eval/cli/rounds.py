"""An evaluation round from the shell: ``register``, ``campaign``, ``score``, ``runs``, ``publish``, ``db``.

Thin commands over :mod:`fintech_eval.app` (the use-case functions the web platform calls too): they parse
options, call one function and print what it returns.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import RowFmt, console, emit, err_console, safe

DbOpt = Annotated[str | None, typer.Option("--db", help="SQLite file or database URL (default $FINTECH_EVAL_DB, else ./fintech-eval.sqlite).")]
UserOpt = Annotated[str, typer.Option("--user", help="Who does this (recorded in the audit trail and the run).")]
EntityArg = Annotated[str, typer.Argument(help="The entity's id (a region: its code or name).")]
KindOpt = Annotated[str, typer.Option("--kind", help="institutions, key-tech, vendors or regions")]
FmtOpt = Annotated[RowFmt, typer.Option("--format")]

register_app = typer.Typer(help="Registers of the entities a round evaluates: institutions, key-technology enterprises, "
                                "technology vendors, regions; their size attributes (JR/T 0201 §4).", no_args_is_help=True)
campaign_app = typer.Typer(help="Campaigns: one round of collection (framework, period, deadline, sample) and who has answered.", no_args_is_help=True)
runs_app = typer.Typer(help="Evaluation runs: every scoring of stored data, recorded.", no_args_is_help=True)
db_app = typer.Typer(help="The database: schema migrations.", no_args_is_help=True)


def _ws(db: str | None, create: bool = True):
    from ..app import Workspace

    return Workspace(db, create=create)


def _rows(df) -> list[dict[str, Any]]:
    """A frame's rows as dicts, every missing value (NaN, NaT, NA) as None."""
    from ..app.rows import records

    return records(df)


# --- register -------------------------------------------------------------------------------------------------
@register_app.command("institutions")
def register_institutions(
    file: Annotated[Path, typer.Argument(help="CSV or xlsx: id, name_zh, name_en, sector, subtype, region_code, city_code, credit_code (统一社会信用代码, check character verified), licence_no, status (active/closed; closed ones are not sampled), listed (Chinese headers accepted).")],
    db: DbOpt = None, user: UserOpt = "cli",
    credit_region: Annotated[str, typer.Option("--credit-region", help="A credit code whose registration authority (characters 3-8) is in another province than region_code: warning (default; registered, reported), error (the file is refused) or off. A code issued nationally (100000) is never compared.")] = "warning",
) -> None:
    """Register (create or update) the institutions of a file: all-or-nothing, every change audited."""
    _register(file, "institutions", db, user, credit_region=credit_region)


@register_app.command("vendors")
def register_vendors(
    file: Annotated[Path, typer.Argument(help="CSV or xlsx: id, name_zh, name_en, provider_type.")],
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Register (create or update) technology vendors from a file: all-or-nothing, audited."""
    _register(file, "vendors", db, user)


@register_app.command("key-tech")
def register_key_tech(
    file: Annotated[Path, typer.Argument(help="CSV or xlsx: id, name_zh, name_en, region_code, technologies, listed, status (Chinese headers accepted).")],
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Register (create or update) FinTech key-technology enterprises (金融科技关键技术企业, JR/T 0201 §4, §9.2.2)
    from a file: all-or-nothing, every change audited."""
    _register(file, "key-tech", db, user)


@register_app.command("regions")
def register_regions(
    file: Annotated[Path | None, typer.Argument(help="CSV or xlsx: code (GB/T 2260, or the province's name), name_zh, name_en. "
                                                "Without a file: the 31 mainland provinces of GB/T 2260.")] = None,
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Register the regions of block Q (province codes GB/T 2260, names zh/en): all-or-nothing, audited."""
    if file is not None:
        _register(file, "regions", db, user)
        return
    from ..app.registers import register_standard_regions

    with _ws(db) as ws:
        r = register_standard_regions(ws, who=user)
    console.print(f"[green]registered[/] {r.rows:,} regions from the GB/T 2260 table: {r.inserted:,} new, "
                  f"{r.updated:,} updated, {r.unchanged:,} unchanged")


@register_app.command("sizes")
def register_sizes(
    file: Annotated[Path, typer.Argument(help="CSV or xlsx, long (id, attribute, value, unit[, period][, kind]) or wide "
                                         "(id, operating_revenue, market_share, total_financing, market_value, with the "
                                         "unit in a unit column or the header: 营业收入(亿元)).")],
    period: Annotated[str | None, typer.Option("--period", help="The period of the sizes (when the file has no period column).")] = None,
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Size attributes for §4 sampling (operating revenue, market share, financing, market value) of registered
    institutions and key-technology enterprises, with explicit units (元/万元/亿元, %, …) converted like
    observations: all-or-nothing, audited."""
    from ..app.sizes import import_sizes

    with _ws(db) as ws:
        r = import_sizes(ws, file, period=period, who=user)
    console.print(f"[green]stored[/] {r.rows:,} size value(s) from {safe(file)} for {', '.join(r.periods)}: {r.inserted:,} new, "
                  f"{r.updated:,} updated, {r.unchanged:,} unchanged")


@register_app.command("key-tech-figures")
def register_key_tech_figures(
    period: Annotated[str, typer.Option("--period", help="The period of the figures (the size attributes summed).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the figures, store nothing.")] = False,
    db: DbOpt = None, user: UserOpt = "cli", fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """The Q-A1B2 region figures from the key-tech register: enterprises per region, their financing, the market
    value of the listed ones; imported as region observations (validated, kept, audited) unless --dry-run."""
    from ..app.keytech import key_tech_figures, store_key_tech_figures

    with _ws(db, create=not dry_run) as ws:
        res = key_tech_figures(ws, period) if dry_run else store_key_tech_figures(ws, period, who=user)
    emit(_rows(res.figures), fmt.value, title=f"key-technology enterprise figures for {res.period}")
    say = console if fmt is RowFmt.table else err_console  # a script reading JSON or CSV gets only the data
    for p in res.warnings:
        say.print(f"[yellow]warning[/]: {safe(p)}", highlight=False)
    if res.stored is not None:
        say.print(f"[green]stored[/] {res.stored.stored_rows:,} region value(s)"
                      + (" (the same figures were stored before)" if res.stored.unchanged_submissions else ""))


def _register(file: Path, kind: str, db: str | None, user: str, **kw: Any) -> None:
    from ..app.registers import register_file

    with _ws(db) as ws:
        r = register_file(ws, file, kind, who=user, **kw)
    console.print(f"[green]registered[/] {r.rows:,} {kind} from {safe(file)}: {r.inserted:,} new, {r.updated:,} updated, "
                  f"{r.unchanged:,} unchanged")
    for w in r.warnings:
        console.print(f"  [yellow]warning[/]: {safe(str(w))}", soft_wrap=True)


@register_app.command("list")
def register_list(
    kind: Annotated[str, typer.Argument(help="institutions, key-tech, vendors, regions or sizes")] = "institutions",
    period: Annotated[str | None, typer.Option("--period", help="sizes: only this period.")] = None,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """List a register (or the stored size attributes)."""
    from ..app.registers import register_frame
    from ..app.sizes import sizes_frame

    with _ws(db, create=False) as ws:
        df = sizes_frame(ws, period=period) if kind.strip().lower() == "sizes" else register_frame(ws, kind)
    emit(_rows(df), fmt.value, title=f"{kind} ({len(df):,})")


@register_app.command("show")
def register_show(
    entity: EntityArg, kind: KindOpt = "institutions", db: DbOpt = None, fmt: FmtOpt = RowFmt.table,
) -> None:
    """Show one registered entity (with its size attributes, for institutions and key-technology enterprises)."""
    from ..app.registers import register_entry
    from ..app.sizes import entity_sizes

    with _ws(db, create=False) as ws:
        rec = register_entry(ws, kind, entity)
        sizes = entity_sizes(ws, kind, str(rec.get("id", "")))
    if fmt is RowFmt.json:
        sys.stdout.write(json.dumps({**rec, "sizes": _rows(sizes)}, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if fmt is RowFmt.csv:
        emit([rec], "csv")
        return
    emit([{"field": k, "value": v} for k, v in rec.items()], "table", title=entity)
    if len(sizes):
        emit(_rows(sizes), "table", title="size attributes")


@register_app.command("history")
def register_history_cmd(
    entity: EntityArg, kind: KindOpt = "institutions", db: DbOpt = None, fmt: FmtOpt = RowFmt.table,
) -> None:
    """Every change of a registered entity and of its size attributes: when, who, old → new, why."""
    from ..app.registers import register_history

    with _ws(db, create=False) as ws:
        df = register_history(ws, kind, entity)
    emit(_rows(df.assign(row=df["row"].map(lambda r: "/".join(map(str, r))))), fmt.value, title=f"history of {entity}")


# --- campaign -------------------------------------------------------------------------------------------------
@campaign_app.command("create")
def campaign_create(
    period: Annotated[str, typer.Option("--period", help="The period asked, e.g. 2024.")],
    framework: Annotated[str, typer.Option("--framework")] = "jrt0201-2020",
    sample: Annotated[Path | None, typer.Option("--sample", help="The entities asked: `fintech-eval sample`'s CSV, or any CSV/xlsx with an entity_id column (default: the whole register).")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="YYYY-MM-DD (end of that day, UTC+8) or an ISO date and time.")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="An open parameter of the framework for this round, e.g. --param w_users_personal=0.7 (pairs together).")] = None,
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Create a campaign: who is asked for what, by when."""
    from ..app.campaigns import create_campaign

    params = _params(param)
    with _ws(db) as ws:
        cid = create_campaign(ws, period=period, framework=framework, sample=sample, deadline=deadline, name=name,
                              params=params, who=user)
    console.print(f"[green]campaign {cid}[/] created for {safe(period)}" + (f", deadline {safe(deadline)}" if deadline else ""))


def _params(items: list[str] | None) -> dict[str, float] | None:
    from ..errors import DataError

    out: dict[str, float] = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        try:
            out[k.strip()] = float(v)
        except ValueError:
            sep = ""
        if not sep:
            raise DataError(f"--param {item!r}: expected name=number", rule="param.syntax")
    return out or None


@campaign_app.command("list")
def campaign_list(db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table) -> None:
    """List the campaigns."""
    from ..app.campaigns import campaigns_frame

    with _ws(db, create=False) as ws:
        df = campaigns_frame(ws)
    emit(_rows(df), fmt.value, title="campaigns")


@campaign_app.command("templates")
def campaign_templates_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the workbooks and their index.csv.")] = Path("questionnaires"),
    campaign: Annotated[int | None, typer.Option("--campaign", help="Campaign id (may be omitted when there is one).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace questionnaires already in --out (they may hold answers).")] = False,
    db: DbOpt = None,
) -> None:
    """One questionnaire workbook per entity of the campaign's sample (prefilled with its code, names, sector,
    region and the period; only the variables its sector answers), and index.csv listing them."""
    from ..app.templates import campaign_templates
    from .data import _templates_written, template_bar

    with _ws(db, create=False) as ws, template_bar() as progress:
        batch = campaign_templates(ws, campaign, out=out, force=force, progress=progress)
    _templates_written(batch)


STATUS_COLUMNS = ["entity_id", "name_zh", "sector", "region_code", "status", "received_at", "answered", "applicable",
                  "completeness", "flagged", "flags_accepted", "accepted", "review_state"]


@campaign_app.command("status")
def campaign_status_cmd(
    campaign: Annotated[int | None, typer.Option("--campaign", help="Campaign id (may be omitted when there is one).")] = None,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
    rates_only: Annotated[bool, typer.Option("--rates", help="Only the reporting and on-time rates.")] = False,
) -> None:
    """Per entity of the sample: returned or not, when (on time / late), how complete, accepted; then the
    reporting and on-time rates overall, by sector and by province."""
    from ..app.campaigns import campaign_status

    with _ws(db, create=False) as ws:
        st = campaign_status(ws, campaign)
    ent = st.entities.assign(completeness=st.entities["completeness"].round(3))
    rates = st.rates.assign(reporting_rate=st.rates["reporting_rate"].round(3), on_time_rate=st.rates["on_time_rate"].round(3))
    if fmt is RowFmt.json:
        sys.stdout.write(json.dumps({"campaign": st.campaign, "rates": _rows(rates), **({} if rates_only else {"entities": _rows(ent[STATUS_COLUMNS])}),
                                     "warnings": [p.as_dict() for p in st.warnings]}, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if fmt is RowFmt.csv:
        emit(_rows(rates if rates_only else ent[STATUS_COLUMNS]), "csv")
        return
    c = st.campaign
    if not rates_only:
        emit(_rows(ent[STATUS_COLUMNS]), "table", title=f"campaign {c['id']}: {c['name']} (period {c['period']}, deadline {c['deadline'] or 'none'})")
    emit(_rows(rates), "table", title="reporting rates")
    for p in st.warnings:
        console.print(f"[yellow]warning[/]: {safe(p)}", highlight=False)


@campaign_app.command("missing")
def campaign_missing_cmd(
    campaign: Annotated[int | None, typer.Option("--campaign", help="Campaign id (may be omitted when there is one).")] = None,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """Who to chase: the entities of the sample that have sent nothing."""
    from ..app.campaigns import campaign_status, missing_entities

    with _ws(db, create=False) as ws:
        df = missing_entities(campaign_status(ws, campaign))
    emit(_rows(df), fmt.value, title=f"no return yet ({len(df):,})")


CampaignOpt = Annotated[int, typer.Option("--campaign", help="Campaign id.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who does this (recorded in the audit log).")]


@campaign_app.command("assign")
def campaign_assign_cmd(
    campaign: CampaignOpt,
    user: Annotated[str, typer.Option("--user", help="The evaluator's e-mail (an account of the web platform).")],
    db: DbOpt = None, by: ByOpt = "cli",
) -> None:
    """Assign an evaluator to a campaign: in the web platform it sees and manages that campaign (administrators
    see every one). Audited."""
    from ..app.campaign_staff import assign_staff

    with _ws(db) as ws:
        added = assign_staff(ws, campaign, user, who=by)
    console.print(f"{safe(user)} {'assigned to' if added else 'was already assigned to'} campaign {campaign}")


@campaign_app.command("unassign")
def campaign_unassign_cmd(
    campaign: CampaignOpt,
    user: Annotated[str, typer.Option("--user", help="The evaluator's e-mail.")],
    db: DbOpt = None, by: ByOpt = "cli",
) -> None:
    """Remove an evaluator from a campaign (it no longer sees it). Audited."""
    from ..app.campaign_staff import unassign_staff

    with _ws(db) as ws:
        unassign_staff(ws, campaign, user, who=by)
    console.print(f"{safe(user)} removed from campaign {campaign}")


@campaign_app.command("staff")
def campaign_staff_cmd(campaign: CampaignOpt, db: DbOpt = None, fmt: FmtOpt = RowFmt.table) -> None:
    """The evaluators assigned to a campaign."""
    from ..app.campaign_staff import campaign_staff

    with _ws(db, create=False) as ws:
        rows = [{"user_id": m.user_id, "email": m.email, "role": m.role, "added_by": m.added_by,
                 "added_at": m.added_at.isoformat(timespec="seconds")} for m in campaign_staff(ws, campaign)]
    emit(rows, fmt.value, title=f"campaign {campaign}: staff")


@campaign_app.command("invite")
def campaign_invite_cmd(
    campaign: CampaignOpt,
    file: Annotated[Path, typer.Argument(help="CSV or xlsx with entity_id and email columns: one row per institution and address.")],
    days: Annotated[int, typer.Option("--days", min=1, max=90, help="Days the links stay valid.")] = 14,
    db: DbOpt = None, by: ByOpt = "cli", fmt: FmtOpt = RowFmt.table,
) -> None:
    """Invite the submitters of sampled institutions: one link per e-mail (bound to its institutions), all or
    nothing. Prints each link's path (/invitations/accept?token=…): send it to the person; it is shown once."""
    from ..app.campaign_invitations import invite_sample
    from ..app.registers import read_table
    from ..errors import DataError

    df = read_table(file, "campaign.invite")
    if not {"entity_id", "email"} <= set(df.columns):
        raise DataError(f"the file needs entity_id and email columns; it has {', '.join(map(str, df.columns))}",
                        rule="campaign.invite", file=str(file))
    with _ws(db) as ws:
        made = invite_sample(ws, campaign, zip(df["entity_id"].astype(str), df["email"].astype(str), strict=True),
                             days=days, who=by)
    emit([{"invitation": i.id, "email": i.email, "entities": " ".join(e for _, e in i.entities),
           "expires_at": i.expires_at.isoformat(timespec="seconds"), "link": f"/invitations/accept?token={secret}"}
          for i, secret in made], fmt.value, title=f"{len(made)} invitation(s): send each link once")


@campaign_app.command("update")
def campaign_update_cmd(
    campaign: CampaignOpt,
    deadline: Annotated[str | None, typer.Option("--deadline", help="YYYY-MM-DD (end of that day, UTC+8), an ISO date and time, or 'none'.")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    db: DbOpt = None, by: ByOpt = "cli",
) -> None:
    """Change a campaign's deadline or name (audited, old and new)."""
    from ..app.campaigns import update_campaign

    kw: dict[str, Any] = {} if deadline is None else {"deadline": None if deadline.lower() == "none" else deadline}
    with _ws(db) as ws:
        changed = update_campaign(ws, campaign, name=name, who=by, **kw)
    console.print("; ".join(f"{k}: {safe(a)} → {safe(b)}" for k, (a, b) in changed.items()) or "nothing changed")


# --- score, runs, publish -------------------------------------------------------------------------------------
def score_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the run's results (each run writes OUT/run-<id>/).")] = Path("runs"),
    campaign: Annotated[int | None, typer.Option("--campaign", help="Score this campaign's period and parameters (may be omitted when there is one).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Score a period without a campaign.")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="A spec with data.source store (default: the default spec of each block J, H, Q).")] = None,
    block: Annotated[list[str] | None, typer.Option("--block", "-b", help="Score only this block: J, H or Q (repeatable; default: every block with data, or the spec's).")] = None,
    outside_sample: Annotated[bool, typer.Option("--outside-sample", help="Also score institutions outside the campaign's sample (returns from outside it, reference data such as the listed banks' disclosures); default: the sample only.")] = False,
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Score the stored data (through the engine's store source, the period derived once for every block) and
    record the evaluation run. Runs here, in this process (the web queues the same scoring as a background job).
    A campaign's run scores its sample's institutions only, unless --outside-sample."""
    from ..app.runs import score

    with _ws(db, create=False) as ws, console.status("scoring…") as status:
        info = score(ws, out=out, campaign_id=campaign, period=period, spec=spec, blocks=tuple(block) if block else None,
                     who=user, progress=lambda t: status.update(t), outside_sample=outside_sample)
    n_warn = sum(len(v) for v in info["warnings"].values())
    console.print(f"[green]run {info['id']}[/]: {', '.join(info['blocks'])} for {info['period']} in {safe(info['out_dir'])} ({n_warn} warning(s)); "
                  f"publish it with `fintech-eval publish {info['id']}`")


@runs_app.command("list")
def runs_list(db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table) -> None:
    """List the evaluation runs."""
    from ..app.runs import runs_frame

    with _ws(db, create=False) as ws:
        df = runs_frame(ws)
    emit(_rows(df), fmt.value, title="evaluation runs")


@runs_app.command("show")
def runs_show(run: Annotated[int, typer.Argument(help="Run id.")], db: DbOpt = None,
              fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table) -> None:
    """Show one run: spec, inputs' fingerprints, versions, who, when, warnings."""
    from ..app.runs import run_info

    with _ws(db, create=False) as ws:
        info = run_info(ws, run)
    if fmt is RowFmt.json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    head = {k: v for k, v in info.items() if k not in ("specs", "inputs", "warnings", "scores_sha256")}
    emit([{"field": k, "value": v} for k, v in head.items()], fmt.value, title=f"run {run}")
    warn = [{"block": b, **w} for b, ws_ in info["warnings"].items() for w in ws_]
    if warn and fmt is RowFmt.table:
        emit([{"block": w["block"], "rule": w.get("rule"), "message": w.get("message")} for w in warn], "table", title="warnings")


def publish_cmd(
    run: Annotated[int, typer.Argument(help="Run id (see `fintech-eval runs list`).")],
    lang: Annotated[str, typer.Option("--lang", help="Language of the reports: zh or en.")] = "zh",
    no_reports: Annotated[bool, typer.Option("--no-reports", help="Mark published without writing the reports.")] = False,
    peers: Annotated[str, typer.Option("--peers", help="What an institution's submitter sees of its peers on the web: distribution (anonymised quartiles and histogram), ranking (named) or none.")] = "distribution",
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Publish a run: the one that reports (and the web) show; writes its reports beside its results. Audited."""
    from ..app.runs import publish

    with _ws(db, create=False) as ws, console.status("publishing…") as status:
        info = publish(ws, run, who=user, reports=not no_reports, lang=lang, progress=lambda t: status.update(t),
                       peer_visibility=peers)
    console.print(f"[green]run {run} published[/]; {len(info['reports'])} report(s) in {safe(Path(info['out_dir']) / 'reports')}")


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create the database or upgrade its schema to this version's (run after installing a new version)."""
    from ..app.workspace import upgrade_database

    up = upgrade_database(db)
    console.print(f"database {safe(up.url)}: schema {up.before or 'none'} → {up.after}")


def derive_cmd(
    campaign: Annotated[int | None, typer.Option("--campaign", help="Derive this campaign's period with its parameters (may be omitted when there is one).")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Derive a period without a campaign.")] = None,
    framework: Annotated[str, typer.Option("--framework")] = "jrt0201-2020",
    param: Annotated[list[str] | None, typer.Option("--param", help="An open parameter, e.g. --param w_users_personal=0.7 --param w_users_corporate=0.3.")] = None,
    db: DbOpt = None,
) -> None:
    """Compute J, roll up H and Q, and store every value with its status, reason, framework version,
    parameters and a fingerprint of its inputs (`fintech-eval indicators --stored` says which are stale)."""
    from ..app.derived import derive_and_store

    with _ws(db, create=False) as ws, console.status("deriving…"):
        rep = derive_and_store(ws, campaign_id=campaign, period=period, framework=framework, params=_params(param))
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(rep.by_status.items()))
    console.print(f"[green]stored[/] {rep.stored:,} derived value(s) for {rep.period} ({rep.framework} {rep.framework_version}; {counts})")
