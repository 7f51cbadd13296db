"""Weights: subjective, objective (data-driven) and COINr's tree-level tools.

Every registered method in :data:`WEIGHTS` takes a DataFrame units × criteria (plus ``directions``, a mapping
criterion → ±1, where relevant) and returns a Series criterion → weight summing to 1::

    WEIGHTS.get("entropy")(data, directions={"NPL": -1}, shift=0.0001)

Objective methods (formulas as in the Chinese composite-index literature, see docs/reference/indices.md):

* ``entropy`` (熵权法) in two conventions: "standardised" (min-max, reverse criteria flipped, optional
  ``shift`` such as 0.0001 or ``rescale=(0.002, 1)``) and "raw" (p from the raw positive data, as several MCDA
  libraries do); ``entropy_panel`` (时空极差熵权法) takes min and max over the whole unit × period panel;
* ``cv`` (变异系数法), ``std`` (standard deviation), ``critic`` (Diakoulaki et al. 1995,
  Computers & Operations Research 22(7):763-770);
* ``pca``: first principal component loadings (COINr ``get_PCA``); ``combined`` mixes two schemes.

Tree-level tools reproducing COINr 1.1.14: :func:`pca_weight_set` (``get_PCA(weights_to=)``),
:func:`effective_weights` (``get_eff_weights``) and :func:`opt_weights` (``get_opt_weights``, with a
port of R's ``optim`` Nelder-Mead so the search path is COINr's).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..engine.tree import Tree
from ..errors import DataError, MethodError, SpecError
from ..registry import Registry
from ._frame import Param

_DDOF = Param(1, kind="int", check=lambda v: None if v in (0, 1) else f"must be 0 or 1, got {v}")


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v else f"must be a name, got {v!r}"


def _weight_map(v: Any) -> str | None:
    """A mapping code → finite number >= 0."""
    if not isinstance(v, (Mapping, pd.Series)) or not len(v):
        return f"must be a mapping of codes to weights, got {v!r}"
    for k, w in dict(v).items():
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)) or not np.isfinite(w) or w < 0:
            return f"weight of {k!r} must be a finite number >= 0, got {w!r}"
    return None


def _weight_sets(v: Any) -> str | None:
    if isinstance(v, WeightSets):
        return None
    if not isinstance(v, Mapping) or not v:
        return f"must be a mapping of set names to weight mappings, got {v!r}"
    for name, m in v.items():
        msg = _weight_map(m)
        if msg:
            return f"set {name!r}: {msg}"
    return None


WEIGHTS = Registry("weights")


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------
def _frame(data: pd.DataFrame, method: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{method}: data must be a DataFrame (units × criteria)", rule="weights.data", step="weights")
    if data.shape[1] == 0:
        raise DataError(f"{method}: data has no criteria", rule="weights.data", step="weights")
    out = data.astype(float)
    out.columns = [str(c) for c in data.columns]
    return out


def _given(values: Mapping[str, float] | pd.Series, known: pd.Index, unknown_msg: str, rule: str) -> pd.Series:
    """``values`` (code → number) as a float series with text codes; codes not in ``known`` are an error."""
    given = pd.Series(values, dtype=float)
    given.index = [str(i) for i in given.index]
    unknown = sorted(set(given.index) - set(known))
    if unknown:
        raise DataError(f"{unknown_msg}: {', '.join(unknown)}", rule=rule, step="weights")
    return given


def _directions(data: pd.DataFrame, directions: Mapping[str, int] | pd.Series | None) -> pd.Series:
    d = pd.Series(1.0, index=data.columns)
    if directions is None:
        return d
    given = _given(directions, data.columns, "directions for unknown criteria", "weights.directions")
    bad = given[~given.isin([1.0, -1.0])]
    if len(bad):
        raise DataError(f"directions must be +1 or -1: {', '.join(bad.index)}", rule="weights.directions",
                        step="weights")
    d.loc[given.index] = given.to_numpy()
    return d


def _normalise(w: pd.Series, method: str) -> pd.Series:
    total = float(w.sum())
    if not np.isfinite(total) or total == 0 or not np.isfinite(w.to_numpy(float)).all():
        raise MethodError(f"{method}: weights cannot be normalised (sum {total}); every criterion is uninformative",
                          rule=f"weights.{method}.degenerate", method=method)
    out = (w / total).astype(float)
    out.name = "weight"
    return out


def _tree_weights(tree: Tree, weights: pd.Series | Mapping[str, float] | None) -> pd.Series:
    """The tree's weights with ``weights`` (code → weight) overriding; unknown codes are an error."""
    w = tree.weights.copy()
    if weights is None:
        return w
    given = _given(weights, w.index, "weights for unknown node(s)", "weights.unknown")
    if given.isna().any():
        raise DataError("weights must not be NaN", rule="weights.nan", step="weights")
    w.loc[list(given.index)] = given.to_numpy()
    return w


