"""Readers: questionnaire workbooks, long and wide CSV, JSON → one long frame and a list of problems.

Every reader returns a :class:`ReadResult` (unpackable as ``frame, problems``). ``frame`` has the columns
``entity_kind, entity_id, period, variable, value, unit, source, file, sheet, row, column, raw`` — one
row per value, ``value`` a float (NaN = missing), ``unit`` as received (blank = the variable's declared
unit), ``row``/``column`` the place of the value cell (a 1-based line/row number and a column name or
letter), ``raw`` the cell text as received. Problems are
:class:`~fintech_eval.collect.validate.CollectProblem` naming file, sheet, row, column, variable, entity.

Formats
-------
* questionnaire (.xlsx written by :func:`~fintech_eval.collect.template.write_template`): the hidden
  ``_meta`` sheet must be there (else ``template.foreign``), with this template version
  (``template.version``), the questionnaire sheet (``template.sheet_missing``) and the variable list
  and units the checksum says (``template.tampered``); the identification block must name the
  entity and period of the metadata (``template.entity_mismatch``, ``template.period_mismatch``).
  Any other .xlsx whose first sheet has a long or wide header is read as a table.
* long CSV: ``entity, period, variable, value[, unit, source, entity_kind]`` (header names in English or
  Chinese, any case).
* wide CSV: ``entity, period`` (and optionally ``entity_kind``), then one column per variable; a column
  header may carry a unit: ``fintech_investment [亿元]`` or ``fintech_investment (CNY 100m)``.
* JSON: a list of records ``{entity, period, variable, value[, unit, source]}`` and/or
  ``{entity, period, values: {variable: value | {value, unit}}}`` (or one such object, or an object with
  a ``records`` list).

Cells
-----
Numbers may have thousands separators (``1,234`` / ``1，234``) and full-width digits; ``12.5%`` is read as
12.5 in unit ``%``; yes/no words (是, 否, yes, no, true, false, 是 yes, 否 no) as 1/0 in unit ``yes/no``.
``""``, ``N/A``, ``NA``, ``-``, ``--``, ``—``, ``null``, ``none``, ``nan``, ``无``, ``不适用`` are *missing*
(the row is kept with NaN, never 0); a JSON ``null`` is an empty cell (a blank, whatever the other values
of the file are). Other text is ``cell.not_number``; a text starting with ``= + - @``
(or a tab / carriage return) that is not a number is ``cell.formula_injection`` in any column; a formula
in a questionnaire value cell is ``cell.formula`` and an Excel error value ``cell.excel_error``.

Encodings
---------
Detected per file, so that one import may mix them: UTF-8 with or without BOM, UTF-16 with a BOM, else
the encoding given (``encoding=``, the CLI's ``--encoding NAME``: for the files that are not UTF-8), else
GB18030/GBK when the text reads as Chinese (every non-ASCII character Chinese text, nine in ten ideographs
in GB2312's common set; bytes of Latin-1 that happen to decode do not). Anything else gives
``encoding.invalid`` naming ``--encoding``; text that *already* is mojibake (GBK or UTF-8 bytes once decoded
as Latin-1, e.g. ``¹¤ÉÌÒøÐÐ``) gives ``encoding.mojibake``. Nothing is decoded silently into garbage;
``ReadResult.meta["encoding"]`` says how each file was read.

Files
-----
``file.missing`` (no such file), ``file.empty`` (0 bytes or only white space), ``file.no_data`` (a
header and no rows), ``file.format`` (not the format its name says, e.g. a legacy .xls),
``file.truncated`` (an .xlsx whose zip is cut short; a CSV whose last line stops mid-record or inside
quotes — ``csv.truncated``; a JSON document that ends early — ``json.truncated``), ``csv.ragged`` (a row
with more or fewer fields than the header), ``csv.missing_column``, ``csv.duplicate_column``,
``json.invalid``, ``json.structure``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog.models import Framework
from ..errors import shown
from .numbers import MISSING_TOKENS, NUMERIC, is_injection, parse_number
from .template import META_SHEET, TEMPLATE_VERSION, template_checksum
from .unitcheck import ACCEPT_COLUMN
from .units import _parse as _parse_unit
from .validate import (
    LONG_COLUMNS,
    CollectProblem,
    applicable_variables,
    errors_in,
    normalise_period,
    normalise_periods,
    period_kind,
    problem,
)

__all__ = [
    "ReadResult",
    "parse_cell",
    "read_csv",
    "read_file",
    "read_files",
    "read_json",
    "read_long_csv",
    "read_questionnaire",
    "read_wide_csv",
]

_NUMERIC = NUMERIC

HEADER_ALIASES = {
    "entity": ("entity", "entity_id", "institution", "institution_id", "id", "机构", "机构代码", "主体"),
    "period": ("period", "year", "报告期", "年份", "期间"),
    "variable": ("variable", "var", "variable_code", "code", "变量", "变量代码", "指标变量"),
    "value": ("value", "值", "数值", "填报值"),
    "unit": ("unit", "单位"),
    "source": ("source", "来源", "数据来源"),
    "entity_kind": ("entity_kind", "kind", "主体类型"),
    ACCEPT_COLUMN: (ACCEPT_COLUMN, "accepted_reason", "接受理由", "确认理由"),
}
_HEADER_LOOKUP = {a: k for k, names in HEADER_ALIASES.items() for a in names}


@dataclass
class ReadResult:
    """What a reader got from one file: the long frame, the problems and facts about the file."""

    frame: pd.DataFrame
    problems: list[CollectProblem] = field(default_factory=list)
    format: str = ""
    file: str = ""
    sha256: str = ""
    size: int = 0
    meta: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        yield self.frame
        yield self.problems

    @property
    def ok(self) -> bool:
        return not errors_in(self.problems)


def _empty_frame() -> pd.DataFrame:
    return _EMPTY_LONG().copy()  # every reader starts from one (building it cost more than reading a return)


@lru_cache(maxsize=1)
def _EMPTY_LONG() -> pd.DataFrame:  # noqa: N802 - a constant, built once
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("value",) else "object") for c in LONG_COLUMNS})


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    if not records:
        return _empty_frame()
    df = pd.DataFrame.from_records(records, columns=LONG_COLUMNS)
    df["value"] = df["value"].astype("float64")
    return df


# ---- cells ------------------------------------------------------------------------------------------
def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s) if not s.isascii() else s


#: one cell → ``(number, unit_hint, rule)``: the one parser of every intake (:mod:`.numbers`)
parse_cell = parse_number


#: how a cell is named in a Chinese message (:func:`_cell_message`)
_WHAT_ZH = {"value": "数值", "identification field": "身份信息栏"}


def _cell_message(rule: str, raw: Any, what: str = "value", variable: str | None = None) -> tuple[str, str]:
    """The English and Chinese message of a cell that is not a number (``variable``: named at the end)."""
    text = str(raw)
    shown = text if len(text) <= 60 else text[:57] + "..."
    w = _WHAT_ZH.get(what, what)
    if rule == "cell.formula_injection":
        en = (f"{what} {shown!r} starts with {text.lstrip()[:1]!r} and is not a number: rejected as a "
              "possible spreadsheet formula injection")
        zh = f"{w} {shown!r} 以 {text.lstrip()[:1]!r} 开头且不是数字：疑似电子表格公式注入，已拒收"
    elif rule == "cell.excel_error":
        en, zh = f"{what} holds the Excel error {shown!r}, not a number", f"{w}为 Excel 错误值 {shown!r}，不是数字"
    elif rule == "cell.formula":
        en = f"{what} holds the formula {shown!r}: enter the number itself (formulas are not evaluated)"
        zh = f"{w}为公式 {shown!r}：请直接填写数字（不计算公式）"
    else:
        en = (f"{what} {shown!r} is not a number (numbers may use thousands separators like 1,234; "
              "leave blank or write N/A when not available)")
        zh = f"{w} {shown!r} 不是数字（数字可使用千位分隔符，如 1,234；无此数据时留空或填 N/A）"
    if variable:
        en, zh = en + f" (variable {variable})", zh + f"（变量 {variable}）"
    return en, zh


def _strcol(col: pd.Series) -> pd.Series:
    """Text column: str dtype, stripped, missing → ''."""
    return col.astype("str").str.strip().fillna("")


def _parse_values(raw: pd.Series, stripped: pd.Series | None = None
                  ) -> tuple[np.ndarray, dict[int, str], dict[int, str]]:
    """Vectorised :func:`parse_cell`: values, unit hints and rules (sparse: position → hint / rule).
    ``stripped``: ``_strcol(raw)`` when the caller has it already."""
    if stripped is None:
        stripped = _strcol(raw)
    numeric = stripped.str.match(_NUMERIC.pattern).to_numpy(dtype=bool)
    values = np.full(len(stripped), np.nan)
    if numeric.all() and isinstance(stripped.dtype, pd.StringDtype):  # every cell a number: no selection
        values = pc.cast(pa.array(stripped), pa.float64()).to_numpy(zero_copy_only=False)
        return (values if values.flags.writeable else values.copy()), {}, {}
    if numeric.any():
        sub = stripped[numeric]
        arr = pa.array(sub) if isinstance(sub.dtype, pd.StringDtype) else pa.array(sub.to_numpy(dtype=object), pa.string())
        values[numeric] = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    hints: dict[int, str] = {}
    rules: dict[int, str] = {}
    slow = ~numeric
    if slow.any():
        rest = np.flatnonzero(slow)
        slow[rest[stripped.iloc[rest].str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)]] = False
    for i in np.flatnonzero(slow):
        x = raw.iat[i]
        v, h, r = parse_cell(x if isinstance(x, str | bool) else stripped.iat[i])
        values[i] = v
        if h:
            hints[int(i)] = h
        if r:
            rules[int(i)] = r
    return values, hints, rules


def _parse_value_column(raw: pd.Series) -> tuple[np.ndarray, dict[int, str], dict[int, str], np.ndarray]:
    """:func:`_parse_values` of a value column, and which of its cells are blank (strip to '').
    (Value cells are mostly distinct: parsing them once per distinct text does not pay.)"""
    stripped = _strcol(raw)
    values, hints, rules = _parse_values(raw, stripped)
    return values, hints, rules, (stripped == "").to_numpy(dtype=bool)


def _injection_mask(col: pd.Series, coded: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Cells starting with = + - @ (or tab / CR) that are not numbers; checked once per distinct text.
    ``coded``: :func:`_distinct` of the column when the caller has it."""
    codes, uniq = coded if coded is not None else _distinct(col)
    bad = [k for k, u in enumerate(uniq) if is_injection(u)]
    if not bad:
        return np.zeros(len(codes), dtype=bool)
    return np.isin(codes, bad)


