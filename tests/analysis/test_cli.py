"""``fintech-eval analyse`` and ``fintech-eval plan-improvement`` from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.clirun import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_issues_example_command_writes_rank_statistics(tmp_path, capsys, monkeypatch):
    out = tmp_path / "ua"
    r = run_cli(["analyse", EXAMPLES / "asem-pipeline-c.yaml", "--uncertainty", "weights=0.25", "--uncertainty",
                 "normalise.method=minmax,zscore", "--n", "20", "--seed", "1", "--out", out, "--no-plots"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    st = pd.read_csv(out / "rank_stats.csv")
    assert {"uCode", "Nominal", "Median", "Q5", "Q95"} <= set(st.columns) and len(st) == 51
    assert "20 replications" in r.out
    again = tmp_path / "again"
    run_cli(["analyse", EXAMPLES / "asem-pipeline-c.yaml", "-u", "weights=0.25", "-u", "normalise.method=minmax,zscore",
             "--n", "20", "--seed", "1", "--out", again, "--no-plots"], capsys, monkeypatch)
    pd.testing.assert_frame_equal(st, pd.read_csv(again / "rank_stats.csv"))


def test_a_mistyped_assumption_stops_before_running(tmp_path, capsys, monkeypatch):
    r = run_cli(["analyse", EXAMPLES / "asem-pipeline-c.yaml", "--uncertainty", "normalise.methd=minmax,zscore", "--out", tmp_path / "x"],
                capsys, monkeypatch)
    assert r.code == 2
    assert "did you mean 'method'" in r.out + r.err
    assert not (tmp_path / "x").exists()


def test_sensitivity_leave_one_out_and_diagnostics_on_a_result_folder(tmp_path, capsys, monkeypatch):
    res = tmp_path / "res"
    assert run_cli(["evaluate", EXAMPLES / "asem-pipeline-a.yaml", "--out", res], capsys, monkeypatch).code == 0
    r = run_cli(["analyse", res, "-u", "weights=0.25@2,3", "-u", "treat.winmax=1..5", "--n", "8", "--seed", "2",
                 "--sensitivity", "sobol", "--entity", "GBR", "--leave-one-out", "2", "--diagnostics", "--no-plots"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    out = res / "analysis"  # beside the result by default
    idx = pd.read_csv(out / "sensitivity_indices.csv")
    assert set(idx["output"]) == {"mean_abs_rank_shift", "rank:GBR"} and set(idx["factor"]) == {"weights", "treat.winmax"}
    loo = pd.read_csv(out / "leave_one_out_L2.csv")
    assert loo.loc[loo["Removed"] == "Physical", "MeanAbsRankDiff"].iloc[0] == 1.5294117647058822
    assert (out / "diagnostics" / "stats_Raw.csv").exists()
    from fintech_eval.analysis import load_rank_intervals

    iv = load_rank_intervals(res)
    assert iv.loc["GBR", "rank_low"] <= iv.loc["GBR", "rank"] <= iv.loc["GBR", "rank_high"]
    assert load_rank_intervals(tmp_path) is None


def test_plan_improvement_command(tmp_path, capsys, monkeypatch):
    r = run_cli(["plan-improvement", EXAMPLES / "asem-pipeline-c.yaml", "--entity", "AUT", "--target", "rank:10",
                 "--max-changes", "1", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["plan"]["entity"] == "AUT" and doc["plan"]["rank"] == 13
    assert doc["plan"]["reached"] and doc["plan"]["new_rank"] <= 10 and len(doc["plan"]["changes"]) == 1
    assert len(doc["marginal_gains"]) == 49


def test_a_result_whose_inputs_changed_is_not_reanalysed(tmp_path, capsys, monkeypatch):
    import shutil

    shutil.copytree(EXAMPLES / "asem", tmp_path / "asem")
    shutil.copy(EXAMPLES / "asem-pipeline-c.yaml", tmp_path / "spec.yaml")
    res = tmp_path / "res"
    assert run_cli(["evaluate", tmp_path / "spec.yaml", "--out", res], capsys, monkeypatch).code == 0
    idata = tmp_path / "asem" / "input_ASEM_iData.csv"
    idata.write_text(idata.read_text(encoding="utf-8").replace("4.23", "4.24", 1), encoding="utf-8")
    r = run_cli(["analyse", res, "-u", "weights=0.1", "--n", "4"], capsys, monkeypatch)
    assert r.code == 2 and "changed" in r.out + r.err
