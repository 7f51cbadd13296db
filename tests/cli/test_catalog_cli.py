"""The catalog commands as a user runs them: the issue's acceptance checks."""

import json

import openpyxl
import yaml

from tests.catalog.minimal import base, indicator, write
from tests.clirun import run_cli

REVERSE = {"J-A2B2-C3", "J-A3B2-C6", "J-A3B2-C7", "H-A2B2-C3"}


def listing(capsys, monkeypatch, *args):
    r = run_cli(["catalog", "list", "--framework", "jrt0201-2020", "--format", "json", *args], capsys, monkeypatch)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_list_json_has_the_82_complete_indicators(capsys, monkeypatch):
    rows = listing(capsys, monkeypatch)
    assert len(rows) == 82
    by_block = {b: sum(r["block"] == b for r in rows) for b in "JHQ"}
    assert by_block == {"J": 51, "H": 19, "Q": 12}
    keys = {"code", "name_zh", "name_en", "block", "direction", "sectors", "collection", "unit", "type", "path"}
    assert all(keys <= set(r) for r in rows)
    assert {r["code"] for r in rows if r["direction"] == -1} == REVERSE
    assert all(r["direction"] in (1, -1) for r in rows)
    by_code = {r["code"]: r for r in rows}
    assert by_code["J-A3B2-C6"]["path"] == ["J", "J-A3", "J-A3B2"]
    assert set(by_code["J-A3B2-C1"]["sectors"]) == {"bank", "securities", "insurance"}
    assert set(by_code["J-A4B2-C1"]["sectors"]) == {"bank", "securities", "insurance", "payment"}
    for code in ("J-A3B3-C2", "J-A3B3-C3", "J-A3B3-C6", "J-A3B3-C7", "J-A4B1-C1", "J-A4B1-C2"):
        assert by_code[code]["sectors"] == ["bank"], code
    assert by_code["J-A1B1-C1"]["sectors"] == []
    assert all(set(r["collection"]) <= set("SGAR") and r["collection"] for r in rows)
    assert "Q-A2B1-C1" not in by_code


def test_all_adds_the_incomplete_indicator_flagged(capsys, monkeypatch):
    rows = listing(capsys, monkeypatch, "--all")
    assert len(rows) == 83
    (q,) = [r for r in rows if r["code"] == "Q-A2B1-C1"]
    assert q["complete"] is False and q["path"] == ["Q", "Q-A2", "Q-A2B1"]


def test_block_filter_and_csv(capsys, monkeypatch):
    rows = listing(capsys, monkeypatch, "--block", "H")
    assert len(rows) == 19 and {r["block"] for r in rows} == {"H"}
    r = run_cli(["catalog", "list", "--block", "Q", "--format", "csv"], capsys, monkeypatch)
    lines = r.out.strip().splitlines()
    assert r.code == 0 and lines[0].startswith("code,") and len(lines) == 13


def test_table_output_in_both_languages(capsys, monkeypatch):
    zh = run_cli(["catalog", "list", "--block", "J", "--lang", "zh"], capsys, monkeypatch)
    en = run_cli(["catalog", "list", "--block", "J", "--lang", "en"], capsys, monkeypatch)
    assert zh.code == en.code == 0
    assert "金融科技战略规划情况" in zh.out and "J-A6B2-C5" in zh.out
    assert "金融科技战略规划情况" not in en.out


