"""Where an evaluation's inputs come from: one interface, three sources.

A source turns a spec's ``data`` section into :class:`Inputs`: the values (units × indicators, or (unit,
period) × indicators for a panel), the tree, the group columns, the unit names, the not-applicable mask,
the denominators, iMeta when there is one, and a fingerprint of each input, so that a result remembers
exactly what it scored. Sources are registered in :data:`SOURCES` by the name ``data.source`` gives:

* ``coinr``: COINr's iData and iMeta CSV files (fingerprints: their SHA-256);
* ``frame``: DataFrames passed in code (``frames={"data": ..., "tree": ...}``; fingerprints: a hash of
  each frame's values);
* ``store``: the observations imported into the database, derived with the framework (the data layer's
  derivation), one block and period; groups and names from the institution register. ``frames={"store":
  {}}`` lends it a cache: specs of several blocks of the same database, period, parameters and campaign then
  derive once (``fintech-eval score`` does this).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..registry import Registry
from .tree import Tree


@dataclass(frozen=True, eq=False)
class Inputs:
    data: pd.DataFrame
    tree: Tree
    groups: pd.DataFrame
    denominators: pd.DataFrame
    names: pd.Series | None = None
    not_applicable: pd.DataFrame | None = None
    imeta: pd.DataFrame | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)  # input → SHA-256 (files) or value hash (frames)


SOURCES = Registry("data source")


def read_inputs(spec: Any, frames: dict[str, Any] | None = None) -> Inputs:
    """The spec's inputs, read by its source."""
    fn: Callable[..., Inputs] = SOURCES.get(spec.data.source)
    return fn(spec, frames)


def frame_fingerprint(obj: pd.DataFrame | pd.Series | None) -> str:
    """A SHA-256 of a frame's index, columns and values (row order matters): what was scored, without files."""
    if obj is None:
        return ""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
    if isinstance(obj, pd.DataFrame):
        h.update("\x1f".join(map(str, obj.columns)).encode())
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@SOURCES.register("frame")
def frame_source(spec: Any, frames: dict[str, Any] | None) -> Inputs:
    """DataFrames given in code: ``data`` and ``tree`` required; ``groups``, ``denominators``, ``names``,
    ``not_applicable`` optional."""
    if not frames or "data" not in frames or "tree" not in frames:
        raise SpecError("data source 'frame' needs frames={'data': DataFrame, 'tree': Tree}", step="data", parameter="source")
    data = frames["data"]
    empty = pd.DataFrame(index=data.index)
    groups = frames.get("groups")
    groups = empty if groups is None else groups
    dens = frames.get("denominators")
    dens = empty if dens is None else dens
    fps = {"frame:data": frame_fingerprint(data)}
    for k in ("groups", "denominators", "not_applicable", "names"):
        if frames.get(k) is not None:
            fps[f"frame:{k}"] = frame_fingerprint(frames[k])
    fps["frame:tree"] = frame_fingerprint(frames["tree"].meta)
    return Inputs(
        data=data, tree=frames["tree"], groups=groups, denominators=dens, names=frames.get("names"),
        not_applicable=frames.get("not_applicable"), fingerprints=fps,
    )


@SOURCES.register("coinr")
def coinr_source(spec: Any, frames: dict[str, Any] | None = None) -> Inputs:
    """COINr's iData/iMeta files (paths relative to the spec); ``period`` selects one period of a panel."""
    from .coinr import read_coinr

    idata, imeta = spec.path(spec.data.idata or ""), spec.path(spec.data.imeta or "")
    for p in (idata, imeta):
        if not p.exists():
            raise SpecError(f"data file not found: {p}", rule="spec.data", step="data", file=str(p))
    coin = read_coinr(idata, imeta)
    data, groups, dens, names = coin.data, coin.groups, coin.denominators, coin.names
    if spec.data.period is not None:
        if not coin.is_panel:
            raise SpecError("data.period given but the data has no Time column", step="data", parameter="period")
        t = data.index.get_level_values("Time")
        sel = np.asarray(t == type(t[0])(spec.data.period))
        if not sel.any():
            raise SpecError(f"data.period {spec.data.period!r} is not in the data", step="data", parameter="period")
        data, groups, dens, names = (f[sel].droplevel("Time") for f in (data, groups, dens, names))
    return Inputs(
        data=data, tree=coin.tree, groups=groups, denominators=dens, names=names, imeta=coin.imeta,
        fingerprints=coin.fingerprints,  # SHA-256 of the bytes parsed, hashed while parsing
    )


#: Register columns a block's units are grouped by when the spec names none (J: institutions).
DEFAULT_GROUPS = {"J": ["sector", "region_code"]}


