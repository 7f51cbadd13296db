"""The long J/H/Q panel and its wide form for the composite engine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fintech_eval.derive import (
    NOT_APPLICABLE,
    OK,
    PANEL_COLUMNS,
    derive_all,
    derive_industry,
    derive_institutions,
    derive_regions,
    to_engine_panel,
)
from fintech_eval.errors import DataError, SpecError

from . import FULL, framework, full_institutions, institutions_table, long_obs

REGION_DATA = {"q_payment_amount": 10_000, "q_mobile_payment_amount": 6_000, "q_licensed_institutions": 900}


def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The four full institutions in 2020 and 2021 (2021: B1 doubles its FinTech investment) + 2 regions."""
    obs, inst = full_institutions()
    obs21 = long_obs({e: (dict(v, fintech_investment=1_000) if e == "B1" else v) for e, v in FULL.items()}, period=2021)
    regions = long_obs({"110000": REGION_DATA, "310000": dict(REGION_DATA, q_payment_amount=0)}, kind="region")
    return pd.concat([obs, obs21, regions], ignore_index=True), inst


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    obs, inst = sample()
    return derive_all(obs, inst, framework())


def test_panel_columns_and_blocks(panel):
    assert list(panel.columns) == PANEL_COLUMNS
    counts = panel["block"].value_counts()
    assert counts["J"] == 4 * 2 * 51  # 4 institutions × 2 periods × 51
    assert counts["H"] == 4 * 2 * 19  # 4 industries × 2 periods × 19
    assert counts["Q"] == 2 * 1 * 12  # 2 regions × 1 period × 12


def test_panel_agrees_with_the_block_functions(panel):
    obs, inst = sample()
    fw = framework()
    j = derive_institutions(obs, inst, fw)
    h = derive_industry(obs, inst, j, fw)
    q = derive_regions(obs, fw)
    for block, df in (("J", j), ("H", h), ("Q", q)):
        part = panel[panel["block"] == block].reset_index(drop=True)
        assert list(part["code"].astype(str)) == list(df["code"].astype(str))
        assert list(part["entity_id"]) == [str(e) for e in df["entity_id"]]
        np.testing.assert_array_equal(part["value"].to_numpy(), df["value"].to_numpy())
        assert list(part["status"].astype(str)) == list(df["status"].astype(str))
        assert list(part["reason"].astype(str)) == list(df["reason"].astype(str))


def test_panel_values(panel):
    def get(block, entity, period, code):
        r = panel[(panel["block"] == block) & (panel["entity_id"] == entity) & (panel["period"] == period)
                  & (panel["code"] == code)]
        assert len(r) == 1
        return r.iloc[0]

    assert get("J", "B1", 2020, "J-A2B1-C1")["value"] == pytest.approx(0.05)  # 500 / 10,000
    assert get("J", "B1", 2021, "J-A2B1-C1")["value"] == pytest.approx(0.1)  # 1,000 / 10,000
    assert get("H", "bank", 2021, "H-A1B1-C1")["value"] == pytest.approx(0.1)  # B1 alone
    assert get("Q", "110000", 2020, "Q-A1B1-C3")["value"] == pytest.approx(0.6)  # 6,000 / 10,000
    assert get("Q", "310000", 2020, "Q-A1B1-C3")["status"] == "undefined"
    assert get("J", "I1", 2020, "J-A3B3-C2")["status"] == NOT_APPLICABLE


def test_engine_panel_for_j(panel):
    data, na = to_engine_panel(panel, "J")
    assert data.index.names == ["entity_id", "period"]
    assert list(data.index) == [(e, p) for e in ("B1", "I1", "P1", "S1") for p in (2020, 2021)]
    assert list(data.columns) == [i.code for i in framework().indicators(block="J")]
    assert data.dtypes.unique().tolist() == [np.dtype("float64")]
    assert na.dtypes.unique().tolist() == [np.dtype("bool")]
    assert data.loc[("B1", 2021), "J-A2B1-C1"] == pytest.approx(0.1)
    # not applicable: NaN in the data, True in the mask; applicable cells False
    assert math.isnan(data.loc[("I1", 2020), "J-A3B3-C2"]) and na.loc[("I1", 2020), "J-A3B3-C2"]
    assert not na.loc[("B1", 2020)].any()
    assert na.loc[("P1", 2020)].sum() == 10
    assert na.index.equals(data.index) and na.columns.equals(data.columns)


