"""Initial schema: periods, institutions and their size attributes, vendors, submissions,
observations, the audit trail and derived values.

Revision ID: 0001_initial
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the model's types: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)

SECTORS = "'bank', 'securities', 'insurance', 'payment', 'other'"
ENTITY_KINDS = "'institution', 'region', 'industry'"


def upgrade() -> None:
    op.create_table(
        "period",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.CheckConstraint("kind IN ('annual', 'quarterly', 'monthly')", name=op.f("ck_period_kind")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_period")),
    )
    op.create_table(
        "institution",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("sector", sa.String(16), nullable=False),
        sa.Column("subtype", sa.String(64), nullable=True),
        sa.Column("region_code", sa.String(2), nullable=True),
        sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(f"sector IN ({SECTORS})", name=op.f("ck_institution_sector")),
        sa.CheckConstraint(
            "region_code IS NULL OR length(region_code) = 2", name=op.f("ck_institution_region_code")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution")),
    )
    op.create_table(
        "size_attribute",
        sa.Column("institution_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("attribute", sa.String(32), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "attribute IN ('operating_revenue', 'market_share', 'total_financing', 'market_value')",
            name=op.f("ck_size_attribute_attribute"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_size_attribute_institution_id_institution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["period"], ["period.code"], name=op.f("fk_size_attribute_period_period")),
        sa.PrimaryKeyConstraint("institution_id", "period", "attribute", name=op.f("pk_size_attribute")),
    )
    op.create_table(
        "vendor",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("provider_type", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "provider_type IN ('comprehensive', 'product', 'consulting', 'outsourcing')",
            name=op.f("ck_vendor_provider_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor")),
    )
    op.create_table(
        "submission",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=True),
        sa.Column("problems", Json, nullable=True),
        sa.CheckConstraint("status IN ('accepted', 'rejected')", name=op.f("ck_submission_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission")),
        sa.UniqueConstraint("sha256", name=op.f("uq_submission_sha256")),
    )
    op.create_table(
        "observation",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("variable", sa.String(100), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("value_norm", sa.Double(), nullable=True),
        sa.Column("unit_norm", sa.String(32), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("submission_id", BigId, nullable=True),
        sa.Column("status", sa.String(16), server_default="ok", nullable=False),
        sa.Column("flag_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(f"entity_kind IN ({ENTITY_KINDS})", name=op.f("ck_observation_entity_kind")),
        sa.CheckConstraint("status IN ('ok', 'flagged')", name=op.f("ck_observation_status")),
        sa.CheckConstraint(
            "value IS NOT NULL OR value_norm IS NULL", name=op.f("ck_observation_norm_of_missing")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
        sa.UniqueConstraint("entity_kind", "entity_id", "period", "variable", name="uq_observation_key"),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("submission_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_audit_entry_submission_id_submission")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index("ix_audit_entry_row", "audit_entry", ["table_name", "key"], unique=False)
    op.create_table(
        "derived_value",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("inputs", Json, nullable=True),
        sa.Column("formula", sa.Text(), nullable=True),
        sa.Column("framework", sa.String(64), server_default="", nullable=False),
        sa.Column("framework_version", sa.String(32), server_default="", nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.CheckConstraint(f"entity_kind IN ({ENTITY_KINDS})", name=op.f("ck_derived_value_entity_kind")),
        sa.CheckConstraint(
            "status IN ('ok', 'missing', 'not_applicable')", name=op.f("ck_derived_value_status")
        ),
        sa.CheckConstraint(
            "(status = 'ok' AND value IS NOT NULL) OR (status <> 'ok' AND value IS NULL)",
            name=op.f("ck_derived_value_value_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_derived_value")),
        sa.UniqueConstraint(
            "entity_kind",
            "entity_id",
            "period",
            "code",
            "framework",
            "framework_version",
            name="uq_derived_value_key",
        ),
    )


def downgrade() -> None:
    op.drop_table("derived_value")
    op.drop_index("ix_audit_entry_row", table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_table("observation")
    op.drop_table("submission")
    op.drop_table("vendor")
    op.drop_table("size_attribute")
    op.drop_table("institution")
    op.drop_table("period")
