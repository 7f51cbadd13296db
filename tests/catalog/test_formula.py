"""Formulas are data: parsed, checked and evaluated without eval()."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.catalog.formula import parse
from fintech_eval.errors import FormulaError


def test_arithmetic_and_precedence():
    f = parse("a + b * c / d - e ** 2")
    assert f.names == {"a", "b", "c", "d", "e"}
    assert f.evaluate({"a": 1, "b": 6, "c": 2, "d": 4, "e": 3}) == pytest.approx(1 + 3 - 9)


def test_turnover_rate_hand_computed():
    # J-A2B2-C3: leavers / ((prev + curr) / 2): 30 / ((280 + 320) / 2) = 0.1
    f = parse("leavers / ((prev + curr) / 2)")
    assert f.evaluate({"leavers": 30, "prev": 280, "curr": 320}) == pytest.approx(0.1)


def test_division_by_zero_is_missing_not_infinite():
    f = parse("a / b")
    out = f.evaluate({"a": np.array([1.0, 0.0, 2.0]), "b": np.array([0.0, 0.0, 4.0])})
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 0.5
    assert np.isnan(f.evaluate({"a": 1.0, "b": 0.0}))


def test_missing_inputs_stay_missing():
    f = parse("w * a / b + (1 - w) * c / d")
    out = f.evaluate({"w": 0.5, "a": pd.Series([1.0, np.nan]), "b": 2.0, "c": 1.0, "d": 4.0})
    assert out[0] == pytest.approx(0.375)
    assert np.isnan(out[1])


def test_comparisons_conditionals_and_functions():
    f = parse("1 if x > 0 and y >= 2 else 0")
    out = f.evaluate({"x": np.array([1.0, -1.0, np.nan]), "y": np.array([2.0, 5.0, 5.0])})
    assert out[0] == 1 and out[1] == 0 and np.isnan(out[2])
    assert parse("min(a, b, 3)").evaluate({"a": 5, "b": 4}) == 3
    assert parse("max(a, b)").evaluate({"a": 5, "b": 4}) == 5
    assert parse("abs(a) + sqrt(b)").evaluate({"a": -2, "b": 9}) == 5
    assert np.isnan(parse("log(a)").evaluate({"a": 0.0}))
    assert parse("not a").evaluate({"a": 0.0}) == 1


def test_unknown_variable_is_named():
    with pytest.raises(FormulaError, match="unknown variable.*zz"):
        parse("a / zz", known={"a"}, where={"indicator": "J-A1B1-C1"})


@pytest.mark.parametrize(
    "text, message",
    [
        ("a /", "does not parse"),
        ("__import__('os').system('x')", "unknown function|not allowed"),
        ("a.real", "Attribute is not allowed"),
        ("(lambda: 1)()", "not allowed|unknown function"),
        ("'text'", "only numeric constants"),
        ("a[0]", "Subscript is not allowed"),
        ("max(a)", "takes 2"),
        ("round(a, key=1)", "unknown function"),
        ("", "empty"),
        ("True + 1", "only numeric constants"),
    ],
)
def test_rejected_syntax(text, message):
    with pytest.raises(FormulaError, match=message):
        parse(text)
