"""Generators of malformed inputs: each case writes its file(s) into a directory and says what must happen.

A case is a function ``make(tmp: Path, ctx: Ctx) -> Input``; :data:`CASES` maps its name to
``(make, rule, where)``: the rule the import must report and the ``where`` fields that problem must carry
(``file`` is checked by base name). Everything is built from a valid questionnaire or CSV so that each case
differs from a good input in one way only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import yaml

from fintech_eval.catalog import load_extension
from fintech_eval.catalog.models import Framework
from fintech_eval.collect import write_template

BANK = {"id": "B001", "name_zh": "测试银行", "name_en": "Test Bank", "sector": "bank", "region_code": "11"}
INSURER = {"id": "I001", "name_zh": "测试保险", "name_en": "Test Insurer", "sector": "insurance", "region_code": "31"}
PERIOD = "2024"

#: a consistent set of answers for a bank (parts below wholes, levels in range, yes/no answered)
GOOD_BANK: dict[str, Any] = {
    "fintech_strategy_plan": "是 yes",
    "fintech_units_score": 80,
    "flexible_org_forms": "否 no",
    "coop_universities": 3,
    "coop_research_institutes": 2,
    "coop_enterprises": 12,
    "industry_orgs_joined": 4,
    "fintech_investment": "1,234,567.8",
    "operating_revenue": 35_000_000,
    "employees": 40_000,
    "fintech_staff": 3_000,
    "fintech_training_person_times": 25_000,
    "fintech_staff_prev_end": 2_800,
    "fintech_staff_leavers": 150,
    "personal_users": 50_000_000,
    "corporate_users": 1_000_000,
    "personal_pc_users": 20_000_000,
    "corporate_pc_users": 800_000,
    "personal_app_users": 45_000_000,
    "corporate_app_users": 300_000,
    "transaction_amount": 9_000_000_000,
    "pc_transaction_amount": 4_000_000_000,
    "app_transaction_amount": 3_000_000_000,
    "self_service_devices": 12_000,
    "outlets": "N/A",
    "total_transactions": 30_000_000_000,
    "off_counter_transactions": 29_000_000_000,
    "dc_maturity_level": 4,
    "cloud_dr_level": 5,
    "dr_level": 6,
    "personal_loan_approval_hours": 1.5,
}


@dataclass
class Ctx:
    fw: Framework
    institutions: pd.DataFrame


@dataclass
class Input:
    paths: list[Path]
    read_kw: dict[str, Any] = field(default_factory=dict)
    previous: pd.DataFrame | None = None
    framework: Framework | None = None


def institutions() -> pd.DataFrame:
    return pd.DataFrame([BANK, INSURER])


def share_framework(base: Framework, tmp: Path) -> Framework:
    """The catalog has no share variable: an extension adds one (and an indicator reading it)."""
    doc = {
        "extends": base.id, "id": "test-share", "namespace": "t",
        "variables": [{"name": "online_sales_share", "unit": "fraction", "type": "share", "max": 1,
                       "help": {"zh": "线上销售占比(0-1)", "en": "Share of sales made online (0..1)"}}],
        "add": [{"parent": "J-A3B1", "indicators": [{
            "code": "t:J-A3B1-C9", "name": {"zh": "线上销售占比", "en": "Online sales share"},
            "definition": {"zh": "线上销售占比", "en": "online sales share"}, "unit": "%", "type": "ratio",
            "collection": ["S"], "formula": "online_sales_share"}]}],
    }  # fmt: skip
    p = tmp / "share-ext.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_extension(p, base=base)


# ---- questionnaire helpers --------------------------------------------------------------------------
def filled_template(tmp: Path, fw: Framework, values: dict[str, Any] | None = None, entity: dict | None = None,
                    name: str = "q.xlsx") -> Path:
    """A questionnaire written by write_template and filled in with openpyxl (as a respondent would)."""
    path = write_template(fw, entity or BANK, PERIOD, tmp / name)
    wb = openpyxl.load_workbook(path)
    ws = wb["Questionnaire"]
    rows = value_rows(wb)
    for var, v in {**GOOD_BANK, **(values or {})}.items():
        if var in rows:
            ws[f"D{rows[var]}"] = v
    for var, r in rows.items():  # the rest declared unavailable, as a complete return does (blank is an error)
        if ws[f"D{r}"].value is None and var not in (values or {}):
            ws[f"D{r}"] = "N/A"
    wb.save(path)
    return path


def value_rows(wb: Any) -> dict[str, int]:
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True)}
    ws = wb[meta["sheet"]]
    out = {}
    r = int(meta["first_row"])
    while ws[f"B{r}"].value:
        out[ws[f"B{r}"].value] = r
        r += 1
    return out


def edit_template(tmp: Path, fw: Framework, edit: Callable[[Any, dict[str, int]], None], **kw: Any) -> Path:
    path = filled_template(tmp, fw, **kw)
    wb = openpyxl.load_workbook(path)
    edit(wb, value_rows(wb))
    wb.save(path)
    return path


def _q(values: dict[str, Any]) -> Callable[[Path, Ctx], Input]:
    return lambda tmp, ctx: Input([filled_template(tmp, ctx.fw, values)])


def _qedit(edit: Callable[[Any, dict[str, int]], None], **read_kw: Any) -> Callable[[Path, Ctx], Input]:
    return lambda tmp, ctx: Input([edit_template(tmp, ctx.fw, edit)], read_kw)


def _set_meta(key: str, value: str) -> Callable[[Any, dict[str, int]], None]:
    def edit(wb: Any, rows: dict[str, int]) -> None:
        ms = wb["_meta"]
        for r in ms.iter_rows():
            if r[0].value == key:
                r[1].value = value

    return edit


def _set_cell(ref: str, value: Any) -> Callable[[Any, dict[str, int]], None]:
    def edit(wb: Any, rows: dict[str, int]) -> None:
        wb["Questionnaire"][ref] = value

    return edit


def _rename_sheet(wb: Any, rows: dict[str, int]) -> None:
    wb["Questionnaire"].title = "Sheet1"


def _rename_var(wb: Any, rows: dict[str, int]) -> None:
    wb["Questionnaire"][f"B{rows['employees']}"] = "employees_total"


def _retype_unit(wb: Any, rows: dict[str, int]) -> None:
    wb["Questionnaire"][f"C{rows['fintech_investment']}"] = "亿元"


def _foreign(tmp: Path, ctx: Ctx) -> Input:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Bank", "Investment"])
    ws.append(["B001", 12])
    p = tmp / "foreign.xlsx"
    wb.save(p)
    return Input([p])


def _truncated_xlsx(tmp: Path, ctx: Ctx) -> Input:
    good = filled_template(tmp, ctx.fw)
    data = good.read_bytes()
    p = tmp / "truncated.xlsx"
    p.write_bytes(data[: len(data) // 2])
    return Input([p])


def _bytes(name: str, data: bytes) -> Callable[[Path, Ctx], Input]:
    def make(tmp: Path, ctx: Ctx) -> Input:
        p = tmp / name
        p.write_bytes(data)
        return Input([p])

    return make


# ---- CSV / JSON helpers -----------------------------------------------------------------------------
LONG_HEADER = "entity,period,variable,value,unit,source\n"
GOOD_LONG = (
    "B001,2024,employees,40000,person,survey\n"
    "B001,2024,fintech_staff,3000,person,survey\n"
    "B001,2024,fintech_investment,123.45,亿元,annual report\n"
)


def _csv(body: str, name: str = "data.csv", header: str = LONG_HEADER, encoding: str = "utf-8",
         **read_kw: Any) -> Callable[[Path, Ctx], Input]:
    def make(tmp: Path, ctx: Ctx) -> Input:
        p = tmp / name
        p.write_bytes((header + body).encode(encoding))
        return Input([p], read_kw)

    return make


def _share_csv(body: str) -> Callable[[Path, Ctx], Input]:
    def make(tmp: Path, ctx: Ctx) -> Input:
        p = tmp / "share.csv"
        p.write_text(LONG_HEADER + body, encoding="utf-8")
        return Input([p], framework=share_framework(ctx.fw, tmp))

    return make


def _previous_turnover(tmp: Path, ctx: Ctx) -> Input:
    p = tmp / "turnover.csv"
    p.write_text(LONG_HEADER + "B001,2024,fintech_staff_prev_end,2500,person,survey\n", encoding="utf-8")
    prev = pd.DataFrame([{"entity_kind": "institution", "entity_id": "B001", "period": "2023",
                          "variable": "fintech_staff", "value": 2800.0, "unit": "person",
                          "value_norm": 2800.0, "file": "2023.xlsx", "row": 21}])
    return Input([p], previous=prev)


def _json(text: str, name: str = "data.json") -> Callable[[Path, Ctx], Input]:
    def make(tmp: Path, ctx: Ctx) -> Input:
        p = tmp / name
        p.write_text(text, encoding="utf-8")
        return Input([p])

    return make


# name: (make, rule, where subset)
CASES: dict[str, tuple[Callable[[Path, Ctx], Input], str, dict[str, Any]]] = {
    # -- questionnaire workbooks
    "xlsx_wrong_sheet": (_qedit(_rename_sheet), "template.sheet_missing", {"file": "q.xlsx", "sheet": "Questionnaire"}),
    "xlsx_foreign_workbook": (_foreign, "template.foreign", {"file": "foreign.xlsx", "sheet": "Data"}),
    "xlsx_tampered_variable": (_qedit(_rename_var), "template.tampered",
                               {"file": "q.xlsx", "sheet": "Questionnaire", "row": 25, "column": "B"}),
    "xlsx_tampered_unit": (_qedit(_retype_unit), "template.tampered",
                           {"file": "q.xlsx", "sheet": "Questionnaire", "row": 23, "column": "C"}),
    "xlsx_wrong_template_version": (_qedit(_set_meta("template_version", "0")), "template.version", {"sheet": "_meta"}),
    "xlsx_wrong_period_in_id_block": (_qedit(_set_cell("C8", "2023")), "template.period_mismatch",
                                      {"sheet": "Questionnaire", "row": 8, "column": "C", "entity": "B001"}),
    "xlsx_wrong_entity_in_id_block": (_qedit(_set_cell("C4", "B999")), "template.entity_mismatch",
                                      {"sheet": "Questionnaire", "row": 4, "column": "C", "entity": "B999"}),
    "xlsx_wrong_period_expected": (_qedit(lambda wb, rows: None, period="2023"), "period.mismatch",
                                   {"sheet": "Questionnaire", "entity": "B001"}),
    "xlsx_text_in_number": (_q({"employees": "abc"}), "cell.not_number",
                            {"sheet": "Questionnaire", "column": "D", "variable": "employees", "entity": "B001"}),
    "xlsx_formula_injection": (_q({"coop_enterprises": "@SUM(A1:A9)"}), "cell.formula_injection",
                               {"sheet": "Questionnaire", "column": "D", "variable": "coop_enterprises"}),
    "xlsx_formula_injection_plus": (_q({"coop_universities": "+cmd|' /C calc'!A0"}), "cell.formula_injection",
                                    {"sheet": "Questionnaire", "column": "D", "variable": "coop_universities"}),
    "xlsx_formula_cell": (_q({"employees": "=1+1"}), "cell.formula",
                          {"sheet": "Questionnaire", "column": "D", "variable": "employees"}),
    "xlsx_excel_error": (_q({"employees": "#DIV/0!"}), "cell.excel_error",
                         {"sheet": "Questionnaire", "column": "D", "variable": "employees"}),
    "xlsx_contact_injection": (_qedit(_set_cell("C9", "=HYPERLINK(\"http://evil\",\"x\")")), "cell.formula_injection",
                               {"sheet": "Questionnaire", "row": 9, "column": "C"}),
    "xlsx_level_out_of_range": (_q({"dc_maturity_level": 6}), "range.level",
                                {"sheet": "Questionnaire", "column": "D", "variable": "dc_maturity_level",
                                 "indicator": "J-A4B3-C1"}),
    "xlsx_level_zero": (_q({"cloud_dr_level": 0}), "range.level", {"variable": "cloud_dr_level"}),
    "xlsx_binary_not_yes_no": (_q({"fintech_strategy_plan": 2}), "type.binary",
                               {"sheet": "Questionnaire", "column": "D", "variable": "fintech_strategy_plan"}),
    "xlsx_binary_text": (_q({"flexible_org_forms": "maybe"}), "cell.not_number",
                         {"column": "D", "variable": "flexible_org_forms"}),
    "xlsx_negative_count": (_q({"employees": -5}), "range.negative",
                            {"sheet": "Questionnaire", "column": "D", "variable": "employees"}),
    "xlsx_count_not_whole": (_q({"outlets": 10.5}), "type.not_whole", {"column": "D", "variable": "outlets"}),
    "xlsx_part_exceeds_whole": (_q({"fintech_staff": 50_000}), "part_of.exceeds",
                                {"sheet": "Questionnaire", "column": "D", "variable": "fintech_staff"}),
    "xlsx_auto_approved_exceeds_loans": (_q({"personal_loans": 100, "personal_loans_auto_approved": 120}),
                                         "part_of.exceeds", {"variable": "personal_loans_auto_approved"}),
    "xlsx_yes_for_a_count": (_q({"employees": "是"}), "unit.incompatible", {"column": "D", "variable": "employees"}),
    "xlsx_percent_for_a_count": (_q({"employees": "12%"}), "unit.incompatible", {"variable": "employees"}),
    "xlsx_truncated": (_truncated_xlsx, "file.truncated", {"file": "truncated.xlsx"}),
    "xlsx_empty": (_bytes("empty.xlsx", b""), "file.empty", {"file": "empty.xlsx"}),
    "xls_legacy": (_bytes("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), "file.format", {"file": "old.xls"}),
    # -- long CSV
    "csv_unknown_variable": (_csv("B001,2024,fintech_staf,3000,person,survey\n"), "variable.unknown",
                             {"row": 2, "column": "value", "variable": "fintech_staf"}),
    "csv_unknown_entity": (_csv("B0O1,2024,employees,100,person,survey\n"), "entity.unknown",
                           {"row": 2, "entity": "B0O1", "variable": "employees"}),
    "csv_region_as_institution": (_csv("广东,2024,employees,100,person,survey\n"), "entity.kind",
                                  {"row": 2, "entity": "广东"}),
    "csv_wrong_entity_kind": (_csv("B001,2024,employees,100,person,survey,region\n",
                                   header="entity,period,variable,value,unit,source,entity_kind\n"),
                              "entity.kind", {"row": 2, "variable": "employees"}),
    "csv_duplicate_rows": (_csv(GOOD_LONG + "B001,2024,employees,41000,person,survey\n"), "duplicate",
                           {"row": 5, "variable": "employees", "entity": "B001"}),
    "csv_wrong_unit": (_csv("B001,2024,fintech_investment,5,person,survey\n"), "unit.incompatible",
                       {"row": 2, "variable": "fintech_investment"}),
    "csv_unknown_unit": (_csv("B001,2024,fintech_investment,5,furlong,survey\n"), "unit.unknown",
                         {"row": 2, "variable": "fintech_investment"}),
    "csv_text_in_number": (_csv("B001,2024,employees,abc,person,survey\n"), "cell.not_number",
                           {"row": 2, "column": "value", "variable": "employees", "entity": "B001"}),
    "csv_ambiguous_separator": (_csv("B001,2024,employees,\"1,23\",person,survey\n"), "cell.not_number",
                                {"row": 2, "column": "value", "variable": "employees"}),
    "csv_formula_injection_value": (_csv("B001,2024,employees,\"=HYPERLINK(\"\"http://x\"\")\",person,survey\n"),
                                    "cell.formula_injection", {"row": 2, "column": "value", "variable": "employees"}),
    "csv_formula_injection_source": (_csv("B001,2024,employees,100,person,@SUM(1+1)\n"), "cell.formula_injection",
                                     {"row": 2, "column": "source", "variable": "employees"}),
    "csv_formula_injection_minus": (_csv("B001,2024,employees,-2+3+cmd|' /C calc'!A0,person,s\n"),
                                    "cell.formula_injection", {"row": 2, "column": "value"}),
    "csv_truncated_line": (_csv("B001,2024,employees,40000,person,survey\nB001,2024,fintech_st"), "csv.truncated",
                           {"row": 3}),
    "csv_truncated_quote": (_csv("B001,2024,employees,40000,person,survey\nB001,2024,fintech_staff,\"30"),
                            "csv.truncated", {"row": 3}),
    "csv_ragged_long_row": (_csv(GOOD_LONG + "B001,2024,outlets,5,outlet,survey,extra\n"), "csv.ragged", {"row": 5}),
    "csv_ragged_short_row": (_csv("B001,2024,employees,40000\n" + GOOD_LONG), "csv.ragged", {"row": 2}),
    # the first data row one field longer: pandas would take the first column as the index (issue 13)
    "csv_ragged_first_row_long": (_csv("B001,2024,employees,40000,person,survey,extra\n" + GOOD_LONG), "csv.ragged",
                                  {"row": 2}),
    "csv_empty_file": (_bytes("empty.csv", b""), "file.empty", {"file": "empty.csv"}),
    "csv_header_only": (_csv(""), "file.no_data", {"row": 1}),
    "csv_missing_column": (_csv("B001,2024,employees\n", header="entity,period,variable\n"), "csv.missing_column",
                           {"row": 1, "column": "value"}),
    "csv_latin1_not_chinese": (_csv("B001,2024,employees,100,person,Zürich café\n", encoding="latin-1"),
                               "encoding.invalid", {"row": 2}),
    "csv_mojibake": (_csv("B001,2024,employees,100,person,¹¤ÉÌÒøÐÐÄê±¨\n"), "encoding.mojibake",
                     {"row": 2, "column": "source"}),
    "csv_invalid_period": (_csv("B001,FY2024,employees,100,person,survey\n"), "period.invalid",
                           {"row": 2, "variable": "employees"}),
    "csv_negative_money": (_csv("B001,2024,fintech_investment,-3,亿元,survey\n"), "range.negative",
                           {"row": 2, "variable": "fintech_investment", "indicator": "J-A2B1-C1, H-A1B1-C1"}),
    "csv_part_exceeds_whole": (_csv("B001,2024,employees,1000,person,s\nB001,2024,fintech_staff,0.2,万人,s\n"),
                               "part_of.exceeds", {"row": 3, "variable": "fintech_staff"}),
    "csv_not_applicable_to_sector": (_csv("B001,2024,claims,100,claim,survey\n"), "variable.not_applicable",
                                     {"row": 2, "variable": "claims", "entity": "B001"}),
    "csv_turnover_within_file": (_csv("B001,2023,fintech_staff,2800,person,s\nB001,2024,fintech_staff_prev_end,2700,person,s\n"),
                                 "turnover.inconsistent", {"row": 3, "variable": "fintech_staff_prev_end"}),
    "csv_turnover_vs_previous": (_previous_turnover, "turnover.inconsistent",
                                 {"row": 2, "variable": "fintech_staff_prev_end", "entity": "B001"}),
    "csv_institution_as_region": (_csv("B001,2024,q_loan_amount,5,万元,pboc\n"), "entity.kind",
                                  {"row": 2, "entity": "B001", "variable": "q_loan_amount"}),
    "csv_region_unknown": (_csv("Atlantis,2024,q_payment_amount,5,万元,pboc\n"), "entity.unknown",
                           {"row": 2, "entity": "Atlantis", "variable": "q_payment_amount"}),
    "csv_share_above_one": (_share_csv("B001,2024,online_sales_share,1.5,,s\n"), "range.share",
                            {"row": 2, "variable": "online_sales_share"}),
    "csv_share_given_as_percent": (_share_csv("B001,2024,online_sales_share,45,,s\n"), "range.share",
                                   {"row": 2, "variable": "online_sales_share"}),
    "csv_percent_with_other_unit": (_share_csv("B001,2024,online_sales_share,12.5%,fraction,s\n"), "cell.unit_conflict",
                                    {"row": 2, "variable": "online_sales_share"}),
    # -- wide CSV and JSON
    "wide_unknown_column": (_csv("B001,2024,40000,5\n", header="entity,period,employees,fintech_investmnt [亿元]\n"),
                            "variable.unknown", {"row": 2, "column": "fintech_investmnt [亿元]"}),
    "json_truncated": (_json('[{"entity": "B001", "period": "2024", "variable": "employees", "value": 4'),
                       "json.truncated", {"file": "data.json"}),
    "json_wrong_structure": (_json('{"entity": "B001", "numbers": [1, 2]}'), "json.structure", {"row": 1}),
    "json_text_in_number": (_json('{"entity": "B001", "period": 2024, "values": {"employees": "many"}}'),
                            "cell.not_number", {"row": 1, "column": "values.employees", "variable": "employees"}),
}
