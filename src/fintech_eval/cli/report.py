"""``fintech-eval report``: reports people read (scorecard, ranking, region, industry) from a saved result.

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
    entity: Annotated[str | None, typer.Option("--entity", "-e", help="The unit of a scorecard: its code or name.")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of labels, titles and explanations.")] = Lang.zh,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="html (self-contained, interactive), pdf or xlsx.")] = Fmt.html,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the report files to.")] = Path("reports"),
    with_dir: Annotated[Path | None, typer.Option("--with", help="The block-J result of the same period (industry report: the sector's institutions).")] = None,
) -> None:
    """Render reports of a saved evaluation result: one file per kind, named KIND[-ENTITY].LANG.FORMAT."""
    from ..report import build_report, load_result, write
    from ..report.kinds import REPORT_KINDS

    lang_s, fmt_s = Lang(lang).value, Fmt(fmt).value
    result = load_result(result_dir)
    institutions = load_result(with_dir) if with_dir is not None else None
    if kind == "all":
        kinds = [k.name for k in REPORT_KINDS
                 if k.meta.get("input", "result") == "result" and (not k.meta.get("needs_entity") or entity)]
    else:
        REPORT_KINDS.entry(kind)  # unknown kind: a SpecError listing the choices
        kinds = [kind]
    written: list[Path] = []
    skipped: list[str] = []
    with console.status(f"rendering {', '.join(kinds)} ({lang_s}, {fmt_s})…"):
        for k in kinds:
            try:
                report = build_report(result, k, entity=entity, lang=lang_s, institutions=institutions)
            except DataError as exc:
                if kind != "all" or not any(p.rule in ("report.region", "report.industry") for p in exc.problems):
                    raise
                skipped.append(f"{k}: {exc.problems[0].message}")  # e.g. region for a result whose units are not provinces
                continue
            stem = k if report.meta.get("entity") is None else f"{k}-{_safe(str(report.meta['entity']))}"
            written.append(write(report, fmt_s, out / f"{stem}.{lang_s}.{fmt_s}"))
    for p in written:
        console.print(f"[green]wrote[/] {p}")
    for s in skipped:
        console.print(f"[yellow]skipped[/] {s}")
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
