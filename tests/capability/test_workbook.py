"""The entry workbook: written for a vendor, read back with validation naming sheet, row, column, indicator."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from fintech_eval.capability import (
    Vendor,
    load_capability_framework,
    load_file,
    rate_vendor,
    read_workbook,
    write_workbook,
)
from fintech_eval.capability.workbook import COL, FIRST_ROW, HEADER_ROW, META_SHEET, SHEET
from fintech_eval.errors import DataError

from . import mini, write


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    return load_file(write(tmp_path_factory.mktemp("mini"), mini()))


def rows_by_code(ws):
    return {ws.cell(r, COL["indicator"]).value: r for r in range(FIRST_ROW, ws.max_row + 1)}


def fill(path, values: dict):
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    at = rows_by_code(ws)
    for code, cells in values.items():
        for key, v in cells.items():
            ws.cell(at[code], COL[key], v)
    wb.save(path)
    return at


def test_template_lists_only_applicable_indicators(fw, tmp_path):
    p = write_workbook(fw, Vendor("C1", "consulting", "咨询公司"), tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(p)
    ws = wb[SHEET]
    assert list(rows_by_code(ws)) == ["G1", "G2", "S1", "S2"]  # no P1, P2 (products), no S3 (on-site staff)
    assert wb[META_SHEET].sheet_state == "veryHidden"
    assert ws.cell(HEADER_ROW, COL["step"]).value == "档位\nStep"
    g1 = rows_by_code(ws)["G1"]
    assert "0: 第0档" in ws.cell(g1, COL["steps_zh"]).value and "4: step 4" in ws.cell(g1, COL["steps_en"]).value
    assert ws.cell(g1, COL["mandatory"]).value == "L4 ≥ 3"
    assert "lower is better" in ws.cell(rows_by_code(ws)["G2"], COL["scoring"]).value
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert '"0,1,2,3,4"' in lists


def test_round_trip_to_a_rating(fw, tmp_path):
    p = write_workbook(fw, Vendor("ACME", "comprehensive"), tmp_path / "a.xlsx")
    fill(p, {
        "G1": {"step": 2, "evidence_ref": "ISO-2024-001", "reviewer": "张三", "date": dt.date(2024, 6, 30)},
        "G2": {"value": 0, "evidence_ref": "CREDIT-CN"}, "P1": {"step": 3, "evidence_ref": "CERT"},
        "P2": {"step": 3, "evidence_ref": "TEST"}, "S1": {"step": 4, "evidence_ref": "X"},
        "S2": {"value": 85, "evidence_ref": "SURVEY"}, "S3": {"step": "3", "evidence_ref": "HR", "comment": "ok"},
    })
    got = read_workbook(p, fw)
    assert got.vendor == Vendor("ACME", "comprehensive") and got.framework_id == "mini-fcsc"
    assert len(got.scores) == 7 and got.scores.loc[0, "date"] == dt.date(2024, 6, 30)
    r = rate_vendor(fw, "comprehensive", got.vendor, got.scores)
    assert r.total == pytest.approx(71.875) and r.level == 3  # the ACME example of test_rating.py


def test_validation_names_sheet_row_column_indicator(fw, tmp_path):
    p = write_workbook(fw, Vendor("ACME", "comprehensive"), tmp_path / "bad.xlsx")
    at = fill(p, {
        "G1": {"step": 7, "evidence_ref": "a"},
        "P1": {"value": 3},
        "S2": {"value": "lots"},
        "S1": {"step": 2, "date": "yesterday"},
    })
    wb = openpyxl.load_workbook(p)
    ws = wb[SHEET]
    extra = ws.max_row + 1
    ws.cell(extra, COL["indicator"], "Z9")
    ws.cell(extra, COL["step"], 1)
    wb.save(p)
    with pytest.raises(DataError) as ei:
        read_workbook(p, fw)
    got = {(q.where["sheet"], q.where["row"], q.where["column"].split(" ")[0], q.where.get("indicator"), q.rule)
           for q in ei.value.problems}
    assert got == {
        (SHEET, at["G1"], "M", "G1", "scores.step"),
        (SHEET, at["P1"], "N", "P1", "scores.value"),
        (SHEET, at["S2"], "N", "S2", "scores.value"),
        (SHEET, at["S1"], "Q", "S1", "scores.date"),
        (SHEET, extra, "B", "Z9", "scores.indicator"),
    }
    assert all(q.where["file"] == str(p) for q in ei.value.problems)
    g1 = next(q for q in ei.value.problems if q.where.get("indicator") == "G1")
    assert g1.where["column"] == "M (档位 / Step)" and "not one of the steps" in g1.message


def test_not_applicable_row_added_to_a_template(fw, tmp_path):
    p = write_workbook(fw, Vendor("C", "consulting"), tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(p)
    ws = wb[SHEET]
    ws.cell(ws.max_row + 1, COL["indicator"], "P1")
    ws.cell(ws.max_row, COL["step"], 4)
    wb.save(p)
    with pytest.raises(DataError) as ei:
        read_workbook(p, fw)
    (q,) = ei.value.problems
    assert q.rule == "workbook.not_applicable" and q.where["indicator"] == "P1" and "consulting" in q.message


def test_moved_column_and_foreign_framework_are_rejected(fw, tmp_path):
    p = write_workbook(fw, Vendor("A", "product"), tmp_path / "h.xlsx")
    wb = openpyxl.load_workbook(p)
    wb[SHEET].cell(HEADER_ROW, COL["step"], "Score")
    wb.save(p)
    with pytest.raises(DataError) as ei:
        read_workbook(p, fw)
    assert ei.value.problems[0].rule == "workbook.header" and ei.value.problems[0].where["column"].startswith("M ")
    q = write_workbook(fw, Vendor("A", "product"), tmp_path / "f.xlsx")
    with pytest.raises(DataError, match="written for mini-fcsc@1, not fcsc-2023-default"):
        read_workbook(q, load_capability_framework())
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read the workbook"):
        read_workbook(tmp_path / "junk.xlsx", fw)


def test_default_model_template(tmp_path):
    fw = load_capability_framework()
    p = write_workbook(fw, Vendor("V", "outsourcing"), tmp_path / "d.xlsx")
    ws = openpyxl.load_workbook(p)[SHEET]
    codes = list(rows_by_code(ws))
    assert not any(c.startswith(("C3.1.", "C3.2.")) for c in codes) and "C4.1.6" in codes
    assert "非官方" in ws["A1"].value and "not the official" in ws["A2"].value
    assert read_workbook(p, fw).scores.empty  # an untouched template reads as no entries
