"""The improvement planner: what would lift one entity most, and the smallest feasible set of changes that
reaches a target rank or score, with the exact new rank.

Every figure comes from re-running the whole evaluation with the entity's raw values changed (treatment
and normalisation bounds move when the entity sets them), never from a linear approximation:

* :func:`marginal_gains` — per indicator, the change of the index per unit of the raw value (a step of 1 %
  of the indicator's observed range in its better direction) and the gain if it reached its upper bound.
* :func:`plan_improvement` — the fewest indicators (up to ``max_changes``) whose feasible improvement reaches
  the target; among those sets, the one that needs the smallest move (each changed indicator moved the same
  fraction t of the way to its bound, t found by bisection), with the new score and rank.

Feasible means: an indicator only moves in its better direction (counts never fall below today's value),
up to its bound: by default the best value observed among the units (a level cannot exceed the best
observed), at most 1 for indicators declared as shares (``shares``), or bounds given per indicator.
Sets are searched exhaustively while C(n, k) ≤ ``budget``, otherwise among the ``budget``-limited best
single-indicator candidates (``PlanResult.exhaustive`` says which). The feasible changes (levers), the ordering
by gain and the searches are shared with the vendor rating's plan (:mod:`fintech_eval.methods.improve`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError
from ..methods.improve import Lever, feasible, fewest_levers, least_move, order_by_gain
from .uncertainty import default_target


# --- re-running with changed raw data ------------------------------------------------------------------------
def rerun_with_data(result, data: pd.DataFrame) -> pd.DataFrame:
    """The final data set of ``result``'s spec run on ``data`` instead of its raw inputs (same units, groups,
    tree and denominators)."""
    from ..engine.pipeline import _run_steps

    if not result.states:
        raise SpecError("this result does not remember its inputs (loaded from a folder?): evaluate its spec", rule="result.rerun")
    st = result.states[0].copy()
    st.data = data
    st.datasets["Raw"] = data
    st, _ = _run_steps(result.spec, st)
    return next(reversed(st.datasets.values()))


def _raw(result) -> pd.DataFrame:
    return result.states[0].data


# --- targets ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """``rank`` (overall rank ≤ value), ``group_rank`` (rank in the entity's group of column ``group`` ≤
    value) or ``score`` (index ≥ value)."""

    kind: str
    value: float
    group: str | None = None
    text: str = ""


def parse_target(text: str, current_rank: int) -> Target:
    """``next`` · ``rank:N`` · ``top:N`` · ``top:N:GROUP`` · ``score:X``."""
    t = str(text).strip()
    try:
        if t == "next":
            if current_rank <= 1:
                raise SpecError("the entity is already ranked first: give score:X or another target", rule="plan.target", parameter="target")
            return Target("rank", current_rank - 1, text=f"rank {current_rank - 1} (the next rank up)")
        head, _, rest = t.partition(":")
        if head in ("rank", "top"):
            n, _, group = rest.partition(":")
            k = int(n)
            if k < 1:
                raise ValueError
            if group:
                return Target("group_rank", k, group, f"top {k} of its {group}")
            return Target("rank", k, text=f"rank {k} or better")
        if head == "score":
            return Target("score", float(rest), text=f"score {float(rest):g} or more")
    except ValueError:
        pass
    raise SpecError(f"--target {text!r}: use next, rank:N, top:N, top:N:GROUP or score:X", rule="plan.target", parameter="target")


def _standing(result, final: pd.DataFrame, unit, node: str, target: Target) -> tuple[float, int, int | None]:
    """(score, overall rank, group rank) of ``unit`` in ``final``."""
    s = final[node].to_numpy(dtype=float)
    i = list(final.index).index(unit)
    x = s[i]
    rank = int(np.sum(s > x) + 1) if np.isfinite(x) else 10**9
    grank = None
    if target.group is not None:
        g = result.groups[target.group].reindex(final.index).to_numpy()
        same = g == g[i]
        grank = int(np.sum(s[same] > x) + 1) if np.isfinite(x) else 10**9
    return float(x), rank, grank


def _reached(target: Target, score: float, rank: int, grank: int | None) -> bool:
    if target.kind == "score":
        return score >= target.value
    if target.kind == "group_rank":
        return grank is not None and grank <= target.value
    return rank <= target.value


# --- bounds -------------------------------------------------------------------------------------------------
def read_bounds(path: str | Path) -> pd.DataFrame:
    """A CSV ``iCode,lower,upper`` of feasible raw values (either may be empty)."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read bounds: {exc}", rule="plan.bounds", file=str(path)) from None
    missing = {"iCode", "lower", "upper"} - set(df.columns)
    if missing:
        raise DataError(f"bounds need columns iCode, lower, upper (missing {', '.join(sorted(missing))})", rule="plan.bounds", file=str(path))
    return df.set_index("iCode")[["lower", "upper"]].astype(float)


