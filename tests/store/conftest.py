"""Fixtures of the storage tests: every test that takes ``db_url`` (or ``engine``/``session``) runs
on SQLite (a file in ``tmp_path``) and on PostgreSQL.

PostgreSQL: ``$FINTECH_EVAL_TEST_PG`` may name a server (a SQLAlchemy URL whose user may CREATE
DATABASE); otherwise a throwaway cluster is started for the test session: ``initdb`` (found with
``pg_config --bindir``, in ``/usr/lib/postgresql/*/bin`` or on PATH) in a temporary directory, as
the OS user ``postgres`` when we are root (initdb refuses root), listening only on 127.0.0.1 on a
free port with its socket in the temporary directory; stopped and removed at the end. Each test
gets a fresh database in it.

When PostgreSQL cannot be had, the PostgreSQL half of the tests is skipped with the reason, except
under CI (``CI=true``), where that is a failure: CI always tests PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fintech_eval.store import init_db, make_engine, session_factory

PG_ENV = "FINTECH_EVAL_TEST_PG"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"PostgreSQL is required under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason} (set {PG_ENV}=postgresql+psycopg://… to use a server)")


def _pg_bindir() -> Path | None:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for d in candidates:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="fe-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser:
                self.as_postgres = [runuser, "-u", "postgres", "--"]
            else:  # pragma: no cover - su fallback
                self.as_postgres = ["su", "postgres", "-s", "/bin/sh", "-c"]
            shutil.chown(self.root, user="postgres", group=None)
            os.chmod(self.root, 0o700)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if self.as_postgres and self.as_postgres[0] == "su":  # pragma: no cover
            import shlex

            cmd = [*self.as_postgres, " ".join(shlex.quote(c) for c in cmd)]
        else:
            cmd = [*self.as_postgres, *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)

    def start(self) -> str:
        r = self._run(
            self.bindir / "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        if r.returncode != 0:  # older initdb without C.UTF-8
            shutil.rmtree(self.data, ignore_errors=True)
            r = self._run(
                self.bindir / "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
        last = ""
        for _ in range(3):  # a port taken between choosing and binding: try another
            self.port = _free_port()
            opts = (
                f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=50"
            )
            r = self._run(
                self.bindir / "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60",
                "start",
            )  # fmt: skip
            if r.returncode == 0:
                return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
            last = (self.log.read_text(errors="replace")[-2000:] if self.log.exists() else "") or r.stderr
        raise RuntimeError(f"pg_ctl start failed: {last.strip()}")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(
                    self.bindir / "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database (``postgres``) we may create databases in."""
    given = os.environ.get(PG_ENV)
    if given:
        try:
            with _admin_engine(given).connect() as c:
                c.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure to connect means: not available
            _unavailable(f"cannot connect to {PG_ENV}={make_url(given)!r}: {exc}")
        yield given
        return
    bindir = _pg_bindir()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (pg_config --bindir, /usr/lib/postgresql/*/bin, PATH)")
    cluster = _Cluster(bindir)
    try:
        url = cluster.start()
    except (OSError, RuntimeError, subprocess.SubprocessError, KeyError, LookupError) as exc:
        cluster.stop()
        _unavailable(f"could not start a throwaway cluster with {bindir}: {exc}")
    try:
        yield url
    finally:
        cluster.stop()


def _admin_engine(server_url: str) -> Engine:
    return create_engine(
        make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"fe_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(pg_server)
    try:
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        yield (
            make_url(pg_server)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: a SQLite file in tmp_path, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated (``upgrade head``) database."""
    eng = init_db(make_engine(db_url))
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def Sessions(engine: Engine):  # noqa: N802 - a factory, named like one
    return session_factory(engine)


@pytest.fixture
def session(Sessions) -> Iterator[Session]:  # noqa: N803
    with Sessions() as s:
        yield s
