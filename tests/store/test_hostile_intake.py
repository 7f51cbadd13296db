"""The hostile-input corpus (tests/hostile/corpus.py) through the real ``validate`` and ``import`` commands, on
SQLite and on PostgreSQL, against a database that already holds good data.

Every rejected case: exit code 2, no traceback, a problem naming the file, its place and the case's rule,
nothing printed raw that could drive a terminal (ESC, BEL, NUL, backspace), a bounded output, and the
database's fingerprint unchanged. Every accepted case: stored exactly as its plain form would be.
The commands run in-process (tests/clirun.py), so the corpus costs seconds, not a process per case.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import fintech_eval as fe
from fintech_eval.store import init_db, observations_frame, session_factory, upsert_institutions
from tests.clirun import run_cli
from tests.collect.malformed.generators import institutions
from tests.dbstate import fingerprint, import_into
from tests.hostile.corpus import ACCEPTED, REJECTED, SEED_CSV

from .conftest import _admin_engine

RAW_CONTROL = ("\x1b", "\x07", "\x00", "\x08", "\x9b")
MAX_OUTPUT = 64_000  # characters a rejected case may print (long texts are shortened, with their length)


def _seed(db: str, tmp: Path) -> str:
    inst = institutions().rename(columns={"entity_id": "id"})
    with session_factory(init_db(db))() as s, s.begin():
        upsert_institutions(s, inst)
    seed = tmp / "seed.csv"
    seed.write_text(SEED_CSV, encoding="utf-8")
    import_into(db, [seed], fe.load_framework("jrt0201-2020"), user="seed")
    return db


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One seeded database per backend for the whole module (each case leaves it unchanged)."""
    tmp = tmp_path_factory.mktemp("hostile-db")
    if request.param == "sqlite":
        yield _seed(f"sqlite+pysqlite:///{tmp / 'store.sqlite'}", tmp)
        return
    server = request.getfixturevalue("pg_server")
    name = f"fe_hostile_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(server)
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    try:
        url = make_url(server).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
        yield _seed(url, tmp)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def framework():
    return fe.load_framework("jrt0201-2020")


def test_the_corpus_covers_the_categories():
    assert len(REJECTED) >= 150
    prefixes = {n.split("_")[0] for n in REJECTED}
    assert {"num", "enc", "delim", "quote", "inject", "dup", "unknown", "empty", "long", "control", "markup", "json",
            "banks", "xlsx"} <= prefixes


def _clean_output(out: str) -> None:
    assert "Traceback" not in out, out[-3000:]
    for ch in RAW_CONTROL:
        assert ch not in out, f"raw control character {ch!r} printed"
    assert len(out) < MAX_OUTPUT, f"{len(out)} characters printed"


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_hostile_input_is_rejected_with_a_located_problem(name, seeded, framework, tmp_path, capsys, monkeypatch):
    case = REJECTED[name]
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    paths = case.make(tmp_path, framework)
    before = fingerprint(seeded)
    if "validate" in case.commands:
        r = run_cli(["validate", *paths, "--db", seeded, "--format", "json", *case.args], capsys, monkeypatch)
        _clean_output(r.out + r.err)
        assert r.code == 2, f"{name}: exit {r.code}\n{r.out[-2000:]}{r.err[-2000:]}"
        problems = [p for p in json.loads(r.out) if p["severity"] == "error"]
        hits = [p for p in problems if case.rule in (None, p["rule"])]
        assert hits, f"{name}: expected {case.rule}, got {[(p['rule'], p['message'][:80]) for p in problems]}"
        names = {Path(p.name).name for p in paths}
        p = hits[0]
        assert p["file"] and Path(str(p["file"])).name in names, p
        for key in case.where:
            assert p.get(key) not in (None, ""), f"{name}: the problem lacks {key}: {p}"
    if "import" in case.commands:
        r = run_cli(["import", *paths, "--db", seeded, *case.args], capsys, monkeypatch)
        _clean_output(r.out + r.err)
        assert r.code == 2, f"{name}: exit {r.code}\n{r.out[-2000:]}{r.err[-2000:]}"
        if case.rule:
            assert f"[{case.rule}]" in r.err
        assert fingerprint(seeded) == before


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_odd_but_valid_input_is_read_as_its_plain_form(name, seeded, framework, tmp_path, capsys, monkeypatch):
    case = ACCEPTED[name]
    paths = case.make(tmp_path, framework)
    r = run_cli(["import", *paths, "--db", seeded, "--user", f"t-{name}"], capsys, monkeypatch)
    _clean_output(r.out + r.err)
    assert r.code == 0, r.err
    with session_factory(init_db(seeded))() as s:
        obs = observations_frame(s)
    stored = obs.set_index(["entity_id", "period", "variable"])["value_norm"]
    for key, value in case.expect.items():
        assert stored.loc[key] == value, (name, key, stored.loc[key])
    assert set(obs["period"]) <= {"2023", "2024"}  # no period "20２4" beside "2024"
