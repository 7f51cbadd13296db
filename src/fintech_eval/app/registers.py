"""Registers: the entities a round evaluates, registered from a CSV or xlsx file: licensed institutions and
FinTech key-technology enterprises (the two populations JR/T 0201 §4 samples), technology vendors, regions.

A register file has one row per entity. Columns (English or Chinese headers; case and spaces ignored):

* institutions: ``id`` (代码; the unified social credit code or your own code), ``name_zh`` (名称),
  ``name_en``, ``sector`` (行业: bank, securities, insurance, payment, other; 银行/证券/保险/支付 accepted),
  ``subtype`` (类型), ``region_code`` (省份代码: a GB/T 2260 province code, two or six digits, or the
  province's name), ``city_code`` (城市代码: six GB/T 2260 digits inside that province; fills a blank province),
  ``credit_code`` (统一社会信用代码: 18 characters, GB 32100-2015 check character verified; also the ``id`` when
  the file has no id column; a code whose registration authority, characters 3-8, is in another province than
  ``region_code`` is a warning ``register.credit_region``, or an error or unchecked with ``credit_region=``), ``licence_no`` (许可证号/金融许可证号, as printed), ``status`` (状态: active/closed,
  blank keeps the stored one; a closed institution is not sampled), ``listed`` (上市: yes/no);
* key-tech (金融科技关键技术企业): ``id``, ``name_zh``, ``name_en``, ``region_code`` (required: Q-A1B2 counts
  them per region), ``technologies`` (关键技术: big_data, cloud_computing, blockchain,
  artificial_intelligence, information_security, iot, 5g, other, or 大数据/云计算/区块链/人工智能/信息安全/
  物联网/5G/其他; several separated by ``;`` ``,`` ``、`` or ``/``), ``listed``, ``status`` (状态: active/closed);
* vendors: ``id``, ``name_zh``, ``name_en``, ``provider_type`` (comprehensive, product, consulting,
  outsourcing);
* regions: ``code`` (a GB/T 2260 province code, or the province's name), ``name_zh``, ``name_en`` (both filled
  from the GB/T 2260 table when blank; a name that names another province is an error).

Every problem of every row is reported at once with the file, the row (as a spreadsheet shows it), the
field and the rule, with a did-you-mean for a mistyped sector, technology, status or province; the file is
registered all-or-nothing, and every change to an existing entry is audited (who, when, old, new, why).

Size attributes (:func:`import_sizes`) come from a file with explicit units, converted like observations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, Problem, closest
from ..geo import provinces, resolve_many
from ..identifiers import (
    city_code_problem,
    credit_code_problem,
    credit_division,
    credit_province_mismatch,
    normalise_credit_code,
)
from ..store import (
    institutions_frame,
    key_tech_frame,
    regions_frame,
    upsert_institutions,
    upsert_key_tech,
    upsert_regions,
    upsert_vendors,
    vendors_frame,
)
from ..store.models import PROVINCE_CODES, province_code
from ..vocab import ENTITY_STATUSES, KEY_TECHNOLOGIES, PROVIDER_TYPES, REGISTERS, SECTORS
from .workspace import Workspace

ALIASES = {
    "id": ("id", "code", "entity_id", "institution_id", "vendor_id", "enterprise_id", "代码", "机构代码", "企业代码",
           "统一社会信用代码"),  # a header naming two fields goes to the one listing it earlier (see _target)
    "city_code": ("city_code", "city", "城市代码", "城市", "地市代码"),
    "credit_code": ("统一社会信用代码", "credit_code", "unified_social_credit_code", "uscc", "信用代码"),
    "licence_no": ("licence_no", "license_no", "licence", "license", "许可证号", "金融许可证号", "许可证编号"),
    "code": ("code", "id", "region_code", "province_code", "province", "region", "行政区划代码", "省份代码", "地区代码",
             "代码", "省份", "地区"),
    "name_zh": ("name_zh", "name", "名称", "机构名称", "企业名称", "中文名称"),
    "name_en": ("name_en", "english_name", "英文名称"),
    "sector": ("sector", "行业", "类别"),
    "subtype": ("subtype", "type", "类型", "机构类型"),
    "region_code": ("region_code", "province", "province_code", "region", "省份代码", "省份", "地区"),
    "listed": ("listed", "上市"),
    "provider_type": ("provider_type", "服务商类型", "类型"),
    "technologies": ("technologies", "technology", "key_technologies", "关键技术", "技术", "技术领域"),
    "status": ("status", "状态"),
}
SECTOR_WORDS = {"银行": "bank", "银行业": "bank", "证券": "securities", "证券业": "securities", "保险": "insurance",
                "保险业": "insurance", "支付": "payment", "非银行支付": "payment", "其他": "other"}
TECH_WORDS = {"大数据": "big_data", "云计算": "cloud_computing", "云": "cloud_computing", "区块链": "blockchain",
              "人工智能": "artificial_intelligence", "ai": "artificial_intelligence", "信息安全": "information_security",
              "网络安全": "information_security", "物联网": "iot", "5g": "5g", "其他": "other", "其它": "other"}
STATUS_WORDS = {"活跃": "active", "存续": "active", "在业": "active", "正常": "active", "注销": "closed", "关闭": "closed",
                "吊销": "closed", "停业": "closed"}
YES, NO = {"yes", "y", "true", "1", "是"}, {"no", "n", "false", "0", "否", ""}


@dataclass
class RegisterReport:
    kind: str
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    warnings: list[Problem] = field(default_factory=list)  # registered anyway (e.g. register.credit_region)


#: what a credit code issued in another province than the institution's is (``credit_region=``): a warning by
#: default (a national institution registered in Beijing may be registered in the register under the
#: province it operates in), an error, or not checked
CREDIT_REGION_POLICIES = ("warning", "error", "off")


Bad = Callable[..., None]  # bad(row, field, rule, message, message_zh[, severity])


@dataclass(frozen=True)
class Register:
    """One register: its file columns (the first is the key), those required, the checks of its own columns
    (``check(df, bad)`` normalises ``df`` in place and reports through ``bad(row, field, rule, message, zh)``,
    the message in English and in Chinese),
    and its store functions."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    check: Callable[[pd.DataFrame, Bad], None]
    upsert: Callable[..., Any]
    frame: Callable[..., pd.DataFrame]

    @property
    def key(self) -> str:
        return self.columns[0]