def _distinct(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``col.astype("str").fillna("")`` as codes into its distinct texts (an object array, in order of
    first appearance): checks of text cells look at each distinct text once, then select rows by code."""
    if len(col) <= _SMALL:  # a return's hundred cells: a dict is many times faster than pandas' factorize
        seen: dict[str, int] = {}
        codes = [seen.setdefault(_text_of(v), len(seen)) for v in col.tolist()]
        return np.asarray(codes, dtype=np.intp), np.asarray(list(seen), dtype=object)
    codes, uniq = pd.factorize(col.astype("str").fillna(""))
    return np.asarray(codes), np.asarray(uniq, dtype=object)


#: columns up to this many cells are coded in Python (:func:`_distinct`)
_SMALL = 512


def _text_of(v: Any) -> str:
    """A cell as ``astype("str").fillna("")`` has it."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return v if isinstance(v, str) else str(v)


def _strcol_coded(col: pd.Series) -> tuple[pd.Series, tuple[np.ndarray, np.ndarray]]:
    """:func:`_strcol` and :func:`_distinct` of its result, stripping each distinct text once (a column
    that strips to itself is kept as it is)."""
    s = col.astype("str")
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    codes = np.asarray(codes)
    texts = pd.Series(uniq, dtype="str")
    stripped = texts.str.strip()
    if not (codes < 0).any() and stripped.equals(texts):
        return s, (codes, np.asarray(texts, dtype=object))
    table = pd.concat([stripped, pd.Series([""], dtype="str")], ignore_index=True).array  # missing → ''
    pos = np.where(codes >= 0, codes, len(texts))
    tcodes, tuniq = pd.factorize(table)  # texts that strip alike share a code
    return pd.Series(table.take(pos), index=col.index, name=col.name), (np.asarray(tcodes)[pos],
                                                                          np.asarray(tuniq, dtype=object))


def _blank_to_na(col: pd.Series, coded: tuple[np.ndarray, np.ndarray]) -> pd.Series:
    """``col.where(col != "")`` (``coded``: its :func:`_distinct`); the column itself when nothing is blank."""
    if "" not in set(coded[1]):
        return col
    return col.where(col != "")


def _is_blank(coded: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Rows whose text is '' (``coded``: :func:`_distinct` of the column)."""
    codes, uniq = coded
    blank = np.flatnonzero(uniq == "")
    return codes == blank[0] if len(blank) else np.zeros(len(codes), dtype=bool)


def _normalise_periods_coded(col: pd.Series, uniq: np.ndarray) -> pd.Series:
    """:func:`normalise_periods` of a stripped text column with distinct texts ``uniq``: the column itself
    when every period is normal already."""
    if all(normalise_period(u) == u for u in uniq):
        return col
    return normalise_periods(col)


# ---- bytes and text -----------------------------------------------------------------------------------
_NOT_BLANK = re.compile(rb"[^ \t\r\n\x00]")  # a byte that is not white space (found without copying the data)


def _read_bytes(path: str | Path, fmt: str) -> tuple[bytes | None, list[CollectProblem]]:
    p = Path(path)
    if not p.exists():
        return None, [problem("file.missing", f"file {str(path)!r} does not exist", zh=f"文件 {str(path)!r} 不存在",
                              file=str(path))]
    data = p.read_bytes()
    if not _NOT_BLANK.search(data) or data in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return None, [problem("file.empty", f"the {fmt} file is empty ({len(data)} bytes)",
                              zh=f"该 {fmt} 文件为空（{len(data)} 字节）", file=str(path))]
    return data, []


_MOJI_RUN = re.compile(r"[\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
                       r"\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{2,}")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _demojibake(run: str) -> str | None:
    for enc in ("latin-1", "cp1252"):
        try:
            b = run.encode(enc)
        except UnicodeEncodeError:
            continue
        for dec in ("utf-8", "gb18030"):
            try:
                fixed = b.decode(dec)
            except UnicodeDecodeError:
                continue
            if _CJK.search(fixed) and len(_CJK.findall(fixed)) * 2 >= len(fixed.strip()):
                return fixed
    return None


def _mojibake_in(df: pd.DataFrame, cols: Iterable[str], line_no: np.ndarray, file: str,
                 sheet: str | None, coded: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                 ) -> list[CollectProblem]:
    """Text cells that are Chinese decoded with the wrong encoding once already (checked per distinct text).
    ``coded``: :func:`_distinct` of the columns when the caller has it."""
    out: list[CollectProblem] = []
    for c in cols:
        if c not in df.columns:
            continue
        codes, uniq = coded[c] if coded and c in coded else _distinct(df[c])
        for k, text in enumerate(uniq):
            if not isinstance(text, str) or text.isascii():
                continue
            m = _MOJI_RUN.search(text)
            fixed = _demojibake(m.group(0)) if m else None
            if not fixed:
                continue
            i = int(np.flatnonzero(codes == k)[0])
            out.append(problem(
                "encoding.mojibake",
                f"{c} {text!r} looks like Chinese decoded with the wrong encoding (it reads as {fixed!r}): "
                "the file was converted wrongly once already — export it again as UTF-8",
                zh=f"{c} {text!r} 疑似以错误编码解码的中文（应为 {fixed!r}）：文件此前已被错误转换过一次，请重新导出为 UTF-8",
                file=file, sheet=sheet, row=int(line_no[i]), column=c))
    return out


#: characters of Chinese text other than ideographs (CJK and full-width punctuation, quotes, dashes, ellipses)
_CHINESE_TEXT = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2010-\u2027\u00b7]")


def _plausible_chinese(text: str) -> bool:
    """Whether a text decoded as GB18030 reads as Chinese, not as bytes of another encoding that happen to
    decode (Latin-1 ``ü`` + a letter is a valid GB18030 pair): every non-ASCII character is Chinese text
    and nine in ten of its ideographs are in GB2312's common set."""
    rest = [ch for ch in text if not ch.isascii()]
    if not rest:
        return True
    if any(not _CHINESE_TEXT.match(ch) for ch in rest):
        return False
    ideographs = [ch for ch in rest if "\u3400" <= ch <= "\u9fff"]
    common = 0
    for ch in ideographs:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * len(ideographs)


ENCODING_OPTION = "--encoding"  # the CLI option messages name (never Python syntax)


def _decode(data: bytes, file: str, encoding: str | None) -> tuple[str | None, list[CollectProblem], str | None]:
    """The text of a file and the encoding it was read with, detected per file: a UTF-8 or UTF-16 byte-order
    mark, else UTF-8, else ``encoding`` (the one given for files that are not UTF-8), else GB18030/GBK when
    the text reads as Chinese (so one call may mix GBK files with files of the encoding given). Anything else
    is ``encoding.invalid`` naming the CLI option to use."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        bom = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").lstrip("\ufeff"), [], "utf-16"
        except UnicodeDecodeError as exc:
            return None, [problem("encoding.invalid", f"the file has a UTF-16 mark but is not UTF-16: {exc}",
                                  zh=f"文件带有 UTF-16 字节顺序标记，但内容不是 UTF-16：{exc}", file=file)], None
    else:
        bom = None
    try:
        return data.decode("utf-8"), [], bom or "utf-8"
    except UnicodeDecodeError as exc:
        bad_at, line = exc.start, data.count(b"\n", 0, exc.start) + 1
    if bom and not encoding:  # a UTF-8 mark on bytes that are not UTF-8: the file contradicts itself
        return None, [problem(
            "encoding.invalid", f"the file starts with a UTF-8 byte-order mark but is not UTF-8 (byte 0x{data[bad_at]:02x} "
            f"on line {line}): save it again as UTF-8, or give its real encoding with {ENCODING_OPTION} NAME",
            zh=f"文件以 UTF-8 字节顺序标记开头，但内容不是 UTF-8（第 {line} 行的字节 0x{data[bad_at]:02x}）："
               f"请重新保存为 UTF-8，或用 {ENCODING_OPTION} 编码名 指明其实际编码",
            file=file, row=line)], None
    given_fails = None
    if encoding:
        try:
            return data.decode(encoding).lstrip("\ufeff"), [], encoding
        except (UnicodeDecodeError, LookupError) as exc:
            given_fails = f"no encoding is called {encoding!r}" if isinstance(exc, LookupError) else str(exc)
    try:
        gb = data.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    if gb is not None and _plausible_chinese(gb):
        return gb, [], "gb18030"
    if given_fails:
        return None, [problem(
            "encoding.invalid", f"the file is neither UTF-8 nor GB18030/GBK (line {line}) and cannot be read as "
            f"{ENCODING_OPTION} {encoding}: {given_fails}",
            zh=f"文件既不是 UTF-8 也不是 GB18030/GBK（第 {line} 行），也无法按 {ENCODING_OPTION} {encoding} 读取：{given_fails}",
            file=file, row=line)], None
    return None, [problem(
        "encoding.invalid",
        f"the file is neither UTF-8 (byte 0x{data[bad_at]:02x} at offset {bad_at}, line {line}) nor GB18030/GBK "
        f"Chinese text: save it as UTF-8 (Excel: CSV UTF-8), or give its encoding with {ENCODING_OPTION} NAME "
        f"(e.g. {ENCODING_OPTION} big5)",
        zh=f"文件既不是 UTF-8（第 {line} 行偏移 {bad_at} 处的字节 0x{data[bad_at]:02x}），也不是 GB18030/GBK 中文文本："
           f"请另存为 UTF-8（Excel：CSV UTF-8），或用 {ENCODING_OPTION} 编码名 指明编码（如 {ENCODING_OPTION} big5）",
        file=file, row=line)], None


# ---- CSV ----------------------------------------------------------------------------------------------
def _utf8_of(data: bytes, used: str | None) -> bytes | None:
    """The UTF-8 bytes of the text :func:`_decode` made of ``data`` when they are ``data`` itself (read as
    UTF-8, less a byte-order mark); None otherwise."""
    if used not in ("utf-8", "utf-8-sig"):
        return None
    return data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _canonical_headers(cols: list[str]) -> list[str]:
    return [_HEADER_LOOKUP.get(_nfkc(c).strip().lower(), c.strip()) for c in cols]


def _parse_csv(text: str, file: str, utf8: bytes | None = None
               ) -> tuple[pd.DataFrame | None, np.ndarray | None, list[CollectProblem]]:
    """CSV text → frame of str (header canonicalised) and the line number of each row.
    ``utf8``: the text's UTF-8 bytes when the caller has them (saves encoding a large text again).
    Line ends may be LF, CRLF or a bare CR (classic Mac OS): all are read as LF, and a line number is the
    line an editor shows."""
    if "\r" in text and re.search(r"\r(?!\n)", text):
        text, utf8 = re.sub(r"\r\n?", "\n", text), None
    first = next((ln for ln in text[:65536].splitlines() if ln.strip()), "")
    delim = _delimiter(first)
    df = None
    encoded = (utf8 if utf8 is not None else text.encode("utf-8")) if len(text) > 1 << 20 else None
    if encoded is not None:  # large files: the multi-threaded Arrow parser; anything unusual falls back to C
        try:
            df = pd.read_csv(io.BytesIO(encoded), sep=delim, dtype=str, keep_default_na=False,
                             na_values=[], engine="pyarrow")
        except Exception:  # ragged rows, quoted newlines...: the C parser reports them precisely
            df = None
    try:
        if df is None:
            df = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, na_filter=False,
                             skip_blank_lines=True, engine="c")
    except pd.errors.EmptyDataError:
        return None, None, [problem("file.empty", "the CSV file has no header", zh="CSV 文件没有表头", file=file)]
    except pd.errors.ParserError as exc:
        msg = str(exc)
        if "EOF inside string" in msg or "EOF following escape" in msg:
            m = re.search(r"row (\d+)", msg)
            start = int(m.group(1)) + 1 if m else None
            return None, None, [problem(
                "csv.truncated",
                "the file ends inside a quoted field (an opening quote is never closed): it looks truncated"
                + (f"; the quote opens on line {start}" if start else ""),
                zh="文件在引号字段内结束（左引号没有闭合）：文件疑似被截断"
                + (f"；引号始于第 {start} 行" if start else ""),
                file=file, row=start)]
        return _parse_csv_slow(text, delim, file, msg)
    if not isinstance(df.index, pd.RangeIndex):
        # the first data row has more fields than the header: pandas then takes the first column(s) as the
        # index and every column name shifts (the entity read as the period, …). Read record by record, which
        # reports each row with more (or fewer) fields than the header as csv.ragged and leaves it out.
        return _parse_csv_slow(text, delim, file, "a row has more fields than the header")
    # the header as written: pandas renames a repeated name (value, value.1), which would hide it
    written = _fields_of_line(first, delim) if first else []
    header = _canonical_headers(written if len(written) == len(df.columns) else [str(c) for c in df.columns])
    probs: list[CollectProblem] = []
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        probs.append(problem("csv.duplicate_column", f"column(s) {', '.join(dups)} appear more than once in the header",
                             zh=f"表头中列 {', '.join(dups)} 出现了不止一次", file=file, row=1, column=", ".join(dups)))
        return None, None, probs
    df.columns = header
    ncol = len(header)
    # line numbers: one record per line unless a quoted field holds a newline
    multiline = '"' in text and any(df[c].astype("str").str.contains(r"[\r\n]", regex=True).any() for c in df.columns)
    # (a newline byte in UTF-8 is always the character \n: counting bytes is much faster on large texts)
    n_lines = (encoded.count(b"\n") if encoded is not None else text.count("\n")) + (0 if text.endswith("\n") else 1)
    blank_lines = n_lines != len(df) + 1  # blank or white-space lines (pandas skips them) or \r-only ends
    lines: list[str] | None = None
    if multiline:
        rdr = csv.reader(io.StringIO(text), delimiter=delim)
        nums = []
        prev = 0
        for rec in rdr:
            if rec and any(x.strip() for x in rec):
                nums.append(prev + 1)
            prev = rdr.line_num
        line_no = np.asarray(nums[1:1 + len(df)])
    elif blank_lines:
        lines = text.splitlines()
        nonblank = [i + 1 for i, ln in enumerate(lines) if ln.strip()]
        line_no = np.asarray(nonblank[1:1 + len(df)])
    else:
        line_no = np.arange(2, 2 + len(df))
    if len(df) == 0:
        return df, line_no, probs
    # a short last line without a final newline: truncated
    ends_nl = text.endswith(("\n", "\r"))
    last_line = text[text.rfind("\n") + 1:]
    last_fields = _fields_of_line(last_line, delim)
    if not ends_nl and len(last_fields) < ncol:
        probs.append(problem(
            "csv.truncated",
            f"the last line stops after {len(last_fields)} of {ncol} fields with no line end "
            f"({last_line[-40:]!r}): the file looks truncated",
            zh=f"最后一行只有 {ncol} 个字段中的 {len(last_fields)} 个且没有换行符（{last_line[-40:]!r}）：文件疑似被截断",
            file=file, row=int(line_no[-1])))
        df = df.iloc[:-1]
        line_no = line_no[:-1]
    # short rows elsewhere (pandas pads them with empty strings): check those lines exactly
    if ncol > 1 and len(df):
        tail_empty = (df[df.columns[-1]] == "").to_numpy(dtype=bool)
        if tail_empty.any() and not multiline:
            if lines is None:
                lines = text.splitlines()
            short = []
            for i in np.flatnonzero(tail_empty):
                ln = lines[int(line_no[i]) - 1]
                nf = len(_fields_of_line(ln, delim))
                if nf < ncol:
                    short.append(i)
                    probs.append(problem("csv.ragged", f"the row has {nf} fields, the header has {ncol}",
                                         zh=f"该行有 {nf} 个字段，表头有 {ncol} 个", file=file, row=int(line_no[i])))
            if short:
                keep = np.ones(len(df), dtype=bool)
                keep[short] = False
                df, line_no = df[keep], line_no[keep]
    return df.reset_index(drop=True), line_no, probs


def _fields_of_line(line: str, delim: str) -> list[str]:
    """The fields of one CSV line; a line the csv module refuses (a field over its size limit, which pandas read)
    is split at the delimiters, so that a long text is reported by the text rules, not a traceback."""
    try:
        return next(csv.reader([line], delimiter=delim), [])
    except csv.Error:
        return line.split(delim)


def _parse_csv_slow(text: str, delim: str, file: str, msg: str
                    ) -> tuple[pd.DataFrame | None, np.ndarray | None, list[CollectProblem]]:
    """Record by record (after the fast parser gave up): ragged rows are reported and left out, the rest read."""
    rdr = csv.reader(io.StringIO(text), delimiter=delim)
    probs: list[CollectProblem] = []
    header: list[str] | None = None
    rows: list[list[str]] = []
    nums: list[int] = []
    prev = 0
    try:
        for rec in rdr:
            start, prev = prev + 1, rdr.line_num
            if not rec or not any(x.strip() for x in rec):
                continue
            if header is None:
                header = rec
                continue
            if len(rec) != len(header):
                last = rdr.line_num >= text.count("\n") + 1 and not text.endswith(("\n", "\r"))
                if last and len(rec) < len(header):
                    probs.append(problem("csv.truncated", f"the last line stops after {len(rec)} of {len(header)} "
                                         "fields with no line end: the file looks truncated",
                                         zh=f"最后一行只有 {len(header)} 个字段中的 {len(rec)} 个且没有换行符：文件疑似被截断",
                                         file=file, row=start))
                else:
                    probs.append(problem("csv.ragged", f"the row has {len(rec)} fields, the header has {len(header)}",
                                         zh=f"该行有 {len(rec)} 个字段，表头有 {len(header)} 个", file=file, row=start))
                continue
            rows.append(rec)
            nums.append(start)
    except csv.Error as exc:
        probs.append(problem("csv.invalid", f"the CSV does not parse at line {rdr.line_num}: {exc}",
                             zh=f"CSV 在第 {rdr.line_num} 行无法解析：{exc}", file=file, row=rdr.line_num))
        return None, None, probs
    if header is None:
        return None, None, [problem("csv.invalid", f"the CSV does not parse: {msg}", zh=f"CSV 无法解析：{msg}", file=file)]
    cols = _canonical_headers(header)
    dups = sorted({h for h in cols if cols.count(h) > 1})
    if dups:
        probs.append(problem("csv.duplicate_column", f"column(s) {', '.join(dups)} appear more than once in the header",
                             zh=f"表头中列 {', '.join(dups)} 出现了不止一次", file=file, row=1, column=", ".join(dups)))
        return None, None, probs
    df = pd.DataFrame(rows, columns=cols, dtype="str") if rows else pd.DataFrame(columns=cols, dtype="str")
    return df, np.asarray(nums, dtype=np.int64), probs


def _text_problems(df: pd.DataFrame, cols: Iterable[str], line_no: np.ndarray, file: str,
                   sheet: str | None = None, coded: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                   ) -> tuple[list[CollectProblem], np.ndarray]:
    """Formula-injection check of text columns; returns problems and the mask of bad rows.
    ``coded``: :func:`_distinct` of the columns when the caller has it."""
    out: list[CollectProblem] = []
    bad = np.zeros(len(df), dtype=bool)
    for c in cols:
        if c not in df.columns:
            continue
        mask = _injection_mask(df[c], coded.get(c) if coded else None)
        for i in np.flatnonzero(mask):
            en, zh = _cell_message("cell.formula_injection", df[c].iat[i], c)
            out.append(problem("cell.formula_injection", en, zh=zh, file=file, sheet=sheet, row=int(line_no[i]), column=c,
                               entity=_get(df, "entity", i), variable=_get(df, "variable", i)))
        bad |= mask
    return out, bad


def _get(df: pd.DataFrame, col: str, i: int) -> Any:
    return df[col].iat[i] if col in df.columns else None


def _cell_problems(raw: pd.Series, rules: dict[int, str], line_no: np.ndarray, file: str, column: pd.Series,
                   entity: pd.Series | None, variable: pd.Series | None, sheet: str | None = None) -> list[CollectProblem]:
    out = []
    for i, rule in rules.items():
        var = variable.iat[i] if variable is not None else None
        en, zh = _cell_message(rule, raw.iat[i], variable=var)
        out.append(problem(rule, en, zh=zh, file=file, sheet=sheet, row=int(line_no[i]), column=column.iat[i],
                           entity=entity.iat[i] if entity is not None else None, variable=var))
    return out


def _reconcile_units(unit: pd.Series, hints: dict[int, str], line_no: np.ndarray, file: str, column: pd.Series,
                     entity: pd.Series, variable: pd.Series, raw: pd.Series, sheet: str | None = None,
                     stripped: bool = False) -> tuple[pd.Series, np.ndarray, list[CollectProblem]]:
    """A unit hint from the cell (``12%``, ``是``) fills a blank unit; against another unit it is an error.
    ``stripped``: ``unit`` is a :func:`_strcol` result already."""
    units = unit if stripped else _strcol(unit)
    bad = np.zeros(len(units), dtype=bool)
    out = []
    if not hints:
        return units, bad, out
    units = units.astype("object")
    for i, h in hints.items():
        u = units.iat[i]
        if not u:
            units.iat[i] = h
            continue
        pu, ph = _parse_unit(u), _parse_unit(h)
        if pu is not None and ph is not None and pu.dims & ph.dims and (h != "%" or u == h or abs(pu.factor - ph.factor) < 1e-12):
            continue
        out.append(problem("cell.unit_conflict",
                           f"value {raw.iat[i]!r} is written as {h!r} but the unit given is {u!r}",
                           zh=f"数值 {raw.iat[i]!r} 按 {h!r} 书写，但填写的单位是 {u!r}",
                           file=file, sheet=sheet, row=int(line_no[i]), column=column.iat[i],
                           entity=entity.iat[i], variable=variable.iat[i]))
        bad[i] = True
    return units.astype("str"), bad, out


def _is_public_banks(header: list[str]) -> bool:
    h = {x.strip().lower() for x in header}
    return {"bank_zh", "bank_en", "item", "value", "unit"} <= h


def read_csv(path: str | Path, *, encoding: str | None = None, kind: str | None = None) -> ReadResult:
    """Read a long or wide CSV (``kind`` 'long' / 'wide' or None: by the header)."""
    file = str(path)
    data, probs = _read_bytes(path, "CSV")
    if data is None:
        return ReadResult(_empty_frame(), probs, kind or "csv", file)
    res = ReadResult(_empty_frame(), [], kind or "csv", file, hashlib.sha256(data).hexdigest(), len(data))
    text, probs, used = _decode(data, file, encoding)
    res.problems += probs
    if text is None:
        return res
    res.meta["encoding"] = used or ""
    table, line_no, probs = _parse_csv(text, file, _utf8_of(data, used))
    res.problems += probs
    if table is None:
        return res
    if _is_public_banks(list(table.columns)):
        from .public_banks import COLUMNS, read_public_banks

        lacking = [c for c, h in zip(COLUMNS, _canonical_headers(list(COLUMNS)), strict=True) if h not in table.columns]
        if lacking:
            res.problems.append(problem(
                "csv.missing_column", f"the header looks like the public bank file's but lacks {', '.join(lacking)} "
                f"(its columns are {', '.join(COLUMNS)})",
                zh=f"表头看似银行公开数据文件，但缺少 {', '.join(lacking)}（其列应为 {', '.join(COLUMNS)}）", file=file, row=1, column=", ".join(lacking)))
            return res
        pb = read_public_banks(path, text=text)
        return ReadResult(pb.observations[LONG_COLUMNS].copy(), pb.problems, "public_banks", file, res.sha256, res.size)
    if kind is None:  # a table naming a variable or value column is long (and must have both)
        kind = "long" if {"variable", "value"} & set(table.columns) else "wide"
    res.format = f"{kind}_csv"
    frame, probs = _table_to_long(table, line_no, file, kind, sheet=None)
    res.frame = frame
    res.problems += probs
    res.problems.sort(key=lambda q: q.where.get("row") or 0)
    return res


def _table_to_long(table: pd.DataFrame, line_no: np.ndarray, file: str, kind: str, sheet: str | None
                   ) -> tuple[pd.DataFrame, list[CollectProblem]]:
    probs: list[CollectProblem] = []
    required = ["entity", "period", "variable", "value"] if kind == "long" else ["entity", "period"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        probs.append(problem(
            "csv.missing_column",
            f"the {kind} table needs the column(s) {', '.join(missing)}; its header is {', '.join(map(str, table.columns))}",
            zh=f"{'长' if kind == 'long' else '宽'}表需要列 {', '.join(missing)}；其表头为 {', '.join(map(str, table.columns))}",
            file=file, sheet=sheet, row=1, column=", ".join(missing)))
        return _empty_frame(), probs
    if len(table) == 0:
        probs.append(problem("file.no_data", "the table has a header but no rows", zh="表格只有表头，没有数据行",
                             file=file, sheet=sheet, row=1))
        return _empty_frame(), probs
    if kind == "wide":
        if ACCEPT_COLUMN in table.columns:  # one reason per row cannot say which of its values it accepts
            probs.append(problem("csv.accept_reason_wide", f"a wide table cannot carry {ACCEPT_COLUMN}: a row holds many "
                                 "values and the column cannot say which one it accepts; give the values in a long "
                                 "table (entity, period, variable, value, accept_reason) or use --accept-unit",
                                 zh=f"宽表不能包含 {ACCEPT_COLUMN} 列：一行有多个数值，该列无法说明接受的是哪一个；"
                                 "请改用长表（entity, period, variable, value, accept_reason）报送，或使用 --accept-unit",
                                 file=file, sheet=sheet, row=1, column=ACCEPT_COLUMN))
            return _empty_frame(), probs
        id_cols = [c for c in ("entity", "period", "entity_kind", "source") if c in table.columns]
        var_cols = [c for c in table.columns if c not in id_cols]
        if not var_cols:
            probs.append(problem("csv.missing_column", "the wide table has no variable columns after entity, period",
                                 zh="宽表在 entity、period 之后没有变量列", file=file, sheet=sheet, row=1))
            return _empty_frame(), probs
        parsed = []
        for c in var_cols:
            m = re.fullmatch(r"\s*([A-Za-z][A-Za-z0-9_:.-]*)\s*[\[(（](.+?)[\])）]\s*", str(c))
            parsed.append((c, m.group(1), m.group(2).strip()) if m else (c, str(c).strip(), ""))
        n = len(table)
        long = pd.DataFrame({
            "entity": np.tile(table["entity"].to_numpy(dtype=object), len(var_cols)),
            "period": np.tile(table["period"].to_numpy(dtype=object), len(var_cols)),
            "entity_kind": np.tile(table["entity_kind"].to_numpy(dtype=object), len(var_cols))
            if "entity_kind" in table.columns else "",
            "source": np.tile(table["source"].to_numpy(dtype=object), len(var_cols))
            if "source" in table.columns else "",
            "variable": np.repeat([p[1] for p in parsed], n),
            "unit": np.repeat([p[2] for p in parsed], n),
            "value": np.concatenate([table[c].to_numpy(dtype=object) for c in var_cols]),
            "_column": np.repeat([str(p[0]) for p in parsed], n),
        })
        line_no = np.tile(line_no, len(var_cols))
        table = long
    else:
        for c in ("unit", "source", "entity_kind"):
            if c not in table.columns:
                table = table.assign(**{c: ""})
        table = table.assign(_column="value")
    table = table.reset_index(drop=True)
    coded: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # text column -> codes, distinct texts
    reasons = [ACCEPT_COLUMN] if ACCEPT_COLUMN in table.columns else []  # the return's acceptances (long only)
    for c in ("entity", "variable", "unit", "source", "entity_kind", "period", *reasons):
        table[c], coded[c] = _strcol_coded(table[c])
    text_probs, bad = _text_problems(table, ["entity", "period", "variable", "unit", "source", "entity_kind", *reasons],
                                     line_no, file, sheet, coded)
    probs += text_probs
    probs += _mojibake_in(table, ["entity", "variable", "unit", "source", "entity_kind", *reasons], line_no, file, sheet,
                          coded)
    raw = table["value"]
    values, hints, rules, raw_blank = _parse_value_column(raw)
    probs += _cell_problems(raw, rules, line_no, file, table["_column"], table["entity"], table["variable"], sheet)
    if rules:
        bad[list(rules)] = True
    units, ubad, uprobs = _reconcile_units(table["unit"], hints, line_no, file, table["_column"],
                                           table["entity"], table["variable"], raw, sheet, stripped=True)
    probs += uprobs
    bad |= ubad
    empty_key = _is_blank(coded["entity"]) & _is_blank(coded["variable"]) & np.isnan(values)
    keep = ~bad & ~empty_key
    raw_s = raw.astype("str")
    frame = pd.DataFrame({
        "entity_kind": _blank_to_na(table["entity_kind"], coded["entity_kind"]),
        "entity_id": table["entity"],
        "period": _normalise_periods_coded(table["period"], coded["period"][1]),
        "variable": table["variable"],
        "value": values,
        "unit": units.where(units != "") if hints else _blank_to_na(units, coded["unit"]),
        "source": _blank_to_na(table["source"], coded["source"]),
        "file": file,
        "sheet": sheet,
        "row": line_no.astype("int64"),
        "column": table["_column"],
        "raw": raw_s.where(~raw_blank) if raw_blank.any() else raw_s,  # (missing stays missing either way)
    })
    if reasons:
        frame[ACCEPT_COLUMN] = _blank_to_na(table[ACCEPT_COLUMN], coded[ACCEPT_COLUMN])
    if not keep.all():
        frame = frame[keep]
    return frame.reset_index(drop=True), probs


def read_long_csv(path: str | Path, *, encoding: str | None = None) -> ReadResult:
    """Long CSV: ``entity, period, variable, value[, unit, source]``."""
    return read_csv(path, encoding=encoding, kind="long")


def read_wide_csv(path: str | Path, *, encoding: str | None = None) -> ReadResult:
    """Wide CSV: ``entity, period`` then one column per variable (``name [unit]`` allowed)."""
    return read_csv(path, encoding=encoding, kind="wide")


# ---- JSON ---------------------------------------------------------------------------------------------
def read_json(path: str | Path, *, encoding: str | None = None) -> ReadResult:
    """JSON records (module doc). ``row`` is the 1-based record number, ``column`` the key path."""
    file = str(path)
    data, probs = _read_bytes(path, "JSON")
    if data is None:
        return ReadResult(_empty_frame(), probs, "json", file)
    res = ReadResult(_empty_frame(), [], "json", file, hashlib.sha256(data).hexdigest(), len(data))
    text, probs, used = _decode(data, file, encoding)
    res.problems += probs
    if text is None:
        return res
    res.meta["encoding"] = used or ""
    try:
        doc = json.loads(text, parse_int=_json_int, object_pairs_hook=_JsonObject.of)
    except RecursionError:
        res.problems.append(problem("json.invalid", "the JSON is nested too deeply to be records (thousands of "
                                    "levels of [ or {): it is not a return",
                                    zh="JSON 嵌套过深（数千层 [ 或 {），不是记录列表：这不是一份报表", file=file))
        return res
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith(("Unterminated string", "Expecting value"))
        at_end = (at_end and exc.pos >= len(text.rstrip()) - 2) or exc.msg.startswith("Unterminated string")
        rule = "json.truncated" if at_end else "json.invalid"
        what = "the JSON document ends early: it looks truncated" if at_end else "the JSON does not parse"
        what_zh = "JSON 文档提前结束：疑似被截断" if at_end else "JSON 无法解析"
        res.problems.append(problem(rule, f"{what} ({exc.msg} at line {exc.lineno} column {exc.colno})",
                                    zh=f"{what_zh}（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）", file=file, row=exc.lineno, column=exc.colno))
        return res
    if isinstance(doc, dict) and isinstance(doc.get("records"), list):
        doc = doc["records"]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        res.problems.append(problem("json.structure", "the JSON must be a list of records or an object "
                                    "{entity, period, values}", zh="JSON 须为记录列表或对象 {entity, period, values}",
                                    file=file))
        return res
    if not doc:
        res.problems.append(problem("file.no_data", "the JSON holds no records", zh="JSON 中没有记录", file=file))
        return res
    rows: list[dict[str, Any]] = []
    for k, rec in enumerate(doc, start=1):
        if not isinstance(rec, dict):
            res.problems.append(problem("json.structure", f"record {k} is a {type(rec).__name__}, not an object",
                                        zh=f"第 {k} 条记录是 {type(rec).__name__}，不是对象", file=file, row=k))
            continue
        dups = [*getattr(rec, "duplicates", []),
                *(f"values.{d}" for d in getattr(rec.get("values"), "duplicates", []))]
        if dups:
            res.problems.append(problem("json.duplicate_key", f"record {k} gives the key(s) "
                                        f"{', '.join(map(shown, dups))} more than once (which one counts?)",
                                        zh=f"第 {k} 条记录多次给出键 {', '.join(map(shown, dups))}（以哪一个为准？）",
                                        file=file, row=k, column=", ".join(dups)))
            continue
        lower = {_HEADER_LOOKUP.get(str(key).strip().lower(), str(key)): v for key, v in rec.items()}
        base = {c: lower.get(c) for c in ("entity", "period", "entity_kind", "source")}
        nested = [c for c in ("entity", "period", "entity_kind", "source", "variable", "unit")
                  if isinstance(lower.get(c), list | dict)]
        if nested:
            res.problems.append(problem("json.structure", f"record {k}: {', '.join(nested)} must be text, not a list "
                                        "or an object", zh=f"第 {k} 条记录：{', '.join(nested)} 须为文本，不能是列表或对象",
                                        file=file, row=k, column=", ".join(nested)))
            continue
        missing = [c for c in ("entity", "period") if base[c] in (None, "")]
        if "values" in rec and isinstance(rec["values"], dict):
            items = [(f"values.{var}", var, v) for var, v in rec["values"].items()]
        elif "variable" in lower and "value" in lower:
            items = [("value", lower["variable"], {"value": lower["value"], "unit": lower.get("unit"),
                                                   ACCEPT_COLUMN: lower.get(ACCEPT_COLUMN)})]
        else:
            missing += ["variable and value, or values"]
            items = []
        if missing:
            res.problems.append(problem("json.structure", f"record {k} lacks {', '.join(missing)}",
                                        zh=f"第 {k} 条记录缺少 " + "、".join(m.replace("variable and value, or values",
                                                                                 "variable 和 value（或 values）")
                                                                       for m in missing),
                                        file=file, row=k, entity=base["entity"]))
            continue
        for col, var, v in items:
            unit = reason = None
            if isinstance(v, dict):
                unit, reason, v = v.get("unit"), v.get(ACCEPT_COLUMN), v.get("value")
            if isinstance(v, list | dict):
                res.problems.append(problem("cell.not_number", f"value of {var} is a {type(v).__name__}, not a number",
                                            zh=f"{var} 的值是 {type(v).__name__}，不是数字", file=file, row=k, column=col, variable=str(var), entity=str(base["entity"])))
                continue
            rows.append({"entity": "" if base["entity"] is None else str(base["entity"]),
                         "period": normalise_period(base["period"]), "variable": str(var),
                         "value": v, "unit": "" if unit is None else str(unit),
                         "source": "" if base["source"] is None else str(base["source"]),
                         "entity_kind": "" if base["entity_kind"] is None else str(base["entity_kind"]),
                         ACCEPT_COLUMN: "" if reason is None else str(reason), "_column": col, "_row": k})
    if not rows:
        return res
    t = pd.DataFrame(rows)
    line_no = t.pop("_row").to_numpy()
    # the values as the JSON gave them (a frame would make 7 a 7.0 and a null a NaN beside numbers)
    t["value"] = pd.Series([r["value"] for r in rows], dtype=object)
    frame, probs = _table_to_long_json(t, line_no, file)
    res.frame = frame
    res.problems += probs
    return res


def _json_int(text: str) -> int | float:
    """A JSON integer: exact up to 18 digits, else a float (``inf`` beyond its range, rejected as not finite):
    never Python's slow and limited (4,300 digits) conversion of a huge integer."""
    return int(text) if len(text) <= 18 else float(text)


class _JsonObject(dict):
    """A JSON object that remembers the keys given more than once (the last would win silently)."""

    duplicates: list[str]

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls(pairs)
        obj.duplicates = [] if len(obj) == len(pairs) else sorted({k for k, _ in pairs if [p[0] for p in pairs].count(k) > 1})
        return obj


def _table_to_long_json(t: pd.DataFrame, line_no: np.ndarray, file: str) -> tuple[pd.DataFrame, list[CollectProblem]]:
    probs: list[CollectProblem] = []
    cols = ("entity", "period", "variable", "unit", "source", "entity_kind", ACCEPT_COLUMN)
    coded = {c: _distinct(t[c]) for c in cols if c in t.columns}
    text_probs, bad = _text_problems(t, list(cols), line_no, file, coded=coded)
    probs += text_probs
    probs += _mojibake_in(t, [c for c in cols if c != "period"], line_no, file, None, coded)
    parsed = [parse_cell(v) for v in t["value"]]
    values = np.array([p[0] for p in parsed], dtype="float64")
    hints = {i: p[1] for i, p in enumerate(parsed) if p[1]}
    rules = {i: p[2] for i, p in enumerate(parsed) if p[2]}
    raw = pd.Series([None if v is None else (json.dumps(v) if not isinstance(v, str) else v) for v in t["value"]],
                    dtype="object")
    probs += _cell_problems(raw, rules, line_no, file, t["_column"], t["entity"], t["variable"])
    if rules:
        bad[list(rules)] = True
    units, ubad, uprobs = _reconcile_units(t["unit"], hints, line_no, file, t["_column"], t["entity"], t["variable"], raw)
    probs += uprobs
    bad |= ubad
    frame = pd.DataFrame({
        "entity_kind": t["entity_kind"].where(t["entity_kind"] != ""),
        "entity_id": t["entity"], "period": t["period"], "variable": t["variable"], "value": values,
        "unit": units.where(units != ""),
        "source": t["source"].where(t["source"] != ""), "file": file, "sheet": None,
        "row": line_no.astype("int64"), "column": t["_column"], "raw": raw,
    })
    if (t[ACCEPT_COLUMN] != "").any():  # the return's acceptances, only when it gives some
        frame[ACCEPT_COLUMN] = t[ACCEPT_COLUMN].where(t[ACCEPT_COLUMN] != "")
    return frame[~bad].reset_index(drop=True), probs


# ---- questionnaire workbooks --------------------------------------------------------------------------
def _open_xlsx(data: bytes, file: str) -> tuple[Any, list[CollectProblem]]:
    from openpyxl import load_workbook

    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None, [problem("file.format", "this is a legacy Excel 97-2003 (.xls) file: save it as .xlsx",
                              zh="这是旧版 Excel 97-2003（.xls）文件：请另存为 .xlsx", file=file)]
    if not data.startswith(b"PK"):
        return None, [problem("file.format", "the file is not an .xlsx workbook (no zip signature)",
                              zh="该文件不是 .xlsx 工作簿（没有 zip 签名）", file=file)]
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        bad = zf.testzip()
        if bad is not None:
            return None, [problem("file.truncated", f"the workbook is damaged (part {bad} fails its CRC check)",
                                  zh=f"工作簿已损坏（部件 {bad} 未通过 CRC 校验）", file=file)]
    except zipfile.BadZipFile as exc:
        return None, [problem("file.truncated",
                              f"the workbook cannot be opened ({exc}): the .xlsx looks truncated or damaged",
                              zh=f"工作簿无法打开（{exc}）：该 .xlsx 疑似被截断或已损坏", file=file)]
    except (EOFError, OSError, zipfile.LargeZipFile) as exc:
        return None, [problem("file.truncated", f"the workbook cannot be read ({exc}): truncated or damaged",
                              zh=f"工作簿无法读取（{exc}）：已截断或损坏", file=file)]
    too_large = _size_problems(zf, file)
    if too_large:
        return None, too_large
    try:
        wb = load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many types for damaged parts
        return None, [problem("file.truncated", f"the workbook cannot be read ({type(exc).__name__}: {exc})",
                              zh=f"工作簿无法读取（{type(exc).__name__}：{exc}）", file=file)]
    return wb, []


#: environment variables bounding what a workbook may unpack to (read before any sheet is parsed)
MAX_WORKBOOK_MB_ENV = "FINTECH_EVAL_MAX_WORKBOOK_MB"
MAX_WORKBOOK_CELLS_ENV = "FINTECH_EVAL_MAX_WORKBOOK_CELLS"
MAX_WORKBOOK_MB = 100  # uncompressed parts; a questionnaire unpacks to about 0.1 MB
MAX_WORKBOOK_CELLS = 2_000_000  # cells a sheet may declare; a questionnaire declares about 1,000
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]{1,3})?([0-9]{1,7})?(?::([A-Z]{1,3})([0-9]{1,7}))?"')


