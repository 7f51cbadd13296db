"""The planners' shared machinery (methods/improve.py) against brute force on small cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fintech_eval.methods.improve import (
    Lever,
    feasible,
    fewest_levers,
    fewest_steps,
    least_move,
    order_by_gain,
)


def test_levers_room_and_feasibility():
    up, down = Lever("a", 2.0, 5.0), Lever("b", 10.0, 4.0, direction=-1)  # b: lower is better (e.g. a time)
    assert up.room == 3.0 and down.room == 6.0 and up.at(0.5) == 3.5 and down.at(0.5) == 7.0
    at_best, past = Lever("c", 5.0, 5.0), Lever("d", 6.0, 5.0)
    assert [lv.code for lv in feasible([up, at_best, down, past])] == ["a", "b"]


def test_order_by_gain_is_stable():
    lv = [Lever(c, 0, 1) for c in "abcd"]
    assert [x.code for x in order_by_gain(lv, {"a": 1.0, "b": 3.0, "c": 1.0, "d": 2.0})] == ["b", "d", "a", "c"]
    assert [x.code for x in order_by_gain(lv, lambda x: -ord(x.code))] == ["a", "b", "c", "d"]


@pytest.mark.parametrize("seed", range(12))
def test_fewest_steps_is_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    levers, scores = [], {}
    for i in range(4):
        now = int(rng.integers(1, 3))
        steps = tuple(range(now, 6))
        scores[f"x{i}"] = {s: float(rng.uniform(0, 5)) * s for s in range(1, 6)}
        levers.append(Lever(f"x{i}", now, 5, steps=steps))

    def gain(lv, s):
        return scores[lv.code][s] - scores[lv.code][int(lv.now)]

    need = float(rng.uniform(1, 30))
    got, ok = fewest_steps(levers, gain, need)
    best = None  # every combination of target steps: fewest steps, then the largest gain
    for choice in itertools.product(*[lv.steps for lv in levers]):
        g = sum(gain(lv, s) for lv, s in zip(levers, choice, strict=True))
        n = sum(s - lv.now for lv, s in zip(levers, choice, strict=True))
        if g >= need - 1e-9 and (best is None or (n, -g) < (best[0], -best[1])):
            best = (n, g)
    if best is None:
        assert not ok
        return
    assert ok
    n_got = sum(s - int(lv.now) for lv in levers for c, s in got.items() if c == lv.code)
    g_got = sum(gain(lv, got[lv.code]) for lv in levers if lv.code in got)
    assert n_got == best[0] and g_got == pytest.approx(best[1])


@pytest.mark.parametrize("seed", range(8))
def test_fewest_levers_finds_the_smallest_reaching_sets(seed):
    rng = np.random.default_rng(seed)
    gains = {f"i{j}": float(rng.uniform(0, 10)) for j in range(6)}
    need = float(rng.uniform(5, 30))

    def reaches(combo):  # a non-additive model: the best two count fully, the rest half
        g = sorted((gains[c] for c in combo), reverse=True)
        return sum(g[:2]) + 0.5 * sum(g[2:]) >= need

    order = sorted(gains, key=lambda c: -gains[c])
    hits, exhaustive = fewest_levers(order, reaches, max_size=4, budget=10**6)
    brute = next(([cb for cb in itertools.combinations(order, k) if reaches(cb)] for k in range(1, 5)
                  if any(reaches(cb) for cb in itertools.combinations(order, k))), [])
    assert exhaustive and sorted(map(sorted, hits)) == sorted(map(sorted, brute))
    limited, exhaustive = fewest_levers(order, reaches, max_size=4, budget=3)  # C(6, 1) > 3: the best 3 only
    assert not exhaustive and all(set(cb) <= set(order[:4]) for cb in limited)


def test_least_move_finds_the_threshold():
    assert least_move(lambda t: t >= 0.3141, tol=1e-6) == pytest.approx(0.3141, abs=1e-6)
    assert least_move(lambda t: True) <= 1e-3
