"""Every problem the import can raise has its message in Chinese too (``message_zh``), built from the same values.

Two ways a rule could escape: a case for each rule of :data:`fintech_eval.collect.RULES` (the malformed and
hostile corpora, and hand-made cases for the rules they do not reach) whose every problem must carry a Chinese
text that differs from the English one and names the same values (numbers, codes, quoted texts); and a check of
the source that every call creating a problem in ``collect/`` (``problem(…)``, the validation's ``add(…)``
lambdas, the unit errors, the unit-factor hits) gives the Chinese text at the same place.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.app.submissions import _scope_problems, _texts
from fintech_eval.collect import RULES, import_files, write_template
from fintech_eval.collect.public_banks import read_public_banks
from fintech_eval.collect.readers import read_questionnaire
from fintech_eval.collect.texts import file_name_problems, user_problems
from fintech_eval.collect.unitcheck import UnitChecks, parse_acceptance
from fintech_eval.collect.units import conversion_factor, parse_unit
from fintech_eval.errors import DataError, Problem
from tests.collect.malformed.generators import CASES as MALFORMED
from tests.collect.malformed.generators import Ctx, institutions
from tests.hostile.corpus import REJECTED

COLLECT = Path(fe.__file__).parent / "collect"
#: rules of RULES raised only when a questionnaire is *written* (template.py), never by reading or validating
WRITING_ONLY = {"template.empty", "template.entity"}
HEADER = "entity,period,variable,value,unit\n"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: the values a Chinese message must repeat: numbers, snake_case codes, quoted texts
VALUES = re.compile(r"(?<![A-Za-z])'[^']{1,80}'|\b[a-z]+(?:_[a-z0-9]+)+\b|\d+(?:[.,]\d+)*")


def check_bilingual(p: Problem) -> None:
    """Chinese text present, not the English one, in Chinese, and naming what the English names."""
    assert p.message_zh, f"no Chinese text: {p}"
    assert p.message_zh != p.message and CJK.search(p.message_zh), f"not Chinese: {p.message_zh!r}"
    missing = [v for v in VALUES.findall(p.message) if v not in p.message_zh]
    assert not missing, f"{p.rule}: the Chinese text lacks {missing}\n  en: {p.message}\n  zh: {p.message_zh}"
    assert p.as_dict()["message_zh"] == p.message_zh and p.text("zh") == p.message_zh and p.text("en") == p.message


@pytest.fixture(scope="module")
def fw():
    return fe.load_framework("jrt0201-2020")


@pytest.fixture(scope="module")
def ctx(fw):
    return Ctx(fw=fw, institutions=institutions())


@pytest.fixture
def register():
    return pd.DataFrame({"id": ["B001", "B002", "P001"], "name_zh": ["甲银行", "乙银行", "丙支付"],
                         "sector": ["bank", "bank", "payment"]})


def csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


# ---- the corpora: every problem of every case ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_every_problem_of_a_malformed_input_is_bilingual(name, tmp_path, ctx):
    make, rule, _ = MALFORMED[name]
    inp = make(tmp_path, ctx)
    res = import_files(inp.paths, inp.framework or ctx.fw, ctx.institutions, inp.previous, **inp.read_kw)
    assert rule in {p.rule for p in res.problems}
    for p in res.problems:
        check_bilingual(p)


#: one hostile case per rule the malformed corpus does not raise (those with extra CLI options: by hand below)
HOSTILE: dict[str, str | None] = {}
for _name, _case in sorted(REJECTED.items()):
    if (not _name.startswith("malformed_") and not _case.args and _case.rule not in HOSTILE.values()
            and _case.rule not in {rule for _, rule, _ in MALFORMED.values()}):
        HOSTILE[_name] = _case.rule


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_problem_of_a_hostile_input_is_bilingual(name, tmp_path, fw, monkeypatch):
    case = REJECTED[name]
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    res = import_files(case.make(tmp_path, fw), fw, institutions())
    assert case.rule is None or case.rule in {p.rule for p in res.problems}
    for p in res.problems:
        check_bilingual(p)


# ---- hand-made cases for the other rules -------------------------------------------------------------------
def _unparsable_csv(tmp: Path, fw, reg) -> list[Problem]:
    """A ragged row sends the CSV to the record-by-record reader, which stops at a field over the csv module's limit."""
    f = tmp / "q.csv"
    f.write_text(HEADER + "B001,2024,employees,1,person\nB001,2024,employees,1,2,3,4\n"
                 + f'B001,2024,fintech_staff,"{"9" * 200_000}",person\n', encoding="utf-8")
    return import_files([f], fw, reg).problems


