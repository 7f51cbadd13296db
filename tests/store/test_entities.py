"""Institutions, vendors, size attributes and periods: validated, upserted, listed."""

import pandas as pd
import pytest

from fintech_eval.catalog.models import SECTORS as CATALOG_SECTORS
from fintech_eval.errors import DataError
from fintech_eval.store import (
    SECTORS,
    ensure_periods,
    institutions_frame,
    period_kind,
    province_code,
    size_frame,
    upsert_institutions,
    upsert_size_attributes,
    upsert_vendors,
    vendors_frame,
)

from .helpers import counts

BANKS = pd.DataFrame(
    {
        "id": ["91100000100003962T", "911100001000044477", "B-local"],
        "name_zh": ["中国工商银行", "中国农业银行", "某农商行"],
        "name_en": ["ICBC", "ABC", None],
        "sector": ["bank", "bank", "bank"],
        "subtype": ["large state-owned bank", "large state-owned bank", "rural commercial bank"],
        "region_code": ["110000", "11", 33],
        "listed": [True, "是", 0],
    }
)


def test_sectors_match_the_catalog():
    assert SECTORS == CATALOG_SECTORS


def test_codes():
    assert [period_kind(c) for c in ("2024", "2024Q4", "2024-03", "2024Q5", "2024-13", "24", None)] == [
        "annual", "quarterly", "monthly", None, None, None, None,
    ]  # fmt: skip
    assert [province_code(c) for c in ("11", "110000", 44, 650000, "110101", "99", "1", None)] == [
        "11", "11", "44", "65", None, None, None, None,
    ]  # fmt: skip


def test_institutions_upsert_and_list(session):
    stats = upsert_institutions(session, BANKS)
    session.commit()
    assert stats.inserted == 3
    out = institutions_frame(session)
    assert out["id"].tolist() == sorted(BANKS["id"])
    by_id = out.set_index("id")
    assert by_id.loc["91100000100003962T", "region_code"] == "11"
    assert by_id.loc["B-local", "region_code"] == "33" and not by_id.loc["B-local", "listed"]
    assert by_id.loc["911100001000044477", "listed"] and pd.isna(by_id.loc["B-local", "name_en"])
    again = upsert_institutions(session, BANKS)
    session.commit()
    assert again.unchanged == 3 and again.audited == 0
    partial = pd.DataFrame({"id": ["911100001000044477"], "listed": [None], "subtype": ["joint-stock bank"]})
    upsert_institutions(session, partial)  # a missing 'listed' keeps the stored value
    session.commit()
    row = institutions_frame(session).set_index("id").loc["911100001000044477"]
    assert row["listed"] and row["subtype"] == "joint-stock bank"
    assert institutions_frame(session, sector="insurance").empty


@pytest.mark.parametrize(
    "change, rule",
    [
        ({"sector": "casino"}, "store.sector"),
        ({"region_code": "110101"}, "store.region_code"),
        ({"listed": "maybe"}, "store.listed"),
        ({"id": "  "}, "store.missing"),
    ],
)
def test_bad_institutions_are_refused(session, change, rule):
    bad = BANKS.copy()
    for k, v in change.items():
        bad[k] = bad[k].astype(object)
        bad.loc[1, k] = v
    with pytest.raises(DataError) as ei:
        upsert_institutions(session, bad)
    assert rule in {p.rule for p in ei.value.problems}
    session.rollback()
    assert counts(session)["institution"] == 0


def test_new_institution_needs_name_and_sector(session):
    with pytest.raises(DataError) as ei:
        upsert_institutions(session, [{"id": "X", "name_zh": "某机构"}])
    assert ei.value.problems[0].rule == "store.missing" and "sector" in ei.value.problems[0].message
    session.rollback()
    assert counts(session)["institution"] == 0


def test_vendors(session):
    upsert_vendors(session, [{"id": "V1", "name_zh": "某科技公司", "provider_type": "product"}])
    session.commit()
    assert vendors_frame(session)[["id", "provider_type"]].values.tolist() == [["V1", "product"]]
    with pytest.raises(DataError):
        upsert_vendors(session, [{"id": "V2", "name_zh": "x", "provider_type": "reseller"}])


def test_size_attributes(session):
    upsert_institutions(session, BANKS)
    rows = [
        {"institution_id": "B-local", "period": "2024", "attribute": "operating_revenue", "value": 1.2e9},
        {"institution_id": "B-local", "period": "2024", "attribute": "market_share", "value": None},
    ]
    assert upsert_size_attributes(session, rows).inserted == 2
    session.commit()
    out = size_frame(session, period="2024")
    assert out["attribute"].tolist() == ["market_share", "operating_revenue"]
    assert pd.isna(out["value"][0]) and out["value"][1] == 1.2e9
    st = upsert_size_attributes(session, [{**rows[0], "value": 1.3e9}], who="me", why="restated")
    session.commit()
    assert st.updated == 1 and st.audited == 1
    for bad, rule in [
        ({"institution_id": "NOPE"}, "store.unknown_entity"),
        ({"attribute": "headcount"}, "store.attribute"),
        ({"period": "FY24"}, "store.period"),
        ({"value": "lots"}, "store.not_a_number"),
    ]:
        with pytest.raises(DataError) as ei:
            upsert_size_attributes(session, [{**rows[0], **bad}])
        assert rule in {p.rule for p in ei.value.problems}
        session.rollback()


def test_periods(session):
    assert ensure_periods(session, ["2024", "2024Q1", "2024-03", "2024"]) == 3
    assert ensure_periods(session, ["2024"]) == 0
    with pytest.raises(DataError):
        ensure_periods(session, ["2024H1"])
