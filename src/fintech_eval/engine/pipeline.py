"""Run an evaluation spec: read the inputs once, apply each step's stage, keep every stage's output.

* :func:`evaluate` reads the inputs through the spec's source and runs every step; the result keeps the
  inputs and the state before each step.
* :func:`regen` re-runs a result with changed parameters from the first step a change touches (or a
  given stage), reusing the inputs and every earlier stage's output: no file is read or hashed again.
* :func:`evaluate_many` runs many variants of one result's spec and returns chosen targets (scores or
  ranks of nodes) as arrays, sharing everything before each variant's first changed step; large batches
  are split over processes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FintechEvalError, Problem, SpecError, first_of
from ..methods._frame import all_finite
from .result import Result
from .sources import Inputs, read_inputs
from .spec import Spec, load_spec
from .stages import STAGES, State


def _initial_state(inputs: Inputs) -> State:
    st = State(
        data=inputs.data, tree=inputs.tree, groups=inputs.groups, denominators=inputs.denominators,
        imeta=inputs.imeta, names=inputs.names, not_applicable=inputs.not_applicable,
    )
    st.datasets["Raw"] = st.data
    return st


def _run_steps(spec: Spec, st: State, start: int = 0) -> tuple[State, list[State]]:
    """Run steps ``start`` … end from ``st``; returns the final state and the state before each step run."""
    before: list[State] = []
    for n, stage, params in spec.stage_items()[start:]:
        before.append(st.copy())
        entry = STAGES.entry(stage)
        where = {"step": n, "stage": entry.name}
        try:
            out = entry.func(st, **params)
        except FintechEvalError as exc:
            for p in exc.problems:
                p.where.setdefault("step", n)
                p.where.setdefault("stage", stage)
            raise
        data_in = st.data
        st.apply(out, entry.meta.get("dataset"), where)
        _check_values(data_in, st, out, where)
    return st, before


def _check_values(before: pd.DataFrame, st: State, out: Any, where: dict[str, Any]) -> None:
    """Values a stage made non-finite are never silent: ±Inf anywhere, and NaN where the stage's input had a
    value (for an indicator no warning of the step already names) become warnings naming indicator and units."""
    if out.data is None or out.data is before:
        return
    d = out.data
    try:
        x = d.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):  # not a numeric data set: nothing to check
        return
    if all_finite(x):  # the usual case: nothing infinite, nothing missing
        return
    named = {p.where.get("indicator") for p in st.warnings if p.where.get("step") == where["step"]}
    # a stage that reported its non-finite values itself (rule *.nonfinite, with the units) is not repeated
    listed = {p.where.get("indicator") for p in out.warnings if p.rule.endswith(".nonfinite")}
    inf = np.isinf(x)
    if inf.any() and d.index.equals(before.index):  # only values this stage made infinite, not those it carried
        carried = before.reindex(columns=d.columns).to_numpy(dtype=float, na_value=np.nan)
        inf &= ~np.isinf(carried)
    checks = [("result.infinite", "is infinite", inf)]
    same = d.columns.equals(before.columns) and d.index.equals(before.index)
    if same:
        na = st.not_applicable
        lost = np.isnan(x) & ~np.isnan(before.to_numpy(dtype=float, na_value=np.nan))
        if na is not None and lost.any():
            lost &= ~na.reindex(index=d.index, columns=d.columns, fill_value=False).to_numpy(dtype=bool)
        checks.append(("result.nan", "became missing", lost))
    for rule, what, bad in checks:
        if not bad.any():
            continue
        for j in np.flatnonzero(bad.any(axis=0)):
            code = str(d.columns[j])
            if (rule == "result.nan" and code in named) or code in listed:
                continue
            units = [str(u) for u in d.index[bad[:, j]]]
            shown = first_of(units)
            st.warnings.append(Problem(
                rule, f"{code} {what} for {len(units)} unit(s) at this step: {shown}",
                {**where, "indicator": code, "units": units},
            ))


def _result(spec: Spec, inputs: Inputs, st: State, states: list[State]) -> Result:
    missing = [g for g in spec.ranks.groups if g not in st.groups]
    if missing:
        raise SpecError(f"ranks.groups: no group column(s) {', '.join(missing)}", step="ranks", parameter="groups")
    return Result(
        spec=spec, tree=st.tree, datasets=st.datasets, records=st.records, weights=st.tree.weights,
        groups=st.groups, names=st.names, rank_groups=list(spec.ranks.groups), warnings=st.warnings,
        inputs=dict(inputs.fingerprints), not_applicable=inputs.not_applicable, source=inputs, states=states, runner=_regen,
    )


def evaluate(spec: str | Path | dict[str, Any] | Spec, *, frames: dict[str, Any] | None = None) -> Result:
    """Run ``spec`` (a path, a dict or a :class:`Spec`) and return the :class:`Result`.

    With ``data.source: frame``, pass ``frames={"data": wide DataFrame, "tree": Tree, "groups": …,
    "not_applicable": boolean DataFrame}`` (DataFrames in, DataFrames out: no files needed).
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    inputs = read_inputs(spec, frames)
    st, states = _run_steps(spec, _initial_state(inputs))
    return _result(spec, inputs, st, states)


