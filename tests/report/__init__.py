"""Shared inputs of the report tests: the ASEM result (COINr's pipeline C) and a synthetic 31-province result."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

import fintech_eval as fe
from fintech_eval.geo import provinces

ROOT = Path(__file__).resolve().parents[2]
ASEM_SPEC = ROOT / "examples" / "asem-pipeline-c.yaml"
ASEM_PANEL = ROOT / "examples" / "asem" / "input_ASEM_iData_p_panel.csv"
ASEM_META = ROOT / "examples" / "asem" / "input_ASEM_iMeta.csv"
ENTITY = "CHN"
BOGUS_REGION = "Atlantis"


@lru_cache(maxsize=1)
def asem() -> fe.Result:
    return fe.evaluate(ASEM_SPEC)


@lru_cache(maxsize=1)
def asem_panel() -> fe.Result:
    spec = {
        "name": "ASEM panel",
        "data": {"format": "coinr", "idata": str(ASEM_PANEL), "imeta": str(ASEM_META)},
        "steps": [{"impute": {"method": "mean"}}, {"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {}}],
    }
    return fe.evaluate(spec)


def province_tree() -> fe.Tree:
    rows = [{"code": "Index", "parent": None, "level": 3, "name": "省级金融科技发展指数"}]
    pillars = ["基础设施", "业务发展", "风险防控"]
    for p, name in enumerate(pillars, start=1):
        rows.append({"code": f"P{p}", "parent": "Index", "level": 2, "name": name})
    for i in range(9):
        rows.append({"code": f"x{i + 1}", "parent": f"P{i // 3 + 1}", "level": 1, "name": f"指标{i + 1}",
                     "direction": -1 if i == 8 else 1})
    return fe.Tree.from_rows(rows)


def province_data(seed: int = 7, extra_unit: str | None = BOGUS_REGION) -> pd.DataFrame:
    """31 provinces (GB/T 2260 codes as units) × 9 indicators, two values missing; plus one unit that is
    no province (it must be reported as unresolved)."""
    codes = provinces()["code"].tolist() + ([extra_unit] if extra_unit else [])
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(rng.lognormal(1.0, 0.5, (len(codes), 9)), columns=[f"x{i + 1}" for i in range(9)],
                        index=pd.Index(codes, name="uCode"))
    data.iloc[3, 2] = np.nan
    data.iloc[7, 5] = np.nan
    return data


@lru_cache(maxsize=1)
def provinces_result() -> fe.Result:
    spec = {
        "name": "省级金融科技发展指数（模拟）",
        "data": {"format": "frame"},
        "steps": [{"impute": {"method": "mean"}}, {"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {}}],
    }
    return fe.evaluate(spec, frames={"data": province_data(), "tree": province_tree()})


# --- JR/T 0201 blocks H and J (industry report) and a capability rating (vendor report) ---------------------

SECTORS = ["bank", "securities", "insurance", "payment"]


def _block_result(block: str, units: list[str], seed: int, groups: pd.DataFrame | None = None) -> fe.Result:
    """A synthetic result of JR/T 0201 block ``block`` (its tree; lognormal data; min-max, arithmetic mean)."""
    tree = fe.Tree.from_framework(fe.load_framework("jrt0201-2020"), block)
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(rng.lognormal(1.0, 0.5, (len(units), len(tree.indicators))), columns=tree.indicators,
                        index=pd.Index(units, name="uCode"))
    spec = {"name": f"JR/T 0201 block {block} (synthetic)", "data": {"format": "frame"},
            "steps": [{"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {}}],
            "ranks": {"groups": ["sector"] if groups is not None else []}}
    frames = {"data": data, "tree": tree, **({"groups": groups} if groups is not None else {})}
    return fe.evaluate(spec, frames=frames)


@lru_cache(maxsize=1)
def h_result() -> fe.Result:
    """Block H: the four industries."""
    return _block_result("H", SECTORS, seed=11)


@lru_cache(maxsize=1)
def j_result() -> fe.Result:
    """Block J: 48 institutions, 12 per sector (group column ``sector``)."""
    units = [f"INST-{i:02d}" for i in range(48)]
    groups = pd.DataFrame({"sector": SECTORS * 12}, index=pd.Index(units, name="uCode"))
    return _block_result("J", units, seed=12, groups=groups)


@lru_cache(maxsize=1)
def vendor_ratings() -> dict:
    """Both models of the default capability framework for a product provider with mixed steps, some entries
    without evidence (capped) and some at the lowest step: a level below the top, requirements missing, a plan."""
    from fintech_eval.capability import Vendor, load_capability_framework, rate_both

    fw = load_capability_framework()
    rows = []
    for i, ind in enumerate(fw.indicators()):
        steps = fw.step_numbers(ind.code)
        rows.append({"indicator": ind.code, "step": steps[min(len(steps) - 1, i % 3 + 1)] if i % 7 else steps[0],
                     "evidence_ref": f"EV-{ind.code}" if i % 11 else None, "reviewer": "R", "date": "2024-01-31"})
    return rate_both(fw, Vendor("V001", "product", "样例科技"), pd.DataFrame(rows))
