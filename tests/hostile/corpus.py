"""A corpus of hostile and careless inputs to ``validate`` and ``import``, generated (never stored in the repo).

Each :class:`Case` writes its file(s) into a directory and says what the intake must do with them:

* ``REJECTED``: the import must fail with exit code 2, no traceback, a problem naming the file, a place in
  it (sheet / row / column, or the whole file for file-level rules) and the case's rule, and the
  database must be unchanged;
* ``ACCEPTED``: inputs that look odd but are valid (numbers in other digit systems, bare CR line ends,
  periods written with full-width digits): imported, read exactly as their plain form would be.

Run ``python -m tests.hostile.corpus OUT_DIR`` to write every case into ``OUT_DIR/<case>/`` to try them by
hand (``fintech-eval validate OUT_DIR/<case>/*``). The cases are built from the malformed-input
generators of ``tests/collect/malformed`` (a valid questionnaire or CSV changed in one way), so each
differs from a good input in one way only.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from fintech_eval.catalog.models import Framework
from tests.collect.malformed.generators import CASES as MALFORMED
from tests.collect.malformed.generators import Ctx, filled_template, institutions, value_rows

HEADER = "entity,period,variable,value,unit,source\n"
GOOD = "B001,2024,fintech_staff,3000,person,survey\n"
#: what the test database holds before every case (seed of tests/store/test_hostile_intake.py)
SEED_CSV = HEADER + "B001,2024,employees,40000,person,survey\nB001,2023,fintech_staff,2800,person,survey\n"

Make = Callable[[Path, Framework], list[Path]]


@dataclass
class Case:
    make: Make
    rule: str | None  # the rule a problem must name (None: any error rule)
    where: tuple[str, ...] = ("row",)  # keys besides ``file`` that the problem must fill
    args: tuple[str, ...] = ()  # extra command-line arguments (e.g. --user)
    commands: tuple[str, ...] = ("validate", "import")
    env: dict[str, str] = field(default_factory=dict)


def _text(name: str, text: str, encoding: str = "utf-8") -> Make:
    def make(tmp: Path, fw: Framework) -> list[Path]:
        p = tmp / name
        p.write_bytes(text.encode(encoding))
        return [p]

    return make


def _bytes(name: str, data: bytes) -> Make:
    def make(tmp: Path, fw: Framework) -> list[Path]:
        p = tmp / name
        p.write_bytes(data)
        return [p]

    return make


def _csv(body: str, name: str = "data.csv", header: str = HEADER, encoding: str = "utf-8") -> Make:
    return _text(name, header + body, encoding)


def _row(value: str = "3000", *, entity: str = "B001", period: str = "2024", variable: str = "fintech_staff",
         unit: str = "person", source: str = "survey") -> str:
    """One long-CSV line (fields quoted so that any text fits)."""
    def q(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'

    return ",".join(q(x) for x in (entity, period, variable, value, unit, source)) + "\n"


def _many(*makes: Make) -> Make:
    return lambda tmp, fw: [p for m in makes for p in m(tmp, fw)]


def _json(doc: Any, name: str = "data.json") -> Make:
    return _text(name, doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False))


# ---- workbooks -------------------------------------------------------------------------------------------
_GOOD_WORKBOOK: dict[tuple[str, str], bytes] = {}


def _filled(tmp: Path, fw: Framework, name: str) -> Path:
    """A filled questionnaire (made once per framework and process, then copied: the corpus has many)."""
    key = (fw.id, fw.version)
    if key not in _GOOD_WORKBOOK:
        _GOOD_WORKBOOK[key] = filled_template(tmp, fw, name="_good.xlsx").read_bytes()
    path = tmp / name
    path.write_bytes(_GOOD_WORKBOOK[key])
    return path


def _wb(edit: Callable[[Any, dict[str, int]], None], name: str = "q.xlsx", values: dict[str, Any] | None = None
        ) -> Make:
    """A filled questionnaire, then ``edit(workbook, value rows)`` as a respondent's tool might."""
    def make(tmp: Path, fw: Framework) -> list[Path]:
        path = _filled(tmp, fw, name)
        wb = openpyxl.load_workbook(path)
        rows = value_rows(wb)
        for var, v in (values or {}).items():
            wb["Questionnaire"][f"D{rows[var]}"] = v
        edit(wb, rows)
        wb.save(path)
        return [path]

    return make


