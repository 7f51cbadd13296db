"""Framework files: valid ones load; each kind of malformed one is rejected with its specific message."""

import pytest
import yaml

from fintech_eval.catalog import diff_frameworks, load_file, load_framework, validate_file
from fintech_eval.errors import FrameworkError

from .minimal import base, indicator, write


def problems(path):
    with pytest.raises(FrameworkError) as ei:
        validate_file(path)
    return ei.value.problems


def test_minimal_framework_loads(tmp_path):
    fw = load_file(write(tmp_path, base()))
    assert [i.code for i in fw.indicators()] == ["J-A1B1-C1", "J-A1B1-C2", "H-A1B1-C1"]
    assert fw.path_of("J-A1B1-C2") == ("J", "J-A1", "J-A1B1")
    ind = fw.indicator("J-A1B1-C2")
    assert ind.reverse and ind.formula_for("bank") == "w_p * it_staff"
    assert ind.formula_for("insurance") == "staff" and ind.formula_for("securities") is None


def test_yaml_syntax_error_names_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("id: x\nversion: '1'\ntitle: {zh: a\nblocks: []\n", encoding="utf-8")
    (pr,) = problems(p)
    assert pr.rule == "yaml.syntax" and pr.where["file"] == str(p) and pr.where["line"] >= 3


