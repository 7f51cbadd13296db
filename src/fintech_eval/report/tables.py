"""The numbers the reports show, taken from a :class:`~fintech_eval.result.Result` (language-neutral frames).

Everything here reads the result's own tables (``datasets``, ``ranks``, ``group_ranks``, ``records``,
``tree``, ``weights``) so that a report's numbers are the result's numbers. For a panel (index
``(uCode, Time)``) a report shows one period, by default the latest; ranks there are within the period.

Conventions a result may follow to show more:

* the rank intervals an uncertainty analysis saved beside the result (``RESULT/analysis/rank_intervals.csv``,
  passed to the report as ``intervals``: :func:`rank_intervals`), else ``result.records["rank_stats"]`` (or any
  record with columns ``uCode``, ``Q5``, ``Q95``, in any case; the layout of COINr's
  ``get_sensitivity(...)$RankStats``) give each unit's rank interval;
* unit names and groups come from a ``units`` frame passed to the report (index uCode; a ``name`` column and
  group columns), else from ``result.units`` / ``result.groups`` when the result carries them, else from the
  COINr iData file the result was computed from (when it is still there, with the same SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..engine.result import Result
from ..engine.sources import units_from_inputs
from ..engine.tree import Tree
from ..errors import DataError
from ..methods import group_rank, rank

# --- shape of the result --------------------------------------------------------------------------------


def is_panel(result: Result) -> bool:
    idx = result.final.index
    return isinstance(idx, pd.MultiIndex) and "Time" in idx.names


def periods(result: Result) -> list[Any]:
    if not is_panel(result):
        return []
    return sorted(pd.unique(result.final.index.get_level_values("Time")))


def resolve_period(result: Result, period: Any = None) -> Any:
    """The period a report shows: ``period`` if given (checked), else the latest; ``None`` for a cross-section."""
    ps = periods(result)
    if not ps:
        return None
    if period is None:
        return ps[-1]
    for p in ps:
        if str(p) == str(period):
            return p
    raise DataError(f"no period {period!r} in the result; periods are {', '.join(map(str, ps))}", rule="report.period")


def cross_section(df: pd.DataFrame | None, period: Any) -> pd.DataFrame | None:
    """Rows of one period (index uCode) of a panel frame; a cross-sectional frame as it is."""
    if df is None:
        return None
    if isinstance(df.index, pd.MultiIndex) and "Time" in df.index.names:
        return df.xs(period, level="Time")
    return df


def top_code(tree: Tree) -> str:
    return tree.codes(tree.n_levels)[0]


def headline_level(tree: Tree, min_nodes: int = 3) -> int:
    """The level a report's radar and summary columns show: the first level below the top with at least
    ``min_nodes`` nodes (A-level headings of JR/T 0201, COINr's pillars when sub-indices are only two)."""
    for level in range(tree.n_levels - 1, 0, -1):
        if len(tree.codes(level)) >= min_nodes:
            return level
    return max(1, tree.n_levels - 1)


def headline_codes(tree: Tree, level: int | None = None) -> list[str]:
    return tree.codes(level or headline_level(tree))


def node_names(tree: Tree) -> dict[str, str]:
    return dict(zip(tree.meta["code"], tree.meta["name"], strict=True))


def label(tree: Tree, code: str) -> str:
    """``"Name (CODE)"``, or the code when the name is the code."""
    name = node_names(tree).get(code, code)
    return code if name in ("", code) else f"{name} ({code})"


def tree_order(tree: Tree) -> list[str]:
    """Every node, depth first from the top (the order a reader expects a framework in)."""
    out: list[str] = []

    def walk(code: str) -> None:
        out.append(code)
        for k in tree.children(code):
            walk(k)

    for top in tree.codes(tree.n_levels):
        walk(top)
    return out


# --- units: names and groups ------------------------------------------------------------------------------


def unit_info(result: Result, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Index uCode; column ``name`` and one column per group (e.g. ``EurAsia_group``); codes as names when
    nothing better is known. Sources, later ones winning: the COINr input files, ``result.groups``,
    ``result.units``, the ``units`` argument."""
    codes = pd.Index(pd.unique(result.final.index.get_level_values(0).astype(str)), name="uCode")
    out = pd.DataFrame(index=codes)
    sources = [units_from_inputs(result.spec, result.inputs)]
    names = getattr(result, "names", None)
    if isinstance(names, pd.Series) and len(names):
        sources.append(names.rename("name").to_frame())
    sources += [getattr(result, a, None) for a in ("groups", "units")] + [units]
    for f in sources:
        if not isinstance(f, pd.DataFrame) or not len(f.columns):
            continue
        f = f.copy()
        if "uCode" in f.columns:
            f = f.set_index("uCode")
        if isinstance(f.index, pd.MultiIndex):
            f.index = f.index.get_level_values(0)
        f.index = f.index.astype(str)
        f = f[~f.index.duplicated(keep="last")]
        if "uName" in f.columns and "name" not in f.columns:
            f = f.rename(columns={"uName": "name"})
        out = out.drop(columns=[c for c in f.columns if c in out.columns]).join(f, how="left")
    if "name" not in out:
        out["name"] = out.index.to_numpy()
    out["name"] = out["name"].astype(object).where(out["name"].notna(), pd.Series(out.index, index=out.index))
    return out[["name", *[c for c in out.columns if c != "name"]]]


def group_columns(info: pd.DataFrame, result: Result) -> list[str]:
    """The group columns a report compares within: the spec's ranking groups first, then the rest."""
    cols = [c for c in info.columns if c != "name"]
    ranked = [g for g in result.spec.ranks.groups if g in cols or g in result.group_ranks]
    return ranked + [c for c in cols if c not in ranked]


def find_unit(entity: str, info: pd.DataFrame) -> str:
    """The unit code ``entity`` names: its code, or its name (case-insensitive)."""
    if entity in info.index:
        return entity
    folded = {str(c).casefold(): c for c in info.index}
    if str(entity).casefold() in folded:
        return folded[str(entity).casefold()]
    names = {str(n).casefold(): c for c, n in info["name"].items()}
    if str(entity).casefold() in names:
        return names[str(entity).casefold()]
    close = [c for c in info.index if str(entity).casefold() in str(c).casefold() or str(entity).casefold() in str(info.at[c, "name"]).casefold()]
    hint = f"; did you mean {', '.join(map(str, close[:5]))}?" if close else f"; units are e.g. {', '.join(map(str, info.index[:8]))}"
    raise DataError(f"no unit {entity!r} in the result{hint}", rule="report.entity", unit=entity)


# --- scores and ranks -------------------------------------------------------------------------------------


@dataclass
class View:
    """One period of a result, ready for a report: scores, ranks, and the context to read them in."""

    result: Result
    period: Any
    scores: pd.DataFrame  # index uCode: indicators (normalised) and aggregates (final data set)
    ranks: pd.DataFrame  # same shape, 1 = best
    info: pd.DataFrame  # index uCode: name, groups
    groups: list[str]

    @property
    def tree(self) -> Tree:
        return self.result.tree

    @property
    def top(self) -> str:
        return top_code(self.tree)

    def group_of(self, unit: str, group: str) -> Any:
        return self.info.at[unit, group] if group in self.info.columns else None

    def group_members(self, group: str, value: Any) -> pd.Index:
        if group not in self.info.columns:
            return pd.Index([])
        return self.info.index[self.info[group] == value].intersection(self.scores.index)

    def group_ranks(self, group: str) -> pd.DataFrame | None:
        """Ranks within ``group`` for this period (from the result, or computed when it has none for it)."""
        if group in self.info.columns:
            g = self.info[group].reindex(self.scores.index)
            if is_panel(self.result) or group not in self.result.group_ranks:
                return group_rank(self.scores, g)
        return cross_section(self.result.group_ranks.get(group), self.period)


def view(result: Result, period: Any = None, units: pd.DataFrame | None = None) -> View:
    p = resolve_period(result, period)
    scores = cross_section(result.final, p)
    if is_panel(result):
        ranks = rank(scores)  # within the period, as the pipeline ranks a panel
    else:
        ranks = result.ranks if result.ranks is not None else rank(scores)
    scores.index = scores.index.astype(str)
    ranks = ranks.copy()
    ranks.index = ranks.index.astype(str)
    info = unit_info(result, units)
    return View(result=result, period=p, scores=scores, ranks=ranks, info=info, groups=group_columns(info, result))


def ranking_table(v: View, level: int | None = None) -> pd.DataFrame:
    """One row per unit, best first: rank, uCode, name, groups, total, headline scores."""
    top = v.top
    heads = [c for c in headline_codes(v.tree, level) if c in v.scores.columns]
    df = pd.DataFrame(
        {"rank": v.ranks[top], "uCode": v.scores.index, "name": v.info["name"].reindex(v.scores.index)},
        index=v.scores.index,
    ).rename_axis(None)
    for g in v.groups:
        df[g] = v.info[g].reindex(v.scores.index)
    df["total"] = v.scores[top]
    for c in heads:
        df[c] = v.scores[c]
    df = df.sort_values(["total", "uCode"], ascending=[False, True], na_position="last")
    return df.reset_index(drop=True)


def rank_change(result: Result, period: Any) -> pd.Series | None:
    """Rank in the previous period minus rank now (positive = moved up), for a panel; None otherwise."""
    ps = periods(result)
    if not ps or period == ps[0]:
        return None
    prev = ps[ps.index(period) - 1]
    top = top_code(result.tree)
    now = rank(cross_section(result.final, period)[top])
    before = rank(cross_section(result.final, prev)[top])
    now.index, before.index = now.index.astype(str), before.index.astype(str)
    return (before.reindex(now.index).astype(float) - now.astype(float)).rename("rank_change")


def trend_table(result: Result, unit: str, codes: list[str]) -> pd.DataFrame:
    """Index period; the unit's score in each of ``codes``, and its overall rank each period."""
    ps = periods(result)
    top = top_code(result.tree)
    rows = []
    for p in ps:
        cs = cross_section(result.final, p)
        cs.index = cs.index.astype(str)
        if unit not in cs.index:
            continue
        r = rank(cs[top])
        rows.append({"period": p, **{c: cs.at[unit, c] for c in codes}, "rank": r.get(unit), "n": int(cs[top].notna().sum())})
    return pd.DataFrame(rows)


def _record_intervals(result: Result) -> dict[str, tuple[float, float]]:
    """Unit → (Q5, Q95) of its rank from the result's uncertainty records (the first record that has the unit),
    read once for every unit."""
    out: dict[str, tuple[float, float]] = {}
    for df in result.records.values():
        frame = df.reset_index() if df.index.name else df
        cols = {str(c).casefold(): c for c in frame.columns}
        if "ucode" in cols and "q5" in cols and "q95" in cols:
            for u, lo, hi in zip(frame[cols["ucode"]].astype(str), frame[cols["q5"]], frame[cols["q95"]], strict=True):
                out.setdefault(u, (float(lo), float(hi)))
    return out


def rank_interval(result: Result, unit: str) -> tuple[float, float] | None:
    """(Q5, Q95) of the unit's rank from an uncertainty record, when the result has one."""
    return _record_intervals(result).get(unit)


def rank_intervals(v: View, intervals: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Per unit of the view (index uCode): ``rank``, ``low``, ``high``, ``median`` and ``level`` of its rank
    interval, from ``intervals`` (what :func:`fintech_eval.analysis.load_rank_intervals` reads: the uncertainty
    analysis saved beside the result) or else from a record of the result with uCode, Q5 and Q95 (level 0.9);
    None when there is neither.

    ``intervals`` must describe this result: its rows for the index are matched by uCode, and a unit whose
    nominal rank there differs from its rank here (the analysis ran on other data or another spec) is a
    :class:`DataError` naming it, never an interval printed beside the wrong rank."""
    top = v.top
    if intervals is not None:
        iv = intervals.reset_index() if "uCode" not in intervals.columns else intervals
        iv = iv.assign(uCode=iv["uCode"].astype(str))
        if "target" in iv.columns:
            iv = iv[iv["target"].astype(str) == str(top)]
        iv = iv.drop_duplicates("uCode", keep="last").set_index("uCode")
        common = v.ranks.index.astype(str).intersection(iv.index)
        if not len(common):
            raise DataError(f"the rank intervals name none of the result's units for {top}", rule="report.intervals")
        ours = v.ranks[top].reindex(common).astype(float)
        theirs = iv["rank"].reindex(common).astype(float)
        bad = common[~((ours == theirs) | (ours.isna() & theirs.isna())).to_numpy()]
        if len(bad):
            u = bad[0]
            raise DataError(
                f"the rank intervals were computed for another result: {u} is ranked {ours[u]:g} here but {theirs[u]:g} "
                f"in the uncertainty analysis ({len(bad)} unit(s) differ); run `fintech-eval analyse` on this result again",
                rule="report.intervals", unit=str(u))
        out = pd.DataFrame({
            "rank": ours, "low": iv["rank_low"].reindex(common).astype(float), "high": iv["rank_high"].reindex(common).astype(float),
            "median": iv["rank_median"].reindex(common).astype(float) if "rank_median" in iv else np.nan,
            "level": iv["level"].reindex(common).astype(float) if "level" in iv else 0.9,
        })
        return out[out[["low", "high"]].notna().all(axis=1)]
    found = _record_intervals(v.result)
    rows = {str(u): found[str(u)] for u in v.ranks.index if str(u) in found}
    if not rows:
        return None
    ranks = v.ranks[top].set_axis(v.ranks.index.astype(str))
    return pd.DataFrame({
        "rank": ranks.reindex(list(rows)).astype(float), "low": [np.floor(x[0]) for x in rows.values()],
        "high": [np.ceil(x[1]) for x in rows.values()], "median": np.nan, "level": 0.9,
    }, index=pd.Index(list(rows), name="uCode"))


# --- indicators: strengths, weaknesses, gaps --------------------------------------------------------------


def _as_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.reset_index() if df.index.name is not None or isinstance(df.index, pd.MultiIndex) else df


def impute_log(result: Result, period: Any = None) -> pd.DataFrame:
    """The imputation record (uCode, iCode, status, value, method, source), one period of a panel."""
    log = result.records.get("impute_log")
    if log is None or not len(log):
        return pd.DataFrame(columns=["uCode", "iCode", "status", "value", "method", "source"])
    log = _as_frame(log).copy()
    log["uCode"] = log["uCode"].astype(str)
    if period is not None and "Time" in log.columns:
        log = log[log["Time"].astype(str) == str(period)]
    return log.reset_index(drop=True)


def raw_data(result: Result, period: Any = None) -> pd.DataFrame:
    raw = cross_section(result.datasets.get("Raw", result.final), period).copy()
    raw.index = raw.index.astype(str)
    return raw


def strengths_weaknesses(v: View, unit: str, n: int = 5, unq_thresh: float = 0.5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` indicators where ``unit`` ranks best and worst (COINr ``get_str_weak``): ranks of the final
    (direction-adjusted) indicator values; indicators with fewer distinct values than ``unq_thresh`` × units
    are skipped (their ranks say little); each row says the raw value and whether it was imputed."""
    inds = [c for c in v.tree.indicators if c in v.ranks.columns]
    vals = v.scores[inds]
    n_units = vals.notna().sum()
    distinct = vals.nunique()
    keep = [c for c in inds if distinct[c] >= unq_thresh * max(1, n_units[c]) and pd.notna(v.ranks.at[unit, c])]
    raw = raw_data(v.result, v.period)
    imputed = set(impute_log(v.result, v.period).query("uCode == @unit and status == 'imputed'")["iCode"]) if "status" in impute_log(v.result, v.period) else set()
    parent = v.tree.parent_of
    names = node_names(v.tree)
    r = v.ranks.loc[unit, keep].astype(float)
    table = pd.DataFrame(
        {
            "iCode": keep,
            "name": [names.get(c, c) for c in keep],
            "parent": [names.get(parent.get(c) or "", parent.get(c) or "") for c in keep],
            "rank": r.to_numpy(),
            "n": n_units[keep].to_numpy(int),
            "raw": [raw.at[unit, c] if c in raw.columns and unit in raw.index else np.nan for c in keep],
            "score": vals.loc[unit, keep].to_numpy(float),
            "imputed": [c in imputed for c in keep],
        }
    )
    table["_order"] = range(len(table))
    best = table.sort_values(["rank", "_order"]).head(n).drop(columns="_order").reset_index(drop=True)
    worst = table.sort_values(["rank", "_order"], ascending=[False, True]).head(n).drop(columns="_order").reset_index(drop=True)
    return best, worst


def not_applicable(v: View, unit: str) -> dict[str, list[str]]:
    """Indicator → the sectors it applies to, for the indicators of ``v``'s tree that do not apply to ``unit``.

    From a ``not_applicable`` mask the result carries (units × indicators, True = not applicable) when it has
    one, else from the framework's sector applicability and the unit's ``sector`` group."""
    from .localise import applicability

    mask = getattr(v.result, "not_applicable", None)
    if isinstance(mask, pd.DataFrame) and len(mask):
        m = cross_section(mask, v.period)
        m.index = m.index.astype(str)
        if unit in m.index:
            row = m.loc[unit]
            fw_rules = applicability(v.tree, v.group_of(unit, "sector"))
            return {str(c): fw_rules.get(str(c), []) for c in row.index[row.astype(bool).to_numpy()]}
    return applicability(v.tree, v.group_of(unit, "sector"))


#: a unit's indicator, by what the evaluation had and did: reported, imputed, missing (not imputed, left out),
#: not applicable (left out, not missing), dropped (reported but left out of the scores by a step)
STATUSES = ("present", "imputed", "missing", "not_applicable", "dropped")


def unit_data_status(v: View, unit: str) -> pd.DataFrame:
    """One row per indicator of the tree: iCode, name, status (:data:`STATUSES`), raw value, the imputed value
    with its method and source, and for a not-applicable indicator the sectors it applies to."""
    log = impute_log(v.result, v.period)
    log = log[log["uCode"] == unit]
    by_code = log.drop_duplicates("iCode").set_index("iCode") if len(log) else None
    names = node_names(v.tree)
    raw = raw_data(v.result, v.period)
    na = not_applicable(v, unit)
    rows = []
    for c in v.tree.indicators:
        rec = by_code.loc[c] if by_code is not None and c in by_code.index else None
        rv = raw.at[unit, c] if c in raw.columns and unit in raw.index else np.nan
        score = v.scores.at[unit, c] if c in v.scores.columns and unit in v.scores.index else np.nan
        if c in na:
            status = "not_applicable"
        elif rec is not None and rec.get("status") == "imputed":
            status = "imputed"
        elif pd.isna(rv):
            status = "missing"
        elif pd.isna(score):
            status = "dropped"
        else:
            status = "present"
        rows.append({
            "iCode": c, "name": names.get(c, c), "status": status, "raw": rv,
            "value": rec["value"] if rec is not None and status == "imputed" else np.nan,
            "method": str(rec["method"]) if rec is not None and status == "imputed" and pd.notna(rec.get("method")) else "",
            "source": str(rec["source"]) if rec is not None and status == "imputed" and "source" in rec and pd.notna(rec["source"]) else "",
            "sectors": na.get(c, []),
        })
    return pd.DataFrame(rows, columns=["iCode", "name", "status", "raw", "value", "method", "source", "sectors"])


def step_groups(result: Result) -> list[tuple[str, str]]:
    """(stage, group column) of the spec's steps that work within groups (``by: sector``)."""
    out = []
    for step in result.spec.steps:
        for stage, params in step.items():
            by = (params or {}).get("by") if isinstance(params, dict) else None
            if isinstance(by, str) and stage in ("normalise", "treat", "impute"):
                out.append((stage, by))
    return out


def dropped_reason(v: View, unit: str, code: str) -> tuple[str, str | None, Any]:
    """Why a reported indicator has no normalised score for ``unit``: ``("constant", column, group)`` when every
    unit of its group (the normalise step's ``by``, else all units) has the same raw value, ``("few", …)`` when
    the group has fewer than two values, else ``("unknown", …)``."""
    raw = raw_data(v.result, v.period)
    column = next((by for stage, by in step_groups(v.result) if stage == "normalise"), None)
    if column is not None and column in v.info.columns:
        value = v.group_of(unit, column)
        members = v.info.index[v.info[column] == value].intersection(raw.index)
    else:
        value, members = None, raw.index
    vals = raw.loc[members, code].dropna() if code in raw.columns else pd.Series(dtype=float)
    if len(vals) < 2:
        return "few", column, value
    if vals.nunique() == 1:
        return "constant", column, value
    return "unknown", column, value


def coverage_of(status: pd.DataFrame) -> float:
    """Share of the applicable indicators whose raw value was reported (imputed ones count as not reported)."""
    applicable = status[status["status"] != "not_applicable"]
    if not len(applicable):
        return float("nan")
    return float(applicable["status"].isin(["present", "dropped"]).mean())


def unit_gaps(v: View, unit: str) -> pd.DataFrame:
    """The unit's applicable indicators without a reported value (missing or imputed) and what the evaluation
    put in their place."""
    st = unit_data_status(v, unit)
    return st[st["status"].isin(["missing", "imputed"])][["iCode", "name", "status", "value", "method", "source"]].reset_index(drop=True)


def availability(v: View) -> pd.DataFrame:
    """Per unit: share of its *applicable* raw indicator values present, the number imputed and the number
    not applicable (a bank-only indicator is not missing for a payment firm)."""
    from .localise import framework_of

    raw = raw_data(v.result, v.period)
    inds = [c for c in v.tree.indicators if c in raw.columns]
    present = raw[inds].notna() if inds else pd.DataFrame(index=raw.index)
    na = pd.DataFrame(False, index=raw.index, columns=inds)
    mask = getattr(v.result, "not_applicable", None)
    if isinstance(mask, pd.DataFrame) and len(mask):
        m = cross_section(mask, v.period).copy()
        m.index = m.index.astype(str)
        na = m.reindex(index=raw.index, columns=inds, fill_value=False).fillna(False).astype(bool)
    elif "sector" in v.info.columns and framework_of(v.tree) is not None:
        from .localise import applicability

        sectors = v.info["sector"].reindex(raw.index)
        for s in pd.unique(sectors.dropna()):
            codes = [c for c in applicability(v.tree, s) if c in na.columns]
            if codes:
                na.loc[sectors.index[sectors == s], codes] = True
    applicable = (~na).sum(axis=1)
    cov = (present & ~na).sum(axis=1) / applicable.where(applicable > 0)
    log = impute_log(v.result, v.period)
    n_imp = log[log.get("status", pd.Series(dtype=str)) == "imputed"].groupby("uCode").size() if len(log) else pd.Series(dtype=int)
    out = pd.DataFrame({"uCode": cov.index, "name": v.info["name"].reindex(cov.index).to_numpy(), "coverage": cov.to_numpy(float)})
    out["applicable"] = applicable.to_numpy(int)
    out["not_applicable"] = na.sum(axis=1).to_numpy(int)
    out["imputed"] = n_imp.reindex(cov.index).fillna(0).astype(int).to_numpy()
    return out.sort_values(["coverage", "uCode"]).reset_index(drop=True)


# --- method: weights, treatment ---------------------------------------------------------------------------


def effective_weights(tree: Tree) -> pd.Series:
    """Each node's share of the top: product of sibling-normalised weights on the path up."""
    w = tree.weights
    parent = tree.parent_of
    rel: dict[str, float] = {}
    for p in {*parent.values()} - {None}:
        kids = tree.children(p)
        s = float(w[kids].sum())
        for k in kids:
            rel[k] = float(w[k]) / s if s > 0 else np.nan
    out = {}
    for code in tree.meta["code"]:
        e, c = 1.0, code
        while parent.get(c) is not None:
            e *= rel.get(c, np.nan)
            c = parent[c]
        out[code] = e
    return pd.Series(out, name="effective_weight")


def tree_table(tree: Tree, weights: pd.Series | None = None) -> pd.DataFrame:
    """Framework in reading order: code, name, level, parent, weight, effective weight, direction."""
    t = tree if weights is None else tree.with_weights(weights.reindex(tree.meta["code"]).dropna())
    meta = t.meta.set_index("code")
    eff = effective_weights(t)
    order = tree_order(t)
    directions = t.directions
    return pd.DataFrame(
        {
            "code": order,
            "name": [meta.at[c, "name"] for c in order],
            "level": [int(meta.at[c, "level"]) for c in order],
            "parent": [meta.at[c, "parent"] or "" for c in order],
            "weight": [float(meta.at[c, "weight"]) for c in order],
            "effective_weight": [float(eff[c]) for c in order],
            "direction": [int(directions[c]) if c in directions.index else np.nan for c in order],
        }
    )


def treatment_summary(result: Result) -> pd.DataFrame | None:
    """Per treated indicator: how many points were treated and the final check (from ``treat_details`` /
    ``treat_points``)."""
    details = result.records.get("treat_details")
    points = result.records.get("treat_points")
    if details is None and points is None:
        return None
    rows = []
    if points is not None and len(points):
        p = _as_frame(points)
        cols = [c for c in p.columns if c not in ("uCode", "Time")]
        for c in cols:
            col = p[c]
            marks = col[col.notna() & (col.astype(str).str.strip() != "")]
            if len(marks):
                kinds = ", ".join(sorted({str(x) for x in marks})[:4])
                rows.append({"iCode": c, "points": int(len(marks)), "treatment": kinds})
    out = pd.DataFrame(rows, columns=["iCode", "points", "treatment"])
    return out


def treatment_table(details: pd.DataFrame, summary: pd.DataFrame, treated: list[str]) -> pd.DataFrame:
    """The treated indicators' rows of ``treat_details``: COINr's first and last skew/kurtosis check and the
    number of points winsorised, plus the points marked in ``treat_points``; other layouts as they are."""
    d = _as_frame(details)
    key = d.columns[0]
    d[key] = d[key].astype(str)
    pass_cols = [c for c in d.columns if str(c).endswith(".Pass")]
    if pass_cols:
        first = d[pass_cols[0]].astype("boolean")
        treated = list(dict.fromkeys([*treated, *d.loc[first.eq(False).fillna(False).astype(bool), key]]))
    d = d[d[key].isin(treated)].reset_index(drop=True)
    skew = [c for c in d.columns if str(c).endswith(".Skew")]
    kurt = [c for c in d.columns if str(c).endswith(".Kurt")]
    nwin = [c for c in d.columns if "nwin" in str(c)]
    if skew and kurt and pass_cols:
        last = lambda cols: d[cols].astype(float).ffill(axis=1).iloc[:, -1]  # noqa: E731 - the last check run
        compact = pd.DataFrame({"iCode": d[key], "skew0": d[skew[0]], "kurt0": d[kurt[0]]})
        if nwin:
            compact["nwin"] = d[nwin[0]]
        compact["skew1"] = last(skew)
        compact["kurt1"] = last(kurt)
        compact["pass1"] = d[pass_cols].astype("boolean").astype(object).T.ffill().T.iloc[:, -1]
        d = compact
        key = "iCode"
    if summary is not None and len(summary):
        d = d.merge(summary.rename(columns={"iCode": key}), on=key, how="left")
        if "nwin" in d.columns:
            d = d.drop(columns="points")
    return d
