"""The stages a spec's steps name, each a pure function ``(state, **params) -> StageOutput``.

A stage reads the running :class:`State` (current data, tree, groups, denominators, not-applicable mask)
and returns a :class:`~fintech_eval.engine.output.StageOutput`; the pipeline applies it. Every parameter a
stage reads is declared in its registry entry (``params``: stage parameters as :class:`Param`;
``registry``: the method registry whose entries declare the method's parameters), so that
:func:`fintech_eval.engine.spec.check_spec` checks a whole spec before anything runs, from these
declarations alone.

Groups too small or too uniform (``by: sector``): an indicator with no spread inside a group (every unit
the same value, or too few values for the method) cannot be normalised there. ``no_spread`` says what
happens, always with a warning naming the group and the indicator:

* ``pooled`` (default with ``by``): the group's values are scored on the normalisation over all groups
  together (a sector where every bank answers "yes" scores 100 when some other sector answers "no"); when
  the indicator has no spread over all groups either, it is left out as with ``exclude``;
* ``exclude``: left out of that group's aggregates (not applicable for its units, sibling weights
  renormalised, not counted against ``dat_thresh``);
* ``nan``: left missing, as COINr does (counted as missing by ``dat_thresh``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, SpecError
from ..methods import (
    AGGREGATORS,
    IMPUTERS,
    NORMALISERS,
    SCREENERS,
    TREATERS,
    WEIGHTS,
    aggregate,
    aggregate_output,
    ahp_tree,
    denominate_output,
    impute,
    mapping_from_imeta,
    normalise_output,
    rate,
    screen,
    treat,
)
from ..methods._frame import Param
from ..methods.normalise import BOUNDS
from ..registry import Registry
from .checks import check_aggregate_step, check_weight_step
from .output import Lazy, Records, StageOutput
from .tree import Tree

NO_SPREAD = ("pooled", "exclude", "nan")


@dataclass
class State:
    """What a step works on: the current data and its context (a stage reads it, never changes it)."""

    data: pd.DataFrame
    tree: Tree
    groups: pd.DataFrame
    denominators: pd.DataFrame
    imeta: pd.DataFrame | None = None
    names: pd.Series | None = None
    not_applicable: pd.DataFrame | None = None
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    records: Records = field(default_factory=Records)
    warnings: list[Problem] = field(default_factory=list)

    def copy(self) -> State:
        """A shallow copy (frames are shared, never modified in place), to branch a re-run from."""
        return replace(self, datasets=dict(self.datasets), records=Records(self.records), warnings=list(self.warnings))

    def apply(self, out: StageOutput, dataset: str | None, where: dict[str, Any]) -> None:
        """Take a stage's output: units kept, new data set, records, warnings (located), tree, mask."""
        if out.keep is not None:
            self.keep_units(out.keep)
        if out.not_applicable is not None:
            na = out.not_applicable.reindex(index=self.data.index, columns=self.data.columns, fill_value=False)
            old = self.not_applicable
            if old is not None:
                na = na | old.reindex(index=na.index, columns=na.columns, fill_value=False).astype(bool)
            self.not_applicable = na.astype(bool)
        if out.data is not None and dataset is not None:
            self.datasets[dataset] = out.data
            self.data = out.data
        self.records.update(out.records)
        for p in out.warnings:
            # the pipeline's step number and stage name win over a method's own "step" (its stage's name)
            self.warnings.append(Problem(p.rule, p.message, {**{k: v for k, v in p.where.items() if v is not None}, **where}))
        if out.tree is not None:
            self.tree = out.tree

    def keep_units(self, index: pd.Index) -> None:
        if self.names is not None:
            self.names = self.names.loc[index]
        self.groups = self.groups.loc[index]
        self.denominators = self.denominators.loc[index]
        if self.not_applicable is not None:
            self.not_applicable = self.not_applicable.loc[index]


STAGES = Registry("stage")


def _group_param(doc: str) -> Param:
    return Param(None, kind="any", nullable=True, check=lambda v: None if isinstance(v, str) and v else f"must be a group column name, got {v!r}", doc=doc)


def _mapping(what: str):
    def check(v: Any) -> str | None:
        return None if isinstance(v, dict) else f"must be a mapping {what}, got {v!r}"

    return check


