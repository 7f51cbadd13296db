"""``fintech-eval rate`` and ``rate-template`` as a user runs them (registered here on a local Typer app)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import openpyxl
import pytest
import typer

from fintech_eval.capability.workbook import COL, FIRST_ROW, SHEET
from fintech_eval.cli.output import report_error
from fintech_eval.cli.rate import rate_cmd, rate_template_cmd
from fintech_eval.errors import FintechEvalError

from . import mini, write

app = typer.Typer(pretty_exceptions_enable=False)
app.command("rate")(rate_cmd)
app.command("rate-template")(rate_template_cmd)


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(args, capsys, monkeypatch) -> Run:
    monkeypatch.setattr(sys, "argv", ["fintech-eval", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except FintechEvalError as exc:
        code = report_error(exc)
    cap = capsys.readouterr()
    return Run(code, cap.out, cap.err)


@pytest.fixture
def fw_path(tmp_path):
    return write(tmp_path, mini())


def test_template_fill_rate_report(fw_path, tmp_path, capsys, monkeypatch):
    wb_path = tmp_path / "ACME.xlsx"
    r = run(["rate-template", "-f", fw_path, "--vendor", "ACME", "-p", "comprehensive", "--out", wb_path,
             "--name", "艾克米"], capsys, monkeypatch)
    assert r.code == 0, r.err
    wb = openpyxl.load_workbook(wb_path)
    ws = wb[SHEET]
    at = {ws.cell(i, COL["indicator"]).value: i for i in range(FIRST_ROW, ws.max_row + 1)}
    for code, key, v in [("G1", "step", 2), ("G2", "value", 0), ("P1", "step", 3), ("P2", "step", 3),
                         ("S1", "step", 4), ("S2", "value", 85), ("S3", "step", 3)]:
        ws.cell(at[code], COL[key], v)
        ws.cell(at[code], COL["evidence_ref"], f"DOC-{code}")
    wb.save(wb_path)

    html = tmp_path / "out" / "ACME.html"
    r = run(["rate", "-f", fw_path, "--vendor", "ACME", "--scores", wb_path, "--out", html, "--lang", "en"],
            capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "level 3 Robust" in r.out and "71.88" in r.out and "capped at Level 3" in r.out
    page = html.read_text(encoding="utf-8")
    assert "Level 3 · Robust" in page and "Level 4 · Excellent" in page  # both models side by side

    r = run(["rate", "-f", fw_path, "-v", "ACME", "-s", wb_path, "--model", "both", "--format", "json"],
            capsys, monkeypatch)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert [(d["model"], d["level"]) for d in data] == [("comprehensive", 3), ("innovation", 4)]
    assert data[0]["blocking"] == ["G1@L4"] and data[0]["plan"]["items"][0]["indicator"] == "G1"

    r = run(["rate", "-f", fw_path, "-v", "OTHER", "-s", wb_path], capsys, monkeypatch)
    assert r.code == 2 and "is for vendor 'ACME'" in r.err


def test_csv_scores_need_a_provider_type(fw_path, tmp_path, capsys, monkeypatch):
    csv = tmp_path / "s.csv"
    csv.write_text("indicator,step,value,evidence_ref,reviewer,date,comment\n"
                   "G1,3,,D1,李四,2024-05-01,\nG2,,0,D2,李四,2024-05-01,\nS1,3,,D3,,,\nS2,,91,D4,,,\n",
                   encoding="utf-8")
    r = run(["rate", "-f", fw_path, "-v", "C", "-s", csv], capsys, monkeypatch)
    assert r.code == 2 and "--provider-type" in r.err
    out = tmp_path / "c.json"
    r = run(["rate", "-f", fw_path, "-v", "C", "-s", csv, "-p", "consulting", "--out", out], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "第4级 优秀级" in r.out  # the consulting example of test_rating.py, in Chinese by default
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data[0]["level"] == 4 and set(data[0]["excluded"]) == {"P1", "P2", "S3"}


def test_bad_csv_row_exit_code_2_names_the_line(fw_path, tmp_path, capsys, monkeypatch):
    csv = tmp_path / "bad.csv"
    csv.write_text("indicator,step,evidence_ref\nG1,9,D1\nG2,1,D2\n", encoding="utf-8")
    r = run(["rate", "-f", fw_path, "-v", "V", "-s", csv, "-p", "product"], capsys, monkeypatch)
    assert r.code == 2
    assert "row 2" in r.err and "indicator G1" in r.err and "scores.step" in r.err


def test_unknown_model_and_provider_type(fw_path, tmp_path, capsys, monkeypatch):
    csv = tmp_path / "s.csv"
    csv.write_text("indicator,step,evidence_ref\nG1,1,D\n", encoding="utf-8")
    r = run(["rate", "-f", fw_path, "-v", "V", "-s", csv, "-p", "product", "-m", "esg"], capsys, monkeypatch)
    assert r.code == 2 and "unknown model 'esg'" in r.err
    r = run(["rate-template", "-f", fw_path, "-v", "V", "-p", "bank", "-o", tmp_path / "x.xlsx"], capsys, monkeypatch)
    assert r.code == 2 and "unknown provider type 'bank'" in r.err


def test_default_framework_from_the_shell(tmp_path, capsys, monkeypatch):
    wb_path = tmp_path / "v.xlsx"
    assert run(["rate-template", "-v", "V1", "-p", "product", "-o", wb_path], capsys, monkeypatch).code == 0
    r = run(["rate", "-v", "V1", "-s", wb_path, "--lang", "en"], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "below level 1" in r.out and "C5.4.1" in r.out  # nothing entered: the level-1 requirement fails