def feasible_bounds(result, unit, changeable: Sequence[str] | None = None, bounds: pd.DataFrame | Mapping | None = None,
                    shares: Sequence[str] = ()) -> pd.DataFrame:
    """Per changeable indicator: today's value, direction, and the best feasible value (module doc)."""
    raw = _raw(result)
    tree = result.tree
    codes = list(changeable) if changeable else [c for c in tree.indicators if c in raw.columns]
    unknown = [c for c in codes if c not in raw.columns]
    if unknown:
        from ..engine.checks import suggest

        raise SpecError(f"no indicator {unknown[0]!r}{suggest(unknown[0], list(raw.columns))}", rule="plan.indicator", parameter="changeable")
    b = pd.DataFrame(bounds).T if isinstance(bounds, Mapping) else bounds
    rows = []
    for c in codes:
        col = raw[c].to_numpy(dtype=float)
        now = float(raw.at[unit, c])
        d = int(tree.directions.get(c, 1))
        lo_obs, hi_obs = np.nanmin(col), np.nanmax(col)
        best = hi_obs if d > 0 else lo_obs
        if c in shares:
            best = min(best, 1.0) if d > 0 else best
        if b is not None and c in b.index:
            lo, hi = b.at[c, "lower"], b.at[c, "upper"]
            if d > 0 and pd.notna(hi):
                best = float(hi)
            if d < 0 and pd.notna(lo):
                best = float(lo)
        if np.isnan(now):
            now_eff = lo_obs if d > 0 else hi_obs  # a missing value starts from the worst observed
        else:
            now_eff = now
        room = (best - now_eff) * d
        rows.append({"iCode": c, "value": now, "from": now_eff, "direction": d, "best": best, "room": max(room, 0.0),
                     "range": hi_obs - lo_obs})
    return pd.DataFrame(rows).set_index("iCode")


def levers_of(fb: pd.DataFrame) -> list[Lever]:
    """:func:`feasible_bounds`' rows as the shared planner's levers (``scale``: the observed range)."""
    return [Lever(str(c), float(r["from"]), float(r["best"]), int(r["direction"]), scale=float(r["range"])) for c, r in fb.iterrows()]


def _apply(raw: pd.DataFrame, unit, fb: pd.DataFrame, codes: Sequence[str], t: float) -> pd.DataFrame:
    data = raw.copy()
    for c in codes:
        data.at[unit, c] = fb.at[c, "from"] + t * (fb.at[c, "best"] - fb.at[c, "from"])
    return data


# --- marginal gains -----------------------------------------------------------------------------------------
def marginal_gains(result, entity: str, *, node: str | None = None, changeable: Sequence[str] | None = None,
                   bounds: pd.DataFrame | Mapping | None = None, shares: Sequence[str] = (), step: float = 0.01) -> pd.DataFrame:
    """Per indicator: the index gain per unit of raw value for a step of ``step`` × the observed range in the
    better direction (``gain_per_unit``, in index points per raw unit), and the gain if the indicator reached
    its bound (``gain_to_bound``); sorted by the latter."""
    unit = _unit(result, entity)
    node = node or default_target(result)[0]
    fb = feasible_bounds(result, unit, changeable, bounds, shares)
    raw = _raw(result)
    base = float(result.final.at[unit, node])
    rows = []
    for c, r in fb.iterrows():
        h = step * r["range"] if r["range"] > 0 else 0.0
        h = min(h, r["room"])
        per_unit = float("nan")
        if h > 0:
            d = raw.copy()
            d.at[unit, c] = r["from"] + r["direction"] * h
            per_unit = (float(rerun_with_data(result, d).at[unit, node]) - base) / (r["direction"] * h)
        to_bound = 0.0
        if r["room"] > 0:
            to_bound = float(rerun_with_data(result, _apply(raw, unit, fb, [c], 1.0)).at[unit, node]) - base
        rows.append({"iCode": c, "value": r["value"], "direction": int(r["direction"]), "bound": r["best"],
                     "gain_per_unit": per_unit, "gain_to_bound": to_bound})
    return pd.DataFrame(rows).sort_values("gain_to_bound", ascending=False, kind="stable").reset_index(drop=True)


