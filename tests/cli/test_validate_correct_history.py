"""``validate`` says what ``import`` would say and stores nothing; ``correct`` changes one stored value with a
reason; ``history`` shows the value's audited changes, oldest first."""

import csv
import json
from pathlib import Path

from fintech_eval.store import (
    init_db,
    observations_frame,
    session_factory,
    upsert_institutions,
)
from tests.clirun import run_cli
from tests.dbstate import fingerprint

HEADER = "entity,period,variable,value,unit\n"


def write(path, rows):
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def seeded(tmp_path, capsys, monkeypatch):
    """A database with B001 (a bank) in the register and its 2024 return imported through the CLI."""
    db = str(tmp_path / "fe.sqlite")
    with session_factory(init_db(db))() as s, s.begin():
        upsert_institutions(s, [{"id": "B001", "name_zh": "测试银行", "name_en": "Test Bank", "sector": "bank", "region_code": "110000"}])
    ret = write(tmp_path / "b001_2024.csv", ["B001,2024,fintech_staff,120,person", "B001,2024,fintech_investment,300,万元"])
    r = run_cli(["import", ret, "--db", db, "--user", "loader"], capsys, monkeypatch)
    assert r.code == 0, r.err
    return db


def register_file(tmp_path):
    reg = tmp_path / "register.csv"
    reg.write_text("id,name_zh,sector,region_code\nB001,测试银行,bank,11\n", encoding="utf-8")
    return reg