def minmax_standardise(
    data: pd.DataFrame, directions: Mapping[str, int] | pd.Series | None = None
) -> pd.DataFrame:
    """``(x - min)/(max - min)``, reverse criteria ``(max - x)/(max - min)``; constant columns → 0."""
    x = _frame(data, "minmax")
    d = _directions(x, directions)
    v = x.to_numpy(float)
    with np.errstate(invalid="ignore"):
        lo, hi = np.nanmin(v, axis=0), np.nanmax(v, axis=0)
    rng = hi - lo
    dv = d.to_numpy(float)
    z = np.where(dv > 0, v - lo, hi - v) / np.where(rng > 0, rng, 1.0)
    return pd.DataFrame(z, index=x.index, columns=x.columns)


# --------------------------------------------------------------------------------------------------------
# subjective
# --------------------------------------------------------------------------------------------------------
@WEIGHTS.register("equal", aliases=["uniform"], params={})
def equal(data: pd.DataFrame, directions: Any = None) -> pd.Series:
    """1/m for each of the m criteria."""
    x = _frame(data, "equal")
    return pd.Series(1.0 / x.shape[1], index=x.columns, name="weight")


@WEIGHTS.register("manual", aliases=["fixed"], params={"weights": Param(kind="any", check=_weight_map)})
def manual(data: pd.DataFrame, weights: Mapping[str, float] | pd.Series, directions: Any = None) -> pd.Series:
    """Given relative weights (every criterion of ``data`` must have one), rescaled to sum 1."""
    x = _frame(data, "manual")
    w = pd.Series(weights, dtype=float)
    w.index = [str(i) for i in w.index]
    missing = [c for c in x.columns if c not in w.index]
    extra = [c for c in w.index if c not in x.columns]
    if missing or extra:
        msg = "; ".join(p for p in (f"no weight for {', '.join(missing)}" if missing else "",
                                    f"weights for unknown criteria {', '.join(extra)}" if extra else "") if p)
        raise SpecError(f"manual weights: {msg}", step="weights", parameter="weights")
    if (w < 0).any() or w.isna().any():
        raise SpecError("manual weights must be finite and >= 0", step="weights", parameter="weights")
    return _normalise(w.loc[list(x.columns)], "manual")


class WeightSets:
    """Named weight sets (COINr's ``coin$Meta$Weights``): name → Series code → relative weight."""

    def __init__(self, sets: Mapping[str, Mapping[str, float] | pd.Series] | None = None):
        self._sets: dict[str, pd.Series] = {}
        for name, w in (sets or {}).items():
            self.add(name, w)

    def add(self, name: str, weights: Mapping[str, float] | pd.Series) -> None:
        w = pd.Series(weights, dtype=float)
        w.index = [str(i) for i in w.index]
        if w.isna().any():
            raise SpecError(f"weight set {name!r} has NaN weights", step="weights", parameter=name)
        self._sets[name] = w

    def get(self, name: str) -> pd.Series:
        if name not in self._sets:
            raise SpecError(f"unknown weight set {name!r}; have: {', '.join(self._sets) or 'none'}",
                            step="weights", parameter="name")
        return self._sets[name].copy()

    def names(self) -> list[str]:
        return list(self._sets)

    def __contains__(self, name: object) -> bool:
        return name in self._sets


