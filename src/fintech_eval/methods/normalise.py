"""Normalisation: bring indicators onto a common scale, as COINr's ``Normalise()``, plus the efficacy function.

As in COINr every method sees ``x · direction`` (direction = +1, or −1 for a reverse indicator), so that
"higher is better" afterwards.

Bounds (goalposts ``gposts``, target ``targ``, scaled bounds ``npara``, the efficacy function's ``lower`` and
``upper``) follow one rule, COINr's, in every method (``bounds``):

* ``bounds="directed"`` (default, as COINr): values given in the spec apply to ``x · direction``, what the
  method sees; for a reverse indicator they are the negated scale (goalposts (−10, −2) mean 2 is best and
  10 worst). A COINr spec copied verbatim gives COINr's numbers.
* values read from iMeta (``gposts: use_iMeta``, ``targ: use_iMeta``, ``npara: use_iMeta``…) and goalposts
  computed from a base period are in the indicator's own units and are flipped for reverse indicators, as
  COINr's ``use_iMeta`` route does: a target T becomes −T, bounds (lo, hi) become (−hi, −lo).
* ``bounds="own"``: values given in the spec are in the indicator's own units too, flipped the same way.

Given bounds that put every unit at or beyond the same bound (every score 0, or every score at the top, or
all outside the scale on one side) are warned about (rule ``normalise.bounds``), naming the indicator: the usual cause is
own-unit bounds for a reverse indicator without ``bounds="own"``.

``use_iMeta`` reads iMeta's columns as COINr names them: ``goalpost_lower``, ``goalpost_upper``,
``goalpost_scale``, ``goalpost_trunc2posts`` (goalposts); ``Target``, ``dist2targ_cap_max`` (distance to
target; cap_max false when the column is absent, as COINr); ``scaled_lower``, ``scaled_upper``,
``scale_factor`` (scaled); ``minmax_lower``, ``minmax_upper``; ``zscore_mean``, ``zscore_sd``; and ours,
``efficacy_lower``, ``efficacy_upper``.

COINr's eleven (``n_*``): ``minmax`` ``(x − min)/(max − min)·(u − l) + l`` (``l_u`` = (0, 100));
``zscore`` ``(x − mean)/sd·s + m`` (``m_sd`` = (0, 1), sample sd); ``scaled`` ``(x − l)/(u − l)·scale_factor``;
``goalposts`` ``(x − lo)/(hi − lo)`` truncated to
[0, 1] (``trunc2posts``) times ``scale``; ``dist2targ`` ``(x − min)/(targ − min)``, capped at 1 with
``cap_max``; ``dist2ref`` ``1 − (x_ref − x)/(x_ref − min)`` with the reference unit ``iref`` (a unit code,
or COINr's 1-based row number); ``dist2max`` ``1 − (max − x)/(max − min)``; ``fracmax`` ``x/max``;
``prank`` ``(rank − 1)/(n − 1)``; ``rank``; ``borda`` ``rank − 1`` (ranks with ties = min, NaN kept);
and ``none``.

Efficacy function (功效函数 / 功效系数), with goalposts that can be frozen on a base period so that
scores stay comparable across years (PKU Digital Financial Inclusion Index style):
``efficacy_linear`` ``offset + scale·(x − lower)/(upper − lower)`` and ``efficacy_log``
``offset + scale·(ln x − ln lower)/(ln upper − ln lower)`` (in own units, so x > 0); for a reverse indicator
the roles of the own-unit ``lower`` and ``upper`` swap. ``lower``/``upper`` follow the bounds rule above
for ``efficacy_linear`` (before issue 10 they were always in own units: a reverse indicator's explicit
goalposts now need ``bounds="own"``, or the negated values, as every other normaliser's), and are always in
own units for ``efficacy_log`` (logarithms need the positive own-unit values; on x · direction a reverse
indicator's bounds would be negative). Goalposts not given are computed once from the base period
(``base`` = a period label of the panel, or a frame of base-period data) as its ``base_quantiles``
(default (0, 1): min and max), in own units. Not truncated unless ``trunc=True``, so later years may
exceed ``scale``. Example (the 功效系数 toy case): actual 0.90, upper 1.00, lower 0.80, scale 1 → 0.5.

Panels ((uCode, Time) index): ``scope="global"`` (default, COINr's ``global = TRUE``) normalises all
periods together so scores are comparable over time; ``scope="period"`` normalises each period apart.

:func:`normalise` returns a DataFrame like the input; :func:`normalise_output` returns it in a
:class:`~fintech_eval.engine.output.StageOutput` with the warnings COINr would give (e.g. a constant column
under min-max gives NaN), each a :class:`~fintech_eval.errors.Problem` naming the indicator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..engine.output import StageOutput, data_only
from ..errors import Problem, SpecError
from ..registry import Registry
from ._exact import sum_cols
from ._frame import (
    Param,
    all_finite,
    as_matrix,
    is_panel,
    like,
    method_error,
    periods,
    problem,
    resolve_params,
    time_level,
)

STEP = "normalise"
NORMALISERS = Registry(STEP)

Warn = list[tuple]  # (column, message) or (column, message, rule)
BOUNDS = ("directed", "own")
IMETA = "use_iMeta"


class OwnUnits(dict):
    """A per-indicator parameter read from iMeta: {indicator: value} in the indicator's own units."""


