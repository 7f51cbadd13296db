"""The stricter intake, one test per rule, on hand-made files: unknown institutions (empty register or not),
one problem per cause with the rows it covers, blank mandatory values, the unit-factor check against the
previous period and the registered size, and encodings detected per file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.collect import import_files, validate, write_template
from fintech_eval.collect.unitcheck import UnitChecks, parse_acceptance
from fintech_eval.errors import DataError

HEADER = "entity,period,variable,value,unit\n"
EMPTY_REGISTER = pd.DataFrame(columns=["id", "name_zh", "sector"])


@pytest.fixture(scope="module")
def fw():
    return fe.load_framework("jrt0201-2020")


@pytest.fixture
def register():
    return pd.DataFrame({"id": ["B001", "B002", "P001"], "name_zh": ["甲银行", "乙银行", "丙支付"],
                         "sector": ["bank", "bank", "payment"]})


def csv(path, rows, encoding="utf-8"):
    path.write_bytes((HEADER + "".join(r + "\n" for r in rows)).encode(encoding))
    return path


def errors(res):
    return [p for p in res.problems if p.severity == "error"]


# ---- unknown institutions -------------------------------------------------------------------------------
def test_an_unknown_institution_on_an_empty_register_is_one_error_listing_its_rows(tmp_path, fw):
    f = csv(tmp_path / "r.csv", [f"B009,{1961 + i},fintech_staff,{100 + i},person" for i in range(64)])  # one cause
    res = import_files([f], fw, institutions=EMPTY_REGISTER)
    [p] = errors(res)
    assert p.rule == "entity.unknown" and p.where["entity"] == "B009"
    assert p.where["row"] == 2 and p.where["rows"] == "2-65 (64 rows)"
    assert p.where["period"] is None  # the rows differ in period: not one of them is named
    assert "register is empty" in p.message and "fintech-eval import --register FILE" in p.message
    assert res.clean.empty


def test_an_unknown_institution_gets_the_registers_did_you_mean(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B0001,2024,fintech_staff,100,person", "B001,2024,fintech_staff,100,person",
                                 "B0001,2024,employees,900,person"])
    res = import_files([f], fw, institutions=register)
    [p] = errors(res)
    assert p.rule == "entity.unknown" and "did you mean 'B001'" in p.message and p.where["rows"] == "2, 4 (2 rows)"
    assert "(variables: fintech_staff, employees)" in p.message


def test_a_workbook_of_an_unregistered_institution_is_one_problem(tmp_path, fw, register):
    path = write_template(fw, {"id": "B777", "name_zh": "外行", "sector": "bank", "region_code": "11"}, "2024", tmp_path)
    res = import_files([path], fw, institutions=register)
    errs = errors(res)
    assert [p.rule for p in errs] == ["entity.unknown"] and errs[0].where["entity"] == "B777"


def test_repeated_problems_of_one_cause_are_grouped_and_others_are_not(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B001,2024,fintech_stuff,1,person", "B002,2024,fintech_stuff,2,person",
                                 "B001,FY24,employees,3,person", "B002,FY24,employees,4,person",
                                 "B001,2024,fintech_staff,-1,person", "B002,2024,fintech_staff,-2,person"])
    res = import_files([f], fw, institutions=register)
    by_rule = {}
    for p in errors(res):
        by_rule.setdefault(p.rule, []).append(p)
    assert len(by_rule["variable.unknown"]) == 1 and by_rule["variable.unknown"][0].where["rows"] == "2-3 (2 rows)"
    assert len(by_rule["period.invalid"]) == 1 and by_rule["period.invalid"][0].where["rows"] == "4-5 (2 rows)"
    assert len(by_rule["range.negative"]) == 2  # two values, each its own problem


# ---- blank mandatory values -----------------------------------------------------------------------------
def test_a_blank_mandatory_value_is_an_error_a_declared_na_is_not(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B001,2024,fintech_staff,,person", "B001,2024,employees,,person",
                                 "B001,2024,outlets,N/A,outlet", "B001,2024,fintech_investment,300,万元"])
    res = import_files([f], fw, institutions=register)
    [p] = errors(res)
    assert p.rule == "value.blank_mandatory" and p.where["entity"] == "B001" and p.where["period"] == "2024"
    assert p.where["rows"] == "2-3 (2 rows)" and "fintech_staff" in p.message and "employees" in p.message
    assert "bank institution" in p.message


@pytest.mark.parametrize("others", [{"outlets": 12, "fintech_investment": 300.5}, {"outlets": "12"}])
def test_a_json_null_is_a_blank_whatever_the_other_values(tmp_path, fw, register, others):
    """A null beside numbers only was once read as the text 'NaN' (a declared N/A) and beside a text as a blank."""
    import json

    f = tmp_path / "r.json"
    f.write_text(json.dumps({"entity": "B001", "period": "2024", "values": {"fintech_staff": None, **others}}))
    res = import_files([f], fw, institutions=register)
    [p] = errors(res)
    assert p.rule == "value.blank_mandatory" and "fintech_staff" in p.message
    raw = dict(zip(res.files[0].frame["variable"], res.files[0].frame["raw"], strict=True))
    sent = others["outlets"]
    assert raw["fintech_staff"] is None and raw["outlets"] == (sent if isinstance(sent, str) else json.dumps(sent))


def test_mandatory_policies_strict_none_and_optional(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B001,2024,fintech_staff,,person", "B001,2024,outlets,N/A,outlet"])
    strict = errors(import_files([f], fw, institutions=register, mandatory="strict"))
    assert len(strict) == 1 and strict[0].where["rows"] == "2-3 (2 rows)"
    assert errors(import_files([f], fw, institutions=register, mandatory="none")) == []
    assert errors(import_files([f], fw, institutions=register, optional=["fintech_staff"])) == []
    with pytest.raises(ValueError, match="mandatory="):
        import_files([f], fw, institutions=register, mandatory="sometimes")


# ---- unit factor ----------------------------------------------------------------------------------------
def test_a_value_10000_times_the_previous_period_names_the_unit_slip(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B001,2023,operating_revenue,1200000,万元", "B001,2024,operating_revenue,13000000000,万元"])
    res = import_files([f], fw, institutions=register, unit_checks=UnitChecks())
    [p] = errors(res)
    assert p.rule == "unit.factor" and p.where["row"] == 3 and p.where["variable"] == "operating_revenue"
    assert p.message.startswith("operating_revenue = 13,000,000,000 万元 for B001 in 2024 looks like 元 entered where "
                                "万元 is expected: 10,000× the 2023 value (1,200,000 万元)")
    assert "--accept-unit B001/2024/operating_revenue:REASON" in p.message


def test_one_in_ten_thousand_and_one_hundred_million_are_named_too(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B001,2023,operating_revenue,50000,万元", "B001,2024,operating_revenue,5.2,万元",
                                 "B002,2023,fintech_investment,3,亿元", "B002,2024,fintech_investment,310000000,亿元"])
    msgs = {p.where["entity"]: p.message for p in errors(import_files([f], fw, institutions=register, unit_checks=UnitChecks()))}
    assert "looks like 亿元 entered where 万元 is expected: 1/10,000 of the 2023 value" in msgs["B001"]
    assert "looks like 元 entered where 亿元 is expected: 100,000,000× the 2023 value" in msgs["B002"]


def test_the_previous_period_may_be_stored_and_ordinary_growth_passes(tmp_path, fw, register):
    stored = pd.DataFrame({"entity_kind": ["institution"] * 2, "entity_id": ["B001", "B002"], "period": ["2023"] * 2,
                           "variable": ["operating_revenue"] * 2, "value_norm": [1_200_000.0, 800_000.0]})
    checks = UnitChecks(stored=lambda ids, periods, variables: stored)
    f = csv(tmp_path / "r.csv", ["B001,2024,operating_revenue,12000000000,万元", "B002,2024,operating_revenue,1900000,万元"])
    errs = errors(import_files([f], fw, institutions=register, unit_checks=checks))
    assert [(p.rule, p.where["entity"]) for p in errs] == [("unit.factor", "B001")]  # B002 grew 2.4×: fine


def test_a_value_against_the_registered_size(tmp_path, fw, register):
    sizes = pd.DataFrame({"institution_id": ["B001"], "period": ["2024"], "attribute": ["operating_revenue"],
                          "value": [1.2e10]})  # 元: 1,200,000 万元
    checks = UnitChecks(sizes=lambda ids, periods: sizes)
    f = csv(tmp_path / "r.csv", ["B001,2024,operating_revenue,12000000000,万元"])
    [p] = errors(import_files([f], fw, institutions=register, unit_checks=checks))
    assert "looks like 元 entered where 万元 is expected: 10,000× the registered operating_revenue of 2024" in p.message


def test_an_accepted_unit_factor_is_a_warning_with_the_reason(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B001,2023,operating_revenue,120,万元", "B001,2024,operating_revenue,1300000,万元"])
    checks = UnitChecks.of(["B001/2024/operating_revenue:merged with a large bank"])
    res = import_files([f], fw, institutions=register, unit_checks=checks)
    assert errors(res) == []
    [w] = [p for p in res.problems if p.rule == "unit.factor"]
    assert w.severity == "warning" and w.where["accepted"] == "merged with a large bank" and len(res.clean) == 2


def test_a_reason_in_the_returns_own_column_accepts_the_unit_factor(tmp_path, fw, register):
    """Besides --accept-unit: a reason beside the value (accept_reason, or 接受理由) in a long CSV or JSON return."""
    for header in ("accept_reason", "接受理由"):
        f = tmp_path / f"r_{header}.csv"
        f.write_text(f"entity,period,variable,value,unit,{header}\nB001,2023,operating_revenue,120,万元,\n"
                     "B001,2024,operating_revenue,1300000,万元,merged with a large bank\n", encoding="utf-8")
        res = import_files([f], fw, institutions=register, unit_checks=UnitChecks())
        assert errors(res) == [], errors(res)
        [w] = [p for p in res.problems if p.rule == "unit.factor"]
        assert w.severity == "warning" and w.where["accepted"] == "merged with a large bank" and w.where["row"] == 3
        assert "accepted in the return's accept_reason column: merged with a large bank" in w.message
    j = tmp_path / "r.json"
    j.write_text('[{"entity": "B001", "period": "2023", "values": {"operating_revenue": {"value": 120, "unit": "万元"}}},'
                 ' {"entity": "B001", "period": "2024", "values": {"operating_revenue": {"value": 1300000, "unit": "万元",'
                 ' "accept_reason": "并购"}}}]', encoding="utf-8")
    res = import_files([j], fw, institutions=register, unit_checks=UnitChecks())
    assert errors(res) == [] and [p.where["accepted"] for p in res.problems if p.rule == "unit.factor"] == ["并购"]
    # without a reason the error says both ways out
    f = csv(tmp_path / "plain.csv", ["B001,2023,operating_revenue,120,万元", "B001,2024,operating_revenue,1300000,万元"])
    [p] = errors(import_files([f], fw, institutions=register, unit_checks=UnitChecks()))
    assert "--accept-unit B001/2024/operating_revenue:REASON, or in the return's accept_reason (接受理由) column" in p.message


def test_a_reason_beside_a_value_no_check_stopped_is_said_to_accept_nothing(tmp_path, fw, register):
    f = tmp_path / "r.csv"
    f.write_text("entity,period,variable,value,unit,accept_reason\nB001,2024,fintech_staff,12,person,just in case\n",
                 encoding="utf-8")
    res = import_files([f], fw, institutions=register, unit_checks=UnitChecks())
    [w] = [p for p in res.problems if p.rule == "unit.accept_unused"]
    assert w.severity == "warning" and w.where["row"] == 2 and len(res.clean) == 1


def test_a_wide_table_cannot_carry_a_reason(tmp_path, fw, register):
    f = tmp_path / "w.csv"
    f.write_text("entity,period,operating_revenue,fintech_staff,accept_reason\nB001,2024,1,2,x\n", encoding="utf-8")
    [p] = errors(import_files([f], fw, institutions=register, unit_checks=UnitChecks()))
    assert p.rule == "csv.accept_reason_wide" and "--accept-unit" in p.message


def test_a_reason_in_the_questionnaires_column_accepts_the_unit_factor(tmp_path, fw, register):
    from fintech_eval.collect import fill_template

    stored = pd.DataFrame({"entity_kind": ["institution"], "entity_id": ["B001"], "period": ["2023"],
                           "variable": ["operating_revenue"], "value_norm": [120.0]})
    checks = UnitChecks(stored=lambda ids, periods, variables: stored)
    path = write_template(fw, {"id": "B001", "name_zh": "甲银行", "sector": "bank"}, "2024", tmp_path)
    fill_template(path, {"operating_revenue": 1_300_000}, unanswered="N/A")
    [p] = errors(import_files([path], fw, institutions=register, unit_checks=checks))
    assert p.rule == "unit.factor" and p.where["column"] == "D"
    fill_template(path, {"operating_revenue": 1_300_000}, reasons={"operating_revenue": "并购后营业收入增长"}, unanswered="N/A")
    res = import_files([path], fw, institutions=register, unit_checks=checks)
    assert errors(res) == []
    [w] = [p for p in res.problems if p.rule == "unit.factor"]
    assert w.where["accepted"] == "并购后营业收入增长" and w.severity == "warning"
    fill_template(path, {"operating_revenue": 1_300_000}, reasons={"operating_revenue": "=HYPERLINK(\"x\")"}, unanswered="N/A")
    assert "cell.formula_injection" in {p.rule for p in errors(import_files([path], fw, institutions=register,
                                                                          unit_checks=checks))}


def test_acceptance_syntax():
    assert parse_acceptance("operating_revenue:why").entity is None
    a = parse_acceptance("B001/2024/operating_revenue:a: reason")
    assert (a.entity, a.period, a.variable, a.reason) == ("B001", "2024", "operating_revenue", "a: reason")
    for bad in ("operating_revenue", "B001/operating_revenue:", "a/b/c/d:x", "/x:y"):
        with pytest.raises(DataError, match="--accept-unit"):
            parse_acceptance(bad)


# ---- encodings ------------------------------------------------------------------------------------------
def test_mixed_encodings_import_in_one_call(tmp_path, fw, register):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("entity,period,variable,value,unit,source\nB001,2024,employees,100,人,问卷调查\n".encode("gb18030"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + "entity,period,variable,value,unit,source\nB002,2024,employees,90,人,年报\n".encode())
    plain = csv(tmp_path / "plain.csv", ["B001,2024,fintech_staff,10,人"])
    res = import_files([gbk, bom, plain], fw, institutions=register)
    assert res.ok, res.problems
    assert [r.meta["encoding"] for r in res.files] == ["gb18030", "utf-8-sig", "utf-8"]
    assert set(res.clean["source"].dropna()) == {"问卷调查", "年报"}


def test_an_unreadable_encoding_names_the_cli_option(tmp_path, fw, register):
    f = tmp_path / "latin.csv"
    f.write_bytes((HEADER.strip() + ",source\nB001,2024,employees,100,person,Zürich café\n").encode("latin-1"))
    [p] = errors(import_files([f], fw, institutions=register))
    assert p.rule == "encoding.invalid" and "--encoding NAME" in p.message and "encoding=" not in p.message


def test_validate_without_a_register_checks_nothing_about_entities(fw):
    """A library caller with no register (institutions=None) gets no entity check, as documented."""
    frame = pd.DataFrame({"entity_id": ["ANY"], "period": ["2024"], "variable": ["fintech_staff"], "value": [np.float64(1)]})
    assert validate(frame, fw)[1] == []
