"""Peers and change: ranks inside peer groups, size bands, year-on-year change and CAGR, and the comparison
of two runs (who moved, and which indicators moved them).

* :func:`peer_ranks` — per unit, its rank within each peer group column (sector, sub-type, province …; COINr
  ``rank`` with ties min), the group's size and the unit's percentile within it.
* :func:`size_bands` — a size column (assets, customers) cut into named bands by quantiles or given edges, to
  use as a peer group.
* :func:`changes_over_time` — per unit, the score and rank of a node in each period, the change on the
  previous period and the compound annual growth rate over the span (COINr ``get_trends`` CAGR).
* :func:`compare_results` — COINr ``compare_coins`` (ranks in each run, ``Diff`` = rank 1 − rank 2,
  ``Abs.diff``), plus for each unit the indicators whose contribution to the node changed most: the
  contribution of an indicator is its normalised value times its effective weight under that node, so the
  drivers add up to the score change for an arithmetic mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import SpecError
from .uncertainty import default_target


def _node(result, node: str | None) -> str:
    node = node or default_target(result)[0]
    if node not in result.final.columns:
        raise SpecError(f"node {node!r} is not in the result", rule="analysis.node", parameter="node")
    return node


def _min_rank(s: pd.Series) -> pd.Series:
    return s.rank(ascending=False, method="min")


def size_bands(values: pd.Series, bands: Sequence[str] = ("small", "medium", "large"), edges: Sequence[float] | None = None) -> pd.Series:
    """Each unit's band: quantile thirds (or ``len(bands)`` equal-count bands) of ``values``, or the
    intervals between ``edges`` (len(bands) + 1 numbers, lowest first)."""
    if edges is not None:
        if len(edges) != len(bands) + 1:
            raise SpecError(f"size bands: {len(bands)} bands need {len(bands) + 1} edges, got {len(edges)}", rule="analysis.bands", parameter="edges")
        return pd.cut(values, list(edges), labels=list(bands), include_lowest=True).astype("string")
    return pd.qcut(values, len(bands), labels=list(bands)).astype("string")


def peer_ranks(result, by: Sequence[str] | str, *, node: str | None = None, groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per unit and peer-group column: the group, the unit's rank in it, the group's size and the percentile
    (1 = best of its group). ``groups`` adds columns beyond the result's own (e.g. :func:`size_bands`)."""
    node = _node(result, node)
    cols = [by] if isinstance(by, str) else list(by)
    g = result.groups if result.groups is not None else pd.DataFrame(index=result.final.index)
    if groups is not None:
        g = g.join(groups[[c for c in groups.columns if c not in g.columns]], how="left")
    missing = [c for c in cols if c not in g.columns]
    if missing:
        raise SpecError(f"no group column {', '.join(missing)}; have {', '.join(map(str, g.columns)) or 'none'}",
                        rule="analysis.group", parameter="by")
    s = result.final[node]
    out = pd.DataFrame({"uCode": s.index.astype(str), node: s.to_numpy(), "rank": _min_rank(s).to_numpy()})
    for c in cols:
        key = g[c].reindex(s.index)
        r = s.groupby(key, dropna=False).transform(_min_rank)
        size = s.groupby(key, dropna=False).transform("count")
        out[c] = key.to_numpy()
        out[f"rank_in_{c}"] = r.to_numpy()
        out[f"size_of_{c}"] = size.to_numpy()
        out[f"percentile_in_{c}"] = (1 - (r - 1) / size).to_numpy()
    return out


def changes_over_time(results: Mapping[object, object], *, node: str | None = None) -> pd.DataFrame:
    """``results``: period → result (e.g. {2022: r22, 2023: r23, 2024: r24}). Per unit and period: score, rank,
    change on the previous period; per unit the CAGR of the score from its first to its last period
    ((last/first)^(1/years) − 1, NaN when a score is not positive)."""
    if len(results) < 2:
        raise SpecError("changes over time need at least two periods", rule="analysis.periods", parameter="results")
    periods = sorted(results)
    first = results[periods[0]]
    node = _node(first, node)
    frames = []
    for p in periods:
        s = results[p].final[node] if node in results[p].final else pd.Series(dtype=float)
        frames.append(pd.DataFrame({"uCode": s.index.astype(str), "period": p, "score": s.to_numpy(), "rank": _min_rank(s).to_numpy()}))
    long = pd.concat(frames, ignore_index=True).sort_values(["uCode", "period"], kind="stable")
    grp = long.groupby("uCode", sort=False)
    long["score_change"] = grp["score"].diff()
    long["rank_change"] = -grp["rank"].diff()  # positive = moved up
    span = grp.agg(first=("score", "first"), last=("score", "last"), p0=("period", "first"), p1=("period", "last"))
    with np.errstate(divide="ignore", invalid="ignore"):
        years = (span["p1"].astype(float) - span["p0"].astype(float)).replace(0, np.nan)
        ratio = (span["last"] / span["first"]).where((span["first"] > 0) & (span["last"] > 0))
        cagr = ratio ** (1 / years) - 1
    long["cagr"] = long["uCode"].map(cagr)
    return long.reset_index(drop=True)


def _contributions(result, node: str) -> pd.DataFrame:
    """Indicator value × its effective weight under ``node`` (the weights renormalised within each parent)."""
    tree = result.tree
    leaves = tree.leaves_under(node)
    w = tree.weights
    eff = {}
    for c in leaves:
        x, p = 1.0, c
        while p != node:
            parent = tree.parent_of[p]
            sib = tree.children(parent)
            x *= w[p] / sum(w[s] for s in sib)
            p = parent
        eff[c] = x
    norm = result.datasets.get("Normalised", result.final)
    return norm[leaves] * pd.Series(eff)


def compare_results(a, b, *, node: str | None = None, drivers: int = 3) -> pd.DataFrame:
    """COINr ``compare_coins(a, b, dset, iCode)``: per unit the rank in each run, ``Diff`` (rank in ``a`` −
    rank in ``b``) and ``Abs.diff``; then the score in each run and the ``drivers`` indicators whose
    contribution changed most (signed, in score points)."""
    node = _node(a, node)
    if node not in b.final.columns:
        raise SpecError(f"node {node!r} is not in the second result", rule="analysis.node", parameter="node")
    sa, sb = a.final[node], b.final[node].reindex(a.final.index)
    ra, rb = _min_rank(sa), _min_rank(sb)
    out = pd.DataFrame({"uCode": sa.index.astype(str), "coin.1": ra.to_numpy(), "coin.2": rb.to_numpy()})
    out["Diff"] = out["coin.1"] - out["coin.2"]
    out["Abs.diff"] = out["Diff"].abs()
    out["score.1"], out["score.2"] = sa.to_numpy(), sb.to_numpy()
    try:
        ca, cb = _contributions(a, node), _contributions(b, node).reindex(index=sa.index, columns=_contributions(a, node).columns)
    except (KeyError, ZeroDivisionError):
        return out
    delta = cb - ca
    texts = []
    for u in sa.index:
        d = delta.loc[u].dropna()
        top = d.reindex(d.abs().sort_values(ascending=False).index[:drivers])
        texts.append("; ".join(f"{c} {v:+.2f}" for c, v in top.items() if v != 0))
    out["drivers"] = texts
    return out