def _meta(key: str, value: Any) -> Callable[[Any, dict[str, int]], None]:
    def edit(wb: Any, rows: dict[str, int]) -> None:
        for r in wb["_meta"].iter_rows():
            if r[0].value == key:
                r[1].value = value

    return edit


def _hide_sheet(state: str) -> Callable[[Any, dict[str, int]], None]:
    def edit(wb: Any, rows: dict[str, int]) -> None:
        ws = wb["Questionnaire"]
        decoy = wb.create_sheet("Questionnaire (2)", 0)  # a visible copy showing other values
        for row in ws.iter_rows(values_only=True):
            decoy.append(row)
        wb.active = 0
        ws.sheet_state = state

    return edit


def _hide_row(wb: Any, rows: dict[str, int]) -> None:
    wb["Questionnaire"].row_dimensions[rows["employees"]].hidden = True


def _hide_column(wb: Any, rows: dict[str, int]) -> None:
    wb["Questionnaire"].column_dimensions["D"].hidden = True


def _unlock_structure(wb: Any, rows: dict[str, int]) -> None:
    wb.security.lockStructure = False


def _unprotect_sheet(wb: Any, rows: dict[str, int]) -> None:
    wb["Questionnaire"].protection.sheet = False


def _merge_value(wb: Any, rows: dict[str, int]) -> None:
    r = rows["employees"]
    wb["Questionnaire"].merge_cells(f"D{r}:D{r + 1}")


def _table_workbook(hidden_first: bool = False, state: str = "hidden") -> Make:
    def make(tmp: Path, fw: Framework) -> list[Path]:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "hidden data"
        ws.append(["entity", "period", "variable", "value", "unit"])
        ws.append(["B001", "2024", "fintech_staff", 9999, "person"])
        shown = wb.create_sheet("data")
        shown.append(["entity", "period", "variable", "value", "unit"])
        shown.append(["B001", "2024", "fintech_staff", 3000, "person"])
        if hidden_first:
            ws.sheet_state = state
            wb.active = 1
        p = tmp / "table.xlsx"
        wb.save(p)
        return [p]

    return make


def _table_duplicate_column(tmp: Path, fw: Framework) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["entity", "period", "variable", "value", "value"])
    ws.append(["B001", "2024", "fintech_staff", 3000, 4000])
    p = tmp / "dup.xlsx"
    wb.save(p)
    return [p]


def _rezip(name: str, edit_sheet: Callable[[bytes], bytes]) -> Make:
    """A valid questionnaire whose first sheet's XML is changed by ``edit_sheet`` (then zipped tightly)."""
    def make(tmp: Path, fw: Framework) -> list[Path]:
        path = _filled(tmp, fw, name)
        src = zipfile.ZipFile(path)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = edit_sheet(data)
                out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        path.write_bytes(buf.getvalue())
        return [path]

    return make


#: a sheet part padded with 24 MB of spaces (a few kB compressed)
_zip_bomb = _rezip("bomb.xlsx", lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + b" " * (24 << 20), 1))
#: a sheet that declares 1,048,576 × 16,384 cells (what a 2 GB sheet declares)
_huge_dimension = _rezip("huge.xlsx", lambda xml: re.sub(rb'<dimension ref="[^"]*"\s*/>',
                                                         b'<dimension ref="A1:XFD1048576"/>', xml, count=1))


def _from_malformed(name: str) -> Make:
    make = MALFORMED[name][0]

    def go(tmp: Path, fw: Framework) -> list[Path]:
        inp = make(tmp, Ctx(fw=fw, institutions=institutions()))
        return inp.paths

    return go