@SOURCES.register("store")
def store_source(spec: Any, frames: dict[str, Any] | None = None) -> Inputs:
    """The database's observations → the framework's derivation → one block and period (not-applicable
    cells masked, never counted as missing); groups and names from the institution register. ``data.campaign``:
    the campaign whose sample is the round (the H shares' denominator; without one, the institutions that
    reported in the period); only its sample's institutions are scored (J) and rolled up (H, Q) unless
    ``data.outside_sample`` is true (then every institution with data in the period, e.g. listed banks' public
    disclosures imported as reference data). ``frames["store"]``: a dict the derivation is cached in (module doc)."""
    from ..catalog import load_framework
    from ..derive import resolve_params
    from ..service import derive_stored, keep_to_sample, open_existing_db, round_members, stored_inputs
    from ..store import database_url, regions_frame, session_factory

    d = spec.data
    db = d.db
    if db is not None and "://" not in db and not Path(db).is_absolute():
        db = str(spec.path(db))
    fw = load_framework(d.framework or "jrt0201-2020")
    cache = (frames or {}).get("store")
    key = (database_url(db), fw.id, fw.version, str(d.period), tuple(sorted(resolve_params(fw, d.params).items())), d.campaign,
           bool(d.outside_sample))
    if cache is not None and key in cache:
        panel, inst, regions = cache[key]
    else:
        engine = open_existing_db(db)  # a missing or foreign database is one line saying what to do
        try:
            with session_factory(engine)() as s:
                obs, inst = stored_inputs(s, str(d.period))  # the derivation of a period reads that period only
                population = round_members(s, d.campaign)
                regions = regions_frame(s)
        finally:
            engine.dispose()
        if d.campaign is not None and not d.outside_sample:
            obs = keep_to_sample(obs, population)
        panel = derive_stored(obs, inst, fw, d.params, population=population)
        if cache is not None:
            cache[key] = (panel, inst, regions)
    register = inst.set_index("id")
    groups = None
    cols = d.groups if d.groups is not None else DEFAULT_GROUPS.get(d.block, [])
    if cols:
        unknown = [c for c in cols if c not in register.columns]
        if unknown:
            raise SpecError(
                f"data.groups: the register has no column(s) {', '.join(unknown)}; it has {', '.join(register.columns)}",
                step="data", parameter="groups",
            )
        groups = register[cols]
    names = unit_names(register, d.block, d.names or "zh", regions=regions)
    inputs = block_inputs(panel, fw, d.block, period=str(d.period), groups=groups, names=names)
    fps = {f"store:{database_url(db)}:{fw.id}:{d.block}:{d.period}": frame_fingerprint(inputs.data)}
    return Inputs(**{**inputs.__dict__, "fingerprints": fps})


def unit_names(register: pd.DataFrame, block: str, lang: str = "zh", *, regions: pd.DataFrame | None = None) -> pd.Series | None:
    """Display names of a block's units: institutions from the register (``name_zh``/``name_en``, falling back
    to the Chinese name, then the code), industries by sector, regions by code from the region register
    (``regions``), else GB/T 2260's names."""
    from ..catalog.models import INDUSTRY_NAMES

    if block == "Q":
        from ..geo import provinces

        t = provinces(include_out_of_scope=True)
        names = pd.Series(t[f"name_{lang}"].to_numpy(), index=t["prefix"].to_numpy())
        if regions is not None and len(regions):
            own = regions.set_index("code")[f"name_{lang}"]
            own = own[own.notna() & (own.astype(str) != "")]
            names = own.combine_first(names)
        return names

    if block == "J":
        col = register[f"name_{lang}"] if f"name_{lang}" in register else register["name_zh"]
        ok = col.notna() & (col.astype(str) != "")
        zh = register["name_zh"].where(register["name_zh"].notna() & (register["name_zh"] != ""), register.index.to_series())
        return col.where(ok, zh)
    if block == "H":
        return pd.Series({k: v[0 if lang == "zh" else 1] for k, v in INDUSTRY_NAMES.items()})
    return None


def block_inputs(
    panel: pd.DataFrame, framework: Any, block: str, *, period: str, groups: pd.DataFrame | None = None,
    names: pd.Series | None = None,
) -> Inputs:
    """One block (J institutions, H industries, Q regions) of a derived panel for one period, as engine
    inputs: indicators in the framework's tree order, the not-applicable mask, groups and names by unit."""
    from ..derive import to_engine_panel

    tree = Tree.from_framework(framework, block)
    ep = to_engine_panel(panel, block, period=period)
    data = ep.data.reindex(columns=tree.indicators).astype(float)
    mask = ep.not_applicable.reindex(columns=tree.indicators, fill_value=False).astype(bool)
    data.index = data.index.astype(str).rename("uCode")
    mask.index = data.index
    grp = groups.reindex(data.index) if groups is not None else pd.DataFrame(index=data.index)
    return Inputs(
        data=data, tree=tree, groups=grp, denominators=pd.DataFrame(index=data.index), not_applicable=mask,
        names=names.reindex(data.index) if names is not None else None,
        fingerprints={"panel": frame_fingerprint(data)},
    )


def units_from_inputs(spec: Any, inputs: dict[str, str]) -> pd.DataFrame | None:
    """Names and groups (index uCode) from the COINr iData a result was computed from, if that file is still
    there with the SHA-256 the run recorded."""
    if spec.data.source != "coinr" or not spec.data.idata or not spec.data.imeta:
        return None
    candidates: list[tuple[Path, Path]] = [(spec.path(spec.data.idata), spec.path(spec.data.imeta))]
    by_name = {Path(k).name: Path(k) for k in inputs}
    if Path(spec.data.idata).name in by_name and Path(spec.data.imeta).name in by_name:
        candidates.append((by_name[Path(spec.data.idata).name], by_name[Path(spec.data.imeta).name]))
    for d, m in candidates:
        if not (d.is_file() and m.is_file()):
            continue
        want = inputs.get(str(d))
        if want and sha256_file(d) != want:
            continue  # the file changed since the run: its names or groups may not be the run's
        return _read_units(str(d), str(m), d.stat().st_mtime_ns)
    return None


@lru_cache(maxsize=8)
def _read_units(idata: str, imeta: str, mtime: int) -> pd.DataFrame | None:
    del mtime  # part of the cache key only
    try:
        from .coinr import read_coinr

        coin = read_coinr(idata, imeta)
    except Exception:  # noqa: BLE001 - names are a nicety; the report goes on without them
        return None
    frame = coin.groups.copy()
    frame.insert(0, "name", coin.names)
    if isinstance(frame.index, pd.MultiIndex):
        frame = frame[~frame.index.get_level_values(0).duplicated(keep="last")]
        frame.index = frame.index.get_level_values(0)
    return frame