def read_table(path: str | Path, rule: str) -> pd.DataFrame:
    """A CSV (UTF-8, with or without BOM) or xlsx table as text, blanks as ""; a file that cannot be read is a
    :class:`DataError` with ``rule`` naming it."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError("file not found", rule=rule, zh="文件不存在", file=str(path)) from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read: {exc}", rule=rule, zh=f"无法读取：{exc}", file=str(path)) from None
    if not isinstance(df.index, pd.RangeIndex):  # pandas took the first column(s) as the index: names would shift
        n = df.index.nlevels + len(df.columns)
        raise DataError(f"the first data row has {n} fields, the header has {len(df.columns)}", rule="csv.ragged",
                        zh=f"第一行数据有 {n} 个字段，表头有 {len(df.columns)} 个", file=str(path), row=2)
    return df


def _hint(value: str, choices: Any, lang: str = "en") -> str:
    close = closest(value, choices)
    if not close:
        return ""
    return f"（是否应为 {close!r}？）" if lang == "zh" else f" (did you mean {close!r}?)"


def _province_names() -> list[str]:
    t = provinces(include_out_of_scope=True)
    return [*t["name_zh"], *t["short_zh"], *t["name_en"]]


def _province_hint(value: str, lang: str = "en") -> str:
    """Did-you-mean among the provinces' names (a lower cutoff than :func:`closest`: 广动 is one character off
    a two-character name)."""
    import difflib

    hits = difflib.get_close_matches(value, _province_names(), n=1, cutoff=0.5)
    if not hits:
        return ""
    return f"（是否应为 {hits[0]!r}？）" if lang == "zh" else f" (did you mean {hits[0]!r}?)"


def _region_column(df: pd.DataFrame, col: str, bad: Bad) -> None:
    """A GB/T 2260 province code (two or six digits) or a province's name (广东省, 广东, Guangdong) → the
    two-digit code; anything else is a problem with a did-you-mean among the provinces' names."""
    if col not in df:
        return
    given = df[col]
    code_of = {v: province_code(v) if v else "" for v in given.unique()}  # once per distinct value
    mapping, _ = resolve_many([v for v, c in code_of.items() if c is None])
    code_of.update({v: c[:2] for v, c in mapping.items()})
    codes = given.map(code_of)
    for i in df.index[codes.isna()]:
        v = given[i]
        bad(i, col, f"register.{col}", f"{col} {v!r} is not a GB/T 2260 province code (e.g. 44 or 440000) or a "
            "province's name" + _province_hint(v),
            f"{col} {v!r} 不是 GB/T 2260 省级代码（如 44 或 440000）或省份名称" + _province_hint(v, "zh"))
    df[col] = codes.fillna("")


