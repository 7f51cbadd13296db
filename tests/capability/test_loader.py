"""Capability framework files: valid ones load; malformed ones are rejected naming file, line, node and rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fintech_eval.capability import load_capability_framework, load_file, shipped_files, validate_file
from fintech_eval.errors import FrameworkError

from . import indicator, mini, write


def problems(tmp_path, doc) -> list:
    path = write(tmp_path, doc)
    with pytest.raises(FrameworkError) as ei:
        load_file(path)
    return ei.value.problems


def one(tmp_path, doc, rule):
    """The problems of ``rule``; each names the file and a line."""
    found = [p for p in problems(tmp_path, doc) if p.rule == rule]
    assert found, f"no {rule} problem"
    for p in found:
        assert p.where["file"].endswith("mini.yaml") and isinstance(p.where["line"], int)
    return found


def line_text(tmp_path, p) -> str:
    return (Path(tmp_path) / "mini.yaml").read_text(encoding="utf-8").splitlines()[p.where["line"] - 1]


def lines_near(tmp_path, p) -> str:
    """The problem's line and the one before (a block mapping or list starts on the line after its key)."""
    lines = (Path(tmp_path) / "mini.yaml").read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[p.where["line"] - 2: p.where["line"]])


def test_mini_loads(tmp_path):
    fw = load_file(write(tmp_path, mini()))
    assert [i.code for i in fw.indicators()] == ["G1", "G2", "P1", "P2", "S1", "S2", "S3"]
    assert fw.compile("comprehensive").local_weights["G1"] == pytest.approx(0.75)
    assert fw.compile("innovation").local_weights["S1"] == pytest.approx(2 / 3)  # principal sub-matrix
    assert validate_file(write(tmp_path, mini())) == []


# --- counts -----------------------------------------------------------------------------------------------
def test_declared_indicator_count_differs(tmp_path):
    doc = mini()
    doc["counts"]["indicators"] = 8
    (p,) = one(tmp_path, doc, "counts.indicators")
    assert "declares 8 indicators" in p.message and "holds 7" in p.message
    assert "indicators: 8" in line_text(tmp_path, p)


def test_declared_capability_count_differs(tmp_path):
    doc = mini()
    doc["capabilities"].pop()  # S goes: 5 indicators, 2 capabilities, and the models now name an unknown S
    prs = problems(tmp_path, doc)
    rules = {p.rule for p in prs}
    assert {"counts.capabilities", "counts.indicators", "ref.capability"} <= rules
    cap = next(p for p in prs if p.rule == "counts.capabilities")
    assert "declares 3 capabilities" in cap.message and "holds 2" in cap.message


def test_declared_level_and_model_counts_differ(tmp_path):
    doc = mini()
    doc["levels"].pop()
    doc["models"].pop()
    prs = problems(tmp_path, doc)
    rules = {p.rule for p in prs}
    assert {"counts.levels", "counts.models", "rule.bands"} <= rules
    bands = next(p for p in prs if p.rule == "rule.bands")
    assert "exactly the levels [1, 2, 3, 4]" in bands.message and bands.where["node"] == "model comprehensive"


def test_default_model_with_an_indicator_removed_is_rejected(tmp_path):
    src = shipped_files()["fcsc-2023-default"]
    doc = yaml.safe_load(src.read_text(encoding="utf-8"))
    el = doc["capabilities"][0]["elements"][0]
    el["indicators"].pop()
    el["judgements"] = [row[:-1] for row in el["judgements"][:-1]]
    prs = problems(tmp_path, doc)
    assert [p.rule for p in prs] == ["counts.indicators"]
    assert "declares 105 indicators" in prs[0].message and "holds 104" in prs[0].message


# --- codes and references ---------------------------------------------------------------------------------
def test_duplicate_code(tmp_path):
    doc = mini()
    indicator(doc, "S3")["code"] = "S1"
    (p,) = one(tmp_path, doc, "code.duplicate")
    assert "S1" in p.message and p.where["node"] == "S > S1"


def test_dotted_code_must_extend_its_parent(tmp_path):
    doc = mini()
    doc["code_scheme"] = "dotted"
    prs = one(tmp_path, doc, "code.nesting")
    assert any("G1 does not extend its parent's code G" in p.message for p in prs)


