"""Outlier treatment, as COINr's ``Treat()`` / ``qTreat()``, plus percentile caps and Box-Cox.

``coinr`` (default) is COINr's two-stage rule, exactly:

1. **Test.** An indicator fails when ``|skew| >= skew_thresh`` AND ``kurt >= kurt_thresh`` (2 and 3.5).
   Skew and kurtosis are the bias-corrected G1 and excess G2 (e1071 type 2, Excel ``SKEW``/``KURT``,
   pandas ``.skew()``/``.kurt()``), NaNs ignored.
2. **Winsorise** a failing indicator one step at a time, re-testing after each step: if the current skew is
   >= 0 the highest value(s) take the next-highest value, else the lowest take the next-lowest. Tied values
   move together and count toward ``winmax`` (5). As in COINr, the count is the size of the last top set
   plus the last bottom set, and only those points are flagged ``winhi`` / ``winlo``.
3. If it still fails, ``f2`` (``log_CT``: ``log(x − min + 0.01·(max − min))``) is applied to the
   **original** values (to the winsorised ones with ``combine_treat=True``) and the test is repeated once.
   The points of such an indicator are recorded as COINr does: ``winhi+log_CT`` / ``winlo+log_CT`` where a
   point had been winsorised, ``+log_CT`` elsewhere.

``force_win=["Flights"]`` winsorises those indicators up to ``winmax`` whatever the test says (COINr
issue #53: COINr ignores it unless the indicator fails; here it works). ``indiv={"Gas": "none",
"Pat": {"winmax": 3}, "CO2": {"method": "boxcox", "lmbda": 0.5}}`` overrides the method or parameters per
indicator. Other methods: ``percentile`` (cap at the ``lower``/``upper`` quantiles, R type 7), ``boxcox``
(``((x − min + 1)^λ − 1)/λ``, λ given or fitted by maximum likelihood with ``scipy.stats.boxcox``) and
``none``.

``TreatResult.details`` is COINr's ``Dets_Table`` (one row per indicator, same column names, plus
``check_SkewKurt2.*`` when ``f2`` ran) and ``points`` is ``Treated_Points`` (same shape as the data).
Panels are treated period by period, as COINr treats each coin of a purse.

Where COINr stops with an R error — the test becomes undefined because winsorising made the column
constant (``while (NA)``) — the indicator is left untreated with a warning, as COINr itself does when the
*first* test is undefined.

Speed: winsorising the top tie group replaces it by the next distinct value, so a treated column is always
``clip(x, lo, hi)`` with ``lo``/``hi`` taken from the column's own values. The steps walk along the sorted
values of all failing indicators at once and only the re-test (two-pass moments, as R) touches the data.
Between the first test and the last step the re-test only needs its outcome (and the sign of the skew):
it is estimated from the power sums of the first test, corrected for the few values the clip moves, with a
bound on the estimate's rounding error; where the bound leaves the outcome in doubt, and at every
indicator's last step (whose skew and kurtosis are reported), the two-pass moments are computed on the data,
so that every figure and every decision is the one the step-by-step re-test gives.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, SpecError
from ..registry import Registry
from ._frame import (
    Param,
    as_matrix,
    is_panel,
    like,
    method_error,
    periods,
    problem,
    resolve_params,
    time_level,
)

STEP = "treat"
TREATERS = Registry(STEP)

P0, S0, K0 = "check_SkewKurt0.Pass", "check_SkewKurt0.Skew", "check_SkewKurt0.Kurt"
NWIN = "winsorise.nwin"
P1, S1, K1 = "check_SkewKurt1.Pass", "check_SkewKurt1.Skew", "check_SkewKurt1.Kurt"
P2, S2, K2 = "check_SkewKurt2.Pass", "check_SkewKurt2.Skew", "check_SkewKurt2.Kurt"
COINR_COLUMNS = [P0, S0, K0, NWIN, P1, S1, K1, P2, S2, K2]
_BOOL_COLS = {P0, P1, P2}
_INT_COLS = {NWIN}


@dataclass(frozen=True, eq=False)
class TreatResult:
    """``details``: one row per indicator (index iCode, or (Time, iCode) for a panel); ``points``: per cell.

    The per-cell record is kept as small integer codes and turned into the strings of COINr's
    ``Treated_Points`` table on first access, so that repeated rebuilds (uncertainty analysis) do not pay
    for a table of strings they never read.
    """

    data: pd.DataFrame
    build_details: Callable[[], pd.DataFrame] = field(repr=False)  # ``details``, built on first access
    warnings: list[Problem] = field(default_factory=list)
    point_codes: np.ndarray | None = field(default=None, repr=False)
    point_labels: tuple[str, ...] = field(default=("",), repr=False)

    @cached_property
    def details(self) -> pd.DataFrame:
        """COINr's ``Dets_Table`` (built when first read: a build that never reads it does not pay for it)."""
        return self.build_details()

    @cached_property
    def points(self) -> pd.DataFrame:
        """What happened to each cell: "", "winhi", "winlo", "winhi+log_CT", "+log_CT", "boxcox", … (one
        categorical column per indicator: the codes kept, no string per cell; compares, prints and saves as
        the strings)."""
        codes = np.zeros(self.data.shape, dtype=np.int16) if self.point_codes is None else self.point_codes
        dtype = pd.CategoricalDtype(list(self.point_labels))
        return pd.DataFrame(
            {j: pd.Categorical.from_codes(codes[:, j], dtype=dtype) for j in range(codes.shape[1])},
            index=self.data.index.copy(),
        ).set_axis(self.data.columns.copy(), axis=1)