def _yes_no(df: pd.DataFrame, col: str, bad: Bad) -> None:
    if col in df:
        low = df[col].str.lower()
        for i in df.index[~low.isin(YES | NO)]:
            bad(i, col, f"register.{col}", f"{col} {df.at[i, col]!r} is not yes/no",
                f"{col} {df.at[i, col]!r} 不是 yes/no（是/否）")


def _choice(df: pd.DataFrame, col: str, allowed: tuple[str, ...], words: dict[str, str], bad: Bad) -> None:
    """One word of ``allowed`` (or a word of ``words`` meaning one), did-you-mean for the rest."""
    if col not in df:
        return
    norm = df[col].map(lambda s: words.get(s, s.lower()))
    for i in df.index[(norm != "") & ~norm.isin(allowed)]:
        bad(i, col, f"register.{col}", f"{col} {df.at[i, col]!r} is not one of {', '.join(allowed)}"
            + _hint(norm[i], [*allowed, *words]),
            f"{col} {df.at[i, col]!r} 不是 {', '.join(allowed)} 之一" + _hint(norm[i], [*allowed, *words], "zh"))
    df[col] = norm


def _city_column(df: pd.DataFrame, bad: Bad) -> None:
    """``city_code``: six GB/T 2260 digits inside the row's province (a blank province becomes the city's)."""
    if "city_code" not in df:
        return
    if "region_code" not in df:
        df["region_code"] = ""
    known = set(PROVINCE_CODES)
    for i in df.index[df["city_code"] != ""]:
        city, prov = df.at[i, "city_code"], df.at[i, "region_code"]
        why = city_code_problem(city, known)
        if why:
            bad(i, "city_code", "register.city_code", why, city_code_problem(city, known, "zh"))
        elif prov and prov != city[:2]:
            bad(i, "city_code", "register.city_province", f"city_code {city} is in {_province_name(city[:2])} "
                f"({city[:2]}), not in region_code {prov} ({_province_name(prov)})",
                f"city_code {city} 位于{_province_name(city[:2])}（{city[:2]}），不在 region_code {prov}"
                f"（{_province_name(prov)}）")
        elif not prov:
            df.at[i, "region_code"] = city[:2]


def _province_name(code: str) -> str:
    t = provinces(include_out_of_scope=True).set_index("prefix")
    return str(t.at[code, "name_zh"]) if code in t.index else code


def _credit_column(df: pd.DataFrame, bad: Bad) -> None:
    """``credit_code``: a GB 32100-2015 unified social credit code (check character verified), upper-cased."""
    if "credit_code" not in df:
        return
    df["credit_code"] = df["credit_code"].map(normalise_credit_code)
    for i in df.index[df["credit_code"] != ""]:
        why = credit_code_problem(df.at[i, "credit_code"])
        if why:
            bad(i, "credit_code", "register.credit_code", why, credit_code_problem(df.at[i, "credit_code"], "zh"))
    dup = df["credit_code"].duplicated(keep=False) & (df["credit_code"] != "")
    for i in df.index[dup]:
        bad(i, "credit_code", "register.duplicate", f"credit_code {df.at[i, 'credit_code']} appears on more than one row",
            f"credit_code {df.at[i, 'credit_code']} 出现在多行")


def _credit_region(df: pd.DataFrame, bad: Bad) -> None:
    """``register.credit_region``: characters 3-8 of the credit code (the issuing registration authority's
    GB/T 2260 division) name another province than ``region_code``. A warning (the severity is the caller's
    ``credit_region`` policy): a code issued nationally (100000) is not compared, and an institution may
    operate in a province other than the one whose authority registered it; a typo in the province or the
    code gives the same finding, so it is reported."""
    if "credit_code" not in df or "region_code" not in df:
        return
    for i in df.index[(df["credit_code"] != "") & (df["region_code"] != "")]:
        code, prov = df.at[i, "credit_code"], df.at[i, "region_code"]
        issued = credit_province_mismatch(code, prov)
        if issued is not None:
            bad(i, "credit_code", "register.credit_region",
                f"credit_code {code} was issued by a registration authority of {_province_name(issued)} (division "
                f"code {credit_division(code)}, characters 3-8), but region_code is {prov} ({_province_name(prov)}): "
                "check the code and the province",
                f"credit_code {code} 由{_province_name(issued)}的登记管理机关赋码（第 3-8 位行政区划代码 "
                f"{credit_division(code)}），但 region_code 为 {prov}（{_province_name(prov)}）：请核对代码和省份",
                "warning")


