"""The intake's stored side, from the CLI, on SQLite and PostgreSQL: ``import --register`` in one all-or-nothing
step, an accepted unit check in the audit trail, ``correct`` re-evaluating a flag, and ``review accept``
recorded, audited and counted by ``campaign status``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from fintech_eval.app import Workspace
from fintech_eval.app.audit import audit_entries
from fintech_eval.store import make_engine
from tests.clirun import run_cli

HEADER = "entity,period,variable,value,unit\n"
REGISTER = "id,name_zh,sector,region_code\n" + "".join(f"B00{i},银行{i},bank,11\n" for i in range(1, 7))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'intake.sqlite'}"
    return request.getfixturevalue("pg_url")


def counts(url):
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                    for t in ("institution", "observation", "submission", "audit_entry", "flag_review")}
    finally:
        engine.dispose()


def csv(path, rows):
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def cli(url, capsys, monkeypatch):
    def run(*args):
        return run_cli([*args, "--db", url], capsys, monkeypatch)
    return run


def test_import_register_is_one_all_or_nothing_step(tmp_path, url, cli):
    reg = tmp_path / "register.csv"
    reg.write_text(REGISTER, encoding="utf-8")
    data = csv(tmp_path / "r.csv", ["B001,2024,fintech_staff,120,person"])
    bad_reg = tmp_path / "bad_register.csv"
    bad_reg.write_text(REGISTER + "B009,坏行,bnak,11\n", encoding="utf-8")
    r = cli("import", data, "--register", bad_reg)  # a bad register row: nothing stored
    assert r.code == 2 and "[register.sector]" in r.err and "did you mean 'bank'" in r.err
    assert "entity.unknown" not in r.err  # the register's own institutions are not reported unknown as well
    before = counts(url)
    assert before["institution"] == before["observation"] == 0
    bad_data = csv(tmp_path / "bad.csv", ["B001,2024,fintech_staff,120,person", "B001,2024,fintech_staff,-1,person"])
    r = cli("import", bad_data, "--register", reg)  # a bad data row: the register is not stored either
    assert r.code == 2 and counts(url) == before
    r = cli("import", data, "--register", reg)
    assert r.code == 0, r.err
    assert "6 institution(s) created or changed" in r.out
    after = counts(url)
    assert after["institution"] == 6 and after["observation"] == 1


def test_an_unregistered_institution_is_refused_on_an_empty_database(tmp_path, url, cli):
    r = cli("import", csv(tmp_path / "r.csv", [f"B00{i % 3},2024,fintech_staff,{i},person" for i in range(9)]))
    assert r.code == 2 and r.err.count("[entity.unknown]") == 3 and "register is empty" in r.err
    assert counts(url)["observation"] == 0


def test_an_accepted_unit_check_is_audited(tmp_path, url, cli):
    reg = tmp_path / "register.csv"
    reg.write_text(REGISTER, encoding="utf-8")
    f = csv(tmp_path / "r.csv", ["B001,2023,operating_revenue,120,万元", "B001,2024,operating_revenue,1300000,万元"])
    r = cli("import", f, "--register", reg)
    assert r.code == 2 and "[unit.factor]" in r.err and "--accept-unit B001/2024/operating_revenue:REASON" in r.err
    r = cli("import", f, "--register", reg, "--accept-unit", "B001/2024/operating_revenue:merged with a large bank",
            "--user", "auditor")
    assert r.code == 0, r.err
    hist = json.loads(cli("history", "B001", "2024", "operating_revenue", "--format", "json").out)
    [h] = hist
    assert (h["field"], h["new"], h["who"], h["why"]) == ("unit.factor", "accepted", "auditor", "merged with a large bank")
    assert "10,000× the 2023 value" in h["old"]


def test_a_reason_in_the_returns_column_is_audited_like_accept_unit(tmp_path, url, cli):
    reg = tmp_path / "register.csv"
    reg.write_text(REGISTER, encoding="utf-8")
    f = tmp_path / "r.csv"
    f.write_text("entity,period,variable,value,unit,接受理由\nB001,2023,operating_revenue,120,万元,\n"
                 "B001,2024,operating_revenue,1300000,万元,merged with a large bank\n", encoding="utf-8")
    r = cli("import", f, "--register", reg, "--user", "submitter")
    assert r.code == 0 and "accepted in the return's accept_reason column" in r.out, r.err
    [h] = json.loads(cli("history", "B001", "2024", "operating_revenue", "--format", "json").out)
    assert (h["field"], h["new"], h["who"], h["why"]) == ("unit.factor", "accepted", "submitter", "merged with a large bank")
    assert "10,000× the 2023 value" in h["old"] and h["submission"] is not None


def _flagged_import(tmp_path, cli):
    reg = tmp_path / "register.csv"
    reg.write_text(REGISTER, encoding="utf-8")
    staff = [100, 110, 120, 130, 140, 90_000]  # B006 is an outlier among the six banks
    f = csv(tmp_path / "r.csv", [f"B00{i + 1},2024,fintech_staff,{v},person" for i, v in enumerate(staff)])
    r = cli("import", f, "--register", reg)
    assert r.code == 0 and "[outlier]" in r.out and "robust z-score" in r.out, r.out + r.err


def _stored(url, entity):
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text(
                "SELECT o.status, o.flag_reason FROM observation o JOIN observed_entity e ON e.id = o.entity_ref "
                "WHERE e.entity_id = :e"), {"e": entity}).one()
    finally:
        engine.dispose()


def test_correct_re_evaluates_the_flag(tmp_path, url, cli):
    _flagged_import(tmp_path, cli)
    status, reason = _stored(url, "B006")
    assert status == "flagged" and "value 90000" in reason
    r = cli("correct", "B006", "2024", "fintech_staff", "150", "--why", "typo: 90000 for 150")
    assert r.code == 0, r.err
    assert _stored(url, "B006") == ("ok", None)  # no stale reason
    r = cli("correct", "B006", "2024", "fintech_staff", "70000", "--why", "restated")
    status, reason = _stored(url, "B006")
    assert status == "flagged" and "value 70000" in reason and "90000" not in reason  # a new reason
    fields = {h["field"] for h in json.loads(cli("history", "B006", "2024", "fintech_staff", "--format", "json").out)}
    assert {"value", "status", "flag_reason"} <= fields


def test_review_accept_is_recorded_audited_and_stops_blocking(tmp_path, url, cli):
    _flagged_import(tmp_path, cli)
    assert cli("campaign", "create", "--period", "2024").code == 0

    def status_of(entity):
        rows = json.loads(cli("campaign", "status", "--format", "json").out)["entities"]
        return next(r for r in rows if r["entity_id"] == entity)

    assert status_of("B006")["accepted"] is False and status_of("B006")["flagged"] == 1
    listed = json.loads(cli("review", "list", "--open", "--format", "json").out)
    assert [(r["entity_id"], r["variable"]) for r in listed] == [("B006", "fintech_staff")]
    r = cli("review", "accept", "--why", "checked")  # no selection: refused
    assert r.code == 2 and "--all" in r.err
    r = cli("review", "accept", "--entity", "B006", "--variable", "fintech_staff", "--why", "confirmed by phone",
            "--user", "evaluator")
    assert r.code == 0 and "accepted 1 flagged value" in r.out, r.err
    st = status_of("B006")
    assert st["accepted"] is True and st["flags_accepted"] == 1
    assert json.loads(cli("review", "list", "--open", "--format", "json").out) == []
    hist = json.loads(cli("history", "B006", "2024", "fintech_staff", "--format", "json").out)
    assert [(h["field"], h["new"], h["who"], h["why"]) for h in hist] == [("review", "accepted", "evaluator", "confirmed by phone")]
    again = cli("review", "accept", "--all", "--campaign", "1", "--why", "all checked")
    assert again.code == 0 and "accepted 0 flagged value(s) (1 already accepted)" in again.out
    ws = Workspace(url)  # the step is in the platform's audit log once (accepting nothing again writes nothing)
    try:
        entries = audit_entries(ws, action="review.flag_accept")[0]
    finally:
        ws.close()
    assert [(e["actor"], e["object"], e["detail"]) for e in entries] == [("evaluator", None, {
        "accepted": 1, "selected": 1, "why": "confirmed by phone", "entities": ["B006"], "variables": ["fintech_staff"],
        "period": None, "every": False})]
    # a correction that gives the value another flag needs a new check
    assert cli("correct", "B006", "2024", "fintech_staff", "70000", "--why", "restated").code == 0
    assert status_of("B006")["accepted"] is False
    assert counts(url)["flag_review"] == 1


def test_correct_applies_the_unit_factor_check(tmp_path, url, cli):
    reg = tmp_path / "register.csv"
    reg.write_text(REGISTER, encoding="utf-8")
    f = csv(tmp_path / "r.csv", ["B001,2023,operating_revenue,120000,万元", "B001,2024,operating_revenue,130000,万元"])
    assert cli("import", f, "--register", reg).code == 0
    r = cli("correct", "B001", "2024", "operating_revenue", "1300000000", "--why", "restated")
    assert r.code == 2 and "looks like 元 entered where 万元 is expected: 10,000× the 2023 value" in r.err
    assert cli("correct", "B001", "2024", "operating_revenue", "13", "--unit", "亿元", "--why", "restated").code == 0


def test_correct_re_judges_the_outliers_of_its_group(tmp_path, url, cli):
    """A correction changes the group's median and spread: a peer may become an outlier (or stop being one);
    its flag changes in the same transaction, audited with the correction's reason."""
    reg = tmp_path / "register.csv"
    reg.write_text("id,name_zh,sector,region_code\n" + "".join(f"B00{i},银行{i},bank,11\n" for i in range(1, 8)),
                   encoding="utf-8")
    staff = [100, 100, 100, 100, 100, 300, 90_000]  # the spread of B007's typo hides B006
    f = csv(tmp_path / "r.csv", [f"B00{i + 1},2024,fintech_staff,{v},person" for i, v in enumerate(staff)])
    r = cli("import", f, "--register", reg)
    assert r.code == 0 and "[outlier]" not in r.out, r.out + r.err
    assert _stored(url, "B006") == ("ok", None)
    r = cli("correct", "B007", "2024", "fintech_staff", "100", "--why", "typo: 90000 for 100")
    assert r.code == 0, r.err
    assert "2024/fintech_staff: ok → flagged" in r.out and "outlier group judged again" in r.out
    status, reason = _stored(url, "B006")
    assert status == "flagged" and "value 300" in reason  # now odd among six banks of 100
    hist = json.loads(cli("history", "B006", "2024", "fintech_staff", "--format", "json").out)
    assert {(h["field"], h["old"], h["new"]) for h in hist} >= {("status", "ok", "flagged")}
    assert all(h["why"] == "outlier group judged again after correcting B007: typo: 90000 for 100" for h in hist)
    # back again: B006 is no longer an outlier, its stale reason is dropped
    assert cli("correct", "B007", "2024", "fintech_staff", "90000", "--why", "the first figure was right").code == 0
    assert _stored(url, "B006") == ("ok", None)


