"""Industry and region data in, H and Q out, from the CLI on SQLite and PostgreSQL: region figures (block Q,
collection G/R) and an industry's own figures import like observations, `derive` stores the Q and H values,
`score --block Q` scores the regions (named from the region register); the H shares divide by all the
institutions of the campaign (1 of 2 → 50 %); `score` derives the period once for all its blocks."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

import fintech_eval.service as service
from fintech_eval.demo.generator import generate
from tests.clirun import run_cli


def _regions() -> pd.DataFrame:
    """Every region variable of three provinces (the synthetic generator's), two of them set by hand."""
    obs = generate(seed=5, n_institutions=8, years=[2024]).observations
    reg = obs[(obs["entity_kind"] == "region") & obs["entity_id"].astype(str).str[:2].isin(["44", "11", "31"])]
    reg = reg.rename(columns={"entity_id": "entity"})[["entity_kind", "entity", "period", "variable", "value", "unit"]]
    hand = {("44", "q_internet_payment_amount"): 0, ("31", "q_licensed_institutions"): 300}
    for (e, var), x in hand.items():
        reg.loc[(reg["entity"].astype(str).str[:2] == e) & (reg["variable"] == var), "value"] = x
    return reg.assign(entity=reg["entity"].astype(str).str[:2].map({"44": "广东", "11": "110000", "31": "31"}))


REGIONS = _regions()
INDUSTRY = pd.DataFrame({"entity_kind": "industry", "entity": "bank", "period": "2024",
                         "variable": ["h_barcode_payment_amount", "h_payment_amount"], "value": [3, 10], "unit": "亿元"})
RETURNS = pd.DataFrame({"entity_kind": "institution", "entity": "B1", "period": "2024",
                        "variable": ["open_apis_sdks", "employees", "fintech_staff"], "value": [3, 1_000, 100]})


def test_industry_and_region_data_to_h_and_q(db_url, tmp_path, capsys, monkeypatch):
    def cli(*args):
        return run_cli([*args, "--db", db_url], capsys, monkeypatch)

    inst = pd.DataFrame({"id": ["B1", "B2"], "name_zh": ["甲银行", "乙银行"], "sector": "bank", "region_code": ["44", "11"]})
    inst.to_csv(tmp_path / "inst.csv", index=False)
    assert cli("register", "institutions", tmp_path / "inst.csv").code == 0
    assert cli("register", "regions").code == 0
    for name, frame in (("regions.csv", REGIONS), ("industry.csv", INDUSTRY), ("returns.csv", RETURNS)):
        frame.to_csv(tmp_path / name, index=False)
        run = cli("import", tmp_path / name)
        assert run.code == 0, run.err
    pd.DataFrame({"entity_id": ["B1", "B2"]}).to_csv(tmp_path / "sample.csv", index=False)
    assert cli("campaign", "create", "--period", "2024", "--sample", tmp_path / "sample.csv").code == 0

    run = cli("derive")
    assert run.code == 0, run.err
    stored = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024").out), dtype={"entity": str})
    v = stored.set_index(["block", "entity", "code"])
    assert v.loc[("Q", "44", "Q-A1B1-C2"), "value"] == 0  # no internet payments in 44
    assert v.loc[("Q", "31", "Q-A1B1-C1"), "value"] == 300
    assert v.loc[("H", "bank", "H-A2B1-C4"), "value"] == pytest.approx(0.3)  # the industry's own 3 of 10 亿元
    h_open = v.loc[("H", "bank", "H-A4B2-C2")]
    assert h_open["value"] == 0.5 and "1 sent no return" in h_open["reason"]  # B1 open, B2 silent: 1 of 2
    assert not stored["stale"].any()

    calls = []
    real = service.derive_stored
    monkeypatch.setattr(service, "derive_stored", lambda *a, **k: calls.append(1) or real(*a, **k))
    run = cli("score", "--out", tmp_path / "runs")
    assert run.code == 0, run.err
    assert len(calls) == 1  # three blocks, one derivation
    info = json.loads(cli("runs", "show", "1", "--format", "json").out)
    assert info["blocks"] == ["H", "J", "Q"] and info["specs"]["H"]["data"]["campaign"] == 1

    run = cli("score", "--block", "q", "--out", tmp_path / "runs")
    assert run.code == 0, run.err
    scores = pd.read_csv(tmp_path / "runs" / "run-2" / "Q-2024" / "scores.csv", dtype={"uCode": str})
    assert sorted(scores["uCode"]) == ["11", "31", "44"] and scores["Q"].notna().all()
    units = pd.read_csv(tmp_path / "runs" / "run-2" / "Q-2024" / "units.csv", dtype={"uCode": str})
    assert dict(zip(units["uCode"], units["uName"], strict=True))["44"] == "广东省"  # named from the region register
    assert json.loads(cli("runs", "show", "2", "--format", "json").out)["blocks"] == ["Q"]
    run = cli("score", "--block", "X", "--out", tmp_path / "runs")
    assert run.code == 2 and "unknown block 'X'" in run.err

    # a reading of the standard is a parameter: the reporting institutions only → 1 of 1
    run = cli("derive", "--period", "2024", "--param", "share_reporting_only=1")
    assert run.code == 0, run.err
    stored = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024", "--block", "H").out))
    assert stored.set_index("code").loc["H-A4B2-C2", "value"] == 1.0


def test_indicators_derive_for_the_round_not_the_register(db_url, tmp_path, capsys, monkeypatch):
    """`indicators` (not --stored): the H shares divide by the campaign's sample with --campaign, else by the
    institutions that reported in the period; never by the whole register (B3 was asked by nobody)."""
    def cli(*args):
        return run_cli([*args, "--db", db_url], capsys, monkeypatch)

    inst = pd.DataFrame({"id": ["B1", "B2", "B3"], "name_zh": ["甲银行", "乙银行", "丙银行"], "sector": "bank",
                         "region_code": ["44", "11", "31"]})
    inst.to_csv(tmp_path / "inst.csv", index=False)
    assert cli("register", "institutions", tmp_path / "inst.csv").code == 0
    RETURNS.to_csv(tmp_path / "returns.csv", index=False)
    assert cli("import", tmp_path / "returns.csv").code == 0
    pd.DataFrame({"entity_id": ["B1", "B2"]}).to_csv(tmp_path / "sample.csv", index=False)
    assert cli("campaign", "create", "--period", "2024", "--sample", tmp_path / "sample.csv").code == 0

    def share(*args):
        run = cli("indicators", "--block", "H", *args)
        assert run.code == 0, run.err
        return pd.read_csv(io.StringIO(run.out)).set_index("code").loc["H-A4B2-C2", "value"], run.err

    value, said = share("--period", "2024")
    assert value == 1.0 and "the 1 institution(s) that reported in 2024" in said  # B1 of B1
    value, said = share("--campaign", "1")
    assert value == 0.5 and "the sample of campaign 1 (2 institution(s))" in said  # B1 of B1, B2
    assert cli("indicators", "--campaign", "1", "--period", "2023").code == 2  # the campaign's period is 2024
    run = cli("indicators", "--stored", "--period", "2024", "--campaign", "1")
    assert run.code == 2 and "go to `derive`" in run.err
    # derive without a campaign takes the same round as indicators
    assert cli("derive", "--period", "2024").code == 0
    stored = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024", "--block", "H").out))
    assert stored.set_index("code").loc["H-A4B2-C2", "value"] == 1.0