def test_duplicate_key_is_an_error(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text(yaml.safe_dump(base(), allow_unicode=True, sort_keys=False) + "id: again\n", encoding="utf-8")
    (pr,) = problems(p)
    assert pr.rule == "yaml.duplicate_key" and "'id'" in pr.message and pr.where["line"] > 1


def test_not_utf8(tmp_path):
    p = tmp_path / "gbk.yaml"
    p.write_bytes("id: 指标\n".encode("gbk"))
    (pr,) = problems(p)
    assert pr.rule == "file.encoding" and "UTF-8" in pr.message


def test_missing_required_field(tmp_path):
    doc = base()
    del doc["title"]
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "schema.missing" and pr.message.startswith("title")


def test_bad_direction_names_line_and_node_path(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C1")["direction"] = 2
    path = write(tmp_path, doc)
    (pr,) = problems(path)
    assert pr.rule == "schema.literal_error" and "direction" in pr.message
    assert pr.where["path"] == "J > J-A1 > J-A1B1 > J-A1B1-C1"
    line = open(path, encoding="utf-8").read().splitlines()[pr.where["line"] - 1]
    assert "direction: 2" in line


def test_unknown_collection_method(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C1")["collection"] = ["S", "X"]
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "schema.literal_error" and "collection" in pr.message


def test_code_not_following_section_6(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C1")["code"] = "J-A1B1C1"
    prs = problems(write(tmp_path, doc))
    assert any(p.rule == "code.scheme" and "J-A1B1C1" in p.message for p in prs)


def test_code_not_extending_parent(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C1")["code"] = "J-A2B1-C1"
    prs = problems(write(tmp_path, doc))
    assert prs[0].rule == "code.nesting" and "J-A1B1" in prs[0].message
    # the H roll-up that referred to the old code is reported too
    assert [p.rule for p in prs[1:]] == ["rollup.unknown"]


def test_duplicate_code(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C2")["code"] = "J-A1B1-C1"
    prs = problems(write(tmp_path, doc))
    assert [p.rule for p in prs] == ["code.duplicate"]


def test_formula_with_unknown_variable_names_indicator(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C1")["formula"] = "it_staff / employees"
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "formula.invalid" and "employees" in pr.message
    assert pr.where["indicator"] == "J-A1B1-C1" and pr.where["line"] is not None


def test_formula_bad_syntax(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C2")["variants"][0]["formula"] = "w_p * (it_staff"
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "formula.invalid" and pr.where["field"].startswith("variants[0]")


def test_region_formula_cannot_read_institution_variables(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C1")["formula"] = "r_amount / staff"
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "formula.invalid" and "r_amount" in pr.message


def test_formula_and_variants_together(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C2")["formula"] = "staff"
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "schema.value_error" and "exactly one of formula, variants or rollup" in pr.message


def test_overlapping_variants(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C2")["variants"][1]["sectors"] = ["bank", "insurance"]
    (pr,) = problems(write(tmp_path, doc))
    assert "bank defined by more than one variant" in pr.message


def test_rollup_of_unknown_indicator(tmp_path):
    doc = base()
    indicator(doc, "H-A1B1-C1")["rollup"]["of"] = "J-A9B9-C9"
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "rollup.unknown" and "J-A9B9-C9" in pr.message


def test_rollup_missing_fields(tmp_path):
    doc = base()
    indicator(doc, "H-A1B1-C1")["rollup"] = {"method": "ratio_of_sums", "numerator": "it_staff"}
    (pr,) = problems(write(tmp_path, doc))
    assert "needs denominator" in pr.message


def test_incomplete_indicator_needs_incomplete_block(tmp_path):
    doc = base()
    ind = indicator(doc, "J-A1B1-C1")
    ind["complete"] = False
    del ind["formula"]
    prs = problems(write(tmp_path, doc))
    assert [p.rule for p in prs] == ["rollup.unknown", "complete.block"]  # H rolls up a now-incomplete indicator


def test_part_of_unknown_variable(tmp_path):
    doc = base()
    doc["variables"][1]["part_of"] = "all_staff"
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "variable.part_of" and pr.where["variable"] == "it_staff"


def test_block_without_entity(tmp_path):
    doc = base()
    del doc["blocks"][1]["entity"]
    prs = problems(write(tmp_path, doc))
    assert any(p.rule == "block.entity" and "H" in p.message for p in prs)


def test_parameter_default_out_of_range(tmp_path):
    doc = base()
    doc["parameters"][0]["default"] = 1.5
    (pr,) = problems(write(tmp_path, doc))
    assert "outside [0.0, 1.0]" in pr.message


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    doc = base()
    indicator(doc, "J-A1B1-C1")["formula"] = "nope"
    indicator(doc, "H-A1B1-C1")["rollup"]["of"] = "nothing"
    assert {p.rule for p in problems(write(tmp_path, doc))} == {"formula.invalid", "rollup.unknown"}


def test_unknown_framework_reference():
    with pytest.raises(FrameworkError, match="unknown framework 'nope'"):
        load_framework("nope")


def test_diff_lists_added_removed_and_changed_fields(tmp_path):
    old = load_file(write(tmp_path, base(), "old.yaml"))
    doc = base()
    indicator(doc, "J-A1B1-C1")["unit"] = "ratio"
    indicator(doc, "J-A1B1-C1")["name"]["en"] = "Share of IT staff"
    grp = doc["blocks"][0]["children"][0]["children"][0]["indicators"]
    grp[:] = [g for g in grp if g["code"] != "J-A1B1-C2"] + [
        {**grp[0], "code": "J-A1B1-C3", "name": {"zh": "新", "en": "new"}}
    ]
    new = load_file(write(tmp_path, doc, "new.yaml"))
    rows = diff_frameworks(old, new)
    assert {(r["change"], r["code"], r["field"]) for r in rows} == {
        ("changed", "J-A1B1-C1", "unit"),
        ("changed", "J-A1B1-C1", "name"),
        ("removed", "J-A1B1-C2", None),
        ("added", "J-A1B1-C3", None),
    }


def test_diff_covers_variables_parameters_and_constraints(tmp_path):
    """A revision (§5) may change a raw variable, a parameter or a rule between parameters."""
    doc = base()
    doc["parameters"].append({**doc["parameters"][0], "name": "w_q", "default": 0.5})
    old = load_file(write(tmp_path, doc, "old.yaml"))
    doc["parameters"][0]["default"] = 0.4
    doc["parameters"][1]["default"] = 0.6
    doc["variables"][0]["unit"] = "thousand"
    doc["constraints"] = [{"name": "pq", "parameters": ["w_p", "w_q"], "sum": 1}]
    new = load_file(write(tmp_path, doc, "new.yaml"))
    rows = {(r["change"], r["code"], r["field"]): (r["old"], r["new"]) for r in diff_frameworks(old, new)}
    assert rows[("changed", "parameter:w_p", "default")] == (0.5, 0.4)
    assert rows[("changed", "parameter:w_q", "default")] == (0.5, 0.6)
    name = doc["variables"][0]["name"]
    assert rows[("changed", f"variable:{name}", "unit")][1] == "thousand"
    assert rows[("added", "constraint:pq", None)] == (None, "pq")
