"""The province table and name/code resolution."""

import math

import pandas as pd
import pytest

from fintech_eval.errors import DataError
from fintech_eval.geo import provinces, resolve_many, resolve_province

ALL = provinces(include_out_of_scope=True)
IN_SCOPE = provinces()

# NBS 东部/中部/西部/东北 membership, written out independently of the CSV.
NBS = {
    "east": {"北京", "天津", "河北", "上海", "江苏", "浙江", "福建", "山东", "广东", "海南"},
    "central": {"山西", "安徽", "江西", "河南", "湖北", "湖南"},
    "west": {
        "内蒙古",
        "广西",
        "重庆",
        "四川",
        "贵州",
        "云南",
        "西藏",
        "陕西",
        "甘肃",
        "青海",
        "宁夏",
        "新疆",
    },
    "northeast": {"辽宁", "吉林", "黑龙江"},
}


def test_31_in_scope_and_3_out():
    assert len(IN_SCOPE) == 31
    assert IN_SCOPE["in_scope"].all()
    out = ALL[~ALL["in_scope"]]
    assert sorted(out["code"]) == ["710000", "810000", "820000"]
    assert set(out["short_zh"]) == {"台湾", "香港", "澳门"}
    assert (out["macro_region"] == "").all()


def test_codes_unique_and_well_formed():
    for column in ("code", "prefix", "name_zh", "short_zh", "name_en"):
        assert ALL[column].is_unique, column
    assert ALL["code"].str.fullmatch(r"[1-8]\d0000").all()
    assert (ALL["prefix"] == ALL["code"].str[:2]).all()
    assert list(ALL["code"]) == sorted(ALL["code"])


def test_column_types_and_values():
    assert list(IN_SCOPE.columns)[:9] == [
        "code",
        "prefix",
        "name_zh",
        "short_zh",
        "name_en",
        "kind",
        "macro_region",
        "macro_region_zh",
        "in_scope",
    ]
    assert pd.api.types.is_string_dtype(IN_SCOPE["code"])
    assert IN_SCOPE["in_scope"].dtype == bool
    assert IN_SCOPE["kind"].value_counts().to_dict() == {
        "province": 22,
        "autonomous region": 5,
        "municipality": 4,
    }
    assert set(ALL.loc[~ALL["in_scope"], "kind"]) == {"province", "special administrative region"}


def test_macro_regions_follow_nbs():
    got = {r: set(IN_SCOPE.loc[IN_SCOPE["macro_region"] == r, "short_zh"]) for r in NBS}
    assert got == NBS
    zh = dict(zip(IN_SCOPE["macro_region"], IN_SCOPE["macro_region_zh"], strict=True))
    assert zh == {"east": "东部", "central": "中部", "west": "西部", "northeast": "东北"}


def test_known_names():
    row = ALL.set_index("code")
    assert row.loc["110000", "name_zh"] == "北京市"
    assert row.loc["650000", ["name_zh", "short_zh", "name_en"]].tolist() == [
        "新疆维吾尔自治区",
        "新疆",
        "Xinjiang",
    ]
    assert row.loc["450000", "name_zh"] == "广西壮族自治区"
    assert row.loc["140000", "name_en"] == "Shanxi"
    assert row.loc["610000", "name_en"] == "Shaanxi"


def test_provinces_returns_a_copy():
    frame = provinces()
    frame.loc[0, "name_en"] = "changed"
    assert provinces().loc[0, "name_en"] == "Beijing"


@pytest.mark.parametrize("column", ["code", "prefix", "name_zh", "short_zh", "name_en"])
def test_every_name_and_code_resolves(column):
    for code, value in zip(ALL["code"], ALL[column], strict=True):
        assert resolve_province(value) == code, value


def test_every_alias_and_case_resolves():
    for code, en, aliases in zip(ALL["code"], ALL["name_en"], ALL["aliases"], strict=True):
        assert resolve_province(en.upper()) == code
        assert resolve_province(en.lower()) == code
        assert resolve_province(f"  {en}  ") == code
        for alias in filter(None, aliases.split("|")):
            assert resolve_province(alias) == code, alias