# --- denominate --------------------------------------------------------------------------------------------
@STAGES.register(
    "denominate", dataset="Denominated",
    params={
        "mapping": Param(None, kind="any", nullable=True, check=_mapping("{indicator: denominator}"), doc="default: iMeta's Denominator column"),
        "method": Param("divide", kind="choice", choices=("divide", "/", "multiply", "*")),
    },
)
def denominate_stage(st: State, mapping: dict[str, str] | None = None, method: str = "divide") -> StageOutput:
    """Divide indicators by denominators (default: iMeta's Denominator column)."""
    if mapping is None:
        if st.imeta is None:
            raise SpecError("denominate needs a mapping {indicator: denominator}", step="denominate", parameter="mapping")
        mapping = mapping_from_imeta(st.imeta)
    return denominate_output(st.data, st.denominators, mapping, method=method)


# --- screen ------------------------------------------------------------------------------------------------
_FRACTION = Param(0.66, kind="number", check=lambda v: None if 0 <= v <= 1 else f"must be within [0, 1], got {v}")


@STAGES.register(
    "screen", dataset="Screened", registry=SCREENERS, method_param="by",
    params={
        "by": Param("byNA", kind="any"),
        "dat_thresh": _FRACTION,
        "nonzero_thresh": Param(0.05, kind="number", check=_FRACTION.check),
        "force": Param(None, kind="any", nullable=True, doc="unit → true (keep) / false (drop)"),
    },
)
def screen_stage(st: State, by: str = "byNA", dat_thresh: float = 0.66, nonzero_thresh: float = 0.05, force: Any = None) -> StageOutput:
    """Drop units with too little data (COINr ``Screen``); ``screen_summary`` records why."""
    r = screen(st.data, by=by, dat_thresh=dat_thresh, nonzero_thresh=nonzero_thresh, force=force)
    return StageOutput(r.data, {"screen_summary": r.summary}, list(r.warnings), keep=r.data.index)


# --- impute ------------------------------------------------------------------------------------------------
@STAGES.register("impute", dataset="Imputed", registry=IMPUTERS, params={"method": Param("mean", kind="any")})
def impute_stage(st: State, method: str = "mean", **method_params: Any) -> StageOutput:
    """Fill missing values; ``impute_log`` lists every imputed cell (never silent). The method's parameters
    are declared by the imputation registry."""
    r = impute(st.data, method, groups=st.groups, tree=st.tree, **method_params)
    na = st.not_applicable
    if na is None:  # the log (a row per missing cell) is assembled when someone reads it
        return StageOutput(r.data, {"impute_log": Lazy(lambda: r.log)}, list(r.warnings))
    data, log = r.data, r.log
    if len(log):  # a not-applicable cell is not missing: never imputed, never logged
        na = na.reindex(index=data.index, columns=data.columns, fill_value=False).astype(bool)
        data = data.mask(na)
        if {"uCode", "iCode"} <= set(log.columns):
            stacked = na.stack()
            keys = set(stacked[stacked].index) if isinstance(data.index, pd.Index) and not isinstance(data.index, pd.MultiIndex) else set()
            if keys:
                log = log[[(u, c) not in keys for u, c in zip(log["uCode"], log["iCode"], strict=True)]].reset_index(drop=True)
    return StageOutput(data, {"impute_log": log}, list(r.warnings))