def test_a_field_over_the_csv_modules_limit_is_a_problem_not_a_traceback(tmp_path, fw, register):
    """pandas reads a 200,000-character field the csv module refuses: the line checks fall back to splitting."""
    f = tmp_path / "long.csv"
    f.write_text(HEADER + "B001,2024,employees,1,2,3\n" + f'B001,2024,fintech_staff,"{"9" * 200_000}",person\n',
                 encoding="utf-8")
    problems = import_files([f], fw, register).problems
    assert problems and {p.rule for p in problems} <= set(RULES)
    for p in problems:
        check_bilingual(p)


def _framework_with_bounds(fw):
    variables = [v.model_copy(update={"min": 10.0, "max": 1_000_000.0}) if v.name == "employees" else v
                 for v in fw.variables]
    return fw.model_copy(update={"variables": variables})


def _bounds(tmp: Path, fw, reg) -> list[Problem]:
    f = csv(tmp / "b.csv", ["B001,2024,employees,5,person", "B002,2024,employees,2000000,person"])
    return import_files([f], _framework_with_bounds(fw), reg).problems


def _outlier(tmp: Path, fw, reg) -> list[Problem]:
    ids = [f"B{i:03d}" for i in range(1, 9)]
    reg8 = pd.DataFrame({"id": ids, "sector": ["bank"] * 8})
    f = csv(tmp / "o.csv", [f"{b},2024,fintech_staff,{100 + i},person" for i, b in enumerate(ids[:-1])]
            + [f"{ids[-1]},2024,fintech_staff,9000000,person"])
    return import_files([f], fw, reg8).problems


def _blank_and_infinite(tmp: Path, fw, reg) -> list[Problem]:
    f = csv(tmp / "m.csv", ["B001,2024,fintech_staff,,person", "B001,2024,employees,1e999,person"])
    return import_files([f], fw, reg).problems


def _unit_checks(tmp: Path, fw, reg) -> list[Problem]:
    f = csv(tmp / "u.csv", ["B001,2023,operating_revenue,120,万元,", "B001,2024,operating_revenue,1300000,万元,",
                            "B002,2023,operating_revenue,50000,万元,", "B002,2024,operating_revenue,5.2,万元,",
                            "P001,2024,fintech_staff,12,person,just in case"], HEADER.strip() + ",accept_reason\n")
    accepted = csv(tmp / "a.csv", ["B001,2023,fintech_investment,3,亿元", "B001,2024,fintech_investment,310000000,亿元"])
    return (import_files([f], fw, reg, unit_checks=UnitChecks()).problems
            + import_files([accepted], fw, reg, unit_checks=UnitChecks.of(["B001/2024/fintech_investment:并购"])).problems)


def _wide_reason(tmp: Path, fw, reg) -> list[Problem]:
    f = tmp / "w.csv"
    f.write_text("entity,period,operating_revenue,fintech_staff,accept_reason\nB001,2024,1,2,x\n", encoding="utf-8")
    return import_files([f], fw, reg, unit_checks=UnitChecks()).problems


def _missing_file(tmp: Path, fw, reg) -> list[Problem]:
    return import_files([tmp / "absent.csv"], fw, reg).problems


def _texts_and_names(tmp: Path, fw, reg) -> list[Problem]:
    out = list(file_name_problems([tmp / ("x" * 300 + ".csv")])) + list(user_problems("eve\x1b[2J"))
    f = csv(tmp / "t.csv", ["B001,2024,fintech_staff,3,person"], HEADER.strip() + ",source\n")
    f.write_text(HEADER.strip() + ",source\n" + "B001,2024,fintech_staff,3,person," + "s" * 600 + "\n", encoding="utf-8")
    return out + import_files([f], fw, reg).problems


def _questionnaire(tmp: Path, fw, reg) -> list[Problem]:
    """A template read against another framework version, another entity and period, and with no value."""
    path = write_template(fw, {"id": "B001", "name_zh": "甲银行", "sector": "bank", "region_code": "11"}, "2024", tmp)
    other = fw.model_copy(update={"version": "2099"})
    out = read_questionnaire(path, framework=other).problems
    out += read_questionnaire(path, entity="B002", period="2025").problems
    fewer = fw.model_copy(update={"variables": [v for v in fw.variables if v.name != "outlets"]})
    try:
        out += read_questionnaire(path, framework=fewer).problems
    except Exception:  # a framework without the variable may not even build its feeds: the other cases remain
        pass
    out += read_questionnaire(path, framework=fw).problems  # template.no_values
    return out