def _limit(env: str, default: int) -> int:
    import os

    try:
        return max(1, int(os.environ.get(env, default)))
    except ValueError:
        return default


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _size_problems(zf: zipfile.ZipFile, file: str) -> list[CollectProblem]:
    """``file.too_large`` when the parts would unpack to more than ``$FINTECH_EVAL_MAX_WORKBOOK_MB`` (default
    100) MB or a sheet declares more than ``$FINTECH_EVAL_MAX_WORKBOOK_CELLS`` (default 2,000,000) cells: checked
    from the zip directory and each sheet's ``<dimension>``, before anything is parsed (a few-MB file can
    unpack to GBs and take minutes and all memory to read)."""
    mb = _limit(MAX_WORKBOOK_MB_ENV, MAX_WORKBOOK_MB)
    total = sum(i.file_size for i in zf.infolist())
    if total > mb << 20:
        return [problem("file.too_large", f"the workbook unpacks to {total / 2**20:,.0f} MB, more than the limit of "
                        f"{mb:,} MB (a questionnaire is well under 1 MB): it is not a return, or it holds far more "
                        f"than one; the limit is set by ${MAX_WORKBOOK_MB_ENV}",
                        zh=f"工作簿解压后为 {total / 2**20:,.0f} MB，超过上限 {mb:,} MB（一份问卷远小于 1 MB）："
                        f"它不是报表，或包含远多于一份报表的内容；上限由 ${MAX_WORKBOOK_MB_ENV} 设定", file=file)]
    cells_max = _limit(MAX_WORKBOOK_CELLS_ENV, MAX_WORKBOOK_CELLS)
    names = _sheet_names(zf)
    out = []
    for info in zf.infolist():
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        with zf.open(info) as fh:
            head = fh.read(4096)
        m = _DIMENSION.search(head)
        if not m or not m.group(3):
            continue
        rows = int(m.group(4)) - int(m.group(2) or 1) + 1
        cols = _col_number(m.group(3).decode()) - _col_number((m.group(1) or b"A").decode()) + 1
        if rows * cols > cells_max:
            out.append(problem("file.too_large", f"the sheet declares {rows:,} rows × {cols:,} columns "
                               f"({rows * cols:,} cells), more than the limit of {cells_max:,} cells: it is not a "
                               f"return; the limit is set by ${MAX_WORKBOOK_CELLS_ENV}",
                               zh=f"该工作表声明了 {rows:,} 行 × {cols:,} 列（{rows * cols:,} 个单元格），超过上限 "
                               f"{cells_max:,} 个单元格：它不是报表；上限由 ${MAX_WORKBOOK_CELLS_ENV} 设定", file=file,
                               sheet=names.get(info.filename, info.filename)))
    return out


