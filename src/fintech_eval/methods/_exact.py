"""Correctly rounded sums and dot products, vectorised over rows (``math.fsum`` accuracy at numpy speed).

Why: a sum accumulated in double depends on the order of its terms, so two units whose scores are equal in
exact arithmetic (the same values in another order, or different values with the same exact total) can come
out a few ulps apart and get different ranks. A correctly rounded sum is the exact sum rounded once: it
depends only on the exact value, so exact ties stay ties.

How: every product ``w·x`` is split exactly into ``p + e`` (Dekker's TwoProduct with Veltkamp's split), the
terms are added pairwise with Knuth's TwoSum, which returns each rounding error exactly, and the errors are
added plainly, giving the sum as ``s + c`` within a bound of order ``m·ε²·Σ|x|``. ``fl(s + c)`` is the
correctly rounded sum unless the exact sum may lie within that bound of a rounding boundary (in practice
only constructed cases): those rows, and only those, are summed again with :func:`math.fsum` (exact). Rows with a non-finite term are summed plainly (their sum is ±Inf or NaN anyway).
"""

from __future__ import annotations

import math

import numpy as np

_SPLIT = 134217729.0  # 2^27 + 1: Veltkamp's splitter for 53-bit doubles
_EPS = np.finfo(np.float64).eps


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s = fl(a + b) and the exact error e: a + b = s + e (Knuth)."""
    s = a + b
    bb = s - a
    e = s - bb
    np.subtract(a, e, out=e)
    np.subtract(b, bb, out=bb)
    e += bb
    return s, e


def _two_sum_into(a: np.ndarray, b: np.ndarray, e: np.ndarray) -> np.ndarray:
    """:func:`two_sum` writing the error into ``e``; returns s."""
    s = a + b
    bb = s - a
    np.subtract(s, bb, out=e)
    np.subtract(a, e, out=e)
    np.subtract(b, bb, out=bb)
    e += bb
    return s


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp: a = hi + lo exactly, each with at most 26 significant bits."""
    c = _SPLIT * a
    hi = c - a
    np.subtract(c, hi, out=hi)
    return hi, a - hi


def two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p = fl(a·b) and the exact error e: a·b = p + e (Dekker; exact unless |a|, |b| > ~1e300)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = p - ah * bh
    e -= al * bh
    e -= ah * bl
    np.subtract(al * bl, e, out=e)
    return p, e


def _sum_axis0(a: np.ndarray, products: bool = False) -> np.ndarray:
    """The correctly rounded sum along axis 0 of ``a`` (m, n): one sum per column. (``products``: the
    terms are products and their errors, mixed in sign and scale; the exactness test is tried late.)

    Pairwise TwoSum (contiguous halves) gives the rounded total ``s`` and exact errors, whose plain sum ``c``
    is off by at most ``bound``; ``r = fl(s + c)`` is the correctly rounded sum unless the exact sum may lie
    across a rounding boundary of ``r`` (then :func:`math.fsum` decides, for that column only)."""
    m, n = a.shape
    if m == 0:
        return np.zeros(n)
    if m == 1:
        return a[0].copy()
    if m == 2:
        return a[0] + a[1]  # one rounding: already correct
    E = np.empty((m - 1, n))  # the exact errors of the m - 1 additions
    x = a
    k = 0
    left: list[np.ndarray] = []  # odd rows set aside (no copy of the halves), summed in at the end
    with np.errstate(invalid="ignore", over="ignore"):
        while x.shape[0] > 1 or left:
            if x.shape[0] == 1:
                x, left = np.concatenate([x, *left]), []
            h = x.shape[0] // 2
            if x.shape[0] > 2 * h:
                left.append(x[2 * h :])
            x = _two_sum_into(x[:h], x[h : 2 * h], E[k : k + h])
            k += h
        c = E.sum(axis=0)
        r, t = two_sum(x[0], c)  # s + c = r + t exactly; the exact sum is within `bound` of it
    np.abs(E, out=E)
    ae = E.sum(axis=0)
    finite = np.isfinite(r) & np.isfinite(t)  # a non-finite term (or an overflow) makes NaN/Inf on the way
    # Every term, partial sum and error is a multiple of the finest spacing among the terms, q: while the
    # errors' partial sums stay below 2^53·q they are exact, and so is c (ae < the smallest |term| < 2^53·q);
    # then r is the correctly rounded sum whatever its distance to a rounding boundary. The smallest nonzero
    # |term| is the smallest term in a column of positive terms (one pass; sums of scores), looked for with
    # abs() only in the other columns. Products and their errors (``products``) almost never pass this
    # test: there it is tried only where the bound leaves a doubt (a smaller bound never makes a sure column
    # unsure).
    if not products:
        qmin = a.min(axis=0)
        other = ~(qmin > 0)
        if other.any():
            aa = np.abs(a[:, other])
            qmin[other] = np.where(aa > 0, aa, np.inf).min(axis=0)
        bound = np.where(ae < qmin, 0.0, ae * ((k + 2) * _EPS * 2.0))
    else:
        bound = ae * ((k + 2) * _EPS * 2.0)
    if bound.any():
        ar = np.abs(r)
        up = np.spacing(ar) / 2  # half the gap above |r| and below it (a power of two has a finer gap below)
        dn = (ar - np.nextafter(ar, 0.0)) / 2
        tt = np.where(r < 0, -t, t)  # offset of s + c from r, towards larger |r|
        sure = (bound == 0) | ((tt + bound < up) & (tt - bound > -dn))
        doubt = np.flatnonzero(~sure & finite)
        if len(doubt) and products:
            aa = np.abs(a[:, doubt])
            doubt = doubt[ae[doubt] >= np.where(aa > 0, aa, np.inf).min(axis=0)]
        for j in doubt:
            r[j] = math.fsum(a[:, j])
    if not finite.all():
        r[~finite] = a[:, ~finite].sum(axis=0)
    return r


def sum_rows(a: np.ndarray) -> np.ndarray:
    """The correctly rounded sum of each row of ``a`` (n, m)."""
    return _sum_axis0(np.ascontiguousarray(np.asarray(a, dtype=np.float64).T))


def sum_cols(a: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """The correctly rounded sum of each column of ``a`` (n, m) (cells outside ``where`` left out)."""
    a = np.asarray(a, dtype=np.float64)
    return _sum_axis0(a if where is None else np.where(where, a, 0.0))


def dot_cols(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The correctly rounded ``Σ_i x_ij y_ij`` of each column of ``x`` (n, m) (``y`` broadcast to it)."""
    p, e = two_prod(np.asarray(x, dtype=np.float64), np.broadcast_to(np.asarray(y, dtype=np.float64), np.shape(x)))
    e[np.isfinite(p) & ~np.isfinite(e)] = 0.0  # the split overflowed (|value| > ~1e300): product rounded once
    return _sum_axis0(np.concatenate([p, e]), products=True)


def dot_rows(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The correctly rounded ``Σ_j w_j x_ij`` of each row (``w`` (m,) or (n, m)); exact products first."""
    w = np.asarray(w, dtype=np.float64)
    return dot_cols(np.asarray(x, dtype=np.float64).T, w[:, None] if w.ndim == 1 else w.T)
