"""Dictionary-encoded observation keys: ``series`` (entity_kind, entity_id, variable) stored once,
``observation``'s primary key is (series_id, period) (``WITHOUT ROWID`` on SQLite; the surrogate ``id``
goes: nothing referred to it); CHECKs of the bulk tables in ``a = 'x' OR a = 'y'`` form (SQLite
evaluates an ``IN`` list in a CHECK much more slowly). Existing observations keep their values and
history (audit keys name the four text columns, which do not change).

Revision ID: 0002_series
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_series"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# Frozen copies of the model's types and value lists: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ENTITY_KINDS = ("institution", "region", "industry")
OBS_STATUSES = ("ok", "flagged")
DERIVED_STATUSES = ("ok", "missing", "not_applicable")
KEY_COLUMNS = (("entity_kind", 16), ("entity_id", 64), ("variable", 100))


def _or(column: str, values: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _derived_checks(form) -> None:
    with op.batch_alter_table("derived_value") as b:
        b.drop_constraint(op.f("ck_derived_value_entity_kind"), type_="check")
        b.drop_constraint(op.f("ck_derived_value_status"), type_="check")
        b.create_check_constraint(op.f("ck_derived_value_entity_kind"), form("entity_kind", ENTITY_KINDS))
        b.create_check_constraint(op.f("ck_derived_value_status"), form("status", DERIVED_STATUSES))


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        *(sa.Column(c, sa.String(n), nullable=False) for c, n in KEY_COLUMNS),
        sa.CheckConstraint(_or("entity_kind", ENTITY_KINDS), name=op.f("ck_series_entity_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("entity_kind", "entity_id", "variable", name="uq_series_key"),
    )
    op.execute(
        "INSERT INTO series (entity_kind, entity_id, variable) "
        "SELECT DISTINCT entity_kind, entity_id, variable FROM observation "
        "ORDER BY entity_kind, entity_id, variable"
    )
    with op.batch_alter_table("observation") as b:
        b.add_column(sa.Column("series_id", BigId, nullable=True))
    op.execute(
        "UPDATE observation SET series_id = (SELECT s.id FROM series s WHERE s.entity_kind = "
        "observation.entity_kind AND s.entity_id = observation.entity_id AND s.variable = observation.variable)"
    )
    with op.batch_alter_table("observation", recreate="auto", table_kwargs={"sqlite_with_rowid": False}) as b:
        b.drop_constraint(op.f("uq_observation_key"), type_="unique")
        b.drop_constraint(op.f("ck_observation_entity_kind"), type_="check")
        b.drop_constraint(op.f("ck_observation_status"), type_="check")
        b.drop_constraint(op.f("pk_observation"), type_="primary")
        for c in ("id", *(c for c, _ in KEY_COLUMNS)):
            b.drop_column(c)
        b.alter_column("series_id", existing_type=BigId, nullable=False)
        b.create_primary_key(op.f("pk_observation"), ["series_id", "period"])
        b.create_check_constraint(op.f("ck_observation_status"), _or("status", OBS_STATUSES))
    _derived_checks(_or)


def downgrade() -> None:
    _derived_checks(_in)
    with op.batch_alter_table("observation") as b:
        for c, n in KEY_COLUMNS:
            b.add_column(sa.Column(c, sa.String(n), nullable=True))
    for c, _ in KEY_COLUMNS:
        op.execute(f"UPDATE observation SET {c} = (SELECT s.{c} FROM series s WHERE s.id = observation.series_id)")
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # a surrogate id numbered by a new sequence, as 0001 made it
        op.drop_constraint(op.f("pk_observation"), "observation", type_="primary")
        op.execute("ALTER TABLE observation ADD COLUMN id BIGSERIAL NOT NULL")
    with op.batch_alter_table("observation", recreate="auto", table_kwargs={"sqlite_with_rowid": True}) as b:
        b.drop_constraint(op.f("ck_observation_status"), type_="check")
        if not postgres:  # SQLite: the copy into the new table numbers the rows (INTEGER PRIMARY KEY)
            b.drop_constraint(op.f("pk_observation"), type_="primary")
            b.add_column(sa.Column("id", BigId, nullable=False, autoincrement=True))
        b.drop_column("series_id")
        for c, n in KEY_COLUMNS:
            b.alter_column(c, existing_type=sa.String(n), nullable=False)
        b.create_primary_key(op.f("pk_observation"), ["id"])
        b.create_unique_constraint("uq_observation_key", ["entity_kind", "entity_id", "period", "variable"])
        b.create_check_constraint(op.f("ck_observation_entity_kind"), _in("entity_kind", ENTITY_KINDS))
        b.create_check_constraint(op.f("ck_observation_status"), _in("status", OBS_STATUSES))
    op.drop_table("series")
