"""The same checks on every registered screening, denomination, imputation, treatment and normalisation method.

For each method: the input frame is not modified and shares no memory with the output, the output keeps
the index and columns, missing values stay missing where they must (and present values stay present),
and two runs give identical results.
A method added to a registry is picked up here automatically; if it needs parameters to run, it declares
them as ``example=`` in its registration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fintech_eval.methods import (
    DENOMINATORS,
    IMPUTERS,
    NORMALISERS,
    SCREENERS,
    TREATERS,
    denominate,
    impute,
    normalise,
    screen,
    treat,
)
from fintech_eval.methods._frame import example_params
from fintech_eval.tree import Tree

UNITS = [f"U{i:02d}" for i in range(30)]
INDS = ["i1", "i2", "i3", "i4"]


def _data(seed: int = 0, index=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(index) if index is not None else len(UNITS)
    x = rng.lognormal(0.0, 1.0, (n, len(INDS))) + 0.5
    x[:, 1] = rng.normal(5.0, 1.0, n).clip(0.5)
    x[:, 3] = 10 + rng.lognormal(0.0, 1.5, n)  # skewed: the outlier treatment has work to do
    df = pd.DataFrame(x, index=pd.Index(UNITS, name="uCode") if index is None else index, columns=INDS)
    mask = rng.random(df.shape) < 0.1
    mask[0] = False  # the reference row of dist2ref stays complete
    return df.mask(mask)


def _panel() -> pd.DataFrame:
    """Gaps only in the middle period, so that every series has two observations to interpolate between."""
    idx = pd.MultiIndex.from_product([UNITS, [2020, 2021, 2022]], names=["uCode", "Time"])
    full = _data(1, idx).fillna(1.0)
    rng = np.random.default_rng(2)
    middle = (idx.get_level_values("Time") == 2021)[:, None] & (rng.random(full.shape) < 0.3)
    return full.mask(middle)


TREE = Tree.from_rows(
    [
        {"code": "i1", "parent": "P1", "level": 1, "direction": 1},
        {"code": "i2", "parent": "P1", "level": 1, "direction": -1},
        {"code": "i3", "parent": "P2", "level": 1, "direction": 1},
        {"code": "i4", "parent": "P2", "level": 1, "direction": -1},
        {"code": "P1", "parent": "Top", "level": 2, "direction": 1},
        {"code": "P2", "parent": "Top", "level": 2, "direction": 1},
        {"code": "Top", "parent": None, "level": 3, "direction": 1},
    ]
)
GROUPS = pd.DataFrame({"Region_group": ["east", "west", "north"] * 10}, index=pd.Index(UNITS, name="uCode"))
DENOMS = pd.DataFrame({"Pop": np.linspace(1.0, 3.0, 30)}, index=pd.Index(UNITS, name="uCode"))


def _run(stage: str, name: str, data: pd.DataFrame):
    """Run one method; returns (output frame, rule for missing values)."""
    ex = {}
    if stage == "screen":
        return screen(data, by=name).data, "same"
    if stage == "denominate":
        return denominate(data, DENOMS, {"i1": "Pop", "i3": "Pop"}, method=name), "same"
    if stage == "impute":
        ex = example_params(IMPUTERS, name)
        return impute(data, name, groups=GROUPS, tree=TREE, **ex).data, "fill"
    if stage == "treat":
        ex = example_params(TREATERS, name)
        return treat(data, name, **ex).data, "same"
    ex = example_params(NORMALISERS, name)
    return normalise(data, TREE.directions, name, **ex), "same"


CASES = (
    [("screen", n) for n in SCREENERS.names()]
    + [("denominate", n) for n in DENOMINATORS.names()]
    + [("impute", n) for n in IMPUTERS.names()]
    + [("treat", n) for n in TREATERS.names()]
    + [("normalise", n) for n in NORMALISERS.names()]
)
REGISTRIES = {"screen": SCREENERS, "denominate": DENOMINATORS, "impute": IMPUTERS, "treat": TREATERS, "normalise": NORMALISERS}


def _input(stage: str, name: str) -> pd.DataFrame:
    if stage == "impute" and IMPUTERS.entry(name).meta["kind"] == "panel":
        return _panel()
    return _data()


@pytest.mark.parametrize(("stage", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_conformance(stage, name):
    data = _input(stage, name)
    before = data.copy(deep=True)
    out, rule = _run(stage, name, data)

    # 1. the input is untouched
    pd.testing.assert_frame_equal(data, before)
    # 2. same columns, same (or, for screening, a subset of the) units in the same order
    assert list(out.columns) == list(data.columns)
    if stage == "screen":
        assert set(out.index) <= set(data.index)
        assert list(out.index) == [u for u in data.index if u in set(out.index)]
    else:
        assert out.index.equals(data.index)
    assert all(out.dtypes == np.float64)
    # 3. missing values: kept missing (and present ones present), or only filled in by imputation
    src = data.loc[out.index].to_numpy()
    got = out.to_numpy()
    if rule == "same":
        assert np.array_equal(np.isnan(src), np.isnan(got)), "NaN pattern changed"
    else:
        present = ~np.isnan(src)
        assert (got[present] == src[present]).all(), "imputation changed a present value"
    # 4. the result does not share memory with the input (editing one never changes the other)
    assert not np.shares_memory(out.to_numpy(), data.to_numpy())
    # 5. deterministic
    again, _ = _run(stage, name, data)
    pd.testing.assert_frame_equal(out, again)


@pytest.mark.parametrize(("stage", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_documented_and_parameters_declared(stage, name):
    entry = REGISTRIES[stage].entry(name)
    assert entry.doc, f"{stage} method {name} has no docstring"
    for pname, spec in entry.meta.get("params", {}).items():
        assert spec.kind, pname
    unknown = set(entry.meta.get("example", {})) - set(entry.meta.get("params", {}))
    assert not unknown, f"example parameters not declared: {unknown}"


def test_imputers_fill_what_they_can():
    for name in IMPUTERS.names():
        if name == "none":
            continue
        data = _input("impute", name)
        out, _ = _run("impute", name, data)
        assert out.isna().to_numpy().sum() < data.isna().to_numpy().sum(), name
