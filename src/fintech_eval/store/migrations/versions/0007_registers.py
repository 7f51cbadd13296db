"""Registers: FinTech key-technology enterprises (``key_tech_enterprise``) and regions (``region``); size
attributes for both populations JR/T 0201 §4 samples (``size_attribute`` keyed by entity kind and id instead of
an institution id, no foreign key to one register).

Revision ID: 0007_registers
Revises: 0006_intake
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_registers"
down_revision = "0006_intake"
branch_labels = None
depends_on = None

# Frozen copies of the model's value lists: a migration must not change when the models do.
STATUSES = ("active", "closed")
SIZED_KINDS = ("institution", "enterprise")
ATTRIBUTES = ("operating_revenue", "market_share", "total_financing", "market_value")


def _or(column: str, values: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "key_tech_enterprise",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("region_code", sa.String(2), nullable=True),
        sa.Column("technologies", sa.String(200), nullable=True),
        sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.CheckConstraint(_or("status", STATUSES), name=op.f("ck_key_tech_enterprise_status")),
        sa.CheckConstraint("region_code IS NULL OR length(region_code) = 2", name=op.f("ck_key_tech_enterprise_region_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_tech_enterprise")),
    )
    op.create_table(
        "region",
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.CheckConstraint("length(code) = 2", name=op.f("ck_region_code")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_region")),
    )
    _rebuild_size_attribute(
        ["entity_kind", "entity_id", "period", "attribute", "value"],
        "SELECT 'institution', institution_id, period, attribute, value FROM _size_attribute_copy",
    )


def _rebuild_size_attribute(key: list[str], select_sql: str) -> None:
    """size_attribute rebuilt with the key ``key[:-1]`` (the rows copied aside and back, so that the same
    steps work on SQLite, which cannot change a primary key in place, and PostgreSQL)."""
    op.execute("CREATE TABLE _size_attribute_copy AS SELECT * FROM size_attribute")
    op.drop_table("size_attribute")
    kind = key[0] == "entity_kind"
    cols = [sa.Column(c, sa.String(16 if c in ("entity_kind", "period") else 32 if c == "attribute" else 64),
                      nullable=False, **({"server_default": "institution"} if c == "entity_kind" else {}))
            for c in key[:-1]]
    checks = [sa.CheckConstraint(f"attribute IN ({', '.join(repr(a) for a in ATTRIBUTES)})", name=op.f("ck_size_attribute_attribute"))]
    if kind:
        checks.append(sa.CheckConstraint(_or("entity_kind", SIZED_KINDS), name=op.f("ck_size_attribute_entity_kind")))
    else:
        checks.append(sa.ForeignKeyConstraint(["institution_id"], ["institution.id"], ondelete="CASCADE",
                                              name=op.f("fk_size_attribute_institution_id_institution")))
    op.create_table(
        "size_attribute", *cols, sa.Column("value", sa.Double(), nullable=True), *checks,
        sa.ForeignKeyConstraint(["period"], ["period.code"], name=op.f("fk_size_attribute_period_period")),
        sa.PrimaryKeyConstraint(*key[:-1], name=op.f("pk_size_attribute")),
    )
    op.execute(f"INSERT INTO size_attribute ({', '.join(key)}) {select_sql}")
    op.drop_table("_size_attribute_copy")


def downgrade() -> None:
    _rebuild_size_attribute(
        ["institution_id", "period", "attribute", "value"],
        "SELECT entity_id, period, attribute, value FROM _size_attribute_copy WHERE entity_kind = 'institution'",
    )
    op.drop_table("region")
    op.drop_table("key_tech_enterprise")