def _check_institutions(df: pd.DataFrame, bad: Bad) -> None:
    _choice(df, "sector", SECTORS, SECTOR_WORDS, bad)
    _region_column(df, "region_code", bad)
    _city_column(df, bad)
    _credit_column(df, bad)
    _credit_region(df, bad)
    _choice(df, "status", ENTITY_STATUSES, STATUS_WORDS, bad)
    _yes_no(df, "listed", bad)


def _check_key_tech(df: pd.DataFrame, bad: Bad) -> None:
    _region_column(df, "region_code", bad)
    _yes_no(df, "listed", bad)
    _choice(df, "status", ENTITY_STATUSES, STATUS_WORDS, bad)
    if "technologies" in df:
        out = []
        for i, text in zip(df.index, df["technologies"], strict=True):
            words = [w.strip() for w in re.split(r"[;,，；、/|]+", text) if w.strip()]
            norm = [TECH_WORDS.get(w.lower(), w.lower().replace(" ", "_")) for w in words]
            for w, n in zip(words, norm, strict=True):
                if n not in KEY_TECHNOLOGIES:
                    bad(i, "technologies", "register.technologies", f"technology {w!r} is not one of "
                        f"{', '.join(KEY_TECHNOLOGIES)}" + _hint(n, [*KEY_TECHNOLOGIES, *TECH_WORDS]),
                        f"关键技术 {w!r} 不是 {', '.join(KEY_TECHNOLOGIES)} 之一"
                        + _hint(n, [*KEY_TECHNOLOGIES, *TECH_WORDS], "zh"))
            out.append(";".join(dict.fromkeys(norm)))
        df["technologies"] = out


def _check_vendors(df: pd.DataFrame, bad: Bad) -> None:
    _choice(df, "provider_type", PROVIDER_TYPES, {}, bad)


def _check_regions(df: pd.DataFrame, bad: Bad) -> None:
    _region_column(df, "code", bad)
    table = provinces(include_out_of_scope=True).set_index("prefix")
    for col in ("name_zh", "name_en"):
        if col not in df:
            df[col] = ""
        for i in df.index:
            code, name = df.at[i, "code"], df.at[i, col]
            if not code or code not in table.index:
                continue
            if not name:  # blank: the GB/T 2260 name
                df.at[i, col] = table.at[code, col]
                continue
            named, _ = resolve_many([name])
            other = named.get(name, "")[:2]
            if other and other != code:
                bad(i, col, "register.region_name", f"{col} {name!r} names {table.at[other, 'name_zh']} ({other}), "
                    f"not the region of code {code} ({table.at[code, 'name_zh']})",
                    f"{col} {name!r} 指的是{table.at[other, 'name_zh']}（{other}），不是代码 {code} 的地区"
                    f"（{table.at[code, 'name_zh']}）")


REGISTER_SPECS: dict[str, Register] = {
    "institutions": Register(("id", "name_zh", "name_en", "sector", "subtype", "region_code", "city_code",
                              "credit_code", "licence_no", "status", "listed"),
                             ("id", "name_zh", "sector"), _check_institutions, upsert_institutions, institutions_frame),
    "key-tech": Register(("id", "name_zh", "name_en", "region_code", "technologies", "listed", "status"),
                         ("id", "name_zh", "region_code"), _check_key_tech, upsert_key_tech, key_tech_frame),
    "vendors": Register(("id", "name_zh", "name_en", "provider_type"), ("id", "name_zh", "provider_type"),
                        _check_vendors, upsert_vendors, vendors_frame),
    "regions": Register(("code", "name_zh", "name_en"), ("code",), _check_regions, upsert_regions, regions_frame),
}
assert tuple(REGISTER_SPECS) == REGISTERS
#: the file columns of each register (kept for callers that list them)
KINDS = {k: r.columns for k, r in REGISTER_SPECS.items()}


