"""Normalisation: bring indicators onto a common scale, as COINr's ``Normalise()``, plus the efficacy function.

As in COINr every method sees ``x · direction`` (direction = +1, or −1 for a reverse indicator), so that
"higher is better" afterwards. Methods whose parameters are in the indicator's own units (``goalposts``,
``dist2targ``, ``efficacy_*``) flip those parameters for reverse indicators exactly as COINr's
``use_iMeta`` route does: a target T becomes −T, goalposts (lo, hi) become (−hi, −lo).

COINr's eleven (``n_*``): ``minmax`` ``(x − min)/(max − min)·(u − l) + l`` (``l_u`` = (0, 100));
``zscore`` ``(x − mean)/sd·s + m`` (``m_sd`` = (0, 1), sample sd); ``scaled`` ``(x − l)/(u − l)·scale_factor``
(``npara`` applies to ``x · direction``, as in COINr); ``goalposts`` ``(x − lo)/(hi − lo)`` truncated to
[0, 1] (``trunc2posts``) times ``scale``; ``dist2targ`` ``(x − min)/(targ − min)``, capped at 1 with
``cap_max``; ``dist2ref`` ``1 − (x_ref − x)/(x_ref − min)`` with the reference unit ``iref`` (a unit code,
or COINr's 1-based row number); ``dist2max`` ``1 − (max − x)/(max − min)``; ``fracmax`` ``x/max``;
``prank`` ``(rank − 1)/(n − 1)``; ``rank``; ``borda`` ``rank − 1`` (ranks with ties = min, NaN kept);
and ``none``.

Efficacy function (功效函数 / 功效系数), with goalposts that can be frozen on a base period so that
scores stay comparable across years (PKU Digital Financial Inclusion Index style):
``efficacy_linear`` ``offset + scale·(x − lower)/(upper − lower)`` and ``efficacy_log``
``offset + scale·(ln x − ln lower)/(ln upper − ln lower)``; for a reverse indicator the roles of
``lower`` and ``upper`` swap. ``lower``/``upper`` are given per indicator, or computed once from the base
period (``base`` = a period label of the panel, or a frame of base-period data) as its
``base_quantiles`` (default (0, 1): min and max). Not truncated unless ``trunc=True``, so later years may
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

from ..engine.output import StageOutput
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

STEP = "normalise"
NORMALISERS = Registry(STEP)

Warn = list[tuple[int, str]]


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


# --------------------------------------------------------------------------------------------------
# COINr's normalisers: f(x, **params) -> y or (y, warnings); x = data · direction, column-wise
# --------------------------------------------------------------------------------------------------
@NORMALISERS.register(
    "minmax", aliases=["n_minmax"], params={"l_u": Param((0.0, 100.0), kind="pair", per_indicator=True)}
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
        mean = np.add.reduce(x, axis=0, where=~missing) / n
        d = np.subtract(x, mean)
        np.multiply(d, d, out=d)
        sd = np.sqrt(np.add.reduce(d, axis=0, where=~missing) / (n - 1))
        del d
        y = _affine(x, mean, sd, msd[:, 1], msd[:, 0])
    warn = [(int(j), "standard deviation is zero or undefined: returning NaN") for j in np.flatnonzero(~(sd > 0))]
    return y, warn


@NORMALISERS.register(
    "scaled",
    aliases=["n_scaled"],
    params={
        "npara": Param((0.0, 100.0), kind="pair", per_indicator=True, check=_PAIR_ORDERED),
        "scale_factor": Param(100.0, kind="number"),
    },
)
def scaled(x: np.ndarray, npara=(0.0, 100.0), scale_factor: float = 100.0) -> np.ndarray:
    """(x − l)/(u − l)·scale_factor with fixed external bounds (applied to x · direction, as COINr)."""
    lu = _pair(npara, x.shape[1])
    return _affine(x, lu[:, 0], lu[:, 1] - lu[:, 0], scale_factor)


@NORMALISERS.register(
    "goalposts",
    aliases=["n_goalposts"],
    directional=True,
    params={
        "gposts": Param(
            kind="triple", per_indicator=True,
            check=lambda v: None if v[0] < v[1] else f"needs lower < upper goalpost, got {tuple(v)}",
            doc="(lower, upper, scale) in the indicator's own units",
        ),
        "trunc2posts": Param(True, kind="bool"),
    },
    example={"gposts": (-1.0, 1.0, 100.0)},
)
def goalposts(x: np.ndarray, gposts, trunc2posts: bool = True, *, directions: np.ndarray) -> np.ndarray:
    """(x − lo)/(hi − lo), truncated to [0, 1], times scale; reverse indicators: (hi − x)/(hi − lo)."""
    gp = _pair(gposts, x.shape[1])
    lo = np.where(directions < 0, -gp[:, 1], gp[:, 0])
    hi = np.where(directions < 0, -gp[:, 0], gp[:, 1])
    y = _affine(x, lo, hi - lo)
    if trunc2posts:
        np.clip(y, 0.0, 1.0, out=y)
    y *= gp[:, 2]
    return y


@NORMALISERS.register(
    "dist2targ",
    aliases=["n_dist2targ"],
    directional=True,
    params={"targ": Param(kind="number", per_indicator=True, doc="target in the indicator's own units"),
            "cap_max": Param(False, kind="bool")},
    example={"targ": 1.0},
)
def dist2targ(x: np.ndarray, targ, cap_max: bool = False, *, directions: np.ndarray) -> tuple[np.ndarray, Warn]:
    """(x − min)/(targ − min), capped at 1 if ``cap_max`` (for reverse indicators: (max − x)/(max − targ))."""
    t = np.broadcast_to(np.asarray(targ, dtype=np.float64), (x.shape[1],)) * directions
    mn, _ = _minmax_of(x)
    y = _affine(x, mn, t - mn)
    if cap_max:
        np.minimum(y, 1.0, out=y)
    warn = [(int(j), "target is beyond the worst value: scores will be negative") for j in np.flatnonzero(t < mn)]
    return y, warn


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
    "lower": Param(None, kind="number", per_indicator=True, nullable=True, doc="lower goalpost (own units)"),
    "upper": Param(None, kind="number", per_indicator=True, nullable=True, doc="upper goalpost (own units)"),
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
    return offset + scale * y, warn


def _efficacy_prepare(log: bool):
    def prepare(data: pd.DataFrame, cols: list[Any], p: dict[str, Any]) -> dict[str, Any]:
        p = dict(p)
        p.setdefault("lower", None)
        p.setdefault("upper", None)
        base = p.pop("base", None)
        q = p.pop("base_quantiles", (0.0, 1.0))
        if p["lower"] is None or p["upper"] is None:
            if base is None:
                raise SpecError(
                    "normalise: the efficacy function needs goalposts `lower` and `upper`, or a `base` period to "
                    "compute them from", step=STEP, parameter="base",
                )
            frame = _base_frame(data, base)
            vals = frame[cols].to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                qs = np.nanquantile(vals, q, axis=0) if len(vals) else np.full((2, len(cols)), np.nan)
            lower = qs[0] if p["lower"] is None else p["lower"]
            upper = qs[1] if p["upper"] is None else p["upper"]
            p["lower"], p["upper"] = lower, upper
        return p

    return prepare


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
                f"normalise: lower goalpost {lo[j]} is above the upper one {hi[j]} (for a reverse indicator the "
                "direction swaps them; give them in increasing order)", step=STEP, parameter="lower", indicator=cols[j],
            )
        if log:
            for j in np.flatnonzero((lo <= 0) | (hi <= 0)):
                raise SpecError(
                    f"normalise: efficacy_log needs positive goalposts, got ({lo[j]}, {hi[j]})", step=STEP,
                    parameter="lower", indicator=cols[j],
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
    prepare=_efficacy_prepare(log=False),
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
    prepare=_efficacy_prepare(log=True),
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
def normalise(
    data: pd.DataFrame,
    directions: pd.Series | Mapping[str, int] | None = None,
    method: str = "minmax",
    *,
    indiv: Mapping[str, Any] | None = None,
    scope: str = "global",
    **params: Any,
) -> pd.DataFrame:
    """Normalise every indicator (``x · direction`` first); ``indiv`` = {code: method | {method, params}}.
    The warnings are in :func:`normalise_output`."""
    return normalise_output(data, directions, method, indiv=indiv, scope=scope, **params).data


def normalise_output(
    data: pd.DataFrame,
    directions: pd.Series | Mapping[str, int] | None = None,
    method: str = "minmax",
    *,
    indiv: Mapping[str, Any] | None = None,
    scope: str = "global",
    **params: Any,
) -> StageOutput:
    """As :func:`normalise`, with the warnings."""
    x = as_matrix(data, STEP)
    cols = data.columns.tolist()
    dirs = _directions(directions, cols)
    if scope not in ("global", "period"):
        raise SpecError(f"normalise: scope must be 'global' or 'period', got {scope!r}", step=STEP, parameter="scope")
    plan = _plan(data, method, indiv or {}, params)
    xd = x  # our own copy: apply the directions in place
    xd *= dirs[None, :]
    warnings: list[Problem] = []
    chunks = periods(data) if (scope == "period" and is_panel(data)) else [(None, np.arange(len(data)))]
    out = None if (len(chunks) == 1 and len(plan) == 1) else np.full_like(x, np.nan)
    for period, rows in chunks:
        for entry, p, js in plan:
            names = [cols[j] for j in js]
            p = dict(p)
            if entry.meta.get("prepare"):
                p = entry.meta["prepare"](data, names, p)
            p = resolve_params(entry, p, STEP, names)
            if entry.meta.get("validate"):
                entry.meta["validate"](names, p)
            for name, spec in entry.meta.get("params", {}).items():
                if spec.stage:
                    p.pop(name)
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
            for j, msg in warns:
                warnings.append(problem(STEP, entry.name, msg, indicator=cols[js[j]], period=period))
    return StageOutput(like(data, out), warnings=warnings)


def _directions(directions, cols: list[Any]) -> np.ndarray:
    if directions is None:
        return np.ones(len(cols))
    d = pd.Series(directions)
    missing = [c for c in cols if c not in d.index]
    if missing:
        raise SpecError(
            f"normalise: no direction for indicator {missing[0]!r}", step=STEP, parameter="directions", indicator=missing[0]
        )
    out = d.reindex(cols).to_numpy(dtype=np.float64)
    bad = [c for c, v in zip(cols, out, strict=True) if v not in (1.0, -1.0)]
    if bad:
        raise SpecError(
            f"normalise: direction of {bad[0]!r} must be 1 or -1", step=STEP, parameter="directions", indicator=bad[0]
        )
    return out


def _plan(data: pd.DataFrame, method: str, indiv: Mapping[str, Any], params: dict[str, Any]):
    cols = data.columns.tolist()
    for code in indiv:
        if code not in cols:
            raise SpecError(f"normalise: indicator {code!r} is not in the data", step=STEP, parameter="indiv", indicator=code)
    g_entry = NORMALISERS.entry(method)
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
            p = {**params, **spec} if entry is g_entry else spec
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
