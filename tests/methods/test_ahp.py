"""AHP against Wang & Chin (2011) (docs/reference/method-cases.md) and the checks on judgement matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError, InconsistentJudgementError, SpecError
from fintech_eval.methods.ahp import AHP_METHODS, RANDOM_INDEX, ahp, ahp_tree, judgement_matrix, random_index
from fintech_eval.methods.weights import effective_weights
from fintech_eval.tree import Tree

# Wang, Y.-M. & Chin, K.-S. (2011), Information Sciences 181(23):5240-5248
WANG_CHIN = [
    [1, 4, 3, 1, 3, 4],
    [1 / 4, 1, 7, 3, 1 / 5, 1],
    [1 / 3, 1 / 7, 1, 1 / 5, 1 / 5, 1 / 6],
    [1, 1 / 3, 5, 1, 1, 1 / 3],
    [1 / 3, 5, 5, 1, 1, 3],
    [1 / 4, 1, 6, 3, 1 / 3, 1],
]


def test_wang_chin_2011_values():
    r = ahp(WANG_CHIN, allow_inconsistent=True)
    np.testing.assert_allclose(r.weights.round(4), [0.3208, 0.1395, 0.0348, 0.1285, 0.2374, 0.1391])
    assert round(r.lambda_max, 4) == 7.4199
    assert round(r.ci, 3) == 0.284
    assert r.ri == 1.24
    assert round(r.cr, 3) == 0.229
    assert not r.consistent
    assert r.weights.sum() == pytest.approx(1.0)


def test_wang_chin_2011_fails_consistency_check_with_cr_in_message():
    with pytest.raises(InconsistentJudgementError) as ei:
        ahp(WANG_CHIN)
    assert "CR = 0.229" in str(ei.value)
    assert ei.value.exit_code == 3
    assert ei.value.problems[0].rule == "ahp.consistency"


def test_consistent_matrix_recovers_weights():
    w = np.array([0.5, 0.3, 0.15, 0.05])
    m = pd.DataFrame(w[:, None] / w[None, :], index=list("abcd"), columns=list("abcd"))
    r = ahp(m)
    np.testing.assert_allclose(r.weights.to_numpy(), w, rtol=1e-12)
    assert list(r.weights.index) == list("abcd")
    assert r.lambda_max == pytest.approx(4.0)
    assert abs(r.cr) < 1e-12
    g = ahp(m, method="geometric")
    np.testing.assert_allclose(g.weights.to_numpy(), w, rtol=1e-12)


def test_saaty_random_index():
    assert [RANDOM_INDEX[n] for n in range(1, 10)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45]
    assert [RANDOM_INDEX[n] for n in range(10, 16)] == [1.49, 1.51, 1.48, 1.56, 1.57, 1.59]
    with pytest.raises(SpecError, match="16"):
        random_index(16)
    assert random_index(16, {16: 1.60}) == 1.60


def test_two_criteria_always_consistent():
    r = ahp([[1, 7], [1 / 7, 1]])
    assert r.cr == 0.0
    np.testing.assert_allclose(r.weights.to_numpy(), [7 / 8, 1 / 8])


def test_checks_name_the_cell():
    with pytest.raises(DataError, match="square"):
        ahp([[1, 2, 3], [0.5, 1, 2]])
    bad = [row[:] for row in WANG_CHIN]
    bad[2][0] = 1 / 2  # should be 1/3
    with pytest.raises(DataError) as ei:
        ahp(bad, labels=["A", "B", "C", "D", "E", "F"])
    assert "(C, A)" in str(ei.value) and ei.value.problems[0].rule == "ahp.reciprocal"
    neg = [[1, -2], [-0.5, 1]]
    with pytest.raises(DataError, match="positive"):
        ahp(neg)
    with pytest.raises(DataError, match="diagonal"):
        ahp([[2, 2], [0.5, 1]])
    # 0.333 typed for 1/3 is accepted
    ahp([[1, 3, 1], [0.333, 1, 0.333], [1, 3, 1]])


def test_upper_triangle_is_completed():
    upper = np.triu(np.array(WANG_CHIN, dtype=float))
    upper[np.tril_indices(6, -1)] = np.nan
    r = ahp(upper, allow_inconsistent=True)
    full = ahp(WANG_CHIN, allow_inconsistent=True)
    np.testing.assert_allclose(r.weights.to_numpy(), full.weights.to_numpy(), rtol=1e-12)
    m = judgement_matrix(upper)
    assert m.iloc[2, 1] == pytest.approx(1 / 7)


def test_dataframe_labels_must_match():
    m = pd.DataFrame([[1, 2], [0.5, 1]], index=["a", "b"], columns=["b", "a"])
    with pytest.raises(DataError, match="same order"):
        ahp(m)


def _tree() -> Tree:
    rows = [("I", None, 3), ("P1", "I", 2), ("P2", "I", 2),
            ("a", "P1", 1), ("b", "P1", 1), ("c", "P1", 1), ("d", "P2", 1), ("e", "P2", 1)]
    return Tree.from_rows([{"code": c, "parent": p, "level": lv, "weight": 1.0} for c, p, lv in rows])


def test_ahp_for_a_whole_tree():
    t = _tree()
    mats = {
        "I": pd.DataFrame([[1, 3], [1 / 3, 1]], index=["P1", "P2"], columns=["P1", "P2"]),
        "P1": (["c", "a", "b"], [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]),
    }
    res = ahp_tree(t, mats)
    assert res.weights["P1"] == pytest.approx(0.75) and res.weights["P2"] == pytest.approx(0.25)
    np.testing.assert_allclose(res.weights[["c", "a", "b"]].to_numpy(), [4 / 7, 2 / 7, 1 / 7])
    assert res.weights["d"] == 1.0  # no matrix for P2: tree weights kept
    eff = effective_weights(res.tree(t))
    assert eff["c"] == pytest.approx(0.75 * 4 / 7)
    assert set(res.results) == {"I", "P1"}


def test_ahp_tree_reports_every_inconsistent_node_and_bad_children():
    t = _tree()
    incons = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    with pytest.raises(InconsistentJudgementError) as ei:
        ahp_tree(t, {"P1": (["a", "b", "c"], incons), "I": (["P1", "P2"], [[1, 2], [0.5, 1]])})
    assert [p.where["node"] for p in ei.value.problems] == ["P1"]
    assert "P1" in str(ei.value) and "CR =" in str(ei.value)
    ok = ahp_tree(t, {"P1": (["a", "b", "c"], incons)}, allow_inconsistent=True)
    assert ok.results["P1"].cr > 0.1
    with pytest.raises(DataError, match="children"):
        ahp_tree(t, {"P1": (["a", "b"], [[1, 2], [0.5, 1]])})
    with pytest.raises(DataError, match="unknown node"):
        ahp_tree(t, {"Z": (["a", "b"], [[1, 2], [0.5, 1]])})


def test_registry():
    assert "eigenvector" in AHP_METHODS and "geometric" in AHP_METHODS
