"""Links between catalog entries that are declared as data, not implied by names:

* ``carry_over_of``: a variable restating last period's value of another (``X_prev_end`` → ``X``);
* ``constraints``: parameters that must sum to a total (the personal/corporate weights of J-A3B1-C1).
"""

import pytest

from fintech_eval.catalog import load_framework, validate_file
from fintech_eval.collect import carry_over_pairs
from fintech_eval.errors import FrameworkError

from .minimal import base, write


def problems(path):
    with pytest.raises(FrameworkError) as ei:
        validate_file(path)
    return ei.value.problems


def line_of(path, number):
    return open(path, encoding="utf-8").read().splitlines()[number - 1]


# --------------------------------------------------------------------------------------------------
# carry_over_of
# --------------------------------------------------------------------------------------------------
def with_carry(**fields):
    doc = base()
    doc["variables"].append(
        {"name": "staff_last_year", "unit": "person", "type": "count", "help": {"zh": "上期员工", "en": "staff, last period"},
         "carry_over_of": "staff", **fields}
    )
    return doc


def test_every_prev_end_variable_of_the_standard_declares_what_it_carries_over():
    fw = load_framework("jrt0201-2020")
    prev = [v for v in fw.variables if v.name.endswith("_prev_end")]
    assert prev, "the turnover inputs of J-A2B2-C3 are declared"
    assert all(v.carry_over_of == v.name[: -len("_prev_end")] for v in prev)
    assert [v.name for v in fw.variables if v.carry_over_of] == [v.name for v in prev]


def test_carry_over_pairs_read_the_declared_field_not_the_name(tmp_path):
    fw = validate_file(write(tmp_path, with_carry()))
    assert carry_over_pairs(fw) == [("staff_last_year", "staff")]
    assert carry_over_pairs(load_framework("jrt0201-2020")) == [("fintech_staff_prev_end", "fintech_staff")]


def test_carry_over_of_an_undeclared_variable(tmp_path):
    path = write(tmp_path, with_carry(carry_over_of="employees"))
    (pr,) = problems(path)
    assert pr.rule == "variable.carry_over_of" and pr.where["variable"] == "staff_last_year"
    assert "'employees', which is not declared" in pr.message
    assert "name: staff_last_year" in line_of(path, pr.where["line"])


@pytest.mark.parametrize(
    ("fields", "says"),
    [({"unit": "CNY 10k", "type": "money"}, "unit CNY 10k, type money but staff has unit person, type count"),
     ({"type": "number"}, "type number but staff has type count"),
     ({"entity": "region"}, "entity region but staff has entity institution")],
)
def test_carry_over_of_a_variable_of_another_kind(tmp_path, fields, says):
    (pr,) = problems(write(tmp_path, with_carry(**fields)))
    assert pr.rule == "variable.carry_over_of" and says in pr.message


def test_carry_over_of_itself(tmp_path):
    doc = with_carry()
    doc["variables"][-1]["carry_over_of"] = "staff_last_year"
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "variable.carry_over_of" and "itself" in pr.message


def test_prev_end_name_without_the_field_is_an_error(tmp_path):
    """The name alone no longer links: say so instead of silently dropping the turnover check."""
    doc = base()
    doc["variables"].append({"name": "staff_prev_end", "unit": "person", "type": "count", "help": {"zh": "上期", "en": "prev"}})
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "variable.carry_over_of" and "carry_over_of: staff" in pr.message


# --------------------------------------------------------------------------------------------------
# constraints: parameters that sum to a total
# --------------------------------------------------------------------------------------------------
def with_weights(*, defaults=(0.5, 0.5), constraint=None):
    doc = base()
    doc["parameters"] = [
        {"name": "w_a", "default": defaults[0], "min": 0, "max": 1, "description": {"zh": "甲", "en": "a"}},
        {"name": "w_b", "default": defaults[1], "min": 0, "max": 1, "description": {"zh": "乙", "en": "b"}},
        {"name": "w_p", "default": 0.5, "min": 0, "max": 1, "description": {"zh": "权重", "en": "weight"}},
    ]
    doc["constraints"] = [constraint or {"name": "ab_weights", "parameters": ["w_a", "w_b"], "sum": 1}]
    return doc


def test_the_standards_weight_pairs_are_declared_to_sum_to_1():
    fw = load_framework("jrt0201-2020")
    assert [(c.name, c.parameters, c.sum) for c in fw.constraints] == [
        ("user_weights", ["w_users_personal", "w_users_corporate"], 1.0),
        ("loan_weights", ["w_loans_personal", "w_loans_small_micro"], 1.0),
    ]


def test_a_consistent_sum_constraint_loads(tmp_path):
    fw = validate_file(write(tmp_path, with_weights(defaults=(0.25, 0.75))))
    (c,) = fw.constraints
    assert c.parameters == ["w_a", "w_b"] and c.sum == 1


def test_defaults_that_do_not_sum_to_the_total(tmp_path):
    path = write(tmp_path, with_weights(defaults=(0.7, 0.5)))
    (pr,) = problems(path)
    assert pr.rule == "parameter.sum"
    assert pr.message == "defaults of w_a + w_b must sum to 1 (constraint ab_weights), got 0.7 + 0.5 = 1.2"
    assert pr.where["parameter"] == "w_a, w_b" and pr.where["file"] == path
    assert "name: ab_weights" in line_of(path, pr.where["line"])


def test_constraint_naming_an_undeclared_parameter(tmp_path):
    path = write(tmp_path, with_weights(constraint={"name": "ab", "parameters": ["w_a", "w_c"], "sum": 1}))
    prs = problems(path)
    assert prs[0].rule == "parameter.sum" and prs[0].where["parameter"] == "w_c"
    assert "constraint ab names parameter w_c, which is not declared" in prs[0].message
    assert "name: ab" in line_of(path, prs[0].where["line"])


def test_constraint_with_a_parameter_twice(tmp_path):
    doc = with_weights(constraint={"name": "ab", "parameters": ["w_a", "w_a"], "sum": 1})
    doc["parameters"][0]["default"] = 0.5
    (pr,) = problems(write(tmp_path, doc))
    assert pr.rule == "parameter.sum" and "w_a more than once" in pr.message


def test_constraint_that_the_ranges_cannot_meet(tmp_path):
    doc = with_weights(constraint={"name": "ab", "parameters": ["w_a", "w_b"], "sum": 1})
    doc["parameters"][0]["max"] = 0.2
    doc["parameters"][0]["default"] = 0.2
    doc["parameters"][1]["max"] = 0.6
    doc["parameters"][1]["default"] = 0.6
    prs = problems(write(tmp_path, doc))
    assert [p.rule for p in prs] == ["parameter.sum", "parameter.sum"]
    assert "cannot reach 1 within the declared ranges (at most 0.8)" in prs[1].message


def test_constraint_needs_two_parameters_and_a_known_shape(tmp_path):
    prs = problems(write(tmp_path, with_weights(constraint={"name": "ab", "parameters": ["w_a"], "sum": 1})))
    assert prs[0].rule.startswith("schema") and "constraints" in str(prs[0])
