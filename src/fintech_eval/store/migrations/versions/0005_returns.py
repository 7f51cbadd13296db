"""Returns and their review: ``data_return`` (one entity's answers for one campaign, its review state),
``return_version`` (every version kept byte for byte with what validation made of it), ``return_event``
(the history: who, when, from and to which state, comments per field, changed values) and
``idempotency_key`` (a retried submission stores once).

Revision ID: 0005_returns
Revises: 0004_accounts
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_returns"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None

# Frozen copies of the model's types and value lists: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)
ENTITY_KINDS = ("institution", "region", "industry")
STATES = ("draft", "submitted", "returned", "resubmitted", "accepted", "rejected")


def _or(column: str, values: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "data_return",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("campaign_id", BigId, nullable=True),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reviewed_version", sa.Integer(), nullable=True),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("submission_id", BigId, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(_or("state", STATES), name=op.f("ck_data_return_state")),
        sa.CheckConstraint(_or("entity_kind", ENTITY_KINDS), name=op.f("ck_data_return_entity_kind")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_data_return_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["period"], ["period.code"], name=op.f("fk_data_return_period_period")),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"], name=op.f("fk_data_return_submission_id_submission")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_return")),
        sa.UniqueConstraint("scope", "entity_kind", "entity_id", name="uq_data_return_key"),
    )
    op.create_index("ix_data_return_campaign", "data_return", ["campaign_id", "state"])
    op.create_table(
        "return_version",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("return_id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("fields", Json, nullable=False),
        sa.Column("problems", Json, nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["return_id"], ["data_return.id"], name=op.f("fk_return_version_return_id_data_return"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_version")),
        sa.UniqueConstraint("return_id", "number", name="uq_return_version_number"),
    )
    op.create_table(
        "return_event",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("return_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("comments", Json, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", Json, nullable=True),
        sa.ForeignKeyConstraint(["return_id"], ["data_return.id"], name=op.f("fk_return_event_return_id_data_return"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_event")),
    )
    op.create_index("ix_return_event_return", "return_event", ["return_id", "id"])
    op.create_table(
        "idempotency_key",
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("return_id", BigId, nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["return_id"], ["data_return.id"], name=op.f("fk_idempotency_key_return_id_data_return"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("actor", "key", name=op.f("pk_idempotency_key")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_key")
    op.drop_index("ix_return_event_return", table_name="return_event")
    op.drop_table("return_event")
    op.drop_table("return_version")
    op.drop_index("ix_data_return_campaign", table_name="data_return")
    op.drop_table("data_return")