CONTROL = {
    "nul": "\x00", "esc": "\x1b[31mred\x1b[0m", "osc_title": "\x1b]0;pwned\x07", "bell": "\x07",
    "backspace": "ab\x08\x08", "line_separator": "a\u2028b", "vertical_tab": "a\x0bb", "form_feed": "a\x0cb",
    "c1_csi": "a\x9bb", "delete": "a\x7fb",
}

# ---- the cases ---------------------------------------------------------------------------------------------
REJECTED: dict[str, Case] = {
    # -- numbers in every notation
    "num_words": Case(_csv(_row("three thousand")), "cell.not_number", ("row", "column")),
    "num_hex": Case(_csv(_row("0x10")), "cell.not_number", ("row", "column")),
    "num_underscore": Case(_csv(_row("3_000")), "cell.not_number", ("row", "column")),
    "num_two_points": Case(_csv(_row("3.0.0")), "cell.not_number", ("row", "column")),
    "num_european": Case(_csv(_row("3.000,5")), "cell.not_number", ("row", "column")),
    "num_indian_grouping": Case(_csv(_row("1,00,000")), "cell.not_number", ("row", "column")),
    "num_infinity_text": Case(_csv(_row("inf")), "cell.not_number", ("row", "column")),
    "num_overflow": Case(_csv(_row("1e999")), "value.not_finite", ("row", "column")),
    "num_400_digits": Case(_csv(_row("9" * 400)), "value.not_finite", ("row", "column")),
    "num_fullwidth_text": Case(_csv(_row("１２３abc")), "cell.not_number", ("row", "column")),
    "num_arabic_mixed_text": Case(_csv(_row("١٢٣ people")), "cell.not_number", ("row", "column")),
    "num_negative_count": Case(_csv(_row("-3000")), "range.negative", ("row",)),
    "num_fullwidth_negative": Case(_csv(_row("－５")), "range.negative", ("row",)),
    "num_not_whole": Case(_csv(_row("3000.5")), "type.not_whole", ("row",)),
    "num_percent_count": Case(_csv(_row("12.5%")), "cell.unit_conflict", ("row",)),
    "num_fullwidth_percent_share": Case(_csv(_row("１２％")), "cell.unit_conflict", ("row",)),
    "num_level_9": Case(_csv(_row("9", variable="dc_maturity_level", unit="level")), "range.level", ("row",)),
    "num_yes_no_2": Case(_csv(_row("2", variable="fintech_strategy_plan", unit="yes/no")), "type.binary", ("row",)),
    "num_bold_digits_level": Case(_csv(_row("𝟗", variable="dc_maturity_level", unit="level")), "range.level", ("row",)),
    "num_devanagari_negative": Case(_csv(_row("-१०")), "range.negative", ("row",)),
    "num_huge_part_of": Case(_csv(_row("1e15")), "part_of.exceeds", ("row",)),
    # -- parts and wholes, also against what is stored already
    "part_above_stored_whole": Case(_csv(_row("50000")), "part_of.exceeds", ("row",)),
    "part_above_whole_in_file": Case(_csv(_row("500") + _row("100", variable="employees")), "part_of.exceeds", ("row",)),
    # -- encodings
    "enc_latin1": Case(_csv(_row(source="Zürich café"), encoding="latin-1"), "encoding.invalid", ("row",)),
    "enc_utf16_no_bom": Case(_csv(_row(source="x"), encoding="utf-16-le"), None, ()),
    "enc_utf16_bad_value": Case(_bytes("u16.csv", (HEADER + _row("abc")).encode("utf-16")), "cell.not_number",
                                ("row", "column")),
    "enc_mojibake": Case(_csv(_row(source="¹¤ÉÌÒøÐÐÄê±¨")), "encoding.mojibake", ("row", "column")),
    "enc_invalid_utf8_bytes": Case(_bytes("bad.csv", HEADER.encode() + b"B001,2024,fintech_staff,3000,person,\xff\xfe\xfa\n"),
                                   "encoding.invalid", ("row",)),
    "enc_bom_then_gbk": Case(_bytes("bomgbk.csv", b"\xef\xbb\xbf" + (HEADER + _row(source="问卷")).encode("gbk")),
                             "encoding.invalid", ("row",)),
    # -- delimiters and quoting
    "delim_semicolon_bad": Case(_csv("B001;2024;fintech_staff;abc;person;survey\n", header=HEADER.replace(",", ";")),
                                "cell.not_number", ("row", "column")),
    "delim_tab_bad": Case(_csv("B001\t2024\tfintech_staff\tabc\tperson\tsurvey\n", header=HEADER.replace(",", "\t"),
                               name="data.tsv"), "cell.not_number", ("row", "column")),
    "delim_mixed": Case(_csv("B001;2024;fintech_staff;3000;person;survey\n"), "csv.ragged", ("row",)),
    "quote_unclosed": Case(_csv('B001,2024,fintech_staff,"3000,person,survey\n'), "csv.truncated", ("row",)),
    "quote_in_middle": Case(_csv('B001,2024,fintech_staff,30"00,person,survey\n'), "cell.not_number", ("row", "column")),
    "quote_newline_in_value": Case(_csv('B001,2024,fintech_staff,"30\n00",person,survey\n'), "cell.not_number",
                                   ("row", "column")),
    "line_ends_bare_cr_bad": Case(_text("cr.csv", (HEADER + _row("abc")).replace("\n", "\r")), "cell.not_number",
                                  ("row", "column")),
    "line_ends_mixed_bad": Case(_text("mixed.csv", HEADER.replace("\n", "\r\n") + GOOD.replace("\n", "\r") + _row("x")),
                                "cell.not_number", ("row", "column")),
    # -- formula injection
    "inject_eq_value": Case(_csv(_row("=1+1")), "cell.formula_injection", ("row", "column")),
    "inject_cmd_source": Case(_csv(_row(source="=cmd|' /C calc'!A0")), "cell.formula_injection", ("row", "column")),
    "inject_at_unit": Case(_csv(_row(unit="@SUM(A1)")), "cell.formula_injection", ("row", "column")),
    "inject_tab_source": Case(_csv(_row(source="\t=1+1")), "cell.formula_injection", ("row", "column")),
    "inject_fullwidth_eq": Case(_csv(_row(source="＝1+1")), "cell.formula_injection", ("row", "column")),
    "inject_entity": Case(_csv(_row(entity="+B001")), "cell.formula_injection", ("row", "column")),
    # -- duplicates
    "dup_rows": Case(_csv(GOOD + GOOD.replace("3000", "3100")), "duplicate", ("row",)),
    "dup_rows_across_files": Case(_many(_csv(GOOD, name="a.csv"), _csv(GOOD.replace("3000", "3100"), name="b.csv")),
                                  "duplicate", ("row",)),
    "dup_column_csv": Case(_csv("B001,2024,fintech_staff,3000,4000\n", header="entity,period,variable,value,value\n"),
                           "csv.duplicate_column", ("row", "column")),
    "dup_column_alias": Case(_csv("B001,2024,fintech_staff,3000,3000\n", header="entity,period,variable,value,数值\n"),
                             "csv.duplicate_column", ("row", "column")),
    "dup_column_wide": Case(_csv("B001,2024,3000,3100\n", header="entity,period,fintech_staff,fintech_staff\n"),
                            "csv.duplicate_column", ("row", "column")),
    "dup_column_workbook_table": Case(_table_duplicate_column, "csv.duplicate_column", ("row", "column")),
    "dup_json_keys": Case(_json('[{"entity": "B001", "period": "2024", "variable": "fintech_staff", "value": 1, "value": 2}]'),
                          "json.duplicate_key", ("row",)),
    # -- unknown codes
    "unknown_variable": Case(_csv(_row(variable="fintech_staf")), "variable.unknown", ("row",)),
    "unknown_entity": Case(_csv(_row(entity="B999")), "entity.unknown", ("row",)),
    "unknown_unit": Case(_csv(_row(unit="furlong")), "unit.unknown", ("row",)),
    "unknown_entity_kind": Case(_csv(GOOD.rstrip("\n") + ",planet\n", header=HEADER.rstrip("\n") + ",entity_kind\n"),
                                "entity.kind", ("row",)),
    "unknown_period": Case(_csv(_row(period="FY24")), "period.invalid", ("row",)),
    "period_arabic_digits_bad": Case(_csv(_row(period="٢٠٢٤Q5")), "period.invalid", ("row",)),
    # -- empty and header-only
    "empty_csv": Case(_bytes("empty.csv", b""), "file.empty", ()),
    "whitespace_csv": Case(_bytes("blank.csv", b" \n\t\r\n  "), "file.empty", ()),
    "bom_only_csv": Case(_bytes("bom.csv", b"\xef\xbb\xbf"), "file.empty", ()),
    "header_only_csv": Case(_csv(""), "file.no_data", ("row",)),
    "header_only_json": Case(_json([]), "file.no_data", ()),
    "empty_json": Case(_bytes("empty.json", b""), "file.empty", ()),
    "empty_xlsx": Case(_bytes("empty.xlsx", b""), "file.empty", ()),
    "missing_value_column": Case(_csv("B001,2024,fintech_staff\n", header="entity,period,variable\n"),
                                 "csv.missing_column", ("row", "column")),
    # -- long strings and control characters (the same limits on SQLite and PostgreSQL)
    "long_source_201": Case(_csv(_row(source="s" * 201)), "text.too_long", ("row", "column")),
    "long_source_100k": Case(_csv(_row(source="长" * 100_000)), "text.too_long", ("row", "column")),
    "long_unit": Case(_csv(_row(unit="person" + "s" * 40)), None, ("row", "column")),
    "long_entity": Case(_csv(_row(entity="B" * 65)), None, ("row",)),
    "long_variable_5mb": Case(_csv(_row(variable="v" * 5_000_000)), "text.too_long", ("row", "column")),
    "long_value_text": Case(_csv(_row("9" * 20 + "x" * 100_000)), "cell.not_number", ("row", "column")),
    "long_user": Case(_csv(GOOD), "text.too_long", ("column",), args=("--user", "u" * 300), commands=("import",)),
    "control_user": Case(_csv(GOOD), "text.control_character", ("column",), args=("--user", "eve\x1b[2J"),
                         commands=("import",)),
    "long_extension": Case(_csv(_row("abc"), name="data." + "x" * 40), None, ()),
    "long_extension_good": Case(_csv(GOOD, name="data." + "csv" * 10), "file.name", ()),
    **{f"control_source_{k}": Case(_csv(_row(source=f"survey{v}")), "text.control_character", ("row", "column"))
       for k, v in CONTROL.items()},
    "control_entity_nul": Case(_csv(_row(entity="B001\x00")), None, ("row",)),
    "control_unit_esc": Case(_csv(_row(unit="person\x1b[0m")), None, ("row",)),
    # -- Rich markup and terminal tricks in what gets printed
    "markup_value": Case(_csv(_row("[/b]")), "cell.not_number", ("row", "column")),
    "markup_unit": Case(_csv(_row(unit="[/]")), "unit.unknown", ("row",)),
    "markup_variable": Case(_csv(_row(variable="[bold red]x[/]")), "variable.unknown", ("row",)),
    "markup_file_name": Case(_csv(_row("abc"), name="[bold red]data[link=x].csv"), "cell.not_number", ("row", "column")),
    "markup_in_warning_file": Case(_many(_csv(_row("abc"), name="[red]a.csv")), "cell.not_number", ("row",)),
    # -- JSON
    "json_deep_nesting": Case(_json("[" * 100_000 + "]" * 100_000), "json.invalid", ()),
    "json_deep_object": Case(_json('{"a":' * 50_000 + "1" + "}" * 50_000), "json.invalid", ()),
    "json_int_400_digits": Case(_json('[{"entity":"B001","period":"2024","variable":"fintech_staff","value":' + "9" * 400 + "}]"),
                                "value.not_finite", ("row", "column")),
    "json_int_5000_digits": Case(_json('[{"entity":"B001","period":"2024","variable":"fintech_staff","value":' + "9" * 5000 + "}]"),
                                 "value.not_finite", ("row", "column")),
    "json_infinity": Case(_json('[{"entity":"B001","period":"2024","variable":"fintech_staff","value":Infinity}]'),
                          "value.not_finite", ("row", "column")),
    "json_nested_value": Case(_json([{"entity": "B001", "period": "2024", "variable": "fintech_staff", "value": [1]}]),
                              "cell.not_number", ("row", "column")),
    "json_string": Case(_json('"hello"'), "json.structure", ()),
    "json_number": Case(_json("42"), "json.structure", ()),
    "json_truncated": Case(_json('[{"entity": "B001", "period": "2024", "variable": "fint'), "json.truncated", ("row",)),
    "json_true_value": Case(_json([{"entity": "B001", "period": "2024", "variable": "fintech_staff", "value": True}]),
                            "unit.incompatible", ("row",)),
    "json_entity_object": Case(_json([{"entity": {"id": "B001"}, "period": "2024", "variable": "fintech_staff", "value": 1}]),
                               "json.structure", ("row",)),
    "json_control_source": Case(_json([{"entity": "B001", "period": "2024", "variable": "fintech_staff", "value": 1,
                                        "source": "s\u001b]0;x\u0007"}]), "text.control_character", ("row", "column")),
    # -- public-bank files
    "banks_header_hijacked": Case(_csv("招商银行,China Merchants Bank,2024,fintech_staff,abc,person\n",
                                       header="bank_zh,bank_en,year,item,value,unit\n", name="banks.csv"),
                                  None, ()),
    "banks_utf16": Case(_bytes("banks16.csv", ("bank_zh,bank_en,year,item,value,unit,source,note\n"
                                               "招商银行,China Merchants Bank,2024,fintech_staff,abc,person,x,\n").encode("utf-16")),
                        None, ()),
    "banks_bad_value": Case(_csv("招商银行,China Merchants Bank,2024,fintech_staff,abc,person,x,\n",
                                 header="bank_zh,bank_en,year,item,value,unit,source,note\n", name="banks.csv"), None, ()),
    # -- questionnaire workbooks
    "xlsx_hidden_sheet": Case(_wb(_hide_sheet("hidden")), "workbook.hidden", ("sheet",)),
    "xlsx_very_hidden_sheet": Case(_wb(_hide_sheet("veryHidden")), "workbook.hidden", ("sheet",)),
    "xlsx_hidden_row": Case(_wb(_hide_row), "workbook.hidden", ("sheet", "row")),
    "xlsx_hidden_column": Case(_wb(_hide_column), "workbook.hidden", ("sheet", "column")),
    "xlsx_structure_unlocked": Case(_wb(_unlock_structure), "workbook.unprotected", ()),
    "xlsx_sheet_unprotected": Case(_wb(_unprotect_sheet), "workbook.unprotected", ("sheet",)),
    "xlsx_merged_value": Case(_wb(_merge_value), "cell.merged", ("sheet", "row", "column")),
    "xlsx_meta_first_row_text": Case(_wb(_meta("first_row", "abc")), "template.tampered", ("sheet",)),
    "xlsx_meta_first_row_huge": Case(_wb(_meta("first_row", "99999999")), "template.tampered", ("sheet",)),
    "xlsx_meta_bad_column": Case(_wb(_meta("value_column", "D$!")), "template.tampered", ("sheet",)),
    "xlsx_meta_bad_id_row": Case(_wb(_meta("id_row.period", "-3")), "template.tampered", ("sheet",)),
    "xlsx_meta_number_first_row": Case(_wb(_meta("first_row", 1e300)), "template.tampered", ("sheet",)),
    "xlsx_table_hidden_first": Case(_table_workbook(True), "workbook.hidden", ("sheet",)),
    "xlsx_table_very_hidden_first": Case(_table_workbook(True, "veryHidden"), "workbook.hidden", ("sheet",)),
    "xlsx_zip_bomb": Case(_zip_bomb, "file.too_large", (), env={"FINTECH_EVAL_MAX_WORKBOOK_MB": "16"}),
    "xlsx_huge_dimension": Case(_huge_dimension, "file.too_large", ("sheet",)),
    "xlsx_not_zip": Case(_bytes("fake.xlsx", b"PK\x03\x04" + b"\0" * 100), "file.truncated", ()),
    "xlsx_fullwidth_in_period_cell": Case(_wb(lambda wb, rows: wb["Questionnaire"].__setitem__("C8", "２０２３")),
                                          "template.period_mismatch", ("sheet", "row")),
    "xlsx_level_bold_digit": Case(_wb(lambda wb, rows: None, values={"dc_maturity_level": "𝟗"}), "range.level",
                                  ("sheet", "row")),
    "xlsx_markup_value": Case(_wb(lambda wb, rows: None, values={"employees": "[/b]"}), "cell.not_number",
                              ("sheet", "row", "column")),
}
# every malformed input of tests/collect (one rule each), except the one that needs a previous-year frame
REJECTED.update({
    f"malformed_{n}": Case(_from_malformed(n), rule, tuple(k for k in where if k != "file"))
    for n, (_, rule, where) in MALFORMED.items() if n not in ("csv_turnover_vs_previous", "csv_share_above_one",
                                                              "csv_share_given_as_percent", "csv_percent_with_other_unit",
                                                              "xlsx_wrong_period_expected")
})


