"""Extensions add namespaced indicators or override metadata; they are validated like frameworks."""

import pytest
import yaml

from fintech_eval.catalog import load_extension, load_file
from fintech_eval.errors import FrameworkError

from .minimal import base, write

NEW = {
    "code": "myorg:J-A1B1-C3",
    "name": {"zh": "新增指标", "en": "Added indicator"},
    "definition": {"zh": "自定义", "en": "custom"},
    "unit": "count", "type": "count", "collection": ["S"], "formula": "labs",
}


def ext_doc(**over):
    doc = {
        "extends": "mini", "id": "myorg-2024", "namespace": "myorg",
        "variables": [{"name": "labs", "unit": "count", "type": "count", "help": {"zh": "实验室", "en": "labs"}}],
        "add": [{"parent": "J-A1B1", "indicators": [NEW]}],
        "override": [{"code": "J-A1B1-C1", "set": {"notes": ["checked by myorg"]}}],
    }
    doc.update(over)
    return doc


def write_ext(tmp_path, doc):
    p = tmp_path / "ext.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def test_extension_adds_and_overrides_and_is_recorded(tmp_path):
    fw = load_file(write(tmp_path, base()))
    out = load_extension(write_ext(tmp_path, ext_doc()), base=fw)
    assert out.indicator("myorg:J-A1B1-C3").formula == "labs"
    assert out.path_of("myorg:J-A1B1-C3") == ("J", "J-A1", "J-A1B1")
    assert out.indicator("J-A1B1-C1").notes == ["checked by myorg"]
    assert out.extensions == ["myorg-2024"]
    assert len(fw.indicators()) + 1 == len(out.indicators())


def test_added_code_must_carry_the_namespace(tmp_path):
    fw = load_file(write(tmp_path, base()))
    doc = ext_doc(add=[{"parent": "J-A1B1", "indicators": [{**NEW, "code": "J-A1B1-C3"}]}])
    with pytest.raises(FrameworkError) as ei:
        load_extension(write_ext(tmp_path, doc), base=fw)
    assert ei.value.problems[0].rule == "extension.namespace"
    assert "never invented" in ei.value.problems[0].message


def test_unknown_parent_and_override(tmp_path):
    fw = load_file(write(tmp_path, base()))
    doc = ext_doc(add=[{"parent": "J-A9B9", "indicators": [NEW]}], override=[{"code": "J-X", "set": {"notes": []}}])
    with pytest.raises(FrameworkError) as ei:
        load_extension(write_ext(tmp_path, doc), base=fw)
    assert [p.rule for p in ei.value.problems] == ["extension.parent", "extension.override"]


def test_override_cannot_change_code(tmp_path):
    fw = load_file(write(tmp_path, base()))
    doc = ext_doc(override=[{"code": "J-A1B1-C1", "set": {"code": "J-A1B1-C9"}}])
    with pytest.raises(FrameworkError, match="cannot override field"):
        load_extension(write_ext(tmp_path, doc), base=fw)


def test_added_indicator_is_validated_like_any_other(tmp_path):
    fw = load_file(write(tmp_path, base()))
    doc = ext_doc(add=[{"parent": "J-A1B1", "indicators": [{**NEW, "formula": "labs / unknown_var"}]}])
    with pytest.raises(FrameworkError) as ei:
        load_extension(write_ext(tmp_path, doc), base=fw)
    assert ei.value.problems[0].rule == "formula.invalid" and "unknown_var" in ei.value.problems[0].message


def test_extension_adds_parameters_with_their_sum_rule(tmp_path):
    fw = load_file(write(tmp_path, base()))
    par = {"min": 0, "max": 1, "description": {"zh": "权重", "en": "weight"}}
    doc = ext_doc(
        parameters=[{"name": "w_a", "default": 0.3, **par}, {"name": "w_b", "default": 0.7, **par}],
        constraints=[{"name": "ab", "parameters": ["w_a", "w_b"], "sum": 1}],
    )
    out = load_extension(write_ext(tmp_path, doc), base=fw)
    assert [c.name for c in out.constraints][-1] == "ab"
    doc["parameters"][1]["default"] = 0.6
    with pytest.raises(FrameworkError) as ei:
        load_extension(write_ext(tmp_path, doc), base=fw)
    assert {p.rule for p in ei.value.problems} == {"parameter.sum"} and "0.3 + 0.6" in str(ei.value)
