"""The region figures of JR/T 0201 §9.2.2 (table 25, Q-A1B2) computed from the key-technology enterprise
register: the number of enterprises in each region (Q-A1B2-C1), their total financing (Q-A1B2-C2) and the
market value of the listed ones (Q-A1B2-C3), for one period.

The register is the state as registered (active enterprises, their province); the money figures are the sums
of the period's size attributes (``total_financing``, ``market_value``, `fintech-eval register sizes`). A region
where an enterprise that should count lacks its size attribute gets no money figure (a partial sum would
understate it): a warning names the region and the enterprises. :func:`store_key_tech_figures` imports the
figures as region observations through the ordinary import (validated, converted from 元 to 万元, kept as a
submission, audited), so that they reach Q like any region data, and says where they came from.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError, Problem, first_of
from ..periods import period_kind
from ..store import key_tech_frame, size_frame
from .intake import ImportReport, import_files
from .workspace import Workspace

#: region variable ← (size attribute summed, only the listed enterprises); None: the count of enterprises
FIGURES: dict[str, tuple[str, bool] | None] = {
    "q_fintech_key_enterprises": None,
    "q_fintech_key_financing": ("total_financing", False),
    "q_fintech_key_listed_market_cap": ("market_value", True),
}
SOURCE = "key-tech register"


@dataclass
class KeyTechFigures:
    period: str
    figures: pd.DataFrame  # entity_kind, entity, period, variable, value, unit, source
    warnings: list[Problem] = field(default_factory=list)
    stored: ImportReport | None = None


def key_tech_figures(ws: Workspace, period: str) -> KeyTechFigures:
    """The Q-A1B2 region figures of ``period`` from the register (module doc); nothing is stored."""
    period = str(period).strip()
    if period_kind(period) is None:
        raise DataError(f"period {period!r} is not a reporting period (use 2024, 2024Q1 or 2024-03)", rule="keytech.period")
    with ws.sessions() as s:
        ent = key_tech_frame(s)
        sizes = size_frame(s, period=period, kind="enterprise")
    ent = ent[(ent["status"] == "active") & ent["region_code"].notna() & (ent["region_code"].astype(str) != "")]
    if ent.empty:
        raise DataError("no active key-technology enterprise with a region is registered: "
                        "run `fintech-eval register key-tech FILE` first", rule="keytech.empty")
    wide = sizes.pivot(index="entity_id", columns="attribute", values="value") if len(sizes) else pd.DataFrame()
    rows, warnings = [], []
    for region, g in ent.groupby("region_code", sort=True):
        for var, rule in FIGURES.items():
            if rule is None:
                rows.append((region, var, float(len(g)), "enterprise"))
                continue
            attr, listed_only = rule
            members = g[g["listed"]] if listed_only else g
            vals = (wide[attr] if attr in wide.columns else pd.Series(dtype=float)).reindex(members["id"])
            lacking = members["id"][vals.isna().to_numpy()].tolist()
            if lacking:
                warnings.append(Problem("keytech.size_missing", f"region {region}: no {var} for {period}, "
                                        f"{len(lacking)} enterprise(s) lack {attr}: {first_of(lacking, what='in all')}",
                                        {"region": region, "variable": var}))
                continue
            rows.append((region, var, float(vals.sum()), "元"))
    fig = pd.DataFrame(rows, columns=["entity", "variable", "value", "unit"])
    fig.insert(0, "entity_kind", "region")
    fig.insert(2, "period", period)
    fig["source"] = SOURCE
    return KeyTechFigures(period, fig, warnings)


def store_key_tech_figures(ws: Workspace, period: str, *, who: str = "cli") -> KeyTechFigures:
    """:func:`key_tech_figures`, imported as region observations (one submission, all-or-nothing; the same
    figures again are the same submission)."""
    res = key_tech_figures(ws, period)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"key-tech-figures-{res.period}.csv"
        res.figures.to_csv(path, index=False)
        res.stored = import_files(ws, [path], user=who)
    return res
