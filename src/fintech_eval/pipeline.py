"""Run an evaluation spec: each step calls one stage function; every stage's output is kept.

Stages are registered in :data:`STAGES` (the spec's step names); each adapter takes the running
:class:`State` and the step's parameters, calls the pure stage function from :mod:`fintech_eval.methods`
and records its output data set under COINr's name (Denominated, Screened, Imputed, Treated,
Normalised, Aggregated) plus whatever the stage reports (treatment details, imputation log, …).
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .coinr import read_coinr
from .errors import FintechEvalError, Problem, SpecError
from .methods import (
    AGGREGATORS,
    IMPUTERS,
    NORMALISERS,
    SCREENERS,
    TREATERS,
    WEIGHTS,
    aggregate,
    ahp_tree,
    denominate,
    impute,
    mapping_from_imeta,
    normalise,
    rate,
    screen,
    treat,
)
from .registry import Registry
from .result import Result
from .spec import Spec, load_spec
from .tree import Tree


@dataclass
class State:
    """What the steps work on: the current data, its context, and everything produced so far."""

    data: pd.DataFrame
    tree: Tree
    groups: pd.DataFrame
    denominators: pd.DataFrame
    imeta: pd.DataFrame | None = None
    names: pd.Series | None = None
    not_applicable: pd.DataFrame | None = None
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    records: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def push(self, name: str, data: pd.DataFrame) -> None:
        """Keep ``data`` as the stage's data set; its warnings go to the run's list (attrs are emptied)."""
        for w in data.attrs.get("warnings", []) or []:
            self.warnings.append(f"{name}: {w}")
        data.attrs = {}
        self.datasets[name] = data
        self.data = data

    def keep_units(self, index: pd.Index) -> None:
        if self.names is not None:
            self.names = self.names.loc[index]
        self.groups = self.groups.loc[index]
        self.denominators = self.denominators.loc[index]
        if self.not_applicable is not None:
            self.not_applicable = self.not_applicable.loc[index]


STAGES = Registry("stage")


@STAGES.register("denominate", registry=None)
def _denominate(st: State, mapping: dict[str, str] | None = None, method: str = "divide") -> None:
    """Divide indicators by denominators (default: iMeta's Denominator column)."""
    if mapping is None:
        if st.imeta is None:
            raise SpecError("denominate needs a mapping {indicator: denominator}", step="denominate", parameter="mapping")
        mapping = mapping_from_imeta(st.imeta)
    st.push("Denominated", denominate(st.data, st.denominators, mapping, method=method))


@STAGES.register("screen", registry=SCREENERS, method_param="by")
def _screen(st: State, by: str = "byNA", dat_thresh: float = 0.66, nonzero_thresh: float = 0.05, force: Any = None) -> None:
    """Drop units with too little data (COINr ``Screen``); ``screen_summary`` records why."""
    r = screen(st.data, by=by, dat_thresh=dat_thresh, nonzero_thresh=nonzero_thresh, force=force)
    st.keep_units(r.data.index)
    st.records["screen_summary"] = r.summary
    st.push("Screened", r.data)


@STAGES.register("impute", registry=IMPUTERS)
def _impute(st: State, method: str = "mean", **params: Any) -> None:
    """Fill missing values; ``impute_log`` lists every imputed cell (never silent)."""
    r = impute(st.data, method, groups=st.groups, tree=st.tree, **params)
    st.records["impute_log"] = r.log
    st.push("Imputed", r.data)


@STAGES.register("treat", registry=TREATERS)
def _treat(st: State, method: str = "coinr", by: str | None = None, skip_sparse: bool = False, **params: Any) -> None:
    """Outlier treatment (within each group of ``by`` if given); ``treat_details`` and ``treat_points``
    record what was done where. ``skip_sparse``: indicators with fewer than 4 values in a group (e.g. not
    applicable to that sector) are left untreated with a warning instead of stopping the run."""
    details: list[pd.DataFrame] = []
    points: list[pd.DataFrame] = []

    def run(d: pd.DataFrame) -> pd.DataFrame:
        if skip_sparse:
            n = d.notna().sum()
            sparse = n.index[n < 4].tolist()
            if sparse:
                label = f" in {by} {st.groups.loc[d.index[0], by]}" if by is not None and len(d) else ""
                st.warnings.append(f"treat: {len(sparse)} indicator(s) with fewer than 4 values{label} left untreated: {', '.join(map(str, sparse))}")
                dense = [c for c in d.columns if c not in sparse]
                if not dense:
                    return d
                out = d.copy()
                out[dense] = run_method(d[dense])
                return out
        return run_method(d)

    def run_method(d: pd.DataFrame) -> pd.DataFrame:
        r = treat(d, method, **params)
        det = r.details.copy()
        if by is not None:
            det.insert(0, by, st.groups.loc[d.index[0], by] if len(d) else None)
        details.append(det)
        points.append(r.points)
        return r.data

    out = _by_group(st, by, "treat", run)
    st.records["treat_details"] = pd.concat(details) if details else pd.DataFrame()
    st.records["treat_points"] = pd.concat(points) if points else pd.DataFrame()
    st.push("Treated", out)


def _by_group(st: State, by: str | None, stage: str, fn) -> pd.DataFrame:
    """Apply ``fn`` to the whole data, or separately to the units of each group of the column ``by``
    (e.g. ``sector``: an indicator defined differently per sector is only compared within it)."""
    if by is None:
        return fn(st.data)
    if by not in st.groups:
        raise SpecError(f"{stage}: no group column {by!r}; have {', '.join(map(str, st.groups.columns)) or 'none'}", step=stage, parameter="by")
    key = st.groups[by]
    parts = [fn(st.data[(key == g).to_numpy()]) for g in pd.unique(key.dropna())]
    ungrouped = st.data[key.isna().to_numpy()]
    if len(ungrouped):
        raise SpecError(f"{stage}: {len(ungrouped)} unit(s) have no {by!r} group, e.g. {ungrouped.index[0]}", step=stage, parameter="by")
    return pd.concat(parts).loc[st.data.index]


@STAGES.register("normalise", aliases=["normalize"], registry=NORMALISERS)
def _normalise(st: State, method: str = "minmax", range: list[float] | None = None, by: str | None = None, **params: Any) -> None:  # noqa: A002
    """Normalise (directions applied first); ``range`` is a synonym of min-max's ``l_u``; ``by`` a group column
    to normalise within (e.g. sector)."""
    if range is not None:
        params["l_u"] = tuple(range)
    st.push("Normalised", _by_group(st, by, "normalise", lambda d: normalise(d, st.tree.directions, method, **params)))


@STAGES.register("weight", aliases=["weights"], registry=WEIGHTS)
def _weight(
    st: State,
    method: str = "equal",
    weights: dict[str, float] | None = None,
    matrices: dict[str, Any] | None = None,
    allow_inconsistent: bool = False,
    level: int = 1,
    **params: Any,
) -> None:
    """Set the tree's weights: ``manual`` (``weights``), ``ahp`` (one judgement matrix per parent node) or an
    objective method computed within each group of siblings at ``level`` (1 = indicators, on the current data;
    higher levels on the scores of a provisional arithmetic-mean aggregation with the weights so far)."""
    if method == "manual":
        new = pd.Series(weights or {}, dtype=float)
    elif method == "ahp":
        if not matrices:
            raise SpecError("weight: method ahp needs 'matrices' {node: [[...]]}", step="weight", parameter="matrices")
        mats = {
            node: (st.tree.children(node), m) if not isinstance(m, dict) else (m["labels"], m["matrix"])
            for node, m in matrices.items()
        }
        res = ahp_tree(st.tree, mats, allow_inconsistent=allow_inconsistent)
        new = res.weights
        st.records["ahp_consistency"] = pd.DataFrame(
            [{"node": node, "n": a.n, "lambda_max": a.lambda_max, "CI": a.ci, "RI": a.ri, "CR": a.cr} for node, a in res.results.items()]
        ).set_index("node")
    else:
        fn = WEIGHTS.get(method)
        if not 1 <= level < st.tree.n_levels:
            raise SpecError(f"weight: level must be 1..{st.tree.n_levels - 1}, got {level}", step="weight", parameter="level")
        if level == 1:
            values = st.data
        else:
            values = aggregate(st.data, st.tree, not_applicable=st.not_applicable)
            values.attrs = {}
        parts = []
        for parent in st.tree.codes(level + 1):
            kids = st.tree.children(parent)
            sub = values[kids]
            kw = dict(params)
            if "directions" in inspect.signature(fn).parameters:
                # normalised data and aggregates are already "higher is better"; raw indicators are not
                raw = level == 1 and "Normalised" not in st.datasets
                kw.setdefault("directions", st.tree.directions[kids] if raw else None)
            parts.append(fn(sub, **kw))
        new = pd.concat(parts)
    st.tree = st.tree.with_weights(new)  # saved with the result as weights.csv


@STAGES.register("aggregate", registry=AGGREGATORS)
def _aggregate(
    st: State,
    method: Any = "amean",
    dat_thresh: Any = None,
    params: dict[str, Any] | None = None,
    weights: dict[str, float] | None = None,
) -> None:
    """Aggregate up the tree; method, threshold and parameters per level or per node."""
    out = aggregate(
        st.data, st.tree, method=method, weights=weights, dat_thresh=dat_thresh, params=params,
        not_applicable=st.not_applicable,
    )
    rep = out.attrs.get("aggregation")
    if rep is not None and hasattr(rep, "to_frame"):
        st.records["aggregation_report"] = rep.to_frame()
    st.push("Aggregated", out)


@STAGES.register("rate", aliases=["levels"])
def _rate(
    st: State,
    bands: list[list[Any]] | dict[str, float] | None = None,
    requirements: dict[str, Any] | None = None,
    met: dict[str, dict[str, bool]] | None = None,
    node: str | None = None,
    names: dict[str, str] | None = None,
) -> None:
    """Levels from score bands on ``node`` (default: the index) and/or staged requirements; ``levels``
    records each unit's level and the reason it is not higher (what blocks it, the score gap)."""
    node = node or st.tree.codes(st.tree.n_levels)[0]
    if node not in st.data:
        raise SpecError(f"rate: node {node!r} has no scores (put rate after aggregate)", step="rate", parameter="node")
    met_df = pd.DataFrame(met).T.reindex(st.data.index) if met is not None else None
    band_pairs = [tuple(b) for b in bands] if isinstance(bands, list) else bands
    st.records["levels"] = rate(st.data[node], met_df, bands=band_pairs, requirements=requirements, names=names)


# --- checking ------------------------------------------------------------------------------------------


def check_spec(spec: Spec) -> None:
    """Every step names a registered stage, a registered method, and parameters the stage accepts."""
    problems: list[Problem] = []
    for n, stage, params in spec.stage_items():
        where = {"step": n, "stage": stage}
        if stage not in STAGES:
            problems.append(Problem("spec.stage", f"unknown stage {stage!r}; choose one of: {', '.join(STAGES.names())}", where))
            continue
        if not isinstance(params, dict):
            problems.append(Problem("spec.params", f"parameters of {stage} must be a mapping", where))
            continue
        entry = STAGES.entry(stage)
        sig = inspect.signature(entry.func)
        named = [p for p in sig.parameters.values() if p.name != "st" and p.kind is not p.VAR_KEYWORD]
        open_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        if not open_kw:
            for key in params:
                if key not in {p.name for p in named}:
                    problems.append(
                        Problem("spec.parameter", f"{stage} has no parameter {key!r}; it takes {', '.join(p.name for p in named)}", {**where, "parameter": key})
                    )
        reg: Registry | None = entry.meta.get("registry")
        mparam = entry.meta.get("method_param", "method")
        value = params.get(mparam)
        if reg is not None and isinstance(value, str) and value not in reg and value not in ("manual", "ahp"):
            problems.append(
                Problem("spec.method", f"unknown {stage} method {value!r}; choose one of: {', '.join(reg.names())}", {**where, "parameter": mparam})
            )
    if problems:
        raise SpecError(problems)


# --- running -------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _initial_state(spec: Spec, frames: dict[str, Any] | None) -> tuple[State, dict[str, str]]:
    if spec.data.format == "frame":
        if not frames or "data" not in frames or "tree" not in frames:
            raise SpecError("data format 'frame' needs frames={'data': DataFrame, 'tree': Tree}", step="data")
        data = frames["data"]
        empty = pd.DataFrame(index=data.index)
        st = State(
            data=data, tree=frames["tree"], groups=frames.get("groups", empty), denominators=frames.get("denominators", empty),
            not_applicable=frames.get("not_applicable"), names=frames.get("names"),
        )
        return st, {}
    idata, imeta = spec.path(spec.data.idata or ""), spec.path(spec.data.imeta or "")
    for p in (idata, imeta):
        if not p.exists():
            raise SpecError(f"data file not found: {p}", rule="spec.data", step="data", file=str(p))
    coin = read_coinr(idata, imeta)
    data, groups, dens = coin.data, coin.groups, coin.denominators
    if spec.data.period is not None:
        if not coin.is_panel:
            raise SpecError("data.period given but the data has no Time column", step="data", parameter="period")
        key = spec.data.period
        sel = data.index.get_level_values("Time") == type(data.index.get_level_values("Time")[0])(key)
        data, groups, dens = (f[sel].droplevel("Time") for f in (data, groups, dens))
    names = coin.names
    if spec.data.period is not None:
        names = names[sel].droplevel("Time")
    st = State(data=data, tree=coin.tree, groups=groups, denominators=dens, imeta=coin.imeta, names=names)
    return st, {str(idata): _sha256(idata), str(imeta): _sha256(imeta)}


def evaluate(spec: str | Path | dict[str, Any] | Spec, *, frames: dict[str, Any] | None = None) -> Result:
    """Run ``spec`` (a path, a dict or a :class:`Spec`) and return the :class:`Result`.

    With ``data.format: frame``, pass ``frames={"data": wide DataFrame, "tree": Tree, "groups": …,
    "not_applicable": boolean DataFrame}`` (DataFrames in, DataFrames out: no files needed).
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    st, inputs = _initial_state(spec, frames)
    st.datasets["Raw"] = st.data
    for n, stage, params in spec.stage_items():
        try:
            STAGES.get(stage)(st, **params)
        except FintechEvalError as exc:
            for p in exc.problems:
                p.where.setdefault("step", n)
                p.where.setdefault("stage", stage)
            raise
        except TypeError as exc:  # a parameter the stage function does not take
            raise SpecError(f"step {n} ({stage}): {exc}", rule="spec.parameter", step=n, stage=stage) from None
    missing = [g for g in spec.ranks.groups if g not in st.groups]
    if missing:
        raise SpecError(f"ranks.groups: no group column(s) {', '.join(missing)}", step="ranks", parameter="groups")
    return Result(
        spec=spec, tree=st.tree, datasets=st.datasets, records=st.records, weights=st.tree.weights,
        groups=st.groups, names=st.names, rank_groups=list(spec.ranks.groups), warnings=st.warnings, inputs=inputs,
    )
