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
* :func:`peer_table` and :func:`compare_peers` — what ``fintech-eval peers`` prints: ranks inside a peer group
  named by meaning (``sector``, ``subtype``, ``province``, ``size``) over one or several periods, with the
  changes and the CAGR; and two runs side by side within the groups.
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


# --- peers by meaning, over periods (fintech-eval peers) --------------------------------------------------------
#: ``--by`` → the group columns it may be (the first present is used); ``size`` is a band of a size column
PEER_GROUPS: dict[str, tuple[str, ...]] = {
    "sector": ("sector",), "subtype": ("subtype", "sub_type"), "province": ("region_code", "province", "region"),
}
SIZE_BANDS = ("small", "medium", "large")


def _unit_columns(result, units: pd.DataFrame | None) -> pd.DataFrame:
    """The result's groups (and names, for a result read from a folder) with ``units``' columns added."""
    idx = result.final.index
    g = result.groups.reindex(idx) if result.groups is not None else pd.DataFrame(index=idx)
    for extra in (getattr(result, "units", None), units):
        if isinstance(extra, pd.DataFrame) and len(extra.columns):
            e = extra[~extra.index.duplicated(keep="last")]
            e = e.set_axis(e.index.astype(str))
            add = [c for c in e.columns if c not in g.columns]
            g = g.join(e[add].reindex(idx.astype(str)).set_axis(idx), how="left") if add else g
    return g


def peer_column(result, by: str, *, units: pd.DataFrame | None = None, size_column: str | None = None,
                bands: Sequence[str] = SIZE_BANDS) -> tuple[str, pd.DataFrame]:
    """(the group column ``by`` names, the unit columns with it): ``sector``, ``subtype``, ``province`` or any
    group column by name; ``size``: the bands (``bands``, equal counts) of the numeric column ``size_column``."""
    g = _unit_columns(result, units)
    if by == "size":
        if not size_column or size_column not in g.columns:
            from ..engine.checks import suggest

            have = [c for c in g.columns if pd.to_numeric(g[c], errors="coerce").notna().any()]
            raise SpecError(f"--by size needs --size-column naming a numeric column of the units{suggest(size_column, have) if size_column else ''}; "
                            f"numeric columns: {', '.join(map(str, have)) or 'none (add them with --units FILE)'}",
                            rule="analysis.group", parameter="size_column")
        g = g.assign(size_band=size_bands(pd.to_numeric(g[size_column], errors="coerce"), bands))
        return "size_band", g
    for c in PEER_GROUPS.get(by, (by,)):
        if c in g.columns:
            return c, g
    from ..engine.checks import suggest

    choices = [*PEER_GROUPS, "size", *map(str, g.columns)]
    raise SpecError(f"no peer group {by!r} in the result{suggest(by, choices)}; its unit columns: {', '.join(map(str, g.columns)) or 'none'}"
                    f" (sector, subtype and province need one of {', '.join(c for cs in PEER_GROUPS.values() for c in cs)})",
                    rule="analysis.group", parameter="by")


def _names(result) -> pd.Series | None:
    units = getattr(result, "units", None)
    if isinstance(units, pd.DataFrame) and "name" in units.columns:
        return units["name"].set_axis(units.index.astype(str))
    return result.names.set_axis(result.names.index.astype(str)) if isinstance(result.names, pd.Series) else None


def _entity(frame: pd.DataFrame, entity: str | None) -> pd.DataFrame:
    if entity is None:
        return frame
    sel = frame[frame["uCode"] == str(entity)]
    if not len(sel):
        from ..engine.checks import suggest

        raise SpecError(f"no entity {entity!r} in the result{suggest(entity, sorted(set(frame['uCode'])))}", rule="analysis.unit", parameter="entity")
    return sel