def test_unknown_scale(tmp_path):
    doc = mini()
    indicator(doc, "P2")["scoring"]["scale"] = "five"
    (p,) = one(tmp_path, doc, "ref.scale")
    assert "'five'" in p.message and p.where["node"] == "P > P2" and "scale: five" in line_text(tmp_path, p)


def test_unknown_provider_type(tmp_path):
    doc = mini()
    indicator(doc, "P1")["applies_to"] = ["product", "bank"]
    (p,) = one(tmp_path, doc, "ref.provider_type")
    assert "'bank'" in p.message and p.where["node"] == "P > P1"


def test_mandatory_level_step_and_model_must_exist(tmp_path):
    doc = mini()
    indicator(doc, "G1")["mandatory"] = [{"level": 7, "min_step": 3}, {"level": 2, "min_step": 9},
                                         {"level": 3, "min_step": 0}, {"level": 4, "min_step": 2, "models": ["esg"]}]
    prs = problems(tmp_path, doc)
    by = {p.rule: [q for q in prs if q.rule == p.rule] for p in prs}
    assert "level 7" in by["ref.level"][0].message
    steps = [p.message for p in by["mandatory.step"]]
    assert any("step 9 is not one of its steps [0, 1, 2, 3, 4]" in m for m in steps)
    assert any("lowest step" in m for m in steps)
    assert "'esg'" in by["ref.model"][0].message
    assert "level: 2" in line_text(tmp_path, next(p for p in by["mandatory.step"] if "step 9" in p.message))


def test_model_references(tmp_path):
    doc = mini()
    doc["models"][0]["capabilities"] = ["G", "P", "X"]
    doc["models"][1]["include"] = ["P1", "Q9", "G1"]
    prs = problems(tmp_path, doc)
    cap = next(p for p in prs if p.rule == "ref.capability")
    assert "'X'" in cap.message and cap.where["node"] == "model comprehensive"
    inc = [p.message for p in prs if p.rule == "ref.include"]
    assert any("'Q9'" in m for m in inc) and any("G1" in m and "capability G is not among" in m for m in inc)


def test_standard_and_plan_references(tmp_path):
    doc = mini()
    doc["plan"] = "plan-2019-2021"
    indicator(doc, "S1")["grounding"] = {"plan": ["PLAN-T10", "PLAN-T99"], "standards": ["gbt99999"],
                                         "rationale": {"zh": "x", "en": "x"}}
    prs = problems(tmp_path, doc)
    assert any(p.rule == "ref.plan" and "PLAN-T99" in p.message for p in prs)
    assert not any(p.rule == "ref.plan" and "PLAN-T10" in p.message for p in prs)
    assert any(p.rule == "ref.standard" and "gbt99999" in p.message for p in prs)


# --- weights ----------------------------------------------------------------------------------------------
def test_matrix_of_the_wrong_size(tmp_path):
    doc = mini()
    doc["capabilities"][2]["judgements"] = [[1, 2], ["1/2", 1]]
    (p,) = one(tmp_path, doc, "weights.size")
    assert "2×2" in p.message and "3 children (S1, S2, S3)" in p.message and p.where["node"] == "S"


def test_matrix_not_reciprocal(tmp_path):
    doc = mini()
    doc["capabilities"][0]["judgements"] = [[1, 3], [3, 1]]
    (p,) = one(tmp_path, doc, "ahp.reciprocal")
    assert "not the reciprocal" in p.message and p.where["node"] == "G" and p.where["row"] == "G2"


def test_inconsistent_matrix_reports_cr(tmp_path):
    doc = mini()
    # S1 ≫ S2 (9), S2 ≫ S3 (9), yet S3 ≫ S1 (9): CR far above 0.1
    doc["capabilities"][2]["judgements"] = [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]
    (p,) = one(tmp_path, doc, "ahp.consistency")
    assert "CR = " in p.message and p.where["cr"] >= 0.1 and "judgements:" in lines_near(tmp_path, p)


def test_inconsistent_model_matrix(tmp_path):
    doc = mini()
    doc["models"][0]["judgements"] = [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]
    (p,) = one(tmp_path, doc, "ahp.consistency")
    assert p.where["node"] == "model comprehensive"


