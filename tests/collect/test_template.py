"""Questionnaire templates: exactly the applicable variables, validation, protection, metadata, batch mode."""

import openpyxl
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.collect import (
    applicable_variables,
    template_checksum,
    variable_feeds,
    write_template,
    write_templates,
)
from fintech_eval.collect.template import HEADER_ROW, META_SHEET, SHEET, TEMPLATE_VERSION
from fintech_eval.errors import DataError

from .malformed.generators import BANK, INSURER


@pytest.fixture(scope="module")
def fw():
    return fe.load_framework("jrt0201-2020")


def _meta(wb):
    return {r[0]: r[1] for r in wb[META_SHEET].iter_rows(values_only=True)}


def _listed(ws, first):
    out, r = [], first
    while ws[f"B{r}"].value:
        out.append((ws[f"B{r}"].value, ws[f"C{r}"].value, r))
        r += 1
    return out


def test_applicability_is_computed_from_the_framework(fw):
    bank = {v.name for v, _ in applicable_variables(fw, "bank")}
    ins = {v.name for v, _ in applicable_variables(fw, "insurance")}
    sec = {v.name for v, _ in applicable_variables(fw, "securities")}
    pay = {v.name for v, _ in applicable_variables(fw, "payment")}
    other = {v.name for v, _ in applicable_variables(fw, "other")}
    # sector variants of J-A3B2-C5 / C6
    assert {"personal_loans", "small_micro_loans_auto_approved", "personal_loan_approval_hours"} <= bank
    assert not {"claims", "claim_approval_hours", "core_channel_orders"} & bank
    assert {"claims", "claims_auto_approved", "claim_approval_hours"} <= ins and "personal_loans" not in ins
    assert {"core_order_latency_total_ms", "core_channel_orders"} <= sec and "claims" not in sec
    # J-A3B2-C1/C2 (robo-advisory) are for bank, securities, insurance only
    assert "robo_advisory_txn" in bank and "robo_advisory_txn" not in pay and "robo_advisory_txn" not in other
    # payment_amount feeds only the roll-up H-A2B1-C4 (bank, payment)
    assert "payment_amount" in bank and "payment_amount" in pay and "payment_amount" not in ins
    # bank-only scores (J-A3B3-C2 ...), risk variables not for 'other'
    assert "pc_function_score" in bank and "pc_function_score" not in pay
    assert "risk_assets" in pay and "risk_assets" not in other
    # region variables never appear in an institution questionnaire
    assert not any(n.startswith("q_") for n in bank | ins | sec | pay | other)
    # the rule, restated: variable sectors allow it AND an applicable indicator reads it
    for sector, got in (("bank", bank), ("insurance", ins), ("securities", sec), ("payment", pay), ("other", other)):
        feeds = variable_feeds(fw, sector)
        expect = {v.name for v in fw.variables if v.entity == "institution"
                  and (not v.sectors or sector in v.sectors) and v.name in feeds}
        assert got == expect


def test_template_lists_exactly_the_applicable_variables(fw, tmp_path):
    for ent in (BANK, INSURER):
        p = write_template(fw, ent, "2024", tmp_path)
        wb = openpyxl.load_workbook(p)
        ws = wb[SHEET]
        listed = _listed(ws, HEADER_ROW + 1)
        want = applicable_variables(fw, ent["sector"])
        assert [(n, u) for n, u, _ in listed] == [(v.name, v.unit) for v, _ in want]
        # each row: help zh/en and the indicators it feeds
        for (_, _, r), (v, feeds) in zip(listed, want, strict=True):
            assert ws[f"H{r}"].value == v.help.zh and ws[f"I{r}"].value == v.help.en
            assert ws[f"G{r}"].value == ", ".join(feeds)
            assert ws[f"D{r}"].value is None and ws[f"E{r}"].value is None  # the value and its reason to accept


def test_value_and_reason_cells_only_are_unlocked_and_structure_is_locked(fw, tmp_path):
    wb = openpyxl.load_workbook(write_template(fw, BANK, "2024", tmp_path))
    ws = wb[SHEET]
    assert ws.protection.sheet is True
    assert wb.security.lockStructure is True
    first = HEADER_ROW + 1
    for _, _, r in _listed(ws, first):
        assert ws[f"D{r}"].protection.locked is False and ws[f"E{r}"].protection.locked is False  # value, reason
        for col in "ABCFGHI":
            assert ws[f"{col}{r}"].protection.locked is True
    # identification block: filled fields locked, contact/date unlocked
    labels = {ws[f"B{r}"].value: r for r in range(4, 12)}
    assert ws[f"C{labels['机构代码 Institution ID']}"].value == "B001"
    assert ws[f"C{labels['机构代码 Institution ID']}"].protection.locked is True
    assert ws[f"C{labels['报告期 Reporting period']}"].value == "2024"
    assert "北京" in ws[f"C{labels['地区 Region']}"].value
    for label in ("联系人 Contact person", "联系电话或邮箱 Phone or e-mail", "填报日期 Date completed"):
        assert ws[f"C{labels[label]}"].protection.locked is False


