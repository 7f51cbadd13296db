"""Many variants of one result, run through :func:`fintech_eval.engine.evaluate_many`, with the shared parts
shared and failures located.

Variants that agree on every change before their last changed step (e.g. the same winmax and normaliser,
different weights) share one re-run up to that step: :func:`run_variants` re-runs each distinct prefix once
(``regen``) and hands the rest to ``evaluate_many`` from there. A variant the engine cannot run (a geometric
mean meeting a zero) either stops the analysis with the replication and its changes named, or, with
``on_error="skip"``, is left out (NaN) and reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine.pipeline import evaluate_many, regen
from ..errors import FintechEvalError, Problem, SpecError
from ..methods.rank import min_ranks


@dataclass
class Variants:
    """Scores and ranks (variants × units × targets); ``errors``: variant → the problem that stopped it."""

    scores: np.ndarray
    ranks: np.ndarray
    errors: dict[int, str] = field(default_factory=dict)


def ranks_of(scores: np.ndarray) -> np.ndarray:
    """COINr's ranks along the units axis of (variants × units × targets): highest = 1, ties min, NaN kept."""
    v, u, t = scores.shape
    cols = np.moveaxis(scores, 1, 0).reshape(u, v * t)  # one column per (variant, target)
    return np.moveaxis(min_ranks(cols).reshape(u, v, t), 0, 1)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _split(spec, changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(changes before the variant's last changed step, the rest); a ``data.*`` change is never split."""
    if not changes or any(a.startswith("data.") for a in changes):
        return {}, dict(changes)
    pos = {a: spec.step_index(a.partition(".")[0], a) for a in changes}
    last = max(pos.values())
    return {a: v for a, v in changes.items() if pos[a] < last}, {a: v for a, v in changes.items() if pos[a] == last}


def _locate(result, changes_list: Sequence[Mapping[str, Any]]) -> None:
    for i, c in enumerate(changes_list):
        try:
            result.spec.with_changes(c)
        except FintechEvalError as exc:
            raise SpecError([Problem(p.rule, f"variant {i + 1}: {p.message}", {**p.where, "variant": i + 1}) for p in exc.problems]) from None


def run_variants(
    result,
    changes_list: Sequence[Mapping[str, Any]],
    *,
    target: Sequence[str],
    workers: int | None = None,
    on_error: str = "raise",
    progress: Callable[[int], None] | None = None,
) -> Variants:
    """Scores and ranks of ``target`` for every variant (see the module doc). ``progress(k)`` is called as
    batches of ``k`` variants finish."""
    if on_error not in ("raise", "skip"):
        raise SpecError(f"on_error must be 'raise' or 'skip', got {on_error!r}", parameter="on_error")
    target = list(target)
    n, m = len(changes_list), len(result.final)
    groups: dict[str, tuple[dict[str, Any], list[int], list[dict[str, Any]]]] = {}
    for i, c in enumerate(changes_list):
        head, tail = _split(result.spec, c)
        g = groups.setdefault(_key(head), (head, [], []))
        g[1].append(i)
        g[2].append(tail)
    scores = np.full((n, m, len(target)), np.nan)
    errors: dict[int, str] = {}
    for head, idx, tails in groups.values():
        try:
            base = regen(result, head) if head else result
            scores[idx] = evaluate_many(base, tails, target=target, what="score", workers=workers)
        except SpecError:  # evaluate_many checks every variant before running any: say which one
            _locate(result, changes_list)
            raise
        except FintechEvalError:
            base = None
            for i, tail in zip(idx, tails, strict=True):
                try:
                    base = base or (regen(result, head) if head else result)
                    scores[i] = evaluate_many(base, [tail], target=target, what="score", workers=1)[0]
                except FintechEvalError as exc:
                    msg = "; ".join(p.message for p in exc.problems)
                    if on_error == "raise":
                        raise FintechEvalError([Problem(
                            "analysis.variant", f"replication {i + 1} ({_key(changes_list[i])[:300]}) failed: {msg}"
                            " (on_error='skip' / --skip-failed leaves failed replications out)",
                            {"variant": i + 1},
                        )]) from None
                    errors[i] = msg
        if progress is not None:
            progress(len(idx))
    return Variants(scores, ranks_of(scores), errors)
