"""Uncertainty analysis: reproducible with a seed, sane, and close to COINr's own run on ASEM."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fintech_eval.analysis.uncertainty import uncertainty_analysis
from fintech_eval.errors import FintechEvalError
from tests import coinr_ref

#: the assumptions of COINr's uncertainty analysis in shared/data/coinr (docs/reference/coinr.md)
COINR_UA = [
    "treat.winmax=1..5",
    "normalise=[{method: minmax, range: [1, 100]}, {method: zscore, m_sd: [10, 2]}]",
    "weights=0.25@2,3",
    "aggregate.method=amean,gmean",
]


def test_same_seed_same_replications_other_seed_others(asem_c):
    a = uncertainty_analysis(asem_c, ["weights=0.25", "normalise.method=minmax,zscore"], n=30, seed=7)
    b = uncertainty_analysis(asem_c, ["weights=0.25", "normalise.method=minmax,zscore"], n=30, seed=7)
    c = uncertainty_analysis(asem_c, ["weights=0.25", "normalise.method=minmax,zscore"], n=30, seed=8)
    np.testing.assert_array_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.replications(), b.replications())
    assert not np.array_equal(a.scores, c.scores)


@pytest.mark.parametrize("design", ["random", "lhs", "sobol"])
def test_intervals_contain_the_nominal_rank(asem_c, design):
    ua = uncertainty_analysis(asem_c, ["weights=0.25", "normalise.method=minmax,zscore"], n=64, seed=1, design=design)
    st = ua.rank_stats()
    assert ((st["Q5"] <= st["Nominal"]) & (st["Nominal"] <= st["Q95"])).all()
    assert ((st["Q5"] <= st["Median"]) & (st["Median"] <= st["Q95"])).all()
    nominal = asem_c.ranks["Index"].astype(float).to_numpy()
    np.testing.assert_array_equal(st["Nominal"].to_numpy(), nominal)


def test_an_assumption_that_changes_nothing_leaves_every_rank_at_nominal(asem_c):
    # pipeline C imputes every gap, so no threshold on data availability can change anything
    ua = uncertainty_analysis(asem_c, ["aggregate.dat_thresh=0.0..0.6"], n=20, seed=1)
    st = ua.rank_stats()
    assert (st["Q5"] == st["Nominal"]).all() and (st["Q95"] == st["Nominal"]).all()
    assert (ua.replications()["mean_abs_rank_shift"] == 0).all()


def test_coinr_assumptions_give_coinrs_rank_statistics(asem_a):
    """The same four assumptions as COINr's run (N=100); different random streams, so the statistics agree
    to sampling error: nominal ranks equal, medians within 2 ranks, interval ends within 3."""
    ua = uncertainty_analysis(asem_a, COINR_UA, n=100, seed=1)
    ref = coinr_ref.read_plain("ua_rankstats.csv")
    m = ua.rank_stats().merge(ref, on="uCode", suffixes=("", "_coinr"))
    assert len(m) == len(ref) == 51
    assert (m["Nominal"] == m["Nominal_coinr"]).all()
    assert (m["Median"] - m["Median_coinr"]).abs().max() <= 2
    assert (m["Q5"] - m["Q5_coinr"]).abs().max() <= 3 and (m["Q95"] - m["Q95_coinr"]).abs().max() <= 3
    assert (m["Mean"] - m["Mean_coinr"]).abs().mean() < 0.5


def test_replications_record_the_sampled_assumptions(asem_a):
    ua = uncertainty_analysis(asem_a, COINR_UA, n=12, seed=3)
    rep = ua.replications()
    assert list(rep.columns[:5]) == ["replication", "treat.winmax", "normalise", "weights", "aggregate.method"]
    assert set(rep["treat.winmax"]) <= {1, 2, 3, 4, 5}
    assert set(rep["normalise"]) <= {"minmax(range=[1, 100])", "zscore(m_sd=[10, 2])"}
    assert set(rep["aggregate.method"]) <= {"amean", "gmean"}
    # a replication's ranks are those of the spec with its sampled assumptions
    k = 4
    row = rep.iloc[k]
    spec_changes = {"treat.winmax": int(row["treat.winmax"]), "aggregate.method": row["aggregate.method"]}
    if row["normalise"].startswith("zscore"):
        spec_changes.update({"normalise.method": "zscore", "normalise.m_sd": [10, 2]})
        from fintech_eval.engine.spec import UNSET

        spec_changes["normalise.range"] = UNSET
    else:
        spec_changes["normalise.range"] = [1, 100]
    from fintech_eval.analysis.assumptions import resolve
    from fintech_eval.engine import regen

    a = resolve(asem_a, COINR_UA, n=12, seed=3)
    weights = a.factors[2].make(int(row["weights"]))  # the pool's weight set number the replication drew
    again = regen(asem_a, {**spec_changes, **weights})
    np.testing.assert_allclose(ua.scores[k, :, 0], again.final["Index"].to_numpy(float), rtol=1e-12)


def test_failed_replications_stop_with_their_number_or_are_skipped(asem_c):
    # a geometric mean cannot aggregate the zeros min-max 0-100 gives
    with pytest.raises(FintechEvalError, match=r"replication \d+ .* failed: .*gmean"):
        uncertainty_analysis(asem_c, ["aggregate.method=amean,gmean"], n=10, seed=1)
    ua = uncertainty_analysis(asem_c, ["aggregate.method=amean,gmean"], n=10, seed=1, on_error="skip")
    rep = ua.replications()
    failed = rep["error"] != ""
    assert failed.any() and (rep.loc[failed, "aggregate.method"] == "gmean").all()
    assert np.isnan(ua.scores[failed.to_numpy()]).all()
    assert ua.rank_stats()["Median"].notna().all()  # statistics over the replications that ran


def test_save_writes_the_tables_and_the_summary(asem_c, tmp_path):
    ua = uncertainty_analysis(asem_c, ["weights=0.25"], n=10, seed=1, target=["Index", "Conn"])
    files = {p.name for p in ua.save(tmp_path)}
    assert {"rank_stats.csv", "rank_intervals.csv", "replications.csv", "ranks.parquet", "scores.parquet",
            "uncertainty.json", "rank_intervals.png"} <= files
    st = pd.read_csv(tmp_path / "rank_stats.csv")
    assert {"uCode", "target", "Nominal", "Mean", "Median", "Q5", "Q95", "ScoreNominal", "ScoreQ5", "ScoreQ95"} <= set(st.columns)
    assert set(st["target"]) == {"Index", "Conn"} and len(st) == 2 * 51
    iv = pd.read_csv(tmp_path / "rank_intervals.csv")
    gbr = iv.set_index("uCode").loc["GBR"]
    assert gbr["text"] == f"rank {int(gbr['rank'])}; 90 % of plausible choices put it between {int(gbr['rank_low'])} and {int(gbr['rank_high'])}"
    assert json.loads((tmp_path / "uncertainty.json").read_text())["n"] == 10
    assert len(pd.read_parquet(tmp_path / "ranks.parquet")) == 10 * 51 * 2
    sets = pd.read_csv(tmp_path / "weights_sets.csv", index_col="set")
    rep = pd.read_csv(tmp_path / "replications.csv")
    assert set(rep["weights"]) <= set(sets.index) and "Physical" in sets.columns


def test_an_impossible_variant_is_named_by_its_number(asem_c):
    from fintech_eval.analysis.variants import run_variants
    from fintech_eval.errors import SpecError

    with pytest.raises(SpecError, match="variant 2: .*winmax"):
        run_variants(asem_c, [{"treat.winmax": 3}, {"treat.winmax": "many"}], target=["Index"])


def test_two_processes_give_the_same_replications_as_one(asem_c):
    decl = ["weights=0.25", "normalise.method=minmax,zscore"]  # the method switch sends UNSET to the workers
    one = uncertainty_analysis(asem_c, decl, n=12, seed=1, workers=1)
    two = uncertainty_analysis(asem_c, decl, n=12, seed=1, workers=2)
    np.testing.assert_array_equal(one.scores, two.scores)