# --- treat -------------------------------------------------------------------------------------------------
@STAGES.register(
    "treat", dataset="Treated", registry=TREATERS,
    params={
        "method": Param("coinr", kind="any"),
        "by": _group_param("treat within each group of this column"),
        "skip_sparse": Param(False, kind="bool", doc="leave indicators with fewer than 4 values in a group untreated (a warning when it has 1-3)"),
        "indiv": Param(None, kind="any", nullable=True, check=_mapping("{indicator: method or {method, params}}")),
        "force_win": Param(None, kind="any", nullable=True, check=lambda v: None if isinstance(v, list) and all(isinstance(c, str) for c in v) else f"must be a list of indicator codes, got {v!r}", doc="winsorise these whatever the skew test says"),
    },
)
def treat_stage(
    st: State, method: str = "coinr", by: str | None = None, skip_sparse: bool = False, indiv: dict[str, Any] | None = None,
    force_win: list[str] | None = None, **method_params: Any,
) -> StageOutput:
    """Outlier treatment (within each group of ``by`` if given); ``treat_details`` and ``treat_points``
    record what was done where. ``skip_sparse``: indicators with fewer than 4 values in a group (e.g. not
    applicable to that sector) are left untreated with a warning instead of stopping the run."""
    results: list[tuple[Any, str | None]] = []  # each group's TreatResult: its tables are assembled when read
    warnings: list[Problem] = []

    def run(d: pd.DataFrame, group: str | None) -> pd.DataFrame:
        cols = d.columns.tolist()
        sparse: list[Any] = []
        if skip_sparse:
            n = d.notna().sum()
            sparse = n.index[n < 4].tolist()
            for c in n.index[(n > 0) & (n < 4)]:  # none at all (e.g. not applicable in the group): nothing to say
                warnings.append(Problem(
                    "treat.sparse", f"{c} has {int(n[c])} value(s){_in(group)}, fewer than the 4 treatment needs: left untreated",
                    {"indicator": c, "group": group},
                ))
            cols = [c for c in cols if c not in sparse]
            if not cols:
                return d
        ind = {k: v for k, v in (indiv or {}).items() if k not in sparse} or None  # an unknown code stays an error
        forced = [c for c in (force_win or []) if c not in sparse] or None
        r = treat(d[cols] if len(cols) < d.shape[1] else d, method, indiv=ind, force_win=forced, **method_params)
        results.append((r, group))
        warnings.extend(_with_group(r.warnings, group))
        if len(cols) == d.shape[1]:
            return r.data
        out = d.copy()
        out[cols] = r.data
        return out

    out = _by_group(st, by, "treat", run)
    def details() -> pd.DataFrame:
        parts = []
        for r, group in results:
            det = r.details.copy()
            if by is not None:
                det.insert(0, by, group.split("=", 1)[1] if group else None)
            parts.append(det)
        return pd.concat(parts) if parts else pd.DataFrame()

    records = {
        "treat_details": Lazy(details),
        "treat_points": Lazy(lambda: pd.concat([r.points for r, _ in results]) if results else pd.DataFrame()),
    }
    return StageOutput(out, records, warnings)


def _in(group: str | None) -> str:
    return f" in {group.replace('=', ' ', 1)}" if group else ""


def _with_group(problems: list[Problem], group: str | None) -> list[Problem]:
    if group is None:
        return list(problems)
    return [Problem(p.rule, f"{p.message}{_in(group)}", {**p.where, "group": group}) for p in problems]


def _groups_of(st: State, by: str | None, stage: str) -> list[tuple[str | None, np.ndarray]]:
    """(label ``column=value``, row mask) for each group of the column ``by`` (one unlabelled group without)."""
    if by is None:
        return [(None, np.ones(len(st.data), bool))]
    if by not in st.groups:
        raise SpecError(
            f"{stage}: no group column {by!r}; have {', '.join(map(str, st.groups.columns)) or 'none'}", step=stage, parameter="by"
        )
    key = st.groups[by].reindex(st.data.index)
    if key.isna().any():
        u = st.data.index[key.isna().to_numpy()]
        raise SpecError(f"{stage}: {len(u)} unit(s) have no {by!r} group, e.g. {u[0]}", step=stage, parameter="by")
    codes, labels = pd.factorize(key, sort=False)
    return [(f"{by}={lab}", codes == k) for k, lab in enumerate(labels)]


def _by_group(st: State, by: str | None, stage: str, fn) -> pd.DataFrame:
    """``fn(data, group label)`` on the whole data, or separately on the units of each group of the column
    ``by`` (e.g. ``sector``: an indicator defined differently per sector is only compared within it)."""
    groups = _groups_of(st, by, stage)
    if by is None:
        return fn(st.data, None)
    parts = [fn(st.data[mask], label) for label, mask in groups]
    return pd.concat(parts).loc[st.data.index]