def first_changed_step(old: Spec, new: Spec) -> int:
    """0-based index of the first step whose stage or parameters differ (len(steps) when none do)."""
    a, b = old.steps, new.steps
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


def _start_index(result: Result, spec: Spec, from_stage: str | int | None) -> int:
    start = first_changed_step(result.spec, spec)
    if from_stage is not None:
        start = min(start, spec.step_index(str(from_stage), f"from_stage={from_stage}"))
    return start


def regen(result: Result, changes: Mapping[str, Any] | None = None, *, from_stage: str | int | None = None) -> Result:
    """``result`` re-run with ``changes`` (address → value, e.g. ``{"aggregate.dat_thresh": 0.5}``), from the
    first step a change touches (or the step ``from_stage`` names, if earlier). The inputs are the ones the
    result read; a change of ``data.*`` reads them again."""
    return _regen(result, dict(changes or {}), from_stage)


def _regen(result: Result, changes: dict[str, Any], from_stage: str | int | None, spec: Spec | None = None) -> Result:
    """(``spec``: ``result.spec`` with ``changes`` applied and checked already, as :func:`evaluate_many` has.)"""
    if result.source is None or not result.states:
        raise SpecError("this result does not remember its inputs (loaded from a folder?): evaluate its spec", rule="result.rerun")
    if spec is None:
        spec = result.spec.with_changes(changes) if changes else result.spec
    if spec.data != result.spec.data:
        if spec.data.source == "frame":
            raise SpecError("a frame source cannot be re-read: pass new frames to evaluate", rule="result.rerun", step="data")
        return evaluate(spec)
    start = _start_index(result, spec, from_stage)
    if start < len(result.states):
        st = result.states[start].copy()
    else:  # nothing changed: the final state (every data set) is the result's
        return result
    st, tail = _run_steps(spec, st, start)
    return _result(spec, result.source, st, result.states[:start] + tail)


# --- many variants -------------------------------------------------------------------------------------------


_POSITIONS: dict[tuple[tuple[Any, ...], tuple[Any, ...]], np.ndarray] = {}


def _targets(result: Result, target: Sequence[str] | str | None, what: str) -> np.ndarray:
    final = result.final
    codes = [target] if isinstance(target, str) else list(target or [result.tree.codes(result.tree.n_levels)[0]])
    key = (tuple(final.columns.tolist()), tuple(codes))  # every variant has the same columns: look them up once
    pos = _POSITIONS.get(key)
    if pos is None:
        pos = final.columns.get_indexer(codes)
        if len(_POSITIONS) > 64:
            _POSITIONS.clear()
        _POSITIONS[key] = pos
    if (pos < 0).any():
        missing = [c for c, p in zip(codes, pos, strict=True) if p < 0]
        raise SpecError(f"evaluate_many: no scores for target(s) {', '.join(map(str, missing))}", parameter="target")
    vals = final.to_numpy(dtype=float, na_value=np.nan)[:, pos]
    if what == "score":
        return vals
    from ..methods.rank import min_ranks

    return min_ranks(vals)


def _run_variant(result: Result, spec: Spec, target: Any, what: str) -> np.ndarray:
    return _targets(_regen(result, {}, None, spec), target, what)


def _weight_batches(result: Result, specs: Sequence[Spec]) -> list[tuple[dict[str, Any], list[int]]]:
    """Variants that :func:`aggregate_many` can run together: the spec's last step aggregates, they agree with
    the result on the data and every earlier step, and with each other on the aggregation's parameters but
    the weights. Returns (those parameters, the variants' positions) per batch of two or more."""
    steps = result.spec.steps
    last = len(steps) - 1
    (stage,) = steps[last]
    if STAGES.entry(stage).name != "aggregate" or len(result.states) <= last:
        return []
    if "Aggregated" in result.states[last].datasets:  # an earlier aggregation: the final data set is not the last step's
        return []
    groups: list[tuple[dict[str, Any], list[int]]] = []
    for i, s in enumerate(specs):
        if s.data != result.spec.data or len(s.steps) != len(steps) or s.steps[:last] != steps[:last]:
            continue
        ((st_name, params),) = s.steps[last].items()
        if st_name != stage:
            continue
        rest = {k: v for k, v in params.items() if k != "weights"}
        for key, idx in groups:
            if key == rest:
                idx.append(i)
                break
        else:
            groups.append((rest, [i]))
    return [g for g in groups if len(g[1]) > 1]


