"""The evidence and score entry workbook of one vendor (.xlsx).

:func:`write_workbook` writes a template for a vendor: a sheet ``Scores`` (评分录入) with the vendor's
identification, the rule that an indicator without evidence is scored at its lowest step, and one row per
indicator that applies to the vendor's provider type (every model's indicators, so that one workbook feeds
both ratings): code, capability, element, names, how it is scored, every step with its descriptor (zh and
en), the evidence required, the mandatory requirements it carries, which models use it, then the cells to
fill: step (rubric) or value (quantitative), evidence reference, reviewer, date, comment. Step cells carry
an Excel list validation of the allowed steps. A very hidden sheet ``_meta`` records the framework
(id@version), vendor, provider type and the indicator list.

:func:`read_workbook` reads it back and validates it: every problem (unknown, duplicate or not-applicable
indicator, a step that is not one of the indicator's steps, a value for a rubric indicator or one that is not
a number, a step contradicting a value, a bad date, a changed header, a workbook for another framework or
vendor) is reported together in one :class:`~fintech_eval.errors.DataError`, each naming the file, sheet,
row, column (letter and header) and indicator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import DataError, Problem
from .models import CapabilityFramework
from .rating import Vendor, read_entries

TEMPLATE_VERSION = "1"
SHEET = "Scores"
META_SHEET = "_meta"
HEADER_ROW = 9
FIRST_ROW = HEADER_ROW + 1

COLUMNS: list[tuple[str, str, int]] = [  # key, header, width
    ("no", "序号\nNo.", 6),
    ("indicator", "指标代码\nIndicator", 10),
    ("capability", "能力\nCapability", 16),
    ("element", "要素\nElement", 16),
    ("name_zh", "指标名称", 22),
    ("name_en", "Indicator name", 26),
    ("scoring", "评分方式\nScoring", 16),
    ("steps_zh", "档位说明", 42),
    ("steps_en", "Steps", 46),
    ("evidence_required", "所需证据\nEvidence required", 36),
    ("mandatory", "必备要求\nMandatory for level", 14),
    ("models", "所属模型\nModels", 16),
    ("step", "档位\nStep", 8),
    ("value", "数值\nValue", 10),
    ("evidence_ref", "证据编号\nEvidence ref", 20),
    ("reviewer", "评审人\nReviewer", 12),
    ("date", "评审日期\nDate", 12),
    ("comment", "备注\nComment", 30),
]
COL = {key: i + 1 for i, (key, _, _) in enumerate(COLUMNS)}
INPUTS = ("step", "value", "evidence_ref", "reviewer", "date", "comment")
INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")
GREY = PatternFill("solid", fgColor="E6E6E6")
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")


def _col_label(key: str) -> str:
    i = COL[key]
    return f"{get_column_letter(i)} ({COLUMNS[i - 1][1].replace(chr(10), ' / ')})"


def template_indicators(fw: CapabilityFramework, provider_type: str) -> list[str]:
    """Codes of the indicators a vendor of this type is scored on (any model), in file order."""
    used: set[str] = set()
    for m in fw.models:
        used.update(fw.model_indicators(m.id))
        used.update(r.indicator for r in fw.requirements(m.id))
    return [i.code for i in fw.indicators() if i.code in used and fw.applies(i.code, provider_type)]


def write_workbook(framework: CapabilityFramework, vendor: Vendor, path: str | Path) -> Path:
    """Write the entry template of ``vendor`` (see module doc)."""
    fw = framework
    if vendor.provider_type not in [p.code for p in fw.provider_types]:
        raise DataError(f"unknown provider type {vendor.provider_type!r}", rule="vendor.provider_type", vendor=vendor.id)
    ptype = fw.provider_type(vendor.provider_type)
    codes = template_indicators(fw, vendor.provider_type)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = f"{fw.title.zh} — 评分与证据录入表 / {fw.title.en or fw.title.zh} — score and evidence entry"
    ws["A1"].font = Font(bold=True, size=13)
    if fw.disclaimer is not None:
        ws["A2"] = f"{fw.disclaimer.zh}\n{fw.disclaimer.en}"
        ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
        ws.row_dimensions[2].height = 60
    ident = [
        ("服务商代码 Vendor ID", vendor.id),
        ("服务商名称 Vendor name", vendor.name or ""),
        ("服务商类型 Provider type", f"{ptype.code} — {ptype.name.zh} / {ptype.name.en}"),
        ("评价框架 Framework", f"{fw.id}@{fw.version}"),
    ]
    for k, (label, value) in enumerate(ident):
        ws.cell(3 + k, 1, label).font = Font(bold=True)
        ws.cell(3 + k, 3, value)
    ws.cell(7, 1, "填写说明：量规类指标填“档位”，量化指标填“数值”（或档位）；未填写证据编号的指标只能按最低档计分。"
                   " / Enter a step for rubric indicators and a value (or step) for quantitative ones; an indicator "
                   "without an evidence reference is scored at its lowest step.")
    ws.cell(7, 1).alignment = Alignment(wrap_text=True)
    ws.merge_cells(start_row=7, start_column=1, end_row=7, end_column=len(COLUMNS))
    ws.row_dimensions[7].height = 30
    for key, header, width in COLUMNS:
        c = ws.cell(HEADER_ROW, COL[key], header)
        c.font = Font(bold=True)
        c.fill = HEAD_FILL
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(COL[key])].width = width
    ws.row_dimensions[HEADER_ROW].height = 32
    ws.freeze_panes = ws.cell(FIRST_ROW, COL["capability"])

    model_of: dict[str, list[str]] = {}
    for m in fw.models:
        for c in fw.model_indicators(m.id):
            model_of.setdefault(c, []).append(m.id)
    date_dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True,
                             showErrorMessage=True, error="YYYY-MM-DD")
    num_dv = DataValidation(type="decimal", allow_blank=True, showErrorMessage=True, error="a number / 请填写数字",
                            operator="between", formula1="-1E+15", formula2="1E+15")
    ws.add_data_validation(date_dv)
    ws.add_data_validation(num_dv)
    step_dvs: dict[str, DataValidation] = {}
    for n, code in enumerate(codes):
        r = FIRST_ROW + n
        ind = fw.indicator(code)
        npath = fw.path_of(code)
        cap = fw.node(npath[0])
        el = fw.node(npath[1]) if len(npath) > 1 else None
        steps = fw.steps(code)
        sc = ind.scoring
        scoring = ("量规 rubric" if sc.type == "rubric" else
                   f"量化 quantitative ({sc.unit.zh if sc.unit else ''} / {sc.unit.en if sc.unit else ''}"
                   f"{', 越低越好 lower is better' if sc.direction == -1 else ''})")
        mand = "; ".join(f"L{md.level} ≥ {md.min_step}" + (f" ({'/'.join(md.models)})" if md.models else "")
                         for md in ind.mandatory)
        values = {
            "no": n + 1, "indicator": code, "capability": f"{cap.code} {cap.name.zh}",
            "element": f"{el.code} {el.name.zh}" if el is not None else "",
            "name_zh": ind.name.zh, "name_en": ind.name.en, "scoring": scoring,
            "steps_zh": "\n".join(f"{s.step}: {s.descriptor.zh}" for s in steps),
            "steps_en": "\n".join(f"{s.step}: {s.descriptor.en or s.descriptor.zh}" for s in steps),
            "evidence_required": "\n".join(f"{e.zh} / {e.en}" if e.en else e.zh for e in ind.evidence),
            "mandatory": mand, "models": ", ".join(model_of.get(code, [])) or "(requirement only)",
        }
        for key, val in values.items():
            cell = ws.cell(r, COL[key], val)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for key in INPUTS:
            ws.cell(r, COL[key]).fill = INPUT_FILL
        allowed = ",".join(str(s.step) for s in steps)
        if allowed not in step_dvs:
            dv = DataValidation(type="list", formula1=f'"{allowed}"', allow_blank=True, showErrorMessage=True,
                                error=f"allowed steps / 允许档位: {allowed}")
            ws.add_data_validation(dv)
            step_dvs[allowed] = dv
        step_dvs[allowed].add(ws.cell(r, COL["step"]))
        if sc.type == "quantitative":
            num_dv.add(ws.cell(r, COL["value"]))
        else:
            ws.cell(r, COL["value"]).fill = GREY
        date_dv.add(ws.cell(r, COL["date"]))
        ws.row_dimensions[r].height = max(30, 15 * len(steps))

    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "veryHidden"
    for k, (key, value) in enumerate([
        ("template_version", TEMPLATE_VERSION), ("framework_id", fw.id), ("framework_version", fw.version),
        ("vendor_id", vendor.id), ("vendor_name", vendor.name or ""), ("provider_type", vendor.provider_type),
        ("header_row", HEADER_ROW), ("indicators", ",".join(codes)),
    ]):
        meta.cell(k + 1, 1, key)
        meta.cell(k + 1, 2, value)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb.save(p)
    return p


@dataclass
class WorkbookEntries:
    """What :func:`read_workbook` returns: who and under which framework, and the entries (one row per
    indicator, columns of :data:`~fintech_eval.capability.rating.SCORE_COLUMNS` plus sheet and row)."""

    vendor: Vendor
    framework_id: str
    framework_version: str
    scores: pd.DataFrame
    file: str


def read_workbook(path: str | Path, framework: CapabilityFramework) -> WorkbookEntries:
    """Read and validate a filled entry workbook (see module doc)."""
    file = str(path)
    fw = framework
    from ..collect.readers import workbook_size_problems

    too_large = workbook_size_problems(path)  # the same bound as questionnaires, checked before parsing
    if too_large:
        raise DataError(too_large)
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise DataError(f"cannot read the workbook: {exc}", rule="workbook.read", file=file) from None
    if SHEET not in wb.sheetnames:
        raise DataError(f"no sheet {SHEET!r}: is this a score workbook written by fintech-eval?", rule="workbook.sheet",
                        file=file, sheet=SHEET)
    if META_SHEET not in wb.sheetnames:
        raise DataError(f"the hidden sheet {META_SHEET!r} is missing: write a new template", rule="workbook.meta",
                        file=file, sheet=META_SHEET)
    meta = {str(r[0]): r[1] for r in wb[META_SHEET].iter_rows(values_only=True) if r and r[0] is not None}
    problems: list[Problem] = []
    if str(meta.get("framework_id")) != fw.id or str(meta.get("framework_version")) != fw.version:
        problems.append(Problem("workbook.framework", f"the workbook was written for {meta.get('framework_id')}@"
                                f"{meta.get('framework_version')}, not {fw.id}@{fw.version}", {"file": file, "sheet": META_SHEET}))
    ptype = str(meta.get("provider_type") or "")
    if ptype not in [p.code for p in fw.provider_types]:
        problems.append(Problem("workbook.provider_type", f"unknown provider type {ptype!r} in the workbook",
                                {"file": file, "sheet": META_SHEET}))
    if problems:
        raise DataError(problems)
    vendor = Vendor(str(meta.get("vendor_id") or ""), ptype, str(meta.get("vendor_name") or "") or None)
    ws = wb[SHEET]
    header_row = int(meta.get("header_row") or HEADER_ROW)
    for key, header, _ in COLUMNS:
        got = ws.cell(header_row, COL[key]).value
        if str(got or "").strip() != header:
            problems.append(Problem("workbook.header", f"header {got!r} where {header.replace(chr(10), ' / ')!r} is "
                                    "expected: do not move, insert or rename columns",
                                    {"file": file, "sheet": SHEET, "row": header_row, "column": _col_label(key)}))
    if problems:
        raise DataError(problems)
    templated = set(str(meta.get("indicators") or "").split(","))
    records = []
    for r in range(header_row + 1, ws.max_row + 1):
        rec: dict[str, Any] = {k: ws.cell(r, COL[k]).value for k in ("indicator", *INPUTS)}
        if all(rec[k] is None or (isinstance(rec[k], str) and not rec[k].strip()) for k in INPUTS):
            continue  # nothing entered on this row (a template row, or a blank one)
        rec["row"] = r
        rec["sheet"] = SHEET
        code = str(rec["indicator"]).strip() if rec["indicator"] is not None else None
        if code and code not in templated:
            try:
                fw.indicator(code)
            except KeyError:
                pass  # reported as unknown by read_entries
            else:
                if not fw.applies(code, vendor.provider_type):
                    problems.append(Problem("workbook.not_applicable", f"{code} does not apply to provider type "
                                            f"{vendor.provider_type}; remove the row",
                                            {"file": file, "sheet": SHEET, "row": r, "column": _col_label("indicator"),
                                             "indicator": code}))
                    continue
        if isinstance(rec["date"], dt.datetime):
            rec["date"] = rec["date"].date()
        records.append(rec)
    df = pd.DataFrame(records, columns=["indicator", *INPUTS, "row", "sheet"])
    try:
        read_entries(fw, df, source=file)
    except DataError as exc:
        for p in exc.problems:
            where = dict(p.where)
            if where.get("column") in COL:
                where["column"] = _col_label(where["column"])
            problems.append(Problem(p.rule, p.message, where))
    if problems:
        problems.sort(key=lambda p: (p.where.get("row") or 0))
        raise DataError(problems)
    return WorkbookEntries(vendor, fw.id, fw.version, df, file)