def workbook_size_problems(path: str | Path) -> list[CollectProblem]:
    """:func:`_size_problems` of the .xlsx at ``path`` (empty when it is not a readable zip: the workbook
    reader says why)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _size_problems(zf, str(path))
    except (zipfile.BadZipFile, OSError, EOFError):
        return []


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet name, from the workbook and its relationships (best effort: {} if unusual)."""
    try:
        wbx = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    target = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid, tgt = re.search(r'Id="([^"]+)"', rel), re.search(r'Target="([^"]+)"', rel)
        if rid and tgt:
            target[rid.group(1)] = "xl/" + tgt.group(1).lstrip("/").removeprefix("xl/")
    out = {}
    for sh in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", wbx):
        name, rid = re.search(r'name="([^"]*)"', sh), re.search(r'r:id="([^"]+)"', sh)
        if name and rid and rid.group(1) in target:
            out[target[rid.group(1)]] = name.group(1)
    return out


def _hidden_sheets(wb: Any, file: str, allowed: tuple[str, ...] = ()) -> list[CollectProblem]:
    """``workbook.hidden`` for every hidden or very hidden sheet (besides ``allowed``): its values would be
    read while the person checking the workbook sees other ones."""
    return [problem("workbook.hidden", f"the sheet {ws.title!r} is {'very ' if ws.sheet_state == 'veryHidden' else ''}"
                    "hidden: a return may not carry sheets nobody sees; unhide or delete it and send the "
                    "workbook again",
                    zh=f"工作表 {ws.title!r} 被{'深度' if ws.sheet_state == 'veryHidden' else ''}隐藏：报表不得包含无人可见的"
                    "工作表；请取消隐藏或删除后重新报送", file=file, sheet=ws.title)
            for ws in wb.worksheets if ws.sheet_state != "visible" and ws.title not in allowed]


