"""Intake review: ``flag_review`` records that an evaluator checked a flagged value (the flag accepted, who,
when, why, for which campaign), so that campaign status no longer counts it as blocking.

Revision ID: 0006_intake
Revises: 0005_returns
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_intake"
down_revision = "0005_returns"
branch_labels = None
depends_on = None

# Frozen copies of the model's types and value lists: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
ENTITY_KINDS = ("institution", "region", "industry")


def upgrade() -> None:
    op.create_table(
        "flag_review",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("variable", sa.String(100), nullable=False),
        sa.Column("flag_reason", sa.Text(), nullable=False),
        sa.Column("flag_sha256", sa.String(64), nullable=False),
        sa.Column("campaign_id", BigId, nullable=True),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.CheckConstraint(" OR ".join(f"entity_kind = '{k}'" for k in ENTITY_KINDS), name=op.f("ck_flag_review_entity_kind")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_flag_review_campaign_id_campaign")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_review")),
        sa.UniqueConstraint("entity_kind", "entity_id", "period", "variable", "flag_sha256", name="uq_flag_review_key"),
    )


def downgrade() -> None:
    op.drop_table("flag_review")
