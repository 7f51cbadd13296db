"""The engine's contract: warnings of every group reach the result; groups too uniform follow one rule; specs
are checked before anything runs; re-runs start from the first changed step without reading the inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.engine import coinr as coinr_module
from fintech_eval.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

TREE = fe.Tree.from_rows([
    {"code": "yes", "parent": "P", "level": 1}, {"code": "x", "parent": "P", "level": 1},
    {"code": "y", "parent": "P", "level": 1}, {"code": "P", "level": 2},
])
UNITS = pd.Index([f"B{i}" for i in range(5)] + [f"S{i}" for i in range(5)], name="uCode")


def _frames(yes_securities=(1, 0, 1, 0, 1)):
    """Five banks that all answer "yes" (1) to ``yes``; five securities firms that differ."""
    data = pd.DataFrame(
        {"yes": [1.0] * 5 + list(map(float, yes_securities)), "x": np.arange(10.0), "y": np.arange(10.0)[::-1] ** 2},
        index=UNITS,
    )
    groups = pd.DataFrame({"sector": ["bank"] * 5 + ["securities"] * 5}, index=UNITS)
    return {"data": data, "tree": TREE, "groups": groups}


def _spec(**normalise):
    return {
        "data": {"source": "frame"},
        "steps": [{"normalise": {"method": "minmax", "range": [0, 100], "by": "sector", **normalise}},
                  {"aggregate": {"method": "amean", "dat_thresh": 0.9}}],
        "ranks": {"groups": ["sector"]},
    }


def test_all_yes_in_a_sector_is_scored_on_the_pooled_range_with_a_warning(tmp_path):
    r = fe.evaluate(_spec(), frames=_frames())
    norm = r.datasets["Normalised"]
    assert (norm.loc[UNITS[:5], "yes"] == 100).all()  # "yes" is the best answer any sector gives
    (w,) = [w for w in r.warnings if w.rule == "normalise.no_spread"]
    assert w["indicator"] == "yes" and w["group"] == "sector=bank" and w["step"] == 1 and "pooled" in w["rule_applied"]
    r.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert any(m["rule"] == "normalise.no_spread" and m["group"] == "sector=bank" for m in manifest["warnings"])
    assert fe.load_result(tmp_path).warnings[0].rule == "normalise.no_spread"  # and read back as problems


def test_no_spread_anywhere_is_left_out_of_the_groups_aggregate():
    frames = _frames(yes_securities=(1, 1, 1, 1, 1))  # every unit of every sector says yes
    r = fe.evaluate(_spec(), frames=frames)
    norm, agg = r.datasets["Normalised"], r.final
    assert norm["yes"].isna().all()
    # left out, not missing: dat_thresh 0.9 does not drop the units, the aggregate is the mean of x and y
    assert agg["P"].notna().all()
    np.testing.assert_allclose(agg["P"], norm[["x", "y"]].mean(axis=1))
    assert {w["group"] for w in r.warnings if w.rule == "normalise.no_spread"} == {"sector=bank", "sector=securities"}
    assert all(w["rule_applied"] == "exclude" for w in r.warnings if w.rule == "normalise.no_spread")


def test_exclude_and_nan_rules():
    ex = fe.evaluate(_spec(no_spread="exclude"), frames=_frames())
    assert ex.datasets["Normalised"].loc[UNITS[:5], "yes"].isna().all()
    assert ex.final.loc[UNITS[:5], "P"].notna().all()
    nan = fe.evaluate(_spec(no_spread="nan"), frames=_frames())
    # COINr's behaviour: missing, so 2 of 3 children < 0.9 → the banks' aggregate is dropped, with warnings
    assert nan.final.loc[UNITS[:5], "P"].isna().all()
    rules = {w.rule for w in nan.warnings}
    assert {"normalise.minmax", "aggregate.dat_thresh"} <= rules
    (w,) = [w for w in nan.warnings if w.rule == "normalise.minmax"]
    assert w["group"] == "sector=bank" and w["indicator"] == "yes"


def test_treatment_warnings_of_every_group_reach_the_result():
    spec = {"data": {"source": "frame"}, "steps": [{"treat": {"method": "coinr", "by": "sector", "skip_sparse": True}}]}
    frames = _frames()
    frames["data"].loc[UNITS[5:8], "x"] = np.nan  # two values left among the securities firms
    r = fe.evaluate(spec, frames=frames)
    sparse = [w for w in r.warnings if w.rule == "treat.sparse"]
    assert {(w["group"], w["indicator"]) for w in sparse} >= {("sector=securities", "x")}


# --- specs checked before anything runs ---------------------------------------------------------------------
NO_FILES = {"source": "coinr", "idata": "missing.csv", "imeta": "missing.csv"}


@pytest.mark.parametrize(
    ("step", "rule", "param", "text"),
    [
        ({"normalise": {"method": "minmax", "bogus": 1}}, "spec.parameter", "bogus", "normalise has no parameter 'bogus'"),
        ({"normalise": {"method": "zscore", "l_u": [0, 1]}}, "spec.parameter", "l_u", "method 'zscore' takes: m_sd"),
        ({"normalise": {"method": "minmax", "l_u": [0, "a"]}}, "spec.value", "l_u", "must be 2 finite numbers"),
        ({"normalise": {"method": "minmax", "l_u": {"x": [1, 1, 1]}}}, "spec.value", "l_u", "for indicator 'x'"),
        ({"normalise": {"method": "minmax", "no_spread": "zero"}}, "spec.value", "no_spread", "must be one of"),
        ({"normalise": {"method": "minmx"}}, "spec.method", "method", "did you mean 'minmax'"),
        ({"normalise": {"indiv": {"x": {"method": "zscore", "m_sd": [0, -1]}}}}, "spec.value", "m_sd", "sd must be > 0"),
        ({"treat": {"method": "coinr", "winmax": -1}}, "spec.value", "winmax", "must be >= 0"),
        ({"treat": {"method": "coinr", "skew_tresh": 2}}, "spec.parameter", "skew_tresh", "did you mean 'skew_thresh'"),
        ({"impute": {"method": "mean_group", "grp": "x"}}, "spec.parameter", "grp", "impute has no parameter 'grp'"),
        ({"screen": {"dat_thresh": 1.5}}, "spec.value", "dat_thresh", "within [0, 1]"),
        ({"aggregate": {"method": "gmean", "params": {"zero_policy": "skip"}}}, "spec.value", "zero_policy", "must be one of"),
        ({"aggregate": {"method": "amean", "params": {"p": 2}}}, "spec.parameter", "p", "no method used here has a parameter 'p'"),
        ({"aggregate": {"method": {2: {"method": "genmean"}}}}, "spec.parameter", "p", "needs parameter 'p'"),
        ({"aggregate": {"dat_thresh": {"P": 2}}}, "spec.value", "dat_thresh", "within [0, 1]"),
        ({"weight": {"method": "manual", "weights": {"x": -1}}}, "spec.value", "weights", "finite number >= 0"),
        ({"weight": {"method": "entropy", "convention": "log"}}, "spec.value", "convention", "must be one of"),
        ({"weight": {"method": "named", "name": "a", "sets": {"a": {"x": "heavy"}}}}, "spec.value", "sets", "set 'a'"),
        ({"weight": {"method": "ahp", "matrices": {"P": [[1, 2], [3, 1]]}}}, "spec.value", "matrices", "reciprocal"),
        ({"weight": {"method": "ahp"}}, "spec.parameter", "matrices", "needs 'matrices'"),
        ({"weight": {"method": "cv", "weights": {"x": 1}}}, "spec.parameter", "weights", "applies to method manual"),
    ],
)
def test_bad_parameters_are_rejected_at_load_naming_step_and_parameter(step, rule, param, text):
    spec = {"data": NO_FILES, "steps": [{"impute": {"method": "mean"}}, step]}
    with pytest.raises(SpecError) as ei:
        fe.load_spec(spec)  # nothing is read: the data files do not even exist
    p = ei.value.problems[0]
    assert (p.rule, p["parameter"], p["step"]) == (rule, param, 2), p
    assert text in p.message, p.message


def test_every_problem_of_a_spec_is_reported_at_once():
    spec = {"data": NO_FILES, "steps": [{"normalise": {"bogus": 1}}, {"treat": {"winmax": -2}}, {"aggreggate": {}}]}
    with pytest.raises(SpecError) as ei:
        fe.load_spec(spec)
    assert [p["step"] for p in ei.value.problems] == [1, 2, 3]
    assert "did you mean 'aggregate'" in ei.value.problems[2].message


def test_sources_are_checked():
    with pytest.raises(SpecError, match="source store needs block and period"):
        fe.load_spec({"data": {"source": "store"}, "steps": [{"aggregate": {}}]})
    with pytest.raises(SpecError, match="source coinr takes no block"):
        fe.load_spec({"data": {**NO_FILES, "block": "J"}, "steps": [{"aggregate": {}}]})
    with pytest.raises(SpecError, match="unknown source 'excel'"):
        fe.load_spec({"data": {"source": "excel"}, "steps": [{"aggregate": {}}]})


# --- re-runs ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asem():
    return fe.evaluate(EXAMPLES / "asem-pipeline-c.yaml")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize(
    "changes",
    [
        {"aggregate.dat_thresh": 0.5},
        {"normalise.method": "zscore", "normalise.range": None},
        {"treat.winmax": 3},
        {"impute.method": "median"},
        {"aggregate.method": "gmean", "aggregate.params": {"zero_policy": "shift", "shift": 1.0}},
    ],
)
def test_regen_equals_a_fresh_evaluation_and_reads_nothing(asem, changes, monkeypatch):
    fresh = fe.evaluate(asem.spec.with_changes(changes))

    def no_reading(*a, **k):
        raise AssertionError("regen read the input files again")

    monkeypatch.setattr(coinr_module, "read_coinr", no_reading)
    again = fe.regen(asem, changes)
    assert list(again.datasets) == list(fresh.datasets)
    for name in fresh.datasets:
        _same(again.datasets[name], fresh.datasets[name])
    assert again.inputs == asem.inputs
    # the steps before the first change are shared, not recomputed
    first = fe.engine.pipeline.first_changed_step(asem.spec, again.spec)
    for name in list(asem.datasets)[: first + 1]:
        assert again.datasets[name] is asem.datasets[name]


def test_rerun_and_from_stage(asem):
    r = asem.rerun("aggregate.dat_thresh", 0.5)
    assert r.spec.steps[-1]["aggregate"]["dat_thresh"] == 0.5
    same = fe.regen(asem, from_stage="normalise")
    for name in asem.datasets:
        _same(same.datasets[name], asem.datasets[name])
    assert same.datasets["Normalised"] is not asem.datasets["Normalised"]  # recomputed from normalise on
    with pytest.raises(SpecError, match="no step 'normalize_typo'"):
        asem.rerun("normalize_typo.method", "zscore")


def test_evaluate_many_matches_one_by_one(asem):
    rng = np.random.default_rng(1)
    pillars = asem.tree.codes(2)
    variants = [{"aggregate.weights": {p: float(w) for p, w in zip(pillars, rng.uniform(0.5, 1.5, len(pillars)), strict=True)}}
                for _ in range(6)]
    variants.append({"normalise.method": "zscore", "normalise.range": None})
    scores = fe.evaluate_many(asem, variants, target=["Index", "Conn"])
    ranks = fe.evaluate_many(asem, variants, target="Index", what="rank", workers=2)
    assert scores.shape == (7, len(asem.final), 2) and ranks.shape == (7, len(asem.final), 1)
    for k, v in enumerate(variants):
        one = fe.regen(asem, v)
        np.testing.assert_array_equal(scores[k], one.final[["Index", "Conn"]].to_numpy())
        np.testing.assert_array_equal(ranks[k, :, 0], one.ranks["Index"].to_numpy(dtype=float))
    with pytest.raises(SpecError, match="no step 'agregate'"):
        fe.evaluate_many(asem, [{"aggregate.dat_thresh": 0.5}, {"agregate.dat_thresh": 0.5}])


def test_a_result_loaded_from_a_folder_says_how_to_rerun(asem, tmp_path):
    asem.save(tmp_path)
    with pytest.raises(SpecError, match="evaluate its spec"):
        fe.load_result(tmp_path).rerun("aggregate.dat_thresh", 0.5)


@pytest.mark.parametrize("package", ["engine", "store"])
def test_package_modules_import_no_cycle(package):
    """engine/ and store/ modules import each other bottom up only (also inside functions): no cycle at all."""
    import ast

    folder = ROOT / "src" / "fintech_eval" / package
    mods = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for m in mods:
        tree = ast.parse((folder / f"{m}.py").read_text(encoding="utf-8"))
        graph[m] = {n.module.split(".")[0] for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module and n.module.split(".")[0] in mods}
    done: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, f"import cycle: {' → '.join((*path, m))}"
        if m in done:
            return
        for d in graph[m]:
            visit(d, (*path, m))
        done.add(m)

    for m in sorted(mods):
        visit(m, ())


def test_a_result_with_an_empty_record_saves_and_loads(tmp_path):
    """Three units: every indicator too sparse to treat, so treat_details is empty; the folder still loads."""
    frames = _frames()
    frames["data"] = frames["data"].iloc[:3]
    frames["groups"] = frames["groups"].iloc[:3]
    spec = {"data": {"source": "frame"}, "steps": [{"treat": {"method": "coinr", "skip_sparse": True}}, {"aggregate": {}}]}
    r = fe.evaluate(spec, frames=frames)
    assert r.records["treat_details"].empty
    r.save(tmp_path)
    back = fe.load_result(tmp_path)
    assert back.records["treat_details"].empty
    pd.testing.assert_frame_equal(back.final, r.final, check_names=False)


def test_warnings_carry_the_step_number_and_infinities_are_reported_once():
    spec = {"data": {"source": "coinr", "idata": str(EXAMPLES / "asem/input_ASEM_iData.csv"),
                     "imeta": str(EXAMPLES / "asem/input_ASEM_iMeta.csv")},
            "steps": [{"normalise": {"method": "fracmax"}}, {"aggregate": {"method": "amean"}}]}
    r = fe.evaluate(spec)
    assert r.warnings and all(isinstance(w["step"], int) for w in r.warnings)
    infinite = [(w["step"], w["indicator"]) for w in r.warnings if w.rule in ("result.infinite", "normalise.nonfinite")]
    assert len(infinite) == len(set(i for _, i in infinite))  # each indicator once, at the step that made it


def test_imputation_leaves_not_applicable_cells_alone():
    frames = _frames()
    frames["data"].loc["B1", "x"] = np.nan  # missing: imputed
    frames["data"].loc[UNITS[5:], "y"] = np.nan  # not applicable to securities firms: never imputed
    frames["not_applicable"] = pd.DataFrame(False, index=UNITS, columns=["yes", "x", "y"])
    frames["not_applicable"].loc[UNITS[5:], "y"] = True
    r = fe.evaluate({"data": {"source": "frame"}, "steps": [{"impute": {"method": "mean"}}, {"aggregate": {}}]}, frames=frames)
    imp = r.datasets["Imputed"]
    assert imp.loc[UNITS[5:], "y"].isna().all() and not np.isnan(imp.loc["B1", "x"])
    assert set(zip(r.records["impute_log"]["uCode"], r.records["impute_log"]["iCode"], strict=True)) == {("B1", "x")}


def test_per_cell_records_are_assembled_when_read_once_and_shared_by_reruns():
    """treat_points and impute_log (a row per cell) are built on first access, once; a re-run branched from
    the result shares them; pickling (to a worker process) carries the table."""
    import pickle

    from fintech_eval.engine.output import Lazy, Records
    from fintech_eval.methods import treat

    r = fe.evaluate(EXAMPLES / "asem-pipeline-c.yaml")
    assert isinstance(r.records, Records) and list(r.records) == ["impute_log", "treat_details", "treat_points"]
    assert all(isinstance(r.records._d[k], Lazy) for k in ("impute_log", "treat_points"))
    points = r.records["treat_points"]
    assert points is r.records["treat_points"]  # computed once
    expected = treat(r.datasets["Imputed"]).points
    pd.testing.assert_frame_equal(points, expected)
    again = r.regen({"aggregate.dat_thresh": 0.5})
    assert again.records["treat_points"] is points  # the re-run starts after treat: the same record
    back = pickle.loads(pickle.dumps(r.records))
    pd.testing.assert_frame_equal(back["impute_log"], r.records["impute_log"])
    calls = []
    rec = Records({"a": Lazy(lambda: calls.append(1) or pd.DataFrame({"x": [1]}))})
    copy = rec.copy()
    copy.update(Records({"b": Lazy(lambda: pd.DataFrame())}))
    assert not calls and "a" in repr(rec) and "not computed" in repr(rec)
    assert copy["a"].equals(rec["a"]) and calls == [1] and list(copy) == ["a", "b"]