def test_data_validation_follows_type_min_max(fw, tmp_path):
    wb = openpyxl.load_workbook(write_template(fw, BANK, "2024", tmp_path))
    ws = wb[SHEET]
    rows = {n: r for n, _, r in _listed(ws, HEADER_ROW + 1)}
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row, col in rng.cells:
                if col == 4:
                    rules[row] = dv

    def dv_of(name):
        return rules[rows[name]]
    assert (dv_of("employees").type, dv_of("employees").operator, dv_of("employees").formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert (dv_of("fintech_investment").type, dv_of("fintech_investment").formula1) == ("decimal", "0")
    lvl = dv_of("dc_maturity_level")
    assert (lvl.type, lvl.operator, lvl.formula1, lvl.formula2) == ("whole", "between", "1", "5")
    dr = dv_of("dr_level")
    assert (dr.type, dr.formula1, dr.formula2) == ("whole", "1", "6")
    yn = dv_of("fintech_strategy_plan")
    assert yn.type == "list" and "是 yes" in yn.formula1 and "否 no" in yn.formula1
    assert dv_of("personal_loan_approval_hours").type == "decimal"
    assert all(dv.showErrorMessage for dv in ws.data_validations.dataValidation)


def test_share_variables_get_a_0_1_validation(fw, tmp_path):
    from .malformed.generators import share_framework

    fw2 = share_framework(fw, tmp_path)
    wb = openpyxl.load_workbook(write_template(fw2, BANK, "2024", tmp_path))
    ws = wb[SHEET]
    r = next(r for n, _, r in _listed(ws, HEADER_ROW + 1) if n == "online_sales_share")
    dv = next(dv for dv in ws.data_validations.dataValidation if f"D{r}" in str(dv.sqref))
    assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("decimal", "between", "0", "1")
    assert _meta(wb)["extensions"] == "test-share"


def test_hidden_metadata(fw, tmp_path):
    wb = openpyxl.load_workbook(write_template(fw, BANK, "2024Q1", tmp_path))
    assert wb[META_SHEET].sheet_state == "veryHidden"
    m = _meta(wb)
    assert m["template_version"] == TEMPLATE_VERSION
    assert m["framework"] == "jrt0201-2020@2020"
    assert (m["entity_id"], m["sector"], m["period"], m["region_code"]) == ("B001", "bank", "2024Q1", "11")
    names_units = [(v.name, v.unit) for v, _ in applicable_variables(fw, "bank")]
    assert m["variables"].split(",") == [n for n, _ in names_units]
    assert m["checksum"] == template_checksum(names_units) and len(m["checksum"]) == 64


def test_batch_mode_writes_one_per_entity(fw, tmp_path):
    ents = pd.DataFrame([BANK, INSURER, {**BANK, "id": "B002", "region_code": "Guangdong"}])
    paths = write_templates(fw, ents, "2024", tmp_path / "out")
    assert [p.name for p in paths] == ["questionnaire_B001_2024.xlsx", "questionnaire_I001_2024.xlsx",
                                       "questionnaire_B002_2024.xlsx"]
    assert _meta(openpyxl.load_workbook(paths[2]))["region_code"] == "44"


def test_batch_mode_checks_every_entity_first(fw, tmp_path):
    bad = [BANK, {**BANK}, {**INSURER, "sector": "insurer"}, {"id": "X", "sector": "bank"}]
    with pytest.raises(DataError) as ei:
        write_templates(fw, bad, "2024", tmp_path / "out")
    msgs = [p.message for p in ei.value.problems]
    assert len(msgs) == 3 and "twice" in msgs[0] and "insurer" in msgs[1] and "name_zh" in msgs[2]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("entity", "period", "rule"), [
    ({**BANK, "region_code": "Atlantis"}, "2024", "template.entity"),
    (BANK, "FY2024", "period.invalid"),
    ({**BANK, "sector": "fund"}, "2024", "template.entity"),
])
def test_bad_entity_or_period(fw, tmp_path, entity, period, rule):
    with pytest.raises(DataError) as ei:
        write_template(fw, entity, period, tmp_path)
    assert ei.value.problems[0].rule == rule


def test_fill_template_as_a_respondent(fw, tmp_path):
    """fill_template writes each value into its variable's cell (None: left blank) and the contact; the import
    reads back exactly that; a variable the workbook does not ask is an error naming it."""
    from fintech_eval.collect import fill_template, read_questionnaire

    path = write_template(fw, BANK, "2024", tmp_path)
    filled = fill_template(path, {"employees": 1234, "fintech_staff": 56, "outlets": None}, contact="张三",
                           out=tmp_path / "filled.xlsx")
    res = read_questionnaire(filled, framework=fw, period="2024", entity=BANK["id"])
    assert res.ok, res.problems
    got = res.frame.set_index("variable")["value"]
    assert (got["employees"], got["fintech_staff"]) == (1234, 56) and pd.isna(got["outlets"])
    wb = openpyxl.load_workbook(filled)
    meta = {r[0]: r[1] for r in wb[META_SHEET].iter_rows(values_only=True)}
    assert wb[SHEET][f"C{meta['id_row.contact']}"].value == "张三"
    with pytest.raises(DataError, match="asks no variable claims_total"):
        fill_template(path, {"claims_total": 5})
