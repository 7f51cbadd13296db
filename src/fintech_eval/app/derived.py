"""Derived values stored: J computed from the institutions' returns, H and Q rolled up, stored with their
status and reason, the framework version, the parameter values and a fingerprint of their inputs.

The fingerprint of an institution's values is a hash of its raw values of the period (the derivation reads
nothing else: a value restated from the period before, such as ``fintech_staff_prev_end``, is reported in the
period itself); an industry's (H) combines the fingerprints of the institutions of its
sector, the institutions of the round in it (the denominator of its shares) and the industry's own figures, a
region's (Q) those of the institutions in it and the region's own figures. :func:`stored_values`
compares them with the current inputs: a value whose inputs changed since it was derived is ``stale``, so a
correction to one institution marks exactly its own values, its industry's and its region's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..derive.institutions import resolve_params
from ..errors import DataError
from ..periods import period_kind
from ..service import derive_stored, round_members, stored_inputs
from ..store import derived_frame, save_derived
from ..vocab import WITH_VALUE
from .campaigns import resolve_campaign
from .workspace import Workspace


@dataclass
class DeriveReport:
    period: str
    framework: str
    framework_version: str
    params: dict[str, float]
    stored: int
    by_status: dict[str, int]


def _hash_rows(df: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(df[["period", "variable", "value_norm"]], index=False).to_numpy(np.uint64)


def fingerprints(obs: pd.DataFrame, institutions: pd.DataFrame, period: str,
                 population: list[str] | None = None) -> dict[tuple[str, str], str]:
    """(block, entity) → fingerprint of the inputs of that entity's values for ``period`` (module doc). An
    industry's also covers the institutions of the round in it (``population``, default the register): the
    denominator of its shares (H-A2B2-C1, H-A4B2-C2)."""
    o = obs[obs["period"].astype(str) == period]
    out: dict[tuple[str, str], str] = {}
    inst = o[o["entity_kind"] == "institution"]
    h = _hash_rows(inst)
    per_inst = pd.Series(h, index=inst["entity_id"].astype(str).to_numpy()).groupby(level=0).agg(
        lambda s: np.bitwise_xor.reduce(s.to_numpy(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
    for e, v in per_inst.items():
        out[("J", e)] = f"{int(v):016x}"
    reg = institutions.set_index(institutions["id"].astype(str))
    for col, block in (("sector", "H"), ("region_code", "Q")):
        key = reg[col].reindex(per_inst.index)
        for g, vals in per_inst.groupby(key.to_numpy()):
            out[(block, str(g))] = vals.to_numpy(np.uint64)
    pop = reg if population is None else reg[reg.index.isin(set(map(str, population)))]
    for g, ids in pop.groupby("sector").groups.items():  # who is in the round, reporting or not
        h = pd.util.hash_pandas_object(pd.Series(sorted(map(str, ids)), dtype=object), index=False).to_numpy(np.uint64)
        prev = out.get(("H", str(g)))
        if prev is not None:  # an industry without any return has no values to be stale
            out[("H", str(g))] = np.concatenate([prev, h * np.uint64(3)])
    for kind, block in (("region", "Q"), ("industry", "H")):  # the region's and the industry's own figures
        own = o[o["entity_kind"] == kind]
        rh = pd.Series(_hash_rows(own), index=own["entity_id"].astype(str).to_numpy())
        for g, vals in rh.groupby(level=0):
            prev = out.get((block, g))
            out[(block, g)] = vals.to_numpy(np.uint64) if prev is None else np.concatenate([prev, vals.to_numpy(np.uint64)])
    for k, v in list(out.items()):
        if isinstance(v, np.ndarray):
            out[k] = f"{int(np.bitwise_xor.reduce(v * np.uint64(0xBF58476D1CE4E5B9))):016x}"
    return out


def _read(ws: Workspace, period: str, campaign_id: int | None = None
          ) -> tuple[pd.DataFrame, pd.DataFrame, list[str] | tuple[str, ...]]:
    """The period's stored observations (the derivation reads one period at a time), the register and the
    round (:func:`~fintech_eval.service.round_members`: the campaign's sample, else who reported)."""
    with ws.sessions() as s:
        obs, inst = stored_inputs(s, period)
        return obs, inst, round_members(s, campaign_id)


@dataclass
class Panel:
    """J, H and Q derived now (:func:`derived_panel`), and the round they were derived for: ``campaign`` (its
    sample) or None (the institutions that reported in each period); ``members``: how many institutions the
    round holds (the campaign's sample; or those with a return in the periods derived)."""

    panel: pd.DataFrame
    campaign: int | None
    period: str | None
    members: int

    @property
    def round(self) -> str:
        """The round in words (the CLI prints it)."""
        if self.campaign is not None:
            return f"the sample of campaign {self.campaign} ({self.members:,} institution(s))"
        return f"the {self.members:,} institution(s) that reported" + (f" in {self.period}" if self.period else "")


def derived_panel(ws: Workspace, *, period: str | None = None, framework: str = "jrt0201-2020",
                  params: dict[str, float] | None = None, campaign_id: int | None = None) -> Panel:
    """J, H and Q derived now from the stored observations, not stored: the long panel (block, entity_id,
    period, code, value, status, reason). The round (the H shares' denominator) is the campaign's sample with
    ``campaign_id`` (its period and parameters unless given), else the institutions that reported in each
    period (``period``, or every period)."""
    if campaign_id is not None:
        c = resolve_campaign(ws, campaign_id)
        if period is not None and str(period) != c.period:
            raise DataError(f"campaign {c.id} is for {c.period}, not {period}", rule="campaign.period")
        period, framework, params, campaign_id = c.period, c.framework, params or c.params, c.id
    with ws.sessions() as s:
        obs, inst = stored_inputs(s, None if period is None else str(period))
        members = round_members(s, campaign_id)
    panel = derive_stored(obs, inst, ws.framework(framework), params, population=members)
    n = len(members) if campaign_id is not None else obs.loc[obs["entity_kind"] == "institution", "entity_id"].nunique()
    return Panel(panel, campaign_id, None if period is None else str(period), int(n))


def derive_and_store(ws: Workspace, *, campaign_id: int | None = None, period: str | None = None,
                     framework: str = "jrt0201-2020", params: dict[str, float] | None = None) -> DeriveReport:
    """Derive J, H and Q for a campaign's period (its parameters) or a period, and store every value."""
    if period is None:
        c = resolve_campaign(ws, campaign_id)
        period, framework, params, campaign_id = c.period, c.framework, params or c.params, c.id
    period = str(period)
    fw = ws.framework(framework)
    p = resolve_params(fw, params)
    period_kind(period)  # a valid period code or an error
    obs, inst, population = _read(ws, period, campaign_id)
    if not len(obs):
        raise DataError(f"no observations stored for {period}", rule="derive.no_data")
    panel = derive_stored(obs, inst, fw, p, population=population)
    panel = panel[panel["period"].astype(str) == period]
    fps = fingerprints(obs, inst, period, population)
    kinds = {"J": "institution", "H": "industry", "Q": "region"}
    blocks = panel["block"].astype(str)
    ents = panel["entity_id"].astype(str)
    frame = pd.DataFrame({
        "entity_kind": blocks.map(kinds).to_numpy(),
        "entity_id": ents.to_numpy(),
        "period": period,
        "code": panel["code"].astype(str).to_numpy(),
        "value": panel["value"].to_numpy(dtype=float),
        "status": panel["status"].astype(str).to_numpy(),
        "reason": panel["reason"].astype(str).replace({"nan": None, "": None}).to_numpy(),
    })
    docs: dict[tuple[str, str], dict[str, Any]] = {}  # one document per entity, shared by its rows
    frame["inputs"] = [docs.get(k) or docs.setdefault(k, {"sha256": fps.get(k, ""), "params": p, "campaign": campaign_id})
                       for k in zip(blocks.tolist(), ents.tolist(), strict=True)]
    frame.loc[~frame["status"].isin(WITH_VALUE), "value"] = np.nan
    with ws.sessions() as s, s.begin():
        n = save_derived(s, frame, framework=fw.id, framework_version=fw.version)
    return DeriveReport(period, fw.id, fw.version, p, n, frame["status"].value_counts().to_dict())


def stored_values(ws: Workspace, *, period: str, block: str | None = None, framework: str = "jrt0201-2020") -> pd.DataFrame:
    """The stored derived values of ``period`` with a ``stale`` column: True where the inputs changed since."""
    kinds = {"J": "institution", "H": "industry", "Q": "region"}
    with ws.sessions() as s:
        d = derived_frame(s, period=str(period), entity_kind=kinds[block] if block else None, framework=framework)
    if d.empty:
        return d.assign(block=pd.Series(dtype=str), stale=pd.Series(dtype=bool))
    docs = [i if isinstance(i, dict) else {} for i in d["inputs"]]
    now: dict[Any, dict[tuple[str, str], str]] = {}  # per round the values were derived for (a campaign, or None)
    for cid in dict.fromkeys(doc.get("campaign") for doc in docs):
        obs, inst, population = _read(ws, str(period), cid)
        now[cid] = fingerprints(obs, inst, str(period), population)
    back = {v: k for k, v in kinds.items()}
    d.insert(0, "block", d["entity_kind"].map(back))
    then = [doc.get("sha256", "") for doc in docs]
    cur = [now[doc.get("campaign")].get((b, e), "") for doc, b, e in zip(docs, d["block"], d["entity_id"], strict=True)]
    d["stale"] = [a != b for a, b in zip(then, cur, strict=True)]
    return d


def stale_summary(values: pd.DataFrame) -> dict[str, Any]:
    st = values[values["stale"]]
    return {"values": int(len(values)), "stale": int(len(st)), "entities": sorted(set(zip(st["block"], st["entity_id"], strict=True)))}
