"""Questionnaire workbooks generated from a framework: one .xlsx per institution and period.

:func:`write_template` writes a workbook with

* a visible sheet ``Questionnaire``: a title, an identification block (institution id and names, sector,
  region, period — filled in and locked; contact person, phone/e-mail and date — to fill in), short
  instructions, then one row per raw variable that applies to the institution's sector (computed from
  the framework by :func:`~fintech_eval.collect.validate.applicable_variables`, never hard-coded): the
  variable code, its unit, the value cell, the allowed values, the indicators it feeds and the help text
  in Chinese and English;
* Excel data validation on every value cell, from the variable's type, ``min`` and ``max``: decimal
  >= 0 for counts and amounts (Excel's whole-number check stops at 2^31, too small for transaction
  counts: whole numbers are enforced on import), decimal 0..1 for shares, whole 1..5 / 1..6 for levels, a
  是 yes / 否 no list for yes/no questions;
* protection: the sheet is protected with only the value cells (and the contact/date fields) unlocked,
  and the workbook structure is locked (no sheets added, renamed, moved or unhidden). Protection without
  a password prevents accidents, not determined edits; the checksum below detects those;
* a very hidden sheet ``_meta``: template version, framework ``id@version``, entity id, sector, period,
  the layout, the variable list and a SHA-256 checksum of that list (names and units), so the reader can
  refuse a foreign or tampered workbook.

:func:`write_templates` writes one workbook per entity (batch mode); :func:`fill_template` fills one as a
respondent would (the demo's returns, tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from copy import copy
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from ..catalog.models import SECTORS, Framework, Variable
from ..errors import DataError
from ..geo.regions import provinces, resolve_province
from .validate import applicable_variables, period_kind

__all__ = [
    "META_SHEET",
    "SHEET",
    "TEMPLATE_VERSION",
    "fill_template",
    "template_checksum",
    "template_filename",
    "write_template",
    "write_templates",
]

TEMPLATE_VERSION = "1"
SHEET = "Questionnaire"
META_SHEET = "_meta"
YES_NO = ("是 yes", "否 no")

# layout ---------------------------------------------------------------------------------------------
COLUMNS = [  # key, header, width
    ("no", "序号\nNo.", 6),
    ("variable", "变量代码\nVariable", 34),
    ("unit", "单位\nUnit", 12),
    ("value", "填报值\nValue", 20),
    ("accept_reason", "接受理由(单位核对)\nReason to accept (unit check)", 26),
    ("allowed", "允许值\nAllowed values", 22),
    ("indicators", "用于指标\nIndicators fed", 22),
    ("help_zh", "填报说明\n(中文)", 60),
    ("help_en", "Help (English)", 70),
]
COL = {key: get_column_letter(i + 1) for i, (key, _, _) in enumerate(COLUMNS)}
VALUE_INDEX = next(i + 1 for i, (key, _, _) in enumerate(COLUMNS) if key == "value")
REASON_INDEX = next(i + 1 for i, (key, _, _) in enumerate(COLUMNS) if key == "accept_reason")
ID_FIELDS = [  # key, label, filled from the entity (locked) or left to the respondent (unlocked)
    ("entity_id", "机构代码 Institution ID", True),
    ("entity_name", "机构名称 Institution name", True),
    ("sector", "行业 Sector", True),
    ("region", "地区 Region", True),
    ("period", "报告期 Reporting period", True),
    ("contact", "联系人 Contact person", False),
    ("contact_phone", "联系电话或邮箱 Phone or e-mail", False),
    ("date", "填报日期 Date completed", False),
]
ID_FIRST_ROW = 4
HEADER_ROW = ID_FIRST_ROW + len(ID_FIELDS) + 3
SECTOR_NAMES = {
    "bank": "银行业 banking", "securities": "证券业 securities", "insurance": "保险业 insurance",
    "payment": "支付 payment", "other": "其他 other",
}  # fmt: skip

_INPUT = PatternFill("solid", fgColor="FFF9E5")
_HEAD = PatternFill("solid", fgColor="DDE6F0")
_THIN = Side(style="thin", color="B0B0B0")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def template_checksum(variables: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of the ``(name, unit)`` list, one ``name|unit`` per line, in questionnaire order."""
    text = "\n".join(f"{n}|{u}" for n, u in variables)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def template_filename(entity: Mapping[str, Any], period: str) -> str:
    safe = re.sub(r"[^\w.-]+", "_", str(entity["id"]), flags=re.UNICODE).strip("_") or "entity"
    return f"questionnaire_{safe}_{period}.xlsx"


