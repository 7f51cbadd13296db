"""COINr's analysis tables on a result: what to check before publishing an index.

Each function reproduces one COINr 1.1.14 function (defaults included) on a data set of the result, and
returns a frame in COINr's layout (the tests compare them with ``shared/data/coinr/analysis_*.csv``):

* :func:`indicator_stats` — ``get_stats``: min, max, mean, median, sd, skew, kurtosis (bias-corrected, as
  pandas), counts and fractions of available, non-zero, unique and most-repeated values (fractions of the
  available values, availability of all units), and flags (availability < 0.65, non-zero < 0.5 and unique
  < 0.5 of all units → ``LOW``; |skew| > 2 and kurtosis > 3.5 → ``OUT``), rounded to 3 significant figures
  as R's ``signif``. Unique values are exact (bitwise) distinct values, as R's ``unique``.
* :func:`correlations` — ``get_corr``: Pearson, Spearman or Kendall between any two levels (pairwise
  complete), long format; ``pval`` masks correlations that are not significant (NaN); ``withparent`` keeps
  each row's correlation with its parent only, ``grouplev`` pairs within groups only.
* :func:`corr_flags` — ``get_corr_flags``: pairs within a group above (``high``) or below (``low``) a threshold.
* :func:`cronbach` / :func:`cronbach_by_group` — ``get_cronbach``: k/(k−1)·(1 − Σ var / Σ cov), pairwise cov.
* :func:`pca_by_group` — ``get_PCA`` (``fintech_eval.methods.pca_weight_set``); :func:`effective_weights`.
* :func:`denominator_correlations` — ``get_denom_corr``: |r| > 0.6 between indicators and denominators.
* :func:`data_availability` — ``get_data_avail``/``Screen``'s summary per unit, and availability per group.
* :func:`strengths_weaknesses` — ``get_str_weak``: a unit's best and worst indicator ranks (the minimum rank
  of an indicator is never a strength), values to 3 significant figures, with the level-2 group and unit.
* :func:`unit_summary` — ``get_unit_summary``: a unit's scores (2 decimals) and ranks at chosen levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SpecError

CORR_METHODS = ("pearson", "spearman", "kendall")


def signif(x, digits: int = 3) -> np.ndarray:
    """R's ``signif`` (its ``fprec``): scale by 10^e so that ``digits`` figures lie before the point, round
    half to even, scale back; so 9.205 (stored as 9.20499…) gives 9.2 as in R. NaN and ±Inf kept."""
    a = np.asarray(x, dtype=float)
    out = a.copy()
    ok = np.isfinite(a) & (a != 0)
    v = np.abs(a[ok])
    e = (digits - 1 - np.floor(np.log10(v))).astype(int)
    up = e > 0
    r = np.empty_like(v)
    r[up] = np.rint(v[up] * 10.0 ** e[up]) / 10.0 ** e[up]
    r[~up] = np.rint(v[~up] / 10.0 ** -e[~up]) * 10.0 ** -e[~up]
    out[ok] = np.sign(a[ok]) * r
    return out


def _dataset(result, dset: str) -> pd.DataFrame:
    if dset not in result.datasets:
        raise SpecError(f"no data set {dset!r}; the result has: {', '.join(result.datasets)}", rule="analysis.dset", parameter="dset")
    return result.datasets[dset]


def _indicators(result, dset: str) -> pd.DataFrame:
    d = _dataset(result, dset)
    return d[[c for c in result.tree.indicators if c in d.columns]]


# --- statistics ---------------------------------------------------------------------------------------------
def indicator_stats(data: pd.DataFrame, *, t_skew: float = 2, t_kurt: float = 3.5, t_avail: float = 0.65,
                    t_zero: float = 0.5, t_unq: float = 0.5, nsignif: int | None = 3) -> pd.DataFrame:
    """COINr ``get_stats`` on a frame of indicators (columns); one row per indicator (``iCode``)."""
    n = len(data)
    avail = data.notna().sum()
    out = pd.DataFrame({
        "Min": data.min(), "Max": data.max(), "Mean": data.mean(), "Median": data.median(), "Std": data.std(),
        "Skew": data.skew(), "Kurt": data.kurt(),
        "N.Avail": avail, "N.NonZero": ((data != 0) & data.notna()).sum(), "N.Unique": data.nunique(dropna=True),
        "N.Same": data.apply(lambda c: c.value_counts(dropna=True).max() if c.notna().any() else 0),
    })
    out["Frc.Avail"] = avail / n
    for k in ("NonZero", "Unique", "Same"):
        out[f"Frc.{k}"] = out[f"N.{k}"] / avail.replace(0, np.nan)
    out["Flag.Avail"] = np.where(out["Frc.Avail"] < t_avail, "LOW", "ok")
    out["Flag.NonZero"] = np.where(out["N.NonZero"] / n < t_zero, "LOW", "ok")  # of all units, as COINr
    out["Flag.Unique"] = np.where(out["N.Unique"] / n < t_unq, "LOW", "ok")
    out["Flag.SkewKurt"] = np.where((out["Skew"].abs() > t_skew) & (out["Kurt"] > t_kurt), "OUT", "ok")
    if nsignif is not None:
        num = [c for c in out.columns if not c.startswith("Flag")]
        out[num] = np.column_stack([signif(out[c].to_numpy(float), nsignif) for c in num])
    out.index.name = "iCode"
    return out.reset_index()


# --- correlations -------------------------------------------------------------------------------------------
def _level_frame(result, dset: str, level: int, codes: Sequence[str] | None = None) -> pd.DataFrame:
    d = _dataset(result, dset)
    want = list(codes) if codes is not None else result.tree.codes(level)
    missing = [c for c in want if c not in d.columns]
    if missing:
        raise SpecError(f"data set {dset!r} has no {', '.join(missing[:5])} (level {level})", rule="analysis.level", parameter="Levels")
    return d[want]


def _pvalue(x: np.ndarray, y: np.ndarray, method: str) -> float:
    from scipy import stats

    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3:
        return float("nan")
    f = {"pearson": stats.pearsonr, "spearman": stats.spearmanr, "kendall": stats.kendalltau}[method]
    return float(f(x[ok], y[ok])[1])


def correlation_matrix(a: pd.DataFrame, b: pd.DataFrame, method: str = "pearson", pval: float = 0.05) -> pd.DataFrame:
    """``stats::cor(a, b, use = "pairwise.complete.obs")``; entries with p > ``pval`` set to NaN (0 disables)."""
    if method not in CORR_METHODS:
        raise SpecError(f"correlation method must be one of {', '.join(CORR_METHODS)}, got {method!r}", rule="analysis.corr", parameter="cortype")
    both = pd.concat([a, b.loc[a.index]], axis=1)
    both = both.loc[:, ~both.columns.duplicated()]
    full = both.corr(method=method)
    m = full.loc[list(a.columns), list(b.columns)].copy()
    if pval > 0:
        for i in a.columns:
            for j in b.columns:
                if i != j and _pvalue(a[i].to_numpy(float), b[j].to_numpy(float), method) > pval:
                    m.loc[i, j] = np.nan
    return m


def correlations(result, dset: str, levels: tuple[int, int] = (1, 1), *, codes: tuple[Sequence[str] | None, Sequence[str] | None] = (None, None),
                 method: str = "pearson", pval: float = 0.05, withparent: bool = False, grouplev: int | None = None) -> pd.DataFrame:
    """COINr ``get_corr`` in long format (``Var1``, ``Var2``, ``Correlation``); ``Var1`` is the higher level."""
    (l1, c1), (l2, c2) = sorted(zip(levels, codes, strict=True), key=lambda p: -p[0])
    a, b = _level_frame(result, dset, l1, c1), _level_frame(result, dset, l2, c2)
    m = correlation_matrix(a, b, method, pval)
    long = m.stack(future_stack=True).rename("Correlation").reset_index()
    long.columns = ["Var1", "Var2", "Correlation"]
    tree = result.tree
    if withparent and l1 != l2:
        anc = {c: _ancestor(tree, c, l1) for c in b.columns}
        long = long[[anc[v2] == v1 for v1, v2 in zip(long["Var1"], long["Var2"], strict=True)]]
    if grouplev is not None and l1 == l2:
        grp = {c: _ancestor(tree, c, grouplev) for c in a.columns}
        long = long[[grp[x] == grp[y] for x, y in zip(long["Var1"], long["Var2"], strict=True)]]
    return long.reset_index(drop=True)


def _ancestor(tree, code: str, level: int) -> str | None:
    """The node of ``level`` above ``code`` (``code`` itself at that level)."""
    levels = dict(zip(tree.meta["code"], tree.meta["level"], strict=True))
    c: str | None = code
    while c is not None and levels[c] < level:
        c = tree.parent_of.get(c)
    return c


def corr_flags(result, dset: str, *, cor_thresh: float = 0.9, thresh_type: str = "high", method: str = "pearson",
               grouplev: int = 2, roundto: int | None = 3) -> pd.DataFrame:
    """COINr ``get_corr_flags``: indicator pairs in the same level-``grouplev`` group whose correlation is above
    (``high``) or below (``low``) ``cor_thresh``; each pair once."""
    if thresh_type not in ("high", "low"):
        raise SpecError(f"thresh_type must be high or low, got {thresh_type!r}", rule="analysis.corr", parameter="thresh_type")
    d = _indicators(result, dset)
    m = d.corr(method=method)
    rows = []
    cols = list(d.columns)
    group = {c: _ancestor(result.tree, c, grouplev) for c in cols}
    for i, x in enumerate(cols):
        for y in cols[i + 1:]:
            g = group[x]
            v = m.loc[x, y]
            if g != group[y] or np.isnan(v):
                continue
            if (v > cor_thresh) if thresh_type == "high" else (v < cor_thresh):
                rows.append({"Group": g, "Ind1": x, "Ind2": y, "Corr": round(float(v), roundto) if roundto is not None else float(v)})
    return pd.DataFrame(rows, columns=["Group", "Ind1", "Ind2", "Corr"])


def cronbach(data: pd.DataFrame) -> float:
    """Cronbach's alpha of the columns: k/(k−1)·(1 − trace(C)/ΣC), C the pairwise-complete covariance matrix."""
    k = data.shape[1]
    if k < 2:
        return float("nan")
    c = data.cov().to_numpy(float)
    return float(k / (k - 1) * (1 - np.trace(c) / c.sum()))


