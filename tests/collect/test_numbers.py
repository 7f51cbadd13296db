"""The one number parser (collect/numbers.py): what is a number, in every script, and that the CSV fast
path (Arrow, large files), the slow path, JSON and workbooks all agree with it."""

from __future__ import annotations

import json
import math

import pytest

from fintech_eval.collect import read_file
from fintech_eval.collect.numbers import ascii_digits, is_injection, parse_number


@pytest.mark.parametrize(("text", "value", "hint"), [
    ("1234", 1234.0, None), ("-1.5", -1.5, None), (".5", 0.5, None), ("1e6", 1e6, None),
    ("1,234", 1234.0, None), ("1，234,567.8", 1234567.8, None), ("12.5%", 12.5, "%"), ("１２％", 12.0, "%"),
    ("３０００", 3000.0, None), ("٣٠٠٠", 3000.0, None), ("३०००", 3000.0, None), ("𝟑𝟎𝟎𝟎", 3000.0, None),
    ("−5", -5.0, None), ("是 yes", 1.0, "yes/no"), ("否", 0.0, "yes/no"), (7, 7.0, None), (True, 1.0, "yes/no"),
])
def test_numbers(text, value, hint):
    assert parse_number(text) == (value, hint, None)


@pytest.mark.parametrize(("text", "rule"), [
    ("abc", "cell.not_number"), ("1,23", "cell.not_number"), ("0x10", "cell.not_number"), ("3_000", "cell.not_number"),
    ("=1+1", "cell.formula_injection"), ("＝1+1", "cell.formula_injection"), ("@SUM(A1)", "cell.formula_injection"),
    ("#DIV/0!", "cell.excel_error"), ("１２３abc", "cell.not_number"),
])
def test_not_numbers(text, rule):
    v, _, r = parse_number(text)
    assert math.isnan(v) and r == rule


def test_missing_and_overflow():
    for t in ("", "N/A", "-", "无", "不适用", None):
        v, h, r = parse_number(t)
        assert math.isnan(v) and h is None and r is None
    assert parse_number("1e999")[0] == math.inf and parse_number(10 ** 400)[0] == math.inf  # then value.not_finite


def test_ascii_digits_and_injection():
    assert ascii_digits("20２４Q１") == "2024Q1" and ascii_digits("plain") == "plain"
    assert is_injection("=cmd") and is_injection("＋cmd") and not is_injection("-5") and not is_injection("B001")


def test_fast_and_slow_csv_paths_and_json_agree(tmp_path):
    rows = [f"E{i:05d},2024,employees,{i + 1},person,s" for i in range(60_000)]  # > 1 MB: the Arrow path
    rows[123] = "E00123,2024,employees,１２４,person,s"
    rows[456] = "E00456,2024,employees,٤٥٧,person,s"
    big = tmp_path / "big.csv"
    big.write_text("entity,period,variable,value,unit,source\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert big.stat().st_size > 1 << 20
    frame = read_file(big).frame
    assert frame["value"].iloc[123] == 124 and frame["value"].iloc[456] == 457
    assert (frame["value"].to_numpy() == range(1, 60_001)).all()
    small = tmp_path / "small.csv"
    small.write_text("entity,period,variable,value,unit,source\n" + rows[123] + "\n", encoding="utf-8")
    assert read_file(small).frame["value"].iloc[0] == 124
    js = tmp_path / "d.json"
    js.write_text(json.dumps([{"entity": "E1", "period": "2024", "variable": "employees", "value": "１２４"}]),
                  encoding="utf-8")
    assert read_file(js).frame["value"].iloc[0] == 124