def _public_banks(tmp: Path, fw, reg) -> list[Problem]:
    f = tmp / "banks.csv"
    f.write_text("bank_zh,bank_en,year,item,value,unit,source,note\n测试银行,Nowhere Bank,2023,fintech_investment,"
                 "12.5,亿元,annual report,\n", encoding="utf-8")
    return read_public_banks(framework=fw).problems + read_public_banks(f, framework=fw).problems


def _unit_errors(tmp: Path, fw, reg) -> list[Problem]:
    out: list[Problem] = []
    for call in (lambda: parse_unit("furlongs"), lambda: conversion_factor("kg", "万元", variable="fintech_investment"),
                 lambda: conversion_factor("person", "万元", variable="fintech_investment"),
                 lambda: parse_acceptance("B001/2024/operating_revenue")):
        with pytest.raises(DataError) as exc:
            call()
        out += exc.value.problems
    return out


def _return_scope(tmp: Path, fw, reg) -> list[Problem]:
    frame = pd.DataFrame({"entity_id": ["B001", "B002", "B002"], "period": ["2024", "2024", "2023"], "row": [2, 3, 4]})
    out, _ = _scope_problems(frame, "B001", "2024", "r.csv")
    for key, entity in ((None, ""), (" ", "B001"), (None, "B\x1b01")):  # a blank entity, a blank key, a control character
        with pytest.raises(DataError) as exc:
            _texts("cli", key, entity)
        out += exc.value.problems
    return out


HAND = {
    "csv_unparsable": _unparsable_csv, "bounds": _bounds, "outlier": _outlier, "blank_and_infinite": _blank_and_infinite,
    "unit_checks": _unit_checks, "wide_reason": _wide_reason, "missing_file": _missing_file,
    "texts_and_names": _texts_and_names, "questionnaire": _questionnaire, "public_banks": _public_banks,
    "unit_errors": _unit_errors, "return_scope": _return_scope,
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_every_problem_of_a_hand_made_case_is_bilingual(name, tmp_path, fw, register):
    problems = HAND[name](tmp_path, fw, register)
    assert problems, name
    for p in problems:
        check_bilingual(p)


def test_every_rule_has_a_case(tmp_path, fw, register, ctx, monkeypatch):
    """The union of the cases above raises every rule of RULES (but the two of writing a questionnaire)."""
    seen = {rule for _, rule, _ in MALFORMED.values()} | set(HOSTILE.values())
    for name, make in HAND.items():
        d = tmp_path / name
        d.mkdir()
        seen |= {p.rule for p in make(d, fw, register)}
    assert set(RULES) - WRITING_ONLY - seen == set()


# ---- the Chinese names the same things -------------------------------------------------------------------
def test_a_chinese_message_names_the_values_rows_and_codes(tmp_path, fw, register):
    f = csv(tmp_path / "r.csv", ["B001,2024,fintech_staff,-3,person", "B001,2024,fintech_staf,5,person",
                                 "B001,2024,fintech_staff,7,person", "B009,2024,employees,1,person"])
    by_rule = {p.rule: p for p in import_files([f], fw, register).problems}
    assert by_rule["variable.unknown"].message_zh == ("未知变量 'fintech_staf'（jrt0201-2020@2020 中没有此变量）；"
                                                      "是否应为 'fintech_staff'？")
    dup = by_rule["duplicate"].message_zh
    assert dup.startswith("B001 在 2024 的 fintech_staff 填报了 2 次：") and "第 2 行（值 '-3'）" in dup and "第 4 行" in dup
    assert "未知机构 'B009'（不在机构名录中）" in by_rule["entity.unknown"].message_zh
    assert "fintech-eval register institutions FILE" in by_rule["entity.unknown"].message_zh


def test_stored_problems_without_chinese_still_load_and_show_english():
    from fintech_eval.app.submissions import _problem_of
    from fintech_eval.collect.validate import CollectProblem

    old = {"rule": "range.negative", "message": "x cannot be negative", "severity": "error", "variable": "x", "row": 2}
    p = _problem_of(old)
    assert isinstance(p, CollectProblem) and p.message_zh is None and p.text("zh") == "x cannot be negative"
    assert p.as_dict() == old and p.where == {"variable": "x", "row": 2}
    new = {**old, "message_zh": "x 不能为负数"}
    q = _problem_of(new)
    assert q.text("zh") == "x 不能为负数" and q.as_dict() == new and "message_zh" not in q.where
    assert q.line("zh") == "错误: variable x, row 2: x 不能为负数 [range.negative]"
    assert str(q) == "error: variable x, row 2: x cannot be negative [range.negative]"


# ---- no call site without its Chinese text ---------------------------------------------------------------
def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, "id", None) == name or getattr(n.func, "attr", None) == name)]


