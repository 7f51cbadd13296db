"""Unit conversion: explicit, by dimension, zh and en aliases; unknown and incompatible units are errors."""

import math

import pytest

import fintech_eval as fe
from fintech_eval.collect.units import UnitError, conversion_factor, convert, describe, parse_unit


@pytest.mark.parametrize(
    ("src", "dst", "factor"),
    [
        ("亿元", "CNY 10k", 10_000),
        ("CNY 100m", "CNY 10k", 10_000),
        ("CNY 100m (亿元)", "CNY 10k", 10_000),
        ("元", "CNY 10k", 1e-4),
        ("RMB", "CNY 10k", 1e-4),
        ("千元", "CNY 10k", 0.1),
        ("百万元", "CNY 10k", 100),
        ("CNY bn", "CNY 10k", 100_000),
        ("万元", "CNY 10k", 1),
        ("RMB'000", "CNY 10k", 0.1),
        ("万人", "person", 10_000),
        ("persons", "person", 1),
        ("人", "person", 1),
        ("10k users (万户)", "user", 10_000),
        ("亿户", "user", 1e8),
        ("100m transactions (亿笔)", "transaction", 1e8),
        ("笔", "loan", 1),
        ("units", "device", 1),
        ("台", "device", 1),
        ("%", "fraction", 0.01),
        ("percent", "fraction", 0.01),
        ("‰", "fraction", 0.001),
        ("ms", "hour", 1 / 3_600_000),
        ("s", "ms", 1000),
        ("min", "hour", 1 / 60),
        ("分钟", "hour", 1 / 60),
        ("小时", "hour", 1),
        ("day", "hour", 24),
        ("级", "level", 1),
        ("是/否", "yes/no", 1),
        ("calls/hour", "call per day", 24),
        ("人次", "person-time", 1),
        ("项", "patent", 1),
        ("count", "project", 1),
    ],
)
def test_conversion_factors(src, dst, factor):
    assert math.isclose(conversion_factor(src, dst, variable="x"), factor, rel_tol=1e-12)


def test_blank_unit_means_the_declared_unit():
    assert conversion_factor(None, "CNY 10k") == 1.0
    assert conversion_factor("  ", "person") == 1.0
    assert convert(163.74, "CNY 100m (亿元)", "CNY 10k") == pytest.approx(1_637_400)


@pytest.mark.parametrize(
    ("src", "dst", "rule"),
    [
        ("person", "CNY 10k", "unit.incompatible"),
        ("亿元", "person", "unit.incompatible"),
        ("%", "person", "unit.incompatible"),
        ("pp", "fraction", "unit.incompatible"),
        ("user", "person", "unit.incompatible"),
        ("hour", "CNY 10k", "unit.incompatible"),
        ("yes/no", "person", "unit.incompatible"),
        ("furlong", "person", "unit.unknown"),
        ("3亿元", "CNY 10k", "unit.unknown"),
        ("亿元 (人)", "CNY 10k", "unit.unknown"),  # the halves disagree
    ],
)
def test_bad_units_name_the_variable_and_both_units(src, dst, rule):
    with pytest.raises(UnitError) as ei:
        conversion_factor(src, dst, variable="fintech_investment")
    p = ei.value.problems[0]
    assert p.rule == rule
    assert "fintech_investment" in p.message and repr(src) in p.message and repr(dst) in p.message


def test_halves_of_a_bilingual_unit_must_agree():
    with pytest.raises(UnitError):
        parse_unit("CNY 100m (万元)")


def test_every_unit_the_catalog_declares_is_registered():
    fw = fe.load_framework("jrt0201-2020")
    for v in fw.variables:
        assert parse_unit(v.unit), v.name
        assert conversion_factor(v.unit, v.unit) == 1.0


def test_describe():
    assert describe("亿元") == "money"
    assert describe("units") == "a count"
    assert describe("万人") == "count of person"
    assert describe("nonsense") == "unknown"
