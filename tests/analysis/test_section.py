"""The spec's ``uncertainty:`` section: assumptions by meaning, checked as the spec loads (the path in the spec
named, a close name suggested), used by ``fintech-eval analyse SPEC``; the command line adds to it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fintech_eval.analysis import uncertainty_analysis
from fintech_eval.analysis.section import combine, declarations, meaning
from fintech_eval.engine import evaluate, load_spec
from fintech_eval.errors import SpecError
from tests.clirun import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _spec(section, base="asem-pipeline-c.yaml", key="uncertainty"):
    doc = yaml.safe_load((EXAMPLES / base).read_text(encoding="utf-8"))
    return {**doc, "base_dir": str(EXAMPLES), key: section}


def _problems(section, **kw):
    with pytest.raises(SpecError) as exc:
        load_spec(_spec(section, **kw))
    return exc.value.problems


def test_the_section_is_the_assumptions_file_by_meaning():
    """COINr's design written in the spec gives the replications of the same design in a file, bit for bit."""
    by_spec = evaluate(EXAMPLES / "asem-uncertainty.yaml")
    doc = yaml.safe_load((EXAMPLES / "asem-assumptions-coinr.yaml").read_text(encoding="utf-8"))["assumptions"]
    a = uncertainty_analysis(by_spec, n=16)  # the section's assumptions and seed
    b = uncertainty_analysis(evaluate(EXAMPLES / "asem-pipeline-a.yaml"), doc, n=16, seed=1)
    pd.testing.assert_frame_equal(a.rank_stats(), b.rank_stats())
    assert a.seed == 1 and [x["kind"] for x in a.assumptions] == ["uniform", "step", "weights", "choice"]


@pytest.mark.parametrize("section, path, rule, text", [
    ({"normalse": ["minmax", "zscore"]}, "uncertainty.normalse", "uncertainty.key", "did you mean 'normalise'"),
    ({"treat": {"winmx": "1..5"}}, "uncertainty.treat.winmx", "spec.parameter", "did you mean 'winmax'"),
    ({"treat": {"method": ["coinr", "nonee"]}}, "uncertainty.treat.method", "spec.method", "did you mean 'none'"),
    ({"aggregate": {"dat_thresh": "0.5..1.5"}}, "uncertainty.aggregate.dat_thresh", "spec.value", "within [0, 1]"),
    ({"impute": ["mean", "medain"]}, "uncertainty.impute", "spec.method", "did you mean 'median'"),
    ({"weights": {"noize": 0.25}}, "uncertainty.weights.noize", "uncertainty.key", "did you mean 'noise'"),
    ({"weights": {"noise": 0.25, "dirichlet": 5}}, "uncertainty.weights", "uncertainty.values", "exactly one of"),
    ({"screen": ["byNA", "none"]}, "uncertainty.screen", "uncertainty.key", "no screen step"),
    ({"params": {"w_users_personal": "0.3..0.7"}}, "uncertainty.params.w_users_personal", "uncertainty.param", "data.source store"),
    ({"design": "lhss"}, "uncertainty.design", "uncertainty.design", "did you mean 'lhs'"),
    ({"replications": 1}, "uncertainty.replications", "uncertainty.n", ">= 2"),
    ({"level": 90}, "uncertainty.level", "uncertainty.level", "within (0, 1)"),
    ({"exclude": "Flights"}, "uncertainty.exclude", "uncertainty.values", "list of node codes"),
    ({"assumptions": [{"kind": "uniformm"}]}, "uncertainty.assumptions[0]", "uncertainty.kind", "did you mean 'uniform'"),
    ({"sensitivity": {"method": "sobolx"}}, "uncertainty.sensitivity.method", "sensitivity.method", "did you mean 'sobol'"),
    ({"sensitivity": {"entity": ["GBR"]}}, "uncertainty.sensitivity.entity", "uncertainty.key", "did you mean 'entities'"),
    ({"sensitivity": {"n": 1}}, "uncertainty.sensitivity.n", "sensitivity.n", ">= 2"),
])
def test_an_unknown_or_impossible_assumption_fails_as_the_spec_loads(section, path, rule, text):
    problems = _problems(section)
    assert any(p.get("path") == path and p.rule == rule and text in p.message for p in problems), problems