def peer_table(results: Mapping[object, object], by: str, *, entity: str | None = None, node: str | None = None,
               units: pd.DataFrame | None = None, size_column: str | None = None, bands: Sequence[str] = SIZE_BANDS) -> pd.DataFrame:
    """Per unit and period (``results``: period → result, one or several): its ``group`` (of :func:`peer_column`),
    ``score``, overall ``rank``, ``rank_in_group``, ``group_size`` and ``percentile``; with several periods also
    ``score_change``, ``rank_change`` and ``group_rank_change`` on the previous period (positive = moved up) and
    the ``cagr`` of the score over the span (:func:`changes_over_time`). ``entity``: that unit's rows only."""
    if not results:
        raise SpecError("peers: no result given", rule="analysis.periods", parameter="results")
    periods = sorted(results)
    frames = []
    for p in periods:
        r = results[p]
        col, g = peer_column(r, by, units=units, size_column=size_column, bands=bands)
        nd = _node(r, node)
        pr = peer_ranks(r, col, node=nd, groups=g)
        f = pd.DataFrame({"uCode": pr["uCode"], "period": p, "group": pr[col].to_numpy(), "score": pr[nd].to_numpy(),
                          "rank": pr["rank"].to_numpy(), "rank_in_group": pr[f"rank_in_{col}"].to_numpy(),
                          "group_size": pr[f"size_of_{col}"].to_numpy(), "percentile": pr[f"percentile_in_{col}"].to_numpy()})
        names = _names(r)
        if names is not None:
            f.insert(1, "name", f["uCode"].map(names).to_numpy())
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    if len(periods) > 1:
        ch = changes_over_time(results, node=node)[["uCode", "period", "score_change", "rank_change", "cagr"]]
        out = out.merge(ch, on=["uCode", "period"], how="left")
        out = out.sort_values(["uCode", "period"], kind="stable")
        same = out["group"].astype(str).eq(out.groupby("uCode")["group"].shift().astype(str))
        out["group_rank_change"] = (-out.groupby("uCode")["rank_in_group"].diff()).where(same)  # only within one group
    out = _entity(out, entity)
    return out.sort_values(["period", "group", "rank_in_group", "uCode"], kind="stable", na_position="last").reset_index(drop=True)


def compare_peers(before, now, by: str, *, entity: str | None = None, node: str | None = None, units: pd.DataFrame | None = None,
                  size_column: str | None = None, drivers: int = 3) -> pd.DataFrame:
    """Two runs (two years, two specs) side by side: per unit its ``group``, ``rank_before``, ``rank_now``,
    ``rank_shift`` (before − now: positive = moved up), the same within the group, the scores and the
    ``drivers``: the indicators whose contribution changed most, now − before (:func:`compare_results`);
    biggest shifts first."""
    c = compare_results(before, now, node=node, drivers=drivers)
    c = c.rename(columns={"coin.1": "rank_before", "coin.2": "rank_now", "Diff": "rank_shift", "score.1": "score_before",
                          "score.2": "score_now"}).drop(columns="Abs.diff")
    t = peer_table({0: before, 1: now}, by, node=node, units=units, size_column=size_column)
    b, n = t[t["period"] == 0].set_index("uCode"), t[t["period"] == 1].set_index("uCode")
    c.insert(1, "group", c["uCode"].map(n["group"]).to_numpy())
    if "name" in n.columns:
        c.insert(1, "name", c["uCode"].map(n["name"]).to_numpy())
    at = c.columns.get_loc("rank_shift") + 1
    c.insert(at, "group_rank_before", c["uCode"].map(b["rank_in_group"]).to_numpy())
    c.insert(at + 1, "group_rank_now", c["uCode"].map(n["rank_in_group"]).to_numpy())
    c.insert(at + 2, "group_rank_shift", c["group_rank_before"] - c["group_rank_now"])
    c = _entity(c, entity)
    return c.sort_values("rank_shift", key=lambda s: -s.abs(), kind="stable", na_position="last").reset_index(drop=True)