def register_spec(kind: str) -> Register:
    """The register named ``kind`` (``key_tech`` is read as ``key-tech``); an unknown name is an error with a
    did-you-mean."""
    k = str(kind).strip().lower().replace("_", "-")
    if k not in REGISTER_SPECS:
        raise DataError(f"unknown register {kind!r}; choose one of: {', '.join(REGISTER_SPECS)}" + _hint(k, REGISTER_SPECS),
                        rule="register.kind",
                        zh=f"未知名录 {kind!r}；可选：{', '.join(REGISTER_SPECS)}" + _hint(k, REGISTER_SPECS, "zh"))
    return REGISTER_SPECS[k]


def canonical_kind(kind: str) -> str:
    register_spec(kind)
    return str(kind).strip().lower().replace("_", "-")


def _columns(df: pd.DataFrame, spec: Register, file: str) -> pd.DataFrame:
    wanted = spec.columns
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for col in df.columns:
        key = str(col).strip().lower().replace(" ", "_")
        target = _target(key, wanted)
        if target is None:
            close = closest(key, [a for k in wanted for a in ALIASES[k]])
            hint, hint_zh = (f" (did you mean {close!r}?)", f"（是否应为 {close!r}？）") if close else ("", "")
            problems.append(Problem("register.column", f"unknown column {col!r}{hint}; columns: {', '.join(wanted)}",
                                    {"file": file, "column": str(col)},
                                    message_zh=f"未知列 {col!r}{hint_zh}；可用的列：{', '.join(wanted)}"))
        elif target in found:
            problems.append(Problem("register.column", f"columns {found[target]!r} and {col!r} both give {target}",
                                    {"file": file, "column": str(col)},
                                    message_zh=f"列 {found[target]!r} 和 {col!r} 都对应 {target}"))
        else:
            found[target] = col
    id_is_credit = spec.key not in found and "credit_code" in found  # 统一社会信用代码 alone: the code is the id
    for need in spec.required:
        if need not in found and not (need == spec.key and id_is_credit):
            problems.append(Problem("register.column", f"no {need} column", {"file": file, "column": need},
                                    message_zh=f"缺少 {need} 列"))
    if problems:
        raise DataError(problems)
    out = df[list(found.values())].rename(columns={v: k for k, v in found.items()})
    if id_is_credit:
        out.insert(0, spec.key, out["credit_code"].map(normalise_credit_code))
    return out


def _target(key: str, wanted: tuple[str, ...]) -> str | None:
    """The field a header gives: of the fields listing it, the one listing it earliest (统一社会信用代码 is the
    institutions' ``credit_code`` and the key-tech enterprises' ``id``)."""
    fields = [k for k in wanted if key in ALIASES[k]]
    return min(fields, key=lambda k: ALIASES[k].index(key)) if fields else None


def read_register(path: str | Path, kind: str = "institutions", *, credit_region: str = "warning",
                  warnings: list[Problem] | None = None) -> pd.DataFrame:
    """The register file's rows, checked: every problem located (file, row, field, rule); raises
    :class:`DataError` listing them all. Findings that do not stop the file (``credit_region="warning"``,
    :data:`CREDIT_REGION_POLICIES`) are appended to ``warnings``."""
    spec = register_spec(kind)
    path = Path(path)
    file = str(path)
    df = _columns(read_table(path, "register.read"), spec, file)
    return check_register(df, spec, file, credit_region=credit_region, warnings=warnings)


def check_register(df: pd.DataFrame, spec: Register, file: str, *, credit_region: str = "warning",
                   warnings: list[Problem] | None = None) -> pd.DataFrame:
    """Rows of a register (its file columns, as text) checked and normalised (:func:`read_register`)."""
    if credit_region not in CREDIT_REGION_POLICIES:
        raise DataError(f"credit_region {credit_region!r}: one of {', '.join(CREDIT_REGION_POLICIES)}",
                        rule="register.credit_region",
                        zh=f"credit_region {credit_region!r}：应为 {', '.join(CREDIT_REGION_POLICIES)} 之一")
    df = df.apply(lambda c: c.astype(str).str.strip()).reset_index(drop=True)
    problems: list[Problem] = []
    found: list[Problem] = []
    key = spec.key

    def bad(i: int, field: str, rule: str, msg: str, zh: str, severity: str = "error") -> None:
        if rule == "register.credit_region":
            if credit_region == "off":
                return
            severity = credit_region
        p = Problem(rule, msg, {"file": file, "row": i + 2, "field": field, key: df.at[i, key] or None}, message_zh=zh)
        (problems if severity == "error" else found).append(p)

    blanks = sorted((int(i), col) for col in spec.required for i in df.index[df[col] == ""])
    for i, col in blanks:
        bad(i, col, "register.required", f"{col} is blank", f"{col} 为空")
    spec.check(df, bad)
    dup = df[key].duplicated(keep=False) & (df[key] != "")
    for i in df.index[dup]:
        bad(i, key, "register.duplicate", f"{key} {df.at[i, key]!r} appears on more than one row",
            f"{key} {df.at[i, key]!r} 出现在多行")
    if problems:
        raise DataError(problems)
    if warnings is not None:
        warnings.extend(found)
    return df.replace("", None)


