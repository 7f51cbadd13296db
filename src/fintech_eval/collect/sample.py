"""Sampling of institutions by size (JR/T 0201-2020 §4) and the coverage of the sample.

§4 (采样方式): the licensed financial institutions and FinTech key-technology enterprises are sampled by
*operating revenue, market share, total financing and listed market value* (营业收入、市场占有量、融资总额、
上市市值), balancing the representativeness of the sample against the availability of data; the reporting
period is normally one year. The standard names the size attributes but no sampling design, so the
designs below are the usual ones, each a function in :data:`SAMPLERS` (a :class:`~fintech_eval.registry.Registry`):

``top_n``
    the ``n`` largest institutions of each sector by the attribute (``n`` an int, or a dict sector → int).
``coverage``
    per sector, the largest institutions that *together* make at least ``share`` (e.g. 0.8) of the
    sector's attribute total: sorted by size, an institution is taken while the running total *before*
    it is still below ``share`` × total (so the last one taken crosses the line).
``stratified``
    stratified simple random sampling without replacement. Strata are the sector, optionally crossed with
    the region (``strata=("sector", "region_code")``) and/or a size band (``strata=("sector", "size_band")``,
    ``bands`` quantile bands of the attribute within the sector, band 1 the largest). Per stratum, ``n``
    institutions or a ``fraction`` (rounded, at least ``min_per_stratum``). The draw uses
    ``numpy.random.default_rng(seed)`` on the institutions in id order: the same data and seed give the
    same sample. Each selected row has its design weight N_h / n_h.
``all`` (alias ``census``)
    every institution.

:func:`sample` returns a :class:`SampleResult`: the sample (one row per selected institution, with its
sizes, rank and stratum), the coverage per sector (institutions selected out of the total, and for the
attribute *and every other size attribute given*, the total, the part the sample covers and its share),
and the institutions that lack the attribute for the period. Those are **reported, never dropped
silently**: the methods that rank by the attribute (top_n, coverage, size bands) cannot place them and
leave them out with a reason; the census and the sector/region strata keep them eligible.

Column names: institutions need ``entity_id`` (or ``id``, as the store returns it) and ``sector``;
``region_code`` and any other columns are carried along. Sizes are long: ``entity_id`` (or
``institution_id``), ``period``, ``attribute``, ``value``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError
from ..registry import Registry
from ..vocab import SIZE_ATTRIBUTES  # the four sampling variables of §4, in the standard's order

__all__ = ["SAMPLERS", "SIZE_ATTRIBUTES", "SampleResult", "sample"]


SAMPLERS = Registry("sample")


@dataclass
class SampleResult:
    """What :func:`sample` returns.

    * ``sample``: one row per selected institution: the institution's columns, ``period``, ``method``,
      ``stratum``, ``rank`` (1 = largest of its sector by ``by``; NaN when the attribute is missing),
      ``weight`` (design weight N_h / n_h for stratified and census samples; NaN for top-N and coverage,
      which are not probability samples) and one column per size attribute.
    * ``coverage``: one row per sector and a final ``all`` row: ``n_total``, ``n_selected``,
      ``n_share``; and for each size attribute A: ``A_total``, ``A_covered``, ``A_share`` (covered /
      total, over the institutions that report A) and ``A_missing`` (institutions without A). In the
      ``all`` row, ``market_share_total`` adds up the sectors' shares (one per sector).
    * ``missing``: institutions without the attribute ``by`` in the period: ``entity_id``, ``sector``,
      ``attribute``, ``reason``, ``selected``.
    * ``strata``: stratum sizes ``stratum``, ``N``, ``n`` (every method; one stratum per sector except
      for the stratified design).
    """

    sample: pd.DataFrame
    coverage: pd.DataFrame
    missing: pd.DataFrame
    strata: pd.DataFrame
    method: str
    by: str
    period: str
    params: dict[str, Any] = field(default_factory=dict)


# ---- helpers ----------------------------------------------------------------------------------------
def _per_sector(value: Any, sector: str, name: str) -> Any:
    """A parameter given once or per sector (dict sector → value)."""
    if isinstance(value, Mapping):
        if sector not in value:
            raise SpecError(f"{name} gives no value for sector {sector!r}", step="sample", parameter=name)
        return value[sector]
    return value


def _rank_desc(pop: pd.DataFrame, by: str) -> np.ndarray:
    """Rank 1 = largest within the sector; ties broken by id; NaN where the attribute is missing."""
    order = pop.sort_values(["sector", by, "entity_id"], ascending=[True, False, True], na_position="last")
    rank = order.groupby("sector", sort=False).cumcount().to_numpy() + 1.0
    rank[order[by].isna().to_numpy()] = np.nan
    out = pd.Series(rank, index=order.index).reindex(pop.index)
    return out.to_numpy(dtype=float)


def _check_positive_int(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise SpecError(f"{name} must be a whole number >= 0, got {n!r}", step="sample", parameter=name)
    return int(n)


# ---- methods: each returns (selected mask, stratum labels, design weights) ------------------------------
@SAMPLERS.register("top_n", aliases=["top"])
def top_n(pop: pd.DataFrame, by: str, *, n: int | Mapping[str, int] = 10, **_: Any):
    """The n largest institutions of each sector by the attribute."""
    sel = np.zeros(len(pop), dtype=bool)
    for sector in pop["sector"].unique():
        k = _check_positive_int(_per_sector(n, sector, "n"), "n")
        sel |= (pop["sector"].to_numpy() == sector) & (pop["rank"].to_numpy() <= k)
    return sel, pop["sector"].to_numpy(dtype=object), np.full(len(pop), np.nan)


@SAMPLERS.register("coverage", aliases=["cutoff"])
def coverage(pop: pd.DataFrame, by: str, *, share: float | Mapping[str, float] = 0.8, **_: Any):
    """The largest institutions that together make at least ``share`` of the sector's total."""
    sel = np.zeros(len(pop), dtype=bool)
    ordered = pop[pop[by].notna()].sort_values(["sector", "rank"])
    for sector, g in ordered.groupby("sector", sort=True):
        s = _per_sector(share, sector, "share")
        if isinstance(s, bool) or not isinstance(s, int | float) or not 0 < s <= 1:
            raise SpecError(f"share must be in (0, 1], got {s!r}", step="sample", parameter="share")
        x = g[by].to_numpy(dtype=float)
        total = x.sum()
        before = np.concatenate([[0.0], np.cumsum(x)[:-1]])
        # take while the running total before the institution is below the target (relative tolerance
        # so that 0.8 of a total that sums to exactly 0.8 in floating point is reached)
        take = before < s * total * (1 - 1e-12) if total > 0 else np.zeros(len(x), dtype=bool)
        sel[pop.index.get_indexer(g.index[take])] = True
    return sel, pop["sector"].to_numpy(dtype=object), np.full(len(pop), np.nan)


