"""An industry's own figures (collection R, G: reports and government data) give the H indicators that declare
a ``reported`` formula, in place of the roll-up of the institutions that answered; hand-computed."""

from __future__ import annotations

import pandas as pd
import pytest

from fintech_eval.derive import NOT_APPLICABLE, OK, derive_industry

from . import framework, institutions_table, long_obs, value_of

INST = institutions_table({"B1": "bank", "B2": "bank", "S1": "securities"})
# the banks that answered: bar-code 100 of payments 1,000 (roll-up: 0.1)
ANSWERS = long_obs({"B1": {"barcode_payment_amount": 60, "payment_amount": 600, "standards_total": 2},
                    "B2": {"barcode_payment_amount": 40, "payment_amount": 400, "standards_total": 3},
                    "S1": {"standards_total": 1}})


def _h(industry: dict[str, dict[str, float]]) -> pd.DataFrame:
    obs = pd.concat([ANSWERS, long_obs(industry, kind="industry")], ignore_index=True)
    return derive_industry(obs, INST, None, framework())


def test_the_industrys_own_figures_replace_the_rollup():
    # the PBoC's payment statistics for the whole banking industry: 3,000 of 10,000 (the sample's 0.1 is not used)
    h = _h({"bank": {"h_barcode_payment_amount": 3_000, "h_payment_amount": 10_000}})
    row = value_of(h, "bank", "H-A2B1-C4")
    assert row["status"] == OK and row["value"] == pytest.approx(0.3)
    assert "own figures (reported: h_barcode_payment_amount / h_payment_amount)" in row["reason"]
    assert pd.isna(row["n_institutions"])
    assert value_of(h, "bank", "H-A4B2-C1")["value"] == 5  # no reported figure: the roll-up (2 + 3)


def test_a_distinct_project_count_from_government_data():
    h = _h({"bank": {"h_standards_projects": 4}})  # 2 + 3 participations, 4 distinct projects
    assert value_of(h, "bank", "H-A4B2-C1")["value"] == 4


def test_partial_figures_keep_the_rollup():
    h = _h({"bank": {"h_payment_amount": 10_000}})
    row = value_of(h, "bank", "H-A2B1-C4")
    assert row["value"] == pytest.approx(0.1) and row["n_institutions"] == 2


def test_an_industry_without_answers_gets_its_figures_and_sector_rules_hold():
    h = _h({"insurance": {"h_fintech_patents": 50}, "securities": {"h_barcode_payment_amount": 1, "h_payment_amount": 2}})
    assert value_of(h, "insurance", "H-A4B1-C1")["value"] == 50
    # bar-code payments are a banking and payment indicator: a securities figure does not make it apply
    assert value_of(h, "securities", "H-A2B1-C4")["status"] == NOT_APPLICABLE
