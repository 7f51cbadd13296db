"""Uncertain assumptions are declared by meaning and checked against the spec before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from fintech_eval.analysis.assumptions import parse, resolve
from fintech_eval.engine.spec import UNSET
from fintech_eval.errors import SpecError


def test_cli_forms_parse_to_declarations():
    assert parse("weights=0.25") == {"kind": "weights", "noise": 0.25}
    assert parse("weights=0.25@2,3") == {"kind": "weights", "noise": 0.25, "levels": [2, 3]}
    assert parse("weights=dirichlet:50") == {"kind": "weights", "dirichlet": 50}
    assert parse("normalise.method=minmax,zscore") == {"kind": "choice", "address": "normalise.method", "values": ["minmax", "zscore"]}
    assert parse("treat.winmax=1..5") == {"kind": "uniform", "address": "treat.winmax", "range": [1, 5]}
    assert parse("exclude=Flights,Ship") == {"kind": "exclude", "codes": ["Flights", "Ship"]}
    assert parse("normalise=[{method: zscore}, {method: rank}]")["kind"] == "step"
    with pytest.raises(SpecError, match="NAME=VALUE"):
        parse("weights")


@pytest.mark.parametrize("decl, rule, text", [
    ("normalise.methd=minmax,zscore", "spec.parameter", "did you mean 'method'"),
    ("normalise.method=minmax,minmaxx", "spec.method", "unknown normalise method 'minmaxx'"),
    ("aggregate.dat_thresh=0.5..1.5", "spec.value", "dat_thresh must be within [0, 1]"),
    ("weights=1.5", "uncertainty.range", "fraction in (0, 1)"),
    ("weights=0.2@4", "uncertainty.levels", "the index has no weight"),
    ("exclude=Flightz", "uncertainty.node", "did you mean 'Flights'"),
    ("screen.dat_thresh=0.5..0.9", "spec.address", "no step 'screen'"),
    ("treat.winmax=5..1", "uncertainty.range", "a < b"),
    ({"kind": "noise"}, "uncertainty.kind", "unknown assumption kind"),
])
def test_an_unknown_or_impossible_assumption_is_an_error_before_anything_runs(asem_c, decl, rule, text):
    with pytest.raises(SpecError) as exc:
        resolve(asem_c, [decl], n=10, seed=1)
    assert any(p.rule == rule and text in p.message for p in exc.value.problems), exc.value.problems


def test_every_problem_is_reported_at_once(asem_c):
    with pytest.raises(SpecError) as exc:
        resolve(asem_c, ["normalise.methd=a,b", "weights=2", "weights=0.1", "weights=0.2"], n=10)
    rules = [p.rule for p in exc.value.problems]
    assert "spec.parameter" in rules and "uncertainty.range" in rules and "uncertainty.duplicate" in rules


def test_two_assumptions_on_one_scalar_conflict(asem_c):
    with pytest.raises(SpecError, match="sets aggregate.dat_thresh"):
        resolve(asem_c, ["aggregate.dat_thresh=0.1..0.5", {"kind": "choice", "name": "thr", "address": "aggregate.dat_thresh", "values": [0.1, 0.2]}])


def test_a_method_switch_drops_the_parameters_only_the_old_method_reads(asem_c):
    a = resolve(asem_c, ["normalise.method=minmax,zscore"], n=4, seed=0)
    assert a.changes([0.1]) == {"normalise.method": "minmax"}  # nominal: range kept
    assert a.changes([0.9]) == {"normalise.method": "zscore", "normalise.range": UNSET}
    spec = asem_c.spec.with_changes(a.changes([0.9]))
    assert spec.steps[2] == {"normalise": {"method": "zscore"}}


def test_whole_step_alternatives_replace_the_steps_parameters(asem_c):
    a = resolve(asem_c, ["normalise=[{method: minmax, range: [1, 100]}, {method: zscore, m_sd: [10, 2]}]"], n=4)
    assert asem_c.spec.with_changes(a.changes([0.9])).steps[2] == {"normalise": {"method": "zscore", "m_sd": [10, 2]}}
    assert asem_c.spec.with_changes(a.changes([0.1])).steps[2] == {"normalise": {"method": "minmax", "range": [1, 100]}}
    assert a.labels([0.9]) == {"normalise": "zscore(m_sd=[10, 2])"}


def test_weights_noise_and_exclusion_combine_and_stay_within_the_noise(asem_c):
    a = resolve(asem_c, ["weights=0.25@2", "exclude=Physical,Social"], n=50, seed=3)
    w0 = asem_c.tree.weights
    for u in ([0.1, 0.5], [0.7, 0.9], [0.3, 0.1]):
        w = a.changes(u)["aggregate.weights"]
        for code in asem_c.tree.codes(2):
            if w[code] != 0:
                assert abs(w[code] / w0[code] - 1) <= 0.25 + 1e-12
        assert "Flights" not in w  # level 1 untouched (the tree's weight applies)
    assert a.changes([0.5, 0.6])["aggregate.weights"]["Physical"] == 0
    assert a.changes([0.5, 0.9])["aggregate.weights"]["Social"] == 0
    assert a.changes([0.5, 0.1])["aggregate.weights"]["Physical"] != 0  # the first bin excludes nothing


def test_a_key_of_a_mapping_parameter_keeps_the_other_keys(asem_c):
    a = resolve(asem_c, ["aggregate.weights.Physical=0.5..2.0"], n=4)
    assert a.changes([0.5]) == {"aggregate.weights": {"Physical": 1.25}}


def test_dirichlet_weights_keep_each_groups_total(asem_c):
    a = resolve(asem_c, [{"kind": "weights", "dirichlet": 20, "levels": [2]}], n=20, seed=5)
    w = a.changes([0.42])["aggregate.weights"]
    for parent in asem_c.tree.codes(3):
        kids = asem_c.tree.children(parent)
        assert sum(w[k] for k in kids) == pytest.approx(sum(asem_c.tree.weights[k] for k in kids))


def test_every_assumption_kind_is_documented():
    from pathlib import Path

    from fintech_eval.analysis.assumptions import ASSUMPTIONS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text(encoding="utf-8")
    for e in ASSUMPTIONS:
        assert (e.func.__doc__ or "").strip(), e.name
        assert f"`{e.name}`" in doc, e.name


def test_public_names_resolve():
    import fintech_eval.analysis as an

    for name in an.__all__:
        assert callable(getattr(an, name)) or name == "ASSUMPTIONS", name


def test_an_open_jrt_parameter_moves_with_its_sum_partner():
    from types import SimpleNamespace

    from fintech_eval.engine import load_spec

    store = SimpleNamespace(spec=load_spec(Path(__file__).resolve().parents[2] / "examples" / "store-j-2024.yaml"))
    a = resolve(store, ["param.w_users_personal=0.3..0.7"], n=4)
    assert a.changes([0.5]) == {"data.params": {"w_users_personal": 0.5, "w_users_corporate": 0.5}}
    assert a.changes([0.25])["data.params"]["w_users_corporate"] == pytest.approx(0.6)
    with pytest.raises(SpecError, match="did you mean 'w_users_personal'"):
        resolve(store, ["param.w_user_personal=0.3..0.7"], n=4)
    with pytest.raises(SpecError, match="outside its declared range"):
        resolve(store, ["param.w_users_personal=0.5..1.5"], n=4)


def test_a_framework_parameter_needs_the_store_source(asem_c):
    with pytest.raises(SpecError, match="apply to data.source store"):
        resolve(asem_c, ["param.w_users_personal=0.3..0.7"], n=4)


def test_a_bare_name_that_is_no_step_says_so(asem_c):
    with pytest.raises(SpecError, match="no step 'winmax'"):
        resolve(asem_c, ["winmax=1..5"], n=4)