def _check_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    e = dict(entity)
    missing = [k for k in ("id", "name_zh", "sector") if not str(e.get(k) or "").strip()]
    if missing:
        raise DataError(f"entity needs {', '.join(missing)} (got keys {', '.join(map(str, entity))})",
                        rule="template.entity", entity=e.get("id"))
    e["id"] = str(e["id"]).strip()
    if e["sector"] not in SECTORS:
        raise DataError(f"entity {e['id']}: sector {e['sector']!r} is not one of {', '.join(SECTORS)}",
                        rule="template.entity", entity=e["id"])
    code = e.get("region_code")
    if code is not None and str(code).strip() and not (isinstance(code, float) and pd.isna(code)):
        try:
            six = resolve_province(code)
        except DataError as exc:
            raise DataError(f"entity {e['id']}: {exc.problems[0].message}", rule="template.entity",
                            entity=e["id"]) from None
        row = provinces(include_out_of_scope=True).set_index("code").loc[six]
        e["region_code"] = six[:2]
        e["region_label"] = f"{row['name_zh']} {row['name_en']} ({six[:2]})"
    else:
        e["region_code"] = None
        e["region_label"] = ""
    return e


def _allowed(v: Variable) -> tuple[str, DataValidation | None, str]:
    """Text of the allowed values, the Excel validation and the number format for a variable."""
    lo = 0.0 if v.min is None and v.type in ("count", "money", "time") else v.min
    hi = v.max

    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else repr(float(x))

    if v.type == "binary":
        dv = DataValidation(type="list", formula1='"' + ",".join(YES_NO) + '"', allow_blank=True)
        return "是 yes / 否 no (1 / 0)", dv, "@"
    if v.type == "level":
        a, b = int(v.min if v.min is not None else 1), int(v.max if v.max is not None else 5)
        dv = DataValidation(type="whole", operator="between", formula1=str(a), formula2=str(b), allow_blank=True)
        return f"整数 whole number {a}..{b}", dv, "0"
    if v.type in ("share", "ratio"):
        a = max(0.0, v.min or 0.0)
        b = min(1.0, v.max) if v.max is not None else (1.0 if v.type == "share" else None)
        if b is None:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1=num(a), allow_blank=True)
            return f">= {num(a)}", dv, "0.0000"
        dv = DataValidation(type="decimal", operator="between", formula1=num(a), formula2=num(b), allow_blank=True)
        return f"小数 fraction {num(a)}..{num(b)} (不是百分数 not %)", dv, "0.0000"
    fmt = {"count": "#,##0", "money": "#,##0.00", "time": "#,##0.00"}.get(v.type, "General")
    whole = "整数 whole number " if v.type == "count" else ""
    if lo is not None and hi is not None:
        dv = DataValidation(type="decimal", operator="between", formula1=num(lo), formula2=num(hi), allow_blank=True)
        return f"{whole}{num(lo)}..{num(hi)}", dv, fmt
    if lo is not None:
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1=num(lo), allow_blank=True)
        return f"{whole}>= {num(lo)}", dv, fmt
    if hi is not None:
        dv = DataValidation(type="decimal", operator="lessThanOrEqual", formula1=num(hi), allow_blank=True)
        return f"{whole}<= {num(hi)}", dv, fmt
    return "数值 number", DataValidation(type="decimal", operator="between", formula1="-1E+300",
                                         formula2="1E+300", allow_blank=True), fmt


