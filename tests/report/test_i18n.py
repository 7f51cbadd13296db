import pytest

from fintech_eval.report import i18n
from fintech_eval.report.i18n import (
    fmt_amount,
    fmt_int,
    fmt_number,
    fmt_pct,
    fmt_rank,
    fmt_signed,
    fmt_value,
    t,
)


def test_every_label_in_both_languages():
    for key in i18n.keys():
        zh, en = t(key, "zh"), t(key, "en")
        if key != "explain.no_interval":
            assert zh and en, key
    with pytest.raises(KeyError):
        t("total_score", "fr")
    with pytest.raises(KeyError):
        t("no.such.label", "zh")


def test_numbers_per_locale():
    assert fmt_number(1234567.891, "zh") == "1,234,567.89"
    assert fmt_number(float("nan"), "en") == "—" and fmt_number(None, "zh") == "—"
    assert fmt_number(-0.001, "en") == "0.00"
    assert fmt_int(12345.0) == "12,345"
    assert fmt_pct(0.1234, "zh") == "12.3%"
    assert fmt_signed(1.2, "en") == "+1.20" and fmt_signed(-0.351, "en") == "−0.35"
    assert fmt_amount(1.2345e10, "zh") == "123.45 亿元"
    assert fmt_amount(1.2345e10, "en") == "123.45 (CNY 100 million)"
    assert fmt_amount(5.0e4, "zh", scale="wan") == "5.00 万元"
    assert fmt_rank(3, 51, "zh") == "第 3 名 / 共 51 个" and fmt_rank(3, 51, "en") == "3 of 51"
    assert fmt_value(2, "rank_change", "en") == "+2" and fmt_value(-3, "rank_change", "en") == "−3"
    assert fmt_value(True, "auto", "zh") == "是"
