"""Engines, sessions and schema migrations.

* :func:`database_url`: the URL to use: the one given, else env ``FINTECH_EVAL_DB`` (a SQLAlchemy URL
  or a plain file path, taken as a SQLite file), else the embedded SQLite file ``./fintech-eval.sqlite``.
  ``postgresql://…`` is read as ``postgresql+psycopg://…`` (psycopg 3 is the driver we ship).
* :func:`make_engine`: SQLite connections get ``foreign_keys=ON``, WAL journal (file databases),
  ``synchronous=NORMAL``, a busy timeout (:func:`busy_wait`, 30 s unless configured) and a 64 MiB page cache; transactions are started with an
  explicit ``BEGIN`` (SQLAlchemy's documented pysqlite recipe, so that SAVEPOINTs and reads inside a
  transaction behave), ``BEGIN IMMEDIATE`` for the repositories' write transactions.
* :func:`init_db`: Alembic ``upgrade head`` run programmatically with the migrations shipped in
  the package (``fintech_eval/store/migrations``); :func:`downgrade_db` the reverse.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

ENV_VAR = "FINTECH_EVAL_DB"
WAIT_ENV = "FINTECH_EVAL_DB_WAIT"
DEFAULT_WAIT = 30.0


def busy_wait() -> float:
    """Seconds a SQLite writer waits for another writer to finish (``$FINTECH_EVAL_DB_WAIT``, default 30;
    the CLI's ``--wait`` sets it) before giving up with "database is locked"."""
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT
DEFAULT_FILE = "fintech-eval.sqlite"
MIGRATIONS = Path(__file__).with_name("migrations")

#: Execution option read by the SQLite ``begin`` hook: "DEFERRED" (default) or "IMMEDIATE".
SQLITE_BEGIN = "fintech_eval_sqlite_begin"


def database_url(url: str | URL | None = None) -> str:
    """The database URL: ``url``, else ``$FINTECH_EVAL_DB``, else ``sqlite:///./fintech-eval.sqlite``."""
    raw = url if url is not None else (os.environ.get(ENV_VAR) or DEFAULT_FILE)
    if isinstance(raw, URL):
        u = raw
    elif "://" in str(raw):
        u = make_url(str(raw))
    else:  # a file path
        return URL.create("sqlite+pysqlite", database=str(Path(raw).expanduser().resolve())).render_as_string(
            hide_password=False
        )
    if u.drivername in ("postgresql", "postgres"):
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return raw if isinstance(raw, str) else u.render_as_string(hide_password=False)


def _sqlite_file(u: URL) -> str | None:
    db = u.database
    if not db or db == ":memory:" or db.startswith("file:") or u.query.get("mode") == "memory":
        return None
    return db


#: orjson's options for every JSON the store and the API write: numpy numbers as numbers, keys that are not
#: strings as strings (a NaN or infinity is always written as null: PostgreSQL has neither in JSON)
JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_bytes(value: Any) -> bytes:
    """``value`` as JSON by orjson (several times faster than the standard library), with :data:`JSON_OPTIONS`;
    where orjson refuses (an integer beyond 64 bits, a type it does not know), the standard library on its
    JSON-safe copy (:func:`.keys._jsonable`; anything else as its text)."""
    try:
        return orjson.dumps(value, option=JSON_OPTIONS)
    except orjson.JSONEncodeError:
        from .keys import _jsonable

        return json.dumps(_jsonable(value), ensure_ascii=False, default=str).encode()


def json_text(value: Any) -> str:
    """JSON text for a JSON(B) column (the engine's ``json_serializer`` on both backends): :func:`json_bytes`;
    an :class:`orjson.Fragment` (JSON written already, e.g. a return version's fields) is taken as it is."""
    return json_bytes(value).decode()


def json_prepared(value: Any) -> tuple[orjson.Fragment, Any]:
    """``value`` written as JSON once, for a column (the fragment) and read back as the column gives it (what
    the caller keeps using: numpy numbers as Python's, NaN as None, tuples as lists)."""
    data = json_bytes(value)
    return orjson.Fragment(data), json_value(data)


def json_value(text: str | bytes) -> Any:
    """A JSONB column's value, by orjson; the standard library where orjson refuses (an integer beyond 64 bits,
    which older rows may hold)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


#: A server connection idle longer than this is pinged when taken from the pool (seconds).
PING_IDLE = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling (``pool_pre_ping``), for connections idle longer than
    :data:`PING_IDLE` only: a server restarted, or a connection cut, while a connection sat in the pool is
    noticed before use (the pool opens another), without a round trip for every checkout of a busy server
    (a batch of submissions takes four). SQLAlchemy's documented custom-ping recipe, with the dialect's ping."""

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("fe_checked_in")
        if last is None or time.monotonic() - last > PING_IDLE:
            try:
                alive = engine.dialect.do_ping(dbapi_conn)
            except Exception as exc:  # noqa: BLE001 - any failure: not usable
                raise DisconnectionError(f"connection failed its ping: {exc}") from exc
            if not alive:
                raise DisconnectionError("connection failed its ping")

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["fe_checked_in"] = time.monotonic()


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (see :func:`database_url`), with the SQLite settings described above."""
    u = make_url(database_url(url))
    kwargs.setdefault("json_serializer", json_text)  # a return version's fields are written often
    kwargs.setdefault("json_deserializer", json_value)  # … and read back (what a new version changed)
    if u.get_backend_name() != "sqlite":
        ping = kwargs.pop("pool_pre_ping", True)
        # a server's request threads each hold a connection for a moment: a pool as large as their usual number
        # keeps connections open (SQLAlchemy's default of 5 closed and reopened one per request beyond it)
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
        engine = create_engine(u, **kwargs)
        if ping:
            _ping_when_idle(engine)
        return engine
    path = _sqlite_file(u)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    wait = busy_wait()
    kwargs.setdefault("connect_args", {}).setdefault("timeout", wait)
    engine = create_engine(u, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver must not BEGIN on its own: the hook below does
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        if path is not None:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        cur.execute("PRAGMA cache_size = -65536")
        cur.execute("PRAGMA temp_store = MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def as_engine(bind: str | URL | Engine | None) -> Engine:
    return bind if isinstance(bind, Engine) else make_engine(bind)


def session_factory(bind: str | URL | Engine | None = None) -> sessionmaker[Session]:
    """A ``sessionmaker`` bound to ``bind`` (objects stay readable after commit)."""
    return sessionmaker(bind=as_engine(bind), expire_on_commit=False)


@contextmanager
def session_scope(bind: str | URL | Engine | None = None) -> Iterator[Session]:
    """``with session_scope(url) as s: ...``: commit on success, roll back on any exception."""
    engine = as_engine(bind)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if not isinstance(bind, Engine):
            engine.dispose()


def begin_write(session: Session) -> None:
    """Begin the session's transaction now, as a write transaction: ``BEGIN IMMEDIATE`` on SQLite, so
    that two writers queue on the busy timeout instead of one failing with "database is locked" on a
    read-to-write lock upgrade. No-op once the transaction has touched the database (a SQLite
    transaction that has only read is upgraded on its first write, which can fail under contention:
    start write transactions with a write function of the store, or call this first)."""
    bind = session.get_bind()
    tx = session.get_transaction()
    if tx is not None and bind in getattr(tx, "_connections", {}):
        return  # the connection, hence the database transaction, exists already
    if bind.dialect.name == "sqlite":
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
    else:
        session.connection()


def alembic_config(connection: Any = None) -> Any:
    """An Alembic ``Config`` for the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _run_alembic(bind: str | URL | Engine | None, fn: Any, revision: str) -> Engine:
    engine = as_engine(bind)
    with engine.begin() as conn:
        fn(alembic_config(conn), revision)
    return engine


def init_db(bind: str | URL | Engine | None = None) -> Engine:
    """Create or upgrade the schema to the newest migration (``alembic upgrade head``); returns the
    engine (pass an engine for an in-memory SQLite database, whose schema lives in its connection)."""
    from alembic import command

    return _run_alembic(bind, command.upgrade, "head")


def downgrade_db(bind: str | URL | Engine | None, revision: str = "base") -> Engine:
    """``alembic downgrade REVISION`` (``base`` drops every table of the schema)."""
    from alembic import command

    return _run_alembic(bind, command.downgrade, revision)


def current_revision(bind: str | URL | Engine | None) -> str | None:
    """The schema revision of the database (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    engine = as_engine(bind)
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration shipped with the package."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
