"""``fintech-eval vendor assessment``: a vendor's capability assessment stored in the database, the same one the
web platform's evaluators fill in the browser (:mod:`fintech_eval.app.vendor_assessments`).

    fintech-eval vendor assessment open V001 --model comprehensive --round 2026
    fintech-eval vendor assessment answers 1 --scores V001.xlsx        # the entry workbook of `rate-template`
    fintech-eval vendor assessment evidence 1 C5.4.1 合规记录.pdf
    fintech-eval vendor assessment show 1 --lang en                    # level, why not the next, the plan
    fintech-eval vendor assessment publish 1
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import Lang, RowFmt, console, emit
from .rounds import DbOpt, UserOpt, _ws

vendor_app = typer.Typer(help="Technology vendors' capability assessments (rated in the database or the browser).",
                         no_args_is_help=True)
assessment_app = typer.Typer(help="A vendor's assessment under one model in one round: answers per indicator, "
                                  "evidence files, the rating, publication.", no_args_is_help=True)
vendor_app.add_typer(assessment_app, name="assessment")

LIST_COLUMNS = ["id", "vendor", "model", "round", "provider_type", "status", "stage", "answered", "evidence", "level", "total",
                "updated_by", "updated_at", "published_at"]
IdArg = Annotated[int, typer.Argument(help="The assessment's id (see `vendor assessment list`).")]


@assessment_app.command("open")
def open_cmd(
    vendor: Annotated[str, typer.Argument(help="The vendor's id in the register.")],
    round_: Annotated[str, typer.Option("--round", help="The round, e.g. 2026.")],
    model: Annotated[str, typer.Option("--model", "-m", help="comprehensive or innovation.")] = "comprehensive",
    framework: Annotated[str, typer.Option("--framework", "-f", help="Capability framework id.")] = "fcsc-2023-default",
    self_assessment: Annotated[bool, typer.Option(
        "--self-assessment", help="Hand it to the vendor: its submitters fill it on the web platform and submit it.")] = False,
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Open a draft assessment of a registered vendor (one per vendor, model and round)."""
    from ..app.vendor_assessments import create_assessment

    with _ws(db, create=False) as ws:
        a = create_assessment(ws, vendor, model=model, round=round_, framework=framework, who=user,
                              self_assessment=self_assessment)
    console.print(f"[green]assessment {a['id']}[/]: {a['vendor']} {a['model']} {a['round']} "
                  f"({'draft, the vendor self-assessment' if self_assessment else 'draft'})")


@assessment_app.command("list")
def list_cmd(
    vendor: Annotated[str | None, typer.Option("--vendor", help="Only this vendor's assessments.")] = None,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """Every assessment: vendor, model, round, status, how many indicators are answered, level once published."""
    from ..app.vendor_assessments import list_assessments

    with _ws(db, create=False) as ws:
        rows = list_assessments(ws, vendors=[vendor] if vendor else None)
    emit(rows, fmt.value, columns=LIST_COLUMNS, safe_csv=True)


def _answers(df) -> list[dict[str, Any]]:
    def cell(v: Any) -> Any:
        return None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else v

    return [{"indicator": str(r["indicator"]).strip(), "step": cell(r.get("step")), "value": cell(r.get("value")),
             "evidence_ref": cell(r.get("evidence_ref")), "note": cell(r.get("comment"))}
            for r in df.to_dict("records") if cell(r.get("indicator")) is not None]


@assessment_app.command("answers")
def answers_cmd(
    assessment: IdArg,
    scores: Annotated[Path, typer.Option("--scores", help="The entry workbook of `rate-template` (.xlsx) or a CSV with indicator, step or value, evidence_ref, comment.")],
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Load answers from a file (all-or-nothing; every problem named with row and indicator, exit 2)."""
    from ..app.vendor_assessments import assessment_summary, save_answers
    from ..capability.loader import load_capability_framework
    from .rate import _read_scores

    with _ws(db, create=False) as ws:
        a = assessment_summary(ws, assessment)
        _, df = _read_scores(scores, load_capability_framework(a["framework"]), a["vendor"], a["provider_type"])
        out = save_answers(ws, assessment, _answers(df), who=user)
    console.print(f"[green]{out['changed']} answer(s) changed[/] in assessment {assessment}")


@assessment_app.command("evidence")
def evidence_cmd(
    assessment: IdArg,
    indicator: Annotated[str, typer.Argument(help="The indicator the file is evidence for, e.g. C5.4.1.")],
    file: Annotated[Path, typer.Argument(help="PDF, PNG, JPEG, XLSX, DOCX, TXT or CSV.")],
    db: DbOpt = None, user: UserOpt = "cli",
) -> None:
    """Keep an evidence file byte for byte (SHA-256; the same bytes twice are stored once)."""
    from ..app.vendor_assessments import add_evidence
    from ..errors import DataError

    if not file.is_file():
        raise DataError(f"file {str(file)!r} does not exist", rule="file.missing", file=str(file))
    with _ws(db, create=False) as ws:
        e = add_evidence(ws, assessment, indicator, file.name, file.read_bytes(), who=user)
    console.print(f"[green]evidence {e['id']}[/] {'stored' if e['stored'] else 'already stored'}: {e['indicator']} "
                  f"{e['size']:,} bytes, sha256 {e['sha256']}")


@assessment_app.command("show")
def show_cmd(
    assessment: IdArg, db: DbOpt = None,
    lang: Annotated[Lang, typer.Option("--lang")] = Lang.zh,
    fmt: Annotated[str, typer.Option("--format", help="table or json (the whole rating).")] = "table",
) -> None:
    """The rating: the level, why not the next one and the smallest improvement plan (live for a draft, as
    published otherwise)."""
    from ..app.vendor_assessments import current_rating

    with _ws(db, create=False) as ws:
        r = current_rating(ws, assessment)
    if fmt == "json":
        sys.stdout.write(json.dumps(r, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    console.print(f"[bold]{r['vendor']}[/] {r['model']} ({r['status']})")
    for line in r["explanation"][lang.value]:
        console.print("  " + line, markup=False, highlight=False)


@assessment_app.command("publish")
def publish_cmd(assessment: IdArg, db: DbOpt = None, user: UserOpt = "cli") -> None:
    """Freeze the rating as the answers give it now and publish it (nothing changes afterwards)."""
    from ..app.vendor_assessments import publish_assessment

    with _ws(db, create=False) as ws:
        r = publish_assessment(ws, assessment, who=user)
    console.print(f"[green]published[/]: level {r['level'] if r['level'] else '< 1'}, total {r['total']:.1f}")