@SAMPLERS.register("stratified", aliases=["stratified_random", "random"])
def stratified(
    pop: pd.DataFrame,
    by: str,
    *,
    n: int | Mapping[str, int] | None = None,
    fraction: float | Mapping[str, float] | None = None,
    strata: Sequence[str] = ("sector",),
    bands: int | Sequence[float] = 3,
    seed: int = 0,
    min_per_stratum: int = 1,
    **_: Any,
):
    """Stratified simple random sample without replacement, seeded (numpy Generator)."""
    if (n is None) == (fraction is None):
        raise SpecError("give exactly one of n (per stratum) or fraction", step="sample", parameter="n")
    strata = tuple(strata)
    if not strata or strata[0] != "sector":
        strata = ("sector", *[s for s in strata if s != "sector"])
    for s in strata:
        if s not in pop.columns and s != "size_band":
            raise SpecError(f"stratum column {s!r} is not in the institutions table", step="sample",
                            parameter="strata")  # fmt: skip
    eligible = np.ones(len(pop), dtype=bool)
    parts = []
    for s in strata:
        if s == "size_band":
            band = _size_bands(pop, by, bands)
            eligible &= ~np.isnan(band)
            parts.append(np.where(np.isnan(band), "", np.char.add("S", np.nan_to_num(band).astype(int).astype(str))))
        else:
            col = pop[s].astype("object").where(pop[s].notna(), "?").astype(str).to_numpy()
            parts.append(col)
    label = parts[0].astype(object)
    for p in parts[1:]:
        label = label + "/" + p.astype(object)
    label = np.where(eligible, label, None)
    # one uniform number per institution, drawn in id order: same ids + seed -> same numbers
    rng = np.random.default_rng(seed)
    order = np.argsort(pop["entity_id"].to_numpy(dtype=str), kind="stable")
    u = np.empty(len(pop))
    u[order] = rng.random(len(pop))
    frame = pd.DataFrame({"h": label, "u": u, "sector": pop["sector"].to_numpy()})[eligible]
    rank_u = frame.groupby("h")["u"].rank(method="first").to_numpy()
    per = frame.groupby("h", sort=True).agg(sector=("sector", "first"), N=("u", "size"))
    min_k = _check_positive_int(min_per_stratum, "min_per_stratum")
    k_h = []
    for sector, size in zip(per["sector"], per["N"], strict=True):  # one pass per stratum, not per row
        if n is not None:
            k_h.append(_check_positive_int(_per_sector(n, sector, "n"), "n"))
            continue
        f = _per_sector(fraction, sector, "fraction")
        if isinstance(f, bool) or not isinstance(f, int | float) or not 0 <= f <= 1:
            raise SpecError(f"fraction must be in [0, 1], got {f!r}", step="sample", parameter="fraction")
        k_h.append(max(min_k, math.floor(f * size + 0.5)))
    per["k"] = np.minimum(np.asarray(k_h, dtype=float), per["N"].to_numpy(dtype=float))
    k = per["k"].reindex(frame["h"]).to_numpy()
    big_n = per["N"].reindex(frame["h"]).to_numpy(dtype=float)
    sel = np.zeros(len(pop), dtype=bool)
    weight = np.full(len(pop), np.nan)
    pos = np.flatnonzero(eligible)
    taken = rank_u <= k
    sel[pos[taken]] = True
    weight[pos[taken]] = big_n[taken] / k[taken]
    return sel, label, weight