def test_show_j_a3b2_c6_gives_three_sector_definitions(capsys, monkeypatch):
    r = run_cli(["catalog", "show", "J-A3B2-C6", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0
    (data,) = json.loads(r.out)
    assert data["direction"] == -1
    sectors = sorted(s for v in data["variants"] for s in v["sectors"])
    assert sectors == ["bank", "insurance", "securities"]
    assert data["variables"] and data["parameters"]
    text = run_cli(["catalog", "show", "J-A3B2-C6"], capsys, monkeypatch).out
    assert text.count("variant for") == 3 and "reverse" in text


def test_plan_lists_27_tasks_in_6_areas(capsys, monkeypatch):
    r = run_cli(["catalog", "list", "--framework", "plan-2019-2021", "--format", "json"], capsys, monkeypatch)
    assert r.code == 0
    rows = json.loads(r.out)
    assert len(rows) == 27 and len({t["area"] for t in rows}) == 6
    assert all({"code", "name_zh", "name_en", "area", "indicators", "path"} <= set(t) for t in rows)


def test_validate_reports_every_problem_with_exit_code_2(tmp_path, capsys, monkeypatch):
    doc = base()
    indicator(doc, "J-A1B1-C1")["formula"] = "it_staff / nobody"
    indicator(doc, "H-A1B1-C1")["rollup"]["of"] = "J-A1B1-C9"
    path = write(tmp_path, doc)
    r = run_cli(["catalog", "validate", path], capsys, monkeypatch)
    assert r.code == 2
    assert "2 problem(s)" in r.err and "nobody" in r.err and "J-A1B1-C9" in r.err
    assert path in r.err and "line" in r.err and "J > J-A1 > J-A1B1 > J-A1B1-C1" in r.err
    # schema errors are all reported too (before cross-references can be checked)
    doc = base()
    indicator(doc, "J-A1B1-C1")["direction"] = 0
    indicator(doc, "J-A1B1-C2")["collection"] = ["Z"]
    r = run_cli(["catalog", "validate", write(tmp_path, doc, "schema.yaml")], capsys, monkeypatch)
    assert r.code == 2 and "2 problem(s)" in r.err and "direction" in r.err and "collection" in r.err
    ok = run_cli(["catalog", "validate", write(tmp_path, base(), "ok.yaml")], capsys, monkeypatch)
    assert ok.code == 0 and "ok" in ok.out


def test_validate_the_shipped_files(capsys, monkeypatch):
    from fintech_eval.catalog import shipped_files

    for ref, path in shipped_files().items():
        r = run_cli(["catalog", "validate", path], capsys, monkeypatch)
        assert r.code == 0, (ref, r.err)


def test_diff_between_versions(tmp_path, capsys, monkeypatch):
    old = write(tmp_path, base(), "old.yaml")
    doc = base()
    doc["version"] = "2"
    indicator(doc, "J-A1B1-C1")["direction"] = -1
    new = write(tmp_path, doc, "new.yaml")
    r = run_cli(["catalog", "diff", old, new, "--format", "json"], capsys, monkeypatch)
    assert r.code == 0
    assert json.loads(r.out) == [{"change": "changed", "code": "J-A1B1-C1", "field": "direction", "old": 1, "new": -1}]


def test_export_xlsx_is_a_readable_workbook(tmp_path, capsys, monkeypatch):
    out = tmp_path / "cat.xlsx"
    r = run_cli(["catalog", "export", "--format", "xlsx", "--out", out], capsys, monkeypatch)
    assert r.code == 0
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"About", "Headings", "Indicators", "Sector variants", "Variables", "Parameters", "Parameter sums"} <= set(
        wb.sheetnames
    )
    sums = list(wb["Parameter sums"].iter_rows(values_only=True))
    assert sums[0][:3] == ("name", "parameters", "sum")
    assert {r[1]: r[2] for r in sums[1:]} == {
        "w_users_personal + w_users_corporate": 1, "w_loans_personal + w_loans_small_micro": 1,
    }
    rows = list(wb["Indicators"].iter_rows(values_only=True))
    assert rows[0][0] == "code" and len(rows) == 1 + 83  # the incomplete Q-A2B1-C1 is listed, flagged
    assert [r[0] for r in rows if r[17] == "no"] == ["Q-A2B1-C1"]
    assert {r[0] for r in rows[1:] if r[9] == -1} == REVERSE


def test_extension_on_the_command_line(tmp_path, capsys, monkeypatch):
    ext = tmp_path / "q.yaml"
    ext.write_text(
        yaml.safe_dump(
            {
                "extends": "jrt0201-2020", "id": "myorg-q", "namespace": "myorg",
                "variables": [{"name": "q_e_cny_amount", "unit": "CNY 100m", "type": "money", "entity": "region",
                               "help": {"zh": "区域数字人民币金额", "en": "e-CNY amount in region"}}],
                "add": [{"parent": "Q-A2B1", "indicators": [{
                    "code": "myorg:Q-A2B1-C2", "name": {"zh": "数字人民币金额", "en": "e-CNY amount"},
                    "definition": {"zh": "自定义", "en": "user-defined"}, "unit": "CNY 100m", "type": "money",
                    "collection": ["R"], "formula": "q_e_cny_amount"}]}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    rows = listing(capsys, monkeypatch, "--block", "Q", "--extension", ext)
    assert "myorg:Q-A2B1-C2" in {r["code"] for r in rows} and len(rows) == 13


def test_capability_models_are_listed_and_shown(capsys, monkeypatch):
    import json

    from tests.clirun import run_cli

    frameworks = json.loads(run_cli(["catalog", "frameworks", "--format", "json"], capsys, monkeypatch).out)
    assert {"ref": "fcsc-2023-default", "kind": "capability"}.items() <= next(f for f in frameworks if f["ref"] == "fcsc-2023-default").items()
    rows = json.loads(run_cli(["catalog", "list", "--framework", "fcsc-2023-default", "--format", "json"], capsys, monkeypatch).out)
    assert len(rows) == 105 and len({r["capability"] for r in rows}) == 6
    shown = json.loads(run_cli(["catalog", "show", rows[0]["code"], "--framework", "fcsc-2023-default", "--format", "json"],
                               capsys, monkeypatch).out)
    assert shown["code"] == rows[0]["code"] and shown["evidence"]


def test_version(capsys, monkeypatch):
    from fintech_eval import __version__
    from tests.clirun import run_cli

    run = run_cli(["--version"], capsys, monkeypatch)
    assert run.code == 0 and run.out.strip() == f"fintech-eval {__version__}"
