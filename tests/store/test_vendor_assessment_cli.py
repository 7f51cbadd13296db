"""`fintech-eval vendor assessment` on SQLite and PostgreSQL: open an assessment of a registered vendor, load
the answers from the `rate-template` workbook (a bad step refused with its row and indicator, nothing stored),
add an evidence file, show the rating (the same as `fintech-eval rate` on the same workbook), publish; a
published assessment no longer changes."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from tests.clirun import run_cli


def test_vendor_assessment_cli(db_url, tmp_path, capsys, monkeypatch):
    def cli(*args):
        return run_cli([*args, "--db", db_url], capsys, monkeypatch)

    reg = tmp_path / "vendors.csv"
    reg.write_text("id,name_zh,name_en,provider_type\nV001,甲科技,Tech A,product\n", encoding="utf-8")
    assert cli("register", "vendors", reg).code == 0
    opened = cli("vendor", "assessment", "open", "V001", "--round", "2026", "--user", "ev@example.org")
    assert opened.code == 0 and "assessment 1" in opened.out
    assert cli("vendor", "assessment", "open", "V001", "--round", "2026").code == 2  # one per vendor, model, round
    handed = cli("vendor", "assessment", "open", "V001", "--round", "2026", "-m", "innovation", "--self-assessment")
    assert handed.code == 0 and "self-assessment" in handed.out
    second = int(handed.out.split(":")[0].split()[-1])  # PostgreSQL's sequence moved on at the refused insert
    listed = {r["id"]: r["stage"] for r in json.loads(cli("vendor", "assessment", "list", "--format", "json").out)}
    assert listed == {1: "evaluator", second: "self_assessment"}

    book = tmp_path / "V001.xlsx"
    assert run_cli(["rate-template", "--vendor", "V001", "-p", "product", "--out", book], capsys, monkeypatch).code == 0
    wb = load_workbook(book)
    ws = wb["Scores"]
    rows = {ws.cell(r, 2).value: r for r in range(10, ws.max_row + 1)}
    ws.cell(rows["C1.2.1"], 13, 2)
    ws.cell(rows["C1.2.1"], 15, "archive 2026-17")
    ws.cell(rows["C1.1.1"], 13, 7)  # not a step of C1.1.1
    wb.save(book)
    bad = cli("vendor", "assessment", "answers", "1", "--scores", book)
    assert bad.code == 2 and "C1.1.1" in bad.err and "scores.step" in bad.err
    ws.cell(rows["C1.1.1"], 13, 3)
    ws.cell(rows["C5.4.1"], 14, 0)
    wb.save(book)
    ok = cli("vendor", "assessment", "answers", "1", "--scores", book, "--user", "ev@example.org")
    assert ok.code == 0 and "3 answer(s) changed" in ok.out, ok.err

    pdf = tmp_path / "合规记录.pdf"
    pdf.write_bytes(b"%PDF-1.4 record")
    ev = cli("vendor", "assessment", "evidence", "1", "C5.4.1", pdf)
    assert ev.code == 0 and "stored" in ev.out
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"not a pdf")
    refused = cli("vendor", "assessment", "evidence", "1", "C5.4.1", fake)
    assert refused.code == 2 and "evidence.content" in refused.err

    shown = json.loads(cli("vendor", "assessment", "show", "1", "--format", "json").out)
    ws.cell(rows["C5.4.1"], 15, "合规记录.pdf")  # the same entries through `rate`
    wb.save(book)
    direct = json.loads(run_cli(["rate", "--vendor", "V001", "--scores", book, "--format", "json"], capsys,
                                monkeypatch).out)[0]
    assert (shown["level"], shown["total"], shown["next_level"]) == (direct["level"], direct["total"], direct["next_level"])
    assert shown["plan"]["items"] == direct["plan"]["items"]
    text = cli("vendor", "assessment", "show", "1", "--lang", "en").out
    assert "Why not Level" in text

    pub = cli("vendor", "assessment", "publish", "1", "--user", "ev@example.org")
    assert pub.code == 0 and "published" in pub.out
    again = cli("vendor", "assessment", "answers", "1", "--scores", book)
    assert again.code == 2 and "assessment.published" in again.err
    listed = json.loads(cli("vendor", "assessment", "list", "--format", "json").out)
    assert [(r["id"], r["status"], r["answered"], r["evidence"]) for r in listed] == [(1, "published", 3, 1),
                                                                                       (second, "draft", 0, 0)]