@WEIGHTS.register(
    "named", aliases=["weight_set"],
    params={"name": Param(kind="any", check=_text), "sets": Param(kind="any", check=_weight_sets)},
)
def named(
    data: pd.DataFrame, name: str, sets: WeightSets | Mapping[str, Mapping[str, float]], directions: Any = None
) -> pd.Series:
    """The weight set ``name`` of ``sets``, restricted to the criteria of ``data`` and rescaled to sum 1."""
    ws = sets if isinstance(sets, WeightSets) else WeightSets(sets)
    w = ws.get(name)
    x = _frame(data, "named")
    missing = [c for c in x.columns if c not in w.index]
    if missing:
        raise SpecError(f"weight set {name!r} has no weight for {', '.join(missing)}", step="weights",
                        parameter="name")
    return _normalise(w.loc[list(x.columns)], "named")


# --------------------------------------------------------------------------------------------------------
# objective
# --------------------------------------------------------------------------------------------------------
def _entropy_of(p_source: pd.DataFrame) -> pd.Series:
    """e_j = -(1/ln n) Σ p ln p with p = x/Σx over the available cells, 0·ln0 = 0; n = available cells."""
    x = p_source.to_numpy(float)
    avail = ~np.isnan(x)
    n = avail.sum(axis=0)
    xs = np.where(avail, x, 0.0)
    tot = xs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = xs / np.where(tot > 0, tot, 1.0)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        e = -plogp.sum(axis=0) / np.log(n)
    e = np.where(tot > 0, e, 1.0)  # a column of zeros carries no information
    e = np.where(n > 1, e, 1.0)
    return pd.Series(e, index=p_source.columns)


@WEIGHTS.register(
    "entropy", aliases=["熵权法", "entropy_weight"],
    params={
        "convention": Param("standardised", kind="choice", choices=("standardised", "standardized", "minmax", "raw")),
        "shift": Param(0.0, kind="number"),
        "rescale": Param(None, kind="pair", nullable=True),
    },
)
def entropy(
    data: pd.DataFrame,
    directions: Mapping[str, int] | pd.Series | None = None,
    convention: str = "standardised",
    shift: float = 0.0,
    rescale: tuple[float, float] | None = None,
) -> pd.Series:
    """Entropy weights ``w_j = d_j / Σ d``, ``d_j = 1 - e_j``, ``e_j = -(1/ln n) Σ_i p_ij ln p_ij`` (0·ln0 = 0).

    ``convention="standardised"`` (the Chinese 熵权法): ``x'`` = min-max with reverse criteria flipped, then
    ``x' + shift`` (e.g. 0.0001) or rescaled into ``rescale=(a, b)`` (e.g. (0.002, 1)); ``p = x'/Σ x'``.
    ``convention="raw"``: ``p = x/Σ x`` on the raw data, which must be >= 0 (directions play no part).
    Missing cells are skipped (n = available values of the criterion)."""
    x = _frame(data, "entropy")
    if convention in ("standardised", "standardized", "minmax"):
        if rescale is not None and shift:
            raise SpecError("entropy: give shift or rescale, not both", step="weights", parameter="rescale")
        z = minmax_standardise(x, directions)
        if rescale is not None:
            a, b = (float(v) for v in rescale)
            if not a < b:
                raise SpecError(f"entropy: rescale must be (a, b) with a < b, got {rescale}", step="weights",
                                parameter="rescale")
            z = a + (b - a) * z
        elif shift:
            z = z + float(shift)
    elif convention == "raw":
        neg = [c for c in x.columns if (x[c] < 0).any()]
        if neg:
            raise MethodError(f"entropy (raw): negative values in {', '.join(neg)}; use convention='standardised'",
                              rule="weights.entropy.negative", method="entropy")
        z = x
    else:
        raise SpecError(f"entropy convention must be 'standardised' or 'raw', got {convention!r}", step="weights",
                        parameter="convention")
    d = 1.0 - _entropy_of(z)
    return _normalise(d, "entropy")


@WEIGHTS.register(
    "entropy_panel", aliases=["时空极差熵权法", "panel_entropy"],
    params={"shift": Param(0.0, kind="number"), "rescale": Param(None, kind="pair", nullable=True)},
)
def entropy_panel(
    data: pd.DataFrame,
    directions: Mapping[str, int] | pd.Series | None = None,
    shift: float = 0.0,
    rescale: tuple[float, float] | None = None,
) -> pd.Series:
    """Spatio-temporal range entropy (时空极差熵权法): every (unit, period) row is an observation, min and max are
    taken over the whole panel (so scores stay comparable across periods) and n = units × periods.
    ``data`` is the stacked panel (e.g. a (unit, period) MultiIndex); otherwise as :func:`entropy`."""
    return entropy(data, directions=directions, convention="standardised", shift=shift, rescale=rescale)


