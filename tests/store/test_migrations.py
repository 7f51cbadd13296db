"""The Alembic migrations create exactly the models' schema, and downgrade to nothing."""

import math

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from fintech_eval.store import (
    Base,
    current_revision,
    downgrade_db,
    head_revision,
    init_db,
    make_engine,
    observations_frame,
    session_factory,
)

TABLES = {
    "period", "institution", "size_attribute", "vendor", "submission", "observed_entity", "observed_variable",
    "observation", "audit_entry",
    "derived_value", "campaign", "campaign_member", "evaluation_run", "key_tech_enterprise", "region", "flag_review",
    "data_return", "return_version", "return_event", "idempotency_key",
    "vendor_assessment", "vendor_answer", "vendor_evidence", "vendor_assessment_event",
    "user_account", "user_entity", "web_session", "api_token", "invitation", "audit_log", "campaign_staff", "job",
}  # fmt: skip


def test_upgrade_head_then_downgrade_base(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) == set()
        init_db(engine)
        assert current_revision(engine) == head_revision() == "0013_toast_lz4"
        assert set(inspect(engine).get_table_names()) - {"alembic_version"} == TABLES
        uniques = {u["name"] for u in inspect(engine).get_unique_constraints("observed_entity")}
        assert "uq_observed_entity_key" in uniques
        pk = inspect(engine).get_pk_constraint("observation")["constrained_columns"]
        assert pk == ["entity_ref", "period", "variable_ref"]
        if engine.dialect.name == "sqlite":  # one B-tree for rows and key
            with engine.connect() as conn:
                ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'observation'")).scalar()
            assert "WITHOUT ROWID" in ddl.upper()
        # the migrated schema is the models' schema (columns, types, nullability, constraints, indexes)
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
        init_db(engine)  # idempotent
        downgrade_db(engine, "base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        init_db(engine)  # and up again
        assert set(inspect(engine).get_table_names()) - {"alembic_version"} == TABLES
    finally:
        engine.dispose()


OLD_ROWS = [  # entity_kind, entity_id, period, variable, value, unit, value_norm, unit_norm, status
    ("institution", "I1", "2023", "staff", 10.0, "人", None, None, "ok"),
    ("institution", "I1", "2024", "staff", 12.0, "人", None, None, "flagged"),
    ("institution", "I1", "2024", "revenue", 3.0, "亿元", 30000.0, "万元", "ok"),
    ("region", "11", "2024", "gdp", None, None, None, None, "ok"),
]


def test_0002_keeps_observations_and_downgrades_back(db_url):
    """Data stored under 0001 (text keys) comes through 0002 (series ids) unchanged, and back."""
    engine = make_engine(db_url)
    try:
        init_db_at(engine, "0001_initial")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO period (code, kind) VALUES ('2023', 'annual'), ('2024', 'annual')"))
            for i, r in enumerate(OLD_ROWS, start=1):
                conn.execute(
                    text(
                        "INSERT INTO observation (id, entity_kind, entity_id, period, variable, value, unit, "
                        "value_norm, unit_norm, status) VALUES (:id, :k, :e, :p, :v, :x, :u, :xn, :un, :s)"
                    ),
                    dict(zip(("k", "e", "p", "v", "x", "u", "xn", "un", "s"), r, strict=True), id=i * 10),
                )
        init_db(engine)
        with session_factory(engine)() as s:
            out = observations_frame(s)
        assert len(out) == len(OLD_ROWS)
        got = {tuple(r[:4]): r for r in out.itertuples(index=False)}
        for k, e, p, v, x, u, xn, un, st in OLD_ROWS:
            row = got[(k, e, p, v)]
            assert (math.isnan(row.value) if x is None else row.value == x)
            assert row.value_norm == (xn if xn is not None else x) or (x is None and math.isnan(row.value_norm))
            assert row.status == st
            assert (pd.isna(row.unit) if u is None else row.unit == u)
            assert (pd.isna(row.unit_norm) if u is None else row.unit_norm == (un or u))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM observed_entity")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM observed_variable")).scalar() == 3
        downgrade_db(engine, "0001_initial")
        with engine.connect() as conn:
            back = conn.execute(
                text("SELECT id, entity_kind, entity_id, period, variable, status FROM observation ORDER BY id")
            ).all()
        assert sorted(tuple(r[1:]) for r in back) == sorted((r[0], r[1], r[2], r[3], r[8]) for r in OLD_ROWS)
        assert len({r[0] for r in back}) == len(OLD_ROWS)  # every row numbered again
        init_db(engine)  # and up again
        with session_factory(engine)() as s:
            assert len(observations_frame(s)) == len(OLD_ROWS)
    finally:
        engine.dispose()


