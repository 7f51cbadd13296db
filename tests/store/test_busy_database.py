"""Two imports into one SQLite file: while one holds the database, the other waits (``--wait``) and then
either succeeds or says in one line that the database is busy; nothing is lost or duplicated."""

from __future__ import annotations

import sqlite3
import threading
import time

from fintech_eval.store import init_db, observations_frame, session_factory, upsert_institutions
from tests.clirun import run_cli
from tests.dbstate import fingerprint

HEADER = "entity,period,variable,value,unit\n"


def _db(tmp_path):
    db = str(tmp_path / "fe.sqlite")
    with session_factory(init_db(db))() as s, s.begin():
        upsert_institutions(s, [{"id": "B001", "name_zh": "测试银行", "name_en": "Test Bank", "sector": "bank",
                                 "region_code": "110000"}])
    return db


def _hold(db: str, seconds: float, started: threading.Event) -> None:
    """Another writer: a write transaction kept open for ``seconds``."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    con.execute("ROLLBACK")
    con.close()


def test_a_busy_database_is_one_line_and_changes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FINTECH_EVAL_DB_WAIT", "30")  # restored afterwards: --wait sets it in this process
    db = _db(tmp_path)
    f = tmp_path / "a.csv"
    f.write_text(HEADER + "B001,2024,fintech_staff,10,person\n", encoding="utf-8")
    before = fingerprint(db)
    started = threading.Event()
    t = threading.Thread(target=_hold, args=(db, 4.0, started))
    t.start()
    try:
        started.wait(10)
        t0 = time.monotonic()
        r = run_cli(["import", f, "--db", db, "--wait", "0.5"], capsys, monkeypatch)
        waited = time.monotonic() - t0
    finally:
        t.join()
    assert r.code != 0 and "Traceback" not in r.err and "sqlalche.me" not in r.err
    assert "[db.busy]" in r.err and "--wait" in r.err and "0.5 s" in r.err
    assert len([ln for ln in r.err.splitlines() if ln.strip()]) == 2
    assert waited < 4.0  # it gave up after its wait, not after the other writer
    assert fingerprint(db) == before


def test_the_second_import_waits_and_both_land(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FINTECH_EVAL_DB_WAIT", "30")
    db = _db(tmp_path)
    f = tmp_path / "b.csv"
    f.write_text(HEADER + "B001,2024,outlets,7,outlet\n", encoding="utf-8")
    started = threading.Event()
    t = threading.Thread(target=_hold, args=(db, 1.0, started))
    t.start()
    try:
        started.wait(10)
        r = run_cli(["import", f, "--db", db, "--wait", "20"], capsys, monkeypatch)
    finally:
        t.join()
    assert r.code == 0, r.err
    g = tmp_path / "c.csv"
    g.write_text(HEADER + "B001,2024,fintech_staff,9,person\n", encoding="utf-8")
    assert run_cli(["import", g, "--db", db], capsys, monkeypatch).code == 0
    with session_factory(init_db(db))() as s:
        obs = observations_frame(s)
    assert sorted(obs["variable"]) == ["fintech_staff", "outlets"]  # nothing lost, nothing twice
