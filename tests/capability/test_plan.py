"""The improvement plan is the exact minimum number of step increases (checked against brute force)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fintech_eval.capability import min_step_plan


def brute_force(current, steps, scores, weights, gap, forced):
    """Every combination of target steps: the fewest total steps whose gain reaches the gap."""
    codes = list(current)
    choices = []
    for c in codes:
        lo = max(current[c], forced.get(c, current[c]))
        choices.append([s for s in steps[c] if s >= lo])
    best = None
    for combo in itertools.product(*choices):
        cost = sum(steps[c].index(t) - steps[c].index(current[c]) for c, t in zip(codes, combo, strict=True))
        gain = sum(weights[c] * (scores[c][t] - scores[c][current[c]]) for c, t in zip(codes, combo, strict=True))
        if gain >= gap - 1e-9 and (best is None or cost < best[0] or (cost == best[0] and gain > best[1] + 1e-12)):
            best = (cost, gain)
    return best


def cost_gain(raised, current, steps, scores, weights):
    cost = sum(steps[c].index(t) - steps[c].index(current[c]) for c, t in raised.items())
    gain = sum(weights[c] * (scores[c][t] - scores[c][current[c]]) for c, t in raised.items())
    return cost, gain


def test_beats_greedy_when_step_scores_are_not_concave():
    # A: steps 0..3 scoring 0, 10, 20, 100 (weight .5): one-step gains 5, 5, 40.
    # B: steps 0..4 linear 0..100 (weight .5): one-step gains 12.5 each.
    # Gap 45. Greedy by gain of the next step takes B four times (4 steps, gain 50);
    # the exact plan raises A by three steps (3 steps, gain 50).
    current = {"A": 0, "B": 0}
    steps = {"A": [0, 1, 2, 3], "B": [0, 1, 2, 3, 4]}
    scores = {"A": {0: 0, 1: 10, 2: 20, 3: 100}, "B": {k: 25.0 * k for k in range(5)}}
    weights = {"A": 0.5, "B": 0.5}
    raised, ok = min_step_plan(current, steps, scores, weights, 45.0)
    assert ok and raised == {"A": 3}


def test_forced_steps_come_first_and_count():
    current = {"A": 1, "B": 0}
    steps = {"A": [0, 1, 2, 3, 4], "B": [0, 1, 2, 3, 4]}
    scores = {c: {k: 25.0 * k for k in range(5)} for c in steps}
    weights = {"A": 0.2, "B": 0.8}
    # A must reach 3 (a requirement): gain .2·50 = 10 ≥ gap 8 → nothing else
    assert min_step_plan(current, steps, scores, weights, 8.0, {"A": 3}) == ({"A": 3}, True)
    # gap 20: after A→3 (10 points) B needs 10 more: one step (20) suffices
    assert min_step_plan(current, steps, scores, weights, 20.0, {"A": 3}) == ({"A": 3, "B": 1}, True)
    # unreachable gap: reports infeasible but keeps the forced raise
    raised, ok = min_step_plan(current, steps, scores, weights, 500.0, {"A": 3})
    assert not ok and raised == {"A": 3}


def test_zero_weight_indicators_are_not_raised_for_score():
    current = {"A": 0, "R": 0}
    steps = {"A": [0, 1, 2], "R": [0, 1, 2]}
    scores = {c: {0: 0.0, 1: 50.0, 2: 100.0} for c in steps}
    raised, ok = min_step_plan(current, steps, scores, {"A": 1.0, "R": 0.0}, 60.0, {"R": 1})
    assert ok and raised == {"R": 1, "A": 2}


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force_on_random_small_cases(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    codes = [f"I{k}" for k in range(n)]
    steps, scores, current, weights, forced = {}, {}, {}, {}, {}
    w = rng.dirichlet(np.ones(n))
    for k, c in enumerate(codes):
        m = int(rng.integers(2, 5))
        steps[c] = list(range(m + 1))
        if rng.random() < 0.5:
            vals = np.sort(rng.uniform(0, 100, m + 1))
            vals[0], vals[-1] = 0.0, 100.0
        else:
            vals = np.linspace(0, 100, m + 1)
        scores[c] = {s: float(v) for s, v in zip(steps[c], vals, strict=True)}
        current[c] = int(rng.integers(0, m + 1))
        weights[c] = float(w[k])
        if rng.random() < 0.25 and current[c] < m:
            forced[c] = int(rng.integers(current[c] + 1, m + 1))
    base = sum(weights[c] * scores[c][current[c]] for c in codes)
    gap = float(rng.uniform(0, 100 - base))
    raised, ok = min_step_plan(current, steps, scores, weights, gap, forced)
    best = brute_force(current, steps, scores, weights, gap, forced)
    assert ok == (best is not None)
    if ok:
        cost, gain = cost_gain(raised, current, steps, scores, weights)
        assert cost == best[0]
        assert gain == pytest.approx(best[1])
        assert gain >= gap - 1e-9
        assert all(raised.get(c, current[c]) >= s for c, s in forced.items())
