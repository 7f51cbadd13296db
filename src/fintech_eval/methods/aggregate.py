"""Aggregation: indicators up the tree to the index, with a method per level *or per node*.

``aggregate(data, tree, method=..., weights=..., dat_thresh=..., params=..., not_applicable=...)`` returns
COINr's *Aggregated* layout: the indicator columns, then every aggregate column level by level (within a
level sorted by code as COINr's ``tapply`` does, or in tree order with ``order="tree"``).

Every node aggregator has one contract, vectorised over units::

    f(x, w, **params) -> y
    x: (n_units, n_children) float64, NaN = missing or not applicable
    w: (n_children,) relative weights (from the tree or the ``weights`` argument); a row method may also
       get (V, n_children): V weight variants whose units are stacked in V equal blocks (:func:`aggregate_many`)
    y: (n_units,) float64

Row methods (amean, gmean, hmean, genmean) drop NaN cells and renormalise the remaining weights per unit, as
COINr's ``a_amean``/``a_gmean``/``a_hmean`` do; whole-frame methods (copeland, topsis) see all units at once.

Beyond COINr 1.1.14:

* a different method per node (COINr issue #35), e.g. ``method={2: "amean", "Sust": "gmean"}``;
* ``gmean``/``hmean``/``genmean`` take an explicit ``zero_policy`` ("error" names the node, the units and
  the indicators; "shift" adds a constant to every value of the node and subtracts it from the result;
  "nan" leaves those units' aggregate missing) — COINr stops on the zeros of 0-100 min-max (issue #47);
* TOPSIS with an explicit normalisation ("vector" or "minmax") and directions;
* *not applicable* cells (a bank-only indicator for an insurer) are left out of that unit's aggregate with the
  sibling weights renormalised and do not count against ``dat_thresh``; a node whose children are all not
  applicable is itself not applicable one level up. The report lists the units affected per node;
* ``dat_thresh`` applies to whole-frame methods too (COINr silently ignores it when ``by_df = TRUE``).

COINr details reproduced: Copeland's lower triangle is ``1 - upper`` even when a NaN made a comparison count
for nobody. Sums are correctly rounded (:mod:`._exact`): the means' ``Σ w x`` and ``Σ w``, and Copeland's
test against 0.5, which is exact (COINr sums rescaled weights in long double), so values equal in exact
arithmetic stay equal (ties stay ties). One COINr quirk is opt-in only:
``a_genmean`` does not skip NaNs (one missing child makes the aggregate NA); ``genmean(na_rm=False)`` does that,
the default skips them like the other means.

What was done per node (:class:`AggregationReport`) and the warnings (units set missing by ``dat_thresh`` or a
zero policy) come with :func:`aggregate_output`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..engine.output import StageOutput, data_only
from ..engine.tree import Tree
from ..errors import DataError, MethodError, Problem, SpecError, first_of
from ..registry import Registry
from ._exact import dot_rows, sum_rows
from ._frame import Param

AGGREGATORS = Registry("aggregate")

ZERO_POLICIES = ("error", "shift", "nan")
_ZERO_PARAMS = {
    "zero_policy": Param("error", kind="choice", choices=ZERO_POLICIES),
    "shift": Param(1.0, kind="number"),
}


class NodeProblem(Exception):
    """Raised by a node aggregator for bad input; :func:`aggregate` turns it into a :class:`MethodError`
    naming the node, the units and the child indicators (``cells`` is an (n_units, n_children) mask)."""

    def __init__(self, message: str, cells: np.ndarray, rule: str):
        super().__init__(message)
        self.message = message
        self.cells = cells
        self.rule = rule


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------
def _masked_weights(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(n, k) weights with 0 where x is NaN."""
    return np.where(np.isnan(x), 0.0, np.asarray(w, float))


def _wmean(t: np.ndarray, w: np.ndarray, miss: np.ndarray) -> np.ndarray:
    """Row-wise ``Σ w t / Σ w`` over the cells not in ``miss`` (NaN where no weight is left).

    Both sums are correctly rounded (:mod:`._exact`), so units whose means are equal in exact arithmetic get
    equal means (with equal weights: ``Σ t / count``, the weights cancel exactly).

    ``w``: (k,), or (V, k) for V weight variants stacked along the rows in equal blocks
    (:func:`aggregate_many`); each row is computed as it would be alone with its variant's (k,) weights."""
    any_miss = miss.any()
    t = np.where(miss, 0.0, t) if any_miss else t
    with np.errstate(invalid="ignore", divide="ignore"):
        if w.ndim == 1:
            if (w == w[0]).all() and w[0] > 0:
                return sum_rows(t) / (t.shape[1] - miss.sum(axis=1))
            W = np.where(miss, 0.0, w) if any_miss else w
            return dot_rows(t, W) / (sum_rows(W) if W.ndim == 2 else sum_rows(W[None, :]))
        # (V, k): V weight variants, the rows in V equal blocks (variant v: rows v·n … v·n + n − 1);
        # each block takes the route its variant would take alone
        v_n, n_rows = w.shape[0], t.shape[0]
        n = n_rows // v_n
        eq = (w == w[:, :1]).all(axis=1) & (w[:, 0] > 0)
        if eq.all():
            return sum_rows(t) / (t.shape[1] - miss.sum(axis=1))
        out = np.empty(n_rows)
        rows = np.repeat(eq, n)
        if eq.any():
            out[rows] = sum_rows(t[rows]) / (t.shape[1] - miss[rows].sum(axis=1))
            rows = ~rows
            t, miss, w = t[rows], miss[rows], w[~eq]
        else:
            rows = slice(None)
        W = np.repeat(w, n, axis=0)
        if any_miss:
            W[miss] = 0.0
            out[rows] = dot_rows(t, W) / sum_rows(W)
        else:
            out[rows] = dot_rows(t, W) / np.repeat(sum_rows(w), n)
        return out


