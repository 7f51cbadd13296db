"""Progress on the tasks of the FinTech Development Plan (2019-2021) over time.

Each Plan task is linked in the catalog (framework ``plan-2019-2021``) to the JR/T 0201 indicators that
measure it. For a selection — one institution (a unit), an industry or a province (every unit of a group
value, e.g. ``sector=bank`` or ``region_code=11``) — and each period's result, a task's score is the mean of
its linked indicators' normalised scores over the selection; tasks with no linked indicator in the result
are listed with ``n_present = 0`` and no score, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import SpecError

PLAN_FRAMEWORK = "plan-2019-2021"


def _select(result, who: str) -> pd.Index:
    """``who``: a unit code, or ``column=value`` for every unit of a group."""
    idx = result.final.index
    if "=" in who:
        col, _, val = who.partition("=")
        if result.groups is None or col not in result.groups:
            raise SpecError(f"plan progress: no group column {col!r}", rule="analysis.group", parameter="who")
        key = result.groups[col].reindex(idx).astype(str)
        sel = idx[(key == val).to_numpy()]
    else:
        sel = idx[idx.astype(str) == who]
    if not len(sel):
        raise SpecError(f"plan progress: no unit matches {who!r}", rule="analysis.unit", parameter="who")
    return sel


def plan_progress(results: Mapping[object, object], who: str, *, framework: str = PLAN_FRAMEWORK, lang: str = "zh") -> pd.DataFrame:
    """Per period and Plan task: linked indicators, those with a score, and their mean normalised score over
    the selection ``who`` (module doc); ``change`` on the previous period."""
    from ..catalog import load_framework

    tasks = load_framework(framework).tasks()
    rows = []
    for period in sorted(results):
        r = results[period]
        sel = _select(r, who)
        scores = r.datasets.get("Normalised", r.final).loc[sel]
        for t in tasks:
            codes = list(dict.fromkeys(link.code for link in t.indicators))
            present = [c for c in codes if c in scores.columns and scores[c].notna().any()]
            vals = scores[present].to_numpy(dtype=float) if present else np.empty((0, 0))
            rows.append({
                "period": period, "task": t.number, "code": t.code, "name": t.name.get(lang) or t.name.zh,
                "n_linked": len(codes), "n_present": len(present), "units": len(sel),
                "score": float(np.nanmean(vals)) if vals.size and np.isfinite(vals).any() else np.nan,
                "indicators": ", ".join(present),
            })
    out = pd.DataFrame(rows)
    out["change"] = out.groupby("code", sort=False)["score"].diff()
    return out


PROVINCE_COLUMNS = ("region_code", "province", "region")


def selection(result, *, entity: str | None = None, industry: str | None = None, province: str | None = None) -> str:
    """The ``who`` of :func:`plan_progress` for one of: an institution (``entity``), an industry (``industry``: a
    sector code; the institutions of that sector, or the industry itself in a block-H result whose units are
    sectors) or a province (``province``: code or name, ``44``, ``440000``, ``广东``, ``Guangdong``)."""
    given = [x for x in (entity, industry, province) if x is not None]
    if len(given) != 1:
        raise SpecError("plan progress: give one of --entity, --industry, --province", rule="analysis.unit", parameter="who")
    if entity is not None:
        return str(entity)
    groups = result.groups if result.groups is not None else pd.DataFrame(index=result.final.index)
    if industry is not None:
        if "sector" in groups.columns:
            known = sorted(groups["sector"].dropna().astype(str).unique())
            if industry not in known:
                from ..engine.checks import suggest

                raise SpecError(f"plan progress: no sector {industry!r} in the result{suggest(industry, known)}; sectors: {', '.join(known)}",
                                rule="analysis.unit", parameter="industry")
            return f"sector={industry}"
        return str(industry)  # block H: the industry is a unit
    from ..geo import resolve_many

    col = next((c for c in PROVINCE_COLUMNS if c in groups.columns), None)
    want, _ = resolve_many([province])
    code = want.get(province)
    if code is None:
        raise SpecError(f"plan progress: {province!r} names no province", rule="analysis.unit", parameter="province")
    if col is None:  # block Q: the provinces are the units
        units = result.final.index.astype(str).unique().tolist()
        mapping, _ = resolve_many(units)
        hit = [u for u in units if mapping.get(u) == code]
        if not hit:
            raise SpecError(f"plan progress: the result has no province column ({', '.join(PROVINCE_COLUMNS)}) and no unit {province!r}",
                            rule="analysis.unit", parameter="province")
        return hit[0]
    values = groups[col].dropna().astype(str).unique().tolist()
    mapping, _ = resolve_many(values)
    hit = [v for v in values if mapping.get(v) == code]
    if not hit:
        raise SpecError(f"plan progress: no unit of province {province!r} in the result", rule="analysis.unit", parameter="province")
    return f"{col}={hit[0]}"
