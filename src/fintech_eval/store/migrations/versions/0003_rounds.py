"""Evaluation rounds: ``campaign`` (framework, period, deadline, parameters), ``campaign_member`` (its sample)
and ``evaluation_run`` (a scoring of stored data: specs, input fingerprints, warnings, result folder, whether
it is published); derived values take the derivation's own statuses (``flagged`` with its value,
``undefined`` without), one vocabulary for derive and store.

Revision ID: 0003_rounds
Revises: 0002_keys
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_rounds"
down_revision = "0002_keys"
branch_labels = None
depends_on = None

# Frozen copies of the model's types and value lists: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)
ENTITY_KINDS = ("institution", "region", "industry")
OLD_STATUSES = ("ok", "missing", "not_applicable")
STATUSES = ("ok", "flagged", "missing", "undefined", "not_applicable")
WITH_VALUE = ("ok", "flagged")


def _or(column: str, values: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def _statuses(statuses: tuple[str, ...], with_value: tuple[str, ...]) -> None:
    has = _or("status", with_value)
    with op.batch_alter_table("derived_value") as b:
        b.drop_constraint(op.f("ck_derived_value_status"), type_="check")
        b.drop_constraint(op.f("ck_derived_value_value_status"), type_="check")
        b.create_check_constraint(op.f("ck_derived_value_status"), _or("status", statuses))
        b.create_check_constraint(
            op.f("ck_derived_value_value_status"), f"(({has}) AND value IS NOT NULL) OR (NOT ({has}) AND value IS NULL)"
        )


def upgrade() -> None:
    _statuses(STATUSES, WITH_VALUE)
    op.create_table(
        "campaign",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("framework_version", sa.String(32), server_default="", nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("deadline", UTC, nullable=True),
        sa.Column("params", Json, nullable=True),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(_or("status", ("open", "closed")), name=op.f("ck_campaign_status")),
        sa.ForeignKeyConstraint(["period"], ["period.code"], name=op.f("fk_campaign_period_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_table(
        "campaign_member",
        sa.Column("campaign_id", BigId, nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.CheckConstraint(_or("entity_kind", ENTITY_KINDS), name=op.f("ck_campaign_member_entity_kind")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_member_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "entity_kind", "entity_id", name=op.f("pk_campaign_member")),
    )
    op.create_table(
        "evaluation_run",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("campaign_id", BigId, nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("framework_version", sa.String(32), server_default="", nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("specs", Json, nullable=False),
        sa.Column("inputs", Json, nullable=True),
        sa.Column("warnings", Json, nullable=True),
        sa.Column("scores_sha256", Json, nullable=True),
        sa.Column("out_dir", sa.Text(), nullable=False),
        sa.Column("software", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), server_default="draft", nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.Column("published_at", UTC, nullable=True),
        sa.CheckConstraint(_or("status", ("draft", "published")), name=op.f("ck_evaluation_run_status")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_evaluation_run_campaign_id_campaign")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_run")),
    )


def downgrade() -> None:
    op.drop_table("evaluation_run")
    op.drop_table("campaign_member")
    op.drop_table("campaign")
    op.execute("UPDATE derived_value SET status = 'ok' WHERE status = 'flagged'")
    op.execute("UPDATE derived_value SET status = 'missing' WHERE status = 'undefined'")
    _statuses(OLD_STATUSES, ("ok",))
