"""The aggregation tree the engine works on: indicators (level 1) up to the index (top level).

Levels count as in COINr: 1 = indicators, 2 = their groups, …, top = the index. A JR/T 0201 framework
maps to the same shape (C → 1, B → 2, A → 3, block → 4). Weights are relative within each parent's
children (rescaled to sum to 1 by the aggregators); directions are +1 or -1 (reverse) per indicator.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, Problem


@dataclass(frozen=True, eq=False)
class Tree:
    """``meta`` columns: code, parent, level, weight, direction, name (one row per node, file order)."""

    meta: pd.DataFrame

    def __post_init__(self) -> None:
        problems = _check(self.meta)
        if problems:
            raise DataError(problems)

    # --- constructors ------------------------------------------------------------------------------
    @classmethod
    def from_rows(cls, rows: list[dict]) -> Tree:
        df = pd.DataFrame(rows)
        for col, default in (("weight", 1.0), ("direction", 1), ("name", None), ("parent", None)):
            if col not in df:
                df[col] = default
            elif default is not None:
                df[col] = df[col].fillna(default)
        df["name"] = df["name"].where(df["name"].notna(), df["code"])
        return cls(_normalise_meta(df))

    @classmethod
    def from_imeta(cls, imeta: pd.DataFrame) -> Tree:
        """COINr's iMeta: rows of Type Indicator or Aggregate become nodes."""
        types = imeta["Type"].to_numpy(object)
        keep = (types == "Indicator") | (types == "Aggregate")
        col = {c: imeta[c].to_numpy(object)[keep] for c in ("iCode", "Parent", "Level", "Weight", "Direction")}
        df = {
            "code": col["iCode"],
            "parent": col["Parent"],
            "level": col["Level"],
            "weight": col["Weight"],
            "direction": np.where(pd.isna(col["Direction"]), 1, col["Direction"]),
            "name": imeta["iName"].to_numpy(object)[keep] if "iName" in imeta else col["iCode"],
        }
        return cls(_normalise_meta(df))

    @classmethod
    def from_framework(cls, framework, block: str, *, include_incomplete: bool = False) -> Tree:
        """A JR/T 0201-style framework block as a tree: indicator (C) = 1, B = 2, A = 3, block = 4.

        Directions are the indicators' (reverse = -1); weights are equal (1) until a weight step sets them.
        Headings left without complete indicators are dropped (e.g. the incomplete Q-A2).
        """
        from ..catalog.models import Heading, Indicator

        blk = next((b for b in framework.blocks if b.code == block), None)
        if blk is None:
            raise DataError(f"framework {framework.id} has no block {block!r}", rule="tree.block")
        rows: list[dict] = []

        def rec(h: Heading, parent: str | None, level: int) -> bool:
            kept = False
            start = len(rows)
            rows.append({"code": h.code, "parent": parent, "level": level, "name": h.name.zh})
            for c in h.children:
                kept |= rec(c, h.code, level - 1)
            for i in h.indicators:
                if isinstance(i, Indicator) and (i.complete or include_incomplete):
                    rows.append({"code": i.code, "parent": h.code, "level": 1, "direction": i.direction, "name": i.name.zh})
                    kept = True
            if not kept:
                del rows[start:]
            return kept

        rec(blk, None, 4)
        if not any(r["level"] == 1 for r in rows):
            raise DataError(f"block {block} has no complete indicators", rule="tree.block")
        return cls.from_rows(rows)

    # --- navigation --------------------------------------------------------------------------------
    @cached_property
    def n_levels(self) -> int:
        return int(self.meta["level"].max())

    @cached_property
    def indicators(self) -> list[str]:
        return self.codes(1)

    @cached_property
    def _by_level(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for code, level in zip(self.meta["code"].tolist(), self.meta["level"].tolist(), strict=True):
            out.setdefault(level, []).append(code)
        return out

    def codes(self, level: int) -> list[str]:
        return list(self._by_level.get(level, []))

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for code, parent in zip(self.meta["code"].tolist(), self.meta["parent"].tolist(), strict=True):
            if parent is not None:
                out.setdefault(parent, []).append(code)
        return out

    def children(self, code: str) -> list[str]:
        return self._children.get(code, [])

    @cached_property
    def weights(self) -> pd.Series:
        codes = pd.Index(self.meta["code"].to_numpy(object), dtype=object)  # object: fast to iterate
        return pd.Series(self.meta["weight"].to_numpy(float), index=codes, name="weight")

    @cached_property
    def directions(self) -> pd.Series:
        leaf = self.meta["level"].to_numpy() == 1  # (numpy masks: a boolean frame filter costs ten times more)
        codes = pd.Index(self.meta["code"].to_numpy(object)[leaf], dtype=object)
        return pd.Series(self.meta["direction"].to_numpy(int)[leaf], index=codes, name="direction")

    @cached_property
    def parent_of(self) -> dict[str, str | None]:
        return dict(zip(self.meta["code"].tolist(), self.meta["parent"].tolist(), strict=True))

    @cached_property
    def _level(self) -> dict[str, int]:
        return dict(zip(self.meta["code"].tolist(), self.meta["level"].tolist(), strict=True))

    def level_of(self, code: str) -> int:
        return self._level[code]

    def with_weights(self, weights: dict[str, float] | pd.Series) -> Tree:
        """A copy with some weights replaced (others kept)."""
        meta = self.meta.copy()
        w = pd.Series(weights, dtype=float)
        unknown = sorted(set(w.index) - set(meta["code"]))
        if unknown:
            raise DataError(f"weights for unknown node(s): {', '.join(map(str, unknown))}", rule="weights.unknown")
        meta["weight"] = meta["code"].map(w).fillna(meta["weight"]).astype(float)
        return Tree(meta)

    def leaves_under(self, code: str) -> list[str]:
        kids = self.children(code)
        if not kids:
            return [code]
        return [leaf for k in kids for leaf in self.leaves_under(k)]


def _normalise_meta(df: pd.DataFrame | dict[str, Any]) -> pd.DataFrame:
    """The meta columns in their types; an empty or missing parent is None (the top). Codes and names are
    kept as object columns (Python strings): the tree is iterated often, pyarrow-backed text is slow to iterate."""
    parent = np.asarray(df["parent"], dtype=object)
    top = pd.isna(parent) | (parent == "")
    for col in ("level", "direction"):
        v = _numbers(df[col])
        bad = ~np.isfinite(v) | (v != np.round(v))
        if bad.any():
            nodes = [str(c) for c in np.asarray(df["code"], dtype=object)[bad]]
            raise DataError(f"{col} must be a whole number; missing or not one for node(s) {', '.join(nodes[:10])}",
                            rule=f"tree.{col}", node=nodes[0])
    return pd.DataFrame(
        {
            "code": pd.Series(_text(df["code"]), dtype=object),
            "parent": pd.Series(np.where(top, None, _text(parent)), dtype=object),
            "level": np.asarray(df["level"], dtype=float).astype(int),
            "weight": np.asarray(df["weight"], dtype=float),
            "direction": np.asarray(df["direction"], dtype=float).astype(int),
            "name": pd.Series(_text(df["name"]), dtype=object),
        }
    )


def _numbers(values: Any) -> np.ndarray:
    """Values as float64, anything that is not a number NaN (``pandas.to_numeric(errors="coerce")``; numbers
    and missing values, the usual case, convert directly)."""
    try:
        with np.errstate(invalid="ignore"):
            return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce").to_numpy(float)


def _text(values: Any) -> np.ndarray:
    """Values as an object array of ``str`` (what ``astype(str)`` gives, e.g. 'nan' for a missing name)."""
    return np.asarray(values, dtype=object).astype(str).astype(object)


def _check(meta: pd.DataFrame) -> list[Problem]:
    """Every rule broken, node by node in file order (masks over all nodes; a loop only over the faults)."""
    code = meta["code"].to_numpy(object)
    parent = meta["parent"].to_numpy(object)
    level = meta["level"].to_numpy()
    weight = meta["weight"].to_numpy(float)
    direction = meta["direction"].to_numpy()
    has_parent = ~pd.isna(parent)
    codes = pd.Index(code, dtype=object)
    dup = codes.duplicated()
    last = pd.Index(code[::-1], dtype=object)  # a duplicate code: its last row (as a dict would keep)
    targets = pd.Index(parent, dtype=object)  # (an object Index: an array would have its type guessed, 4x slower)
    at = last.get_indexer(targets) if not last.has_duplicates else last.drop_duplicates().get_indexer(targets)
    lv = level[::-1] if not last.has_duplicates else level[::-1][~last.duplicated()]
    plevel = np.where(at >= 0, lv[np.maximum(at, 0)], -1) if len(lv) else np.full(len(code), -1)
    known = has_parent & (at >= 0)
    top = level.max() if len(level) else 0
    with np.errstate(invalid="ignore"):
        faults = [  # (rule, row mask, message for row i)
            ("tree.duplicate", dup, lambda i: f"node code {code[i]} appears twice"),
            ("tree.direction", ~np.isin(direction, (1, -1)), lambda i: f"direction must be 1 or -1, got {direction[i]}"),
            ("tree.weight", ~np.isfinite(weight) | (weight < 0), lambda i: f"weight must be a finite number >= 0, got {weight[i]}"),
            ("tree.parent", ~has_parent & (level != top), lambda i: f"level-{level[i]} node has no parent"),
            ("tree.parent", has_parent & ~known, lambda i: f"parent {parent[i]!r} is not a node"),
            ("tree.level", known & (plevel != level + 1), lambda i: f"parent {parent[i]} is at level {int(plevel[i])}, expected {level[i] + 1}"),
        ]
    rows = sorted((int(i), k) for k, (_, mask, _) in enumerate(faults) for i in np.flatnonzero(mask))
    probs = [Problem(faults[k][0], faults[k][2](i), {"node": code[i]}) for i, k in rows]
    childless = (level > 1) & ~codes.isin(parent[has_parent])
    probs += [Problem("tree.childless", f"aggregate {code[i]} has no children", {"node": code[i]}) for i in np.flatnonzero(childless)]
    return probs
