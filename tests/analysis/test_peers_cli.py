"""``fintech-eval peers`` and ``fintech-eval plan-progress`` on saved results of several periods."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.analysis.peers import compare_peers, peer_table
from fintech_eval.analysis.progress import plan_progress
from fintech_eval.analysis.source import load_periods
from tests.clirun import run_cli

CODES = ["J-A1B1-C1", "J-A2B1-C1", "J-A1B2-C1", "J-A3B1-C1"]
UNITS = pd.DataFrame({
    "sector": ["bank", "bank", "bank", "securities", "securities"],
    "region_code": ["11", "44", "44", "44", "31"],
}, index=pd.Index(["B1", "B2", "B3", "S1", "S2"], name="uCode"))
NAMES = pd.Series(["甲银行", "乙银行", "丙银行", "丁证券", "戊证券"], index=UNITS.index)


def _result(year: int, shift: float):
    tree = fe.Tree.from_rows([{"code": c, "parent": "J", "level": 1} for c in CODES] + [{"code": "J", "level": 2}])
    rng = np.random.default_rng(year)
    data = pd.DataFrame(rng.uniform(1, 10, (5, 4)), index=UNITS.index, columns=CODES)
    data.loc["B3"] += shift  # B3 improves year on year
    spec = {"name": "synthetic", "data": {"source": "frame", "period": year},
            "steps": [{"normalise": {"method": "minmax", "range": [1, 100]}}, {"aggregate": {"method": "amean"}}],
            "ranks": {"groups": ["sector", "region_code"]}}
    return fe.evaluate(spec, frames={"data": data, "tree": tree, "groups": UNITS, "names": NAMES})


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("peers")
    out = {}
    for year, shift in ((2022, 0.0), (2023, 3.0), (2024, 6.0)):
        _result(year, shift).save(root / f"J-{year}")
        out[year] = root / f"J-{year}"
    sizes = pd.DataFrame({"uCode": UNITS.index, "total_assets": [900.0, 500.0, 100.0, 80.0, 30.0], "subtype": ["big", "city", "city", "broker", "broker"]})
    sizes.to_csv(root / "register.csv", index=False)
    out["register"] = root / "register.csv"
    return out


def test_peer_ranks_over_periods_with_changes_and_cagr(folders):
    periods = load_periods([folders[y] for y in (2022, 2023, 2024)])
    assert sorted(periods) == [2022, 2023, 2024]
    t = peer_table(periods, "sector")
    b3 = t[t["uCode"] == "B3"].set_index("period")
    for y in (2022, 2023, 2024):
        r = periods[y]
        banks = r.final.loc[UNITS.index[UNITS["sector"] == "bank"], "J"]
        assert b3.at[y, "rank_in_group"] == (banks > banks["B3"]).sum() + 1 and b3.at[y, "group_size"] == 3
        assert b3.at[y, "score"] == pytest.approx(r.final.at["B3", "J"])
    assert b3.at[2024, "score_change"] == pytest.approx(b3.at[2024, "score"] - b3.at[2023, "score"])
    assert b3.at[2024, "group_rank_change"] == b3.at[2023, "rank_in_group"] - b3.at[2024, "rank_in_group"]
    assert b3.at[2024, "cagr"] == pytest.approx((b3.at[2024, "score"] / b3.at[2022, "score"]) ** 0.5 - 1)
    assert np.isnan(b3.at[2022, "score_change"])
    assert b3["name"].iloc[0] == "丙银行"


def test_peers_command_by_province_subtype_and_size(folders, capsys, monkeypatch):
    r = run_cli(["peers", folders[2024], "--by", "province", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    gd = [x for x in rows if x["group"] == "44"]
    assert sorted(x["rank_in_group"] for x in gd) == [1, 2, 3] and {x["group_size"] for x in gd} == {3}
    r = run_cli(["peers", folders[2024], "--by", "subtype", "--units", folders["register"], "--entity", "B2", "--format", "csv"], capsys, monkeypatch)
    assert r.code == 0, r.err
    (row,) = list(pd.read_csv(pd.io.common.StringIO(r.out)).itertuples())
    assert row.group == "city" and row.group_size == 2
    r = run_cli(["peers", folders[2024], "--by", "size", "--size-column", "total_assets", "--units", folders["register"],
                 "--bands", "small,large", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    band = {x["uCode"]: x["group"] for x in json.loads(r.out)}
    assert band == {"B1": "large", "B2": "large", "B3": "small", "S1": "small", "S2": "small"}
    r = run_cli(["peers", folders[2024], "--by", "size", "--format", "json"], capsys, monkeypatch)
    assert r.code == 2 and "--size-column" in r.err


def test_peers_command_over_three_periods_for_one_entity(folders, capsys, monkeypatch):
    r = run_cli(["peers", folders[2022], folders[2023], folders[2024], "--entity", "B3", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert [x["period"] for x in rows] == [2022, 2023, 2024]
    assert rows[0]["cagr"] == rows[2]["cagr"] and rows[2]["score_change"] is not None
    r = run_cli(["peers", folders[2024], "--entity", "B9"], capsys, monkeypatch)
    assert r.code == 2 and "no entity 'B9'" in r.err


def test_compare_two_runs_rank_shifts_and_drivers(folders, capsys, monkeypatch):
    r = run_cli(["peers", folders[2024], "--compare", folders[2022], "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    rows = {x["uCode"]: x for x in json.loads(r.out)}
    periods = load_periods([folders[2022], folders[2024]])
    before, now = periods[2022], periods[2024]
    for u, x in rows.items():
        assert x["rank_before"] == before.ranks.at[u, "J"] and x["rank_now"] == now.ranks.at[u, "J"]
        assert x["rank_shift"] == x["rank_before"] - x["rank_now"]
    c = compare_peers(before, now, "sector", entity="B3", drivers=4)
    drivers = dict(part.rsplit(" ", 1) for part in c["drivers"].iloc[0].split("; "))
    assert sum(map(float, drivers.values())) == pytest.approx(c["score_now"].iloc[0] - c["score_before"].iloc[0], abs=0.02)


def test_plan_progress_command_for_an_institution_an_industry_and_a_province(folders, capsys, monkeypatch):
    paths = [folders[y] for y in (2022, 2023, 2024)]
    r = run_cli(["plan-progress", *paths, "--province", "广东", "--format", "json", "--lang", "en"], capsys, monkeypatch)
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert len(rows) == 3 * 27 and {x["units"] for x in rows} == {3}
    periods = load_periods(paths)
    want = plan_progress(periods, "region_code=44", lang="en")
    got = [np.nan if x["score"] is None else x["score"] for x in rows]
    assert got == pytest.approx(want["score"].round(4).tolist(), nan_ok=True)
    assert sum(np.isfinite(got)) == 3 * 3  # tasks 1, 2 and 9 hold the four indicators
    t1 = [x for x in rows if x["task"] == 1]
    assert t1[2]["change"] == pytest.approx(t1[2]["score"] - t1[1]["score"], abs=1e-3)
    r = run_cli(["plan-progress", *paths, "--industry", "bank", "--format", "csv"], capsys, monkeypatch)
    assert r.code == 0 and "sector=bank" not in r.out and len(pd.read_csv(pd.io.common.StringIO(r.out))) == 81
    r = run_cli(["plan-progress", *paths, "--industry", "banks"], capsys, monkeypatch)
    assert r.code == 2 and "did you mean 'bank'" in r.err
    r = run_cli(["plan-progress", *paths, "--entity", "B3", "--province", "44"], capsys, monkeypatch)
    assert r.code == 2 and "one of --entity, --industry, --province" in r.err
    r = run_cli(["plan-progress", folders[2024], "--entity", "B3"], capsys, monkeypatch)
    assert r.code == 0 and "PLAN-T01" in r.out


def test_any_group_column_is_a_peer_group_and_the_plan_needs_jrt_indicators(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    res = tmp_path / "asem"
    assert run_cli(["evaluate", examples / "asem-pipeline-c.yaml", "--out", res], capsys, monkeypatch).code == 0
    r = run_cli(["peers", res, "--by", "EurAsia_group", "--entity", "GBR", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    (row,) = json.loads(r.out)
    assert row["group"] == "Europe" and row["group_size"] == 30
    r = run_cli(["peers", res, "--by", "sectr"], capsys, monkeypatch)
    assert r.code == 2 and "did you mean 'sector'" in r.err
    r = run_cli(["plan-progress", res, "--entity", "GBR"], capsys, monkeypatch)
    assert r.code == 2 and "none of the indicators the Plan's tasks are linked to" in r.err


def test_compare_a_result_with_another_spec(tmp_path, capsys, monkeypatch):
    """Two specs of one data set (COINr's pipelines A and B): the rank shifts are compare_coins'."""
    from pathlib import Path

    from tests import coinr_ref

    examples = Path(__file__).resolve().parents[2] / "examples"
    r = run_cli(["peers", examples / "asem-pipeline-b.yaml", "--compare", examples / "asem-pipeline-a.yaml", "--by", "EurAsia_group",
                 "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    rows = pd.DataFrame(json.loads(r.out))
    ref = coinr_ref.read_plain("compare_A_vs_B_index.csv").set_index("uCode")  # Diff = rank in A − rank in B
    m = rows.set_index("uCode").join(ref)
    assert len(m) == 51 and (m["rank_shift"] == m["Diff"]).all() and (m["rank_before"] == m["coin.1"]).all()
