"""``fintech-eval weights``: AHP with its consistency guard, and objective weights from a CSV."""

import json

import numpy as np
import pandas as pd

from tests.clirun import run_cli

WANG_CHIN = [  # Wang & Chin 2011, Information Sciences 181(23):5240-5248 (method-cases.md)
    [1, 4, 3, 1, 3, 4],
    [1 / 4, 1, 7, 3, 1 / 5, 1],
    [1 / 3, 1 / 7, 1, 1 / 5, 1 / 5, 1 / 6],
    [1, 1 / 3, 5, 1, 1, 1 / 3],
    [1 / 3, 5, 5, 1, 1, 3],
    [1 / 4, 1, 6, 3, 1 / 3, 1],
]


def write_matrix(path, m, labels):
    pd.DataFrame(m, index=labels, columns=labels).to_csv(path)


def test_ahp_inconsistent_exits_3_with_cr(tmp_path, capsys, monkeypatch):
    labels = list("ABCDEF")
    write_matrix(tmp_path / "m.csv", WANG_CHIN, labels)
    r = run_cli(["weights", "ahp", "--input", tmp_path / "m.csv"], capsys, monkeypatch)
    assert r.code == 3 and "CR" in r.err and "0.229" in r.err
    r = run_cli(["weights", "ahp", "--input", tmp_path / "m.csv", "--allow-inconsistent", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0
    out = json.loads(r.out)
    np.testing.assert_allclose(list(out["weights"].values()), [0.3208, 0.1395, 0.0348, 0.1285, 0.2374, 0.1391], atol=5e-5)
    assert round(out["lambda_max"], 4) == 7.4199 and round(out["CR"], 3) == 0.229 and out["consistent"] is False


def test_ahp_consistent_matrix(tmp_path, capsys, monkeypatch):
    # a perfectly consistent matrix from weights (0.5, 0.3, 0.2): a_ij = w_i / w_j
    w = np.array([0.5, 0.3, 0.2])
    write_matrix(tmp_path / "m.csv", w[:, None] / w[None, :], ["x", "y", "z"])
    r = run_cli(["weights", "ahp", "--input", tmp_path / "m.csv", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0
    out = json.loads(r.out)
    np.testing.assert_allclose(list(out["weights"].values()), w, rtol=1e-9)
    assert abs(out["CR"]) < 1e-9


def test_entropy_from_csv_by_hand(tmp_path, capsys, monkeypatch):
    # two criteria over three units; min-max standardised: a → 0, .5, 1 ; b → 0, 0, 1 (b reversed below)
    pd.DataFrame({"unit": ["u1", "u2", "u3"], "a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 1.0]}).to_csv(tmp_path / "d.csv", index=False)
    r = run_cli(["weights", "entropy", "--input", tmp_path / "d.csv", "--directions", "b=-1", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    w = json.loads(r.out)
    # a: p = (0, 1/3, 2/3) → e = -(1/3 ln 1/3 + 2/3 ln 2/3)/ln 3 ; b: p = (0, 0, 1) → e = 0
    e_a = -(1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3)) / np.log(3)
    d = np.array([1 - e_a, 1.0])
    np.testing.assert_allclose([w["a"], w["b"]], d / d.sum(), rtol=1e-12)


def test_unknown_method_is_named(tmp_path, capsys, monkeypatch):
    pd.DataFrame({"unit": ["u1", "u2"], "a": [1.0, 2.0]}).to_csv(tmp_path / "d.csv", index=False)
    r = run_cli(["weights", "entrophy", "--input", tmp_path / "d.csv"], capsys, monkeypatch)
    assert r.code == 2 and "unknown weights method 'entrophy'" in r.err
