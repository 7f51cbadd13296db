"""Where the database is, and how sessions commit."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

from fintech_eval.store import (
    DEFAULT_FILE,
    ENV_VAR,
    database_url,
    init_db,
    make_engine,
    session_scope,
    upsert_vendors,
    vendors_frame,
)


def test_default_url_is_the_embedded_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert database_url() == f"sqlite+pysqlite:///{tmp_path / DEFAULT_FILE}"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "sub" / "x.sqlite"))
    assert database_url() == f"sqlite+pysqlite:///{tmp_path / 'sub' / 'x.sqlite'}"
    monkeypatch.setenv(ENV_VAR, "postgresql://u:p@db.example:5432/fe")
    assert database_url() == "postgresql+psycopg://u:p@db.example:5432/fe"
    assert database_url("sqlite:///:memory:") == "sqlite:///:memory:"


def test_init_db_creates_the_file_and_its_folder(tmp_path):
    path = tmp_path / "deep" / "er" / "fe.sqlite"
    engine = init_db(str(path))
    try:
        assert Path(path).exists() and "observation" in inspect(engine).get_table_names()
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_in_memory_sqlite_works_through_one_engine():
    engine = init_db(make_engine("sqlite://"))
    with session_scope(engine) as s:
        upsert_vendors(s, [{"id": "V1", "name_zh": "甲", "provider_type": "consulting"}])
    with session_scope(engine) as s:
        assert vendors_frame(s)["id"].tolist() == ["V1"]


def test_session_scope_rolls_back_on_error(db_url):
    engine = init_db(make_engine(db_url))
    try:
        with pytest.raises(ZeroDivisionError):
            with session_scope(engine) as s:
                upsert_vendors(s, [{"id": "V1", "name_zh": "甲", "provider_type": "consulting"}])
                1 / 0  # noqa: B018
        with session_scope(engine) as s:
            assert vendors_frame(s).empty
    finally:
        engine.dispose()


@pytest.mark.pg
def test_a_server_connection_idle_in_the_pool_is_pinged_and_replaced_when_dead(pg_url, monkeypatch):
    """PostgreSQL connections are pinged at checkout only after idling (db.PING_IDLE): a connection whose server
    process went away while it sat in the pool is replaced before use; a connection used moments ago is not
    pinged (a busy server takes several per batch of submissions)."""
    from sqlalchemy import text

    from fintech_eval.store import db

    engine = db.make_engine(pg_url)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    try:
        with engine.connect() as c:
            pid = c.execute(text("select pg_backend_pid()")).scalar()
        assert len(pings) == 1  # a new connection: pinged once
        with engine.connect() as c:  # taken again at once: no ping
            assert c.execute(text("select pg_backend_pid()")).scalar() == pid
        assert len(pings) == 1
        admin = db.make_engine(pg_url)
        with admin.connect() as a:
            assert a.execute(text("select pg_terminate_backend(:p)"), {"p": pid}).scalar()
        admin.dispose()
        monkeypatch.setattr(db, "PING_IDLE", 0.0)  # as if it had idled: the ping finds it dead, the pool opens another
        with engine.connect() as c:
            assert c.execute(text("select pg_backend_pid()")).scalar() != pid
        assert len(pings) >= 2
    finally:
        engine.dispose()
