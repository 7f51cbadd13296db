"""Readers: one long frame from questionnaires, long/wide CSV, JSON and plain workbooks; cells and encodings."""

import codecs
import json
import math

import numpy as np
import openpyxl
import pytest

from fintech_eval.collect import LONG_COLUMNS, parse_cell, read_file, read_json, read_long_csv, read_wide_csv

LONG = "entity,period,variable,value,unit,source\n"


@pytest.mark.parametrize(
    ("cell", "value", "hint", "rule"),
    [
        (1234, 1234.0, None, None),
        ("1234", 1234.0, None, None),
        (" 1,234 ", 1234.0, None, None),
        ("1,234,567.89", 1234567.89, None, None),
        ("１，２３４", 1234.0, None, None),  # full-width digits and comma
        ("-5", -5.0, None, None),
        ("+5", 5.0, None, None),
        ("1e6", 1e6, None, None),
        ("12.5%", 12.5, "%", None),
        ("是", 1.0, "yes/no", None),
        ("否 no", 0.0, "yes/no", None),
        ("TRUE", 1.0, "yes/no", None),
        (True, 1.0, "yes/no", None),
        ("", math.nan, None, None),
        ("N/A", math.nan, None, None),
        ("-", math.nan, None, None),
        ("—", math.nan, None, None),
        ("无", math.nan, None, None),
        (None, math.nan, None, None),
        ("abc", math.nan, None, "cell.not_number"),
        ("1,23", math.nan, None, "cell.not_number"),
        ("12 345", math.nan, None, "cell.not_number"),
        ("=SUM(A1)", math.nan, None, "cell.formula_injection"),
        ("@cmd", math.nan, None, "cell.formula_injection"),
        ("-1+2", math.nan, None, "cell.formula_injection"),
        ("\t=1", math.nan, None, "cell.formula_injection"),
        ("#REF!", math.nan, None, "cell.excel_error"),
    ],
)
def test_parse_cell(cell, value, hint, rule):
    v, h, r = parse_cell(cell)
    assert (math.isnan(v) and math.isnan(value)) or v == value
    assert (h, r) == (hint, rule)