def init_db_at(engine, revision):
    from alembic import command

    from fintech_eval.store.db import alembic_config

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def test_0007_keeps_size_attributes_and_downgrades_back(db_url):
    """Size attributes stored under 0003 (an institution's) come through 0007 (entity kind and id), and back."""
    engine = make_engine(db_url)
    try:
        init_db_at(engine, "0003_rounds")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO period (code, kind) VALUES ('2024', 'annual')"))
            conn.execute(text("INSERT INTO institution (id, name_zh, sector) VALUES ('B1', '甲银行', 'bank')"))
            conn.execute(text("INSERT INTO size_attribute (institution_id, period, attribute, value) "
                              "VALUES ('B1', '2024', 'operating_revenue', 1.5e9)"))
        init_db(engine)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT entity_kind, entity_id, value FROM size_attribute")).all() == [
                ("institution", "B1", 1.5e9)]
            conn.execute(text("INSERT INTO key_tech_enterprise (id, name_zh) VALUES ('E1', '某科技')"))
            conn.execute(text("INSERT INTO size_attribute (entity_kind, entity_id, period, attribute, value) "
                              "VALUES ('enterprise', 'E1', '2024', 'total_financing', 2e8)"))
        downgrade_db(engine, "0003_rounds")
        with engine.connect() as conn:  # the enterprise's row has nowhere to go; the institution's stays
            assert conn.execute(text("SELECT institution_id, value FROM size_attribute")).all() == [("B1", 1.5e9)]
    finally:
        engine.dispose()


def test_0008_institutions_become_active_and_downgrade_back(db_url):
    """Institutions stored under 0007 come through 0008 active with blank identity fields; a credit code is
    unique and a status outside the vocabulary is refused by the database; downgrading keeps the rows."""
    engine = make_engine(db_url)
    try:
        init_db_at(engine, "0007_registers")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO institution (id, name_zh, sector, region_code) VALUES ('B1', '甲银行', 'bank', '44')"))
        init_db(engine)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT id, region_code, city_code, credit_code, licence_no, status FROM institution")
                                ).all() == [("B1", "44", None, None, None, "active")]
            conn.execute(text("UPDATE institution SET credit_code = '91110000100000000R', city_code = '440300'"))
        for sql in ("INSERT INTO institution (id, name_zh, sector, credit_code) VALUES ('B2', '乙', 'bank', '91110000100000000R')",
                    "UPDATE institution SET status = 'gone'"):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(sql))
        downgrade_db(engine, "0007_registers")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, name_zh, region_code FROM institution")).all() == [("B1", "甲银行", "44")]
            assert "status" not in {c["name"] for c in inspect(engine).get_columns("institution")}
    finally:
        engine.dispose()


def test_0010_runs_published_before_show_the_anonymised_distribution(db_url):
    """A run stored under 0008 comes through 0010 with peer_visibility 'distribution' (the safe default); a value
    outside the vocabulary is refused by the database; downgrading keeps the run."""
    engine = make_engine(db_url)
    try:
        init_db_at(engine, "0008_institution_fields")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO evaluation_run (name, framework, period, specs, out_dir, software, status, "
                              "created_by, created_at) VALUES ('r', 'jrt0201-2020', '2024', '{}', '/x', '1', 'published', "
                              "'cli', CURRENT_TIMESTAMP)"))
        init_db(engine)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT name, status, peer_visibility FROM evaluation_run")).all() == [
                ("r", "published", "distribution")]
            conn.execute(text("UPDATE evaluation_run SET peer_visibility = 'ranking'"))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE evaluation_run SET peer_visibility = 'everything'"))
        downgrade_db(engine, "0008_institution_fields")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, status FROM evaluation_run")).all() == [("r", "published")]
        assert "peer_visibility" not in {c["name"] for c in inspect(engine).get_columns("evaluation_run")}
    finally:
        engine.dispose()


