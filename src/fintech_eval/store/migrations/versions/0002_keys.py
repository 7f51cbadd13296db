"""Dictionary-encoded observation keys: the (entity_kind, entity_id) pairs numbered in
``observed_entity``, the variable names in ``observed_variable``; ``observation``'s primary key is
(entity_ref, period, variable_ref) (``WITHOUT ROWID`` on SQLite; the surrogate ``id`` goes: nothing
referred to it); CHECKs of the bulk tables in ``a = 'x' OR a = 'y'`` form (SQLite evaluates an ``IN``
list in a CHECK much more slowly). Existing observations keep their values and history (audit keys
name the four text columns, which do not change).

Revision ID: 0002_keys
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_keys"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# Frozen copies of the model's types and value lists: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ENTITY_KINDS = ("institution", "region", "industry")
OBS_STATUSES = ("ok", "flagged")
DERIVED_STATUSES = ("ok", "missing", "not_applicable")
KEY_COLUMNS = (("entity_kind", 16), ("entity_id", 64), ("variable", 100))
REFS = {  # column of observation → (table, its columns, the observation's columns they match)
    "entity_ref": ("observed_entity", ("entity_kind", "entity_id"), ("entity_kind", "entity_id")),
    "variable_ref": ("observed_variable", ("name",), ("variable",)),
}


def _or(column: str, values: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _match(cols: tuple[str, ...], obs_cols: tuple[str, ...]) -> str:
    return " AND ".join(f"r.{c} = observation.{o}" for c, o in zip(cols, obs_cols, strict=True))


def _derived_checks(form) -> None:
    with op.batch_alter_table("derived_value") as b:
        b.drop_constraint(op.f("ck_derived_value_entity_kind"), type_="check")
        b.drop_constraint(op.f("ck_derived_value_status"), type_="check")
        b.create_check_constraint(op.f("ck_derived_value_entity_kind"), form("entity_kind", ENTITY_KINDS))
        b.create_check_constraint(op.f("ck_derived_value_status"), form("status", DERIVED_STATUSES))


def upgrade() -> None:
    op.create_table(
        "observed_entity",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.CheckConstraint(_or("entity_kind", ENTITY_KINDS), name=op.f("ck_observed_entity_entity_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_entity")),
        sa.UniqueConstraint("entity_kind", "entity_id", name="uq_observed_entity_key"),
    )
    op.create_table(
        "observed_variable",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_variable")),
        sa.UniqueConstraint("name", name="uq_observed_variable_name"),
    )
    op.execute(
        "INSERT INTO observed_entity (entity_kind, entity_id) "
        "SELECT DISTINCT entity_kind, entity_id FROM observation ORDER BY entity_kind, entity_id"
    )
    op.execute("INSERT INTO observed_variable (name) SELECT DISTINCT variable FROM observation ORDER BY variable")
    with op.batch_alter_table("observation") as b:
        for ref in REFS:
            b.add_column(sa.Column(ref, BigId, nullable=True))
    for ref, (table, cols, obs_cols) in REFS.items():
        op.execute(
            f"UPDATE observation SET {ref} = (SELECT r.id FROM {table} r WHERE {_match(cols, obs_cols)})"
        )
    with op.batch_alter_table("observation", recreate="auto", table_kwargs={"sqlite_with_rowid": False}) as b:
        b.drop_constraint(op.f("uq_observation_key"), type_="unique")
        b.drop_constraint(op.f("ck_observation_entity_kind"), type_="check")
        b.drop_constraint(op.f("ck_observation_status"), type_="check")
        b.drop_constraint(op.f("pk_observation"), type_="primary")
        for c in ("id", *(c for c, _ in KEY_COLUMNS)):
            b.drop_column(c)
        for ref in REFS:
            b.alter_column(ref, existing_type=BigId, nullable=False)
        b.create_primary_key(op.f("pk_observation"), ["entity_ref", "period", "variable_ref"])
        b.create_check_constraint(op.f("ck_observation_status"), _or("status", OBS_STATUSES))
    _derived_checks(_or)


def downgrade() -> None:
    _derived_checks(_in)
    with op.batch_alter_table("observation") as b:
        for c, n in KEY_COLUMNS:
            b.add_column(sa.Column(c, sa.String(n), nullable=True))
    for ref, (table, cols, obs_cols) in REFS.items():
        for c, o in zip(cols, obs_cols, strict=True):
            op.execute(f"UPDATE observation SET {o} = (SELECT r.{c} FROM {table} r WHERE r.id = observation.{ref})")
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # a surrogate id numbered by a new sequence, as 0001 made it
        op.drop_constraint(op.f("pk_observation"), "observation", type_="primary")
        op.execute("ALTER TABLE observation ADD COLUMN id BIGSERIAL NOT NULL")
    with op.batch_alter_table("observation", recreate="auto", table_kwargs={"sqlite_with_rowid": True}) as b:
        b.drop_constraint(op.f("ck_observation_status"), type_="check")
        if not postgres:  # SQLite: the copy into the new table numbers the rows (INTEGER PRIMARY KEY)
            b.drop_constraint(op.f("pk_observation"), type_="primary")
            b.add_column(sa.Column("id", BigId, nullable=False, autoincrement=True))
        for ref in REFS:
            b.drop_column(ref)
        for c, n in KEY_COLUMNS:
            b.alter_column(c, existing_type=sa.String(n), nullable=False)
        b.create_primary_key(op.f("pk_observation"), ["id"])
        b.create_unique_constraint("uq_observation_key", ["entity_kind", "entity_id", "period", "variable"])
        b.create_check_constraint(op.f("ck_observation_entity_kind"), _in("entity_kind", ENTITY_KINDS))
        b.create_check_constraint(op.f("ck_observation_status"), _in("status", OBS_STATUSES))
    op.drop_table("observed_variable")
    op.drop_table("observed_entity")
