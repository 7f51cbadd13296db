"""The Alembic migrations create exactly the models' schema, and downgrade to nothing."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fintech_eval.store import (
    Base,
    current_revision,
    downgrade_db,
    head_revision,
    init_db,
    make_engine,
)

TABLES = {
    "period", "institution", "size_attribute", "vendor", "submission", "observation", "audit_entry",
    "derived_value",
}  # fmt: skip


def test_upgrade_head_then_downgrade_base(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) == set()
        init_db(engine)
        assert current_revision(engine) == head_revision() == "0001_initial"
        assert set(inspect(engine).get_table_names()) - {"alembic_version"} == TABLES
        uniques = {u["name"] for u in inspect(engine).get_unique_constraints("observation")}
        assert "uq_observation_key" in uniques
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