def test_validate_a_good_file_with_its_register_exits_0_and_creates_no_database(tmp_path, capsys, monkeypatch):
    good = write(tmp_path / "good.csv", ["B001,2024,fintech_staff,120,person", "B001,2024,operating_revenue,10000,万元"])
    db = tmp_path / "absent" / "fe.sqlite"
    reg = register_file(tmp_path)
    r = run_cli(["validate", good, "--register", reg, "--db", db, "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert [p for p in json.loads(r.out) if p["severity"] == "error"] == []
    assert "2 value row(s) read: 0 error(s)" in r.err and "accepted" in r.err  # the summary stays off stdout
    assert not db.exists() and not db.parent.exists()
    r = run_cli(["validate", good, "--register", reg, "--db", db], capsys, monkeypatch)  # the default table format
    assert r.code == 0 and "0 error(s)" in r.out and not db.exists()


def test_validate_without_a_register_refuses_the_unknown_institution_once(tmp_path, capsys, monkeypatch):
    good = write(tmp_path / "good.csv", ["B001,2024,fintech_staff,120,person", "B001,2024,operating_revenue,10000,万元"])
    r = run_cli(["validate", good, "--db", tmp_path / "absent.sqlite", "--format", "json"], capsys, monkeypatch)
    assert r.code == 2
    [p] = json.loads(r.out)  # two rows, one cause: one problem
    assert p["rule"] == "entity.unknown" and p["entity"] == "B001" and p["row"] == 2 and p["rows"] == "2-3 (2 rows)"
    assert "register is empty" in p["message"] and "--register" in p["message"]


def test_validate_lists_every_problem_with_its_rule_and_stores_nothing(tmp_path, capsys, monkeypatch):
    db = seeded(tmp_path, capsys, monkeypatch)
    before = fingerprint(db)
    bad = write(tmp_path / "bad.csv", [
        "B001,2025,fintech_staff,-5,person",       # row 2: negative count
        "B001,2025,fintech_investment,abc,万元",    # row 3: text in a number
        "NOPE,2025,fintech_staff,10,person",       # row 4: not in the register (read from --db)
        "B001,2025,no_such_variable,1,person",     # row 5: not a variable of the framework
        "B001,20255,operating_revenue,1,万元",      # row 6: not a period
        "B001,2025,fintech_staff,7,person",        # row 7: second fintech_staff for B001 in 2025
    ])  # fmt: skip
    r = run_cli(["validate", bad, "--db", db, "--format", "json"], capsys, monkeypatch)
    assert r.code == 2, r.err
    problems = json.loads(r.out)
    assert set(problems[0]) == {"severity", "file", "sheet", "row", "rows", "column", "entity", "period", "variable", "indicator", "rule", "message"}
    by_rule = {}
    for p in problems:
        by_rule.setdefault(p["rule"], []).append(p)
    expected = {"range.negative": 2, "cell.not_number": 3, "entity.unknown": 4, "variable.unknown": 5, "period.invalid": 6}
    for rule, row in expected.items():
        assert rule in by_rule, (rule, problems)
        assert any(p["row"] == row and Path(p["file"]).name == "bad.csv" and p["message"] for p in by_rule[rule]), by_rule[rule]
    assert {p["row"] for p in by_rule["duplicate"]} >= {7}
    assert all(p["severity"] == "error" for rule in expected for p in by_rule[rule])
    assert "5 value row(s) read: " in r.err  # the text in a number is not read and "rejected" in r.err
    assert fingerprint(db) == before

    # the same list as CSV in a file, to send back to the institution
    out = tmp_path / "report" / "problems.csv"
    r = run_cli(["validate", bad, "--db", db, "--format", "csv", "--out", out], capsys, monkeypatch)
    assert r.code == 2
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {row["rule"] for row in rows} == {p["rule"] for p in problems} and len(rows) == len(problems)
    assert fingerprint(db) == before


def test_correct_then_history_round_trip(tmp_path, capsys, monkeypatch):
    db = seeded(tmp_path, capsys, monkeypatch)
    r = run_cli(["correct", "B001", "2024", "fintech_staff", "130", "--why", "typo, confirmed by phone", "--user", "alice", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "value: 120.0 → 130.0" in r.out
    # a later return restating the value is audited too, with its submission
    r = run_cli(["import", write(tmp_path / "restated.csv", ["B001,2024,fintech_staff,140,person"]), "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    # a value in another unit is converted to the canonical unit the import stored (万元 here): same amount
    r = run_cli(["correct", "B001", "2024", "fintech_investment", "3000000", "--unit", "元", "--why", "given in yuan", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "value: 300.0 → 3000000.0" in r.out and "unit: 万元 → 元" in r.out and "value_norm" not in r.out
    with session_factory(init_db(db))() as s:
        assert observations_frame(s, "2024", variables=["fintech_investment"])["value_norm"].tolist() == [300.0]
    r = run_cli(["correct", "B001", "2024", "fintech_investment", "NA", "--why", "not available", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "value: 3000000.0 → NA" in r.out and "unit_norm" not in r.out

    r = run_cli(["history", "B001", "2024", "fintech_staff", "--db", db, "--format", "json"], capsys, monkeypatch)
    assert r.code == 0, r.err
    trail = json.loads(r.out)
    assert [(t["field"], t["old"], t["new"]) for t in trail] == [("value", 120.0, 130.0), ("value", 130.0, 140.0)]
    assert trail[0]["who"] == "alice" and trail[0]["why"] == "typo, confirmed by phone" and trail[0]["submission"] is None
    assert isinstance(trail[1]["submission"], int) and trail[0]["at"] <= trail[1]["at"]
    with session_factory(init_db(db))() as s:
        obs = observations_frame(s, "2024", variables=["fintech_staff", "fintech_investment"]).set_index("variable")
    assert obs.loc["fintech_staff", "value"] == 140.0 and obs.loc["fintech_investment", "value"] != obs.loc["fintech_investment", "value"]

    r = run_cli(["history", "B001", "2024", "fintech_investment", "--db", db], capsys, monkeypatch)
    assert r.code == 0 and "not available" in r.out
    r = run_cli(["history", "B001", "2024", "fintech_staff", "--db", db, "--format", "csv"], capsys, monkeypatch)
    assert r.out.splitlines()[0] == "at,field,old,new,who,why,submission" and len(r.out.splitlines()) == 3


def test_bad_corrections_exit_2_with_the_message_and_change_nothing(tmp_path, capsys, monkeypatch):
    db = seeded(tmp_path, capsys, monkeypatch)
    before = fingerprint(db)
    r = run_cli(["correct", "B999", "2024", "fintech_staff", "1", "--why", "x", "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "no stored value for institution/B999/2024/fintech_staff" in r.err and "store.unknown_key" in r.err
    r = run_cli(["correct", "B001", "2024", "fintech_staff", "1", "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "--why" in r.err
    r = run_cli(["correct", "B001", "2024", "fintech_staff", "1", "--why", "  ", "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "a correction needs a reason" in r.err
    r = run_cli(["correct", "B001", "2024", "fintech_staff", "abc", "--why", "x", "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "'abc' is not a number" in r.err
    r = run_cli(["history", "B999", "2024", "fintech_staff", "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "no stored value" in r.err
    assert fingerprint(db) == before


def test_validate_lists_its_rules(capsys, monkeypatch):
    """Every rule a problem can name is listed with its severity and meaning, so a message can be looked up."""
    from fintech_eval.collect import RULES

    r = run_cli(["validate", "--rules", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0
    listed = {row["rule"]: (row["severity"], row["meaning"]) for row in json.loads(r.out)}
    assert listed == dict(RULES) and {"part_of.exceeds", "cell.formula_injection", "range.share"} <= set(listed)
    r = run_cli(["validate"], capsys, monkeypatch)
    assert r.code == 2 and "--rules" in r.err


def test_lang_zh_prints_the_problems_in_chinese_and_english_stays_the_default(tmp_path, capsys, monkeypatch):
    bad = write(tmp_path / "bad.csv", ["B001,2024,fintech_staff,-3,person"])
    reg = register_file(tmp_path)
    db = tmp_path / "fe.sqlite"
    en = run_cli(["validate", bad, "--register", reg, "--db", db, "--format", "json"], capsys, monkeypatch)
    zh = run_cli(["validate", bad, "--register", reg, "--db", db, "--format", "json", "--lang", "zh"], capsys, monkeypatch)
    assert en.code == zh.code == 2
    [p_en], [p_zh] = json.loads(en.out), json.loads(zh.out)
    assert p_en["message"] == "fintech_staff (count) cannot be negative, got '-3'"
    assert p_zh["message"] == "fintech_staff（计数）不能为负数，实际为 '-3'"
    assert {k: v for k, v in p_en.items() if k != "message"} == {k: v for k, v in p_zh.items() if k != "message"}
    # an import refused: every problem on stderr in the language asked, nothing stored
    r = run_cli(["import", bad, "--register", reg, "--db", db, "--lang", "zh"], capsys, monkeypatch)
    assert r.code == 2 and "错误：共 1 个问题" in r.err and "不能为负数" in r.err and "[range.negative]" in r.err
    r = run_cli(["import", bad, "--register", reg, "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "cannot be negative" in r.err and "不能为负数" not in r.err
