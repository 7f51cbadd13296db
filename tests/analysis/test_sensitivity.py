"""Sobol indices through SALib against analytic test functions, and on ASEM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami, Sobol_G

from fintech_eval.analysis.sensitivity import morris_indices, sensitivity_analysis, sobol_indices
from tests import coinr_ref

from .test_uncertainty import COINR_UA


def _ishigami_analytic(a=7.0, b=0.1):
    """Ishigami & Homma (1990): V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2; S3 = 0; ST3 = V13/V."""
    v = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1, v2, v13 = 0.5 * (1 + b * np.pi**4 / 5) ** 2, a**2 / 8, b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_ishigami_indices_and_a_dummy_factor():
    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "dummy"], "bounds": [[-np.pi, np.pi]] * 4}
    idx = sobol_indices(problem, lambda x: Ishigami.evaluate(x[:, :3]), 4096, seed=11).set_index("factor")
    s1, st = _ishigami_analytic()
    np.testing.assert_allclose(idx.loc[["x1", "x2", "x3"], "Si"], s1, atol=0.03)
    np.testing.assert_allclose(idx.loc[["x1", "x2", "x3"], "STi"], st, atol=0.03)
    assert idx.loc["dummy", "STi"] == 0 and idx.loc["dummy", "Si"] == 0  # yA = yAB exactly: Jansen's sum is 0
    for k in ("Si", "STi"):  # the bootstrap interval brackets the estimate
        assert (idx[f"{k}_lo"] <= idx[k] + 1e-12).all() and (idx[k] <= idx[f"{k}_hi"] + 1e-12).all()


def test_sobol_g_indices():
    a = np.array([0, 1, 4.5, 9, 99, 99])
    problem = {"num_vars": 6, "names": [f"x{i}" for i in range(6)], "bounds": [[0, 1]] * 6}
    idx = sobol_indices(problem, lambda x: Sobol_G.evaluate(x, a), 4096, seed=2)
    np.testing.assert_allclose(idx["Si"], Sobol_G.sensitivity_index(a), atol=0.03)
    np.testing.assert_allclose(idx["STi"], Sobol_G.total_sensitivity_index(a), atol=0.03)


def test_morris_ranks_the_influential_factors_first():
    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "dummy"], "bounds": [[-np.pi, np.pi]] * 4}
    m = morris_indices(problem, lambda x: Ishigami.evaluate(x[:, :3]), 50, seed=3).set_index("factor")
    assert m.loc["dummy", "mu_star"] == 0
    assert m["mu_star"].idxmax() in ("x1", "x2")


def test_on_asem_a_factor_that_changes_nothing_gets_total_index_zero(asem_c):
    s = sensitivity_analysis(asem_c, ["weights=0.25", "aggregate.dat_thresh=0.0..0.6"], n=16, seed=1, entities=["GBR"])
    idx = s.indices.set_index(["output", "factor"])
    assert idx.loc[("mean_abs_rank_shift", "aggregate.dat_thresh"), "STi"] == 0
    assert idx.loc[("rank:GBR", "aggregate.dat_thresh"), "STi"] == 0
    assert idx.loc[("mean_abs_rank_shift", "weights"), "STi"] > 0.5
    assert len(s.outputs) == 16 * (2 + 2)


def test_reproducible_with_a_seed(asem_c):
    a = sensitivity_analysis(asem_c, ["weights=0.25", "treat.winmax=1..5"], n=8, seed=4)
    b = sensitivity_analysis(asem_c, ["weights=0.25", "treat.winmax=1..5"], n=8, seed=4)
    pd.testing.assert_frame_equal(a.indices, b.indices)


def test_coinr_assumptions_rank_the_factors_as_coinr(asem_a, tmp_path):
    """COINr's variance-based SA (N=50, sa_indices.csv): aggregation has the largest total index, winmax the
    smallest. Our run of the same design size agrees on that order."""
    s = sensitivity_analysis(asem_a, COINR_UA, n=50, seed=1)
    ours = s.indices.set_index("factor")["STi"]
    ref = coinr_ref.read_plain("sa_indices.csv").set_index("Variable")["STi"]
    assert ref.idxmax() == "Aggregation" and ours.idxmax() == "aggregate.method"
    assert ref.idxmin() == "Winmax" and ours.idxmin() == "treat.winmax"
    assert len(s.outputs) == 50 * 6  # COINr's 300 runs
    un = s.unexplained().set_index("output")
    assert un.loc["mean_abs_rank_shift", "unexplained"] == pytest.approx(1 - s.indices["Si"].sum())
    files = {p.name for p in s.save(tmp_path)}
    assert {"sensitivity_indices.csv", "sensitivity_unexplained.csv", "sensitivity_runs.csv", "sensitivity_1.png"} <= files


def test_morris_on_asem(asem_c):
    s = sensitivity_analysis(asem_c, ["weights=0.25", "aggregate.dat_thresh=0.0..0.6", "treat.winmax=1..5"], method="morris", n=6, seed=1)
    m = s.indices.set_index("factor")
    assert m.loc["aggregate.dat_thresh", "mu_star"] == 0 and m.loc["weights", "mu_star"] > 0