_LAYOUT_INT = ("first_row", "id_row.entity_id", "id_row.period", "id_row.contact", "id_row.contact_phone", "id_row.date")
_LAYOUT_COL = ("value_column", "variable_column", "unit_column", "id_value_column", "reason_column")


def _layout_problems(meta: dict[str, str], file: str) -> list[CollectProblem]:
    """The metadata's layout must be row numbers (1..1,048,576) and column letters (A..XFD), else the sheet
    cannot be read where the template put the values: ``template.tampered``."""
    bad = [f"{k} = {meta[k][:20]!r}" for k in _LAYOUT_INT
           if meta.get(k) and not (re.fullmatch(r"[0-9]{1,7}", meta[k]) and 1 <= int(meta[k]) <= 1_048_576)]
    bad += [f"{k} = {meta[k][:20]!r}" for k in _LAYOUT_COL
            if meta.get(k) and not (re.fullmatch(r"[A-Z]{1,3}", meta[k]) and _col_number(meta[k]) <= 16_384)]
    if not bad:
        return []
    return [problem("template.tampered", f"the metadata sheet was altered: {', '.join(bad)} is not a row or column "
                    "of a sheet; fill in a fresh copy of the template",
                    zh=f"元数据工作表被改动：{', '.join(bad)} 不是工作表的行号或列号；请使用新的模板副本填写",
                    file=file, sheet=META_SHEET)]


