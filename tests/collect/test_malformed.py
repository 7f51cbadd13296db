"""At least 30 malformed inputs, each rejected with its own rule and a message that says where.

Every case is built from a valid input changed in one way (see ``malformed/generators.py``). The import
(read + validate) must report the case's rule as an *error* (so nothing would be stored), and the problem
must name the file and, as far as the format has them, the sheet, row, column, variable and entity.
"""

from pathlib import Path

import pytest

import fintech_eval as fe
from fintech_eval.collect import errors_in, import_files

from .malformed.generators import CASES, Ctx, institutions


@pytest.fixture(scope="module")
def ctx():
    return Ctx(fw=fe.load_framework("jrt0201-2020"), institutions=institutions())


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30
    assert len({rule for _, rule, _ in CASES.values()}) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input_is_rejected_with_its_rule(name, tmp_path, ctx):
    make, rule, where = CASES[name]
    inp = make(tmp_path, ctx)
    res = import_files(inp.paths, inp.framework or ctx.fw, ctx.institutions, inp.previous, **inp.read_kw)
    assert not res.ok, f"{name}: accepted"
    hits = [p for p in errors_in(res.problems) if p.rule == rule]
    assert hits, f"{name}: expected {rule}, got {[str(p) for p in res.problems]}"
    p = hits[0]
    assert p.message and len(p.message) > 15
    assert Path(str(p.where["file"])).name == Path(where.get("file", inp.paths[0].name)).name
    for key, value in where.items():
        if key == "file":
            continue
        assert p.where.get(key) == value, f"{name}: where[{key}] = {p.where.get(key)!r}, expected {value!r}: {p}"
    if p.where.get("variable"):
        assert p.where["variable"] in str(p) and p.where["variable"] in (p.message + str(p.where))
    # the line printed for a person names the place
    text = str(p)
    assert Path(str(p.where["file"])).name in text


def test_messages_name_the_cell(tmp_path, ctx):
    make, _, _ = CASES["csv_text_in_number"]
    inp = make(tmp_path, ctx)
    res = import_files(inp.paths, ctx.fw, ctx.institutions)
    p = next(p for p in res.problems if p.rule == "cell.not_number")
    assert "'abc'" in p.message and "employees" in p.message
    assert str(p).startswith("error: file ") and "row 2" in str(p) and "column value" in str(p)


def test_unknown_names_come_with_a_suggestion(tmp_path, ctx):
    for case, hint in (("csv_unknown_variable", "did you mean 'fintech_staff'"),
                       ("csv_unknown_entity", "did you mean 'B001'")):
        sub = tmp_path / case
        sub.mkdir()
        inp = CASES[case][0](sub, ctx)
        res = import_files(inp.paths, ctx.fw, ctx.institutions)
        assert any(hint in p.message for p in res.problems), [str(p) for p in res.problems]


def test_duplicates_name_every_row(tmp_path, ctx):
    inp = CASES["csv_duplicate_rows"][0](tmp_path, ctx)
    res = import_files(inp.paths, ctx.fw, ctx.institutions)
    p = next(p for p in res.problems if p.rule == "duplicate")
    assert "row 2" in p.message and "row 5" in p.message and "2 times" in p.message


def test_part_whole_names_both_rows(tmp_path, ctx):
    inp = CASES["csv_part_exceeds_whole"][0](tmp_path, ctx)
    res = import_files(inp.paths, ctx.fw, ctx.institutions)
    p = next(p for p in res.problems if p.rule == "part_of.exceeds")
    assert "fintech_staff = 2000" in p.message and "employees = 1000" in p.message and "row 2" in p.message


def test_units_messages_name_both_units(tmp_path, ctx):
    inp = CASES["csv_wrong_unit"][0](tmp_path, ctx)
    res = import_files(inp.paths, ctx.fw, ctx.institutions)
    p = next(p for p in res.problems if p.rule == "unit.incompatible")
    assert "'person'" in p.message and "'CNY 10k'" in p.message and "fintech_investment" in p.message


def test_gbk_file_is_detected_and_read_without_an_option(tmp_path, ctx):
    path = tmp_path / "gbk.csv"
    path.write_bytes("entity,period,variable,value,unit,source\nB001,2024,employees,100,人,问卷调查\n".encode("gbk"))
    res = import_files([path], ctx.fw, ctx.institutions)
    assert res.ok, res.problems
    assert res.clean.loc[0, "source"] == "问卷调查" and res.clean.loc[0, "value_norm"] == 100
    assert res.files[0].meta["encoding"] == "gb18030"


def test_an_encoding_message_names_the_cli_option_not_python(tmp_path, ctx):
    inp = CASES["csv_latin1_not_chinese"][0](tmp_path, ctx)
    p = next(p for p in import_files(inp.paths, ctx.fw, ctx.institutions).problems if p.rule == "encoding.invalid")
    assert "--encoding" in p.message and "encoding=" not in p.message and "line 2" in p.message
    ok = import_files(inp.paths, ctx.fw, ctx.institutions, encoding="latin-1")
    assert ok.ok, ok.problems
    assert ok.clean.loc[0, "source"] == "Zürich café"


def test_all_problems_are_reported_not_just_the_first(tmp_path, ctx):
    body = ("B001,2024,employees,abc,person,s\n"
            "B001,2024,fintech_staf,1,person,s\n"
            "B001,2024,fintech_investment,5,person,s\n"
            "B001,2024,dc_maturity_level,9,level,s\n"
            "B001,2024,outlets,-1,outlet,s\n")
    p = tmp_path / "many.csv"
    p.write_text("entity,period,variable,value,unit,source\n" + body, encoding="utf-8")
    res = import_files([p], ctx.fw, ctx.institutions)
    rules = [q.rule for q in res.problems]
    assert rules == ["cell.not_number", "variable.unknown", "unit.incompatible", "range.level", "range.negative"]
    assert [q.where["row"] for q in res.problems] == [2, 3, 4, 5, 6]


def test_every_rule_is_registered():
    from fintech_eval.collect import RULES

    assert {rule for _, rule, _ in CASES.values()} <= set(RULES)
    assert {sev for sev, _ in RULES.values()} == {"error", "warning"}