def test_every_problem_of_the_section_at_once_and_a_misspelt_section():
    problems = _problems({"treat": {"winmx": "1..5"}, "normalse": ["zscore"], "design": "lhss"})
    assert {p.get("path") for p in problems} == {"uncertainty.treat.winmx", "uncertainty.normalse", "uncertainty.design"}
    (p,) = _problems({}, key="uncertanty")
    assert "did you mean 'uncertainty'" in p.message


def test_what_needs_the_tree_is_checked_before_the_first_replication():
    r = evaluate(_spec({"exclude": ["Flights", "Shipz"], "weights": {"sets": ["nominal", {"Physicl": 2}]}}))
    with pytest.raises(SpecError) as exc:
        uncertainty_analysis(r, n=4)
    got = {(p.get("path"), p.rule) for p in exc.value.problems}
    assert got == {("uncertainty.exclude", "uncertainty.node"), ("uncertainty.weights", "uncertainty.node")}
    assert any("did you mean 'Physical'" in p.message for p in exc.value.problems)


def test_alternative_weight_sets_are_chosen_whole():
    r = evaluate(_spec({"weights": {"sets": ["nominal", {"Physical": 3.0, "Political": 0.0}]}, "seed": 2, "replications": 20}))
    ua = uncertainty_analysis(r)
    table = ua.tables["weights"]
    assert table.loc[0, "Physical"] == 1.0 and table.loc[1, "Physical"] == 3.0 and table.loc[1, "Political"] == 0.0
    picked = ua.replications()["weights"]
    assert set(picked) == {0, 1}
    nominal_runs = ua.ranks[(picked == 0).to_numpy(), :, 0]
    assert (nominal_runs == ua.nominal_ranks[:, 0]).all()  # the nominal set reproduces the nominal ranks
    assert (ua.ranks[(picked == 1).to_numpy(), :, 0] != ua.nominal_ranks[:, 0]).any()


def test_the_command_line_adds_to_the_section_and_replaces_what_varies_the_same_thing():
    spec = load_spec(_spec({"normalise": ["minmax", "zscore"], "weights": {"noise": 0.2}, "aggregate": {"dat_thresh": "0.5..0.9"}}))
    assert [meaning(d, spec) for d in declarations(spec)] == [("normalise", "method"), ("weights", None), ("aggregate", "dat_thresh")]
    got = combine(spec, ["normalize=[{method: rank}, {method: zscore}]", "exclude=Flights"])
    assert [d if isinstance(d, str) else d["path"] for d in got] == [
        "uncertainty.weights", "uncertainty.aggregate.dat_thresh", "normalize=[{method: rank}, {method: zscore}]", "exclude=Flights"]
    assert combine(spec, ["weights=0.3"], use_spec=False) == ["weights=0.3"]
    assert len(combine(spec, ["aggregate.weights.Physical=0.5..2"])) == 4  # one weight is not the weights noise