@pytest.mark.parametrize(
    "value",
    [
        "内蒙古自治区",
        "内蒙古",
        "内蒙",
        "Inner Mongolia",
        "inner mongolia",
        "Nei Mongol",
        "Neimenggu",
        "Inner Mongolia Autonomous Region",
        "15",
        "150000",
        150000,
        15,
        150000.0,
        "１５００００",
        "内蒙古自治区 ",
    ],
)
def test_inner_mongolia_variants(value):
    assert resolve_province(value) == "150000"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Guangdong Province", "440000"),
        ("广东省", "440000"),
        ("Beijing Municipality", "110000"),
        ("Beijing City", "110000"),
        ("新疆自治区", "650000"),
        ("Xinjiang Uyghur Autonomous Region", "650000"),
        ("Guangxi Zhuang Autonomous Region", "450000"),
        ("广西自治区", "450000"),
        ("Tibet", "540000"),
        ("Xizang", "540000"),
        ("Ningxia Hui", "640000"),
        ("Hong Kong SAR", "810000"),
        ("香港特别行政区", "810000"),
        ("Macau", "820000"),
        ("澳門", "820000"),
        ("臺灣", "710000"),
        ("Shanxi", "140000"),
        ("Shaanxi", "610000"),
        ("ＢＥＩＪＩＮＧ", "110000"),
    ],
)
def test_common_variants(value, code):
    assert resolve_province(value) == code


@pytest.mark.parametrize(
    "value",
    [
        "Atlantis",
        "",
        "   ",
        "京",
        "440300",
        "4400",
        "99",
        "990000",
        "Guangdong Provincee",
        None,
        math.nan,
        12.5,
        True,
        ["北京"],
    ],
)
def test_unknown_raises_data_error_naming_value(value):
    with pytest.raises(DataError) as info:
        resolve_province(value)
    (problem,) = info.value.problems
    assert problem.rule == "region.unknown"
    assert repr(value) in str(info.value)


def test_out_of_scope_only_when_asked():
    assert resolve_province("香港") == "810000"
    with pytest.raises(DataError) as info:
        resolve_province("香港", in_scope_only=True)
    assert info.value.problems[0].rule == "region.out_of_scope"
    assert "'香港'" in str(info.value)
    assert resolve_province("北京", in_scope_only=True) == "110000"


def test_resolve_many_reports_all_unresolved_together():
    values = [
        "北京",
        "Atlantis",
        "广东省",
        None,
        "Atlantis",
        "Guangdong",
        "Gotham",
        math.nan,
        "440300",
        310000,
    ]
    mapping, unresolved = resolve_many(values)
    assert mapping == {"北京": "110000", "广东省": "440000", "Guangdong": "440000", 310000: "310000"}
    # first-seen order, no repeats; None and NaN are both "missing" and reported once
    assert unresolved == ["Atlantis", None, "Gotham", "440300"]


def test_resolve_many_accepts_a_series_and_in_scope_only():
    mapping, unresolved = resolve_many(pd.Series(["上海", "澳门", "Xizang"]), in_scope_only=True)
    assert mapping == {"上海": "310000", "Xizang": "540000"}
    assert unresolved == ["澳门"]


def test_resolve_many_strict_raises_one_error_with_every_problem():
    with pytest.raises(DataError) as info:
        resolve_many(["Atlantis", "北京", "Gotham", "香港"], in_scope_only=True, strict=True)
    problems = info.value.problems
    assert [p.where["value"] for p in problems] == ["Atlantis", "Gotham", "香港"]
    assert [p.rule for p in problems] == ["region.unknown", "region.unknown", "region.out_of_scope"]
    text = str(info.value)
    assert "Atlantis" in text and "Gotham" in text and "香港" in text
    assert info.value.exit_code == 2


def test_resolve_many_all_good():
    mapping, unresolved = resolve_many(IN_SCOPE["name_zh"], strict=True)
    assert unresolved == []
    assert sorted(mapping.values()) == sorted(IN_SCOPE["code"])