@WEIGHTS.register("cv", aliases=["变异系数法", "coefficient_of_variation"], params={"ddof": _DDOF})
def cv(data: pd.DataFrame, directions: Any = None, ddof: int = 1) -> pd.Series:
    """Coefficient of variation ``sd_j / |mean_j|`` (sample sd), normalised; raw data with non-zero means."""
    x = _frame(data, "cv")
    mean = x.mean()
    zero = list(mean.index[mean == 0])
    if zero:
        raise MethodError(f"cv: mean is zero for {', '.join(zero)}", rule="weights.cv.zero_mean", method="cv")
    return _normalise(x.std(ddof=ddof) / mean.abs(), "cv")


@WEIGHTS.register(
    "std", aliases=["标准差法", "standard_deviation"],
    params={"standardise": Param("minmax", kind="choice", choices=("minmax", None), nullable=True), "ddof": _DDOF},
)
def std(data: pd.DataFrame, directions: Any = None, standardise: str | None = "minmax", ddof: int = 1) -> pd.Series:
    """Standard deviation weights ``sd_j / Σ sd`` of the min-max standardised data (``standardise=None``: raw)."""
    x = _frame(data, "std")
    if standardise == "minmax":
        x = minmax_standardise(x)
    elif standardise is not None:
        raise SpecError(f"std: standardise must be 'minmax' or None, got {standardise!r}", step="weights",
                        parameter="standardise")
    return _normalise(x.std(ddof=ddof), "std")


@WEIGHTS.register("critic", aliases=["CRITIC"], params={})
def critic(data: pd.DataFrame, directions: Mapping[str, int] | pd.Series | None = None) -> pd.Series:
    """CRITIC: min-max standardise (reverse flipped); ``C_j = σ_j Σ_k (1 - r_jk)`` with the sample sd (ddof 1)
    and Pearson r; ``w = C / Σ C`` (Diakoulaki, Mavrotas & Papayannakis 1995)."""
    z = minmax_standardise(_frame(data, "critic"), directions)
    sd = z.std(ddof=1)
    r = z.corr(method="pearson").fillna(0.0)
    c = sd * (1.0 - r).sum(axis=1)
    return _normalise(c, "critic")


# --------------------------------------------------------------------------------------------------------
# PCA (COINr get_PCA)
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PCAResult:
    """``prcomp(center = TRUE, scale = TRUE)`` on the complete rows: loadings (criteria × PCs), sdev,
    importance (summary.prcomp: sd, proportion and cumulative proportion of variance, the latter two rounded
    to 5 decimals as R prints them) and the rows dropped for missing data."""

    loadings: pd.DataFrame
    sdev: pd.Series
    importance: pd.DataFrame
    dropped: list[str]

    @property
    def weights(self) -> pd.Series:
        """First-component loadings (COINr's "PCA weights"; they can be negative and do not sum to 1)."""
        return self.loadings["PC1"].rename("weight")


def pca(data: pd.DataFrame, sign: str = "lapack") -> PCAResult:
    """Principal components of the standardised data, as R's ``prcomp(x, center=TRUE, scale.=TRUE)``.

    Sign caveat: an eigenvector's sign is arbitrary. ``sign="lapack"`` keeps the SVD's signs, which is what
    R does (both call LAPACK's dgesdd; on ASEM they agree with COINr); ``sign="positive"`` flips each
    component so its loadings sum to >= 0, which is stable across libraries."""
    x = _frame(data, "pca")
    complete = x.dropna()
    dropped = [str(u) for u in x.index[x.isna().any(axis=1)]]
    if len(complete) < 2:
        raise MethodError("pca: fewer than 2 complete rows", rule="weights.pca.rows", method="pca")
    sd = complete.std(ddof=1)
    const = list(sd.index[sd == 0])
    if const:
        raise MethodError(f"pca: constant criteria cannot be scaled: {', '.join(const)}",
                          rule="weights.pca.constant", method="pca")
    z = ((complete - complete.mean()) / sd).to_numpy(float)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    v = vt.T
    if sign == "positive":
        v = v * np.where(v.sum(axis=0) < 0, -1.0, 1.0)
    elif sign != "lapack":
        raise SpecError(f"pca sign must be 'lapack' or 'positive', got {sign!r}", step="weights", parameter="sign")
    k = v.shape[1]
    pcs = [f"PC{i + 1}" for i in range(k)]
    sdev = s / math.sqrt(max(1, z.shape[0] - 1))
    var = sdev**2 / (sdev**2).sum()
    importance = pd.DataFrame(
        [sdev, np.round(var, 5), np.round(np.cumsum(var), 5)],
        index=["Standard deviation", "Proportion of Variance", "Cumulative Proportion"],
        columns=pcs,
    )
    return PCAResult(
        loadings=pd.DataFrame(v, index=list(x.columns), columns=pcs),
        sdev=pd.Series(sdev, index=pcs),
        importance=importance,
        dropped=dropped,
    )