def _size_bands(pop: pd.DataFrame, by: str, bands: int | Sequence[float]) -> np.ndarray:
    """Band per institution (1 = largest): ``bands`` quantile bands within the sector, or explicit
    ascending edges in the attribute's unit (values >= the last edge are band 1)."""
    x = pop[by].to_numpy(dtype=float)
    out = np.full(len(pop), np.nan)
    if isinstance(bands, int | np.integer) and not isinstance(bands, bool):
        if bands < 1:
            raise SpecError(f"bands must be >= 1, got {bands}", step="sample", parameter="bands")
        for _, idx in pop.groupby("sector").indices.items():
            xs = x[idx]
            ok = ~np.isnan(xs)
            if not ok.any():
                continue
            # rank-based quantile bands (ties by id order), so bands have near-equal counts
            r = pd.Series(xs[ok]).rank(method="first", ascending=False).to_numpy()
            b = np.ceil(r * bands / ok.sum())
            sub = np.full(len(xs), np.nan)
            sub[ok] = b
            out[idx] = sub
        return out
    edges = np.asarray(list(bands), dtype=float)
    if edges.ndim != 1 or np.any(np.diff(edges) <= 0):
        raise SpecError("explicit size-band edges must be strictly ascending", step="sample", parameter="bands")
    ok = ~np.isnan(x)
    out[ok] = len(edges) + 1 - np.searchsorted(edges, x[ok], side="right")
    return out


