"""H-A2B2-C1 and H-A4B2-C2 are shares of ALL the industry's institutions in the round (JR/T 0201 §8.3.2,
§8.5.2: "占该行业机构总数的比例"), hand-computed; the reporting-institutions reading is the parameter
``share_reporting_only = 1``."""

from __future__ import annotations

import json

import pytest

from fintech_eval.derive import MISSING, OK, derive_all, derive_industry
from fintech_eval.errors import SpecError

from . import framework, institutions_table, long_obs, value_of

# two banks in the register; B1 has open APIs and robo-advisory, B2 sends no return at all
OBS = long_obs({"B1": {"open_apis_sdks": 3, "robo_advisory_txn": 20, "wealth_mgmt_txn": 100}})
TWO_BANKS = institutions_table({"B1": "bank", "B2": "bank"}, {"B1": "110000", "B2": "310000"})


def _h(params=None, **kw):
    return derive_industry(OBS, TWO_BANKS, None, framework(), params, **kw)


@pytest.mark.parametrize("code", ["H-A4B2-C2", "H-A2B2-C1"])
def test_one_of_two_institutions_is_fifty_percent(code):
    row = value_of(_h(), "bank", code)
    assert row["status"] == OK
    assert row["value"] == 0.5  # 1 of the 2 banks of the round
    assert row["n_institutions"] == 2
    assert "share of all 2 institutions in the round; 1 sent no return" in row["reason"]
    inputs = json.loads(row["inputs"])
    assert (inputs["n_condition_true"], inputs["n_reporting"], inputs["n_round"]) == (1, 1, 2)
    assert row["formula"].endswith("/ count(institutions in the round) by sector")


@pytest.mark.parametrize("code", ["H-A4B2-C2", "H-A2B2-C1"])
def test_reporting_institutions_reading_is_a_parameter(code):
    row = value_of(_h({"share_reporting_only": 1}), "bank", code)
    assert row["value"] == 1.0 and row["n_institutions"] == 1 and row["reason"] == ""
    assert row["formula"].endswith("/ count(reporting) by sector")


def test_the_parameter_takes_only_its_two_choices():
    with pytest.raises(SpecError, match="not one of its choices 0, 1"):
        _h({"share_reporting_only": 0.5})


def test_the_round_is_the_campaigns_sample_plus_whoever_reported():
    four = institutions_table({"B1": "bank", "B2": "bank", "B3": "bank", "B4": "bank"})
    obs = long_obs({"B1": {"open_apis_sdks": 3}, "B4": {"open_apis_sdks": 0}})
    # the register: 4 banks → 1 / 4
    assert value_of(derive_industry(obs, four, None, framework()), "bank", "H-A4B2-C2")["value"] == 0.25
    # a sample of B1, B2: 1 of 2; B4 answered from outside the sample and still belongs to the industry: 1 / 3
    row = value_of(derive_industry(obs, four, None, framework(), population=["B1", "B2"]), "bank", "H-A4B2-C2")
    assert row["value"] == pytest.approx(1 / 3) and row["n_institutions"] == 3


def test_an_institution_that_reports_another_variable_but_not_the_input_is_named():
    obs = long_obs({"B1": {"open_apis_sdks": 3}, "B2": {"employees": 10}})
    row = value_of(derive_industry(obs, TWO_BANKS, None, framework()), "bank", "H-A4B2-C2")
    assert row["value"] == 0.5
    assert "1 reported no open_apis_sdks (B2)" in row["reason"]


def test_nobody_reporting_is_missing_not_zero():
    obs = long_obs({"B1": {"employees": 10}})
    row = value_of(derive_industry(obs, TWO_BANKS, None, framework()), "bank", "H-A4B2-C2")
    assert row["status"] == MISSING


def test_derive_all_passes_the_population():
    panel = derive_all(OBS, TWO_BANKS, framework(), population=["B1"])
    row = panel[(panel["block"] == "H") & (panel["entity_id"] == "bank") & (panel["code"] == "H-A4B2-C2")].iloc[0]
    assert row["value"] == 1.0