@WEIGHTS.register("pca", aliases=["PCA"], params={"sign": Param("positive", kind="choice", choices=("positive", "lapack"))})
def pca_weights(data: pd.DataFrame, directions: Any = None, sign: str = "positive") -> pd.Series:
    """First principal component loadings (``sign="positive"``: oriented to a positive sum), rescaled to sum 1.
    Negative loadings stay negative: check them (COINr flags PCA weights as experimental for this reason)."""
    return _normalise(pca(data, sign=sign).weights, "pca")


@dataclass(frozen=True)
class PCAWeightSet:
    weights: pd.Series  # every tree node; the PCA'd level holds raw PC1 loadings (COINr weights_to)
    results: dict[str, PCAResult]  # group (parent code, or "All") → PCA


def pca_weight_set(
    data: pd.DataFrame, tree: Tree, level: int, by_groups: bool = True, sign: str = "lapack",
    weights: pd.Series | None = None,
) -> PCAWeightSet:
    """COINr ``get_PCA(coin, dset, Level=level, by_groups, weights_to=...)``: PCA on the level-``level`` columns of
    ``data`` (an aggregated frame), per parent group or over all of them, and a full weight set in which the
    level's weights are the PC1 loadings (other weights from ``weights`` or the tree)."""
    codes = tree.codes(level)
    missing = [c for c in codes if c not in data.columns]
    if missing:
        raise DataError(f"pca_weight_set: data lacks level-{level} columns {', '.join(missing)}",
                        rule="weights.pca.columns", step="weights")
    w = _tree_weights(tree, weights)
    results: dict[str, PCAResult] = {}
    if by_groups:
        groups: dict[str, list[str]] = {}
        for c in codes:
            groups.setdefault(str(tree.parent_of[c]), []).append(c)
    else:
        groups = {"All": codes}
    for g, cs in groups.items():
        res = pca(data[cs], sign=sign)
        results[g] = res
        w.loc[cs] = res.weights.loc[cs].to_numpy()
    return PCAWeightSet(weights=w.rename("weight"), results=results)


# --------------------------------------------------------------------------------------------------------
# combined
# --------------------------------------------------------------------------------------------------------
def combine_weights(
    w1: pd.Series, w2: pd.Series, how: str = "product", alpha: float = 0.5
) -> pd.Series:
    """Combine two weight vectors: ``how="product"`` → ``w1·w2 / Σ w1·w2`` (multiplicative synthesis, 乘法合成);
    ``how="mean"`` → ``α w1 + (1-α) w2`` (each first rescaled to sum 1)."""
    a = pd.Series(w1, dtype=float)
    b = pd.Series(w2, dtype=float)
    if set(a.index) != set(b.index):
        raise SpecError("combine_weights: the two schemes weight different criteria", step="weights",
                        parameter="schemes")
    b = b.loc[a.index]
    a, b = a / a.sum(), b / b.sum()
    if how == "product":
        return _normalise(a * b, "combined")
    if how == "mean":
        if not 0 <= alpha <= 1:
            raise SpecError(f"combine_weights: alpha must be within [0, 1], got {alpha}", step="weights",
                            parameter="alpha")
        return _normalise(alpha * a + (1 - alpha) * b, "combined")
    raise SpecError(f"combine_weights: how must be 'product' or 'mean', got {how!r}", step="weights",
                    parameter="how")


