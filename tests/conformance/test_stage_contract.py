"""Every registered stage returns a StageOutput and declares every parameter it reads; every registered method
of every registry declares the parameters its function takes (beyond what the stage supplies), so that the
spec check, which reads only these declarations, sees every parameter a run can use."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from fintech_eval.engine.output import StageOutput
from fintech_eval.engine.stages import STAGES, State
from fintech_eval.engine.tree import Tree
from fintech_eval.methods import (
    AGGREGATORS,
    DENOMINATORS,
    IMPUTERS,
    NORMALISERS,
    SCREENERS,
    TREATERS,
    WEIGHTS,
)

# arguments each stage hands its methods itself (data, weights, groups, …): not spec parameters
SUPPLIED = {
    "normalise": {"x", "directions"},
    "impute": {"x", "codes", "n_groups", "blocks", "directions", "cube", "times", "present", "index_info"},
    "treat": {"x", "names", "cols"},
    "aggregate": {"x", "w", "codes"},
    "weight": {"data", "directions"},
    "screen": {"low_data", "low_nonzero"},
    "denominate": {"x", "d"},
}
REGISTRIES = {
    "normalise": NORMALISERS, "impute": IMPUTERS, "treat": TREATERS, "aggregate": AGGREGATORS, "weight": WEIGHTS,
    "screen": SCREENERS, "denominate": DENOMINATORS,
}
METHODS = [(stage, e.name) for stage, reg in REGISTRIES.items() for e in reg]

UNITS = [f"U{i:02d}" for i in range(12)]
TREE = Tree.from_rows([
    {"code": "a", "parent": "P", "level": 1}, {"code": "b", "parent": "P", "level": 1, "direction": -1},
    {"code": "c", "parent": "Q", "level": 1}, {"code": "P", "parent": "T", "level": 2},
    {"code": "Q", "parent": "T", "level": 2}, {"code": "T", "level": 3},
])


def _state() -> State:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(rng.lognormal(0, 1, (12, 3)) + 1, index=pd.Index(UNITS, name="uCode"), columns=["a", "b", "c"])
    data.iloc[1, 0] = np.nan
    groups = pd.DataFrame({"sector": ["x", "y"] * 6}, index=data.index)
    dens = pd.DataFrame({"pop": np.linspace(1, 2, 12)}, index=data.index)
    return State(data=data, tree=TREE, groups=groups, denominators=dens)


STAGE_PARAMS = {
    "denominate": {"mapping": {"a": "pop"}},
    "screen": {"dat_thresh": 0.5},
    "impute": {"method": "mean"},
    "treat": {"method": "coinr", "by": "sector"},
    "normalise": {"method": "minmax", "by": "sector"},
    "weight": {"method": "entropy"},
    "aggregate": {"method": "amean"},
    "rate": {"bands": [["high", 50], ["low", 0]]},
}


@pytest.mark.parametrize("stage", STAGES.names())
def test_every_stage_returns_a_stage_output(stage):
    st = _state()
    if stage == "rate":
        st.data = STAGES.get("aggregate")(st, method="amean").data
    before = st.data.copy()
    out = STAGES.get(stage)(st, **STAGE_PARAMS[stage])
    assert isinstance(out, StageOutput)
    assert all(p.rule and p.message for p in out.warnings)
    pd.testing.assert_frame_equal(st.data, before)  # a stage reads the state, never changes it


@pytest.mark.parametrize("stage", STAGES.names())
def test_every_stage_declares_every_parameter_it_reads(stage):
    entry = STAGES.entry(stage)
    sig = inspect.signature(entry.func)
    named = {p.name for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD} - {"st"}
    declared = set(entry.meta.get("params", {}))
    assert named == declared, f"{stage}: reads {sorted(named)}, declares {sorted(declared)}"
    open_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    # a stage passes unnamed parameters on only to a method registry whose entries declare them
    assert not open_kw or entry.meta.get("registry") is not None, stage
    for name, p in entry.meta.get("params", {}).items():
        if sig.parameters[name].default is not inspect.Parameter.empty:
            assert sig.parameters[name].default == p.default, f"{stage}.{name}: default differs from the declaration"


@pytest.mark.parametrize(("stage", "name"), METHODS, ids=[f"{s}-{n}" for s, n in METHODS])
def test_every_method_declares_its_parameters(stage, name):
    entry = REGISTRIES[stage].entry(name)
    declared = entry.meta["params"]
    sig = inspect.signature(entry.func)
    taken = {p.name for p in sig.parameters.values() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)} - SUPPLIED[stage]
    stage_only = {k for k, p in declared.items() if p.stage}
    assert taken <= set(declared), f"{stage} method {name}: undeclared parameters {sorted(taken - set(declared))}"
    assert set(declared) - stage_only <= taken, f"{stage} method {name}: declares {sorted(set(declared) - taken)} it never reads"