def test_bad_judgement_cell(tmp_path):
    doc = mini()
    doc["capabilities"][0]["judgements"] = [[1, "three"], ["1/3", 1]]
    (p,) = one(tmp_path, doc, "schema.value_error")
    assert "three" in p.message


def test_matrix_and_child_weights_both(tmp_path):
    doc = mini()
    indicator(doc, "G1")["weight"] = 2
    indicator(doc, "G2")["weight"] = 1
    (p,) = one(tmp_path, doc, "weights.both")
    assert p.where["node"] == "G"


def test_some_children_weighted(tmp_path):
    doc = mini()
    del doc["capabilities"][1]["judgements"]
    indicator(doc, "P1")["weight"] = 2
    (p,) = one(tmp_path, doc, "weights.partial")
    assert "P2" in p.message


def test_child_weights_instead_of_a_matrix_load(tmp_path):
    doc = mini()
    del doc["capabilities"][1]["judgements"]
    indicator(doc, "P1")["weight"] = 3
    indicator(doc, "P2")["weight"] = 1
    fw = load_file(write(tmp_path, doc))
    tree = fw.compile("comprehensive")
    assert tree.local_weights["P1"] == pytest.approx(3) and tree.weight_source["P"] == "weights"
    assert tree.effective_weights()["P1"] == pytest.approx(0.25 * 0.75)


# --- levels and rule --------------------------------------------------------------------------------------
def test_bands_must_increase(tmp_path):
    doc = mini()
    doc["models"][0]["rule"]["bands"] = {1: 0, 2: 60, 3: 55, 4: 70, 5: 85}
    (p,) = one(tmp_path, doc, "rule.bands")
    assert "increase strictly" in p.message and "bands:" in lines_near(tmp_path, p)


def test_levels_numbered_in_order(tmp_path):
    doc = mini()
    doc["levels"][1]["level"] = 7
    prs = problems(tmp_path, doc)
    assert any(p.rule == "levels.order" for p in prs)


def test_rule_needs_bands_or_staged(tmp_path):
    doc = mini()
    doc["models"][1]["rule"] = {"staged": False}
    (p,) = one(tmp_path, doc, "schema.value_error")
    assert "bands, staged requirements, or both" in p.message


def test_staged_only_and_score_only_rules_load(tmp_path):
    doc = mini()
    doc["models"][0]["rule"] = {"staged": True}
    fw = load_file(write(tmp_path, doc))
    assert fw.model("comprehensive").rule.bands is None and fw.model("innovation").rule.staged is False


def test_staged_only_rule_without_requirements(tmp_path):
    doc = mini()
    doc["models"][1]["rule"] = {"staged": True}  # innovation uses P1, S1, S2; P1 has a requirement → fine
    load_file(write(tmp_path, doc))
    doc["models"][1]["include"] = ["P2", "S1", "S2"]
    (p,) = one(tmp_path, doc, "rule.staged")
    assert "innovation" in p.message


def test_thresholds_must_be_monotone(tmp_path):
    doc = mini()
    indicator(doc, "S2")["scoring"]["thresholds"] = [60, 80, 70, 90]
    (p,) = one(tmp_path, doc, "schema.value_error")
    assert "increase strictly" in p.message and p.where["node"] == "S > S2"


def test_unofficial_needs_a_disclaimer(tmp_path):
    doc = mini()
    del doc["disclaimer"]
    (p,) = one(tmp_path, doc, "framework.disclaimer")
    assert "status: unofficial" in line_text(tmp_path, p)


def test_tree_shape_must_be_uniform(tmp_path):
    doc = mini()
    g = doc["capabilities"][0]
    g["elements"] = [{"code": "GE", "name": {"zh": "要素", "en": "element"}, "indicators": g.pop("indicators"),
                      "judgements": g.pop("judgements")}]
    prs = problems(tmp_path, doc)
    assert any(p.rule == "tree.shape" for p in prs)


def test_duplicate_yaml_key_and_unknown_framework(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text(yaml.safe_dump(mini(), allow_unicode=True, sort_keys=False) + "id: again\n", encoding="utf-8")
    with pytest.raises(FrameworkError) as ei:
        load_file(p)
    assert ei.value.problems[0].rule == "yaml.duplicate_key"
    with pytest.raises(FrameworkError, match="unknown capability framework 'nope'"):
        load_capability_framework("nope")