def cronbach_by_group(result, dset: str, level: int = 2) -> pd.DataFrame:
    """Cronbach's alpha of the children of each node of ``level`` (``level=2``: each pillar's indicators)."""
    d = _dataset(result, dset)
    rows = [{"Group": g, "CronbachAlpha": cronbach(d[[c for c in result.tree.children(g) if c in d.columns]])}
            for g in result.tree.codes(level)]
    return pd.DataFrame(rows)


def pca_by_group(result, dset: str, level: int, by_groups: bool = True):
    """COINr ``get_PCA`` at ``level`` (see :func:`fintech_eval.methods.pca_weight_set`)."""
    from ..methods import pca_weight_set

    return pca_weight_set(_dataset(result, dset), result.tree, level, by_groups=by_groups)


def effective_weights(result) -> pd.Series:
    """Each node's final weight in the index (COINr ``get_eff_weights``)."""
    from ..methods import effective_weights as eff

    return eff(result.tree)


def denominator_correlations(result, dset: str = "Raw", *, cor_thresh: float = 0.6, method: str = "pearson",
                             nround: int | None = 2) -> pd.DataFrame:
    """COINr ``get_denom_corr``: indicator-denominator pairs with |r| > ``cor_thresh`` (pairwise complete),
    sorted by indicator."""
    den = result.source.denominators if result.source is not None else None
    if den is None or den.shape[1] == 0:
        raise SpecError("no denominators in this result's inputs", rule="analysis.denominators")
    d = _indicators(result, dset)
    m = correlation_matrix(d, den.reindex(d.index), method, pval=0)
    long = m.stack(future_stack=True).rename("Corr").reset_index()
    long.columns = ["Ind", "Denom", "Corr"]
    long = long[long["Corr"].abs() > cor_thresh]
    if nround is not None:
        long["Corr"] = long["Corr"].round(nround)
    return long.sort_values(["Ind", "Denom"], key=lambda s: s.str.lower(), kind="stable").reset_index(drop=True)


