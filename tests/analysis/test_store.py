"""An open JR/T parameter as an uncertain assumption, end to end on the demo's database (each replication
derives the indicators again with its sampled weights)."""

from __future__ import annotations

import pandas as pd

from tests.clirun import run_cli


def test_uncertainty_over_the_personal_user_weight_on_stored_data(tmp_path, capsys, monkeypatch):
    demo = tmp_path / "demo"
    assert run_cli(["demo", "--institutions", "40", "--no-reports", "--out", demo], capsys, monkeypatch).code == 0
    result = demo / "runs" / "run-1" / "J-2024"  # the demo's round, scored as run 1
    r = run_cli(["analyse", result, "-u", "param.w_users_personal=0.1..0.9", "--n", "4", "--seed", "3", "--no-plots"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    rep = pd.read_csv(result / "analysis" / "replications.csv")
    assert rep["param.w_users_personal"].between(0.1, 0.9).all() and rep["param.w_users_personal"].nunique() == 4
    st = pd.read_csv(result / "analysis" / "rank_stats.csv")
    assert (st["ScoreQ95"] - st["ScoreQ5"]).max() > 0  # the weight moves the channel-share indicators' scores
    bad = run_cli(["analyse", result, "-u", "param.w_users_personal=0.1..1.9", "--n", "4"], capsys, monkeypatch)
    assert bad.code == 2 and "outside its declared range" in bad.out + bad.err