@WEIGHTS.register(
    "combined", aliases=["组合赋权"],
    params={
        "schemes": Param(kind="any", check=lambda v: None if isinstance(v, (list, tuple)) and len(v) == 2 else f"must be a list of two schemes, got {v!r}"),
        "how": Param("product", kind="choice", choices=("product", "mean")),
        "alpha": Param(0.5, kind="number", check=lambda v: None if 0 <= v <= 1 else f"must be within [0, 1], got {v}"),
    },
)
def combined(
    data: pd.DataFrame,
    schemes: Sequence[str | tuple[str, Mapping[str, Any]] | pd.Series | Mapping[str, float]],
    directions: Mapping[str, int] | pd.Series | None = None,
    how: str = "product",
    alpha: float = 0.5,
) -> pd.Series:
    """Two schemes combined by :func:`combine_weights`; each scheme is a registered method name, a
    ``(name, params)`` pair, or ready weights (e.g. AHP's). Example: ``schemes=["entropy", ahp_w]``."""
    if len(schemes) != 2:
        raise SpecError(f"combined: give exactly two schemes, got {len(schemes)}", step="weights",
                        parameter="schemes")
    x = _frame(data, "combined")
    ws = []
    for s in schemes:
        if isinstance(s, str):
            ws.append(_call_method(s, x, directions, {}))
        elif isinstance(s, tuple):
            ws.append(_call_method(s[0], x, directions, dict(s[1])))
        else:
            ws.append(pd.Series(s, dtype=float))
    return combine_weights(ws[0], ws[1], how=how, alpha=alpha)


def _call_method(name: str, data: pd.DataFrame, directions: Any, params: dict[str, Any]) -> pd.Series:
    return WEIGHTS.get(name)(data, directions=directions, **params)


# --------------------------------------------------------------------------------------------------------
# effective weights (COINr get_eff_weights)
# --------------------------------------------------------------------------------------------------------
def effective_weights(tree: Tree, weights: pd.Series | Mapping[str, float] | None = None) -> pd.Series:
    """Each node's share of the index: weights rescaled to sum 1 within each parent, multiplied down the tree
    (the index = 1). For indicators this is their final weight in the index under arithmetic aggregation."""
    w = _tree_weights(tree, weights)
    parent = tree.parent_of
    rel = pd.Series(1.0, index=w.index)
    groups: dict[str | None, list[str]] = {}
    for c in w.index:
        groups.setdefault(parent[c], []).append(c)
    for _, cs in groups.items():
        rel.loc[cs] = (w.loc[cs] / w.loc[cs].sum()).to_numpy()
    eff = pd.Series(np.nan, index=w.index, name="EffWeight")
    for lev in range(tree.n_levels, 0, -1):
        for c in tree.codes(lev):
            p = parent[c]
            eff[c] = rel[c] * (1.0 if p is None else eff[p])
    return eff


# --------------------------------------------------------------------------------------------------------
# correlation-optimised weights (COINr get_opt_weights)
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NelderMeadResult:
    x: np.ndarray
    fun: float
    fncount: int
    fail: int  # 0 converged, 1 maxit reached, 10 degenerate simplex (as R's optim$convergence)