@SAMPLERS.register("all", aliases=["census"])
def census(pop: pd.DataFrame, by: str, **_: Any):
    """Every institution (census)."""
    return np.ones(len(pop), dtype=bool), pop["sector"].to_numpy(dtype=object), np.ones(len(pop))


# ---- entry point -----------------------------------------------------------------------------------
_NEEDS_ATTRIBUTE = {"top_n", "coverage"}


def _key(df: pd.DataFrame, names: Sequence[str], what: str) -> pd.DataFrame:
    for n in names:
        if n in df.columns:
            return df if n == "entity_id" else df.rename(columns={n: "entity_id"})
    raise DataError(f"{what}: no column {' or '.join(names)}", rule="sample.columns")


def sample(
    institutions: pd.DataFrame,
    sizes: pd.DataFrame,
    period: str | int,
    method: str = "coverage",
    by: str = "operating_revenue",
    *,
    sectors: Sequence[str] | None = None,
    **params: Any,
) -> SampleResult:
    """Select institutions by sector and a size attribute; see the module doc for the methods.

    ``period``: the reporting period whose sizes are used (annual by default, §4). ``sectors``: restrict
    to these sectors. ``params`` go to the method (``n``, ``share``, ``fraction``, ``strata``, ``bands``,
    ``seed``, ``min_per_stratum``).
    """
    fn = SAMPLERS.get(method)
    name = SAMPLERS.entry(method).name
    accepted = {
        p.name for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise SpecError(
            f"sample method {name!r} takes no parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(sorted(accepted)) or 'none'}",
            step="sample",
            parameter=unknown[0],
        )
    if isinstance(params.get("strata"), str):
        params["strata"] = (params["strata"],)
    inst = _key(institutions, ("entity_id", "id"), "institutions")
    sz = _key(sizes, ("entity_id", "institution_id"), "sizes")
    for col in ("sector",):
        if col not in inst.columns:
            raise DataError(f"institutions: no column {col!r}", rule="sample.columns")
    for col in ("period", "attribute", "value"):
        if col not in sz.columns:
            raise DataError(f"sizes: no column {col!r}", rule="sample.columns")
    dup = inst["entity_id"].astype(str).duplicated()
    if dup.any():
        raise DataError(
            f"institutions: duplicate id(s) {', '.join(inst['entity_id'].astype(str)[dup].unique()[:10])}",
            rule="sample.duplicate",
        )
    if inst["sector"].isna().any():
        bad = inst.loc[inst["sector"].isna(), "entity_id"].astype(str).tolist()
        raise DataError(f"institutions without a sector: {', '.join(bad[:10])}", rule="sample.sector")
    period = str(int(period)) if isinstance(period, float) and period.is_integer() else str(period).strip()
    pop = inst.copy()
    pop["entity_id"] = pop["entity_id"].astype(str)
    pop["sector"] = pop["sector"].astype(str)
    if sectors is not None:
        unknown = sorted(set(sectors) - set(pop["sector"]))
        if unknown:
            raise SpecError(f"no institution of sector(s) {', '.join(unknown)}", step="sample", parameter="sectors")
        pop = pop[pop["sector"].isin(list(sectors))]
    pop = pop.sort_values(["sector", "entity_id"]).reset_index(drop=True)

    s = sz[sz["period"].astype(str).str.strip().str.replace(r"\.0+$", "", regex=True) == period]
    s = s.assign(entity_id=s["entity_id"].astype(str), attribute=s["attribute"].astype(str),
                 value=pd.to_numeric(s["value"], errors="coerce"))  # fmt: skip
    dups = s.duplicated(["entity_id", "attribute"], keep=False)
    if dups.any():
        first = s[dups].iloc[0]
        raise DataError(
            f"sizes: {first['attribute']} of {first['entity_id']} for {period} is given more than once",
            rule="sample.duplicate",
        )
    attrs_present = list(dict.fromkeys(s["attribute"]))
    attrs = [by] + [a for a in SIZE_ATTRIBUTES if a != by and a in attrs_present]
    attrs += [a for a in attrs_present if a not in attrs]
    if by not in attrs_present:
        known = ", ".join(attrs_present) or "none"
        raise DataError(
            f"no size attribute {by!r} for period {period} (attributes given for {period}: {known})",
            rule="sample.attribute",
        )
    wide = s.pivot(index="entity_id", columns="attribute", values="value")
    for a in attrs:
        pop[a] = wide[a].reindex(pop["entity_id"]).to_numpy(dtype=float) if a in wide.columns else np.nan

    # institutions without a usable value of the attribute: reported with a reason
    x = pop[by].to_numpy(dtype=float)
    has_row = pop["entity_id"].isin(set(s.loc[s["attribute"] == by, "entity_id"])).to_numpy()
    negative = x < 0
    reason = np.where(
        ~has_row, f"no {by} for {period}",
        np.where(np.isnan(x), f"{by} for {period} is empty", np.where(negative, f"{by} for {period} is negative", "")),
    )  # fmt: skip
    pop.loc[negative, by] = np.nan
    missing_mask = reason != ""
    pop["rank"] = _rank_desc(pop, by)

    ranks_by_size = name in _NEEDS_ATTRIBUTE or (
        name == "stratified" and "size_band" in tuple(params.get("strata", ()))
    )
    sel, stratum, weight = fn(pop, by, **params)
    sel = np.asarray(sel, dtype=bool)
    if ranks_by_size:
        sel &= ~missing_mask
    pop["stratum"] = stratum
    pop["weight"] = weight
    pop["period"] = period
    pop["method"] = name

    missing = pd.DataFrame({
        "entity_id": pop["entity_id"].to_numpy()[missing_mask],
        "sector": pop["sector"].to_numpy()[missing_mask],
        "attribute": by,
        "reason": np.where(
            ranks_by_size, reason[missing_mask] + f"; cannot be ranked, left out of the {name} sample",
            reason[missing_mask] + "; still eligible (the design does not rank by size)",
        ),
        "selected": sel[missing_mask],
    })  # fmt: skip

    # strata table
    st = pd.DataFrame({"stratum": pop["stratum"], "sel": sel})
    st = st[st["stratum"].notna()]
    strata_tab = (
        st.groupby("stratum", sort=True).agg(N=("sel", "size"), n=("sel", "sum")).reset_index()
        if len(st) else pd.DataFrame(columns=["stratum", "N", "n"])
    )

    # coverage per sector (+ all)
    rows = []
    for sector, g in [*pop.groupby("sector", sort=True), ("all", pop)]:
        gs = sel[pop.index.get_indexer(g.index)]
        row: dict[str, Any] = {"sector": sector, "n_total": len(g), "n_selected": int(gs.sum())}
        row["n_share"] = row["n_selected"] / row["n_total"] if row["n_total"] else np.nan
        for a in attrs:
            v = g[a].to_numpy(dtype=float)
            ok = ~np.isnan(v)
            total = float(v[ok].sum())
            covered = float(v[ok & gs].sum())
            row[f"{a}_total"] = total if ok.any() else np.nan
            row[f"{a}_covered"] = covered if ok.any() else np.nan
            row[f"{a}_share"] = covered / total if total > 0 else np.nan
            row[f"{a}_missing"] = int((~ok).sum())
        rows.append(row)
    cov = pd.DataFrame(rows)

    front = ["entity_id", "sector", "period", "method", "stratum", "rank", "weight"]
    out = pop.loc[sel]
    out = out[front + [c for c in out.columns if c not in front]].sort_values(["sector", "rank", "entity_id"])
    return SampleResult(
        sample=out.reset_index(drop=True),
        coverage=cov,
        missing=missing,
        strata=strata_tab,
        method=name,
        by=by,
        period=period,
        params=dict(params),
    )


def methods() -> list[tuple[str, str]]:
    """(name, first line of the doc) of every sampling method."""
    return [(e.name, e.doc.splitlines()[0] if e.doc else "") for e in SAMPLERS]