# --- normalise ---------------------------------------------------------------------------------------------
@STAGES.register(
    "normalise", aliases=["normalize"], dataset="Normalised", registry=NORMALISERS,
    params={
        "method": Param("minmax", kind="any"),
        "range": Param(None, kind="pair", nullable=True, doc="synonym of min-max's l_u"),
        "by": _group_param("normalise within each group of this column"),
        "no_spread": Param(
            None, kind="choice", choices=NO_SPREAD, nullable=True,
            doc="an indicator with no spread in a group: pooled (default with by), exclude, nan (default without by)",
        ),
        "indiv": Param(None, kind="any", nullable=True, check=_mapping("{indicator: method or {method, params}}")),
        "scope": Param("global", kind="choice", choices=("global", "period")),
        "bounds": Param(
            "directed", kind="choice", choices=BOUNDS,
            doc="given bounds (gposts, targ, npara, efficacy lower/upper) apply to x·direction (directed, COINr) or are in the indicator's own units (own)",
        ),
    },
)
def normalise_stage(
    st: State, method: str = "minmax", range: list[float] | None = None, by: str | None = None,  # noqa: A002
    no_spread: str | None = None, indiv: dict[str, Any] | None = None, scope: str = "global", bounds: str = "directed",
    **method_params: Any,
) -> StageOutput:
    """Normalise (directions applied first); ``by`` a group column to normalise within (e.g. sector), with
    the ``no_spread`` rule for an indicator that has no spread inside a group (module doc). Per-indicator
    parameters given as ``use_iMeta`` are read from the source's iMeta; ``bounds`` says how given bounds read
    for reverse indicators (:mod:`fintech_eval.methods.normalise`)."""
    params = dict(method_params)
    if range is not None:
        params["l_u"] = tuple(range)
    rule = no_spread or ("pooled" if by is not None else "nan")
    dirs = st.tree.directions

    def norm(d: pd.DataFrame) -> StageOutput:
        return normalise_output(d, dirs, method, indiv=indiv, scope=scope, bounds=bounds, imeta=st.imeta, **params)

    groups = _groups_of(st, by, "normalise")
    x_in = st.data.to_numpy(dtype=float, na_value=np.nan)
    out = np.full(x_in.shape, np.nan) if by is not None else None
    warnings: list[Problem] = []
    flat: list[tuple[str | None, np.ndarray, np.ndarray]] = []  # (group, row mask, column positions)
    for label, mask in groups:
        sub = st.data if label is None else st.data[mask]
        r = norm(sub)
        y = r.data.to_numpy(dtype=float, na_value=np.nan)
        if out is None:  # one group, all units: the method's own new array is the result
            out, xi = (y.copy(order="K") if np.may_share_memory(y, x_in) else y), x_in
        else:
            out[mask] = y
            xi = x_in[mask]
        skip: set[int] = set()
        if rule != "nan":  # a column that had values and came out all missing there: no spread (or too few values)
            lost = (~np.isnan(xi)).any(axis=0) & np.isnan(y).all(axis=0)
            if lost.any():
                flat.append((label, mask, np.flatnonzero(lost)))
            skip = set(np.flatnonzero(lost))
        cols = st.data.columns.tolist()
        warnings.extend(_with_group([p for p in r.warnings if p.get("indicator") not in {cols[j] for j in skip}], label))
    na_new = None
    if flat:
        cols = st.data.columns.tolist()
        pooled = None
        na_new = np.zeros(x_in.shape, bool)
        for label, mask, js in flat:
            for j in js:
                c = cols[j]
                vals = x_in[mask, j]
                have = vals[~np.isnan(vals)]
                what = (f"all {len(have)} value(s) are {have[0]:g}" if len(have) and (have == have[0]).all()
                        else f"{len(have)} value(s), too few for {method}")
                done = False
                if rule == "pooled":
                    if pooled is None:
                        pooled = norm(st.data).data.to_numpy(dtype=float, na_value=np.nan)
                    col = pooled[mask, j]
                    if not np.isnan(col[~np.isnan(vals)]).all():
                        out[mask, j] = col
                        done = True
                        warnings.append(Problem(
                            "normalise.no_spread", f"{c} has no spread{_in(label)} ({what}): scored on the range over all groups",
                            {"indicator": c, "group": label, "rule_applied": "pooled"},
                        ))
                if not done:
                    na_new[mask, j] = ~np.isnan(vals)
                    why = " and none over all groups either" if rule == "pooled" else ""
                    warnings.append(Problem(
                        "normalise.no_spread",
                        f"{c} has no spread{_in(label)} ({what}){why}: left out of that group's aggregates (weights renormalised)",
                        {"indicator": c, "group": label, "rule_applied": "exclude"},
                    ))
    data = pd.DataFrame(out, index=st.data.index, columns=st.data.columns, copy=False)  # out is this stage's own
    na = pd.DataFrame(na_new, index=st.data.index, columns=st.data.columns) if na_new is not None and na_new.any() else None
    return StageOutput(data, warnings=warnings, not_applicable=na)