def test_analyse_a_spec_with_the_section_and_override_from_the_command_line(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_spec({"replications": 12, "seed": 4, "normalise": ["minmax", "zscore"], "weights": {"noise": 0.2}})))
    out = tmp_path / "a"
    r = run_cli(["analyse", spec, "--out", out, "--no-plots"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    doc = json.loads((out / "uncertainty.json").read_text())
    assert doc["n"] == 12 and doc["seed"] == 4 and [a["name"] for a in doc["assumptions"]] == ["normalise.method", "weights"]
    out2 = tmp_path / "b"
    r = run_cli(["analyse", spec, "--out", out2, "--no-plots", "-u", "normalise.method=minmax,rank", "--n", "6"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    assert "assumptions: weights (from the spec); normalise.method (from the command line)" in r.out
    doc = json.loads((out2 / "uncertainty.json").read_text())
    assert doc["n"] == 6 and doc["seed"] == 4
    assert [(a["name"], a["values"]) for a in doc["assumptions"]] == [("weights", None), ("normalise.method", ["minmax", "rank"])]
    out3 = tmp_path / "c"
    r = run_cli(["analyse", spec, "--out", out3, "--no-spec-uncertainty", "--leave-one-out", "2"], capsys, monkeypatch)
    assert r.code == 0 and not (out3 / "uncertainty.json").exists() and (out3 / "leave_one_out_L2.csv").exists()


def test_a_bad_section_stops_analyse_and_evaluate_before_anything_runs(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_spec({"treat": {"winmx": "1..5"}})))
    for args in (["analyse", spec, "--out", tmp_path / "x"], ["evaluate", spec, "--out", tmp_path / "y"]):
        r = run_cli(args, capsys, monkeypatch)
        assert r.code == 2
        assert "uncertainty.treat.winmx" in r.out + r.err and "did you mean 'winmax'" in r.out + r.err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_a_saved_result_keeps_its_section_and_analyse_uses_it(tmp_path, capsys, monkeypatch):
    res = tmp_path / "res"
    evaluate(_spec({"replications": 5, "seed": 1, "impute": ["mean", "median"]})).save(res)
    assert yaml.safe_load((res / "spec.yaml").read_text())["uncertainty"]["impute"] == ["mean", "median"]
    r = run_cli(["analyse", res, "--no-plots"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    assert "5 replications" in r.out
    assert (res / "analysis" / "rank_intervals.csv").exists()


def test_the_open_parameters_of_jrt0201_are_checked_by_the_derivations_rules_as_the_spec_loads():
    doc = yaml.safe_load((EXAMPLES / "store-j-2024.yaml").read_text(encoding="utf-8"))
    doc["base_dir"] = str(EXAMPLES)  # loading reads no database: nothing runs
    with pytest.raises(SpecError) as exc:
        load_spec({**doc, "uncertainty": {"params": {"w_user_personal": "0.3..0.7", "w_loans_personal": "0.2..1.4"}}})
    got = {p.get("path"): p.message for p in exc.value.problems}
    assert "did you mean 'w_users_personal'" in got["uncertainty.params.w_user_personal"]
    assert "outside its declared range" in got["uncertainty.params.w_loans_personal"]
    spec = load_spec({**doc, "uncertainty": {"params": {"w_users_personal": "0.3..0.7"}}})
    assert declarations(spec) == [{"kind": "param", "parameter": "w_users_personal", "range": [0.3, 0.7],
                                   "path": "uncertainty.params.w_users_personal"}]


def test_the_section_can_ask_for_a_sensitivity_analysis_too(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_spec({"seed": 1, "replications": 8, "normalise": ["minmax", "zscore"], "weights": {"noise": 0.2},
                                          "sensitivity": {"method": "sobol", "n": 8, "entities": ["GBR"], "nboot": 20}})))
    out = tmp_path / "a"
    r = run_cli(["analyse", spec, "--out", out, "--no-plots"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    idx = pd.read_csv(out / "sensitivity_indices.csv")
    assert set(idx["output"]) == {"mean_abs_rank_shift", "rank:GBR"} and set(idx["factor"]) == {"normalise.method", "weights"}
    assert len(pd.read_csv(out / "sensitivity_runs.csv")) == 8 * (2 + 2)
    out2 = tmp_path / "b"
    r = run_cli(["analyse", spec, "--out", out2, "--no-plots", "--sensitivity", "morris", "--sa-n", "4"], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    assert (out2 / "morris_indices.csv").exists() and len(pd.read_csv(out2 / "sensitivity_runs.csv")) == 4 * (2 + 1)