def _protection_problems(wb: Any, ws: Any, file: str) -> list[CollectProblem]:
    """The template locks the workbook's structure and protects its sheet: a workbook without either was
    altered (sheets can have been added, hidden or renamed; locked cells changed)."""
    out = []
    if wb.security is None or not wb.security.lockStructure:
        out.append(problem("workbook.unprotected", "the workbook's structure protection was removed (the template "
                           "locks it so that no sheet is added, hidden or renamed): fill in a fresh copy of the "
                           "template", zh="工作簿的结构保护被取消（模板锁定结构，使工作表不能被添加、隐藏或重命名）："
                           "请使用新的模板副本填写", file=file))
    if not ws.protection.sheet:
        out.append(problem("workbook.unprotected", f"the protection of sheet {ws.title!r} was removed (the template "
                           "protects everything but the answer cells): fill in a fresh copy of the template",
                           zh=f"工作表 {ws.title!r} 的保护被取消（模板保护除答案单元格以外的全部内容）：请使用新的模板副本填写",
                           file=file, sheet=ws.title))
    return out


def _hidden_answers(ws: Any, rows: list[int], columns: list[str], file: str) -> list[CollectProblem]:
    """Hidden rows or columns in the answer area: values nobody reviewing the workbook sees."""
    out = [problem("workbook.hidden", f"row {r} of the answers is hidden: unhide it (values in hidden rows are "
                   "not seen by whoever checks the workbook)",
                   zh=f"答案区第 {r} 行被隐藏：请取消隐藏（核对工作簿的人看不到隐藏行中的数值）", file=file, sheet=ws.title, row=r)
           for r in rows if ws.row_dimensions[r].hidden]
    for c in columns:
        hidden = ws.column_dimensions[c].hidden if c in ws.column_dimensions else False
        if not hidden:  # a hidden range of columns is stored on its first column (min..max)
            hidden = any(d.hidden and d.min and d.max and d.min <= _col_number(c) <= d.max
                         for d in ws.column_dimensions.values())
        if hidden:
            out.append(problem("workbook.hidden", f"column {c} of the answers is hidden: unhide it",
                               zh=f"答案区第 {c} 列被隐藏：请取消隐藏", file=file, sheet=ws.title, column=c))
    return out


