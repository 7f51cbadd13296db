"""The normalise stage from a spec: use_iMeta parameters read from the source's iMeta, the bounds rule checked
at load, and non-finite values (fraction of max on ASEM's raw data) warned about with indicator and units."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.errors import SpecError
from fintech_eval.methods import normalise
from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]
ASEM = ROOT / "examples" / "asem"


def coinr_files(tmp_path, **extra_columns):
    """ASEM's iData and an iMeta with extra per-indicator columns (as COINr names them)."""
    meta = pd.read_csv(ASEM / "input_ASEM_iMeta.csv")
    ind = meta["Type"] == "Indicator"
    for name, fn in extra_columns.items():
        meta[name] = pd.Series([None] * len(meta), dtype=object)
        meta.loc[ind, name] = fn(meta[ind])
    path = tmp_path / "iMeta.csv"
    meta.to_csv(path, index=False)
    return {"source": "coinr", "idata": str(ASEM / "input_ASEM_iData.csv"), "imeta": str(path)}, meta


def test_goalposts_use_imeta_in_a_spec(tmp_path):
    raw = fe.evaluate({"data": {"source": "coinr", "idata": str(ASEM / "input_ASEM_iData.csv"),
                                "imeta": str(ASEM / "input_ASEM_iMeta.csv")}, "steps": [{"aggregate": {}}]}).datasets["Raw"]
    lo, hi = raw.min(), raw.max()
    data, meta = coinr_files(tmp_path, goalpost_lower=lambda m: lo[m["iCode"]].to_numpy() * 0.9,
                             goalpost_upper=lambda m: hi[m["iCode"]].to_numpy() * 1.1,
                             goalpost_scale=lambda m: 100.0, goalpost_trunc2posts=lambda m: True)
    r = fe.evaluate({"data": data, "steps": [{"normalise": {"method": "goalposts", "gposts": "use_iMeta",
                                                             "trunc2posts": "use_iMeta"}}, {"aggregate": {}}]})
    got = r.datasets["Normalised"]
    ind = meta[meta["Type"] == "Indicator"].set_index("iCode")
    gp = {c: (ind.at[c, "goalpost_lower"], ind.at[c, "goalpost_upper"], 100.0) for c in got.columns}
    dirs = ind["Direction"].astype(int)
    pd.testing.assert_frame_equal(got, normalise(raw, dirs, "goalposts", gposts=gp, bounds="own"))
    co2 = ind.loc["CO2"]  # a reverse indicator: (upper − x)/(upper − lower)·100
    assert dirs["CO2"] == -1
    np.testing.assert_allclose(got["CO2"], (co2["goalpost_upper"] - raw["CO2"]) / (co2["goalpost_upper"] - co2["goalpost_lower"]) * 100)
    assert not [w for w in r.warnings if w.rule == "normalise.bounds"]


def test_own_unit_goalposts_copied_verbatim_warn_and_bounds_own_fixes_them(tmp_path):
    base = {"data": {"source": "coinr", "idata": str(ASEM / "input_ASEM_iData.csv"), "imeta": str(ASEM / "input_ASEM_iMeta.csv")}}
    raw = fe.evaluate({**base, "steps": [{"aggregate": {}}]}).datasets["Raw"]
    gp = {c: (float(raw[c].min()) * 0.5, float(raw[c].max()) * 2 + 1, 100.0) for c in raw.columns}
    spec = {**base, "steps": [{"normalise": {"method": "goalposts", "gposts": gp}}, {"aggregate": {}}]}
    r = fe.evaluate(spec)
    flagged = {w["indicator"] for w in r.warnings if w.rule == "normalise.bounds"}
    assert "CO2" in flagged and (r.datasets["Normalised"]["CO2"].dropna() == 0).all()  # COINr's reading: zeroed
    fixed = fe.evaluate({**spec, "steps": [{"normalise": {"method": "goalposts", "gposts": gp, "bounds": "own"}}, {"aggregate": {}}]})
    assert not [w for w in fixed.warnings if w.rule == "normalise.bounds"]
    assert fixed.datasets["Normalised"]["CO2"].max() > 0


def test_spec_check_of_bounds_and_use_imeta():
    data = {"source": "coinr", "idata": str(ASEM / "input_ASEM_iData.csv"), "imeta": str(ASEM / "input_ASEM_iMeta.csv")}
    with pytest.raises(SpecError, match="bounds") as e:
        fe.load_spec({"data": data, "steps": [{"normalise": {"method": "goalposts", "gposts": [0, 1, 1], "bounds": "sideways"}}]})
    assert e.value.problems[0]["parameter"] == "bounds"
    fe.load_spec({"data": data, "steps": [{"normalise": {"method": "dist2targ", "targ": "use_iMeta", "cap_max": "use_iMeta"}}]})
    # ASEM's iMeta has Target but no goalpost columns: the error names the columns, at the step
    with pytest.raises(SpecError, match="goalpost_lower"):
        fe.evaluate({"data": data, "steps": [{"normalise": {"method": "goalposts", "gposts": "use_iMeta"}}]})


def test_use_imeta_without_imeta_is_an_error():
    x = pd.DataFrame({"a": [1.0, 2.0]}, index=["u", "v"])
    tree = fe.Tree.from_rows([{"code": "a", "parent": "I", "level": 1}, {"code": "I", "level": 2}])
    with pytest.raises(SpecError, match="has none"):
        fe.evaluate({"data": {"source": "frame"}, "steps": [{"normalise": {"method": "dist2targ", "targ": "use_iMeta"}}]},
                    frames={"data": x, "tree": tree})


ASEM_FRACMAX = {"data": {"source": "coinr", "idata": str(ASEM / "input_ASEM_iData.csv"), "imeta": str(ASEM / "input_ASEM_iMeta.csv")},
                "steps": [{"normalise": {"method": "fracmax"}}, {"aggregate": {}}]}


def test_fracmax_on_asem_warns_naming_indicators_and_units():
    r = fe.evaluate(ASEM_FRACMAX)
    norm = r.datasets["Normalised"].to_numpy()
    raw = r.datasets["Raw"].to_numpy()
    bad_cols = set(r.datasets["Normalised"].columns[(np.isinf(norm) | (np.isnan(norm) & ~np.isnan(raw))).any(axis=0)])
    assert bad_cols == {"CostImpEx", "Tariff", "Poverty"}  # reverse indicators whose best value is 0
    warned = {w["indicator"]: w for w in r.warnings if w.rule == "normalise.nonfinite"}
    assert set(warned) == bad_cols
    for code, w in warned.items():
        col = r.datasets["Normalised"][code]
        units = set(col.index[np.isinf(col) | (col.isna() & r.datasets["Raw"][code].notna())])
        assert set(w["units"]) == units and "largest value of x·direction is 0" in w.message
    # the aggregates they make infinite are warned at the aggregate step
    assert {"Index"} <= {w["indicator"] for w in r.warnings if w.rule == "result.infinite"}


def test_cli_prints_the_warnings_and_exits_0(tmp_path, capsys, monkeypatch):
    import yaml

    spec = tmp_path / "fracmax.yaml"
    spec.write_text(yaml.safe_dump(ASEM_FRACMAX), encoding="utf-8")
    r = run_cli(["evaluate", spec, "--out", tmp_path / "out"], capsys, monkeypatch)
    assert r.code == 0
    assert "Tariff: fracmax gives ±Inf for 46 unit(s)" in " ".join(r.out.split())
