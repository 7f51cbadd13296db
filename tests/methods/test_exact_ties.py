"""Exact ties stay ties: correctly rounded sums in z-scores, means and Copeland, checked with fractions.Fraction.

Each case is built so that two units' values are equal in exact rational arithmetic (on the double values
given), and is chosen so that plain double accumulation (numpy's sum, the matrix product) breaks the tie:
the "naive" assertions show the test can fail."""

import math
from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest

from fintech_eval.engine.tree import Tree
from fintech_eval.methods import aggregate, normalise
from fintech_eval.methods._exact import dot_rows, sum_cols, sum_rows
from fintech_eval.methods.aggregate import copeland


def exact_sum(row):
    return sum(F(v) for v in row)


# --- the summation itself -----------------------------------------------------------------------------
def test_sums_are_correctly_rounded():
    rng = np.random.default_rng(7)
    for _ in range(100):
        a = rng.normal(size=(40, int(rng.integers(2, 25)))) * 10.0 ** rng.integers(-12, 12, size=(40, 1))
        h = a[::3, : a.shape[1] // 2]
        a[::3, : 2 * h.shape[1]] = np.concatenate([h, -h[:, ::-1]], axis=1)  # exact cancellation
        ref = [float(exact_sum(r)) for r in a]
        assert sum_rows(a).tolist() == ref
        assert sum_cols(a.T).tolist() == ref
        w = rng.random(a.shape[1])
        assert dot_rows(a, w).tolist() == [float(sum(F(x) * F(v) for x, v in zip(r, w, strict=True))) for r in a]


def test_exact_midpoints_and_cancellation():
    big = 2.0**53
    rows = np.array([
        [big, 1.0, 0.0, 0.0],  # exactly halfway: ties to even → 2^53
        [big, 1.0, 2.0**-60, 0.0],  # just above halfway → 2^53 + 2
        [1e16, 1.0, -1e16, 0.0],  # catastrophic cancellation: 1
        [0.1, 0.2, 0.3, -0.6],  # the exact sum of these doubles, not 0
    ])
    assert sum_rows(rows).tolist() == [float(exact_sum(r)) for r in rows] == [math.fsum(r) for r in rows]
    assert sum_rows(np.array([[np.inf, 1.0], [np.nan, 1.0]]))[0] == np.inf


def test_sums_of_few_bit_values_near_rounding_boundaries():
    """Values with few significant bits over a wide range of scales: the rounding errors are exact, sums
    often land on or next to a midpoint between doubles. Positive terms (where the smallest term bounds the
    errors), mixed signs (where the smallest |term| is looked for only in doubt) and rows that need an exact
    sum, each against rational arithmetic."""
    rng = np.random.default_rng(11)
    for sign in (1.0, -1.0):
        for _ in range(40):
            m = int(rng.integers(3, 12))
            a = rng.integers(1, 64, size=(60, m)) * 2.0 ** rng.integers(-30, 30, size=(60, m))
            a[:, 0] = 2.0**53 + 2.0 * rng.integers(0, 4, size=60)  # a big even term: small ones decide the rounding
            if sign < 0:
                a[:, 1::2] *= -1
            ref = [float(exact_sum(r)) for r in a]
            assert sum_rows(a).tolist() == ref
            assert sum_cols(a.T).tolist() == ref


# --- z-scores and arithmetic means --------------------------------------------------------------------
def latin(v):
    """Indicator j = v rotated by j: every unit has the same values, in another order (all tie exactly)."""
    k = len(v)
    cols = {f"i{j}": np.roll(v, -j) for j in range(k)}
    return pd.DataFrame(cols, index=[f"u{i}" for i in range(k)])


def tree_of(codes, weights=None):
    rows = [{"code": c, "parent": "Index", "level": 1, "weight": (weights or {}).get(c, 1.0)} for c in codes]
    return Tree.from_rows(rows + [{"code": "Index", "level": 2}])


V = np.array([0.113398, 87.62491, 18.972826, 0.011106, 0.058528, 143.561748, 3.684003, 0.025782, 4.947339, 2.821204])


def test_zscore_then_mean_keeps_exact_ties():
    data = latin(V)
    # exact arithmetic: every unit's values are the same multiset, so every unit's mean z-score is the same
    assert len({tuple(sorted(F(x) for x in r)) for r in data.to_numpy()}) == 1
    z = normalise(data, None, "zscore", m_sd=(100.0, 10.0))
    for c in data.columns[1:]:  # a column's z-scores are the same numbers as the first column's
        assert sorted(z[c]) == sorted(z["i0"])
    idx = aggregate(z, tree_of(list(data.columns)))["Index"]
    assert idx.nunique() == 1
    # plain double sums break these ties (so this test can fail)
    x = data.to_numpy()
    naive_mean = x.sum(axis=0) / len(x)
    assert len(set(naive_mean)) > 1
    naive = ((x - naive_mean) / x.std(axis=0, ddof=1) * 10 + 100) @ np.full(len(V), 1 / len(V))
    assert len(set(naive)) > 1


def test_arithmetic_mean_keeps_exact_ties_of_different_values():
    rng = np.random.default_rng(3)
    ulp = 2.0**-52
    c = rng.uniform(1, 100, 200)
    a = rng.uniform(1.25, 1.5, 200)
    b = rng.uniform(1.25, 1.5, 200)
    d = rng.integers(1, 1000, 200) * ulp  # a + d and b - d stay exact in [1, 2)
    A = np.column_stack([c, a, b])
    B = np.column_stack([c, a + d, b - d])
    assert all(exact_sum(r) == exact_sum(s) for r, s in zip(A, B, strict=True))
    frame = pd.DataFrame(np.vstack([A, B]), columns=["x", "y", "z"], index=[f"u{i}" for i in range(400)])
    for weights in (None, {"x": 2.0, "y": 0.5, "z": 0.5}):
        if weights:  # weights equal on y and z keep the tie: w·(a + d) + w·(b − d) = w·a + w·b
            assert all(sum(F(w) * F(v) for w, v in zip((2.0, 0.5, 0.5), r, strict=True))
                       == sum(F(w) * F(v) for w, v in zip((2.0, 0.5, 0.5), s, strict=True)) for r, s in zip(A, B, strict=True))
        idx = aggregate(frame, tree_of(["x", "y", "z"], weights))["Index"].to_numpy()
        assert (idx[:200] == idx[200:]).all()
    naive = np.vstack([A, B]) @ np.full(3, 1 / 3)
    assert (naive[:200] != naive[200:]).any()


def test_mean_with_missing_cells_keeps_ties():
    x = latin(V).to_numpy()
    x = np.column_stack([x, np.full(len(x), np.nan)])  # a fourth child missing for everyone: renormalised
    frame = pd.DataFrame(x, columns=[f"i{j}" for j in range(x.shape[1])], index=[f"u{i}" for i in range(len(x))])
    idx = aggregate(frame, tree_of(list(frame.columns)))["Index"]
    assert idx.nunique() == 1 and idx.iloc[0] == float(exact_sum(V)) / len(V)


# --- Copeland -----------------------------------------------------------------------------------------
def test_copeland_decides_weighted_ties_exactly():
    ulp = 2.0**-52
    a, b = 1.3, 1.7
    w = np.array([a, b, a + 5 * ulp, b - 5 * ulp])  # w0 + w1 = w2 + w3 exactly
    assert F(w[0]) + F(w[1]) == F(w[2]) + F(w[3])
    x = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])  # unit 0 wins on w0, w1; unit 1 on w2, w3
    assert copeland(x, w).tolist() == [0.0, 0.0]
    # a share a hair above one half still wins
    w2 = np.array([a, b, a + 5 * ulp, b - 6 * ulp])
    assert copeland(x, w2).tolist() == [1.0, -1.0]


