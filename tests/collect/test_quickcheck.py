"""The compiled validation of a value mapping (collect/quickcheck.py): it answers for a clean return with the fields
the import gives, and declines (None) whenever a rule of the import could fire, so that the import says what is
wrong. Equality with the import over generated returns is tests/app/test_fast_check.py's; here each rule's
decline, by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.collect import import_files
from fintech_eval.collect.quickcheck import Known, compiled

REGISTER = pd.DataFrame({"id": ["B001"], "name_zh": ["甲银行"], "sector": ["bank"]})
CLEAN = {"fintech_staff": 120, "employees": 3000, "fintech_investment": {"value": 1.5, "unit": "亿元"},
         "fintech_strategy_plan": 1, "outlets": "N/A", "coop_universities": 10.0}


@pytest.fixture(scope="module")
def rules():
    return compiled(fe.load_framework("jrt0201-2020"), "bank")


def test_a_clean_mapping_gets_the_import_fields_exactly(rules, tmp_path):
    fields = rules.fields(CLEAN, "B001", "2024", Known())
    assert fields is not None
    f = tmp_path / "return.json"
    f.write_text(json.dumps({"entity": "B001", "period": "2024", "values": CLEAN}, ensure_ascii=False), encoding="utf-8")
    res = import_files([f], fe.load_framework("jrt0201-2020"), institutions=REGISTER, outlier_threshold=float("inf"))
    assert res.problems == []
    clean = res.clean.assign(file="return.json")
    want = [{k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in clean[["variable", "raw", "value", "unit", "value_norm", "unit_norm", "status", "flag_reason",
                            "row", "column"]].to_dict("records")]
    assert json.dumps(fields, sort_keys=True) == json.dumps(want, sort_keys=True)
    inv = next(x for x in fields if x["variable"] == "fintech_investment")
    assert inv["value_norm"] == 15000.0 and inv["unit"] == "亿元" and inv["raw"] == "1.5"  # 1.5 亿元 = 15,000 万元
    assert next(x for x in fields if x["variable"] == "fintech_staff")["raw"] == "120"  # as sent, not 120.0


@pytest.mark.parametrize("change, why", [
    ({"fintech_staff": None}, "a null is a blank field (value.blank_mandatory)"),
    ({"fintech_staff": ""}, "a blank text"),
    ({"fintech_staff": "1,200"}, "a number as text: the import reads it"),
    ({"fintech_staff": 12.5}, "type.not_whole"),
    ({"fintech_staff": -1}, "range.negative"),
    ({"fintech_strategy_plan": 2}, "type.binary"),
    ({"fintech_staff": 4000}, "part_of.exceeds: fintech_staff > employees"),
    ({"fintech_investment": {"value": 1, "unit": "kg"}}, "unit.unknown"),
    ({"fintech_investment": {"value": 1, "unit": "person"}}, "unit.incompatible"),
    ({"fintech_investment": {"value": 1, "unit": " 亿元"}}, "a unit with spaces: the import strips it"),
    ({"no_such_variable": 1}, "variable.unknown"),
    ({"outlets": "…"}, "NFKC makes '…' into '...', which the readers do not take as N/A"),
    ({"fintech_staff": True}, "a boolean"),
    ({"fintech_staff": 10**17}, "an integer the JSON reader would read as a float"),
])
def test_it_declines_whatever_the_import_might_object_to(rules, change, why):
    assert rules.fields({**CLEAN, **change}, "B001", "2024", Known()) is None, why


def test_it_declines_a_variable_another_sector_is_asked():
    fw = fe.load_framework("jrt0201-2020")
    bank, payment = compiled(fw, "bank"), compiled(fw, "payment")
    only_bank = next(n for n in bank.vars if n not in payment.vars)
    assert payment.fields({only_bank: 1}, "P001", "2024", Known()) is None  # variable.not_applicable
    assert compiled(fw, "no-such-sector") is None


def test_stored_values_it_compares_with(rules):
    # unit.factor: 10,000 × last year's value (元 entered where 万元 is expected) or 1/10,000 of it
    assert rules.fields({"fintech_investment": 5_000_000.0}, "B001", "2024",
                        Known.of([("2023", "fintech_investment", 500.0)])) is None
    assert rules.fields({"fintech_investment": 520.0}, "B001", "2024",
                        Known.of([("2023", "fintech_investment", 500.0)])) is not None
    # … or the registered size (元) of the same period
    assert rules.fields({"operating_revenue": 2e9}, "B001", "2024",
                        Known.of([], [("2024", "operating_revenue", 2e9)])) is None
    assert rules.fields({"operating_revenue": 2e5}, "B001", "2024",
                        Known.of([], [("2024", "operating_revenue", 2e9)])) is not None
    # turnover.inconsistent: fintech_staff_prev_end restates last year's fintech_staff
    assert rules.fields({"fintech_staff_prev_end": 100}, "B001", "2024", Known.of([("2023", "fintech_staff", 90)])) is None
    assert rules.fields({"fintech_staff_prev_end": 90}, "B001", "2024", Known.of([("2023", "fintech_staff", 90)])) is not None
    # part_of against a stored whole of the same period: the import decides
    assert rules.fields({"fintech_staff": 10}, "B001", "2024", Known.of([("2024", "employees", 5)])) is None


def test_an_entity_code_or_period_the_readers_might_object_to(rules):
    assert rules.fields(CLEAN, "B 001", "2024", Known()) is None
    assert rules.fields(CLEAN, "B001", "2024Q5", Known()) is None
    assert rules.fields({}, "B001", "2024", Known()) is None
