"""Registers: the institutions (and technology vendors) a round evaluates, registered from a CSV or xlsx file.

A register file has one row per entity. Columns (English or Chinese headers; case and spaces ignored):

* institutions: ``id`` (代码; the unified social credit code or your own code), ``name_zh`` (名称),
  ``name_en``, ``sector`` (行业: bank, securities, insurance, payment, other; 银行/证券/保险/支付 accepted),
  ``subtype`` (类型), ``region_code`` (省份代码: a GB/T 2260 province code, two or six digits), ``listed``
  (上市: yes/no);
* vendors: ``id``, ``name_zh``, ``name_en``, ``provider_type`` (comprehensive, product, consulting,
  outsourcing).

Every problem of every row is reported at once with the file, the row (as a spreadsheet shows it), the
field and the rule, with a did-you-mean for a mistyped sector; the file is registered all-or-nothing, and
every change to an existing entry is audited (who, when, old, new, why).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError, Problem, closest
from ..store import institutions_frame, upsert_institutions, upsert_vendors, vendors_frame
from ..store.models import PROVIDER_TYPES, SECTORS, Institution, Vendor, province_code
from .workspace import Workspace

ALIASES = {
    "id": ("id", "code", "entity_id", "institution_id", "vendor_id", "代码", "机构代码", "统一社会信用代码"),
    "name_zh": ("name_zh", "name", "名称", "机构名称", "中文名称"),
    "name_en": ("name_en", "english_name", "英文名称"),
    "sector": ("sector", "行业", "类别"),
    "subtype": ("subtype", "type", "类型", "机构类型"),
    "region_code": ("region_code", "province", "province_code", "省份代码", "省份"),
    "listed": ("listed", "上市"),
    "provider_type": ("provider_type", "服务商类型", "类型"),
}
SECTOR_WORDS = {"银行": "bank", "银行业": "bank", "证券": "securities", "证券业": "securities", "保险": "insurance",
                "保险业": "insurance", "支付": "payment", "非银行支付": "payment", "其他": "other"}
KINDS = {
    "institutions": ("id", "name_zh", "name_en", "sector", "subtype", "region_code", "listed"),
    "vendors": ("id", "name_zh", "name_en", "provider_type"),
}
REQUIRED = {"institutions": ("id", "name_zh", "sector"), "vendors": ("id", "name_zh", "provider_type")}


@dataclass
class RegisterReport:
    kind: str
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int


def read_table(path: str | Path, rule: str) -> pd.DataFrame:
    """A CSV (UTF-8, with or without BOM) or xlsx table as text, blanks as ""; a file that cannot be read is a
    :class:`DataError` with ``rule`` naming it."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError("file not found", rule=rule, file=str(path)) from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read: {exc}", rule=rule, file=str(path)) from None


def _columns(df: pd.DataFrame, kind: str, file: str) -> pd.DataFrame:
    wanted = KINDS[kind]
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for col in df.columns:
        key = str(col).strip().lower().replace(" ", "_")
        target = next((k for k in wanted if key in ALIASES[k]), None)
        if target is None:
            close = closest(key, [a for k in wanted for a in ALIASES[k]])
            hint = f" (did you mean {close!r}?)" if close else ""
            problems.append(Problem("register.column", f"unknown column {col!r}{hint}; columns: {', '.join(wanted)}",
                                    {"file": file, "column": str(col)}))
        elif target in found:
            problems.append(Problem("register.column", f"columns {found[target]!r} and {col!r} both give {target}",
                                    {"file": file, "column": str(col)}))
        else:
            found[target] = col
    for need in REQUIRED[kind]:
        if need not in found:
            problems.append(Problem("register.column", f"no {need} column", {"file": file, "column": need}))
    if problems:
        raise DataError(problems)
    return df[list(found.values())].rename(columns={v: k for k, v in found.items()})