def test_long_csv_keeps_missing_as_missing(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text(LONG + "B001,2024,employees,\"40,000\",person,annual report\n"
                        "B001,2024,outlets,N/A,,survey\n"
                        "B001,2024,fintech_staff,,person,\n"
                        "B001,2024,fintech_investment,12.5,亿元,\n", encoding="utf-8")
    res = read_long_csv(p)
    assert res.ok and res.format == "long_csv"
    f = res.frame
    assert list(f.columns) == LONG_COLUMNS
    assert f["value"].tolist()[0] == 40000 and np.isnan(f["value"].tolist()[1]) and np.isnan(f["value"].tolist()[2])
    assert f["row"].tolist() == [2, 3, 4, 5] and set(f["column"]) == {"value"}
    assert f.loc[0, "raw"] == "40,000" and f.loc[1, "raw"] == "N/A"
    assert f.loc[3, "unit"] == "亿元" and f.loc[0, "source"] == "annual report"
    assert res.sha256 and res.size == p.stat().st_size


def test_bom_crlf_semicolons_and_chinese_headers(tmp_path):
    p = tmp_path / "zh.csv"
    body = "机构;报告期;变量;值;单位\r\nB001;2024;employees;100;人\r\n"
    p.write_bytes(codecs.BOM_UTF8 + body.encode("utf-8"))
    res = read_file(p)
    assert res.ok, res.problems
    assert res.frame.loc[0, "entity_id"] == "B001" and res.frame.loc[0, "unit"] == "人"


def test_blank_lines_keep_true_line_numbers(tmp_path):
    p = tmp_path / "gaps.csv"
    p.write_text(LONG + "\nB001,2024,employees,100,,\n  \nB001,2024,outlets,abc,,\n", encoding="utf-8")
    res = read_long_csv(p)
    assert res.frame["row"].tolist() == [3]
    assert res.problems[0].where["row"] == 5


def test_quoted_newlines_keep_true_line_numbers(tmp_path):
    p = tmp_path / "multi.csv"
    p.write_text(LONG + 'B001,2024,employees,100,,"two\nlines"\nB001,2024,outlets,abc,,\n', encoding="utf-8")
    res = read_long_csv(p)
    assert res.problems[0].rule == "cell.not_number" and res.problems[0].where["row"] == 4


def test_wide_csv_with_units_in_headers(tmp_path):
    p = tmp_path / "wide.csv"
    p.write_text("entity,period,fintech_investment [亿元],employees (persons),outlets\n"
                 "B001,2024,12.5,\"40,000\",\n"
                 "B002,2024,3,1000,N/A\n", encoding="utf-8")
    res = read_wide_csv(p)
    assert res.ok and res.format == "wide_csv"
    f = res.frame.sort_values(["entity_id", "variable"]).reset_index(drop=True)
    assert len(f) == 6
    inv = f[(f.entity_id == "B001") & (f.variable == "fintech_investment")].iloc[0]
    assert (inv.value, inv.unit, inv.row, inv.column) == (12.5, "亿元", 2, "fintech_investment [亿元]")
    assert f[f.variable == "outlets"]["value"].isna().all()
    assert read_file(p).format == "wide_csv"


def test_json_records_and_values_objects(tmp_path):
    p = tmp_path / "d.json"
    doc = [{"entity": "B001", "period": 2024, "variable": "employees", "value": "1,000", "unit": "person"},
           {"entity": "B002", "period": "2024", "values": {"outlets": 12, "fintech_investment": {"value": 3, "unit": "亿元"},
                                                           "employees": None}}]
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = read_json(p)
    assert res.ok, res.problems
    f = res.frame
    assert f["period"].tolist() == ["2024"] * 4
    assert f.loc[0, "value"] == 1000 and f.loc[0, "row"] == 1 and f.loc[0, "column"] == "value"
    inv = f[f.variable == "fintech_investment"].iloc[0]
    assert (inv.value, inv.unit, inv.row, inv.column) == (3, "亿元", 2, "values.fintech_investment")
    assert np.isnan(f[(f.variable == "employees") & (f.entity_id == "B002")]["value"].iloc[0])
    p.write_text(json.dumps({"records": doc}), encoding="utf-8")
    assert len(read_file(p).frame) == 4


def test_plain_workbook_table(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["entity", "period", "variable", "value", "unit"])
    ws.append(["B001", 2024, "employees", 1000, "person"])
    ws.append(["B001", 2024, "outlets", "abc", None])
    p = tmp_path / "table.xlsx"
    wb.save(p)
    res = read_file(p)
    assert res.format == "xlsx_table"
    assert res.frame.loc[0, "value"] == 1000 and res.frame.loc[0, "period"] == "2024"
    assert res.problems[0].rule == "cell.not_number"
    assert (res.problems[0].where["sheet"], res.problems[0].where["row"]) == ("数据", 3)


def test_utf16_with_bom_is_read(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes((LONG + "B001,2024,employees,5,人,调查\n").encode("utf-16"))
    res = read_file(p)
    assert res.ok and res.frame.loc[0, "source"] == "调查"


def test_undecodable_bytes(tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(LONG.encode() + b"B001,2024,employees,\xff\xfe\xfd\x80,x,y\n")
    res = read_file(p)
    assert res.problems[0].rule == "encoding.invalid" and res.problems[0].where["row"] == 2


def test_missing_file(tmp_path):
    res = read_file(tmp_path / "nope.csv")
    assert res.problems[0].rule == "file.missing"


def test_final_line_without_newline_is_fine_when_complete(tmp_path):
    p = tmp_path / "nonl.csv"
    p.write_text(LONG + "B001,2024,employees,5,,", encoding="utf-8")
    res = read_file(p)
    assert res.ok and len(res.frame) == 1


@pytest.mark.parametrize(("trouble", "abc_line", "last_line"),
                         [("none", 30_002, 60_001), ("ragged", 30_002, 60_001), ("blank", 30_002, 60_002),
                          ("quoted_newline", 30_003, 60_002)])
def test_large_files_keep_line_numbers(tmp_path, trouble, abc_line, last_line):
    rows = [f"I{i:05d},2024,employees,{i},person,survey" for i in range(60_000)]  # > 1 MB: the Arrow parser
    if trouble == "ragged":
        rows[1000] += ",extra"  # line 1002
    elif trouble == "blank":
        rows.insert(100, "   ")
    elif trouble == "quoted_newline":
        rows[50] = 'I00050,2024,employees,50,person,"two\nlines"'
    rows[30_000] = "X,2024,employees,abc,person,s"
    p = tmp_path / "big.csv"
    p.write_text(LONG + "\n".join(rows) + "\n", encoding="utf-8")
    assert len(p.read_bytes()) > 1 << 20
    res = read_long_csv(p)
    where = {q.rule: q.where["row"] for q in res.problems}
    assert where["cell.not_number"] == abc_line
    if trouble == "ragged":
        assert where["csv.ragged"] == 1002
    assert res.frame.iloc[-1]["row"] == last_line