# --- weight ------------------------------------------------------------------------------------------------
@STAGES.register(
    "weight", aliases=["weights"], registry=WEIGHTS,
    params={
        "method": Param("equal", kind="any"),
        "weights": Param(None, kind="any", nullable=True, check=_mapping("{node: weight}")),
        "matrices": Param(None, kind="any", nullable=True, check=_mapping("{node: judgement matrix}")),
        "allow_inconsistent": Param(False, kind="bool"),
        "level": Param(1, kind="int", check=lambda v: None if v >= 1 else f"must be >= 1, got {v}"),
    },
    check=check_weight_step,
)
def weight_stage(
    st: State,
    method: str = "equal",
    weights: dict[str, float] | None = None,
    matrices: dict[str, Any] | None = None,
    allow_inconsistent: bool = False,
    level: int = 1,
    **method_params: Any,
) -> StageOutput:
    """Set the tree's weights: ``manual`` (``weights``), ``ahp`` (one judgement matrix per parent node) or an
    objective method computed within each group of siblings at ``level`` (1 = indicators, on the current data;
    higher levels on the scores of a provisional arithmetic-mean aggregation with the weights so far)."""
    records: dict[str, pd.DataFrame] = {}
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
        records["ahp_consistency"] = pd.DataFrame(
            [{"node": node, "n": a.n, "lambda_max": a.lambda_max, "CI": a.ci, "RI": a.ri, "CR": a.cr} for node, a in res.results.items()]
        ).set_index("node")
    else:
        fn = WEIGHTS.get(method)
        if not 1 <= level < st.tree.n_levels:
            raise SpecError(f"weight: level must be 1..{st.tree.n_levels - 1}, got {level}", step="weight", parameter="level")
        values = st.data if level == 1 else aggregate(st.data, st.tree, not_applicable=st.not_applicable)
        parts = []
        for parent in st.tree.codes(level + 1):
            kids = st.tree.children(parent)
            kw = dict(method_params)
            if "directions" in inspect.signature(fn).parameters:
                # normalised data and aggregates are already "higher is better"; raw indicators are not
                raw = level == 1 and "Normalised" not in st.datasets
                kw.setdefault("directions", st.tree.directions[kids] if raw else None)
            parts.append(fn(values[kids], **kw))
        new = pd.concat(parts)
    return StageOutput(records=records, tree=st.tree.with_weights(new))


# --- aggregate ---------------------------------------------------------------------------------------------
@STAGES.register(
    "aggregate", dataset="Aggregated", registry=AGGREGATORS, method_param=None, check=check_aggregate_step,
    params={
        "method": Param("amean", kind="any", doc="a method, or {level or node or default: method or {method, params}}"),
        "dat_thresh": Param(None, kind="any", nullable=True, doc="a fraction, or {level or node: fraction}"),
        "params": Param(None, kind="any", nullable=True, check=_mapping("of method parameters")),
        "weights": Param(None, kind="any", nullable=True, check=_mapping("{node: weight}")),
    },
)
def aggregate_stage(
    st: State,
    method: Any = "amean",
    dat_thresh: Any = None,
    params: dict[str, Any] | None = None,
    weights: dict[str, float] | None = None,
) -> StageOutput:
    """Aggregate up the tree; method, threshold and parameters per level or per node."""
    r = aggregate_output(
        st.data, st.tree, method=method, weights=weights, dat_thresh=dat_thresh, params=params,
        not_applicable=st.not_applicable,
    )
    return StageOutput(r.data, warnings=r.warnings, report=r.report)  # what each node did: r.report.to_frame()


# --- rate --------------------------------------------------------------------------------------------------
@STAGES.register(
    "rate", aliases=["levels"],
    params={
        "bands": Param(None, kind="any", nullable=True, doc="[[level, min score], …] or {level: min score}"),
        "requirements": Param(None, kind="any", nullable=True, check=_mapping("{level: [requirement, …]}")),
        "met": Param(None, kind="any", nullable=True, check=_mapping("{unit: {requirement: true/false}}")),
        "node": Param(None, kind="any", nullable=True, doc="the node rated (default: the index)"),
        "names": Param(None, kind="any", nullable=True, check=_mapping("{level: name}")),
    },
)
def rate_stage(
    st: State,
    bands: list[list[Any]] | dict[str, float] | None = None,
    requirements: dict[str, Any] | None = None,
    met: dict[str, dict[str, bool]] | None = None,
    node: str | None = None,
    names: dict[str, str] | None = None,
) -> StageOutput:
    """Levels from score bands on ``node`` (default: the index) and/or staged requirements; ``levels``
    records each unit's level and the reason it is not higher (what blocks it, the score gap)."""
    node = node or st.tree.codes(st.tree.n_levels)[0]
    if node not in st.data:
        raise SpecError(f"rate: node {node!r} has no scores (put rate after aggregate)", step="rate", parameter="node")
    met_df = pd.DataFrame(met).T.reindex(st.data.index) if met is not None else None
    band_pairs = [tuple(b) for b in bands] if isinstance(bands, list) else bands
    return StageOutput(records={"levels": rate(st.data[node], met_df, bands=band_pairs, requirements=requirements, names=names)})