def read_questionnaire(
    path: str | Path,
    *,
    framework: Framework | None = None,
    period: str | None = None,
    entity: str | None = None,
) -> ReadResult:
    """Read back a questionnaire written by :func:`~fintech_eval.collect.template.write_template`.

    With ``framework``, the template must have been made from it (``template.framework_mismatch``) and
    list the variables it now asks of the sector (``template.outdated``). With ``period`` / ``entity``,
    the workbook must be for that period / entity (``period.mismatch``, ``entity.mismatch``).
    """
    file = str(path)
    data, probs = _read_bytes(path, "workbook")
    if data is None:
        return ReadResult(_empty_frame(), probs, "questionnaire", file)
    res = ReadResult(_empty_frame(), [], "questionnaire", file, hashlib.sha256(data).hexdigest(), len(data))
    wb, probs = _open_xlsx(data, file)
    res.problems += probs
    if wb is None:
        return res
    if META_SHEET not in wb.sheetnames:
        hidden = _hidden_sheets(wb, file)
        if hidden:
            res.problems += hidden
            return res
        table = _xlsx_table(wb, file)
        if table is not None:
            res.format = "xlsx_table"
            res.frame, res.problems = table[0], res.problems + table[1]
            return res
        res.problems.append(problem(
            "template.foreign",
            f"the workbook is not a fintech-eval questionnaire (no {META_SHEET!r} sheet; sheets: "
            f"{', '.join(wb.sheetnames)}) and its first sheet is not a long or wide table",
            zh=f"该工作簿不是 fintech-eval 问卷（没有 {META_SHEET!r} 工作表；现有工作表：{', '.join(wb.sheetnames)}），"
            "其第一个工作表也不是长表或宽表", file=file, sheet=wb.sheetnames[0] if wb.sheetnames else None))
        return res
    ms = wb[META_SHEET]
    meta = {str(r[0]): "" if r[1] is None else str(r[1]) for r in ms.iter_rows(values_only=True) if r and r[0] is not None}
    res.meta = meta
    if meta.get("template_version") != TEMPLATE_VERSION:
        res.problems.append(problem(
            "template.version",
            f"template version {meta.get('template_version')!r} is not the version this reader understands "
            f"({TEMPLATE_VERSION!r}): generate a new questionnaire with `fintech-eval template`",
            zh=f"模板版本 {meta.get('template_version')!r} 不是本程序可读取的版本（{TEMPLATE_VERSION!r}）："
            "请用 `fintech-eval template` 重新生成问卷", file=file, sheet=META_SHEET))
        return res
    need = ("sheet", "first_row", "value_column", "variable_column", "unit_column", "variables", "checksum",
            "entity_id", "period", "id_value_column", "id_row.entity_id", "id_row.period")
    lacking = [k for k in need if not meta.get(k)]
    if lacking:
        res.problems.append(problem("template.tampered", f"the metadata sheet lacks {', '.join(lacking)}",
                                    zh=f"元数据工作表缺少 {', '.join(lacking)}", file=file, sheet=META_SHEET))
        return res
    layout = _layout_problems(meta, file)
    if layout:
        res.problems += layout
        return res
    sheet = meta["sheet"]
    hidden = _hidden_sheets(wb, file, allowed=(META_SHEET,))
    if hidden:
        res.problems += hidden
        return res
    if sheet not in wb.sheetnames:
        res.problems.append(problem(
            "template.sheet_missing",
            f"the questionnaire sheet {sheet!r} is missing (sheets: {', '.join(s for s in wb.sheetnames if s != META_SHEET)}): "
            "was it renamed or replaced by another sheet?",
            zh=f"问卷工作表 {sheet!r} 不存在（现有工作表：{', '.join(s for s in wb.sheetnames if s != META_SHEET)}）："
            "是否被重命名或被其他工作表替换？", file=file, sheet=sheet))
        return res
    ws = wb[sheet]
    first = int(meta["first_row"])
    vcol, ucol, valcol = meta["variable_column"], meta["unit_column"], meta["value_column"]
    # variable list as found in the sheet
    found: list[tuple[int, str, str]] = []
    r = first
    while True:
        name = ws[f"{vcol}{r}"].value
        if name is None or str(name).strip() == "":
            break
        unit = ws[f"{ucol}{r}"].value
        found.append((r, str(name).strip(), "" if unit is None else str(unit).strip()))
        r += 1
    expected_names = [x for x in meta["variables"].split(",") if x]
    got = [(n, u) for _, n, u in found]
    if template_checksum(got) != meta["checksum"] or [n for n, _ in got] != expected_names:
        msg, zh, at_row, at_col = _tamper_message(found, expected_names, framework)
        res.problems.append(problem("template.tampered", msg, zh=zh, file=file, sheet=sheet, row=at_row or first,
                                    column=at_col or vcol))
        return res
    if framework is not None:
        fw_ref = f"{framework.id}@{framework.version}"
        if meta.get("framework") != fw_ref:
            res.problems.append(problem(
                "template.framework_mismatch",
                f"the questionnaire was made from {meta.get('framework')!r}, not {fw_ref!r}",
                zh=f"该问卷依据 {meta.get('framework')!r} 生成，而不是 {fw_ref!r}", file=file, sheet=META_SHEET))
            return res
        now = [(v.name, v.unit) for v, _ in applicable_variables(framework, meta.get("sector", ""))]
        if now != got:
            res.problems.append(problem(
                "template.outdated",
                f"the questionnaire's variable list differs from what {fw_ref} now asks of sector "
                f"{meta.get('sector')!r}: generate a new questionnaire",
                zh=f"问卷的变量清单与 {fw_ref} 目前对行业 {meta.get('sector')!r} 的要求不同：请重新生成问卷",
                file=file, sheet=sheet))
            return res
    rcol = meta.get("reason_column")  # templates before it have none
    guard = _protection_problems(wb, ws, file) + _hidden_answers(ws, [r for r, _, _ in found],
                                                                 [vcol, ucol, valcol, *([rcol] if rcol else [])], file)
    if guard:
        res.problems += guard
        return res
    # identification block
    idc = meta["id_value_column"]
    ent_cell = f"{idc}{meta['id_row.entity_id']}"
    per_cell = f"{idc}{meta['id_row.period']}"
    ent_id = "" if ws[ent_cell].value is None else str(ws[ent_cell].value).strip()
    per_id = normalise_period(ws[per_cell].value)
    if ent_id != meta["entity_id"]:
        res.problems.append(problem(
            "template.entity_mismatch",
            f"the identification block names institution {ent_id!r} but the questionnaire was made for "
            f"{meta['entity_id']!r}", zh=f"身份信息栏填写的机构为 {ent_id!r}，但该问卷是为 {meta['entity_id']!r} 生成的",
            file=file, sheet=sheet, row=int(meta["id_row.entity_id"]), column=idc, entity=ent_id))
    if per_id != meta["period"]:
        res.problems.append(problem(
            "template.period_mismatch",
            f"the identification block gives period {per_id!r} but the questionnaire was made for "
            f"{meta['period']!r}", zh=f"身份信息栏填写的期间为 {per_id!r}，但该问卷是为 {meta['period']!r} 生成的",
            file=file, sheet=sheet, row=int(meta["id_row.period"]), column=idc, entity=meta["entity_id"]))
    if period is not None and normalise_period(period) != meta["period"]:
        res.problems.append(problem(
            "period.mismatch", f"the questionnaire is for period {meta['period']!r}, the import expects {period!r}",
            zh=f"该问卷的期间为 {meta['period']!r}，本次导入要求的期间为 {period!r}", file=file, sheet=sheet, row=int(meta["id_row.period"]), column=idc, entity=meta["entity_id"]))
    if entity is not None and str(entity).strip() != meta["entity_id"]:
        res.problems.append(problem(
            "entity.mismatch", f"the questionnaire is for institution {meta['entity_id']!r}, the import expects "
            f"{entity!r}", zh=f"该问卷的机构为 {meta['entity_id']!r}，本次导入要求的机构为 {entity!r}",
            file=file, sheet=sheet, row=int(meta["id_row.entity_id"]), column=idc, entity=meta["entity_id"]))
    if period_kind(meta["period"]) is None:
        res.problems.append(problem("period.invalid", f"period {meta['period']!r} is not a reporting period",
                                    zh=f"期间 {meta['period']!r} 不是有效的报告期", file=file, sheet=META_SHEET))
    for key in ("contact", "contact_phone", "date"):
        rr = meta.get(f"id_row.{key}")
        if rr:
            c = ws[f"{idc}{rr}"]
            if c.data_type == "f" or (isinstance(c.value, str) and _injection_mask(pd.Series([c.value]))[0]):
                en, zh = _cell_message("cell.formula_injection", c.value, "identification field")
                res.problems.append(problem("cell.formula_injection", en, zh=zh, file=file, sheet=sheet,
                                            row=int(rr), column=idc, entity=meta["entity_id"]))
    # values
    records = []
    merged = {row for rng in ws.merged_cells.ranges if rng.min_col <= _col_number(valcol) <= rng.max_col
              for row in range(rng.min_row, rng.max_row + 1)}
    for r, name, unit in found:
        c = ws[f"{valcol}{r}"]
        raw = c.value
        where = {"file": file, "sheet": sheet, "row": r, "column": valcol, "variable": name, "entity": meta["entity_id"]}
        if r in merged:
            res.problems.append(problem("cell.merged", f"the answer cell {valcol}{r} is merged with other cells: one "
                                        f"value per variable, unmerge it (variable {name})",
                                        zh=f"答案单元格 {valcol}{r} 与其他单元格合并：每个变量只填一个值，请取消合并（变量 {name}）",
                                        **where))
            continue
        if c.data_type == "f" or (isinstance(raw, str) and raw.startswith("=") and c.data_type != "s"):
            en, zh = _cell_message("cell.formula", raw, variable=name)
            res.problems.append(problem("cell.formula", en, zh=zh, **where))
            continue
        if c.data_type == "e":
            en, zh = _cell_message("cell.excel_error", raw, variable=name)
            res.problems.append(problem("cell.excel_error", en, zh=zh, **where))
            continue
        if c.is_date:
            res.problems.append(problem("cell.not_number", f"value is a date ({raw}), not a number (variable {name})",
                                        zh=f"数值是日期（{raw}），不是数字（变量 {name}）", **where))
            continue
        value, hint, rule = parse_cell(raw)
        if rule:
            en, zh = _cell_message(rule, raw, variable=name)
            res.problems.append(problem(rule, en, zh=zh, **where))
            continue
        reason = _reason_cell(ws[f"{rcol}{r}"], name, {**where, "column": rcol}, res.problems) if rcol else None
        if reason is False:
            continue
        records.append({
            "entity_kind": meta.get("entity_kind") or "institution", "entity_id": meta["entity_id"],
            "period": meta["period"], "variable": name, "value": value,
            "unit": hint or unit, "source": "questionnaire",
            "file": file, "sheet": sheet, "row": r, "column": valcol,
            "raw": None if raw is None else str(raw), ACCEPT_COLUMN: reason,
        })
    res.frame = _frame(records)
    if any(rec[ACCEPT_COLUMN] for rec in records):  # the respondent's reasons to accept a unit check
        res.frame[ACCEPT_COLUMN] = [rec[ACCEPT_COLUMN] for rec in records]
    if records and res.frame["value"].isna().all():
        res.problems.append(problem("template.no_values", "no value cell is filled in", "warning",
                                    zh="没有填写任何数值单元格", file=file, sheet=sheet, entity=meta["entity_id"]))
    return res