def nelder_mead_r(
    fn: Callable[[np.ndarray], float],
    x0: Sequence[float],
    reltol: float = 1.490116e-08,
    abstol: float = -math.inf,
    maxit: int = 500,
    alpha: float = 1.0,
    beta: float = 0.5,
    gamma: float = 2.0,
) -> NelderMeadResult:
    """Nelder-Mead as R's ``optim(method = "Nelder-Mead")`` (J.C. Nash, *Compact Numerical Methods for
    Computers*, 2nd ed., 1990, Algorithm 19): same initial simplex (step 10 % of the largest |x0|), the same
    reflection / extension / contraction / shrink rules and the same stopping test
    ``f_high <= f_low + reltol·(|f0| + reltol)``, counting function evaluations against ``maxit``. Reproducing
    the algorithm step for step makes the search path (and so the result at a loose tolerance) R's."""
    big = 1.0e35
    b = np.array(x0, dtype=float)
    n = b.size
    if maxit <= 0:
        return NelderMeadResult(b, float(fn(b)), 0, 0)
    f = float(fn(b.copy()))
    if not math.isfinite(f):
        raise MethodError("Nelder-Mead: function cannot be evaluated at the initial parameters",
                          rule="optim.initial", method="nelder-mead")
    funcount = 1
    convtol = reltol * (abs(f) + reltol)
    n1 = n + 1
    # vertices as rows; fv holds their function values
    p = np.empty((n1, n))
    fv = np.empty(n1)
    p[0] = b
    fv[0] = f
    step = max((0.1 * abs(v) for v in b), default=0.0)
    if step == 0.0:
        step = 0.1
    size = 0.0
    for j in range(1, n1):
        p[j] = b
        trystep = step
        while p[j, j - 1] == b[j - 1]:
            p[j, j - 1] = b[j - 1] + trystep
            trystep *= 10
        size += trystep
    oldsize = size
    low = 0
    calcvert = True
    fail = 0
    while True:
        if calcvert:
            for j in range(n1):
                if j != low:
                    fj = float(fn(p[j].copy()))
                    if not math.isfinite(fj):
                        fj = big
                    funcount += 1
                    fv[j] = fj
            calcvert = False
        vl = fv[low]
        vh = vl
        high = low
        for j in range(n1):
            if j != low:
                fj = fv[j]
                if fj < vl:
                    low, vl = j, fj
                if fj > vh:
                    high, vh = j, fj
        if vh <= vl + convtol or vl <= abstol:
            break
        centroid = (p.sum(axis=0) - p[high]) / n
        b = (1.0 + alpha) * centroid - alpha * p[high]
        f = float(fn(b.copy()))
        if not math.isfinite(f):
            f = big
        funcount += 1
        vr = f
        if vr < vl:
            reflected = b.copy()
            b = gamma * b + (1 - gamma) * centroid
            f = float(fn(b.copy()))
            if not math.isfinite(f):
                f = big
            funcount += 1
            if f < vr:
                p[high] = b
                fv[high] = f
            else:
                p[high] = reflected
                fv[high] = vr
        else:
            if vr < vh:
                p[high] = b
                fv[high] = vr
            b = (1 - beta) * p[high] + beta * centroid
            f = float(fn(b.copy()))
            if not math.isfinite(f):
                f = big
            funcount += 1
            if f < fv[high]:
                p[high] = b
                fv[high] = f
            elif vr >= vh:
                calcvert = True
                size = 0.0
                for j in range(n1):
                    if j != low:
                        p[j] = beta * (p[j] - p[low]) + p[low]
                        size += float(np.abs(p[j] - p[low]).sum())
                if size < oldsize:
                    oldsize = size
                else:
                    fail = 10
                    break
        if funcount > maxit:
            break
    if funcount > maxit:
        fail = 1
    return NelderMeadResult(p[low].copy(), float(fv[low]), funcount, fail)


@dataclass(frozen=True)
class OptWeightsResult:
    """``weights``: the full weight set (the optimised level rescaled to sum 1, as COINr); ``table``: per node
    Desired (normalised target), Obtained (normalised correlation with the index at the optimum) and
    OptWeight; ``correlations``: the raw correlations at the optimum; ``converged`` as R's convergence == 0."""

    weights: pd.Series
    table: pd.DataFrame
    correlations: pd.Series
    objective: float
    n_evaluations: int
    converged: bool
    last_obtained: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=float))
    """Normalised correlations at the *last evaluated* point, which is what COINr 1.1.14 reports as Obtained."""

    @property
    def coinr_table(self) -> pd.DataFrame:
        """COINr's ``CorrResultsNorm``: like ``table`` but Obtained from the last point the optimiser evaluated
        (COINr keeps the correlations of its last objective call, not of the optimum)."""
        return self.table.assign(Obtained=self.last_obtained.to_numpy()).reset_index(drop=True)


def _correlate(a: np.ndarray, b: np.ndarray, cortype: str) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    s1, s2 = pd.Series(a[ok]), pd.Series(b[ok])
    return float(s1.corr(s2, method=cortype))