def data_availability(result, dset: str = "Raw", *, level: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per unit: missing, zero, availability and non-zero shares as COINr's screen summary; per unit and
    level-``level`` group: the share of its indicators available)."""
    from ..methods.screen import data_availability as avail

    d = _indicators(result, dset)
    summary = avail(d)
    by = pd.DataFrame({g: d[[c for c in result.tree.leaves_under(g) if c in d.columns]].notna().mean(axis=1)
                       for g in result.tree.codes(level)})
    return summary, by


# --- one unit -----------------------------------------------------------------------------------------------
def _unit(result, unit: str, d: pd.DataFrame) -> str:
    idx = [str(u) for u in d.index]
    if str(unit) not in idx:
        from ..engine.checks import suggest

        raise SpecError(f"no unit {unit!r} in the result{suggest(unit, idx)}", rule="analysis.unit", parameter="unit")
    return d.index[idx.index(str(unit))]


def _imeta_col(result, col: str) -> pd.Series:
    imeta = result.source.imeta if result.source is not None else None
    if imeta is None or col not in imeta:
        return pd.Series(dtype=object)
    return imeta.set_index("iCode")[col]


def strengths_weaknesses(result, unit: str, *, dset: str = "Raw", top: int = 5, bottom: int = 5, unq_discard: float | None = None,
                         min_discard: bool = True, report_level: int = 2, adjust_direction: bool | None = None,
                         sig_figs: int | None = 3, level_name: str = "Pillar") -> tuple[pd.DataFrame, pd.DataFrame]:
    """COINr ``get_str_weak``: the unit's ``top`` best and ``bottom`` worst indicator ranks in ``dset``
    (directions applied for Raw data; an indicator where the unit has the lowest rank is not a strength when
    ``min_discard``), with name, level-``report_level`` group, rank, value and unit of measure."""
    d = _indicators(result, dset)
    u = _unit(result, unit, d)
    adjust = (dset == "Raw") if adjust_direction is None else adjust_direction
    x = d * result.tree.directions.reindex(d.columns).to_numpy() if adjust else d
    from ..methods import rank

    ranks = rank(x).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    ranks = pd.DataFrame(ranks, index=d.index, columns=d.columns)
    # COINr's indicator order (its iMeta sorted by parent, file order within): the order of tied ranks
    parent = result.tree.parent_of
    codes = sorted(d.columns, key=lambda c: str(parent.get(c)))
    if unq_discard is not None:
        codes = [c for c in codes if d[c].nunique(dropna=False) / len(d) > unq_discard]
    r = ranks.loc[u, codes].dropna()
    if min_discard:
        r = r[r != ranks[r.index].max()]
    r = r.sort_values(kind="stable")
    names, units = _imeta_col(result, "iName"), _imeta_col(result, "Unit")
    if names.empty:
        names = result.tree.meta.set_index("code")["name"]

    def table(sel: list[str]) -> pd.DataFrame:
        vals = d.loc[u, sel].to_numpy(dtype=float)
        out = pd.DataFrame({
            "Code": sel, "Name": names.reindex(sel).to_numpy(), level_name: [_ancestor(result.tree, c, report_level) for c in sel],
            "Rank": r[sel].to_numpy(), "Value": signif(vals, sig_figs) if sig_figs is not None else vals,
        })
        if not units.empty:
            out["Unit"] = units.reindex(sel).to_numpy()
        return out

    return table(list(r.index[:top])), table(list(r.index[len(r) - bottom:]))


def unit_summary(result, unit: str, *, levels: Sequence[int] | None = None, dset: str | None = None, nround: int | None = 2) -> pd.DataFrame:
    """COINr ``get_unit_summary``: the unit's score and rank at each node of ``levels`` (default: every level
    above the indicators, top first)."""
    d = _dataset(result, dset) if dset else result.final
    u = _unit(result, unit, d)
    tree = result.tree
    levels = list(levels or range(tree.n_levels, 1, -1))
    codes = [c for lv in levels for c in tree.codes(lv)]
    from ..methods import rank

    ranks = rank(d[codes])
    names = tree.meta.set_index("code")["name"]
    scores = d.loc[u, codes].to_numpy(dtype=float)
    return pd.DataFrame({
        "Code": codes, "Name": names.reindex(codes).to_numpy(),
        "Score": np.round(scores, nround) if nround is not None else scores,
        "Rank": ranks.loc[u, codes].to_numpy(dtype=float, na_value=np.nan),
    })


# --- all at once ---------------------------------------------------------------------------------------------
def write_diagnostics(result, out: str | Path, *, units: Sequence[str] = ()) -> list[Path]:
    """Every table above for the result's data sets, as CSV in ``out`` (strengths and weaknesses and the
    summary for each of ``units``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, df: pd.DataFrame, index: bool = False) -> None:
        df.to_csv(out / name, index=index)
        written.append(out / name)

    tree = result.tree
    for dset in result.datasets:
        if set(tree.indicators) & set(result.datasets[dset].columns):
            put(f"stats_{dset}.csv", indicator_stats(_indicators(result, dset)))
    last = "Normalised" if "Normalised" in result.datasets else list(result.datasets)[-1]
    final = list(result.datasets)[-1]
    top = tree.n_levels
    for lv in range(1, top):
        put(f"corr_L{lv}_vs_parent.csv", correlations(result, final, (lv, lv + 1), pval=0, withparent=True))
    if top > 2:
        put(f"corr_L2_vs_L{top}.csv", correlations(result, final, (2, top), pval=0))
    put("corr_flags_high.csv", corr_flags(result, last))
    put("corr_flags_low.csv", corr_flags(result, last, cor_thresh=-0.4, thresh_type="low"))
    put("cronbach_L2.csv", cronbach_by_group(result, last, 2))
    put("effective_weights.csv", effective_weights(result).rename_axis("iCode").reset_index())
    summary, by = data_availability(result, "Raw")
    put("data_availability.csv", summary.reset_index())
    put("data_availability_by_group.csv", by.rename_axis("uCode"), index=True)
    try:
        put("denominator_correlations.csv", denominator_correlations(result))
    except SpecError:
        pass
    for u in units:
        s, w = strengths_weaknesses(result, u)
        put(f"strengths_{u}.csv", s)
        put(f"weaknesses_{u}.csv", w)
        put(f"unit_summary_{u}.csv", unit_summary(result, u))
    return written