def test_copeland_over_an_arithmetic_mean_level():
    """Units 0 and 1 tie exactly on both pillars; unit 2 is below: Copeland gives 0 and 1 the same score."""
    v = np.array([0.1, 0.7, 1e3 / 3, 2.0 / 7, 5.3, 1e-3])
    rows = [v, np.roll(v, 1), v * 0.5]
    data = pd.DataFrame(rows, columns=[f"i{j}" for j in range(6)], index=["a", "b", "c"])
    t = [{"code": f"i{j}", "parent": "P1", "level": 1} for j in range(6)]
    t += [{"code": "P1", "parent": "Index", "level": 2}, {"code": "P2", "parent": "Index", "level": 2}, {"code": "Index", "level": 3}]
    t += [{"code": "q", "parent": "P2", "level": 1}]
    data["q"] = [3.0, 3.0, 1.0]
    out = aggregate(data, Tree.from_rows(t), method={2: "amean", 3: "copeland"})
    assert out.loc["a", "P1"] == out.loc["b", "P1"]
    assert out.loc["a", "Index"] == out.loc["b", "Index"] == 1.0 and out.loc["c", "Index"] == -2.0
    naive = np.array(rows) @ np.full(6, 1 / 6)
    assert naive[0] != naive[1]


@pytest.mark.parametrize("n", [2, 3, 17])
def test_copeland_sign_matches_exact_shares(n):
    rng = np.random.default_rng(n)
    x = rng.integers(0, 3, size=(n, 5)).astype(float)
    x[0, 0] = np.nan
    w = rng.random(5)
    s = copeland(x, w)
    ref = np.zeros(n)
    for i in range(n):
        for j in range(i + 1, n):
            d = sum(F(wc) * (1 if xi > xj else 0 if xi == xj else -1) for wc, xi, xj in zip(w, x[i], x[j], strict=True))
            sg = (d > 0) - (d < 0)
            ref[i] += sg
            ref[j] -= sg
    assert s.tolist() == ref.tolist()