def _run_weight_batch(result: Result, params: dict[str, Any], specs: Sequence[Spec], target: Any, what: str) -> np.ndarray | None:
    """Targets (variants × units × targets) of variants differing only in the last step's weights, computed
    in one :func:`~fintech_eval.methods.aggregate.aggregate_many` (None: that cannot run them; each variant
    then runs alone, which also names the variant a failure belongs to)."""
    from ..methods.aggregate import aggregate_many

    st = result.states[len(result.spec.steps) - 1]
    codes = [target] if isinstance(target, str) else list(target or [result.tree.codes(result.tree.n_levels)[0]])
    weights = [next(iter(s.steps[-1].values())).get("weights") for s in specs]
    try:
        got = aggregate_many(st.data, st.tree, weights, not_applicable=st.not_applicable, **params)
    except FintechEvalError:
        return None
    if got is None:
        return None
    cols, arr = got
    pos = {c: j for j, c in enumerate(cols)}
    if any(c not in pos for c in codes):
        return None
    vals = arr[:, :, [pos[c] for c in codes]]
    if what == "score":
        return vals
    from ..methods.rank import min_ranks

    v, u, t = vals.shape  # one column per (variant, target), ranked along the units
    return np.moveaxis(min_ranks(np.moveaxis(vals, 1, 0).reshape(u, v * t)).reshape(u, v, t), 0, 1)


def _run_specs(result: Result, specs: Sequence[Spec], target: Any, what: str) -> list[np.ndarray]:
    """Every variant's targets: weight-only variants of an aggregation in batches, the others one by one."""
    out: list[np.ndarray | None] = [None] * len(specs)
    for params, idx in _weight_batches(result, specs):
        arr = _run_weight_batch(result, params, [specs[i] for i in idx], target, what)
        if arr is not None:
            for k, i in enumerate(idx):
                out[i] = arr[k]
    return [o if o is not None else _run_variant(result, s, target, what) for o, s in zip(out, specs, strict=True)]


_POOL_RESULT: Result | None = None


def _pool_init(result: Result) -> None:
    global _POOL_RESULT
    _POOL_RESULT = result


def _pool_job(args: tuple[list[Spec], Any, str]) -> list[np.ndarray]:
    specs, target, what = args
    assert _POOL_RESULT is not None
    return _run_specs(_POOL_RESULT, specs, target, what)


def evaluate_many(
    result: Result,
    changes_list: Sequence[Mapping[str, Any]],
    *,
    target: Sequence[str] | str | None = None,
    what: str = "score",
    workers: int | None = None,
) -> np.ndarray:
    """Scores (``what="score"``) or ranks (``what="rank"``) of the ``target`` nodes (default: the index) for
    each variant of ``result``'s spec, as an array (variants × units × targets); units in the result's order.

    Each variant is a mapping address → value, checked like any spec change before anything runs. Variants
    re-run from their first changed step, sharing the result's earlier stages. ``workers``: processes
    (default: one per CPU when the batch is large enough to pay for starting them, else 1)."""
    if what not in ("score", "rank"):
        raise SpecError(f"evaluate_many: what must be 'score' or 'rank', got {what!r}", parameter="what")
    # every address and value checked before any variant runs; the checked specs are the ones run
    specs = [result.spec.with_changes(dict(c)) if c else result.spec for c in changes_list]
    n = len(specs)
    if workers is None:
        cost = result.final.size * max(1, len(result.spec.steps))
        workers = min(os.cpu_count() or 1, 4) if n * cost > 4_000_000 else 1
    if workers <= 1 or n < 2:
        out = _run_specs(result, specs, target, what)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        chunks = [specs[i::workers] for i in range(workers)]
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_pool_init, initargs=(result,)) as ex:
            parts = list(ex.map(_pool_job, [(ch, target, what) for ch in chunks]))
        out = [None] * n
        for w, part in enumerate(parts):
            for k, arr in enumerate(part):
                out[w + k * workers] = arr
    return np.stack(out) if out else np.empty((0, len(result.final), 1))


def targets_frame(result: Result, arrays: np.ndarray, target: Sequence[str] | str | None = None) -> pd.DataFrame:
    """:func:`evaluate_many`'s array as a long frame: variant, uCode, target, value."""
    codes = [target] if isinstance(target, str) else list(target or [result.tree.codes(result.tree.n_levels)[0]])
    v, u, t = np.meshgrid(np.arange(arrays.shape[0]), np.arange(arrays.shape[1]), np.arange(arrays.shape[2]), indexing="ij")
    return pd.DataFrame({
        "variant": v.ravel(), "uCode": np.asarray(result.final.index.astype(str))[u.ravel()],
        "target": np.asarray(codes, dtype=object)[t.ravel()], "value": arrays.ravel(),
    })
