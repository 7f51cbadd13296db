"""`fintech-eval returns` round trip, on SQLite and PostgreSQL: a bank submits a return with an error (exit 2,
the problem named by file, row, field and rule, the draft kept), corrects it, the evaluator returns it with a
comment, the bank resubmits, the evaluator accepts every submitted return; list, show, payload and the
campaign status say so."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fintech_eval.demo.generator import generate
from tests.clirun import run_cli


@pytest.fixture(scope="module")
def synthetic():
    return generate(seed=13, n_institutions=6, years=range(2023, 2025))


def test_returns_round_trip(db_url, synthetic, tmp_path, capsys, monkeypatch):
    def cli(*args):
        return run_cli([*args, "--db", db_url], capsys, monkeypatch)

    reg = tmp_path / "register.csv"
    synthetic.institutions.rename(columns={"entity_id": "id"})[["id", "name_zh", "name_en", "sector", "subtype", "region_code", "listed"]].to_csv(reg, index=False)
    assert cli("register", "institutions", reg).code == 0
    ids = sorted(synthetic.institutions["entity_id"])
    bank = ids[0]
    sample = tmp_path / "sample.csv"
    pd.DataFrame({"entity_id": ids[:3]}).to_csv(sample, index=False)
    assert cli("campaign", "create", "--period", "2024", "--sample", sample, "--deadline", "2099-01-31").code == 0

    obs = synthetic.observations
    mine = obs[(obs["entity_id"] == bank) & (obs["period"].astype(str) == "2024")]
    values = {r.variable: ("N/A" if pd.isna(r.value) else r.value) for r in mine.itertuples()}  # declared, not blank
    bad = tmp_path / "return.json"
    bad.write_text(json.dumps({**values, "outlets": "lots"}, ensure_ascii=False), encoding="utf-8")
    run = cli("returns", "submit", "--entity", bank, bad, "--user", "bank-user")
    assert run.code == 2, run.out + run.err
    assert "file return.json" in run.err and "variable outlets" in run.err and "[cell.not_number]" in run.err
    assert "kept as a draft" in run.out
    zh = cli("returns", "submit", "--entity", bank, bad, "--user", "bank-user", "--draft", "--lang", "zh")
    assert zh.code == 0 and "共 1 个问题" in zh.err and "'lots' 不是数字" in zh.err and "[cell.not_number]" in zh.err
    listed = json.loads(cli("returns", "list", "--format", "json").out)
    assert [(r["entity_id"], r["state"], r["errors"]) for r in listed] == [(bank, "draft", 1)]
    rid = listed[0]["id"]
    shown_zh = cli("returns", "show", rid, "--lang", "zh")
    assert shown_zh.code == 0 and "不是数字" in shown_zh.out

    good = tmp_path / "return2.json"
    good.write_text(json.dumps({"values": values}, ensure_ascii=False), encoding="utf-8")
    run = cli("returns", "submit", "--entity", bank, good, "--user", "bank-user", "--idempotency-key", "r-1")
    assert run.code == 0, run.err
    assert "submitted for review" in run.out
    run = cli("returns", "submit", "--entity", bank, good, "--user", "bank-user", "--idempotency-key", "r-1")
    assert run.code == 0 and "a retry: the first result" in run.out

    run = cli("returns", "return", rid, "--comment", "outlets=Is 20 right? It was 12 last year", "--user", "eva")
    assert run.code == 0 and "submitted → returned" in run.out
    run = cli("returns", "return", rid, "--comment", "outlets=again", "--user", "eva")
    assert run.code == 2 and "review.transition" in run.err and f"return {rid}" in run.err
    shown = json.loads(cli("returns", "show", rid, "--format", "json").out)
    assert shown["comments"] == {"outlets": "Is 20 right? It was 12 last year"} and "submit" in shown["allowed"]

    fixed = tmp_path / "return3.json"
    fixed.write_text(json.dumps({"values": {**values, "outlets": 12}}, ensure_ascii=False), encoding="utf-8")
    assert cli("returns", "submit", "--entity", bank, fixed, "--user", "bank-user").code == 0
    run = cli("returns", "accept", "--all-submitted", "--user", "eva")
    assert run.code == 0 and "resubmitted → accepted" in run.out, run.err

    shown = json.loads(cli("returns", "show", rid, "--format", "json").out)
    # (the second draft: the same bad return saved again with --lang zh)
    assert [h["to_state"] for h in shown["history"]] == ["draft", "draft", "submitted", "returned", "resubmitted", "accepted"]
    assert shown["history"][4]["changes"]["outlets"]["new"] == "12"
    table = cli("returns", "show", rid)
    assert table.code == 0 and "history" in table.out
    st = json.loads(cli("campaign", "status", "--format", "json").out)
    by = {e["entity_id"]: e for e in st["entities"]}
    assert by[bank]["accepted"] and by[bank]["review_state"] == "accepted" and by[ids[1]]["status"] == "missing"
    out = tmp_path / "kept.json"
    assert cli("returns", "payload", rid, "--version", "1", "--out", out).code == 0
    assert out.read_bytes() == bad.read_bytes()
    observed = pd.read_csv(pd.io.common.StringIO(cli("observations", "--entity", bank, "--period", "2024", "--format", "csv").out))
    assert float(observed.set_index("variable").loc["outlets", "value"]) == 12
    csv = cli("returns", "list", "--state", "accepted", "--format", "csv")
    assert csv.code == 0 and bank in csv.out
    run = cli("returns", "list", "--state", "acepted")
    assert run.code == 2 and "did you mean 'accepted'" in run.err


def test_the_clis_review_steps_are_in_the_audit_log(db_url, synthetic, tmp_path, capsys, monkeypatch):
    """`returns return|accept|reopen|reject` write the same audit entries as the web's review steps (the
    application writes them): actor = --user, the note, the fields commented on; a refused step writes none."""
    from fintech_eval.app import Workspace
    from fintech_eval.app.audit import audit_entries

    def cli(*args):
        return run_cli([*args, "--db", db_url], capsys, monkeypatch)

    def audited() -> list[tuple]:
        ws = Workspace(db_url)
        try:
            rows = [e for e in audit_entries(ws, limit=500)[0] if e["action"].startswith("review.")]
        finally:
            ws.close()
        return [(e["action"], e["object"], e["actor"], e["actor_id"], e["ip"], e["detail"]) for e in reversed(rows)]

    reg = tmp_path / "register.csv"
    synthetic.institutions.rename(columns={"entity_id": "id"})[["id", "name_zh", "name_en", "sector", "subtype", "region_code", "listed"]].to_csv(reg, index=False)
    assert cli("register", "institutions", reg).code == 0
    bank = sorted(synthetic.institutions["entity_id"])[0]
    sample = tmp_path / "sample.csv"
    pd.DataFrame({"entity_id": [bank]}).to_csv(sample, index=False)
    assert cli("campaign", "create", "--period", "2024", "--sample", sample).code == 0
    obs = synthetic.observations
    mine = obs[(obs["entity_id"] == bank) & (obs["period"].astype(str) == "2024")]
    ret = tmp_path / "return.json"
    ret.write_text(json.dumps({r.variable: ("N/A" if pd.isna(r.value) else r.value) for r in mine.itertuples()},
                              ensure_ascii=False), encoding="utf-8")

    def submit():
        run = cli("returns", "submit", "--entity", bank, ret, "--user", "bank-user")
        assert run.code == 0, run.err

    submit()
    rid = json.loads(cli("returns", "list", "--format", "json").out)[0]["id"]
    assert cli("returns", "return", rid, "--comment", "outlets=12 last year?", "--user", "eva").code == 0
    run = cli("returns", "accept", rid, "--user", "eva")  # returned: no accept, and no audit entry
    assert run.code == 2 and "review.transition" in run.err
    submit()
    assert cli("returns", "accept", rid, "--dry-run", "--user", "eva").code == 0  # stores and audits nothing
    assert cli("returns", "accept", rid, "--note", "checked", "--user", "eva").code == 0
    assert cli("returns", "reopen", rid, "--note", "the auditors asked", "--user", "lead").code == 0
    submit()
    assert cli("returns", "reject", rid, "--note", "another bank's figures", "--user", "lead").code == 0
    obj = f"return:{rid}"
    assert audited() == [
        ("review.return", obj, "eva", None, None, {"from": "submitted", "to": "returned", "version": 1, "fields": ["outlets"]}),
        ("review.accept", obj, "eva", None, None, {"from": "resubmitted", "to": "accepted", "version": 2, "note": "checked"}),
        ("review.reopen", obj, "lead", None, None, {"from": "accepted", "to": "returned", "version": 2,
                                                    "note": "the auditors asked"}),
        ("review.reject", obj, "lead", None, None, {"from": "resubmitted", "to": "rejected", "version": 3,
                                                    "note": "another bank's figures"}),
    ]