def test_engine_panel_one_period(panel):
    data, na = to_engine_panel(panel, "H", period=2020)
    assert data.index.name == "entity_id"
    assert list(data.index) == ["bank", "insurance", "payment", "securities"]
    assert data.shape == (4, 19)
    assert data.loc["bank", "H-A1B1-C1"] == pytest.approx(0.05)  # B1 alone: 500 / 10,000
    assert na.loc["securities", "H-A2B1-C4"] and not na.loc["bank", "H-A2B1-C4"]


def test_engine_panel_missing_and_flagged():
    vals = dict(FULL["B1"], pc_transaction_amount=3_000)  # 3,000 / 2,000 = 1.5: flagged
    del vals["employees"]
    obs = long_obs({"B1": vals})
    panel = derive_all(obs, institutions_table({"B1": "bank"}), framework())
    data, na = to_engine_panel(panel, "J", period=2020)
    assert data.loc["B1", "J-A3B1-C2"] == pytest.approx(1.5)  # kept for the engine by default
    assert math.isnan(data.loc["B1", "J-A2B2-C1"]) and not na.loc["B1", "J-A2B2-C1"]  # missing is not n/a
    data, _ = to_engine_panel(panel, "J", period=2020, include_flagged=False)
    assert math.isnan(data.loc["B1", "J-A3B1-C2"])


def test_engine_panel_errors(panel):
    with pytest.raises(DataError, match="no rows for block 'X'.*blocks present: H, J, Q"):
        to_engine_panel(panel, "X")
    with pytest.raises(DataError, match="duplicate rows for B1 / 2020 / J-A1B1-C1"):
        to_engine_panel(pd.concat([panel.iloc[:1], panel.iloc[:1]]), "J")


def test_engine_consumes_the_panel(panel):
    from fintech_eval.methods.aggregate import aggregate
    from fintech_eval.tree import Tree

    data, na = to_engine_panel(panel, "J", period=2020)
    codes = ["J-A3B3-C2", "J-A2B1-C1"]  # bank-only score and a universal ratio
    tree = Tree.from_rows(
        [{"code": c, "parent": "X", "level": 1} for c in codes] + [{"code": "X", "parent": None, "level": 2}]
    )
    out = aggregate(data[codes], tree, not_applicable=na[codes])
    # the insurer's score is not applicable: its aggregate is its one applicable indicator
    assert not math.isnan(out.loc["I1", "X"])


def test_empty_inputs():
    panel = derive_all(long_obs({}), institutions_table({}), framework())
    assert list(panel.columns) == PANEL_COLUMNS and len(panel) == 0


def test_panel_entity_ids_are_strings_for_numeric_region_codes():
    obs = long_obs({110000: REGION_DATA}, kind="region")
    panel = derive_all(obs, institutions_table({}), framework())
    assert set(panel["entity_id"]) == {"110000"}
    # Q-A1B1-C1 = 900 and Q-A1B1-C3 = 6,000 / 10,000 are ok; the other 10 lack inputs
    assert (panel["block"] == "Q").all() and (panel["status"] == OK).sum() == 2


def test_parameter_pairs_are_checked_for_the_whole_panel():
    """derive_all (and app.derived.derived_panel, which passes its ``params`` through) resolves the parameters
    once, so a weight given without its partner is refused before anything is derived."""
    obs, inst = full_institutions()
    with pytest.raises(SpecError) as exc:
        derive_all(obs, inst, framework(), {"w_users_personal": 0.7})
    (pr,) = exc.value.problems
    assert pr.rule == "params.sum" and "give w_users_corporate too (e.g. w_users_corporate = 0.3)" in pr.message
    both = derive_all(obs, inst, framework(), {"w_users_personal": 0.7, "w_users_corporate": 0.3})
    assert both["code"].eq("J-A3B1-C1").any()