def _minmax_of(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column min and max ignoring NaN (NaN for an all-missing column), one pass each."""
    if x.shape[0] == 0:
        return np.full(x.shape[1], np.nan), np.full(x.shape[1], np.nan)
    return np.fmin.reduce(x, axis=0), np.fmax.reduce(x, axis=0)


def _affine(x: np.ndarray, sub, div, mul=None, add=None) -> np.ndarray:
    """((x − sub) / div) · mul + add, in this order (COINr's), with a single temporary array."""
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.subtract(x, sub)
        y /= div
        if mul is not None:
            y *= mul
        if add is not None:
            y += add
    return y


def _one_minus(x: np.ndarray, ref, div) -> np.ndarray:
    """1 − (ref − x) / div, with a single temporary array."""
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.subtract(ref, x)
        y /= div
        np.subtract(1.0, y, out=y)
    return y


def _const_warn(mn: np.ndarray, mx: np.ndarray) -> Warn:
    return [(int(j), "the range of x is 0: returning NaN") for j in np.flatnonzero(mn == mx)]


def _pair(v: Any, m: int) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return np.broadcast_to(a, (m, a.shape[-1])) if a.ndim == 1 else a


_PAIR_ORDERED = lambda v: None if v[0] != v[1] else f"needs two different values, got {tuple(v)}"  # noqa: E731


def _flip_interval(lo: np.ndarray, hi: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Own-unit bounds (lo, hi) as bounds on x · direction: (−hi, −lo) for a reverse indicator."""
    rev = directions < 0
    return np.where(rev, -hi, lo), np.where(rev, -lo, hi)


def _at_bounds(x: np.ndarray, lo: np.ndarray, hi: np.ndarray | None = None) -> Warn:
    """A warning for each column whose values (x · direction) all sit at or beyond the same bound, so every unit
    gets the bottom (or the top) score (``hi`` None: a target, every unit at or beyond it). Units split between
    the two bounds (a yes/no indicator on goalposts (0, 1)) are fine."""
    have = ~np.isnan(x)
    n = have.sum(axis=0)
    with np.errstate(invalid="ignore"):
        below = (have & (x <= lo)).sum(axis=0) if hi is not None else np.zeros(x.shape[1], int)
        above = (have & (x >= (lo if hi is None else hi))).sum(axis=0)
    out: Warn = []
    for j in np.flatnonzero((n > 0) & ((below == n) | (above == n))):
        where = ("at or below the lower bound" if below[j] == n[j] else "at or above the upper bound") if hi is not None \
            else "at or beyond the target"
        out.append((int(j), f"every unit ({n[j]}) is {where} (on x·direction): check the bounds; own-unit bounds "
                    "for a reverse indicator need `bounds: own`", "normalise.bounds"))
    return out


# --------------------------------------------------------------------------------------------------
# COINr's normalisers: f(x, **params) -> y or (y, warnings); x = data · direction, column-wise
# --------------------------------------------------------------------------------------------------
@NORMALISERS.register(
    "minmax", aliases=["n_minmax"], params={"l_u": Param((0.0, 100.0), kind="pair", per_indicator=True)},
    imeta={"l_u": ("minmax_lower", "minmax_upper")},
)
def minmax(x: np.ndarray, l_u=(0.0, 100.0)) -> tuple[np.ndarray, Warn]:
    """(x − min)/(max − min)·(u − l) + l."""
    lu = _pair(l_u, x.shape[1])
    mn, mx = _minmax_of(x)
    y = _affine(x, mn, mx - mn, lu[:, 1] - lu[:, 0], lu[:, 0])
    return y, _const_warn(mn, mx)


@NORMALISERS.register(
    "zscore",
    aliases=["n_zscore"],
    imeta={"m_sd": ("zscore_mean", "zscore_sd")},
    params={
        "m_sd": Param((0.0, 1.0), kind="pair", per_indicator=True, check=lambda v: None if v[1] > 0 else f"sd must be > 0, got {v[1]}")
    },
)
def zscore(x: np.ndarray, m_sd=(0.0, 1.0)) -> tuple[np.ndarray, Warn]:
    """(x − mean)/sd·s + m, with the sample standard deviation (n − 1)."""
    msd = _pair(m_sd, x.shape[1])
    missing = np.isnan(x)
    n = x.shape[0] - missing.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # correctly rounded sums: the same values in any order give the same mean and sd (exact ties stay ties)
        mean = sum_cols(x, where=~missing) / n
        d = np.subtract(x, mean)
        np.multiply(d, d, out=d)
        sd = np.sqrt(sum_cols(d, where=~missing) / (n - 1))
        del d
        y = _affine(x, mean, sd, msd[:, 1], msd[:, 0])
    warn = [(int(j), "standard deviation is zero or undefined: returning NaN") for j in np.flatnonzero(~(sd > 0))]
    return y, warn


@NORMALISERS.register(
    "scaled",
    aliases=["n_scaled"],
    directional=True,
    bounds={"npara": "interval"},
    imeta={"npara": ("scaled_lower", "scaled_upper"), "scale_factor": ("scale_factor",)},
    params={
        "npara": Param((0.0, 100.0), kind="pair", per_indicator=True, check=_PAIR_ORDERED, doc="(l, u), see the bounds rule"),
        "scale_factor": Param(100.0, kind="number", per_indicator=True),
    },
)
def scaled(x: np.ndarray, npara=(0.0, 100.0), scale_factor: float = 100.0, *, directions: np.ndarray) -> tuple[np.ndarray, Warn]:
    """(x − l)/(u − l)·scale_factor with fixed external bounds (``npara`` in own units here: flipped for a
    reverse indicator)."""
    lu = _pair(npara, x.shape[1])
    lo, hi = _flip_interval(lu[:, 0], lu[:, 1], directions)
    y = _affine(x, lo, hi - lo, scale_factor)
    return y, _at_bounds(x, np.minimum(lo, hi), np.maximum(lo, hi))


@NORMALISERS.register(
    "goalposts",
    aliases=["n_goalposts"],
    directional=True,
    bounds={"gposts": "interval"},
    imeta={"gposts": ("goalpost_lower", "goalpost_upper", "goalpost_scale"), "trunc2posts": ("goalpost_trunc2posts",)},
    params={
        "gposts": Param(
            kind="triple", per_indicator=True,
            check=lambda v: None if v[0] < v[1] else f"needs lower < upper goalpost, got {tuple(v)}",
            doc="(lower, upper, scale), see the bounds rule",
        ),
        "trunc2posts": Param(True, kind="bool", per_indicator=True),
    },
    example={"gposts": (-1.0, 1.0, 100.0)},
)
def goalposts(x: np.ndarray, gposts, trunc2posts=True, *, directions: np.ndarray) -> tuple[np.ndarray, Warn]:
    """(x − lo)/(hi − lo), truncated to [0, 1], times scale (``gposts`` in own units here: a reverse
    indicator scores (hi − x)/(hi − lo))."""
    gp = _pair(gposts, x.shape[1])
    lo, hi = _flip_interval(gp[:, 0], gp[:, 1], directions)
    y = _affine(x, lo, hi - lo)
    trunc = np.broadcast_to(np.asarray(trunc2posts, dtype=bool), (x.shape[1],))
    if trunc.all():
        np.clip(y, 0.0, 1.0, out=y)
    elif trunc.any():
        y[:, trunc] = np.clip(y[:, trunc], 0.0, 1.0)
    y *= gp[:, 2]
    return y, _at_bounds(x, lo, hi)


@NORMALISERS.register(
    "dist2targ",
    aliases=["n_dist2targ"],
    directional=True,
    bounds={"targ": "point"},
    imeta={"targ": ("Target",), "cap_max": ("dist2targ_cap_max",)},
    params={"targ": Param(kind="number", per_indicator=True, doc="the target, see the bounds rule"),
            "cap_max": Param(False, kind="bool", per_indicator=True)},
    example={"targ": 1.0},
)
def dist2targ(x: np.ndarray, targ, cap_max=False, *, directions: np.ndarray) -> tuple[np.ndarray, Warn]:
    """(x − min)/(targ − min), capped at 1 if ``cap_max`` (``targ`` in own units here: for a reverse indicator
    (max − x)/(max − targ))."""
    t = np.broadcast_to(np.asarray(targ, dtype=np.float64), (x.shape[1],)) * directions
    mn, _ = _minmax_of(x)
    y = _affine(x, mn, t - mn)
    cap = np.broadcast_to(np.asarray(cap_max, dtype=bool), (x.shape[1],))
    if cap.any():
        y[:, cap] = np.minimum(y[:, cap], 1.0)
    warn: Warn = [(int(j), "target is beyond the worst value: scores will be negative") for j in np.flatnonzero(t < mn)]
    return y, warn + _at_bounds(x, t)


@NORMALISERS.register(
    "dist2ref",
    aliases=["n_dist2ref"],
    params={"iref": Param(kind="unit", doc="reference unit: a unit code, or COINr's 1-based row number"),
            "cap_max": Param(False, kind="bool")},
    example={"iref": 1},
)
def dist2ref(x: np.ndarray, iref: int, cap_max: bool = False) -> tuple[np.ndarray, Warn]:
    """1 − (x_ref − x)/(x_ref − min); ``iref`` is the reference row (0-based here, resolved by the stage)."""
    ref = x[iref]
    mn, _ = _minmax_of(x)
    y = _one_minus(x, ref, ref - mn)
    if cap_max:
        np.minimum(y, 1.0, out=y)
    warn = [(int(j), "the reference value is missing: returning NaN") for j in np.flatnonzero(np.isnan(ref))]
    return y, warn


@NORMALISERS.register("dist2max", aliases=["n_dist2max"])
def dist2max(x: np.ndarray) -> tuple[np.ndarray, Warn]:
    """1 − (max − x)/(max − min)."""
    mn, mx = _minmax_of(x)
    y = _one_minus(x, mx, mx - mn)
    return y, _const_warn(mn, mx)


@NORMALISERS.register("fracmax", aliases=["n_fracmax"])
def fracmax(x: np.ndarray) -> np.ndarray:
    """x / max."""
    _, mx = _minmax_of(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.divide(x, mx)


def _rank_min(x: np.ndarray) -> np.ndarray:
    if x.shape[0] == 0:
        return x.copy()
    from scipy.stats import rankdata  # here, not at import: scipy.stats takes ~1 s to import

    return rankdata(x, method="min", axis=0, nan_policy="omit").astype(np.float64)


@NORMALISERS.register("prank", aliases=["n_prank"])
def prank(x: np.ndarray) -> tuple[np.ndarray, Warn]:
    """Percentile rank (rank − 1)/(n − 1), ties = min, NaN kept."""
    n = (~np.isnan(x)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (_rank_min(x) - 1) / (n - 1)
    return y, [(int(j), "fewer than 2 values: percentile rank undefined") for j in np.flatnonzero(n < 2)]


@NORMALISERS.register("rank", aliases=["n_rank"])
def rank(x: np.ndarray) -> np.ndarray:
    """Rank, highest value = highest rank, ties = min, NaN kept."""
    return _rank_min(x)


@NORMALISERS.register("borda", aliases=["n_borda"])
def borda(x: np.ndarray) -> np.ndarray:
    """Borda score rank − 1."""
    return _rank_min(x) - 1


@NORMALISERS.register("none")
def no_normalise(x: np.ndarray) -> np.ndarray:
    """x · direction, unscaled."""
    return x.copy()


# --------------------------------------------------------------------------------------------------
# efficacy function (功效函数) with base-period goalposts
# --------------------------------------------------------------------------------------------------
def _quantile_pair(v):
    return None if 0 <= v[0] < v[1] <= 1 else f"needs 0 <= low < high <= 1, got {tuple(v)}"


_EFFICACY_PARAMS = {
    "lower": Param(None, kind="number", per_indicator=True, nullable=True, doc="lower goalpost (see the bounds rule)"),
    "upper": Param(None, kind="number", per_indicator=True, nullable=True, doc="upper goalpost (see the bounds rule)"),
    "base": Param(None, kind="any", nullable=True, stage=True, doc="base period label, or a frame of base-period data"),
    "base_quantiles": Param((0.0, 1.0), kind="pair", stage=True, check=_quantile_pair),
    "scale": Param(100.0, kind="number"),
    "offset": Param(0.0, kind="number"),
    "trunc": Param(False, kind="bool"),
}


def _efficacy(x, lower, upper, scale, offset, trunc, directions, log: bool) -> tuple[np.ndarray, Warn]:
    m = x.shape[1]
    lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), (m,))
    hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), (m,))
    nat = x * directions  # back to the indicator's own units (directions are ±1)
    warn: Warn = [(int(j), "lower and upper goalposts are equal: returning NaN") for j in np.flatnonzero(lo == hi)]
    with np.errstate(invalid="ignore", divide="ignore"):
        if log:
            f_x, f_lo, f_hi = np.log(nat), np.log(lo), np.log(hi)
        else:
            f_x, f_lo, f_hi = nat, lo, hi
        good, bad = np.where(directions < 0, f_lo, f_hi), np.where(directions < 0, f_hi, f_lo)
        y = (f_x - bad) / (good - bad)
    if trunc:
        y = np.where(y > 1, 1.0, np.where(y < 0, 0.0, y))
    return offset + scale * y, warn + _at_bounds(x, *_flip_interval(lo, hi, directions))


def _efficacy_prepare(data: pd.DataFrame, cols: list[Any], p: dict[str, Any]) -> dict[str, Any]:
    """Goalposts missing per indicator (lower or upper not given) computed from the base period, in own units."""
    p = dict(p)
    base = p.pop("base", None)
    q = p.pop("base_quantiles", (0.0, 1.0))
    lower = np.array(np.broadcast_to(np.asarray(p["lower"], dtype=np.float64), (len(cols),)))
    upper = np.array(np.broadcast_to(np.asarray(p["upper"], dtype=np.float64), (len(cols),)))
    need = np.flatnonzero(np.isnan(lower) | np.isnan(upper))
    if len(need):
        if base is None:
            raise SpecError(
                f"normalise: the efficacy function needs goalposts `lower` and `upper` for {cols[need[0]]!r}, or a "
                "`base` period to compute them from", step=STEP, parameter="base", indicator=cols[need[0]],
            )
        frame = _base_frame(data, base)
        vals = frame[[cols[j] for j in need]].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            qs = np.nanquantile(vals, q, axis=0) if len(vals) else np.full((2, len(need)), np.nan)
        lower[need] = np.where(np.isnan(lower[need]), qs[0], lower[need])
        upper[need] = np.where(np.isnan(upper[need]), qs[1], upper[need])
    p["lower"], p["upper"] = lower, upper
    return p


def _efficacy_validate(log: bool):
    def validate(cols: list[Any], p: dict[str, Any]) -> None:
        lo = np.broadcast_to(np.asarray(p["lower"], dtype=np.float64), (len(cols),))
        hi = np.broadcast_to(np.asarray(p["upper"], dtype=np.float64), (len(cols),))
        for j in np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi))):
            raise SpecError(
                f"normalise: no goalposts for indicator {cols[j]!r} (base period has no data?)", step=STEP,
                parameter="base", indicator=cols[j],
            )
        for j in np.flatnonzero(lo > hi):
            raise SpecError(
                f"normalise: lower goalpost {lo[j]} is above the upper one {hi[j]} in the indicator's own units "
                "(give them in increasing order; see the bounds rule for reverse indicators)", step=STEP,
                parameter="lower", indicator=cols[j],
            )
        if log:
            for j in np.flatnonzero((lo <= 0) | (hi <= 0)):
                raise SpecError(
                    f"normalise: efficacy_log needs positive goalposts in the indicator's own units, got ({lo[j]}, {hi[j]})",
                    step=STEP, parameter="lower", indicator=cols[j],
                )

    return validate


def _base_frame(data: pd.DataFrame, base: Any) -> pd.DataFrame:
    if isinstance(base, pd.DataFrame):
        return base
    if not is_panel(data):
        raise SpecError(
            "normalise: `base` must be a frame of base-period data unless the data is a panel", step=STEP, parameter="base"
        )
    t = data.index.get_level_values(time_level(data))
    if not (t == base).any():
        raise SpecError(f"normalise: base period {base!r} is not in the data", step=STEP, parameter="base")
    return data[np.asarray(t == base)]


@NORMALISERS.register(
    "efficacy_linear",
    aliases=["efficacy", "gongxiao_linear"],
    directional=True,
    params=_EFFICACY_PARAMS,
    prepare=_efficacy_prepare,
    bounds={"lower": "lower", "upper": "upper"},
    imeta={"lower": ("efficacy_lower",), "upper": ("efficacy_upper",)},
    validate=_efficacy_validate(log=False),
    example={"lower": -1.0, "upper": 1.0},
)
def efficacy_linear(x, lower, upper, scale=100.0, offset=0.0, trunc=False, *, directions) -> tuple[np.ndarray, Warn]:
    """Linear efficacy function offset + scale·(x − lower)/(upper − lower) (reverse: (upper − x)/(upper − lower))."""
    return _efficacy(x, lower, upper, scale, offset, trunc, directions, log=False)


@NORMALISERS.register(
    "efficacy_log",
    aliases=["gongxiao_log"],
    directional=True,
    params=_EFFICACY_PARAMS,
    prepare=_efficacy_prepare,
    imeta={"lower": ("efficacy_lower",), "upper": ("efficacy_upper",)},
    validate=_efficacy_validate(log=True),
    example={"lower": 0.5, "upper": 2.0},
    positive=True,
)
def efficacy_log(x, lower, upper, scale=100.0, offset=0.0, trunc=False, *, directions) -> tuple[np.ndarray, Warn]:
    """Log efficacy function offset + scale·(ln x − ln lower)/(ln upper − ln lower) (reverse: roles swapped)."""
    return _efficacy(x, lower, upper, scale, offset, trunc, directions, log=True)


def efficacy_coefficient(actual: float, this_band: float, upper_band: float) -> float:
    """功效系数 of the central-SOE performance rules: (actual − this band's standard)/(upper − this band's)."""
    if upper_band == this_band:
        raise SpecError("efficacy coefficient: the two band standards are equal", step=STEP, parameter="upper_band")
    return (actual - this_band) / (upper_band - this_band)


# --------------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------------


def normalise_output(
    data: pd.DataFrame,
    directions: pd.Series | Mapping[str, int] | None = None,
    method: str = "minmax",
    *,
    indiv: Mapping[str, Any] | None = None,
    scope: str = "global",
    bounds: str = "directed",
    imeta: pd.DataFrame | None = None,
    **params: Any,
) -> StageOutput:
    """As :func:`normalise`, with the warnings."""
    x = as_matrix(data, STEP)
    cols = data.columns.tolist()
    dirs = _directions(directions, cols)
    if scope not in ("global", "period"):
        raise SpecError(f"normalise: scope must be 'global' or 'period', got {scope!r}", step=STEP, parameter="scope")
    if bounds not in BOUNDS:
        raise SpecError(f"normalise: bounds must be one of {', '.join(BOUNDS)}, got {bounds!r}", step=STEP, parameter="bounds")
    plan = _plan(data, method, indiv or {}, params, imeta)
    xd = x  # our own copy: apply the directions in place (x · 1 is x: only reversed columns are touched)
    rev = np.flatnonzero(dirs != 1.0)
    if len(rev) == len(cols):
        xd *= dirs[None, :]
    elif len(rev):
        xd[:, rev] *= dirs[rev][None, :]
    warnings: list[Problem] = []
    chunks = periods(data) if (scope == "period" and is_panel(data)) else [(None, np.arange(len(data)))]
    out = None if (len(chunks) == 1 and len(plan) == 1) else np.full_like(x, np.nan)
    for period, rows in chunks:
        for entry, p, js in plan:
            names = [cols[j] for j in js]
            own = {k for k, v in p.items() if isinstance(v, OwnUnits)}  # read from iMeta: own units
            p = resolve_params(entry, p, STEP, names)
            kinds = entry.meta.get("bounds", {})
            directed = [k for k in kinds if k not in own and bounds == "directed"]
            if directed:
                p = _directed_to_own(p, {k: kinds[k] for k in directed}, dirs[js], names, entry.name)
            if entry.meta.get("prepare"):
                p = entry.meta["prepare"](data, names, p)
            if entry.meta.get("validate"):
                entry.meta["validate"](names, p)
            for name, spec in entry.meta.get("params", {}).items():
                if spec.stage:
                    p.pop(name, None)
                elif spec.kind == "unit":
                    p[name] = _unit_row(data, rows, p[name], entry.name, period)
            if entry.meta.get("positive"):
                bad = xd[np.ix_(rows, js)] * dirs[js] <= 0
                if bad.any():
                    r, c = np.argwhere(bad)[0]
                    raise method_error(
                        STEP, entry.name, f"needs positive values, got {xd[rows[r], js[c]] * dirs[js[c]]}",
                        unit=data.index[rows[r]],
                        indicator=cols[js[c]],
                    )
            if entry.meta.get("directional"):
                p["directions"] = dirs[js]
            whole_rows, whole_cols = len(rows) == len(data), len(js) == len(cols)
            if whole_rows and whole_cols:
                block = xd
            elif whole_rows:
                block = xd[:, js]
            else:
                block = xd[np.ix_(rows, js)]
            res = entry.func(block, **p)
            y, warns = res if isinstance(res, tuple) else (res, [])
            if whole_rows and whole_cols:
                out = np.asarray(y, dtype=np.float64)
            elif whole_rows:
                out[:, js] = y
            else:
                out[np.ix_(rows, js)] = y
            for j, msg, *rule in warns:
                warnings.append(problem(STEP, entry.name, msg, rule=rule[0] if rule else None, indicator=cols[js[j]], period=period))
            warnings += _nonfinite(block, np.asarray(y, dtype=np.float64), entry.name, [cols[j] for j in js],
                                   data.index[rows], {j for j, *_ in warns}, period)
    return StageOutput(like(data, out), warnings=warnings)


def _nonfinite(x: np.ndarray, y: np.ndarray, method: str, names: list[Any], units: pd.Index, warned: set[int],
               period: Any) -> list[Problem]:
    """±Inf anywhere, and NaN where the input had a value (in a column the method gave no warning for), as a
    warning naming the indicator and the units: never silent (e.g. fracmax with a largest value of 0)."""
    if y.size == 0 or all_finite(y):  # the usual case: nothing to say
        return []
    with np.errstate(invalid="ignore"):
        inf = np.isinf(y)
        nan = np.isnan(y) & ~np.isnan(x)
    nan[:, sorted(warned)] = False
    out: list[Problem] = []
    for j in np.flatnonzero(inf.any(axis=0) | nan.any(axis=0)):
        parts, listed = [], []
        for what, mask in (("±Inf", inf[:, j]), ("NaN", nan[:, j])):
            if mask.any():
                u = [str(v) for v in units[mask]]
                listed += u
                parts.append(f"{what} for {len(u)} unit(s): {', '.join(u[:10])}{' …' if len(u) > 10 else ''}")
        why = ""
        if method == "fracmax":
            top = np.nanmax(x[:, j]) + 0.0 if (~np.isnan(x[:, j])).any() else np.nan  # + 0.0: no "-0"
            why = f" (the largest value of x·direction is {top:g}, not > 0)"
        out.append(problem(STEP, method, f"{names[j]}: {method} gives {'; '.join(parts)}{why}", rule="normalise.nonfinite",
                           indicator=names[j], units=listed, period=period))
    return out


def _directions(directions, cols: list[Any]) -> np.ndarray:
    if directions is None:
        return np.ones(len(cols))
    d = directions if isinstance(directions, Mapping) else dict(zip(pd.Series(directions).index.tolist(),
                                                                      pd.Series(directions).tolist(), strict=True))
    missing = [c for c in cols if c not in d]
    if missing:
        raise SpecError(
            f"normalise: no direction for indicator {missing[0]!r}", step=STEP, parameter="directions", indicator=missing[0]
        )
    out = np.array([d[c] for c in cols], dtype=np.float64)  # a dict lookup per column: cheaper than a reindex
    bad = [c for c, v in zip(cols, out, strict=True) if v not in (1.0, -1.0)]
    if bad:
        raise SpecError(
            f"normalise: direction of {bad[0]!r} must be 1 or -1", step=STEP, parameter="directions", indicator=bad[0]
        )
    return out


def _directed_to_own(p: dict[str, Any], kinds: dict[str, str], d: np.ndarray, names: list[Any], method: str) -> dict[str, Any]:
    """Bounds given on x · direction (COINr's convention) as the indicator's own units: a point T → T·d,
    an interval (lo, hi) → (−hi, −lo) for a reverse indicator, a ``lower``/``upper`` pair likewise (NaN, not
    given, stays NaN in its own-unit role). The methods flip them back: this only unifies the two sources."""
    p = dict(p)
    rev = d < 0
    if not rev.any():
        return p
    for name, kind in kinds.items():
        if kind == "point":
            p[name] = np.asarray(p[name], dtype=np.float64) * d
        elif kind == "interval":
            a = np.array(_pair(p[name], len(names)), dtype=np.float64)
            a[:, 0], a[:, 1] = np.where(rev, -a[:, 1], a[:, 0]), np.where(rev, -a[:, 0], a[:, 1])
            p[name] = a
    if "lower" in kinds.values() or "upper" in kinds.values():
        lo_name = next((k for k, v in kinds.items() if v == "lower"), None)
        hi_name = next((k for k, v in kinds.items() if v == "upper"), None)
        if lo_name is None or hi_name is None:
            raise SpecError(
                f"normalise: {method}: give lower and upper the same way for reverse indicators (both in the spec or both "
                "from iMeta)", step=STEP, method=method, parameter=lo_name or hi_name,
            )
        lo = np.broadcast_to(np.asarray(p[lo_name], dtype=np.float64), (len(names),))
        hi = np.broadcast_to(np.asarray(p[hi_name], dtype=np.float64), (len(names),))
        p[lo_name], p[hi_name] = np.where(rev, -hi, lo), np.where(rev, -lo, hi)
    return p


def _from_imeta(imeta: pd.DataFrame | None, entry, name: str, cols: list[Any]) -> OwnUnits:
    """{indicator: value} of the parameter ``name`` of ``entry`` read from iMeta's columns (COINr's names)."""
    columns = entry.meta.get("imeta", {}).get(name)
    if not columns:
        raise SpecError(
            f"normalise method {entry.name!r}: parameter {name!r} cannot be read from iMeta (no iMeta column for it)",
            step=STEP, method=entry.name, parameter=name,
        )
    if imeta is None:
        raise SpecError(
            f"normalise method {entry.name!r}: {name}: use_iMeta needs iMeta, and this data source has none (give "
            "the values in the spec)", step=STEP, method=entry.name, parameter=name,
        )
    spec: Param = entry.meta["params"][name]
    optional = name == "cap_max"  # COINr assumes false when dist2targ_cap_max is absent
    missing_cols = [c for c in columns if c not in imeta.columns]
    if missing_cols and optional:
        return OwnUnits({c: False for c in cols})
    if missing_cols:
        raise SpecError(
            f"normalise method {entry.name!r}: {name}: use_iMeta needs iMeta column(s) {', '.join(missing_cols)}",
            step=STEP, method=entry.name, parameter=name,
        )
    rows = imeta.assign(iCode=imeta["iCode"].astype(str)).drop_duplicates("iCode").set_index("iCode")[list(columns)]
    table = rows.map(_as_bool) if spec.kind == "bool" else rows.apply(pd.to_numeric, errors="coerce")
    out = OwnUnits()
    for code in cols:
        if str(code) not in table.index:
            raise SpecError(f"normalise method {entry.name!r}: {name}: indicator {code!r} has no row in iMeta",
                            step=STEP, method=entry.name, parameter=name, indicator=code)
        vals = table.loc[str(code)]
        bad = [c for c in columns if vals[c] is None or pd.isna(vals[c])]
        if bad:
            what = "true/false" if spec.kind == "bool" else "numeric"
            raise SpecError(
                f"normalise method {entry.name!r}: {name}: iMeta has no {what} value for indicator {code!r} in column "
                f"{', '.join(bad)}", step=STEP, method=entry.name, parameter=name, indicator=code,
            )
        v = [bool(vals[c]) if spec.kind == "bool" else float(vals[c]) for c in columns]
        out[code] = v[0] if len(v) == 1 else tuple(v)
    return out


def _as_bool(v: Any) -> bool | None:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().upper() in ("TRUE", "FALSE", "T", "F"):
        return v.strip().upper() in ("TRUE", "T")
    return None


def _with_imeta(entry, p: Mapping[str, Any], imeta: pd.DataFrame | None, cols: list[Any]) -> dict[str, Any]:
    return {k: (_from_imeta(imeta, entry, k, cols) if isinstance(v, str) and v == IMETA else v) for k, v in p.items()}


def _plan(data: pd.DataFrame, method: str, indiv: Mapping[str, Any], params: dict[str, Any], imeta: pd.DataFrame | None = None):
    cols = data.columns.tolist()
    for code in indiv:
        if code not in cols:
            raise SpecError(f"normalise: indicator {code!r} is not in the data", step=STEP, parameter="indiv", indicator=code)
    g_entry = NORMALISERS.entry(method)
    params = _with_imeta(g_entry, params, imeta, cols)
    _validate(g_entry, params, cols)
    groups: dict[tuple, list] = {}
    for j, code in enumerate(cols):
        spec = indiv.get(code)
        if spec is None:
            entry, p, key = g_entry, params, (g_entry.name, "global")
        elif isinstance(spec, str):
            entry, p, key = NORMALISERS.entry(spec), {}, (spec, "indiv-plain")
        elif isinstance(spec, Mapping):
            spec = dict(spec)
            name = spec.pop("method", spec.pop("f_n", None))
            entry = g_entry if name is None else NORMALISERS.entry(name)
            p = {**params, **_with_imeta(entry, spec, imeta, [code])} if entry is g_entry else _with_imeta(entry, spec, imeta, [code])
            _validate(entry, p, [code])
            key = (entry.name, "indiv", code)
        else:
            raise SpecError(
                f"normalise: individual spec for {code!r} must be a method name or a mapping", step=STEP, parameter="indiv",
                indicator=code,
            )
        groups.setdefault(key, [entry, p, []])[2].append(j)
    return [(entry, p, np.asarray(js)) for entry, p, js in groups.values()]


def _validate(entry, p: dict[str, Any], cols: list[Any]) -> None:
    resolve_params(entry, p, STEP, cols)


def _unit_row(data: pd.DataFrame, rows: np.ndarray, iref: Any, method: str, period: Any) -> int:
    if isinstance(iref, (int, np.integer)) and not isinstance(iref, bool):
        if not 1 <= iref <= len(rows):
            raise SpecError(
                f"normalise: iref {iref} is not a row number in 1..{len(rows)}", step=STEP, method=method, parameter="iref"
            )
        return int(iref) - 1
    labels = data.index[rows]
    if is_panel(data):
        if period is None:
            raise SpecError(
                "normalise: a reference unit on panel data needs scope='period'", step=STEP, method=method, parameter="iref"
            )
        labels = labels.get_level_values(0)
    hits = np.flatnonzero(np.asarray(labels == iref))
    if not len(hits):
        raise SpecError(f"normalise: reference unit {iref!r} is not in the data", step=STEP, method=method, parameter="iref", unit=iref)
    return int(hits[0])


normalise = data_only(
    normalise_output,
    'Normalise every indicator (``x · direction`` first); ``indiv`` = {code: method | {method, params}}; '
    "``bounds``: how given bounds read for a reverse indicator (module doc); ``imeta``: COINr's iMeta for "
    'parameters given as ``"use_iMeta"``. Returns the data set; the warnings are in '
    ':func:`normalise_output`.',
)
