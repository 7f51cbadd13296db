"""The other doors into the data (issue 16): ``correct`` through the import's parser and rules; reading
commands never create a database; bad ``--db`` and ``--out`` are one line; ``demo --out`` never deletes
other files; problem CSVs cannot carry a formula; the YAML bound; the vendor workbook's numbers."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from fintech_eval.store import init_db, session_factory, upsert_institutions
from tests.clirun import run_cli
from tests.dbstate import fingerprint

HEADER = "entity,period,variable,value,unit\n"
ROWS = ["B001,2024,employees,40000,person", "B001,2024,fintech_staff,3000,person", "B001,2024,outlets,12,outlet",
        "B001,2024,dc_maturity_level,3,level", "B001,2024,fintech_strategy_plan,1,yes/no"]


@pytest.fixture
def db(tmp_path, capsys, monkeypatch):
    path = str(tmp_path / "fe.sqlite")
    with session_factory(init_db(path))() as s, s.begin():
        upsert_institutions(s, [{"id": "B001", "name_zh": "测试银行", "name_en": "Test Bank", "sector": "bank",
                                 "region_code": "110000"}])
    f = tmp_path / "r.csv"
    f.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    r = run_cli(["import", f, "--db", path], capsys, monkeypatch)
    assert r.code == 0, r.err
    return path


@pytest.mark.parametrize(("variable", "value", "rule"), [
    ("employees", "3.5", "type.not_whole"),
    ("dc_maturity_level", "9", "range.level"),
    ("fintech_strategy_plan", "2", "type.binary"),
    ("fintech_staff", "50000", "part_of.exceeds"),  # above the stored employees
    ("employees", "100", "part_of.exceeds"),  # below the stored fintech_staff
    ("outlets", "-1", "range.negative"),
    ("outlets", "1e999", "value.not_finite"),
    ("outlets", "=1+1", "cell.formula_injection"),
    ("employees", "12%", "unit.incompatible"),
])
def test_correct_applies_the_import_rules(db, variable, value, rule, capsys, monkeypatch):
    before = fingerprint(db)
    r = run_cli(["correct", "--why", "test", "--db", db, "--", "B001", "2024", variable, value], capsys, monkeypatch)
    assert r.code == 2, r.out + r.err
    assert f"[{rule}]" in r.err and "Traceback" not in r.err
    assert fingerprint(db) == before


@pytest.mark.parametrize(("variable", "value", "stored"), [
    ("employees", "41,000", 41000.0), ("fintech_staff", "３１００", 3100.0), ("outlets", "１４", 14.0),
    ("dc_maturity_level", "4", 4.0), ("fintech_strategy_plan", "否 no", 0.0),
])
def test_correct_reads_numbers_as_the_import_does(db, variable, value, stored, capsys, monkeypatch):
    r = run_cli(["correct", "B001", "2024", variable, value, "--why", "confirmed", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    r = run_cli(["observations", "--db", db, "--variable", variable, "--format", "json"], capsys, monkeypatch)
    assert r.code == 0 and f'"value_norm": {stored}' in r.out.replace(" ", " ")


def test_periods_in_other_digits_name_the_same_period(db, capsys, monkeypatch):
    r = run_cli(["correct", "B001", "20２4", "outlets", "13", "--why", "full-width digits", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    r = run_cli(["history", "B001", "٢٠٢٤", "outlets", "--db", db, "--format", "json"], capsys, monkeypatch)
    assert r.code == 0 and '"new": 13.0' in r.out


def test_validate_leaves_another_applications_file_alone(tmp_path, capsys, monkeypatch):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    before = other.read_bytes()
    f = tmp_path / "r.csv"
    f.write_text(HEADER + ROWS[0] + "\n", encoding="utf-8")
    r = run_cli(["validate", f, "--db", other], capsys, monkeypatch)
    assert r.code == 2 and "[db.not_ours]" in r.err
    assert other.read_bytes() == before


def test_correct_checks_the_reason_and_user(db, capsys, monkeypatch):
    before = fingerprint(db)
    r = run_cli(["correct", "B001", "2024", "outlets", "13", "--why", "ok\x1b]0;x\x07", "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "[text.control_character]" in r.err and "\x1b" not in r.err
    r = run_cli(["correct", "B001", "2024", "outlets", "13", "--why", "ok", "--user", "u" * 300, "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "[text.too_long]" in r.err
    assert fingerprint(db) == before


def test_a_long_reason_is_shortened_when_printed(db, capsys, monkeypatch):
    r = run_cli(["correct", "B001", "2024", "outlets", "13", "--why", "x" * 100_000, "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "100,000 characters" in r.out and len(r.out) < 2_000


@pytest.mark.parametrize("command", [
    ["observations"], ["history", "B001", "2024", "employees"], ["indicators"],
    ["correct", "B001", "2024", "employees", "1", "--why", "x"], ["template", "--period", "2024"],
])
def test_reading_commands_never_create_a_database(command, tmp_path, capsys, monkeypatch):
    missing = tmp_path / "typo.sqlite"
    r = run_cli([*command, "--db", missing], capsys, monkeypatch)
    assert r.code == 2 and "[db.missing]" in r.err and "Traceback" not in r.err
    assert not missing.exists()


def test_another_applications_sqlite_file_is_left_alone(tmp_path, capsys, monkeypatch):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    before = other.read_bytes()
    r = run_cli(["observations", "--db", other], capsys, monkeypatch)
    assert r.code == 2 and "[db.not_ours]" in r.err
    with sqlite3.connect(other) as c:
        assert [t for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["notes"]
    assert other.read_bytes() == before


@pytest.mark.parametrize("kind", ["text_file", "directory", "newer_schema", "unreachable_server"])
def test_a_bad_db_is_one_line(kind, tmp_path, db, capsys, monkeypatch):
    if kind == "text_file":
        target = tmp_path / "notes.txt"
        target.write_text("hello, not a database\n" * 100)
    elif kind == "directory":
        target = tmp_path / "adir"
        target.mkdir()
    elif kind == "newer_schema":
        with sqlite3.connect(db) as c:
            c.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
        target = db
    else:
        target = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    for command in (["observations"], ["history", "B001", "2024", "employees"]):
        r = run_cli([*command, "--db", target], capsys, monkeypatch)
        assert r.code == 2, r.out + r.err
        assert "Traceback" not in r.err and "sqlalche.me" not in r.err
        lines = [ln for ln in r.err.splitlines() if ln.strip()]
        assert len(lines) == 2 and "[db." in lines[1], r.err  # "error: 1 problem(s)" and the problem
    if kind == "newer_schema":
        assert "newer fintech-eval" in r.err


@pytest.mark.parametrize("kind", ["missing_parent", "existing_directory", "full_disk"])
def test_a_bad_out_is_one_line(kind, tmp_path, db, capsys, monkeypatch):
    out = {"missing_parent": tmp_path / "no" / "such" / "x.csv", "existing_directory": tmp_path,
           "full_disk": "/dev/full"}[kind]
    r = run_cli(["observations", "--db", db, "--out", out], capsys, monkeypatch)
    assert r.code != 0 and "Traceback" not in r.err
    assert "[io.error]" in r.err and str(out) in r.err


def test_demo_refuses_a_folder_with_other_files(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_text("years of work")
    r = run_cli(["demo", "--out", folder, "--institutions", "40", "--no-reports"], capsys, monkeypatch)
    assert r.code == 2 and "[demo.out]" in r.err and "--force" in r.err
    assert (folder / "thesis.docx").read_text() == "years of work"
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = run_cli(["demo", "--out", afile, "--no-reports"], capsys, monkeypatch)
    assert r.code == 2 and afile.read_text() == "x"


def test_problem_csv_neutralises_formulas(tmp_path, capsys, monkeypatch):
    f = tmp_path / "evil.csv"
    f.write_text(HEADER + "B001,2024,employees,\"=cmd|' /C calc'!A0\",person\n+B001,2024,outlets,1,outlet\n",
                 encoding="utf-8")
    out = tmp_path / "problems.csv"
    r = run_cli(["validate", f, "--format", "csv", "--out", out], capsys, monkeypatch)
    assert r.code == 2
    cells = [c for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8"))) for c in row]
    assert any("cmd|" in c for c in cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    r = run_cli(["validate", f, "--format", "csv"], capsys, monkeypatch)
    assert not [c for row in csv.reader(io.StringIO(r.out)) for c in row if c[:1] in ("=", "+", "@")]


def test_yaml_alias_bomb_is_refused_quickly(tmp_path, capsys, monkeypatch):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run_cli(["catalog", "validate", bomb], capsys, monkeypatch)
    assert r.code == 2 and "[yaml.too_large]" in r.err


def test_vendor_workbook_reads_percentages_like_questionnaires():
    from fintech_eval.capability.loader import load_capability_framework
    from fintech_eval.capability.rating import read_entries

    fw = load_capability_framework()
    pct = next(i for i in fw.indicators() if i.scoring.type == "quantitative" and i.scoring.unit
               and i.scoring.unit.en == "%")
    other = next(i for i in fw.indicators() if i.scoring.type == "quantitative" and i.scoring.unit
                 and i.scoring.unit.en != "%")
    import pandas as pd

    entries = read_entries(fw, pd.DataFrame([{"indicator": pct.code, "value": "99.95%", "evidence_ref": "E1"},
                                             {"indicator": other.code, "value": "１,000", "evidence_ref": "E2"}]))
    assert entries[pct.code].value == 99.95
    from fintech_eval.errors import DataError

    with pytest.raises(DataError) as ei:
        read_entries(fw, pd.DataFrame([{"indicator": other.code, "value": "65%", "evidence_ref": "E1"}]))
    assert "percentage" in str(ei.value)


def test_workbook_limits_apply_to_vendor_workbooks_too(tmp_path, capsys, monkeypatch):
    r = run_cli(["rate-template", "--vendor", "V001", "--provider-type", "product", "--out", tmp_path / "V001.xlsx"],
                capsys, monkeypatch)
    assert r.code == 0, r.err
    monkeypatch.setenv("FINTECH_EVAL_MAX_WORKBOOK_CELLS", "50")
    r = run_cli(["rate", "--vendor", "V001", "--scores", tmp_path / "V001.xlsx", "--out", tmp_path / "r.json"],
                capsys, monkeypatch)
    assert r.code == 2 and "[file.too_large]" in r.err and "FINTECH_EVAL_MAX_WORKBOOK_CELLS" in r.err


def test_import_checks_the_user_before_anything(tmp_path, capsys, monkeypatch):
    r = run_cli(["import", "--public-banks", "--user", "x" * 201, "--db", tmp_path / "new.sqlite"], capsys, monkeypatch)
    assert r.code == 2 and "[text.too_long]" in r.err and not (tmp_path / "new.sqlite").exists()


def test_catalog_show_prints_extension_texts_as_text(tmp_path, capsys, monkeypatch):
    import yaml

    doc = {"extends": "jrt0201-2020", "id": "test-markup", "namespace": "t",
           "variables": [{"name": "online_sales_share", "unit": "fraction", "type": "share", "max": 1,
                          "help": {"zh": "占比 [/b]", "en": "share [/] of sales \x1b[2J"}}],
           "add": [{"parent": "J-A3B1", "indicators": [{
               "code": "t:J-A3B1-C9", "name": {"zh": "线上 [/]", "en": "Online [bold red]sales[/bold red]"},
               "definition": {"zh": "定义 [/b]", "en": "definition [link=x]y[/link]"}, "unit": "%", "type": "ratio",
               "collection": ["S"], "formula": "online_sales_share"}]}]}
    ext = tmp_path / "ext.yaml"
    ext.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = run_cli(["catalog", "show", "t:J-A3B1-C9", "--extension", ext], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "Online [bold red]sales[/bold red]" in r.out and "线上 [/]" in r.out and "\x1b" not in r.out
    assert "[fraction]" in r.out  # the variable's unit in brackets, as text