def read_register(path: str | Path, kind: str = "institutions") -> pd.DataFrame:
    """The register file's rows, checked: every problem located (file, row, field, rule); raises
    :class:`DataError` listing them all."""
    if kind not in KINDS:
        raise DataError(f"unknown register {kind!r}; choose one of: {', '.join(KINDS)}", rule="register.kind")
    path = Path(path)
    file = str(path)
    df = _columns(read_table(path, "register.read"), kind, file)
    df = df.apply(lambda c: c.astype(str).str.strip())
    problems: list[Problem] = []

    def bad(i: int, field: str, rule: str, msg: str) -> None:
        problems.append(Problem(rule, msg, {"file": file, "row": i + 2, "field": field, "id": df.at[i, "id"] or None}))

    for i in range(len(df)):
        for need in REQUIRED[kind]:
            if not df.at[i, need]:
                bad(i, need, "register.required", f"{need} is blank")
    dup = df["id"].duplicated(keep=False) & (df["id"] != "")
    for i in df.index[dup]:
        bad(i, "id", "register.duplicate", f"id {df.at[i, 'id']!r} appears on more than one row")
    if kind == "institutions":
        sec = df["sector"].map(lambda s: SECTOR_WORDS.get(s, s.lower()))
        for i in df.index[(sec != "") & ~sec.isin(SECTORS)]:
            close = closest(sec[i], SECTORS)
            hint = f" (did you mean {close!r}?)" if close else ""
            bad(i, "sector", "register.sector", f"sector {df.at[i, 'sector']!r} is not one of {', '.join(SECTORS)}{hint}")
        df["sector"] = sec
        if "region_code" in df:
            codes = df["region_code"].map(lambda v: province_code(v) if v else "")
            for i in df.index[(df["region_code"] != "") & codes.isna()]:
                bad(i, "region_code", "register.region_code",
                    f"region_code {df.at[i, 'region_code']!r} is not a GB/T 2260 province code (e.g. 11 or 110000)")
            df["region_code"] = codes.fillna("")
        if "listed" in df:
            yes, no = {"yes", "y", "true", "1", "是"}, {"no", "n", "false", "0", "否", ""}
            low = df["listed"].str.lower()
            for i in df.index[~low.isin(yes | no)]:
                bad(i, "listed", "register.listed", f"listed {df.at[i, 'listed']!r} is not yes/no")
    else:
        pt = df["provider_type"].str.lower()
        for i in df.index[(pt != "") & ~pt.isin(PROVIDER_TYPES)]:
            bad(i, "provider_type", "register.provider_type",
                f"provider_type {df.at[i, 'provider_type']!r} is not one of {', '.join(PROVIDER_TYPES)}")
        df["provider_type"] = pt
    if problems:
        raise DataError(problems)
    return df.replace("", None)


def register_file(ws: Workspace, path: str | Path, kind: str = "institutions", *, who: str = "cli",
                  why: str | None = None) -> RegisterReport:
    """Register (create or update) every entity of the file, all-or-nothing; changes audited."""
    rows = read_register(path, kind)
    upsert = upsert_institutions if kind == "institutions" else upsert_vendors
    with ws.sessions() as s, s.begin():
        stats = upsert(s, rows, who=who, why=why or f"register file {Path(path).name}")
    return RegisterReport(kind, str(path), len(rows), stats.inserted, stats.updated, stats.unchanged)


def register_frame(ws: Workspace, kind: str = "institutions") -> pd.DataFrame:
    """The register (ordered by id)."""
    if kind not in KINDS:
        raise DataError(f"unknown register {kind!r}; choose one of: {', '.join(KINDS)}", rule="register.kind")
    with ws.sessions() as s:
        return institutions_frame(s) if kind == "institutions" else vendors_frame(s)


def register_entry(ws: Workspace, entity_id: str, kind: str = "institutions") -> dict[str, object] | None:
    """One registered entity with the register's columns (None: not registered); one look-up by key."""
    if kind not in KINDS:
        raise DataError(f"unknown register {kind!r}; choose one of: {', '.join(KINDS)}", rule="register.kind")
    with ws.sessions() as s:
        row = s.get(Institution if kind == "institutions" else Vendor, str(entity_id))
        return None if row is None else {c: getattr(row, c) for c in KINDS[kind]}