@dataclass
class _Out:
    x: np.ndarray
    details: dict[str, np.ndarray]
    codes: np.ndarray  # int per cell, indexing `labels`
    labels: tuple[str, ...] = ("",)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (column position, message)


#: values (indicators × units re-tested) from which a winsorisation step's re-test is estimated (below, the
#: two-pass moments on the data are cheaper than the estimate's few dozen small array operations)
_ESTIMATE_FROM = 20_000
#: elements per block of rows in :func:`_row_moments` (about 512 KB: the block and its scratch stay in L2)
_BLOCK = 1 << 16


# --------------------------------------------------------------------------------------------------
# skew, kurtosis and the pass test, column-wise
# --------------------------------------------------------------------------------------------------
def _row_moments(
    w: np.ndarray,
    buffers: tuple[np.ndarray, np.ndarray] | None = None,
    valid: np.ndarray | None = None,
    clip: tuple[np.ndarray, np.ndarray] | None = None,
    power_sums: bool = False,
):
    """Skew (G1), excess kurtosis (G2) and n of each *row* of ``w`` (rows = indicators), NaNs ignored
    (with ``power_sums``, also :class:`_Sums`, the mean and the sums of ``(x − mean)^k`` behind them).

    Two-pass central moments as e1071 / COINr: ``x − mean`` first, then the sums of its powers. ``buffers``
    (two arrays at least as large as ``w``) avoid allocating temporaries when called in a loop; ``valid``
    (``~isnan(w)``) can be passed when already known; ``clip=(lo, hi)`` (one bound per row) gives the moments
    of ``clip(w, lo, hi)`` without writing that array out. Rows are taken a few at a time so that every pass
    runs in cache (each row's sums are the same as over the whole array).
    """
    r = w.shape[0]
    if buffers is None:
        buffers = (np.empty_like(w), np.empty_like(w))
    step = min(r, max(1, _BLOCK // max(1, w.shape[1])))
    cbuf = np.empty((step, w.shape[1])) if clip is not None else None
    out = [np.empty(r) for _ in range(8 if power_sums else 3)]
    for i in range(0, r, step):
        j = min(r, i + step)
        blk = w[i:j]
        if clip is not None:
            blk = np.clip(blk, clip[0][i:j, None], clip[1][i:j, None], out=cbuf[: j - i])
        res = _moments_block(blk, buffers[0][: j - i], buffers[1][: j - i], None if valid is None else valid[i:j], power_sums)
        for o, v in zip(out, res, strict=True):
            o[i:j] = v
    return (*out[:3], _Sums(*out[3:])) if power_sums else tuple(out)


@dataclass(frozen=True)
class _Sums:
    """Per row: the mean and the sums of ``d = x − mean`` to the powers 1-4 (``s1`` is 0 up to rounding)."""

    mean: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    s3: np.ndarray
    s4: np.ndarray


def _moments_block(w: np.ndarray, d: np.ndarray, d2: np.ndarray, valid: np.ndarray | None, power_sums: bool = False):
    r = w.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        total = w.sum(axis=1) if valid is None else None
        if total is not None and not np.isnan(total).any():  # no missing values (the usual case): no masks
            n = np.full(r, float(w.shape[1]))
            mean = total / n
            np.subtract(w, mean[:, None], out=d)
        else:
            if valid is None:
                valid = ~np.isnan(w)
            n = valid.sum(axis=1).astype(np.float64)
            mean = np.add.reduce(w, axis=1, where=valid) / n
            np.subtract(w, mean[:, None], out=d)
            np.copyto(d, 0.0, where=~valid)
        np.multiply(d, d, out=d2)
        s2 = d2.sum(axis=1)
        s3 = np.einsum("ij,ij->i", d2, d)
        s4 = np.einsum("ij,ij->i", d2, d2)
        sk = np.sqrt(n) * s3 / (s2**1.5)
        sk = sk * np.sqrt(n * (n - 1)) / (n - 2)
        rr = n * s4 / (s2 * s2)
        kt = ((n + 1) * (rr - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    if power_sums:
        return sk, kt, n, mean, d.sum(axis=1), s2, s3, s4
    return sk, kt, n


def _clipped_estimate(
    srt: np.ndarray, rows: np.ndarray, bot: np.ndarray, top: np.ndarray, nv: np.ndarray, ps: _Sums,
    skew_thresh: float, kurt_thresh: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skew and kurtosis of ``clip(x, srt[bot], srt[top])`` for each row in ``rows`` of the sorted values
    ``srt`` (``nv`` values each), estimated without touching the data: the power sums ``ps`` of the unclipped
    values (taken about their mean) less the values the clip moves, plus the bounds they move to. Also, per
    row, whether the estimate decides the pass test and the sign of the skew for certain: the rounding error
    of every sum is bounded (a generous ``8·(n + 16)·ε`` of the sum of absolute terms), carried through to
    skew and kurtosis, and a thousandfold of it must separate each from the threshold it is compared with."""
    n = nv[rows].astype(np.float64)
    mu = ps.mean[rows]
    lo, hi = srt[rows, bot], srt[rows, top]
    cb, ct = bot.astype(np.float64), n - 1 - top  # values moved up to lo / down to hi
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        ends = nv[rows]
        moved = []  # the tails the clip moves (about mu; 0 where a row's tail is shorter), one small matrix a side
        for first, stop in ((np.zeros_like(bot), bot), (top + 1, ends)):
            pos = first[:, None] + np.arange(int((stop - first).max(initial=0)))[None, :]
            vals = srt[rows[:, None], np.minimum(pos, srt.shape[1] - 1)] - mu[:, None]
            moved.append(np.where(pos < stop[:, None], vals, 0.0))
        dlo, dhi = lo - mu, hi - mu
        t, a = [], []  # the clipped values' power sums about mu, and sums of absolute terms (error bounds)
        s_abs = {1: np.sqrt(n * ps.s2[rows]), 2: ps.s2[rows], 3: np.sqrt(ps.s2[rows] * ps.s4[rows]), 4: ps.s4[rows]}
        for k, sk_ in ((1, ps.s1), (2, ps.s2), (3, ps.s3), (4, ps.s4)):
            tails = (moved[0] ** k).sum(axis=1) + (moved[1] ** k).sum(axis=1)
            added = cb * dlo**k + ct * dhi**k
            t.append(sk_[rows] - tails + added)
            a.append(s_abs[k] + cb * np.abs(dlo) ** k + ct * np.abs(dhi) ** k)
        eps = np.finfo(np.float64).eps
        e1, e2, e3, e4 = (8.0 * (n + 16.0) * eps * ak for ak in a)
        t1, t2, t3, t4 = t
        m1 = t1 / n
        d1 = e1 / n
        am = np.abs(m1)
        m2 = t2 - n * m1 * m1
        m3 = t3 - 3 * m1 * t2 + 2 * n * m1**3
        m4 = t4 - 4 * m1 * t3 + 6 * m1 * m1 * t2 - 3 * n * m1**4
        dm2 = 2 * (e2 + 2 * n * am * d1 + n * d1 * d1)
        dm3 = 2 * (e3 + 3 * am * e2 + 3 * (np.abs(t2) + 3 * n * m1 * m1) * d1)
        dm4 = 2 * (e4 + 4 * am * e3 + 4 * np.abs(t3) * d1 + 6 * m1 * m1 * e2 + 12 * am * np.abs(t2) * d1 + 12 * n * am**3 * d1)
        c_sk = np.sqrt(n) * np.sqrt(n * (n - 1)) / (n - 2)
        sk = c_sk * m3 / m2**1.5
        c_kt = (n + 1) * (n - 1) / ((n - 2) * (n - 3))
        rr = n * m4 / (m2 * m2)
        kt = ((n + 1) * (rr - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
        dsk = c_sk * (dm3 / m2**1.5 + 1.5 * np.abs(m3) * dm2 / m2**2.5)
        dkt = c_kt * n * (dm4 / (m2 * m2) + 2 * np.abs(m4) * dm2 / m2**3)
        tol_s, tol_k = 1e3 * dsk + 1e-9, 1e3 * dkt + 1e-9
        sure = (
            (lo < hi) & (m2 > 0) & (dm2 < 1e-3 * m2) & np.isfinite(sk) & np.isfinite(kt) & np.isfinite(tol_s) & np.isfinite(tol_k)
            & (np.abs(np.abs(sk) - skew_thresh) > tol_s) & (np.abs(kt - kurt_thresh) > tol_k) & (np.abs(sk) > tol_s)
        )
    return sk, kt, sure


def skew_kurt(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bias-corrected skew (G1) and excess kurtosis (G2) of each column, NaNs ignored; also n."""
    return _row_moments(np.ascontiguousarray(np.asarray(x, dtype=np.float64).T))


def _pass(sk: np.ndarray, kt: np.ndarray, skew_thresh: float, kurt_thresh: float) -> np.ndarray:
    """R's ``abs(skew) < t1 | kurt < t2`` with NA logic: 1 pass, 0 fail, NaN = NA."""
    with np.errstate(invalid="ignore"):
        a, b = np.abs(sk) < skew_thresh, kt < kurt_thresh
    na_a, na_b = np.isnan(sk), np.isnan(kt)
    return np.where((a & ~na_a) | (b & ~na_b), 1.0, np.where(na_a | na_b, np.nan, 0.0))


def check_skew_kurt(x: np.ndarray, skew_thresh: float = 2.0, kurt_thresh: float = 3.5):
    """(pass, skew, kurt) per column; pass is R's ``|skew| < t1 | kurt < t2`` with NA logic (NaN = NA)."""
    sk, kt, _ = skew_kurt(x)
    return _pass(sk, kt, skew_thresh, kurt_thresh), sk, kt


def _require_points(n: np.ndarray, cols: np.ndarray, names, method: str) -> None:
    """``n``: the available values of each column."""
    few = np.flatnonzero(n < 4)
    if len(few):
        j = few[0]
        raise method_error(
            STEP, method, f"skew and kurtosis need at least 4 available values, got {n[j]}", indicator=names[cols[j]]
        )


# --------------------------------------------------------------------------------------------------
# second-stage transforms (f2)
# --------------------------------------------------------------------------------------------------
# Row layout from here on: one row per indicator, so that every pass runs over contiguous memory.
def _rmin(x: np.ndarray) -> np.ndarray:
    return np.fmin.reduce(x, axis=1) if x.shape[1] else np.full(x.shape[0], np.nan)


def _rmax(x: np.ndarray) -> np.ndarray:
    return np.fmax.reduce(x, axis=1) if x.shape[1] else np.full(x.shape[0], np.nan)


def log_ct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COIN Tool log: ``log(x − min + 0.01·(max − min))``."""
    mn, mx = _rmin(x), _rmax(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.subtract(x, mn[:, None])  # (x − min) + a, in R's order of operations
        y += (0.01 * (mx - mn))[:, None]
        return np.log(y, out=y), np.full(x.shape[0], "log_CT", dtype=object)


def log_ct_plus_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log_CT`` for positive skew, ``−log(max + a − x)`` (a = 0.01·range) for negative skew."""
    mn, mx = _rmin(x), _rmax(x)
    a = 0.01 * (mx - mn)
    sk, _, _ = _row_moments(x)
    pos = (sk > 0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(pos, np.log(x - mn[:, None] + a[:, None]), -np.log(mx[:, None] + a[:, None] - x))
    return y, np.where(pos[:, 0], "log_CT", "log_CT_neg").astype(object)


def log_ct_orig_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Original COIN Tool log: ``log(x − min + 1)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(x - _rmin(x)[:, None] + 1), np.full(x.shape[0], "log_CT_orig", dtype=object)


def boxcox_rows(x: np.ndarray, lmbda: float | None = None, makepos: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Box-Cox of each row (after ``x − min + 1`` if ``makepos``); λ fitted per row when None."""
    from scipy import stats

    z = x - _rmin(x)[:, None] + 1 if makepos else x.copy()
    lam = np.full(x.shape[0], np.nan if lmbda is None else float(lmbda))
    if lmbda is None:
        for j in range(x.shape[0]):  # the maximum-likelihood fit is inherently per indicator
            row = z[j]
            ok = ~np.isnan(row)
            if ok.sum() >= 2 and np.all(row[ok] > 0) and np.ptp(row[ok]) > 0:
                lam[j] = stats.boxcox(row[ok])[1]
    lam_c = lam[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(lam_c == 0, np.log(z), (z**lam_c - 1) / np.where(lam_c == 0, 1.0, lam_c))
    return y, lam


def _f2(name: str, x: np.ndarray, lmbda: float | None) -> tuple[np.ndarray, np.ndarray]:
    if name == "log_CT":
        return log_ct_rows(x)
    if name == "log_CT_plus":
        return log_ct_plus_rows(x)
    if name == "log_CT_orig":
        return log_ct_orig_rows(x)
    y, _ = boxcox_rows(x, lmbda)
    return y, np.full(x.shape[0], "boxcox", dtype=object)


def _tie_start(srt: np.ndarray, rows: np.ndarray, pos: np.ndarray, nv: np.ndarray) -> np.ndarray:
    """First sorted position holding the value at ``pos`` (its tie group), for each row."""
    out = pos.copy()
    tied = (pos > 0) & (srt[rows, np.maximum(pos - 1, 0)] == srt[rows, pos])
    if tied.any():
        out[tied] = _row_search(srt, rows[tied], srt[rows[tied], pos[tied]], nv, right=False)
    return out


def _tie_end(srt: np.ndarray, rows: np.ndarray, pos: np.ndarray, nv: np.ndarray) -> np.ndarray:
    """Last sorted position holding the value at ``pos`` (its tie group), for each row."""
    out = pos.copy()
    nxt = np.minimum(pos + 1, srt.shape[1] - 1)
    tied = (pos + 1 < nv[rows]) & (srt[rows, nxt] == srt[rows, pos])
    if tied.any():
        out[tied] = _row_search(srt, rows[tied], srt[rows[tied], pos[tied]], nv, right=True) - 1
    return out


def _row_search(srt: np.ndarray, rows: np.ndarray, values: np.ndarray, nv: np.ndarray, right: bool) -> np.ndarray:
    """Vectorised ``searchsorted`` of ``values[i]`` in ``srt[rows[i], :nv[i]]`` (binary search on all rows)."""
    lo = np.zeros(len(rows), dtype=np.int64)
    hi = nv[rows].astype(np.int64)
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi) // 2
        v = srt[rows, np.minimum(mid, srt.shape[1] - 1)]
        go_right = (v <= values) if right else (v < values)
        lo = np.where(open_ & go_right, mid + 1, lo)
        hi = np.where(open_ & ~go_right, mid, hi)


# --------------------------------------------------------------------------------------------------
# methods: f(x block, names, cols, **params) -> _Out
# --------------------------------------------------------------------------------------------------
def _positive(v):
    return None if v > 0 else f"must be > 0, got {v}"


_COINR_PARAMS = {
    "winmax": Param(5, kind="int", nullable=True, check=lambda v: None if v >= 0 else f"must be >= 0, got {v}"),
    "skew_thresh": Param(2.0, kind="number", check=_positive),
    "kurt_thresh": Param(3.5, kind="number"),
    "f2": Param("log_CT", kind="choice", choices=("log_CT", "log_CT_plus", "log_CT_orig", "boxcox", None), nullable=True),
    "lmbda": Param(None, kind="number", nullable=True, doc="Box-Cox lambda when f2 = 'boxcox' (fitted if None)"),
    "combine_treat": Param(False, kind="bool"),
    "force_win": Param(False, kind="bool", per_indicator=True),
}


@TREATERS.register("coinr", aliases=["winsorise", "qTreat", "default"], params=_COINR_PARAMS)
def coinr_treat(
    x: np.ndarray,
    names,
    cols: np.ndarray,
    *,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    f2: str | None = "log_CT",
    lmbda: float | None = None,
    combine_treat: bool = False,
    force_win: np.ndarray | None = None,
) -> _Out:
    """COINr's default: test, winsorise one step at a time up to ``winmax``, then ``f2`` (see module doc)."""
    n, k = x.shape
    force = np.zeros(k, dtype=bool) if force_win is None else np.asarray(force_win, dtype=bool)
    limit = np.inf if winmax is None else winmax
    det = {c: np.full(k, np.nan) for c in COINR_COLUMNS}
    warns: list[tuple[int, str]] = []

    xt = np.ascontiguousarray(x.T)  # one row per indicator: every pass below runs over contiguous memory
    buffers = (np.empty_like(xt), np.empty_like(xt))  # scratch for the moments, reused at every step
    s0, k0, nv, ps = _row_moments(xt, buffers, power_sums=True)
    _require_points(nv.astype(int), cols, names, "coinr")
    p0 = _pass(s0, k0, skew_thresh, kurt_thresh)
    det[P0], det[S0], det[K0] = p0, s0, k0
    for j in np.flatnonzero(np.isnan(p0)):
        warns.append((int(j), "skew/kurtosis test is undefined (constant column): left untreated"))
    run = (p0 == 0) | (force & ~np.isnan(p0))
    passing, sk_cur, kt_cur = p0.copy(), s0.copy(), k0.copy()
    hi_val, lo_val = np.full(k, np.nan), np.full(k, np.nan)
    nwin = np.zeros(k)

    work = np.flatnonzero(run)
    if len(work):
        # Winsorising the top (bottom) tie group replaces it by the next distinct value, so the treated
        # column is always clip(x, lo, hi) with lo/hi original values: walk along the sorted values
        # instead of searching the column at every step.
        xw = xt if len(work) == k else xt[work]
        srt = np.sort(xw, axis=1)  # NaNs last
        nvw = nv[work].astype(int)
        valid_w = None if (nvw == n).all() else ~np.isnan(xw)
        top = nvw - 1  # sorted position of the current maximum
        bot = np.zeros(len(work), dtype=int)  # sorted position of the current minimum
        h_start, l_end = np.full(len(work), -1), np.full(len(work), -1)
        rows = np.arange(len(work))
        psw = ps if len(work) == k else _Sums(*(v[work] for v in (ps.mean, ps.s1, ps.s2, ps.s3, ps.s4)))
        act = rows[((passing[work] == 0) | force[work]) & (nwin[work] < limit)]
        while len(act):
            j = work[act]
            up = sk_cur[j] >= 0
            # first position of the maximum's tie group / last position of the minimum's (per row: cheap)
            p = _tie_start(srt, act, top[act], nvw)
            q = _tie_end(srt, act, bot[act], nvw)
            stuck = np.where(up, p <= bot[act], q >= top[act])
            go_up, go_dn = act[up & ~stuck], act[~up & ~stuck]
            h_start[go_up] = p[up & ~stuck]
            top[go_up] = h_start[go_up] - 1
            l_end[go_dn] = q[~up & ~stuck]
            bot[go_dn] = l_end[go_dn] + 1
            nwin[j] = np.where(h_start[act] >= 0, nvw[act] - h_start[act], 0) + np.where(l_end[act] >= 0, l_end[act] + 1, 0)
            # the re-test: estimated where the estimate decides it and the indicator goes on to another step,
            # two-pass on the data for the others (a doubtful estimate, and every indicator's last step)
            if len(act) * n >= _ESTIMATE_FROM:
                s_, k_, sure = _clipped_estimate(srt, act, bot[act], top[act], nvw, psw, skew_thresh, kurt_thresh)
                p_ = _pass(s_, k_, skew_thresh, kurt_thresh)
                exact = ~(sure & ~stuck & ((p_ == 0) | force[j]) & (nwin[j] < limit))
            else:  # a small block: the pass over the data costs less than the estimate's bookkeeping
                s_, k_, p_ = np.empty(len(act)), np.empty(len(act)), np.empty(len(act))
                exact = np.ones(len(act), dtype=bool)
            if exact.any():
                ex = act[exact]
                src = xw if len(ex) == len(rows) else xw[ex]
                v_ = None if valid_w is None else (valid_w if len(ex) == len(rows) else valid_w[ex])
                s_[exact], k_[exact], _ = _row_moments(src, buffers, v_, clip=(srt[ex, bot[ex]], srt[ex, top[ex]]))
                p_[exact] = _pass(s_[exact], k_[exact], skew_thresh, kurt_thresh)
            passing[j], sk_cur[j], kt_cur[j] = p_, s_, k_
            for jj in j[stuck]:
                warns.append((int(jj), "winsorisation stopped: no distinct value left to winsorise to"))
            keep = ~stuck & ~np.isnan(passing[j]) & ((passing[j] == 0) | force[j]) & (nwin[j] < limit)
            act = act[keep]
        hi_val[work] = np.where(h_start >= 0, srt[rows, top], np.inf)
        lo_val[work] = np.where(l_end >= 0, srt[rows, bot], -np.inf)
        hi_cut = np.where(h_start >= 0, srt[rows, np.maximum(h_start, 0)], np.inf)
        lo_cut = np.where(l_end >= 0, srt[rows, np.maximum(l_end, 0)], -np.inf)

    det[NWIN] = np.where(run, nwin, np.nan)
    det[P1] = np.where(run, passing, np.nan)
    det[S1] = np.where(run, sk_cur, np.nan)
    det[K1] = np.where(run, kt_cur, np.nan)
    codes = np.zeros((k, n), dtype=np.int16)  # 0 "", 1 winhi, 2 winlo; + 3·(f2 label number)
    second = np.flatnonzero(run & (passing == 0)) if f2 is not None else np.array([], dtype=int)
    if len(second) == k and not combine_treat:
        outt = xt  # every indicator goes on to f2 from its original values: no winsorised copy is needed
    elif len(work) == k:
        outt = np.clip(xw, lo_val[:, None], hi_val[:, None])
    else:
        outt = xt.copy()
        if len(work):
            outt[work] = np.clip(xw, lo_val[work][:, None], hi_val[work][:, None])
    if len(work):
        with np.errstate(invalid="ignore"):
            # the last top set (COINr's `imax`) and the last bottom set (`imin`, which wins a tie)
            c = (xw >= hi_cut[:, None]).astype(np.int16)
            c[xw <= lo_cut[:, None]] = 2
        codes[work] = c
    undefined = run & np.isnan(passing)
    for j in np.flatnonzero(undefined):
        warns.append((int(j), "skew/kurtosis test undefined after winsorisation: left untreated (as COINr)"))
        outt[j] = xt[j]
        codes[j] = 0

    labels = ["", "winhi", "winlo"]
    if len(second):
        every = len(second) == k
        src = outt if combine_treat else xt
        y, f2_labels = _f2(f2, src if every else src[second], lmbda)
        if every:
            outt = y
        else:
            outt[second] = y
        s2, k2, _ = _row_moments(y, buffers)
        det[P2][second] = _pass(s2, k2, skew_thresh, kurt_thresh)
        det[S2][second], det[K2][second] = s2, k2
        names_f2 = list(dict.fromkeys(f2_labels))
        for lab in names_f2:
            labels += [f"+{lab}", f"winhi+{lab}", f"winlo+{lab}"]
        offset = np.array([3 * (1 + names_f2.index(lab)) for lab in f2_labels], dtype=np.int16)
        codes[second] += offset[:, None]
    return _Out(outt.T, det, codes.T, tuple(labels), warns)


@TREATERS.register(
    "percentile",
    aliases=["quantile_caps", "winsorise_quantile"],
    params={
        "lower": Param(0.05, kind="number", nullable=True, check=lambda v: None if 0 <= v < 1 else f"must be in [0, 1), got {v}"),
        "upper": Param(0.95, kind="number", nullable=True, check=lambda v: None if 0 < v <= 1 else f"must be in (0, 1], got {v}"),
    },
)
def percentile_caps(x: np.ndarray, names, cols, *, lower: float | None = 0.05, upper: float | None = 0.95) -> _Out:
    """Cap each column at its ``lower`` and ``upper`` quantiles (linear interpolation, R type 7)."""
    if lower is not None and upper is not None and lower >= upper:
        raise SpecError(
            f"treat: percentile lower ({lower}) must be below upper ({upper})", step=STEP, method="percentile",
            parameter="lower",
        )
    k = x.shape[1]
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)
        qlo = np.nanquantile(x, lower, axis=0) if lower is not None else np.full(k, -np.inf)
        qhi = np.nanquantile(x, upper, axis=0) if upper is not None else np.full(k, np.inf)
    is_hi, is_lo = x > qhi, x < qlo
    out = np.clip(x, qlo, qhi)
    codes = np.where(is_hi, 1, np.where(is_lo, 2, 0)).astype(np.int16)
    p0, s0, k0 = _safe_check(x)
    p1, s1, k1 = _safe_check(out)
    det = {
        P0: p0, S0: s0, K0: k0, NWIN: (is_hi | is_lo).sum(axis=0).astype(float), P1: p1, S1: s1, K1: k1,
        "percentile.lower": np.where(np.isfinite(qlo), qlo, np.nan), "percentile.upper": np.where(np.isfinite(qhi), qhi, np.nan),
    }
    return _Out(out, det, codes, ("", "winhi", "winlo"))


@TREATERS.register(
    "boxcox",
    aliases=["box_cox"],
    params={"lmbda": Param(None, kind="number", nullable=True), "makepos": Param(True, kind="bool")},
)
def boxcox(x: np.ndarray, names, cols, *, lmbda: float | None = None, makepos: bool = True) -> _Out:
    """Box-Cox transform of every indicator: λ given, or fitted per indicator (``scipy.stats.boxcox``)."""
    if not makepos:
        bad = np.flatnonzero(np.nanmin(np.where(np.isnan(x), np.inf, x), axis=0) <= 0)
        if len(bad):
            raise method_error(STEP, "boxcox", "needs positive values (or makepos=True)", indicator=names[cols[bad[0]]])
    y, lam = boxcox_rows(np.ascontiguousarray(x.T), lmbda, makepos)
    y = y.T
    p0, s0, k0 = _safe_check(x)
    p1, s1, k1 = _safe_check(y)
    codes = (~np.isnan(x)).astype(np.int16)
    det = {P0: p0, S0: s0, K0: k0, P1: p1, S1: s1, K1: k1, "boxcox.lambda": lam}
    return _Out(y, det, codes, ("", "boxcox"))


@TREATERS.register("none")
def no_treat(x: np.ndarray, names, cols) -> _Out:
    """No treatment (the indicator is passed through)."""
    return _Out(x.copy(), {}, np.zeros(x.shape, dtype=np.int16))


def _safe_check(x: np.ndarray):
    p, s, k = check_skew_kurt(x)
    few = (~np.isnan(x)).sum(axis=0) < 4
    return np.where(few, np.nan, p), np.where(few, np.nan, s), np.where(few, np.nan, k)


# --------------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------------
def treat(
    data: pd.DataFrame,
    method: str = "coinr",
    *,
    indiv: dict[str, Any] | None = None,
    force_win: list[str] | tuple[str, ...] | None = None,
    **params: Any,
) -> TreatResult:
    """Treat outliers column by column (see the module doc); panels are treated period by period."""
    plan = _plan(data, method, indiv or {}, force_win or [], params)
    x = as_matrix(data, STEP, copy=False)  # read only: every method writes to arrays of its own
    out = None
    codes = np.zeros(x.shape, dtype=np.int16)
    vocab: dict[str, int] = {"": 0}
    det_parts: list[tuple[Any, dict[str, np.ndarray]]] = []
    warns: list[Problem] = []
    names = data.columns
    for period, rows in periods(data):
        det_cols: dict[str, np.ndarray] = {}
        for entry, p, cols in plan:
            whole = len(rows) == x.shape[0] and len(cols) == x.shape[1]
            block = x if whole else x[np.ix_(rows, cols)]
            res = entry.func(block, names, cols, **p)
            to_global = np.array([vocab.setdefault(lab, len(vocab)) for lab in res.labels], dtype=np.int16)
            identity = np.array_equal(to_global, np.arange(len(to_global)))
            if whole:
                out = np.asarray(res.x, dtype=np.float64)
                codes = res.codes if identity else to_global[res.codes]
            else:
                if out is None:
                    out = x.copy()
                out[np.ix_(rows, cols)] = res.x
                codes[np.ix_(rows, cols)] = to_global[res.codes]
            for key, val in res.details.items():
                det_cols.setdefault(key, np.full(len(names), np.nan))[cols] = val
            for j, msg in res.warnings:
                warns.append(problem(STEP, entry.name, msg, indicator=names[cols[j]], period=period))
        det_parts.append((period, det_cols))
    if np.may_share_memory(out, x):  # a method handed back its input: never alias the caller's frame
        out = out.copy()
    level, panel = (time_level(data), True) if is_panel(data) else (None, False)
    return TreatResult(
        data=like(data, out), build_details=lambda: _details(det_parts, names, level, panel), warnings=warns,
        point_codes=codes, point_labels=tuple(vocab),
    )


def _plan(data, method, indiv, force_win, params):
    """[(entry, resolved params, column positions)] grouping indicators that share method and parameters."""
    cols = data.columns.tolist()
    for code in [*indiv, *force_win]:
        if code not in cols:
            raise SpecError(f"treat: indicator {code!r} is not in the data", step=STEP, parameter="indiv", indicator=code)
    global_entry = TREATERS.entry(method)
    forced = set(force_win)
    if forced and "force_win" not in global_entry.meta.get("params", {}):
        raise SpecError(
            f"treat: force_win only applies to method 'coinr', not {global_entry.name!r}", step=STEP,
            method=global_entry.name, parameter="force_win",
        )
    resolve_params(global_entry, params, STEP, cols)  # validate the global spec once, even if every column overrides it
    cache: dict[tuple, dict[str, Any]] = {}
    keys: dict[tuple, tuple[str, str]] = {}
    groups: dict[tuple, list] = {}
    for j, code in enumerate(cols):
        spec = indiv.get(code)
        if spec is None:
            entry, p = global_entry, params
        elif isinstance(spec, str):
            entry, p = TREATERS.entry(spec), {}
        elif isinstance(spec, dict):
            spec = dict(spec)
            name = spec.pop("method", None)
            if name is None or TREATERS.entry(name).name == global_entry.name:
                entry, p = global_entry, {**params, **spec}
            else:
                entry, p = TREATERS.entry(name), spec
        else:
            raise SpecError(
                f"treat: individual spec for {code!r} must be a method name or a mapping", step=STEP, parameter="indiv",
                indicator=code,
            )
        if code in forced:
            p = {**p, "force_win": True}
        ckey = (entry.name, code if spec is not None else None, code in forced)
        if ckey not in cache:
            cache[ckey] = resolve_params(entry, p, STEP, indicator=code if spec is not None else None)
        resolved = cache[ckey]
        if ckey not in keys:  # (one key per distinct spec: a repr of the parameters per column is costly)
            keys[ckey] = (entry.name, repr(sorted(resolved.items())))
        key = keys[ckey]
        groups.setdefault(key, [entry, resolved, []])[2].append(j)
    plan = []
    for entry, resolved, js in groups.values():
        resolved = dict(resolved)
        if "force_win" in resolved:
            resolved["force_win"] = np.full(len(js), bool(resolved["force_win"]))
        plan.append((entry, resolved, np.asarray(js)))
    return plan


def _details(parts: list[tuple[Any, dict[str, np.ndarray]]], names: pd.Index, level: Any, panel: bool) -> pd.DataFrame:
    """The details table from each period's columns (one row per indicator; (Time, iCode) for a panel)."""
    frames = []
    for period, det_cols in parts:
        det = _details_frame(det_cols, names)
        if period is not None:
            det.index = pd.MultiIndex.from_arrays(
                [np.repeat(np.asarray([period], dtype=object), len(names)), det.index], names=[level, "iCode"]
            )
        frames.append(det)
    return pd.concat(frames) if panel else frames[0]


def _details_frame(det_cols: dict[str, np.ndarray], names: pd.Index) -> pd.DataFrame:
    order = [c for c in COINR_COLUMNS if c in det_cols] + [c for c in det_cols if c not in COINR_COLUMNS]
    frame = {}
    for c in order:
        v = det_cols[c]
        missing = np.isnan(v)
        if c in _BOOL_COLS:
            frame[c] = pd.arrays.BooleanArray(v == 1, missing)
        elif c in _INT_COLS:
            frame[c] = pd.arrays.IntegerArray(np.where(missing, 0, v).astype(np.int64), missing)
        else:
            frame[c] = v
    return pd.DataFrame(frame, index=pd.Index(names.copy(), name="iCode"))
