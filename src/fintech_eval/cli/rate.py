"""``fintech-eval rate``: rate a FinTech vendor's service capability (and write its entry workbook).

    fintech-eval rate --vendor V001 --scores V001.xlsx                      # comprehensive model
    fintech-eval rate --vendor V001 --scores scores.csv -p consulting --model both --out V001.html --lang en
    fintech-eval rate-template --vendor V001 -p product --out V001.xlsx     # the entry workbook to fill

Scores come from the entry workbook (its vendor and provider type are read from it) or a CSV with
columns indicator, step or value, evidence_ref, reviewer, date, comment (then ``--provider-type`` is
needed). The rating of every model is computed on the same evidence; the report (``--out x.html``) shows
them side by side, ``--out x.pdf`` / ``x.xlsx`` writes the same report through :mod:`fintech_eval.report`
(kind ``vendor``), ``--out x.json`` writes them as JSON.
"""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import DataError
from .output import Lang, console, emit

if TYPE_CHECKING:  # the capability package (pydantic models, YAML, workbooks) is imported by the commands
    import pandas as pd

    from ..capability.rating import Rating, Vendor

#: the shipped capability framework (``capability.loader.DEFAULT_FRAMEWORK``; kept here so that ``--help``
#: does not load the capability package; tests/cli/test_startup.py checks they agree)
DEFAULT_FRAMEWORK = "fcsc-2023-default"


class Fmt(StrEnum):
    table = "table"
    json = "json"


def _read_scores(path: Path, fw, vendor: str, provider_type: str | None) -> tuple[Vendor, pd.DataFrame]:
    import pandas as pd

    from ..capability.rating import Vendor
    from ..capability.workbook import read_workbook

    if not path.exists():
        raise DataError(f"no such file: {path}", rule="scores.file", file=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        wbe = read_workbook(path, fw)
        if vendor and wbe.vendor.id != vendor:
            raise DataError(f"the workbook is for vendor {wbe.vendor.id!r}, not {vendor!r}", rule="scores.vendor",
                            file=str(path))
        if provider_type and provider_type != wbe.vendor.provider_type:
            raise DataError(f"the workbook is for a {wbe.vendor.provider_type!r} provider, not {provider_type!r}",
                            rule="scores.provider_type", file=str(path))
        return wbe.vendor, wbe.scores
    if path.suffix.lower() == ".csv":
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read CSV: {exc}", rule="scores.file", file=str(path)) from None
        df.columns = [str(c).strip() for c in df.columns]
        df.insert(0, "row", range(2, len(df) + 2))  # the file's line numbers (line 1 is the header)
        if not provider_type:
            raise DataError("a CSV does not say the vendor's provider type: give --provider-type",
                            rule="vendor.provider_type", file=str(path))
        return Vendor(vendor, provider_type), df
    raise DataError(f"scores must be an .xlsx entry workbook or a .csv file, got {path.name}", rule="scores.file",
                    file=str(path))


def _print(r: Rating, lang: str) -> None:
    import pandas as pd

    en = lang == "en"
    name = r.model_name(lang)
    if math.isnan(r.total):
        console.print(f"[bold]{name}[/]: " + ("cannot rate" if en else "无法评级"))
    else:
        if r.level is None:
            lv = "below level 1" if en else "未达第1级"
        else:
            lv = f"level {r.level} {r.level_name(lang)}" if en else f"第{r.level}级 {r.level_name(lang)}"
        console.print(f"[bold]{name}[/]: [bold cyan]{lv}[/], " + (f"total {r.total:.2f}" if en else f"总分 {r.total:.2f}"))
    emit([{"capability": c, "name": row["name_en"] if en else row["name_zh"],
           "score": "n/a" if pd.isna(row["score"]) else f"{row['score']:.2f}",
           "weight": f"{row['effective_weight']:.3f}"} for c, row in r.capabilities.iterrows()], "table")
    for line in r.explanation[lang]:
        console.print("  • " + line, markup=False, highlight=False, soft_wrap=True)


def rate_cmd(
    vendor: Annotated[str, typer.Option("--vendor", "-v", help="Vendor id (must match the workbook's).")],
    scores: Annotated[Path, typer.Option("--scores", "-s", help="Entry workbook (.xlsx from rate-template) or CSV: indicator, step or value, evidence_ref, reviewer, date, comment.")],
    framework: Annotated[str, typer.Option("--framework", "-f", help="Capability framework id or YAML path.")] = DEFAULT_FRAMEWORK,
    model: Annotated[str, typer.Option("--model", "-m", help="Model id (comprehensive, innovation) or 'both'.")] = "comprehensive",
    provider_type: Annotated[str | None, typer.Option("--provider-type", "-p", help="comprehensive, product, consulting or outsourcing (read from a workbook).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report: .html (models side by side), .pdf, .xlsx or .json.")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the printout and the report.")] = Lang.zh,
    fmt: Annotated[Fmt, typer.Option("--format", help="table (readable) or json on stdout.")] = Fmt.table,
) -> None:
    """Rate a vendor: capability scores, total, level, why not the next level, the smallest improvement plan."""
    from ..capability.loader import load_capability_framework
    from ..capability.rating import rate_both
    from ..capability.report import write_html

    fw = load_capability_framework(framework)
    ids = [m.id for m in fw.models]
    if model != "both" and model not in ids:
        raise DataError(f"unknown model {model!r}; {fw.id} has {', '.join(ids)} (or 'both')", rule="model.unknown")
    v, df = _read_scores(scores, fw, vendor, provider_type)
    ratings = rate_both(fw, v, df, source=str(scores))
    shown = list(ratings.values()) if model == "both" else [ratings[model]]
    ordered = shown + [r for r in ratings.values() if r not in shown]
    if fmt is Fmt.json:
        sys.stdout.write(json.dumps([r.to_dict() for r in shown], ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        for r in shown:
            _print(r, lang.value)
    if out is not None:
        if out.suffix.lower() == ".json":
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps([r.to_dict() for r in ordered], ensure_ascii=False, indent=2, default=str),
                           encoding="utf-8")
        elif out.suffix.lower() in (".pdf", ".xlsx"):  # the same report through the report writers
            from ..report import build_report, write

            write(build_report(ordered, "vendor", lang=lang.value), out.suffix.lower()[1:], out)
        else:
            write_html(ordered, out, lang.value)
        if fmt is Fmt.table:
            console.print(f"[green]report[/]: {out}")


def rate_template_cmd(
    vendor: Annotated[str, typer.Option("--vendor", "-v", help="Vendor id.")],
    provider_type: Annotated[str, typer.Option("--provider-type", "-p", help="comprehensive, product, consulting or outsourcing.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The .xlsx workbook to write.")],
    name: Annotated[str | None, typer.Option("--name", help="Vendor name.")] = None,
    framework: Annotated[str, typer.Option("--framework", "-f", help="Capability framework id or YAML path.")] = DEFAULT_FRAMEWORK,
) -> None:
    """Write a vendor's score and evidence entry workbook (the indicators that apply to its provider type)."""
    from ..capability.loader import load_capability_framework
    from ..capability.rating import Vendor
    from ..capability.workbook import write_workbook

    fw = load_capability_framework(framework)
    codes = [p.code for p in fw.provider_types]
    if provider_type not in codes:
        raise DataError(f"unknown provider type {provider_type!r}; choose one of {', '.join(codes)}",
                        rule="vendor.provider_type")
    p = write_workbook(fw, Vendor(vendor, provider_type, name), out)
    console.print(f"[green]written[/]: {p}")