def opt_weights(
    data: pd.DataFrame,
    tree: Tree,
    level: int,
    itarg: str | Sequence[float] | Mapping[str, float] | None = "equal",
    optype: str = "balance",
    cortype: str = "pearson",
    toler: float = 0.1,
    maxiter: int = 500,
    weights: pd.Series | Mapping[str, float] | None = None,
    **aggregate_kwargs: Any,
) -> OptWeightsResult:
    """Correlation-optimised weights at one level, as COINr ``get_opt_weights`` (Becker et al. 2017,
    Ecological Indicators 80:12-22, doi:10.1016/j.ecolind.2017.03.056).

    Each evaluation sets the level's weights to ``w/Σw``, rebuilds the index with :func:`aggregate`
    (``aggregate_kwargs`` pass through: method, dat_thresh, …) and correlates each level node with the index.
    ``optype="balance"``: minimise ``log(mean((itarg - r/Σr)²))`` with ``itarg`` the normalised target
    importances ("equal" or one value per node), starting from ``itarg``; ``"infomax"``: maximise ``Σ r``,
    starting from the current weights. The optimiser is R's Nelder-Mead (:func:`nelder_mead_r`) with
    ``reltol = toler`` and ``maxit = maxiter`` (COINr defaults 0.1 and 500)."""
    from .aggregate import aggregate

    if optype not in ("balance", "infomax"):
        raise SpecError(f"optype must be 'balance' or 'infomax', got {optype!r}", step="weights", parameter="optype")
    if cortype not in ("pearson", "spearman", "kendall"):
        raise SpecError(f"cortype must be pearson, spearman or kendall, got {cortype!r}", step="weights",
                        parameter="cortype")
    if not 1 <= level < tree.n_levels:
        raise SpecError(f"level must be between 1 and {tree.n_levels - 1} (the nodes correlated with the index)",
                        step="weights", parameter="level")
    codes = tree.codes(level)
    base = _tree_weights(tree, weights)
    top = tree.codes(tree.n_levels)
    if len(top) != 1:
        raise SpecError("opt_weights needs a single index node at the top level", step="weights", parameter="tree")
    index_code = top[0]

    if optype == "balance":
        if itarg is None:
            raise SpecError("optype 'balance' needs itarg", step="weights", parameter="itarg")
        if isinstance(itarg, str):
            if itarg != "equal":
                raise SpecError(f"itarg must be 'equal' or numbers, got {itarg!r}", step="weights",
                                parameter="itarg")
            targ = np.ones(len(codes))
        elif isinstance(itarg, Mapping):
            targ = np.array([float(itarg[c]) for c in codes])
        else:
            targ = np.asarray(list(itarg), float)
        if targ.shape != (len(codes),):
            raise SpecError(f"itarg needs {len(codes)} values (one per level-{level} node), got {targ.size}",
                            step="weights", parameter="itarg")
        targ = targ / targ.sum()
        x0 = targ.copy()
    else:
        targ = None
        x0 = base.loc[codes].to_numpy(float)

    last: dict[str, Any] = {}

    def evaluate(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        w = w / w.sum()
        ws = base.copy()
        ws.loc[codes] = w
        agg = aggregate(data, tree, weights=ws, **aggregate_kwargs)
        idx = agg[index_code].to_numpy(float)
        crs = np.array([_correlate(agg[c].to_numpy(float), idx, cortype) for c in codes])
        if optype == "balance":
            crs_n = crs / crs.sum()
            msd = float(((targ - crs_n) ** 2).sum()) / len(crs_n)
            # R: log(0) = -Inf, which optim's Nelder-Mead then treats as a huge value (as COINr does)
            obj = math.log(msd) if msd > 0 else -math.inf if msd == 0 else math.nan
        else:
            crs_n = crs
            obj = -float(crs.sum())
        return obj, crs, crs_n

    def objective(w: np.ndarray) -> float:
        obj, _, crs_n = evaluate(w)
        last["crs_n"] = crs_n
        return obj

    res = nelder_mead_r(objective, x0, reltol=toler, maxit=maxiter)
    wopt = res.x / res.x.sum()
    obj, crs, crs_n = evaluate(res.x)
    full = base.copy()
    full.loc[codes] = wopt
    table = pd.DataFrame(
        {"Desired": targ if targ is not None else np.nan, "Obtained": crs_n, "OptWeight": wopt}, index=codes
    )
    return OptWeightsResult(
        weights=full.rename("weight"),
        table=table,
        correlations=pd.Series(crs, index=codes, name="correlation"),
        objective=obj,
        n_evaluations=res.fncount,
        converged=res.fail == 0,
        last_obtained=pd.Series(last.get("crs_n", crs_n), index=codes, name="Obtained"),
    )
