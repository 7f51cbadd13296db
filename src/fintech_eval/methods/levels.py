"""Levels (ratings, 等级) from score bands and from staged requirements, with the reason for each unit.

Two patterns occur in Chinese capability standards (docs/reference/levels.md), often combined:

* **score → band** (DCMM, GB/T 33136, JR/T 0271 分档): a level's band holds scores >= its lower bound;
* **staged requirements** (CMM style; GB/T 20988, ITSS, DSMM): level L needs every mandatory requirement of
  levels 1..L; one unmet level-(L+1) requirement caps the unit at L. (Rating each element separately and
  taking the minimum over elements, as GB/T 20988 is often read, gives the same level.)

A unit's level is the highest L whose band holds its score **and** whose requirements for all levels up to L
are met. The rule is data (:class:`LevelRule`, e.g. from YAML), so score-only and requirement-only ratings
are the same call with one part left out. :func:`rate` returns, per unit, the level and why it is not higher:
the requirements that block the next level and how far the score is from the next band.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, SpecError


@dataclass(frozen=True)
class LevelRule:
    """``levels``: low → high. ``bands``: level → lower score bound (optional). ``requirements``: requirement
    code → the level at which it becomes mandatory (optional). ``names``: level → display name."""

    levels: tuple[Hashable, ...]
    bands: dict[Hashable, float] = field(default_factory=dict)
    requirements: dict[str, Hashable] = field(default_factory=dict)
    names: dict[Hashable, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.levels:
            raise SpecError("a level rule needs at least one level", step="levels", parameter="levels")
        if len(set(self.levels)) != len(self.levels):
            raise SpecError(f"levels repeat: {list(self.levels)}", step="levels", parameter="levels")
        unknown = [lv for lv in (*self.bands, *self.requirements.values(), *self.names) if lv not in self.levels]
        if unknown:
            raise SpecError(f"unknown level(s) {sorted(set(map(str, unknown)))}; levels are {list(self.levels)}",
                            step="levels", parameter="levels")
        if self.bands:
            missing = [lv for lv in self.levels if lv not in self.bands]
            if missing:
                raise SpecError(f"score bands missing for level(s) {missing}", step="levels", parameter="bands")
            bounds = [float(self.bands[lv]) for lv in self.levels]
            if any(not np.isfinite(b) for b in bounds) or any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
                raise SpecError(f"band lower bounds must be finite and strictly increasing with the level: {bounds}",
                                step="levels", parameter="bands")
        if not self.bands and not self.requirements:
            raise SpecError("a level rule needs score bands, requirements, or both", step="levels",
                            parameter="bands")

    @classmethod
    def build(
        cls,
        bands: Sequence[tuple[Hashable, float]] | Mapping[Hashable, float] | None = None,
        requirements: Mapping[str, Hashable] | None = None,
        levels: Sequence[Hashable] | None = None,
        names: Mapping[Hashable, str] | None = None,
    ) -> LevelRule:
        """From score bands ``[(level, lower bound), ...]`` and/or requirement → level; ``levels`` defaults to
        the band levels in bound order, else the sorted requirement levels."""
        b = dict(bands.items() if isinstance(bands, Mapping) else (bands or []))
        r = {str(k): v for k, v in (requirements or {}).items()}
        if levels is None:
            if b:
                levels = [lv for lv, _ in sorted(b.items(), key=lambda kv: float(kv[1]))]
                extra = sorted(set(r.values()) - set(levels), key=str)
                if extra:
                    raise SpecError(f"requirements name level(s) {extra} that have no score band",
                                    step="levels", parameter="requirements")
            else:
                levels = sorted(set(r.values()))
        return cls(tuple(levels), {k: float(v) for k, v in b.items()}, r, dict(names or {}))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LevelRule:
        """``{"levels": [...], "bands": {level: bound}, "requirements": {code: level}, "names": {level: name}}``."""
        return cls.build(d.get("bands"), d.get("requirements"), d.get("levels"), d.get("names"))

    def to_dict(self) -> dict[str, Any]:
        return {"levels": list(self.levels), "bands": dict(self.bands), "requirements": dict(self.requirements),
                "names": dict(self.names)}


def _met_matrix(met: pd.DataFrame, codes: list[str], index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    cols = [str(c) for c in met.columns]
    missing = [c for c in codes if c not in cols]
    if missing:
        raise DataError(f"requirement columns missing: {', '.join(missing)}", rule="levels.requirements",
                        step="levels")
    m = met.copy()
    m.columns = cols
    absent = index.difference(m.index)
    if len(absent):
        raise DataError(f"no requirement data for units {', '.join(map(str, absent[:10]))}",
                        rule="levels.requirements", step="levels")
    m = m.loc[index, codes]
    unknown = m.isna().to_numpy()
    ok = np.zeros(m.shape, bool)
    for j, c in enumerate(codes):
        col = m[c]
        known = col[col.notna()]
        try:
            valid = known.isin([0, 1]).to_numpy()
        except TypeError:  # pragma: no cover - exotic dtypes
            valid = np.zeros(len(known), bool)
        if not valid.all():
            u = known.index[~valid][0]
            raise DataError(f"requirement {c} for unit {u} must be true/false, got {known.loc[u]!r}",
                            rule="levels.boolean", step="levels", unit=str(u), column=c)
        ok[:, j] = col.fillna(0).astype(float).to_numpy() == 1.0
    return ok, unknown


def rate(
    scores: pd.Series | None = None,
    met: pd.DataFrame | None = None,
    rule: LevelRule | Mapping[str, Any] | None = None,
    *,
    bands: Sequence[tuple[Hashable, float]] | Mapping[Hashable, float] | None = None,
    requirements: Mapping[str, Hashable] | None = None,
    names: Mapping[Hashable, str] | None = None,
    floor: Hashable | None = None,
) -> pd.DataFrame:
    """Level of each unit and the reason it is not higher.

    ``scores``: unit → score (needed when the rule has bands). ``met``: boolean units × requirement codes
    (needed when it has requirements; NaN = unknown, counted as not met). ``rule``: a :class:`LevelRule` (or
    its dict), or give ``bands=[(level, lower bound), ...]`` / ``requirements={code: level}`` directly.
    ``floor``: the level given when not even the lowest level is reached (default: missing).

    Columns: ``level``, ``level_name``, ``band_level`` (what the score alone allows), ``requirement_level``
    (what the staged requirements alone allow), ``next_level``, ``blocking`` (tuple of the unmet requirements
    up to the next level), ``unknown`` (requirements with no answer), ``score_gap`` (points missing to the next
    band; 0 when the score already reaches it), ``reason`` (one readable sentence)."""
    if rule is None:
        rule = LevelRule.build(bands, requirements, None, names)
    elif isinstance(rule, Mapping):
        rule = LevelRule.from_dict(rule)
    levels = list(rule.levels)
    k = len(levels)
    if rule.bands and scores is None:
        raise DataError("this level rule has score bands: give scores", rule="levels.scores", step="levels")
    if rule.requirements and met is None:
        raise DataError("this level rule has requirements: give the requirement table (met)",
                        rule="levels.requirements", step="levels")
    if scores is not None:
        index = scores.index
    elif met is not None:
        index = met.index
    else:
        raise DataError("give scores or a requirement table", rule="levels.data", step="levels")
    n = len(index)

    # score bands: band_ok[i, l] = score_i >= bound_l (monotone in l because bounds increase)
    if rule.bands:
        s = pd.to_numeric(scores, errors="coerce").to_numpy(float)
        bounds = np.array([rule.bands[lv] for lv in levels])
        with np.errstate(invalid="ignore"):
            band_ok = s[:, None] >= bounds[None, :]
        band_idx = band_ok.sum(axis=1) - 1  # -1: below the lowest band
        score_missing = np.isnan(s)
    else:
        s = np.full(n, np.nan)
        bounds = None
        band_idx = np.full(n, k - 1)
        score_missing = np.zeros(n, bool)

    # staged requirements
    codes = list(rule.requirements)
    if codes:
        ok, unknown = _met_matrix(met, codes, index)
        req_level_pos = np.array([levels.index(rule.requirements[c]) for c in codes])
        level_ok = np.ones((n, k), bool)
        for li in range(k):
            cols = req_level_pos == li
            if cols.any():
                level_ok[:, li] = ok[:, cols].all(axis=1)
        staged = np.logical_and.accumulate(level_ok, axis=1)
        req_idx = staged.sum(axis=1) - 1
    else:
        ok = unknown = np.zeros((n, 0), bool)
        req_level_pos = np.zeros(0, int)
        req_idx = np.full(n, k - 1)

    lvl_idx = np.minimum(band_idx, req_idx)
    lvl_idx = np.where(score_missing, -2, lvl_idx)  # -2: cannot rate

    def level_at(i: int) -> Any:
        return levels[i] if i >= 0 else (floor if floor is not None else pd.NA)

    rows = []
    for u in range(n):
        li = int(lvl_idx[u])
        if li == -2:
            rows.append({"level": pd.NA, "level_name": pd.NA, "band_level": pd.NA,
                         "requirement_level": level_at(int(req_idx[u])), "next_level": pd.NA, "blocking": (),
                         "unknown": tuple(c for j, c in enumerate(codes) if unknown[u, j]),
                         "score_gap": np.nan, "reason": "no score: cannot rate"})
            continue
        nxt = li + 1 if li + 1 < k else None
        blocking = tuple(c for j, c in enumerate(codes) if nxt is not None and req_level_pos[j] <= nxt and not ok[u, j])
        unk = tuple(c for j, c in enumerate(codes) if unknown[u, j])
        gap = np.nan
        if nxt is not None and bounds is not None:
            gap = max(0.0, float(bounds[nxt] - s[u]))
        lv = level_at(li)
        name = rule.names.get(lv, pd.NA) if li >= 0 else pd.NA
        if nxt is None:
            reason = f"level {lv}: the top level"
        else:
            parts = []
            if blocking:
                parts.append("unmet requirement(s) " + ", ".join(
                    c + (" (no answer)" if c in unk else "") for c in blocking))
            if bounds is not None and gap > 0:
                parts.append(f"score {s[u]:g} is {gap:g} below its band ({bounds[nxt]:g})")
            head = f"level {lv}" if li >= 0 else "below the lowest level" + (f" (floor {floor})" if floor is not None else "")
            reason = f"{head}; next level {levels[nxt]}: " + "; ".join(parts) if parts else head
        rows.append({
            "level": lv, "level_name": name,
            "band_level": level_at(int(band_idx[u])) if rule.bands else pd.NA,
            "requirement_level": level_at(int(req_idx[u])) if codes else pd.NA,
            "next_level": levels[nxt] if nxt is not None else pd.NA,
            "blocking": blocking, "unknown": unk, "score_gap": gap, "reason": reason,
        })
    out = pd.DataFrame(rows, index=index)
    if all(isinstance(lv, int | np.integer) for lv in levels) and (floor is None or isinstance(floor, int)):
        for c in ("level", "band_level", "requirement_level", "next_level"):
            out[c] = out[c].astype("Int64")
    if scores is not None:
        out.insert(1, "score", s)
    return out
