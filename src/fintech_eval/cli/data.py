"""``fintech-eval import / indicators / template``: the data layer from the shell."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..catalog import load_framework
from ..collect import write_templates
from ..errors import DataError
from ..service import derive_from_db, import_paths, import_public_banks
from ..store import init_db, institutions_frame, session_factory
from .output import console, emit

DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite file (default $FINTECH_EVAL_DB, else ./fintech-eval.sqlite); postgresql+psycopg://… works the same.")]
FwOpt = Annotated[str, typer.Option("--framework", "-f", help="Framework id or YAML path.")]


class OutFmt(StrEnum):
    csv = "csv"
    json = "json"


def import_cmd(
    files: Annotated[list[Path] | None, typer.Argument(help="Questionnaire workbooks, long/wide CSV, JSON.")] = None,
    db: DbOpt = None,
    framework: FwOpt = "jrt0201-2020",
    public_banks: Annotated[bool, typer.Option("--public-banks", help="Import the shipped bank disclosures (banks_disclosed.csv).")] = False,
    user: Annotated[str, typer.Option("--user", help="Who submits (recorded with every change).")] = "cli",
    encoding: Annotated[str | None, typer.Option("--encoding", help="Text encoding of CSV/JSON files, e.g. gb18030.")] = None,
) -> None:
    """Import files all-or-nothing: every problem of every file is listed and nothing is stored if any is an error (exit 2)."""
    if not files and not public_banks:
        raise typer.BadParameter("give FILES or --public-banks")
    if public_banks:
        pb, r = import_public_banks(db, framework, user=user)
        n_diff = int((pb.ratios["status"] == "differs").sum()) if "status" in pb.ratios else 0
        console.print(f"public bank disclosures: {len(pb.observations)} observations, {'stored' if r.is_new else 'already stored (unchanged)'}; "
                      f"{len(pb.conflicts)} CONFLICT rows surfaced, {n_diff} disclosed ratios differ from the recomputed ones")
    if files:
        rep = import_paths(db, files, framework, user=user, encoding=encoding)
        console.print(f"[green]imported[/] {len(rep.files)} file(s): {rep.stored_rows} observations stored, "
                      f"{rep.new_submissions} new submission(s), {rep.unchanged_submissions} unchanged (same bytes as before)")
        for w in rep.warnings[:50]:
            console.print(f"  [yellow]warning[/]: {w}", soft_wrap=True)


def indicators_cmd(
    db: DbOpt = None,
    framework: FwOpt = "jrt0201-2020",
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    block: Annotated[str | None, typer.Option("--block", "-b", help="J, H or Q.")] = None,
    fmt: Annotated[OutFmt, typer.Option("--format")] = OutFmt.csv,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """The derived J/H/Q indicator values (long format: block, entity, period, code, value, status, reason)."""
    panel = derive_from_db(db, framework, period=period)
    if block:
        panel = panel[panel["block"].astype(str) == block]
    panel = panel.rename(columns={"entity_id": "entity"})
    for c in ("block", "code", "status", "reason"):
        panel[c] = panel[c].astype(str)
    if fmt is OutFmt.json:
        text = json.dumps(json.loads(panel.to_json(orient="records", force_ascii=False)), ensure_ascii=False, indent=1)
    else:
        text = panel.to_csv(index=False)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {len(panel)} values to {out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def template_cmd(
    period: Annotated[str, typer.Option("--period", help="Reporting period, e.g. 2024.")],
    entity: Annotated[list[str] | None, typer.Option("--entity", "-e", help="Institution id (repeatable); default: every institution in the database.")] = None,
    framework: FwOpt = "jrt0201-2020",
    db: DbOpt = None,
    sample: Annotated[Path | None, typer.Option("--sample", help="A sample CSV (from `fintech-eval sample`): one questionnaire per sampled institution.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("questionnaires"),
) -> None:
    """Write questionnaire workbooks: exactly the variables that apply to each institution's sector."""
    fw = load_framework(framework)
    with session_factory(init_db(db))() as s:
        inst = institutions_frame(s)
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
    console.print(f"wrote {len(paths)} questionnaire(s) to {out}")
    emit([{"file": str(p)} for p in paths[:20]], "table")
