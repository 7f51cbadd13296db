"""The §4 sample drawn from the register: institutions by sector and size (top-N, revenue coverage,
stratified, census) with the coverage it reaches (:func:`fintech_eval.collect.sample.sample`).

Sizes come from the register's size attributes of the period; an institution without a registered
attribute takes it from its own imported return of that period when the attribute is also a raw variable
the framework collects (``operating_revenue``: a round's previous returns are then enough to sample the
next one). Such values are converted to the register's unit (yuan) and counted in
:attr:`SampleDraw.from_returns`; a registered value always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..collect.sample import SIZE_ATTRIBUTES, SampleResult, sample
from ..collect.units import conversion_factor
from ..store import institutions_frame, observations_frame, size_frame
from .workspace import Workspace

#: the unit size attributes are stored in (money in yuan; shares as fractions)
REGISTER_UNITS = {"operating_revenue": "CNY", "total_financing": "CNY", "market_value": "CNY", "market_share": "fraction"}


@dataclass
class SampleDraw:
    result: SampleResult
    period: str
    from_returns: dict[str, int]  # attribute → institutions whose size was read from their return

    def write(self, out: str | Path) -> tuple[Path, Path]:
        """``OUT.csv`` (the sample: `campaign create --sample` reads it) and ``OUT_coverage.csv``."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        paths = out.with_suffix(".csv"), out.with_name(out.stem + "_coverage.csv")
        self.result.sample.to_csv(paths[0], index=False)
        self.result.coverage.to_csv(paths[1], index=False)
        return paths


def sizes_of(ws: Workspace, period: str, framework: str = "jrt0201-2020") -> tuple[pd.DataFrame, dict[str, int]]:
    """Size attributes of ``period`` (long: institution_id, period, attribute, value), the register's
    completed from the returns (module doc); and how many were taken from returns, per attribute."""
    fw = ws.framework(framework)
    units = {v.name: v.unit for v in fw.variables}
    collected = [a for a in SIZE_ATTRIBUTES if a in units]
    with ws.sessions() as s:
        reg = size_frame(s, period=period)
        obs = observations_frame(s, period=period, entity_kind="institution", variables=collected,
                                 columns=["entity_id", "period", "variable", "value_norm", "unit_norm"]) if collected else None
    taken: dict[str, int] = {}
    if obs is None or obs.empty:
        return reg, taken
    obs = obs[obs["value_norm"].notna()]
    have = set(zip(reg["institution_id"], reg["attribute"], strict=True))
    parts = [reg]
    for attr, part in obs.groupby("variable", sort=True):
        part = part[[(e, attr) not in have for e in part["entity_id"]]]
        if part.empty:
            continue
        factor = conversion_factor(units[attr], REGISTER_UNITS[attr], variable=attr)
        parts.append(pd.DataFrame({"institution_id": part["entity_id"].astype(str).to_numpy(), "period": str(period),
                                   "attribute": attr, "value": part["value_norm"].to_numpy(float) * factor}))
        taken[str(attr)] = len(part)
    return pd.concat(parts, ignore_index=True), taken


def draw_sample(ws: Workspace, *, period: str, method: str = "coverage", by: str = "operating_revenue",
                sectors: list[str] | None = None, framework: str = "jrt0201-2020", **params: Any) -> SampleDraw:
    """Draw the sample of the registered institutions by their sizes in ``period`` (see
    :func:`fintech_eval.collect.sample.sample` for the methods and ``params``)."""
    period = str(period)
    with ws.sessions() as s:
        inst = institutions_frame(s)
    sizes, taken = sizes_of(ws, period, framework)
    return SampleDraw(sample(inst, sizes, period, method=method, by=by, sectors=sectors, **params), period, taken)
