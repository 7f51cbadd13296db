"""The data commands end to end: public banks and questionnaires in, derived indicators out; bad input stores nothing."""

import io

import openpyxl
import pandas as pd

from fintech_eval.store import (
    init_db,
    observations_frame,
    session_factory,
    submissions_frame,
    upsert_institutions,
)
from tests.clirun import run_cli


def db_counts(url):
    with session_factory(init_db(url))() as s:
        return len(observations_frame(s)), len(submissions_frame(s))


def test_public_banks_then_indicators(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "fe.sqlite")
    r = run_cli(["import", "--public-banks", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "CONFLICT" in r.out
    before = db_counts(db)
    again = run_cli(["import", "--public-banks", "--db", db], capsys, monkeypatch)
    assert again.code == 0 and "unchanged" in again.out and db_counts(db) == before
    r = run_cli(["indicators", "--db", db, "--block", "J", "--format", "csv"], capsys, monkeypatch)
    assert r.code == 0
    df = pd.read_csv(io.StringIO(r.out), dtype={"period": str})
    assert {"entity", "period", "code", "value", "status"} <= set(df.columns)
    citic = df[(df.entity == "CITIC") & (df.code == "J-A2B1-C1")].set_index("period")
    # CITIC 2023: 121.53 / 2,058.96 (亿元) = 5.90 %, the disclosed ratio (README of the public file)
    assert round(citic.loc["2023", "value"] * 100, 2) == 5.90 and citic.loc["2023", "status"] == "ok"
    assert set(df["status"]) <= {"ok", "missing", "not_applicable", "undefined", "flagged"}


def test_observations_lists_the_stored_raw_values(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "fe.sqlite")
    assert run_cli(["import", "--public-banks", "--db", db], capsys, monkeypatch).code == 0
    r = run_cli(["observations", "--db", db, "--entity", "CITIC", "--period", "2023", "--format", "csv"], capsys, monkeypatch)
    assert r.code == 0, r.err
    df = pd.read_csv(io.StringIO(r.out), dtype={"period": str})
    assert set(df["entity_id"]) == {"CITIC"} and set(df["period"]) == {"2023"}
    with session_factory(init_db(db))() as s:
        stored = observations_frame(s, period="2023", entity_ids=["CITIC"])
    assert len(df) == len(stored) > 0 and list(df.columns) == list(stored.columns)
    assert df.set_index("variable")["value"].to_dict() == stored.set_index("variable")["value"].to_dict()
    out = tmp_path / "obs.json"
    r = run_cli(["observations", "--db", db, "--variable", df["variable"].iloc[0], "--format", "json", "--out", out],
                capsys, monkeypatch)
    assert r.code == 0 and "observations to" in r.out
    assert {rec["variable"] for rec in pd.read_json(out).to_dict("records")} == {df["variable"].iloc[0]}


def test_template_round_trip_through_the_cli(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "fe.sqlite")
    with session_factory(init_db(db))() as s, s.begin():
        upsert_institutions(s, [{"id": "B001", "name_zh": "测试银行", "name_en": "Test Bank", "sector": "bank", "region_code": "110000"}])
    r = run_cli(["template", "--period", "2024", "--entity", "B001", "--db", db, "--out", tmp_path / "q"], capsys, monkeypatch)
    assert r.code == 0, r.err
    (path,) = list((tmp_path / "q").glob("*.xlsx"))
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    filled = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value in ("fintech_investment", "operating_revenue"):
                value_cell = next(x for x in row if x.protection.locked is False)
                value_cell.value = {"fintech_investment": 300.0, "operating_revenue": 10000.0}[c.value]
                filled[c.value] = value_cell.coordinate
    assert set(filled) == {"fintech_investment", "operating_revenue"}
    wb.save(path)
    r = run_cli(["import", path, "--db", db], capsys, monkeypatch)  # the other mandatory cells are blank
    assert r.code == 2 and r.err.count("[value.blank_mandatory]") == 1, r.err  # one problem for the workbook
    r = run_cli(["import", path, "--db", db, "--mandatory", "none"], capsys, monkeypatch)
    assert r.code == 0, r.err
    r = run_cli(["indicators", "--db", db, "--format", "json", "--block", "J"], capsys, monkeypatch)
    rows = pd.read_json(io.StringIO(r.out), dtype={"period": str})
    val = rows[(rows.entity == "B001") & (rows.code == "J-A2B1-C1")]
    assert val["value"].iloc[0] == 0.03 and val["status"].iloc[0] == "ok"  # 300 / 10,000


def test_bad_files_store_nothing_and_list_every_problem(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "fe.sqlite")
    run_cli(["import", "--public-banks", "--db", db], capsys, monkeypatch)
    before = db_counts(db)
    good = tmp_path / "good.csv"
    good.write_text("entity,period,variable,value,unit\nCITIC,2025,fintech_staff,5000,person\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "entity,period,variable,value,unit\n"
        "CITIC,2025,fintech_staff,-5,person\n"          # negative count
        "CITIC,2025,fintech_investment,abc,万元\n"       # text in a number
        "NOPE,2025,employees,10,person\n",             # unknown entity
        encoding="utf-8",
    )
    r = run_cli(["import", good, bad, "--db", db], capsys, monkeypatch)
    assert r.code == 2
    assert "range.negative" in r.err and "cell.not_number" in r.err and "entity.unknown" in r.err
    assert "bad.csv" in r.err
    assert db_counts(db) == before  # the good file was not stored either


def test_demo_command_runs_end_to_end(tmp_path, capsys, monkeypatch):
    """The README's main command (small sample, no reports to keep it quick)."""
    out = tmp_path / "demo"
    r = run_cli(["demo", "--out", out, "--institutions", "60", "--no-reports"], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "SYNTHETIC" in r.out and "rejected whole" in r.out
    assert (out / "runs" / "run-1" / "J-2024" / "scores.csv").exists() and (out / "indicators.csv").exists()
    status = pd.read_csv(out / "campaign_status.csv")
    n = len(status)
    missing = status.loc[status["status"] == "missing", "entity_id"].tolist()
    text = " ".join(r.out.split())  # the console wraps long lines
    assert f"reporting rate {(n - 1) / n:.1%}" in text and len(missing) == 1 and f"missing (to chase): {missing[0]}" in text
