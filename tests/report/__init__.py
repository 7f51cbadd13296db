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


# --- a small JR/T 0201 round: sectors with not-applicable indicators, provinces of very different sizes --------

ALL_YES = "J-A1B2-C2"  # binary: every bank answers yes, so min-max within the banks has no spread
LONE_PROVINCE = "65"  # Xinjiang: one institution only
ROUND_SECTORS = {"bank": 14, "payment": 10, "insurance": 8}


@lru_cache(maxsize=1)
def round_result() -> fe.Result:
    """32 institutions of block J in three sectors (bank-only indicators not applicable to the others, and
    masked as such), normalised within each sector, an indicator without spread in a sector left out there
    (``no_spread: exclude``); every bank says yes to :data:`ALL_YES`; three provinces
    with 10+ institutions and one (:data:`LONE_PROVINCE`) with a single, best-scoring one; one value missing.
    (No imputation step: the engine's imputers fill not-applicable cells too.)"""
    fw = fe.load_framework("jrt0201-2020")
    tree = fe.Tree.from_framework(fw, "J")
    units, sectors = [], []
    for s, n in ROUND_SECTORS.items():
        units += [f"SYN-{s[:3].upper()}-{i:02d}" for i in range(n)]
        sectors += [s] * n
    idx = pd.Index(units, name="uCode")
    rng = np.random.default_rng(5)
    data = pd.DataFrame(rng.lognormal(1.0, 0.5, (len(units), len(tree.indicators))), columns=tree.indicators, index=idx)
    mask = pd.DataFrame(False, index=idx, columns=tree.indicators)
    for u, s in zip(units, sectors, strict=True):
        for c in tree.indicators:
            if not fw.indicator(c).applies_to(s):
                mask.at[u, c] = True
                data.at[u, c] = np.nan
    banks = [u for u, s in zip(units, sectors, strict=True) if s == "bank"]
    data.loc[banks, ALL_YES] = 1.0
    data.loc[[u for u, s in zip(units, sectors, strict=True) if s != "bank"], ALL_YES] = rng.integers(0, 2, len(units) - len(banks))
    data.loc[units[-1], ALL_YES] = 0.0
    data.loc[units[-2], ALL_YES] = 1.0
    lone = "SYN-PAY-00"
    data.loc[lone] = data.loc[lone] * 4  # the best institution, alone in its province
    data.at["SYN-INS-03", "J-A2B1-C1"] = np.nan  # missing, not imputed
    regions = ["11", "31", "44"] * 11
    groups = pd.DataFrame({"sector": sectors, "region_code": regions[: len(units)]}, index=idx)
    groups.loc[lone, "region_code"] = LONE_PROVINCE
    names = pd.Series([f"合成机构{u[-6:]}" for u in units], index=idx)
    spec = {
        "name": "JR/T 0201 block J, 2024 (synthetic round)", "data": {"format": "frame"},
        "steps": [{"treat": {"method": "coinr", "by": "sector", "skip_sparse": True}},
                  {"normalise": {"method": "minmax", "range": [0, 100], "by": "sector", "no_spread": "exclude"}},
                  {"aggregate": {"method": "amean", "dat_thresh": 0.5}}],
        "ranks": {"groups": ["sector", "region_code"]},
    }
    return fe.evaluate(spec, frames={"data": data, "tree": tree, "groups": groups, "not_applicable": mask, "names": names})