def _keywords(call: ast.Call) -> set[str | None]:
    return {k.arg for k in call.keywords}


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr | ast.Constant | ast.BinOp) and not (
        isinstance(node, ast.Constant) and not isinstance(node.value, str))


INTAKE_SOURCES = sorted(p for p in COLLECT.glob("*.py") if p.name not in ("sample.py", "template.py"))


@pytest.mark.parametrize("path", INTAKE_SOURCES, ids=lambda p: p.name)
def test_every_problem_call_site_gives_a_chinese_text(path):
    """``problem(…)`` with ``zh=``; a unit or data error raised with a message (``UnitError("…")``) with
    ``zh=``; a unit-factor ``Hit`` with its ``message_zh``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"{path.name}:{c.lineno} problem(...)" for c in _calls(tree, "problem") if "zh" not in _keywords(c)]
    for err in ("UnitError", "DataError"):
        bad += [f"{path.name}:{c.lineno} {err}(...)" for c in _calls(tree, err)
                if c.args and _is_text(c.args[0]) and "zh" not in _keywords(c)]
    bad += [f"{path.name}:{c.lineno} Hit(...)" for c in _calls(tree, "Hit")
            if len(c.args) < 5 and "message_zh" not in _keywords(c)]
    assert not bad, "a problem without its Chinese text: " + ", ".join(bad)


def test_every_validation_rule_makes_both_texts():
    """The ``add(rule, mask, make)`` calls of :func:`~fintech_eval.collect.validate.validate`: ``make`` returns
    ``(english, chinese, places)``, a lambda with a 3-tuple or a local function whose every return is one."""
    tree = ast.parse((COLLECT / "validate.py").read_text(encoding="utf-8"))
    validate_fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "validate")
    local = {n.name: n for n in ast.walk(validate_fn) if isinstance(n, ast.FunctionDef)}
    adds = [c for c in _calls(validate_fn, "add") if isinstance(c.func, ast.Name) and len(c.args) >= 3]
    assert len(adds) >= 20
    bad = []
    for c in adds:
        make = c.args[2]
        if isinstance(make, ast.Lambda):
            ok = isinstance(make.body, ast.Tuple) and len(make.body.elts) == 3
        elif isinstance(make, ast.Name) and make.id in local:
            rets = [r for r in ast.walk(local[make.id]) if isinstance(r, ast.Return)]
            ok = bool(rets) and all(isinstance(r.value, ast.Tuple) and len(r.value.elts) == 3 for r in rets)
        else:
            ok = False
        if not ok:
            bad.append(f"validate.py:{c.lineno}")
    assert not bad, "a validation rule without its Chinese text: " + ", ".join(bad)


def test_the_source_check_catches_a_call_without_chinese():
    tree = ast.parse('problem("x.y", f"bad {v}", file=f)\nUnitError("no", rule="u")\n')
    assert [c.lineno for c in _calls(tree, "problem") if "zh" not in _keywords(c)] == [1]
    assert [c.lineno for c in _calls(tree, "UnitError") if c.args and _is_text(c.args[0]) and "zh" not in _keywords(c)] == [2]



def test_a_long_text_is_cut_in_the_language_of_the_message(tmp_path, fw, register):
    f = tmp_path / "t.csv"
    f.write_text(HEADER.strip() + ",source\n" + "B001,2024,fintech_staff,3,person," + "s" * 600 + "\n", encoding="utf-8")
    [p] = [p for p in import_files([f], fw, register).problems if p.rule == "text.too_long"]
    assert p.message.endswith("… (600 characters) is 600 characters long, the limit is 200: shorten it or remove the character")
    assert "…（共 600 个字符） 长 600 个字符，超过上限 200" in p.message_zh and "characters" not in p.message_zh