def register_file(ws: Workspace, path: str | Path, kind: str = "institutions", *, who: str = "cli",
                  why: str | None = None, credit_region: str = "warning") -> RegisterReport:
    """Register (create or update) every entity of the file, all-or-nothing; changes audited. ``credit_region``
    (:data:`CREDIT_REGION_POLICIES`): a credit code issued in another province than the row's region_code is
    a warning in the report (default), an error, or not checked."""
    spec = register_spec(kind)
    warnings: list[Problem] = []
    rows = read_register(path, kind, credit_region=credit_region, warnings=warnings)
    with ws.sessions() as s, s.begin():
        stats = spec.upsert(s, rows, who=who, why=why or f"register file {Path(path).name}")
    return RegisterReport(canonical_kind(kind), str(path), len(rows), stats.inserted, stats.updated, stats.unchanged,
                          warnings)


def register_standard_regions(ws: Workspace, *, who: str = "cli", include_out_of_scope: bool = False) -> RegisterReport:
    """Register the 31 mainland province-level divisions of GB/T 2260 (with Taiwan, Hong Kong and Macao when
    ``include_out_of_scope``) from the shipped table, names zh/en; audited like a file."""
    t = provinces(include_out_of_scope=include_out_of_scope)
    rows = pd.DataFrame({"code": t["prefix"], "name_zh": t["name_zh"], "name_en": t["name_en"]})
    with ws.sessions() as s, s.begin():
        stats = upsert_regions(s, rows, who=who, why="GB/T 2260 province table")
    return RegisterReport("regions", "GB/T 2260", len(rows), stats.inserted, stats.updated, stats.unchanged)


def register_frame(ws: Workspace, kind: str = "institutions") -> pd.DataFrame:
    """The register (ordered by its key)."""
    spec = register_spec(kind)
    with ws.sessions() as s:
        return spec.frame(s)


#: the table each register is stored in (its rows' audit trail is kept under that name)
TABLES = {"institutions": "institution", "key-tech": "key_tech_enterprise", "vendors": "vendor", "regions": "region"}
SIZED = {"institutions": "institution", "key-tech": "enterprise"}


def register_history(ws: Workspace, kind: str, key: str) -> pd.DataFrame:
    """Every audited change of one registered entity and of its size attributes, oldest first: ``table, row,
    at, field, old, new, who, why``."""
    from ..store.registers import audit_trail

    rec = register_entry(ws, kind, key)
    k = canonical_kind(kind)
    ident = str(rec[register_spec(k).key])
    with ws.sessions() as s:
        parts = [audit_trail(s, TABLES[k], [ident]).assign(table=TABLES[k])]
        if k in SIZED:
            parts.append(audit_trail(s, "size_attribute", [SIZED[k], ident]).assign(table="size_attribute"))
    out = pd.concat(parts, ignore_index=True).sort_values("at", kind="stable", ignore_index=True)
    return out[["table", "row", "at", "field", "old", "new", "who", "why"]]


def register_entry(ws: Workspace, kind: str, key: str) -> dict[str, Any]:
    """One registered entity as a dict; an unknown key is an error with the register's did-you-mean."""
    spec = register_spec(kind)
    k = key
    if spec.key == "code":  # a region by its code (two or six digits) or its name
        k = province_code(key) or resolve_many([key])[0].get(key, "")[:2] or key
    with ws.sessions() as s:  # one row read (the web reads an entity per request), the register only to suggest
        row = spec.frame(s, ids=[k])
    if row.empty:
        df = register_frame(ws, kind)
        col = df.columns[0]
        raise DataError(f"{key} is not in the {canonical_kind(kind)} register" + _hint(key, df[col].tolist()),
                        rule="register.unknown", entity=key,
                        zh=f"{key} 不在 {canonical_kind(kind)} 名录中" + _hint(key, df[col].tolist(), "zh"))
    rec = row.iloc[0].to_dict()
    return {c: (None if isinstance(v, float) and np.isnan(v) else v) for c, v in rec.items()}