def _reason_cell(c: Any, name: str, where: dict[str, Any], problems: list[CollectProblem]) -> str | None | bool:
    """The text of a questionnaire's reason cell (None when blank); ``False`` (the value is not read) when it
    holds a formula or a text Excel would run as one, reported as ``cell.formula_injection``."""
    v = c.value
    if v is None or str(v).strip() == "":
        return None
    if c.data_type == "f" or (isinstance(v, str) and _injection_mask(pd.Series([v]))[0]):
        en, zh = _cell_message("cell.formula_injection", v, ACCEPT_COLUMN, variable=name)
        problems.append(problem("cell.formula_injection", en, zh=zh, **where))
        return False
    return str(v).strip()


def _tamper_message(found: list[tuple[int, str, str]], expected: list[str], framework: Framework | None
                    ) -> tuple[str, int | None, str | None]:
    """What changed in the variable list (and where): message (English, Chinese), row, column."""
    names = [n for _, n, _ in found]
    details: list[tuple[str, str]] = []
    at_row: int | None = None
    at_col: str | None = None
    for (r, n, _), e in zip(found, expected, strict=False):
        if n != e:
            details.append((f"row {r} has {n!r} where the template had {e!r}", f"第 {r} 行为 {n!r}，模板中为 {e!r}"))
            at_row, at_col = r, "B"
            break
    if len(names) != len(expected):
        details.append((f"{len(names)} variable rows where the template had {len(expected)}",
                        f"有 {len(names)} 个变量行，模板中为 {len(expected)} 个"))
    if not details and framework is not None:
        units = {v.name: v.unit for v in framework.variables}
        for r, n, u in found:
            if n in units and u != units[n]:
                details.append((f"row {r}: unit of {n} is {u!r}, the template had {units[n]!r}",
                                f"第 {r} 行：{n} 的单位为 {u!r}，模板中为 {units[n]!r}"))
                at_row, at_col = r, "C"
                break
    if not details:
        details.append(("the variable codes or units no longer match the template's checksum",
                        "变量代码或单位与模板校验和不再一致"))
    return ("the questionnaire was altered: " + "; ".join(d[0] for d in details) + " — fill in a fresh copy of the template",
            "问卷被改动：" + "；".join(d[1] for d in details) + "。请使用新的模板副本填写", at_row, at_col)


def _xlsx_table(wb: Any, file: str) -> tuple[pd.DataFrame, list[CollectProblem]] | None:
    """A plain workbook whose first sheet is a long or wide table (header on its first non-empty row)."""
    ws = wb.worksheets[0]
    rows = [(i, r) for i, r in enumerate(ws.iter_rows(values_only=True), start=1) if r and any(x is not None for x in r)]
    if not rows:
        return None
    hdr_row, hdr = rows[0]
    header = _canonical_headers(["" if h is None else str(h) for h in hdr])
    if not {"entity", "period"} <= set(header):
        return None
    dups = sorted({h for h in header if h and header.count(h) > 1})
    if dups:
        return _empty_frame(), [problem("csv.duplicate_column", f"column(s) {', '.join(dups)} appear more than once "
                                        "in the header (which one counts?)",
                                        zh=f"表头中列 {', '.join(dups)} 出现了不止一次（以哪一列为准？）", file=file, sheet=ws.title, row=hdr_row,
                                        column=", ".join(dups))]
    kind = "long" if {"variable", "value"} & set(header) else "wide"
    width = len(header)
    body = [[("" if x is None else (x if isinstance(x, int | float) and not isinstance(x, bool) else str(x)))
             for x in (list(r) + [None] * width)[:width]] for _, r in rows[1:]]
    table = pd.DataFrame(body, columns=header, dtype=object)
    table = table.loc[:, [h != "" for h in header]]
    for c in table.columns:
        if c != "value" and (kind == "long" or c in ("entity", "period", "entity_kind", "source", "unit", "variable")):
            table[c] = [str(x) if not isinstance(x, str) else x for x in table[c]]
    line_no = np.asarray([i for i, _ in rows[1:]])
    return _table_to_long(table, line_no, file, kind, sheet=ws.title)


# ---- dispatch -----------------------------------------------------------------------------------------
def read_file(
    path: str | Path,
    *,
    encoding: str | None = None,
    framework: Framework | None = None,
    period: str | None = None,
    entity: str | None = None,
) -> ReadResult:
    """Read any supported file, choosing the reader by extension and content (module doc)."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        return read_questionnaire(path, framework=framework, period=period, entity=entity)
    if ext == ".json":
        return read_json(path, encoding=encoding)
    if ext in (".csv", ".txt", ".tsv"):
        return read_csv(path, encoding=encoding)
    if ext == ".xls":
        data, probs = _read_bytes(path, "workbook")
        if data is None:
            return ReadResult(_empty_frame(), probs, "xls", str(path))
        _, probs = _open_xlsx(data, str(path))
        return ReadResult(_empty_frame(), probs or [problem("file.format", "legacy .xls is not supported: save as .xlsx",
                                                             zh="不支持旧版 .xls：请另存为 .xlsx", file=str(path))],
                          "xls", str(path))
    if p.exists():
        head = p.read_bytes()[:8]
        if head.startswith(b"PK"):
            return read_questionnaire(path, framework=framework, period=period, entity=entity)
        if head.lstrip(codecs.BOM_UTF8).lstrip()[:1] in (b"[", b"{"):
            return read_json(path, encoding=encoding)
    return read_csv(path, encoding=encoding)


def read_files(paths: Iterable[str | Path], **kw: Any) -> ReadResult:
    """Read several files into one frame; problems of all files together."""
    results = [read_file(p, **kw) for p in paths]
    frames = [r.frame for r in results if len(r.frame)]
    frame = pd.concat(frames, ignore_index=True) if frames else _empty_frame()
    return ReadResult(frame, [p for r in results for p in r.problems], "many",
                      ", ".join(r.file for r in results), size=sum(r.size for r in results))