def test_a_peers_flag_of_another_kind_survives_the_re_judging():
    from fintech_eval.collect.validate import outlier_free_reason

    assert outlier_free_reason("robust z-score +6.1 (|z| > 5) within v, bank, 2024: value 9 vs median 1 of 6 values") is None
    assert outlier_free_reason("CONFLICT with the disclosure; robust z-score +6.1 (|z| > 5) within v") == "CONFLICT with the disclosure"
    assert outlier_free_reason(None) is None


def test_records_institutions_are_registered_only_with_their_import(tmp_path, url):
    """``records derive --db --institutions``: register rows and observations in one transaction, on SQLite and
    PostgreSQL: a refused import leaves the register as it was."""
    import dataclasses

    import pandas as pd

    from fintech_eval.app import Workspace
    from fintech_eval.errors import DataError
    from fintech_eval.records import derive_records
    from fintech_eval.records.generate import generate_records
    from fintech_eval.records.submit import import_derived

    gen = generate_records(tmp_path / "recs", rows=5_000, seed=3)
    d = derive_records(gen.out, "2024")
    inst = pd.read_csv(gen.out / "institutions.csv", dtype=str, keep_default_na=False)
    bad = d.observations.copy()
    bad.loc[bad.index[0], "value"] = -1.0
    with Workspace(url) as ws, pytest.raises(DataError):
        import_derived(dataclasses.replace(d, observations=bad), ws, institutions=inst)
    assert counts(url)["institution"] == 0 and counts(url)["observation"] == 0
    with Workspace(url) as ws:
        rep = import_derived(d, ws, institutions=inst)
    assert rep.registered == len(inst) and counts(url)["institution"] == len(inst)


def test_db_upgrade_creates_or_upgrades_through_the_application_layer(url, cli):
    """`db upgrade` (app.workspace.upgrade_database): a new database is created, an older schema upgraded, and a
    database at the head is left as it is; the line says from which revision to which."""
    from fintech_eval.store import current_revision, downgrade_db, head_revision

    head = head_revision()
    r = cli("db", "upgrade")
    assert r.code == 0 and f"schema none → {head}" in r.out, r.err
    downgrade_db(url, "0007_registers").dispose()
    assert current_revision(url) == "0007_registers"
    assert cli("observations").code == 2  # a reading command refuses the older schema ...
    r = cli("db", "upgrade")
    assert r.code == 0 and f"schema 0007_registers → {head}" in r.out and current_revision(url) == head
    assert cli("db", "upgrade").out.count(f"{head} → {head}") == 1