# --- the plan -----------------------------------------------------------------------------------------------
@dataclass
class PlanResult:
    entity: str
    target: Target
    node: str
    score: float
    rank: int
    group_rank: int | None
    reached: bool
    changes: pd.DataFrame | None  # iCode, from, to, direction
    new_score: float | None
    new_rank: int | None
    new_group_rank: int | None
    runs: int
    exhaustive: bool
    note: str = ""
    max_changes: int = 3  # the most indicators a plan could change

    def summary(self) -> str:
        head = f"{self.entity}: {self.node} {self.score:.2f}, rank {self.rank}" + (
            f" ({self.group_rank} in its {self.target.group})" if self.group_rank is not None else "") + f"; target {self.target.text}"
        if self.changes is None:
            return f"{head}: already met" if self.reached else f"{head}: not reachable with up to the allowed changes ({self.note})"
        n = len(self.changes)
        gr = f", {self.new_group_rank} in its {self.target.group}" if self.new_group_rank is not None else ""
        return (f"{head}: {n} indicator change(s) reach it — new {self.node} {self.new_score:.2f}, rank {self.new_rank}{gr}"
                f" ({self.runs} evaluations{'' if self.exhaustive else ', best candidates only'})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "node": self.node, "target": self.target.text, "score": self.score, "rank": self.rank,
            "group_rank": self.group_rank, "reached": self.reached, "new_score": self.new_score, "new_rank": self.new_rank,
            "new_group_rank": self.new_group_rank, "runs": self.runs, "exhaustive": self.exhaustive, "note": self.note,
            "changes": None if self.changes is None else self.changes.to_dict("records"),
        }


def _unit(result, entity: str):
    idx = [str(u) for u in result.final.index]
    if str(entity) not in idx:
        from ..engine.checks import suggest

        raise SpecError(f"no entity {entity!r} in the result{suggest(entity, idx)}", rule="plan.entity", parameter="entity")
    return result.final.index[idx.index(str(entity))]


def plan_improvement(
    result, entity: str, target: str | Target = "next", *, node: str | None = None, changeable: Sequence[str] | None = None,
    bounds: pd.DataFrame | Mapping | None = None, shares: Sequence[str] = (), max_changes: int = 3, budget: int = 400,
    tol: float = 1e-3,
) -> PlanResult:
    """The smallest feasible set of indicator changes that reaches ``target`` (module doc)."""
    unit = _unit(result, entity)
    node = node or default_target(result)[0]
    if node not in result.final.columns:
        raise SpecError(f"node {node!r} is not in the result", rule="plan.node", parameter="node")
    if not isinstance(max_changes, int) or max_changes < 1:
        raise SpecError(f"max_changes must be >= 1, got {max_changes!r}", rule="plan.max_changes", parameter="max_changes")
    s0 = result.final[node].to_numpy(dtype=float)
    i0 = list(result.final.index).index(unit)
    rank0 = int(np.sum(s0 > s0[i0]) + 1)
    tgt = target if isinstance(target, Target) else parse_target(target, rank0)
    if tgt.group is not None and (result.groups is None or tgt.group not in result.groups):
        raise SpecError(f"no group column {tgt.group!r}", rule="plan.target", parameter="target")
    score, rank, grank = _standing(result, result.final, unit, node, tgt)
    if _reached(tgt, score, rank, grank):
        return PlanResult(str(entity), tgt, node, score, rank, grank, True, None, None, None, None, 0, True, max_changes=max_changes)
    fb = feasible_bounds(result, unit, changeable, bounds, shares)
    levers = feasible(levers_of(fb))
    fb = fb.loc[[lv.code for lv in levers]]
    raw = _raw(result)
    seen: dict[tuple[tuple[str, ...], float], tuple[float, int, int | None]] = {}

    def run(codes: Sequence[str], t: float) -> tuple[float, int, int | None]:
        key = (tuple(sorted(codes)), t)
        if key not in seen:
            seen[key] = _standing(result, rerun_with_data(result, _apply(raw, unit, fb, codes, t)), unit, node, tgt)
        return seen[key]

    single = {lv.code: run([lv.code], 1.0)[0] - score for lv in levers}
    order = [lv.code for lv in order_by_gain(levers, single)]
    by_code = {lv.code: lv for lv in levers}
    reaching, exhaustive = fewest_levers(order, lambda combo: _reached(tgt, *run(combo, 1.0)), max_size=max_changes, budget=budget)
    if reaching:
        best = None
        for combo in reaching:  # the least move each set needs: bisection on t
            t = least_move(lambda x, combo=combo: _reached(tgt, *run(combo, x)), tol)
            cost = t * sum(by_code[c].room / by_code[c].scale if by_code[c].scale > 0 else 1.0 for c in combo)  # room moved, in ranges
            if best is None or cost < best[0] - 1e-12:
                best = (cost, combo, t)
        _, combo, t = best
        new_score, new_rank, new_grank = run(combo, t)
        data = _apply(raw, unit, fb, combo, t)
        changes = pd.DataFrame([
            {"iCode": c, "from": fb.at[c, "value"], "to": float(data.at[unit, c]), "direction": int(fb.at[c, "direction"]),
             "bound": fb.at[c, "best"], "share_of_room": t}
            for c in combo
        ])
        return PlanResult(str(entity), tgt, node, score, rank, grank, True, changes, new_score, new_rank, new_grank, len(seen), exhaustive,
                          max_changes=max_changes)
    return PlanResult(str(entity), tgt, node, score, rank, grank, False, None, None, None, None, len(seen), exhaustive,
                      note=f"no set of up to {max_changes} indicator(s) within their bounds reaches it", max_changes=max_changes)