@dataclass
class Accepted:
    make: Make
    expect: dict[tuple[str, str, str], float]  # (entity, period, variable) → stored value_norm


ACCEPTED: dict[str, Accepted] = {
    "digits_fullwidth": Accepted(_csv(_row("３０００")), {("B001", "2024", "fintech_staff"): 3000}),
    "digits_arabic_indic": Accepted(_csv(_row("٣٠٠٠")), {("B001", "2024", "fintech_staff"): 3000}),
    "digits_devanagari": Accepted(_csv(_row("३०००")), {("B001", "2024", "fintech_staff"): 3000}),
    "digits_math_bold": Accepted(_csv(_row("𝟑𝟎𝟎𝟎")), {("B001", "2024", "fintech_staff"): 3000}),
    "digits_thousands_fullwidth_comma": Accepted(_csv(_row("3，000")), {("B001", "2024", "fintech_staff"): 3000}),
    "digits_in_period": Accepted(_csv(_row(period="20２4")), {("B001", "2024", "fintech_staff"): 3000}),
    "digits_arabic_period": Accepted(_csv(_row(period="٢٠٢٤")), {("B001", "2024", "fintech_staff"): 3000}),
    "bare_cr_line_ends": Accepted(_text("cr.csv", (HEADER + GOOD).replace("\n", "\r")),
                                  {("B001", "2024", "fintech_staff"): 3000}),
    "crlf_line_ends": Accepted(_text("crlf.csv", (HEADER + GOOD).replace("\n", "\r\n")),
                               {("B001", "2024", "fintech_staff"): 3000}),
    "source_200_chars": Accepted(_csv(_row(source="s" * 200)), {("B001", "2024", "fintech_staff"): 3000}),
    "source_tab_inside": Accepted(_csv(_row(source="annual\treport")), {("B001", "2024", "fintech_staff"): 3000}),
    "json_fullwidth_text": Accepted(_json([{"entity": "B001", "period": "2024", "variable": "fintech_staff", "value": "３,０００"}]),
                                    {("B001", "2024", "fintech_staff"): 3000}),
    "enc_gbk_detected": Accepted(_csv(_row(source="问卷调查"), encoding="gbk"), {("B001", "2024", "fintech_staff"): 3000}),
    "workbook_fullwidth": Accepted(_wb(lambda wb, rows: None, values={"fintech_staff": "３０００"}),
                                   {("B001", "2024", "fintech_staff"): 3000}),
}


def write_all(out: Path, fw: Framework) -> None:
    """Every case into ``out/<case>/``."""
    for name, case in {**REJECTED, **ACCEPTED}.items():
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        case.make(d, fw)


if __name__ == "__main__":  # python -m tests.hostile.corpus OUT_DIR
    import fintech_eval as fe

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    write_all(target, fe.load_framework("jrt0201-2020"))
    print(f"wrote {len(REJECTED)} rejected and {len(ACCEPTED)} accepted cases to {target}")
