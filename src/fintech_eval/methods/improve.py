"""Improvement planning, the machinery both planners share: the index planner
(:func:`fintech_eval.analysis.plan_improvement`: an entity's composite index, a target rank or score) and the
vendor rating's plan (:func:`fintech_eval.capability.min_step_plan`: a vendor's capability score, the next
level).

* **Feasible changes.** A :class:`Lever` is one indicator that may change: where it is (``now``), the best it
  can reach (``best``: a bound, the top rubric step), the direction that improves it, and, for a rubric, the
  discrete ``steps`` it can take. :func:`feasible` keeps the levers with room to move.
* **Ordering by gain.** :func:`order_by_gain`: the levers best first by a gain (the score gained at the bound),
  stable for equal gains so that the caller's order breaks ties.
* **The smallest set reaching a target**, two searches for two kinds of model:

  - :func:`fewest_steps` — the score is additive in the levers (a vendor's total: fixed effective weights ×
    step scores): the fewest one-step increases whose gains add up to ``need``, exactly, by dynamic
    programming over the step count (a multiple-choice knapsack); ties go to the larger gain.
  - :func:`fewest_levers` — the score is a black box (an index re-run: normalisation bounds, outlier
    treatment and every rank move with the entity): the fewest levers that reach the target moved to their
    bounds, every subset of k levers tried while C(n, k) ≤ ``budget``, else the best single levers by gain;
    then :func:`least_move` finds by bisection the smallest common fraction of their room that still reaches it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

EPS = 1e-9


@dataclass(frozen=True)
class Lever:
    """One indicator that may change: from ``now`` towards ``best`` in ``direction`` (+1: higher is better),
    continuously or through ``steps`` (a rubric's steps at or above ``now``, ascending). ``scale``: the size
    of one unit of room (the observed range of an index indicator), to compare moves across levers."""

    code: str
    now: float
    best: float
    direction: int = 1
    steps: tuple[int, ...] | None = None
    scale: float = 1.0

    @property
    def room(self) -> float:
        """How far it can move in its better direction (0 when it is at or past its best)."""
        return max((self.best - self.now) * self.direction, 0.0)

    def at(self, t: float) -> float:
        """The value a fraction ``t`` of the way from ``now`` to ``best``."""
        return self.now + t * (self.best - self.now)


def feasible(levers: Iterable[Lever]) -> list[Lever]:
    """The levers with room to move, in the order given."""
    return [lv for lv in levers if lv.room > 0]


def order_by_gain(levers: Sequence[Lever], gain: Mapping[str, float] | Callable[[Lever], float]) -> list[Lever]:
    """``levers`` best first by ``gain`` (a mapping code → gain, or a function); equal gains keep their order."""
    g = gain if callable(gain) else (lambda lv: gain[lv.code])
    return sorted(levers, key=lambda lv: -g(lv))


def fewest_steps(levers: Sequence[Lever], gain: Callable[[Lever, int], float], need: float) -> tuple[dict[str, int], bool]:
    """The fewest one-step increases of ``levers`` (each with ``steps``) whose gains add up to at least ``need``:
    ``gain(lever, step)`` is the gain of taking ``lever`` to ``step`` (additive across levers). Returns
    (code → new step, for the levers raised; feasible).

    Exact: ``best[c]`` is the largest gain with exactly ``c`` step increases, built one lever at a time
    (O(levers × total steps × steps per lever)); among plans with the fewest steps the one with the largest
    gain is returned."""
    if need <= EPS:
        return {}, True
    options = [[gain(lv, s) for s in lv.steps or ()] for lv in levers]
    total = sum(max(len(o) - 1, 0) for o in options)
    best = np.full(total + 1, -np.inf)
    best[0] = 0.0
    choices: list[np.ndarray] = []
    for opts in options:
        new = np.full(total + 1, -np.inf)
        arg = np.zeros(total + 1, dtype=int)
        for n_up, g in enumerate(opts):
            cand = np.full(total + 1, -np.inf)
            cand[n_up:] = best[: total + 1 - n_up] + g
            better = cand > new + 1e-12
            new = np.where(better, cand, new)
            arg = np.where(better, n_up, arg)
        best = new
        choices.append(arg)
    ok = np.flatnonzero(best >= need - EPS)
    if not len(ok):
        return {}, False
    raised: dict[str, int] = {}
    c = int(ok[0])
    for j in range(len(levers) - 1, -1, -1):
        n_up = int(choices[j][c])
        if n_up:
            raised[levers[j].code] = (levers[j].steps or ())[n_up]
        c -= n_up
    return raised, True


def fewest_levers(order: Sequence[str], reaches: Callable[[tuple[str, ...]], bool], *, max_size: int,
                  budget: int = 400) -> tuple[list[tuple[str, ...]], bool]:
    """The smallest k ≤ ``max_size`` for which some set of k levers (codes, best first in ``order``) reaches
    the target (``reaches(codes)``: with those levers at their bounds), and every such set of that size.
    Every k-subset is tried while C(n, k) ≤ ``budget``; beyond, the subsets of the best m levers with
    C(m, k) ≤ ``budget``. Returns (the reaching sets, or [] when none; whether every subset was tried)."""
    exhaustive = True
    for k in range(1, min(max_size, len(order)) + 1):
        pool = list(order)
        if math.comb(len(pool), k) > budget:
            exhaustive = False
            m = k
            while m < len(order) and math.comb(m + 1, k) <= budget:
                m += 1
            pool = pool[:m]
        hits = [combo for combo in itertools.combinations(pool, k) if reaches(combo)]
        if hits:
            return hits, exhaustive
    return [], exhaustive


def least_move(reaches_at: Callable[[float], bool], tol: float = 1e-3) -> float:
    """The smallest fraction t in (0, 1] (to within ``tol``) with ``reaches_at(t)``, by bisection; the caller
    knows ``reaches_at(1.0)``."""
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if reaches_at(mid):
            hi = mid
        else:
            lo = mid
    return hi
