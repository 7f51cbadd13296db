"""The aggregation tree: from COINr's iMeta, from rows, from a JR/T 0201 framework block; its checks."""

import pytest

import fintech_eval as fe
from fintech_eval.errors import DataError


def test_from_framework_blocks():
    fw = fe.load_framework("jrt0201-2020")
    j = fe.Tree.from_framework(fw, "J")
    assert (j.n_levels, len(j.indicators), len(j.codes(3)), j.codes(4)) == (4, 51, 6, ["J"])
    assert set(j.directions[j.directions == -1].index) == {"J-A2B2-C3", "J-A3B2-C6", "J-A3B2-C7"}
    assert j.children("J-A3B2") == [f"J-A3B2-C{i}" for i in range(1, 8)]
    q = fe.Tree.from_framework(fw, "Q")
    assert len(q.indicators) == 12 and "Q-A2" not in set(q.meta["code"])  # heading without complete indicators
    assert "Q-A2B1-C1" in fe.Tree.from_framework(fw, "Q", include_incomplete=True).indicators
    with pytest.raises(DataError, match="no block 'X'"):
        fe.Tree.from_framework(fw, "X")


@pytest.mark.parametrize(
    "rows, rule",
    [
        ([{"code": "a", "parent": "I", "level": 1}, {"code": "a", "parent": "I", "level": 1}, {"code": "I", "level": 2}], "tree.duplicate"),
        ([{"code": "a", "parent": "J", "level": 1}, {"code": "I", "level": 2}], "tree.parent"),
        ([{"code": "a", "parent": "I", "level": 1, "direction": 2}, {"code": "I", "level": 2}], "tree.direction"),
        ([{"code": "a", "parent": "I", "level": 1, "weight": -1}, {"code": "I", "level": 2}], "tree.weight"),
        ([{"code": "a", "parent": "I", "level": 1}, {"code": "b", "parent": "T", "level": 1}, {"code": "I", "parent": "T", "level": 2}, {"code": "T", "level": 3}], "tree.level"),
        ([{"code": "a", "parent": "I", "level": 1}, {"code": "E", "parent": "T", "level": 2}, {"code": "I", "parent": "T", "level": 2}, {"code": "T", "level": 3}], "tree.childless"),
        ([{"code": "a", "parent": "I", "level": None}, {"code": "I", "level": 2}], "tree.level"),
        ([{"code": "a", "parent": "I", "level": 1.5}, {"code": "I", "level": 2}], "tree.level"),
    ],
)
def test_malformed_trees(rows, rule):
    with pytest.raises(DataError) as ei:
        fe.Tree.from_rows(rows)
    assert rule in {p.rule for p in ei.value.problems}


def test_partial_weights_default_to_one():
    t = fe.Tree.from_rows([{"code": "a", "parent": "I", "level": 1, "weight": 2.0}, {"code": "b", "parent": "I", "level": 1}, {"code": "I", "level": 2}])
    assert t.weights.to_dict() == {"a": 2.0, "b": 1.0, "I": 1.0}
