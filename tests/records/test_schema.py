"""The record-schema document is checked on load, like a framework: each problem names file, line and rule."""

from __future__ import annotations

import re

import pytest

from fintech_eval.catalog import load_framework
from fintech_eval.errors import FrameworkError
from fintech_eval.records import load_records_spec
from fintech_eval.records.loader import shipped_files

SHIPPED = shipped_files()["jrt0201-records"]


def test_the_shipped_document_loads_and_derives_only_catalog_variables():
    spec = load_records_spec()
    fw = load_framework(spec.framework)
    units = {v.name: v.unit for v in fw.variables}
    assert spec.ref == "jrt0201-records@1.0" and len(spec.fingerprint) == 64
    assert all(units[d.variable] == d.unit for d in spec.derivations)
    assert len({d.variable for d in spec.derivations}) == len(spec.derivations)
    for src in spec.sources.values():  # bilingual, documented
        assert src.title.zh and src.title.en and all(c.description.zh and c.description.en for c in src.columns)


def _broken(tmp_path, old: str, new: str, at: str | None = None):
    """Load the shipped file with ``old`` replaced by ``new``; the line expected is the one holding ``at``
    (default: the start of ``new``)."""
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    path = tmp_path / "broken.yaml"
    path.write_text(changed, encoding="utf-8")
    pos = text.index(old) + (new.index(at) if at else 0)
    with pytest.raises(FrameworkError) as exc:
        load_records_spec(path)
    return exc.value.problems, changed[:pos].count("\n") + 1, str(path)


@pytest.mark.parametrize("old, new, at, rule", [
    ("{variable: claims, source: claims,", "{variable: claim_count, source: claims,", None, "derivation.unknown_variable"),
    ("{variable: claims, source: claims,", "{variable: claims, source: claim_log,", None, "derivation.unknown_source"),
    ("where: {channel: pc}", "where: {chanel: pc}", None, "derivation.unknown_column"),
    ("where: {channel: pc}", "where: {channel: web}", None, "derivation.where"),
    ("where: {auto_approved: true}", "where: {auto_approved: 1}", None, "derivation.where"),
    ("of: amount, unit: CNY 10k,\n     where: {channel: pc}", "of: amount, unit: CNY,\n     where: {channel: pc}", None, "derivation.unit"),
    ("{variable: claims, source: claims, aggregate: count", "{variable: claims, source: claims, aggregate: sum", "aggregate", "derivation.aggregate"),
    ("{variable: smart_rec_clicks,", "{variable: smart_rec_impressions,", None, "derivation.duplicate"),
    ("unit: person, as_of: end}", "unit: person}", None, "derivation.window"),
    ("{variable: claims, source: claims, aggregate: count, unit: claim}", "{variable: claims, source: claims, aggregate: count, unit: claim, as_of: end}", None, "derivation.window"),
])
def test_a_broken_derivation_is_named_with_file_line_and_rule(tmp_path, old, new, at, rule):
    problems, line, file = _broken(tmp_path, old, new, at)
    hit = [p for p in problems if p.rule == rule]
    assert hit, problems
    assert hit[0].where["file"] == file and hit[0].where["line"] == line


def test_a_broken_source_is_named(tmp_path):
    problems, _, _ = _broken(tmp_path, "    time: settled_at\n", "    time: paid_amount\n")
    assert [p.rule for p in problems] == ["source.time"] and problems[0].where["source"] == "claims"


def test_a_schema_error_names_the_line(tmp_path):
    problems, line, _ = _broken(tmp_path, "aggregate: mean, of: {hours: [reported_at, settled_at]}",
                                "aggregate: median, of: {hours: [reported_at, settled_at]}")
    assert problems[0].where["line"] == line and re.match(r"schema\.", problems[0].rule)