def test_0011_vendor_assessments_keys_and_downgrade(db_url):
    """0011: one assessment per vendor, framework, model and round; statuses and provider types from the
    vocabulary; an answer and an evidence file go with their assessment; downgrading removes the four tables and
    keeps the vendors."""
    engine = make_engine(db_url)
    try:
        init_db_at(engine, "0008_institution_fields")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO vendor (id, name_zh, provider_type) VALUES ('V1', '甲科技', 'product')"))
        init_db(engine)
        row = ("INSERT INTO vendor_assessment (vendor_id, framework, framework_version, model, round, provider_type, "
               "status, created_by, created_at, updated_by, updated_at) VALUES ('V1', 'f', '1', 'comprehensive', "
               "'{round}', 'product', '{status}', 'x', '2026-12-06', 'x', '2026-12-06')")
        with engine.begin() as conn:
            conn.execute(text(row.format(round="2026", status="draft")))
            conn.execute(text("INSERT INTO vendor_answer (assessment_id, indicator, step, updated_by, updated_at) "
                              "VALUES (1, 'C1.1.1', 2, 'x', '2026-12-06')"))
        for sql in (row.format(round="2026", status="draft"), row.format(round="2027", status="final")):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(sql))
        downgrade_db(engine, "0008_institution_fields")
        names = set(inspect(engine).get_table_names())
        assert not names & {"vendor_assessment", "vendor_answer", "vendor_evidence", "vendor_assessment_event"}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM vendor")).all() == [("V1",)]
    finally:
        engine.dispose()


def test_0012_jobs_states_and_downgrade(db_url):
    """0012: a job's state is one of the five and its progress within 0-1; downgrading removes the table and
    keeps the campaigns."""
    engine = make_engine(db_url)
    try:
        init_db(engine)
        row = ("INSERT INTO job (kind, params, state, requested_by, created_at, progress) "
               "VALUES ('score', '{{}}', '{state}', 'x', '2026-12-06', {progress})")
        with engine.begin() as conn:
            conn.execute(text(row.format(state="queued", progress=0)))
        for sql in (row.format(state="lost", progress=0), row.format(state="running", progress=1.5)):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(sql))
        downgrade_db(engine, "0011_vendor_assessments")
        assert "job" not in set(inspect(engine).get_table_names())
        assert "campaign" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0013_toast_lz4_compresses_a_returns_large_values_where_the_server_can(db_url):
    """0013: on a PostgreSQL server built with LZ4, a return version's payload, fields and problems, a history
    step's changes and an audit entry's detail are compressed with LZ4 (downgrading sets pglz back); SQLite is
    left alone."""
    engine = make_engine(db_url)
    cols = {("return_version", "payload"), ("return_version", "fields"), ("return_version", "problems"),
            ("return_event", "changes"), ("audit_log", "detail")}
    q = text("SELECT c.relname, a.attname, a.attcompression FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
             "WHERE c.relname IN ('return_version', 'return_event', 'audit_log') AND a.attnum > 0")

    def methods() -> dict[tuple[str, str], str]:
        with engine.connect() as conn:
            return {(t, c): m for t, c, m in conn.execute(q) if (t, c) in cols}

    try:
        init_db(engine)
        if engine.dialect.name != "postgresql":
            assert current_revision(engine) == "0013_toast_lz4"
            return
        with engine.connect() as conn:
            lz4 = conn.scalar(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"))
        assert lz4, "Debian's PostgreSQL 15 is built with LZ4"
        assert methods() == dict.fromkeys(cols, "l")
        downgrade_db(engine, "0012_jobs")
        assert methods() == dict.fromkeys(cols, "p")
    finally:
        engine.dispose()
