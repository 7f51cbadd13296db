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