def _apply_zero_policy(
    x: np.ndarray, bad: np.ndarray, zero_policy: str, shift: float, what: str, method: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Returns (x, rows to set NaN, shift applied)."""
    if zero_policy not in ZERO_POLICIES:
        raise SpecError(
            f"zero_policy must be one of {', '.join(ZERO_POLICIES)}, got {zero_policy!r}",
            step="aggregate",
            parameter="zero_policy",
        )
    n = x.shape[0]
    if zero_policy == "shift":
        x = x + float(shift)
        bad_after = _bad_after_shift(x, method)
        if bad_after.any():
            raise NodeProblem(
                f"{what} even after shifting by {shift}; use a larger shift", bad_after, f"aggregate.{method}.domain"
            )
        return x, np.zeros(n, bool), float(shift)
    if bad.any():
        if zero_policy == "error":
            raise NodeProblem(
                f"{what}; set zero_policy='shift' (with shift=c) or 'nan', or normalise away from 0",
                bad,
                f"aggregate.{method}.domain",
            )
        return np.where(bad, np.nan, x), bad.any(axis=1), 0.0
    return x, np.zeros(n, bool), 0.0


def _bad_after_shift(x: np.ndarray, method: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (x == 0) if method == "hmean" else (x <= 0)


# --------------------------------------------------------------------------------------------------------
# row methods
# --------------------------------------------------------------------------------------------------------
@AGGREGATORS.register("amean", aliases=["a_amean", "arithmetic", "mean"], kind="row", params={})
def amean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted arithmetic mean ``Σ w x / Σ w`` over the available cells of each unit (COINr ``a_amean``:
    NaNs and their weights dropped, remaining weights renormalised)."""
    return _wmean(x, np.asarray(w, float), np.isnan(x))


@AGGREGATORS.register("gmean", aliases=["a_gmean", "geometric"], kind="row", params=_ZERO_PARAMS)
def gmean(x: np.ndarray, w: np.ndarray, zero_policy: str = "error", shift: float = 1.0) -> np.ndarray:
    """Weighted geometric mean ``exp(Σ w ln x / Σ w)`` over available cells (COINr ``a_gmean``); needs x > 0.

    ``zero_policy``: "error" (default; COINr stops too), "shift" (``gmean(x + shift) - shift`` for every unit
    of the node, so scores keep their scale), or "nan" (units with a value <= 0 get NaN)."""
    with np.errstate(invalid="ignore"):
        bad = x <= 0
    x, nan_rows, c = _apply_zero_policy(x, bad, zero_policy, shift, "zero or negative values", "gmean")
    miss = np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.exp(_wmean(np.log(np.where(miss, 1.0, x)), np.asarray(w, float), miss))
    y = y - c
    y[nan_rows] = np.nan
    return y


@AGGREGATORS.register("hmean", aliases=["a_hmean", "harmonic"], kind="row", params=_ZERO_PARAMS)
def hmean(x: np.ndarray, w: np.ndarray, zero_policy: str = "error", shift: float = 1.0) -> np.ndarray:
    """Weighted harmonic mean ``Σ w / Σ (w / x)`` over available cells (COINr ``a_hmean``); needs x != 0.
    ``zero_policy`` as for :func:`gmean`."""
    bad = x == 0
    x, nan_rows, c = _apply_zero_policy(x, bad, zero_policy, shift, "zero values", "hmean")
    miss = np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = 1.0 / _wmean(1.0 / np.where(miss, 1.0, x), np.asarray(w, float), miss)
    y = y - c
    y[nan_rows] = np.nan
    return y


@AGGREGATORS.register(
    "genmean", aliases=["a_genmean", "power_mean"], kind="row", example={"p": 2.0},
    params={"p": Param(kind="number", doc="the power"), **_ZERO_PARAMS, "na_rm": Param(True, kind="bool")},
)
def genmean(
    x: np.ndarray, w: np.ndarray, p: float, zero_policy: str = "error", shift: float = 1.0, na_rm: bool = True
) -> np.ndarray:
    """Weighted generalised (power) mean ``(Σ w x^p / Σ w)^(1/p)`` (COINr ``a_genmean``), p != 0.

    With p < 0 values must be > 0 (``zero_policy`` as for :func:`gmean`); with non-integer p > 0 they must be
    >= 0. COINr's ``a_genmean`` does not drop NaNs (one missing child makes the aggregate NA); we drop them
    like the other means unless ``na_rm=False``."""
    p = float(p)
    if p == 0:
        raise SpecError("genmean with p = 0 is the geometric mean: use method 'gmean'", step="aggregate", parameter="p")
    with np.errstate(invalid="ignore"):
        if p < 0:
            bad = x <= 0
        elif not float(p).is_integer():
            bad = x < 0
        else:
            bad = np.zeros(x.shape, bool)
    what = "zero or negative values with p < 0" if p < 0 else "negative values with a non-integer p"
    x, nan_rows, c = _apply_zero_policy(x, bad, zero_policy, shift, what, "genmean")
    miss = np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        y = np.power(_wmean(np.power(np.where(miss, 1.0, x), p), np.asarray(w, float), miss), 1.0 / p)
    if not na_rm:
        y[np.isnan(x).any(axis=1)] = np.nan
    y = y - c
    y[nan_rows] = np.nan
    return y


# --------------------------------------------------------------------------------------------------------
# whole-frame methods
# --------------------------------------------------------------------------------------------------------
def outrank_matrix(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """COINr's ``outrankMatrix``: entry (i, j), i < j, is the weight share of the indicators on which unit i
    beats unit j plus half the share of ties (weights rescaled to sum 1 over all the group's indicators;
    comparisons with a NaN count for nobody); below the diagonal (i > j) it is ``1 - (j, i)``; the diagonal is 0.

    The shares as COINr computes them: the two partial sums accumulated in extended precision and in column
    order as R's ``sum`` does, then combined as ``sum(a, b/2)``. :func:`copeland` does not compare these with
    0.5 but decides each pair exactly (:func:`outrank_signs`)."""
    x = np.asarray(x, float)
    n, k = x.shape
    w = np.asarray(w, float)
    w = w / np.nansum(w)
    wl = w.astype(np.longdouble)
    up = np.empty((n, n))
    block = max(1, int(2_000_000 // max(1, n * k)))
    for s in range(0, n, block):
        xi = x[s : s + block, None, :]
        gt = xi > x[None, :, :]
        eq = xi == x[None, :, :]
        a = np.where(gt, wl, 0).cumsum(axis=-1)[..., -1].astype(float)
        b = np.where(eq, wl, 0).cumsum(axis=-1)[..., -1].astype(float) / 2
        up[s : s + block] = (a.astype(np.longdouble) + b.astype(np.longdouble)).astype(float)
    orm = np.triu(up, 1)
    orm = orm + np.tril(1.0 - orm.T, -1)
    return orm


def outrank_signs(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The outranking matrix mapped to +1 (> 0.5), -1 (< 0.5) and 0 (exactly 0.5), decided in exact arithmetic.

    Entry (i, j), i < j, is the sign of ``D = Σ w·(2·[x_i > x_j] + [x_i = x_j] − 1)`` (``D > 0`` ⇔ the share
    is above 0.5; a comparison with a NaN gives −w, counting for nobody as in COINr), summed exactly
    (:mod:`._exact`), so a weighted tie that is 0.5 in exact arithmetic scores 0 whatever the weights; the
    lower triangle is minus the upper (COINr's ``1 − upper``), the diagonal 0."""
    x = np.asarray(x, float)
    n, k = x.shape
    w = np.asarray(w, float)
    w = np.where(np.isnan(w), 0.0, w)
    out = np.zeros((n, n))
    iu, ju = np.triu_indices(n, 1)
    block = max(1, int(2_000_000 // max(1, k)))
    for s in range(0, len(iu), block):
        i, j = iu[s : s + block], ju[s : s + block]
        a, b = x[i], x[j]
        d = sum_rows(np.where(a > b, w, np.where(a == b, 0.0, -w)))
        sg = np.sign(d)
        out[i, j] = sg
        out[j, i] = -sg
    return out


@AGGREGATORS.register("copeland", aliases=["a_copeland", "outranking"], kind="frame", params={})
def copeland(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Copeland scores as COINr 1.1.14 ``a_copeland``: the outranking shares are mapped to +1 (> 0.5), -1
    (< 0.5) and 0 (== 0.5, i.e. a weighted tie), diagonal 0, and summed over each row. The comparison with 0.5
    is exact (:func:`outrank_signs`; COINr compares a long-double sum of the rescaled weights). Scores are
    integers in [-(n-1), n-1]; the weights enter only through the outranking shares."""
    return outrank_signs(x, w).sum(axis=1)


TOPSIS_NORMALISATIONS = ("vector", "minmax")


def _directions_vector(directions: Mapping[str, int] | Any, k: int, codes: list[str] | None) -> np.ndarray:
    if directions is None:
        return np.ones(k)
    if isinstance(directions, Mapping):
        if codes is None:
            raise SpecError("TOPSIS directions given by code need the criteria codes", step="aggregate",
                            parameter="directions")
        unknown = sorted(set(map(str, directions)) - set(codes))
        if unknown:
            raise SpecError(f"TOPSIS directions for unknown criteria: {', '.join(unknown)}", step="aggregate",
                            parameter="directions")
        d = np.array([float(directions.get(c, 1)) for c in codes])
    else:
        d = np.asarray(list(directions), float)
        if d.shape != (k,):
            raise SpecError(f"TOPSIS directions: expected {k} values, got {d.size}", step="aggregate",
                            parameter="directions")
    if not np.isin(d, (1.0, -1.0)).all():
        raise SpecError("TOPSIS directions must be +1 or -1", step="aggregate", parameter="directions")
    return d


@AGGREGATORS.register(
    "topsis", aliases=["TOPSIS"], kind="frame", wants_codes=True,
    params={
        "normalisation": Param("vector", kind="choice", choices=("vector", "minmax")),
        "directions": Param(None, kind="any", nullable=True, doc="child code → 1 or -1"),
        "scale": Param(1.0, kind="number"),
    },
)
def topsis_node(
    x: np.ndarray,
    w: np.ndarray,
    normalisation: str = "vector",
    directions: Mapping[str, int] | None = None,
    scale: float = 1.0,
    codes: list[str] | None = None,
) -> np.ndarray:
    """TOPSIS closeness ``D- / (D+ + D-)`` (Hwang & Yoon 1981; Opricovic & Tzeng 2004, EJOR 156(2):445-455).

    ``normalisation``: "vector" ``x / sqrt(Σ x²)`` (the textbook form common in China; directions pick the ideal
    as max or min) or "minmax" ``(x - min)/(max - min)``, reverse criteria flipped ``(max - x)/(max - min)``.
    Distances are weighted Euclidean ``sqrt(Σ (w (r - r*))²)`` with the weights renormalised over each unit's
    available cells. ``directions`` maps child code → ±1 (default all +1: data already direction-adjusted).
    Result × ``scale``."""
    if normalisation not in TOPSIS_NORMALISATIONS:
        raise SpecError(
            f"TOPSIS normalisation must be one of {', '.join(TOPSIS_NORMALISATIONS)}, got {normalisation!r}",
            step="aggregate",
            parameter="normalisation",
        )
    d = _directions_vector(directions, x.shape[1], codes)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalisation == "vector":
            norm = np.sqrt(np.nansum(x * x, axis=0))
            r = np.where(norm > 0, x / np.where(norm > 0, norm, 1.0), 0.0)
            r = np.where(np.isnan(x), np.nan, r)
            hi, lo = np.nanmax(r, axis=0), np.nanmin(r, axis=0)
            best = np.where(d > 0, hi, lo)
            worst = np.where(d > 0, lo, hi)
        else:
            lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
            rng = hi - lo
            r = np.where(d > 0, x - lo, hi - x) / np.where(rng > 0, rng, 1.0)
            r = np.where(rng > 0, r, 1.0)
            r = np.where(np.isnan(x), np.nan, r)
            best = np.nanmax(r, axis=0)
            worst = np.nanmin(r, axis=0)
        W = _masked_weights(r, w)
        W = W / W.sum(axis=1, keepdims=True)
        dp = np.sqrt(np.nansum((W * (r - best)) ** 2, axis=1))
        dm = np.sqrt(np.nansum((W * (r - worst)) ** 2, axis=1))
        c = dm / (dp + dm)
    c[np.isnan(x).all(axis=1)] = np.nan
    return c * float(scale)


def topsis(
    data: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series | None = None,
    directions: Mapping[str, int] | pd.Series | None = None,
    normalisation: str = "vector",
) -> pd.Series:
    """TOPSIS closeness of each unit (row) over the criteria (columns); see :func:`topsis_node`.

    >>> x = pd.DataFrame({"cost": [1, 2, 5], "benefit": [3000, 3750, 4500]}, index=["A1", "A2", "A3"])
    >>> topsis(x, directions={"cost": -1}, normalisation="minmax").round(3).tolist()
    [0.5, 0.617, 0.5]
    """
    cols = [str(c) for c in data.columns.tolist()]
    w = np.ones(len(cols)) if weights is None else np.array([float(pd.Series(weights)[c]) for c in cols])
    dirs = None if directions is None else {str(k): int(v) for k, v in dict(directions).items()}
    y = topsis_node(data.to_numpy(float), w, normalisation=normalisation, directions=dirs, codes=cols)
    return pd.Series(y, index=data.index, name="topsis")


# --------------------------------------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AggregationReport:
    """What :func:`aggregate` did, per aggregate node (only nodes/units with something to say are listed)."""

    methods: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_applicable: dict[str, list[str]] = field(default_factory=dict)
    """node → units whose aggregate left out not-applicable children (sibling weights renormalised)."""
    node_not_applicable: dict[str, list[str]] = field(default_factory=dict)
    """node → units for which every child is not applicable (so the node itself is not applicable)."""
    below_threshold: dict[str, list[str]] = field(default_factory=dict)
    """node → units set to NaN because their availability within the group was below dat_thresh."""
    set_missing: dict[str, list[str]] = field(default_factory=dict)
    """node → units set to NaN by ``zero_policy="nan"``."""

    def to_frame(self) -> pd.DataFrame:
        """One row per aggregate node: method, parameters, and how many units each adjustment touched."""
        nodes = list(self.methods)
        return pd.DataFrame(
            {
                "method": [self.methods[n] for n in nodes],
                "params": [repr(self.params[n]) if n in self.params else "" for n in nodes],
                "n_not_applicable": [len(self.not_applicable.get(n, [])) for n in nodes],
                "n_node_not_applicable": [len(self.node_not_applicable.get(n, [])) for n in nodes],
                "n_below_threshold": [len(self.below_threshold.get(n, [])) for n in nodes],
                "n_set_missing": [len(self.set_missing.get(n, [])) for n in nodes],
            },
            index=pd.Index(nodes, name="node"),
        )

    def warnings(self) -> list[Problem]:
        """One problem per node whose aggregate was set missing for some units (data threshold, zero policy)."""
        out: list[Problem] = []
        for rule, what, table in (
            ("aggregate.dat_thresh", "too few of its children have data (dat_thresh)", self.below_threshold),
            ("aggregate.zero_policy", "a child value is outside the method's domain (zero_policy nan)", self.set_missing),
        ):
            for node, units in table.items():
                shown = first_of(units)
                out.append(Problem(rule, f"{node} left missing for {len(units)} unit(s): {what}: {shown}",
                                   {"step": "aggregate", "node": node, "units": list(units)}))
        return out

    def affected_units(self) -> list[str]:
        """Units whose score involved a not-applicable adjustment anywhere in the tree."""
        seen: dict[str, None] = {}
        for units in (*self.not_applicable.values(), *self.node_not_applicable.values()):
            seen.update(dict.fromkeys(units))
        return list(seen)


def _sort_key(code: str) -> tuple[str, str]:
    # R's sort() in an English locale: case-insensitive first, then case.
    return (code.casefold(), code)


def _resolve_per_node(spec: Any, node: str, level: int, default: Any) -> Any:
    if not isinstance(spec, Mapping):
        return spec
    if node in spec:
        return spec[node]
    if level in spec:
        return spec[level]
    if str(level) in spec:
        return spec[str(level)]
    return spec.get("default", default)


def _check_spec_keys(spec: Any, tree: Tree, nodes: set[str], what: str) -> None:
    if not isinstance(spec, Mapping):
        return
    levels = set(range(2, tree.n_levels + 1))
    for key in spec:
        if key == "default" or key in nodes or key in levels or (isinstance(key, str) and key.isdigit() and int(key) in levels):
            continue
        if isinstance(key, int):
            raise SpecError(f"{what}: level {key} is not an aggregation level (2..{tree.n_levels})",
                            step="aggregate", parameter=what)
        raise SpecError(f"{what}: {key!r} is neither an aggregation level nor an aggregate node",
                        step="aggregate", parameter=what)


def _split_method_spec(m: Any, node: str) -> tuple[str, dict[str, Any]]:
    if isinstance(m, str):
        return m, {}
    if isinstance(m, Mapping) and "method" in m:
        extra = {k: v for k, v in m.items() if k != "method"}
        return str(m["method"]), extra
    raise SpecError(f"method for node {node} must be a name or {{'method': name, ...params}}, got {m!r}",
                    step="aggregate", parameter="method", node=node)


def _node_params(params: Mapping[Any, Any] | None, nodes: set[str], node: str, level: int, method: str) -> dict[str, Any]:
    if not params:
        return {}
    out: dict[str, Any] = {}
    by_method: dict[str, Any] = {}
    flat: dict[str, Any] = {}
    for key, val in params.items():
        if isinstance(key, int) or key in nodes or (isinstance(key, str) and key.isdigit()):
            continue
        if isinstance(key, str) and key in AGGREGATORS and isinstance(val, Mapping):
            if AGGREGATORS.entry(key).name == method:
                by_method.update(val)
            continue
        flat[key] = val
    out.update(by_method)
    out.update(flat)
    for key in (level, str(level), node):
        val = params.get(key)
        if val is not None:
            if not isinstance(val, Mapping):
                raise SpecError(f"params[{key!r}] must be a mapping of parameter names to values",
                                step="aggregate", parameter="params", node=node)
            out.update(val)
    return out


@functools.lru_cache(maxsize=256)
def _signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func)


def _validate_params(func: Callable[..., Any], params: tuple[str, ...], node: str, method: str) -> None:
    sig = _signature(func)
    allowed = [p for p in list(sig.parameters)[2:] if p != "codes"]
    for name in params:
        if name not in allowed:
            raise SpecError(
                f"method {method} at node {node} has no parameter {name!r}"
                + (f"; it takes {', '.join(allowed)}" if allowed else "; it takes none")
                + " (key params by method name, level or node to give a parameter to some nodes only)",
                step="aggregate",
                parameter=name,
                node=node,
            )
    missing = [
        p.name
        for p in list(sig.parameters.values())[2:]
        if p.default is inspect.Parameter.empty and p.name not in params and p.name != "codes"
    ]
    if missing:
        raise SpecError(f"method {method} at node {node} needs parameter(s) {', '.join(missing)}",
                        step="aggregate", parameter=missing[0], node=node)




@dataclass(frozen=True)
class _NodePlan:
    node: str
    kids: list[str]
    idx: list[int]  # the children's rows in the values array
    row: int  # the node's row
    entry: Any
    params: dict[str, Any]
    thr: float | None


@dataclass(frozen=True)
class _Plan:
    """What :func:`aggregate_output` will compute, resolved and checked before any value is touched."""

    ind_cols: list[str]
    ind_pos: list[int]  # the indicators' positions among the data's columns
    all_cols: list[str]
    levels: list[list[_NodePlan]]
    weights: dict[str, float]  # code → weight (the tree's, with the ``weights`` argument applied)


def _weight_map(tree: Tree, weights: pd.Series | Mapping[str, float] | None) -> dict[str, float]:
    w_map = dict(zip(tree.weights.index.tolist(), tree.weights.to_numpy(float).tolist(), strict=True))
    if weights is not None:  # (plain dicts: this runs once per variant in an uncertainty analysis)
        ws = dict(zip(map(str, weights.index), np.asarray(weights, dtype=float).tolist(), strict=True)) if isinstance(
            weights, pd.Series) else {str(k): float(v) for k, v in dict(weights).items()}
        unknown = sorted(set(ws) - set(w_map))
        if unknown:
            raise DataError(f"weights for unknown node(s): {', '.join(unknown)}", rule="weights.unknown",
                            step="aggregate")
        nan = [k for k, v in ws.items() if np.isnan(v)]
        if nan:
            raise DataError(f"weights must not be NaN: {', '.join(nan)}", rule="weights.nan", step="aggregate")
        w_map.update(ws)
    return w_map


def _plan(
    data: pd.DataFrame, tree: Tree, method: Any, weights: Any, dat_thresh: Any, params: Any, order: str
) -> _Plan:
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a DataFrame (units × indicators)", rule="aggregate.data", step="aggregate")
    if order not in ("coinr", "tree"):
        raise SpecError(f"order must be 'coinr' or 'tree', got {order!r}", step="aggregate", parameter="order")
    inds = tree.indicators
    cols = [str(c) for c in data.columns.tolist()]
    missing = [c for c in inds if c not in cols]
    if missing:
        raise DataError(f"indicators of the tree missing from data: {', '.join(missing)}",
                        rule="aggregate.columns", step="aggregate")
    ind_set = set(inds)
    ind_pos = [i for i, c in enumerate(cols) if c in ind_set]
    ind_cols = [cols[i] for i in ind_pos]
    w_map = _weight_map(tree, weights)

    if isinstance(method, Mapping) and "method" in method:
        method = {"default": method}  # one {"method": name, **params} spec for every node
    agg_nodes = {c for c, lv in zip(tree.meta["code"], tree.meta["level"], strict=True) if lv > 1}
    _check_spec_keys(method, tree, agg_nodes, "method")
    _check_spec_keys(dat_thresh, tree, agg_nodes, "dat_thresh")

    # node order
    levels = list(range(2, tree.n_levels + 1))
    level_codes: dict[int, list[str]] = {lev: [] for lev in levels}
    for code, lev in zip(tree.meta["code"], tree.meta["level"], strict=True):
        if lev > 1:
            level_codes[int(lev)].append(code)
    if order == "coinr":
        level_codes = {lev: sorted(codes, key=_sort_key) for lev, codes in level_codes.items()}
    all_cols = ind_cols + [c for lev in levels for c in level_codes[lev]]
    pos = {c: i for i, c in enumerate(all_cols)}

    plans = []
    for lev in levels:
        level_plans = []
        for node in level_codes[lev]:
            kids = tree.children(node)
            m_spec = _resolve_per_node(method, node, lev, "amean")
            mname, inline = _split_method_spec(m_spec, node)
            entry = AGGREGATORS.entry(mname)
            p = _node_params(params, agg_nodes, node, lev, entry.name)
            p.update(inline)
            _validate_params(entry.func, tuple(p), node, entry.name)
            thr = _resolve_per_node(dat_thresh, node, lev, None)
            if thr is not None:
                thr = float(thr)
                if not 0 <= thr <= 1:
                    raise SpecError(f"dat_thresh must be within [0, 1], got {thr}", step="aggregate",
                                    parameter="dat_thresh", node=node)
            level_plans.append(_NodePlan(node, kids, [pos[k] for k in kids], pos[node], entry, p, thr))
        plans.append(level_plans)
    return _Plan(ind_cols, ind_pos, all_cols, plans, w_map)


def _not_applicable_matrix(not_applicable: pd.DataFrame | None, data: pd.DataFrame, ind_cols: list[str]) -> np.ndarray | None:
    """The (units, indicators) boolean mask of ``not_applicable``, checked against the data (None: no mask)."""
    if not_applicable is None:
        return None
    if not isinstance(not_applicable, pd.DataFrame):
        raise DataError("not_applicable must be a boolean DataFrame (units × indicators)",
                        rule="aggregate.not_applicable", step="aggregate")
    bad_cols = [str(c) for c in not_applicable.columns if str(c) not in set(ind_cols)]
    if bad_cols:
        raise DataError(f"not_applicable names unknown indicators: {', '.join(bad_cols)}",
                        rule="aggregate.not_applicable", step="aggregate")
    bad_units = [str(u) for u in not_applicable.index if u not in data.index]
    if bad_units:
        raise DataError(f"not_applicable names unknown units: {', '.join(bad_units[:10])}",
                        rule="aggregate.not_applicable", step="aggregate")
    return (
        not_applicable.reindex(index=data.index, columns=ind_cols, fill_value=False)
        .astype("boolean")
        .fillna(False)
        .to_numpy(dtype=bool)
    )


def _indicator_values(data: pd.DataFrame, plan: _Plan) -> np.ndarray:
    """The indicators' values, (units, indicators) float."""
    if len(plan.ind_pos) == data.shape[1]:
        return data.to_numpy(dtype=float, na_value=np.nan)
    return data.iloc[:, plan.ind_pos].to_numpy(dtype=float, na_value=np.nan)


def _run_nodes(
    plan: _Plan,
    vals: np.ndarray,
    na: np.ndarray,
    weights: Callable[[_NodePlan], np.ndarray],
    report: AggregationReport,
    unit_list: Callable[[np.ndarray], list[str]],
) -> None:
    """Fill ``vals`` (columns × units; the indicators' rows given) level by level, node by node.
    ``weights(node plan)``: the children's weights, (k,) or, for row methods, per unit (units, k)."""
    n = vals.shape[1]
    has_na = bool(na.any())
    for level_plans in plan.levels:
        for np_ in level_plans:
            node, kids, idx, entry, p, thr = np_.node, np_.kids, np_.idx, np_.entry, np_.params, np_.thr
            report.methods[node] = entry.name
            if p:
                report.params[node] = dict(p)
            xt = vals[idx]
            x = xt.T
            w = weights(np_)
            p_call = {**p, "codes": kids} if entry.meta.get("wants_codes") else p
            try:
                y = np.array(entry.func(x, w, **p_call), dtype=float)
            except NodeProblem as e:
                bad_units = unit_list(e.cells.any(axis=1))
                bad_kids = [kids[j] for j in np.flatnonzero(e.cells.any(axis=0))]
                shown = first_of(bad_units, 20)
                raise MethodError(
                    Problem(
                        e.rule,
                        f"{entry.name} cannot aggregate node {node}: {e.message}; units: {shown}; "
                        f"in children: {', '.join(bad_kids)}",
                        {"step": "aggregate", "node": node, "method": entry.name, "units": bad_units},
                    )
                ) from None
            if y.shape != (n,):
                raise MethodError(f"method {entry.name} returned shape {y.shape}, expected ({n},)",
                                  rule="aggregate.shape", node=node, method=entry.name)
            if p.get("zero_policy") == "nan":
                gone = np.isnan(y) & ~np.isnan(xt).all(axis=0)
                if gone.any():
                    report.set_missing[node] = unit_list(gone)
            if has_na:
                a = na[idx]
                applicable = len(kids) - a.sum(axis=0)
                all_na = applicable == 0
                some_na = a.any(axis=0) & ~all_na
            else:
                applicable = len(kids)
                all_na = some_na = None
            if thr is not None:
                avail = (~np.isnan(xt)).sum(axis=0)  # not-applicable cells are NaN too, so not counted
                with np.errstate(invalid="ignore", divide="ignore"):
                    low = avail / applicable < thr
                if all_na is not None:
                    low &= ~all_na
                if low.any():
                    y = np.where(low, np.nan, y)
                    report.below_threshold[node] = unit_list(low)
            if all_na is not None and all_na.any():
                y = np.where(all_na, np.nan, y)
                na[np_.row] = all_na
                report.node_not_applicable[node] = unit_list(all_na)
            if some_na is not None and some_na.any():
                report.not_applicable[node] = unit_list(some_na)
            vals[np_.row] = y


def aggregate_output(
    data: pd.DataFrame,
    tree: Tree,
    method: str | Mapping[Any, Any] = "amean",
    weights: pd.Series | Mapping[str, float] | None = None,
    dat_thresh: float | Mapping[Any, float | None] | None = None,
    params: Mapping[Any, Any] | None = None,
    not_applicable: pd.DataFrame | None = None,
    order: str = "coinr",
) -> StageOutput:
    """Aggregate level-1 values up the tree (COINr ``Aggregate``), vectorised over units.

    * ``method``: a registered name for every node, or a mapping whose keys are target levels (2 = the
      indicators' parents … top = the index), aggregate node codes, or "default"; values are names or
      ``{"method": name, **params}``. Node beats level beats default.
    * ``weights``: code → relative weight, overriding ``tree.weights`` for the codes given.
    * ``dat_thresh``: a unit's aggregate is NaN when its share of available (applicable) children is below
      this, as COINr (float, or a mapping by level/node).
    * ``params``: method parameters: a flat mapping for every node (unknown names are an error), or keyed by
      method name, level or node.
    * ``not_applicable``: boolean units × indicators; True cells are left out (not missing).
    * ``order``: "coinr" (aggregates sorted by code within each level, COINr's layout) or "tree".
    """
    plan = _plan(data, tree, method, weights, dat_thresh, params, order)
    n_ind = len(plan.ind_cols)
    index = data.index

    def unit_list(mask: np.ndarray) -> list[str]:
        return [str(u) for u in index[np.flatnonzero(mask)]]

    # stored transposed ((columns, units), C order) so each column is contiguous and the final frame needs no copy
    vals = np.empty((len(plan.all_cols), len(data)))
    vals[:n_ind] = _indicator_values(data, plan).T
    na = np.zeros(vals.shape, bool)
    nam = _not_applicable_matrix(not_applicable, data, plan.ind_cols)
    if nam is not None:
        na[:n_ind] = nam.T
        vals[:n_ind][nam.T] = np.nan
    w_map = plan.weights
    report = AggregationReport()
    _run_nodes(plan, vals, na, lambda np_: np.array([w_map[k] for k in np_.kids]), report, unit_list)
    out = pd.DataFrame(vals.T, index=data.index.copy(), columns=plan.all_cols, copy=False)
    return StageOutput(out, warnings=report.warnings(), report=report)


def aggregate_many(
    data: pd.DataFrame,
    tree: Tree,
    weights_list: list[Mapping[str, float] | None],
    method: str | Mapping[Any, Any] = "amean",
    dat_thresh: float | Mapping[Any, float | None] | None = None,
    params: Mapping[Any, Any] | None = None,
    not_applicable: pd.DataFrame | None = None,
    order: str = "coinr",
    max_cells: int = 500_000,
) -> tuple[list[str], np.ndarray] | None:
    """:func:`aggregate_output` of one data set under many weight sets at once: (the columns, values
    (variants × units × columns)), each variant's values identical to its own :func:`aggregate_output` run.

    The variants are stacked along the units (a unit of variant ``v`` is row ``v·n + i``) and each node runs
    once for all of them with per-unit weights; as every sum is correctly rounded, a row's value does not
    depend on its neighbours. Only row methods can run so (a whole-frame method such as Copeland compares
    the units of one variant): with any other, None. Reports and warnings are not kept: a variant that
    would warn or fail is found by running it alone (a failure raises here, naming no unit).

    ``max_cells``: values stacked at a time (a few MB, so a chunk stays in cache): many variants of a small
    data set per chunk, where per-node overhead dominates; one at a time from about 8,000 units × 60
    columns, where stacking would only add copies."""
    plan = _plan(data, tree, method, None, dat_thresh, params, order)
    if any(np_.entry.meta.get("kind") != "row" for lev in plan.levels for np_ in lev):
        return None
    w_maps = [_weight_map(tree, w) for w in weights_list]
    n, n_ind, n_cols = len(data), len(plan.ind_cols), len(plan.all_cols)
    raw = _indicator_values(data, plan).T
    nam = _not_applicable_matrix(not_applicable, data, plan.ind_cols)
    if nam is not None:
        raw = np.where(nam.T, np.nan, raw)
    out = np.empty((len(w_maps), n, n_cols))
    step = max(1, max_cells // max(1, n * n_cols))
    report = AggregationReport()  # (discarded)

    def no_units(mask: np.ndarray) -> list[str]:
        return []

    for s in range(0, len(w_maps), step):
        chunk = w_maps[s : s + step]
        v = len(chunk)
        vals = np.empty((n_cols, v * n))
        vals[:n_ind] = np.tile(raw, v)
        na = np.zeros(vals.shape, bool)
        if nam is not None:
            na[:n_ind] = np.tile(nam.T, v)

        def weights(np_: _NodePlan, chunk: list[dict[str, float]] = chunk) -> np.ndarray:
            wv = np.array([[wm[k] for k in np_.kids] for wm in chunk])
            return wv[0] if (wv == wv[0]).all() else wv  # (V, k): one row per variant's block of units

        _run_nodes(plan, vals, na, weights, report, no_units)
        out[s : s + v] = vals.reshape(n_cols, v, n).transpose(1, 2, 0)
    return plan.all_cols, out



aggregate = data_only(
    aggregate_output,
    'Aggregate level-1 values up the tree (COINr ``Aggregate``); returns the data set, see '
    ':func:`aggregate_output` for the report and warnings.',
)