def write_template(
    framework: Framework,
    entity: Mapping[str, Any],
    period: str,
    path: str | Path,
    *,
    password: str | None = None,
) -> Path:
    """Write the questionnaire of ``entity`` (id, name_zh, name_en, sector, region_code) for ``period``.

    ``path`` may be a directory (an existing one, or a path without a suffix or ending in ``/``): the file
    is then named by :func:`template_filename`. Returns the path written.
    """
    e = _check_entity(entity)
    period = str(period).strip()
    if period_kind(period) is None:
        raise DataError(f"period {period!r} is not a reporting period (use 2024, 2024Q1 or 2024-03)",
                        rule="period.invalid", entity=e["id"])
    rows = applicable_variables(framework, e["sector"])
    if not rows:
        raise DataError(f"no variable of {framework.id} applies to sector {e['sector']}",
                        rule="template.empty", entity=e["id"])
    as_dir = str(path).endswith(("/", "\\")) or Path(path).is_dir() or Path(path).suffix == ""
    path = Path(path) / template_filename(e, period) if as_dir else Path(path)

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    unlocked = Protection(locked=False)

    ws["A1"] = "金融科技发展指标 数据采集表  FinTech development indicators — data collection questionnaire"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (f"{framework.title.zh} {framework.title.en} · {framework.id}@{framework.version} · "
                f"template v{TEMPLATE_VERSION}")
    ws["A2"].font = Font(italic=True, color="555555")

    id_values = {
        "entity_id": e["id"],
        "entity_name": " / ".join(x for x in (e.get("name_zh"), e.get("name_en")) if x),
        "sector": f"{SECTOR_NAMES[e['sector']]} ({e['sector']})",
        "region": e["region_label"],
        "period": period,
    }
    id_rows: dict[str, int] = {}
    value_col = COL["value"]
    date_dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True,
                             showErrorMessage=True, errorTitle="日期 Date", error="请填写日期 Enter a date")
    ws.add_data_validation(date_dv)
    for i, (key, label, filled) in enumerate(ID_FIELDS):
        r = ID_FIRST_ROW + i
        id_rows[key] = r
        ws[f"B{r}"] = label
        ws[f"B{r}"].font = Font(bold=True)
        cell = ws[f"C{r}"]
        ws.merge_cells(f"C{r}:{COL['allowed']}{r}")
        if filled:
            cell.value = id_values[key]
            cell.number_format = "@"
        else:
            cell.protection = unlocked
            cell.fill = _INPUT
            if key == "date":
                cell.number_format = "yyyy-mm-dd"
                date_dv.add(cell.coordinate)
        cell.border = _BOX

    note_row = ID_FIRST_ROW + len(ID_FIELDS) + 1
    ws[f"A{note_row}"] = (
        "填报说明:仅在黄色单元格填写;按所列单位填报;无数据请留空(不要填 0);是/否题请选择“是 yes”或“否 no”;"
        "数值确与上年或登记规模相差万倍(如合并)时,在“接受理由”栏说明原因。"
        "  Fill in the yellow cells only, in the unit shown; leave a cell blank when the figure is not "
        "available (never 0 for unknown); answer yes/no questions with 是 yes / 否 no; when a figure really is "
        "10,000 times last year's or the registered size (a merger), say why in the reason column beside it."
    )
    ws[f"A{note_row}"].alignment = Alignment(wrap_text=False)
    ws[f"A{note_row}"].font = Font(color="AA0000")

    for i, (_, header, width) in enumerate(COLUMNS):
        c = ws.cell(row=HEADER_ROW, column=i + 1, value=header)
        c.font = Font(bold=True)
        c.fill = _HEAD
        c.alignment = Alignment(wrap_text=True, vertical="center")
        c.border = _BOX
        ws.column_dimensions[get_column_letter(i + 1)].width = width

    validations: dict[tuple, DataValidation] = {}
    first = HEADER_ROW + 1
    for k, (v, feeds) in enumerate(rows):
        r = first + k
        allowed, dv, fmt = _allowed(v)
        values = {
            "no": k + 1, "variable": v.name, "unit": v.unit, "value": None, "accept_reason": None, "allowed": allowed,
            "indicators": ", ".join(feeds), "help_zh": v.help.zh, "help_en": v.help.en,
        }  # fmt: skip
        for j, (key, _, _) in enumerate(COLUMNS, start=1):
            c = ws.cell(row=r, column=j, value=values[key])
            if k:  # the first row's style, copied: styling every cell anew costs half the workbook's time
                c._style = copy(ws.cell(row=first, column=j)._style)
            else:
                c.border = _BOX
                c.alignment = Alignment(wrap_text=key in ("help_zh", "help_en", "indicators"), vertical="top")
        vc = ws.cell(row=r, column=VALUE_INDEX)
        if not k:
            vc.protection = unlocked
            vc.fill = _INPUT
            rc = ws.cell(row=r, column=REASON_INDEX)  # (later rows copy its style)
            rc.protection = unlocked
            rc.alignment = Alignment(wrap_text=True, vertical="top")
        vc.number_format = fmt
        if dv is not None:
            sig = (dv.type, dv.operator, dv.formula1, dv.formula2)
            if sig not in validations:
                dv.showErrorMessage = True
                dv.showInputMessage = True
                dv.errorTitle = "数值无效 Invalid value"
                dv.error = f"允许值 Allowed: {allowed}"[:255]
                dv.promptTitle = "填报 Fill in"
                dv.prompt = f"允许值 Allowed: {allowed}. 无数据请留空 Leave blank if not available."[:255]
                ws.add_data_validation(dv)
                validations[sig] = dv
            validations[sig].add(vc.coordinate)
    last = first + len(rows) - 1

    ws.freeze_panes = f"C{first}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    if password:
        ws.protection.password = password
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"

    names_units = [(v.name, v.unit) for v, _ in rows]
    meta = {
        "template_version": TEMPLATE_VERSION,
        "framework": f"{framework.id}@{framework.version}",
        "framework_id": framework.id,
        "framework_version": framework.version,
        "extensions": ",".join(framework.extensions),
        "entity_kind": "institution",
        "entity_id": e["id"],
        "entity_name_zh": e.get("name_zh") or "",
        "entity_name_en": e.get("name_en") or "",
        "sector": e["sector"],
        "region_code": e["region_code"] or "",
        "period": period,
        "sheet": SHEET,
        "header_row": str(HEADER_ROW),
        "first_row": str(first),
        "last_row": str(last),
        "variable_column": COL["variable"],
        "unit_column": COL["unit"],
        "value_column": value_col,
        "reason_column": COL["accept_reason"],
        "id_value_column": "C",
        **{f"id_row.{k}": str(r) for k, r in id_rows.items()},
        "n_variables": str(len(rows)),
        "variables": ",".join(n for n, _ in names_units),
        "checksum": template_checksum(names_units),
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": "fintech-eval",
    }
    ms = wb.create_sheet(META_SHEET)
    for i, (k, val) in enumerate(meta.items(), start=1):
        ms.cell(row=i, column=1, value=k)
        ms.cell(row=i, column=2, value=val).number_format = "@"
    ms.sheet_state = "veryHidden"
    ms.protection.sheet = True
    if password:
        ms.protection.password = password
    wb.security = WorkbookProtection(lockStructure=True)
    if password:
        wb.security.workbookPassword = password
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_templates(
    framework: Framework,
    entities: Iterable[Mapping[str, Any]] | pd.DataFrame,
    period: str,
    out_dir: str | Path,
    *,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Batch mode: one questionnaire per entity in ``out_dir`` (named by :func:`template_filename`).

    Every entity is checked before any file is written; all problems are raised together. ``progress(done,
    total)`` is called after each workbook (a progress bar: about 45 ms a workbook).
    """
    if isinstance(entities, pd.DataFrame):
        entities = entities.to_dict("records")
    ents = [dict(e) for e in entities]
    problems = []
    seen: set[str] = set()
    for e in ents:
        try:
            c = _check_entity(e)
            if c["id"] in seen:
                raise DataError(f"entity {c['id']} is listed twice", rule="template.entity", entity=c["id"])
            seen.add(c["id"])
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, e in enumerate(ents):
        paths.append(write_template(framework, e, period, out / template_filename(e, str(period)), password=password))
        if progress is not None:
            progress(i + 1, len(ents))
    return paths


def fill_template(
    path: str | Path,
    values: Mapping[str, Any],
    *,
    contact: str | None = None,
    contact_phone: str | None = None,
    date: dt.date | None = None,
    out: str | Path | None = None,
    unanswered: str | None = None,
    reasons: Mapping[str, str] | None = None,
) -> Path:
    """Fill a questionnaire written by :func:`write_template` as a respondent would: each value into the
    value cell of its variable (``None`` leaves the cell blank, which the import refuses for a mandatory
    variable), and the contact fields. ``unanswered`` (e.g. ``"N/A"``, a declared "not available") goes
    into every cell the values leave blank. ``reasons``: variable → a reason to accept its value's unit check,
    written beside the value (the ``accept_reason`` column).
    Writes to ``out`` (default: in place) and returns the path. A variable the workbook does not ask is an
    error naming it (the respondent cannot add rows to a protected sheet either)."""
    from openpyxl import load_workbook

    path = Path(path)
    wb = load_workbook(path)
    meta = {str(r[0]): r[1] for r in wb[META_SHEET].iter_rows(values_only=True) if r[0] is not None}
    ws = wb[meta["sheet"]]
    rows = {name: int(meta["first_row"]) + i for i, name in enumerate(str(meta["variables"]).split(","))}
    unknown = sorted((set(values) | set(reasons or {})) - set(rows))
    if unknown:
        raise DataError(f"{path.name} asks no variable {', '.join(unknown[:5])}"
                        + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""),
                        rule="template.variable", file=str(path), entity=meta.get("entity_id"))
    col = meta["value_column"]
    for name, row in rows.items():
        v = values.get(name)
        ws[f"{col}{row}"] = unanswered if v is None or (isinstance(v, float) and v != v) else v
    for name, why in (reasons or {}).items():
        ws[f"{meta['reason_column']}{rows[name]}"] = why
    idc = meta["id_value_column"]
    for key, v in (("contact", contact), ("contact_phone", contact_phone), ("date", date)):
        if v is not None:
            ws[f"{idc}{meta[f'id_row.{key}']}"] = v
    target = Path(out) if out is not None else path
    wb.save(target)
    return target
